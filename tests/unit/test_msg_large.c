/* SPDX-License-Identifier: MIT */
/*
 * Large messages at one messenger, packet by packet: what it announces,
 * which fetches it asks the daemon for (a fake io->fetch that records
 * them; the test plays the daemon and reports outcomes with
 * xg_msgr_fetched), and what it delivers.  The membership is the same
 * predictable one as test_msg_node.c: pick() returns the first k peers in
 * table order, minus the excluded one.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/msg.h"

#define MS      1000000ULL
#define SELF    0x5e1fULL
#define CLUSTER 0xc1c1ULL
#define WALL0   1700000000000ULL
#define PEER(i) (0x100ULL + (uint64_t)(i))
#define INC     3u
#define BIG     5000u

static const uint8_t key1[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
				  1, 1, 1, 1, 1, 1, 1, 1 };

struct sent {
	uint64_t          to;
	struct xg_msg_pkt p;
	size_t            len;
	uint8_t           buf[XG_UDP_MAX];
};

struct fetch_call {
	uint64_t from;
	uint8_t  id[16];
	uint64_t size;
	uint8_t  sha[32];
};

struct got {
	struct xg_msg  m;
	const uint8_t *payload;  /* as handed over, checked against body */
};

struct solo {
	struct xg_msgr   *m;
	uint64_t          now;
	size_t            npeers;
	struct sent       sent[256];
	size_t            nsent;
	struct fetch_call fetch[64];
	size_t            nfetch;
	int               fetch_ret;
	int               fetch_sync;  /* report from inside io->fetch */
	struct got        got[16];
	size_t            ngot;
	size_t            nseen;
	bool              bcast_on_deliver;
};

static struct solo S;
static uint8_t body[1 << 16];

static int io_send(void *ctx, uint64_t to, const void *buf, size_t len)
{
	struct solo *s = ctx;
	struct sent *e;

	assert_true(s->nsent < 256);
	e = &s->sent[s->nsent++];
	e->to = to;
	e->len = len;
	memcpy(e->buf, buf, len);
	assert_int_equal(xg_msg_decode(e->buf, len, key1, NULL, &e->p), 0);
	return 0;
}

static size_t io_pick(void *ctx, size_t k, uint64_t exclude, uint64_t *out)
{
	struct solo *s = ctx;
	size_t i, n = 0;

	for (i = 0; i < s->npeers && n < k; i++)
		if (PEER(i) != exclude)
			out[n++] = PEER(i);
	return n;
}

static size_t io_live(void *ctx)
{
	struct solo *s = ctx;

	return s->npeers;
}

static void sha_of(uint8_t sha[32], uint32_t counter)
{
	memset(sha, (int)(0x40 + counter), 32);
}

static void io_deliver(void *ctx, const struct xg_msg *m)
{
	struct solo *s = ctx;
	uint8_t sha[32];

	assert_true(s->ngot < 16);
	s->got[s->ngot].m = *m;
	s->got[s->ngot].payload = m->payload;
	s->ngot++;
	if (s->bcast_on_deliver) {
		sha_of(sha, 99);
		assert_int_equal(xg_msgr_broadcast_large(s->m, "reply", BIG,
							 sha, s->now, NULL),
				 0);
	}
}

static void io_seen(void *ctx, const uint8_t id[16], uint64_t now)
{
	struct solo *s = ctx;

	(void)id;
	assert_int_equal(now, s->now);
	s->nseen++;
}

static uint64_t io_rand(void *ctx)
{
	(void)ctx;
	return 42;
}

static uint64_t io_wall(void *ctx)
{
	struct solo *s = ctx;

	return WALL0 + s->now / MS;
}

static int io_fetch(void *ctx, uint64_t from, const uint8_t id[16],
		    uint64_t size, const uint8_t sha256[32])
{
	struct solo *s = ctx;
	struct fetch_call *f;
	size_t i;

	assert_true(s->nfetch < 64);
	/* never two fetches of one id at once: checked by the tests that
	 * report every fetch before the next of the same id */
	f = &s->fetch[s->nfetch++];
	f->from = from;
	memcpy(f->id, id, 16);
	f->size = size;
	memcpy(f->sha, sha256, 32);
	for (i = 0; i < 32; i++)
		assert_int_equal(sha256[i], sha256[0]);
	/* a daemon breaking the rule "report later": the messenger must
	 * survive it (ASan watches) */
	if (s->fetch_sync)
		xg_msgr_fetched(s->m, id, s->fetch_sync > 0 ? 0 : -EIO,
				s->fetch_sync > 0 ? body : NULL,
				s->fetch_sync > 0 ? size : 0, s->now);
	return s->fetch_ret;
}

static const struct xg_msg_io solo_io = {
	.ctx = &S,
	.send = io_send,
	.pick = io_pick,
	.live_count = io_live,
	.deliver = io_deliver,
	.seen = io_seen,
	.rand64 = io_rand,
	.now_ms_real = io_wall,
	.fetch = io_fetch,
};

