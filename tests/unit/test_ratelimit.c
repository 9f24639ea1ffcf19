/* SPDX-License-Identifier: MIT */
/*
 * The per-source rate limiter on a fake clock: the caller passes the time,
 * so every count below is exact, not timed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/ratelimit.h"

#define SEC 1000000000ULL
#define MS  1000000ULL
#define T0  (5 * SEC) /* an arbitrary monotonic start */

static struct xg_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d,
			 uint16_t port)
{
	struct xg_addr x = { .family = 4, .port = port };

	x.ip[0] = a;
	x.ip[1] = b;
	x.ip[2] = c;
	x.ip[3] = d;
	return x;
}

/* Distinct IPv4 sources 198.18.x.y for i < 65536. */
static struct xg_addr nth_source(uint32_t i)
{
	return v4(198, 18, (uint8_t)(i >> 8), (uint8_t)i, 7946);
}

static struct xg_ratelimit *make(uint32_t rate, uint32_t burst, uint32_t slots)
{
	struct xg_ratelimit *rl = NULL;

	assert_int_equal(xg_ratelimit_new(&rl, rate, burst, slots), 0);
	assert_non_null(rl);
	return rl;
}

static unsigned send_n(struct xg_ratelimit *rl, const struct xg_addr *src,
		       unsigned n, uint64_t now)
{
	unsigned ok = 0;

	while (n--)
		ok += xg_ratelimit_allow(rl, src, now);
	return ok;
}

static void burst_then_nothing_then_rate(void **state)
{
	struct xg_ratelimit *rl = make(50, 100, 1024);
	struct xg_addr a = v4(198, 18, 0, 1, 7946);
	uint64_t allowed, limited, evicted;

	(void)state;
	assert_int_equal(send_n(rl, &a, 105, T0), 100);
	assert_int_equal(send_n(rl, &a, 10, T0), 0);
	/* One token per 1/50 s = 20 ms, not a nanosecond earlier. */
	assert_int_equal(send_n(rl, &a, 3, T0 + 20 * MS - 1), 0);
	assert_int_equal(send_n(rl, &a, 3, T0 + 20 * MS), 1);
	/* A full second later: exactly rate more. */
	assert_int_equal(send_n(rl, &a, 80, T0 + 20 * MS + SEC), 50);
	/* Long quiet: the bucket refills to burst and no further. */
	assert_int_equal(send_n(rl, &a, 150, T0 + 3600 * SEC), 100);

	xg_ratelimit_stats(rl, &allowed, &limited, &evicted);
	assert_int_equal(allowed, 100 + 1 + 50 + 100);
	assert_int_equal(limited, 105 + 10 + 3 + 3 + 80 + 150 - allowed);
	assert_int_equal(evicted, 0);
	xg_ratelimit_free(rl);
}

static void flood_does_not_starve_a_quiet_source(void **state)
{
	const uint32_t rate = 100, burst = 20;
	struct xg_ratelimit *rl = make(rate, burst, 1024);
	struct xg_addr flooder = v4(198, 18, 0, 66, 40000);
	struct xg_addr quiet = v4(198, 18, 0, 2, 7946);
	unsigned flood_ok = 0, quiet_ok = 0, quiet_sent = 0, i;
	uint64_t allowed, limited;

	(void)state;
	/* 10^6 packets spread evenly over one second, and the quiet source
	 * sending 10 per second in between. */
	for (i = 0; i < 1000000; i++) {
		uint64_t now = T0 + (uint64_t)i * 1000;

		flooder.port = (uint16_t)(40000 + i % 1000); /* ports vary */
		flood_ok += xg_ratelimit_allow(rl, &flooder, now);
		if (i % 100000 == 0) {
			quiet_ok += xg_ratelimit_allow(rl, &quiet, now);
			quiet_sent++;
		}
	}
	assert_in_range(flood_ok, burst + rate - 1, burst + rate + 1);
	assert_int_equal(quiet_sent, 10);
	assert_int_equal(quiet_ok, quiet_sent);

	xg_ratelimit_stats(rl, &allowed, &limited, NULL);
	assert_int_equal(allowed, flood_ok + quiet_ok);
	assert_int_equal(limited, 1000000 - flood_ok);
	xg_ratelimit_free(rl);
}

