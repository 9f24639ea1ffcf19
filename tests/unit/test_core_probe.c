/* SPDX-License-Identifier: MIT */
/*
 * The failure detector on one core, packet by packet: the probe phases,
 * ACKs judged by their receive time, the indirect path and the helper's
 * side of it, the buddy flag, the probe order, and silence after a leave.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "lib/onecore.h"

#define SECOND 1000000000ULL
#define MS     1000000ULL

static void start_with(struct onecore *o, uint64_t probe_interval)
{
	struct xg_core_config cfg;

	oc_config(&cfg);
	if (probe_interval) {
		cfg.probe_interval_ns = probe_interval;
		cfg.probe_timeout_ns = probe_interval / 2;
	}
	assert_int_equal(oc_start(o, &cfg, SECOND), 0);
}

static void add_peer(struct onecore *o, uint64_t id, uint64_t now)
{
	struct xg_update_msg u;

	oc_update(&u, XG_ALIVE, id, 0, id);
	assert_int_equal(oc_gossip(o, &u, 1, now), 0);
}

/* Tick deadline by deadline until the core sends a PING; returns it. */
static struct xg_probe_msg next_ping(struct onecore *o, uint64_t *now)
{
	struct xg_probe_msg m;
	int i;

	oc_clear(o);
	for (i = 0; i < 1000; i++) {
		*now = xg_core_next_deadline(o->core);
		xg_core_tick(o->core, *now);
		if (oc_find(o, XG_T_PING, 0))
			break;
	}
	assert_non_null(oc_find(o, XG_T_PING, 0));
	assert_int_equal(oc_decode_probe(o, oc_find(o, XG_T_PING, 0), &m), 0);
	assert_int_equal(m.sender_id, OC_SELF_ID);
	assert_int_equal(m.ts_ns, *now);
	return m;
}

static int deliver_ack(struct onecore *o, const struct xg_probe_msg *ping,
		       uint32_t seq, uint8_t flags, unsigned from_host,
		       uint64_t rx_ns)
{
	struct xg_probe_msg ack = {
		.type = XG_T_ACK,
		.flags = flags,
		.seq = seq,
		.sender_id = ping->target_id,
		.target_id = OC_SELF_ID,
		.ts_ns = ping->ts_ns,
	};
	struct xg_addr from;

	oc_addr(&from, from_host);
	return oc_probe(o, &ack, &from, rx_ns);
}

static enum xg_state state_of(struct onecore *o, uint64_t id)
{
	struct xg_member_info mi;

	assert_int_equal(xg_core_member_find(o->core, id, &mi), 0);
	return mi.state;
}

static void three_peers(struct onecore *o)
{
	start_with(o, 0);
	add_peer(o, 50, SECOND);
	add_peer(o, 51, SECOND);
	add_peer(o, 52, SECOND);
}

static void ack_in_time_direct(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	uint64_t now = SECOND;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	assert_int_equal(p.flags, 0);
	assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50, now + 2 * MS), 0);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns + MS);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 0);
	xg_core_tick(o.core, now + o.cfg.probe_interval_ns);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 0);
	assert_int_equal(xg_core_stats(o.core)->acks_recv, 1);
	oc_stop(&o);
}

/* The ACK reached the host inside the timeout but the agent read it only
 * after the timeout had fired: it still counts. */
static void late_processed_ack_counts(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	struct xg_ping_req_msg req;
	const struct oc_pkt *pk;
	uint64_t now = SECOND;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns + 5 * MS);
	/* Indirect phase began: the two other members were asked. */
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	pk = oc_find(&o, XG_T_PING_REQ, 0);
	assert_int_equal(xg_ping_req_decode(pk->data, pk->len, o.cfg.probe_key,
					    NULL, &req), 0);
	assert_int_equal(req.target_id, p.target_id);
	assert_int_equal(req.seq, p.seq);
	assert_int_equal(req.sender_id, OC_SELF_ID);
	assert_int_equal(req.ts_ns, p.ts_ns);
	assert_int_equal(req.target.ip[3], (uint8_t)p.target_id);
	assert_int_not_equal(pk->to.ip[3], (uint8_t)p.target_id);

	assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50,
				     now + o.cfg.probe_timeout_ns - MS), 0);
	xg_core_tick(o.core, now + o.cfg.probe_interval_ns);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 0);
	assert_int_equal(oc_count_events(&o, XG_EV_SUSPECT, 0), 0);
	oc_stop(&o);
}

