/* SPDX-License-Identifier: MIT */
/*
 * One messenger, packet by packet: what it sends, delivers and counts for
 * each packet and each timer, with a fake clock and a fake membership
 * whose pick() is predictable (the first k peers in table order, minus the
 * excluded one), so every destination can be checked.
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

#include <xgossip/siphash.h>

#include "core/msg_int.h"

#define MS      1000000ULL
#define SELF    0x5e1fULL
#define CLUSTER 0xc1c1ULL
#define WALL0   1700000000000ULL
#define PEER(i) (0x100ULL + (uint64_t)(i))

static const uint8_t key1[16] = { 1, 1, 1, 1, 1, 1, 1, 1,
				  1, 1, 1, 1, 1, 1, 1, 1 };
static const uint8_t key2[16] = { 2, 2, 2, 2, 2, 2, 2, 2,
				  2, 2, 2, 2, 2, 2, 2, 2 };

struct sent {
	uint64_t          to;
	struct xg_msg_pkt p;
	size_t            len;
	uint8_t           buf[XG_UDP_MAX];
};

struct got {
	struct xg_msg m;
	uint8_t       payload[XG_UDP_MAX];
};

struct solo {
	struct xg_msgr *m;
	uint64_t        now;
	uint64_t        wall_skew_ms;
	uint64_t        rng;
	size_t          npeers;
	int             send_ret;
	struct sent     sent[256];
	size_t          nsent;
	struct got      got[8];
	size_t          ngot;
	size_t          nseen;
	bool            bcast_on_deliver;
	uint8_t         keyring_key[16]; /* what the decoder of sent uses */
};

static struct solo S;
/* the incarnation of the origins in packets made by make_pkt() */
static uint32_t pkt_inc = 3;