static void solo_config(struct xg_msg_config *c)
{
	xg_msg_config_defaults(c);
	c->self_id = SELF;
	c->incarnation = 5;
	c->cluster_id = CLUSTER;
	c->key_id = 1;
	memcpy(c->mac_key, key1, 16);
}

static void solo_start(const struct xg_msg_config *c,
		       const struct xg_msg_io *io)
{
	size_t i;

	memset(&S, 0, sizeof(S));
	S.now = 100000 * MS;
	S.npeers = 12;
	for (i = 0; i < sizeof(body); i++)
		body[i] = (uint8_t)(i * 13 + 7);
	assert_int_equal(xg_msgr_new(&S.m, c, io, S.now), 0);
}

static int setup(void **state)
{
	struct xg_msg_config c;

	(void)state;
	solo_config(&c);
	solo_start(&c, &solo_io);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	xg_msgr_free(S.m);
	S.m = NULL;
	return 0;
}

static const struct xg_msgr_stats *st(void)
{
	return xg_msgr_stats(S.m);
}

static void tick_at(uint64_t t)
{
	S.now = t;
	xg_msgr_tick(S.m, t);
}

static void idof(uint8_t id[16], uint64_t origin, uint32_t counter)
{
	xg_msg_id_make(id, origin, INC, counter);
}

/* An ANNOUNCE as another member would send it. */
static size_t make_ann(uint8_t *buf, uint64_t sender, uint64_t origin,
		       uint32_t counter, uint8_t hops, uint64_t size,
		       uint64_t origin_ms)
{
	struct xg_msg_pkt p;
	ssize_t n;

	memset(&p, 0, sizeof(p));
	p.type = XG_T_PULL_SYNC;
	p.flags = XG_MSG_F_LARGE;
	p.key_id = 1;
	p.cluster_id = CLUSTER;
	idof(p.msg.id, origin, counter);
	p.msg.sender_id = sender;
	p.msg.origin_ms = origin_ms;
	p.msg.hops = hops;
	strcpy(p.msg.topic, "files/big");
	p.size = size;
	sha_of(p.sha256, counter);
	n = xg_msg_encode(&p, key1, buf, XG_UDP_MAX);
	assert_true(n > 0);
	return (size_t)n;
}

static int ann_hops(uint64_t sender, uint64_t origin, uint32_t counter,
		    uint8_t hops, uint64_t size)
{
	uint8_t buf[XG_UDP_MAX];
	size_t n = make_ann(buf, sender, origin, counter, hops, size,
			    WALL0 + S.now / MS - 1000);

	return xg_msgr_on_packet(S.m, sender, buf, n, S.now);
}

static int ann(uint64_t sender, uint64_t origin, uint32_t counter)
{
	return ann_hops(sender, origin, counter, 1, BIG);
}

/* Any other packet as another member would send it (a 5-byte payload). */
static int feed_id(uint8_t type, uint64_t sender, const uint8_t id[16])
{
	struct xg_msg_pkt p;
	uint8_t buf[XG_UDP_MAX];
	ssize_t n;

	memset(&p, 0, sizeof(p));
	p.type = type;
	p.key_id = 1;
	p.cluster_id = CLUSTER;
	memcpy(p.msg.id, id, 16);
	p.msg.sender_id = sender;
	p.msg.origin_ms = WALL0 + S.now / MS - 1000;
	strcpy(p.msg.topic, "small");
	p.msg.payload = (const uint8_t *)"hello";
	p.msg.payload_len = 5;
	n = xg_msg_encode(&p, key1, buf, sizeof(buf));
	assert_true(n > 0);
	return xg_msgr_on_packet(S.m, sender, buf, (size_t)n, S.now);
}

static int feed(uint8_t type, uint64_t sender, uint64_t origin,
		uint32_t counter)
{
	uint8_t id[16];

	idof(id, origin, counter);
	return feed_id(type, sender, id);
}

/* The k-th packet of this type sent, or NULL. */
static const struct sent *find_sent(uint8_t type, size_t k)
{
	size_t i;

	for (i = 0; i < S.nsent; i++)
		if (S.sent[i].p.type == type && k-- == 0)
			return &S.sent[i];
	return NULL;
}

static int fetched(uint64_t origin, uint32_t counter, int err, size_t len)
{
	uint8_t id[16];

	idof(id, origin, counter);
	return xg_msgr_fetched(S.m, id, err, err ? NULL : body, len, S.now);
}

static size_t count_sent(uint8_t type, bool announce)
{
	size_t i, n = 0;

	for (i = 0; i < S.nsent; i++)
		n += S.sent[i].p.type == type &&
		     xg_msg_pkt_is_announce(&S.sent[i].p) == announce;
	return n;
}

static bool fetch_is(size_t k, uint64_t from, uint64_t origin,
		     uint32_t counter)
{
	uint8_t id[16];

	idof(id, origin, counter);
	return k < S.nfetch && S.fetch[k].from == from &&
	       memcmp(S.fetch[k].id, id, 16) == 0;
}

