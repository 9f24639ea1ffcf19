/* SPDX-License-Identifier: MIT */
/*
 * A single core under a microscope: a fake io that records every datagram
 * the core sends and every event it reports, plus builders for the
 * packets a test feeds it (GOSSIP, STATE, probes).  For tests that look
 * at one node's exact reactions; whole clusters use sim.h.
 */
#ifndef XGOSSIP_TEST_ONECORE_H
#define XGOSSIP_TEST_ONECORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/codec.h"
#include "core/swim.h"

#define OC_CLUSTER 0x0c0ffee0c0ffee01ULL
#define OC_SELF_ID 1ULL

struct oc_pkt {
	struct xg_addr to;
	size_t         len;
	uint8_t        data[XG_UDP_MAX];
};

struct oc_event {
	enum xg_event_type type;
	uint64_t           id;
	enum xg_state      state;
	uint32_t           incarnation;
};

struct onecore {
	struct xg_core       *core;
	struct xg_core_config cfg;
	uint64_t              rng;
	struct oc_pkt        *sent;
	size_t                nsent, capsent;
	struct oc_event      *ev;
	size_t                nev, capev;
	unsigned              pushpull_wants;
	struct xg_addr        pushpull_to;
	int                   send_err;   /* returned by send when set */
};

/* The defaults every onecore test starts from (id OC_SELF_ID, name
 * "self", 198.18.0.1:7946, fixed keys); tweak before oc_start(). */
void oc_config(struct xg_core_config *cfg);
/* 0 or the xg_core_new() error. */
int  oc_start(struct onecore *o, const struct xg_core_config *cfg,
	      uint64_t now_ns);
void oc_stop(struct onecore *o);
void oc_clear(struct onecore *o);

/* The k-th recorded datagram of this packet type, or NULL. */
const struct oc_pkt *oc_find(const struct onecore *o, uint8_t type, size_t k);
size_t oc_count_sent(const struct onecore *o, uint8_t type);
size_t oc_count_events(const struct onecore *o, enum xg_event_type type,
		       uint64_t id);

/* 198.18.0.host:7946 */
void oc_addr(struct xg_addr *a, unsigned host);
/* An update about node id (name "peer-<id>", address host id). */
void oc_update(struct xg_update_msg *u, uint8_t state, uint64_t id,
	       uint32_t inc, uint64_t from);

/* Build a GOSSIP (or STATE) of these updates signed with key. */
ssize_t oc_batch(uint8_t type, uint64_t cluster, const uint8_t key[16],
		 const struct xg_update_msg *u, size_t n, void *buf,
		 size_t cap);
/* Deliver a GOSSIP of these updates from 198.18.0.200. */
int oc_gossip(struct onecore *o, const struct xg_update_msg *u, size_t n,
	      uint64_t rx_ns);
/* Deliver a probe message built from m (cluster and key from o). */
int oc_probe(struct onecore *o, const struct xg_probe_msg *m,
	     const struct xg_addr *from, uint64_t rx_ns);

/* Decode a recorded probe / GOSSIP with o's keys; 0 or -errno. */
int oc_decode_probe(const struct onecore *o, const struct oc_pkt *p,
		    struct xg_probe_msg *m);
/* Count updates about id (any state if state is 0) in a GOSSIP. */
int oc_gossip_mentions(const struct onecore *o, const struct oc_pkt *p,
		       uint64_t id, uint8_t state, uint32_t *inc);

#endif /* XGOSSIP_TEST_ONECORE_H */