static int io_send(void *ctx, uint64_t to, const void *buf, size_t len)
{
	struct solo *s = ctx;
	struct sent *e;

	assert_true(s->nsent < 256);
	e = &s->sent[s->nsent++];
	e->to = to;
	e->len = len;
	memcpy(e->buf, buf, len);
	/* everything we send must decode under our primary key */
	assert_int_equal(xg_msg_decode(e->buf, len, s->keyring_key, NULL,
				       &e->p), 0);
	return s->send_ret;
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

static void io_deliver(void *ctx, const struct xg_msg *m)
{
	struct solo *s = ctx;
	struct got *g;

	assert_true(s->ngot < 8);
	g = &s->got[s->ngot++];
	g->m = *m;
	memcpy(g->payload, m->payload, m->payload_len);
	g->m.payload = g->payload;
	if (s->bcast_on_deliver)
		assert_int_equal(xg_msgr_broadcast(s->m, "reply", "r", 1,
						   s->now, NULL), 0);
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
	struct solo *s = ctx;

	return s->rng += 0x9e3779b97f4a7c15ULL;
}

static uint64_t io_wall(void *ctx)
{
	struct solo *s = ctx;

	return WALL0 + s->now / MS + s->wall_skew_ms;
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

static void solo_start_cfg(const struct xg_msg_config *c)
{
	memset(&S, 0, sizeof(S));
	S.now = 100000 * MS;
	S.npeers = 12;
	memcpy(S.keyring_key, c->mac_key, 16);
	assert_int_equal(xg_msgr_new(&S.m, c, &solo_io, S.now), 0);
}

static int setup(void **state)
{
	struct xg_msg_config c;

	(void)state;
	pkt_inc = 3;
	solo_config(&c);
	solo_start_cfg(&c);
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

static void clear_sent(void)
{
	S.nsent = 0;
}

static void tick_at(uint64_t t)
{
	S.now = t;
	xg_msgr_tick(S.m, t);
}

/* A packet as another member would send it. */
static size_t make_pkt(uint8_t *buf, uint8_t type, uint64_t sender,
		       uint64_t origin, uint32_t counter, uint8_t hops,
		       uint64_t origin_ms)
{
	struct xg_msg_pkt p;
	ssize_t n;

	memset(&p, 0, sizeof(p));
	p.type = type;
	p.key_id = 1;
	p.cluster_id = CLUSTER;
	xg_msg_id_make(p.msg.id, origin, pkt_inc, counter);
	p.msg.sender_id = sender;
	p.msg.origin_ms = origin_ms;
	p.msg.hops = hops;
	strcpy(p.msg.topic, "jobs/done");
	p.msg.payload = (const uint8_t *)"hello";
	p.msg.payload_len = 5;
	n = xg_msg_encode(&p, key1, buf, XG_UDP_MAX);
	assert_true(n > 0);
	return (size_t)n;
}

static int feed(uint8_t type, uint64_t sender, uint64_t origin,
		uint32_t counter, uint8_t hops)
{
	uint8_t buf[XG_UDP_MAX];
	size_t n = make_pkt(buf, type, sender, origin, counter, hops,
			    WALL0 + S.now / MS - 1000);

	return xg_msgr_on_packet(S.m, sender, buf, n, S.now);
}

static void idof(uint8_t id[16], uint64_t origin, uint32_t counter)
{
	xg_msg_id_make(id, origin, 3, counter);
}

static size_t count_type(uint8_t type)
{
	size_t i, n = 0;

	for (i = 0; i < S.nsent; i++)
		n += S.sent[i].p.type == type;
	return n;
}

/* --- configuration ------------------------------------------------------- */

static void test_config(void **state)
{
	struct xg_msg_config c;
	struct xg_msgr *m = (struct xg_msgr *)1;
	struct xg_msg_io io = solo_io;

	(void)state;
	xg_msg_config_defaults(&c);
	assert_int_equal(c.fanout, 3);
	assert_int_equal(c.ack_timeout_ns, 300 * MS);
	assert_int_equal(c.cache_max, 4096);
	assert_int_equal(c.cache_ttl_ns, 120000 * MS);
	assert_int_equal(c.max_age_ms, 300000);
	assert_int_equal(c.seen_ttl_ms, 360000);
	assert_int_equal(c.sync_rounds, 3);
	assert_int_equal(c.pull_tries, 16);
	/* id 0 */
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	assert_null(m);
	solo_config(&c);
	c.fanout = 0;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	c.fanout = XG_MSG_FANOUT_MAX + 1;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	solo_config(&c);
	c.seen_ttl_ms = c.max_age_ms - 1;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	solo_config(&c);
	c.ack_timeout_ns = 0;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	solo_config(&c);
	c.sync_rounds = 256;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	solo_config(&c);
	io.pick = NULL;
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), -EINVAL);
	io = solo_io;
	io.seen = NULL; /* optional */
	assert_int_equal(xg_msgr_new(&m, &c, &io, 0), 0);
	assert_int_equal(xg_msgr_config(m)->self_id, SELF);
	assert_int_equal(xg_msgr_next_deadline(m), UINT64_MAX);
	xg_msgr_free(m);
	xg_msgr_free(NULL);
}

/* --- broadcast ----------------------------------------------------------- */

static void test_broadcast(void **state)
{
	uint8_t id[16], id2[16], big[XG_UDP_MAX];
	char topic[XG_MSG_TOPIC_MAX + 2];
	size_t i;

	(void)state;
	assert_int_equal(xg_msgr_broadcast(S.m, "cfg/reload", "abc", 3, S.now,
					   id), 0);
	assert_int_equal(xg_msg_id_origin(id), SELF);
	assert_int_equal(xg_msg_id_seq(id), (5ULL << 32) | 0);
	/* not delivered here, but seen and cached */
	assert_int_equal(S.ngot, 0);
	assert_int_equal(S.nseen, 1);
	assert_true(xg_msgr_has_seen(S.m, id));
	assert_int_equal(st()->cached, 1);
	/* PUSH to f = 3 members, hops 0, from us */
	assert_int_equal(S.nsent, 3);
	for (i = 0; i < 3; i++) {
		const struct xg_msg_pkt *p = &S.sent[i].p;

		assert_int_equal(S.sent[i].to, PEER(i));
		assert_int_equal(p->type, XG_T_PUSH);
		assert_int_equal(p->key_id, 1);
		assert_int_equal(p->cluster_id, CLUSTER);
		assert_memory_equal(p->msg.id, id, 16);
		assert_int_equal(p->msg.sender_id, SELF);
		assert_int_equal(p->msg.hops, 0);
		assert_int_equal(p->msg.origin_ms, WALL0 + S.now / MS);
		assert_string_equal(p->msg.topic, "cfg/reload");
		assert_int_equal(p->msg.payload_len, 3);
		assert_memory_equal(p->msg.payload, "abc", 3);
	}
	assert_int_equal(st()->pushes_sent, 3);
	assert_int_equal(st()->rounds_started, 1);
	assert_int_equal(st()->rounds_open, 1);
	assert_int_equal(xg_msgr_next_deadline(S.m), S.now + 300 * MS);
	/* the next id is the next counter */
	assert_int_equal(xg_msgr_broadcast(S.m, "t", NULL, 0, S.now, id2), 0);
	assert_int_equal(xg_msg_id_seq(id2), (5ULL << 32) | 1);
	assert_int_equal(st()->broadcasts, 2);

	/* refusals use up no id */
	clear_sent();
	memset(big, 'x', sizeof(big));
	assert_int_equal(xg_msgr_broadcast(S.m, "", "a", 1, S.now, NULL),
			 -EINVAL);
	assert_int_equal(xg_msgr_broadcast(S.m, NULL, "a", 1, S.now, NULL),
			 -EINVAL);
	assert_int_equal(xg_msgr_broadcast(S.m, "a\nb", "a", 1, S.now, NULL),
			 -EINVAL);
	assert_int_equal(xg_msgr_broadcast(S.m, "t", NULL, 1, S.now, NULL),
			 -EINVAL);
	memset(topic, 'T', sizeof(topic));
	topic[XG_MSG_TOPIC_MAX + 1] = '\0';
	assert_int_equal(xg_msgr_broadcast(S.m, topic, "a", 1, S.now, NULL),
			 -EINVAL);
	topic[XG_MSG_TOPIC_MAX] = '\0';
	assert_int_equal(xg_msgr_broadcast(S.m, topic, big,
					   XG_MSG_MAX_PAYLOAD + 1, S.now,
					   NULL), -EMSGSIZE);
	/* a short topic leaves room for a longer payload */
	assert_int_equal(xg_msgr_broadcast(S.m, "t", big,
					   XG_MSG_MAX_PAYLOAD + 64, S.now,
					   NULL), -EMSGSIZE);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(xg_msgr_broadcast(S.m, topic, big,
					   XG_MSG_MAX_PAYLOAD, S.now, id2), 0);
	assert_int_equal(xg_msg_id_seq(id2), (5ULL << 32) | 2);
	assert_int_equal(S.sent[0].len, XG_UDP_MAX);
	assert_int_equal(xg_msgr_broadcast(S.m, "t", big,
					   XG_MSG_MAX_PAYLOAD + 63, S.now,
					   NULL), 0);
	assert_int_equal(S.sent[3].len, XG_UDP_MAX);
	assert_int_equal(S.ngot, 0);
}

static void test_broadcast_alone(void **state)
{
	uint8_t id[16];

	(void)state;
	S.npeers = 0;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, id), 0);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->rounds_open, 0);
	assert_true(xg_msgr_has_seen(S.m, id));
}

static void test_broadcast_send_errors(void **state)
{
	(void)state;
	S.send_ret = -EHOSTUNREACH;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, NULL), 0);
	assert_int_equal(st()->tx_errors, 3);
	assert_int_equal(st()->pushes_sent, 3);
}

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

/* 100k ids in one run, then three "restarts" (the daemon bumps the
 * incarnation on each): all distinct. */
static void test_id_uniqueness(void **state)
{
	struct xg_msg_config c;
	const size_t per_run = 100000, restarts = 3, later = 2000;
	size_t total = per_run + restarts * later, n = 0, i, r;
	uint8_t (*ids)[16] = malloc(total * 16);

	(void)state;
	assert_non_null(ids);
	xg_msgr_free(S.m);
	solo_config(&c);
	c.seen_max = 1 << 17;
	c.cache_max = 16;
	solo_start_cfg(&c);
	S.npeers = 0;
	for (i = 0; i < per_run; i++)
		assert_int_equal(xg_msgr_broadcast(S.m, "t", NULL, 0, S.now,
						   ids[n++]), 0);
	assert_int_equal(st()->cached, 16);
	for (r = 1; r <= restarts; r++) {
		xg_msgr_free(S.m);
		c.incarnation = 5 + (uint32_t)r;
		solo_start_cfg(&c);
		S.npeers = 0;
		for (i = 0; i < later; i++)
			assert_int_equal(xg_msgr_broadcast(S.m, "t", NULL, 0,
							   S.now, ids[n++]),
					 0);
	}
	qsort(ids, total, 16, cmp_id);
	for (i = 1; i < total; i++)
		assert_int_not_equal(memcmp(ids[i - 1], ids[i], 16), 0);
	free(ids);
}