/* --- configuration ------------------------------------------------------- */

static void test_config(void **state)
{
	struct xg_msg_config c;
	struct xg_msg_io io = solo_io;
	struct xg_msgr *m;

	(void)state;
	xg_msg_config_defaults(&c);
	assert_int_equal(c.max_large, 16u << 20);
	assert_int_equal(c.fetch_max, 4);
	assert_int_equal(c.fetch_timeout_ns, 120000 * MS);
	solo_config(&c);
	c.fetch_max = 0;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	solo_config(&c);
	c.fetch_timeout_ns = 0;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	solo_config(&c);
	c.max_large = (uint64_t)UINT32_MAX + 1;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	c.max_large = UINT32_MAX;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), 0);
	xg_msgr_free(m);
	/* fetch is optional */
	io.fetch = NULL;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), 0);
	xg_msgr_free(m);
}

/* --- the origin ---------------------------------------------------------- */

static void test_broadcast_large(void **state)
{
	uint8_t sha[32], id[16], id2[16];
	const struct xg_msg_pkt *p;
	size_t i;

	(void)state;
	sha_of(sha, 1);
	assert_int_equal(xg_msgr_broadcast_large(S.m, NULL, BIG, sha, S.now,
						 id), -EINVAL);
	assert_int_equal(xg_msgr_broadcast_large(S.m, "a\tb", BIG, sha, S.now,
						 id), -EINVAL);
	assert_int_equal(xg_msgr_broadcast_large(S.m, "t", BIG, NULL, S.now,
						 id), -EINVAL);
	/* what fits a PUSH is not large */
	assert_int_equal(xg_msgr_broadcast_large(S.m, "t", xg_msg_max_push(1),
						 sha, S.now, id), -EINVAL);
	assert_int_equal(xg_msgr_broadcast_large(S.m, "t", (16u << 20) + 1,
						 sha, S.now, id), -EMSGSIZE);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->broadcasts, 0);

	/* small, large, small: one counter */
	assert_int_equal(xg_msgr_broadcast(S.m, "s", "x", 1, S.now, id), 0);
	assert_int_equal((uint32_t)xg_msg_id_seq(id), 0);
	S.nsent = 0;
	assert_int_equal(xg_msgr_broadcast_large(S.m, "files/big",
						 xg_msg_max_push(9) + 1,
						 sha, S.now, id), 0);
	assert_int_equal(xg_msg_id_origin(id), SELF);
	assert_int_equal(xg_msg_id_seq(id), (uint64_t)5 << 32 | 1);
	assert_int_equal(S.nsent, 3);
	for (i = 0; i < 3; i++) {
		p = &S.sent[i].p;
		assert_int_equal(S.sent[i].to, PEER(i));
		assert_true(xg_msg_pkt_is_announce(p));
		assert_memory_equal(p->msg.id, id, 16);
		assert_int_equal(p->msg.sender_id, SELF);
		assert_int_equal(p->msg.hops, 0);
		assert_int_equal(p->msg.origin_ms, WALL0 + S.now / MS);
		assert_string_equal(p->msg.topic, "files/big");
		assert_int_equal(p->size, xg_msg_max_push(9) + 1);
		assert_memory_equal(p->sha256, sha, 32);
	}
	assert_int_equal(xg_msgr_broadcast(S.m, "s", "x", 1, S.now, id2), 0);
	assert_int_equal((uint32_t)xg_msg_id_seq(id2), 2);
	assert_int_equal(st()->broadcasts, 3);
	assert_int_equal(st()->large_broadcasts, 1);
	assert_int_equal(st()->announces_sent, 3);
	assert_int_equal(st()->rounds_started, 3);
	assert_int_equal(S.nseen, 3);
	assert_true(xg_msgr_has_seen(S.m, id));
	/* the origin does not deliver, and fetches nothing */
	assert_int_equal(S.ngot, 0);
	assert_int_equal(S.nfetch, 0);
	/* the exact limit is fine */
	assert_int_equal(xg_msgr_broadcast_large(S.m, "t", 16u << 20, sha,
						 S.now, id), 0);
}

static void test_broadcast_large_needs_fetch(void **state)
{
	struct xg_msg_config c;
	struct xg_msg_io io = solo_io;
	uint8_t sha[32];

	(void)state;
	xg_msgr_free(S.m);
	solo_config(&c);
	io.fetch = NULL;
	solo_start(&c, &io);
	sha_of(sha, 1);
	assert_int_equal(xg_msgr_broadcast_large(S.m, "t", BIG, sha, S.now,
						 NULL), -EOPNOTSUPP);
	assert_int_equal(S.nsent, 0);
	/* and ANNOUNCEs are refused, counted */
	assert_int_equal(ann(PEER(1), PEER(5), 0), -EOPNOTSUPP);
	assert_int_equal(st()->large_refused, 1);
	assert_int_equal(S.nsent, 0);
}

