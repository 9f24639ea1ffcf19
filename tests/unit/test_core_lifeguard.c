/* SPDX-License-Identifier: MIT */
/*
 * Lifeguard in the protocol core (docs/CORE.md, "Lifeguard"):
 *
 *   - the local health multiplier: what raises it (a missed ACK, each
 *     expected NACK that did not come, refuting a suspicion of ourselves),
 *     what lowers it (an ACK in time), its bounds, and how it stretches the
 *     probe interval and timeout;
 *   - the dynamic suspicion timeout: max at first, shrinking with
 *     independent confirmations of the same incarnation, min at K of them,
 *     never below, and death at once when a confirmation comes after the
 *     shortened deadline;
 *   - the buddy system and the helper's NACK timing;
 *   - in the simulator: a slow prober accuses nobody, nodes frozen in
 *     bursts are never declared dead, and a dead node still is, within the
 *     bound the timeouts imply; a node with a bad network knows it, and
 *     accuses far less than without Lifeguard.
 *
 * One core runs on a fake clock (lib/onecore.h) or a cluster in the
 * simulator (lib/sim.h); everything is deterministic.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "lib/onecore.h"
#include "lib/sim.h"

#define SECOND 1000000000ULL
#define MS     1000000ULL

/* --- one core ------------------------------------------------------------ */

/* A core with the given peers (ids 50, 51, ...) and default timings
 * unless cfg is given.  Probing starts at once. */
static void start_peers(struct onecore *o, const struct xg_core_config *cfg,
			unsigned peers)
{
	struct xg_update_msg u;
	unsigned i;

	assert_int_equal(oc_start(o, cfg, SECOND), 0);
	for (i = 0; i < peers; i++) {
		oc_update(&u, XG_ALIVE, 50 + i, 0, 50 + i);
		assert_int_equal(oc_gossip(o, &u, 1, SECOND), 0);
	}
}

static unsigned lhm(const struct onecore *o)
{
	/* The gauge in the stats is what operators see; it must agree. */
	assert_int_equal(xg_core_stats(o->core)->lhm, o->core->lhm);
	return o->core->lhm;
}

/* The probe under way if it has not reached its indirect phase, else the
 * next one, ticking deadline by deadline until it starts.  (A failing
 * probe's end is often the next one's start, in the same tick.)  Leaves
 * *now at the time its PING went out. */
static struct xg_probe_msg next_ping(struct onecore *o, uint64_t *now)
{
	const struct xg_probe_run *p = &o->core->probe;
	struct xg_probe_msg m = { .type = XG_T_PING };
	int i;

	oc_clear(o);
	for (i = 0; i < 1000 && !(p->active && !p->indirect_sent); i++) {
		*now = xg_core_next_deadline(o->core);
		xg_core_tick(o->core, *now);
	}
	assert_true(p->active && !p->indirect_sent);
	*now = p->sent_ns;
	m.seq = p->seq;
	m.sender_id = OC_SELF_ID;
	m.target_id = p->target_id;
	m.ts_ns = p->sent_ns;
	return m;
}

static void deliver_ack(struct onecore *o, const struct xg_probe_msg *ping,
			uint64_t rx_ns)
{
	struct xg_probe_msg ack = {
		.type = XG_T_ACK,
		.seq = ping->seq,
		.sender_id = ping->target_id,
		.target_id = OC_SELF_ID,
		.ts_ns = ping->ts_ns,
	};
	struct xg_addr from;

	oc_addr(&from, (unsigned)ping->target_id);
	assert_int_equal(oc_probe(o, &ack, &from, rx_ns), 0);
}

static void deliver_nack(struct onecore *o, const struct xg_probe_msg *ping,
			 unsigned helper, uint64_t rx_ns)
{
	struct xg_probe_msg nack = {
		.type = XG_T_NACK,
		.seq = ping->seq,
		.sender_id = helper,
		.target_id = OC_SELF_ID,
		.ts_ns = ping->ts_ns,
	};
	struct xg_addr from;

	oc_addr(&from, helper);
	assert_int_equal(oc_probe(o, &nack, &from, rx_ns), 0);
}

/* Host byte of the k-th PING-REQ's destination: a helper. */
static unsigned helper_at(const struct onecore *o, size_t k)
{
	const struct oc_pkt *p = oc_find(o, XG_T_PING_REQ, k);

	assert_non_null(p);
	return p->to.ip[3];
}

/* Run one probe to its end: `acked` answers it directly; otherwise the
 * first `nacks` helpers (as many as there are) send a NACK in time. */
static struct xg_probe_msg run_probe(struct onecore *o, uint64_t *now,
				     bool acked, unsigned nacks)
{
	struct xg_probe_msg p = next_ping(o, now);
	uint64_t sent = *now;
	unsigned k;

	if (acked) {
		deliver_ack(o, &p, sent + MS);
		return p;
	}
	*now = xg_probe_deadline(o->core);
	xg_core_tick(o->core, *now);
	assert_true(o->core->probe.indirect_sent);
	for (k = 0; k < nacks && oc_find(o, XG_T_PING_REQ, k); k++)
		deliver_nack(o, &p, helper_at(o, k), *now + 10 * MS);
	*now = xg_probe_deadline(o->core);
	xg_core_tick(o->core, *now);
	assert_true(!o->core->probe.active || o->core->probe.seq != p.seq);
	return p;
}

/* An accusation of ourselves at our current incarnation, by gossip. */
static void accuse_self(struct onecore *o, uint8_t state, uint64_t now)
{
	struct xg_update_msg u;
	uint32_t inc = xg_core_self(o->core)->incarnation;

	oc_update(&u, state, OC_SELF_ID, inc, 77);
	memcpy(u.name, "self", 5);
	oc_addr(&u.addr, 1);
	assert_int_equal(oc_gossip(o, &u, 1, now), 0);
	assert_int_equal(xg_core_self(o->core)->incarnation, inc + 1);
}

