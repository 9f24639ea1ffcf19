/* SPDX-License-Identifier: MIT */
/*
 * What the network can throw at a core: forged MACs, other clusters'
 * packets, truncated and malformed datagrams, types that do not belong on
 * UDP, and random bytes.  Every rejection returns an errno and is counted
 * in rx_bad; nothing crashes and nothing changes the membership.  The fuzz
 * loops are bounded and seeded, so a failure reproduces.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <xgossip/siphash.h>

#include "core/core_internal.h"
#include "lib/onecore.h"

#define SECOND 1000000000ULL

static uint64_t fuzz_state = 12345;

static uint64_t fuzz_rand(void)
{
	uint64_t z = (fuzz_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void start(struct onecore *o)
{
	assert_int_equal(oc_start(o, NULL, SECOND), 0);
}

static size_t make_ping(const struct onecore *o, uint64_t cluster,
			const uint8_t key[16], uint64_t target, uint8_t *buf)
{
	struct xg_probe_msg m = {
		.type = XG_T_PING,
		.cluster_id = cluster,
		.seq = 7,
		.sender_id = 50,
		.target_id = target,
		.ts_ns = 123,
	};
	ssize_t len = xg_probe_encode(&m, key, buf, sizeof(struct xg_probe));

	(void)o;
	assert_int_equal(len, sizeof(struct xg_probe));
	return (size_t)len;
}

static void valid_ping_is_answered(void **state)
{
	struct onecore o;
	struct xg_probe_msg ack;
	struct xg_addr from;
	uint8_t buf[64];
	size_t len;

	(void)state;
	start(&o);
	oc_addr(&from, 50);
	len = make_ping(&o, OC_CLUSTER, o.cfg.probe_key, OC_SELF_ID, buf);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND), 0);
	assert_int_equal(oc_count_sent(&o, XG_T_ACK), 1);
	assert_true(xg_addr_equal(&oc_find(&o, XG_T_ACK, 0)->to, &from));
	assert_int_equal(oc_decode_probe(&o, oc_find(&o, XG_T_ACK, 0), &ack), 0);
	assert_int_equal(ack.sender_id, OC_SELF_ID);
	assert_int_equal(ack.target_id, 50);
	assert_int_equal(ack.seq, 7);
	assert_int_equal(ack.ts_ns, 123);
	assert_int_equal(ack.flags, 0);
	assert_int_equal(xg_core_stats(o.core)->pings_recv, 1);
	assert_int_equal(xg_core_stats(o.core)->acks_sent, 1);
	assert_int_equal(xg_core_stats(o.core)->rx_bad, 0);
	oc_stop(&o);
}

static void ping_for_other_id_is_ignored(void **state)
{
	struct onecore o;
	struct xg_addr from;
	uint8_t buf[64];
	size_t len;

	(void)state;
	start(&o);
	oc_addr(&from, 50);
	len = make_ping(&o, OC_CLUSTER, o.cfg.probe_key, 77, buf);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND), 0);
	assert_int_equal(o.nsent, 0);
	assert_int_equal(xg_core_stats(o.core)->pings_not_for_us, 1);
	assert_int_equal(xg_core_stats(o.core)->rx_bad, 0);
	oc_stop(&o);
}

static void forged_and_foreign_rejected(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_addr from;
	uint8_t buf[XG_UDP_MAX], other_key[16];
	const struct xg_core_stats *st;
	ssize_t glen;
	size_t len;

	(void)state;
	start(&o);
	st = xg_core_stats(o.core);
	oc_addr(&from, 50);
	memset(other_key, 0x77, sizeof(other_key));

	/* A MAC made with another key. */
	len = make_ping(&o, OC_CLUSTER, other_key, OC_SELF_ID, buf);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND),
			 -EACCES);
	/* One flipped MAC bit. */
	len = make_ping(&o, OC_CLUSTER, o.cfg.probe_key, OC_SELF_ID, buf);
	buf[len - 1] ^= 1;
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND),
			 -EACCES);
	/* A covered byte changed after signing (the target id). */
	len = make_ping(&o, OC_CLUSTER, o.cfg.probe_key, OC_SELF_ID, buf);
	buf[offsetof(struct xg_probe, target_id) + 7] ^= 1;
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND),
			 -EACCES);
	/* Right key, other cluster. */
	len = make_ping(&o, OC_CLUSTER + 1, o.cfg.probe_key, OC_SELF_ID, buf);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND),
			 -EXDEV);
	assert_int_equal(o.nsent, 0);
	assert_int_equal(st->rx_bad, 4);

	/* GOSSIP: forged (wrong key) and foreign (other cluster). */
	oc_update(&u, XG_ALIVE, 60, 1, 60);
	glen = oc_batch(XG_T_GOSSIP, OC_CLUSTER, other_key, &u, 1, buf,
			sizeof(buf));
	assert_true(glen > 0);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, (size_t)glen,
					   SECOND), -EACCES);
	glen = oc_batch(XG_T_GOSSIP, OC_CLUSTER + 1, o.cfg.gossip_key, &u, 1,
			buf, sizeof(buf));
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, (size_t)glen,
					   SECOND), -EXDEV);
	/* STATE belongs on TCP. */
	glen = oc_batch(XG_T_STATE, OC_CLUSTER, o.cfg.gossip_key, &u, 1, buf,
			sizeof(buf));
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, (size_t)glen,
					   SECOND), -EPROTO);
	/* ... and push/pull refuses the others likewise. */
	glen = oc_batch(XG_T_STATE, OC_CLUSTER + 1, o.cfg.gossip_key, &u, 1,
			buf, sizeof(buf));
	assert_int_equal(xg_core_state_merge(o.core, buf, (size_t)glen, SECOND),
			 -EXDEV);
	glen = oc_batch(XG_T_STATE, OC_CLUSTER, other_key, &u, 1, buf,
			sizeof(buf));
	assert_int_equal(xg_core_state_merge(o.core, buf, (size_t)glen, SECOND),
			 -EACCES);
	glen = oc_batch(XG_T_GOSSIP, OC_CLUSTER, o.cfg.gossip_key, &u, 1, buf,
			sizeof(buf));
	assert_int_equal(xg_core_state_merge(o.core, buf, (size_t)glen, SECOND),
			 -EPROTO);
	assert_int_equal(st->rx_bad, 10);
	assert_int_equal(xg_core_member_count(o.core), 1);
	assert_int_equal(st->pushpulls, 0);
	assert_int_equal(o.nev, 0);
	oc_stop(&o);
}

