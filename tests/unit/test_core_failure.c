/* SPDX-License-Identifier: MIT */
/*
 * Failure detection end to end in the simulator: a silent node is
 * suspected and then declared dead everywhere within the bound its
 * parameters imply; a node behind one broken link stays alive thanks to
 * indirect probes; a node that was only paused refutes its suspicion.
 */
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

static struct sim *cluster(uint64_t seed)
{
	struct sim_opts o = { .nodes = N, .seed = seed,
			      .jitter_ns = SIM_MS(1), .auto_pushpull = true };
	struct sim *s = sim_new(&o);

	assert_non_null(s);
	assert_int_equal(sim_join_range(s, 1, N - 1, 0, SIM_MS(20)), 0);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       SIM_S(40)));
	sim_clear_events(s);
	return s;
}

/* Time of the first event of this type about id at node i, or 0. */
static uint64_t first_event(const struct sim *s, unsigned i,
			    enum xg_event_type type, uint64_t id)
{
	size_t k;

	for (k = 0; k < sim_event_count(s, i); k++) {
		const struct sim_event *e = sim_event_at(s, i, k);

		if (e->type == type && e->id == id)
			return e->t;
	}
	return 0;
}

static bool all_see_dead(struct sim *s, void *ctx)
{
	unsigned victim = *(unsigned *)ctx;

	return sim_all_see(s, sim_id(s, victim), XG_DEAD, victim);
}

static void dead_node_detected_within_bound(void **state)
{
	struct sim *s = cluster(11);
	const struct xg_core_config *cfg = xg_core_config(sim_core(s, 0));
	unsigned victim = 5, i;
	uint64_t t0, bound, sus, fail, failed;

	(void)state;
	/* Randomized round-robin: every prober reaches the victim within
	 * two passes over the N-1 others, plus the probe's own interval.
	 * Then the suspicion timeout at its Lifeguard maximum (n < 10:
	 * max_mult x mult x 1 interval; confirmations shorten it) and a
	 * dissemination allowance of ten gossip rounds. */
	bound = (2 * (N - 1) + 1) * cfg->probe_interval_ns +
		cfg->suspicion_max_mult * cfg->suspicion_mult *
			cfg->probe_interval_ns +
		10 * cfg->gossip_interval_ns;
	t0 = sim_now(s);
	sim_isolate(s, victim, true);
	assert_true(sim_run_until_true(s, all_see_dead, &victim, SIM_MS(10),
				       t0 + bound));
	for (i = 0; i < N; i++) {
		if (i == victim)
			continue;
		sus = first_event(s, i, XG_EV_SUSPECT, sim_id(s, victim));
		fail = first_event(s, i, XG_EV_FAIL, sim_id(s, victim));
		assert_true(sus > t0);
		assert_true(fail > sus);
		assert_true(fail - t0 <= bound);
		/* Never declared before the suspicion window could pass. */
		assert_true(fail - t0 >= cfg->suspicion_mult *
						 cfg->probe_interval_ns);
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, sim_id(s, victim)),
				 1);
		/* Nobody else was accused. */
		assert_int_equal(sim_count(s, i, XG_EV_SUSPECT, 0), 1);
	}
	for (i = 0, failed = 0; i < N; i++)
		if (i != victim)
			failed += xg_core_stats(sim_core(s, i))->probes_failed;
	assert_true(failed > 0);
	sim_free(s);
}

static void indirect_probe_keeps_node_alive(void **state)
{
	struct sim *s = cluster(12);
	const struct xg_core_stats *a, *b;
	unsigned i;

	(void)state;
	sim_link(s, 0, 4, false);
	sim_run_for(s, SIM_S(60));
	for (i = 0; i < N; i++) {
		assert_int_equal(sim_count(s, i, XG_EV_SUSPECT, 0), 0);
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 0);
	}
	assert_true(sim_converged(s));
	/* It did take the indirect path, both ways, and it worked. */
	a = xg_core_stats(sim_core(s, 0));
	b = xg_core_stats(sim_core(s, 4));
	assert_true(a->ping_reqs_sent > 0);
	assert_true(b->ping_reqs_sent > 0);
	assert_int_equal(a->probes_failed, 0);
	assert_int_equal(b->probes_failed, 0);
	sim_free(s);
}

/* A lossy network (10 % on every link, 40 % on one) makes probes fail
 * now and then: suspicions are expected, but indirect probes and
 * refutation must keep every live member from being declared dead.
 * (Heavier uniform loss is Lifeguard's job: local health and dynamic
 * suspicion timeouts.) */
