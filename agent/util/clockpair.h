/* SPDX-License-Identifier: MIT */
/*
 * CLOCK_MONOTONIC and CLOCK_REALTIME read as one instant.
 *
 * Kernel receive timestamps (SO_TIMESTAMPNS) are on the wall clock, while
 * probe deadlines and the XDP heartbeat are on the monotonic clock.  The
 * offset between the two is found by reading both; read one after the
 * other, an interrupt (or a softirq burst under a PING flood) between the
 * reads skews the offset by tens of microseconds.  So the reads are
 * bracketed, mono-real-mono, a few times, and the tightest bracket wins.
 * The agent's UDP path and xgossip-probe share this one helper.
 */
#ifndef XGOSSIP_UTIL_CLOCKPAIR_H
#define XGOSSIP_UTIL_CLOCKPAIR_H

#include <stdint.h>
#include <time.h>

/* Brackets tried at most; the loop ends early on a tight one. */
#define XG_CLOCKPAIR_TRIES    8
/* A bracket this narrow is as good as it gets (a few vDSO calls). */
#define XG_CLOCKPAIR_TIGHT_NS 1000

struct xg_clockpair {
	uint64_t mono_ns; /* the middle of the tightest monotonic bracket */
	uint64_t real_ns; /* the wall clock read inside that bracket */
	uint64_t gap_ns;  /* width of the bracket: the pair's uncertainty */
};

/* A clock source: nanoseconds of clock clk.  Tests pass a scripted one. */
typedef uint64_t (*xg_clock_fn)(clockid_t clk, void *ctx);

/* Read the pair from the real clocks. */
void xg_clockpair_read(struct xg_clockpair *p);
/* The same with a given clock source. */
void xg_clockpair_read_with(struct xg_clockpair *p, xg_clock_fn now,
			    void *ctx);

/* CLOCK_REALTIME minus CLOCK_MONOTONIC at the pair's instant. */
int64_t xg_clockpair_offset(const struct xg_clockpair *p);

#endif /* XGOSSIP_UTIL_CLOCKPAIR_H */
