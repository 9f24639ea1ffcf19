/* SPDX-License-Identifier: MIT */
/* The body store (agent/daemon/bodystore.c): refcounts, LRU eviction by
 * bytes, bodies in use never freed under their user, the xfer hooks.
 * Run under ASan, a use after free or a leak fails the run too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/bodystore.h"

static void mkid(uint8_t id[16], unsigned n)
{
	memset(id, 0, 16);
	id[7] = 0x42;
	id[12] = (uint8_t)(n >> 24);
	id[13] = (uint8_t)(n >> 16);
	id[14] = (uint8_t)(n >> 8);
	id[15] = (uint8_t)n;
}

/* A malloc'd body of len bytes, each byte tag. */
static uint8_t *mkbody(size_t len, uint8_t tag)
{
	uint8_t *p = malloc(len);

	assert_non_null(p);
	memset(p, tag, len);
	return p;
}

static void put(struct xg_bodystore *bs, unsigned n, size_t len)
{
	uint8_t id[16];

	mkid(id, n);
	assert_int_equal(xg_bodystore_put(bs, id, mkbody(len, (uint8_t)n),
					  len), 0);
}

static bool has(const struct xg_bodystore *bs, unsigned n)
{
	uint8_t id[16];

	mkid(id, n);
	return xg_bodystore_has(bs, id);
}

static struct xg_body *get(struct xg_bodystore *bs, unsigned n)
{
	uint8_t id[16];

	mkid(id, n);
	return xg_bodystore_get(bs, id);
}

static void test_put_get(void **state)
{
	struct xg_bodystore *bs;
	struct xg_bodystore_stats st;
	struct xg_body *b;
	uint8_t id[16], *dup;

	(void)state;
	assert_int_equal(xg_bodystore_new(&bs, 1000), 0);
	put(bs, 1, 100);
	b = get(bs, 1);
	assert_non_null(b);
	assert_int_equal(xg_body_len(b), 100);
	assert_int_equal(xg_body_data(b)[99], 1);
	assert_null(get(bs, 2));
	/* Same id twice: refused, the caller keeps its buffer. */
	mkid(id, 1);
	dup = mkbody(10, 9);
	assert_int_equal(xg_bodystore_put(bs, id, dup, 10), -EEXIST);
	free(dup);
	/* Larger than the whole store: could never fit. */
	mkid(id, 3);
	dup = mkbody(1001, 9);
	assert_int_equal(xg_bodystore_put(bs, id, dup, 1001), -E2BIG);
	free(dup);
	assert_int_equal(xg_bodystore_put(bs, id, NULL, 10), -EINVAL);
	xg_bodystore_get_stats(bs, &st);
	assert_int_equal(st.bodies, 1);
	assert_int_equal(st.bytes, 100);
	assert_int_equal(st.in_use, 1);
	assert_int_equal(st.hits, 1);
	assert_int_equal(st.misses, 1);
	xg_body_put(b);
	xg_bodystore_get_stats(bs, &st);
	assert_int_equal(st.in_use, 0);
	xg_bodystore_free(bs);
}

static void test_lru_by_bytes(void **state)
{
	struct xg_bodystore *bs;
	struct xg_bodystore_stats st;

	(void)state;
	assert_int_equal(xg_bodystore_new(&bs, 1000), 0);
	put(bs, 1, 300);
	put(bs, 2, 300);
	put(bs, 3, 300);
	/* Touch 1: 2 becomes the least recently used. */
	xg_body_put(get(bs, 1));
	put(bs, 4, 300); /* 1200 > 1000: one must go, and it is 2 */
	assert_true(has(bs, 1));
	assert_false(has(bs, 2));
	assert_true(has(bs, 3));
	assert_true(has(bs, 4));
	/* By bytes, not count: one big body pushes out two small ones. */
	put(bs, 5, 550); /* 1450: 3 (LRU) then 1 go */
	assert_false(has(bs, 3));
	assert_false(has(bs, 1));
	assert_true(has(bs, 4));
	assert_true(has(bs, 5));
	xg_bodystore_get_stats(bs, &st);
	assert_int_equal(st.bytes, 850);
	assert_int_equal(st.bodies, 2);
	assert_int_equal(st.evicted, 3);
	assert_int_equal(st.evicted_bytes, 900);
	/* A lower bound evicts at once. */
	xg_bodystore_set_max(bs, 600);
	assert_false(has(bs, 4));
	assert_true(has(bs, 5));
	xg_bodystore_free(bs);
}

