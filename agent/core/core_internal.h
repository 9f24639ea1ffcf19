/* SPDX-License-Identifier: MIT */
/*
 * What the files of the protocol core share with each other and with the
 * core's unit tests; nothing outside agent/core and tests may include it.
 *
 * Ownership: the core owns every struct xg_member (one allocation each, so
 * pointers stay valid while the table array grows) and every queued
 * broadcast entry.  Anything that must survive a member's removal (the probe
 * order, the current probe, PING-REQs being served) refers to members by
 * id, never by pointer.
 */
#ifndef XGOSSIP_CORE_INTERNAL_H
#define XGOSSIP_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/list.h"
#include "core/swim.h"

/* Distinct confirmers remembered per suspicion (the accuser included).
 * Lifeguard stops shrinking the timeout after K independent confirmations,
 * and K is at most XG_SUSPECT_CONFIRM_MAX - 1, so a small fixed array is
 * enough and a suspicion never allocates. */
#define XG_SUSPECT_CONFIRM_MAX 8

/* The highest lhm_max and suspicion_max_mult a configuration may ask for:
 * far beyond any useful value, and low enough that a scaled interval or
 * timeout cannot overflow 64-bit nanoseconds for any sane base. */
#define XG_LHM_MAX_LIMIT       64
#define XG_SUSPICION_MAX_LIMIT 64

/* PING-REQs this node serves at once.  Each lives one probe timeout; a
 * flood beyond this is dropped (the requester just sees no answer). */
#define XG_INDIRECT_MAX 32

/* --- members ----------------------------------------------------------- */

struct xg_suspicion {
	uint64_t       start_ns;
	uint64_t       min_ns;      /* Lifeguard's bounds, fixed at the start */
	uint64_t       max_ns;
	unsigned       k;           /* confirmations that bring it to min_ns */
	uint64_t       deadline_ns;
	unsigned       n_confirm;   /* distinct from_ids; [0] raised it */
	uint64_t       confirm[XG_SUSPECT_CONFIRM_MAX];
	struct xg_link link;        /* on members.suspects while SUSPECT */
};

struct xg_bcast;

struct xg_member {
	struct xg_member_info info;
	uint64_t              from_id;  /* who declared SUSPECT/DEAD/LEFT */
	size_t                idx;      /* position in members.v */
	struct xg_suspicion   susp;     /* meaningful while SUSPECT */
	struct xg_link        gone;     /* on members.gone while DEAD/LEFT */
	struct xg_bcast      *bcast;    /* queued update about it, or NULL */
};

struct xg_members {
	struct xg_member **v;      /* table order; v[0] is self, always */
	size_t             n, cap;
	struct xg_member **slots;  /* open-addressing index by id */
	size_t             nslots; /* power of two */
	size_t             by_state[XG_LEFT + 1];
	/* DEAD/LEFT members other than self in the order they went, which
	 * is also state_since order, so the head is the next to reap. */
	struct xg_link     gone;
	struct xg_link     suspects;
};

/* --- dissemination ------------------------------------------------------ */

/* One queued update.  It holds no copy of the member: the update is
 * encoded from the member's current state when sent, which is what makes
 * "a newer update replaces the queued one" automatic. */
struct xg_bcast {
	struct xg_member *m;
	uint64_t          from_id;
	uint64_t          order;     /* queue sequence: newer first on ties */
	unsigned          transmits; /* destinations it was sent to */
	unsigned          skips;     /* destinations it was useless for */
	size_t            pos;       /* index in dissem.q */
	struct xg_bcast  *next_free;
};

struct xg_dissem {
	struct xg_bcast **q;
	size_t            n, cap;
	struct xg_bcast  *free;
	uint64_t          next_order;
};

/* --- probing ------------------------------------------------------------ */

/* Randomized round-robin order of probe targets, by id. */
struct xg_probe_order {
	uint64_t *ids;
	size_t    n, cap, pos;
};

