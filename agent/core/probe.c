/* SPDX-License-Identifier: MIT */
/*
 * This node as prober (SWIM section 3.1).  One probe per interval:
 *
 *   sent ──direct phase──▶ timeout ──indirect phase──▶ end
 *   PING                   PING-REQ to k helpers        no ACK: SUSPECT
 *
 * An ACK, direct or relayed, ends the probe as a success if it reached
 * this host by `end`: "in time" is judged by the packet's kernel receive
 * time, not by when the agent got round to reading it, so a busy or paused
 * agent does not accuse healthy peers.  A direct ACK that comes late, during
 * the indirect phase, counts too: the member is evidently alive.
 *
 * If the agent reaches the indirect phase late (it was descheduled), the
 * end moves out so the helpers still get the full indirect window; a probe
 * must never fail just because we did not let it run.
 *
 * Lifeguard: every phase is stretched by the local health multiplier as it
 * stood when the probe started (LHM + 1), and the probe's outcome feeds it
 * back: an ACK in time lowers it by one; a failure raises it by one for the
 * missing ACK and by one more for each helper that sent no NACK by `end`.
 * A helper that answers NACK is working and reachable, so its silence is
 * evidence against our own side of the network rather than the target's.
 *
 * A refused PING (the target's host answered ICMP port unreachable: no
 * socket is bound there, the agent is not running) ends the direct phase
 * at once; waiting for an ACK nobody can send would only delay the
 * verdict.  When a helper's PING was refused too (a NACK flagged
 * XG_F_REFUSED), two hosts have heard the target's kernel say so and the
 * probe fails then, not at `end`.  One refusal alone does not: ICMP is
 * unauthenticated and the helpers may still reach the member.  Such a
 * failure does not count against our local health either, since the
 * target's host did answer us.  The member is only suspected, as for any
 * failed probe: an agent that is restarting refutes with its next life.
 */
#include "core/core_internal.h"

