/* SPDX-License-Identifier: MIT */
/*
 * User messaging: broadcast with push, ACK majority and pull-sync
 * (docs/MESSAGING.md, "User messages").
 *
 * Like the SWIM core (core/swim.h) this is a pure state machine: time comes
 * in on every call (CLOCK_MONOTONIC ns), randomness, the wall clock and
 * member selection come from callbacks in struct xg_msg_io, and bytes leave
 * through io->send addressed by member id (the daemon resolves the address
 * and seals the packet with the keyring, as it does for GOSSIP).  Nothing
 * here opens a socket or reads a clock.
 *
 * Three parts:
 *   - the codec for PUSH, PUSH_ACK, PULL_SYNC, PULL_REQUEST, PULL_RESPONSE
 *     and ANNOUNCE (plaintext packets, each with a SipHash MAC, before
 *     sealing);
 *   - message ids: origin node id + origin sequence;
 *   - struct xg_msgr, one per node: broadcast, receive, ACK rounds,
 *     pull-sync, repair of gaps in an origin's sequence, the seen table
 *     and the cache of recent messages, and large messages: announced
 *     here, their bodies fetched over TLS by the daemon
 *     (docs/MESSAGING.md, "Large messages").
 */
#ifndef XGOSSIP_CORE_MSG_H
#define XGOSSIP_CORE_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xgossip/wire.h>

/* --- wire ------------------------------------------------------------- */

#define XG_MSG_ID_LEN     16
#define XG_MSG_TOPIC_MAX  64
/* After struct xg_msg_hdr, PUSH and PULL_RESPONSE carry origin_ms (8),
 * hops (1), topic_len (1), reserved (2), payload_len (4). */
#define XG_MSG_BODY_LEN   16
#define XG_MSG_DATA_HDR   (sizeof(struct xg_msg_hdr) + XG_MSG_BODY_LEN)
/* PUSH_ACK, PULL_SYNC, PULL_REQUEST: the 40-byte header and the MAC. */
#define XG_MSG_CTRL_LEN   (sizeof(struct xg_msg_hdr) + XG_MAC_LEN)
/* The largest payload that, with the longest topic, keeps the plaintext
 * packet within XG_UDP_MAX, so that the sealed datagram fits the same
 * budget as a sealed GOSSIP.  Larger payloads will travel over TLS. */
#define XG_MSG_MAX_PAYLOAD \
	(XG_UDP_MAX - XG_MSG_DATA_HDR - XG_MSG_TOPIC_MAX - XG_MAC_LEN)
/* ANNOUNCE: a PULL_SYNC with this flag announces a large message (one
 * whose payload does not fit a datagram) and carries, after struct
 * xg_msg_hdr, origin_ms (8), hops (1), topic_len (1), reserved (2),
 * size (8), sha256 (32), then the topic and the MAC.  It stays a
 * PULL_SYNC so that the XDP program, which reads only the 40-byte
 * header, drops it by id once the id is seen.  The top bit, far from
 * the XG_F_* of wire.h, which are allocated from the bottom. */
#define XG_MSG_F_LARGE     0x80
#define XG_MSG_SHA256_LEN  32
#define XG_MSG_ANN_BODY_LEN 52
#define XG_MSG_ANN_HDR     (sizeof(struct xg_msg_hdr) + XG_MSG_ANN_BODY_LEN)
#define XG_MSG_ANN_MAX     (XG_MSG_ANN_HDR + XG_MSG_TOPIC_MAX + XG_MAC_LEN)
/* Default bound on a large payload (xg_msg_config.max_large). */
#define XG_MSG_LARGE_MAX_DEFAULT (16ULL << 20)
/* A message that has been forwarded this many times is still delivered
 * and cached, but not pushed on: a safety net against a forwarding loop,
 * far above the log(n) hops an epidemic needs. */
#define XG_MSG_HOP_LIMIT  16

/* A message as the application sees it (and as the codec decodes the
 * content of a PUSH or PULL_RESPONSE). */