/* An ACK that reached the host after the probe's end is too late, even if
 * it is processed before the end tick. */
static void ack_after_end_fails(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	uint64_t now = SECOND, end;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	end = now + o.cfg.probe_interval_ns;
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50, end + 1), 0);
	xg_core_tick(o.core, end);
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 1);
	assert_int_equal(xg_core_stats(o.core)->suspicions_raised, 1);
	assert_int_equal(oc_count_events(&o, XG_EV_SUSPECT, p.target_id), 1);
	/* ... and the suspicion goes out in the next gossip round. */
	oc_clear(&o);
	xg_core_tick(o.core, xg_core_next_deadline(o.core));
	assert_true(oc_count_sent(&o, XG_T_GOSSIP) > 0);
	assert_int_equal(oc_gossip_mentions(&o, oc_find(&o, XG_T_GOSSIP, 0),
					    p.target_id, XG_SUSPECT, NULL), 1);
	oc_stop(&o);
}

static void wrong_ack_ignored(void **state)
{
	struct onecore o;
	struct xg_probe_msg p, other;
	uint64_t now = SECOND;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	/* Wrong sequence number, then right seq but from another member. */
	assert_int_equal(deliver_ack(&o, &p, p.seq + 1, 0, 50, now + MS), 0);
	other = p;
	other.target_id = p.target_id == 50 ? 51 : 50;
	assert_int_equal(deliver_ack(&o, &other, p.seq, 0, 50, now + MS), 0);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	xg_core_tick(o.core, now + o.cfg.probe_interval_ns);
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	oc_stop(&o);
}

static void indirect_ack_and_nack(void **state)
{
	struct onecore o;
	struct xg_probe_msg p, nack = { .type = XG_T_NACK };
	struct xg_addr helper;
	uint64_t now = SECOND;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	/* One helper could not reach the target ... */
	nack.seq = p.seq;
	nack.sender_id = oc_find(&o, XG_T_PING_REQ, 0)->to.ip[3];
	nack.target_id = OC_SELF_ID;
	nack.ts_ns = p.ts_ns;
	oc_addr(&helper, (unsigned)nack.sender_id);
	assert_int_equal(oc_probe(&o, &nack, &helper, now + 700 * MS), 0);
	assert_int_equal(xg_core_stats(o.core)->nacks_recv, 1);
	assert_int_equal(o.core->probe.nacks, 1);
	/* ... another relayed the target's ACK. */
	assert_int_equal(deliver_ack(&o, &p, p.seq, XG_F_INDIRECT, 52,
				     now + 800 * MS), 0);
	xg_core_tick(o.core, now + o.cfg.probe_interval_ns);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 0);
	oc_stop(&o);
}

/* An agent that wakes up long after the direct phase still gives the
 * helpers their full window before it suspects anyone. */
static void late_tick_keeps_indirect_window(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	uint64_t now = SECOND, late;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	late = now + 5 * SECOND;
	xg_core_tick(o.core, late);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	assert_int_equal(xg_probe_deadline(o.core),
			 late + o.cfg.probe_interval_ns - o.cfg.probe_timeout_ns);
	assert_int_equal(deliver_ack(&o, &p, p.seq, XG_F_INDIRECT, 52,
				     late + 100 * MS), 0);
	xg_core_tick(o.core, late + SECOND);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	oc_stop(&o);
}

/* A probe speaks for the incarnation it probed.  The member refuted (or
 * restarted) while the probe ran: its failure accuses nobody. */
static void probe_of_old_incarnation_accuses_nobody(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	struct xg_update_msg u;
	struct xg_member_info mi;
	uint64_t now = SECOND;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	oc_update(&u, XG_ALIVE, p.target_id, 1, p.target_id);
	assert_int_equal(oc_gossip(&o, &u, 1, now + 100 * MS), 0);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	xg_core_tick(o.core, now + o.cfg.probe_interval_ns);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 1);
	assert_int_equal(xg_core_member_find(o.core, p.target_id, &mi), 0);
	assert_int_equal(mi.state, XG_ALIVE);
	assert_int_equal(mi.incarnation, 1);
	assert_int_equal(oc_count_events(&o, XG_EV_SUSPECT, 0), 0);
	assert_int_equal(xg_core_stats(o.core)->suspicions_raised, 0);
	oc_stop(&o);
}

