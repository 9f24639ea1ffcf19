/* SPDX-License-Identifier: MIT */
/*
 * ACK rounds: for each message this node pushed, whom it pushed to and
 * which of them ACKed, then the pull-sync rounds that follow when too few
 * did.  A round ends early once a majority has ACKed; otherwise the caller
 * decides at each deadline.  Every deadline is "now + ack timeout" and
 * time only moves forward, so a list kept in (re)arming order is also
 * deadline order.  Bounded: when full, no new round starts
 * (the message is still pushed, just without the pull-sync safety net).
 */
#ifndef XGOSSIP_CORE_MSG_ROUND_H
#define XGOSSIP_CORE_MSG_ROUND_H

#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/msg.h"
#include "core/msg_idtab.h"

struct xg_round {
	struct xg_idnode node;
	struct xg_link   due;
	uint64_t         deadline;
	uint64_t         upstream;    /* who pushed it to us; 0 at the origin */
	uint64_t         started;     /* when the pushes left */
	uint64_t         to[XG_MSG_FANOUT_MAX];
	uint32_t         acked;       /* bit i: to[i] ACKed */
	uint8_t          n;           /* entries in to[] */
	uint8_t          acks;
	uint8_t          syncs;       /* pull-sync rounds done */
	uint8_t          large;       /* pull-sync with ANNOUNCE, not
				       * PULL_SYNC: a large message */
};

_Static_assert(XG_MSG_FANOUT_MAX <= 32, "acked is a 32-bit mask");

struct xg_rounds {
	struct xg_idtab tab;
	struct xg_link  due;
	size_t          max;
};

int  xg_rounds_init(struct xg_rounds *r, size_t max, uint64_t k0, uint64_t k1);
void xg_rounds_fini(struct xg_rounds *r);

/* A majority of n pushes: more than half. */
static inline unsigned xg_round_majority(unsigned n)
{
	return n / 2 + 1;
}

/* 0, -EINVAL (n is 0 or above XG_MSG_FANOUT_MAX), -EEXIST, -ENOBUFS
 * (table full), -ENOMEM. */
int xg_rounds_start(struct xg_rounds *r, const uint8_t id[XG_MSG_ID_LEN],
		    const uint64_t *to, size_t n, uint64_t upstream,
		    uint64_t deadline);

/* An ACK for id from node `from`: 1 when it completes a majority (the
 * round is then closed and freed), 0 when counted, -ENOENT when there is
 * no round for id, from was not pushed to, or it already ACKed. */
int xg_rounds_ack(struct xg_rounds *r, const uint8_t id[XG_MSG_ID_LEN],
		  uint64_t from);

struct xg_round *xg_rounds_find(const struct xg_rounds *r,
				const uint8_t id[XG_MSG_ID_LEN]);
/* Set a new deadline (moves the round to the back of the list). */
void xg_rounds_rearm(struct xg_rounds *r, struct xg_round *rd,
		     uint64_t deadline);

/* The oldest round whose deadline is at or before now, or NULL.  The
 * caller handles it and then either closes or re-arms it. */
struct xg_round *xg_rounds_due(struct xg_rounds *r, uint64_t now_ns);
void             xg_rounds_close(struct xg_rounds *r, struct xg_round *rd);
uint64_t         xg_rounds_next(const struct xg_rounds *r);
size_t           xg_rounds_count(const struct xg_rounds *r);

#endif /* XGOSSIP_CORE_MSG_ROUND_H */
