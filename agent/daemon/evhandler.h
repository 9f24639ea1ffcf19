/* SPDX-License-Identifier: MIT */
/*
 * Event handlers (--event-handler): operator programs run on membership
 * and user events, like Serf's (docs/EVENT_HANDLERS.md).
 *
 * Everything happens from the agent's loop without blocking it: a child
 * is started with posix_spawn (its stdin a memfd already holding the
 * event, so nothing waits on a pipe), reaped through a pidfd watched in
 * the loop, and its output read from a non-blocking pipe.  Each handler
 * runs its events one at a time in the order they happened; different
 * handlers run side by side, at most XG_EVH_RUNNING_MAX children in all.
 * Every resource is bounded and every event not run is counted.
 */
#ifndef XGOSSIP_DAEMON_EVHANDLER_H
#define XGOSSIP_DAEMON_EVHANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/msg.h"
#include "core/swim.h"
#include "daemon/evhandler_spec.h"
#include "daemon/loop.h"

/* Children running at once, over all handlers. */
#define XG_EVH_RUNNING_MAX 8
/* Events waiting per handler; the next one is dropped and counted. */
#define XG_EVH_QUEUE_MAX   1024
/* Bytes of queued events (stdin and environment) over all handlers; an
 * event shared by several handlers counts once. */
#define XG_EVH_BYTES_MAX   (64u << 20)
/* A child still running after this long is killed, with its process
 * group. */
#define XG_EVH_TIMEOUT_NS  (30ULL * 1000000000ULL)
/* At exit: running children get SIGTERM, then SIGKILL after this long. */
#define XG_EVH_CLOSE_GRACE_NS (1000ULL * 1000000ULL)
/* Output (stdout and stderr) kept per run for the log; the rest is read
 * and discarded so a chatty child never blocks on a full pipe. */
#define XG_EVH_OUTPUT_MAX  512
/* The watches' priority: after packets, timers and signals. */
#define XG_EVH_PRIO        4

struct xg_evh;

struct xg_evh_stats {
	uint64_t run;          /* events taken off a queue to run */
	uint64_t failed;       /* of those: could not start, exited non-zero
				* or died of a signal not sent by us */
	uint64_t killed;       /* of those: killed at the timeout */
	uint64_t dropped;      /* (event, handler) pairs never run: queue or
				* byte bound, or still queued at exit */
	uint32_t handlers;     /* configured */
	uint32_t running;      /* children now */
	uint32_t queued;       /* (event, handler) pairs waiting now */
	uint64_t queued_bytes; /* what they hold */
};

/* Check that every spec's PATH is a regular executable file (errors are
 * logged with the path: -ENOENT, -EACCES, -EISDIR...), copy the specs
 * (relative paths made absolute against the current directory) and add
 * the handlers' watches to loop.  self_name goes to XGOSSIP_SELF_NAME.
 * n == 0 is allowed (then nothing ever runs).  0 or -errno. */
int  xg_evh_open(struct xg_evh **out, struct xg_loop *loop,
		 const struct xg_evh_spec *specs, size_t n,
		 const char *self_name);
/* Discard queued events (counted as dropped), SIGTERM running children's
 * process groups, wait for them up to XG_EVH_CLOSE_GRACE_NS, SIGKILL what
 * is left and reap it; remove the watches (call before xg_loop_free).
 * Blocks for at most about XG_EVH_CLOSE_GRACE_NS plus the time the
 * kernel takes to kill.  NULL is a no-op. */
void xg_evh_close(struct xg_evh *h);

/* Queue a membership event for every handler whose filter takes it and
 * start what can start.  XG_EV_REFUTE is ignored.  ev and its member are
 * copied.  NULL h is a no-op. */
void xg_evh_member(struct xg_evh *h, const struct xg_event *ev);
/* The same for a user message delivered to this node (broadcast, or
 * unicast when unicast is true).  origin_name: the origin's member name,
 * or NULL when it is not a known member (then its 16-hex id is used).
 * The payload is copied. */
void xg_evh_message(struct xg_evh *h, const struct xg_msg *m, bool unicast,
		    const char *origin_name);

/* Counters and gauges; all zero for NULL h. */
void xg_evh_stats(const struct xg_evh *h, struct xg_evh_stats *out);

/* The bounds above, changeable for tests (0 keeps a value; queue_max is
 * capped at XG_EVH_QUEUE_MAX, running_max at XG_EVH_RUNNING_MAX). */
struct xg_evh_limits {
	uint64_t timeout_ns;
	uint32_t running_max;
	uint32_t queue_max;
	uint64_t bytes_max;
};
void xg_evh_set_limits(struct xg_evh *h, const struct xg_evh_limits *l);

#endif /* XGOSSIP_DAEMON_EVHANDLER_H */