/* Someone else suspects a member: we probe it next, flagged, instead of
 * waiting for its turn in the round robin. */
static void suspect_by_gossip_is_probed_next(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_probe_msg p;
	uint64_t now = SECOND, id;
	int i;

	(void)state;
	start_with(&o, 0);
	for (id = 50; id < 58; id++)
		add_peer(&o, id, now);
	/* Start the round robin, then accuse a member it has not reached:
	 * of the 8, the one probed last. */
	p = next_ping(&o, &now);
	assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50, now + MS), 0);
	id = o.core->order.ids[o.core->order.n - 1];
	oc_update(&u, XG_SUSPECT, id, 0, 99);
	assert_int_equal(oc_gossip(&o, &u, 1, now + 2 * MS), 0);
	p = next_ping(&o, &now);
	assert_int_equal(p.target_id, id);
	assert_int_equal(p.flags, XG_F_SUSPECTED);
	/* It refutes; the round robin goes on where it was: six more,
	 * then the formerly accused one again in its own slot. */
	oc_update(&u, XG_ALIVE, id, 1, id);
	assert_int_equal(oc_gossip(&o, &u, 1, now + 2 * MS), 0);
	for (i = 0; i < 7; i++) {
		assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50, now + MS), 0);
		p = next_ping(&o, &now);
	}
	assert_int_equal(p.target_id, id);
	assert_int_equal(p.flags, 0);
	oc_stop(&o);
}

/* Our own suspicion gets a second chance at once: the next probe goes to
 * the suspect again, flagged, not to whoever is next in the round. */
static void own_suspect_probed_again(void **state)
{
	struct onecore o;
	struct xg_probe_msg p, q;
	uint64_t now = SECOND;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	q = next_ping(&o, &now);
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	assert_int_equal(q.target_id, p.target_id);
	assert_int_equal(q.flags, XG_F_SUSPECTED);
	assert_int_not_equal(q.seq, p.seq);
	oc_stop(&o);
}

/* An ACK from a member we suspect (here a late one, after our probe gave
 * up) proves it is up: ask for its state by push/pull. */
static void ack_from_suspect_asks_pushpull(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	uint64_t now = SECOND, end;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	end = now + o.cfg.probe_interval_ns;
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	xg_core_tick(o.core, end);
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	assert_int_equal(o.pushpull_wants, 0);
	assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50, end + 5 * MS), 0);
	assert_int_equal(o.pushpull_wants, 1);
	assert_int_equal(o.pushpull_to.ip[3], (uint8_t)p.target_id);
	/* Rate-limited: once per probe interval. */
	assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50, end + 6 * MS), 0);
	assert_int_equal(o.pushpull_wants, 1);
	/* Still suspect: only its incarnation can clear that. */
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	oc_stop(&o);
}

static void deliver_ping_req(struct onecore *o, uint64_t now)
{
	struct xg_ping_req_msg req = {
		.cluster_id = OC_CLUSTER,
		.seq = 4242,
		.sender_id = 60,
		.target_id = 61,
		.ts_ns = 777,
	};
	uint8_t buf[sizeof(struct xg_ping_req)];
	struct xg_addr from;
	ssize_t len;

	oc_addr(&req.target, 61);
	oc_addr(&from, 60);
	len = xg_ping_req_encode(&req, o->cfg.probe_key, buf, sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(xg_core_on_packet(o->core, &from, buf, (size_t)len,
					   now), 0);
}

static void helper_relays_ack(void **state)
{
	struct onecore o;
	struct xg_probe_msg ping, relayed;
	uint64_t now = 2 * SECOND;

	(void)state;
	start_with(&o, 0);
	deliver_ping_req(&o, now);
	assert_int_equal(xg_core_stats(o.core)->ping_reqs_recv, 1);
	assert_int_equal(oc_count_sent(&o, XG_T_PING), 1);
	assert_int_equal(oc_find(&o, XG_T_PING, 0)->to.ip[3], 61);
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_PING, 0), &ping),
			 0);
	assert_int_equal(ping.target_id, 61);
	assert_int_equal(ping.sender_id, OC_SELF_ID);
	assert_int_not_equal(ping.seq, 4242);

	assert_int_equal(deliver_ack(&o, &ping, ping.seq, 0, 61, now + MS), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_ACK), 1);
	assert_int_equal(oc_find(&o, XG_T_ACK, 0)->to.ip[3], 60);
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_ACK, 0),
					 &relayed), 0);
	assert_int_equal(relayed.flags, XG_F_INDIRECT);
	assert_int_equal(relayed.sender_id, 61);
	assert_int_equal(relayed.target_id, 60);
	assert_int_equal(relayed.seq, 4242);
	assert_int_equal(relayed.ts_ns, 777);
	/* Served: no NACK follows. */
	xg_core_tick(o.core, now + SECOND);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 0);
	oc_stop(&o);
}

