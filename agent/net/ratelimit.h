/* SPDX-License-Identifier: MIT */
/*
 * Per-source token buckets for the packets the agent handles in userspace.
 *
 * Authentication costs CPU before it can reject anything, so a flood from
 * one address could keep the agent busy verifying junk while real probes
 * and gossip from everyone else wait in the socket queue.  Each source
 * address gets its own bucket: a flooder exhausts only its own.
 *
 * The key is the address alone (family and IP), never the port: a flooder
 * picks its source port freely, so counting per port would give it as many
 * buckets as it likes.
 *
 * Memory is fixed at creation (a flood must not make the agent allocate)
 * and each packet costs O(1): the table is open-addressed with a probe
 * window of XG_RATELIMIT_WINDOW slots.  Slots are chosen by SipHash under a
 * key from getrandom(), so a remote sender cannot pick addresses that all
 * land in one window.
 *
 * When a new source finds its window full, one entry is evicted: the one
 * whose bucket, refilled to now, holds the most tokens (ties: the one seen
 * longest ago).  An entry with a full bucket carries no information, so
 * evicting it is free; otherwise the evicted source loses what it owed.
 * That is the price of fixed memory: an evicted source starts again with
 * a full bucket, so a sender that owns very many addresses and keeps
 * pushing other entries out can get up to one extra burst per eviction.
 * Sources that flood are the ones with the emptiest buckets, so they are
 * the last to be evicted; sources that send below the rate lose nothing
 * either way.
 *
 * Token arithmetic is in integers: a bucket holds tokens in units of
 * 10^-9 packet, so elapsed nanoseconds times packets-per-second is exactly
 * the refill, with no division and no rounding drift.  It saturates at the
 * bucket depth; a clock that goes backwards (receive timestamps of one
 * batch are not strictly ordered) refills nothing.
 */
#ifndef XGOSSIP_NET_RATELIMIT_H
#define XGOSSIP_NET_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/addr.h"

#define XG_RATELIMIT_WINDOW    4
/* 2^20 slots of 40 bytes is 40 MiB: more than any node needs, and a bound
 * so a typo in a configuration cannot ask for gigabytes. */
#define XG_RATELIMIT_MAX_SLOTS (1u << 20)

struct xg_ratelimit; /* opaque */

/* rate: packets per second per source (>= 1), burst: bucket depth in
 * packets (>= 1), slots: table size, a power of two in
 * 1..XG_RATELIMIT_MAX_SLOTS (e.g. 1024).  0, -EINVAL (bad parameter or out
 * NULL), -ENOMEM, or -errno from getrandom(). */
int xg_ratelimit_new(struct xg_ratelimit **out, uint32_t rate, uint32_t burst,
		     uint32_t slots);
void xg_ratelimit_free(struct xg_ratelimit *rl);

/* True if a packet from src (its port is ignored) may be handled at now_ns
 * (CLOCK_MONOTONIC).  Takes one token when it says yes. */
bool xg_ratelimit_allow(struct xg_ratelimit *rl, const struct xg_addr *src,
			uint64_t now_ns);

/* Counters for `xgossipctl info`: packets allowed, packets limited, and
 * sources evicted to make room for new ones.  Any pointer may be NULL. */
void xg_ratelimit_stats(const struct xg_ratelimit *rl, uint64_t *allowed,
			uint64_t *limited, uint64_t *evicted);

#endif /* XGOSSIP_NET_RATELIMIT_H */
