/* SPDX-License-Identifier: MIT */
/*
 * The core's life cycle and its clock: creation, the tick that runs every
 * timer that is due, the earliest deadline for the adapter's sleep, packet
 * dispatch, leave, metadata, and read-only accessors.  The protocol itself
 * lives in the files named after its parts.
 *
 * Time only moves forward inside the core (now_ns is the latest time any
 * call brought in); a caller passing an older time gets the newer one, so a
 * timestamp from a slow path can never make a timer fire twice.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

/* --- helpers shared by the core's files --------------------------------- */

uint64_t xg_rand_below(struct xg_core *c, uint64_t n)
{
	/* Modulo bias is at most n / 2^64: irrelevant for picking peers. */
	return n ? c->io.rand64(c->io.ctx) % n : 0;
}

int xg_send(struct xg_core *c, const struct xg_addr *to, const void *buf,
	    size_t len)
{
	int err = c->io.send(c->io.ctx, to, buf, len);

	if (err < 0) {
		c->stats.tx_errors++;
		return err;
	}
	c->stats.bytes_sent += len;
	return 0;
}

void xg_emit(struct xg_core *c, enum xg_event_type type,
	     const struct xg_member *m, uint64_t now_ns)
{
	struct xg_event ev = { .type = type, .member = &m->info,
			       .now_ns = now_ns };

	if (c->io.on_event)
		c->io.on_event(c->io.ctx, &ev);
}

size_t xg_pick_random(struct xg_core *c, size_t k,
		      bool (*keep)(const struct xg_core *c,
				   const struct xg_member *m, const void *arg),
		      const void *arg)
{
	struct xg_member *tmp;
	size_t n = 0, i, j;

	for (i = 0; i < c->members.n; i++)
		if (keep(c, c->members.v[i], arg))
			c->scratch[n++] = c->members.v[i];
	/* Partial Fisher-Yates: the first k are a uniform sample. */
	for (i = 0; i < k && i < n; i++) {
		j = i + (size_t)xg_rand_below(c, n - i);
		tmp = c->scratch[i];
		c->scratch[i] = c->scratch[j];
		c->scratch[j] = tmp;
	}
	return k < n ? k : n;
}

static uint64_t advance(struct xg_core *c, uint64_t now_ns)
{
	if (now_ns > c->now_ns)
		c->now_ns = now_ns;
	return c->now_ns;
}

/* Next slot on a fixed grid; after a long sleep, restart the grid from
 * now instead of firing once per missed slot. */
static uint64_t next_slot(uint64_t at, uint64_t interval, uint64_t now_ns)
{
	at = xg_sat_add(at, interval);
	return at > now_ns ? at : xg_sat_add(now_ns, interval);
}

/* --- life cycle --------------------------------------------------------- */

static int add_self(struct xg_core *c, const struct xg_core_config *cfg,
		    uint64_t now_ns)
{
	struct xg_update_msg u;

	memset(&u, 0, sizeof(u));
	u.state = XG_ALIVE;
	u.incarnation = cfg->incarnation;
	u.node_id = cfg->self_id;
	u.from_id = cfg->self_id;
	u.addr = cfg->advertise;
	memcpy(u.name, c->name, sizeof(u.name));
	u.meta_len = cfg->meta_len;
	if (cfg->meta_len)
		memcpy(u.meta, cfg->meta, cfg->meta_len);
	c->self = xg_members_add(c, &u, now_ns);
	if (!c->self)
		return -ENOMEM;
	c->self->info.is_self = true;
	c->cfg.meta = c->self->info.meta;
	return 0;
}

