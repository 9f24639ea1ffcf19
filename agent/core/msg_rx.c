/* SPDX-License-Identifier: MIT */
/*
 * What a node does with the messaging packets it receives (ANNOUNCEs go
 * on to msg_fetch.c).
 *
 * Every packet is authenticated (MAC under the key its key_id names) and
 * checked (cluster, sender) before anything is looked up, so a packet from
 * outside the cluster cannot mark an id seen, earn an ACK, start a pull or
 * make us send anything.
 */
#include <errno.h>
#include <string.h>

#include "core/msg_int.h"

/* --- PUSH and PULL_RESPONSE --------------------------------------------- */

/* Messages older than max_age are refused, and so are those dated ahead
 * of our wall clock by more than half the seen table's margin over
 * max_age.  Together they make sure that by the time an accepted id
 * leaves the seen table, every copy of it is too old to be accepted
 * again, so exactly-once survives the table forgetting
 * (docs/MESSAGING.md, "Exactly once").  The other half of the margin is
 * for the wall clock running slower than the monotonic clock that times
 * the table (NTP slewing, at most 0.05 %) and for millisecond rounding. */
int xg_msgr_age_check(struct xg_msgr *m, uint64_t origin_ms)
{
	uint64_t now_ms = m->io.now_ms_real(m->io.ctx);
	uint64_t ahead_ms = (m->cfg.seen_ttl_ms - m->cfg.max_age_ms) / 2;

	if (origin_ms < now_ms && now_ms - origin_ms > m->cfg.max_age_ms) {
		m->st.refused_old++;
		return -ESTALE;
	}
	if (origin_ms > now_ms && origin_ms - now_ms > ahead_ms) {
		m->st.refused_future++;
		return -ESTALE;
	}
	return 0;
}

void xg_msgr_want_forget(struct xg_msgr *m, const uint8_t id[XG_MSG_ID_LEN])
{
	struct xg_want *wt = xg_wants_find(&m->wants, id);

	if (wt)
		xg_wants_drop(&m->wants, wt);
}

/* Marks seen, tells the XDP side, forgets any pull in progress, caches. */
static int accept_msg(struct xg_msgr *m, const struct xg_msg *msg,
		      uint8_t hops_out, uint64_t now_ns)
{
	int err;

	err = xg_seen_add(&m->seen, msg->id, now_ns);
	if (err == -ENOBUFS)
		m->st.refused_full++;
	if (err)
		return err;
	if (m->io.seen)
		m->io.seen(m->io.ctx, msg->id, now_ns);
	xg_msgr_want_forget(m, msg->id);
	if (xg_cache_put(&m->cache, msg, hops_out, now_ns) == -ENOMEM)
		m->st.alloc_failures++;
	return 0;
}

/* The counters this message skips over in its origin's sequence were
 * broadcast and have not reached us.  A copy or a PULL_SYNC may still be
 * on its way, so the first request waits an ack timeout; after that we
 * pull them ourselves, from the member that just sent this one (which
 * likely got them too) and from the origin (which has them cached).  This
 * finds what pushes and pull-sync rounds, being random, missed, and what a
 * member missed while it was cut off, up to the cache TTL. */
void xg_msgr_gap_check(struct xg_msgr *m, const struct xg_msg *msg,
		       uint64_t now_ns)
{
	uint32_t missing[XG_GAP_MAX];
	uint32_t inc = (uint32_t)(xg_msg_id_seq(msg->id) >> 32);
	struct xg_want *wt;
	uint8_t id[XG_MSG_ID_LEN];
	int n, i, r;

	if (msg->origin_id == m->cfg.self_id)
		return;
	n = xg_gaps_note(&m->gaps, msg->id, now_ns, m->cfg.cache_ttl_ns,
			 missing, XG_GAP_MAX);
	if (n < 0)
		m->st.alloc_failures++;
	for (i = 0; i < n; i++) {
		xg_msg_id_make(id, msg->origin_id, inc, missing[i]);
		if (xg_seen_has(&m->seen, id))
			continue;
		r = xg_wants_note(&m->wants, id, msg->sender_id, &wt);
		if (r < 0) {
			m->st.pulls_dropped++;
			continue;
		}
		xg_wants_note(&m->wants, id, msg->origin_id, &wt);
		if (r == 1) {
			m->st.gaps_found++;
			xg_wants_schedule(&m->wants, wt,
					  now_ns + m->cfg.ack_timeout_ns);
		}
	}
}