/* 2^32 ids per incarnation, then none: a reused id would be taken for a
 * duplicate by every member. */
static void test_id_exhaustion(void **state)
{
	uint8_t id[16];

	(void)state;
	S.npeers = 0;
	S.m->counter = UINT32_MAX;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", NULL, 0, S.now, id), 0);
	assert_int_equal(xg_msg_id_seq(id), (5ULL << 32) | UINT32_MAX);
	assert_int_equal(xg_msgr_broadcast(S.m, "t", NULL, 0, S.now, id),
			 -EOVERFLOW);
}

/* --- receiving a PUSH ---------------------------------------------------- */

static void test_push_first_copy(void **state)
{
	const struct got *g;
	size_t i;

	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(4), PEER(9), 7, 2), 0);
	/* delivered once, with the packet's content */
	assert_int_equal(S.ngot, 1);
	g = &S.got[0];
	assert_int_equal(g->m.origin_id, PEER(9));
	assert_int_equal(g->m.sender_id, PEER(4));
	assert_int_equal(g->m.hops, 2);
	assert_string_equal(g->m.topic, "jobs/done");
	assert_int_equal(g->m.payload_len, 5);
	assert_memory_equal(g->payload, "hello", 5);
	assert_int_equal(S.nseen, 1);
	/* ACK to the sender first, then PUSH to f members but the sender,
	 * one hop further */
	assert_int_equal(S.nsent, 4);
	assert_int_equal(S.sent[0].p.type, XG_T_PUSH_ACK);
	assert_int_equal(S.sent[0].to, PEER(4));
	assert_int_equal(S.sent[0].len, 48);
	assert_memory_equal(S.sent[0].p.msg.id, g->m.id, 16);
	assert_int_equal(S.sent[0].p.msg.sender_id, SELF);
	for (i = 1; i < 4; i++) {
		assert_int_equal(S.sent[i].p.type, XG_T_PUSH);
		assert_int_not_equal(S.sent[i].to, PEER(4));
		assert_int_equal(S.sent[i].p.msg.hops, 3);
		assert_int_equal(S.sent[i].p.msg.sender_id, SELF);
		assert_int_equal(S.sent[i].p.msg.origin_ms,
				 WALL0 + S.now / MS - 1000);
	}
	assert_int_equal(S.sent[1].to, PEER(0));
	assert_int_equal(S.sent[3].to, PEER(2));
	assert_int_equal(st()->pushes_recv, 1);
	assert_int_equal(st()->acks_sent, 1);
	assert_int_equal(st()->delivered, 1);
	assert_int_equal(st()->rounds_open, 1);

	/* a second copy, from anyone: counted, nothing else */
	clear_sent();
	assert_int_equal(feed(XG_T_PUSH, PEER(5), PEER(9), 7, 1), 0);
	assert_int_equal(feed(XG_T_PULL_RESPONSE, PEER(6), PEER(9), 7, 1), 0);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(S.nseen, 1);
	assert_int_equal(st()->dups, 2);
}

static void test_push_hop_limit(void **state)
{
	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(4), PEER(9), 1,
			      XG_MSG_HOP_LIMIT - 1), 0);
	assert_int_equal(count_type(XG_T_PUSH), 3);
	assert_int_equal(S.sent[1].p.msg.hops, XG_MSG_HOP_LIMIT);
	clear_sent();
	assert_int_equal(feed(XG_T_PUSH, PEER(4), PEER(9), 2,
			      XG_MSG_HOP_LIMIT), 0);
	/* delivered and ACKed, not pushed on */
	assert_int_equal(S.ngot, 2);
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.sent[0].p.type, XG_T_PUSH_ACK);
	assert_int_equal(st()->hop_limited, 1);
	clear_sent();
	assert_int_equal(feed(XG_T_PUSH, PEER(4), PEER(9), 3, 255), 0);
	assert_int_equal(S.nsent, 1);
	/* and a pull of it later carries hops 255, not 0 */
	assert_int_equal(feed(XG_T_PULL_REQUEST, PEER(1), PEER(9), 3, 0), 0);
	assert_int_equal(S.sent[1].p.type, XG_T_PULL_RESPONSE);
	assert_int_equal(S.sent[1].p.msg.hops, 255);
}

/* The application may broadcast from its deliver callback: the message
 * being handled is pushed on first, and both go out intact. */
static void test_deliver_reentrant(void **state)
{
	(void)state;
	S.bcast_on_deliver = true;
	assert_int_equal(feed(XG_T_PUSH, PEER(4), PEER(9), 7, 0), 0);
	assert_int_equal(S.nsent, 7);
	assert_int_equal(S.sent[0].p.type, XG_T_PUSH_ACK);
	assert_string_equal(S.sent[1].p.msg.topic, "jobs/done");
	assert_string_equal(S.sent[3].p.msg.topic, "jobs/done");
	assert_string_equal(S.sent[4].p.msg.topic, "reply");
	assert_int_equal(S.sent[4].p.msg.origin_id, SELF);
	assert_int_equal(st()->rounds_open, 2);
}

/* --- age ----------------------------------------------------------------- */

static int feed_aged(uint32_t counter, int64_t age_ms)
{
	uint8_t buf[XG_UDP_MAX];
	uint64_t wall = WALL0 + S.now / MS;
	size_t n = make_pkt(buf, XG_T_PUSH, PEER(1), PEER(9), counter, 0,
			    (uint64_t)((int64_t)wall - age_ms));

	return xg_msgr_on_packet(S.m, PEER(1), buf, n, S.now);
}

