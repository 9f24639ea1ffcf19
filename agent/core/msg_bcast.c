/* SPDX-License-Identifier: MIT */
/*
 * What a node sends: its own broadcasts, pushes on, ACKs, the pull-sync
 * that follows an ACK round that fell short, pull requests and responses.
 *
 * The protocol (go-gossip's, docs/MESSAGING.md): a node that gets a
 * message first pushes it to f random members and ACKs it to whoever sent
 * it; a member ACKs only its first copy.  The pusher counts the ACKs of
 * the members it pushed to; with fewer than a majority after ack_timeout,
 * its pushes may have been lost or may have hit members that already had
 * the message, and it cannot tell which, so it asks f+2 other members
 * whether they have it (PULL_SYNC with the id only).  Those that do not
 * pull it (PULL_REQUEST, PULL_RESPONSE).  The cheap case, where pushes
 * arrive, costs f pushes and f ACKs per member; loss costs 48-byte
 * PULL_SYNCs and pulls only where needed.
 */
#include <errno.h>
#include <string.h>

#include "core/msg_int.h"

#define NS_PER_MS 1000000ULL

void xg_msgr_send(struct xg_msgr *m, uint64_t to, const void *pkt, size_t len)
{
	if (m->io.send(m->io.ctx, to, pkt, len) < 0)
		m->st.tx_errors++;
}

static void pkt_head(const struct xg_msgr *m, struct xg_msg_pkt *p,
		     uint8_t type, const uint8_t id[XG_MSG_ID_LEN])
{
	memset(p, 0, sizeof(*p));
	p->type = type;
	p->key_id = m->cfg.key_id;
	p->cluster_id = m->cfg.cluster_id;
	memcpy(p->msg.id, id, XG_MSG_ID_LEN);
	p->msg.sender_id = m->cfg.self_id;
}

void xg_msgr_send_ctrl(struct xg_msgr *m, uint8_t type,
		       const uint8_t id[XG_MSG_ID_LEN], uint64_t to)
{
	struct xg_msg_pkt p;
	ssize_t n;

	pkt_head(m, &p, type, id);
	n = xg_msg_encode(&p, m->cfg.mac_key, m->pkt, sizeof(m->pkt));
	if (n < 0) {
		m->st.tx_errors++;
		return;
	}
	xg_msgr_send(m, to, m->pkt, (size_t)n);
}

/* A data packet (PUSH or PULL_RESPONSE) for msg, signed by us. */
static ssize_t data_encode(struct xg_msgr *m, uint8_t type,
			   const struct xg_msg *msg, uint8_t hops)
{
	struct xg_msg_pkt p;

	pkt_head(m, &p, type, msg->id);
	memcpy(p.msg.topic, msg->topic, sizeof(p.msg.topic));
	p.msg.origin_ms = msg->origin_ms;
	p.msg.hops = hops;
	p.msg.payload = msg->payload;
	p.msg.payload_len = msg->payload_len;
	return xg_msg_encode(&p, m->cfg.mac_key, m->pkt, sizeof(m->pkt));
}

/* Ids from io->pick, minus anything a faulty adapter should not have
 * returned (us, 0, exclude, repeats), so the protocol never sends to
 * itself or counts one member twice. */
static size_t pick_clean(struct xg_msgr *m, size_t k, uint64_t exclude,
			 uint64_t *out)
{
	size_t n, i, j, kept = 0;

	n = m->io.pick(m->io.ctx, k, exclude, out);
	if (n > k)
		n = k;
	for (i = 0; i < n; i++) {
		uint64_t id = out[i];

		if (id == 0 || id == m->cfg.self_id || id == exclude)
			continue;
		for (j = 0; j < kept && out[j] != id; j++)
			;
		if (j == kept)
			out[kept++] = id;
	}
	return kept;
}

size_t xg_msgr_fan_targets(struct xg_msgr *m, uint64_t exclude,
			   uint64_t *to)
{
	/* Alone (or everyone else is down): nobody to push to, no round. */
	if (m->io.live_count(m->io.ctx) == 0)
		return 0;
	return pick_clean(m, m->cfg.fanout, exclude, to);
}

