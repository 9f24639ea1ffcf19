/* SPDX-License-Identifier: MIT */
/*
 * The cluster simulator (see sim.h).  Node i has the address
 * 198.18.x.y:7946 with x*256 + y = i + 1, so the address alone says which
 * node a datagram is for, exactly as in the namespace tests' address plan.
 */
#include "sim.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIM_PORT    7946
#define SIM_CLUSTER 0x5851c0ffee000001ULL
/* A core that keeps asking to run at the same instant is stuck in a
 * loop; fail loudly rather than hang the test. */
#define SIM_MAX_SPINS 100000

struct sim_pkt {
	uint64_t at, seq;
	unsigned from, to;
	size_t   len;
	uint8_t *data;
};

struct sim_node {
	struct sim           *s;
	unsigned              idx;
	struct xg_core       *core;
	struct xg_core_config cfg;
	char                  name[XG_NAME_MAX];
	struct xg_addr        addr;
	uint64_t              rng;
	bool                  frozen, isolated;
	uint64_t              max_lag;  /* sim_lag(); 0: on time */
	uint64_t              wake_at;  /* end of the current stall, or 0 */
	struct sim_pkt       *backlog;
	size_t                nbacklog, capbacklog;
	struct sim_event     *ev;
	size_t                nev, capev;
};

struct sim_pp {
	unsigned from, to;
};

struct sim {
	struct sim_opts  o;
	uint64_t         now, rng, pkt_seq;
	unsigned         n;
	struct sim_node *nodes;
	bool            *link_down; /* n * n, [from * n + to] */
	uint8_t         *link_loss; /* n * n, percent */
	struct sim_pkt  *heap;
	size_t           nheap, capheap;
	struct sim_pp   *pp;
	size_t           npp, cappp;
	sim_tap_fn       tap;
	void            *tap_ctx;
};

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t splitmix(uint64_t *st)
{
	return mix64(*st += 0x9e3779b97f4a7c15ULL);
}

/* Independent streams per node.  SplitMix64 walks its state in steps of
 * one constant, so states like seed ^ (constant * i) would give every node
 * the same sequence shifted by i steps: correlated choices across nodes.
 * Hashing the (seed, stream) pair lands each stream at an unrelated point
 * of the cycle. */
static uint64_t stream_seed(uint64_t seed, uint64_t stream)
{
	return mix64(mix64(seed) ^ mix64(stream + 0x632be59bd9b4e019ULL));
}