static void helper_nacks_on_timeout(void **state)
{
	struct onecore o;
	struct xg_probe_msg nack;
	uint64_t now = 2 * SECOND;

	(void)state;
	start_with(&o, 0);
	deliver_ping_req(&o, now);
	assert_true(xg_core_next_deadline(o.core) <=
		    now + o.cfg.probe_timeout_ns);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 1);
	assert_int_equal(oc_find(&o, XG_T_NACK, 0)->to.ip[3], 60);
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_NACK, 0), &nack),
			 0);
	assert_int_equal(nack.sender_id, OC_SELF_ID);
	assert_int_equal(nack.target_id, 60);
	assert_int_equal(nack.seq, 4242);
	assert_int_equal(nack.ts_ns, 777);
	assert_int_equal(xg_core_stats(o.core)->nacks_sent, 1);
	oc_stop(&o);
}

/* The buddy system: a PING flagged "suspected" makes us refute at once. */
static void suspected_flag_refutes(void **state)
{
	struct onecore o;
	struct xg_probe_msg ping = {
		.type = XG_T_PING,
		.flags = XG_F_SUSPECTED,
		.seq = 1,
		.sender_id = 50,
		.target_id = OC_SELF_ID,
	};
	struct xg_addr from;
	uint64_t now = SECOND;
	int i;

	(void)state;
	start_with(&o, 3600 * SECOND);
	add_peer(&o, 50, now);
	for (i = 0; i < 100 && xg_dissem_len(o.core); i++)
		xg_core_tick(o.core, now += o.cfg.gossip_interval_ns);
	assert_int_equal(xg_dissem_len(o.core), 0);

	oc_addr(&from, 50);
	oc_clear(&o);
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_ACK), 1);
	assert_int_equal(xg_core_self(o.core)->incarnation, 1);
	assert_int_equal(oc_count_events(&o, XG_EV_REFUTE, OC_SELF_ID), 1);
	/* While our ALIVE is still spreading, more flagged PINGs (other
	 * probers that have not heard yet) do not bump it again. */
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	assert_int_equal(xg_core_self(o.core)->incarnation, 1);
	assert_int_equal(xg_core_stats(o.core)->refutes, 1);
	oc_stop(&o);
}

/* We flag our PINGs to members we suspect, and only those. */
static void pings_to_suspects_are_flagged(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_probe_msg p;
	uint64_t now = SECOND;
	int i, flagged = 0, plain = 0;

	(void)state;
	start_with(&o, 0);
	add_peer(&o, 50, now);
	add_peer(&o, 51, now);
	oc_update(&u, XG_SUSPECT, 50, 0, 99);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	for (i = 0; i < 3; i++) {
		p = next_ping(&o, &now);
		assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50, now + MS), 0);
		if (p.target_id == 50) {
			assert_int_equal(p.flags, XG_F_SUSPECTED);
			flagged++;
		} else {
			assert_int_equal(p.flags, 0);
			plain++;
		}
	}
	assert_true(flagged > 0 && plain > 0);
	oc_stop(&o);
}