/* With no ACK, the origin's round pull-syncs with the ANNOUNCE itself
 * (not the 48-byte PULL_SYNC), to fanout + 2 members not pushed to. */
static void test_short_round_announces(void **state)
{
	uint8_t sha[32], id[16];
	uint64_t t0 = S.now;
	size_t i, r;

	(void)state;
	sha_of(sha, 1);
	assert_int_equal(xg_msgr_broadcast_large(S.m, "files/big", BIG, sha,
						 S.now, id), 0);
	for (r = 1; r <= 3; r++) {
		S.nsent = 0;
		tick_at(t0 + r * 300 * MS);
		assert_int_equal(S.nsent, 5);
		for (i = 0; i < 5; i++) {
			assert_int_equal(S.sent[i].to, PEER(3 + i));
			assert_true(xg_msg_pkt_is_announce(&S.sent[i].p));
			assert_int_equal(S.sent[i].p.size, BIG);
			assert_int_equal(S.sent[i].p.msg.hops, 0);
		}
	}
	assert_int_equal(count_sent(XG_T_PULL_SYNC, false), 0);
	assert_int_equal(st()->rounds_short, 1);
	assert_int_equal(st()->pull_syncs_sent, 0);
	assert_int_equal(st()->announces_sent, 3 + 15);
	/* pull-sync targets that fetched ACK it: expected, not counted as
	 * unexpected (they cannot tell a pushed ANNOUNCE from this one) */
	assert_int_equal(feed_id(XG_T_PUSH_ACK, PEER(4), id), 0);
	assert_int_equal(st()->acks_recv, 1);
	assert_int_equal(st()->acks_unexpected, 0);
	tick_at(t0 + 4 * 300 * MS);
	assert_int_equal(st()->rounds_open, 0);
	/* a small message's stray ACK still is */
	assert_int_equal(feed(XG_T_PUSH_ACK, PEER(4), SELF, 7), 0);
	assert_int_equal(st()->acks_unexpected, 1);
}

static void test_origin_majority(void **state)
{
	uint8_t sha[32], id[16];

	(void)state;
	sha_of(sha, 0);
	assert_int_equal(xg_msgr_broadcast_large(S.m, "files/big", BIG, sha,
						 S.now, id), 0);
	assert_int_equal(feed_id(XG_T_PUSH_ACK, PEER(0), id), 0);
	assert_int_equal(feed_id(XG_T_PUSH_ACK, PEER(2), id), 0);
	assert_int_equal(st()->rounds_majority, 1);
	S.nsent = 0;
	tick_at(S.now + 5000 * MS);
	assert_int_equal(S.nsent, 0);
}

/* --- receiving ----------------------------------------------------------- */

static void test_announce_fetch_deliver(void **state)
{
	uint8_t id[16];
	size_t i;

	(void)state;
	idof(id, PEER(5), 0);
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	/* first notice: ACK the announcer at once, fetch from it */
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.sent[0].p.type, XG_T_PUSH_ACK);
	assert_int_equal(S.sent[0].to, PEER(2));
	assert_int_equal(S.nfetch, 1);
	assert_true(fetch_is(0, PEER(2), PEER(5), 0));
	assert_int_equal(S.fetch[0].size, BIG);
	assert_int_equal(S.fetch[0].sha[0], 0x40);
	assert_int_equal(st()->announces_recv, 1);
	assert_int_equal(st()->fetches_started, 1);
	assert_int_equal(st()->fetches_running, 1);
	assert_int_equal(st()->large_wants, 1);
	/* not seen until the body is here: the XDP program must let the
	 * next ANNOUNCEs through */
	assert_false(xg_msgr_has_seen(S.m, id));
	assert_int_equal(S.nseen, 0);
	assert_int_equal(S.ngot, 0);
	/* another announcer: a source, no ACK, no second fetch */
	assert_int_equal(ann(PEER(3), PEER(5), 0), 0);
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.nfetch, 1);
	assert_int_equal(st()->acks_sent, 1);

	S.nsent = 0;
	S.now += 40 * MS;
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), 0);
	assert_int_equal(S.ngot, 1);
	assert_ptr_equal(S.got[0].payload, body);
	assert_int_equal(S.got[0].m.payload_len, BIG);
	assert_memory_equal(S.got[0].m.id, id, 16);
	assert_int_equal(S.got[0].m.origin_id, PEER(5));
	assert_int_equal(S.got[0].m.sender_id, PEER(2));
	assert_int_equal(S.got[0].m.hops, 1);
	assert_string_equal(S.got[0].m.topic, "files/big");
	assert_true(xg_msgr_has_seen(S.m, id));
	assert_int_equal(S.nseen, 1);
	/* announced on, hops + 1, to fanout members other than the source */
	assert_int_equal(S.nsent, 3);
	for (i = 0; i < 3; i++) {
		assert_int_not_equal(S.sent[i].to, PEER(2));
		assert_true(xg_msg_pkt_is_announce(&S.sent[i].p));
		assert_int_equal(S.sent[i].p.msg.hops, 2);
		assert_int_equal(S.sent[i].p.msg.sender_id, SELF);
		assert_int_equal(S.sent[i].p.size, BIG);
		assert_int_equal(S.sent[i].p.sha256[0], 0x40);
	}
	assert_int_equal(st()->fetches_ok, 1);
	assert_int_equal(st()->delivered, 1);
	assert_int_equal(st()->rounds_started, 1);
	assert_int_equal(st()->fetches_running, 0);
	assert_int_equal(st()->large_wants, 0);
	assert_int_equal(st()->pulls_open, 0);
	/* seen now: a duplicate, nothing else */
	S.nsent = 0;
	assert_int_equal(ann(PEER(4), PEER(5), 0), 0);
	assert_int_equal(st()->dups, 1);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(S.nfetch, 1);
	/* a late report is stale */
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), -ENOENT);
	assert_int_equal(fetched(PEER(5), 0, -EIO, 0), -ENOENT);
	assert_int_equal(st()->fetches_stale, 2);
	assert_int_equal(S.ngot, 1);
}

