/* SPDX-License-Identifier: MIT */
/*
 * Transfers over TLS on the push/pull port (docs/MESSAGING.md, "Transfers
 * over TLS"): UNICAST, a message for one member with a receipt, and
 * FETCH, the body of a large broadcast asked of a member that holds it.
 *
 * Both ride on pushpull's streams (xg_pp_ask as a client, a service per
 * type as a server), so they share its TLS context, connection cap,
 * receive budget and deadlines.  This module adds the frames, the checks
 * (MAC, the peer's certificate naming the member the frame claims,
 * length and SHA-256 of a fetched body) and flow control:
 *
 *  - at most XG_XFER_SERVES_MAX bodies are served at once, at most
 *    XG_XFER_SERVES_PER_MEMBER to one member; one more FETCH is answered
 *    "busy" (-EBUSY at the client) at once, so the client asks another
 *    holder instead of queueing behind a hot node;
 *  - at most XG_XFER_FETCHES_MAX fetches and XG_XFER_UNICASTS_MAX
 *    unicasts of ours run at once; the rest wait in FIFO queues of at
 *    most XG_XFER_QUEUE_MAX each, and unicast payloads (copied) may hold
 *    at most XG_XFER_UNICAST_MEM bytes;
 *  - every body moves XG_PP_SLICE bytes per wakeup, so UDP and probes
 *    are served between slices.
 *
 * Callbacks run from the loop, never inside xg_xfer_unicast/fetch, and
 * exactly once per accepted call (-ECANCELED from xg_xfer_close).
 */
#ifndef XGOSSIP_DAEMON_XFER_H
#define XGOSSIP_DAEMON_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "daemon/pushpull.h"
#include "util/keyring.h"

/* Largest payload or body (--max-message-size may lower it). */
#define XG_XFER_PAYLOAD_MAX  (16u << 20)
/* A transfer's deadline: XG_XFER_BASE_NS (connect, TLS handshake, the
 * peer's loop) plus its bytes at XG_XFER_MIN_RATE.  4 MiB/s is far below
 * what one stream moves in test_xfer (some 100 MB/s with both ends on one
 * CPU) and below what four serves sharing a 1 Gbit/s link get (30 MB/s
 * each); a 16 MiB transfer may take 9 s. */
#define XG_XFER_BASE_NS      (5ULL * 1000000000ULL)
#define XG_XFER_MIN_RATE     (4ULL << 20) /* bytes per second */
/* How long a fetch may wait in our queue before it fails (-ETIMEDOUT).
 * A unicast's one deadline counts from the call, queue included: the
 * control client is waiting for the answer. */
#define XG_XFER_QUEUE_WAIT_NS (10ULL * 1000000000ULL)
/* Bodies served at once: 4 × 16 MiB in flight saturates a link already;
 * more would only slow every one of them down and hold more of the body
 * store pinned, while a "busy" answer sends the client to another holder
 * (after a broadcast, every member that fetched one becomes one). */
#define XG_XFER_SERVES_MAX   4
/* Of which one member may hold: a member fetching several bodies from us
 * (or a slow one) leaves slots for the others. */
#define XG_XFER_SERVES_PER_MEMBER 2
/* Our own fetches at once: bounds the bodies being received to
 * 4 × 16 MiB = 64 MiB. */
#define XG_XFER_FETCHES_MAX  4
/* Our own unicasts at once, and the memory their payload copies (queued
 * ones included) may hold. */
#define XG_XFER_UNICASTS_MAX 8
#define XG_XFER_UNICAST_MEM  (64u << 20)
/* Waiting transfers per kind; beyond: -ENOBUFS at once. */
#define XG_XFER_QUEUE_MAX    64

/* What the agent provides (contract of issue 6). */
struct xg_xfer_hooks {
	void *ctx;
	/* A UNICAST from an authenticated member (with TLS its certificate
	 * named from_name; from_id is as the frame claims it: check it
	 * against the member table if it matters).  Return 0 once delivered
	 * to the application (the sender is told "delivered"), or -errno
	 * (told "refused" with that error).  payload is valid during the
	 * call. */
	int  (*on_unicast)(void *ctx, const char *from_name, uint64_t from_id,
			   const uint8_t id[16], const char *topic,
			   const uint8_t *payload, size_t len);
	/* A FETCH for a large body: the bytes (valid until put), or
	 * -ENOENT. */
	int  (*body_get)(void *ctx, const uint8_t id[16],
			 const uint8_t **body, size_t *len, void **ref);
	void (*body_put)(void *ctx, void *ref);
};

/* err: 0 delivered; a negative errno from the target's on_unicast
 * (refused, rtt_ns > 0); or a failure to get an answer (rtt_ns == 0):
 * -ETIMEDOUT, -ECONNREFUSED, -EHOSTUNREACH, -ECONNRESET, -EPERM (the
 * target's certificate is not for to_name), -EACCES (TLS or MAC refused),
 * -ENOBUFS, -ECANCELED (agent stopping).  rtt_ns: from the TCP connect to
 * the receipt (connect, handshake, transfer, delivery). */
