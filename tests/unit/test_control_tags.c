/* SPDX-License-Identifier: MIT */
/* Tags: the key=value text carried in member metadata (agent/util/tags.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xgossip/wire.h>

#include "util/tags.h"

static void test_parse_kv(void **state)
{
	char *k, *v;

	(void)state;
	assert_int_equal(xg_tags_parse_kv("role=db", &k, &v), 0);
	assert_string_equal(k, "role");
	assert_string_equal(v, "db");
	free(k);
	free(v);

	/* Only the first '=' splits; the value may hold more. */
	assert_int_equal(xg_tags_parse_kv("expr=a=b", &k, &v), 0);
	assert_string_equal(k, "expr");
	assert_string_equal(v, "a=b");
	free(k);
	free(v);

	assert_int_equal(xg_tags_parse_kv("empty=", &k, &v), 0);
	assert_string_equal(v, "");
	free(k);
	free(v);

	assert_int_equal(xg_tags_parse_kv("noequals", &k, &v), -EINVAL);
	assert_null(k);
	assert_null(v);
	assert_int_equal(xg_tags_parse_kv("=v", &k, &v), -EINVAL);
	assert_int_equal(xg_tags_parse_kv("k=line\nbreak", &k, &v), -EINVAL);
	assert_int_equal(xg_tags_parse_kv("k\n=v", &k, &v), -EINVAL);
	assert_int_equal(xg_tags_parse_kv("k=\xff", &k, &v), -EINVAL);
	assert_int_equal(xg_tags_parse_kv(NULL, &k, &v), -EINVAL);
}

static void test_key_val_validity(void **state)
{
	(void)state;
	assert_true(xg_tags_key_valid("zone", 4));
	assert_true(xg_tags_key_valid("r\xc3\xb4le", 5));        /* rôle */
	assert_true(xg_tags_key_valid("\xf0\x9f\x98\x80", 4));   /* U+1F600 */
	assert_false(xg_tags_key_valid("", 0));
	assert_false(xg_tags_key_valid("a=b", 3));
	assert_false(xg_tags_key_valid("a\0b", 3));
	assert_false(xg_tags_key_valid("\xc0\x80", 2));          /* overlong NUL */
	assert_false(xg_tags_key_valid("\xed\xa0\x80", 3));      /* surrogate */
	assert_false(xg_tags_key_valid("\xf4\x90\x80\x80", 4));  /* > U+10FFFF */
	assert_false(xg_tags_key_valid("\xe2\x82", 2));          /* truncated */
	assert_true(xg_tags_val_valid("", 0));
	assert_true(xg_tags_val_valid("a=b", 3));
	assert_false(xg_tags_val_valid("a\nb", 3));
}

static void test_set_sorted_replace_del(void **state)
{
	struct xg_tags t = XG_TAGS_INIT;

	(void)state;
	assert_int_equal(xg_tags_set(&t, "zone", "b"), 0);
	assert_int_equal(xg_tags_set(&t, "app", "web"), 0);
	assert_int_equal(xg_tags_set(&t, "m", "1"), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.keys[0], "app");
	assert_string_equal(t.keys[1], "m");
	assert_string_equal(t.keys[2], "zone");

	assert_int_equal(xg_tags_set(&t, "m", "2"), 0);
	assert_int_equal(t.n, 3);
	assert_string_equal(xg_tags_get(&t, "m"), "2");
	assert_null(xg_tags_get(&t, "nope"));

	assert_int_equal(xg_tags_set(&t, "bad=key", "v"), -EINVAL);
	assert_int_equal(xg_tags_set(&t, "k", "bad\nval"), -EINVAL);
	assert_int_equal(t.n, 3);

	assert_int_equal(xg_tags_del(&t, "m"), 0);
	assert_int_equal(xg_tags_del(&t, "m"), -ENOENT);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.keys[0], "app");
	assert_string_equal(t.keys[1], "zone");
	assert_int_equal(xg_tags_del(&t, "app"), 0);
	assert_int_equal(xg_tags_del(&t, "zone"), 0);
	assert_int_equal(t.n, 0);
	xg_tags_free(&t);
}

