/* SPDX-License-Identifier: MIT */
/*
 * Graceful leave: the LEFT update outruns failure detection, so every
 * member reports LEAVE and none reports FAIL; the leaver stops probing and
 * answering; LEFT members are reaped after dead_reclaim_ns.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lib/sim.h"

#define N 8

static bool converged(struct sim *s, void *ctx)
{
	(void)ctx;
	return sim_converged(s);
}

static bool spread(struct sim *s, void *ctx)
{
	return xg_core_leave_spread(sim_core(s, *(unsigned *)ctx));
}

static void graceful_leave(void **state)
{
	struct xg_core_config base;
	struct sim_opts o = { .nodes = N, .seed = 21, .base = &base,
			      .jitter_ns = SIM_MS(1), .auto_pushpull = true };
	struct sim *s;
	struct xg_core *lc;
	unsigned leaver = 6, i;
	uint64_t id, pings, t_left, gossip;
	uint32_t inc;

	(void)state;
	xg_core_config_defaults(&base);
	base.dead_reclaim_ns = SIM_S(60);
	s = sim_new(&o);
	assert_non_null(s);
	assert_int_equal(sim_join_range(s, 1, N - 1, 0, SIM_MS(20)), 0);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       SIM_S(40)));
	sim_clear_events(s);

	lc = sim_core(s, leaver);
	id = sim_id(s, leaver);
	inc = xg_core_self(lc)->incarnation;
	assert_false(xg_core_leave_spread(lc));
	gossip = xg_core_stats(lc)->gossip_sent;
	assert_int_equal(xg_core_leave(lc, sim_now(s)), 0);
	assert_int_equal(xg_core_leave(lc, sim_now(s)), -EALREADY);
	assert_int_equal(xg_core_self(lc)->state, XG_LEFT);
	assert_int_equal(xg_core_self(lc)->incarnation, inc + 1);
	/* The first GOSSIP left at once, without waiting for a round. */
	assert_int_equal(xg_core_stats(lc)->gossip_sent, gossip + 3);
	/* Nothing is due for probing any more. */
	pings = xg_core_stats(lc)->pings_sent;

	assert_true(sim_run_until_true(s, spread, &leaver, SIM_MS(10),
				       sim_now(s) + SIM_S(5)));
	assert_int_equal(xg_core_stats(lc)->pings_sent, pings);
	sim_stop(s, leaver);
	t_left = sim_now(s);

	sim_run_for(s, SIM_S(30));
	assert_true(sim_all_see(s, id, XG_LEFT, leaver));
	for (i = 0; i < N; i++) {
		struct xg_member_info mi;

		if (i == leaver)
			continue;
		assert_int_equal(sim_count(s, i, XG_EV_LEAVE, id), 1);
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 0);
		assert_int_equal(sim_count(s, i, XG_EV_SUSPECT, 0), 0);
		assert_int_equal(sim_member(s, i, id, &mi), 0);
		assert_int_equal(mi.incarnation, inc + 1);
		assert_int_equal(xg_core_count_state(sim_core(s, i), XG_LEFT), 1);
	}

	/* Reaped once the reclaim time has passed, and not before. */
	sim_run_until(s, t_left + SIM_S(50));
	assert_int_equal(sim_member(s, 0, id, NULL), 0);
	sim_run_until(s, t_left + SIM_S(70));
	for (i = 0; i < N; i++) {
		if (i == leaver)
			continue;
		assert_int_equal(sim_member(s, i, id, NULL), -ENOENT);
		assert_int_equal(xg_core_member_count(sim_core(s, i)), N - 1);
	}
	sim_free(s);
}

/* Alone in the cluster, the leave has nobody to reach: it is spread at
 * once rather than never. */
static void leave_alone_is_spread(void **state)
{
	struct sim_opts o = { .nodes = 1, .seed = 2 };
	struct sim *s = sim_new(&o);

	(void)state;
	assert_non_null(s);
	assert_int_equal(xg_core_leave(sim_core(s, 0), 0), 0);
	assert_true(xg_core_leave_spread(sim_core(s, 0)));
	assert_int_equal(xg_core_set_meta(sim_core(s, 0), "x", 1, 0),
			 -ESHUTDOWN);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(graceful_leave),
		cmocka_unit_test(leave_alone_is_spread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