struct xg_msg {
	uint8_t        id[XG_MSG_ID_LEN];
	uint64_t       origin_id;   /* from the id */
	uint64_t       sender_id;   /* the node that sent this packet */
	uint64_t       origin_ms;   /* origin's wall clock at broadcast, ms */
	uint8_t        hops;        /* forwards before this one; 0: origin */
	char           topic[XG_MSG_TOPIC_MAX + 1]; /* NUL-terminated */
	/* Points into the decoded buffer (or, for delivery, into the packet
	 * being handled or the fetched body): valid only as long as that
	 * buffer, never beyond the call it was passed to.  Large payloads
	 * (up to xg_msg_config.max_large) are not copied either. */
	const uint8_t *payload;
	uint32_t       payload_len;
};

/* Host-order view of any of the packets. */
struct xg_msg_pkt {
	uint8_t       type;     /* XG_T_PUSH .. XG_T_PULL_RESPONSE */
	/* XG_MSG_F_LARGE on a PULL_SYNC makes it an ANNOUNCE (on any other
	 * type it is refused); other bits: zero on send, kept on decode. */
	uint8_t       flags;
	uint8_t       key_id;
	uint64_t      cluster_id;
	struct xg_msg msg;      /* id and sender_id always; origin_ms, hops
				 * and topic for PUSH, PULL_RESPONSE and
				 * ANNOUNCE; payload for the first two */
	/* ANNOUNCE only: the large body's size and SHA-256. */
	uint64_t      size;
	uint8_t       sha256[XG_MSG_SHA256_LEN];
};

static inline bool xg_msg_type_is_data(uint8_t t)
{
	return t == XG_T_PUSH || t == XG_T_PULL_RESPONSE;
}

static inline bool xg_msg_type_valid(uint8_t t)
{
	return t >= XG_T_PUSH && t <= XG_T_PULL_RESPONSE;
}

static inline bool xg_msg_pkt_is_announce(const struct xg_msg_pkt *p)
{
	return p->type == XG_T_PULL_SYNC && (p->flags & XG_MSG_F_LARGE);
}

/* 1..XG_MSG_TOPIC_MAX bytes of printable ASCII (0x20..0x7e). */
bool xg_msg_topic_valid(const char *topic, size_t len);

/* The largest payload a PUSH with a topic of topic_len bytes carries
 * (1272 .. 1335); anything larger is a large message. */
size_t xg_msg_max_push(size_t topic_len);

/* Encode p into buf with the MAC under key; p->key_id goes into the header.
 * Returns the packet length, or -EINVAL (bad type, topic, payload pointer;
 * XG_MSG_F_LARGE on a type other than PULL_SYNC; an ANNOUNCE size that
 * would fit a PUSH), -EMSGSIZE (the packet would exceed XG_UDP_MAX),
 * -ENOSPC (cap too small). */
ssize_t xg_msg_encode(const struct xg_msg_pkt *p, const uint8_t key[16],
		      void *buf, size_t cap);

/* The key_id of a packet that is at least a header long (0 otherwise), to
 * choose the key before decoding. */
uint8_t xg_msg_key_id(const void *buf, size_t len);

/* Decode and verify one packet: header shape (-EBADMSG), type (-EPROTO),
 * hdr.len against len and the length rules of the type and flags
 * (-EBADMSG), MAC under key, or key2 if not NULL (-EACCES), then the
 * content: topic length and characters, topic + payload filling the
 * packet exactly, an ANNOUNCE's size above xg_msg_max_push() (-EBADMSG).
 * Nothing is read past len.  out->msg.payload points into buf. */
int xg_msg_decode(const void *buf, size_t len, const uint8_t key[16],
		  const uint8_t *key2, struct xg_msg_pkt *out);

/* --- message ids ------------------------------------------------------ */

/* id = origin (8, big-endian) + seq (8, big-endian), with
 * seq = incarnation << 32 | counter.  The incarnation grows on every
 * restart (xgossipd persists it), so ids stay unique across restarts
 * without a persisted counter. */
void     xg_msg_id_make(uint8_t id[XG_MSG_ID_LEN], uint64_t origin,
			uint32_t incarnation, uint32_t counter);
uint64_t xg_msg_id_origin(const uint8_t id[XG_MSG_ID_LEN]);
uint64_t xg_msg_id_seq(const uint8_t id[XG_MSG_ID_LEN]);

/* --- the messenger ---------------------------------------------------- */

