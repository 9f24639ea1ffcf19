/* SPDX-License-Identifier: MIT */
/*
 * The membership table: an array of member pointers (table order, self at
 * index 0) plus an open-addressing index by node id, so every packet finds
 * its member in O(1).  Removal swaps the last member into the hole; table
 * order is therefore not stable, which the API does not promise anyway.
 *
 * Side lists (suspects, dead-or-left) and per-state counts are maintained
 * only by xg_member_set_state(), so they cannot drift from the states.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

#define INDEX_MIN_SLOTS 16

/* SplitMix64's finalizer: ids may be small consecutive numbers (tests,
 * hand-picked ids), and a plain mask would cluster them. */
static size_t id_hash(uint64_t id, size_t nslots)
{
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ULL;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebULL;
	id ^= id >> 31;
	return (size_t)id & (nslots - 1);
}

int xg_members_init(struct xg_members *t)
{
	memset(t, 0, sizeof(*t));
	t->slots = calloc(INDEX_MIN_SLOTS, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->nslots = INDEX_MIN_SLOTS;
	xg_list_init(&t->gone);
	xg_list_init(&t->suspects);
	return 0;
}

void xg_members_free(struct xg_members *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	free(t->slots);
	memset(t, 0, sizeof(*t));
}

struct xg_member *xg_members_find(const struct xg_members *t, uint64_t id)
{
	size_t i = id_hash(id, t->nslots);

	while (t->slots[i]) {
		if (t->slots[i]->info.id == id)
			return t->slots[i];
		i = (i + 1) & (t->nslots - 1);
	}
	return NULL;
}

static void index_put(struct xg_member **slots, size_t nslots,
		      struct xg_member *m)
{
	size_t i = id_hash(m->info.id, nslots);

	while (slots[i])
		i = (i + 1) & (nslots - 1);
	slots[i] = m;
}

/* Keep the load factor at or under one half so probe runs stay short. */
static int index_reserve(struct xg_members *t, size_t want)
{
	struct xg_member **slots;
	size_t nslots = t->nslots, i;

	while (want * 2 > nslots)
		nslots *= 2;
	if (nslots == t->nslots)
		return 0;
	slots = calloc(nslots, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (i = 0; i < t->nslots; i++)
		if (t->slots[i])
			index_put(slots, nslots, t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->nslots = nslots;
	return 0;
}

/* Linear-probing delete: shift later members of the run back into the
 * hole when their home slot allows it, so lookups never stop early. */
static void index_del(struct xg_members *t, const struct xg_member *m)
{
	size_t mask = t->nslots - 1;
	size_t i = id_hash(m->info.id, t->nslots), j, home;

	while (t->slots[i] != m)
		i = (i + 1) & mask;
	t->slots[i] = NULL;
	for (j = (i + 1) & mask; t->slots[j]; j = (j + 1) & mask) {
		home = id_hash(t->slots[j]->info.id, t->nslots);
		/* Move slots[j] into the hole at i unless its home lies
		 * cyclically in (i, j]. */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i = j;
		}
	}
}

/* The table array and the core's scratch array grow together: scratch
 * must be able to hold every member for random picks. */
static int table_reserve(struct xg_core *c, size_t want)
{
	struct xg_members *t = &c->members;
	struct xg_member **v;
	size_t cap;

	if (want <= t->cap && want <= c->scratch_cap)
		return 0;
	cap = t->cap ? t->cap * 2 : 16;
	while (cap < want)
		cap *= 2;
	v = realloc(t->v, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	t->v = v;
	t->cap = cap;
	v = realloc(c->scratch, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	c->scratch = v;
	c->scratch_cap = cap;
	return 0;
}

static void copy_from_update(struct xg_member *m, const struct xg_update_msg *u)
{
	m->info.id = u->node_id;
	m->info.addr = u->addr;
	m->info.incarnation = u->incarnation;
	memcpy(m->info.name, u->name, sizeof(m->info.name));
	m->info.name[XG_NAME_MAX - 1] = '\0';
	m->info.meta_len = u->meta_len;
	memcpy(m->info.meta, u->meta, u->meta_len);
	m->info.flags = u->flags;
}

struct xg_member *xg_members_add(struct xg_core *c,
				 const struct xg_update_msg *u,
				 uint64_t now_ns)
{
	struct xg_members *t = &c->members;
	struct xg_member *m;

	if (table_reserve(c, t->n + 1) || index_reserve(t, t->n + 1))
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	copy_from_update(m, u);
	m->info.state = XG_ALIVE;
	m->info.state_since_ns = now_ns;
	m->from_id = u->node_id;
	xg_list_init(&m->gone);
	xg_list_init(&m->susp.link);
	m->idx = t->n;
	t->v[t->n++] = m;
	index_put(t->slots, t->nslots, m);
	t->by_state[XG_ALIVE]++;
	return m;
}

void xg_members_remove(struct xg_core *c, struct xg_member *m)
{
	struct xg_members *t = &c->members;
	struct xg_member *last;

	if (m->bcast)
		xg_dissem_drop(c, m->bcast);
	xg_suspicion_stop(m);
	xg_list_unlink(&m->gone);
	t->by_state[m->info.state]--;
	index_del(t, m);
	last = t->v[--t->n];
	t->v[m->idx] = last;
	last->idx = m->idx;
	free(m);
}

struct xg_member *xg_members_find_gone_name(const struct xg_members *t,
					    const char *name)
{
	struct xg_link *l;

	for (l = t->gone.next; l != &t->gone; l = l->next) {
		struct xg_member *m = xg_container_of(l, struct xg_member, gone);

		if (strcmp(m->info.name, name) == 0)
			return m;
	}
	return NULL;
}

static bool is_gone(enum xg_state s)
{
	return s == XG_DEAD || s == XG_LEFT;
}

void xg_member_set_state(struct xg_core *c, struct xg_member *m,
			 enum xg_state s, uint64_t now_ns)
{
	struct xg_members *t = &c->members;
	enum xg_state old = m->info.state;

	if (old == s)
		return;
	t->by_state[old]--;
	t->by_state[s]++;
	if (old == XG_SUSPECT)
		xg_suspicion_stop(m);
	if (is_gone(old))
		xg_list_unlink(&m->gone);
	m->info.state = s;
	m->info.state_since_ns = now_ns;
	/* Self is never reaped, so it never goes on the reap list. */
	if (is_gone(s) && !m->info.is_self)
		xg_list_append(&t->gone, &m->gone);
}

void xg_member_to_update(const struct xg_member *m, uint64_t from_id,
			 bool with_meta, struct xg_update_msg *u)
{
	u->state = (uint8_t)m->info.state;
	u->flags = m->info.flags;
	u->incarnation = m->info.incarnation;
	u->node_id = m->info.id;
	u->from_id = from_id;
	u->addr = m->info.addr;
	memcpy(u->name, m->info.name, sizeof(u->name));
	u->meta_len = with_meta ? m->info.meta_len : 0;
	if (u->meta_len)
		memcpy(u->meta, m->info.meta, u->meta_len);
}

static uint64_t reap_at(const struct xg_core *c, const struct xg_member *m)
{
	return xg_sat_add(m->info.state_since_ns, c->cfg.dead_reclaim_ns);
}

void xg_members_reap(struct xg_core *c, uint64_t now_ns)
{
	struct xg_members *t = &c->members;

	while (!xg_list_empty(&t->gone)) {
		struct xg_member *m =
			xg_container_of(t->gone.next, struct xg_member, gone);

		if (reap_at(c, m) > now_ns)
			break;
		xg_members_remove(c, m);
	}
}

uint64_t xg_members_reap_deadline(const struct xg_core *c)
{
	const struct xg_members *t = &c->members;

	if (xg_list_empty(&t->gone))
		return UINT64_MAX;
	return reap_at(c, xg_container_of(t->gone.next, struct xg_member, gone));
}

size_t xg_members_live(const struct xg_members *t)
{
	return t->by_state[XG_ALIVE] + t->by_state[XG_SUSPECT];
}
