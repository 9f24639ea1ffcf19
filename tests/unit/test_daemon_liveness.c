/* SPDX-License-Identifier: MIT */
/* The XDP liveness window stretched while the agent is starved
 * (agent/daemon/liveness.c), on a scripted clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon/liveness.h"

#define MS 1000000ULL
#define S  (1000 * MS)

/* A healthy idle agent: a wakeup every 250 ms, 50 us of CPU each. */
static uint64_t run_on_time(struct xg_liveness *l, uint64_t *now,
			    uint64_t *cpu, uint64_t span)
{
	uint64_t end = *now + span, changes = 0;

	while (*now < end) {
		*now += 250 * MS;
		*cpu += 50000;
		changes += xg_liveness_wake(l, *now, *cpu);
	}
	return changes;
}

static void test_on_time_never_stretches(void **state)
{
	struct xg_liveness l;
	uint64_t now = 10 * S, cpu = 0;

	(void)state;
	xg_liveness_init(&l, 2 * S, 8 * S);
	assert_int_equal(run_on_time(&l, &now, &cpu, 120 * S), 0);
	assert_int_equal(l.window_ns, 2 * S);
	assert_int_equal(l.stretches, 0);
	/* 450 ms late is scheduling noise, not starvation. */
	now += 450 * MS;
	assert_false(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 2 * S);
}

static void test_starved_gap_stretches_by_the_gap(void **state)
{
	struct xg_liveness l;
	uint64_t now = 10 * S, cpu = 0;

	(void)state;
	xg_liveness_init(&l, 2 * S, 8 * S);
	run_on_time(&l, &now, &cpu, 5 * S);
	/* Held off the CPU for 3 s, using 0.4 ms. */
	now += 3 * S;
	cpu += 400000;
	assert_true(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 5 * S);
	assert_int_equal(l.longest_gap_ns, 3 * S);
	assert_int_equal(l.last_gap_ns, 3 * S);
	assert_int_equal(l.stretches, 1);
	/* A hold a little shorter asks for the same window: no change. */
	now += 2900 * MS;
	assert_false(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 5 * S);
	/* A shorter hold keeps the window, and does not shrink it. */
	now += 1 * S;
	assert_false(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 5 * S);
	assert_int_equal(l.last_gap_ns, 1 * S);
	assert_int_equal(l.longest_gap_ns, 3 * S);
	/* A longer one grows it, never past the maximum. */
	now += 7 * S;
	assert_true(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 8 * S);
	assert_int_equal(l.stretches, 2);
	/* 1.3 s asks for 1.5 s more than the configured window. */
	xg_liveness_init(&l, 2 * S, 8 * S);
	xg_liveness_wake(&l, now, cpu);
	now += 1300 * MS;
	assert_true(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 3500 * MS);
}

static void test_returns_after_the_hold(void **state)
{
	struct xg_liveness l;
	uint64_t now = 10 * S, cpu = 0, t_last;

	(void)state;
	xg_liveness_init(&l, 2 * S, 8 * S);
	now += 1 * S;
	xg_liveness_wake(&l, now, cpu);
	now += 2 * S;
	assert_true(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 4 * S);
	/* Starved again 10 s later: the hold restarts from there. */
	run_on_time(&l, &now, &cpu, 10 * S);
	now += 1 * S;
	xg_liveness_wake(&l, now, cpu);
	t_last = now;
	assert_int_equal(l.window_ns, 4 * S);
	/* On time until just before the hold ends: still stretched. */
	while (now + 250 * MS < t_last + XG_LIVE_HOLD_NS) {
		now += 250 * MS;
		cpu += 50000;
		assert_false(xg_liveness_wake(&l, now, cpu));
	}
	assert_int_equal(l.window_ns, 4 * S);
	now = t_last + XG_LIVE_HOLD_NS;
	assert_true(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 2 * S);
}

static void test_busy_gap_does_not_stretch(void **state)
{
	struct xg_liveness l;
	uint64_t now = 10 * S, cpu = 0;

	(void)state;
	xg_liveness_init(&l, 2 * S, 8 * S);
	run_on_time(&l, &now, &cpu, 1 * S);
	/* 3 s away, 2.5 s of it computing: the agent's own slowness. */
	now += 3 * S;
	cpu += 2500 * MS;
	assert_false(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 2 * S);
	/* Just under a quarter of the gap busy still counts as starved. */
	now += 4 * S;
	cpu += 999 * MS;
	assert_true(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 6 * S);
}

static void test_max_equal_to_window_disables(void **state)
{
	struct xg_liveness l;
	uint64_t now = 10 * S, cpu = 0;

	(void)state;
	xg_liveness_init(&l, 2 * S, 2 * S);
	xg_liveness_wake(&l, now, cpu);
	now += 5 * S;
	assert_false(xg_liveness_wake(&l, now, cpu));
	assert_int_equal(l.window_ns, 2 * S);
	assert_int_equal(l.stretches, 0);
	/* A maximum below the window is taken as the window. */
	xg_liveness_init(&l, 2 * S, 1 * S);
	assert_int_equal(l.max_ns, 2 * S);
}

static void test_first_wakeup_and_clock_oddities(void **state)
{
	struct xg_liveness l;

	(void)state;
	xg_liveness_init(&l, 2 * S, 8 * S);
	/* The first wakeup has nothing to measure against. */
	assert_false(xg_liveness_wake(&l, 100 * S, 0));
	/* A clock that did not move, or a CPU clock that could not be read
	 * (0), changes nothing by itself. */
	assert_false(xg_liveness_wake(&l, 100 * S, 0));
	assert_false(xg_liveness_wake(&l, 100 * S + 100 * MS, 0));
	assert_int_equal(l.window_ns, 2 * S);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on_time_never_stretches),
		cmocka_unit_test(test_starved_gap_stretches_by_the_gap),
		cmocka_unit_test(test_returns_after_the_hold),
		cmocka_unit_test(test_busy_gap_does_not_stretch),
		cmocka_unit_test(test_max_equal_to_window_disables),
		cmocka_unit_test(test_first_wakeup_and_clock_oddities),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