/* The one probe this node runs at a time. */
struct xg_probe_run {
	bool     active;
	bool     indirect_sent;
	uint64_t target_id;
	uint32_t target_inc;   /* the incarnation this probe can speak for */
	uint32_t seq;
	uint64_t sent_ns;
	uint64_t timeout_ns;   /* direct phase ends: send PING-REQs */
	uint64_t end_ns;       /* indirect phase ends: suspect */
	unsigned scale;        /* local health + 1 when the probe started */
	unsigned helpers;      /* PING-REQs sent: NACKs expected */
	unsigned nacks;        /* NACKs received by end_ns */
	bool     refused;      /* our PING was refused: port closed */
	unsigned refused_nacks; /* NACKs saying the helper's PING was too */
};

/* A PING-REQ this node serves as helper. */
struct xg_indirect {
	bool           used;
	uint32_t       seq;       /* of our own PING to the target */
	uint32_t       req_seq;   /* the requester's, echoed back */
	uint64_t       req_id;
	uint64_t       req_ts;
	uint64_t       target_id;
	uint64_t       deadline_ns;
	struct xg_addr req_addr;
	struct xg_addr target;    /* where our PING went */
};

/* --- the core ----------------------------------------------------------- */

struct xg_core {
	struct xg_core_config cfg;      /* name and meta point into us */
	char                  name[XG_NAME_MAX];
	struct xg_core_io     io;
	struct xg_core_stats  stats;
	uint64_t              now_ns;   /* latest time seen; never goes back */

	struct xg_members     members;
	struct xg_member     *self;
	struct xg_dissem      dissem;
	struct xg_probe_order order;
	struct xg_probe_run   probe;
	struct xg_indirect    indirect[XG_INDIRECT_MAX];
	uint32_t              next_seq;
	unsigned              lhm;      /* Lifeguard local health, 0..lhm_max */

	uint64_t next_probe_ns;
	uint64_t next_gossip_ns;
	uint64_t next_pushpull_ns;
	uint64_t evidence_pushpull_ns; /* last push/pull asked on evidence */

	bool     left;
	/* Verification keys by id; keys[0] is cfg's primary. */
	struct xg_core_key keys[XG_CORE_MAX_KEYS];
	size_t   nkeys;
	/* A refutation waits to go out at the end of this packet or tick
	 * (xg_gossip_urgent), to urgent_to first when that is known. */
	bool     urgent;
	uint64_t urgent_to;
	uint64_t leave_sent;       /* destinations our LEFT went to */
	bool     leave_exhausted;  /* our LEFT reached its retransmit limit */

	struct xg_member **scratch; /* random picks; grows with the table */
	size_t             scratch_cap;
	uint8_t            pkt[XG_UDP_MAX];
};

/* a + b, stuck at UINT64_MAX instead of wrapping: timers configured
 * "practically never" must not wrap into the past. */
static inline uint64_t xg_sat_add(uint64_t a, uint64_t b)
{
	return a + b < a ? UINT64_MAX : a + b;
}