/* Randomized round robin: every pass over the members probes each once. */
static void probe_order_round_robin(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	uint64_t now = SECOND, id;
	int pass, k;

	(void)state;
	start_with(&o, 0);
	for (id = 50; id < 55; id++)
		add_peer(&o, id, now);
	for (pass = 0; pass < 4; pass++) {
		bool seen[5] = { false };

		for (k = 0; k < 5; k++) {
			p = next_ping(&o, &now);
			assert_true(p.target_id >= 50 && p.target_id < 55);
			assert_false(seen[p.target_id - 50]);
			seen[p.target_id - 50] = true;
			assert_int_equal(deliver_ack(&o, &p, p.seq, 0, 50,
						     now + MS), 0);
		}
	}
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 0);
	oc_stop(&o);
}

static void silent_after_leave(void **state)
{
	struct onecore o;
	struct xg_probe_msg ping = {
		.type = XG_T_PING,
		.seq = 1,
		.sender_id = 50,
		.target_id = OC_SELF_ID,
	};
	struct xg_addr from;
	uint64_t now = SECOND;
	int i;

	(void)state;
	three_peers(&o);
	assert_int_equal(xg_core_leave(o.core, now), 0);
	oc_clear(&o);
	oc_addr(&from, 50);
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	deliver_ping_req(&o, now);
	for (i = 0; i < 50; i++)
		xg_core_tick(o.core, now += 200 * MS);
	assert_int_equal(oc_count_sent(&o, XG_T_ACK), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_PING), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 0);
	/* Gossip (our LEFT) is all it still sends. */
	assert_int_equal(o.nsent, oc_count_sent(&o, XG_T_GOSSIP));
	oc_stop(&o);
}

static void pushpull_requests(void **state)
{
	struct onecore o;
	struct xg_probe_msg ping = {
		.type = XG_T_PING,
		.seq = 1,
		.sender_id = 77, /* nobody we know */
		.target_id = OC_SELF_ID,
	};
	struct xg_addr from;
	uint64_t now = SECOND;

	(void)state;
	/* Hour-long probes: nobody gets suspected (push/pull picks only
	 * alive members) in the half minute this runs. */
	start_with(&o, 3600 * SECOND);
	add_peer(&o, 50, now);
	while (now < SECOND + o.cfg.pushpull_interval_ns)
		xg_core_tick(o.core, now += 100 * MS);
	assert_int_equal(o.pushpull_wants, 1);
	assert_int_equal(o.pushpull_to.ip[3], 50);

	/* A stranger probes us: gossip missed its join; ask for a
	 * push/pull with it, but not once per PING. */
	oc_addr(&from, 77);
	assert_int_equal(oc_probe(&o, &ping, &from, now), 0);
	assert_int_equal(o.pushpull_wants, 2);
	assert_int_equal(o.pushpull_to.ip[3], 77);
	assert_int_equal(oc_probe(&o, &ping, &from, now + 100 * MS), 0);
	assert_int_equal(o.pushpull_wants, 2);
	assert_int_equal(oc_probe(&o, &ping, &from,
				  now + o.cfg.probe_interval_ns + 1), 0);
	assert_int_equal(o.pushpull_wants, 3);
	oc_stop(&o);
}

/* --- refusals: the target's host says no socket is bound (ICMP) ------ */

static struct xg_addr host(unsigned h)
{
	struct xg_addr a;

	oc_addr(&a, h);
	return a;
}

static int deliver_nack(struct onecore *o, const struct xg_probe_msg *ping,
			unsigned helper, uint8_t flags, uint64_t rx_ns)
{
	struct xg_probe_msg nack = {
		.type = XG_T_NACK,
		.flags = flags,
		.seq = ping->seq,
		.sender_id = helper,
		.target_id = OC_SELF_ID,
		.ts_ns = ping->ts_ns,
	};
	struct xg_addr from = host(helper);

	return oc_probe(o, &nack, &from, rx_ns);
}

/* A refused PING ends the direct phase at once; alone, it does not end
 * the probe, and the failure does not count against our health. */
static void refused_ping_goes_indirect(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	struct xg_addr t;
	uint64_t now = SECOND;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	t = host((unsigned)p.target_id);
	xg_core_on_refused(o.core, &t, now + MS);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	assert_int_equal(xg_core_stats(o.core)->pings_refused, 1);
	/* The helpers have until the probe's end, as ever. */
	assert_int_equal(xg_probe_deadline(o.core),
			 now + o.cfg.probe_interval_ns);
	/* A second report of the same refusal changes nothing. */
	xg_core_on_refused(o.core, &t, now + 2 * MS);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	assert_int_equal(xg_core_stats(o.core)->pings_refused, 1);
	xg_core_tick(o.core, now + 100 * MS);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	xg_core_tick(o.core, xg_probe_deadline(o.core));
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	assert_int_equal(o.core->lhm, 0);
	oc_stop(&o);
}

