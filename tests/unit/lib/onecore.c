/* SPDX-License-Identifier: MIT */
#include "onecore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int oc_send(void *ctx, const struct xg_addr *to, const void *buf,
		   size_t len)
{
	struct onecore *o = ctx;
	struct oc_pkt *p;

	if (o->send_err)
		return o->send_err;
	if (len > XG_UDP_MAX ||
	    grow((void **)&o->sent, &o->capsent, o->nsent + 1, sizeof(*p)))
		return -EMSGSIZE;
	p = &o->sent[o->nsent++];
	p->to = *to;
	p->len = len;
	memcpy(p->data, buf, len);
	return 0;
}

static void oc_on_event(void *ctx, const struct xg_event *ev)
{
	struct onecore *o = ctx;
	struct oc_event *e;

	if (grow((void **)&o->ev, &o->capev, o->nev + 1, sizeof(*e)))
		abort();
	e = &o->ev[o->nev++];
	e->type = ev->type;
	e->id = ev->member->id;
	e->state = ev->member->state;
	e->incarnation = ev->member->incarnation;
}

static uint64_t oc_rand64(void *ctx)
{
	struct onecore *o = ctx;
	uint64_t z = (o->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void oc_want_pushpull(void *ctx, const struct xg_addr *to)
{
	struct onecore *o = ctx;

	o->pushpull_wants++;
	o->pushpull_to = *to;
}

void oc_addr(struct xg_addr *a, unsigned host)
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	a->port = 7946;
	a->ip[0] = 198;
	a->ip[1] = 18;
	a->ip[2] = (uint8_t)(host >> 8);
	a->ip[3] = (uint8_t)host;
}

void oc_config(struct xg_core_config *cfg)
{
	xg_core_config_defaults(cfg);
	cfg->cluster_id = OC_CLUSTER;
	cfg->self_id = OC_SELF_ID;
	cfg->name = "self";
	oc_addr(&cfg->advertise, 1);
	memset(cfg->probe_key, 0x11, sizeof(cfg->probe_key));
	memset(cfg->gossip_key, 0x22, sizeof(cfg->gossip_key));
}

int oc_start(struct onecore *o, const struct xg_core_config *cfg,
	     uint64_t now_ns)
{
	struct xg_core_io io = {
		.ctx = o,
		.send = oc_send,
		.on_event = oc_on_event,
		.rand64 = oc_rand64,
		.want_pushpull = oc_want_pushpull,
	};

	memset(o, 0, sizeof(*o));
	if (cfg)
		o->cfg = *cfg;
	else
		oc_config(&o->cfg);
	o->rng = 42;
	return xg_core_new(&o->core, &o->cfg, &io, now_ns);
}

void oc_stop(struct onecore *o)
{
	xg_core_free(o->core);
	free(o->sent);
	free(o->ev);
	memset(o, 0, sizeof(*o));
}

void oc_clear(struct onecore *o)
{
	o->nsent = 0;
	o->nev = 0;
}

static uint8_t pkt_type(const struct oc_pkt *p)
{
	uint8_t type = 0;

	if (xg_peek_header(p->data, p->len, &type, NULL))
		return 0;
	return type;
}

const struct oc_pkt *oc_find(const struct onecore *o, uint8_t type, size_t k)
{
	size_t i;

	for (i = 0; i < o->nsent; i++)
		if (pkt_type(&o->sent[i]) == type && k-- == 0)
			return &o->sent[i];
	return NULL;
}

size_t oc_count_sent(const struct onecore *o, uint8_t type)
{
	size_t i, n = 0;

	for (i = 0; i < o->nsent; i++)
		if (pkt_type(&o->sent[i]) == type)
			n++;
	return n;
}

size_t oc_count_events(const struct onecore *o, enum xg_event_type type,
		       uint64_t id)
{
	size_t i, n = 0;

	for (i = 0; i < o->nev; i++)
		if (o->ev[i].type == type && (!id || o->ev[i].id == id))
			n++;
	return n;
}

void oc_update(struct xg_update_msg *u, uint8_t state, uint64_t id,
	       uint32_t inc, uint64_t from)
{
	memset(u, 0, sizeof(*u));
	u->state = state;
	u->node_id = id;
	u->incarnation = inc;
	u->from_id = from;
	oc_addr(&u->addr, (unsigned)(id & 0xffff));
	snprintf(u->name, sizeof(u->name), "peer-%llu",
		 (unsigned long long)id);
}

ssize_t oc_batch(uint8_t type, uint64_t cluster, const uint8_t key[16],
		 const struct xg_update_msg *u, size_t n, void *buf,
		 size_t cap)
{
	struct xg_batch b;
	size_t i;
	int err;

	err = xg_batch_begin(&b, type, 0, cluster, 200, buf, cap);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		err = xg_batch_add(&b, &u[i]);
		if (err)
			return err;
	}
	return xg_batch_finish(&b, key);
}

int oc_gossip(struct onecore *o, const struct xg_update_msg *u, size_t n,
	      uint64_t rx_ns)
{
	uint8_t buf[XG_UDP_MAX];
	struct xg_addr from;
	ssize_t len;

	len = oc_batch(XG_T_GOSSIP, o->cfg.cluster_id, o->cfg.gossip_key, u, n,
		       buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	oc_addr(&from, 200);
	return xg_core_on_packet(o->core, &from, buf, (size_t)len, rx_ns);
}

int oc_probe(struct onecore *o, const struct xg_probe_msg *m,
	     const struct xg_addr *from, uint64_t rx_ns)
{
	struct xg_probe_msg copy = *m;
	uint8_t buf[sizeof(struct xg_probe)];
	ssize_t len;

	copy.cluster_id = o->cfg.cluster_id;
	len = xg_probe_encode(&copy, o->cfg.probe_key, buf, sizeof(buf));
	if (len < 0)
		return (int)len;
	return xg_core_on_packet(o->core, from, buf, (size_t)len, rx_ns);
}

int oc_decode_probe(const struct onecore *o, const struct oc_pkt *p,
		    struct xg_probe_msg *m)
{
	return xg_probe_decode(p->data, p->len, o->cfg.probe_key, NULL, m);
}

int oc_gossip_mentions(const struct onecore *o, const struct oc_pkt *p,
		       uint64_t id, uint8_t state, uint32_t *inc)
{
	struct xg_batch_reader r;
	struct xg_update_msg u;
	int err, n = 0;

	err = xg_batch_open(&r, p->data, p->len, o->cfg.gossip_key, NULL);
	if (err)
		return err;
	while ((err = xg_batch_next(&r, &u)) == 1) {
		if (u.node_id != id || (state && u.state != state))
			continue;
		if (inc)
			*inc = u.incarnation;
		n++;
	}
	return err ? err : n;
}
