/* SPDX-License-Identifier: MIT */
/*
 * Id hash table (see msg_idtab.h): separate chaining, power-of-two sizes.
 */
#include "core/msg_idtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xgossip/siphash.h>

#define MIN_SLOTS 16

static size_t pow2_at_least(size_t n)
{
	size_t p = MIN_SLOTS;

	while (p < n && p < ((size_t)1 << 30))
		p <<= 1;
	return p;
}

int xg_idtab_init(struct xg_idtab *t, size_t max_entries, uint64_t k0,
		  uint64_t k1)
{
	memset(t, 0, sizeof(*t));
	t->slot = calloc(MIN_SLOTS, sizeof(*t->slot));
	if (!t->slot)
		return -ENOMEM;
	t->nslots = MIN_SLOTS;
	t->max_slots = pow2_at_least(max_entries);
	t->k0 = k0;
	t->k1 = k1;
	return 0;
}

void xg_idtab_fini(struct xg_idtab *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

void xg_idtab_drain(struct xg_idtab *t, void (*fn)(struct xg_idnode *e))
{
	struct xg_idnode *e, *next;
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		for (e = t->slot[i]; e; e = next) {
			next = e->next;
			e->next = NULL;
			fn(e);
		}
		t->slot[i] = NULL;
	}
	t->n = 0;
}

static size_t bucket(const struct xg_idtab *t, const uint8_t *id,
		     size_t nslots)
{
	return (size_t)xg_siphash24_k(t->k0, t->k1, id, XG_MSG_ID_LEN) &
	       (nslots - 1);
}

struct xg_idnode *xg_idtab_find(const struct xg_idtab *t,
				const uint8_t id[XG_MSG_ID_LEN])
{
	struct xg_idnode *e;

	for (e = t->slot[bucket(t, id, t->nslots)]; e; e = e->next)
		if (memcmp(e->id, id, XG_MSG_ID_LEN) == 0)
			return e;
	return NULL;
}

/* Rehash into twice the buckets; on allocation failure keep the old array,
 * which is still correct. */
static void grow(struct xg_idtab *t)
{
	size_t ns = t->nslots * 2, i;
	struct xg_idnode **s, *e, *next;

	s = calloc(ns, sizeof(*s));
	if (!s)
		return;
	for (i = 0; i < t->nslots; i++) {
		for (e = t->slot[i]; e; e = next) {
			size_t b = bucket(t, e->id, ns);

			next = e->next;
			e->next = s[b];
			s[b] = e;
		}
	}
	free(t->slot);
	t->slot = s;
	t->nslots = ns;
}

void xg_idtab_insert(struct xg_idtab *t, struct xg_idnode *e)
{
	size_t b;

	if (t->n >= t->nslots && t->nslots < t->max_slots)
		grow(t);
	b = bucket(t, e->id, t->nslots);
	e->next = t->slot[b];
	t->slot[b] = e;
	t->n++;
}

void xg_idtab_remove(struct xg_idtab *t, struct xg_idnode *e)
{
	struct xg_idnode **pp = &t->slot[bucket(t, e->id, t->nslots)];

	for (; *pp; pp = &(*pp)->next) {
		if (*pp == e) {
			*pp = e->next;
			e->next = NULL;
			t->n--;
			return;
		}
	}
}
