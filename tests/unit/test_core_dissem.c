/* SPDX-License-Identifier: MIT */
/*
 * The dissemination queue: the retransmit bound mult * ceil(log10(n+1))
 * seen on the wire, one entry per member with newer news replacing older,
 * least-transmitted first, packets never above XG_UDP_MAX.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "lib/onecore.h"
#include "lib/sim.h"

#define SECOND 1000000000ULL
#define N      12

/* --- on the wire, in a cluster ------------------------------------------- */

struct counter {
	uint64_t about;     /* member whose update we count */
	uint32_t inc;       /* ... at this incarnation */
	uint8_t  key[16];
	unsigned sent[N];   /* per sending node */
	size_t   max_len;
};

static void count_tap(void *ctx, unsigned from, const struct xg_addr *to,
		      const void *buf, size_t len)
{
	struct counter *k = ctx;
	struct xg_batch_reader r;
	struct xg_update_msg u;
	uint8_t type;

	(void)to;
	if (len > k->max_len)
		k->max_len = len;
	if (xg_peek_header(buf, len, &type, NULL) || type != XG_T_GOSSIP)
		return;
	assert_int_equal(xg_batch_open(&r, buf, len, k->key, NULL), 0);
	while (xg_batch_next(&r, &u) == 1)
		if (u.node_id == k->about && u.incarnation == k->inc)
			k->sent[from]++;
}

static bool converged(struct sim *s, void *ctx)
{
	(void)ctx;
	return sim_converged(s);
}

static void retransmit_bound_on_the_wire(void **state)
{
	struct sim_opts o = { .nodes = N, .seed = 31, .auto_pushpull = true };
	struct sim *s = sim_new(&o);
	struct counter k;
	struct xg_core *c;
	unsigned limit, i, total = 0;

	(void)state;
	assert_non_null(s);
	assert_int_equal(sim_join_range(s, 1, N - 1, 0, SIM_MS(50)), 0);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       SIM_S(40)));
	sim_run_for(s, SIM_S(5));
	c = sim_core(s, 4);
	memset(&k, 0, sizeof(k));
	k.about = sim_id(s, 4);
	k.inc = xg_core_self(c)->incarnation + 1;
	memcpy(k.key, xg_core_config(c)->gossip_key, 16);
	sim_set_tap(s, count_tap, &k);

	assert_int_equal(xg_core_set_meta(c, "role=db", 7, sim_now(s)), 0);
	/* Long enough for push/pull to reach whoever gossip missed; that
	 * must not add transmissions (push/pull is not gossip). */
	sim_run_for(s, SIM_S(31));

	/* ceil(log10(12 + 1)) = 2 */
	limit = xg_dissem_limit(c);
	assert_int_equal(limit, xg_core_config(c)->retransmit_mult * 2);
	for (i = 0; i < N; i++) {
		print_message("node %u sent it %u times\n", i, k.sent[i]);
		assert_true(k.sent[i] <= limit);
		total += k.sent[i];
	}
	/* The origin has plenty of destinations: it uses its whole budget.
	 * Others forward it too, so the cluster as a whole sends more. */
	assert_int_equal(k.sent[4], limit);
	assert_true(total > limit);
	assert_true(k.max_len <= XG_UDP_MAX);
	for (i = 0; i < N; i++) {
		struct xg_member_info mi;

		if (i == 4)
			continue;
		assert_int_equal(sim_member(s, i, k.about, &mi), 0);
		assert_int_equal(mi.incarnation, k.inc);
		assert_int_equal(mi.meta_len, 7);
		assert_int_equal(sim_count(s, i, XG_EV_UPDATE, k.about), 1);
		assert_int_equal(xg_dissem_len(sim_core(s, i)), 0);
	}
	sim_free(s);
}

/* --- one core -------------------------------------------------------------- */

static void start(struct onecore *o)
{
	struct xg_core_config cfg;

	oc_config(&cfg);
	cfg.probe_interval_ns = 3600 * SECOND;
	cfg.probe_timeout_ns = 1800 * SECOND;
	assert_int_equal(oc_start(o, &cfg, SECOND), 0);
}

static void gossip_one(struct onecore *o, uint8_t state, uint64_t id,
		       uint32_t inc, uint64_t now)
{
	struct xg_update_msg u;

	oc_update(&u, state, id, inc, state == XG_ALIVE ? id : 99);
	assert_int_equal(oc_gossip(o, &u, 1, now), 0);
}