/* A LAN answers a push in a millisecond or two, and every round that
 * waits the full ack_timeout delays the members the pushes missed by that
 * much: at 32 members and a fanout of 3 most messages miss someone, and
 * pull-sync is how they get it.  So rounds wait what ACKs really take
 * (like TCP's retransmission timeout: four times a smoothed sample plus
 * some slack), never more than ack_timeout and never less than ack_min.
 * A wait that proves too short costs a few PULL_SYNCs, which members that
 * have the message drop in the kernel.  Rounds keep their order in the
 * due list although waits change: the average moves by an eighth of a
 * sample at a time, so a round is at worst that much late. */
uint64_t xg_msgr_ack_wait(const struct xg_msgr *m)
{
	uint64_t w;

	if (!m->ack_srtt_ns || m->cfg.ack_min_ns >= m->cfg.ack_timeout_ns)
		return m->cfg.ack_timeout_ns;
	w = 4 * m->ack_srtt_ns + m->cfg.ack_slack_ns;
	if (w < m->cfg.ack_min_ns)
		w = m->cfg.ack_min_ns;
	return w < m->cfg.ack_timeout_ns ? w : m->cfg.ack_timeout_ns;
}

void xg_msgr_ack_timed(struct xg_msgr *m, uint64_t sample_ns)
{
	if (sample_ns > m->cfg.ack_timeout_ns)
		sample_ns = m->cfg.ack_timeout_ns;
	if (!m->ack_srtt_ns)
		m->ack_srtt_ns = sample_ns;
	else
		m->ack_srtt_ns = m->ack_srtt_ns - m->ack_srtt_ns / 8 +
				 sample_ns / 8;
}

void xg_msgr_fan_send(struct xg_msgr *m, const uint8_t id[XG_MSG_ID_LEN],
		      const uint64_t *to, size_t n, size_t len,
		      uint64_t exclude, bool large, uint64_t now_ns)
{
	size_t i;
	int err;

	for (i = 0; i < n; i++)
		xg_msgr_send(m, to[i], m->pkt, len);
	err = xg_rounds_start(&m->rounds, id, to, n, exclude,
			      now_ns + xg_msgr_ack_wait(m));
	if (err) {
		m->st.rounds_dropped++;
		return;
	}
	m->st.rounds_started++;
	xg_rounds_find(&m->rounds, id)->started = now_ns;
	if (large)
		xg_rounds_find(&m->rounds, id)->large = 1;
}

void xg_msgr_push_out(struct xg_msgr *m, const struct xg_msg *msg,
		      uint64_t exclude, uint64_t now_ns)
{
	uint64_t to[XG_MSG_FANOUT_MAX];
	size_t n;
	ssize_t len;

	n = xg_msgr_fan_targets(m, exclude, to);
	if (n == 0)
		return;
	len = data_encode(m, XG_T_PUSH, msg, msg->hops);
	if (len < 0) {
		m->st.tx_errors++;
		return;
	}
	xg_msgr_fan_send(m, msg->id, to, n, (size_t)len, exclude, false,
			 now_ns);
	m->st.pushes_sent += n;
}

/* f+2 members that are neither the round's targets nor its upstream: the
 * ones whose having the message the round says nothing about.  Ask pick
 * for that many more than the targets, then drop the targets; a random
 * sample minus a few known ids is still a random sample of the rest. */
static size_t sync_targets(struct xg_msgr *m, const struct xg_round *rd,
			   uint64_t *out)
{
	uint64_t cand[XG_MSG_FANOUT_MAX * 2 + 2];
	size_t want = m->cfg.fanout + 2, n, i, j, kept = 0;

	n = pick_clean(m, want + rd->n, rd->upstream, cand);
	for (i = 0; i < n && kept < want; i++) {
		for (j = 0; j < rd->n && rd->to[j] != cand[i]; j++)
			;
		if (j == rd->n)
			out[kept++] = cand[i];
	}
	return kept;
}