#define XG_MSG_FANOUT_MAX 16
#define XG_MSG_MAX_KEYS   16

struct xg_msgr;

struct xg_msg_io {
	void *ctx;
	/* Send one packet to a member; the daemon resolves its address and
	 * seals.  0 or -errno (counted in tx_errors). */
	int (*send)(void *ctx, uint64_t to_id, const void *pkt, size_t len);
	/* Up to k distinct live member ids, random, other than us and
	 * exclude (0 = none).  Returns how many were written to out. */
	size_t (*pick)(void *ctx, size_t k, uint64_t exclude, uint64_t *out);
	/* Live members other than us. */
	size_t (*live_count)(void *ctx);
	/* A message for the application, exactly once per id.  It may call
	 * xg_msgr_broadcast(); it must not free the messenger. */
	void (*deliver)(void *ctx, const struct xg_msg *m);
	/* An authenticated id was accepted: the daemon writes it into the
	 * XDP seen map so duplicates die in the kernel.  May be NULL. */
	void (*seen)(void *ctx, const uint8_t id[XG_MSG_ID_LEN],
		     uint64_t now_ns);
	uint64_t (*rand64)(void *ctx);
	/* Wall clock in ms (CLOCK_REALTIME), for origin_ms. */
	uint64_t (*now_ms_real)(void *ctx);
	/* Fetch the body of large message id (size bytes, this SHA-256)
	 * over TLS from member from_id, and report the outcome later with
	 * xg_msgr_fetched(), from the event loop: never from inside this
	 * call.  0 when the fetch started, -errno when it did not (the
	 * messenger tries the next source an ack timeout later).  At most
	 * cfg.fetch_max run at once, and never two for one id.  NULL: no
	 * large messages (ANNOUNCEs are refused and counted in
	 * large_refused; xg_msgr_broadcast_large fails). */
	int (*fetch)(void *ctx, uint64_t from_id,
		     const uint8_t id[XG_MSG_ID_LEN], uint64_t size,
		     const uint8_t sha256[XG_MSG_SHA256_LEN]);
};

struct xg_msg_config {
	uint64_t self_id;
	uint32_t incarnation;      /* this run's; the high half of every seq */
	uint64_t cluster_id;
	unsigned fanout;           /* f, 1..XG_MSG_FANOUT_MAX; default 3 */
	/* The longest wait for the ACKs of a push before pull-sync starts,
	 * and the spacing of pull-sync rounds, pull retries and fetch
	 * retries; default 300 ms.  Rounds wait less once ACKs have been
	 * timed: four times the smoothed ACK time plus ack_slack_ns, at
	 * least ack_min_ns (docs/MESSAGING.md, "Waiting for ACKs"). */
	uint64_t ack_timeout_ns;
	uint64_t ack_min_ns;       /* default 20 ms; ack_timeout_ns: fixed */
	uint64_t ack_slack_ns;     /* default 5 ms */
	unsigned cache_max;        /* messages kept for PULL_RESPONSE; 4096 */
	uint64_t cache_ttl_ns;     /* default 2 min */
	uint64_t max_age_ms;       /* older messages are refused; 5 min */
	/* How long an accepted id stays in the seen table; at least
	 * max_age_ms.  Half the difference is the clock skew tolerated
	 * between an origin's wall clock and ours (messages dated further
	 * ahead are refused), the other half absorbs wall-clock slewing.
	 * Default max_age_ms + 60 s. */
	uint64_t seen_ttl_ms;
	unsigned seen_max;         /* seen table bound; default 65536 */
	/* Pull-sync rounds after an ACK round that fell short, each to
	 * fanout + 2 random members, ack_timeout_ns apart; 1..255, default
	 * 3.  PULL_REQUESTs per missing id (the first and the retries), one
	 * at a time, ack_timeout_ns apart; 1..255, default 16.  Why more
	 * than go-gossip's one round and one retry: docs/MESSAGING.md,
	 * "Completeness". */
	unsigned sync_rounds;
	unsigned pull_tries;
	/* Large messages (docs/MESSAGING.md, "Large messages").  The
	 * largest payload announced or fetched, at most UINT32_MAX (a
	 * smaller value than a datagram's payload turns large messages off);
	 * default 16 MiB.  Fetches running at once, at least 1, default 4:
	 * the others wait in order.  A fetch not reported within
	 * fetch_timeout_ns counts as failed, so that a lost report cannot
	 * hold a slot for ever; default 2 min, far above any transfer the
	 * daemon lets run (the body's source is tried again, so a too short
	 * value only wastes transfers). */
	uint64_t max_large;
	unsigned fetch_max;
	uint64_t fetch_timeout_ns;
	uint8_t  key_id;
	uint8_t  mac_key[16];
};

