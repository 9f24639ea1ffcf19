/* SPDX-License-Identifier: MIT */
/*
 * The cache of recent messages, kept to answer PULL_REQUESTs: an LRU by
 * id with a bound on entries and a TTL counted from insertion.
 *
 * Each entry sits on two lists: use order (a lookup moves it to the back;
 * the front is evicted when the cache is full) and insertion order (the
 * front is the next to expire, since every entry has the same TTL).  Both
 * are intrusive, so put, get, evict and expire are O(1) expected.  Entries
 * own a copy of their payload; memory is bounded by max entries of at most
 * XG_MSG_MAX_PAYLOAD bytes.  A large message's entry holds its size and
 * SHA-256 instead (the daemon's body store has the body), enough to
 * announce it again.
 */
#ifndef XGOSSIP_CORE_MSG_CACHE_H
#define XGOSSIP_CORE_MSG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/msg.h"
#include "core/msg_idtab.h"

struct xg_cache_ent {
	struct xg_idnode node;       /* node.id is the message id */
	struct xg_link   use;        /* least recently used first */
	struct xg_link   age;        /* oldest first */
	uint64_t         at_ns;
	uint64_t         origin_ms;
	uint8_t          hops_out;   /* hops to put in packets we send */
	char             topic[XG_MSG_TOPIC_MAX + 1];
	bool             large;
	uint64_t         size;       /* large only */
	uint8_t          sha256[XG_MSG_SHA256_LEN];
	uint32_t         payload_len;
	uint8_t          payload[];
};

struct xg_cache {
	struct xg_idtab tab;
	struct xg_link  use;
	struct xg_link  age;
	size_t          max;
	uint64_t        ttl_ns;
	uint64_t        evicted;     /* pushed out by the bound, not by age */
};

int  xg_cache_init(struct xg_cache *c, size_t max, uint64_t ttl_ns,
		   uint64_t k0, uint64_t k1);
void xg_cache_fini(struct xg_cache *c);

/* Copy m (id, origin_ms, topic, payload) in, evicting the least recently
 * used entry if full.  0, -EEXIST, -EINVAL (payload too long), -ENOMEM. */
int xg_cache_put(struct xg_cache *c, const struct xg_msg *m, uint8_t hops_out,
		 uint64_t now_ns);
/* The same for a large message: m's id, origin_ms and topic, and the
 * body's size and SHA-256 (m's payload is not used).  0, -EEXIST,
 * -ENOMEM. */
int xg_cache_put_large(struct xg_cache *c, const struct xg_msg *m,
		       uint64_t size, const uint8_t sha256[XG_MSG_SHA256_LEN],
		       uint8_t hops_out, uint64_t now_ns);
/* Look up and mark as used; NULL if absent. */
const struct xg_cache_ent *xg_cache_get(struct xg_cache *c,
					const uint8_t id[XG_MSG_ID_LEN]);
/* Look up without touching the use order. */
const struct xg_cache_ent *xg_cache_peek(const struct xg_cache *c,
					 const uint8_t id[XG_MSG_ID_LEN]);
size_t   xg_cache_expire(struct xg_cache *c, uint64_t now_ns, size_t budget);
uint64_t xg_cache_next_expiry(const struct xg_cache *c);
size_t   xg_cache_count(const struct xg_cache *c);

#endif /* XGOSSIP_CORE_MSG_CACHE_H */