int xg_probe_send_ping(struct xg_core *c, uint64_t target_id,
		       const struct xg_addr *to, uint32_t seq, uint8_t flags,
		       uint64_t now_ns)
{
	struct xg_probe_msg m = {
		.type = XG_T_PING,
		.flags = flags,
		.key_id = c->cfg.key_id,
		.cluster_id = c->cfg.cluster_id,
		.seq = seq,
		.sender_id = c->self->info.id,
		.target_id = target_id,
		.ts_ns = now_ns,
	};
	uint8_t buf[sizeof(struct xg_probe)];
	ssize_t len;
	int err;

	len = xg_probe_encode(&m, c->cfg.probe_key, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	err = xg_send(c, to, buf, (size_t)len);
	if (!err)
		c->stats.pings_sent++;
	return err;
}

static void start(struct xg_core *c, uint64_t now_ns)
{
	struct xg_probe_run *p = &c->probe;
	struct xg_member *m = xg_order_next(c);

	if (!m)
		return;
	*p = (struct xg_probe_run){
		.active = true,
		.target_id = m->info.id,
		.target_inc = m->info.incarnation,
		.seq = c->next_seq++,
		.sent_ns = now_ns,
		.timeout_ns = xg_sat_add(now_ns, xg_lhm_scale(c,
					 c->cfg.probe_timeout_ns)),
		.end_ns = xg_sat_add(now_ns, xg_lhm_scale(c,
				     c->cfg.probe_interval_ns)),
		.scale = c->lhm + 1,
	};
	/* A send error is already counted in tx_errors; the probe runs on
	 * and fails like any lost PING would, which is the honest outcome
	 * if we cannot reach the member. */
	(void)xg_probe_send_ping(c, m->info.id, &m->info.addr, p->seq,
				 m->info.state == XG_SUSPECT ? XG_F_SUSPECTED
							     : 0,
				 now_ns);
}

static bool helper_ok(const struct xg_core *c, const struct xg_member *m,
		      const void *arg)
{
	(void)c;
	return !m->info.is_self && m->info.state == XG_ALIVE &&
	       m->info.id != *(const uint64_t *)arg;
}

static void go_indirect(struct xg_core *c, uint64_t now_ns)
{
	struct xg_probe_run *p = &c->probe;
	struct xg_member *t = xg_members_find(&c->members, p->target_id);
	struct xg_ping_req_msg req;
	uint8_t buf[sizeof(struct xg_ping_req)];
	uint64_t late_end;
	ssize_t len;
	size_t k, i;

	p->indirect_sent = true;
	if (!t || (t->info.state != XG_ALIVE && t->info.state != XG_SUSPECT)) {
		/* Declared dead or left meanwhile: nothing to decide. */
		p->active = false;
		return;
	}
	late_end = xg_sat_add(now_ns, xg_mul_sat(c->cfg.probe_interval_ns -
						 c->cfg.probe_timeout_ns,
						 p->scale));
	if (p->end_ns < late_end)
		p->end_ns = late_end;
	k = xg_pick_random(c, c->cfg.indirect_checks, helper_ok,
			   &p->target_id);
	if (k == 0)
		return;
	req = (struct xg_ping_req_msg){
		.key_id = c->cfg.key_id,
		.cluster_id = c->cfg.cluster_id,
		.seq = p->seq,
		.sender_id = c->self->info.id,
		.target_id = t->info.id,
		.ts_ns = p->sent_ns,
		.target = t->info.addr,
	};
	len = xg_ping_req_encode(&req, c->cfg.probe_key, buf, sizeof(buf));
	if (len < 0)
		return;
	for (i = 0; i < k; i++) {
		if (xg_send(c, &c->scratch[i]->info.addr, buf, (size_t)len))
			continue;
		c->stats.ping_reqs_sent++;
		p->helpers++;
	}
}

static void fail(struct xg_core *c, uint64_t now_ns)
{
	struct xg_probe_run *p = &c->probe;
	struct xg_member *t = xg_members_find(&c->members, p->target_id);
	struct xg_update_msg u;

	p->active = false;
	c->stats.probes_failed++;
	if (!p->refused)
		xg_lhm_raise(c, 1 + p->helpers -
				(p->nacks < p->helpers ? p->nacks
						       : p->helpers));
	if (!t || (t->info.state != XG_ALIVE && t->info.state != XG_SUSPECT))
		return;
	/* Accuse the incarnation we probed.  If the member restarted or
	 * refuted meanwhile, that SUSPECT is stale and changes nothing: a
	 * probe sent to an old life says nothing about the new one. */
	xg_member_to_update(t, c->self->info.id, false, &u);
	u.state = XG_SUSPECT;
	u.incarnation = p->target_inc;
	/* The only possible error is ENOMEM while queueing the gossip; the
	 * suspicion itself is recorded and its timer runs regardless. */
	(void)xg_apply_update(c, &u, XG_SRC_LOCAL, now_ns);
}

void xg_probe_tick(struct xg_core *c, uint64_t now_ns)
{
	struct xg_probe_run *p = &c->probe;

	if (c->left) {
		p->active = false;
		return;
	}
	if (p->active && !p->indirect_sent && now_ns >= p->timeout_ns)
		go_indirect(c, now_ns);
	if (p->active && p->indirect_sent && now_ns >= p->end_ns)
		fail(c, now_ns);
	if (!p->active && now_ns >= c->next_probe_ns) {
		start(c, now_ns);
		c->next_probe_ns = xg_sat_add(now_ns, xg_lhm_scale(c,
					      c->cfg.probe_interval_ns));
	}
}

uint64_t xg_probe_deadline(const struct xg_core *c)
{
	const struct xg_probe_run *p = &c->probe;

	if (c->left)
		return UINT64_MAX;
	if (p->active)
		return p->indirect_sent ? p->end_ns : p->timeout_ns;
	return c->next_probe_ns;
}

void xg_probe_on_ack(struct xg_core *c, const struct xg_probe_msg *m,
		     uint64_t rx_ns)
{
	struct xg_probe_run *p = &c->probe;

	if (!p->active || m->seq != p->seq || m->sender_id != p->target_id)
		return;
	if (rx_ns > p->end_ns)
		return;
	p->active = false;
	xg_lhm_lower(c);
}

/* Our PING will get no ACK: the target's host refused it, or said its
 * agent is hung. */
static void target_refused(struct xg_core *c, uint64_t now_ns)
{
	struct xg_probe_run *p = &c->probe;

	p->refused = true;
	if (!p->indirect_sent)
		go_indirect(c, now_ns);
	else if (p->refused_nacks)
		fail(c, now_ns);
}

/* Counted until the probe ends, by arrival time like ACKs.  The count is
 * capped at the helpers asked when it is used: a duplicated datagram can
 * hide one missing NACK, never invent a penalty. */
void xg_probe_on_nack(struct xg_core *c, const struct xg_probe_msg *m,
		      uint64_t rx_ns)
{
	struct xg_probe_run *p = &c->probe;

	if (!p->active || m->seq != p->seq || rx_ns > p->end_ns)
		return;
	/* From the target itself: its host says the agent is hung (the XDP
	 * program, bpf/xg_probe.h), as good as a refused PING. */
	if (m->sender_id == p->target_id) {
		if ((m->flags & XG_F_REFUSED) && !p->refused) {
			c->stats.pings_refused++;
			target_refused(c, c->now_ns);
		}
		return;
	}
	if (!p->indirect_sent)
		return;
	p->nacks++;
	if (m->flags & XG_F_REFUSED)
		p->refused_nacks++;
	if (p->refused && p->refused_nacks)
		fail(c, c->now_ns);
}

bool xg_probe_on_refused(struct xg_core *c, const struct xg_addr *to,
			 uint64_t now_ns)
{
	struct xg_probe_run *p = &c->probe;
	const struct xg_member *t;

	if (!p->active || p->refused)
		return false;
	t = xg_members_find(&c->members, p->target_id);
	if (!t || !xg_addr_equal(&t->info.addr, to))
		return false;
	target_refused(c, now_ns);
	return true;
}
