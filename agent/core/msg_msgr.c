/* SPDX-License-Identifier: MIT */
/*
 * The messenger's lifetime, configuration, keys and timers.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg_int.h"

#define NS_PER_MS 1000000ULL

void xg_msg_config_defaults(struct xg_msg_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* go-gossip's fan-out: with f = 3 an epidemic reaches everyone in
	 * about log3(n) hops, and a majority of 3 is 2 ACKs. */
	cfg->fanout = 3;
	/* A few LAN round trips plus scheduling delay on a busy node. */
	cfg->ack_timeout_ns = 300 * NS_PER_MS;
	cfg->ack_min_ns = 20 * NS_PER_MS;
	cfg->ack_slack_ns = 5 * NS_PER_MS;
	cfg->cache_max = 4096;
	/* Pull-syncs happen within a few ack timeouts of a broadcast; two
	 * minutes also covers a member that was paused for a while. */
	cfg->cache_ttl_ns = 120000 * NS_PER_MS;
	cfg->max_age_ms = 300000;
	/* The seen table must outlive the age limit by twice the clock skew
	 * we tolerate (docs/MESSAGING.md, "Exactly once"). */
	cfg->seen_ttl_ms = cfg->max_age_ms + 60000;
	cfg->seen_max = 65536;
	/* Why these two are higher than go-gossip's (one round, one retry):
	 * docs/MESSAGING.md, "Completeness". */
	cfg->sync_rounds = 3;
	cfg->pull_tries = 16;
	/* The limit the control socket and the operator see: 16 MiB, as
	 * --max-message-size. */
	cfg->max_large = XG_MSG_LARGE_MAX_DEFAULT;
	/* A few bodies at once keep a link busy without one member's
	 * bursts of large broadcasts opening dozens of TLS sessions. */
	cfg->fetch_max = 4;
	/* Only a guard against a lost report (docs/MESSAGING.md). */
	cfg->fetch_timeout_ns = 120000 * NS_PER_MS;
}

static int config_check(const struct xg_msg_config *c)
{
	/* Id 0 means "none" in io->pick's exclude and in the hint. */
	if (c->self_id == 0)
		return -EINVAL;
	if (c->fanout == 0 || c->fanout > XG_MSG_FANOUT_MAX)
		return -EINVAL;
	if (c->ack_timeout_ns == 0 || c->cache_max == 0 ||
	    c->cache_ttl_ns == 0 || c->max_age_ms == 0 || c->seen_max == 0 ||
	    c->pull_tries == 0 || c->pull_tries > UINT8_MAX ||
	    c->sync_rounds == 0 || c->sync_rounds > UINT8_MAX ||
	    c->fetch_max == 0 || c->fetch_timeout_ns == 0)
		return -EINVAL;
	/* A delivered payload's length is 32 bits (struct xg_msg). */
	if (c->max_large > UINT32_MAX)
		return -EINVAL;
	/* A shorter seen TTL would let a message that is not yet too old
	 * come back after its id was forgotten: delivered twice. */
	if (c->seen_ttl_ms < c->max_age_ms ||
	    c->seen_ttl_ms > UINT64_MAX / NS_PER_MS)
		return -EINVAL;
	return 0;
}

static int io_check(const struct xg_msg_io *io)
{
	if (!io || !io->send || !io->pick || !io->live_count ||
	    !io->deliver || !io->rand64 || !io->now_ms_real)
		return -EINVAL;
	return 0;
}

static int tables_init(struct xg_msgr *m)
{
	const struct xg_msg_config *c = &m->cfg;
	uint64_t r[10];
	size_t i;
	int err;

	for (i = 0; i < 10; i++)
		r[i] = m->io.rand64(m->io.ctx);
	err = xg_seen_init(&m->seen, c->seen_max, c->seen_ttl_ms * NS_PER_MS,
			   r[0], r[1]);
	if (!err)
		err = xg_cache_init(&m->cache, c->cache_max, c->cache_ttl_ns,
				    r[2], r[3]);
	/* A round lives one ack timeout and a want a few: bounding both by
	 * the cache size allows a cache's worth of messages per timeout,
	 * far beyond what UDP datagrams of this size carry.  Large wants
	 * (fetches queued, running or waiting to retry) share the want
	 * bound: a few hundred bytes each, never a body. */
	if (!err)
		err = xg_rounds_init(&m->rounds, c->cache_max, r[4], r[5]);
	if (!err)
		err = xg_wants_init(&m->wants, c->cache_max, r[6], r[7]);
	if (!err)
		err = xg_gaps_init(&m->gaps, XG_MSG_ORIGINS_MAX, r[8], r[9]);
	return err;
}

void xg_msgr_free(struct xg_msgr *m)
{
	if (!m)
		return;
	xg_seen_fini(&m->seen);
	xg_cache_fini(&m->cache);
	xg_rounds_fini(&m->rounds);
	xg_wants_fini(&m->wants);
	xg_gaps_fini(&m->gaps);
	free(m);
}

