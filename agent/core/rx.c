/* SPDX-License-Identifier: MIT */
/*
 * Incoming probes: PING, ACK and NACK.  Every probe is authenticated by the
 * codec before anything here looks at it.
 *
 * A PING for another node id is not an error: the XDP program passes such
 * PINGs up, and after a restart with a new id old members keep probing the
 * old one at our address until they give up on it.  We count it and stay
 * silent, so the old id is declared dead as it should be.
 */
#include <errno.h>

#include "core/core_internal.h"

static void answer_ping(struct xg_core *c, const struct xg_probe_msg *m,
			const struct xg_addr *from)
{
	struct xg_probe_msg ack = {
		.type = XG_T_ACK,
		.key_id = c->cfg.key_id,
		.cluster_id = c->cfg.cluster_id,
		.seq = m->seq,
		.sender_id = c->self->info.id,
		.target_id = m->sender_id,
		.ts_ns = m->ts_ns,
	};
	uint8_t buf[sizeof(struct xg_probe)];
	ssize_t len;

	len = xg_probe_encode(&ack, c->cfg.probe_key, buf, sizeof(buf));
	if (len >= 0 && xg_send(c, from, buf, (size_t)len) == 0)
		c->stats.acks_sent++;
}

static void on_ping(struct xg_core *c, const struct xg_probe_msg *m,
		    const struct xg_addr *from, uint64_t now_ns)
{
	c->stats.pings_recv++;
	if (m->target_id != c->self->info.id) {
		c->stats.pings_not_for_us++;
		return;
	}
	/* After a leave we are gone: answering would keep us "alive" in
	 * the eyes of members that have not heard the LEFT yet. */
	if (c->left)
		return;
	answer_ping(c, m, from);
	/* Gossip is probabilistic and sometimes misses a join; a prober we
	 * have never heard of is proof that it did.  Anti-entropy with the
	 * prober repairs it now rather than at the next periodic round. */
	if (!xg_members_find(&c->members, m->sender_id))
		xg_pushpull_evidence(c, from, now_ns);
	/* The buddy system: the prober suspects us.  Refute now rather
	 * than wait for the SUSPECT to reach us by gossip.  Skip it while
	 * an ALIVE of ours is still being spread, or every prober would
	 * push our incarnation up once more.  Being suspected at all is a
	 * sign we were slow to answer: Lifeguard raises our local health
	 * multiplier, once per refutation. */
	if (m->flags & XG_F_SUSPECTED)
		xg_buddy_notice(c, m->sender_id, now_ns);
}

void xg_buddy_notice(struct xg_core *c, uint64_t accuser, uint64_t now_ns)
{
	if (c->left || c->self->bcast)
		return;
	xg_lhm_raise(c, 1);
	if (xg_refute(c, c->self->info.incarnation, now_ns) == 0)
		xg_gossip_urgent(c, accuser);
}

static void on_ack(struct xg_core *c, const struct xg_probe_msg *m,
		   uint64_t rx_ns)
{
	struct xg_member *sender;

	c->stats.acks_recv++;
	if (m->target_id != c->self->info.id)
		return;
	/* An ACK from a member we suspect, whether it ends our probe, is
	 * late for it or is relayed for someone else: the member is up
	 * and has most likely refuted already, the news having missed
	 * us.  Only its incarnation can clear the suspicion (an ACK
	 * carries none), so fetch its state now rather than let our timer
	 * declare it dead. */
	sender = xg_members_find(&c->members, m->sender_id);
	if (sender && sender->info.state == XG_SUSPECT)
		xg_pushpull_evidence(c, &sender->info.addr, c->now_ns);
	if (xg_indirect_on_ack(c, m))
		return;
	xg_probe_on_ack(c, m, rx_ns);
}

static void on_nack(struct xg_core *c, const struct xg_probe_msg *m,
		    uint64_t rx_ns)
{
	c->stats.nacks_recv++;
	if (m->target_id != c->self->info.id)
		return;
	if (xg_indirect_on_nack(c, m))
		return;
	xg_probe_on_nack(c, m, rx_ns);
}

int xg_rx_probe(struct xg_core *c, const struct xg_addr *from,
		const void *buf, size_t len, uint64_t rx_ns)
{
	struct xg_probe_msg m;
	int err;

	const struct xg_core_key *k = xg_key_for(c, buf, len);

	if (!k)
		return -EACCES;
	err = xg_probe_decode(buf, len, k->probe, NULL, &m);
	if (err)
		return err;
	switch (m.type) {
	case XG_T_PING:
		on_ping(c, &m, from, c->now_ns);
		break;
	case XG_T_ACK:
		on_ack(c, &m, rx_ns);
		break;
	case XG_T_NACK:
		on_nack(c, &m, rx_ns);
		break;
	}
	return 0;
}

int xg_rx_ping_req(struct xg_core *c, const struct xg_addr *from,
		   const void *buf, size_t len)
{
	struct xg_ping_req_msg m;
	int err;

	const struct xg_core_key *k = xg_key_for(c, buf, len);

	if (!k)
		return -EACCES;
	err = xg_ping_req_decode(buf, len, k->probe, NULL, &m);
	if (err)
		return err;
	xg_indirect_on_req(c, &m, from, c->now_ns);
	return 0;
}
