/* SPDX-License-Identifier: MIT */
/*
 * Seen table (see msg_seen.h).
 */
#include "core/msg_seen.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct seen_ent {
	struct xg_idnode node;
	struct xg_link   order;
	uint64_t         at_ns;
};

static struct seen_ent *ent_of_link(struct xg_link *l)
{
	return xg_container_of(l, struct seen_ent, order);
}

int xg_seen_init(struct xg_seen *s, size_t max, uint64_t ttl_ns, uint64_t k0,
		 uint64_t k1)
{
	int err;

	memset(s, 0, sizeof(*s));
	if (max == 0)
		return -EINVAL;
	err = xg_idtab_init(&s->tab, max, k0, k1);
	if (err)
		return err;
	xg_list_init(&s->order);
	s->max = max;
	s->ttl_ns = ttl_ns;
	return 0;
}

static void ent_drop(struct xg_seen *s, struct seen_ent *e)
{
	xg_idtab_remove(&s->tab, &e->node);
	xg_list_unlink(&e->order);
	free(e);
}

void xg_seen_fini(struct xg_seen *s)
{
	if (!s->tab.slot)
		return;
	while (!xg_list_empty(&s->order))
		ent_drop(s, ent_of_link(s->order.next));
	xg_idtab_fini(&s->tab);
}

bool xg_seen_has(const struct xg_seen *s, const uint8_t id[XG_MSG_ID_LEN])
{
	return xg_idtab_find(&s->tab, id) != NULL;
}

int xg_seen_add(struct xg_seen *s, const uint8_t id[XG_MSG_ID_LEN],
		uint64_t now_ns)
{
	struct seen_ent *e;

	if (xg_idtab_find(&s->tab, id))
		return -EEXIST;
	if (s->tab.n >= s->max)
		return -ENOBUFS;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	memcpy(e->node.id, id, XG_MSG_ID_LEN);
	e->at_ns = now_ns;
	xg_idtab_insert(&s->tab, &e->node);
	xg_list_append(&s->order, &e->order);
	return 0;
}

static uint64_t expiry_of(const struct xg_seen *s, const struct seen_ent *e)
{
	uint64_t t = e->at_ns + s->ttl_ns;

	return t < e->at_ns ? UINT64_MAX : t;
}

size_t xg_seen_expire(struct xg_seen *s, uint64_t now_ns, size_t budget)
{
	size_t done = 0;

	while (done < budget && !xg_list_empty(&s->order)) {
		struct seen_ent *e = ent_of_link(s->order.next);

		if (expiry_of(s, e) > now_ns)
			break;
		ent_drop(s, e);
		done++;
	}
	return done;
}

uint64_t xg_seen_next_expiry(const struct xg_seen *s)
{
	if (xg_list_empty(&s->order))
		return UINT64_MAX;
	return expiry_of(s, ent_of_link(s->order.next));
}

size_t xg_seen_count(const struct xg_seen *s)
{
	return s->tab.n;
}
