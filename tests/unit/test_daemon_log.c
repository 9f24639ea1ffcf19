/* SPDX-License-Identifier: MIT */
/* Log records (agent/util/log.c): the line shape harnesses parse, levels,
 * and quoting of values that come from the network. */
#include <errno.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/log.h"

static int pfd[2];

static int setup(void **state)
{
	(void)state;
	if (pipe(pfd) < 0)
		return -1;
	xg_log_set_fd(pfd[1]);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xg_log_set_fd(2);
	xg_log_set_level(XG_LOG_INFO);
	close(pfd[0]);
	close(pfd[1]);
	return 0;
}

/* Everything logged since the last call. */
static size_t drain(char *buf, size_t cap)
{
	ssize_t n;

	xg_log_set_fd(-1);
	close(pfd[1]);
	n = read(pfd[0], buf, cap - 1);
	assert_true(n >= 0);
	buf[n] = '\0';
	close(pfd[0]);
	assert_int_equal(pipe(pfd), 0);
	xg_log_set_fd(pfd[1]);
	return (size_t)n;
}

static void assert_matches(const char *s, const char *re)
{
	regex_t r;

	assert_int_equal(regcomp(&r, re, REG_EXTENDED | REG_NOSUB), 0);
	if (regexec(&r, s, 0, NULL, 0) != 0)
		fail_msg("'%s' does not match /%s/", s, re);
	regfree(&r);
}

static void test_line_shape(void **state)
{
	char buf[4096];

	(void)state;
	xg_info("member join name=%s id=%016x", "n1", 0xabc);
	xg_warn("careful");
	xg_error("broken");
	drain(buf, sizeof(buf));
	assert_matches(buf,
		"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z "
		"INFO  member join name=n1 id=0000000000000abc\n"
		"[0-9-]{10}T[0-9:]{8}\\.[0-9]{6}Z WARN  careful\n"
		"[0-9-]{10}T[0-9:]{8}\\.[0-9]{6}Z ERROR broken\n$");
}

static void test_levels(void **state)
{
	char buf[4096];
	enum xg_log_level l;

	(void)state;
	xg_log_set_level(XG_LOG_WARN);
	xg_debug("d");
	xg_info("i");
	xg_warn("w");
	drain(buf, sizeof(buf));
	assert_null(strstr(buf, " i\n"));
	assert_non_null(strstr(buf, "WARN  w\n"));
	xg_log_set_level(XG_LOG_DEBUG);
	xg_debug("d");
	drain(buf, sizeof(buf));
	assert_non_null(strstr(buf, "Z DEBUG d\n"));

	assert_int_equal(xg_log_level_parse("debug", &l), 0);
	assert_int_equal(l, XG_LOG_DEBUG);
	assert_int_equal(xg_log_level_parse("WARN", &l), 0);
	assert_int_equal(l, XG_LOG_WARN);
	assert_int_equal(xg_log_level_parse("error", &l), 0);
	assert_int_equal(l, XG_LOG_ERROR);
	assert_int_equal(xg_log_level_parse("verbose", &l), -EINVAL);
}

static void test_long_record_stays_one_line(void **state)
{
	char big[5000], buf[8192];
	size_t n;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	xg_info("%s", big);
	n = drain(buf, sizeof(buf));
	assert_true(n > 100 && n <= 2048);
	assert_int_equal(buf[n - 1], '\n');
	assert_ptr_equal(strchr(buf, '\n'), &buf[n - 1]);
}

static void test_timestamp(void **state)
{
	char b[40];

	(void)state;
	/* 2026-11-22T03:40:01.123456Z */
	xg_log_timestamp(1795318801123456789ULL, b, sizeof(b));
	assert_string_equal(b, "2026-11-22T03:40:01.123456Z");
	xg_log_timestamp(0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00.000000Z");
}

static void test_quote(void **state)
{
	char b[64];

	(void)state;
	assert_string_equal(xg_log_quote("node-1", 6, b, sizeof(b)), "node-1");
	assert_string_equal(xg_log_quote("a b", 3, b, sizeof(b)), "\"a b\"");
	assert_string_equal(xg_log_quote("x\ny", 3, b, sizeof(b)), "\"x\\x0ay\"");
	assert_string_equal(xg_log_quote("k=v", 3, b, sizeof(b)), "\"k=v\"");
	assert_string_equal(xg_log_quote("q\"\\", 3, b, sizeof(b)),
			    "\"q\\\"\\\\\"");
	assert_string_equal(xg_log_quote("\xc3\xa9", 2, b, sizeof(b)),
			    "\"\\xc3\\xa9\"");
	assert_string_equal(xg_log_quote("", 0, b, sizeof(b)), "\"\"");
	/* Truncated output is still closed and terminated. */
	assert_string_equal(xg_log_quote("\n\n\n\n\n", 5, b, 12), "\"\\x0a\\x0a\"");
	assert_string_equal(xg_log_quote("abcdef", 6, b, 4), "abc");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_line_shape),
		T(test_levels),
		T(test_long_record_stays_one_line),
		T(test_timestamp),
		T(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