static void two_sources_are_independent(void **state)
{
	struct xg_ratelimit *rl = make(10, 5, 1024);
	struct xg_addr a = v4(198, 18, 0, 1, 7946);
	struct xg_addr b = v4(198, 18, 0, 2, 7946);

	(void)state;
	assert_int_equal(send_n(rl, &a, 20, T0), 5);
	assert_int_equal(send_n(rl, &b, 3, T0), 3);
	assert_int_equal(send_n(rl, &a, 1, T0), 0);
	assert_int_equal(send_n(rl, &b, 20, T0), 2);
	assert_int_equal(send_n(rl, &a, 5, T0 + SEC / 10), 1);
	assert_int_equal(send_n(rl, &b, 5, T0 + SEC / 10), 1);
	xg_ratelimit_free(rl);
}

static void family_counts_port_does_not(void **state)
{
	struct xg_ratelimit *rl = make(1, 3, 1024);
	struct xg_addr a4 = v4(198, 18, 0, 1, 7946);
	struct xg_addr other_port = v4(198, 18, 0, 1, 1234);
	struct xg_addr a6 = a4, a6_low = { .family = 6, .port = 7946 };
	struct xg_addr mapped = { .family = 6, .port = 7946 };

	(void)state;
	a6.family = 6; /* the same 16 ip bytes, family 6 */
	memcpy(a6_low.ip + 12, a4.ip, 4); /* ::198.18.0.1 */
	mapped.ip[10] = 0xff;
	mapped.ip[11] = 0xff;
	memcpy(mapped.ip + 12, a4.ip, 4); /* ::ffff:198.18.0.1 */

	assert_int_equal(send_n(rl, &a4, 10, T0), 3);
	assert_int_equal(send_n(rl, &other_port, 10, T0), 0);
	assert_int_equal(send_n(rl, &a6, 10, T0), 3);
	assert_int_equal(send_n(rl, &a6_low, 10, T0), 3);
	assert_int_equal(send_n(rl, &mapped, 10, T0), 3);
	/* And the IPv4 bucket refills on its own clock, whatever the port. */
	assert_int_equal(send_n(rl, &other_port, 10, T0 + SEC), 1);
	xg_ratelimit_free(rl);
}

/* 10x more sources than slots, every one sending more than its burst at
 * each turn: entries are evicted all the time.  Nothing may crash, every
 * packet is counted once, and nobody gets more than what fresh buckets
 * (one per start or eviction) plus the rate can give. */
static void overfull_table_evicts(void **state)
{
	const uint32_t slots = 64, n = 10 * slots, rate = 100, burst = 4;
	const unsigned rounds = 30, per_visit = burst + 3;
	struct xg_ratelimit *rl = make(rate, burst, slots);
	unsigned *got = calloc(n, sizeof(*got));
	uint64_t allowed, limited, evicted, sent = 0, sum = 0, now = T0, t;
	uint32_t r, i;

	(void)state;
	assert_non_null(got);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < n; i++) {
			struct xg_addr s = nth_source(i);

			got[i] += send_n(rl, &s, per_visit, now);
			sent += per_visit;
			now += 10000; /* 10 us */
		}
	}
	t = now - T0;
	xg_ratelimit_stats(rl, &allowed, &limited, &evicted);
	for (i = 0; i < n; i++) {
		sum += got[i];
		/* At most a fresh burst per visit plus the refill. */
		assert_true(got[i] <= rounds * burst + rate * t / SEC + 1);
		/* A first visit always gets a full burst. */
		assert_true(got[i] >= burst);
	}
	assert_int_equal(sum, allowed);
	assert_int_equal(allowed + limited, sent);
	assert_true(evicted >= n - slots);
	assert_true(allowed <= (n + evicted) * burst + n * (rate * t / SEC + 1));
	xg_ratelimit_free(rl);
	free(got);
}

/* One flooder among 10x slots sources that each send below the rate.  The
 * flooder's bucket is the emptiest in any window, so churn does not evict
 * it into fresh bursts: it stays within burst + rate * t (+ one burst,
 * the documented worst case of one eviction), and the polite sources lose
 * nothing although they are evicted constantly. */
static void flooder_amid_churn(void **state)
{
	const uint32_t slots = 64, n = 10 * slots, rate = 100, burst = 10;
	const uint64_t step = 100000, steps = 20000; /* 100 us, 2 s */
	struct xg_ratelimit *rl = make(rate, burst, slots);
	struct xg_addr flooder = v4(198, 19, 255, 254, 1);
	uint64_t flood_ok = 0, polite_sent = 0, polite_ok = 0, evicted, k;
	uint64_t t = steps * step;

	(void)state;
	for (k = 0; k < steps; k++) {
		uint64_t now = T0 + k * step;
		struct xg_addr s = nth_source((uint32_t)(k % n));

		flood_ok += send_n(rl, &flooder, 3, now);
		polite_ok += xg_ratelimit_allow(rl, &s, now);
		polite_sent++;
	}
	assert_true(flood_ok <= burst + rate * t / SEC + burst);
	assert_true(flood_ok >= burst + rate * t / SEC - 1);
	assert_int_equal(polite_ok, polite_sent);
	xg_ratelimit_stats(rl, NULL, NULL, &evicted);
	assert_true(evicted > 0);
	xg_ratelimit_free(rl);
}