/* A large message is pull-synced with its ANNOUNCE, which tells a member
 * that lacks it what to fetch, from us, in one packet; the 48-byte
 * PULL_SYNC would only draw a PULL_REQUEST answered by the same
 * ANNOUNCE.  Its metadata comes from the cache: once evicted there is
 * nothing left to announce, and the round ends (false). */
static bool pull_sync(struct xg_msgr *m, const struct xg_round *rd)
{
	uint64_t to[XG_MSG_FANOUT_MAX + 2];
	size_t n = sync_targets(m, rd, to), i;
	ssize_t len = 0;

	if (rd->large) {
		len = xg_msgr_announce_cached(m, rd->node.id);
		if (len < 0)
			return false;
		for (i = 0; i < n; i++)
			xg_msgr_send(m, to[i], m->pkt, (size_t)len);
		m->st.announces_sent += n;
		return true;
	}
	for (i = 0; i < n; i++)
		xg_msgr_send_ctrl(m, XG_T_PULL_SYNC, rd->node.id, to[i]);
	m->st.pull_syncs_sent += n;
	return true;
}

/* The round's deadline: first the end of the ACK wait, then the end of
 * each pull-sync round.
 *
 * A majority of ACKs closes the round (normally before the deadline, in
 * on_ack).  Short of it, the first pull-sync round goes out, f+2 members
 * as go-gossip does; then sync_rounds - 1 more, one per ack timeout, to
 * other random members.  Why more than go-gossip's one: a member that no
 * push and no PULL_SYNC happened to pick never learns that the message
 * exists, and with f = 3 and one round that is about one member in a
 * thousand per message (measured: docs/MESSAGING.md, "Completeness").
 * Each round adds f+2 random chances, so the miss rate falls by about
 * e^-(f+2) per round; members that have the message drop the extra
 * PULL_SYNCs in the XDP program.  Sequence-gap repair (msg_rx.c) finds
 * most of what random rounds miss, but not the last message of a burst,
 * which only these rounds can announce. */
void xg_msgr_round_expired(struct xg_msgr *m, struct xg_round *rd,
			   uint64_t now_ns)
{
	if (rd->syncs == 0 && rd->acks < xg_round_majority(rd->n))
		m->st.rounds_short++;
	if ((rd->syncs == 0 && rd->acks >= xg_round_majority(rd->n)) ||
	    rd->syncs >= m->cfg.sync_rounds || !pull_sync(m, rd)) {
		xg_rounds_close(&m->rounds, rd);
		return;
	}
	rd->syncs++;
	xg_rounds_rearm(&m->rounds, rd, now_ns + xg_msgr_ack_wait(m));
}

/* One request outstanding per id: when it goes unanswered for an ack
 * timeout, ask the next holder (another member that announced the id if
 * there is one), up to pull_tries requests in all. */
void xg_msgr_want_expired(struct xg_msgr *m, struct xg_want *wt,
			  uint64_t now_ns)
{
	if (wt->large) {
		xg_msgr_large_want_expired(m, wt, now_ns);
		return;
	}
	if (wt->tries >= m->cfg.pull_tries) {
		m->st.pulls_failed++;
		xg_wants_drop(&m->wants, wt);
		return;
	}
	xg_msgr_send_ctrl(m, XG_T_PULL_REQUEST, wt->node.id,
			  xg_want_next_holder(wt));
	m->st.pull_requests_sent++;
	xg_wants_arm(&m->wants, wt, now_ns + m->cfg.ack_timeout_ns);
}