int xg_core_new(struct xg_core **out, const struct xg_core_config *cfg,
		const struct xg_core_io *io, uint64_t now_ns)
{
	struct xg_core *c;
	int err;

	if (!out || !io || !io->send || !io->rand64)
		return -EINVAL;
	err = xg_config_check(cfg);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	strncpy(c->name, cfg->name, sizeof(c->name) - 1);
	c->cfg.name = c->name;
	c->io = *io;
	c->now_ns = now_ns;
	c->keys[0].id = cfg->key_id;
	memcpy(c->keys[0].probe, cfg->probe_key, sizeof(c->keys[0].probe));
	memcpy(c->keys[0].mac, cfg->gossip_key, sizeof(c->keys[0].mac));
	c->nkeys = 1;
	err = xg_members_init(&c->members);
	if (!err)
		err = add_self(c, cfg, now_ns);
	if (err) {
		xg_core_free(c);
		return err;
	}
	/* Our own ALIVE waits in the queue until there is someone to tell:
	 * after a join the new node spreads news of itself too, instead of
	 * leaving the seed as the only source. */
	err = xg_dissem_queue(c, c->self, c->self->info.id);
	if (err) {
		xg_core_free(c);
		return err;
	}
	c->next_seq = (uint32_t)io->rand64(io->ctx);
	/* Nodes started together must not probe in lockstep. */
	c->next_probe_ns = now_ns + xg_rand_below(c, cfg->probe_interval_ns);
	c->next_gossip_ns = xg_sat_add(now_ns, cfg->gossip_interval_ns);
	c->next_pushpull_ns = xg_sat_add(now_ns, cfg->pushpull_interval_ns);
	*out = c;
	return 0;
}

void xg_core_free(struct xg_core *c)
{
	if (!c)
		return;
	xg_dissem_free(&c->dissem);
	xg_members_free(&c->members);
	xg_order_free(&c->order);
	free(c->scratch);
	free(c);
}

/* --- timers ------------------------------------------------------------- */

/* A member that says it is starved (XG_UF_STARVED) sheds push/pulls, its
 * own and ours: choosing it would waste the round and spend CPU it lacks
 * on a refused connection.  It is passed over while anyone else is alive
 * (*with_starved false), and chosen only when every candidate is starved,
 * so that a cluster whose members all are still repairs itself. */
static bool pushpull_peer(const struct xg_core *c, const struct xg_member *m,
			  const void *arg)
{
	const bool *with_starved = arg;

	(void)c;
	return !m->info.is_self && m->info.state == XG_ALIVE &&
	       (*with_starved || !(m->info.flags & XG_UF_STARVED));
}

static bool pushpull_enabled(const struct xg_core *c)
{
	return c->cfg.pushpull_interval_ns && c->io.want_pushpull && !c->left;
}

static void pushpull_tick(struct xg_core *c, uint64_t now_ns)
{
	static const bool no = false, yes = true;

	if (!pushpull_enabled(c) || now_ns < c->next_pushpull_ns)
		return;
	c->next_pushpull_ns = next_slot(c->next_pushpull_ns,
					c->cfg.pushpull_interval_ns, now_ns);
	if (xg_pick_random(c, 1, pushpull_peer, &no) ||
	    xg_pick_random(c, 1, pushpull_peer, &yes))
		c->io.want_pushpull(c->io.ctx, &c->scratch[0]->info.addr);
}

void xg_pushpull_evidence(struct xg_core *c, const struct xg_addr *to,
			  uint64_t now_ns)
{
	if (!pushpull_enabled(c) ||
	    (c->evidence_pushpull_ns &&
	     now_ns < xg_sat_add(c->evidence_pushpull_ns,
				 c->cfg.probe_interval_ns)))
		return;
	c->evidence_pushpull_ns = now_ns;
	c->io.want_pushpull(c->io.ctx, to);
}

void xg_core_tick(struct xg_core *c, uint64_t now_ns)
{
	now_ns = advance(c, now_ns);
	xg_indirect_tick(c, now_ns);
	xg_probe_tick(c, now_ns);
	xg_suspicion_tick(c, now_ns);
	/* After probes and suspicions, so their news leaves in this round. */
	if (now_ns >= c->next_gossip_ns) {
		xg_gossip_round(c, now_ns);
		c->next_gossip_ns = next_slot(c->next_gossip_ns,
					      c->cfg.gossip_interval_ns, now_ns);
	}
	pushpull_tick(c, now_ns);
	xg_members_reap(c, now_ns);
	xg_gossip_urgent_flush(c, now_ns);
}

uint64_t xg_core_next_deadline(const struct xg_core *c)
{
	uint64_t d = xg_probe_deadline(c);

	d = xg_min64(d, xg_indirect_deadline(c));
	d = xg_min64(d, xg_suspicion_deadline(c));
	d = xg_min64(d, xg_members_reap_deadline(c));
	/* No news or nobody to tell, no gossip round: an idle agent sleeps
	 * until its next probe.  A round overdue when news arrives runs at
	 * once. */
	if (xg_dissem_len(c) && xg_gossip_has_targets(c))
		d = xg_min64(d, c->next_gossip_ns);
	if (pushpull_enabled(c))
		d = xg_min64(d, c->next_pushpull_ns);
	return d;
}