static void test_refuse_old_and_future(void **state)
{
	uint8_t id[16];

	(void)state;
	/* max_age 300 s; future allowance half of seen_ttl - max_age */
	assert_int_equal(feed_aged(1, 300001), -ESTALE);
	assert_int_equal(st()->refused_old, 1);
	assert_int_equal(feed_aged(2, -30001), -ESTALE);
	assert_int_equal(st()->refused_future, 1);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(S.ngot, 0);
	assert_int_equal(S.nseen, 0);
	idof(id, PEER(9), 1);
	assert_false(xg_msgr_has_seen(S.m, id));
	/* the limits themselves are fine */
	assert_int_equal(feed_aged(3, 300000), 0);
	assert_int_equal(feed_aged(4, -30000), 0);
	assert_int_equal(S.ngot, 2);
	/* PULL_RESPONSE follows the same rule */
	{
		uint8_t buf[XG_UDP_MAX];
		size_t n = make_pkt(buf, XG_T_PULL_RESPONSE, PEER(1), PEER(9),
				    5, 0, WALL0 + S.now / MS - 400000);

		assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, n,
						   S.now), -ESTALE);
	}
	assert_int_equal(st()->refused_old, 2);
	assert_int_equal(st()->rx_bad, 0);
}

/* The point of the age limit: a copy that turns up after its id has left
 * the seen table is too old to be delivered again. */
static void test_no_redelivery_after_seen_expiry(void **state)
{
	uint8_t buf[XG_UDP_MAX], id[16];
	uint64_t origin_ms = WALL0 + S.now / MS;
	size_t n = make_pkt(buf, XG_T_PUSH, PEER(1), PEER(9), 1, 0, origin_ms);

	(void)state;
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, n, S.now), 0);
	assert_int_equal(S.ngot, 1);
	idof(id, PEER(9), 1);
	tick_at(S.now + 360000 * MS - 1);
	assert_true(xg_msgr_has_seen(S.m, id));
	tick_at(S.now + 1);
	assert_false(xg_msgr_has_seen(S.m, id));
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, n, S.now),
			 -ESTALE);
	assert_int_equal(S.ngot, 1);
	/* even from an origin whose clock ran the full allowance ahead */
	n = make_pkt(buf, XG_T_PUSH, PEER(1), PEER(9), 2, 0,
		     WALL0 + S.now / MS + 30000);
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, n, S.now), 0);
	tick_at(S.now + 360000 * MS);
	idof(id, PEER(9), 2);
	assert_false(xg_msgr_has_seen(S.m, id));
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, n, S.now),
			 -ESTALE);
	assert_int_equal(S.ngot, 2);
}

/* --- ACK rounds ---------------------------------------------------------- */

static void test_ack_majority(void **state)
{
	uint8_t id[16];
	uint64_t t0 = S.now;

	(void)state;
	/* pushed to PEER(0..2) */
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, id), 0);
	clear_sent();
	/* an ACK from a member we did not push to does not count */
	{
		struct xg_msg_pkt p;
		uint8_t buf[64];

		memset(&p, 0, sizeof(p));
		p.type = XG_T_PUSH_ACK;
		p.key_id = 1;
		p.cluster_id = CLUSTER;
		memcpy(p.msg.id, id, 16);
		p.msg.sender_id = PEER(7);
		assert_int_equal(xg_msg_encode(&p, key1, buf, sizeof(buf)), 48);
		assert_int_equal(xg_msgr_on_packet(S.m, PEER(7), buf, 48,
						   S.now), 0);
		assert_int_equal(st()->acks_unexpected, 1);
		/* one from a target counts, twice only once */
		p.msg.sender_id = PEER(1);
		assert_int_equal(xg_msg_encode(&p, key1, buf, sizeof(buf)), 48);
		assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, 48,
						   S.now), 0);
		assert_int_equal(xg_msgr_on_packet(S.m, PEER(1), buf, 48,
						   S.now), 0);
		assert_int_equal(st()->acks_unexpected, 2);
		assert_int_equal(st()->rounds_open, 1);
		/* the second distinct target makes 2 of 3: done */
		p.msg.sender_id = PEER(2);
		assert_int_equal(xg_msg_encode(&p, key1, buf, sizeof(buf)), 48);
		assert_int_equal(xg_msgr_on_packet(S.m, PEER(2), buf, 48,
						   S.now), 0);
	}
	assert_int_equal(st()->acks_recv, 4);
	assert_int_equal(st()->rounds_majority, 1);
	assert_int_equal(st()->rounds_open, 0);
	/* nothing more ever happens for it */
	tick_at(t0 + 10000 * MS);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->pull_syncs_sent, 0);
	assert_int_equal(st()->rounds_short, 0);
}

static void check_syncs(size_t from, uint64_t first_peer, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < 5; i++) {
		const struct sent *e = &S.sent[from + i];

		assert_int_equal(e->p.type, XG_T_PULL_SYNC);
		assert_int_equal(e->len, 48);
		assert_memory_equal(e->p.msg.id, id, 16);
		assert_int_equal(e->to, first_peer + i);
	}
}

/* One ACK of three: at the timeout, PULL_SYNC to f + 2 = 5 members that
 * were not pushed to; then sync_rounds - 1 more rounds, one per timeout;
 * then the round is over. */
static void test_ack_short_pull_sync(void **state)
{
	uint8_t id[16], buf[64];
	struct xg_msg_pkt p;
	uint64_t t0 = S.now;
	unsigned r;

	(void)state;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, id), 0);
	memset(&p, 0, sizeof(p));
	p.type = XG_T_PUSH_ACK;
	p.key_id = 1;
	p.cluster_id = CLUSTER;
	memcpy(p.msg.id, id, 16);
	p.msg.sender_id = PEER(0);
	assert_int_equal(xg_msg_encode(&p, key1, buf, sizeof(buf)), 48);
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(0), buf, 48, S.now), 0);
	clear_sent();
	tick_at(t0 + 300 * MS - 1);
	assert_int_equal(S.nsent, 0);
	for (r = 1; r <= 3; r++) {
		tick_at(t0 + r * 300 * MS);
		assert_int_equal(S.nsent, 5 * r);
		/* targets were PEER(0..2): the next five in pick order */
		check_syncs(5 * (r - 1), PEER(3), id);
		assert_int_equal(xg_msgr_next_deadline(S.m),
				 S.now + 300 * MS);
	}
	tick_at(t0 + 10000 * MS);
	assert_int_equal(st()->rounds_open, 0);
	assert_int_equal(S.nsent, 15);
	assert_int_equal(st()->rounds_short, 1);
	assert_int_equal(st()->pull_syncs_sent, 15);
}

