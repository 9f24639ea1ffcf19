/* SPDX-License-Identifier: MIT */
/*
 * Address text forms: every accepted spelling, every rejected one, and the
 * formatter's canonical output.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/addr.h"

struct good_case {
	const char *text;
	uint8_t     family;
	uint8_t     ip[16];
	uint16_t    port;
	const char *formatted;
};

#define V6_FD00_1 { 0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 }

/* Default port for these cases is 7946. */
static const struct good_case good[] = {
	{ "1.2.3.4", 4, { 1, 2, 3, 4 }, 7946, "1.2.3.4:7946" },
	{ "1.2.3.4:7946", 4, { 1, 2, 3, 4 }, 7946, "1.2.3.4:7946" },
	{ "198.18.0.1:1", 4, { 198, 18, 0, 1 }, 1, "198.18.0.1:1" },
	{ "198.18.0.1:65535", 4, { 198, 18, 0, 1 }, 65535,
	  "198.18.0.1:65535" },
	{ "0.0.0.0", 4, { 0 }, 7946, "0.0.0.0:7946" },
	{ "255.255.255.255:80", 4, { 255, 255, 255, 255 }, 80,
	  "255.255.255.255:80" },
	{ "fd00::1", 6, V6_FD00_1, 7946, "[fd00::1]:7946" },
	{ "[fd00::1]", 6, V6_FD00_1, 7946, "[fd00::1]:7946" },
	{ "[fd00::1]:7946", 6, V6_FD00_1, 7946, "[fd00::1]:7946" },
	{ "[fd00::1]:8000", 6, V6_FD00_1, 8000, "[fd00::1]:8000" },
	{ "FD00:0:0:0:0:0:0:1", 6, V6_FD00_1, 7946, "[fd00::1]:7946" },
	{ "::", 6, { 0 }, 7946, "[::]:7946" },
	{ "::1", 6, { [15] = 1 }, 7946, "[::1]:7946" },
	{ "[::1]:22", 6, { [15] = 1 }, 22, "[::1]:22" },
	{ "fd00:198:18::5", 6,
	  { 0xfd, 0x00, 0x01, 0x98, 0x00, 0x18, [15] = 5 }, 7946,
	  "[fd00:198:18::5]:7946" },
	/* An IPv4-mapped IPv6 address stays IPv6: the text said so. */
	{ "::ffff:198.18.0.1", 6,
	  { [10] = 0xff, [11] = 0xff, [12] = 198, [13] = 18, [14] = 0,
	    [15] = 1 },
	  7946, "[::ffff:198.18.0.1]:7946" },
	{ "[::ffff:198.18.0.1]:9", 6,
	  { [10] = 0xff, [11] = 0xff, [12] = 198, [13] = 18, [14] = 0,
	    [15] = 1 },
	  9, "[::ffff:198.18.0.1]:9" },
	{ "[1:2:3:4:5:6:7:8]:65535", 6,
	  { 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8 }, 65535,
	  "[1:2:3:4:5:6:7:8]:65535" },
};

static const char *const bad[] = {
	"",
	" ",
	"1.2.3.4 ",
	" 1.2.3.4",
	"1.2.3",
	"1.2.3.4.5",
	"256.1.1.1",
	"1.2.3.4:",
	"1.2.3.4:0",
	"1.2.3.4:65536",
	"1.2.3.4:99999",
	"1.2.3.4:123456",
	"1.2.3.4:-1",
	"1.2.3.4:+80",
	"1.2.3.4: 80",
	"1.2.3.4:80 ",
	"1.2.3.4:0x50",
	"1.2.3.4:80x",
	"1.2.3.4:80:90",
	"localhost",
	"localhost:7946",
	"example.com",
	"fd00::1::2",
	"fd00::g",
	"fd00::1%eth0",
	"[fd00::1",
	"fd00::1]",
	"[fd00::1]:",
	"[fd00::1]:0",
	"[fd00::1]:65536",
	"[fd00::1]7946",
	"[fd00::1]:7946x",
	"[fd00::1]]",
	"[[fd00::1]]",
	"[]",
	"[]:7946",
	"[1.2.3.4]",
	"[1.2.3.4]:80",
	"[fd00::1]:7946:1",
	":7946",
	":",
	"[",
	"]",
	"1.2.3.4\n",
	"1.2.3.4:79\t46",
	"12345678901234567890123456789012345678901234567890123456789",
};

