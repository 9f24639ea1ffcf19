/* SPDX-License-Identifier: MIT */
/*
 * ACK rounds (see msg_round.h).
 */
#include "core/msg_round.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct xg_round *by_due(struct xg_link *l)
{
	return xg_container_of(l, struct xg_round, due);
}

int xg_rounds_init(struct xg_rounds *r, size_t max, uint64_t k0, uint64_t k1)
{
	int err;

	memset(r, 0, sizeof(*r));
	if (max == 0)
		return -EINVAL;
	err = xg_idtab_init(&r->tab, max, k0, k1);
	if (err)
		return err;
	xg_list_init(&r->due);
	r->max = max;
	return 0;
}

void xg_rounds_close(struct xg_rounds *r, struct xg_round *rd)
{
	xg_idtab_remove(&r->tab, &rd->node);
	xg_list_unlink(&rd->due);
	free(rd);
}

void xg_rounds_fini(struct xg_rounds *r)
{
	if (!r->tab.slot)
		return;
	while (!xg_list_empty(&r->due))
		xg_rounds_close(r, by_due(r->due.next));
	xg_idtab_fini(&r->tab);
}

int xg_rounds_start(struct xg_rounds *r, const uint8_t id[XG_MSG_ID_LEN],
		    const uint64_t *to, size_t n, uint64_t upstream,
		    uint64_t deadline)
{
	struct xg_round *rd;

	if (n == 0 || n > XG_MSG_FANOUT_MAX)
		return -EINVAL;
	if (xg_idtab_find(&r->tab, id))
		return -EEXIST;
	if (r->tab.n >= r->max)
		return -ENOBUFS;
	rd = calloc(1, sizeof(*rd));
	if (!rd)
		return -ENOMEM;
	memcpy(rd->node.id, id, XG_MSG_ID_LEN);
	memcpy(rd->to, to, n * sizeof(*to));
	rd->n = (uint8_t)n;
	rd->upstream = upstream;
	rd->deadline = deadline;
	xg_idtab_insert(&r->tab, &rd->node);
	xg_list_append(&r->due, &rd->due);
	return 0;
}

int xg_rounds_ack(struct xg_rounds *r, const uint8_t id[XG_MSG_ID_LEN],
		  uint64_t from)
{
	struct xg_idnode *node = xg_idtab_find(&r->tab, id);
	struct xg_round *rd;
	unsigned i;

	if (!node)
		return -ENOENT;
	rd = xg_container_of(node, struct xg_round, node);
	for (i = 0; i < rd->n; i++)
		if (rd->to[i] == from)
			break;
	/* Only the members we pushed to count, and each once: an ACK is
	 * evidence that one more member has the message. */
	if (i == rd->n || (rd->acked & (1u << i)))
		return -ENOENT;
	rd->acked |= 1u << i;
	rd->acks++;
	if (rd->acks < xg_round_majority(rd->n))
		return 0;
	xg_rounds_close(r, rd);
	return 1;
}

struct xg_round *xg_rounds_find(const struct xg_rounds *r,
				const uint8_t id[XG_MSG_ID_LEN])
{
	struct xg_idnode *node = xg_idtab_find(&r->tab, id);

	return node ? xg_container_of(node, struct xg_round, node) : NULL;
}

void xg_rounds_rearm(struct xg_rounds *r, struct xg_round *rd,
		     uint64_t deadline)
{
	rd->deadline = deadline;
	xg_list_unlink(&rd->due);
	xg_list_append(&r->due, &rd->due);
}

struct xg_round *xg_rounds_due(struct xg_rounds *r, uint64_t now_ns)
{
	struct xg_round *rd;

	if (xg_list_empty(&r->due))
		return NULL;
	rd = by_due(r->due.next);
	return rd->deadline <= now_ns ? rd : NULL;
}

uint64_t xg_rounds_next(const struct xg_rounds *r)
{
	if (xg_list_empty(&r->due))
		return UINT64_MAX;
	return by_due(r->due.next)->deadline;
}

size_t xg_rounds_count(const struct xg_rounds *r)
{
	return r->tab.n;
}
