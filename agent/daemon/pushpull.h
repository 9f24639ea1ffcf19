/* SPDX-License-Identifier: MIT */
/*
 * TCP push/pull: full-state anti-entropy and joins.
 *
 * Outgoing: connect, send our STATE (XG_F_JOIN when joining), read theirs,
 * merge, close.  Incoming: read their STATE, merge it, and only if it was
 * authentic reply with ours (XG_F_REPLY), then close; an unauthenticated
 * client learns nothing about the cluster.
 *
 * The same port serves other requests (KEYOP, UNICAST, FETCH): a
 * registered service per frame type, each with its own size limits.  A
 * request is one frame, optionally followed by one body frame the server
 * asks for once it has checked the request; the answer is one frame,
 * optionally followed by a tail frame sent from the server's memory
 * without a copy.  Clients (xg_pp_request, xg_pp_ask) mirror that.
 *
 * Every exchange is one non-blocking stream (net/stream.h) with a
 * deadline, and at most XG_PP_MAX_CONNS run at once (excess accepts are
 * closed at once), so slow, silent or hostile peers cannot stall the
 * agent or pile up memory: all incoming frames together may not buffer
 * more than XG_PP_RX_BUDGET.  Body and tail frames move at most
 * XG_PP_SLICE bytes per stream per wakeup, so the loop gets back to UDP
 * between slices.
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
/* Body frames peers send us (UNICAST payloads) may fill the budget up to
 * here, so that a full STATE (XG_STATE_MAX) always fits in the rest.  A
 * body that does not fit waits (it is not read, so TCP holds its sender
 * back) until one before it is done. */
#define XG_PP_RX_BODY_BUDGET (48u << 20)
#define XG_PP_PRIO       2
/* Largest request or reply other than STATE (a KEYOP with a full keyring). */
#define XG_PP_REQUEST_MAX 4096
/* Bytes of a body or tail frame moved per stream per wakeup, so a 16 MiB
 * transfer takes at least 64 wakeups and UDP (priority 0) is served
 * before each of them.  Measured on the test VMs (tests/unit/test_xfer.c,
 * both ends in one process): a wakeup moving one slice out and one in
 * took 1.3 - 2.8 ms on average, 5 ms at worst, mostly first-touch page
 * faults of the receive buffer (AES-GCM alone runs at 2 GB/s here);
 * small enough next to probe timeouts, large enough that the per-wakeup
 * overhead stays small next to the bytes moved. */
#define XG_PP_SLICE       (256u << 10)
/* Request types that can be served (besides STATE). */
#define XG_PP_SERVICES_MAX 8

/* err is 0 when the exchange completed and the peer's state merged. */
typedef void (*xg_pp_done_fn)(void *ctx, const struct xg_addr *peer, int err);
/* A request's answer: err 0 with the reply frame (valid during the call),
 * or the failure. */
typedef void (*xg_pp_reply_fn)(void *ctx, const struct xg_addr *peer, int err,
			       const uint8_t *reply, size_t len);
/* Serve a request frame (anything but STATE) that arrived on the listener:
 * write the reply into out (cap bytes) and return its length, or -errno to
 * drop the connection.  The simple form, kept for struct xg_pp's
 * serve_type/serve fields (KEYOP); services use xg_pp_handle_fn. */
typedef ssize_t (*xg_pp_serve_fn)(void *ctx, const uint8_t *req, size_t len,
				  uint8_t *out, size_t cap);

struct xg_pp_conn;

/* One request being served: what arrived, and the answer to fill in. */
struct xg_pp_call {
	/* In, valid during the call. */
	uint8_t               type;
	const uint8_t        *req;       /* the request frame */
	size_t                req_len;
	const uint8_t        *body;      /* 2nd call: the body frame asked for */
	size_t                body_len;
	const struct xg_addr *peer;
	/* Out.  Either want_body > 0 (1st call only): read a body frame of
	 * exactly that many bytes (up to the service's max_body), then call
	 * again with body set; or the reply frame, written into reply
	 * (reply_cap = the service's max_reply bytes) and its length in
	 * reply_len. */
	size_t                want_body;
	uint8_t              *reply;
	size_t                reply_cap;
	size_t                reply_len;
	/* Optional: a tail frame sent after the reply, straight from the
	 * server's memory. */
	const uint8_t        *tail;
	size_t                tail_len;
	/* Optional: release(release_ctx, release_ref) runs exactly once,
	 * when the stream is done with the reply (all sent, failed, timed
	 * out, or cancelled), even when the handler returns an error. */
	void                (*release)(void *ctx, void *ref);
	void                 *release_ctx, *release_ref;
	/* Optional: a new deadline for the stream (CLOCK_MONOTONIC ns), for
	 * a large body or tail; 0 keeps the one it has. */
	uint64_t              deadline_ns;
	struct xg_pp_conn    *conn;      /* private */
};

