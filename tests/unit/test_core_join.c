/* SPDX-License-Identifier: MIT */
/*
 * Joining: many nodes through one seed, and two separate clusters merged
 * by a single push/pull.  Both rely only on STATE merges plus gossip; no
 * node is told about another except through the protocol.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "lib/sim.h"

static bool converged(struct sim *s, void *ctx)
{
	(void)ctx;
	return sim_converged(s);
}

static void no_failure_events(struct sim *s)
{
	unsigned i;

	for (i = 0; i < sim_nodes(s); i++) {
		assert_int_equal(sim_count(s, i, XG_EV_SUSPECT, 0), 0);
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 0);
	}
}

static void join_32_through_one_seed(void **state)
{
	struct sim_opts o = { .nodes = 32, .seed = 1, .jitter_ns = SIM_MS(2),
			      .auto_pushpull = true };
	struct sim *s = sim_new(&o);
	struct xg_member_info mi;
	unsigned i, j;

	(void)state;
	assert_non_null(s);
	assert_false(sim_converged(s));
	assert_int_equal(sim_join_range(s, 1, 31, 0, SIM_MS(50)), 0);
	/* Gossip carries the later joiners to the earlier ones; periodic
	 * push/pull (every 30 s) repairs what gossip missed, so one
	 * interval bounds convergence.  docs/CORE.md explains why gossip
	 * alone is not enough. */
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       sim_now(s) + SIM_S(31)));
	for (i = 0; i < 32; i++) {
		struct xg_core *c = sim_core(s, i);

		assert_int_equal(xg_core_member_count(c), 32);
		assert_int_equal(xg_core_count_state(c, XG_ALIVE), 32);
		/* A JOIN for every other node, exactly once. */
		for (j = 0; j < 32; j++) {
			if (j == i)
				continue;
			assert_int_equal(sim_count(s, i, XG_EV_JOIN,
						   sim_id(s, j)), 1);
			assert_int_equal(sim_member(s, i, sim_id(s, j), &mi), 0);
			assert_string_equal(mi.name,
					    xg_core_self(sim_core(s, j))->name);
		}
	}
	/* And it stays that way: a lossless network makes no suspects. */
	sim_run_for(s, SIM_S(20));
	assert_true(sim_converged(s));
	no_failure_events(s);
	sim_free(s);
}

static void pushpull_merges_two_clusters(void **state)
{
	struct sim_opts o = { .nodes = 10, .seed = 7, .auto_pushpull = true };
	struct sim *s = sim_new(&o);
	uint64_t pp;
	unsigned i;

	(void)state;
	assert_non_null(s);
	/* Cluster A = 0..4, cluster B = 5..9. */
	assert_int_equal(sim_join_range(s, 1, 4, 0, SIM_MS(10)), 0);
	assert_int_equal(sim_join_range(s, 6, 9, 5, SIM_MS(10)), 0);
	sim_run_for(s, SIM_S(5));
	for (i = 0; i < 10; i++)
		assert_int_equal(xg_core_member_count(sim_core(s, i)), 5);
	assert_int_equal(sim_member(s, 0, sim_id(s, 5), NULL), -ENOENT);

	pp = xg_core_stats(sim_core(s, 2))->pushpulls;
	assert_int_equal(sim_pushpull(s, 2, 7), 0);
	assert_int_equal(xg_core_member_count(sim_core(s, 2)), 10);
	assert_int_equal(xg_core_member_count(sim_core(s, 7)), 10);
	assert_int_equal(xg_core_stats(sim_core(s, 2))->pushpulls, pp + 1);
	/* Gossip spreads the merge; push/pull (30 s) catches stragglers. */
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       sim_now(s) + SIM_S(31)));
	for (i = 0; i < 10; i++)
		assert_int_equal(sim_count(s, i, XG_EV_JOIN, 0), 9);
	no_failure_events(s);
	sim_free(s);
}

/* With auto push/pull on, members that missed every gossip about a
 * joiner still learn of it through anti-entropy. */
static void periodic_pushpull_repairs(void **state)
{
	struct xg_core_config base;
	struct sim_opts o = { .nodes = 4, .seed = 3, .auto_pushpull = true,
			      .base = &base };
	struct sim *s;
	unsigned i;

	(void)state;
	xg_core_config_defaults(&base);
	base.pushpull_interval_ns = SIM_S(5);
	s = sim_new(&o);
	assert_non_null(s);
	assert_int_equal(sim_join_range(s, 1, 2, 0, SIM_MS(10)), 0);
	sim_run_for(s, SIM_S(3));
	/* Node 3 joins through node 0 while neither can reach 1 and 2:
	 * both spend every retransmission of the join in vain. */
	for (i = 1; i <= 2; i++) {
		sim_link(s, 0, i, false);
		sim_link(s, 3, i, false);
	}
	assert_int_equal(sim_pushpull(s, 3, 0), 0);
	sim_run_for(s, SIM_MS(1500));
	assert_int_equal(xg_dissem_transmits(sim_core(s, 0), sim_id(s, 3)),
			 -ENOENT);
	assert_int_equal(xg_dissem_transmits(sim_core(s, 3), sim_id(s, 3)),
			 -ENOENT);
	for (i = 1; i <= 2; i++) {
		sim_link(s, 0, i, true);
		sim_link(s, 3, i, true);
	}
	assert_int_equal(sim_member(s, 1, sim_id(s, 3), NULL), -ENOENT);
	assert_int_equal(sim_member(s, 2, sim_id(s, 3), NULL), -ENOENT);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       sim_now(s) + SIM_S(20)));
	assert_true(xg_core_stats(sim_core(s, 1))->pushpulls > 0);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(join_32_through_one_seed),
		cmocka_unit_test(pushpull_merges_two_clusters),
		cmocka_unit_test(periodic_pushpull_repairs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
