/* SPDX-License-Identifier: MIT */
/*
 * Incarnation precedence: how an update about a member is weighed against
 * what this node already believes.  GOSSIP, push/pull STATE and this
 * node's own failure detector all come through here, so one set of rules
 * decides every state change (docs/CORE.md has the table and the why).
 *
 *   ALIVE   i' overrides ALIVE/SUSPECT/DEAD/LEFT i when i' > i
 *   SUSPECT i' overrides ALIVE i when i' >= i, SUSPECT i when i' > i
 *   DEAD    i' overrides ALIVE/SUSPECT/DEAD i when i' >= i, LEFT when i' > i
 *   LEFT    i' overrides anything when i' >= i
 *
 * Only the member itself raises its incarnation, so a higher incarnation
 * is always newer news, and at equal incarnations the "worse" state wins
 * because it was raised about that very incarnation.  LEFT wins a tie with
 * DEAD: it is the member's own word and it spares everyone a FAIL event
 * for a graceful exit.
 */
#include <errno.h>
#include <string.h>

#include "core/core_internal.h"

static int applied(struct xg_core *c, enum xg_source src, int err)
{
	if (src != XG_SRC_LOCAL)
		c->stats.updates_applied++;
	return err ? err : XG_APPLY_CHANGED;
}

/* Stale updates are counted and, by not being queued, not re-gossiped:
 * that is what makes old news die out. */
static int stale(struct xg_core *c, enum xg_source src)
{
	if (src != XG_SRC_LOCAL)
		c->stats.updates_stale++;
	return XG_APPLY_STALE;
}

/* Would our view of m override u under the precedence rules? */
static bool we_know_better(const struct xg_member *m,
			   const struct xg_update_msg *u)
{
	enum xg_state ours = m->info.state;

	if (m->info.incarnation != u->incarnation)
		return m->info.incarnation > u->incarnation;
	switch (ours) {
	case XG_ALIVE:
		return false;
	case XG_SUSPECT:
		return u->state == XG_ALIVE;
	case XG_DEAD:
		return u->state == XG_ALIVE || u->state == XG_SUSPECT;
	case XG_LEFT:
		return u->state != XG_LEFT;
	}
	return false;
}

/* A stale update that contradicts a newer state we hold means its sender
 * missed our news: dissemination is probabilistic and some member always
 * misses some update.  Spreading our newer state again (once: not while
 * it is still queued) reaches that member long before its own suspicion
 * timer runs out, which is what keeps a missed LEFT from ending as a
 * FAIL, or a missed refutation from ending as a false DEAD.  Incarnations
 * only grow, so this cannot ping-pong.  Pure echoes (same state, same
 * incarnation) change nothing. */
static int stale_contradiction(struct xg_core *c, struct xg_member *m,
			       const struct xg_update_msg *u,
			       enum xg_source src)
{
	int err = 0;

	if (src == XG_SRC_GOSSIP && !m->bcast && we_know_better(m, u))
		err = xg_dissem_queue(c, m, m->from_id);
	stale(c, src);
	return err ? err : XG_APPLY_STALE;
}

int xg_refute(struct xg_core *c, uint32_t theirs, uint64_t now_ns)
{
	struct xg_member *self = c->self;
	uint32_t base = self->info.incarnation > theirs ?
				self->info.incarnation : theirs;

	/* At the top of the range there is nothing higher to claim. */
	if (base == UINT32_MAX)
		return -EOVERFLOW;
	self->info.incarnation = base + 1;
	self->from_id = self->info.id;
	xg_member_set_state(c, self, XG_ALIVE, now_ns);
	c->stats.refutes++;
	xg_emit(c, XG_EV_REFUTE, self, now_ns);
	return xg_dissem_queue(c, self, self->info.id);
}

static int about_self(struct xg_core *c, const struct xg_update_msg *u,
		      enum xg_source src, uint64_t now_ns)
{
	uint32_t ours = c->self->info.incarnation;
	bool refute;