static void malformed_rejected(void **state)
{
	struct onecore o;
	struct xg_addr from;
	uint8_t buf[128];
	size_t len;

	(void)state;
	start(&o);
	oc_addr(&from, 50);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, 0, SECOND),
			 -EBADMSG);
	len = make_ping(&o, OC_CLUSTER, o.cfg.probe_key, OC_SELF_ID, buf);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len - 1, SECOND),
			 -EBADMSG);
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, 10, SECOND),
			 -EBADMSG);
	buf[len] = 0;
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len + 1, SECOND),
			 -EBADMSG);
	buf[0] ^= 0xff; /* magic */
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND),
			 -EBADMSG);
	buf[0] ^= 0xff;
	buf[2] = 9; /* version */
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND),
			 -EPROTO);
	buf[2] = XG_VERSION;
	buf[3] = 99; /* type */
	assert_int_equal(xg_core_on_packet(o.core, &from, buf, len, SECOND),
			 -EPROTO);
	assert_int_equal(xg_core_on_packet(o.core, NULL, buf, len, SECOND),
			 -EINVAL);
	assert_int_equal(xg_core_stats(o.core)->rx_bad, 7);
	assert_int_equal(o.nsent, 0);
	oc_stop(&o);
}

/* The membership stays self-consistent whatever happened. */
static void check_invariants(struct onecore *o, uint64_t now)
{
	size_t n = xg_core_member_count(o->core), sum = 0, i;
	struct xg_member_info mi;
	int s;

	for (s = XG_ALIVE; s <= XG_LEFT; s++)
		sum += xg_core_count_state(o->core, (enum xg_state)s);
	assert_int_equal(sum, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(xg_core_member_at(o->core, i, &mi), 0);
		assert_int_equal(xg_core_member_find(o->core, mi.id, NULL), 0);
		assert_true(mi.state >= XG_ALIVE && mi.state <= XG_LEFT);
	}
	assert_true(xg_core_self(o->core)->is_self);
	xg_core_tick(o->core, now);
	assert_true(xg_core_next_deadline(o->core) > now);
}

