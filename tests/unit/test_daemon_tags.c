/* SPDX-License-Identifier: MIT */
/* Tag edits as the agent applies them (xg_tags_apply in agent_tags.c):
 * the new set, its metadata encoding, and the errors agent.h promises. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <xgossip/wire.h>

#include "daemon/agent_int.h"

static void load(struct xg_tags *t, const char *meta)
{
	assert_int_equal(xg_tags_decode((const uint8_t *)meta, strlen(meta), t),
			 0);
}

static void expect_meta(const uint8_t *meta, size_t len, const char *want)
{
	if (len != strlen(want) || memcmp(meta, want, len) != 0)
		fail_msg("metadata '%.*s', wanted '%s'", (int)len,
			 (const char *)meta, want);
}

static void test_set_merges_and_sorts(void **state)
{
	const char *const kv[] = { "zone=b", "role=db", "rack=r1=x" };
	struct xg_tags cur, next;
	uint8_t meta[XG_META_MAX];
	size_t len = 0;

	(void)state;
	load(&cur, "zone=a\nenv=prod");
	assert_int_equal(xg_tags_apply(&cur, kv, 3, false, &next, meta, &len), 0);
	expect_meta(meta, len, "env=prod\nrack=r1=x\nrole=db\nzone=b");
	assert_int_equal(next.n, 4);
	/* The current set is not touched: the agent swaps only on success. */
	assert_int_equal(cur.n, 2);
	assert_string_equal(xg_tags_get(&cur, "zone"), "a");
	xg_tags_free(&next);
	xg_tags_free(&cur);
}

static void test_del(void **state)
{
	const char *const keys[] = { "zone", "absent" };
	struct xg_tags cur, next;
	uint8_t meta[XG_META_MAX];
	size_t len = 99;

	(void)state;
	load(&cur, "env=prod\nzone=a");
	/* Removing an absent key is not an error (agent.h). */
	assert_int_equal(xg_tags_apply(&cur, keys, 2, true, &next, meta, &len), 0);
	expect_meta(meta, len, "env=prod");
	xg_tags_free(&next);

	{
		const char *const all[] = { "env", "zone" };

		assert_int_equal(xg_tags_apply(&cur, all, 2, true, &next, meta,
					       &len), 0);
		assert_int_equal(len, 0);
		assert_int_equal(next.n, 0);
		xg_tags_free(&next);
	}
	xg_tags_free(&cur);
}

static void test_invalid(void **state)
{
	const char *const bad_kv[] = { "ok=1", "novalue" };
	const char *const bad_key[] = { "a=b" };
	const char *const nl[] = { "k=line\nbreak" };
	struct xg_tags cur, next;
	uint8_t meta[XG_META_MAX];
	size_t len;

	(void)state;
	load(&cur, "");
	assert_int_equal(xg_tags_apply(&cur, bad_kv, 2, false, &next, meta, &len),
			 -EINVAL);
	xg_tags_free(&next);
	assert_int_equal(xg_tags_apply(&cur, bad_key, 1, true, &next, meta, &len),
			 -EINVAL);
	xg_tags_free(&next);
	assert_int_equal(xg_tags_apply(&cur, nl, 1, false, &next, meta, &len),
			 -EINVAL);
	xg_tags_free(&next);
	xg_tags_free(&cur);
}

static void test_too_big(void **state)
{
	char big[XG_META_MAX + 1], fits[XG_META_MAX + 1];
	const char *kv[1];
	struct xg_tags cur, next;
	uint8_t meta[XG_META_MAX];
	size_t len;

	(void)state;
	load(&cur, "");
	/* "k=" + 510 bytes is exactly XG_META_MAX: accepted. */
	memset(fits, 'v', XG_META_MAX);
	memcpy(fits, "k=", 2);
	fits[XG_META_MAX] = '\0';
	kv[0] = fits;
	assert_int_equal(xg_tags_apply(&cur, kv, 1, false, &next, meta, &len), 0);
	assert_int_equal(len, XG_META_MAX);
	xg_tags_free(&next);
	/* One more byte is not. */
	memset(big, 'v', XG_META_MAX);
	memcpy(big, "kk=", 3);
	big[XG_META_MAX] = '\0';
	load(&cur, "a=b");
	kv[0] = big;
	assert_int_equal(xg_tags_apply(&cur, kv, 1, false, &next, meta, &len),
			 -E2BIG);
	xg_tags_free(&next);
	xg_tags_free(&cur);
}

static void test_round_trip_through_meta(void **state)
{
	const char *const kv[] = { "r\xc3\xb4le=\xc3\xa9t\xc3\xa9", "empty=" };
	struct xg_tags cur, next, back;
	uint8_t meta[XG_META_MAX];
	size_t len;

	(void)state;
	load(&cur, "");
	assert_int_equal(xg_tags_apply(&cur, kv, 2, false, &next, meta, &len), 0);
	assert_int_equal(xg_tags_decode(meta, len, &back), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(xg_tags_get(&back, "r\xc3\xb4le"), "\xc3\xa9t\xc3\xa9");
	assert_string_equal(xg_tags_get(&back, "empty"), "");
	xg_tags_free(&back);
	xg_tags_free(&next);
	xg_tags_free(&cur);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_merges_and_sorts),
		cmocka_unit_test(test_del),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_too_big),
		cmocka_unit_test(test_round_trip_through_meta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