struct xg_msgr_stats {
	uint64_t broadcasts;           /* by this node */
	uint64_t pushes_sent, pushes_recv;
	uint64_t dups;                 /* PUSH / PULL_RESPONSE of a seen id */
	uint64_t delivered;
	uint64_t acks_sent, acks_recv;
	uint64_t acks_unexpected;      /* no round, not a target, or repeated */
	uint64_t rounds_started;
	uint64_t rounds_majority;      /* closed by a majority of ACKs */
	uint64_t rounds_short;         /* timed out short: pull-sync sent */
	uint64_t rounds_dropped;       /* round table full: no round */
	uint64_t pull_syncs_sent, pull_syncs_recv;
	uint64_t pull_syncs_known;     /* for an id already seen: ignored */
	uint64_t pull_requests_sent, pull_requests_recv;
	uint64_t pull_responses_sent, pull_responses_recv;
	uint64_t pull_misses;          /* PULL_REQUEST for an id not cached */
	uint64_t pulls_failed;         /* every try went unanswered */
	uint64_t pulls_dropped;        /* want table full: not requested */
	uint64_t gaps_found;           /* ids missing from a sequence */
	uint64_t refused_old;          /* older than max_age */
	uint64_t refused_future;       /* dated too far ahead of our clock */
	uint64_t refused_full;         /* seen table full */
	uint64_t hop_limited;          /* delivered but not pushed on */
	uint64_t rx_bad;               /* malformed, MAC, key, cluster, spoof */
	uint64_t tx_errors;
	uint64_t alloc_failures;       /* a cache entry could not be made */
	/* large messages */
	uint64_t large_broadcasts;     /* by this node (also in broadcasts) */
	uint64_t announces_sent, announces_recv;
	uint64_t large_refused;        /* ANNOUNCE over max_large, no fetch */
	uint64_t fetches_started;      /* io->fetch returned 0 */
	uint64_t fetches_ok;           /* body accepted and delivered */
	uint64_t fetches_failed;       /* not started, failed, or timed out */
	uint64_t fetches_timed_out;    /* no report within fetch_timeout */
	uint64_t fetches_given_up;     /* pull_tries fetches failed */
	uint64_t fetches_stale;        /* report for no fetch under way */
	/* gauges */
	uint64_t seen_entries, cached, rounds_open, pulls_open, origins;
	uint64_t fetches_running, fetches_queued, large_wants;
};

/* Every field at its default, keys and ids zero. */
void xg_msg_config_defaults(struct xg_msg_config *cfg);

/* 0 or -EINVAL (self_id 0, fanout out of range, a zero timeout or bound,
 * seen_ttl_ms < max_age_ms, max_large over UINT32_MAX, io callbacks
 * missing except seen and fetch). */
int  xg_msgr_new(struct xg_msgr **out, const struct xg_msg_config *cfg,
		 const struct xg_msg_io *io, uint64_t now_ns);
void xg_msgr_free(struct xg_msgr *m);

/* Key rotation: install key_id (replacing the key of that id if present)
 * and make it the primary that signs from now on.  Packets are verified
 * with the key their key_id names among the last XG_MSG_MAX_KEYS
 * installed.  0 or -EINVAL. */
int xg_msgr_set_key(struct xg_msgr *m, uint8_t key_id, const uint8_t key[16]);
/* Stop accepting a key.  -ENOENT if unknown, -EBUSY for the primary. */
int xg_msgr_remove_key(struct xg_msgr *m, uint8_t key_id);

