/* SPDX-License-Identifier: MIT */
/*
 * A deterministic cluster simulator for the protocol core: N cores share
 * one fake clock and an in-memory network, and every source of randomness
 * is a seeded SplitMix64, so a run is a pure function of its seed.
 *
 * Events run in time order.  At each instant the simulator first delivers
 * every datagram due (with its arrival time as rx_ns), then ticks the
 * cores whose deadline has come, as the ordering contract in core/swim.h
 * asks of a real adapter.
 *
 * Failure injection:
 *   - link down, or lossy (random loss in percent), per link and on
 *     every link (opts.loss_pct);
 *   - node isolated: everything to or from it is dropped, the core runs;
 *   - node frozen: the core neither ticks nor reads; datagrams for it wait
 *     in a backlog with their arrival time, as in a paused process's socket
 *     buffer, and are handed over on thaw before its first tick;
 *   - node stopped: the core is freed (a crash); it can be started again
 *     with a changed configuration (a restart);
 *   - node lagging: a slow or overloaded agent.  Whenever it has something
 *     to do (a deadline, a datagram), it gets to it only after a random
 *     stall of up to max_lag; datagrams wait with their arrival time as
 *     above, and are handed over before the late tick.  A datagram that
 *     comes during a stall waits for the end of that stall.
 *
 * Push/pull is a direct exchange of xg_core_state_encode/merge between two
 * cores.  Requests made by a core through io->want_pushpull are carried out
 * right after the tick that made them when auto_pushpull is set.
 *
 * XG_SIM_SEED=<n> in the environment is mixed into every seed, so a test
 * can be swept over many runs from the shell; unset, runs are fixed.
 *
 * Nothing here uses cmocka, so other tools can reuse it.
 */
#ifndef XGOSSIP_TEST_SIM_H
#define XGOSSIP_TEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/swim.h"

#define SIM_MS(x) ((uint64_t)(x) * 1000000ULL)
#define SIM_S(x)  ((uint64_t)(x) * 1000000000ULL)

struct sim;

struct sim_opts {
	unsigned              nodes;
	uint64_t              seed;
	uint64_t              delay_ns;  /* one-way latency, default 1 ms */
	uint64_t              jitter_ns; /* plus uniform [0, jitter) */
	unsigned              loss_pct;  /* random loss on every link */
	bool                  auto_pushpull;
	/* Timers and keys for every node; the simulator fills in id, name,
	 * address and cluster.  NULL: xg_core_config_defaults(). */
	const struct xg_core_config *base;
};

/* One recorded event. */
struct sim_event {
	uint64_t           t;
	enum xg_event_type type;
	uint64_t           id;
	enum xg_state      state;
	uint32_t           incarnation;
};

/* Watch every datagram a core sends (before any drop decision). */
typedef void (*sim_tap_fn)(void *ctx, unsigned from, const struct xg_addr *to,
			   const void *buf, size_t len);

/* Creates the simulator with every node started at time 0, each knowing
 * only itself.  NULL on failure. */
struct sim *sim_new(const struct sim_opts *o);
void        sim_free(struct sim *s);

uint64_t sim_now(const struct sim *s);
unsigned sim_nodes(const struct sim *s);

/* Run every event up to and including t (absolute) / for dt more. */
void sim_run_until(struct sim *s, uint64_t t);
void sim_run_for(struct sim *s, uint64_t dt);
/* Run until pred(s, ctx) holds, checking every step_ns, at most until
 * the absolute time limit.  Returns whether pred held. */
bool sim_run_until_true(struct sim *s, bool (*pred)(struct sim *s, void *ctx),
			void *ctx, uint64_t step_ns, uint64_t limit);

/* Node identity as the simulator assigns it. */
uint64_t              sim_id(const struct sim *s, unsigned i);
const struct xg_addr *sim_addr(const struct sim *s, unsigned i);
struct xg_core       *sim_core(struct sim *s, unsigned i); /* NULL: stopped */
/* The configuration used by the next sim_start(); edit it to restart a
 * node with another id, name or incarnation. */
struct xg_core_config *sim_config(struct sim *s, unsigned i);
/* Set the node's name (the config keeps a pointer to this copy). */
void sim_set_name(struct sim *s, unsigned i, const char *name);

int  sim_start(struct sim *s, unsigned i);
void sim_stop(struct sim *s, unsigned i);
void sim_isolate(struct sim *s, unsigned i, bool isolated);
void sim_freeze(struct sim *s, unsigned i, bool frozen);
/* Stalls of up to max_lag_ns (uniform) before every wake-up; 0: none. */
void sim_lag(struct sim *s, unsigned i, uint64_t max_lag_ns);
/* Both directions of the link between a and b: up or cut, and a random
 * loss rate in percent on top of opts.loss_pct. */
void sim_link(struct sim *s, unsigned a, unsigned b, bool up);
void sim_link_loss(struct sim *s, unsigned a, unsigned b, unsigned pct);

/* Full push/pull between a and b (a initiates).  0 or -errno. */
int sim_pushpull(struct sim *s, unsigned a, unsigned b);
/* Push/pull every node in [first, last] with seed, one every gap_ns of
 * simulated time (running the simulation in between). */
int sim_join_range(struct sim *s, unsigned first, unsigned last,
		   unsigned seed, uint64_t gap_ns);

void sim_set_tap(struct sim *s, sim_tap_fn fn, void *ctx);

/* Events recorded at node i. */
size_t                  sim_event_count(const struct sim *s, unsigned i);
const struct sim_event *sim_event_at(const struct sim *s, unsigned i,
				     size_t k);
/* Count of events of type about member id at node i (id 0: any). */
size_t sim_count(const struct sim *s, unsigned i, enum xg_event_type type,
		 uint64_t id);
void   sim_clear_events(struct sim *s);

/* Member id as seen from node i: 0 and *out, or -ENOENT (also when node i
 * is stopped). */
int  sim_member(struct sim *s, unsigned i, uint64_t id,
		struct xg_member_info *out);
/* Every running node other than `except` (UINT32_MAX: none) sees member
 * id in state st. */
bool sim_all_see(struct sim *s, uint64_t id, enum xg_state st,
		 unsigned except);
/* Every running node sees every running node alive (itself included). */
bool sim_converged(struct sim *s);

#endif /* XGOSSIP_TEST_SIM_H */
