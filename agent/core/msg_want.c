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
	xg_list_init(&w->queue);
	xg_list_init(&w->running);
	w->max = max;
	return 0;
}

/* Off whatever list the want is on, with the counts that go with it. */
static void unlist(struct xg_wants *w, struct xg_want *wt)
{
	if (wt->state == XG_FETCH_QUEUED)
		w->nqueued--;
	else if (wt->state == XG_FETCH_RUNNING)
		w->nrunning--;
	wt->state = XG_FETCH_NONE;
	xg_list_unlink(&wt->due);
}

void xg_wants_drop(struct xg_wants *w, struct xg_want *wt)
{
	unlist(w, wt);
	if (wt->large)
		w->nlarge--;
	xg_idtab_remove(&w->tab, &wt->node);
	free(wt->large);
	free(wt);
}

static void want_free(struct xg_idnode *n)
{
	struct xg_want *wt = xg_container_of(n, struct xg_want, node);

	free(wt->large);
	free(wt);
}

/* Through the table, not the lists: a want is on a list only once it has
 * been armed or queued. */
void xg_wants_fini(struct xg_wants *w)
{
	if (!w->tab.slot)
		return;
	xg_idtab_drain(&w->tab, want_free);
	xg_list_init(&w->due);
	xg_list_init(&w->queue);
	xg_list_init(&w->running);
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

static uint64_t head_deadline(const struct xg_link *head)
{
	if (xg_list_empty(head))
		return UINT64_MAX;
	return by_due(head->next)->deadline;
}

uint64_t xg_wants_next(const struct xg_wants *w)
{
	uint64_t a = head_deadline(&w->due), b = head_deadline(&w->running);

	return a < b ? a : b;
}

size_t xg_wants_count(const struct xg_wants *w)
{
	return w->tab.n;
}

/* --- large wants ------------------------------------------------------- */

int xg_wants_set_large(struct xg_wants *w, struct xg_want *wt,
		       const struct xg_want_large *meta, uint64_t from)
{
	struct xg_want_large *l;

	if (wt->large)
		return 0;
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	*l = *meta;
	l->topic[XG_MSG_TOPIC_MAX] = '\0';
	unlist(w, wt);
	wt->large = l;
	w->nlarge++;
	/* The guesses a gap want made (the member that revealed the gap,
	 * the origin) give way to the member that announced the body. */
	wt->holders[0] = from;
	wt->nholders = 1;
	wt->tries = 0;
	return 0;
}

void xg_wants_queue(struct xg_wants *w, struct xg_want *wt)
{
	unlist(w, wt);
	wt->state = XG_FETCH_QUEUED;
	w->nqueued++;
	xg_list_append(&w->queue, &wt->due);
}

struct xg_want *xg_wants_queue_head(const struct xg_wants *w)
{
	return xg_list_empty(&w->queue) ? NULL : by_due(w->queue.next);
}

void xg_wants_run(struct xg_wants *w, struct xg_want *wt, uint64_t from,
		  uint64_t deadline)
{
	unlist(w, wt);
	wt->state = XG_FETCH_RUNNING;
	w->nrunning++;
	if (wt->tries < UINT8_MAX)
		wt->tries++;
	if (wt->large)
		wt->large->from = from;
	wt->deadline = deadline;
	xg_list_append(&w->running, &wt->due);
}

void xg_wants_wait(struct xg_wants *w, struct xg_want *wt, uint64_t deadline)
{
	unlist(w, wt);
	wt->state = XG_FETCH_WAITING;
	xg_wants_schedule(w, wt, deadline);
}

struct xg_want *xg_wants_overdue(const struct xg_wants *w, uint64_t now_ns)
{
	struct xg_want *wt;

	if (xg_list_empty(&w->running))
		return NULL;
	wt = by_due(w->running.next);
	return wt->deadline <= now_ns ? wt : NULL;
}

/* The holders announced the id and so have the body (unless their store
 * dropped it); the origin had it first and keeps it longest. */
uint64_t xg_want_source(const struct xg_want *wt, uint64_t origin)
{
	unsigned i, n = wt->nholders;

	for (i = 0; i < wt->nholders; i++)
		if (wt->holders[i] == origin)
			origin = 0;
	if (origin)
		n++;
	if (n == 0)
		return 0;
	i = wt->tries % n;
	return i < wt->nholders ? wt->holders[i] : origin;
}