static void lossy_network_no_false_deaths(void **state)
{
	struct sim *s = cluster(14);
	unsigned i, j;

	(void)state;
	for (i = 0; i < N; i++)
		for (j = i + 1; j < N; j++)
			sim_link_loss(s, i, j, 10);
	sim_link_loss(s, 2, 6, 40);
	sim_run_for(s, SIM_S(120));
	for (i = 0; i < N; i++) {
		struct xg_core *c = sim_core(s, i);

		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 0);
		assert_int_equal(xg_core_member_count(c), N);
		assert_int_equal(xg_core_count_state(c, XG_DEAD), 0);
		assert_int_equal(xg_core_count_state(c, XG_LEFT), 0);
	}
	/* The scenario did put suspicion and refutation to work. */
	for (i = 0, j = 0; i < N; i++)
		j += (unsigned)xg_core_stats(sim_core(s, i))->probes_failed;
	assert_true(j > 0);
	for (i = 0, j = 0; i < N; i++)
		j += (unsigned)xg_core_stats(sim_core(s, i))->refutes;
	assert_true(j > 0);
	sim_free(s);
}

static bool someone_suspects(struct sim *s, void *ctx)
{
	unsigned victim = *(unsigned *)ctx;
	struct xg_member_info mi;
	unsigned i;

	for (i = 0; i < N; i++)
		if (i != victim && sim_member(s, i, sim_id(s, victim), &mi) == 0 &&
		    mi.state == XG_SUSPECT)
			return true;
	return false;
}

static bool all_see_refuted(struct sim *s, void *ctx)
{
	unsigned victim = *(unsigned *)ctx;
	uint32_t inc = xg_core_self(sim_core(s, victim))->incarnation;
	struct xg_member_info mi;
	unsigned i;

	for (i = 0; i < N; i++) {
		if (sim_member(s, i, sim_id(s, victim), &mi) ||
		    mi.state != XG_ALIVE || mi.incarnation != inc)
			return false;
	}
	return true;
}

static bool all_see_alive(struct sim *s, void *ctx)
{
	unsigned victim = *(unsigned *)ctx;

	return sim_all_see(s, sim_id(s, victim), XG_ALIVE, UINT32_MAX);
}

static void false_suspicion_is_refuted(void **state)
{
	struct sim *s = cluster(13);
	unsigned victim = 3, i, suspected = 0;
	uint32_t inc0 = xg_core_self(sim_core(s, victim))->incarnation;
	uint64_t id = sim_id(s, victim);

	(void)state;
	/* A paused process: it neither answers nor ticks, its socket
	 * buffer fills up. */
	sim_freeze(s, victim, true);
	assert_true(sim_run_until_true(s, someone_suspects, &victim,
				       SIM_MS(10), sim_now(s) + SIM_S(30)));
	sim_freeze(s, victim, false);
	/* Every suspecter must hear the refutation before its own timer
	 * runs out (4 s here): gossip, the buddy flag on PINGs, re-gossip
	 * of stale news and push/pull on an ACK from a suspect all race
	 * for it.  Members that never suspected it may keep the old
	 * incarnation until the next push/pull (30 s): harmless. */
	assert_true(sim_run_until_true(s, all_see_alive, &victim, SIM_MS(10),
				       sim_now(s) + SIM_S(4)));
	assert_true(sim_run_until_true(s, all_see_refuted, &victim, SIM_MS(10),
				       sim_now(s) + SIM_S(31)));
	sim_run_for(s, SIM_S(5));
	assert_true(all_see_refuted(s, &victim));

	assert_true(xg_core_self(sim_core(s, victim))->incarnation > inc0);
	assert_true(sim_count(s, victim, XG_EV_REFUTE, id) >= 1);
	assert_true(xg_core_stats(sim_core(s, victim))->refutes >= 1);
	for (i = 0; i < N; i++) {
		if (i == victim)
			continue;
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 0);
		/* Everyone who suspected it saw it come back. */
		assert_int_equal(sim_count(s, i, XG_EV_ALIVE, id),
				 sim_count(s, i, XG_EV_SUSPECT, id));
		suspected += (unsigned)sim_count(s, i, XG_EV_SUSPECT, id);
	}
	assert_true(suspected >= 1);
	/* The paused node's own probes were judged by arrival time: the
	 * ACKs waiting in its buffer saved its peers from suspicion. */
	assert_int_equal(sim_count(s, victim, XG_EV_SUSPECT, 0), 0);
	sim_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dead_node_detected_within_bound),
		cmocka_unit_test(indirect_probe_keeps_node_alive),
		cmocka_unit_test(lossy_network_no_false_deaths),
		cmocka_unit_test(false_suspicion_is_refuted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