static void defaults_and_limits(void **state)
{
	struct xg_core_config cfg;
	struct onecore o;

	(void)state;
	xg_core_config_defaults(&cfg);
	assert_int_equal(cfg.lhm_max, 8);
	assert_int_equal(cfg.suspicion_max_mult, 6);
	assert_int_equal(cfg.suspicion_expected_confirms, 0);

	oc_config(&cfg);
	cfg.lhm_max = XG_LHM_MAX_LIMIT;
	cfg.suspicion_max_mult = XG_SUSPICION_MAX_LIMIT;
	cfg.suspicion_expected_confirms = XG_SUSPECT_CONFIRM_MAX - 1;
	assert_int_equal(oc_start(&o, &cfg, SECOND), 0);
	assert_int_equal(lhm(&o), 0);
	oc_stop(&o);

	oc_config(&cfg);
	cfg.lhm_max = XG_LHM_MAX_LIMIT + 1;
	assert_int_equal(oc_start(&o, &cfg, SECOND), -EINVAL);
	oc_config(&cfg);
	cfg.suspicion_max_mult = 0;
	assert_int_equal(oc_start(&o, &cfg, SECOND), -EINVAL);
	cfg.suspicion_max_mult = XG_SUSPICION_MAX_LIMIT + 1;
	assert_int_equal(oc_start(&o, &cfg, SECOND), -EINVAL);
	oc_config(&cfg);
	cfg.suspicion_expected_confirms = XG_SUSPECT_CONFIRM_MAX;
	assert_int_equal(oc_start(&o, &cfg, SECOND), -EINVAL);
	/* lhm_max 0 turns local health off: valid. */
	oc_config(&cfg);
	cfg.lhm_max = 0;
	assert_int_equal(oc_start(&o, &cfg, SECOND), 0);
	oc_stop(&o);
}

/* With nobody to ask for help, a failed probe costs one: the missed ACK. */
static void missed_ack_raises_by_one(void **state)
{
	struct onecore o;
	uint64_t now = SECOND;

	(void)state;
	start_peers(&o, NULL, 1);
	run_probe(&o, &now, false, 0);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 0);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 1);
	assert_int_equal(lhm(&o), 1);
	oc_stop(&o);
}

/* Each helper that neither relayed an ACK nor sent a NACK by the end of
 * the probe is one more point: silence from working peers points at us. */
static void missing_nacks_raise(void **state)
{
	struct onecore o;
	uint64_t now = SECOND;
	unsigned want = 0, nacks, asked, sent = 0;

	(void)state;
	start_peers(&o, NULL, 3);
	/* Every member alive: two helpers, neither answers: 1 + 2. */
	run_probe(&o, &now, false, 0);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	assert_int_equal(lhm(&o), 3);
	want = 3;
	/* From here the helpers are whoever is alive; count the asked. */
	for (nacks = 1; nacks <= 2; nacks++) {
		run_probe(&o, &now, false, nacks);
		asked = (unsigned)oc_count_sent(&o, XG_T_PING_REQ);
		assert_true(asked >= 1);
		want += 1 + asked - (nacks < asked ? nacks : asked);
		sent += nacks < asked ? nacks : asked;
		assert_int_equal(lhm(&o), want);
	}
	assert_int_equal(xg_core_stats(o.core)->nacks_recv, sent);
	oc_stop(&o);
}

/* A NACK counts only if it reached us by the end of the probe, for this
 * probe, from someone other than the target. */
static void nack_rules(void **state)
{
	struct onecore o;
	struct xg_probe_msg p, stale;
	uint64_t now = SECOND, end;

	(void)state;
	start_peers(&o, NULL, 3);
	p = next_ping(&o, &now);
	xg_core_tick(o.core, xg_probe_deadline(o.core));
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	end = xg_probe_deadline(o.core);
	/* Too late (processed before the end tick, but arrived after). */
	deliver_nack(&o, &p, helper_at(&o, 0), end + 1);
	/* Another probe's. */
	stale = p;
	stale.seq = p.seq + 7;
	deliver_nack(&o, &stale, helper_at(&o, 1), end - MS);
	/* "From" the target itself. */
	deliver_nack(&o, &p, (unsigned)p.target_id, end - MS);
	assert_int_equal(o.core->probe.nacks, 0);
	xg_core_tick(o.core, end);
	assert_int_equal(lhm(&o), 3);
	oc_stop(&o);
}

/* Refuting an accusation of our current life costs one; old news, a
 * previous life's ALIVE and a second flagged PING while our ALIVE is still
 * spreading cost nothing. */
static void refutes_raise(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_probe_msg ping = {
		.type = XG_T_PING,
		.flags = XG_F_SUSPECTED,
		.seq = 9,
		.sender_id = 50,
		.target_id = OC_SELF_ID,
	};
	struct xg_addr from;
	uint64_t now = SECOND;
	int i;

	(void)state;
	start_peers(&o, NULL, 1);
	o.core->next_probe_ns = UINT64_MAX; /* only refutes move it here */
	accuse_self(&o, XG_SUSPECT, now);
	assert_int_equal(lhm(&o), 1);
	/* The same accusation again: stale (we are past it). */
	oc_update(&u, XG_SUSPECT, OC_SELF_ID, 0, 78);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	assert_int_equal(lhm(&o), 1);
	accuse_self(&o, XG_DEAD, now);
	assert_int_equal(lhm(&o), 2);
	/* Someone holds a newer life of ours: we claim one above it, but
	 * that is a restart story, not a health one. */
	oc_update(&u, XG_ALIVE, OC_SELF_ID, 10, OC_SELF_ID);
	memcpy(u.name, "self", 5);
	oc_addr(&u.addr, 1);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	assert_int_equal(xg_core_self(o.core)->incarnation, 11);
	assert_int_equal(lhm(&o), 2);
	/* The buddy system: flagged PING.  Not while our ALIVE spreads. */
	oc_addr(&from, 50);
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	assert_int_equal(lhm(&o), 2);
	for (i = 0; i < 100 && xg_dissem_len(o.core); i++)
		xg_core_tick(o.core, now += o.cfg.gossip_interval_ns);
	assert_int_equal(xg_dissem_len(o.core), 0);
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	assert_int_equal(xg_core_self(o.core)->incarnation, 12);
	assert_int_equal(lhm(&o), 3);
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	assert_int_equal(lhm(&o), 3);
	oc_stop(&o);
}