/* Broadcast a message from this node: a new id (written to id_out), PUSH
 * to fanout random members, an ACK round.  Not delivered locally: the
 * caller is the application that has it.  0, -EINVAL (topic, NULL
 * payload with len > 0), -EMSGSIZE (len > XG_MSG_MAX_PAYLOAD for this
 * topic), -EOVERFLOW (2^32 broadcasts in one incarnation), -ENOBUFS (seen
 * table full), -EEXIST (the id was already seen: forged; the next call
 * uses the next id), -ENOMEM. */
int xg_msgr_broadcast(struct xg_msgr *m, const char *topic,
		      const void *payload, size_t len, uint64_t now_ns,
		      uint8_t id_out[XG_MSG_ID_LEN]);

/* Broadcast a large message, whose payload (size bytes with this
 * SHA-256) is above xg_msg_max_push() for its topic: a new id from the
 * same counter as xg_msgr_broadcast (written to id_out), ANNOUNCE to
 * fanout random members, an ACK round.  The caller keeps the body under
 * that id and serves FETCHes of it (for at least cache_ttl, as long as
 * this node may announce it).  0, -EINVAL (topic, NULL sha256, size that
 * fits a PUSH: use xg_msgr_broadcast), -EMSGSIZE (size > max_large),
 * -EOPNOTSUPP (io->fetch is NULL), and the errors of xg_msgr_broadcast. */
int xg_msgr_broadcast_large(struct xg_msgr *m, const char *topic,
			    uint64_t size,
			    const uint8_t sha256[XG_MSG_SHA256_LEN],
			    uint64_t now_ns, uint8_t id_out[XG_MSG_ID_LEN]);

/* The daemon reports a fetch started by io->fetch: err 0 with the body,
 * whose size and SHA-256 it verified against the announced ones, or a
 * negative errno.  On success the message is marked seen, delivered (the
 * payload points at body, valid during the call) and announced on; the
 * daemon must then keep the body and serve it, as the origin does (from
 * before it runs its loop again: the announces go out during this call).
 * On failure the messenger fetches again from another source, an ack
 * timeout later, up to pull_tries fetches.  Returns 0 (report taken; on
 * success, delivered), -ENOENT (no fetch of id is under way: a late
 * report after the message was delivered or given up; counted in
 * fetches_stale), -EBADMSG (success with len not the announced size:
 * counted as a failure), -ESTALE (older than max_age by now: forgotten),
 * -ENOBUFS (seen table full: counted as a failure, fetched again later),
 * -EINVAL.  On anything but 0 after a success the body is not needed. */
int xg_msgr_fetched(struct xg_msgr *m, const uint8_t id[XG_MSG_ID_LEN],
		    int err, const void *body, size_t len, uint64_t now_ns);

/* A sealed packet was opened by the daemon: here is its plaintext.
 * from_id_hint is the member id the daemon knows for the source address,
 * or 0; when not 0 it must match the packet's sender_id.  Returns 0, or a
 * negative errno for a packet that was refused (counted): -EBADMSG,
 * -EPROTO, -EACCES, -ENOKEY (no such key id), -EXDEV (other cluster),
 * -EPERM (sender is us, 0, or not the hint), -ESTALE (too old or too far
 * in the future), -ENOBUFS (seen table full), -EMSGSIZE (an ANNOUNCE
 * over max_large), -EOPNOTSUPP (an ANNOUNCE, and io->fetch is NULL). */
int xg_msgr_on_packet(struct xg_msgr *m, uint64_t from_id_hint,
		      const void *buf, size_t len, uint64_t now_ns);

/* Run what is due: ACK rounds that timed out, pull retries, fetch retries
 * and overdue fetches, queued fetches that can start, expiry of the seen
 * table and the cache (a bounded amount per call). */
void     xg_msgr_tick(struct xg_msgr *m, uint64_t now_ns);
/* When xg_msgr_tick() next has work; UINT64_MAX if never. */
uint64_t xg_msgr_next_deadline(const struct xg_msgr *m);

const struct xg_msgr_stats *xg_msgr_stats(const struct xg_msgr *m);
const struct xg_msg_config *xg_msgr_config(const struct xg_msgr *m);

/* Whether id is in the seen table (for tests and the control socket). */
bool xg_msgr_has_seen(const struct xg_msgr *m,
		      const uint8_t id[XG_MSG_ID_LEN]);

#endif /* XGOSSIP_CORE_MSG_H */
