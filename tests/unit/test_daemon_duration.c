/* SPDX-License-Identifier: MIT */
/* Durations on the command line (agent/util/duration.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/duration.h"

#define MS 1000000ULL

static uint64_t ok(const char *s)
{
	uint64_t ns = 12345;

	if (xg_duration_parse(s, &ns) != 0)
		fail_msg("'%s' was rejected", s);
	return ns;
}

static void test_units(void **state)
{
	(void)state;
	assert_int_equal(ok("500ms"), 500 * MS);
	assert_int_equal(ok("1s"), 1000 * MS);
	assert_int_equal(ok("2m"), 120000 * MS);
	assert_int_equal(ok("24h"), 24ULL * 3600 * 1000 * MS);
	assert_int_equal(ok("250"), 250 * MS); /* bare: milliseconds */
	assert_int_equal(ok("0"), 0);
	assert_int_equal(ok("0s"), 0);
	assert_int_equal(ok("7us"), 7000);
	assert_int_equal(ok("9ns"), 9);
	assert_int_equal(ok("007ms"), 7 * MS);
}

static void test_rejects(void **state)
{
	static const char *const bad[] = {
		"", "ms", "s", "-1s", "+1s", "1.5s", "1 s", " 1s", "1s ",
		"1S", "1sec", "1d", "1e3", "0x10", "1ms2",
	};
	uint64_t ns = 42;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (xg_duration_parse(bad[i], &ns) != -EINVAL)
			fail_msg("'%s' was not rejected with -EINVAL", bad[i]);
	assert_int_equal(ns, 42); /* untouched on error */
	assert_int_equal(xg_duration_parse(NULL, &ns), -EINVAL);
}

static void test_overflow(void **state)
{
	uint64_t ns;

	(void)state;
	/* 2^64 ns is about 584 years; anything past it is refused. */
	assert_int_equal(xg_duration_parse("18446744073709551615ns", &ns), 0);
	assert_int_equal(ns, UINT64_MAX);
	assert_int_equal(xg_duration_parse("18446744073709551616ns", &ns),
			 -ERANGE);
	assert_int_equal(xg_duration_parse("5124095h", &ns), 0);
	assert_int_equal(xg_duration_parse("5124096h", &ns), -ERANGE);
	assert_int_equal(xg_duration_parse("99999999999999999999999", &ns),
			 -ERANGE);
}

static void test_format(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(xg_duration_format(0, b, sizeof(b)), "0ms");
	assert_string_equal(xg_duration_format(500 * MS, b, sizeof(b)), "500ms");
	assert_string_equal(xg_duration_format(1000 * MS, b, sizeof(b)), "1s");
	assert_string_equal(xg_duration_format(1500 * MS, b, sizeof(b)), "1500ms");
	assert_string_equal(xg_duration_format(120000 * MS, b, sizeof(b)), "2m");
	assert_string_equal(xg_duration_format(86400000 * MS, b, sizeof(b)), "24h");
	assert_string_equal(xg_duration_format(1500, b, sizeof(b)), "1500ns");
	/* Round trip. */
	assert_int_equal(ok(xg_duration_format(90 * 1000 * MS, b, sizeof(b))),
			 90 * 1000 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
