/* SPDX-License-Identifier: MIT */
/*
 * What the rest of the daemon (the control server above all) may ask of the
 * running agent.  The agent owns the core, the sockets and the loop; the
 * control server only holds a pointer to it and calls these.
 */
#ifndef XGOSSIP_DAEMON_AGENT_H
#define XGOSSIP_DAEMON_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xgossip/xdp_maps.h>

#include "core/swim.h"
#include "loop.h"

struct xg_agent;

struct xg_core *xg_agent_core(struct xg_agent *a);
struct xg_loop *xg_agent_loop(struct xg_agent *a);

/* Join through the given addresses (text as the user typed it: host,
 * "ip:port", "[v6]:port").  Asynchronous: done(ctx, joined, err) is called
 * exactly once, from the loop, when every address has succeeded or failed;
 * joined = how many push/pulls succeeded, err = first error text or NULL.
 * Returns 0 if the attempt started, -EINVAL for an unparsable address (then
 * done is not called). */
typedef void (*xg_join_done_fn)(void *ctx, int joined, const char *err);
int xg_agent_join(struct xg_agent *a, const char *const *addrs, size_t n,
		  xg_join_done_fn done, void *ctx);

/* Start a graceful leave; the agent exits once it has spread. */
int xg_agent_leave(struct xg_agent *a);

/* Tags as "key=value" pairs.  set merges, del removes; both re-encode the
 * metadata and spread it.  0, -EINVAL (bad key/value) or -E2BIG (over
 * XG_META_MAX once encoded). */
int xg_agent_tags_set(struct xg_agent *a, const char *const *kv, size_t n);
int xg_agent_tags_del(struct xg_agent *a, const char *const *keys, size_t n);

/* Broadcast a user message to every live member (docs/MESSAGING.md);
 * its id into id.  0 or the messenger's errors (core/msg.h,
 * xg_msgr_broadcast). */
int xg_agent_broadcast(struct xg_agent *a, const char *topic,
		       const void *payload, size_t len, uint8_t id[16]);
/* Send a user message to one member (its name, or its id in 16 hex
 * digits) over TLS; its id into id.  done(ctx, err, rtt_ns) runs exactly
 * once, from the loop, when the member's agent confirmed delivery (err 0)
 * or refused it, or the transfer failed (xfer.h lists the errors).
 * Returns 0 (done will run), or -ENOENT (no such member), -ELOOP (this
 * node), -EHOSTDOWN (not alive), -EINVAL, -EMSGSIZE, -ENOBUFS. */
typedef void (*xg_agent_sent_fn)(void *ctx, int err, uint64_t rtt_ns);
int xg_agent_send(struct xg_agent *a, const char *node, const char *topic,
		  const void *payload, size_t len, uint8_t id[16],
		  xg_agent_sent_fn done, void *ctx);

/* --event-handler counters (evhandler.h). */
struct xg_evh_stats;
void xg_agent_evh_stats(struct xg_agent *a, struct xg_evh_stats *out);

/* The messenger's counters, NULL before it exists. */
struct xg_msgr_stats;
const struct xg_msgr_stats *xg_agent_msg_stats(struct xg_agent *a);

/* What an application that embeds the agent hears about (agent_run.h):
 * each delivered message and each membership event, from the loop, after
 * the control socket's clients.  Any hook may be NULL.  Pointers are
 * valid only during the call. */
struct xg_msg;
struct xg_agent_hooks {
	void *ctx;
	void (*on_message)(void *ctx, const struct xg_msg *m, bool unicast,
			   const char *origin_name);
	void (*on_member)(void *ctx, const struct xg_event *ev);
};

/* Facts for `xgossipctl info`. */
struct xg_agent_info {
	const char *version;
	const char *bind;        /* text form */
	const char *xdp_mode;    /* "native", "generic" or "off" */
	const char *state_dir;
	const char *cluster;     /* cluster name */
	uint64_t    cluster_id;
	uint64_t    started_real_ns;
	uint64_t    uptime_ns;
	uint64_t    udp_rx_packets, udp_tx_packets, tcp_accepts, tcp_connects;
	uint64_t    pushpull_ok, pushpull_failed;
	/* Security (docs/SECURITY.md): packets and streams turned away. */
	uint64_t    rx_unsealed;   /* UDP no installed key opened */
	uint64_t    rx_limited;    /* UDP over the per-source rate limit */
	uint64_t    tls_refused;   /* streams whose certificate was refused */
	uint64_t    name_mismatch; /* certificate not for the claimed node */
	uint64_t    pushpull_shed; /* exchanges not started or refused while
				    * the agent was starved of CPU */
	uint64_t    cpu_limit_us;  /* the cgroup's CPU limit, microseconds of
				    * CPU per second; 0: none found */
	bool        cpu_limited;   /* below --starved-cpu-limit: shedding and
				    * flagged starved while it lasts */
	unsigned    keys;          /* keyring size */
	unsigned    primary_key_id;
	bool        tls;           /* streams are TLS (not --insecure-dev) */
};
void xg_agent_get_info(struct xg_agent *a, struct xg_agent_info *out);

/* Facts for `xgossipctl xdp`.  Strings are the agent's and live until its
 * next loop iteration. */
struct xg_agent_xdp_info {
	const char *mode;        /* "native", "generic" or "off" */
	const char *requested;   /* the --xdp value */
	const char *reason;      /* why it is off; NULL when on */
	const char *instance;
	uint64_t    liveness_ns;       /* configured */
	uint64_t    liveness_max_ns;   /* the most it may be stretched to */
	uint64_t    liveness_now_ns;   /* in effect */
	uint64_t    liveness_stretches;
	uint64_t    liveness_longest_gap_ns; /* longest starved gap seen */
	uint64_t    heartbeat_interval_ns;
	/* The rest only when on. */
	const char *ifname;
	int         ifindex;
	uint32_t    prog_id;
	const char *pin_dir;
	bool        heartbeat_seen;    /* at least one heartbeat written */
	uint64_t    heartbeat_age_ns;  /* since the last one written */
	uint64_t    heartbeats, heartbeat_errors;
	int         stats_err;         /* 0: stats valid, else -errno */
	struct xg_bpf_stats stats;     /* summed over CPUs */
};
void xg_agent_get_xdp(struct xg_agent *a, struct xg_agent_xdp_info *out);

#endif /* XGOSSIP_DAEMON_AGENT_H */
