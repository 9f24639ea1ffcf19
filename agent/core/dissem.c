/* SPDX-License-Identifier: MIT */
/*
 * The dissemination queue: SWIM's infection-style spreading with a bounded
 * number of retransmissions.  Each update is sent to at most
 * retransmit_mult * ceil(log10(n + 1)) destinations by this node; with
 * every receiver doing the same, that many rounds reach the whole cluster
 * with high probability while the load per update stays logarithmic.
 *
 * One entry per member: queueing an update about a member that already has
 * one replaces it and restarts its count, because only the newest state is
 * worth spreading.  A packet is filled with the least-transmitted entries
 * first (newest first on ties), so fresh news overtakes old news.
 *
 * The queue is small in steady state (usually empty), so a fill sorts it;
 * entries are recycled through a free list and never allocated per packet.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

static int queue_reserve(struct xg_dissem *d)
{
	struct xg_bcast **q;
	size_t cap;

	if (d->n < d->cap)
		return 0;
	cap = d->cap ? d->cap * 2 : 16;
	q = realloc(d->q, cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	d->q = q;
	d->cap = cap;
	return 0;
}

static struct xg_bcast *entry_get(struct xg_dissem *d)
{
	struct xg_bcast *b = d->free;

	if (b) {
		d->free = b->next_free;
		memset(b, 0, sizeof(*b));
		return b;
	}
	return calloc(1, sizeof(*b));
}

int xg_dissem_queue(struct xg_core *c, struct xg_member *m, uint64_t from_id)
{
	struct xg_dissem *d = &c->dissem;
	struct xg_bcast *b = m->bcast;
	int err;

	if (!b) {
		err = queue_reserve(d);
		if (err)
			return err;
		b = entry_get(d);
		if (!b)
			return -ENOMEM;
		b->m = m;
		b->pos = d->n;
		d->q[d->n++] = b;
		m->bcast = b;
	}
	b->from_id = from_id;
	b->transmits = 0;
	b->skips = 0;
	b->order = d->next_order++;
	return 0;
}

void xg_dissem_drop(struct xg_core *c, struct xg_bcast *b)
{
	struct xg_dissem *d = &c->dissem;
	struct xg_bcast *last = d->q[--d->n];

	d->q[b->pos] = last;
	last->pos = b->pos;
	b->m->bcast = NULL;
	b->next_free = d->free;
	d->free = b;
}

void xg_dissem_free(struct xg_dissem *d)
{
	struct xg_bcast *b;
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->q[i]);
	while ((b = d->free)) {
		d->free = b->next_free;
		free(b);
	}
	free(d->q);
	memset(d, 0, sizeof(*d));
}

unsigned xg_dissem_limit(const struct xg_core *c)
{
	/* ceil(log10(n + 1)) is the number of decimal digits of n. */
	size_t n = c->members.n;
	unsigned digits = 0;

	do {
		digits++;
		n /= 10;
	} while (n);
	return c->cfg.retransmit_mult * digits;
}

static int by_priority(const void *pa, const void *pb)
{
	const struct xg_bcast *a = *(const struct xg_bcast *const *)pa;
	const struct xg_bcast *b = *(const struct xg_bcast *const *)pb;

	if (a->transmits != b->transmits)
		return a->transmits < b->transmits ? -1 : 1;
	if (a->order != b->order)
		return a->order > b->order ? -1 : 1;
	return 0;
}

/* Our own LEFT: xg_core_leave_spread() needs to know where it went. */
static bool is_our_leave(const struct xg_bcast *b)
{
	return b->m->info.is_self && b->m->info.state == XG_LEFT;
}

static void retire(struct xg_core *c, struct xg_bcast *b)
{
	if (is_our_leave(b))
		c->leave_exhausted = true;
	xg_dissem_drop(c, b);
}

/* Telling a member that it is alive is a wasted transmission; telling
 * it that it is suspect or dead is how it learns to refute. */
static bool useless_for(const struct xg_bcast *b, const struct xg_member *to)
{
	return b->m == to && to->info.state == XG_ALIVE;
}

size_t xg_dissem_fill(struct xg_core *c, struct xg_batch *batch,
		      const struct xg_member *to)
{
	struct xg_dissem *d = &c->dissem;
	unsigned limit = xg_dissem_limit(c);
	struct xg_update_msg u;
	size_t i, added = 0;
	int err;

	qsort(d->q, d->n, sizeof(*d->q), by_priority);
	for (i = 0; i < d->n; i++)
		d->q[i]->pos = i;
	for (i = 0; i < d->n; i++) {
		struct xg_bcast *b = d->q[i];

		/* The limit shrinks when members go: such entries are done. */
		if (b->transmits >= limit)
			continue;
		if (useless_for(b, to)) {
			b->skips++;
			continue;
		}
		xg_member_to_update(b->m, b->from_id,
				    b->m->info.state == XG_ALIVE, &u);
		err = xg_batch_add(batch, &u);
		if (err == -E2BIG)
			break;
		/* -ENOSPC: a smaller entry further on may still fit.
		 * -EINVAL cannot happen for a member we hold; skip it. */
		if (err)
			continue;
		b->transmits++;
		if (is_our_leave(b))
			c->leave_sent++;
		added++;
	}
	/* Retire from the back so the swap-removal never skips an entry.
	 * Skips retire an entry too: when its member is the only one left
	 * to gossip to, it could never be sent and would keep the gossip
	 * timer running forever. */
	for (i = d->n; i-- > 0;)
		if (d->q[i]->transmits >= limit || d->q[i]->skips >= limit)
			retire(c, d->q[i]);
	return added;
}

size_t xg_dissem_len(const struct xg_core *c)
{
	return c->dissem.n;
}

int xg_dissem_transmits(const struct xg_core *c, uint64_t id)
{
	const struct xg_member *m = xg_members_find(&c->members, id);

	if (!m || !m->bcast)
		return -ENOENT;
	return (int)m->bcast->transmits;
}
