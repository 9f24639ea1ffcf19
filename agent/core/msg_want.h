/* SPDX-License-Identifier: MIT */
/*
 * Pull wants: ids this node learned of (through PULL_SYNC, ANNOUNCE, or a
 * gap in an origin's sequence) but has not seen, with the members that
 * announced them (holders) and the requests made so far.
 *
 * A plain want pulls: one PULL_REQUEST per id is outstanding at a time;
 * the caller retries after a timeout, preferring a holder not asked yet.
 *
 * A large want (one an ANNOUNCE told the size, SHA-256, topic, date and
 * hops of) fetches instead, through the daemon, and moves between three
 * lists: queued (waiting for one of the limited fetch slots, in order),
 * running (a fetch under way, with a guard deadline), and due (a failed
 * fetch waiting an ack timeout before it queues again).  A plain want
 * becomes large when an ANNOUNCE for its id arrives (a gap want asked,
 * and the holder answered with the ANNOUNCE of a large message).
 *
 * Deadlines on each list are always now + one fixed timeout (the ack
 * timeout on `due`, the fetch timeout on `running`), so lists kept in
 * (re)arming order are in deadline order.  Bounded: when full, a new id
 * is not requested.
 */
#ifndef XGOSSIP_CORE_MSG_WANT_H
#define XGOSSIP_CORE_MSG_WANT_H

#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "core/msg.h"
#include "core/msg_idtab.h"

#define XG_WANT_HOLDERS 4

enum xg_fetch_state {
	XG_FETCH_NONE = 0,  /* a plain want, or a large one being set up */
	XG_FETCH_QUEUED,    /* waiting for a fetch slot (wants->queue) */
	XG_FETCH_RUNNING,   /* io->fetch started (wants->running) */
	XG_FETCH_WAITING,   /* failed; queues again at deadline (wants->due) */
};

/* What an ANNOUNCE said of a large message: enough to fetch the body and
 * then deliver and announce it. */
struct xg_want_large {
	uint64_t size;
	uint64_t origin_ms;
	uint64_t from;      /* source of the fetch under way, or last one */
	uint8_t  sha256[XG_MSG_SHA256_LEN];
	uint8_t  hops;      /* as announced to us */
	char     topic[XG_MSG_TOPIC_MAX + 1];
};

struct xg_want {
	struct xg_idnode      node;
	struct xg_link        due;   /* on one of the lists, or none */
	uint64_t              deadline;
	uint64_t              holders[XG_WANT_HOLDERS];
	uint8_t               nholders;
	uint8_t               tries; /* PULL_REQUESTs sent, or fetches */
	uint8_t               state; /* enum xg_fetch_state */
	struct xg_want_large *large; /* NULL: a plain want */
};

struct xg_wants {
	struct xg_idtab tab;
	struct xg_link  due;
	struct xg_link  queue;    /* large wants waiting for a fetch slot */
	struct xg_link  running;  /* fetches under way, oldest first */
	size_t          max;
	size_t          nlarge, nqueued, nrunning;
};

int  xg_wants_init(struct xg_wants *w, size_t max, uint64_t k0, uint64_t k1);
void xg_wants_fini(struct xg_wants *w);

/* A PULL_SYNC (or ANNOUNCE) for id came from `from`.  Returns 1 with *out
 * set for a new want (the caller asks from and arms it), 0 when a want
 * exists (from is remembered as one more holder), -ENOBUFS (table full),
 * -ENOMEM. */
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
/* The oldest want on `due` whose deadline has come (plain or WAITING). */
struct xg_want *xg_wants_due(struct xg_wants *w, uint64_t now_ns);
/* The earliest deadline on `due` and `running`. */
uint64_t xg_wants_next(const struct xg_wants *w);
size_t   xg_wants_count(const struct xg_wants *w);

/* --- large wants ------------------------------------------------------- */

/* Make a plain want large with what an ANNOUNCE from `from` said: its
 * holders become just `from` (the member certain to have the body), its
 * tries start again, and it leaves the `due` list (state NONE: the caller
 * queues it).  0 or -ENOMEM (the want stays plain). */
int xg_wants_set_large(struct xg_wants *w, struct xg_want *wt,
		       const struct xg_want_large *meta, uint64_t from);
/* To the back of the fetch queue. */
void xg_wants_queue(struct xg_wants *w, struct xg_want *wt);
/* The want that has waited longest for a fetch slot, or NULL. */
struct xg_want *xg_wants_queue_head(const struct xg_wants *w);
/* A fetch from `from` starts: count the try, and guard it with deadline
 * (to the back of `running`). */
void xg_wants_run(struct xg_wants *w, struct xg_want *wt, uint64_t from,
		  uint64_t deadline);
/* The fetch failed: wait on `due` until deadline, then queue again. */
void xg_wants_wait(struct xg_wants *w, struct xg_want *wt, uint64_t deadline);
/* The oldest running fetch whose guard deadline has passed, or NULL. */
struct xg_want *xg_wants_overdue(const struct xg_wants *w, uint64_t now_ns);
/* Where the next fetch goes: the holders in the order they announced the
 * id, then the origin (0: none, e.g. when it is us), in turn. */
uint64_t xg_want_source(const struct xg_want *wt, uint64_t origin);

#endif /* XGOSSIP_CORE_MSG_WANT_H */
