/* SPDX-License-Identifier: MIT */
/*
 * This node as a PING-REQ helper (SWIM section 3.1): probe the target on
 * the requester's behalf with a PING of our own, relay the target's ACK
 * back under the requester's sequence number, or say NACK when our probe
 * times out (a little before the requester's window closes).  The NACK
 * carries no verdict; it tells the requester that the helper itself was
 * reachable, which Lifeguard uses to judge whether the requester's own
 * network is the problem.
 *
 * The table is a fixed array: a helper serves a handful of requests per
 * probe interval, and a fixed bound keeps a PING-REQ flood from costing
 * memory.
 */
#include "core/core_internal.h"

static struct xg_indirect *free_slot(struct xg_core *c)
{
	size_t i;

	for (i = 0; i < XG_INDIRECT_MAX; i++)
		if (!c->indirect[i].used)
			return &c->indirect[i];
	return NULL;
}

/* How long we wait for the target before we NACK.  The requester counts
 * a NACK only if it arrives before its indirect phase ends, at least
 * (probe_interval - probe_timeout) after it sent the PING-REQ; with the
 * usual timeout of half the interval, waiting the full probe timeout would
 * make every NACK arrive a network round trip too late and count as
 * missing against the requester's local health.  So we give up after four
 * fifths of that window at most, which leaves the rest for the round trip.
 * The target's ACK, if any, comes within a round trip, long before. */
static uint64_t nack_after(const struct xg_core *c)
{
	uint64_t window = c->cfg.probe_interval_ns - c->cfg.probe_timeout_ns;

	return xg_min64(c->cfg.probe_timeout_ns, window - window / 5);
}

void xg_indirect_on_req(struct xg_core *c, const struct xg_ping_req_msg *m,
			const struct xg_addr *from, uint64_t now_ns)
{
	struct xg_indirect *s;
	struct xg_member *t;
	uint32_t seq;
	uint8_t flags = 0;

	c->stats.ping_reqs_recv++;
	if (c->left || m->target_id == c->self->info.id)
		return;
	s = free_slot(c);
	if (!s)
		return;
	/* Pass our own doubt on: the buddy flag lets a suspect target
	 * refute sooner, whoever probes it. */
	t = xg_members_find(&c->members, m->target_id);
	if (t && t->info.state == XG_SUSPECT)
		flags = XG_F_SUSPECTED;
	seq = c->next_seq++;
	if (xg_probe_send_ping(c, m->target_id, &m->target, seq, flags, now_ns))
		return;
	*s = (struct xg_indirect){
		.used = true,
		.seq = seq,
		.req_seq = m->seq,
		.req_id = m->sender_id,
		.req_ts = m->ts_ns,
		.target_id = m->target_id,
		.deadline_ns = xg_sat_add(now_ns, nack_after(c)),
		.req_addr = *from,
		.target = m->target,
	};
}

static void reply(struct xg_core *c, const struct xg_indirect *s,
		  uint8_t type, uint8_t flags)
{
	struct xg_probe_msg m = {
		.type = type,
		.flags = flags,
		.key_id = c->cfg.key_id,
		.cluster_id = c->cfg.cluster_id,
		.seq = s->req_seq,
		.target_id = s->req_id,
		.ts_ns = s->req_ts,
	};
	uint8_t buf[sizeof(struct xg_probe)];
	ssize_t len;

	if (type == XG_T_ACK) {
		/* Relayed: it speaks for the target, so the requester can
		 * match it exactly like a direct ACK. */
		m.flags |= XG_F_INDIRECT;
		m.sender_id = s->target_id;
	} else {
		m.sender_id = c->self->info.id;
	}
	len = xg_probe_encode(&m, c->cfg.probe_key, buf, sizeof(buf));
	if (len < 0 || xg_send(c, &s->req_addr, buf, (size_t)len))
		return;
	if (type == XG_T_ACK)
		c->stats.acks_sent++;
	else
		c->stats.nacks_sent++;
}

bool xg_indirect_on_ack(struct xg_core *c, const struct xg_probe_msg *m)
{
	size_t i;

	for (i = 0; i < XG_INDIRECT_MAX; i++) {
		struct xg_indirect *s = &c->indirect[i];

		if (s->used && s->seq == m->seq &&
		    s->target_id == m->sender_id) {
			reply(c, s, XG_T_ACK, 0);
			s->used = false;
			return true;
		}
	}
	return false;
}

/* The target's XDP program says its agent is hung (a NACK from the
 * target, flagged XG_F_REFUSED, answering our PING): pass that on now, as
 * for a refused PING. */
bool xg_indirect_on_nack(struct xg_core *c, const struct xg_probe_msg *m)
{
	size_t i;

	if (!(m->flags & XG_F_REFUSED))
		return false;
	for (i = 0; i < XG_INDIRECT_MAX; i++) {
		struct xg_indirect *s = &c->indirect[i];

		if (s->used && s->seq == m->seq &&
		    s->target_id == m->sender_id) {
			reply(c, s, XG_T_NACK, XG_F_REFUSED);
			s->used = false;
			c->stats.pings_refused++;
			return true;
		}
	}
	return false;
}

/* The target's host refused our PING: say so now rather than at the
 * deadline, so the requester can decide (probe.c). */
unsigned xg_indirect_on_refused(struct xg_core *c, const struct xg_addr *to)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < XG_INDIRECT_MAX; i++) {
		struct xg_indirect *s = &c->indirect[i];

		if (s->used && xg_addr_equal(&s->target, to)) {
			reply(c, s, XG_T_NACK, XG_F_REFUSED);
			s->used = false;
			n++;
		}
	}
	return n;
}

void xg_indirect_tick(struct xg_core *c, uint64_t now_ns)
{
	size_t i;

	for (i = 0; i < XG_INDIRECT_MAX; i++) {
		struct xg_indirect *s = &c->indirect[i];

		if (s->used && s->deadline_ns <= now_ns) {
			reply(c, s, XG_T_NACK, 0);
			s->used = false;
		}
	}
}

uint64_t xg_indirect_deadline(const struct xg_core *c)
{
	uint64_t best = UINT64_MAX;
	size_t i;

	for (i = 0; i < XG_INDIRECT_MAX; i++)
		if (c->indirect[i].used)
			best = xg_min64(best, c->indirect[i].deadline_ns);
	return best;
}