static void fuzz_random_bytes(void **state)
{
	struct onecore o;
	struct xg_addr from;
	uint8_t buf[1600];
	uint64_t rejected = 0;
	size_t len, i;
	int k, err;

	(void)state;
	start(&o);
	oc_addr(&from, 50);
	for (k = 0; k < 100000; k++) {
		len = (size_t)(fuzz_rand() % sizeof(buf));
		for (i = 0; i < len; i++)
			buf[i] = (uint8_t)fuzz_rand();
		/* Half the time, a plausible header so the decoders get
		 * past the first check. */
		if (k & 1 && len >= sizeof(struct xg_hdr)) {
			buf[0] = XG_MAGIC >> 8;
			buf[1] = XG_MAGIC & 0xff;
			buf[2] = XG_VERSION;
			buf[3] = (uint8_t)(1 + fuzz_rand() % 6);
			buf[6] = (uint8_t)(len >> 8);
			buf[7] = (uint8_t)len;
			for (i = 0; i < 8; i++)
				buf[8 + i] = (uint8_t)(OC_CLUSTER >> (56 - 8 * i));
		}
		err = xg_core_on_packet(o.core, &from, buf, len, SECOND + k);
		assert_true(err <= 0);
		rejected += err < 0;
	}
	/* Without the keys nothing gets through. */
	assert_int_equal(rejected, 100000);
	assert_int_equal(xg_core_stats(o.core)->rx_bad, 100000);
	assert_int_equal(xg_core_member_count(o.core), 1);
	check_invariants(&o, 2 * SECOND);
	oc_stop(&o);
}

/* Authenticated garbage: a member with the key but a bug (or a fuzzer
 * holding the key) sends GOSSIP whose updates are random but well-formed.
 * The codec decides what is well-formed; the core must survive whatever
 * passes: random states, incarnations, ids (ours included), names. */
static void fuzz_authenticated_updates(void **state)
{
	struct onecore o;
	struct xg_update_msg u[8];
	uint64_t now = SECOND;
	int k, i, n;

	(void)state;
	start(&o);
	for (k = 0; k < 20000; k++) {
		n = 1 + (int)(fuzz_rand() % 8);
		for (i = 0; i < n; i++) {
			uint64_t r = fuzz_rand();
			/* A small id space so updates collide and every
			 * transition gets exercised; id 1 is us. */
			uint64_t id = r % 24;

			oc_update(&u[i], (uint8_t)(1 + (r >> 8) % 4), id,
				  (uint32_t)((r >> 16) % 6),
				  (r >> 24) % 24);
			/* Names collide too (same name, other id). */
			u[i].name[5] = (char)('a' + (r >> 32) % 3);
			u[i].name[6] = '\0';
			u[i].meta_len = (uint16_t)((r >> 40) % 40);
		}
		assert_true(oc_gossip(&o, u, (size_t)n, now) <= 0);
		now += fuzz_rand() % (300 * 1000000ULL);
		if (k % 16 == 0)
			xg_core_tick(o.core, now);
		if (k % 4096 == 0)
			check_invariants(&o, now);
		o.nsent = 0;
		o.nev = 0;
	}
	check_invariants(&o, now);
	assert_int_equal(xg_core_stats(o.core)->rx_bad, 0);
	oc_stop(&o);
}

/* Valid packets with a few bytes changed: the MAC catches every one. */
static void fuzz_mutated_packets(void **state)
{
	struct onecore o;
	struct xg_update_msg u[3];
	struct xg_addr from;
	uint8_t good[XG_UDP_MAX], buf[XG_UDP_MAX];
	ssize_t glen;
	size_t len, plen;
	int k, flips, err;

	(void)state;
	start(&o);
	oc_addr(&from, 50);
	oc_update(&u[0], XG_ALIVE, 60, 1, 60);
	oc_update(&u[1], XG_SUSPECT, 61, 1, 60);
	oc_update(&u[2], XG_DEAD, OC_SELF_ID, 9, 60);
	glen = oc_batch(XG_T_GOSSIP, OC_CLUSTER, o.cfg.gossip_key, u, 3, good,
			sizeof(good));
	assert_true(glen > 0);
	plen = make_ping(&o, OC_CLUSTER, o.cfg.probe_key, OC_SELF_ID,
			 good + 1024);
	for (k = 0; k < 50000; k++) {
		bool probe = k & 1;
		const uint8_t *src = probe ? good + 1024 : good;

		len = probe ? plen : (size_t)glen;
		memcpy(buf, src, len);
		for (flips = 1 + (int)(fuzz_rand() % 4); flips > 0; flips--)
			buf[fuzz_rand() % len] ^=
				(uint8_t)(1 + fuzz_rand() % 255);
		if (memcmp(buf, src, len) == 0)
			continue;
		err = xg_core_on_packet(o.core, &from, buf, len, SECOND);
		assert_true(err < 0);
	}
	assert_int_equal(xg_core_member_count(o.core), 1);
	assert_int_equal(xg_core_self(o.core)->incarnation, 0);
	assert_int_equal(o.nsent, 0);
	oc_stop(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid_ping_is_answered),
		cmocka_unit_test(ping_for_other_id_is_ignored),
		cmocka_unit_test(forged_and_foreign_rejected),
		cmocka_unit_test(malformed_rejected),
		cmocka_unit_test(fuzz_random_bytes),
		cmocka_unit_test(fuzz_authenticated_updates),
		cmocka_unit_test(fuzz_mutated_packets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
