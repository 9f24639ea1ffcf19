/* SPDX-License-Identifier: MIT */
/*
 * Message cache (see msg_cache.h).
 */
#include "core/msg_cache.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct xg_cache_ent *by_use(struct xg_link *l)
{
	return xg_container_of(l, struct xg_cache_ent, use);
}

static struct xg_cache_ent *by_age(struct xg_link *l)
{
	return xg_container_of(l, struct xg_cache_ent, age);
}

static struct xg_cache_ent *by_node(struct xg_idnode *n)
{
	return xg_container_of(n, struct xg_cache_ent, node);
}

int xg_cache_init(struct xg_cache *c, size_t max, uint64_t ttl_ns,
		  uint64_t k0, uint64_t k1)
{
	int err;

	memset(c, 0, sizeof(*c));
	if (max == 0)
		return -EINVAL;
	err = xg_idtab_init(&c->tab, max, k0, k1);
	if (err)
		return err;
	xg_list_init(&c->use);
	xg_list_init(&c->age);
	c->max = max;
	c->ttl_ns = ttl_ns;
	return 0;
}

static void ent_drop(struct xg_cache *c, struct xg_cache_ent *e)
{
	xg_idtab_remove(&c->tab, &e->node);
	xg_list_unlink(&e->use);
	xg_list_unlink(&e->age);
	free(e);
}

void xg_cache_fini(struct xg_cache *c)
{
	if (!c->tab.slot)
		return;
	while (!xg_list_empty(&c->age))
		ent_drop(c, by_age(c->age.next));
	xg_idtab_fini(&c->tab);
}

/* A new entry with m's id, origin_ms and topic and room for plen payload
 * bytes, already in the table (evicting the least recently used one if
 * full), or NULL. */
static struct xg_cache_ent *ent_new(struct xg_cache *c, const struct xg_msg *m,
				    size_t plen, uint8_t hops_out,
				    uint64_t now_ns)
{
	struct xg_cache_ent *e = malloc(sizeof(*e) + plen);

	if (!e)
		return NULL;
	memset(e, 0, sizeof(*e));
	if (c->tab.n >= c->max) {
		ent_drop(c, by_use(c->use.next));
		c->evicted++;
	}
	memcpy(e->node.id, m->id, XG_MSG_ID_LEN);
	e->at_ns = now_ns;
	e->origin_ms = m->origin_ms;
	e->hops_out = hops_out;
	memcpy(e->topic, m->topic, sizeof(e->topic));
	e->topic[XG_MSG_TOPIC_MAX] = '\0';
	xg_idtab_insert(&c->tab, &e->node);
	xg_list_append(&c->use, &e->use);
	xg_list_append(&c->age, &e->age);
	return e;
}

int xg_cache_put(struct xg_cache *c, const struct xg_msg *m, uint8_t hops_out,
		 uint64_t now_ns)
{
	struct xg_cache_ent *e;

	if (m->payload_len > XG_MSG_MAX_PAYLOAD ||
	    (m->payload_len && !m->payload))
		return -EINVAL;
	if (xg_idtab_find(&c->tab, m->id))
		return -EEXIST;
	e = ent_new(c, m, m->payload_len, hops_out, now_ns);
	if (!e)
		return -ENOMEM;
	e->payload_len = m->payload_len;
	if (m->payload_len)
		memcpy(e->payload, m->payload, m->payload_len);
	return 0;
}

int xg_cache_put_large(struct xg_cache *c, const struct xg_msg *m,
		       uint64_t size, const uint8_t sha256[XG_MSG_SHA256_LEN],
		       uint8_t hops_out, uint64_t now_ns)
{
	struct xg_cache_ent *e;

	if (xg_idtab_find(&c->tab, m->id))
		return -EEXIST;
	e = ent_new(c, m, 0, hops_out, now_ns);
	if (!e)
		return -ENOMEM;
	e->large = true;
	e->size = size;
	memcpy(e->sha256, sha256, XG_MSG_SHA256_LEN);
	return 0;
}

const struct xg_cache_ent *xg_cache_peek(const struct xg_cache *c,
					 const uint8_t id[XG_MSG_ID_LEN])
{
	struct xg_idnode *n = xg_idtab_find(&c->tab, id);

	return n ? by_node(n) : NULL;
}

const struct xg_cache_ent *xg_cache_get(struct xg_cache *c,
					const uint8_t id[XG_MSG_ID_LEN])
{
	struct xg_idnode *n = xg_idtab_find(&c->tab, id);
	struct xg_cache_ent *e;

	if (!n)
		return NULL;
	e = by_node(n);
	xg_list_unlink(&e->use);
	xg_list_append(&c->use, &e->use);
	return e;
}

static uint64_t expiry_of(const struct xg_cache *c,
			  const struct xg_cache_ent *e)
{
	uint64_t t = e->at_ns + c->ttl_ns;

	return t < e->at_ns ? UINT64_MAX : t;
}

size_t xg_cache_expire(struct xg_cache *c, uint64_t now_ns, size_t budget)
{
	size_t done = 0;

	while (done < budget && !xg_list_empty(&c->age)) {
		struct xg_cache_ent *e = by_age(c->age.next);

		if (expiry_of(c, e) > now_ns)
			break;
		ent_drop(c, e);
		done++;
	}
	return done;
}

uint64_t xg_cache_next_expiry(const struct xg_cache *c)
{
	if (xg_list_empty(&c->age))
		return UINT64_MAX;
	return expiry_of(c, by_age(c->age.next));
}

size_t xg_cache_count(const struct xg_cache *c)
{
	return c->tab.n;
}
