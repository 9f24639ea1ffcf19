/* SPDX-License-Identifier: MIT */
/*
 * The bodies of large broadcasts (ours, and those we fetched), kept so
 * that other members can fetch them from us (xfer.h, FETCH), keyed by the
 * 16-byte message id.
 *
 * Bounded by total bytes, least recently used first out.  A body is
 * refcounted: the store holds one reference while the body is in it, and
 * each user (a FETCH being served) holds one while it sends the bytes.
 * Eviction skips bodies in use: one being served is hot (others are
 * likely to ask for it next) and its memory could not be given back
 * anyway; the store may then stay above its bound until they are
 * released, and evicts on that release.  Since at most XG_XFER_SERVES_MAX
 * bodies are served at once, the excess is bounded by that many bodies.
 */
#ifndef XGOSSIP_DAEMON_BODYSTORE_H
#define XGOSSIP_DAEMON_BODYSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XG_BODYSTORE_DEFAULT_MAX (64u << 20)

struct xg_bodystore;
struct xg_body;

struct xg_bodystore_stats {
	uint64_t bytes;      /* held by bodies in the store */
	uint32_t bodies;
	uint32_t in_use;     /* bodies with a user besides the store */
	uint64_t evicted;    /* bodies evicted to make room */
	uint64_t evicted_bytes;
	uint64_t hits, misses;
};

/* max_bytes: the bound (0: XG_BODYSTORE_DEFAULT_MAX).  0 or -ENOMEM. */
int  xg_bodystore_new(struct xg_bodystore **out, size_t max_bytes);
/* Frees every body not in use; those in use are freed when their last
 * user releases them.  NULL is fine. */
void xg_bodystore_free(struct xg_bodystore *bs);

/* Store data[0..len) (malloc'd) under id; on success the store owns it
 * and evicts least recently used bodies to stay within its bound.  On
 * error the caller still owns data.  0, -EEXIST (the id is stored
 * already), -E2BIG (len over the bound: it could never fit), -EINVAL,
 * -ENOMEM. */
int  xg_bodystore_put(struct xg_bodystore *bs, const uint8_t id[16],
		      uint8_t *data, size_t len);
/* The body of id with a reference for the caller (and it becomes the most
 * recently used), or NULL. */
struct xg_body *xg_bodystore_get(struct xg_bodystore *bs,
				 const uint8_t id[16]);
/* Release a reference from xg_bodystore_get. */
void xg_body_put(struct xg_body *b);
const uint8_t *xg_body_data(const struct xg_body *b);
size_t         xg_body_len(const struct xg_body *b);

/* Whether id is stored (does not count as a use). */
bool xg_bodystore_has(const struct xg_bodystore *bs, const uint8_t id[16]);
/* Drop id from the store (freed once unused).  0 or -ENOENT. */
int  xg_bodystore_remove(struct xg_bodystore *bs, const uint8_t id[16]);
/* Change the bound (evicting at once if needed). */
void xg_bodystore_set_max(struct xg_bodystore *bs, size_t max_bytes);
void xg_bodystore_get_stats(const struct xg_bodystore *bs,
			    struct xg_bodystore_stats *out);

/* The xfer hooks (struct xg_xfer_hooks body_get / body_put) over a store:
 * ctx is the struct xg_bodystore. */
int  xg_bodystore_hook_get(void *ctx, const uint8_t id[16],
			   const uint8_t **body, size_t *len, void **ref);
void xg_bodystore_hook_put(void *ctx, void *ref);

#endif /* XGOSSIP_DAEMON_BODYSTORE_H */
