/* SPDX-License-Identifier: MIT */
/*
 * Joining: push/pulls (XG_F_JOIN) with a list of seeds.
 *
 * Two kinds.  The startup join (--join seeds, then remembered peers)
 * retries with exponential backoff, 1 s doubling to 30 s with +-25 %
 * jitter, until a push/pull with some seed succeeds; each attempt tries at
 * most XG_JOIN_FANOUT seeds, taking them round-robin so that a long peers
 * list is worked through over successive attempts.  Host names are looked
 * up at the first attempt and again at every retry while this node is
 * alone (the first pods of a Kubernetes Service are not in DNS yet when
 * they start): getaddrinfo() blocks the loop, which harms nobody while no
 * member probes this node.  Once others know it, retries reuse the last
 * addresses.  A control-socket join tries every given address once and
 * reports.
 *
 * Seeds equal to this node's own address are skipped: a push/pull with
 * itself would "succeed" and end the retries without joining anything.
 */
#ifndef XGOSSIP_DAEMON_JOIN_H
#define XGOSSIP_DAEMON_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "daemon/pushpull.h"
#include "util/rng.h"

#define XG_JOIN_FANOUT         8
#define XG_JOIN_BACKOFF_MIN_NS (1ULL * 1000000000ULL)
#define XG_JOIN_BACKOFF_MAX_NS (30ULL * 1000000000ULL)
#define XG_JOIN_ERR_MAX        192

typedef void (*xg_join_finish_fn)(void *ctx, int joined, const char *err);

struct xg_join_env {
	struct xg_pp         *pp;
	struct xg_core       *core;
	struct xg_rng        *rng;
	const struct xg_addr *self[2]; /* advertise and bind; may be NULL */
	int                   family_pref;
};

/* One seed as typed, and what it resolved to last time. */
struct xg_join_seed {
	char          *text;         /* owned */
	int            naddrs;       /* -1: never resolved */
	struct xg_addr addrs[XG_JOIN_FANOUT];
};

struct xg_join {
	struct xg_join_env env;
	struct xg_join_seed *seeds;  /* owned */
	size_t             nseeds;
	bool               retry;    /* startup join: back off and retry */
	size_t             cursor;   /* next seed to try (round-robin) */
	uint64_t           backoff_ns;
	uint64_t           next_ns;  /* next attempt, UINT64_MAX: none */
	int                pending;  /* push/pulls running */
	int                joined;   /* successes in this attempt */
	bool               settle;   /* attempt over, report at next tick */
	bool               only_self; /* the attempt found nobody else */
	bool               cancelled;
	bool               done;     /* finished: the owner frees it */
	unsigned           attempts;
	char               err[XG_JOIN_ERR_MAX];
	xg_join_finish_fn  finish;
	void              *ctx;
	struct xg_join    *next;     /* the owner's list */
};

/* A join over copies of seeds; the first attempt runs at the first
 * xg_join_tick().  NULL on allocation failure. */
struct xg_join *xg_join_new(const struct xg_join_env *env,
			    const char *const *seeds, size_t n, bool retry,
			    xg_join_finish_fn finish, void *ctx);
void xg_join_free(struct xg_join *j);

/* Run whatever is due; may call finish. */
void     xg_join_tick(struct xg_join *j, uint64_t now_ns);
uint64_t xg_join_next_deadline(const struct xg_join *j);
/* Stop retrying; finish runs once the running push/pulls are over (or at
 * the next tick if none are). */
void     xg_join_cancel(struct xg_join *j);

/* Jittered delay for a backoff step: [0.75, 1.25) x backoff. */
uint64_t xg_join_jitter(struct xg_rng *rng, uint64_t backoff_ns);

#endif /* XGOSSIP_DAEMON_JOIN_H */