/* True if some GOSSIP recorded since the last oc_clear() went to host and
 * carried our ALIVE at inc. */
static bool refutation_sent_to(const struct onecore *o, unsigned host,
			       uint32_t inc)
{
	struct xg_addr to;
	size_t k;

	oc_addr(&to, host);
	for (k = 0; k < o->nsent; k++) {
		const struct oc_pkt *p = &o->sent[k];
		uint32_t got = 0;

		if (!xg_addr_equal(&p->to, &to) || p->data[3] != XG_T_GOSSIP)
			continue;
		if (oc_gossip_mentions(o, p, OC_SELF_ID, XG_S_ALIVE, &got) > 0 &&
		    got == inc)
			return true;
	}
	return false;
}

/* A refutation leaves with the packet that caused it, not at the next
 * gossip round: a starved agent may not get another chance in time.  It
 * goes to the accuser first, and to gossip_nodes others. */
static void refutation_is_sent_at_once(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_probe_msg ping = {
		.type = XG_T_PING,
		.flags = XG_F_SUSPECTED,
		.seq = 9,
		.sender_id = 52,
		.target_id = OC_SELF_ID,
	};
	struct xg_addr from;
	uint64_t now = SECOND;
	uint32_t inc;
	int i;

	(void)state;
	start_peers(&o, NULL, 8);
	o.core->next_probe_ns = UINT64_MAX;
	o.core->next_gossip_ns = UINT64_MAX; /* no round would run */
	for (i = 0; i < 100 && xg_dissem_len(o.core); i++)
		xg_dissem_drop(o.core, o.core->dissem.q[0]);

	/* Learned by gossip: accused by 53. */
	oc_clear(&o);
	inc = xg_core_self(o.core)->incarnation;
	oc_update(&u, XG_SUSPECT, OC_SELF_ID, inc, 53);
	memcpy(u.name, "self", 5);
	oc_addr(&u.addr, 1);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	assert_int_equal(xg_core_self(o.core)->incarnation, inc + 1);
	assert_true(refutation_sent_to(&o, 53, inc + 1));
	assert_true(oc_count_sent(&o, XG_T_GOSSIP) >=
		    1 + o.cfg.gossip_nodes);

	/* The buddy system: a flagged PING from 52. */
	for (i = 0; i < 100 && xg_dissem_len(o.core); i++)
		xg_dissem_drop(o.core, o.core->dissem.q[0]);
	oc_clear(&o);
	oc_addr(&from, 52);
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	assert_int_equal(xg_core_self(o.core)->incarnation, inc + 2);
	assert_true(refutation_sent_to(&o, 52, inc + 2));

	/* The kernel answered the flagged PING and told us (no accuser). */
	for (i = 0; i < 100 && xg_dissem_len(o.core); i++)
		xg_dissem_drop(o.core, o.core->dissem.q[0]);
	oc_clear(&o);
	xg_core_suspected_notice(o.core, now);
	assert_int_equal(xg_core_self(o.core)->incarnation, inc + 3);
	assert_int_equal(oc_count_sent(&o, XG_T_GOSSIP), o.cfg.gossip_nodes);
	/* Not again while our ALIVE is still spreading. */
	oc_clear(&o);
	xg_core_suspected_notice(o.core, now);
	assert_int_equal(xg_core_self(o.core)->incarnation, inc + 3);
	assert_int_equal(oc_count_sent(&o, XG_T_GOSSIP), 0);
	oc_stop(&o);
}

/* Every ACK in time takes one off, down to zero and no further. */
static void acks_lower_to_zero(void **state)
{
	struct onecore o;
	uint64_t now = SECOND;
	unsigned i;

	(void)state;
	start_peers(&o, NULL, 3);
	accuse_self(&o, XG_SUSPECT, now);
	accuse_self(&o, XG_SUSPECT, now);
	assert_int_equal(lhm(&o), 2);
	run_probe(&o, &now, true, 0);
	assert_int_equal(lhm(&o), 1);
	run_probe(&o, &now, true, 0);
	assert_int_equal(lhm(&o), 0);
	for (i = 0; i < 3; i++) {
		run_probe(&o, &now, true, 0);
		assert_int_equal(lhm(&o), 0);
	}
	/* A relayed ACK is as good. */
	accuse_self(&o, XG_SUSPECT, now);
	assert_int_equal(lhm(&o), 1);
	{
		struct xg_probe_msg p = next_ping(&o, &now);

		xg_core_tick(o.core, xg_probe_deadline(o.core));
		deliver_ack(&o, &p, xg_probe_deadline(o.core) - MS);
	}
	assert_int_equal(lhm(&o), 0);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 0);
	oc_stop(&o);
}

static void capped_at_max(void **state)
{
	struct xg_core_config cfg;
	struct onecore o;
	uint64_t now = SECOND;
	int i;

	(void)state;
	oc_config(&cfg);
	cfg.lhm_max = 3;
	start_peers(&o, &cfg, 3);
	run_probe(&o, &now, false, 0);
	assert_int_equal(lhm(&o), 3);
	run_probe(&o, &now, false, 0);
	assert_int_equal(lhm(&o), 3);
	for (i = 0; i < 3; i++)
		accuse_self(&o, XG_SUSPECT, now);
	assert_int_equal(lhm(&o), 3);
	run_probe(&o, &now, true, 0);
	assert_int_equal(lhm(&o), 2);
	oc_stop(&o);

	/* lhm_max 0: local health is off, nothing moves it. */
	oc_config(&cfg);
	cfg.lhm_max = 0;
	start_peers(&o, &cfg, 3);
	now = SECOND;
	run_probe(&o, &now, false, 0);
	accuse_self(&o, XG_SUSPECT, now);
	assert_int_equal(lhm(&o), 0);
	oc_stop(&o);
}

/* With local health h, a probe's direct phase lasts (h+1) * timeout, the
 * whole probe (h+1) * interval, and the next one starts (h+1) * interval
 * after it: the LHM in force when each probe starts. */