static void test_announce_refused(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	size_t n;

	(void)state;
	/* over max_large (the limit itself is fine) */
	assert_int_equal(ann_hops(PEER(1), PEER(5), 0, 1, (16u << 20) + 1),
			 -EMSGSIZE);
	assert_int_equal(st()->large_refused, 1);
	assert_int_equal(ann_hops(PEER(1), PEER(5), 1, 1, 16u << 20), 0);
	assert_int_equal(S.nfetch, 1);
	/* too old, too far ahead */
	n = make_ann(buf, PEER(1), PEER(5), 2, 0, BIG,
		     WALL0 + S.now / MS - 300001);
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, n, S.now),
			 -ESTALE);
	n = make_ann(buf, PEER(1), PEER(5), 3, 0, BIG,
		     WALL0 + S.now / MS + 30001);
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, n, S.now),
			 -ESTALE);
	assert_int_equal(st()->refused_old, 1);
	assert_int_equal(st()->refused_future, 1);
	/* only the one ACK of the accepted announce went out */
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.nfetch, 1);
	assert_int_equal(st()->large_refused, 1);
	assert_int_equal(st()->large_wants, 1);
}

/* A failed fetch is retried an ack timeout later, from the next source:
 * the announcers in the order they announced, then the origin; after
 * pull_tries fetches the id is forgotten until the next ANNOUNCE. */
static void test_fetch_failover(void **state)
{
	struct xg_msg_config c;
	uint64_t t0;

	(void)state;
	xg_msgr_free(S.m);
	solo_config(&c);
	c.pull_tries = 4;
	solo_start(&c, &solo_io);
	t0 = S.now;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	assert_int_equal(ann(PEER(3), PEER(5), 0), 0);
	assert_true(fetch_is(0, PEER(2), PEER(5), 0));
	S.now = t0 + 10 * MS;
	assert_int_equal(fetched(PEER(5), 0, -ECONNREFUSED, 0), 0);
	assert_int_equal(st()->fetches_failed, 1);
	assert_int_equal(S.nfetch, 1);
	assert_int_equal(xg_msgr_next_deadline(S.m), t0 + 310 * MS);
	tick_at(t0 + 309 * MS);
	assert_int_equal(S.nfetch, 1);
	tick_at(t0 + 310 * MS);
	assert_true(fetch_is(1, PEER(3), PEER(5), 0));
	S.now = t0 + 320 * MS;
	assert_int_equal(fetched(PEER(5), 0, -ENOENT, 0), 0);
	tick_at(t0 + 620 * MS);
	assert_true(fetch_is(2, PEER(5), PEER(5), 0));
	/* the daemon could not even start this one */
	S.fetch_ret = -EMFILE;
	S.now = t0 + 630 * MS;
	assert_int_equal(fetched(PEER(5), 0, -EIO, 0), 0);
	tick_at(t0 + 930 * MS);
	assert_true(fetch_is(3, PEER(2), PEER(5), 0));
	/* four fetches, four failures: given up */
	assert_int_equal(st()->fetches_failed, 4);
	assert_int_equal(st()->fetches_started, 3);
	assert_int_equal(st()->fetches_given_up, 1);
	assert_int_equal(st()->large_wants, 0);
	assert_int_equal(xg_msgr_next_deadline(S.m) > t0 + 60000 * MS, true);
	tick_at(t0 + 5000 * MS);
	assert_int_equal(S.nfetch, 4);
	/* the next ANNOUNCE starts over: ACK and fetch */
	S.fetch_ret = 0;
	S.nsent = 0;
	assert_int_equal(ann(PEER(7), PEER(5), 0), 0);
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.sent[0].p.type, XG_T_PUSH_ACK);
	assert_true(fetch_is(4, PEER(7), PEER(5), 0));
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), 0);
	assert_int_equal(S.ngot, 1);
}