/* Grow *arr (of elem bytes each) to hold want; 0 or -ENOMEM. */
static int grow(void **arr, size_t *cap, size_t want, size_t elem)
{
	size_t ncap = *cap ? *cap : 16;
	void *p;

	if (want <= *cap)
		return 0;
	while (ncap < want)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

/* --- the network: a min-heap of datagrams on (arrival, send order) ------ */

static bool pkt_before(const struct sim_pkt *a, const struct sim_pkt *b)
{
	return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static void heap_swap(struct sim *s, size_t i, size_t j)
{
	struct sim_pkt t = s->heap[i];

	s->heap[i] = s->heap[j];
	s->heap[j] = t;
}

static int heap_push(struct sim *s, const struct sim_pkt *p)
{
	size_t i;

	if (grow((void **)&s->heap, &s->capheap, s->nheap + 1, sizeof(*p)))
		return -ENOMEM;
	i = s->nheap++;
	s->heap[i] = *p;
	while (i > 0 && pkt_before(&s->heap[i], &s->heap[(i - 1) / 2])) {
		heap_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	return 0;
}

static struct sim_pkt heap_pop(struct sim *s)
{
	struct sim_pkt top = s->heap[0];
	size_t i = 0, l, r, m;

	s->heap[0] = s->heap[--s->nheap];
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < s->nheap && pkt_before(&s->heap[l], &s->heap[m]))
			m = l;
		if (r < s->nheap && pkt_before(&s->heap[r], &s->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(s, i, m);
		i = m;
	}
	return top;
}

static int addr_to_idx(const struct sim *s, const struct xg_addr *a)
{
	unsigned idx;

	if (a->family != 4 || a->ip[0] != 198 || a->ip[1] != 18 ||
	    a->port != SIM_PORT)
		return -1;
	idx = ((unsigned)a->ip[2] << 8 | a->ip[3]);
	if (idx == 0 || idx > s->n)
		return -1;
	return (int)idx - 1;
}

/* --- the io callbacks a core sees --------------------------------------- */

static int sim_send(void *ctx, const struct xg_addr *to, const void *buf,
		    size_t len)
{
	struct sim_node *node = ctx;
	struct sim *s = node->s;
	struct sim_pkt p;
	int dst;

	if (s->tap)
		s->tap(s->tap_ctx, node->idx, to, buf, len);
	dst = addr_to_idx(s, to);
	/* Like UDP: an unreachable address is silent loss, not an error. */
	if (dst < 0 || node->isolated || s->nodes[dst].isolated ||
	    s->link_down[node->idx * s->n + (unsigned)dst])
		return 0;
	if (s->o.loss_pct && splitmix(&s->rng) % 100 < s->o.loss_pct)
		return 0;
	if (s->link_loss[node->idx * s->n + (unsigned)dst] &&
	    splitmix(&s->rng) % 100 <
		    s->link_loss[node->idx * s->n + (unsigned)dst])
		return 0;
	p.at = s->now + s->o.delay_ns +
	       (s->o.jitter_ns ? splitmix(&s->rng) % s->o.jitter_ns : 0);
	p.seq = s->pkt_seq++;
	p.from = node->idx;
	p.to = (unsigned)dst;
	p.len = len;
	p.data = malloc(len ? len : 1);
	if (!p.data)
		return -ENOMEM;
	memcpy(p.data, buf, len);
	if (heap_push(s, &p)) {
		free(p.data);
		return -ENOMEM;
	}
	return 0;
}

static void sim_on_event(void *ctx, const struct xg_event *ev)
{
	struct sim_node *node = ctx;
	struct sim_event *e;

	if (grow((void **)&node->ev, &node->capev, node->nev + 1,
		 sizeof(*node->ev))) {
		fprintf(stderr, "sim: out of memory recording an event\n");
		abort();
	}
	e = &node->ev[node->nev++];
	e->t = ev->now_ns;
	e->type = ev->type;
	e->id = ev->member->id;
	e->state = ev->member->state;
	e->incarnation = ev->member->incarnation;
}

static uint64_t sim_rand64(void *ctx)
{
	struct sim_node *node = ctx;

	return splitmix(&node->rng);
}

static void sim_want_pushpull(void *ctx, const struct xg_addr *to)
{
	struct sim_node *node = ctx;
	struct sim *s = node->s;
	int dst = addr_to_idx(s, to);

	if (!s->o.auto_pushpull || dst < 0)
		return;
	if (grow((void **)&s->pp, &s->cappp, s->npp + 1, sizeof(*s->pp)))
		return;
	s->pp[s->npp].from = node->idx;
	s->pp[s->npp].to = (unsigned)dst;
	s->npp++;
}

/* --- setup ---------------------------------------------------------------- */

static void node_init(struct sim *s, unsigned i)
{
	struct sim_node *node = &s->nodes[i];

	node->s = s;
	node->idx = i;
	node->rng = stream_seed(s->o.seed, i + 1);
	node->addr.family = 4;
	node->addr.port = SIM_PORT;
	node->addr.ip[0] = 198;
	node->addr.ip[1] = 18;
	node->addr.ip[2] = (uint8_t)((i + 1) >> 8);
	node->addr.ip[3] = (uint8_t)(i + 1);
	if (s->o.base) {
		node->cfg = *s->o.base;
	} else {
		xg_core_config_defaults(&node->cfg);
		memset(node->cfg.probe_key, 0x5a, sizeof(node->cfg.probe_key));
		memset(node->cfg.gossip_key, 0xa5, sizeof(node->cfg.gossip_key));
	}
	snprintf(node->name, sizeof(node->name), "node-%u", i);
	node->cfg.name = node->name;
	node->cfg.self_id = 1000 + i;
	node->cfg.cluster_id = SIM_CLUSTER;
	node->cfg.advertise = node->addr;
}

struct sim *sim_new(const struct sim_opts *o)
{
	const char *env;
	struct sim *s;
	unsigned i;

	if (!o || o->nodes == 0 || o->nodes > 60000)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->o = *o;
	/* Sweeping seeds from the shell checks that a scenario holds for
	 * many runs, not just for the one the test pins. */
	env = getenv("XG_SIM_SEED");
	if (env)
		s->o.seed ^= mix64(strtoull(env, NULL, 0));
	if (!s->o.delay_ns)
		s->o.delay_ns = SIM_MS(1);
	s->n = o->nodes;
	s->rng = stream_seed(s->o.seed, 0);
	s->nodes = calloc(s->n, sizeof(*s->nodes));
	s->link_down = calloc((size_t)s->n * s->n, sizeof(*s->link_down));
	s->link_loss = calloc((size_t)s->n * s->n, sizeof(*s->link_loss));
	if (!s->nodes || !s->link_down || !s->link_loss) {
		sim_free(s);
		return NULL;
	}
	for (i = 0; i < s->n; i++)
		node_init(s, i);
	for (i = 0; i < s->n; i++) {
		if (sim_start(s, i)) {
			sim_free(s);
			return NULL;
		}
	}
	return s;
}

static void backlog_clear(struct sim_node *node)
{
	size_t k;

	for (k = 0; k < node->nbacklog; k++)
		free(node->backlog[k].data);
	node->nbacklog = 0;
}

void sim_free(struct sim *s)
{
	unsigned i;
	size_t k;

	if (!s)
		return;
	for (i = 0; s->nodes && i < s->n; i++) {
		xg_core_free(s->nodes[i].core);
		backlog_clear(&s->nodes[i]);
		free(s->nodes[i].backlog);
		free(s->nodes[i].ev);
	}
	for (k = 0; k < s->nheap; k++)
		free(s->heap[k].data);
	free(s->heap);
	free(s->pp);
	free(s->link_down);
	free(s->link_loss);
	free(s->nodes);
	free(s);
}

uint64_t sim_now(const struct sim *s)
{
	return s->now;
}

unsigned sim_nodes(const struct sim *s)
{
	return s->n;
}

uint64_t sim_id(const struct sim *s, unsigned i)
{
	return s->nodes[i].cfg.self_id;
}

const struct xg_addr *sim_addr(const struct sim *s, unsigned i)
{
	return &s->nodes[i].addr;
}

struct xg_core *sim_core(struct sim *s, unsigned i)
{
	return s->nodes[i].core;
}

struct xg_core_config *sim_config(struct sim *s, unsigned i)
{
	return &s->nodes[i].cfg;
}

void sim_set_name(struct sim *s, unsigned i, const char *name)
{
	struct sim_node *node = &s->nodes[i];

	snprintf(node->name, sizeof(node->name), "%s", name);
	node->cfg.name = node->name;
}

int sim_start(struct sim *s, unsigned i)
{
	struct sim_node *node = &s->nodes[i];
	struct xg_core_io io = {
		.ctx = node,
		.send = sim_send,
		.on_event = sim_on_event,
		.rand64 = sim_rand64,
		.want_pushpull = sim_want_pushpull,
	};

	if (node->core)
		return -EBUSY;
	return xg_core_new(&node->core, &node->cfg, &io, s->now);
}

void sim_stop(struct sim *s, unsigned i)
{
	struct sim_node *node = &s->nodes[i];

	xg_core_free(node->core);
	node->core = NULL;
	node->frozen = false;
	node->wake_at = 0;
	backlog_clear(node);
}

void sim_isolate(struct sim *s, unsigned i, bool isolated)
{
	s->nodes[i].isolated = isolated;
}

static void deliver(struct sim *s, struct sim_pkt *p)
{
	struct sim_node *node = &s->nodes[p->to];

	(void)xg_core_on_packet(node->core, &s->nodes[p->from].addr, p->data,
				p->len, p->at);
	free(p->data);
}

void sim_freeze(struct sim *s, unsigned i, bool frozen)
{
	struct sim_node *node = &s->nodes[i];
	size_t k;

	node->frozen = frozen;
	if (frozen || !node->core)
		return;
	/* What sat in the socket buffer is read first, with the kernel
	 * timestamps it got on arrival. */
	for (k = 0; k < node->nbacklog; k++)
		deliver(s, &node->backlog[k]);
	node->nbacklog = 0;
}

void sim_lag(struct sim *s, unsigned i, uint64_t max_lag_ns)
{
	struct sim_node *node = &s->nodes[i];

	node->max_lag = max_lag_ns;
	if (max_lag_ns)
		return;
	/* Back on time: whatever waited is read now. */
	node->wake_at = 0;
	if (node->core && !node->frozen)
		sim_freeze(s, i, false);
}

void sim_link(struct sim *s, unsigned a, unsigned b, bool up)
{
	s->link_down[a * s->n + b] = !up;
	s->link_down[b * s->n + a] = !up;
}

void sim_link_loss(struct sim *s, unsigned a, unsigned b, unsigned pct)
{
	uint8_t v = (uint8_t)(pct > 100 ? 100 : pct);

	s->link_loss[a * s->n + b] = v;
	s->link_loss[b * s->n + a] = v;
}

void sim_set_tap(struct sim *s, sim_tap_fn fn, void *ctx)
{
	s->tap = fn;
	s->tap_ctx = ctx;
}

/* --- push/pull ------------------------------------------------------------ */

static bool reachable(const struct sim *s, unsigned a, unsigned b)
{
	const struct sim_node *na = &s->nodes[a], *nb = &s->nodes[b];

	return na->core && nb->core && !na->frozen && !nb->frozen &&
	       !na->isolated && !nb->isolated && !s->link_down[a * s->n + b];
}

static int push(struct sim *s, unsigned from, unsigned to, uint8_t flags)
{
	struct xg_core *src = s->nodes[from].core;
	size_t cap = xg_core_state_size(src);
	uint8_t *buf = malloc(cap);
	ssize_t len;
	int err;

	if (!buf)
		return -ENOMEM;
	len = xg_core_state_encode(src, flags, buf, cap);
	err = len < 0 ? (int)len
		      : xg_core_state_merge(s->nodes[to].core, buf,
					    (size_t)len, s->now);
	free(buf);
	return err;
}

int sim_pushpull(struct sim *s, unsigned a, unsigned b)
{
	int err;

	if (!reachable(s, a, b))
		return -EHOSTUNREACH;
	err = push(s, a, b, XG_F_JOIN);
	if (!err)
		err = push(s, b, a, XG_F_REPLY);
	return err;
}

int sim_join_range(struct sim *s, unsigned first, unsigned last,
		   unsigned seed, uint64_t gap_ns)
{
	unsigned i;
	int err;

	for (i = first; i <= last; i++) {
		err = sim_pushpull(s, i, seed);
		if (err)
			return err;
		sim_run_for(s, gap_ns);
	}
	return 0;
}

static void run_pushpulls(struct sim *s)
{
	size_t k;

	/* Requests made while these run wait for the next instant. */
	for (k = 0; k < s->npp; k++)
		(void)sim_pushpull(s, s->pp[k].from, s->pp[k].to);
	s->npp = 0;
}

/* --- the event loop -------------------------------------------------------- */

static bool runnable(const struct sim_node *node)
{
	return node->core && !node->frozen;
}

/* When a lagging node next has something to do, before its stall. */
static uint64_t lag_due(const struct sim_node *node)
{
	uint64_t d = xg_core_next_deadline(node->core);

	/* The backlog is in arrival order. */
	if (node->nbacklog && node->backlog[0].at < d)
		d = node->backlog[0].at;
	return d;
}

static uint64_t next_time(const struct sim *s)
{
	uint64_t t = s->nheap ? s->heap[0].at : UINT64_MAX;
	uint64_t d;
	unsigned i;

	if (s->npp)
		return s->now;
	for (i = 0; i < s->n; i++) {
		if (!runnable(&s->nodes[i]))
			continue;
		if (s->nodes[i].wake_at)
			d = s->nodes[i].wake_at;
		else if (s->nodes[i].max_lag)
			d = lag_due(&s->nodes[i]);
		else
			d = xg_core_next_deadline(s->nodes[i].core);
		if (d < s->now)
			d = s->now;
		if (d < t)
			t = d;
	}
	return t;
}

static void deliver_due(struct sim *s)
{
	while (s->nheap && s->heap[0].at <= s->now) {
		struct sim_pkt p = heap_pop(s);
		struct sim_node *node = &s->nodes[p.to];

		if (!node->core) {
			free(p.data);
		} else if (node->frozen || node->max_lag) {
			if (grow((void **)&node->backlog, &node->capbacklog,
				 node->nbacklog + 1, sizeof(p)))
				free(p.data);
			else
				node->backlog[node->nbacklog++] = p;
		} else {
			deliver(s, &p);
		}
	}
}

/* A lagging node's turn: start a stall when it has work, and at the end
 * of the stall read what arrived (with arrival times), then tick. */
static bool lag_turn(struct sim *s, struct sim_node *node)
{
	size_t k;

	if (!node->wake_at) {
		if (lag_due(node) > s->now)
			return false;
		node->wake_at = s->now + splitmix(&s->rng) % (node->max_lag + 1);
		/* A zero stall still counts as a wake-up, at once. */
		if (node->wake_at == 0)
			node->wake_at = 1;
	}
	if (node->wake_at > s->now)
		return false;
	node->wake_at = 0;
	for (k = 0; k < node->nbacklog; k++)
		deliver(s, &node->backlog[k]);
	node->nbacklog = 0;
	return xg_core_next_deadline(node->core) <= s->now;
}

static void tick_due(struct sim *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++) {
		struct sim_node *node = &s->nodes[i];

		if (!runnable(node))
			continue;
		if (node->max_lag ? !lag_turn(s, node)
				  : xg_core_next_deadline(node->core) > s->now)
			continue;
		xg_core_tick(node->core, s->now);
		/* A tick must leave nothing due at the same instant, or an
		 * adapter sleeping until the deadline would spin. */
		if (node->core && xg_core_next_deadline(node->core) <= s->now) {
			fprintf(stderr, "sim: node %u still due at %llu\n", i,
				(unsigned long long)s->now);
			abort();
		}
	}
}

void sim_run_until(struct sim *s, uint64_t t)
{
	unsigned spins = 0;
	uint64_t next;

	for (;;) {
		next = next_time(s);
		if (next > t)
			break;
		spins = next == s->now ? spins + 1 : 0;
		if (spins > SIM_MAX_SPINS) {
			fprintf(stderr, "sim: no progress at %llu\n",
				(unsigned long long)s->now);
			abort();
		}
		s->now = next;
		deliver_due(s);
		tick_due(s);
		run_pushpulls(s);
	}
	if (t > s->now)
		s->now = t;
}

void sim_run_for(struct sim *s, uint64_t dt)
{
	sim_run_until(s, s->now + dt);
}

bool sim_run_until_true(struct sim *s, bool (*pred)(struct sim *s, void *ctx),
			void *ctx, uint64_t step_ns, uint64_t limit)
{
	while (!pred(s, ctx)) {
		if (s->now >= limit)
			return false;
		sim_run_until(s, s->now + step_ns < limit ? s->now + step_ns
							  : limit);
	}
	return true;
}

/* --- observations ---------------------------------------------------------- */

size_t sim_event_count(const struct sim *s, unsigned i)
{
	return s->nodes[i].nev;
}

const struct sim_event *sim_event_at(const struct sim *s, unsigned i,
				     size_t k)
{
	return k < s->nodes[i].nev ? &s->nodes[i].ev[k] : NULL;
}

size_t sim_count(const struct sim *s, unsigned i, enum xg_event_type type,
		 uint64_t id)
{
	const struct sim_node *node = &s->nodes[i];
	size_t k, n = 0;

	for (k = 0; k < node->nev; k++)
		if (node->ev[k].type == type && (!id || node->ev[k].id == id))
			n++;
	return n;
}

void sim_clear_events(struct sim *s)
{
	unsigned i;

	for (i = 0; i < s->n; i++)
		s->nodes[i].nev = 0;
}

int sim_member(struct sim *s, unsigned i, uint64_t id,
	       struct xg_member_info *out)
{
	if (!s->nodes[i].core)
		return -ENOENT;
	return xg_core_member_find(s->nodes[i].core, id, out);
}

bool sim_all_see(struct sim *s, uint64_t id, enum xg_state st,
		 unsigned except)
{
	struct xg_member_info mi;
	unsigned i;

	for (i = 0; i < s->n; i++) {
		if (i == except || !s->nodes[i].core)
			continue;
		if (sim_member(s, i, id, &mi) || mi.state != st)
			return false;
	}
	return true;
}

bool sim_converged(struct sim *s)
{
	unsigned j;

	for (j = 0; j < s->n; j++)
		if (s->nodes[j].core &&
		    !sim_all_see(s, sim_id(s, j), XG_ALIVE, UINT32_MAX))
			return false;
	return true;
}