static void scales_probe_timing(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	uint64_t now = SECOND, sent, pi, pt;

	(void)state;
	start_peers(&o, NULL, 3);
	pi = o.cfg.probe_interval_ns;
	pt = o.cfg.probe_timeout_ns;
	accuse_self(&o, XG_SUSPECT, now);
	accuse_self(&o, XG_SUSPECT, now);
	assert_int_equal(lhm(&o), 2);

	/* A failing probe: every phase three times as long. */
	p = next_ping(&o, &now);
	sent = now;
	assert_int_equal(xg_probe_deadline(o.core), sent + 3 * pt);
	xg_core_tick(o.core, sent + 3 * pt - 1);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 0);
	xg_core_tick(o.core, sent + 3 * pt);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	assert_int_equal(xg_probe_deadline(o.core), sent + 3 * pi);
	/* A relayed ACK late in the stretched window still counts. */
	deliver_ack(&o, &p, sent + 3 * pi - MS);
	assert_int_equal(lhm(&o), 1);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 0);
	/* The next probe waits for the interval of the probe before. */
	p = next_ping(&o, &now);
	assert_int_equal(now, sent + 3 * pi);
	sent = now;
	deliver_ack(&o, &p, sent + MS);
	assert_int_equal(lhm(&o), 0);
	p = next_ping(&o, &now);
	assert_int_equal(now, sent + 2 * pi);
	sent = now;
	assert_int_equal(xg_probe_deadline(o.core), sent + pt);
	deliver_ack(&o, &p, sent + MS);
	p = next_ping(&o, &now);
	assert_int_equal(now, sent + pi);
	(void)p;
	oc_stop(&o);
}

/* A late tick moves the end of the indirect phase out by the scaled
 * window, so helpers get the time the stretched probe promised. */
static void scales_late_indirect_window(void **state)
{
	struct onecore o;
	uint64_t now = SECOND, late;

	(void)state;
	start_peers(&o, NULL, 3);
	accuse_self(&o, XG_SUSPECT, now);
	assert_int_equal(lhm(&o), 1);
	next_ping(&o, &now);
	late = now + 10 * SECOND;
	xg_core_tick(o.core, late);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	assert_int_equal(xg_probe_deadline(o.core),
			 late + 2 * (o.cfg.probe_interval_ns -
				     o.cfg.probe_timeout_ns));
	oc_stop(&o);
}

/* A helper NACKs early enough for the NACK to reach the requester before
 * its indirect phase ends: at most 4/5 of (interval - timeout). */
static void helper_nacks_in_window(void **state)
{
	struct xg_ping_req_msg req = {
		.cluster_id = OC_CLUSTER,
		.seq = 5,
		.sender_id = 60,
		.target_id = 61,
		.ts_ns = 1,
	};
	struct xg_core_config cfg;
	uint8_t buf[sizeof(struct xg_ping_req)];
	struct xg_addr from;
	struct onecore o;
	uint64_t now = 2 * SECOND;
	ssize_t len;

	(void)state;
	oc_addr(&req.target, 61);
	oc_addr(&from, 60);
	/* Default 1 s / 500 ms: the window is 500 ms, NACK after 400. */
	start_peers(&o, NULL, 0);
	len = xg_ping_req_encode(&req, o.cfg.probe_key, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, (size_t)len,
					   now), 0);
	assert_int_equal(xg_indirect_deadline(o.core), now + 400 * MS);
	xg_core_tick(o.core, now + 400 * MS - 1);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 0);
	xg_core_tick(o.core, now + 400 * MS);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 1);
	oc_stop(&o);

	/* A short timeout is waited in full. */
	oc_config(&cfg);
	cfg.probe_timeout_ns = 200 * MS;
	start_peers(&o, &cfg, 0);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, (size_t)len,
					   now), 0);
	assert_int_equal(xg_indirect_deadline(o.core), now + 200 * MS);
	oc_stop(&o);
}

/* Buddy system, helper side: a helper that suspects the target flags its
 * own PING too, so the target refutes whoever probes it. */
static void helper_pings_flag_suspects(void **state)
{
	struct xg_ping_req_msg req = {
		.cluster_id = OC_CLUSTER,
		.seq = 5,
		.sender_id = 50,
		.target_id = 51,
		.ts_ns = 1,
	};
	uint8_t buf[sizeof(struct xg_ping_req)];
	struct xg_update_msg u;
	struct xg_probe_msg ping;
	struct xg_addr from;
	struct onecore o;
	ssize_t len;

	(void)state;
	start_peers(&o, NULL, 2);
	o.core->next_probe_ns = UINT64_MAX;
	oc_update(&u, XG_SUSPECT, 51, 0, 99);
	assert_int_equal(oc_gossip(&o, &u, 1, 2 * SECOND), 0);
	oc_clear(&o);
	oc_addr(&req.target, 51);
	oc_addr(&from, 50);
	len = xg_ping_req_encode(&req, o.cfg.probe_key, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, (size_t)len,
					   2 * SECOND), 0);
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_PING, 0), &ping),
			 0);
	assert_int_equal(ping.target_id, 51);
	assert_int_equal(ping.flags, XG_F_SUSPECTED);
	oc_stop(&o);
}

/* --- dynamic suspicion timeout ------------------------------------------- */

/* A core with `peers` alive peers (100...) that does not probe, so only
 * the updates a test feeds in move suspicions. */
static void start_quiet(struct onecore *o, unsigned peers, unsigned k)
{
	struct xg_core_config cfg;
	struct xg_update_msg u;
	unsigned i;

	oc_config(&cfg);
	cfg.probe_interval_ns = 2 * SECOND;
	cfg.probe_timeout_ns = SECOND;
	cfg.suspicion_expected_confirms = k;
	assert_int_equal(oc_start(o, &cfg, SECOND), 0);
	o->core->next_probe_ns = UINT64_MAX;
	for (i = 0; i < peers; i++) {
		oc_update(&u, XG_ALIVE, 100 + i, 0, 100 + i);
		assert_int_equal(oc_gossip(o, &u, 1, SECOND), 0);
	}
}

static void suspect_from(struct onecore *o, uint64_t id, uint32_t inc,
			 uint64_t from, uint64_t now)
{
	struct xg_update_msg u;

	oc_update(&u, XG_SUSPECT, id, inc, from);
	assert_int_equal(oc_gossip(o, &u, 1, now), 0);
}

