/* SPDX-License-Identifier: MIT */
/*
 * The XDP liveness window, stretched while the host starves the agent.
 *
 * The kernel answers PINGs for this node while the agent's heartbeat is
 * younger than the window (docs/XDP.md).  The configured window (2 s) is
 * sized for a healthy agent on a healthy host.  An agent under a tight
 * cgroup CPU quota is healthy but is held off the CPU for whole CFS
 * periods, sometimes seconds; each hold longer than the window makes the
 * cluster suspect it, and the suspicion traffic it then has to read costs
 * the CPU it does not have, so it is held again.
 *
 * So the agent measures its own holds: at every wakeup, the time since the
 * previous one.  The idle heartbeat timer wakes it every 250 ms, so a gap
 * of more than two beats in which it used little CPU means it was runnable
 * and not run (a quota, an overloaded host, SIGSTOP).  After such a gap g
 * the window becomes g (rounded up to a heartbeat period) + the
 * configured window, never more than the
 * maximum; it stays stretched while such gaps go on, and returns to the
 * configured window once none was seen for XG_LIVE_HOLD_NS.
 *
 * A loop that hangs (deadlock, blocking call, SIGSTOP of a healthy agent)
 * never wakes to stretch anything: it is found with the window it had,
 * which for an agent that was not starved in the last 30 s is the
 * configured one.  Only an agent that was being starved and then hangs is
 * found later, by at most the maximum window.  A gap in which the agent
 * was busy (hashing a large message, say) is its own slowness, not the
 * host's, and does not stretch.
 */
#ifndef XGOSSIP_DAEMON_LIVENESS_H
#define XGOSSIP_DAEMON_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

/* A gap this long without a wakeup: the agent was not run (two idle
 * heartbeats of 250 ms). */
#define XG_LIVE_STARVED_GAP_NS (500ULL * 1000000)
/* ...and it used less than this fraction of the gap as CPU. */
#define XG_LIVE_BUSY_DIV 4
/* The stretch is rounded up to a multiple of this (the idle heartbeat). */
#define XG_LIVE_STEP_NS (250ULL * 1000000)
/* The window stays stretched this long after the last starved gap. */
#define XG_LIVE_HOLD_NS (30ULL * 1000000000)

struct xg_liveness {
	uint64_t base_ns;     /* --liveness-window */
	uint64_t max_ns;      /* --liveness-window-max; == base: never stretch */
	uint64_t window_ns;   /* in effect (written to the XDP config map) */
	uint64_t until_ns;    /* stretched until then */
	uint64_t last_ns;     /* previous wakeup, 0: none yet */
	uint64_t last_cpu_ns; /* process CPU time then */
	uint64_t last_gap_ns; /* the latest starved gap */
	uint64_t longest_gap_ns; /* longest starved gap seen, ever */
	uint64_t stretches;   /* times the window grew */
};

void xg_liveness_init(struct xg_liveness *l, uint64_t base_ns, uint64_t max_ns);
/* One wakeup at now with the process's CPU time cpu_ns.  True when the
 * window in effect changed and must be published. */
bool xg_liveness_wake(struct xg_liveness *l, uint64_t now_ns, uint64_t cpu_ns);

#endif /* XGOSSIP_DAEMON_LIVENESS_H */