static void test_in_use_not_evicted(void **state)
{
	struct xg_bodystore *bs;
	struct xg_bodystore_stats st;
	struct xg_body *b1, *b4;

	(void)state;
	assert_int_equal(xg_bodystore_new(&bs, 1000), 0);
	put(bs, 1, 400);
	put(bs, 2, 400);
	b1 = get(bs, 1);
	xg_body_put(get(bs, 2)); /* LRU order now: 1, 2; 1 is in use */
	put(bs, 3, 400);
	/* 1 is the least recently used, but in use: 2 goes instead. */
	assert_true(has(bs, 1));
	assert_false(has(bs, 2));
	assert_true(has(bs, 3));
	b4 = NULL;
	put(bs, 4, 400); /* order 1, 3, 4: 3 is the oldest evictable */
	assert_true(has(bs, 1));
	assert_false(has(bs, 3));
	assert_true(has(bs, 4));
	/* Nothing evictable left but the newcomer: the store stays over its
	 * bound rather than evict a body being served or the one just
	 * put. */
	b4 = get(bs, 4);
	put(bs, 5, 400);
	assert_true(has(bs, 1));
	assert_true(has(bs, 4));
	assert_true(has(bs, 5));
	xg_bodystore_get_stats(bs, &st);
	assert_int_equal(st.bytes, 1200);
	assert_int_equal(st.in_use, 2);
	/* The bytes are intact while in use. */
	assert_int_equal(xg_body_data(b1)[0], 1);
	assert_int_equal(xg_body_data(b1)[399], 1);
	/* Its release brings the store back within the bound: 1, the
	 * oldest, goes now. */
	xg_body_put(b1);
	assert_false(has(bs, 1));
	xg_bodystore_get_stats(bs, &st);
	assert_int_equal(st.bytes, 800);
	assert_int_equal(st.in_use, 1);
	xg_body_put(b4);
	assert_true(has(bs, 4));
	xg_bodystore_free(bs);
}

static void test_removed_while_in_use(void **state)
{
	struct xg_bodystore *bs;
	struct xg_body *b, *b2;
	uint8_t id[16];

	(void)state;
	assert_int_equal(xg_bodystore_new(&bs, 0), 0);
	put(bs, 1, 64);
	b = get(bs, 1);
	b2 = get(bs, 1); /* two users */
	mkid(id, 1);
	assert_int_equal(xg_bodystore_remove(bs, id), 0);
	assert_int_equal(xg_bodystore_remove(bs, id), -ENOENT);
	assert_false(has(bs, 1));
	/* Gone from the index, still readable by its users (ASan would see
	 * a use after free). */
	assert_int_equal(xg_body_data(b)[63], 1);
	xg_body_put(b);
	assert_int_equal(xg_body_data(b2)[0], 1);
	xg_body_put(b2);
	/* The id can be stored again. */
	put(bs, 1, 8);
	assert_true(has(bs, 1));
	xg_bodystore_free(bs);
}

static void test_store_freed_before_users(void **state)
{
	struct xg_bodystore *bs;
	struct xg_body *b;

	(void)state;
	assert_int_equal(xg_bodystore_new(&bs, 0), 0);
	put(bs, 1, 32);
	put(bs, 2, 32);
	b = get(bs, 2);
	xg_bodystore_free(bs);
	/* The served body outlives the store; its release frees it. */
	assert_int_equal(xg_body_data(b)[31], 2);
	xg_body_put(b);
}

static void test_hooks(void **state)
{
	struct xg_bodystore *bs;
	struct xg_bodystore_stats st;
	const uint8_t *body;
	uint8_t id[16];
	size_t len;
	void *ref;

	(void)state;
	assert_int_equal(xg_bodystore_new(&bs, 0), 0);
	put(bs, 7, 1234);
	mkid(id, 7);
	assert_int_equal(xg_bodystore_hook_get(bs, id, &body, &len, &ref), 0);
	assert_int_equal(len, 1234);
	assert_int_equal(body[0], 7);
	xg_bodystore_get_stats(bs, &st);
	assert_int_equal(st.in_use, 1);
	xg_bodystore_hook_put(bs, ref);
	xg_bodystore_get_stats(bs, &st);
	assert_int_equal(st.in_use, 0);
	mkid(id, 8);
	assert_int_equal(xg_bodystore_hook_get(bs, id, &body, &len, &ref),
			 -ENOENT);
	xg_bodystore_free(bs);
}

/* Many bodies: the hash table grows, every one is still found, and the
 * bound holds throughout. */
static void test_many(void **state)
{
	struct xg_bodystore *bs;
	struct xg_bodystore_stats st;
	unsigned i, found = 0;

	(void)state;
	assert_int_equal(xg_bodystore_new(&bs, 5000 * 16), 0);
	for (i = 0; i < 20000; i++) {
		put(bs, i, 16);
		xg_bodystore_get_stats(bs, &st);
		assert_true(st.bytes <= 5000 * 16);
	}
	for (i = 0; i < 20000; i++)
		found += has(bs, i);
	assert_int_equal(found, 5000);
	/* The newest 5000 survived. */
	assert_true(has(bs, 19999));
	assert_true(has(bs, 15000));
	assert_false(has(bs, 14999));
	xg_bodystore_free(bs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_lru_by_bytes),
		cmocka_unit_test(test_in_use_not_evicted),
		cmocka_unit_test(test_removed_while_in_use),
		cmocka_unit_test(test_store_freed_before_users),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