static enum xg_state state_of(struct onecore *o, uint64_t id)
{
	struct xg_member_info mi;

	assert_int_equal(xg_core_member_find(o->core, id, &mi), 0);
	return mi.state;
}

static uint64_t deadline_of(struct onecore *o, uint64_t id)
{
	struct xg_member *m = xg_members_find(&o->core->members, id);

	assert_non_null(m);
	assert_int_equal(m->info.state, XG_SUSPECT);
	return m->susp.deadline_ns;
}

/* The formula, independently: max - (max - min) * log(C+1) / log(K+1). */
static uint64_t want_timeout(uint64_t min, uint64_t max, unsigned c,
			     unsigned k)
{
	double t;

	if (c >= k)
		return min;
	t = (double)max - (double)(max - min) * log(c + 1.0) / log(k + 1.0);
	return t < (double)min ? min : (uint64_t)t;
}

/* Rounding of the log term may differ by a nanosecond; a microsecond is
 * still far below anything a timer could notice. */
static void assert_near(uint64_t got, uint64_t want)
{
	uint64_t d = got > want ? got - want : want - got;

	if (d > 1000)
		fail_msg("%llu is not within 1 us of %llu",
			 (unsigned long long)got, (unsigned long long)want);
}

/* n = 10 (9 peers and self): min = 4 x 1 x 2 s = 8 s, max = 48 s, K = 2.
 * One accusation waits the maximum; each new confirmer shrinks it, and K
 * of them bring it to the minimum, where more change nothing. */
static void starts_at_max_shrinks_to_min(void **state)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND, min = 8 * SECOND, max = 48 * SECOND;
	uint64_t d1;

	(void)state;
	start_quiet(&o, 9, 0);
	suspect_from(&o, 100, 0, 200, t0);
	assert_int_equal(xg_suspicion_deadline(o.core), t0 + max);
	assert_int_equal(deadline_of(&o, 100), t0 + max);
	/* Repeats of the accuser, and the suspect "confirming" itself,
	 * are not independent. */
	suspect_from(&o, 100, 0, 200, t0 + SECOND);
	suspect_from(&o, 100, 0, 100, t0 + SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + max);
	/* C = 1 of K = 2: max - (max - min) * log 2 / log 3. */
	suspect_from(&o, 100, 0, 201, t0 + 2 * SECOND);
	d1 = deadline_of(&o, 100);
	assert_near(d1, t0 + want_timeout(min, max, 1, 2));
	assert_true(d1 < t0 + max && d1 > t0 + min);
	/* The same confirmer twice is one confirmation. */
	suspect_from(&o, 100, 0, 201, t0 + 3 * SECOND);
	assert_int_equal(deadline_of(&o, 100), d1);
	/* C = K: the minimum, counted from the start of the suspicion. */
	suspect_from(&o, 100, 0, 202, t0 + 3 * SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + min);
	/* Never below it. */
	suspect_from(&o, 100, 0, 203, t0 + 4 * SECOND);
	suspect_from(&o, 100, 0, 204, t0 + 4 * SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + min);
	assert_int_equal(xg_suspicion_confirmations(
				 &xg_members_find(&o.core->members, 100)->susp),
			 4);
	xg_core_tick(o.core, t0 + min - 1);
	assert_int_equal(state_of(&o, 100), XG_SUSPECT);
	xg_core_tick(o.core, t0 + min);
	assert_int_equal(state_of(&o, 100), XG_DEAD);
	assert_int_equal(oc_count_events(&o, XG_EV_FAIL, 100), 1);
	oc_stop(&o);
}

/* A member that said it is starved (XG_UF_STARVED with its incarnation)
 * is suspected with the maximum timeout, whatever the confirmations; the
 * flag goes with the incarnation that carried it. */
static void starved_member_gets_the_maximum(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	uint64_t t0 = 10 * SECOND, min = 8 * SECOND, max = 48 * SECOND;

	(void)state;
	start_quiet(&o, 9, 0);
	oc_update(&u, XG_ALIVE, 100, 1, 100);
	u.flags = XG_UF_STARVED;
	assert_int_equal(oc_gossip(&o, &u, 1, SECOND), 0);
	suspect_from(&o, 100, 1, 200, t0);
	suspect_from(&o, 100, 1, 201, t0 + SECOND);
	suspect_from(&o, 100, 1, 202, t0 + SECOND);
	suspect_from(&o, 100, 1, 203, t0 + SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + max);
	xg_core_tick(o.core, t0 + max - 1);
	assert_int_equal(state_of(&o, 100), XG_SUSPECT);
	/* Slow is not immortal: the maximum still ends it. */
	xg_core_tick(o.core, t0 + max);
	assert_int_equal(state_of(&o, 100), XG_DEAD);

	/* Its refutation without the flag: back to the normal curve. */
	oc_update(&u, XG_ALIVE, 100, 3, 100);
	assert_int_equal(oc_gossip(&o, &u, 1, t0 + max + SECOND), 0);
	suspect_from(&o, 100, 3, 200, t0 + 60 * SECOND);
	suspect_from(&o, 100, 3, 201, t0 + 60 * SECOND);
	suspect_from(&o, 100, 3, 202, t0 + 60 * SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + 60 * SECOND + min);

	/* A suspicion of a newer incarnation than we know brings that
	 * incarnation's flag along. */
	t0 += 61 * SECOND;
	oc_update(&u, XG_SUSPECT, 101, 5, 200);
	u.flags = XG_UF_STARVED;
	assert_int_equal(oc_gossip(&o, &u, 1, t0), 0);
	suspect_from(&o, 101, 5, 201, t0);
	suspect_from(&o, 101, 5, 202, t0);
	assert_int_equal(deadline_of(&o, 101), t0 + max);
	oc_stop(&o);
}

/* Setting and clearing our own flag each take a new incarnation, spread
 * as an ALIVE that carries the flag; setting it twice changes nothing. */
