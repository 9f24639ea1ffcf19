/* SPDX-License-Identifier: MIT */
/* Reading CLOCK_MONOTONIC and CLOCK_REALTIME as one instant
 * (agent/util/clockpair.c), with a scripted clock for the choices and the
 * real one for the contract. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/clockpair.h"

/* Readings handed out in order: mono, real, mono, mono, real, mono... */
struct script {
	const uint64_t *v;
	size_t          n, next;
	unsigned        wrong_clock; /* a read of the clock not expected */
};

static uint64_t scripted(clockid_t clk, void *ctx)
{
	struct script *s = ctx;
	/* Position in the triple says which clock is due. */
	clockid_t want = s->next % 3 == 1 ? CLOCK_REALTIME : CLOCK_MONOTONIC;

	if (clk != want)
		s->wrong_clock++;
	assert_true(s->next < s->n);
	return s->v[s->next++];
}

static void test_first_tight_bracket_stops(void **state)
{
	/* 400 ns wide: good enough, no second try. */
	static const uint64_t v[] = { 1000, 9000400, 1400 };
	struct script s = { v, 3, 0, 0 };
	struct xg_clockpair p;

	(void)state;
	xg_clockpair_read_with(&p, scripted, &s);
	assert_int_equal(s.next, 3);
	assert_int_equal(s.wrong_clock, 0);
	assert_int_equal(p.gap_ns, 400);
	assert_int_equal(p.mono_ns, 1200);
	assert_int_equal(p.real_ns, 9000400);
	assert_int_equal(xg_clockpair_offset(&p), 9000400 - 1200);
}

static void test_interrupted_bracket_is_discarded(void **state)
{
	/* An interrupt of 40 us lands inside the first bracket; the second
	 * one is tight and is the one kept. */
	static const uint64_t v[] = {
		1000, 9041000, 41000,
		50000, 9050100, 50200,
	};
	struct script s = { v, 6, 0, 0 };
	struct xg_clockpair p;

	(void)state;
	xg_clockpair_read_with(&p, scripted, &s);
	assert_int_equal(s.next, 6);
	assert_int_equal(p.gap_ns, 200);
	assert_int_equal(p.mono_ns, 50100);
	assert_int_equal(xg_clockpair_offset(&p), 9000000);
}

static void test_never_tight_keeps_the_best(void **state)
{
	uint64_t v[3 * XG_CLOCKPAIR_TRIES];
	struct script s = { v, 3 * XG_CLOCKPAIR_TRIES, 0, 0 };
	struct xg_clockpair p;
	size_t i;

	(void)state;
	/* Every bracket is wide; the third is the narrowest (5 us). */
	for (i = 0; i < XG_CLOCKPAIR_TRIES; i++) {
		uint64_t m = 1000000 * (i + 1), w = i == 2 ? 5000 : 20000 + i;

		v[3 * i] = m;
		v[3 * i + 1] = 7000000000ULL + m + w / 2;
		v[3 * i + 2] = m + w;
	}
	xg_clockpair_read_with(&p, scripted, &s);
	assert_int_equal(s.next, 3 * XG_CLOCKPAIR_TRIES);
	assert_int_equal(p.gap_ns, 5000);
	assert_int_equal(p.mono_ns, 3000000 + 2500);
	assert_int_equal(xg_clockpair_offset(&p), 7000000000LL);
}

static void test_backwards_source_is_not_trusted(void **state)
{
	/* A first bracket that runs backwards (a broken source) must not
	 * count as the tightest. */
	static const uint64_t v[] = {
		5000, 9000000, 4000,
		10000, 9010300, 10600,
	};
	struct script s = { v, 6, 0, 0 };
	struct xg_clockpair p;

	(void)state;
	xg_clockpair_read_with(&p, scripted, &s);
	assert_int_equal(p.gap_ns, 600);
	assert_int_equal(p.mono_ns, 10300);
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void test_real_clocks(void **state)
{
	struct xg_clockpair p;
	uint64_t before, after;

	(void)state;
	before = now_ns(CLOCK_MONOTONIC);
	xg_clockpair_read(&p);
	after = now_ns(CLOCK_MONOTONIC);
	assert_true(p.mono_ns >= before);
	assert_true(p.mono_ns <= after);
	assert_true(p.gap_ns <= after - before);
	assert_true(p.real_ns > 1600000000ULL * 1000000000ULL);
	assert_true(xg_clockpair_offset(&p) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_tight_bracket_stops),
		cmocka_unit_test(test_interrupted_bracket_is_discarded),
		cmocka_unit_test(test_never_tight_keeps_the_best),
		cmocka_unit_test(test_backwards_source_is_not_trusted),
		cmocka_unit_test(test_real_clocks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