static void ack_at(const uint8_t id[16], uint64_t from, uint64_t t)
{
	struct xg_msg_pkt p;
	uint8_t buf[64];

	memset(&p, 0, sizeof(p));
	p.type = XG_T_PUSH_ACK;
	p.key_id = 1;
	p.cluster_id = CLUSTER;
	memcpy(p.msg.id, id, 16);
	p.msg.sender_id = from;
	assert_int_equal(xg_msg_encode(&p, key1, buf, sizeof(buf)), 48);
	S.now = t;
	assert_int_equal(xg_msgr_on_packet(S.m, from, buf, 48, t), 0);
}

/* Rounds wait what ACKs take (four times the smoothed time plus 5 ms),
 * at least 20 ms and at most ack_timeout; before any ACK was timed, the
 * full ack_timeout. */
static void test_ack_wait_adapts(void **state)
{
	uint8_t id[16];
	uint64_t t;
	int i;

	(void)state;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, id), 0);
	assert_int_equal(xg_msgr_next_deadline(S.m), S.now + 300 * MS);
	/* ACKed after 2 ms: 4 * 2 + 5 = 13 ms, so the 20 ms floor */
	ack_at(id, PEER(0), S.now + 2 * MS);
	ack_at(id, PEER(1), S.now);
	assert_int_equal(st()->rounds_majority, 1);
	t = S.now;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "b", 1, t, id), 0);
	assert_int_equal(xg_msgr_next_deadline(S.m), t + 20 * MS);
	/* nobody ACKs: the short round pull-syncs after 20 ms, and its
	 * next pull-sync round follows 20 ms later */
	clear_sent();
	tick_at(t + 20 * MS - 1);
	assert_int_equal(S.nsent, 0);
	tick_at(t + 20 * MS);
	assert_int_equal(count_type(XG_T_PULL_SYNC), 5);
	assert_int_equal(xg_msgr_next_deadline(S.m), S.now + 20 * MS);
	tick_at(t + 10000 * MS);
	/* slow ACKs (50 ms) lengthen the wait towards 4 * 50 + 5 ms */
	for (i = 0; i < 40; i++) {
		clear_sent();
		tick_at(S.now);
		t = S.now;
		assert_int_equal(xg_msgr_broadcast(S.m, "t", "c", 1, t, id), 0);
		ack_at(id, PEER(0), t + 50 * MS);
		ack_at(id, PEER(1), t + 50 * MS);
	}
	tick_at(S.now);
	t = S.now;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "d", 1, t, id), 0);
	assert_true(xg_msgr_next_deadline(S.m) >= t + 190 * MS);
	assert_true(xg_msgr_next_deadline(S.m) <= t + 205 * MS);
	/* and never past ack_timeout */
	for (i = 0; i < 40; i++) {
		clear_sent();
		tick_at(S.now);
		t = S.now;
		assert_int_equal(xg_msgr_broadcast(S.m, "t", "e", 1, t, id), 0);
		ack_at(id, PEER(0), t + 900 * MS);
		ack_at(id, PEER(1), t + 900 * MS);
	}
	tick_at(S.now);
	t = S.now;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "f", 1, t, id), 0);
	assert_int_equal(xg_msgr_next_deadline(S.m), t + 300 * MS);
}

/* A forwarder's pull-sync skips the member it got the message from as
 * well as its own push targets. */
static void test_forwarder_pull_sync_skips_upstream(void **state)
{
	uint8_t id[16];
	uint64_t t0 = S.now;

	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1, 0), 0);
	/* ACK to PEER(0); pushes to PEER(1..3) */
	assert_int_equal(S.sent[1].to, PEER(1));
	assert_int_equal(S.sent[3].to, PEER(3));
	clear_sent();
	tick_at(t0 + 300 * MS);
	idof(id, PEER(9), 1);
	check_syncs(0, PEER(4), id);
	assert_int_equal(S.nsent, 5);
}

/* A cluster smaller than f + 2 + f: as many as there are. */
static void test_pull_sync_small_cluster(void **state)
{
	uint64_t t0 = S.now;

	(void)state;
	S.npeers = 5;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, NULL), 0);
	clear_sent();
	tick_at(t0 + 300 * MS);
	assert_int_equal(S.nsent, 2);
	assert_int_equal(S.sent[0].to, PEER(3));
	assert_int_equal(S.sent[1].to, PEER(4));
	/* and with nobody left, none */
	S.npeers = 3;
	clear_sent();
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, NULL), 0);
	clear_sent();
	tick_at(S.now + 1000 * MS);
	assert_int_equal(count_type(XG_T_PULL_SYNC), 0);
}

/* --- pull ---------------------------------------------------------------- */

static void test_pull_sync_seen_ignored(void **state)
{
	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1, 0), 0);
	clear_sent();
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(5), PEER(9), 1, 0), 0);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->pull_syncs_recv, 1);
	assert_int_equal(st()->pull_syncs_known, 1);
	assert_int_equal(st()->pulls_open, 0);
	/* our own broadcast too */
	{
		uint8_t id[16], buf[64];
		struct xg_msg_pkt p;

		assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now,
						   id), 0);
		clear_sent();
		memset(&p, 0, sizeof(p));
		p.type = XG_T_PULL_SYNC;
		p.key_id = 1;
		p.cluster_id = CLUSTER;
		memcpy(p.msg.id, id, 16);
		p.msg.sender_id = PEER(5);
		assert_int_equal(xg_msg_encode(&p, key1, buf, 64), 48);
		assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, 48, S.now), 0);
		assert_int_equal(S.nsent, 0);
	}
}

