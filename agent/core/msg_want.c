/* SPDX-License-Identifier: MIT */
/*
 * Pull wants (see msg_want.h).
 */
#include "core/msg_want.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct xg_want *by_due(struct xg_link *l)
{
	return xg_container_of(l, struct xg_want, due);
}

int xg_wants_init(struct xg_wants *w, size_t max, uint64_t k0, uint64_t k1)
{
	int err;

	memset(w, 0, sizeof(*w));
	if (max == 0)
		return -EINVAL;
	err = xg_idtab_init(&w->tab, max, k0, k1);
	if (err)
		return err;
	xg_list_init(&w->due);
	w->max = max;
	return 0;
}

void xg_wants_drop(struct xg_wants *w, struct xg_want *wt)
{
	xg_idtab_remove(&w->tab, &wt->node);
	xg_list_unlink(&wt->due);
	free(wt);
}

static void want_free(struct xg_idnode *n)
{
	free(xg_container_of(n, struct xg_want, node));
}

/* Through the table, not the list: a want is on the list only once it
 * has been armed. */
void xg_wants_fini(struct xg_wants *w)
{
	if (!w->tab.slot)
		return;
	xg_idtab_drain(&w->tab, want_free);
	xg_list_init(&w->due);
	xg_idtab_fini(&w->tab);
}

struct xg_want *xg_wants_find(const struct xg_wants *w,
			      const uint8_t id[XG_MSG_ID_LEN])
{
	struct xg_idnode *n = xg_idtab_find(&w->tab, id);

	return n ? xg_container_of(n, struct xg_want, node) : NULL;
}

static void holder_add(struct xg_want *wt, uint64_t from)
{
	unsigned i;

	for (i = 0; i < wt->nholders; i++)
		if (wt->holders[i] == from)
			return;
	if (wt->nholders < XG_WANT_HOLDERS)
		wt->holders[wt->nholders++] = from;
}

int xg_wants_note(struct xg_wants *w, const uint8_t id[XG_MSG_ID_LEN],
		  uint64_t from, struct xg_want **out)
{
	struct xg_want *wt = xg_wants_find(w, id);

	if (wt) {
		holder_add(wt, from);
		*out = wt;
		return 0;
	}
	if (w->tab.n >= w->max)
		return -ENOBUFS;
	wt = calloc(1, sizeof(*wt));
	if (!wt)
		return -ENOMEM;
	memcpy(wt->node.id, id, XG_MSG_ID_LEN);
	holder_add(wt, from);
	xg_idtab_insert(&w->tab, &wt->node);
	xg_list_init(&wt->due);
	*out = wt;
	return 1;
}

uint64_t xg_want_next_holder(const struct xg_want *wt)
{
	if (wt->nholders == 0)
		return 0;
	return wt->holders[wt->tries % wt->nholders];
}

void xg_wants_schedule(struct xg_wants *w, struct xg_want *wt,
		       uint64_t deadline)
{
	wt->deadline = deadline;
	xg_list_unlink(&wt->due);
	xg_list_append(&w->due, &wt->due);
}

void xg_wants_arm(struct xg_wants *w, struct xg_want *wt, uint64_t deadline)
{
	if (wt->tries < UINT8_MAX)
		wt->tries++;
	xg_wants_schedule(w, wt, deadline);
}

struct xg_want *xg_wants_due(struct xg_wants *w, uint64_t now_ns)
{
	struct xg_want *wt;

	if (xg_list_empty(&w->due))
		return NULL;
	wt = by_due(w->due.next);
	return wt->deadline <= now_ns ? wt : NULL;
}

uint64_t xg_wants_next(const struct xg_wants *w)
{
	if (xg_list_empty(&w->due))
		return UINT64_MAX;
	return by_due(w->due.next)->deadline;
}

size_t xg_wants_count(const struct xg_wants *w)
{
	return w->tab.n;
}