/* At most fetch_max at once; the rest wait and start in order. */
static void test_fetch_bound(void **state)
{
	uint32_t k;

	(void)state;
	for (k = 0; k < 6; k++)
		assert_int_equal(ann(PEER(1), PEER(5), k), 0);
	assert_int_equal(S.nfetch, 4);
	for (k = 0; k < 4; k++)
		assert_true(fetch_is(k, PEER(1), PEER(5), k));
	assert_int_equal(st()->fetches_running, 4);
	assert_int_equal(st()->fetches_queued, 2);
	/* every announcer got its ACK, queued or not */
	assert_int_equal(st()->acks_sent, 6);
	/* a success frees a slot: the first queued starts */
	assert_int_equal(fetched(PEER(5), 1, 0, BIG), 0);
	assert_int_equal(S.nfetch, 5);
	assert_true(fetch_is(4, PEER(1), PEER(5), 4));
	/* a failure too; the failed one waits an ack timeout */
	assert_int_equal(fetched(PEER(5), 0, -EIO, 0), 0);
	assert_int_equal(S.nfetch, 6);
	assert_true(fetch_is(5, PEER(1), PEER(5), 5));
	assert_int_equal(st()->fetches_running, 4);
	assert_int_equal(st()->fetches_queued, 0);
	/* its retry queues, but every slot is busy */
	tick_at(S.now + 300 * MS);
	assert_int_equal(S.nfetch, 6);
	assert_int_equal(st()->fetches_queued, 1);
	assert_int_equal(fetched(PEER(5), 2, 0, BIG), 0);
	assert_int_equal(S.nfetch, 7);
	assert_true(fetch_is(6, PEER(5), PEER(5), 0));
	assert_int_equal(st()->fetches_running, 4);
	/* the rest complete; everything delivered once */
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), 0);
	assert_int_equal(fetched(PEER(5), 3, 0, BIG), 0);
	assert_int_equal(fetched(PEER(5), 4, 0, BIG), 0);
	assert_int_equal(fetched(PEER(5), 5, 0, BIG), 0);
	assert_int_equal(S.ngot, 6);
	assert_int_equal(st()->fetches_running + st()->fetches_queued, 0);
	assert_int_equal(st()->large_wants, 0);
}

/* A fetch never reported counts as failed after fetch_timeout, and the
 * next source is tried; a late success of the first is still taken. */
static void test_fetch_timeout(void **state)
{
	uint64_t t0 = S.now;

	(void)state;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	assert_int_equal(ann(PEER(3), PEER(5), 0), 0);
	assert_int_equal(xg_msgr_next_deadline(S.m), t0 + 120000 * MS);
	tick_at(t0 + 120000 * MS - 1);
	assert_int_equal(st()->fetches_timed_out, 0);
	tick_at(t0 + 120000 * MS);
	assert_int_equal(st()->fetches_timed_out, 1);
	assert_int_equal(st()->fetches_failed, 1);
	assert_int_equal(st()->fetches_running, 0);
	/* a failure report for it now is an echo, not a second failure */
	assert_int_equal(fetched(PEER(5), 0, -EIO, 0), -ENOENT);
	assert_int_equal(st()->fetches_failed, 1);
	tick_at(t0 + 120300 * MS);
	assert_true(fetch_is(1, PEER(3), PEER(5), 0));
	/* the first fetch's success after all */
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(st()->fetches_running, 0);
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), -ENOENT);
	assert_int_equal(S.ngot, 1);
}

static void test_fetched_bad_reports(void **state)
{
	uint8_t id[16];

	(void)state;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	/* a body of the wrong length is a failed fetch */
	assert_int_equal(fetched(PEER(5), 0, 0, BIG - 1), -EBADMSG);
	assert_int_equal(st()->fetches_failed, 1);
	assert_int_equal(S.ngot, 0);
	/* a report for an id never announced */
	assert_int_equal(fetched(PEER(5), 9, 0, BIG), -ENOENT);
	idof(id, PEER(5), 0);
	assert_int_equal(xg_msgr_fetched(NULL, id, 0, body, BIG, S.now),
			 -EINVAL);
	assert_int_equal(xg_msgr_fetched(S.m, NULL, 0, body, BIG, S.now),
			 -EINVAL);
	/* success without a body */
	tick_at(S.now + 300 * MS);
	assert_int_equal(S.nfetch, 2);
	assert_int_equal(xg_msgr_fetched(S.m, id, 0, NULL, BIG, S.now),
			 -EBADMSG);
	assert_int_equal(st()->fetches_failed, 2);
	assert_int_equal(S.ngot, 0);
}

/* A body that took so long that the message is now past max_age. */
static void test_fetched_too_old(void **state)
{
	(void)state;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	S.now += 300 * 1000 * MS;
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), -ESTALE);
	assert_int_equal(st()->refused_old, 1);
	assert_int_equal(S.ngot, 0);
	assert_int_equal(st()->large_wants, 0);
}