static uint64_t drain(struct onecore *o, uint64_t now)
{
	int i;

	for (i = 0; i < 200 && xg_dissem_len(o->core); i++) {
		now += o->cfg.gossip_interval_ns;
		xg_core_tick(o->core, now);
	}
	assert_int_equal(xg_dissem_len(o->core), 0);
	return now;
}

static void limit_formula(void **state)
{
	struct onecore o;
	uint64_t id;
	unsigned mult;

	(void)state;
	start(&o);
	mult = o.cfg.retransmit_mult;
	/* n counts every member, self included: ceil(log10(n + 1)). */
	assert_int_equal(xg_dissem_limit(o.core), mult * 1);     /* n = 1 */
	for (id = 100; id < 108; id++)
		gossip_one(&o, XG_ALIVE, id, 0, SECOND);
	assert_int_equal(xg_dissem_limit(o.core), mult * 1);     /* n = 9 */
	gossip_one(&o, XG_ALIVE, 108, 0, SECOND);
	assert_int_equal(xg_dissem_limit(o.core), mult * 2);     /* n = 10 */
	for (id = 109; id < 198; id++)
		gossip_one(&o, XG_ALIVE, id, 0, SECOND);
	assert_int_equal(xg_core_member_count(o.core), 99);
	assert_int_equal(xg_dissem_limit(o.core), mult * 2);     /* n = 99 */
	gossip_one(&o, XG_ALIVE, 198, 0, SECOND);
	assert_int_equal(xg_dissem_limit(o.core), mult * 3);     /* n = 100 */
	oc_stop(&o);
}

static void newer_replaces_older(void **state)
{
	struct onecore o;
	uint64_t now;
	size_t i, alive = 0, suspect = 0, dead = 0;
	int t;

	(void)state;
	start(&o);
	gossip_one(&o, XG_ALIVE, 50, 1, SECOND);
	gossip_one(&o, XG_ALIVE, 51, 1, SECOND);
	now = drain(&o, SECOND);

	gossip_one(&o, XG_ALIVE, 60, 1, now);
	assert_int_equal(xg_dissem_len(o.core), 1);
	gossip_one(&o, XG_SUSPECT, 60, 1, now);
	assert_int_equal(xg_dissem_len(o.core), 1);
	assert_int_equal(xg_dissem_transmits(o.core, 60), 0);

	oc_clear(&o);
	xg_core_tick(o.core, now + o.cfg.gossip_interval_ns);
	assert_true(oc_count_sent(&o, XG_T_GOSSIP) > 0);
	for (i = 0; i < o.nsent; i++) {
		alive += (size_t)oc_gossip_mentions(&o, &o.sent[i], 60,
						    XG_ALIVE, NULL);
		suspect += (size_t)oc_gossip_mentions(&o, &o.sent[i], 60,
						      XG_SUSPECT, NULL);
	}
	assert_int_equal(alive, 0);
	assert_int_equal(suspect, oc_count_sent(&o, XG_T_GOSSIP));
	t = xg_dissem_transmits(o.core, 60);
	assert_int_equal(t, (int)suspect);

	/* Newer news restarts the count: it has been sent nowhere yet. */
	gossip_one(&o, XG_DEAD, 60, 1, now);
	assert_int_equal(xg_dissem_len(o.core), 1);
	assert_int_equal(xg_dissem_transmits(o.core, 60), 0);
	oc_clear(&o);
	xg_core_tick(o.core, now + 2 * o.cfg.gossip_interval_ns);
	for (i = 0; i < o.nsent; i++) {
		dead += (size_t)oc_gossip_mentions(&o, &o.sent[i], 60, XG_DEAD,
						   NULL);
		assert_int_equal(oc_gossip_mentions(&o, &o.sent[i], 60,
						    XG_SUSPECT, NULL), 0);
	}
	assert_true(dead > 0);
	oc_stop(&o);
}

/* With more news than fits a datagram, packets are filled to the limit,
 * never over it, and the least-sent entries go first, so every entry gets
 * out before any goes a second time. */
