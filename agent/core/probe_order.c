/* SPDX-License-Identifier: MIT */
/*
 * Randomized round-robin probe order (SWIM section 4.3): every member is
 * probed once per pass over a shuffled list, which bounds the time until a
 * failed member is first probed by every other member, unlike picking a
 * random target each time.  A new member goes in at a random position so
 * members that joined together are not probed back to back.
 *
 * The list holds ids, not pointers: a member may be reaped or replaced
 * while its id waits in the list, and a stale id is simply skipped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

static bool probe_worthy(const struct xg_member *m)
{
	return m && !m->info.is_self &&
	       (m->info.state == XG_ALIVE || m->info.state == XG_SUSPECT);
}

static int order_reserve(struct xg_probe_order *o, size_t want)
{
	uint64_t *ids;
	size_t cap;

	if (want <= o->cap)
		return 0;
	cap = o->cap ? o->cap * 2 : 16;
	while (cap < want)
		cap *= 2;
	ids = realloc(o->ids, cap * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	o->ids = ids;
	o->cap = cap;
	return 0;
}

void xg_order_free(struct xg_probe_order *o)
{
	free(o->ids);
	memset(o, 0, sizeof(*o));
}

int xg_order_insert(struct xg_core *c, uint64_t id)
{
	struct xg_probe_order *o = &c->order;
	size_t at;
	int err;

	err = order_reserve(o, o->n + 1);
	if (err)
		return err;
	at = (size_t)xg_rand_below(c, o->n + 1);
	memmove(o->ids + at + 1, o->ids + at, (o->n - at) * sizeof(*o->ids));
	o->ids[at] = id;
	o->n++;
	/* Keep the cursor on the member it pointed at. */
	if (at < o->pos)
		o->pos++;
	return 0;
}

int xg_order_probe_next(struct xg_core *c, uint64_t id)
{
	struct xg_probe_order *o = &c->order;
	int err;

	err = order_reserve(o, o->n + 1);
	if (err)
		return err;
	memmove(o->ids + o->pos + 1, o->ids + o->pos,
		(o->n - o->pos) * sizeof(*o->ids));
	o->ids[o->pos] = id;
	o->n++;
	return 0;
}

/* Fisher-Yates over the members worth probing. */
static int rebuild(struct xg_core *c)
{
	struct xg_probe_order *o = &c->order;
	struct xg_members *t = &c->members;
	size_t i, j;
	uint64_t tmp;
	int err;

	err = order_reserve(o, t->n);
	if (err)
		return err;
	o->n = 0;
	o->pos = 0;
	for (i = 0; i < t->n; i++)
		if (probe_worthy(t->v[i]))
			o->ids[o->n++] = t->v[i]->info.id;
	for (i = o->n; i > 1; i--) {
		j = (size_t)xg_rand_below(c, i);
		tmp = o->ids[i - 1];
		o->ids[i - 1] = o->ids[j];
		o->ids[j] = tmp;
	}
	return 0;
}

struct xg_member *xg_order_next(struct xg_core *c)
{
	struct xg_probe_order *o = &c->order;
	struct xg_member *m;
	int pass;

	/* Two passes at most: finish the current list, then one fresh
	 * shuffle; if that holds nobody either there is nobody to probe. */
	for (pass = 0; pass < 2; pass++) {
		while (o->pos < o->n) {
			m = xg_members_find(&c->members, o->ids[o->pos++]);
			if (probe_worthy(m))
				return m;
		}
		/* A failed rebuild leaves an empty list: we skip this
		 * probe and try again next interval. */
		if (rebuild(c))
			return NULL;
	}
	return NULL;
}
