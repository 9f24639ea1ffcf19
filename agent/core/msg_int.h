/* SPDX-License-Identifier: MIT */
/*
 * The messenger's insides, shared by msg_msgr.c (lifetime, keys, timers),
 * msg_bcast.c (what this node sends), msg_rx.c (what it receives),
 * msg_large.c (announcing large messages) and msg_fetch.c (fetching
 * them).
 */
#ifndef XGOSSIP_CORE_MSG_INT_H
#define XGOSSIP_CORE_MSG_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/msg.h"
#include "core/msg_cache.h"
#include "core/msg_gap.h"
#include "core/msg_round.h"
#include "core/msg_seen.h"
#include "core/msg_want.h"

struct xg_msg_key {
	uint8_t id;
	uint8_t mac[16];
};

struct xg_msgr {
	struct xg_msg_config cfg;   /* cfg.key_id/mac_key: the primary */
	struct xg_msg_io     io;
	struct xg_msg_key    keys[XG_MSG_MAX_KEYS]; /* [0] is the primary */
	size_t               nkeys;
	uint32_t             counter;   /* next id's low half */
	bool                 exhausted; /* every counter value was used */
	uint64_t             now_ns;    /* latest time seen; never goes back */
	struct xg_seen       seen;
	struct xg_cache      cache;
	struct xg_rounds     rounds;
	struct xg_wants      wants;
	struct xg_gaps       gaps;
	struct xg_msgr_stats st;
	uint64_t             ack_srtt_ns; /* smoothed push -> ACK time; 0: none */
	/* Packets are built here: one at a time, and never across a call to
	 * io->deliver (which may broadcast). */
	uint8_t              pkt[XG_UDP_MAX];
};

/* Work done per timer list per tick, so that a backlog (after the process
 * was stopped, say) is spread over several ticks instead of one long
 * stall; xg_msgr_next_deadline() then says "now" until it is cleared. */
#define XG_MSG_TICK_BUDGET 256

/* Origin incarnations tracked for sequence gaps: a cluster's worth, with
 * room for restarts; 4096 entries are about 300 KiB. */
#define XG_MSG_ORIGINS_MAX 4096

uint64_t xg_msgr_advance(struct xg_msgr *m, uint64_t now_ns);
const struct xg_msg_key *xg_msgr_key_for(const struct xg_msgr *m,
					 uint8_t key_id);

/* msg_bcast.c */
/* How long a round waits for ACKs, or between its pull-sync rounds. */
uint64_t xg_msgr_ack_wait(const struct xg_msgr *m);
void     xg_msgr_ack_timed(struct xg_msgr *m, uint64_t sample_ns);
void xg_msgr_send(struct xg_msgr *m, uint64_t to, const void *pkt,
		  size_t len);
/* Up to fanout random members other than exclude (none when we are
 * alone), for a push or an announce; how many were written to `to`
 * (room for XG_MSG_FANOUT_MAX). */
size_t xg_msgr_fan_targets(struct xg_msgr *m, uint64_t exclude,
			   uint64_t *to);
/* Send the len-byte packet in m->pkt to each of `to` and start an ACK
 * round for id (pull-syncing with ANNOUNCE if large). */
void xg_msgr_fan_send(struct xg_msgr *m, const uint8_t id[XG_MSG_ID_LEN],
		      const uint64_t *to, size_t n, size_t len,
		      uint64_t exclude, bool large, uint64_t now_ns);
/* A new broadcast from us: msg zeroed, then its new id marked seen (and
 * io->seen), origin, sender and origin_ms set.  0, -EOVERFLOW, -ENOBUFS,
 * -EEXIST (see xg_msgr_broadcast). */
int  xg_msgr_claim_id(struct xg_msgr *m, struct xg_msg *msg, uint64_t now_ns);
/* Send a 48-byte control packet (PUSH_ACK, PULL_SYNC, PULL_REQUEST). */
void xg_msgr_send_ctrl(struct xg_msgr *m, uint8_t type,
		       const uint8_t id[XG_MSG_ID_LEN], uint64_t to);
/* PUSH msg (hops as given) to fanout random members other than exclude
 * and start an ACK round for those pushes. */
void xg_msgr_push_out(struct xg_msgr *m, const struct xg_msg *msg,
		      uint64_t exclude, uint64_t now_ns);
/* A round timed out: pull-sync if it fell short of a majority. */
void xg_msgr_round_expired(struct xg_msgr *m, struct xg_round *rd,
			   uint64_t now_ns);
/* A want's request went unanswered: retry or give up. */
void xg_msgr_want_expired(struct xg_msgr *m, struct xg_want *wt,
			  uint64_t now_ns);
/* Send the cached message as a PULL_RESPONSE. */
void xg_msgr_respond(struct xg_msgr *m, const struct xg_cache_ent *e,
		     uint64_t to);
void xg_msgr_gauges(struct xg_msgr *m);

/* msg_rx.c */
/* -ESTALE (counted) when origin_ms is outside the age window. */
int  xg_msgr_age_check(struct xg_msgr *m, uint64_t origin_ms);
/* An accepted message from another origin: pull what its counter skips. */
void xg_msgr_gap_check(struct xg_msgr *m, const struct xg_msg *msg,
		       uint64_t now_ns);
void xg_msgr_want_forget(struct xg_msgr *m, const uint8_t id[XG_MSG_ID_LEN]);

/* msg_large.c */
/* Encode an ANNOUNCE signed by us into m->pkt; its length or -errno. */
ssize_t xg_msgr_announce_encode(struct xg_msgr *m, const struct xg_msg *msg,
				uint8_t hops, uint64_t size,
				const uint8_t sha256[XG_MSG_SHA256_LEN]);
/* ANNOUNCE msg (hops as given) to fanout random members other than
 * exclude, with an ACK round. */
void xg_msgr_announce_out(struct xg_msgr *m, const struct xg_msg *msg,
			  uint64_t size,
			  const uint8_t sha256[XG_MSG_SHA256_LEN],
			  uint64_t exclude, uint64_t now_ns);
/* The ANNOUNCE of a cached large message into m->pkt, for a pull-sync
 * round or an answer to a PULL_REQUEST; -ENOENT if no longer cached. */
ssize_t xg_msgr_announce_cached(struct xg_msgr *m,
				const uint8_t id[XG_MSG_ID_LEN]);
/* Answer a PULL_REQUEST for a cached large message with its ANNOUNCE. */
void xg_msgr_respond_announce(struct xg_msgr *m,
			      const struct xg_cache_ent *e, uint64_t to);

/* msg_fetch.c */
/* An ANNOUNCE arrived (decoded and authenticated). */
int  xg_msgr_on_announce(struct xg_msgr *m, const struct xg_msg_pkt *p);
/* A large want's retry wait ended: queue it for a fetch slot. */
void xg_msgr_large_want_expired(struct xg_msgr *m, struct xg_want *wt,
				uint64_t now_ns);
/* Fetches whose report is overdue count as failed (a bounded number). */
void xg_msgr_fetch_overdue(struct xg_msgr *m, uint64_t now_ns);
/* Start queued fetches while slots are free. */
void xg_msgr_fetch_pump(struct xg_msgr *m, uint64_t now_ns);

#endif /* XGOSSIP_CORE_MSG_INT_H */