void xg_msgr_respond(struct xg_msgr *m, const struct xg_cache_ent *e,
		     uint64_t to)
{
	struct xg_msg msg;
	ssize_t len;

	memset(&msg, 0, sizeof(msg));
	memcpy(msg.id, e->node.id, XG_MSG_ID_LEN);
	memcpy(msg.topic, e->topic, sizeof(msg.topic));
	msg.origin_ms = e->origin_ms;
	msg.payload = e->payload;
	msg.payload_len = e->payload_len;
	len = data_encode(m, XG_T_PULL_RESPONSE, &msg, e->hops_out);
	if (len < 0) {
		m->st.tx_errors++;
		return;
	}
	xg_msgr_send(m, to, m->pkt, (size_t)len);
	m->st.pull_responses_sent++;
}

/* --- broadcast ---------------------------------------------------------- */

static int bcast_check(const char *topic, const void *payload, size_t len)
{
	size_t tlen;

	if (!topic)
		return -EINVAL;
	tlen = strnlen(topic, XG_MSG_TOPIC_MAX + 1);
	if (!xg_msg_topic_valid(topic, tlen) || (len && !payload))
		return -EINVAL;
	/* The limit depends on the topic: what matters is that the whole
	 * packet fits a datagram. */
	if (len > xg_msg_max_push(tlen))
		return -EMSGSIZE;
	return 0;
}

/* The id the next broadcast gets.  The counter is 32 bits per
 * incarnation; once it has run out, a fresh incarnation (a restart) is the
 * only source of new ids: reusing one would make members drop a new
 * message as a duplicate of an old one. */
static int next_id(const struct xg_msgr *m, uint8_t id[XG_MSG_ID_LEN])
{
	if (m->exhausted)
		return -EOVERFLOW;
	xg_msg_id_make(id, m->cfg.self_id, m->cfg.incarnation, m->counter);
	return 0;
}

/* Only a broadcast that happened uses up its id, so the sequence of ids a
 * member sees from an origin has no holes of our making. */
static void id_used(struct xg_msgr *m)
{
	if (++m->counter == 0)
		m->exhausted = true;
}

int xg_msgr_claim_id(struct xg_msgr *m, struct xg_msg *msg, uint64_t now_ns)
{
	int err;

	memset(msg, 0, sizeof(*msg));
	err = next_id(m, msg->id);
	if (err)
		return err;
	err = xg_seen_add(&m->seen, msg->id, now_ns);
	/* Only a forged or replayed packet of a key holder can have put
	 * our next id in the table: skip the id rather than stay stuck. */
	if (err == -EEXIST)
		id_used(m);
	if (err)
		return err;
	id_used(m);
	if (m->io.seen)
		m->io.seen(m->io.ctx, msg->id, now_ns);
	msg->origin_id = m->cfg.self_id;
	msg->sender_id = m->cfg.self_id;
	msg->origin_ms = m->io.now_ms_real(m->io.ctx);
	return 0;
}

/* The origin does not deliver its own message: the application that
 * called us already has it, and handing it back would make every
 * application filter out its own messages.  It is marked seen so copies
 * that come back are duplicates, and cached so the origin can answer
 * pulls like any other member. */
int xg_msgr_broadcast(struct xg_msgr *m, const char *topic,
		      const void *payload, size_t len, uint64_t now_ns,
		      uint8_t id_out[XG_MSG_ID_LEN])
{
	struct xg_msg msg;
	int err;

	if (!m)
		return -EINVAL;
	err = bcast_check(topic, payload, len);
	if (err)
		return err;
	now_ns = xg_msgr_advance(m, now_ns);
	err = xg_msgr_claim_id(m, &msg, now_ns);
	if (err)
		return err;
	memcpy(msg.topic, topic, strlen(topic));
	msg.payload = payload;
	msg.payload_len = (uint32_t)len;
	/* Hops in packets we send: 0 from the origin, one more per
	 * forward. */
	if (xg_cache_put(&m->cache, &msg, 0, now_ns) == -ENOMEM)
		m->st.alloc_failures++;
	xg_msgr_push_out(m, &msg, 0, now_ns);
	m->st.broadcasts++;
	if (id_out)
		memcpy(id_out, msg.id, XG_MSG_ID_LEN);
	xg_msgr_gauges(m);
	return 0;
}