static void test_pull_request_and_retries(void **state)
{
	struct xg_msg_config c;
	uint8_t id[16];
	uint64_t t0;

	(void)state;
	xg_msgr_free(S.m);
	solo_config(&c);
	c.pull_tries = 4;
	solo_start_cfg(&c);
	t0 = S.now;
	idof(id, PEER(9), 1);
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(5), PEER(9), 1, 0), 0);
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.sent[0].p.type, XG_T_PULL_REQUEST);
	assert_int_equal(S.sent[0].to, PEER(5));
	assert_memory_equal(S.sent[0].p.msg.id, id, 16);
	assert_int_equal(st()->pulls_open, 1);
	/* one outstanding request per id: more PULL_SYNCs are remembered,
	 * not answered */
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(6), PEER(9), 1, 0), 0);
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(6), PEER(9), 1, 0), 0);
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(7), PEER(9), 1, 0), 0);
	assert_int_equal(S.nsent, 1);
	assert_int_equal(xg_msgr_next_deadline(S.m), t0 + 300 * MS);
	/* unanswered: the next holder, in the order they announced it */
	tick_at(t0 + 300 * MS);
	assert_int_equal(S.nsent, 2);
	assert_int_equal(S.sent[1].to, PEER(6));
	tick_at(t0 + 600 * MS);
	assert_int_equal(S.sent[2].to, PEER(7));
	tick_at(t0 + 900 * MS);
	assert_int_equal(S.sent[3].to, PEER(5));
	assert_int_equal(st()->pull_requests_sent, 4);
	/* pull_tries = 4 used up: given up */
	tick_at(t0 + 1200 * MS);
	assert_int_equal(S.nsent, 4);
	assert_int_equal(st()->pulls_failed, 1);
	assert_int_equal(st()->pulls_open, 0);
	/* a later PULL_SYNC starts over */
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(8), PEER(9), 1, 0), 0);
	assert_int_equal(S.nsent, 5);
	assert_int_equal(S.sent[4].to, PEER(8));
}

/* The response ends the pull: delivered, no ACK (nobody runs a round for
 * it), pushed on to f members other than the responder, no more
 * requests. */
static void test_pull_response_delivers(void **state)
{
	uint64_t t0 = S.now;
	size_t i;

	(void)state;
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(5), PEER(9), 1, 0), 0);
	clear_sent();
	assert_int_equal(feed(XG_T_PULL_RESPONSE, PEER(5), PEER(9), 1, 4), 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(S.got[0].m.sender_id, PEER(5));
	assert_int_equal(st()->pulls_open, 0);
	assert_int_equal(st()->pull_responses_recv, 1);
	assert_int_equal(count_type(XG_T_PUSH_ACK), 0);
	assert_int_equal(count_type(XG_T_PUSH), 3);
	for (i = 0; i < S.nsent; i++) {
		assert_int_not_equal(S.sent[i].to, PEER(5));
		assert_int_equal(S.sent[i].p.msg.hops, 5);
	}
	clear_sent();
	tick_at(t0 + 300 * MS);
	assert_int_equal(count_type(XG_T_PULL_REQUEST), 0);
}

/* An unsolicited PULL_RESPONSE is a first copy like any other. */
static void test_pull_response_unsolicited(void **state)
{
	(void)state;
	assert_int_equal(feed(XG_T_PULL_RESPONSE, PEER(5), PEER(9), 1, 0), 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(count_type(XG_T_PUSH_ACK), 0);
}

static void test_pull_request_served(void **state)
{
	const struct sent *e;

	(void)state;
	/* not cached: nothing */
	assert_int_equal(feed(XG_T_PULL_REQUEST, PEER(5), PEER(9), 1, 0), 0);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->pull_misses, 1);
	/* cached: the same content, from us, hops one more than we got */
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1, 2), 0);
	clear_sent();
	assert_int_equal(feed(XG_T_PULL_REQUEST, PEER(5), PEER(9), 1, 0), 0);
	assert_int_equal(S.nsent, 1);
	e = &S.sent[0];
	assert_int_equal(e->to, PEER(5));
	assert_int_equal(e->p.type, XG_T_PULL_RESPONSE);
	assert_int_equal(e->p.msg.sender_id, SELF);
	assert_int_equal(e->p.msg.origin_id, PEER(9));
	assert_int_equal(e->p.msg.hops, 3);
	assert_int_equal(e->p.msg.origin_ms, WALL0 + S.now / MS - 1000);
	assert_string_equal(e->p.msg.topic, "jobs/done");
	assert_int_equal(e->p.msg.payload_len, 5);
	assert_memory_equal(e->p.msg.payload, "hello", 5);
	assert_int_equal(st()->pull_responses_sent, 1);
	/* our own broadcasts are served too, hops 0 */
	{
		uint8_t id[16], buf[64];
		struct xg_msg_pkt p;

		assert_int_equal(xg_msgr_broadcast(S.m, "mine", "xy", 2, S.now,
						   id), 0);
		clear_sent();
		memset(&p, 0, sizeof(p));
		p.type = XG_T_PULL_REQUEST;
		p.key_id = 1;
		p.cluster_id = CLUSTER;
		memcpy(p.msg.id, id, 16);
		p.msg.sender_id = PEER(11);
		assert_int_equal(xg_msg_encode(&p, key1, buf, 64), 48);
		assert_int_equal(xg_msgr_on_packet(S.m, PEER(11), buf, 48,
						   S.now), 0);
		assert_int_equal(S.nsent, 1);
		assert_int_equal(S.sent[0].p.msg.hops, 0);
		assert_string_equal(S.sent[0].p.msg.topic, "mine");
	}
	/* after the cache TTL: gone */
	tick_at(S.now + 120000 * MS);
	clear_sent();
	assert_int_equal(feed(XG_T_PULL_REQUEST, PEER(5), PEER(9), 1, 0), 0);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(st()->pull_misses, 2);
	assert_int_equal(st()->cached, 0);
}


/* --- sequence gaps ------------------------------------------------------- */

static bool wants(uint64_t origin, uint32_t counter)
{
	uint8_t id[16];

	xg_msg_id_make(id, origin, pkt_inc, counter);
	return xg_wants_find(&S.m->wants, id) != NULL;
}

/* Counter 4 after 1 reveals 2 and 3: after an ack timeout (copies may be
 * on their way) they are pulled from the member that sent 4, then from
 * the origin; each pull ends when its message comes. */
