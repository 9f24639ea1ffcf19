/* SPDX-License-Identifier: MIT */
/*
 * The SWIM protocol core: membership table, probing, suspicion,
 * dissemination, push/pull state.  A pure state machine: it never reads a
 * clock, opens a socket or draws randomness on its own.  Time comes in as
 * CLOCK_MONOTONIC nanoseconds on every call, bytes go out through io->send,
 * randomness comes from io->rand64, and everything that happens is reported
 * through io->on_event.  The daemon, the simulator and the unit tests are
 * all just different adapters around this one API.
 *
 * Ordering contract with adapters: deliver every packet already received
 * (with its kernel receive timestamp as rx_ns) before calling xg_core_tick()
 * for a deadline, so an agent that was scheduled late does not time out
 * probes whose ACKs are already sitting in its socket.
 */
#ifndef XGOSSIP_CORE_SWIM_H
#define XGOSSIP_CORE_SWIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xgossip/wire.h>

#include "addr.h"

#define XG_NS_PER_MS 1000000ULL

struct xg_core;

enum xg_state {
	XG_ALIVE   = XG_S_ALIVE,
	XG_SUSPECT = XG_S_SUSPECT,
	XG_DEAD    = XG_S_DEAD,
	XG_LEFT    = XG_S_LEFT,
};

const char *xg_state_name(enum xg_state s); /* "alive", "suspect", ... */

struct xg_member_info {
	uint64_t       id;
	char           name[XG_NAME_MAX];
	struct xg_addr addr;
	enum xg_state  state;
	uint32_t       incarnation;
	uint16_t       meta_len;
	uint8_t        meta[XG_META_MAX];
	uint8_t        flags;          /* XG_UF_*: STARVED */
	uint64_t       state_since_ns; /* when this node last saw state change */
	bool           is_self;
};

enum xg_event_type {
	XG_EV_JOIN,    /* a member appeared (alive) */
	XG_EV_LEAVE,   /* a member left gracefully */
	XG_EV_FAIL,    /* a member was declared dead */
	XG_EV_UPDATE,  /* a member's metadata or address changed */
	XG_EV_SUSPECT, /* a member became suspect */
	XG_EV_ALIVE,   /* a suspect/dead member is alive again */
	XG_EV_REFUTE,  /* this node refuted a suspicion of itself */
};

const char *xg_event_name(enum xg_event_type t); /* "join", "leave", ... */

struct xg_event {
	enum xg_event_type           type;
	const struct xg_member_info *member;
	uint64_t                     now_ns;
};

struct xg_core_config {
	uint64_t       cluster_id;
	uint64_t       self_id;
	const char    *name;
	struct xg_addr advertise;
	uint32_t       incarnation;  /* starting incarnation */
	const uint8_t *meta;
	uint16_t       meta_len;

	/* The primary key: signs everything this node sends.  key_id goes
	 * into every header; xg_core_set_keys() installs more keys that
	 * verify (a keyring rotation). */
	uint8_t probe_key[16];  /* SipHash key for probe MACs */
	uint8_t gossip_key[16]; /* SipHash key for GOSSIP/STATE MACs */
	uint8_t key_id;

	uint64_t probe_interval_ns;   /* default 1 s */
	uint64_t probe_timeout_ns;    /* default 500 ms */
	unsigned indirect_checks;     /* default 3 */
	uint64_t gossip_interval_ns;  /* default 200 ms */
	unsigned gossip_nodes;        /* default 3 */
	unsigned suspicion_mult;      /* default 4 */
	unsigned retransmit_mult;     /* default 4 */
	uint64_t pushpull_interval_ns;/* default 30 s; 0 disables */
	uint64_t dead_reclaim_ns;     /* forget dead/left members after; default 24 h */
	uint64_t gossip_to_dead_ns;   /* keep gossiping to dead nodes for; default 30 s */

	/* Lifeguard (docs/CORE.md, "Lifeguard"). */
	unsigned lhm_max;             /* local health cap 0..64; default 8 */
	unsigned suspicion_max_mult;  /* max/min suspicion, 1..64; default 6 */
	unsigned suspicion_expected_confirms; /* K 0..7; 0: suspicion_mult-2 */
};

/* One key of the keyring as the core uses it. */
#define XG_CORE_MAX_KEYS 16
struct xg_core_key {
	uint8_t id;         /* the header's key_id */
	uint8_t probe[16];  /* PING/ACK/PING-REQ/NACK MAC */
	uint8_t mac[16];    /* GOSSIP/STATE MAC */
};

/* Fills every field with the LAN defaults above (keys zeroed). */
void xg_core_config_defaults(struct xg_core_config *cfg);

struct xg_core_io {
	void *ctx;
	/* Send one UDP datagram.  Return 0 or -errno; failures are counted. */
	int (*send)(void *ctx, const struct xg_addr *to, const void *buf,
		    size_t len);
	/* Something happened to a member (see enum xg_event_type). */
	void (*on_event)(void *ctx, const struct xg_event *ev);
	/* Uniform 64-bit random numbers. */
	uint64_t (*rand64)(void *ctx);
	/* Time for anti-entropy: run a TCP push/pull with this member.
	 * May be NULL (then no periodic push/pull is requested). */
	void (*want_pushpull)(void *ctx, const struct xg_addr *to);
};