/* a * b, stuck at UINT64_MAX instead of wrapping. */
static inline uint64_t xg_mul_sat(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static inline uint64_t xg_min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* swim.c */
uint64_t xg_rand_below(struct xg_core *c, uint64_t n);
int      xg_send(struct xg_core *c, const struct xg_addr *to, const void *buf,
		 size_t len);
void     xg_emit(struct xg_core *c, enum xg_event_type type,
		 const struct xg_member *m, uint64_t now_ns);
/* Up to k members for which keep(c, m, arg) holds, chosen at random,
 * into c->scratch; returns how many. */
size_t   xg_pick_random(struct xg_core *c, size_t k,
			bool (*keep)(const struct xg_core *c,
				     const struct xg_member *m,
				     const void *arg),
			const void *arg);

/* Evidence that our view and a member's disagree (a stranger probed us;
 * a member we suspect answered our probe): gossip missed something.  Ask
 * the adapter for a push/pull with it, at most once per probe interval. */
void     xg_pushpull_evidence(struct xg_core *c, const struct xg_addr *to,
			      uint64_t now_ns);

/* config.c */
int xg_config_check(const struct xg_core_config *cfg);

/* members.c */
int               xg_members_init(struct xg_members *t);
void              xg_members_free(struct xg_members *t);
struct xg_member *xg_members_find(const struct xg_members *t, uint64_t id);
struct xg_member *xg_members_find_gone_name(const struct xg_members *t,
					    const char *name);
/* A new member from an update, in state ALIVE; NULL on ENOMEM. */
struct xg_member *xg_members_add(struct xg_core *c,
				 const struct xg_update_msg *u,
				 uint64_t now_ns);
void              xg_members_remove(struct xg_core *c, struct xg_member *m);
/* The only way a member's state changes: keeps counts and lists right. */
void              xg_member_set_state(struct xg_core *c, struct xg_member *m,
				      enum xg_state s, uint64_t now_ns);
/* Fill an update describing m as this node currently sees it. */
void              xg_member_to_update(const struct xg_member *m,
				      uint64_t from_id, bool with_meta,
				      struct xg_update_msg *u);
void              xg_members_reap(struct xg_core *c, uint64_t now_ns);
uint64_t          xg_members_reap_deadline(const struct xg_core *c);
/* Alive + suspect, self included: the n of the suspicion timeout. */
size_t            xg_members_live(const struct xg_members *t);

/* probe_order.c */
void     xg_order_free(struct xg_probe_order *o);
int      xg_order_insert(struct xg_core *c, uint64_t id);
/* Probe this member next (it stays in its round-robin slot too). */
int      xg_order_probe_next(struct xg_core *c, uint64_t id);
/* Next member worth probing, or NULL when there is none. */
struct xg_member *xg_order_next(struct xg_core *c);

/* lhm.c: Lifeguard's local health multiplier */
void     xg_lhm_raise(struct xg_core *c, unsigned by);
void     xg_lhm_lower(struct xg_core *c);
/* ns * (lhm + 1), saturating: the probe interval and timeout now. */
uint64_t xg_lhm_scale(const struct xg_core *c, uint64_t ns);

/* probe.c: this node as prober */
void     xg_probe_tick(struct xg_core *c, uint64_t now_ns);
uint64_t xg_probe_deadline(const struct xg_core *c);
void     xg_probe_on_ack(struct xg_core *c, const struct xg_probe_msg *m,
			 uint64_t rx_ns);
void     xg_probe_on_nack(struct xg_core *c, const struct xg_probe_msg *m,
			  uint64_t rx_ns);
/* The host at `to` refused a datagram: true if it was our probe's target. */
bool     xg_probe_on_refused(struct xg_core *c, const struct xg_addr *to,
			     uint64_t now_ns);
int      xg_probe_send_ping(struct xg_core *c, uint64_t target_id,
			    const struct xg_addr *to, uint32_t seq,
			    uint8_t flags, uint64_t now_ns);

/* indirect.c: this node as PING-REQ helper */
void     xg_indirect_on_req(struct xg_core *c,
			    const struct xg_ping_req_msg *m,
			    const struct xg_addr *from, uint64_t now_ns);
/* true if the ACK belonged to a PING-REQ we serve (it is then forwarded). */
bool     xg_indirect_on_ack(struct xg_core *c, const struct xg_probe_msg *m);
/* true if the NACK was the target's own, flagged XG_F_REFUSED, to a PING
 * we sent as helper (then passed on to the requester). */
bool     xg_indirect_on_nack(struct xg_core *c, const struct xg_probe_msg *m);
/* NACK (XG_F_REFUSED) every PING-REQ whose target is `to`; how many. */
unsigned xg_indirect_on_refused(struct xg_core *c, const struct xg_addr *to);
void     xg_indirect_tick(struct xg_core *c, uint64_t now_ns);
uint64_t xg_indirect_deadline(const struct xg_core *c);

/* suspicion.c */
void     xg_suspicion_start(struct xg_core *c, struct xg_member *m,
			    uint64_t from_id, uint64_t now_ns);
/* true if from_id is a new confirmation (and was recorded); the deadline
 * then moves in.  If it is already past, the member is DEAD on return. */
bool     xg_suspicion_confirm(struct xg_core *c, struct xg_member *m,
			      uint64_t from_id, uint64_t now_ns);
void     xg_suspicion_stop(struct xg_member *m);
/* Lifeguard's timeout for s with its confirmations so far (from start). */
uint64_t xg_suspicion_timeout(const struct xg_suspicion *s);
/* Confirmations that count towards s's timeout: the accuser's not. */
unsigned xg_suspicion_confirmations(const struct xg_suspicion *s);
void     xg_suspicion_tick(struct xg_core *c, uint64_t now_ns);
uint64_t xg_suspicion_deadline(const struct xg_core *c);

/* dissem.c */
int      xg_dissem_queue(struct xg_core *c, struct xg_member *m,
			 uint64_t from_id);
void     xg_dissem_drop(struct xg_core *c, struct xg_bcast *b);
void     xg_dissem_free(struct xg_dissem *d);
/* Retransmit limit now: retransmit_mult * ceil(log10(members + 1)). */
unsigned xg_dissem_limit(const struct xg_core *c);
/* Add the least-transmitted entries worth sending to `to` to b until it
 * is full; count each as one transmission.  Returns how many were added. */
size_t   xg_dissem_fill(struct xg_core *c, struct xg_batch *b,
			const struct xg_member *to);
size_t   xg_dissem_len(const struct xg_core *c);
/* Transmissions so far of the queued update about id, -ENOENT if none. */
int      xg_dissem_transmits(const struct xg_core *c, uint64_t id);

/* apply.c: incarnation precedence */
enum xg_source {
	XG_SRC_GOSSIP, /* a GOSSIP datagram */
	XG_SRC_STATE,  /* a push/pull STATE */
	XG_SRC_LOCAL,  /* this node's own failure detector */
};
enum xg_apply_result {
	XG_APPLY_STALE   = 0, /* ignored: old, duplicate or a ghost */
	XG_APPLY_CHANGED = 1, /* taken and queued for gossip */
};
/* Negative errno only for allocation failure. */
int  xg_apply_update(struct xg_core *c, const struct xg_update_msg *u,
		     enum xg_source src, uint64_t now_ns);
/* Every update of an opened GOSSIP/STATE; 0, or the first error (a
 * malformed update, or allocation failure after the rest were applied). */
int  xg_apply_batch(struct xg_core *c, struct xg_batch_reader *r,
		    enum xg_source src, uint64_t now_ns);
/* Claim an incarnation above ours and theirs, spread ALIVE, REFUTE event. */
int  xg_refute(struct xg_core *c, uint32_t theirs, uint64_t now_ns);
/* The key named by the key_id of the packet in buf, or NULL (unknown id,
 * or too short to hold a header). */
const struct xg_core_key *xg_key_for(const struct xg_core *c, const void *buf,
				     size_t len);
/* Someone suspects us (a flagged PING, or the kernel counted one): raise
 * the local health multiplier and refute.  accuser may be 0. */
void xg_buddy_notice(struct xg_core *c, uint64_t accuser, uint64_t now_ns);
/* Ask for a gossip round as soon as the current packet or tick is done,
 * to the accuser (id, may be 0) and gossip_nodes random members. */
void xg_gossip_urgent(struct xg_core *c, uint64_t accuser);
void xg_gossip_urgent_flush(struct xg_core *c, uint64_t now_ns);

/* gossip.c */
void xg_gossip_round(struct xg_core *c, uint64_t now_ns);
/* Whether a round could find anyone to send to (cheap, may say yes
 * wrongly, never no wrongly). */
bool xg_gossip_has_targets(const struct xg_core *c);
int  xg_gossip_on_packet(struct xg_core *c, const void *buf, size_t len,
			 uint64_t now_ns);

/* rx.c */
int xg_rx_probe(struct xg_core *c, const struct xg_addr *from,
		const void *buf, size_t len, uint64_t rx_ns);
int xg_rx_ping_req(struct xg_core *c, const struct xg_addr *from,
		   const void *buf, size_t len);

#endif /* XGOSSIP_CORE_INTERNAL_H */