static void test_hop_limit(void **state)
{
	(void)state;
	assert_int_equal(ann_hops(PEER(2), PEER(5), 0, XG_MSG_HOP_LIMIT, BIG),
			 0);
	S.nsent = 0;
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->hop_limited, 1);
}

/* The application broadcasts (large) from its delivery callback. */
static void test_deliver_reentrant(void **state)
{
	(void)state;
	S.bcast_on_deliver = true;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	S.nsent = 0;
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), 0);
	assert_int_equal(S.ngot, 1);
	/* three announces on, three of our own */
	assert_int_equal(count_sent(XG_T_PULL_SYNC, true), 6);
	assert_int_equal(st()->large_broadcasts, 1);
}

/* --- mixed paths --------------------------------------------------------- */

/* A plain PULL_SYNC for an id being fetched draws no PULL_REQUEST. */
static void test_pull_sync_while_fetching(void **state)
{
	(void)state;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	S.nsent = 0;
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(3), PEER(5), 0), 0);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(S.nfetch, 1);
	/* but PEER(3) is a source now */
	assert_int_equal(fetched(PEER(5), 0, -EIO, 0), 0);
	tick_at(S.now + 300 * MS);
	assert_true(fetch_is(1, PEER(3), PEER(5), 0));
	/* nor for one still queued for a slot (it has not fetched yet) */
	assert_int_equal(ann(PEER(2), PEER(5), 1), 0);
	assert_int_equal(ann(PEER(2), PEER(5), 2), 0);
	assert_int_equal(ann(PEER(2), PEER(5), 3), 0);
	assert_int_equal(ann(PEER(2), PEER(5), 4), 0);
	assert_int_equal(st()->fetches_queued, 1);
	S.nsent = 0;
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(3), PEER(5), 4), 0);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->fetches_queued, 1);
	assert_int_equal(fetched(PEER(5), 1, 0, BIG), 0);
	assert_true(fetch_is(5, PEER(2), PEER(5), 4));
}

/* A copy of the id by another path (here a PUSH, which a correct member
 * never sends for a large message) ends the fetch: delivered once. */
static void test_push_ends_fetch(void **state)
{
	(void)state;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	assert_int_equal(ann(PEER(1), PEER(5), 1), 0);
	assert_int_equal(feed(XG_T_PUSH, PEER(3), PEER(5), 0), 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(st()->fetches_running, 1);
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), -ENOENT);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(fetched(PEER(5), 1, 0, BIG), 0);
	assert_int_equal(S.ngot, 2);
}

/* PULL_REQUEST for a large message we have: answered with its ANNOUNCE,
 * so the requester fetches from us. */
static void test_pull_request_answered_with_announce(void **state)
{
	uint8_t sha[32], id[16];
	const struct xg_msg_pkt *p;

	(void)state;
	/* one we fetched (hops_out 2) and one we broadcast (hops_out 0) */
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), 0);
	sha_of(sha, 7);
	assert_int_equal(xg_msgr_broadcast_large(S.m, "mine", BIG + 1, sha,
						 S.now, id), 0);
	S.nsent = 0;
	assert_int_equal(feed(XG_T_PULL_REQUEST, PEER(9), PEER(5), 0), 0);
	assert_int_equal(S.nsent, 1);
	p = &S.sent[0].p;
	assert_int_equal(S.sent[0].to, PEER(9));
	assert_true(xg_msg_pkt_is_announce(p));
	assert_int_equal(p->msg.hops, 2);
	assert_int_equal(p->size, BIG);
	assert_int_equal(p->msg.sender_id, SELF);
	assert_int_equal(st()->pull_responses_sent, 0);
	S.nsent = 0;
	assert_int_equal(feed_id(XG_T_PULL_REQUEST, PEER(9), id), 0);
	assert_int_equal(S.nsent, 1);
	p = &S.sent[0].p;
	assert_true(xg_msg_pkt_is_announce(p));
	assert_int_equal(p->msg.hops, 0);
	assert_int_equal(p->size, BIG + 1);
	assert_string_equal(p->msg.topic, "mine");
	assert_memory_equal(p->sha256, sha, 32);
	assert_int_equal(st()->pull_responses_sent, 0);
	assert_int_equal(st()->pull_misses, 0);
}

/* Gap repair of a large message: a gap want asks with PULL_REQUEST, the
 * holder answers with the ANNOUNCE, and the want fetches from it. */
