/* SPDX-License-Identifier: MIT */
/*
 * The seen table: ids of messages this node has accepted (received and
 * authenticated, or broadcast itself), each kept for a fixed time after it
 * was accepted.  It is what makes delivery exactly-once: a second copy of
 * an id in the table is a duplicate.  Entries leave in acceptance order,
 * which, with one TTL for all, is also expiry order: a list in insertion
 * order is enough, and expiring costs O(1) per entry.
 *
 * The table is bounded.  When it is full a new id is refused rather than
 * an unexpired one evicted: evicting would let a late copy of the evicted
 * message be delivered twice, and refusing only delays a message (it is
 * not ACKed, so its sender pulls it back later).
 */
#ifndef XGOSSIP_CORE_MSG_SEEN_H
#define XGOSSIP_CORE_MSG_SEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/msg_idtab.h"

struct xg_seen {
	struct xg_idtab tab;
	struct xg_link  order;   /* oldest first */
	size_t          max;
	uint64_t        ttl_ns;
};

int  xg_seen_init(struct xg_seen *s, size_t max, uint64_t ttl_ns,
		  uint64_t k0, uint64_t k1);
void xg_seen_fini(struct xg_seen *s);

bool   xg_seen_has(const struct xg_seen *s, const uint8_t id[XG_MSG_ID_LEN]);
/* 0, -EEXIST, -ENOBUFS (full), -ENOMEM. */
int    xg_seen_add(struct xg_seen *s, const uint8_t id[XG_MSG_ID_LEN],
		   uint64_t now_ns);
/* Drop up to budget entries whose TTL has passed; returns how many. */
size_t xg_seen_expire(struct xg_seen *s, uint64_t now_ns, size_t budget);
/* When the oldest entry expires; UINT64_MAX when empty. */
uint64_t xg_seen_next_expiry(const struct xg_seen *s);
size_t xg_seen_count(const struct xg_seen *s);

#endif /* XGOSSIP_CORE_MSG_SEEN_H */