	/* A leaving node defends nothing: its LEFT must win. */
	if (c->left)
		return stale_contradiction(c, c->self, u, src);
	switch (u->state) {
	case XG_ALIVE:
		/* Someone holds a newer incarnation of us, from before a
		 * restart that lost ours: claim one above it. */
		refute = u->incarnation > ours;
		break;
	case XG_SUSPECT:
		refute = u->incarnation >= ours;
		break;
	default:
		/* DEAD or LEFT.  A push/pull peer holding us dead at an
		 * older incarnation has missed our refutation; answering
		 * again is cheap and spreads from a fresh source. */
		refute = u->incarnation >= ours || src == XG_SRC_STATE;
		break;
	}
	if (!refute)
		return stale_contradiction(c, c->self, u, src);
	/* Lifeguard: an accusation of the life we are living says we were
	 * too slow for someone; count it against our local health.  A
	 * newer ALIVE of ours (a previous life) or an old one a push/pull
	 * peer still holds says nothing about how we are doing now. */
	if (u->state != XG_ALIVE && u->incarnation >= ours) {
		xg_lhm_raise(c, 1);
		xg_gossip_urgent(c, u->from_id);
	}
	return applied(c, src, xg_refute(c, u->incarnation, now_ns));
}

static int join(struct xg_core *c, const struct xg_update_msg *u,
		enum xg_source src, uint64_t now_ns)
{
	struct xg_member *m, *old;
	int err;

	/* Only the member's own ALIVE may add it: a SUSPECT or DEAD about
	 * someone we never knew (or already reaped) would be a ghost. */
	if (u->state != XG_ALIVE)
		return stale(c, src);
	/* Same name, new id: the node restarted without its state dir.
	 * The dead entry would otherwise linger (and be reported) for the
	 * whole reclaim period. */
	old = xg_members_find_gone_name(&c->members, u->name);
	if (old)
		xg_members_remove(c, old);
	m = xg_members_add(c, u, now_ns);
	if (!m)
		return -ENOMEM;
	err = xg_order_insert(c, m->info.id);
	xg_emit(c, XG_EV_JOIN, m, now_ns);
	if (!err)
		err = xg_dissem_queue(c, m, m->info.id);
	return applied(c, src, err);
}

static bool info_differs(const struct xg_member *m,
			 const struct xg_update_msg *u)
{
	return !xg_addr_equal(&m->info.addr, &u->addr) ||
	       m->info.meta_len != u->meta_len ||
	       memcmp(m->info.meta, u->meta, u->meta_len) != 0 ||
	       strcmp(m->info.name, u->name) != 0;
}

static int alive(struct xg_core *c, struct xg_member *m,
		 const struct xg_update_msg *u, enum xg_source src,
		 uint64_t now_ns)
{
	enum xg_state old = m->info.state;
	bool update;
	int err = 0;

	if (u->incarnation <= m->info.incarnation)
		return stale_contradiction(c, m, u, src);
	update = info_differs(m, u);
	m->info.incarnation = u->incarnation;
	m->info.addr = u->addr;
	memcpy(m->info.name, u->name, sizeof(m->info.name));
	m->info.meta_len = u->meta_len;
	memcpy(m->info.meta, u->meta, u->meta_len);
	m->info.flags = u->flags;
	m->from_id = m->info.id;
	xg_member_set_state(c, m, XG_ALIVE, now_ns);
	/* Dead members were left out of the probe order. */
	if (old == XG_DEAD || old == XG_LEFT)
		err = xg_order_insert(c, m->info.id);
	if (old != XG_ALIVE)
		xg_emit(c, XG_EV_ALIVE, m, now_ns);
	if (update)
		xg_emit(c, XG_EV_UPDATE, m, now_ns);
	if (!err)
		err = xg_dissem_queue(c, m, m->info.id);
	return applied(c, src, err);
}

