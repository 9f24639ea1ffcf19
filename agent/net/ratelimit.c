/* SPDX-License-Identifier: MIT */
#include "net/ratelimit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <xgossip/siphash.h>

/* One packet, in the bucket's units of 10^-9 packet. */
#define TOKEN_COST 1000000000ULL

struct rl_entry {
	uint64_t last_ns; /* latest time this source was seen */
	uint64_t tokens;  /* at last_ns, in units of 10^-9 packet */
	uint8_t  family;  /* 0: slot free */
	uint8_t  ip[16];
};

struct xg_ratelimit {
	__u64    k0, k1;   /* SipHash key halves, split once */
	uint64_t rate;     /* packets per second = units per nanosecond */
	uint64_t cap;      /* burst * TOKEN_COST */
	uint32_t mask;     /* slots - 1 */
	uint32_t window;   /* min(XG_RATELIMIT_WINDOW, slots) */
	uint64_t allowed, limited, evicted;
	struct rl_entry slot[];
};

static int random_key(uint8_t key[XG_SIPKEY_LEN])
{
	size_t got = 0;
	ssize_t n;

	while (got < XG_SIPKEY_LEN) {
		n = getrandom(key + got, XG_SIPKEY_LEN - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		got += (size_t)n;
	}
	return 0;
}

int xg_ratelimit_new(struct xg_ratelimit **out, uint32_t rate, uint32_t burst,
		     uint32_t slots)
{
	uint8_t key[XG_SIPKEY_LEN];
	struct xg_ratelimit *rl;
	int err;

	if (!out || rate == 0 || burst == 0 || slots == 0 ||
	    slots > XG_RATELIMIT_MAX_SLOTS || (slots & (slots - 1)) != 0)
		return -EINVAL;
	rl = calloc(1, sizeof(*rl) + (size_t)slots * sizeof(rl->slot[0]));
	if (!rl)
		return -ENOMEM;
	err = random_key(key);
	if (err) {
		free(rl);
		return err;
	}
	xg_sipkey_split(key, &rl->k0, &rl->k1);
	memset(key, 0, sizeof(key));
	rl->rate = rate;
	/* At most 2^32 * 10^9 < 2^63: no overflow. */
	rl->cap = (uint64_t)burst * TOKEN_COST;
	rl->mask = slots - 1;
	rl->window = slots < XG_RATELIMIT_WINDOW ? slots : XG_RATELIMIT_WINDOW;
	*out = rl;
	return 0;
}

void xg_ratelimit_free(struct xg_ratelimit *rl)
{
	free(rl);
}

/* Tokens e holds at now_ns.  elapsed * rate is computed only when it cannot
 * pass the room left in the bucket, so it never overflows however long the
 * source was quiet. */
static uint64_t tokens_at(const struct xg_ratelimit *rl,
			  const struct rl_entry *e, uint64_t now_ns)
{
	uint64_t elapsed, room;

	if (now_ns <= e->last_ns)
		return e->tokens;
	elapsed = now_ns - e->last_ns;
	room = rl->cap - e->tokens;
	if (elapsed > room / rl->rate)
		return rl->cap;
	return e->tokens + elapsed * rl->rate;
}

static bool same_source(const struct rl_entry *e, const struct xg_addr *src)
{
	return e->family == src->family &&
	       memcmp(e->ip, src->ip, sizeof(e->ip)) == 0;
}

static uint32_t window_start(const struct xg_ratelimit *rl,
			     const struct xg_addr *src)
{
	uint8_t in[1 + sizeof(src->ip)];

	in[0] = src->family;
	memcpy(in + 1, src->ip, sizeof(src->ip));
	return (uint32_t)xg_siphash24_k(rl->k0, rl->k1, in, sizeof(in)) &
	       rl->mask;
}

/* Which entry in the window gives way to a new source: the one that loses
 * least by restarting full, i.e. the fullest bucket; among equals the one
 * seen longest ago. */
static struct rl_entry *victim(struct xg_ratelimit *rl, uint32_t start,
			       uint64_t now_ns)
{
	struct rl_entry *best = NULL, *e;
	uint64_t best_tokens = 0, t;
	uint32_t i;

	for (i = 0; i < rl->window; i++) {
		e = &rl->slot[(start + i) & rl->mask];
		t = tokens_at(rl, e, now_ns);
		if (!best || t > best_tokens ||
		    (t == best_tokens && e->last_ns < best->last_ns)) {
			best = e;
			best_tokens = t;
		}
	}
	return best;
}

/* The entry for src, claiming a free or evicted slot for a new source. */
static struct rl_entry *lookup(struct xg_ratelimit *rl,
			       const struct xg_addr *src, uint64_t now_ns)
{
	uint32_t start = window_start(rl, src), i;
	struct rl_entry *e, *free_slot = NULL;

	for (i = 0; i < rl->window; i++) {
		e = &rl->slot[(start + i) & rl->mask];
		if (e->family == 0) {
			if (!free_slot)
				free_slot = e;
		} else if (same_source(e, src)) {
			return e;
		}
	}
	e = free_slot;
	if (!e) {
		e = victim(rl, start, now_ns);
		rl->evicted++;
	}
	e->family = src->family;
	memcpy(e->ip, src->ip, sizeof(e->ip));
	e->last_ns = now_ns;
	e->tokens = rl->cap;
	return e;
}

bool xg_ratelimit_allow(struct xg_ratelimit *rl, const struct xg_addr *src,
			uint64_t now_ns)
{
	struct rl_entry *e = lookup(rl, src, now_ns);

	e->tokens = tokens_at(rl, e, now_ns);
	if (now_ns > e->last_ns)
		e->last_ns = now_ns;
	if (e->tokens < TOKEN_COST) {
		rl->limited++;
		return false;
	}
	e->tokens -= TOKEN_COST;
	rl->allowed++;
	return true;
}

void xg_ratelimit_stats(const struct xg_ratelimit *rl, uint64_t *allowed,
			uint64_t *limited, uint64_t *evicted)
{
	if (allowed)
		*allowed = rl->allowed;
	if (limited)
		*limited = rl->limited;
	if (evicted)
		*evicted = rl->evicted;
}
