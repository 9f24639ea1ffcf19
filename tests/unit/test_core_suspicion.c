/* SPDX-License-Identifier: MIT */
/*
 * Suspicion timers: SUSPECT turns into DEAD after
 * suspicion_mult * max(1, log10(n)) * probe_interval, n being the alive
 * and suspect members (self included) when the suspicion started; a
 * refutation in time cancels it; the deadline is reported exactly.
 *
 * These run with suspicion_max_mult = 1, which makes Lifeguard's dynamic
 * timeout collapse to SWIM's fixed one (max = min); test_core_lifeguard.c
 * covers the dynamic part.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "lib/onecore.h"

#define SECOND 1000000000ULL

static void start(struct onecore *o, unsigned peers, uint64_t now)
{
	struct xg_core_config cfg;
	struct xg_update_msg u;
	unsigned i;

	oc_config(&cfg);
	/* No probing: only the timers under test move state. */
	cfg.probe_interval_ns = 2 * SECOND;
	cfg.probe_timeout_ns = SECOND;
	cfg.suspicion_max_mult = 1;
	assert_int_equal(oc_start(o, &cfg, now), 0);
	o->core->next_probe_ns = UINT64_MAX;
	for (i = 0; i < peers; i++) {
		oc_update(&u, XG_ALIVE, 100 + i, 0, 100 + i);
		assert_int_equal(oc_gossip(o, &u, 1, now), 0);
	}
}

static void suspect(struct onecore *o, uint64_t id, uint32_t inc,
		    uint64_t now)
{
	struct xg_update_msg u;

	oc_update(&u, XG_SUSPECT, id, inc, 99);
	assert_int_equal(oc_gossip(o, &u, 1, now), 0);
}

static enum xg_state state_of(struct onecore *o, uint64_t id)
{
	struct xg_member_info mi;

	assert_int_equal(xg_core_member_find(o->core, id, &mi), 0);
	return mi.state;
}

static void check_timeout(unsigned peers, uint64_t want)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND;

	start(&o, peers, SECOND);
	suspect(&o, 100, 0, t0);
	assert_int_equal(state_of(&o, 100), XG_SUSPECT);
	assert_int_equal(xg_suspicion_deadline(o.core), t0 + want);
	xg_core_tick(o.core, t0 + want - 1);
	assert_int_equal(state_of(&o, 100), XG_SUSPECT);
	xg_core_tick(o.core, t0 + want);
	assert_int_equal(state_of(&o, 100), XG_DEAD);
	assert_int_equal(oc_count_events(&o, XG_EV_FAIL, 100), 1);
	assert_int_equal(xg_suspicion_deadline(o.core), UINT64_MAX);
	oc_stop(&o);
}

static void timeout_scales_with_log_n(void **state)
{
	(void)state;
	/* n <= 10: the floor of one, 4 * 2 s. */
	check_timeout(1, 8 * SECOND);
	check_timeout(9, 8 * SECOND);
	/* n = 21: 4 * log10(21) * 2 s. */
	check_timeout(20, (uint64_t)(4 * log10(21.0) * 2 * SECOND + 0.5));
	/* n = 100: 4 * 2 * 2 s. */
	check_timeout(99, 16 * SECOND);
}

static void refuted_in_time(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	uint64_t t0 = 10 * SECOND;

	(void)state;
	start(&o, 3, SECOND);
	suspect(&o, 101, 0, t0);
	oc_update(&u, XG_ALIVE, 101, 1, 101);
	assert_int_equal(oc_gossip(&o, &u, 1, t0 + SECOND), 0);
	assert_int_equal(state_of(&o, 101), XG_ALIVE);
	assert_int_equal(xg_suspicion_deadline(o.core), UINT64_MAX);
	xg_core_tick(o.core, t0 + 60 * SECOND);
	assert_int_equal(state_of(&o, 101), XG_ALIVE);
	assert_int_equal(oc_count_events(&o, XG_EV_SUSPECT, 101), 1);
	assert_int_equal(oc_count_events(&o, XG_EV_ALIVE, 101), 1);
	assert_int_equal(oc_count_events(&o, XG_EV_FAIL, 0), 0);
	oc_stop(&o);
}

/* Several suspects at once: each fires at its own deadline, and the
 * core's next deadline is always the earliest of them. */
static void several_suspects(void **state)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND, want = 8 * SECOND;

	(void)state;
	start(&o, 3, SECOND);
	suspect(&o, 100, 0, t0);
	suspect(&o, 101, 0, t0 + SECOND);
	suspect(&o, 102, 0, t0 + 2 * SECOND);
	assert_int_equal(xg_suspicion_deadline(o.core), t0 + want);
	xg_core_tick(o.core, t0 + want + SECOND);
	assert_int_equal(state_of(&o, 100), XG_DEAD);
	assert_int_equal(state_of(&o, 101), XG_DEAD);
	assert_int_equal(state_of(&o, 102), XG_SUSPECT);
	assert_int_equal(xg_suspicion_deadline(o.core), t0 + 2 * SECOND + want);
	assert_true(xg_core_next_deadline(o.core) <= t0 + 2 * SECOND + want);
	oc_stop(&o);
}

/* A suspicion raised about a newer incarnation restarts the window: the
 * member gets its full time to refute the new accusation. */
static void newer_suspicion_restarts(void **state)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND, want = 8 * SECOND;

	(void)state;
	start(&o, 3, SECOND);
	suspect(&o, 100, 0, t0);
	suspect(&o, 100, 1, t0 + 5 * SECOND);
	assert_int_equal(xg_suspicion_deadline(o.core),
			 t0 + 5 * SECOND + want);
	oc_stop(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(timeout_scales_with_log_n),
		cmocka_unit_test(refuted_in_time),
		cmocka_unit_test(several_suspects),
		cmocka_unit_test(newer_suspicion_restarts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
