/* SPDX-License-Identifier: MIT */
/*
 * Pull wants: ids this node learned of (through PULL_SYNC, or a gap in an
 * origin's sequence) but has not seen,
 * with the members that announced them (holders) and the PULL_REQUESTs
 * made so far.  One request per id is outstanding at a time; the caller
 * retries after a timeout, preferring a holder not asked yet.  Deadlines
 * are always now + one timeout, so a list kept in (re)arming order is in
 * deadline order.  Bounded: when full, a new id is not requested.
 */
#ifndef XGOSSIP_CORE_MSG_WANT_H
#define XGOSSIP_CORE_MSG_WANT_H

#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/msg.h"
#include "core/msg_idtab.h"

#define XG_WANT_HOLDERS 4

struct xg_want {
	struct xg_idnode node;
	struct xg_link   due;
	uint64_t         deadline;
	uint64_t         holders[XG_WANT_HOLDERS];
	uint8_t          nholders;
	uint8_t          tries;     /* PULL_REQUESTs sent */
};

struct xg_wants {
	struct xg_idtab tab;
	struct xg_link  due;
	size_t          max;
};

int  xg_wants_init(struct xg_wants *w, size_t max, uint64_t k0, uint64_t k1);
void xg_wants_fini(struct xg_wants *w);

/* A PULL_SYNC for id came from `from`.  Returns 1 with *out set for a new
 * want (the caller asks from and arms it), 0 when a want exists (from is
 * remembered as one more holder), -ENOBUFS (table full), -ENOMEM. */
int xg_wants_note(struct xg_wants *w, const uint8_t id[XG_MSG_ID_LEN],
		  uint64_t from, struct xg_want **out);
struct xg_want *xg_wants_find(const struct xg_wants *w,
			      const uint8_t id[XG_MSG_ID_LEN]);
/* Count a request and set the next deadline (moves it to the back). */
void xg_wants_arm(struct xg_wants *w, struct xg_want *wt, uint64_t deadline);
/* Set the first deadline without counting a request (a want that waits
 * before asking; moves it to the back). */
void xg_wants_schedule(struct xg_wants *w, struct xg_want *wt,
		       uint64_t deadline);
/* Whom to ask next: the holders in the order they announced the id, so a
 * retry goes to a holder not asked yet while there is one. */
uint64_t xg_want_next_holder(const struct xg_want *wt);
void xg_wants_drop(struct xg_wants *w, struct xg_want *wt);
struct xg_want *xg_wants_due(struct xg_wants *w, uint64_t now_ns);
uint64_t xg_wants_next(const struct xg_wants *w);
size_t   xg_wants_count(const struct xg_wants *w);

#endif /* XGOSSIP_CORE_MSG_WANT_H */