/* Refused to us and to a helper: the probe fails then, not at its end. */
static void refused_twice_fails_at_once(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	struct xg_addr t;
	uint64_t now = SECOND;
	unsigned h1, h2;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	t = host((unsigned)p.target_id);
	xg_core_on_refused(o.core, &t, now + MS);
	h1 = oc_find(&o, XG_T_PING_REQ, 0)->to.ip[3];
	h2 = oc_find(&o, XG_T_PING_REQ, 1)->to.ip[3];
	/* A plain NACK (the helper timed out) is not the target's word. */
	assert_int_equal(deliver_nack(&o, &p, h1, 0, now + 2 * MS), 0);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	assert_int_equal(deliver_nack(&o, &p, h2, XG_F_REFUSED, now + 3 * MS),
			 0);
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	assert_int_equal(xg_core_stats(o.core)->probes_failed, 1);
	assert_int_equal(o.core->lhm, 0);
	assert_false(o.core->probe.active);
	oc_stop(&o);
}

/* The helper's word alone, or a refusal of some other address, does not
 * cut a probe short: ICMP is not authenticated. */
static void one_refusal_is_not_enough(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	struct xg_addr other;
	uint64_t now = SECOND;
	unsigned h;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	other = host(p.target_id == 50 ? 51 : 50);
	xg_core_on_refused(o.core, &other, now + MS);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 0);
	assert_int_equal(xg_core_stats(o.core)->pings_refused, 0);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	h = oc_find(&o, XG_T_PING_REQ, 0)->to.ip[3];
	assert_int_equal(deliver_nack(&o, &p, h, XG_F_REFUSED,
				      now + o.cfg.probe_timeout_ns + MS), 0);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	xg_core_tick(o.core, now + o.cfg.probe_interval_ns);
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	/* Our own PING got no answer at all: that is on our health. */
	assert_int_equal(o.core->lhm, 2);
	oc_stop(&o);
}

/* As a helper: a refused PING is NACKed at once, flagged, and only once. */
static void helper_nacks_refusal_at_once(void **state)
{
	struct onecore o;
	struct xg_probe_msg nack;
	struct xg_addr t = host(61), other = host(62);
	uint64_t now = 2 * SECOND;

	(void)state;
	start_with(&o, 0);
	deliver_ping_req(&o, now);
	xg_core_on_refused(o.core, &other, now + MS);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 0);
	xg_core_on_refused(o.core, &t, now + MS);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 1);
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_NACK, 0), &nack),
			 0);
	assert_int_equal(nack.flags, XG_F_REFUSED);
	assert_int_equal(nack.sender_id, OC_SELF_ID);
	assert_int_equal(nack.seq, 4242);
	assert_int_equal(xg_core_stats(o.core)->pings_refused, 1);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 1);
	oc_stop(&o);
}

/* Push/pull passes over a member that says it is starved (it would shed
 * the exchange) while anyone else is alive; with nobody else left it
 * still picks it: anti-entropy is not given up. */
static void pushpull_avoids_starved(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	uint64_t now = SECOND, end;
	unsigned seen = 0;

	(void)state;
	start_with(&o, 3600 * SECOND);
	oc_update(&u, XG_ALIVE, 50, 1, 50);
	u.flags = XG_UF_STARVED;
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	add_peer(&o, 51, now);
	end = now + 10 * o.cfg.pushpull_interval_ns;
	while (now < end) {
		xg_core_tick(o.core, now += 100 * MS);
		if (o.pushpull_wants == seen)
			continue;
		seen = o.pushpull_wants;
		assert_int_equal(o.pushpull_to.ip[3], 51);
	}
	assert_true(seen >= 9);

	/* 51 is gone: the starved member is the only one to ask. */
	oc_update(&u, XG_DEAD, 51, 0, 200);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	end = now + 2 * o.cfg.pushpull_interval_ns;
	while (now < end)
		xg_core_tick(o.core, now += 100 * MS);
	assert_true(o.pushpull_wants > seen);
	assert_int_equal(o.pushpull_to.ip[3], 50);
	oc_stop(&o);
}

