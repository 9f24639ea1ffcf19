/* SPDX-License-Identifier: MIT */
/*
 * Large messages, the receiving side: what a member does with an
 * ANNOUNCE, which fetches it asks the daemon for and in what order, and
 * what it does with the outcome (docs/MESSAGING.md, "Large messages").
 *
 * A large want (msg_want.h) is created by the first ANNOUNCE of an id we
 * have not seen.  It queues for one of fetch_max slots; a fetch goes to
 * the first announcer, and when one fails the next goes, an ack timeout
 * later, to the next announcer we heard of and then the origin, up to
 * pull_tries fetches.  The body is accepted only when the daemon reports
 * it (it checked size and SHA-256); only then is the id marked seen, so a
 * member that never gets the body keeps hearing ANNOUNCEs for it (the XDP
 * program lets them through) and can try again.
 */
#include <errno.h>
#include <string.h>

#include "core/msg_int.h"

/* --- ANNOUNCE ----------------------------------------------------------- */

static void meta_of(struct xg_want_large *l, const struct xg_msg_pkt *p)
{
	memset(l, 0, sizeof(*l));
	l->size = p->size;
	l->origin_ms = p->msg.origin_ms;
	l->from = p->msg.sender_id;
	memcpy(l->sha256, p->sha256, XG_MSG_SHA256_LEN);
	l->hops = p->msg.hops;
	memcpy(l->topic, p->msg.topic, sizeof(l->topic));
}

/* The ACK says "your ANNOUNCE was my first notice of this message": it
 * goes out at once, before the fetch that may take seconds, so that the
 * announcer's round counts us instead of timing out and pull-syncing
 * members that are already fetching.  Nothing else is ACKed: a repeated
 * ANNOUNCE (no news), nor one that follows our PULL_REQUEST (the answer
 * to a pull, like a PULL_RESPONSE). */
int xg_msgr_on_announce(struct xg_msgr *m, const struct xg_msg_pkt *p)
{
	const struct xg_msg *msg = &p->msg;
	struct xg_want_large meta;
	struct xg_want *wt;
	bool first;
	int r;

	m->st.announces_recv++;
	r = xg_msgr_age_check(m, msg->origin_ms);
	if (r) {
		xg_msgr_want_forget(m, msg->id);
		return r;
	}
	if (xg_seen_has(&m->seen, msg->id)) {
		m->st.dups++;
		return 0;
	}
	if (!m->io.fetch || p->size > m->cfg.max_large) {
		m->st.large_refused++;
		return m->io.fetch ? -EMSGSIZE : -EOPNOTSUPP;
	}
	r = xg_wants_note(&m->wants, msg->id, msg->sender_id, &wt);
	if (r < 0) {
		m->st.pulls_dropped++;
		return 0;
	}
	/* Being fetched already: xg_wants_note kept the sender as one more
	 * source, and that is all. */
	if (wt->large)
		return 0;
	first = r == 1 || wt->tries == 0;
	meta_of(&meta, p);
	if (xg_wants_set_large(&m->wants, wt, &meta, msg->sender_id) < 0) {
		m->st.alloc_failures++;
		/* a gap want keeps pulling; a new one is not kept half made */
		if (r == 1)
			xg_wants_drop(&m->wants, wt);
		return 0;
	}
	if (first) {
		xg_msgr_send_ctrl(m, XG_T_PUSH_ACK, msg->id, msg->sender_id);
		m->st.acks_sent++;
	}
	xg_wants_queue(&m->wants, wt);
	return 0;
}

/* --- fetch slots -------------------------------------------------------- */

static void fetch_failed(struct xg_msgr *m, struct xg_want *wt,
			 uint64_t now_ns)
{
	m->st.fetches_failed++;
	if (wt->tries >= m->cfg.pull_tries) {
		m->st.fetches_given_up++;
		xg_wants_drop(&m->wants, wt);
		return;
	}
	xg_wants_wait(&m->wants, wt, now_ns + m->cfg.ack_timeout_ns);
}

/* The want moves to `running` before io->fetch is called, and is looked
 * up again after it: io->fetch must report later, from the loop, but a
 * daemon that reported from inside the call (and so freed the want) would
 * still leave the tables consistent. */
static void fetch_start(struct xg_msgr *m, struct xg_want *wt,
			uint64_t now_ns)
{
	uint64_t origin = xg_msg_id_origin(wt->node.id);
	uint8_t id[XG_MSG_ID_LEN];
	uint64_t from;
	int err;

	if (origin == m->cfg.self_id)
		origin = 0;
	from = xg_want_source(wt, origin);
	memcpy(id, wt->node.id, XG_MSG_ID_LEN);
	xg_wants_run(&m->wants, wt, from, now_ns + m->cfg.fetch_timeout_ns);
	err = from ? m->io.fetch(m->io.ctx, from, id, wt->large->size,
				 wt->large->sha256)
		   : -EHOSTUNREACH;
	if (err >= 0) {
		m->st.fetches_started++;
		return;
	}
	wt = xg_wants_find(&m->wants, id);
	if (wt && wt->state == XG_FETCH_RUNNING)
		fetch_failed(m, wt, now_ns);
}

