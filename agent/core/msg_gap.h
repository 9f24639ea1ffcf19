/* SPDX-License-Identifier: MIT */
/*
 * Sequence gaps: the highest counter seen from each origin incarnation,
 * so that a message whose counter jumps past it reveals the ones in
 * between, which this node has not received (a member no push and no
 * PULL_SYNC happened to reach, or one that was cut off for a while).
 * Ids are origin (8) + incarnation (4) + counter (4), so an origin's
 * messages are numbered 0, 1, 2, ... in each incarnation.
 *
 * Keyed by the id with the counter zeroed (origin + incarnation), in an
 * LRU bounded by a number of origins: forgetting an origin only means its
 * next message starts a new baseline.
 */
#ifndef XGOSSIP_CORE_MSG_GAP_H
#define XGOSSIP_CORE_MSG_GAP_H

#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/msg.h"
#include "core/msg_idtab.h"

/* At most this many missing counters are reported for one jump: a larger
 * jump is a long outage, beyond what pulls from caches can repair. */
#define XG_GAP_MAX 64

struct xg_gaps {
	struct xg_idtab tab;
	struct xg_link  lru;     /* least recently updated first */
	size_t          max;
};

int  xg_gaps_init(struct xg_gaps *g, size_t max, uint64_t k0, uint64_t k1);
void xg_gaps_fini(struct xg_gaps *g);

/* A message with this id was accepted at now.  Returns how many counters
 * between the previous highest one and this one were never seen, written
 * to missing[] (at most cap, the ones nearest to this counter), or 0 for
 * the first message of an origin incarnation, for one that does not raise
 * the highest counter, and when the previous one is older than horizon_ns
 * (its neighbours would no longer be in anyone's cache).  -ENOMEM. */
int xg_gaps_note(struct xg_gaps *g, const uint8_t id[XG_MSG_ID_LEN],
		 uint64_t now_ns, uint64_t horizon_ns, uint32_t *missing,
		 size_t cap);
size_t xg_gaps_count(const struct xg_gaps *g);

#endif /* XGOSSIP_CORE_MSG_GAP_H */