/* 0: go on as call says; -errno: drop the stream without an answer
 * (-EPERM is counted and logged as a name mismatch). */
typedef int (*xg_pp_handle_fn)(void *ctx, struct xg_pp_call *call);

struct xg_pp_service {
	uint8_t         type;       /* a wire type other than STATE */
	size_t          max_req;    /* largest request frame */
	size_t          max_body;   /* largest body frame; 0: none */
	size_t          max_reply;  /* room for the reply frame */
	xg_pp_handle_fn handle;
	void           *ctx;
};

/* An outgoing request (xg_pp_ask). */
struct xg_pp_ask {
	const char     *expect_name; /* with TLS, the peer's certificate
				      * must name it (NULL: any member) */
	const void     *frame;       /* the request frame: copied */
	size_t          len;
	const uint8_t  *body;        /* optional body frame: NOT copied, must
				      * stay valid until on_done */
	size_t          body_len;
	uint64_t        deadline_ns; /* absolute; 0: XG_PP_TIMEOUT_NS */
	size_t          reply_max;   /* largest reply frame; 0: REQUEST_MAX */
	size_t          body_max;    /* largest body on_reply may ask for */
	/* The reply frame (valid during the call).  Return 0 if that is
	 * all, n > 0 to read a body frame of exactly n bytes next, or -errno
	 * to fail the exchange. */
	ssize_t       (*on_reply)(void *ctx, const uint8_t *reply, size_t len);
	/* Optional: bytes of that body as they arrive (hash them here).
	 * Must not call into pushpull. */
	void          (*on_body_bytes)(void *ctx, const uint8_t *p, size_t n);
	/* Exactly once, last, never inside xg_pp_ask: err 0 (the reply was
	 * taken and the body, if asked for, is complete: malloc'd, owned by
	 * the callee from here; NULL when none) or the failure. */
	void          (*on_done)(void *ctx, int err, uint8_t *body, size_t len);
	void           *ctx;
};

struct xg_pp_stats {
	uint64_t accepts, connects;  /* TCP connections taken / opened */
	uint64_t rejected;           /* accepts closed: too many at once */
	uint64_t ok, failed;         /* exchanges, both directions */
	uint64_t tls_refused;        /* handshakes failed on certificates */
	uint64_t shed;               /* accepts closed: the agent is starved */
	uint64_t name_mismatch;      /* peer claimed a name its cert lacks */
	uint64_t served;             /* requests answered, by any service */
	uint64_t body_waits;         /* bodies that waited for receive budget */
};

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
	/* One request type served the simple way (KEYOP today): its type and
	 * server.  A type registered with xg_pp_serve() takes precedence. */
	uint8_t            serve_type;
	xg_pp_serve_fn     serve;
	void              *serve_ctx;
	struct xg_pp_service services[XG_PP_SERVICES_MAX];
	size_t             nservices;
	bool               closed;  /* xg_pp_close ran: nothing new starts */
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

/* Send one request (and its body), read the reply (and the body it
 * asks for): see struct xg_pp_ask.  *handle (may be NULL) identifies the
 * exchange for xg_pp_cancel until on_done runs.  0, -EBUSY (too many
 * exchanges), -EINVAL, -ECANCELED (closed) or -errno. */
int  xg_pp_ask(struct xg_pp *pp, const struct xg_addr *to,
	       const struct xg_pp_ask *ask, struct xg_pp_conn **handle);
/* Abort an exchange started by xg_pp_ask: its on_done runs now with
 * -ECANCELED. */
void xg_pp_cancel(struct xg_pp *pp, struct xg_pp_conn *handle);

/* Serve requests of svc->type (copied).  0, -EEXIST (type served
 * already), -ENOSPC (XG_PP_SERVICES_MAX), -EINVAL. */
int  xg_pp_serve(struct xg_pp *pp, const struct xg_pp_service *svc);
/* Stop serving type: streams serving it are dropped at once (their
 * release callbacks run), later requests of it are refused. */
void xg_pp_unserve(struct xg_pp *pp, uint8_t type);
/* Inside a handler: true when the peer's certificate names `name`, or
 * when the stream is plain TCP (--insecure-dev: nothing to check
 * against).  A false also notes the claim for the refusal's log line. */
bool xg_pp_call_peer_is(struct xg_pp_call *call, const char *name);

/* Fail every exchange whose deadline has passed (-ETIMEDOUT). */
void     xg_pp_expire(struct xg_pp *pp, uint64_t now_ns);
/* Earliest deadline of a running exchange, or UINT64_MAX. */
uint64_t xg_pp_next_deadline(const struct xg_pp *pp);

/* A short operator-facing reason for a push/pull error. */
const char *xg_pp_strerror(int err);

#endif /* XGOSSIP_DAEMON_PUSHPULL_H */