struct xg_core_stats {
	uint64_t pings_sent, pings_recv;
	uint64_t acks_sent, acks_recv;
	uint64_t ping_reqs_sent, ping_reqs_recv;
	uint64_t nacks_sent, nacks_recv;
	uint64_t gossip_sent, gossip_recv;
	uint64_t updates_applied, updates_stale;
	uint64_t probes_failed;       /* direct + indirect probe got no ACK */
	uint64_t suspicions_raised;   /* by this node */
	uint64_t refutes;
	uint64_t pushpulls;
	uint64_t rx_bad;              /* malformed, wrong MAC, wrong cluster */
	uint64_t tx_errors;
	uint64_t bytes_sent, bytes_recv;
	uint64_t pings_not_for_us;    /* valid PING for another node id */
	uint64_t pings_refused;       /* our PINGs (own or as helper) the
				       * target's host refused: port closed */
	uint64_t lhm;                 /* Lifeguard local health now (a gauge) */
};

/* Create a core; self is alive with cfg->incarnation.  0 or -errno. */
int  xg_core_new(struct xg_core **out, const struct xg_core_config *cfg,
		 const struct xg_core_io *io, uint64_t now_ns);
void xg_core_free(struct xg_core *core);

/* Run whatever is due at now_ns (probes, timeouts, gossip rounds, reaping). */
void     xg_core_tick(struct xg_core *core, uint64_t now_ns);
/* The earliest time xg_core_tick() has work to do. */
uint64_t xg_core_next_deadline(const struct xg_core *core);

/* A UDP datagram arrived.  rx_ns is its kernel receive time on
 * CLOCK_MONOTONIC.  Returns 0, or -EBADMSG / -EPROTO / -EACCES (bad MAC)
 * / -EXDEV (another cluster's packet) etc. for packets it rejected
 * (already counted in rx_bad). */
int xg_core_on_packet(struct xg_core *core, const struct xg_addr *from,
		      const void *buf, size_t len, uint64_t rx_ns);

/* Replace the keys: keys[0] becomes the primary (it signs from now on,
 * and its id is stamped into headers); a packet is verified with the key
 * its header's key_id names, among all n.  -EINVAL for n == 0, more than
 * XG_CORE_MAX_KEYS, or two keys with one id. */
int xg_core_set_keys(struct xg_core *core, const struct xg_core_key *keys,
		     size_t n);

/* The XDP program answered PINGs flagged XG_F_SUSPECTED for us (the
 * Lifeguard buddy system, seen by the kernel rather than by us): someone
 * suspects this node.  Refute, exactly as for such a PING received here. */
void xg_core_suspected_notice(struct xg_core *core, uint64_t now_ns);

/* The host at `to` refused a datagram we sent it: ICMP port unreachable,
 * which a host sends only while no socket is bound to the port, i.e. the
 * agent there is not running.  A probe of that member stops waiting for
 * the PING's ACK, and a PING-REQ we serve for it is answered with a NACK
 * that says so (XG_F_REFUSED); a probe refused both to us and to a helper
 * fails at once instead of at the end of the interval (probe.c). */
void xg_core_on_refused(struct xg_core *core, const struct xg_addr *to,
			uint64_t now_ns);

/* Full state for a TCP push/pull: a complete STATE payload (header,
 * updates, MAC), without the 4-byte frame length.  flags: XG_F_JOIN and/or
 * XG_F_REPLY.  Returns the length or -ENOSPC if cap is too small. */
ssize_t xg_core_state_encode(struct xg_core *core, uint8_t flags, void *buf,
			     size_t cap);
/* The name the sender of a STATE gives itself (its own update in it), for
 * checking it against a TLS peer certificate.  0, -EACCES (bad MAC or
 * unknown key), -EBADMSG (no update about the sender) or another decode
 * error. */
int xg_core_state_sender(const struct xg_core *core, const void *buf,
			 size_t len, char *name, size_t cap);

/* Upper bound of the size xg_core_state_encode() will need now. */
size_t  xg_core_state_size(const struct xg_core *core);
/* Merge a peer's STATE payload.  0 or negative errno on reject. */
int     xg_core_state_merge(struct xg_core *core, const void *buf, size_t len,
			    uint64_t now_ns);

/* Graceful leave: mark self LEFT and start spreading it.  The adapter keeps
 * ticking until xg_core_leave_spread() or its own timeout, then exits. */
int  xg_core_leave(struct xg_core *core, uint64_t now_ns);
bool xg_core_leave_spread(const struct xg_core *core);

/* Replace this node's metadata; bumps the incarnation and spreads it. */
int xg_core_set_meta(struct xg_core *core, const void *meta, uint16_t len,
		     uint64_t now_ns);
/* This node is (not) being starved of CPU: set or clear XG_UF_STARVED in
 * its own state, with a new incarnation that spreads it.  Members suspect
 * a starved member with the longest suspicion timeout.  0 when nothing
 * changed or the news is queued; -ESHUTDOWN after a leave. */
int xg_core_set_starved(struct xg_core *core, bool starved, uint64_t now_ns);

/* Members, self included, in table order.  count() then at(i). */
size_t xg_core_member_count(const struct xg_core *core);
int    xg_core_member_at(const struct xg_core *core, size_t i,
			 struct xg_member_info *out);
int    xg_core_member_find(const struct xg_core *core, uint64_t id,
			   struct xg_member_info *out);
/* Up to k distinct random members, alive or suspect, other than this node
 * and exclude (0: none): their ids into out.  User messaging picks its
 * push and pull-sync targets with it (core/msg.h). */
size_t xg_core_pick_live(struct xg_core *core, size_t k, uint64_t exclude,
			 uint64_t *out);
/* Members alive or suspect, this node not counted. */
size_t xg_core_live_others(const struct xg_core *core);
/* Number of members in the given state (self counts). */
size_t xg_core_count_state(const struct xg_core *core, enum xg_state s);

const struct xg_member_info *xg_core_self(const struct xg_core *core);
const struct xg_core_stats  *xg_core_stats(const struct xg_core *core);
const struct xg_core_config *xg_core_config(const struct xg_core *core);

#endif /* XGOSSIP_CORE_SWIM_H */
