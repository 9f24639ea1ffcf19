/* SPDX-License-Identifier: MIT */
#include "daemon/join.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgossip/wire.h>

#include "daemon/loop.h"
#include "daemon/resolve.h"
#include "util/duration.h"
#include "util/log.h"

struct xg_join *xg_join_new(const struct xg_join_env *env,
			    const char *const *seeds, size_t n, bool retry,
			    xg_join_finish_fn finish, void *ctx)
{
	struct xg_join *j = calloc(1, sizeof(*j));
	size_t i;

	if (!j)
		return NULL;
	j->env = *env;
	j->retry = retry;
	j->finish = finish;
	j->ctx = ctx;
	j->backoff_ns = XG_JOIN_BACKOFF_MIN_NS;
	j->next_ns = 0;
	j->seeds = calloc(n ? n : 1, sizeof(*j->seeds));
	if (!j->seeds) {
		free(j);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		j->seeds[i].naddrs = -1;
		j->seeds[i].text = strdup(seeds[i]);
		if (!j->seeds[i].text) {
			j->nseeds = i;
			xg_join_free(j);
			return NULL;
		}
	}
	j->nseeds = n;
	return j;
}

void xg_join_free(struct xg_join *j)
{
	size_t i;

	if (!j)
		return;
	for (i = 0; i < j->nseeds; i++)
		free(j->seeds[i].text);
	free(j->seeds);
	free(j);
}

uint64_t xg_join_jitter(struct xg_rng *rng, uint64_t backoff_ns)
{
	/* Nodes restarted together (a rack power cycle, a DaemonSet rollout)
	 * must not retry in lockstep against the same seeds. */
	uint64_t quarter = backoff_ns / 4;

	return backoff_ns - quarter + xg_rng_below(rng, 2 * quarter + 1);
}

static void note_error(struct xg_join *j, const char *seed, const char *why)
{
	if (j->err[0])
		return; /* the first error is the one reported */
	snprintf(j->err, sizeof(j->err), "%s: %s", seed, why);
}

static bool is_self(const struct xg_join *j, const struct xg_addr *a)
{
	size_t i;

	for (i = 0; i < 2; i++)
		if (j->env.self[i] && xg_addr_equal(j->env.self[i], a))
			return true;
	return false;
}

static void pp_done(void *ctx, const struct xg_addr *peer, int err)
{
	struct xg_join *j = ctx;
	char addr[XG_ADDR_STRLEN];

	xg_addr_format(peer, addr, sizeof(addr));
	j->pending--;
	if (err) {
		note_error(j, addr, xg_pp_strerror(err));
		xg_debug("join seed=%s failed: %s", addr, xg_pp_strerror(err));
	} else {
		j->joined++;
		xg_info("joined seed=%s members=%zu", addr,
			xg_core_count_state(j->env.core, XG_ALIVE));
	}
	if (j->pending == 0)
		j->settle = true;
}

/* Fresh addresses for a seed when a lookup is affordable, else the last
 * ones.  Literals cost nothing and are always parsed anew.  Returns the
 * count or a negative errno (with the error noted). */
static int seed_addrs(struct xg_join *j, struct xg_join_seed *sd)
{
	bool alone = xg_core_count_state(j->env.core, XG_ALIVE) <= 1;
	int n;

	if (sd->naddrs >= 0 && !alone)
		return sd->naddrs;
	n = xg_seed_resolve(sd->text, XG_DEFAULT_PORT, j->env.family_pref,
			    sd->addrs, XG_JOIN_FANOUT);
	if (n < 0) {
		note_error(j, sd->text, n == -EINVAL ? "not an address" :
			   n == -EAGAIN ? "name lookup failed (temporary)" :
			   "name has no address");
		/* Keep what an earlier lookup found: a resolver hiccup must
		 * not make a known seed unusable. */
		return sd->naddrs > 0 ? sd->naddrs : n;
	}
	sd->naddrs = n;
	return n;
}