static int suspect(struct xg_core *c, struct xg_member *m,
		   const struct xg_update_msg *u, enum xg_source src,
		   uint64_t now_ns)
{
	uint32_t inc = m->info.incarnation;
	int err = 0;

	switch (m->info.state) {
	case XG_ALIVE:
		if (u->incarnation < inc)
			return stale_contradiction(c, m, u, src);
		break;
	case XG_SUSPECT:
		if (u->incarnation == inc) {
			/* Same suspicion: only a new confirmer is news, and
			 * spreading it is what lets Lifeguard count them. */
			if (!xg_suspicion_confirm(c, m, u->from_id, now_ns))
				return stale_contradiction(c, m, u, src);
			/* Confirmed past its deadline: the member is DEAD
			 * now and that news is queued already. */
			if (m->info.state != XG_SUSPECT)
				return applied(c, src, 0);
			return applied(c, src,
				       xg_dissem_queue(c, m, u->from_id));
		}
		if (u->incarnation < inc)
			return stale_contradiction(c, m, u, src);
		break;
	default:
		return stale_contradiction(c, m, u, src);
	}
	/* A suspicion of a newer incarnation than we know carries that
	 * incarnation's flags, as its suspecter learnt them. */
	if (u->incarnation > m->info.incarnation)
		m->info.flags = u->flags;
	m->info.incarnation = u->incarnation;
	m->from_id = u->from_id;
	if (m->info.state == XG_ALIVE) {
		xg_member_set_state(c, m, XG_SUSPECT, now_ns);
		if (src == XG_SRC_LOCAL)
			c->stats.suspicions_raised++;
		xg_suspicion_start(c, m, u->from_id, now_ns);
		xg_emit(c, XG_EV_SUSPECT, m, now_ns);
		/* Probe it next, with the buddy flag, rather than whenever
		 * the round robin comes round (likely after our timer ran
		 * out): a suspect that answers is fetched by push/pull, which
		 * brings its refutation if gossip missed us.  For our own
		 * suspicion it is a second chance; for someone else's it is
		 * our own check. */
		err = xg_order_probe_next(c, m->info.id);
	} else {
		/* A suspicion of a newer incarnation is a new suspicion:
		 * the member gets a full window to refute it. */
		xg_suspicion_start(c, m, u->from_id, now_ns);
	}
	if (!err)
		err = xg_dissem_queue(c, m, u->from_id);
	return applied(c, src, err);
}

static int gone(struct xg_core *c, struct xg_member *m,
		const struct xg_update_msg *u, enum xg_source src,
		uint64_t now_ns)
{
	enum xg_state old = m->info.state;
	enum xg_state s = (enum xg_state)u->state;

	if (u->incarnation < m->info.incarnation)
		return stale_contradiction(c, m, u, src);
	if (u->incarnation == m->info.incarnation &&
	    (old == s || (old == XG_LEFT && s == XG_DEAD)))
		return stale_contradiction(c, m, u, src);
	m->info.incarnation = u->incarnation;
	m->from_id = u->from_id;
	xg_member_set_state(c, m, s, now_ns);
	if (old == XG_ALIVE || old == XG_SUSPECT)
		xg_emit(c, s == XG_LEFT ? XG_EV_LEAVE : XG_EV_FAIL, m, now_ns);
	else if (old == XG_DEAD && s == XG_LEFT)
		/* It was a graceful exit after all. */
		xg_emit(c, XG_EV_LEAVE, m, now_ns);
	return applied(c, src, xg_dissem_queue(c, m, u->from_id));
}

int xg_apply_update(struct xg_core *c, const struct xg_update_msg *u,
		    enum xg_source src, uint64_t now_ns)
{
	struct xg_member *m;

	if (u->node_id == 0)
		return stale(c, src);
	if (u->node_id == c->self->info.id)
		return about_self(c, u, src, now_ns);
	m = xg_members_find(&c->members, u->node_id);
	if (!m)
		return join(c, u, src, now_ns);
	switch (u->state) {
	case XG_ALIVE:
		return alive(c, m, u, src, now_ns);
	case XG_SUSPECT:
		return suspect(c, m, u, src, now_ns);
	case XG_DEAD:
	case XG_LEFT:
		return gone(c, m, u, src, now_ns);
	}
	return stale(c, src);
}

int xg_apply_batch(struct xg_core *c, struct xg_batch_reader *r,
		   enum xg_source src, uint64_t now_ns)
{
	struct xg_update_msg u;
	int err, rc, first_err = 0;

	while ((err = xg_batch_next(r, &u)) == 1) {
		rc = xg_apply_update(c, &u, src, now_ns);
		/* Out of memory for one update does not spoil the rest. */
		if (rc < 0 && !first_err)
			first_err = rc;
	}
	return err ? err : first_err;
}