static void one_slot_table(void **state)
{
	struct xg_ratelimit *rl = make(1, 2, 1);
	struct xg_addr a = v4(198, 18, 0, 1, 1), b = v4(198, 18, 0, 2, 1);
	uint64_t evicted;

	(void)state;
	assert_int_equal(send_n(rl, &a, 5, T0), 2);
	assert_int_equal(send_n(rl, &b, 5, T0), 2);
	assert_int_equal(send_n(rl, &a, 5, T0), 2); /* the cost of one slot */
	xg_ratelimit_stats(rl, NULL, NULL, &evicted);
	assert_int_equal(evicted, 2);
	xg_ratelimit_free(rl);
}

/* Largest rate and burst, the longest gaps: saturates instead of wrapping. */
static void extreme_values_saturate(void **state)
{
	struct xg_ratelimit *rl = make(UINT32_MAX, UINT32_MAX, 1);
	struct xg_ratelimit *slow = make(1, 1, 2);
	struct xg_addr a = v4(198, 18, 0, 1, 1);

	(void)state;
	assert_true(xg_ratelimit_allow(rl, &a, 0));
	assert_true(xg_ratelimit_allow(rl, &a, UINT64_MAX));
	assert_true(xg_ratelimit_allow(rl, &a, UINT64_MAX));

	assert_true(xg_ratelimit_allow(slow, &a, 0));
	assert_false(xg_ratelimit_allow(slow, &a, SEC - 1));
	assert_true(xg_ratelimit_allow(slow, &a, UINT64_MAX - 1));
	assert_false(xg_ratelimit_allow(slow, &a, UINT64_MAX));
	xg_ratelimit_free(rl);
	xg_ratelimit_free(slow);
}

/* Receive timestamps of one batch may arrive slightly out of order: an
 * earlier time refills nothing and does not move the source's clock back. */
static void clock_going_back_refills_nothing(void **state)
{
	struct xg_ratelimit *rl = make(1, 1, 16);
	struct xg_addr a = v4(198, 18, 0, 1, 1);

	(void)state;
	assert_true(xg_ratelimit_allow(rl, &a, 10 * SEC));
	assert_false(xg_ratelimit_allow(rl, &a, 5 * SEC));
	assert_false(xg_ratelimit_allow(rl, &a, 11 * SEC - 1));
	assert_true(xg_ratelimit_allow(rl, &a, 11 * SEC));
	xg_ratelimit_free(rl);
}

static void invalid_parameters(void **state)
{
	struct xg_ratelimit *rl = (struct xg_ratelimit *)&rl;

	(void)state;
	assert_int_equal(xg_ratelimit_new(NULL, 1, 1, 16), -EINVAL);
	assert_int_equal(xg_ratelimit_new(&rl, 0, 1, 16), -EINVAL);
	assert_int_equal(xg_ratelimit_new(&rl, 1, 0, 16), -EINVAL);
	assert_int_equal(xg_ratelimit_new(&rl, 1, 1, 0), -EINVAL);
	assert_int_equal(xg_ratelimit_new(&rl, 1, 1, 3), -EINVAL);
	assert_int_equal(xg_ratelimit_new(&rl, 1, 1, 1000), -EINVAL);
	assert_int_equal(xg_ratelimit_new(&rl, 1, 1, XG_RATELIMIT_MAX_SLOTS * 2),
			 -EINVAL);
	assert_int_equal(xg_ratelimit_new(&rl, 1, 1, UINT32_MAX), -EINVAL);
	/* Untouched on failure. */
	assert_ptr_equal(rl, (struct xg_ratelimit *)&rl);
	xg_ratelimit_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(burst_then_nothing_then_rate),
		cmocka_unit_test(flood_does_not_starve_a_quiet_source),
		cmocka_unit_test(two_sources_are_independent),
		cmocka_unit_test(family_counts_port_does_not),
		cmocka_unit_test(overfull_table_evicts),
		cmocka_unit_test(flooder_amid_churn),
		cmocka_unit_test(one_slot_table),
		cmocka_unit_test(extreme_values_saturate),
		cmocka_unit_test(clock_going_back_refills_nothing),
		cmocka_unit_test(invalid_parameters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