/* Slots are handed out in queue order: first announced, first fetched
 * (retries queue again at the back). */
void xg_msgr_fetch_pump(struct xg_msgr *m, uint64_t now_ns)
{
	struct xg_want *wt;

	while (m->wants.nrunning < m->cfg.fetch_max) {
		wt = xg_wants_queue_head(&m->wants);
		if (!wt)
			break;
		fetch_start(m, wt, now_ns);
	}
}

void xg_msgr_large_want_expired(struct xg_msgr *m, struct xg_want *wt,
				uint64_t now_ns)
{
	(void)now_ns;
	xg_wants_queue(&m->wants, wt);
}

void xg_msgr_fetch_overdue(struct xg_msgr *m, uint64_t now_ns)
{
	struct xg_want *wt;
	size_t n;

	for (n = 0; n < XG_MSG_TICK_BUDGET; n++) {
		wt = xg_wants_overdue(&m->wants, now_ns);
		if (!wt)
			break;
		m->st.fetches_timed_out++;
		fetch_failed(m, wt, now_ns);
	}
}

/* --- the daemon's report ------------------------------------------------ */

/* As a PUSH received first (msg_rx.c, on_data): mark seen, cache, announce
 * on to members other than the one we fetched from, note sequence gaps,
 * deliver last (the application may broadcast from its callback). */
static int accept_body(struct xg_msgr *m, struct xg_want *wt,
		       const void *body, size_t len, uint64_t now_ns)
{
	struct xg_want_large l = *wt->large;
	struct xg_msg msg;
	uint8_t hops_out;
	int err;

	memset(&msg, 0, sizeof(msg));
	memcpy(msg.id, wt->node.id, XG_MSG_ID_LEN);
	msg.origin_id = xg_msg_id_origin(msg.id);
	msg.sender_id = l.from;
	msg.origin_ms = l.origin_ms;
	msg.hops = l.hops;
	memcpy(msg.topic, l.topic, sizeof(msg.topic));
	msg.payload = body;
	msg.payload_len = (uint32_t)len;
	/* A fetch that took long, with retries, may end past the age
	 * limit: refused as a late PUSH would be. */
	err = xg_msgr_age_check(m, msg.origin_ms);
	if (err) {
		xg_wants_drop(&m->wants, wt);
		return err;
	}
	err = xg_seen_add(&m->seen, msg.id, now_ns);
	if (err) {
		if (err == -ENOBUFS)
			m->st.refused_full++;
		fetch_failed(m, wt, now_ns);
		return err;
	}
	if (m->io.seen)
		m->io.seen(m->io.ctx, msg.id, now_ns);
	xg_wants_drop(&m->wants, wt);
	m->st.fetches_ok++;
	hops_out = l.hops < UINT8_MAX ? (uint8_t)(l.hops + 1) : UINT8_MAX;
	if (xg_cache_put_large(&m->cache, &msg, l.size, l.sha256, hops_out,
			       now_ns) == -ENOMEM)
		m->st.alloc_failures++;
	if (l.hops < XG_MSG_HOP_LIMIT) {
		msg.hops = hops_out;
		xg_msgr_announce_out(m, &msg, l.size, l.sha256, l.from, now_ns);
		msg.hops = l.hops;
	} else {
		m->st.hop_limited++;
	}
	xg_msgr_gap_check(m, &msg, now_ns);
	/* The slot is free: the next fetch starts before the application
	 * gets control. */
	xg_msgr_fetch_pump(m, now_ns);
	m->st.delivered++;
	m->io.deliver(m->io.ctx, &msg);
	return 0;
}

/* A success is taken whatever state the fetch is in (it may have been
 * given up for overdue and queued again): the daemon verified the body,
 * and the id is not seen yet.  A failure counts only for the fetch under
 * way; any other is the echo of one already counted. */
static int report(struct xg_msgr *m, struct xg_want *wt, int err,
		  const void *body, size_t len, uint64_t now_ns)
{
	if (!err && (len != wt->large->size || !body))
		err = -EBADMSG;
	if (!err)
		return accept_body(m, wt, body, len, now_ns);
	if (wt->state != XG_FETCH_RUNNING) {
		m->st.fetches_stale++;
		return -ENOENT;
	}
	fetch_failed(m, wt, now_ns);
	return err == -EBADMSG ? err : 0;
}

int xg_msgr_fetched(struct xg_msgr *m, const uint8_t id[XG_MSG_ID_LEN],
		    int err, const void *body, size_t len, uint64_t now_ns)
{
	struct xg_want *wt;
	int r;

	if (!m || !id)
		return -EINVAL;
	now_ns = xg_msgr_advance(m, now_ns);
	wt = xg_wants_find(&m->wants, id);
	if (!wt || !wt->large) {
		m->st.fetches_stale++;
		return -ENOENT;
	}
	r = report(m, wt, err > 0 ? -err : err, body, len, now_ns);
	xg_msgr_fetch_pump(m, now_ns);
	xg_msgr_gauges(m);
	return r;
}