static void test_gap_repair(void **state)
{
	uint64_t t0 = S.now;
	size_t i;

	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1, 0), 0);
	assert_int_equal(st()->gaps_found, 0);
	assert_int_equal(feed(XG_T_PUSH, PEER(1), PEER(9), 4, 0), 0);
	assert_int_equal(st()->gaps_found, 2);
	assert_true(wants(PEER(9), 2));
	assert_true(wants(PEER(9), 3));
	assert_int_equal(count_type(XG_T_PULL_REQUEST), 0);
	clear_sent();
	tick_at(t0 + 300 * MS - 1);
	assert_int_equal(count_type(XG_T_PULL_REQUEST), 0);
	tick_at(t0 + 300 * MS);
	assert_int_equal(count_type(XG_T_PULL_REQUEST), 2);
	for (i = 0; i < S.nsent; i++)
		if (S.sent[i].p.type == XG_T_PULL_REQUEST)
			assert_int_equal(S.sent[i].to, PEER(1));
	clear_sent();
	tick_at(t0 + 600 * MS);
	assert_int_equal(count_type(XG_T_PULL_REQUEST), 2);
	for (i = 0; i < S.nsent; i++)
		if (S.sent[i].p.type == XG_T_PULL_REQUEST)
			assert_int_equal(S.sent[i].to, PEER(9));
	/* 2 is answered, 3 turns up late on its own */
	assert_int_equal(feed(XG_T_PULL_RESPONSE, PEER(9), PEER(9), 2, 0), 0);
	assert_false(wants(PEER(9), 2));
	assert_int_equal(feed(XG_T_PUSH, PEER(3), PEER(9), 3, 1), 0);
	assert_false(wants(PEER(9), 3));
	assert_int_equal(S.ngot, 4);
	assert_int_equal(st()->pulls_open, 0);
	/* nothing new: no gap */
	assert_int_equal(st()->gaps_found, 2);
	clear_sent();
	tick_at(t0 + 10000 * MS);
	assert_int_equal(count_type(XG_T_PULL_REQUEST), 0);
	assert_int_equal(st()->pulls_failed, 0);
}

/* A gap want that has not asked yet asks at once when a PULL_SYNC names
 * a member that has the message. */
static void test_gap_then_pull_sync(void **state)
{
	(void)state;
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1, 0), 0);
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 3, 0), 0);
	clear_sent();
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(7), PEER(9), 2, 0), 0);
	assert_int_equal(S.nsent, 1);
	assert_int_equal(S.sent[0].p.type, XG_T_PULL_REQUEST);
	assert_int_equal(S.sent[0].to, PEER(7));
	/* and only once: now a request is out */
	assert_int_equal(feed(XG_T_PULL_SYNC, PEER(8), PEER(9), 2, 0), 0);
	assert_int_equal(S.nsent, 1);
}

static void test_gap_limits(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	size_t n;

	(void)state;
	/* the first message of an origin is a baseline, whatever its
	 * counter */
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 50, 0), 0);
	assert_int_equal(st()->gaps_found, 0);
	/* a long jump: only the XG_GAP_MAX counters nearest to it */
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1050, 0), 0);
	assert_int_equal(st()->gaps_found, XG_GAP_MAX);
	assert_true(wants(PEER(9), 1049));
	assert_true(wants(PEER(9), 1050 - XG_GAP_MAX));
	assert_false(wants(PEER(9), 1050 - XG_GAP_MAX - 1));
	/* a counter below the highest: nothing */
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 10, 0), 0);
	assert_int_equal(st()->gaps_found, XG_GAP_MAX);
	/* a new incarnation of the origin starts a new sequence */
	pkt_inc = 4;
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 7, 0), 0);
	assert_int_equal(st()->gaps_found, XG_GAP_MAX);
	assert_int_equal(st()->origins, 2);
	/* after the cache TTL the neighbours are in nobody's cache */
	tick_at(S.now + 120001 * MS);
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 9, 0), 0);
	assert_int_equal(st()->gaps_found, XG_GAP_MAX);
	/* but right after, a gap counts again */
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 11, 0), 0);
	assert_int_equal(st()->gaps_found, XG_GAP_MAX + 1);
	/* a response too old to accept ends the pull of it */
	assert_true(wants(PEER(9), 10));
	n = make_pkt(buf, XG_T_PULL_RESPONSE, PEER(0), PEER(9), 10, 0,
		     WALL0 + S.now / MS - 300001);
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(0), buf, n, S.now),
			 -ESTALE);
	assert_false(wants(PEER(9), 10));
}

/* --- refusals ------------------------------------------------------------ */

static void test_rejects(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	size_t n;

	(void)state;
	n = make_pkt(buf, XG_T_PUSH, PEER(1), PEER(9), 1, 0,
		     WALL0 + S.now / MS);
	/* the hint names someone else */
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(2), buf, n, S.now),
			 -EPERM);
	/* our own id as sender, or 0 */
	n = make_pkt(buf, XG_T_PUSH, SELF, PEER(9), 1, 0, WALL0 + S.now / MS);
	assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, n, S.now), -EPERM);
	n = make_pkt(buf, XG_T_PUSH, 0, PEER(9), 1, 0, WALL0 + S.now / MS);
	assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, n, S.now), -EPERM);
	/* another cluster (valid MAC) */
	n = make_pkt(buf, XG_T_PUSH_ACK, PEER(1), PEER(9), 1, 0, 0);
	buf[15] ^= 1;
	{
		uint8_t mac[8];

		xg_mac_store(mac, xg_siphash24(key1, buf, (__u32)(n - 8)));
		memcpy(buf + n - 8, mac, 8);
	}
	assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, n, S.now), -EXDEV);
	/* a key id we do not have */
	n = make_pkt(buf, XG_T_PUSH, PEER(1), PEER(9), 1, 0,
		     WALL0 + S.now / MS);
	buf[5] = 7;
	assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, n, S.now), -ENOKEY);
	/* a bad MAC, garbage, a probe type */
	n = make_pkt(buf, XG_T_PUSH, PEER(1), PEER(9), 1, 0,
		     WALL0 + S.now / MS);
	buf[n - 1] ^= 0x80;
	assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, n, S.now), -EACCES);
	assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, 10, S.now), -EBADMSG);
	buf[n - 1] ^= 0x80;
	buf[3] = XG_T_PING;
	assert_int_equal(xg_msgr_on_packet(S.m, 0, buf, n, S.now), -EPROTO);
	assert_int_equal(xg_msgr_on_packet(S.m, 0, NULL, 0, S.now), -EINVAL);
	assert_int_equal(st()->rx_bad, 8);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(S.ngot, 0);
	assert_int_equal(S.nseen, 0);
	assert_int_equal(st()->seen_entries, 0);
}