static void own_starved_flag_spreads(void **state)
{
	struct onecore o;
	struct xg_member_info me;
	struct xg_update_msg u;
	uint32_t inc0;
	size_t before;

	(void)state;
	start_quiet(&o, 3, 0);
	assert_int_equal(xg_core_member_find(o.core, OC_SELF_ID, &me), 0);
	inc0 = me.incarnation;
	assert_int_equal(me.flags, 0);
	assert_int_equal(xg_core_set_starved(o.core, true, 2 * SECOND), 0);
	assert_int_equal(xg_core_member_find(o.core, OC_SELF_ID, &me), 0);
	assert_int_equal(me.incarnation, inc0 + 1);
	assert_int_equal(me.flags, XG_UF_STARVED);
	assert_int_equal(xg_core_set_starved(o.core, true, 2 * SECOND), 0);
	assert_int_equal(xg_core_member_find(o.core, OC_SELF_ID, &me), 0);
	assert_int_equal(me.incarnation, inc0 + 1);
	/* The next gossip round carries it, flag and all. */
	before = oc_count_sent(&o, XG_T_GOSSIP);
	xg_core_tick(o.core, 3 * SECOND);
	assert_true(oc_count_sent(&o, XG_T_GOSSIP) > before);
	xg_member_to_update(o.core->self, OC_SELF_ID, true, &u);
	assert_int_equal(u.flags, XG_UF_STARVED);
	assert_int_equal(oc_gossip_mentions(&o, oc_find(&o, XG_T_GOSSIP, before),
					    OC_SELF_ID, XG_ALIVE, NULL), 1);
	assert_int_equal(xg_core_set_starved(o.core, false, 4 * SECOND), 0);
	assert_int_equal(xg_core_member_find(o.core, OC_SELF_ID, &me), 0);
	assert_int_equal(me.incarnation, inc0 + 2);
	assert_int_equal(me.flags, 0);
	assert_int_equal(xg_core_leave(o.core, 5 * SECOND), 0);
	assert_int_equal(xg_core_set_starved(o.core, true, 6 * SECOND),
			 -ESHUTDOWN);
	oc_stop(&o);
}

/* A configured K: every step of the curve, then the minimum at K. */
static void configured_k_curve(void **state)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND, min = 8 * SECOND, max = 48 * SECOND;
	uint64_t prev = t0 + max, d;
	unsigned c;

	(void)state;
	start_quiet(&o, 9, 5);
	suspect_from(&o, 100, 0, 200, t0);
	assert_int_equal(deadline_of(&o, 100), t0 + max);
	for (c = 1; c <= 5; c++) {
		suspect_from(&o, 100, 0, 200 + c, t0 + c * MS);
		d = deadline_of(&o, 100);
		assert_near(d, t0 + want_timeout(min, max, c, 5));
		assert_true(d < prev);
		prev = d;
	}
	assert_int_equal(prev, t0 + min);
	oc_stop(&o);
}

/* Confirmations count only about the incarnation under suspicion: older
 * ones are stale, a newer one is a new suspicion that starts from max. */
static void same_incarnation_only(void **state)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND, max = 48 * SECOND;

	(void)state;
	start_quiet(&o, 9, 0);
	suspect_from(&o, 100, 1, 200, t0);
	suspect_from(&o, 100, 0, 201, t0 + SECOND);
	suspect_from(&o, 100, 0, 202, t0 + SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + max);
	suspect_from(&o, 100, 1, 201, t0 + SECOND);
	assert_true(deadline_of(&o, 100) < t0 + max);
	suspect_from(&o, 100, 2, 203, t0 + 2 * SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + 2 * SECOND + max);
	assert_int_equal(xg_suspicion_confirmations(
				 &xg_members_find(&o.core->members, 100)->susp),
			 0);
	oc_stop(&o);
}

/* The shortened deadline is counted from the suspicion's start; when a
 * confirmation arrives after it, the member is dead at once, without
 * waiting for a tick, and the DEAD is what gets gossiped. */
static void late_confirmation_kills_at_once(void **state)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND, min = 8 * SECOND;
	const struct oc_pkt *g;

	(void)state;
	start_quiet(&o, 9, 0);
	suspect_from(&o, 100, 0, 200, t0);
	suspect_from(&o, 100, 0, 201, t0 + SECOND);
	xg_core_tick(o.core, t0 + min + 2 * SECOND);
	assert_int_equal(state_of(&o, 100), XG_SUSPECT);
	suspect_from(&o, 100, 0, 202, t0 + min + 3 * SECOND);
	assert_int_equal(state_of(&o, 100), XG_DEAD);
	assert_int_equal(oc_count_events(&o, XG_EV_FAIL, 100), 1);
	assert_int_equal(xg_suspicion_deadline(o.core), UINT64_MAX);
	oc_clear(&o);
	xg_core_tick(o.core, xg_core_next_deadline(o.core));
	g = oc_find(&o, XG_T_GOSSIP, 0);
	assert_non_null(g);
	assert_int_equal(oc_gossip_mentions(&o, g, 100, XG_DEAD, NULL), 1);
	oc_stop(&o);
}

/* K is capped by who could confirm at all (n - 2): three members give one
 * possible confirmer, two give none and the minimum applies at once. */
static void small_clusters_cap_k(void **state)
{
	struct onecore o;
	uint64_t t0 = 10 * SECOND, min = 8 * SECOND;

	(void)state;
	start_quiet(&o, 1, 0);
	suspect_from(&o, 100, 0, 200, t0);
	assert_int_equal(deadline_of(&o, 100), t0 + min);
	oc_stop(&o);

	start_quiet(&o, 2, 0);
	suspect_from(&o, 100, 0, 101, t0);
	assert_int_equal(deadline_of(&o, 100), t0 + 6 * min);
	/* Our own failed probe confirms like anyone's. */
	suspect_from(&o, 100, 0, OC_SELF_ID, t0 + SECOND);
	assert_int_equal(deadline_of(&o, 100), t0 + min);
	oc_stop(&o);
}

/* Our own failed probe of a member someone else accused is a
 * confirmation, and it is spread with us as its source. */