typedef void (*xg_xfer_sent_fn)(void *ctx, int err, uint64_t rtt_ns);
/* err: 0 with the verified body (malloc'd, ownership passes to the
 * callee); -EBUSY (the holder serves too many: ask another), -ENOENT (it
 * no longer has the body), -EBADMSG (length or SHA-256 mismatch), or a
 * transport failure as above.  body is NULL unless err is 0. */
typedef void (*xg_xfer_fetched_fn)(void *ctx, int err, uint8_t *body,
				   size_t len);

struct xg_xfer_config {
	struct xg_pp            *pp;          /* open; outlives the xfer */
	const struct xg_keyring *keyring;     /* signs and checks frames */
	uint64_t                 cluster_id;
	uint64_t                 self_id;
	const char              *self_name;   /* copied */
	size_t                   max_payload; /* 0: XG_XFER_PAYLOAD_MAX */
	uint64_t                 min_rate;    /* bytes/s; 0: XG_XFER_MIN_RATE */
	struct xg_xfer_hooks     hooks;
};

struct xg_xfer_stats {
	uint64_t unicasts_sent;     /* ours, confirmed delivered */
	uint64_t unicasts_refused;  /* ours, refused by the target */
	uint64_t unicasts_failed;   /* ours, no answer */
	uint64_t unicasts_recv;     /* delivered here */
	uint64_t unicasts_rejected; /* refused here by on_unicast */
	uint64_t fetches_ok;
	uint64_t fetches_busy;      /* the holder was busy */
	uint64_t fetches_missing;   /* the holder had no such body */
	uint64_t fetches_bad;       /* length or SHA-256 mismatch */
	uint64_t fetches_failed;    /* no answer */
	uint64_t serves;            /* bodies handed to a fetcher */
	uint64_t serves_busy;       /* FETCHes answered "busy" */
	uint64_t serves_missing;    /* FETCHes for bodies we do not have */
	uint64_t bytes_sent;        /* payloads delivered + bodies served */
	uint64_t bytes_recv;        /* payloads received + bodies fetched */
	uint64_t refused_local;     /* calls refused: queue or memory full */
	/* gauges */
	uint32_t unicasts_running, unicasts_queued;
	uint32_t fetches_running, fetches_queued;
	uint32_t serving;
	uint64_t unicast_bytes;     /* payload copies held */
};

struct xg_xfer;

/* Register the UNICAST and FETCH services on cfg->pp.  0, -EINVAL,
 * -EEXIST (already served), -ENOMEM. */
int  xg_xfer_open(struct xg_xfer **out, const struct xg_xfer_config *cfg);
/* Stop serving (releases every served body), cancel our transfers
 * (their callbacks get -ECANCELED), free.  Call before xg_pp_close, and
 * not from an xfer callback.  NULL is fine. */
void xg_xfer_close(struct xg_xfer *x);

/* Send payload (copied) to the member `to_name` at `to` (with TLS its
 * certificate must name to_name; NULL accepts any member) and learn
 * whether its application got it.  id is the message id (16 bytes, made
 * by the caller).  0 (done will run), -EINVAL, -EMSGSIZE (over
 * max_payload), -ENOBUFS (queue or payload memory full), -ENOMEM,
 * -ECANCELED (closing) or a connect error. */
int xg_xfer_unicast(struct xg_xfer *x, const struct xg_addr *to,
		    const char *to_name, const uint8_t id[16],
		    const char *topic, const void *payload, size_t len,
		    xg_xfer_sent_fn done, void *ctx);

/* Fetch the body of message id (size bytes, 1 .. max_payload, with this
 * SHA-256) from the member `from_name` at `from`.  Returns as
 * xg_xfer_unicast. */
int xg_xfer_fetch(struct xg_xfer *x, const struct xg_addr *from,
		  const char *from_name, const uint8_t id[16], uint64_t size,
		  const uint8_t sha256[32], xg_xfer_fetched_fn done,
		  void *ctx);

/* Fail queued transfers whose deadline passed (-ETIMEDOUT).  Running
 * ones are pushpull streams: xg_pp_expire times them out. */
void     xg_xfer_expire(struct xg_xfer *x, uint64_t now_ns);
/* Earliest deadline of a queued transfer, or UINT64_MAX. */
uint64_t xg_xfer_next_deadline(const struct xg_xfer *x);

void xg_xfer_get_stats(const struct xg_xfer *x, struct xg_xfer_stats *out);

/* A short reason for a transfer's error, for logs and the control
 * socket. */
const char *xg_xfer_strerror(int err);

#endif /* XGOSSIP_DAEMON_XFER_H */
