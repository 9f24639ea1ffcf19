/* SPDX-License-Identifier: MIT */
/*
 * TCP push/pull: full-state anti-entropy and joins.
 *
 * Outgoing: connect, send our STATE (XG_F_JOIN when joining), read theirs,
 * merge, close.  Incoming: read their STATE, merge it, and only if it was
 * authentic reply with ours (XG_F_REPLY), then close; an unauthenticated
 * client learns nothing about the cluster.
 *
 * Every exchange is one non-blocking stream (net/stream.h) with a fixed
 * deadline, and at most XG_PP_MAX_CONNS run at once (excess accepts are
 * closed at once), so slow, silent or hostile peers cannot stall the
 * agent or pile up memory: all incoming frames together may not buffer
 * more than XG_PP_RX_BUDGET.
 */
#ifndef XGOSSIP_DAEMON_PUSHPULL_H
#define XGOSSIP_DAEMON_PUSHPULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/swim.h"
#include "daemon/loop.h"

#define XG_PP_MAX_CONNS  64
#define XG_PP_TIMEOUT_NS (5ULL * 1000000000ULL)
#define XG_PP_RX_BUDGET  (64u << 20)
#define XG_PP_PRIO       2
/* Largest request or reply other than STATE (a KEYOP with a full keyring). */
#define XG_PP_REQUEST_MAX 4096

/* err is 0 when the exchange completed and the peer's state merged. */
typedef void (*xg_pp_done_fn)(void *ctx, const struct xg_addr *peer, int err);
/* A request's answer: err 0 with the reply frame (valid during the call),
 * or the failure. */
typedef void (*xg_pp_reply_fn)(void *ctx, const struct xg_addr *peer, int err,
			       const uint8_t *reply, size_t len);
/* Serve a request frame (anything but STATE) that arrived on the listener:
 * write the reply into out (cap bytes) and return its length, or -errno to
 * drop the connection. */
typedef ssize_t (*xg_pp_serve_fn)(void *ctx, const uint8_t *req, size_t len,
				  uint8_t *out, size_t cap);

struct xg_pp_stats {
	uint64_t accepts, connects;  /* TCP connections taken / opened */
	uint64_t rejected;           /* accepts closed: too many at once */
	uint64_t ok, failed;         /* exchanges, both directions */
	uint64_t tls_refused;        /* handshakes failed on certificates */
	uint64_t shed;               /* accepts closed: the agent is starved */
	uint64_t name_mismatch;      /* peer claimed a name its cert lacks */
};

struct xg_pp_conn;
struct xg_tls_ctx;

struct xg_pp {
	struct xg_loop    *loop;
	struct xg_core    *core;
	struct xg_watch    listen;
	struct xg_pp_conn *conns;
	size_t             nconns;
	struct xg_pp_stats stats;
	/* TLS for every stream when set (NULL: plain TCP, --insecure-dev).
	 * Replaced on SIGHUP; open streams keep the context they began
	 * with. */
	struct xg_tls_ctx *tls;
	/* Set by the owner while it is starved of CPU: incoming push/pulls
	 * are closed at once instead of costing a TLS handshake. */
	bool               shed;
	/* Requests other than STATE (KEYOP): their type and server. */
	uint8_t            serve_type;
	xg_pp_serve_fn     serve;
	void              *serve_ctx;
};

/* Listen on bind (same address and port as the UDP socket). 0 or -errno. */
int  xg_pp_open(struct xg_pp *pp, struct xg_loop *loop, struct xg_core *core,
		const struct xg_addr *bind);
/* Stop listening and abort every exchange (their done gets -ECANCELED). */
void xg_pp_close(struct xg_pp *pp);

/* Start an exchange with `to`.  done (may be NULL) is called exactly once,
 * from the loop, never from inside this call.  0, -EBUSY (too many
 * exchanges) or -errno. */
int xg_pp_start(struct xg_pp *pp, const struct xg_addr *to, bool join,
		xg_pp_done_fn done, void *ctx);

/* Send one request frame to `to` and read one reply frame; with TLS the
 * peer's certificate must name expect_name (NULL: any cluster member).
 * fn is called exactly once, never inside this call.  0 or -errno. */
int xg_pp_request(struct xg_pp *pp, const struct xg_addr *to,
		  const char *expect_name, const void *frame, size_t len,
		  xg_pp_reply_fn fn, void *ctx);

/* Fail every exchange whose deadline has passed (-ETIMEDOUT). */
void     xg_pp_expire(struct xg_pp *pp, uint64_t now_ns);
/* Earliest deadline of a running exchange, or UINT64_MAX. */
uint64_t xg_pp_next_deadline(const struct xg_pp *pp);

/* A short operator-facing reason for a push/pull error. */
const char *xg_pp_strerror(int err);

#endif /* XGOSSIP_DAEMON_PUSHPULL_H */