static void full_packets_least_sent_first(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	uint64_t now, id;
	size_t i, pkts = 0;
	int rounds;

	(void)state;
	start(&o);
	gossip_one(&o, XG_ALIVE, 50, 1, SECOND);
	now = drain(&o, SECOND);
	for (id = 100; id < 140; id++) {
		oc_update(&u, XG_ALIVE, id, 1, id);
		memset(u.meta, 'm', 300);
		u.meta_len = 300;
		assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	}
	assert_int_equal(xg_dissem_len(o.core), 40);
	/* Node 50 is never told about itself, but the 40 newcomers are
	 * gossip targets too; run rounds until each entry went once. */
	for (rounds = 0; rounds < 50; rounds++) {
		bool all_once = true;

		oc_clear(&o);
		now += o.cfg.gossip_interval_ns;
		xg_core_tick(o.core, now);
		for (i = 0; i < o.nsent; i++) {
			assert_true(o.sent[i].len <= XG_UDP_MAX);
			/* 4 updates of 48 + 8 + 300 bytes fit, 5 do not. */
			assert_true(o.sent[i].len > XG_UDP_MAX - 400);
			pkts++;
		}
		for (id = 100; id < 140; id++) {
			int t = xg_dissem_transmits(o.core, id);

			/* Nobody is at 2 while anybody is still at 0. */
			if (t == 0)
				all_once = false;
		}
		if (all_once)
			break;
		for (id = 100; id < 140; id++)
			assert_true(xg_dissem_transmits(o.core, id) <= 1);
	}
	assert_true(rounds < 50);
	assert_true(pkts >= 10);
	oc_stop(&o);
}

/* A member that is the only one we could tell about itself: the entry
 * retires instead of keeping the gossip timer alive forever. */
static void lone_entry_retires(void **state)
{
	struct onecore o;
	uint64_t now = SECOND;
	int i;

	(void)state;
	start(&o);
	gossip_one(&o, XG_ALIVE, 50, 1, now);
	assert_int_equal(xg_dissem_len(o.core), 2); /* self and 50 */
	for (i = 0; i < 100 && xg_dissem_len(o.core); i++) {
		now += o.cfg.gossip_interval_ns;
		xg_core_tick(o.core, now);
	}
	assert_int_equal(xg_dissem_len(o.core), 0);
	/* Nothing about 50 was ever sent to 50. */
	for (i = 0; i < (int)o.nsent; i++)
		assert_int_equal(oc_gossip_mentions(&o, &o.sent[i], 50, 0,
						    NULL), 0);
	/* Idle now: the next deadline is the push/pull timer (30 s), not
	 * a gossip round. */
	assert_true(xg_core_next_deadline(o.core) > now + 10 * SECOND);
	oc_stop(&o);
}

/* Dead members still get gossip for gossip_to_dead_ns (they may be
 * alive and need to refute); members that left never do. */
static void gossip_targets(void **state)
{
	struct onecore o;
	uint64_t now = SECOND, t_dead;
	size_t i, to_dead = 0, to_left = 0, to_suspect = 0, late_dead = 0;
	uint32_t inc = 1;

	(void)state;
	start(&o);
	gossip_one(&o, XG_ALIVE, 50, 1, now);
	gossip_one(&o, XG_ALIVE, 51, 1, now);
	gossip_one(&o, XG_ALIVE, 52, 1, now);
	gossip_one(&o, XG_DEAD, 51, 1, now);
	gossip_one(&o, XG_LEFT, 52, 2, now);
	t_dead = now;
	/* News every round (a fresh suspicion of 50), so every round has
	 * something to send; candidates: 50 (suspect), 51 (dead). */
	while (now < t_dead + o.cfg.gossip_to_dead_ns + 5 * SECOND) {
		gossip_one(&o, XG_SUSPECT, 50, ++inc, now);
		oc_clear(&o);
		now += o.cfg.gossip_interval_ns;
		xg_core_tick(o.core, now);
		for (i = 0; i < o.nsent; i++) {
			switch (o.sent[i].to.ip[3]) {
			case 50:
				to_suspect++;
				break;
			case 51:
				if (now - t_dead > o.cfg.gossip_to_dead_ns)
					late_dead++;
				else
					to_dead++;
				break;
			case 52:
				to_left++;
				break;
			}
		}
	}
	assert_true(to_suspect > 100);
	assert_true(to_dead > 100);
	assert_int_equal(late_dead, 0);
	assert_int_equal(to_left, 0);
	oc_stop(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(retransmit_bound_on_the_wire),
		cmocka_unit_test(limit_formula),
		cmocka_unit_test(newer_replaces_older),
		cmocka_unit_test(full_packets_least_sent_first),
		cmocka_unit_test(lone_entry_retires),
		cmocka_unit_test(gossip_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
