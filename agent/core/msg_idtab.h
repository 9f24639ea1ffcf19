/* SPDX-License-Identifier: MIT */
/*
 * A hash table of 16-byte message ids, intrusive: the caller embeds a
 * struct xg_idnode in its own entry and owns the entry's memory; the table
 * owns only its bucket array.  The seen table, the message cache, the ACK
 * rounds and the pull wants are all one of these plus a time-ordered list.
 *
 * Buckets double while the table holds more entries than buckets, up to
 * the power of two at or above the bound given at init, so lookups stay
 * O(1) expected at any fill.  Growth that fails for lack of memory is not
 * an error: the table keeps working with longer chains.  Ids come from
 * other nodes, so they are hashed with SipHash under a random key: a
 * member cannot choose ids that all land in one bucket.
 */
#ifndef XGOSSIP_CORE_MSG_IDTAB_H
#define XGOSSIP_CORE_MSG_IDTAB_H

#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"

struct xg_idnode {
	struct xg_idnode *next;
	uint8_t           id[XG_MSG_ID_LEN];
};

struct xg_idtab {
	struct xg_idnode **slot;
	size_t             nslots;     /* a power of two */
	size_t             max_slots;
	size_t             n;
	uint64_t           k0, k1;     /* SipHash key */
};

/* 0 or -ENOMEM.  max_entries sizes the largest bucket array. */
int  xg_idtab_init(struct xg_idtab *t, size_t max_entries, uint64_t k0,
		   uint64_t k1);
/* Frees the buckets; the entries still in it are the caller's to free
 * (xg_idtab_drain first). */
void xg_idtab_fini(struct xg_idtab *t);
/* Remove every entry, handing each to fn (which may free it). */
void xg_idtab_drain(struct xg_idtab *t, void (*fn)(struct xg_idnode *e));

struct xg_idnode *xg_idtab_find(const struct xg_idtab *t,
				const uint8_t id[XG_MSG_ID_LEN]);
/* e->id must be set and not already in the table. */
void xg_idtab_insert(struct xg_idtab *t, struct xg_idnode *e);
/* e must be in the table. */
void xg_idtab_remove(struct xg_idtab *t, struct xg_idnode *e);

#endif /* XGOSSIP_CORE_MSG_IDTAB_H */