static int on_data(struct xg_msgr *m, uint8_t type, struct xg_msg *msg,
		   uint64_t now_ns)
{
	uint64_t from = msg->sender_id;
	uint8_t hops_out;
	int err;

	if (type == XG_T_PUSH)
		m->st.pushes_recv++;
	else
		m->st.pull_responses_recv++;
	err = xg_msgr_age_check(m, msg->origin_ms);
	if (err) {
		/* asking again would get the same answer */
		xg_msgr_want_forget(m, msg->id);
		return err;
	}
	/* A copy of something we have: neither an ACK (the ACK says "your
	 * push was my first copy") nor anything else. */
	if (xg_seen_has(&m->seen, msg->id)) {
		m->st.dups++;
		return 0;
	}
	hops_out = msg->hops < UINT8_MAX ? (uint8_t)(msg->hops + 1) : UINT8_MAX;
	err = accept_msg(m, msg, hops_out, now_ns);
	if (err)
		return err;
	/* A PULL_RESPONSE was asked for: its sender expects no ACK and
	 * runs no round for it. */
	if (type == XG_T_PUSH) {
		xg_msgr_send_ctrl(m, XG_T_PUSH_ACK, msg->id, from);
		m->st.acks_sent++;
	}
	/* A pulled message is pushed on too: the members that missed it
	 * here are likely missing it elsewhere as well. */
	if (msg->hops < XG_MSG_HOP_LIMIT) {
		uint8_t hops_in = msg->hops;

		msg->hops = hops_out;
		xg_msgr_push_out(m, msg, from, now_ns);
		msg->hops = hops_in;
	} else {
		m->st.hop_limited++;
	}
	xg_msgr_gap_check(m, msg, now_ns);
	/* Last: the application may broadcast from its callback, which
	 * reuses the packet buffer and the tables. */
	m->st.delivered++;
	m->io.deliver(m->io.ctx, msg);
	return 0;
}

/* --- control packets ---------------------------------------------------- */

/* A member that gets an ANNOUNCE first ACKs it, and cannot tell one
 * pushed to it from one sent in a pull-sync round: ACKs of a large
 * message from members outside the round's targets are expected. */
static void on_ack(struct xg_msgr *m, const struct xg_msg *msg,
		   uint64_t now_ns)
{
	const struct xg_cache_ent *e;
	const struct xg_round *rd = xg_rounds_find(&m->rounds, msg->id);
	uint64_t started = rd && !rd->syncs ? rd->started : 0;
	int r;

	m->st.acks_recv++;
	r = xg_rounds_ack(&m->rounds, msg->id, msg->sender_id);
	/* Only ACKs of a round still waiting for them time a push: later
	 * ones would count the pull-sync rounds too. */
	if (r >= 0 && started && now_ns >= started)
		xg_msgr_ack_timed(m, now_ns - started);
	if (r == 1)
		m->st.rounds_majority++;
	if (r >= 0)
		return;
	e = xg_cache_peek(&m->cache, msg->id);
	if (!e || !e->large)
		m->st.acks_unexpected++;
}

/* Someone that has the message is asking whether we do.  If we have seen
 * it, nothing to do (with XDP on, such a PULL_SYNC does not even reach
 * us).  Otherwise ask the sender, unless a request for the id is already
 * out: then the sender is remembered for a retry. */
