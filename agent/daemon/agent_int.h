/* SPDX-License-Identifier: MIT */
/*
 * The agent's insides, shared by agent*.c only.  Everything else goes
 * through agent.h (the control server) or agent_run.h (main).
 */
#ifndef XGOSSIP_DAEMON_AGENT_INT_H
#define XGOSSIP_DAEMON_AGENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <xgossip/wire.h>

#include "core/msg.h"
#include "core/swim.h"
#include "daemon/agent.h"
#include "daemon/config.h"
#include "daemon/control.h"
#include "daemon/evhandler.h"
#include "daemon/join.h"
#include "daemon/liveness.h"
#include "daemon/loop.h"
#include "daemon/pushpull.h"
#include "daemon/statedir.h"
#include "net/udp.h"
#include "util/keys.h"
#include "util/rng.h"
#include "util/tags.h"
#include "net/ratelimit.h"
#include "util/keyring.h"
#include "xdp/xdp.h"

/* The peers snapshot is rewritten at most this often: membership churn in
 * a big cluster must not turn into a stream of fsyncs. */
#define XG_PEERS_WRITE_NS (10ULL * 1000000000ULL)
/* Datagram batches read per UDP wakeup; the rest wait for the next one so
 * a flood cannot starve the timer. */
#define XG_UDP_BATCHES_PER_WAKEUP   8
/* ...but before a tick everything already queued is read (swim.h's
 * ordering contract), up to this bound. */
#define XG_UDP_BATCHES_BEFORE_TICK 64

enum {
	XG_PRIO_UDP    = 0,
	XG_PRIO_TIMER  = 1,
	/* XG_PP_PRIO = 2: push/pull streams */
	XG_PRIO_SIGNAL = 3,
};

/* The agent's end of the XDP fast path (agent_xdp.c). */
struct xg_agent_xdp {
	struct xg_xdp      *x;          /* NULL: running with XDP off */
	struct xg_watch     hb_w;       /* periodic heartbeat timerfd */
	char                instance[XG_XDP_INSTANCE_MAX];
	char                reason[320]; /* why it is off */
	uint64_t            hb_last_ns; /* last heartbeat written, 0: none */
	uint64_t            hb_count, hb_errors;
	bool                hb_failing; /* the last write failed (logged) */
	uint64_t            suspected_seen; /* xg_xdp_suspected_pings() read */
	struct xg_liveness  live;       /* the window, stretched when starved */
	uint64_t            live_errors; /* window updates the map refused */
};

/* The agent's end of user messaging (agent_msg.c). */
struct xg_agent_msg {
	struct xg_msgr     *m;
	uint64_t            delivered;   /* to the application, any kind */
	uint64_t            seen_errors; /* XDP seen map writes that failed */
};

/* Unicasts and large bodies over TLS (agent_xfer.c). */
struct xg_agent_xf {
	struct xg_xfer      *x;
	struct xg_bodystore *bodies;
	uint32_t             unicast_counter;
};

struct xg_agent {
	const struct xg_agent_config *cfg;
	struct xg_loop     *loop;
	struct xg_core     *core;
	struct xg_udp      *udp;
	struct xg_pp        pp;
	bool                pp_open;
	struct xg_control  *ctl;
	struct xg_statedir  sd;
	struct xg_rng       rng;
	struct xg_watch     udp_w, timer_w, sig_w;
	uint64_t            armed_ns;

	char                name[XG_NAME_MAX];
	char                bind_text[XG_ADDR_STRLEN];
	struct xg_addr      advertise;
	uint64_t            node_id;
	uint64_t            cluster_id;
	struct xg_keyring   keyring;    /* agent_keys.c */
	struct xg_tls_ctx  *tls;        /* agent_tls.c; NULL: plain TCP */
	uint64_t            rx_unsealed; /* UDP packets no key opened */
	struct xg_ratelimit *rl;        /* per-source UDP limit (owned) */
#define XG_RX_RATE_PER_SOURCE  1000  /* packets/s, each source address */
#define XG_RX_BURST_PER_SOURCE 2000
#define XG_RX_RATE_SOURCES     4096  /* addresses tracked (power of 2) */
	uint64_t            rx_limited;  /* UDP packets over that limit */
	uint64_t            trimmed_after; /* push/pulls done at the last trim */
	uint64_t            shed_until_ns; /* push/pull shed until (starved) */
	bool                starved;    /* XG_UF_STARVED set in our own state */
	bool                late_starved; /* the late timers ask for it */
	bool                cpu_limited;  /* cgroup limit < --starved-cpu-limit */
	uint64_t            cpu_limit_us; /* that limit, CPU us/s; 0: none */
	uint64_t            cpu_check_ns; /* when to read it again */
	int                 cpu_limit_err; /* the last read's, logged once */
/* The cgroup is read this often: a handful of system calls. */
#define XG_CPU_CHECK_NS (5ULL * 1000000000)
	uint64_t            armed_due_ns;  /* max(timer deadline, when armed) */
	uint64_t            armed_at_ns;   /* when the timer was armed */
	uint64_t            armed_cpu_ns;  /* our CPU time then */
/* Late and under 1/4 of the CPU since the timer was armed: starved. */
#define XG_SHED_BUSY_DIV 4
	uint64_t            pp_shed;       /* push/pulls we did not start */
#define XG_SHED_LATE_NS (500ULL * 1000000)      /* a timer this late: starved */
#define XG_SHED_HOLD_NS (30ULL * 1000000000)    /* shed for this long after */
	uint32_t            saved_inc;
	struct xg_tags      tags;
	const char         *xdp_active; /* "native", "generic" or "off" */
	struct xg_agent_xdp xdp;
	struct xg_agent_msg msg;
	struct xg_agent_xf  xf;
	struct xg_evh      *evh;        /* --event-handler (evhandler.h) */
	struct xg_agent_hooks hooks;    /* the embedding application's */
	bool                failed;     /* the loop failed: exit status 1 */