static void test_parse_accepts(void **state)
{
	struct xg_addr a;
	char buf[XG_ADDR_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		memset(&a, 0xa5, sizeof(a));
		if (xg_addr_parse(good[i].text, 7946, &a) != 0)
			fail_msg("rejected \"%s\"", good[i].text);
		assert_int_equal(a.family, good[i].family);
		assert_int_equal(a.port, good[i].port);
		assert_int_equal(a.pad, 0);
		assert_memory_equal(a.ip, good[i].ip, 16);
		assert_string_equal(xg_addr_format(&a, buf, sizeof(buf)),
				    good[i].formatted);
	}
}

static void test_parse_rejects(void **state)
{
	struct xg_addr a, before;
	size_t i;

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a = before;
		if (xg_addr_parse(bad[i], 7946, &a) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		/* A failed parse leaves the output alone. */
		assert_memory_equal(&a, &before, sizeof(a));
	}
	assert_int_equal(xg_addr_parse(NULL, 7946, &a), -EINVAL);
	assert_int_equal(xg_addr_parse("1.2.3.4", 7946, NULL), -EINVAL);
}

static void test_default_port_used_only_when_missing(void **state)
{
	struct xg_addr a;

	(void)state;
	assert_int_equal(xg_addr_parse("10.0.0.1", 1234, &a), 0);
	assert_int_equal(a.port, 1234);
	assert_int_equal(xg_addr_parse("10.0.0.1:99", 1234, &a), 0);
	assert_int_equal(a.port, 99);
	assert_int_equal(xg_addr_parse("[fd00::1]", 4321, &a), 0);
	assert_int_equal(a.port, 4321);
	/* The caller may ask for "no port" by passing 0. */
	assert_int_equal(xg_addr_parse("fd00::1", 0, &a), 0);
	assert_int_equal(a.port, 0);
}

/* Whatever the formatter prints, the parser reads back to the same value. */
static void test_format_parse_round_trip(void **state)
{
	struct xg_addr a, b;
	char buf[XG_ADDR_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(xg_addr_parse(good[i].text, 7946, &a), 0);
		xg_addr_format(&a, buf, sizeof(buf));
		assert_int_equal(xg_addr_parse(buf, 1, &b), 0);
		assert_true(xg_addr_equal(&a, &b));
	}
}

static void test_longest_form_fits(void **state)
{
	static const char longest[] =
		"[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:65535";
	struct xg_addr a;
	char buf[XG_ADDR_STRLEN];

	(void)state;
	assert_int_equal(xg_addr_parse(longest, 1, &a), 0);
	xg_addr_format(&a, buf, sizeof(buf));
	/* inet_ntop prints the canonical (shorter) form; it must fit. */
	assert_true(strlen(buf) < sizeof(buf));
	assert_string_equal(buf,
		"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_format_small_buffer_and_unset(void **state)
{
	struct xg_addr a;
	char small[8];
	char buf[XG_ADDR_STRLEN];

	(void)state;
	assert_int_equal(xg_addr_parse("198.18.0.200:7946", 1, &a), 0);
	assert_ptr_equal(xg_addr_format(&a, small, sizeof(small)), small);
	assert_string_equal(small, "198.18.");
	memset(&a, 0, sizeof(a));
	assert_string_equal(xg_addr_format(&a, buf, sizeof(buf)), "unset");
}

static void test_equal(void **state)
{
	struct xg_addr a, b;

	(void)state;
	assert_int_equal(xg_addr_parse("198.18.0.1:7946", 1, &a), 0);
	assert_int_equal(xg_addr_parse("198.18.0.1", 7946, &b), 0);
	assert_true(xg_addr_equal(&a, &b));
	b.pad = 9; /* padding is not part of the value */
	assert_true(xg_addr_equal(&a, &b));

	assert_int_equal(xg_addr_parse("198.18.0.1:7947", 1, &b), 0);
	assert_false(xg_addr_equal(&a, &b));
	assert_int_equal(xg_addr_parse("198.18.0.2:7946", 1, &b), 0);
	assert_false(xg_addr_equal(&a, &b));
	/* Same 4 leading bytes, other family. */
	assert_int_equal(xg_addr_parse("[c612:1::]:7946", 1, &b), 0);
	assert_false(xg_addr_equal(&a, &b));

	assert_int_equal(xg_addr_parse("[fd00::1]:7946", 1, &a), 0);
	assert_int_equal(xg_addr_parse("fd00:0::1", 7946, &b), 0);
	assert_true(xg_addr_equal(&a, &b));
	assert_int_equal(xg_addr_parse("fd00::2", 7946, &b), 0);
	assert_false(xg_addr_equal(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_default_port_used_only_when_missing),
		cmocka_unit_test(test_format_parse_round_trip),
		cmocka_unit_test(test_longest_form_fits),
		cmocka_unit_test(test_format_small_buffer_and_unset),
		cmocka_unit_test(test_equal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