static void own_probe_confirms(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	struct xg_member *m;
	uint64_t now = SECOND;
	uint64_t id;

	(void)state;
	start_peers(&o, NULL, 8);
	/* Accuse whoever is probed first, then let that probe fail. */
	p = next_ping(&o, &now);
	id = p.target_id;
	suspect_from(&o, id, 0, 99, now + MS);
	m = xg_members_find(&o.core->members, id);
	assert_int_equal(xg_suspicion_confirmations(&m->susp), 0);
	xg_core_tick(o.core, xg_probe_deadline(o.core));
	xg_core_tick(o.core, xg_probe_deadline(o.core));
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 1);
	assert_int_equal(xg_suspicion_confirmations(&m->susp), 1);
	assert_int_equal(m->susp.confirm[1], OC_SELF_ID);
	assert_int_equal(m->bcast->from_id, OC_SELF_ID);
	oc_stop(&o);
}

/* --- the simulator ------------------------------------------------------- */

#define N 8

static bool converged(struct sim *s, void *ctx)
{
	(void)ctx;
	return sim_converged(s);
}

static struct sim *cluster(uint64_t seed, const struct xg_core_config *base)
{
	struct sim_opts o = { .nodes = N, .seed = seed, .base = base,
			      .jitter_ns = SIM_MS(1), .auto_pushpull = true };
	struct sim *s = sim_new(&o);

	assert_non_null(s);
	assert_int_equal(sim_join_range(s, 1, N - 1, 0, SIM_MS(20)), 0);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       SIM_S(40)));
	sim_clear_events(s);
	return s;
}

static void sim_config_base(struct xg_core_config *cfg, uint64_t interval)
{
	xg_core_config_defaults(cfg);
	memset(cfg->probe_key, 0x5a, sizeof(cfg->probe_key));
	memset(cfg->gossip_key, 0xa5, sizeof(cfg->gossip_key));
	cfg->probe_interval_ns = interval;
	cfg->probe_timeout_ns = interval / 2;
}

/* A prober whose every tick and every read comes up to 600 ms late (but
 * whose datagrams carry their true arrival times) accuses nobody over
 * five minutes.  It probes every 250 ms, so its ACKs are often read only
 * after the probe would have ended: judged by when it read them, it would
 * suspect someone several times a minute.  Its peers probe every second
 * and its late answers (at most 600 ms) still reach them in time. */
static void slow_prober_suspects_nobody(void **state)
{
	struct xg_core_config base;
	struct sim *s;
	unsigned slow = 2, i;
	uint64_t late_probes = 0;

	(void)state;
	sim_config_base(&base, SECOND);
	s = cluster(21, &base);
	/* Restart the slow node with a quick probe.  Same id, higher
	 * incarnation, as a restart with its state dir. */
	sim_stop(s, slow);
	sim_config(s, slow)->probe_interval_ns = 250 * MS;
	sim_config(s, slow)->probe_timeout_ns = 125 * MS;
	sim_config(s, slow)->incarnation = 5;
	assert_int_equal(sim_start(s, slow), 0);
	assert_int_equal(sim_pushpull(s, slow, 0), 0);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       sim_now(s) + SIM_S(40)));
	sim_clear_events(s);
	sim_lag(s, slow, 600 * MS);
	sim_run_for(s, SIM_S(300));
	for (i = 0; i < N; i++) {
		assert_int_equal(sim_count(s, i, XG_EV_SUSPECT, 0), 0);
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 0);
	}
	assert_int_equal(xg_core_stats(sim_core(s, slow))->suspicions_raised, 0);
	assert_int_equal(xg_core_stats(sim_core(s, slow))->probes_failed, 0);
	/* It did probe (late, so about twice a second rather than four
	 * times), and its peers never lost patience with it either. */
	late_probes = xg_core_stats(sim_core(s, slow))->pings_sent;
	assert_true(late_probes > 300);
	for (i = 0; i < N; i++)
		assert_int_equal(xg_core_stats(sim_core(s, i))->probes_failed,
				 0);
	sim_lag(s, slow, 0);
	assert_true(sim_converged(s));
	sim_free(s);
}

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

static bool all_healthy(struct sim *s, void *ctx)
{
	unsigned i;

	(void)ctx;
	for (i = 0; i < N; i++)
		if (sim_core(s, i) && xg_core_stats(sim_core(s, i))->lhm)
			return false;
	return sim_converged(s);
}

/* Two of eight nodes freeze for a second at a time (run one to two
 * seconds, freeze again) for a minute, probes every 500 ms: they are
 * suspected again and again, but always refute in time, and nobody is
 * declared dead.  Then a healthy node dies for real and is declared dead
 * everywhere within the bound the timeouts give (docs/CORE.md):
 *
 *   (2(N-1) + 1) * PI     until someone's probe of it has failed (two
 *                         passes of the randomized round robin, LHM 0)
 *   + max suspicion       the accuser's timeout with no confirmation
 *   + 10 gossip rounds    for its DEAD to reach everyone
 *
 * and, confirmations coming in, well before that: within min + a few
 * probe intervals of the first suspicion. */