static void on_pull_sync(struct xg_msgr *m, const struct xg_msg *msg,
			 uint64_t now_ns)
{
	struct xg_want *wt;
	int r;

	m->st.pull_syncs_recv++;
	if (xg_seen_has(&m->seen, msg->id)) {
		m->st.pull_syncs_known++;
		return;
	}
	r = xg_wants_note(&m->wants, msg->id, msg->sender_id, &wt);
	if (r < 0) {
		m->st.pulls_dropped++;
		return;
	}
	/* A large message being fetched: the sender is one more source
	 * (remembered by xg_wants_note), and a request would only fetch
	 * the ANNOUNCE we already have. */
	if (wt->large)
		return;
	/* A want from a sequence gap that has not asked yet asks now: here
	 * is a member that certainly has the message. */
	if (r == 0 && wt->tries > 0)
		return;
	xg_msgr_send_ctrl(m, XG_T_PULL_REQUEST, msg->id, msg->sender_id);
	m->st.pull_requests_sent++;
	xg_wants_arm(&m->wants, wt, now_ns + m->cfg.ack_timeout_ns);
}

static void on_pull_request(struct xg_msgr *m, const struct xg_msg *msg)
{
	const struct xg_cache_ent *e;

	m->st.pull_requests_recv++;
	e = xg_cache_get(&m->cache, msg->id);
	if (!e) {
		m->st.pull_misses++;
		return;
	}
	/* A large body is not ours to send in a datagram: the ANNOUNCE
	 * tells the requester to fetch it from us. */
	if (e->large)
		xg_msgr_respond_announce(m, e, msg->sender_id);
	else
		xg_msgr_respond(m, e, msg->sender_id);
}

/* --- entry point -------------------------------------------------------- */

static int decode(struct xg_msgr *m, const void *buf, size_t len,
		  struct xg_msg_pkt *p)
{
	const struct xg_msg_key *k;

	k = xg_msgr_key_for(m, xg_msg_key_id(buf, len));
	if (!k)
		return len < sizeof(struct xg_hdr) ? -EBADMSG : -ENOKEY;
	return xg_msg_decode(buf, len, k->mac, NULL, p);
}

/* The sender id is covered by the MAC, so only a key holder can set it;
 * the hint (what the daemon knows of the source address) stops one
 * member from speaking for another, e.g. ACKing in its name. */
static int origin_check(const struct xg_msgr *m, const struct xg_msg_pkt *p,
			uint64_t hint)
{
	if (p->cluster_id != m->cfg.cluster_id)
		return -EXDEV;
	if (p->msg.sender_id == 0 || p->msg.sender_id == m->cfg.self_id)
		return -EPERM;
	if (hint && hint != p->msg.sender_id)
		return -EPERM;
	return 0;
}

int xg_msgr_on_packet(struct xg_msgr *m, uint64_t from_id_hint,
		      const void *buf, size_t len, uint64_t now_ns)
{
	struct xg_msg_pkt p;
	int err;

	if (!m || !buf)
		return -EINVAL;
	now_ns = xg_msgr_advance(m, now_ns);
	err = decode(m, buf, len, &p);
	if (!err)
		err = origin_check(m, &p, from_id_hint);
	if (err) {
		m->st.rx_bad++;
		return err;
	}
	switch (p.type) {
	case XG_T_PUSH:
	case XG_T_PULL_RESPONSE:
		err = on_data(m, p.type, &p.msg, now_ns);
		break;
	case XG_T_PUSH_ACK:
		on_ack(m, &p.msg, now_ns);
		break;
	case XG_T_PULL_SYNC:
		if (xg_msg_pkt_is_announce(&p))
			err = xg_msgr_on_announce(m, &p);
		else
			on_pull_sync(m, &p.msg, now_ns);
		break;
	case XG_T_PULL_REQUEST:
		on_pull_request(m, &p.msg);
		break;
	}
	/* A new ANNOUNCE queued a fetch, or a pushed copy ended one. */
	xg_msgr_fetch_pump(m, now_ns);
	xg_msgr_gauges(m);
	return err;
}
