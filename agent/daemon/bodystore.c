/* SPDX-License-Identifier: MIT */
#include "daemon/bodystore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include <xgossip/siphash.h>

#define BUCKETS_MIN 64

struct xg_body {
	uint8_t              id[16];
	uint8_t             *data;
	size_t               len;
	uint32_t             users;  /* references besides the store's */
	bool                 stored; /* the store's reference */
	struct xg_bodystore *bs;     /* NULL once the store is gone */
	struct xg_body      *hnext;  /* hash chain */
	struct xg_body      *newer, *older; /* LRU list */
};

struct xg_bodystore {
	struct xg_body **buckets;
	size_t           nbuckets;   /* a power of two */
	uint8_t          hkey[16];   /* ids come from peers: keyed hash */
	struct xg_body  *newest, *oldest;
	size_t           max_bytes;
	struct xg_bodystore_stats st;
};

static size_t bucket_of(const struct xg_bodystore *bs, const uint8_t id[16])
{
	return (size_t)xg_siphash24(bs->hkey, id, 16) & (bs->nbuckets - 1);
}

static struct xg_body **slot_of(const struct xg_bodystore *bs,
				const uint8_t id[16])
{
	struct xg_body **pp = &bs->buckets[bucket_of(bs, id)];

	while (*pp && memcmp((*pp)->id, id, 16))
		pp = &(*pp)->hnext;
	return pp;
}

static void lru_unlink(struct xg_bodystore *bs, struct xg_body *b)
{
	if (b->newer)
		b->newer->older = b->older;
	else
		bs->newest = b->older;
	if (b->older)
		b->older->newer = b->newer;
	else
		bs->oldest = b->newer;
	b->newer = b->older = NULL;
}

static void lru_push(struct xg_bodystore *bs, struct xg_body *b)
{
	b->newer = NULL;
	b->older = bs->newest;
	if (bs->newest)
		bs->newest->newer = b;
	else
		bs->oldest = b;
	bs->newest = b;
}

static void body_free(struct xg_body *b)
{
	free(b->data);
	free(b);
}

/* Take b out of the store (index, LRU, byte count); freed if unused. */
static void unstore(struct xg_bodystore *bs, struct xg_body *b)
{
	struct xg_body **pp = slot_of(bs, b->id);

	*pp = b->hnext;
	b->hnext = NULL;
	lru_unlink(bs, b);
	b->stored = false;
	bs->st.bytes -= b->len;
	bs->st.bodies--;
	if (!b->users)
		body_free(b);
}

/* Evict the least recently used bodies not in use (and not keep) until
 * the store fits its bound. */
static void shrink(struct xg_bodystore *bs, const struct xg_body *keep)
{
	struct xg_body *b = bs->oldest, *newer;

	while (b && bs->st.bytes > bs->max_bytes) {
		newer = b->newer;
		if (!b->users && b != keep) {
			bs->st.evicted++;
			bs->st.evicted_bytes += b->len;
			unstore(bs, b);
		}
		b = newer;
	}
}

static int rehash(struct xg_bodystore *bs, size_t n)
{
	struct xg_body **nb = calloc(n, sizeof(*nb)), *b, *next;
	size_t i, old = bs->nbuckets;
	struct xg_body **ob = bs->buckets;

	if (!nb)
		return -ENOMEM;
	bs->buckets = nb;
	bs->nbuckets = n;
	for (i = 0; i < old; i++) {
		for (b = ob[i]; b; b = next) {
			struct xg_body **pp = &nb[bucket_of(bs, b->id)];

			next = b->hnext;
			b->hnext = *pp;
			*pp = b;
		}
	}
	free(ob);
	return 0;
}

