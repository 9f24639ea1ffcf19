/* SPDX-License-Identifier: MIT */
/*
 * The messenger's insides, shared by msg_msgr.c (lifetime, keys, timers),
 * msg_bcast.c (what this node sends) and msg_rx.c (what it receives).
 */
#ifndef XGOSSIP_CORE_MSG_INT_H
#define XGOSSIP_CORE_MSG_INT_H

#include <stdint.h>

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
void xg_msgr_send(struct xg_msgr *m, uint64_t to, const void *pkt,
		  size_t len);
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

#endif /* XGOSSIP_CORE_MSG_INT_H */