static void frozen_bursts_then_dead(void **state)
{
	struct xg_core_config base;
	struct sim *s;
	const unsigned frozen[2] = { 1, 6 };
	uint64_t run_until[2], end, t0, pi, min, max, bound, sus, fail;
	unsigned victim = 4, i, k, refutes = 0, suspects = 0;
	bool is_frozen[2] = { false, false };

	(void)state;
	sim_config_base(&base, 500 * MS);
	s = cluster(22, &base);
	pi = base.probe_interval_ns;
	min = base.suspicion_mult * pi; /* n = 8 < 10: no log term */
	max = base.suspicion_max_mult * min;

	/* Each frozen node runs its own cycle; they overlap at times. */
	for (k = 0; k < 2; k++)
		run_until[k] = sim_now(s) + SIM_MS(300) + k * SIM_MS(700);
	end = sim_now(s) + SIM_S(60);
	while (sim_now(s) < end) {
		uint64_t next = end;

		for (k = 0; k < 2; k++) {
			if (sim_now(s) >= run_until[k]) {
				is_frozen[k] = !is_frozen[k];
				sim_freeze(s, frozen[k], is_frozen[k]);
				/* Frozen 1 s; then running 1 to 2 s. */
				run_until[k] = sim_now(s) +
					(is_frozen[k] ? SIM_S(1)
						      : SIM_MS(1000 + 250 *
							 ((sim_now(s) / MS +
							   k) % 5)));
			}
			if (run_until[k] < next)
				next = run_until[k];
		}
		sim_run_until(s, next);
	}
	for (k = 0; k < 2; k++)
		sim_freeze(s, frozen[k], false);
	for (i = 0; i < N; i++) {
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 0);
		suspects += (unsigned)sim_count(s, i, XG_EV_SUSPECT, 0);
	}
	for (k = 0; k < 2; k++)
		refutes += (unsigned)xg_core_stats(sim_core(s, frozen[k]))->refutes;
	/* The bursts did what they were for. */
	assert_true(suspects > 10);
	assert_true(refutes > 5);

	/* Health back to normal before the real death, so the bound
	 * above (LHM 0) applies. */
	assert_true(sim_run_until_true(s, all_healthy, NULL, SIM_MS(100),
				       sim_now(s) + SIM_S(60)));
	sim_clear_events(s);
	bound = (2 * (N - 1) + 1) * pi + max + 10 * base.gossip_interval_ns;
	t0 = sim_now(s);
	sim_stop(s, victim);
	assert_true(sim_run_until_true(s, all_see_dead, &victim, SIM_MS(10),
				       t0 + bound));
	sus = UINT64_MAX;
	for (i = 0; i < N; i++) {
		uint64_t t;

		if (i == victim)
			continue;
		t = first_event(s, i, XG_EV_SUSPECT, sim_id(s, victim));
		if (t && t < sus)
			sus = t;
	}
	assert_true(sus != UINT64_MAX && sus > t0);
	for (i = 0; i < N; i++) {
		if (i == victim)
			continue;
		fail = first_event(s, i, XG_EV_FAIL, sim_id(s, victim));
		assert_true(fail > t0 && fail - t0 <= bound);
		/* Not before the minimum; and the confirmations did cut the
		 * wait well short of the maximum. */
		assert_true(fail - sus >= min);
		assert_true(fail - sus <= min + 4 * pi +
					10 * base.gossip_interval_ns);
		assert_int_equal(sim_count(s, i, XG_EV_FAIL, 0), 1);
	}
	sim_free(s);
}

/* Two minutes of a sick node (every one of its links loses 40 % of
 * datagrams) in an otherwise healthy cluster of eight; returns the
 * suspicions the sick node raised and its peak local health, and the
 * peak of anyone else's. */
static unsigned sick_run(const struct xg_core_config *base, unsigned *peak,
			 unsigned *peak_healthy)
{
	struct sim *s = cluster(23, base);
	const unsigned sick = 0;
	uint64_t end = sim_now(s) + SIM_S(120);
	unsigned i, j, raised;

	*peak = *peak_healthy = 0;
	for (j = 1; j < N; j++)
		sim_link_loss(s, sick, j, 40);
	while (sim_now(s) < end) {
		sim_run_for(s, SIM_MS(500));
		for (i = 0; i < N; i++) {
			unsigned h = (unsigned)xg_core_stats(sim_core(s, i))->lhm;
			unsigned *p = i == sick ? peak : peak_healthy;

			if (h > *p)
				*p = h;
		}
	}
	raised = (unsigned)xg_core_stats(sim_core(s, sick))->suspicions_raised;
	/* Whatever it got wrong heals once its network does. */
	for (j = 1; j < N; j++)
		sim_link_loss(s, sick, j, 0);
	assert_true(sim_run_until_true(s, converged, NULL, SIM_MS(100),
				       sim_now(s) + SIM_S(40)));
	sim_free(s);
	return raised;
}

/* A node with a bad network fails many of its probes.  Without Lifeguard
 * it accuses healthy members over and over (about 20 suspicions in these
 * two minutes), and now and then one of them is declared dead before the
 * refutation reaches it (7.5 % of runs, measured).  With Lifeguard its
 * local health climbs, it probes less often, and its lone accusations
 * wait the maximum: a handful of suspicions, and false deaths in under
 * 0.2 % of runs (docs/CORE.md).  The fault is the sick node's and its
 * LHM, not the healthy members', is what shows it. */
static void sick_node_knows_it(void **state)
{
	struct xg_core_config base;
	unsigned peak, peak_healthy, with, without;

	(void)state;
	sim_config_base(&base, SECOND);
	with = sick_run(&base, &peak, &peak_healthy);
	assert_true(with > 0);
	assert_true(peak >= 3);
	assert_true(peak > peak_healthy);
	base.lhm_max = 0;
	base.suspicion_max_mult = 1;
	without = sick_run(&base, &peak, &peak_healthy);
	assert_int_equal(peak, 0);
	assert_true(without > with);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults_and_limits),
		cmocka_unit_test(missed_ack_raises_by_one),
		cmocka_unit_test(missing_nacks_raise),
		cmocka_unit_test(nack_rules),
		cmocka_unit_test(refutes_raise),
		cmocka_unit_test(refutation_is_sent_at_once),
		cmocka_unit_test(acks_lower_to_zero),
		cmocka_unit_test(capped_at_max),
		cmocka_unit_test(scales_probe_timing),
		cmocka_unit_test(scales_late_indirect_window),
		cmocka_unit_test(helper_nacks_in_window),
		cmocka_unit_test(helper_pings_flag_suspects),
		cmocka_unit_test(starts_at_max_shrinks_to_min),
		cmocka_unit_test(starved_member_gets_the_maximum),
		cmocka_unit_test(own_starved_flag_spreads),
		cmocka_unit_test(configured_k_curve),
		cmocka_unit_test(same_incarnation_only),
		cmocka_unit_test(late_confirmation_kills_at_once),
		cmocka_unit_test(small_clusters_cap_k),
		cmocka_unit_test(own_probe_confirms),
		cmocka_unit_test(slow_prober_suspects_nobody),
		cmocka_unit_test(frozen_bursts_then_dead),
		cmocka_unit_test(sick_node_knows_it),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