int xg_bodystore_new(struct xg_bodystore **out, size_t max_bytes)
{
	struct xg_bodystore *bs = calloc(1, sizeof(*bs));

	if (!bs)
		return -ENOMEM;
	bs->buckets = calloc(BUCKETS_MIN, sizeof(*bs->buckets));
	if (!bs->buckets) {
		free(bs);
		return -ENOMEM;
	}
	bs->nbuckets = BUCKETS_MIN;
	RAND_bytes(bs->hkey, sizeof(bs->hkey));
	bs->max_bytes = max_bytes ? max_bytes : XG_BODYSTORE_DEFAULT_MAX;
	*out = bs;
	return 0;
}

void xg_bodystore_free(struct xg_bodystore *bs)
{
	struct xg_body *b, *older;

	if (!bs)
		return;
	for (b = bs->newest; b; b = older) {
		older = b->older;
		b->stored = false;
		b->bs = NULL;
		b->newer = b->older = b->hnext = NULL;
		if (!b->users)
			body_free(b);
	}
	free(bs->buckets);
	free(bs);
}

int xg_bodystore_put(struct xg_bodystore *bs, const uint8_t id[16],
		     uint8_t *data, size_t len)
{
	struct xg_body **pp, *b;

	if (!bs || !id || !data)
		return -EINVAL;
	if (len > bs->max_bytes)
		return -E2BIG;
	pp = slot_of(bs, id);
	if (*pp)
		return -EEXIST;
	/* Keep chains short: grow once there are more bodies than buckets
	 * (a failure only makes chains longer). */
	if (bs->st.bodies >= bs->nbuckets && rehash(bs, bs->nbuckets * 2) == 0)
		pp = slot_of(bs, id);
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	memcpy(b->id, id, sizeof(b->id));
	b->data = data;
	b->len = len;
	b->stored = true;
	b->bs = bs;
	*pp = b;
	lru_push(bs, b);
	bs->st.bytes += len;
	bs->st.bodies++;
	shrink(bs, b);
	return 0;
}

struct xg_body *xg_bodystore_get(struct xg_bodystore *bs,
				 const uint8_t id[16])
{
	struct xg_body *b = *slot_of(bs, id);

	if (!b) {
		bs->st.misses++;
		return NULL;
	}
	bs->st.hits++;
	lru_unlink(bs, b);
	lru_push(bs, b);
	if (b->users++ == 0)
		bs->st.in_use++;
	return b;
}

void xg_body_put(struct xg_body *b)
{
	struct xg_bodystore *bs;

	if (!b || !b->users)
		return;
	if (--b->users)
		return;
	bs = b->bs;
	if (bs)
		bs->st.in_use--;
	if (!b->stored) {
		body_free(b);
		return;
	}
	/* It may have kept the store over its bound. */
	if (bs->st.bytes > bs->max_bytes)
		shrink(bs, NULL);
}

const uint8_t *xg_body_data(const struct xg_body *b)
{
	return b->data;
}

size_t xg_body_len(const struct xg_body *b)
{
	return b->len;
}

bool xg_bodystore_has(const struct xg_bodystore *bs, const uint8_t id[16])
{
	return *slot_of(bs, id) != NULL;
}

int xg_bodystore_remove(struct xg_bodystore *bs, const uint8_t id[16])
{
	struct xg_body *b = *slot_of(bs, id);

	if (!b)
		return -ENOENT;
	unstore(bs, b);
	return 0;
}

void xg_bodystore_set_max(struct xg_bodystore *bs, size_t max_bytes)
{
	bs->max_bytes = max_bytes ? max_bytes : XG_BODYSTORE_DEFAULT_MAX;
	shrink(bs, NULL);
}

void xg_bodystore_get_stats(const struct xg_bodystore *bs,
			    struct xg_bodystore_stats *out)
{
	*out = bs->st;
}

int xg_bodystore_hook_get(void *ctx, const uint8_t id[16],
			  const uint8_t **body, size_t *len, void **ref)
{
	struct xg_body *b = xg_bodystore_get(ctx, id);

	if (!b)
		return -ENOENT;
	*body = b->data;
	*len = b->len;
	*ref = b;
	return 0;
}

void xg_bodystore_hook_put(void *ctx, void *ref)
{
	(void)ctx;
	xg_body_put(ref);
}