static void test_encode_decode_round_trip(void **state)
{
	struct xg_tags t = XG_TAGS_INIT, d;
	uint8_t buf[XG_META_MAX];
	ssize_t n;

	(void)state;
	assert_int_equal(xg_tags_set(&t, "zone", "eu-1"), 0);
	assert_int_equal(xg_tags_set(&t, "role", "db=primary"), 0);
	assert_int_equal(xg_tags_set(&t, "empty", ""), 0);
	assert_int_equal(xg_tags_set(&t, "caf\xc3\xa9", "cr\xc3\xa8me"), 0);

	n = xg_tags_encode(&t, buf, sizeof(buf));
	assert_int_equal(n, (ssize_t)xg_tags_encoded_len(&t));
	/* Sorted bytewise: 'c' < 'e' < 'r' < 'z'. */
	static const char want[] =
		"caf\xc3\xa9=cr\xc3\xa8me\nempty=\nrole=db=primary\nzone=eu-1";
	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(buf, want, sizeof(want) - 1);

	assert_int_equal(xg_tags_decode(buf, (size_t)n, &d), 0);
	assert_int_equal(d.n, t.n);
	for (size_t i = 0; i < t.n; i++) {
		assert_string_equal(d.keys[i], t.keys[i]);
		assert_string_equal(d.vals[i], t.vals[i]);
	}
	xg_tags_free(&d);

	/* Insertion order does not matter: same set, same bytes. */
	{
		struct xg_tags u = XG_TAGS_INIT;
		uint8_t b2[XG_META_MAX];

		assert_int_equal(xg_tags_set(&u, "zone", "eu-1"), 0);
		assert_int_equal(xg_tags_set(&u, "empty", ""), 0);
		assert_int_equal(xg_tags_set(&u, "caf\xc3\xa9", "cr\xc3\xa8me"), 0);
		assert_int_equal(xg_tags_set(&u, "role", "db=primary"), 0);
		assert_int_equal(xg_tags_encode(&u, b2, sizeof(b2)), n);
		assert_memory_equal(b2, buf, (size_t)n);
		xg_tags_free(&u);
	}
	xg_tags_free(&t);
}

static void test_decode_edge_cases(void **state)
{
	struct xg_tags d;

	(void)state;
	assert_int_equal(xg_tags_decode(NULL, 0, &d), 0);
	assert_int_equal(d.n, 0);
	xg_tags_free(&d);

	assert_int_equal(xg_tags_decode((const uint8_t *)"\n", 1, &d), 0);
	assert_int_equal(d.n, 0);
	xg_tags_free(&d);

	/* One trailing newline is tolerated... */
	assert_int_equal(xg_tags_decode((const uint8_t *)"a=1\n", 4, &d), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(xg_tags_get(&d, "a"), "1");
	xg_tags_free(&d);

	/* ...but empty lines, missing '=', empty keys, NUL bytes, invalid
	 * UTF-8 and duplicate keys are not. */
	static const struct { const char *s; size_t len; } bad[] = {
		{ "a=1\n\n", 5 },
		{ "a=1\n\nb=2", 8 },
		{ "novalue", 7 },
		{ "=v", 2 },
		{ "a=x\0y", 5 },
		{ "a=\xfe", 3 },
		{ "a=1\na=2", 7 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xg_tags_decode((const uint8_t *)bad[i].s,
						bad[i].len, &d), -EBADMSG);
		xg_tags_free(&d); /* the caller frees on error too */
		assert_int_equal(d.n, 0);
	}
}

static void test_encode_limits(void **state)
{
	struct xg_tags t = XG_TAGS_INIT;
	uint8_t buf[XG_META_MAX];
	char val[XG_META_MAX + 1];

	(void)state;
	/* "k=" + value fills XG_META_MAX exactly. */
	memset(val, 'x', sizeof(val));
	val[XG_META_MAX - 2] = '\0';
	assert_int_equal(xg_tags_set(&t, "k", val), 0);
	assert_int_equal(xg_tags_encode(&t, buf, sizeof(buf)), XG_META_MAX);
	/* One byte too many. */
	assert_int_equal(xg_tags_set(&t, "l", ""), 0);
	assert_int_equal(xg_tags_encode(&t, buf, sizeof(buf)), -E2BIG);
	assert_int_equal(xg_tags_encoded_len(&t), XG_META_MAX + 3);
	assert_int_equal(xg_tags_encode(&t, NULL, 0), -E2BIG);
	xg_tags_free(&t);

	/* The empty set encodes to nothing, even into no buffer. */
	assert_int_equal(xg_tags_encode(&t, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_kv),
		cmocka_unit_test(test_key_val_validity),
		cmocka_unit_test(test_set_sorted_replace_del),
		cmocka_unit_test(test_encode_decode_round_trip),
		cmocka_unit_test(test_decode_edge_cases),
		cmocka_unit_test(test_encode_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