static void test_seen_full(void **state)
{
	struct xg_msg_config c;

	(void)state;
	xg_msgr_free(S.m);
	solo_config(&c);
	c.seen_max = 2;
	solo_start_cfg(&c);
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1, 0), 0);
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, NULL), 0);
	clear_sent();
	/* refused: not delivered, not ACKed (so its sender pulls later) */
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 2, 0), -ENOBUFS);
	assert_int_equal(st()->refused_full, 1);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(S.ngot, 1);
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, NULL),
			 -ENOBUFS);
	/* once entries expire there is room again, and the refused
	 * broadcast used up no id */
	tick_at(S.now + 360000 * MS);
	assert_int_equal(st()->seen_entries, 0);
	{
		uint8_t id[16];

		assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now,
						   id), 0);
		assert_int_equal(xg_msg_id_seq(id), (5ULL << 32) | 1);
	}
}

/* --- keys ---------------------------------------------------------------- */

static void test_key_rotation(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	size_t n;
	int i;

	(void)state;
	/* new primary: what we send is signed with it and says so */
	assert_int_equal(xg_msgr_set_key(S.m, 2, key2), 0);
	memcpy(S.keyring_key, key2, 16);
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, S.now, NULL), 0);
	assert_int_equal(S.sent[0].p.key_id, 2);
	/* the old key still verifies */
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 1, 0), 0);
	assert_int_equal(S.ngot, 1);
	/* the primary cannot go; an unknown id is not there */
	assert_int_equal(xg_msgr_remove_key(S.m, 2), -EBUSY);
	assert_int_equal(xg_msgr_remove_key(S.m, 9), -ENOENT);
	assert_int_equal(xg_msgr_remove_key(S.m, 1), 0);
	assert_int_equal(feed(XG_T_PUSH, PEER(0), PEER(9), 2, 0), -ENOKEY);
	/* re-installing id 1 with another key: key1 packets now fail */
	assert_int_equal(xg_msgr_set_key(S.m, 1, key2), 0);
	n = make_pkt(buf, XG_T_PUSH, PEER(0), PEER(9), 3, 0,
		     WALL0 + S.now / MS);
	assert_int_equal(xg_msgr_on_packet(S.m, PEER(0), buf, n, S.now),
			 -EACCES);
	/* the table keeps the last XG_MSG_MAX_KEYS: after 16 more, id 1
	 * (installed before them) is gone */
	for (i = 0; i < XG_MSG_MAX_KEYS; i++)
		assert_int_equal(xg_msgr_set_key(S.m, (uint8_t)(100 + i),
						 key1), 0);
	assert_null(xg_msgr_key_for(S.m, 1));
	assert_non_null(xg_msgr_key_for(S.m, 100));
	assert_int_equal(S.m->nkeys, XG_MSG_MAX_KEYS);
	assert_int_equal(S.m->keys[0].id, 100 + XG_MSG_MAX_KEYS - 1);
	assert_int_equal(xg_msgr_set_key(S.m, 1, NULL), -EINVAL);
}

/* --- timers -------------------------------------------------------------- */

/* A backlog of expiries is worked off a bounded amount per tick, and the
 * deadline says "now" until it is done. */
static void test_tick_budget(void **state)
{
	struct xg_msg_config c;
	uint64_t t;
	unsigned i;

	(void)state;
	xg_msgr_free(S.m);
	solo_config(&c);
	c.seen_max = 2000;
	solo_start_cfg(&c);
	S.npeers = 0;
	for (i = 0; i < 1000; i++)
		assert_int_equal(xg_msgr_broadcast(S.m, "t", NULL, 0, S.now,
						   NULL), 0);
	assert_int_equal(st()->seen_entries, 1000);
	t = S.now + 400000 * MS;
	tick_at(t);
	assert_int_equal(st()->seen_entries, 1000 - XG_MSG_TICK_BUDGET);
	assert_true(xg_msgr_next_deadline(S.m) <= t);
	for (i = 0; i < 3; i++)
		tick_at(t);
	assert_int_equal(st()->seen_entries, 0);
	assert_int_equal(st()->cached, 0);
	assert_int_equal(xg_msgr_next_deadline(S.m), UINT64_MAX);
}

/* Time that runs backwards in a call is taken as the latest seen. */
static void test_time_never_backwards(void **state)
{
	uint64_t t0 = S.now;

	(void)state;
	assert_int_equal(xg_msgr_broadcast(S.m, "t", "a", 1, t0, NULL), 0);
	clear_sent();
	S.now = t0 - 5000 * MS;
	xg_msgr_tick(S.m, S.now);
	assert_int_equal(S.nsent, 0);
	assert_int_equal(xg_msgr_next_deadline(S.m), t0 + 300 * MS);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_config),
		T(test_broadcast),
		T(test_broadcast_alone),
		T(test_broadcast_send_errors),
		T(test_id_uniqueness),
		T(test_id_exhaustion),
		T(test_push_first_copy),
		T(test_push_hop_limit),
		T(test_deliver_reentrant),
		T(test_refuse_old_and_future),
		T(test_no_redelivery_after_seen_expiry),
		T(test_ack_majority),
		T(test_ack_short_pull_sync),
		T(test_ack_wait_adapts),
		T(test_forwarder_pull_sync_skips_upstream),
		T(test_pull_sync_small_cluster),
		T(test_pull_sync_seen_ignored),
		T(test_pull_request_and_retries),
		T(test_pull_response_delivers),
		T(test_pull_response_unsolicited),
		T(test_pull_request_served),
		T(test_gap_repair),
		T(test_gap_then_pull_sync),
		T(test_gap_limits),
		T(test_rejects),
		T(test_seen_full),
		T(test_key_rotation),
		T(test_tick_budget),
		T(test_time_never_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
