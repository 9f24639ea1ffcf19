/* SPDX-License-Identifier: MIT */
/*
 * GOSSIP rounds: every gossip interval, while there is news, send one
 * datagram to each of gossip_nodes random members.  Each destination gets
 * its own packet filled from the queue, because every inclusion counts as
 * one transmission towards the update's retransmit limit.
 *
 * Recently dead members still get gossip for gossip_to_dead_ns: a member
 * wrongly declared dead learns it that way and can refute, instead of
 * staying out until the next push/pull.  Members that left do not.
 */
#include <errno.h>

#include "core/core_internal.h"

static bool gossip_target(const struct xg_core *c, const struct xg_member *m,
			  const void *arg)
{
	uint64_t now_ns = *(const uint64_t *)arg;

	if (m->info.is_self)
		return false;
	if (m->info.state == XG_ALIVE || m->info.state == XG_SUSPECT)
		return true;
	/* A member that left will not refute anything: gossip to it
	 * would only take transmissions from members that need them. */
	return m->info.state == XG_DEAD &&
	       now_ns - m->info.state_since_ns < c->cfg.gossip_to_dead_ns;
}

bool xg_gossip_has_targets(const struct xg_core *c)
{
	const struct xg_members *t = &c->members;
	size_t live_others = xg_members_live(t) -
			     (c->self->info.state == XG_ALIVE ? 1 : 0);

	/* The gone list over-approximates "dead for less than
	 * gossip_to_dead_ns": at worst a round finds nobody. */
	return live_others > 0 ||
	       (c->cfg.gossip_to_dead_ns && !xg_list_empty(&t->gone));
}

static void send_to(struct xg_core *c, const struct xg_member *m)
{
	struct xg_batch b;
	ssize_t len;

	if (xg_batch_begin(&b, XG_T_GOSSIP, 0, c->cfg.cluster_id,
			   c->self->info.id, c->pkt, sizeof(c->pkt)))
		return;
	if (xg_dissem_fill(c, &b, m) == 0)
		return;
	len = xg_batch_finish_kid(&b, c->cfg.key_id, c->cfg.gossip_key);
	if (len < 0)
		return;
	if (xg_send(c, &m->info.addr, c->pkt, (size_t)len) == 0)
		c->stats.gossip_sent++;
}

void xg_gossip_round(struct xg_core *c, uint64_t now_ns)
{
	size_t k, i;

	if (xg_dissem_len(c) == 0)
		return;
	k = xg_pick_random(c, c->cfg.gossip_nodes, gossip_target, &now_ns);
	for (i = 0; i < k; i++)
		send_to(c, c->scratch[i]);
}

int xg_gossip_on_packet(struct xg_core *c, const void *buf, size_t len,
			uint64_t now_ns)
{
	struct xg_batch_reader r;
	int err;

	const struct xg_core_key *k = xg_key_for(c, buf, len);

	if (!k)
		return -EACCES;
	err = xg_batch_open(&r, buf, len, k->mac, NULL);
	if (err)
		return err;
	if (r.type != XG_T_GOSSIP)
		return -EPROTO;
	c->stats.gossip_recv++;
	return xg_apply_batch(c, &r, XG_SRC_GOSSIP, now_ns);
}

void xg_gossip_urgent(struct xg_core *c, uint64_t accuser)
{
	c->urgent = true;
	if (accuser && accuser != c->self->info.id)
		c->urgent_to = accuser;
}

void xg_gossip_urgent_flush(struct xg_core *c, uint64_t now_ns)
{
	const struct xg_member *m;

	if (!c->urgent)
		return;
	c->urgent = false;
	m = c->urgent_to ? xg_members_find(&c->members, c->urgent_to) : NULL;
	c->urgent_to = 0;
	if (m && gossip_target(c, m, &now_ns))
		send_to(c, m);
	xg_gossip_round(c, now_ns);
}