/* --- packets ------------------------------------------------------------ */

static int dispatch(struct xg_core *c, const struct xg_addr *from,
		    const void *buf, size_t len, uint64_t rx_ns)
{
	uint64_t cluster_id;
	uint8_t type;
	int err;

	err = xg_peek_header(buf, len, &type, &cluster_id);
	if (err)
		return err;
	if (cluster_id != c->cfg.cluster_id)
		return -EXDEV;
	switch (type) {
	case XG_T_PING:
	case XG_T_ACK:
	case XG_T_NACK:
		return xg_rx_probe(c, from, buf, len, rx_ns);
	case XG_T_PING_REQ:
		return xg_rx_ping_req(c, from, buf, len);
	case XG_T_GOSSIP:
		return xg_gossip_on_packet(c, buf, len, c->now_ns);
	default:
		/* STATE travels over TCP only; user messages are not
		 * handled by this core. */
		return -EPROTO;
	}
}

int xg_core_on_packet(struct xg_core *c, const struct xg_addr *from,
		      const void *buf, size_t len, uint64_t rx_ns)
{
	int err;

	if (!c || !from || (!buf && len))
		return -EINVAL;
	advance(c, rx_ns);
	c->stats.bytes_recv += len;
	err = dispatch(c, from, buf, len, rx_ns);
	if (err && err != -ENOMEM)
		c->stats.rx_bad++;
	xg_gossip_urgent_flush(c, c->now_ns);
	return err;
}

int xg_core_set_keys(struct xg_core *c, const struct xg_core_key *keys,
		     size_t n)
{
	size_t i, j;

	if (!c || !keys || n == 0 || n > XG_CORE_MAX_KEYS)
		return -EINVAL;
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (keys[i].id == keys[j].id)
				return -EINVAL;
	memcpy(c->keys, keys, n * sizeof(*keys));
	c->nkeys = n;
	c->cfg.key_id = keys[0].id;
	memcpy(c->cfg.probe_key, keys[0].probe, sizeof(c->cfg.probe_key));
	memcpy(c->cfg.gossip_key, keys[0].mac, sizeof(c->cfg.gossip_key));
	return 0;
}

const struct xg_core_key *xg_key_for(const struct xg_core *c, const void *buf,
				     size_t len)
{
	uint8_t id;
	size_t i;

	if (len < sizeof(struct xg_hdr))
		return NULL;
	id = ((const uint8_t *)buf)[offsetof(struct xg_hdr, key_id)];
	for (i = 0; i < c->nkeys; i++)
		if (c->keys[i].id == id)
			return &c->keys[i];
	return NULL;
}

void xg_core_on_refused(struct xg_core *c, const struct xg_addr *to,
			uint64_t now_ns)
{
	unsigned n;

	if (!c || !to)
		return;
	now_ns = advance(c, now_ns);
	n = xg_indirect_on_refused(c, to);
	if (xg_probe_on_refused(c, to, now_ns))
		n++;
	c->stats.pings_refused += n;
	xg_gossip_urgent_flush(c, now_ns);
}

void xg_core_suspected_notice(struct xg_core *c, uint64_t now_ns)
{
	now_ns = advance(c, now_ns);
	xg_buddy_notice(c, 0, now_ns);
	xg_gossip_urgent_flush(c, now_ns);
}

/* --- leave and metadata ------------------------------------------------- */

int xg_core_leave(struct xg_core *c, uint64_t now_ns)
{
	struct xg_member *self = c->self;

	if (c->left)
		return -EALREADY;
	if (self->info.incarnation == UINT32_MAX)
		return -EOVERFLOW;
	now_ns = advance(c, now_ns);
	c->left = true;
	/* Counted from here on and never reset, so leave_spread() cannot
	 * turn false again once the adapter saw it true. */
	c->leave_sent = 0;
	c->leave_exhausted = false;
	c->probe.active = false;
	memset(c->indirect, 0, sizeof(c->indirect));
	self->info.incarnation++;
	self->from_id = self->info.id;
	xg_member_set_state(c, self, XG_LEFT, now_ns);
	if (xg_dissem_queue(c, self, self->info.id))
		return -ENOMEM;
	/* Do not wait for the next round: the adapter is about to exit. */
	xg_gossip_round(c, now_ns);
	c->next_gossip_ns = xg_sat_add(now_ns, c->cfg.gossip_interval_ns);
	return 0;
}

