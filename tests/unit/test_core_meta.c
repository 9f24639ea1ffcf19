/* SPDX-License-Identifier: MIT */
/*
 * A member's identity over time: metadata updates reach everyone (UPDATE
 * events), a restart with a higher incarnation is taken as the same
 * member alive again, and a restart under a new id but the same name
 * replaces the dead entry instead of lingering beside it.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/sim.h"

#define N 6

static bool converged(struct sim *s, void *ctx)
{
	(void)ctx;
	return sim_converged(s);
}

static struct sim *cluster(uint64_t seed)
{
	struct sim_opts o = { .nodes = N, .seed = seed, .auto_pushpull = true,
			      .jitter_ns = SIM_MS(1) };
	struct sim *s = sim_new(&o);

	assert_non_null(s);
	assert_int_equal(sim_join_range(s, 1, N - 1, 0, SIM_MS(30)), 0);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       SIM_S(40)));
	sim_run_for(s, SIM_S(2));
	sim_clear_events(s);
	return s;
}

static void metadata_update_propagates(void **state)
{
	struct sim *s = cluster(41);
	struct xg_core *c = sim_core(s, 2);
	uint64_t id = sim_id(s, 2);
	uint32_t inc = xg_core_self(c)->incarnation;
	struct xg_member_info mi;
	unsigned i;

	(void)state;
	assert_int_equal(xg_core_set_meta(c, "role=db,zone=a", 14, sim_now(s)),
			 0);
	assert_int_equal(xg_core_self(c)->incarnation, inc + 1);
	assert_int_equal(xg_core_config(c)->meta_len, 14);
	/* Gossip, or push/pull for whoever gossip missed. */
	sim_run_for(s, SIM_S(31));
	for (i = 0; i < N; i++) {
		if (i == 2)
			continue;
		assert_int_equal(sim_count(s, i, XG_EV_UPDATE, id), 1);
		assert_int_equal(sim_member(s, i, id, &mi), 0);
		assert_int_equal(mi.state, XG_ALIVE);
		assert_int_equal(mi.incarnation, inc + 1);
		assert_int_equal(mi.meta_len, 14);
		assert_memory_equal(mi.meta, "role=db,zone=a", 14);
	}
	assert_int_equal(xg_core_set_meta(c, NULL, 1, sim_now(s)), -EINVAL);
	assert_int_equal(xg_core_set_meta(c, "x", XG_META_MAX + 1, sim_now(s)),
			 -EINVAL);
	/* Clearing the metadata is an update too. */
	assert_int_equal(xg_core_set_meta(c, NULL, 0, sim_now(s)), 0);
	sim_run_for(s, SIM_S(31));
	for (i = 0; i < N; i++) {
		if (i == 2)
			continue;
		assert_int_equal(sim_count(s, i, XG_EV_UPDATE, id), 2);
		assert_int_equal(sim_member(s, i, id, &mi), 0);
		assert_int_equal(mi.meta_len, 0);
	}
	sim_free(s);
}

static bool all_see_dead(struct sim *s, void *ctx)
{
	unsigned v = *(unsigned *)ctx;

	return sim_all_see(s, sim_id(s, v), XG_DEAD, v);
}

static bool all_see_self_inc(struct sim *s, void *ctx)
{
	unsigned v = *(unsigned *)ctx;
	const struct xg_member_info *self = xg_core_self(sim_core(s, v));
	struct xg_member_info mi;
	unsigned i;

	for (i = 0; i < N; i++)
		if (sim_member(s, i, self->id, &mi) || mi.state != XG_ALIVE ||
		    mi.incarnation != self->incarnation)
			return false;
	return true;
}

/* Crashed, declared dead, restarted with its incarnation + 1 (as the
 * agent does from its state dir), joined again through one node. */
static void restart_after_death(void **state)
{
	struct sim *s = cluster(42);
	unsigned v = 4, i;
	uint64_t id = sim_id(s, v);
	uint32_t inc = xg_core_self(sim_core(s, v))->incarnation;

	(void)state;
	sim_stop(s, v);
	assert_true(sim_run_until_true(s, all_see_dead, &v, SIM_MS(50),
				       sim_now(s) + SIM_S(30)));
	sim_config(s, v)->incarnation = inc + 1;
	assert_int_equal(sim_start(s, v), 0);
	assert_int_equal(sim_pushpull(s, v, 0), 0);
	assert_true(sim_run_until_true(s, all_see_self_inc, &v, SIM_MS(50),
				       sim_now(s) + SIM_S(31)));
	assert_true(xg_core_self(sim_core(s, v))->incarnation >= inc + 1);
	assert_true(sim_converged(s));
	for (i = 0; i < N; i++) {
		if (i == v)
			continue;
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, id), 1);
		assert_int_equal(sim_count(s, i, XG_EV_ALIVE, id), 1);
	}
	sim_free(s);
}

/* Restarted before anyone noticed: the higher incarnation simply wins,
 * nobody reports a failure. */
static void quick_restart(void **state)
{
	struct sim *s = cluster(43);
	unsigned v = 3, i;
	uint64_t id = sim_id(s, v);
	uint32_t inc = xg_core_self(sim_core(s, v))->incarnation;

	(void)state;
	sim_stop(s, v);
	sim_run_for(s, SIM_MS(100));
	sim_config(s, v)->incarnation = inc + 1;
	assert_int_equal(sim_start(s, v), 0);
	assert_int_equal(sim_pushpull(s, v, 1), 0);
	assert_true(sim_run_until_true(s, all_see_self_inc, &v, SIM_MS(50),
				       sim_now(s) + SIM_S(31)));
	assert_int_equal(xg_core_self(sim_core(s, v))->incarnation, inc + 1);
	sim_run_for(s, SIM_S(10));
	assert_true(all_see_self_inc(s, &v));
	for (i = 0; i < N; i++)
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, id), 0);
	sim_free(s);
}

/* Restarted without its state dir: new id, same name.  The new member
 * replaces the dead one everywhere. */
static void name_reuse_replaces_dead_entry(void **state)
{
	struct sim *s = cluster(44);
	unsigned v = 5, i;
	uint64_t old_id = sim_id(s, v), new_id = 9000;
	struct xg_member_info mi;

	(void)state;
	sim_stop(s, v);
	assert_true(sim_run_until_true(s, all_see_dead, &v, SIM_MS(50),
				       sim_now(s) + SIM_S(30)));
	sim_config(s, v)->self_id = new_id;
	assert_int_equal(sim_start(s, v), 0);
	assert_int_equal(sim_pushpull(s, v, 0), 0);
	sim_run_for(s, SIM_S(10));
	for (i = 0; i < N; i++) {
		if (i == v)
			continue;
		assert_int_equal(sim_member(s, i, old_id, NULL), -ENOENT);
		assert_int_equal(sim_member(s, i, new_id, &mi), 0);
		assert_int_equal(mi.state, XG_ALIVE);
		assert_string_equal(mi.name, "node-5");
		assert_int_equal(xg_core_member_count(sim_core(s, i)), N);
		assert_int_equal(sim_count(s, i, XG_EV_JOIN, new_id), 1);
	}
	/* The newcomer never even hears of its predecessor. */
	assert_int_equal(sim_member(s, v, old_id, NULL), -ENOENT);
	assert_int_equal(xg_core_member_count(sim_core(s, v)), N);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(metadata_update_propagates),
		cmocka_unit_test(restart_after_death),
		cmocka_unit_test(quick_restart),
		cmocka_unit_test(name_reuse_replaces_dead_entry),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
