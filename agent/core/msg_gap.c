/* SPDX-License-Identifier: MIT */
/*
 * Sequence gaps (see msg_gap.h).
 */
#include "core/msg_gap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct origin {
	struct xg_idnode node;   /* id with the counter zeroed */
	struct xg_link   lru;
	uint64_t         last_ns;
	uint32_t         hi;     /* highest counter seen */
};

static struct origin *by_lru(struct xg_link *l)
{
	return xg_container_of(l, struct origin, lru);
}

int xg_gaps_init(struct xg_gaps *g, size_t max, uint64_t k0, uint64_t k1)
{
	int err;

	memset(g, 0, sizeof(*g));
	if (max == 0)
		return -EINVAL;
	err = xg_idtab_init(&g->tab, max, k0, k1);
	if (err)
		return err;
	xg_list_init(&g->lru);
	g->max = max;
	return 0;
}

static void origin_drop(struct xg_gaps *g, struct origin *o)
{
	xg_idtab_remove(&g->tab, &o->node);
	xg_list_unlink(&o->lru);
	free(o);
}

void xg_gaps_fini(struct xg_gaps *g)
{
	if (!g->tab.slot)
		return;
	while (!xg_list_empty(&g->lru))
		origin_drop(g, by_lru(g->lru.next));
	xg_idtab_fini(&g->tab);
}

static uint32_t counter_of(const uint8_t id[XG_MSG_ID_LEN])
{
	return (uint32_t)xg_msg_id_seq(id);
}

static int origin_add(struct xg_gaps *g, const uint8_t key[XG_MSG_ID_LEN],
		      uint32_t c, uint64_t now_ns)
{
	struct origin *o = calloc(1, sizeof(*o));

	if (!o)
		return -ENOMEM;
	if (g->tab.n >= g->max)
		origin_drop(g, by_lru(g->lru.next));
	memcpy(o->node.id, key, XG_MSG_ID_LEN);
	o->hi = c;
	o->last_ns = now_ns;
	xg_idtab_insert(&g->tab, &o->node);
	xg_list_append(&g->lru, &o->lru);
	return 0;
}

int xg_gaps_note(struct xg_gaps *g, const uint8_t id[XG_MSG_ID_LEN],
		 uint64_t now_ns, uint64_t horizon_ns, uint32_t *missing,
		 size_t cap)
{
	uint8_t key[XG_MSG_ID_LEN];
	uint32_t c = counter_of(id), k, lo;
	struct xg_idnode *n;
	struct origin *o;
	bool stale;
	int found = 0;

	memcpy(key, id, XG_MSG_ID_LEN);
	memset(key + 12, 0, 4);
	n = xg_idtab_find(&g->tab, key);
	if (!n)
		return origin_add(g, key, c, now_ns);
	o = xg_container_of(n, struct origin, node);
	xg_list_unlink(&o->lru);
	xg_list_append(&g->lru, &o->lru);
	/* A message that arrives late (below the highest) fills nothing in
	 * here: the gap it closes was reported when the jump was seen, and
	 * the want for it ends when it is accepted. */
	if (c <= o->hi)
		return 0;
	stale = now_ns - o->last_ns > horizon_ns;
	o->last_ns = now_ns;
	if (cap > XG_GAP_MAX)
		cap = XG_GAP_MAX;
	lo = c - o->hi - 1 > cap ? c - (uint32_t)cap : o->hi + 1;
	if (!stale)
		for (k = lo; k < c; k++)
			missing[found++] = k;
	o->hi = c;
	return found;
}

size_t xg_gaps_count(const struct xg_gaps *g)
{
	return g->tab.n;
}