static void test_gap_repair_goes_through_announce(void **state)
{
	uint8_t id[16];

	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(1), PEER(5), 0), 0);
	assert_int_equal(feed(XG_T_PUSH, PEER(1), PEER(5), 2), 0);
	assert_int_equal(st()->gaps_found, 1);
	S.nsent = 0;
	tick_at(S.now + 300 * MS);
	assert_int_equal(count_sent(XG_T_PULL_REQUEST, false), 1);
	assert_int_equal(find_sent(XG_T_PULL_REQUEST, 0)->to, PEER(1));
	/* the answer: no ACK (it answers our request), a fetch from it */
	S.nsent = 0;
	assert_int_equal(ann(PEER(1), PEER(5), 1), 0);
	assert_int_equal(S.nsent, 0);
	assert_true(fetch_is(0, PEER(1), PEER(5), 1));
	/* the want no longer pulls */
	S.nsent = 0;
	tick_at(S.now + 300 * MS);
	assert_int_equal(count_sent(XG_T_PULL_REQUEST, false), 0);
	assert_int_equal(fetched(PEER(5), 1, 0, BIG), 0);
	assert_int_equal(S.ngot, 3);
	idof(id, PEER(5), 1);
	assert_true(xg_msgr_has_seen(S.m, id));
	assert_int_equal(st()->pulls_open, 0);
}

/* A gap want that has not asked yet, then a pushed ANNOUNCE: first
 * notice, so ACKed, and fetched at once. */
static void test_gap_want_then_announce(void **state)
{
	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(1), PEER(5), 0), 0);
	assert_int_equal(feed(XG_T_PUSH, PEER(1), PEER(5), 2), 0);
	S.nsent = 0;
	assert_int_equal(ann(PEER(4), PEER(5), 1), 0);
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.sent[0].p.type, XG_T_PUSH_ACK);
	assert_true(fetch_is(0, PEER(4), PEER(5), 1));
	/* and a large message's own counter reveals gaps once accepted */
	assert_int_equal(ann(PEER(4), PEER(5), 6), 0);
	assert_int_equal(fetched(PEER(5), 6, 0, BIG), 0);
	assert_int_equal(st()->gaps_found, 1 + 3);
}

/* The want table bound applies to large wants as to any. */
static void test_want_bound(void **state)
{
	struct xg_msg_config c;
	uint32_t k;

	(void)state;
	xg_msgr_free(S.m);
	solo_config(&c);
	c.cache_max = 3;
	solo_start(&c, &solo_io);
	for (k = 0; k < 4; k++)
		assert_int_equal(ann(PEER(1), PEER(5), k), 0);
	assert_int_equal(st()->large_wants, 3);
	assert_int_equal(st()->pulls_dropped, 1);
	/* the dropped one is not ACKed: its announcer's round pull-syncs */
	assert_int_equal(st()->acks_sent, 3);
	assert_int_equal(S.nfetch, 3);
}

/* Seen table full when the body arrives: not delivered, fetched again. */
static void test_seen_full_at_fetched(void **state)
{
	struct xg_msg_config c;

	(void)state;
	xg_msgr_free(S.m);
	solo_config(&c);
	c.seen_max = 1;
	solo_start(&c, &solo_io);
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	assert_int_equal(feed(XG_T_PUSH, PEER(1), PEER(6), 0), 0);
	assert_int_equal(fetched(PEER(5), 0, 0, BIG), -ENOBUFS);
	assert_int_equal(st()->refused_full, 1);
	assert_int_equal(st()->fetches_failed, 1);
	assert_int_equal(S.ngot, 1);
	tick_at(S.now + 300 * MS);
	assert_int_equal(S.nfetch, 2);
}

/* Reports from inside io->fetch, which the contract forbids, still
 * leave the tables consistent: success then an error return; a failure
 * report then an error return (one failure, not two). */
static void test_report_inside_fetch(void **state)
{
	(void)state;
	S.fetch_sync = 1;
	S.fetch_ret = -EIO;
	assert_int_equal(ann(PEER(2), PEER(5), 0), 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(st()->fetches_ok, 1);
	assert_int_equal(st()->fetches_failed, 0);
	assert_int_equal(st()->large_wants, 0);
	assert_int_equal(st()->fetches_running, 0);
	S.fetch_sync = -1;
	assert_int_equal(ann(PEER(2), PEER(5), 1), 0);
	assert_int_equal(st()->fetches_failed, 1);
	assert_int_equal(st()->fetches_running, 0);
	assert_int_equal(st()->large_wants, 1);
	S.fetch_sync = 0;
	S.fetch_ret = 0;
	tick_at(S.now + 300 * MS);
	assert_int_equal(fetched(PEER(5), 1, 0, BIG), 0);
	assert_int_equal(S.ngot, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_broadcast_large),
		T(test_broadcast_large_needs_fetch),
		T(test_short_round_announces),
		T(test_origin_majority),
		T(test_announce_fetch_deliver),
		T(test_announce_refused),
		T(test_fetch_failover),
		T(test_fetch_bound),
		T(test_fetch_timeout),
		T(test_fetched_bad_reports),
		T(test_fetched_too_old),
		T(test_hop_limit),
		T(test_deliver_reentrant),
		T(test_pull_sync_while_fetching),
		T(test_push_ends_fetch),
		T(test_pull_request_answered_with_announce),
		T(test_gap_repair_goes_through_announce),
		T(test_gap_want_then_announce),
		T(test_want_bound),
		T(test_seen_full_at_fetched),
		T(test_report_inside_fetch),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