bool xg_core_leave_spread(const struct xg_core *c)
{
	size_t others, need;

	if (!c->left)
		return false;
	/* Self is LEFT, so these are all other members. */
	others = xg_members_live(&c->members);
	need = 2 * (others < c->cfg.gossip_nodes ? others : c->cfg.gossip_nodes);
	return others == 0 || c->leave_sent >= need || c->leave_exhausted;
}

int xg_core_set_meta(struct xg_core *c, const void *meta, uint16_t len,
		     uint64_t now_ns)
{
	struct xg_member *self = c->self;

	if (len > XG_META_MAX || (len && !meta))
		return -EINVAL;
	if (c->left)
		return -ESHUTDOWN;
	if (self->info.incarnation == UINT32_MAX)
		return -EOVERFLOW;
	now_ns = advance(c, now_ns);
	/* meta may be our own buffer (xg_core_config()->meta). */
	if (len)
		memmove(self->info.meta, meta, len);
	self->info.meta_len = len;
	c->cfg.meta_len = len;
	self->info.incarnation++;
	return xg_dissem_queue(c, self, self->info.id);
}

int xg_core_set_starved(struct xg_core *c, bool starved, uint64_t now_ns)
{
	struct xg_member *self = c->self;
	uint8_t flags = starved ? self->info.flags | XG_UF_STARVED :
				  self->info.flags & ~XG_UF_STARVED;

	if (flags == self->info.flags)
		return 0;
	if (c->left)
		return -ESHUTDOWN;
	if (self->info.incarnation == UINT32_MAX)
		return -EOVERFLOW;
	(void)advance(c, now_ns);
	/* The flag belongs to an incarnation, like the metadata: a new one
	 * carries it to every member, and is a refutation too. */
	self->info.flags = flags;
	self->info.incarnation++;
	return xg_dissem_queue(c, self, self->info.id);
}

/* --- accessors ---------------------------------------------------------- */

size_t xg_core_member_count(const struct xg_core *c)
{
	return c->members.n;
}

int xg_core_member_at(const struct xg_core *c, size_t i,
		      struct xg_member_info *out)
{
	if (i >= c->members.n || !out)
		return -ENOENT;
	*out = c->members.v[i]->info;
	return 0;
}

int xg_core_member_find(const struct xg_core *c, uint64_t id,
			struct xg_member_info *out)
{
	const struct xg_member *m = xg_members_find(&c->members, id);

	if (!m)
		return -ENOENT;
	if (out)
		*out = m->info;
	return 0;
}

static bool live_other(const struct xg_core *c, const struct xg_member *m,
		       const void *arg)
{
	uint64_t exclude = *(const uint64_t *)arg;

	(void)c;
	return !m->info.is_self && m->info.id != exclude &&
	       (m->info.state == XG_ALIVE || m->info.state == XG_SUSPECT);
}

size_t xg_core_pick_live(struct xg_core *c, size_t k, uint64_t exclude,
			 uint64_t *out)
{
	size_t n = xg_pick_random(c, k, live_other, &exclude), i;

	for (i = 0; i < n; i++)
		out[i] = c->scratch[i]->info.id;
	return n;
}

size_t xg_core_live_others(const struct xg_core *c)
{
	size_t live = xg_members_live(&c->members);
	bool self_live = c->self->info.state == XG_ALIVE ||
			 c->self->info.state == XG_SUSPECT;

	return live - (self_live && live ? 1 : 0);
}

size_t xg_core_count_state(const struct xg_core *c, enum xg_state s)
{
	if (s < XG_ALIVE || s > XG_LEFT)
		return 0;
	return c->members.by_state[s];
}

const struct xg_member_info *xg_core_self(const struct xg_core *c)
{
	return &c->self->info;
}

const struct xg_core_stats *xg_core_stats(const struct xg_core *c)
{
	return &c->stats;
}

const struct xg_core_config *xg_core_config(const struct xg_core *c)
{
	return &c->cfg;
}