/* Start a push/pull with each address of one seed.  Returns how many
 * were started. */
static int try_seed(struct xg_join *j, struct xg_join_seed *sd, int *budget,
		    int *self_only)
{
	char text[XG_ADDR_STRLEN];
	int n, i, started = 0, err;

	n = seed_addrs(j, sd);
	for (i = 0; i < n && *budget > 0; i++) {
		if (is_self(j, &sd->addrs[i])) {
			(*self_only)++;
			continue;
		}
		xg_addr_format(&sd->addrs[i], text, sizeof(text));
		err = xg_pp_start(j->env.pp, &sd->addrs[i], true, pp_done, j);
		if (err) {
			note_error(j, text, xg_pp_strerror(err));
			continue;
		}
		j->pending++;
		started++;
		(*budget)--;
	}
	return started;
}

static void attempt(struct xg_join *j)
{
	int budget = j->retry ? XG_JOIN_FANOUT : (int)j->nseeds;
	int self_only = 0;
	size_t tried = 0;

	j->attempts++;
	j->joined = 0;
	j->err[0] = '\0';
	j->next_ns = UINT64_MAX;
	while (budget > 0 && tried < j->nseeds) {
		struct xg_join_seed *sd = &j->seeds[j->cursor];

		j->cursor = (j->cursor + 1) % j->nseeds;
		tried++;
		try_seed(j, sd, &budget, &self_only);
	}
	j->only_self = false;
	if (j->pending == 0) {
		if (!j->err[0]) {
			j->only_self = self_only > 0;
			snprintf(j->err, sizeof(j->err), self_only ?
				 "every seed is this node itself" :
				 "no seed to try");
		}
		j->settle = true;
	}
}

/* The attempt is over: report, or schedule the next one. */
static void settle(struct xg_join *j, uint64_t now_ns)
{
	char d[32];
	uint64_t delay;

	j->settle = false;
	if (j->joined > 0 || !j->retry || j->cancelled) {
		j->done = true;
		j->next_ns = UINT64_MAX;
		if (j->cancelled && !j->joined && !j->err[0])
			snprintf(j->err, sizeof(j->err), "agent shutting down");
		if (j->finish)
			j->finish(j->ctx, j->joined, j->joined ? NULL : j->err);
		return;
	}
	delay = xg_join_jitter(j->env.rng, j->backoff_ns);
	j->next_ns = now_ns + delay;
	/* The first node of a cluster usually lists itself (one command line
	 * for all nodes, a Service that so far resolves to this pod only):
	 * waiting for others is normal there, not a warning. */
	xg_log(j->only_self ? XG_LOG_INFO : XG_LOG_WARN,
	       "join attempt %u failed (%s); retrying in %s", j->attempts,
	       j->err, xg_duration_format(delay / 1000000 * 1000000, d,
					  sizeof(d)));
	j->backoff_ns *= 2;
	if (j->backoff_ns > XG_JOIN_BACKOFF_MAX_NS)
		j->backoff_ns = XG_JOIN_BACKOFF_MAX_NS;
}

void xg_join_tick(struct xg_join *j, uint64_t now_ns)
{
	if (j->done)
		return;
	if (j->settle) {
		settle(j, now_ns);
		return;
	}
	if (j->pending == 0 && j->next_ns <= now_ns) {
		if (j->cancelled) {
			j->settle = true;
			settle(j, now_ns);
			return;
		}
		attempt(j);
	}
}

uint64_t xg_join_next_deadline(const struct xg_join *j)
{
	if (j->done)
		return UINT64_MAX;
	if (j->settle)
		return 0;
	return j->pending ? UINT64_MAX : j->next_ns;
}

void xg_join_cancel(struct xg_join *j)
{
	j->cancelled = true;
	if (j->pending == 0 && !j->done)
		j->next_ns = 0;
}
