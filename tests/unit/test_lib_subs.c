/* SPDX-License-Identifier: MIT */
/* The library's subscriptions (agent/lib/lib_subs.c): topic matching, and
 * subscribing and unsubscribing from inside a callback. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/lib_int.h"

struct rec {
	struct lib_subs *s;
	int              calls;
	int              self_handle;  /* unsubscribe this one when called */
	int              other_handle; /* ... or that one */
	bool             add_one;      /* subscribe another when called */
	int              added;
};

static struct rec *last_added;

static void on_msg(void *ctx, const struct xgossip_message *m)
{
	struct rec *r = ctx;

	(void)m;
	r->calls++;
	if (r->self_handle)
		assert_int_equal(lib_subs_remove(r->s, r->self_handle), 0);
	if (r->other_handle)
		assert_int_equal(lib_subs_remove(r->s, r->other_handle), 0);
	if (r->add_one) {
		struct lib_sub p = { .on_msg = on_msg, .ctx = last_added };

		r->added = lib_subs_add(r->s, &p);
		assert_true(r->added > 0);
	}
}

static void on_member(void *ctx, const struct xgossip_member_event *ev)
{
	struct rec *r = ctx;

	(void)ev;
	r->calls++;
}

static int sub(struct lib_subs *s, const char *topic, struct rec *r)
{
	struct lib_sub p = { .topic = (char *)topic, .on_msg = on_msg,
			     .ctx = r };
	int h;

	r->s = s;
	h = lib_subs_add(s, &p);
	assert_true(h > 0);
	return h;
}

static void deliver(struct lib_subs *s, const char *topic)
{
	struct xgossip_message m = { .topic = topic, .data = "", .len = 0 };

	lib_subs_message(s, &m);
}

static void test_topics(void **state)
{
	struct lib_subs s = { 0 };
	struct rec all = { 0 }, a = { 0 }, b = { 0 }, mem = { .s = &s };
	struct lib_sub pm = { .member = true, .on_member = on_member,
			      .ctx = &mem };
	struct xgossip_member_event ev = { .type = XGOSSIP_EV_JOIN };
	int ha;

	(void)state;
	sub(&s, NULL, &all);
	ha = sub(&s, "a", &a);
	sub(&s, "b", &b);
	assert_true(lib_subs_add(&s, &pm) > ha);
	deliver(&s, "a");
	deliver(&s, "a");
	deliver(&s, "b");
	deliver(&s, "c");
	assert_int_equal(all.calls, 4);
	assert_int_equal(a.calls, 2);
	assert_int_equal(b.calls, 1);
	assert_int_equal(mem.calls, 0);
	lib_subs_member(&s, &ev);
	assert_int_equal(mem.calls, 1);
	assert_int_equal(all.calls, 4);
	assert_int_equal(lib_subs_remove(&s, ha), 0);
	assert_int_equal(lib_subs_remove(&s, ha), -ENOENT);
	assert_int_equal(lib_subs_remove(&s, 12345), -ENOENT);
	deliver(&s, "a");
	assert_int_equal(a.calls, 2);
	assert_int_equal(all.calls, 5);
	assert_int_equal(s.n, 3);
	lib_subs_free(&s);
}

static void test_changes_from_inside_a_callback(void **state)
{
	struct lib_subs s = { 0 };
	struct rec first = { 0 }, second = { 0 }, third = { 0 }, late = { 0 };
	int h1, h2;

	(void)state;
	last_added = &late;
	h1 = sub(&s, NULL, &first);
	h2 = sub(&s, NULL, &second);
	sub(&s, NULL, &third);
	/* The first removes itself and the second, and adds one more (the
	 * array may move under the dispatch). */
	first.self_handle = h1;
	first.other_handle = h2;
	first.add_one = true;
	deliver(&s, "t");
	assert_int_equal(first.calls, 1);
	assert_int_equal(second.calls, 0); /* removed before its turn */
	assert_int_equal(third.calls, 1);
	assert_int_equal(late.calls, 0);   /* added during: from the next one */
	assert_int_equal(s.n, 2);          /* swept once the dispatch ended */
	assert_int_equal(s.dispatching, 0);
	deliver(&s, "t");
	assert_int_equal(first.calls, 1);
	assert_int_equal(third.calls, 2);
	assert_int_equal(late.calls, 1);
	/* Handles are not reused. */
	assert_true(first.added > h2);
	lib_subs_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topics),
		cmocka_unit_test(test_changes_from_inside_a_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