	struct xg_join     *joins;

	bool                leaving;
	uint64_t            leave_deadline_ns;
	bool                peers_dirty;
	uint64_t            peers_written_ns;

	uint64_t            started_real_ns, started_mono_ns;
	bool                ran; /* set up completely and entered the loop */
};

/* agent_io.c: core callbacks and loop handlers */
extern const struct xg_core_io xg_agent_core_io_template;
void xg_agent_udp_event(struct xg_watch *w, uint32_t events);
void xg_agent_timer_event(struct xg_watch *w, uint32_t events);
void xg_agent_signal_event(struct xg_watch *w, uint32_t events);
/* After every wakeup: persist, check the leave, re-arm the timer. */
void xg_agent_after_wakeup(struct xg_agent *a);
/* Seal buf with the keyring's primary key and send it (every UDP packet
 * but the probes, which the core signs and the XDP program reads). */
int  xg_agent_send_sealed(struct xg_agent *a, const struct xg_addr *to,
			  const void *buf, size_t len);
/* agent_starve.c: starved of CPU.  note_lateness() after each timer
 * wakeup; cpu_limit_check() reads the cgroup's CPU limit when due (or at
 * once: force) and sets the flag and shedding while it is below
 * --starved-cpu-limit; its deadline (UINT64_MAX when turned off). */
void     xg_agent_note_lateness(struct xg_agent *a, uint64_t now);
void     xg_agent_cpu_limit_check(struct xg_agent *a, uint64_t now,
				  bool force);
uint64_t xg_agent_cpu_limit_deadline(const struct xg_agent *a);
/* agent_msg.c: a message for this node's application (subscribers,
 * event handlers), whichever way it came. */
void xg_agent_msg_deliver(struct xg_agent *a, const struct xg_msg *msg,
			  bool unicast);
/* agent_xfer.c: after push/pull listens (the transfers ride on it), and
 * closed before it; the messenger's io->fetch; a broadcast, large or not. */
int      xg_agent_xfer_setup(struct xg_agent *a);
void     xg_agent_xfer_close(struct xg_agent *a);
void     xg_agent_xfer_expire(struct xg_agent *a, uint64_t now_ns);
uint64_t xg_agent_xfer_next_deadline(const struct xg_agent *a);
int      xg_agent_fetch(void *ctx, uint64_t from_id,
			const uint8_t id[XG_MSG_ID_LEN], uint64_t size,
			const uint8_t sha256[XG_MSG_SHA256_LEN]);
int      xg_agent_msg_broadcast(struct xg_agent *a, const char *topic,
				const void *payload, size_t len,
				uint8_t id[XG_MSG_ID_LEN]);
int  xg_agent_start_leave(struct xg_agent *a, const char *why);
void xg_agent_persist_incarnation(struct xg_agent *a);
int  xg_agent_write_peers(struct xg_agent *a);
struct xg_join_env xg_agent_join_env(struct xg_agent *a);

/* agent_xdp.c: the XDP fast path.  setup() after the socket and the core
 * exist: picks the interface, opens the loader, loads the probe key and
 * starts the heartbeat; under --xdp auto a failure leaves XDP off (0),
 * under native/generic it is returned.  With --xdp off it removes what an
 * earlier agent of the instance left.  close() stops the heartbeat and
 * zeroes it; clean (a graceful exit) also detaches and unpins, otherwise
 * the pins stay for the next agent of the instance to take over. */
int  xg_agent_xdp_setup(struct xg_agent *a);
/* agent_tls.c: TLS context from the flags (NULL under --insecure-dev);
 * reload on SIGHUP keeps the old one if the new files do not load. */
int  xg_agent_tls_setup(struct xg_agent *a);
int  xg_agent_tls_reload(struct xg_agent *a);
void xg_agent_tls_close(struct xg_agent *a);
void xg_agent_xdp_close(struct xg_agent *a, bool clean);
/* For the start log line: "xdp=native iface=eth0 prog_id=7" or
 * "xdp=off reason=...". */
char *xg_agent_xdp_describe(const struct xg_agent *a, char *out, size_t cap);
/* The interface address XDP belongs on: the bind address, or the
 * advertised one when binding a wildcard.  Pure. */
const struct xg_addr *xg_agent_xdp_addr(const struct xg_addr *bind,
					const struct xg_addr *advertise);
/* Does a failure to attach in this mode stop the agent? */
bool xg_agent_xdp_fatal(enum xg_xdp_mode requested);

/* agent_tags.c: tag edits (pure; tested) */
/* next = cur with the edits applied; meta/len its encoding.  0, -EINVAL,
 * -E2BIG or -ENOMEM.  next is always initialised (free it). */
int xg_tags_apply(const struct xg_tags *cur, const char *const *items,
		  size_t n, bool del, struct xg_tags *next, uint8_t *meta,
		  size_t *meta_len);

#endif /* XGOSSIP_DAEMON_AGENT_INT_H */