int xg_msgr_new(struct xg_msgr **out, const struct xg_msg_config *cfg,
		const struct xg_msg_io *io, uint64_t now_ns)
{
	struct xg_msgr *m;
	int err;

	if (!out || !cfg)
		return -EINVAL;
	*out = NULL;
	err = config_check(cfg);
	if (!err)
		err = io_check(io);
	if (err)
		return err;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->io = *io;
	m->now_ns = now_ns;
	m->keys[0].id = cfg->key_id;
	memcpy(m->keys[0].mac, cfg->mac_key, sizeof(m->keys[0].mac));
	m->nkeys = 1;
	err = tables_init(m);
	if (err) {
		xg_msgr_free(m);
		return err;
	}
	*out = m;
	return 0;
}

/* --- keys --------------------------------------------------------------- */

static size_t key_index(const struct xg_msgr *m, uint8_t key_id)
{
	size_t i;

	for (i = 0; i < m->nkeys; i++)
		if (m->keys[i].id == key_id)
			return i;
	return m->nkeys;
}

const struct xg_msg_key *xg_msgr_key_for(const struct xg_msgr *m,
					 uint8_t key_id)
{
	size_t i = key_index(m, key_id);

	return i < m->nkeys ? &m->keys[i] : NULL;
}

/* The new primary goes first and the others keep their order behind it;
 * when the table is full the key installed longest ago falls off the end,
 * which in a rotation is the one every member stopped using first. */
int xg_msgr_set_key(struct xg_msgr *m, uint8_t key_id, const uint8_t key[16])
{
	size_t i;

	if (!m || !key)
		return -EINVAL;
	i = key_index(m, key_id);
	if (i == m->nkeys && m->nkeys < XG_MSG_MAX_KEYS)
		m->nkeys++;
	if (i == m->nkeys)
		i = m->nkeys - 1;
	memmove(&m->keys[1], &m->keys[0], i * sizeof(m->keys[0]));
	m->keys[0].id = key_id;
	memcpy(m->keys[0].mac, key, sizeof(m->keys[0].mac));
	m->cfg.key_id = key_id;
	memcpy(m->cfg.mac_key, key, sizeof(m->cfg.mac_key));
	return 0;
}

int xg_msgr_remove_key(struct xg_msgr *m, uint8_t key_id)
{
	size_t i;

	if (!m)
		return -EINVAL;
	i = key_index(m, key_id);
	if (i == m->nkeys)
		return -ENOENT;
	if (i == 0)
		return -EBUSY;
	memmove(&m->keys[i], &m->keys[i + 1],
		(m->nkeys - i - 1) * sizeof(m->keys[0]));
	m->nkeys--;
	return 0;
}

/* --- time --------------------------------------------------------------- */

/* Deadlines are kept in lists ordered by when they were armed, which is
 * only deadline order if time never runs backwards. */
uint64_t xg_msgr_advance(struct xg_msgr *m, uint64_t now_ns)
{
	if (now_ns > m->now_ns)
		m->now_ns = now_ns;
	return m->now_ns;
}

void xg_msgr_tick(struct xg_msgr *m, uint64_t now_ns)
{
	struct xg_round *rd;
	struct xg_want *wt;
	size_t n;

	if (!m)
		return;
	now_ns = xg_msgr_advance(m, now_ns);
	for (n = 0; n < XG_MSG_TICK_BUDGET; n++) {
		rd = xg_rounds_due(&m->rounds, now_ns);
		if (!rd)
			break;
		xg_msgr_round_expired(m, rd, now_ns);
	}
	for (n = 0; n < XG_MSG_TICK_BUDGET; n++) {
		wt = xg_wants_due(&m->wants, now_ns);
		if (!wt)
			break;
		xg_msgr_want_expired(m, wt, now_ns);
	}
	xg_msgr_fetch_overdue(m, now_ns);
	xg_msgr_fetch_pump(m, now_ns);
	xg_seen_expire(&m->seen, now_ns, XG_MSG_TICK_BUDGET);
	xg_cache_expire(&m->cache, now_ns, XG_MSG_TICK_BUDGET);
	xg_msgr_gauges(m);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t xg_msgr_next_deadline(const struct xg_msgr *m)
{
	uint64_t t;

	if (!m)
		return UINT64_MAX;
	t = min64(xg_rounds_next(&m->rounds), xg_wants_next(&m->wants));
	t = min64(t, xg_seen_next_expiry(&m->seen));
	return min64(t, xg_cache_next_expiry(&m->cache));
}

/* --- queries ------------------------------------------------------------ */

void xg_msgr_gauges(struct xg_msgr *m)
{
	m->st.seen_entries = xg_seen_count(&m->seen);
	m->st.cached = xg_cache_count(&m->cache);
	m->st.rounds_open = xg_rounds_count(&m->rounds);
	m->st.pulls_open = xg_wants_count(&m->wants);
	m->st.origins = xg_gaps_count(&m->gaps);
	m->st.fetches_running = m->wants.nrunning;
	m->st.fetches_queued = m->wants.nqueued;
	m->st.large_wants = m->wants.nlarge;
}

const struct xg_msgr_stats *xg_msgr_stats(const struct xg_msgr *m)
{
	return m ? &m->st : NULL;
}

const struct xg_msg_config *xg_msgr_config(const struct xg_msgr *m)
{
	return m ? &m->cfg : NULL;
}

bool xg_msgr_has_seen(const struct xg_msgr *m,
		      const uint8_t id[XG_MSG_ID_LEN])
{
	return m && id && xg_seen_has(&m->seen, id);
}
