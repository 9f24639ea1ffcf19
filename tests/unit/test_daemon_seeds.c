/* SPDX-License-Identifier: MIT */
/* Seed addresses and join backoff (agent/daemon/resolve.c, join.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/join.h"
#include "daemon/resolve.h"

static void split_ok(const char *text, const char *host, uint16_t port,
		     bool literal)
{
	char h[XG_HOST_MAX + 1];
	struct xg_addr a;
	uint16_t p = 0;
	bool lit = !literal;

	if (xg_seed_split(text, 7946, h, sizeof(h), &p, &lit, &a) != 0)
		fail_msg("'%s' rejected", text);
	assert_string_equal(h, host);
	assert_int_equal(p, port);
	assert_int_equal(lit, literal);
}

static void split_bad(const char *text)
{
	char h[XG_HOST_MAX + 1];
	struct xg_addr a;
	uint16_t p;
	bool lit;

	if (xg_seed_split(text, 7946, h, sizeof(h), &p, &lit, &a) != -EINVAL)
		fail_msg("'%s' accepted", text);
}

static void test_split(void **state)
{
	(void)state;
	split_ok("198.18.0.1", "198.18.0.1:7946", 7946, true);
	split_ok("198.18.0.1:7000", "198.18.0.1:7000", 7000, true);
	split_ok("fd00:198:18::1", "[fd00:198:18::1]:7946", 7946, true);
	split_ok("[fd00:198:18::1]:7001", "[fd00:198:18::1]:7001", 7001, true);
	split_ok("seed.example", "seed.example", 7946, false);
	split_ok("xgossip.xgossip.svc.cluster.local:7946",
		 "xgossip.xgossip.svc.cluster.local", 7946, false);
	split_ok("_svc.host-1:1", "_svc.host-1", 1, false);

	split_bad("");
	split_bad("host:");
	split_bad("host:0");
	split_bad("host:65536");
	split_bad("host:7946x");
	split_bad("bad host");
	split_bad("-leading");
	split_bad("1.2.3");        /* a mistyped IPv4 address, not a name */
	split_bad("1.2.3.4.5:80");
	split_bad("[fd00::1");
	split_bad("fd00::zz");
	split_bad("a/b");
}

static void test_resolve_literals_need_no_lookup(void **state)
{
	struct xg_addr out[4];
	char t[XG_ADDR_STRLEN];

	(void)state;
	assert_int_equal(xg_seed_resolve("198.18.0.9:7001", 7946, 6, out, 4), 1);
	assert_string_equal(xg_addr_format(&out[0], t, sizeof(t)),
			    "198.18.0.9:7001");
	assert_int_equal(xg_seed_resolve("[fd00:198:18::9]", 7946, 4, out, 4), 1);
	assert_string_equal(xg_addr_format(&out[0], t, sizeof(t)),
			    "[fd00:198:18::9]:7946");
	assert_int_equal(xg_seed_resolve("not a seed", 7946, 0, out, 4), -EINVAL);
	assert_int_equal(xg_seed_resolve("1.2.3.4", 7946, 0, out, 0), -EINVAL);
}

static void test_resolve_localhost(void **state)
{
	struct xg_addr out[4];
	int n, i;

	(void)state;
	/* /etc/hosts, no DNS traffic. */
	n = xg_seed_resolve("localhost:7100", 7946, 4, out, 4);
	if (n == -EHOSTUNREACH || n == -EAGAIN)
		skip();
	assert_true(n >= 1);
	assert_int_equal(out[0].family, 4);
	for (i = 0; i < n; i++)
		assert_int_equal(out[i].port, 7100);
}

static void test_jitter_bounds(void **state)
{
	struct xg_rng rng = { 12345 };
	const uint64_t b = 1000000000ULL;
	uint64_t lo = UINT64_MAX, hi = 0, d;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++) {
		d = xg_join_jitter(&rng, b);
		assert_true(d >= b - b / 4 && d <= b + b / 4);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	/* Spread over most of the window, not stuck at one value. */
	assert_true(lo < b - b / 5);
	assert_true(hi > b + b / 5);
	assert_int_equal(xg_join_jitter(&rng, 0), 0);
}

static void test_rng(void **state)
{
	struct xg_rng a, b = { 7 }, c = { 7 };
	int i;

	(void)state;
	assert_int_equal(xg_rng_seed(&a), 0);
	for (i = 0; i < 100; i++)
		assert_int_equal(xg_rng_next(&b), xg_rng_next(&c));
	for (i = 0; i < 1000; i++)
		assert_true(xg_rng_below(&b, 3) < 3);
	assert_true(xg_rng_next(&b) != xg_rng_next(&b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_resolve_literals_need_no_lookup),
		cmocka_unit_test(test_resolve_localhost),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_rng),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