/* A hung target's XDP program answers with its own NACK, flagged REFUSED:
 * like a refused PING, it ends the direct phase; with a helper's refusal
 * the probe fails. */
static void hung_target_nack_acts_as_refusal(void **state)
{
	struct onecore o;
	struct xg_probe_msg p;
	uint64_t now = SECOND;
	unsigned h;

	(void)state;
	three_peers(&o);
	p = next_ping(&o, &now);
	/* Unflagged, the target's own NACK means nothing. */
	assert_int_equal(deliver_nack(&o, &p, (unsigned)p.target_id, 0,
				      now + MS), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 0);
	assert_int_equal(deliver_nack(&o, &p, (unsigned)p.target_id,
				      XG_F_REFUSED, now + MS), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_PING_REQ), 2);
	assert_int_equal(xg_core_stats(o.core)->pings_refused, 1);
	assert_int_equal(state_of(&o, p.target_id), XG_ALIVE);
	h = oc_find(&o, XG_T_PING_REQ, 0)->to.ip[3];
	assert_int_equal(deliver_nack(&o, &p, h, XG_F_REFUSED, now + 2 * MS), 0);
	assert_int_equal(state_of(&o, p.target_id), XG_SUSPECT);
	assert_int_equal(o.core->lhm, 0);
	oc_stop(&o);
}

/* As a helper: the target's hung NACK to our PING is passed on at once. */
static void helper_passes_hung_nack_on(void **state)
{
	struct onecore o;
	struct xg_probe_msg ping, nack, hung = { .type = XG_T_NACK };
	struct xg_addr t = host(61);
	uint64_t now = 2 * SECOND;

	(void)state;
	start_with(&o, 0);
	deliver_ping_req(&o, now);
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_PING, 0), &ping),
			 0);
	hung.flags = XG_F_REFUSED;
	hung.seq = ping.seq;
	hung.sender_id = 61;
	hung.target_id = OC_SELF_ID;
	hung.ts_ns = ping.ts_ns;
	assert_int_equal(oc_probe(&o, &hung, &t, now + MS), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 1);
	assert_int_equal(oc_find(&o, XG_T_NACK, 0)->to.ip[3], 60);
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_NACK, 0), &nack),
			 0);
	assert_int_equal(nack.flags, XG_F_REFUSED);
	assert_int_equal(nack.seq, 4242);
	assert_int_equal(nack.sender_id, OC_SELF_ID);
	xg_core_tick(o.core, now + o.cfg.probe_timeout_ns);
	assert_int_equal(oc_count_sent(&o, XG_T_NACK), 1);
	oc_stop(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ack_in_time_direct),
		cmocka_unit_test(late_processed_ack_counts),
		cmocka_unit_test(ack_after_end_fails),
		cmocka_unit_test(wrong_ack_ignored),
		cmocka_unit_test(indirect_ack_and_nack),
		cmocka_unit_test(late_tick_keeps_indirect_window),
		cmocka_unit_test(probe_of_old_incarnation_accuses_nobody),
		cmocka_unit_test(suspect_by_gossip_is_probed_next),
		cmocka_unit_test(own_suspect_probed_again),
		cmocka_unit_test(ack_from_suspect_asks_pushpull),
		cmocka_unit_test(helper_relays_ack),
		cmocka_unit_test(helper_nacks_on_timeout),
		cmocka_unit_test(suspected_flag_refutes),
		cmocka_unit_test(pings_to_suspects_are_flagged),
		cmocka_unit_test(probe_order_round_robin),
		cmocka_unit_test(silent_after_leave),
		cmocka_unit_test(pushpull_requests),
		cmocka_unit_test(refused_ping_goes_indirect),
		cmocka_unit_test(refused_twice_fails_at_once),
		cmocka_unit_test(one_refusal_is_not_enough),
		cmocka_unit_test(helper_nacks_refusal_at_once),
		cmocka_unit_test(hung_target_nack_acts_as_refusal),
		cmocka_unit_test(helper_passes_hung_nack_on),
		cmocka_unit_test(pushpull_avoids_starved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
