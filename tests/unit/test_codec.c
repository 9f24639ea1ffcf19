/* SPDX-License-Identifier: MIT */
/*
 * Wire format v1 codec.
 *
 * Three kinds of evidence: round trips (what goes in comes out), golden
 * bytes written out by hand from the layout in docs/PROTOCOL.md (so the
 * format cannot drift while still round-tripping), and rejection of
 * everything else: truncations, bit flips, each validation rule on a packet
 * that carries a valid MAC, and random bytes.  Malformed packets are built
 * with a small raw writer here, independent of the codec, and then signed,
 * so the content checks are reached and not just the MAC check.
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

#include "core/codec.h"

static const uint8_t key_a[16] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x05,
				   0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
				   0x0c, 0x0d, 0x0e, 0x0f };
static const uint8_t key_b[16] = { 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
				   0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
				   0xbc, 0xbd, 0xbe, 0xbf };
static const uint8_t key_c[16] = { 0xc0 };

#define CLUSTER 0x0102030405060708ULL

/* --- deterministic randomness ------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next();
}

/* --- sample messages ---------------------------------------------------- */

static struct xg_probe_msg sample_probe(uint8_t type)
{
	struct xg_probe_msg m = {
		.type = type,
		.flags = XG_F_SUSPECTED,
		.key_id = 3,
		.cluster_id = CLUSTER,
		.seq = 0xfedcba98u,
		.sender_id = 0x1111222233334444ULL,
		.target_id = 0x5555666677778888ULL,
		.ts_ns = 0x0123456789abcdefULL,
	};
	return m;
}

static struct xg_ping_req_msg sample_ping_req(int family)
{
	struct xg_ping_req_msg m = {
		.flags = 0,
		.key_id = 1,
		.cluster_id = CLUSTER,
		.seq = 77,
		.sender_id = 0xaaaa000000000001ULL,
		.target_id = 0xbbbb000000000002ULL,
		.ts_ns = 123456789012345ULL,
	};

	if (family == 4)
		assert_int_equal(xg_addr_parse("198.18.0.9:7001", 0, &m.target),
				 0);
	else
		assert_int_equal(
			xg_addr_parse("[fd00:198:18::9]:7002", 0, &m.target), 0);
	return m;
}

/* A valid update whose every field depends on i, so the STATE test can
 * regenerate what it expects instead of storing thousands of copies. */
static void make_update(struct xg_update_msg *u, uint32_t i)
{
	size_t nlen = 1 + i % (XG_NAME_MAX - 1);
	size_t k;

	memset(u, 0, sizeof(*u));
	u->state = (uint8_t)(XG_S_ALIVE + i % 4);
	u->incarnation = i * 2654435761u;
	u->node_id = 0x1000000000000000ULL + i;
	u->from_id = u->state == XG_S_ALIVE ? u->node_id : 42 + i;
	u->addr.port = (uint16_t)(1 + i % 65535);
	if (i % 3 == 0) {
		u->addr.family = 6;
		u->addr.ip[0] = 0xfd;
		u->addr.ip[14] = (uint8_t)(i >> 8);
		u->addr.ip[15] = (uint8_t)i;
	} else {
		u->addr.family = 4;
		u->addr.ip[0] = 198;
		u->addr.ip[1] = 18 + (uint8_t)(i >> 16 & 1);
		u->addr.ip[2] = (uint8_t)(i >> 8);
		u->addr.ip[3] = (uint8_t)i;
	}
	for (k = 0; k < nlen; k++)
		u->name[k] = (char)('a' + (i + k) % 26);
	u->meta_len = (uint16_t)(i % 7 == 0 ? 0 : i % 97);
	for (k = 0; k < u->meta_len; k++)
		u->meta[k] = (uint8_t)(i * 31 + k);
}

/* Field-by-field: struct padding may differ between two equal updates. */
static void assert_update_equal(const struct xg_update_msg *a,
				const struct xg_update_msg *b)
{
	assert_int_equal(a->state, b->state);
	assert_int_equal(a->flags, b->flags);
	assert_int_equal(a->incarnation, b->incarnation);
	assert_int_equal(a->node_id, b->node_id);
	assert_int_equal(a->from_id, b->from_id);
	assert_true(xg_addr_equal(&a->addr, &b->addr));
	assert_memory_equal(a->addr.ip, b->addr.ip, 16);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->meta_len, b->meta_len);
	assert_memory_equal(a->meta, b->meta, a->meta_len);
}

/* --- raw packet writer (independent of the codec) ----------------------- */

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void be32(uint8_t *p, uint32_t v)
{
	be16(p, (uint16_t)(v >> 16));
	be16(p + 2, (uint16_t)v);
}

static void be64(uint8_t *p, uint64_t v)
{
	be32(p, (uint32_t)(v >> 32));
	be32(p + 4, (uint32_t)v);
}

struct raw_update {
	uint8_t     state, family, name_len;
	uint16_t    port, meta_len;
	uint32_t    incarnation;
	uint64_t    node_id, from_id;
	uint8_t     addr[16];
	const char *name;  /* name_len bytes are copied, NULs included */
	uint8_t     meta_fill;
};

static struct raw_update raw_good_update(void)
{
	struct raw_update r = {
		.state = XG_S_ALIVE, .family = 4, .name_len = 5,
		.port = 7946, .meta_len = 4, .incarnation = 9,
		.node_id = 0xabcdef, .from_id = 0xabcdef,
		.addr = { 198, 18, 0, 33 }, .name = "node1", .meta_fill = 0x5a,
	};
	return r;
}

/* Writes a GOSSIP/STATE header with count and the length field given
 * verbatim; returns the header size. */
static size_t raw_batch_hdr(uint8_t *p, uint8_t type, uint32_t count,
			    uint16_t len_field)
{
	memset(p, 0, 32);
	be16(p, XG_MAGIC);
	p[2] = XG_VERSION;
	p[3] = type;
	be16(p + 6, len_field);
	be64(p + 8, CLUSTER);
	be64(p + 16, 0x5e4de7);
	if (type == XG_T_GOSSIP)
		p[24] = (uint8_t)count;
	else
		be32(p + 24, count);
	return 32;
}

static size_t raw_update_write(uint8_t *p, const struct raw_update *r)
{
	p[0] = r->state;
	p[1] = r->family;
	p[2] = r->name_len;
	p[3] = 0;
	be16(p + 4, r->port);
	be16(p + 6, r->meta_len);
	be32(p + 8, r->incarnation);
	be32(p + 12, 0);
	be64(p + 16, r->node_id);
	be64(p + 24, r->from_id);
	memcpy(p + 32, r->addr, 16);
	memcpy(p + 48, r->name, r->name_len);
	memset(p + 48 + r->name_len, r->meta_fill, r->meta_len);
	return 48 + (size_t)r->name_len + r->meta_len;
}

/* MAC over everything before the last 8 bytes, written into them. */
static void raw_sign(uint8_t *p, size_t len, const uint8_t key[16])
{
	xg_mac_store(p + len - XG_MAC_LEN,
		     xg_siphash24(key, p, (__u32)(len - XG_MAC_LEN)));
}

/* One signed GOSSIP (or STATE) with the given updates; the length field
 * is the real length for GOSSIP and 0 for STATE.  Returns the length. */
static size_t raw_batch(uint8_t *p, uint8_t type, uint32_t count,
			const struct raw_update *u, size_t n)
{
	size_t off = raw_batch_hdr(p, type, count, 0), i;

	for (i = 0; i < n; i++)
		off += raw_update_write(p + off, &u[i]);
	off += XG_MAC_LEN;
	if (type == XG_T_GOSSIP)
		be16(p + 6, (uint16_t)off);
	raw_sign(p, off, key_a);
	return off;
}

/* Opens and walks a batch; returns the open error or the number of
 * updates read, and insists that iteration is consistent with count. */
static int batch_decode_all(const uint8_t *p, size_t len,
			    const uint8_t *key2)
{
	struct xg_batch_reader r;
	struct xg_update_msg u;
	uint32_t n = 0, count;
	int err;

	err = xg_batch_open(&r, p, len, key_a, key2);
	if (err)
		return err;
	count = r.left;
	while ((err = xg_batch_next(&r, &u)) == 1)
		n++;
	assert_int_equal(err, 0);
	assert_int_equal(n, count);
	assert_int_equal(xg_batch_next(&r, &u), 0);
	return (int)n;
}

/* --- header ------------------------------------------------------------- */

static void test_peek_header(void **state)
{
	struct xg_probe_msg m = sample_probe(XG_T_PING);
	uint8_t buf[64];
	uint64_t cid = 0;
	uint8_t type = 0;

	(void)state;
	assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)), 56);
	assert_int_equal(xg_peek_header(buf, 56, &type, &cid), 0);
	assert_int_equal(type, XG_T_PING);
	assert_int_equal(cid, CLUSTER);
	/* A header is all peek needs. */
	assert_int_equal(xg_peek_header(buf, 16, &type, &cid), 0);
	assert_int_equal(xg_peek_header(buf, 15, &type, &cid), -EBADMSG);
	assert_int_equal(xg_peek_header(buf, 0, &type, &cid), -EBADMSG);
	buf[2] = 2;
	assert_int_equal(xg_peek_header(buf, 56, &type, &cid), -EPROTO);
	buf[2] = XG_VERSION;
	buf[0] ^= 0x80;
	assert_int_equal(xg_peek_header(buf, 56, &type, &cid), -EBADMSG);
}

/* --- round trips -------------------------------------------------------- */

static void test_probe_round_trip(void **state)
{
	static const uint8_t types[] = { XG_T_PING, XG_T_ACK, XG_T_NACK };
	struct xg_probe_msg m, out;
	uint8_t buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(types); i++) {
		m = sample_probe(types[i]);
		m.flags = types[i] == XG_T_ACK ? XG_F_INDIRECT : m.flags;
		assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)),
				 sizeof(struct xg_probe));
		memset(&out, 0xee, sizeof(out));
		assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), 0);
		assert_int_equal(out.type, m.type);
		assert_int_equal(out.flags, m.flags);
		assert_int_equal(out.key_id, m.key_id);
		assert_int_equal(out.cluster_id, m.cluster_id);
		assert_int_equal(out.seq, m.seq);
		assert_int_equal(out.sender_id, m.sender_id);
		assert_int_equal(out.target_id, m.target_id);
		assert_int_equal(out.ts_ns, m.ts_ns);
	}
}

static void test_ping_req_round_trip(void **state)
{
	static const int families[] = { 4, 6 };
	struct xg_ping_req_msg m, out;
	uint8_t buf[128];
	size_t i;

	(void)state;
	for (i = 0; i < 2; i++) {
		m = sample_ping_req(families[i]);
		assert_int_equal(xg_ping_req_encode(&m, key_a, buf, sizeof(buf)),
				 sizeof(struct xg_ping_req));
		memset(&out, 0xee, sizeof(out));
		assert_int_equal(xg_ping_req_decode(buf, 72, key_a, NULL, &out),
				 0);
		assert_int_equal(out.flags, m.flags);
		assert_int_equal(out.key_id, m.key_id);
		assert_int_equal(out.cluster_id, m.cluster_id);
		assert_int_equal(out.seq, m.seq);
		assert_int_equal(out.sender_id, m.sender_id);
		assert_int_equal(out.target_id, m.target_id);
		assert_int_equal(out.ts_ns, m.ts_ns);
		assert_true(xg_addr_equal(&out.target, &m.target));
		assert_memory_equal(out.target.ip, m.target.ip, 16);
		assert_int_equal(out.target.pad, 0);
	}
}

/* Every state, both families, the largest name and metadata allowed, the
 * smallest update, and a UTF-8 name. */
static void test_gossip_round_trip(void **state)
{
	struct xg_update_msg in[6], out;
	struct xg_batch b;
	struct xg_batch_reader r;
	uint8_t buf[XG_UDP_MAX];
	ssize_t len;
	size_t i, want_len = sizeof(struct xg_gossip_hdr) + XG_MAC_LEN;

	(void)state;
	for (i = 0; i < 6; i++)
		make_update(&in[i], (uint32_t)i + 100);
	in[0].state = XG_S_ALIVE;
	memset(in[0].name, 'N', XG_NAME_MAX - 1);
	in[0].name[XG_NAME_MAX - 1] = '\0';
	in[0].meta_len = XG_META_MAX;
	memset(in[0].meta, 0xab, XG_META_MAX);
	in[0].flags = XG_UF_STARVED;
	in[1].state = XG_S_SUSPECT;
	in[1].flags = XG_UF_STARVED;
	in[2].state = XG_S_DEAD;
	in[3].state = XG_S_LEFT;
	in[4].state = XG_S_ALIVE;
	strcpy(in[4].name, "x");
	in[4].meta_len = 0;
	strcpy(in[5].name, "n\xc3\xa9ud-\xe2\x9c\x93"); /* "néud-✓" */

	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, XG_F_REPLY, CLUSTER,
					0x5e4de7, buf, sizeof(buf)), 0);
	for (i = 0; i < 6; i++) {
		assert_int_equal(xg_batch_add(&b, &in[i]), 0);
		want_len += xg_update_wire_size(&in[i]);
	}
	assert_int_equal(xg_update_wire_size(&in[0]),
			 48 + (XG_NAME_MAX - 1) + XG_META_MAX);
	assert_int_equal(xg_update_wire_size(&in[4]), 49);
	len = xg_batch_finish(&b, key_a);
	assert_int_equal(len, want_len);

	assert_int_equal(xg_batch_open(&r, buf, (size_t)len, key_a, NULL), 0);
	assert_int_equal(r.type, XG_T_GOSSIP);
	assert_int_equal(r.flags, XG_F_REPLY);
	assert_int_equal(r.cluster_id, CLUSTER);
	assert_int_equal(r.sender_id, 0x5e4de7);
	assert_int_equal(r.left, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(xg_batch_next(&r, &out), 1);
		assert_update_equal(&out, &in[i]);
	}
	assert_int_equal(xg_batch_next(&r, &out), 0);
	assert_int_equal(xg_batch_next(&r, &out), 0);
}

static void test_empty_batch(void **state)
{
	struct xg_batch b;
	uint8_t buf[64];
	ssize_t len;

	(void)state;
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 1, buf,
					sizeof(buf)), 0);
	len = xg_batch_finish(&b, key_a);
	assert_int_equal(len, 40);
	assert_int_equal(batch_decode_all(buf, (size_t)len, NULL), 0);
}

#define STATE_UPDATES 5000

static void test_state_round_trip_thousands(void **state)
{
	struct xg_update_msg u, out;
	struct xg_batch b;
	struct xg_batch_reader r;
	size_t cap = 32 + XG_MAC_LEN, want = 32 + XG_MAC_LEN;
	uint8_t *buf;
	ssize_t len;
	uint32_t i;

	(void)state;
	for (i = 0; i < STATE_UPDATES; i++) {
		make_update(&u, i);
		cap += xg_update_wire_size(&u);
	}
	want = cap;
	assert_true(want > 65535); /* must not depend on the 16-bit len */
	buf = malloc(cap);
	assert_non_null(buf);

	assert_int_equal(xg_batch_begin(&b, XG_T_STATE, XG_F_JOIN, CLUSTER,
					0x77, buf, cap), 0);
	for (i = 0; i < STATE_UPDATES; i++) {
		make_update(&u, i);
		assert_int_equal(xg_batch_add(&b, &u), 0);
	}
	/* Exactly full: one more byte would not fit. */
	make_update(&u, 0);
	assert_int_equal(xg_batch_add(&b, &u), -ENOSPC);
	len = xg_batch_finish(&b, key_a);
	assert_int_equal(len, want);
	assert_int_equal(buf[6], 0); /* STATE carries no length in-band */
	assert_int_equal(buf[7], 0);

	assert_int_equal(xg_batch_open(&r, buf, (size_t)len, key_a, NULL), 0);
	assert_int_equal(r.type, XG_T_STATE);
	assert_int_equal(r.flags, XG_F_JOIN);
	assert_int_equal(r.sender_id, 0x77);
	assert_int_equal(r.left, STATE_UPDATES);
	for (i = 0; i < STATE_UPDATES; i++) {
		make_update(&u, i);
		assert_int_equal(xg_batch_next(&r, &out), 1);
		assert_update_equal(&out, &u);
	}
	assert_int_equal(xg_batch_next(&r, &out), 0);
	free(buf);
}

/* The raw writer and the codec produce the same bytes, so the raw writer
 * is a fair tool for the rejection tests below. */
static void test_raw_writer_matches_codec(void **state)
{
	struct raw_update ru[2] = { raw_good_update(), raw_good_update() };
	struct xg_update_msg u;
	struct xg_batch b;
	uint8_t raw[256], enc[256];
	size_t rlen;
	ssize_t elen;
	int i;

	(void)state;
	ru[1].state = XG_S_DEAD;
	ru[1].from_id = 0x99;
	ru[1].meta_len = 0;
	rlen = raw_batch(raw, XG_T_GOSSIP, 2, ru, 2);

	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 0x5e4de7,
					enc, sizeof(enc)), 0);
	for (i = 0; i < 2; i++) {
		memset(&u, 0, sizeof(u));
		u.state = ru[i].state;
		u.addr.family = ru[i].family;
		u.addr.port = ru[i].port;
		memcpy(u.addr.ip, ru[i].addr, 16);
		u.incarnation = ru[i].incarnation;
		u.node_id = ru[i].node_id;
		u.from_id = ru[i].from_id;
		memcpy(u.name, ru[i].name, ru[i].name_len);
		u.meta_len = ru[i].meta_len;
		memset(u.meta, ru[i].meta_fill, u.meta_len);
		assert_int_equal(xg_batch_add(&b, &u), 0);
	}
	elen = xg_batch_finish(&b, key_a);
	assert_int_equal(elen, rlen);
	assert_memory_equal(enc, raw, rlen);
}

/* --- golden bytes ------------------------------------------------------- */

/* PING, key 00..0f, written out from the layout: magic "XG", version 1,
 * type 1, flags SUSPECTED, key_id 1, len 56, cluster id, seq, reserved,
 * sender, target, timestamp, then SipHash-2-4 of the first 48 bytes in
 * little-endian byte order. */
static const uint8_t golden_ping[56] = {
	0x58, 0x47, 0x01, 0x01, 0x02, 0x01, 0x00, 0x38,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x0a, 0x0b, 0x0c, 0x0d, 0x00, 0x00, 0x00, 0x00,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28,
	0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38,
	0xad, 0xb6, 0xd0, 0xdf, 0xcd, 0x75, 0x79, 0xdc,
};

static void test_golden_ping(void **state)
{
	struct xg_probe_msg m = {
		.type = XG_T_PING, .flags = XG_F_SUSPECTED, .key_id = 1,
		.cluster_id = 0x0102030405060708ULL, .seq = 0x0a0b0c0d,
		.sender_id = 0x1112131415161718ULL,
		.target_id = 0x2122232425262728ULL,
		.ts_ns = 0x3132333435363738ULL,
	}, out;
	uint8_t buf[56];

	(void)state;
	assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)), 56);
	assert_memory_equal(buf, golden_ping, sizeof(golden_ping));
	assert_int_equal(xg_probe_decode(golden_ping, 56, key_a, NULL, &out),
			 0);
	assert_int_equal(out.seq, m.seq);
	assert_int_equal(out.ts_ns, m.ts_ns);
}

/* GOSSIP with one update: SUSPECT, IPv4 198.18.0.1:7946, name "n1", meta
 * "abc", incarnation 7; key 00..0f; 93 bytes. */
static const uint8_t golden_gossip[93] = {
	0x58, 0x47, 0x01, 0x05, 0x00, 0x00, 0x00, 0x5d,
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
	0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x02, 0x04, 0x02, 0x00, 0x1f, 0x0a, 0x00, 0x03,
	0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00,
	0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
	0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8,
	0xc6, 0x12, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x6e, 0x31, 0x61, 0x62, 0x63, 0x38, 0x79, 0xdb,
	0x0d, 0xad, 0xbe, 0x9e, 0x56,
};

static void test_golden_gossip(void **state)
{
	struct xg_update_msg u = {
		.state = XG_S_SUSPECT, .incarnation = 7,
		.node_id = 0xa1a2a3a4a5a6a7a8ULL,
		.from_id = 0xb1b2b3b4b5b6b7b8ULL,
		.addr = { .family = 4, .port = 7946, .ip = { 198, 18, 0, 1 } },
		.name = "n1", .meta_len = 3, .meta = "abc",
	};
	struct xg_batch b;
	uint8_t buf[XG_UDP_MAX];

	(void)state;
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0,
					0x0102030405060708ULL,
					0x1112131415161718ULL, buf,
					sizeof(buf)), 0);
	assert_int_equal(xg_batch_add(&b, &u), 0);
	assert_int_equal(xg_batch_finish(&b, key_a), sizeof(golden_gossip));
	assert_memory_equal(buf, golden_gossip, sizeof(golden_gossip));
	assert_int_equal(batch_decode_all(golden_gossip, sizeof(golden_gossip),
					  NULL), 1);
}

/* --- cluster id, magic, version, type ----------------------------------- */

/* The codec reports the cluster id; deciding that it is foreign is the
 * core's job (and the XDP program's). */
static void test_foreign_cluster_is_decoded(void **state)
{
	struct xg_probe_msg m = sample_probe(XG_T_PING), out;
	uint8_t buf[56];

	(void)state;
	m.cluster_id = 0xdeadbeefcafef00dULL;
	assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)), 56);
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), 0);
	assert_int_equal(out.cluster_id, 0xdeadbeefcafef00dULL);
}

/* Even correctly signed, a packet with the wrong magic or version is
 * refused. */
static void test_wrong_magic_version_type(void **state)
{
	struct xg_probe_msg m = sample_probe(XG_T_PING), out;
	struct xg_ping_req_msg pr = sample_ping_req(4), prout;
	struct raw_update ru = raw_good_update();
	struct xg_batch_reader r;
	uint8_t buf[256];
	size_t len;

	(void)state;
	assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)), 56);
	buf[0] = 'Y';
	raw_sign(buf, 56, key_a);
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), -EBADMSG);
	buf[0] = 'X';
	buf[2] = 2;
	raw_sign(buf, 56, key_a);
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), -EPROTO);
	buf[2] = 0;
	raw_sign(buf, 56, key_a);
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), -EPROTO);
	buf[2] = XG_VERSION;

	/* Type that no probe decoder accepts, signed. */
	buf[3] = XG_T_PING_REQ;
	raw_sign(buf, 56, key_a);
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), -EPROTO);
	buf[3] = 99;
	raw_sign(buf, 56, key_a);
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), -EPROTO);

	/* Each decoder refuses the others' packets by type. */
	assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)), 56);
	assert_int_equal(xg_ping_req_decode(buf, 56, key_a, NULL, &prout),
			 -EPROTO);
	assert_int_equal(xg_batch_open(&r, buf, 56, key_a, NULL), -EPROTO);
	assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, sizeof(buf)), 72);
	assert_int_equal(xg_probe_decode(buf, 72, key_a, NULL, &out), -EPROTO);
	assert_int_equal(xg_batch_open(&r, buf, 72, key_a, NULL), -EPROTO);
	len = raw_batch(buf, XG_T_GOSSIP, 1, &ru, 1);
	assert_int_equal(xg_probe_decode(buf, len, key_a, NULL, &out), -EPROTO);
	assert_int_equal(xg_ping_req_decode(buf, len, key_a, NULL, &prout),
			 -EPROTO);
	buf[2] = 7;
	raw_sign(buf, len, key_a);
	assert_int_equal(xg_batch_open(&r, buf, len, key_a, NULL), -EPROTO);
	buf[2] = XG_VERSION;
	buf[1] = 0;
	raw_sign(buf, len, key_a);
	assert_int_equal(xg_batch_open(&r, buf, len, key_a, NULL), -EBADMSG);
}

/* --- keys --------------------------------------------------------------- */

static void test_key_rotation(void **state)
{
	struct xg_probe_msg m = sample_probe(XG_T_ACK), out;
	struct xg_ping_req_msg pr = sample_ping_req(6), prout;
	struct xg_update_msg u;
	struct xg_batch b;
	uint8_t probe[56], preq[72], gossip[256];
	ssize_t glen;

	(void)state;
	assert_int_equal(xg_probe_encode(&m, key_b, probe, sizeof(probe)), 56);
	assert_int_equal(xg_ping_req_encode(&pr, key_b, preq, sizeof(preq)), 72);
	make_update(&u, 5);
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 1, gossip,
					sizeof(gossip)), 0);
	assert_int_equal(xg_batch_add(&b, &u), 0);
	glen = xg_batch_finish(&b, key_b);
	assert_true(glen > 0);

	/* Signed with B: only accepted when B is one of the two keys. */
	assert_int_equal(xg_probe_decode(probe, 56, key_a, NULL, &out), -EACCES);
	assert_int_equal(xg_probe_decode(probe, 56, key_a, key_c, &out),
			 -EACCES);
	assert_int_equal(xg_probe_decode(probe, 56, key_a, key_b, &out), 0);
	assert_int_equal(xg_probe_decode(probe, 56, key_b, key_a, &out), 0);
	assert_int_equal(xg_probe_decode(probe, 56, key_b, NULL, &out), 0);

	assert_int_equal(xg_ping_req_decode(preq, 72, key_a, NULL, &prout),
			 -EACCES);
	assert_int_equal(xg_ping_req_decode(preq, 72, key_a, key_b, &prout), 0);

	assert_int_equal(batch_decode_all(gossip, (size_t)glen, NULL), -EACCES);
	assert_int_equal(batch_decode_all(gossip, (size_t)glen, key_c),
			 -EACCES);
	assert_int_equal(batch_decode_all(gossip, (size_t)glen, key_b), 1);
}

/* --- encode input checks and limits ------------------------------------- */

static void test_encode_rejects_bad_input(void **state)
{
	struct xg_probe_msg m = sample_probe(XG_T_PING);
	struct xg_ping_req_msg pr = sample_ping_req(4);
	struct xg_update_msg u;
	struct xg_batch b;
	uint8_t buf[XG_UDP_MAX];

	(void)state;
	m.type = XG_T_GOSSIP;
	assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)), -EINVAL);
	m.type = XG_T_PING;
	assert_int_equal(xg_probe_encode(&m, key_a, buf, 55), -ENOSPC);
	assert_int_equal(xg_probe_encode(&m, key_a, buf, 56), 56);

	assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, 71), -ENOSPC);
	pr.target.ip[4] = 1;
	assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, sizeof(buf)),
			 -EINVAL);
	pr.target.ip[4] = 0;
	pr.target.family = 0;
	assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, sizeof(buf)),
			 -EINVAL);

	assert_int_equal(xg_batch_begin(&b, XG_T_PING, 0, CLUSTER, 1, buf,
					sizeof(buf)), -EINVAL);
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 1, buf,
					39), -ENOSPC);
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 1, buf,
					sizeof(buf)), 0);

#define BAD_UPDATE(mutate)                                              \
	do {                                                            \
		make_update(&u, 1);                                     \
		mutate;                                                 \
		assert_int_equal(xg_batch_add(&b, &u), -EINVAL);        \
	} while (0)
	BAD_UPDATE(u.state = 0);
	BAD_UPDATE(u.state = 5);
	BAD_UPDATE(u.addr.family = 0);
	BAD_UPDATE(u.addr.family = 5);
	BAD_UPDATE((u.addr.family = 4, u.addr.ip[15] = 1));
	BAD_UPDATE(u.name[0] = '\0');
	BAD_UPDATE(memset(u.name, 'a', XG_NAME_MAX)); /* no NUL inside */
	BAD_UPDATE(strcpy(u.name, "tab\there"));
	BAD_UPDATE(strcpy(u.name, "nl\n"));
	BAD_UPDATE(strcpy(u.name, "del\x7f"));
	BAD_UPDATE(u.meta_len = XG_META_MAX + 1);
#undef BAD_UPDATE
	/* Nothing was written by the refused adds. */
	assert_int_equal(b.count, 0);
	assert_int_equal(b.len, sizeof(struct xg_gossip_hdr));
}

static void test_gossip_fills_to_udp_max(void **state)
{
	struct xg_update_msg u;
	struct xg_batch b;
	uint8_t buf[4096];
	ssize_t len;
	int i;

	(void)state;
	/* 136-byte updates: ten of them plus header and MAC is exactly
	 * XG_UDP_MAX.  A larger buffer is clamped to XG_UDP_MAX. */
	make_update(&u, 1);
	memset(u.name, 'q', 8);
	u.name[8] = '\0';
	u.meta_len = 80;
	assert_int_equal(xg_update_wire_size(&u), 136);
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 1, buf,
					sizeof(buf)), 0);
	for (i = 0; i < 10; i++)
		assert_int_equal(xg_batch_add(&b, &u), 0);
	assert_int_equal(xg_batch_add(&b, &u), -ENOSPC);
	/* The smallest update does not fit either. */
	u.meta_len = 0;
	strcpy(u.name, "z");
	assert_int_equal(xg_batch_add(&b, &u), -ENOSPC);
	len = xg_batch_finish(&b, key_a);
	assert_int_equal(len, XG_UDP_MAX);
	assert_int_equal(batch_decode_all(buf, (size_t)len, NULL), 10);

	/* Small updates: keep adding until the datagram is full. */
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 1, buf,
					sizeof(buf)), 0);
	for (i = 0;; i++) {
		make_update(&u, (uint32_t)i);
		if (xg_batch_add(&b, &u) != 0)
			break;
	}
	assert_int_equal(xg_batch_add(&b, &u), -ENOSPC);
	assert_true(b.len + XG_MAC_LEN <= XG_UDP_MAX);
	assert_true(b.len + xg_update_wire_size(&u) + XG_MAC_LEN > XG_UDP_MAX);
	len = xg_batch_finish(&b, key_a);
	assert_true(len <= XG_UDP_MAX);
	assert_int_equal(batch_decode_all(buf, (size_t)len, NULL), i);

	/* The MAC's 8 bytes are reserved: an update that fits only by eating
	 * into them is refused. */
	make_update(&u, 3);
	for (i = 0; i <= XG_MAC_LEN; i++) {
		size_t cap = sizeof(struct xg_gossip_hdr) +
			     xg_update_wire_size(&u) + (size_t)i;

		assert_int_equal(xg_batch_begin(&b, XG_T_STATE, 0, CLUSTER, 1,
						buf, cap), 0);
		assert_int_equal(xg_batch_add(&b, &u),
				 i < XG_MAC_LEN ? -ENOSPC : 0);
	}
	len = xg_batch_finish(&b, key_a);
	assert_int_equal(len, b.cap);
	assert_int_equal(batch_decode_all(buf, (size_t)len, NULL), 1);
}

/* The update count of a GOSSIP is one byte.  No real datagram reaches 255
 * updates (each is at least 49 bytes), so drive the counter there. */
static void test_gossip_count_limit(void **state)
{
	struct xg_update_msg u;
	struct xg_batch b;
	uint8_t buf[XG_UDP_MAX];

	(void)state;
	make_update(&u, 1);
	assert_int_equal(xg_batch_begin(&b, XG_T_GOSSIP, 0, CLUSTER, 1, buf,
					sizeof(buf)), 0);
	b.count = XG_GOSSIP_MAX_UPDATES;
	assert_int_equal(xg_batch_add(&b, &u), -E2BIG);
	b.count = XG_GOSSIP_MAX_UPDATES - 1;
	assert_int_equal(xg_batch_add(&b, &u), 0);
}

/* A signed STATE of exactly total bytes: whole 620-byte updates, then two
 * updates whose metadata absorbs the remainder.  Returns the count. */
static uint32_t raw_state_of_size(uint8_t *p, size_t total)
{
	static char name60[61];
	struct raw_update ru = raw_good_update();
	const size_t fixed = 48 + 60, per = fixed + XG_META_MAX;
	size_t off = raw_batch_hdr(p, XG_T_STATE, 0, 0), room, rest, i, n;

	memset(name60, 'a', 60);
	ru.name_len = 60;
	ru.name = name60;
	ru.meta_len = XG_META_MAX;
	room = total - XG_MAC_LEN - off;
	n = room / per - 1; /* leaves between one and two updates' worth */
	for (i = 0; i < n; i++)
		off += raw_update_write(p + off, &ru);
	rest = room - n * per;
	ru.meta_len = (uint16_t)(rest / 2 - fixed);
	off += raw_update_write(p + off, &ru);
	ru.meta_len = (uint16_t)(rest - rest / 2 - fixed);
	assert_true(ru.meta_len <= XG_META_MAX);
	off += raw_update_write(p + off, &ru);
	off += XG_MAC_LEN;
	assert_int_equal(off, total);
	be32(p + 24, (uint32_t)(n + 2));
	raw_sign(p, off, key_a);
	return (uint32_t)(n + 2);
}

static void test_oversize_rejected(void **state)
{
	static char name60[61];
	struct raw_update three[3];
	struct xg_batch_reader r;
	uint32_t count;
	size_t len, i;
	uint8_t *big;

	(void)state;
	big = calloc(1, XG_STATE_MAX + 64);
	assert_non_null(big);

	/* A GOSSIP larger than XG_UDP_MAX, correctly formed and signed. */
	memset(name60, 'a', 60);
	for (i = 0; i < 3; i++) {
		three[i] = raw_good_update();
		three[i].name_len = 60;
		three[i].name = name60;
		three[i].meta_len = XG_META_MAX;
	}
	len = raw_batch(big, XG_T_GOSSIP, 3, three, 3);
	assert_true(len > XG_UDP_MAX);
	assert_int_equal(xg_batch_open(&r, big, len, key_a, NULL), -EBADMSG);
	/* The same updates as STATE are fine. */
	len = raw_batch(big, XG_T_STATE, 3, three, 3);
	assert_int_equal(batch_decode_all(big, len, NULL), 3);

	/* STATE: exactly XG_STATE_MAX is accepted, one byte more is not. */
	count = raw_state_of_size(big, XG_STATE_MAX);
	assert_int_equal(batch_decode_all(big, XG_STATE_MAX, NULL), (int)count);
	raw_state_of_size(big, XG_STATE_MAX + 1);
	assert_int_equal(xg_batch_open(&r, big, XG_STATE_MAX + 1, key_a, NULL),
			 -EBADMSG);
	free(big);
}

/* --- rejection: truncation and bit flips -------------------------------- */

enum pkt_kind { K_PROBE, K_PING_REQ, K_BATCH };

struct sample_pkt {
	const char   *what;
	enum pkt_kind kind;
	uint8_t       buf[XG_UDP_MAX];
	size_t        len;
};

static int decode_any(enum pkt_kind kind, const uint8_t *p, size_t len)
{
	struct xg_probe_msg pm;
	struct xg_ping_req_msg rm;

	switch (kind) {
	case K_PROBE:
		return xg_probe_decode(p, len, key_a, key_b, &pm);
	case K_PING_REQ:
		return xg_ping_req_decode(p, len, key_a, key_b, &rm);
	case K_BATCH:
		return batch_decode_all(p, len, key_b);
	}
	return -EINVAL;
}

/* One valid packet of every kind, signed with key_a. */
static size_t build_samples(struct sample_pkt *s)
{
	static const uint8_t probe_types[] = { XG_T_PING, XG_T_ACK, XG_T_NACK };
	struct xg_probe_msg m;
	struct xg_ping_req_msg pr;
	struct xg_update_msg u;
	struct xg_batch b;
	size_t n = 0, i;
	ssize_t len;
	int t;

	for (i = 0; i < 3; i++, n++) {
		m = sample_probe(probe_types[i]);
		s[n].what = "probe";
		s[n].kind = K_PROBE;
		len = xg_probe_encode(&m, key_a, s[n].buf, sizeof(s[n].buf));
		assert_int_equal(len, 56);
		s[n].len = (size_t)len;
	}
	for (i = 4; i <= 6; i += 2, n++) {
		pr = sample_ping_req((int)i);
		s[n].what = "ping-req";
		s[n].kind = K_PING_REQ;
		len = xg_ping_req_encode(&pr, key_a, s[n].buf, sizeof(s[n].buf));
		assert_int_equal(len, 72);
		s[n].len = (size_t)len;
	}
	for (t = XG_T_GOSSIP; t <= XG_T_STATE; t++, n++) {
		s[n].what = t == XG_T_GOSSIP ? "gossip" : "state";
		s[n].kind = K_BATCH;
		assert_int_equal(xg_batch_begin(&b, (uint8_t)t, 0, CLUSTER, 9,
						s[n].buf, sizeof(s[n].buf)), 0);
		for (i = 0; i < 4; i++) {
			make_update(&u, (uint32_t)i * 5 + 1);
			assert_int_equal(xg_batch_add(&b, &u), 0);
		}
		len = xg_batch_finish(&b, key_a);
		assert_true(len > 0);
		s[n].len = (size_t)len;
	}
	for (i = 0; i < n; i++)
		assert_true(decode_any(s[i].kind, s[i].buf, s[i].len) >= 0);
	return n;
}

#define N_SAMPLES 7

static void test_every_truncation_rejected(void **state)
{
	struct sample_pkt *s = calloc(N_SAMPLES, sizeof(*s));
	uint8_t *copy;
	size_t n, i, l;

	(void)state;
	assert_non_null(s);
	n = build_samples(s);
	assert_int_equal(n, N_SAMPLES);
	for (i = 0; i < n; i++) {
		for (l = 0; l < s[i].len; l++) {
			/* An exact-size heap copy: ASan catches any read
			 * past the truncated length. */
			copy = malloc(l ? l : 1);
			assert_non_null(copy);
			memcpy(copy, s[i].buf, l);
			if (decode_any(s[i].kind, copy, l) >= 0)
				fail_msg("%s truncated to %zu accepted",
					 s[i].what, l);
			free(copy);
		}
		/* And one trailing byte too many. */
		s[i].buf[s[i].len] = 0;
		if (decode_any(s[i].kind, s[i].buf, s[i].len + 1) >= 0)
			fail_msg("%s with a trailing byte accepted", s[i].what);
	}
	free(s);
}

/* A truncated GOSSIP/STATE whose length field and MAC were fixed up by a
 * (buggy) member is still refused: the updates no longer match count. */
static void test_resigned_truncation_rejected(void **state)
{
	struct sample_pkt *s = calloc(N_SAMPLES, sizeof(*s));
	struct xg_batch_reader r;
	uint8_t *buf;
	size_t n, i, l;

	(void)state;
	assert_non_null(s);
	n = build_samples(s);
	for (i = 0; i < n; i++) {
		if (s[i].kind != K_BATCH)
			continue;
		for (l = 32 + XG_MAC_LEN; l < s[i].len; l++) {
			/* Exact size on the heap: an update whose name or
			 * metadata runs past the end must not be read. */
			buf = malloc(l);
			assert_non_null(buf);
			memcpy(buf, s[i].buf, l - XG_MAC_LEN);
			if (buf[3] == XG_T_GOSSIP)
				be16(buf + 6, (uint16_t)l);
			raw_sign(buf, l, key_a);
			if (xg_batch_open(&r, buf, l, key_a, NULL) != -EBADMSG)
				fail_msg("%s re-signed at %zu not malformed",
					 s[i].what, l);
			free(buf);
		}
	}
	free(s);
}

static void test_every_bit_flip_rejected(void **state)
{
	struct sample_pkt *s = calloc(N_SAMPLES, sizeof(*s));
	size_t n, i, byte;
	int bit, err;

	(void)state;
	assert_non_null(s);
	n = build_samples(s);
	for (i = 0; i < n; i++) {
		for (byte = 0; byte < s[i].len; byte++) {
			for (bit = 0; bit < 8; bit++) {
				s[i].buf[byte] ^= (uint8_t)(1u << bit);
				err = decode_any(s[i].kind, s[i].buf, s[i].len);
				s[i].buf[byte] ^= (uint8_t)(1u << bit);
				if (err >= 0)
					fail_msg("%s: flip of byte %zu bit %d "
						 "accepted", s[i].what, byte,
						 bit);
				if (err != -EACCES && err != -EBADMSG &&
				    err != -EPROTO)
					fail_msg("%s: flip gave %d", s[i].what,
						 err);
			}
		}
	}
	free(s);
}

/* --- rejection: each content rule, under a valid MAC -------------------- */

static void test_reserved_bytes_ignored(void **state)
{
	struct xg_probe_msg m = sample_probe(XG_T_PING), out;
	struct xg_ping_req_msg pr = sample_ping_req(4), prout;
	struct raw_update ru = raw_good_update();
	uint8_t buf[256];
	size_t len;

	(void)state;
	assert_int_equal(xg_probe_encode(&m, key_a, buf, sizeof(buf)), 56);
	buf[offsetof(struct xg_probe, reserved) + 2] = 0x42;
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), -EACCES);
	raw_sign(buf, 56, key_a);
	assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out), 0);
	assert_int_equal(out.seq, m.seq);

	assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, sizeof(buf)), 72);
	buf[offsetof(struct xg_ping_req, reserved)] = 0xff;
	raw_sign(buf, 72, key_a);
	assert_int_equal(xg_ping_req_decode(buf, 72, key_a, NULL, &prout), 0);

	len = raw_batch(buf, XG_T_GOSSIP, 1, &ru, 1);
	buf[25] = 1;  /* gossip header reserved */
	buf[31] = 0x80;
	buf[32 + 3] = 7;   /* update flags: unknown bits are not an error */
	buf[32 + 12] = 9;  /* update reserved1 */
	assert_int_equal(batch_decode_all(buf, len, NULL), -EACCES);
	raw_sign(buf, len, key_a);
	assert_int_equal(batch_decode_all(buf, len, NULL), 1);
}

static void test_ping_req_content_rules(void **state)
{
	struct xg_ping_req_msg pr = sample_ping_req(4), out;
	const size_t fam = offsetof(struct xg_ping_req, target_family);
	const size_t addr = offsetof(struct xg_ping_req, target_addr);
	uint8_t buf[72];
	int f;

	(void)state;
	for (f = 0; f < 256; f++) {
		if (f == 4 || f == 6)
			continue;
		assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, 72), 72);
		buf[fam] = (uint8_t)f;
		raw_sign(buf, 72, key_a);
		assert_int_equal(xg_ping_req_decode(buf, 72, key_a, NULL, &out),
				 -EBADMSG);
	}
	/* IPv4 with anything in bytes 4..15. */
	for (f = 4; f < 16; f++) {
		assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, 72), 72);
		buf[addr + (size_t)f] = 1;
		raw_sign(buf, 72, key_a);
		assert_int_equal(xg_ping_req_decode(buf, 72, key_a, NULL, &out),
				 -EBADMSG);
	}
	/* Declared length other than 72. */
	assert_int_equal(xg_ping_req_encode(&pr, key_a, buf, 72), 72);
	buf[7] = 71;
	raw_sign(buf, 72, key_a);
	assert_int_equal(xg_ping_req_decode(buf, 72, key_a, NULL, &out),
			 -EBADMSG);
}

static void test_probe_length_field(void **state)
{
	struct xg_probe_msg m = sample_probe(XG_T_PING), out;
	uint8_t buf[64];
	static const uint16_t lens[] = { 0, 55, 57, 72, 0x3800, 0xffff };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		assert_int_equal(xg_probe_encode(&m, key_a, buf, 56), 56);
		be16(buf + 6, lens[i]);
		raw_sign(buf, 56, key_a);
		assert_int_equal(xg_probe_decode(buf, 56, key_a, NULL, &out),
				 -EBADMSG);
	}
}

/* Signed GOSSIP built with one broken field, expected -EBADMSG. */
static void expect_bad_update(const struct raw_update *ru, const char *what)
{
	uint8_t buf[1024];
	size_t len;
	struct raw_update two[2] = { raw_good_update(), *ru };

	len = raw_batch(buf, XG_T_GOSSIP, 2, two, 2);
	if (batch_decode_all(buf, len, NULL) != -EBADMSG)
		fail_msg("gossip with %s not rejected", what);
	len = raw_batch(buf, XG_T_STATE, 2, two, 2);
	if (batch_decode_all(buf, len, NULL) != -EBADMSG)
		fail_msg("state with %s not rejected", what);
}

static void test_update_content_rules(void **state)
{
	static const char name64[] =
		"0123456789012345678901234567890123456789012345678901234567890123";
	struct raw_update ru;
	int v;

	(void)state;
	/* Sanity: the good update is accepted in both kinds. */
	{
		uint8_t buf[256];
		struct raw_update g = raw_good_update();
		size_t len = raw_batch(buf, XG_T_GOSSIP, 1, &g, 1);

		assert_int_equal(batch_decode_all(buf, len, NULL), 1);
		len = raw_batch(buf, XG_T_STATE, 1, &g, 1);
		assert_int_equal(batch_decode_all(buf, len, NULL), 1);
	}

	for (v = 0; v < 256; v++) {
		if (v >= XG_S_ALIVE && v <= XG_S_LEFT)
			continue;
		ru = raw_good_update();
		ru.state = (uint8_t)v;
		expect_bad_update(&ru, "bad state");
	}
	for (v = 0; v < 256; v++) {
		if (v == 4 || v == 6)
			continue;
		ru = raw_good_update();
		ru.family = (uint8_t)v;
		expect_bad_update(&ru, "bad family");
	}
	for (v = 4; v < 16; v++) {
		ru = raw_good_update();
		ru.addr[v] = 0x10;
		expect_bad_update(&ru, "IPv4 with a non-zero tail");
	}
	ru = raw_good_update();
	ru.name_len = 0;
	expect_bad_update(&ru, "empty name");
	ru = raw_good_update();
	ru.name_len = XG_NAME_MAX;
	ru.name = name64;
	expect_bad_update(&ru, "64-byte name");
	ru = raw_good_update();
	ru.name_len = 3;
	ru.name = "a\0b";
	expect_bad_update(&ru, "NUL in name");
	for (v = 1; v < 0x20; v++) {
		char name[3] = { 'a', (char)v, 'b' };

		ru = raw_good_update();
		ru.name_len = 3;
		ru.name = name;
		expect_bad_update(&ru, "control char in name");
	}
	ru = raw_good_update();
	ru.name_len = 1;
	ru.name = "\x7f";
	expect_bad_update(&ru, "DEL in name");
	ru = raw_good_update();
	ru.meta_len = XG_META_MAX + 1;
	expect_bad_update(&ru, "oversized metadata");

	/* The 63-byte name and 512-byte metadata limits are inclusive. */
	{
		uint8_t buf[1024];
		size_t len;

		ru = raw_good_update();
		ru.name_len = XG_NAME_MAX - 1;
		ru.name = name64;
		ru.meta_len = XG_META_MAX;
		len = raw_batch(buf, XG_T_GOSSIP, 1, &ru, 1);
		assert_int_equal(batch_decode_all(buf, len, NULL), 1);
	}
}

static void test_count_and_length_rules(void **state)
{
	struct raw_update two[2] = { raw_good_update(), raw_good_update() };
	struct xg_batch_reader r;
	uint8_t buf[1024];
	size_t len, body;
	int t;

	(void)state;
	for (t = XG_T_GOSSIP; t <= XG_T_STATE; t++) {
		/* count says more updates than present. */
		len = raw_batch(buf, (uint8_t)t, 3, two, 2);
		assert_int_equal(batch_decode_all(buf, len, NULL), -EBADMSG);
		/* count says fewer: the rest are trailing bytes. */
		len = raw_batch(buf, (uint8_t)t, 1, two, 2);
		assert_int_equal(batch_decode_all(buf, len, NULL), -EBADMSG);
		len = raw_batch(buf, (uint8_t)t, 0, two, 2);
		assert_int_equal(batch_decode_all(buf, len, NULL), -EBADMSG);
		/* Right count, then junk before the MAC. */
		len = raw_batch(buf, (uint8_t)t, 2, two, 2);
		body = len - XG_MAC_LEN;
		memset(buf + body, 0, 3);
		len += 3;
		if (t == XG_T_GOSSIP)
			be16(buf + 6, (uint16_t)len);
		raw_sign(buf, len, key_a);
		assert_int_equal(batch_decode_all(buf, len, NULL), -EBADMSG);
	}
	/* An absurd STATE count is refused without walking it. */
	len = raw_batch(buf, XG_T_STATE, 2, two, 2);
	be32(buf + 24, 0xffffffffu);
	raw_sign(buf, len, key_a);
	assert_int_equal(xg_batch_open(&r, buf, len, key_a, NULL), -EBADMSG);

	/* GOSSIP: declared length must be the real length. */
	len = raw_batch(buf, XG_T_GOSSIP, 2, two, 2);
	be16(buf + 6, (uint16_t)(len - 1));
	raw_sign(buf, len, key_a);
	assert_int_equal(xg_batch_open(&r, buf, len, key_a, NULL), -EBADMSG);
	be16(buf + 6, 0);
	raw_sign(buf, len, key_a);
	assert_int_equal(xg_batch_open(&r, buf, len, key_a, NULL), -EBADMSG);
	/* STATE: the length field must be 0 (the TCP frame carries it). */
	len = raw_batch(buf, XG_T_STATE, 2, two, 2);
	be16(buf + 6, (uint16_t)len);
	raw_sign(buf, len, key_a);
	assert_int_equal(xg_batch_open(&r, buf, len, key_a, NULL), -EBADMSG);
}

/* --- random input ------------------------------------------------------- */

/* Random bytes, and random bytes dressed up with a valid header, length
 * and MAC so they reach the content checks.  Nothing may crash, read out of
 * bounds (ASan) or accept an update that breaks the rules. */
static void test_random_input_never_crashes(void **state)
{
	static const uint8_t types[] = { XG_T_PING, XG_T_ACK, XG_T_NACK,
					 XG_T_PING_REQ, XG_T_GOSSIP,
					 XG_T_STATE, 0, 200 };
	struct xg_batch_reader r;
	struct xg_update_msg u;
	struct xg_probe_msg pm;
	struct xg_ping_req_msg rm;
	uint8_t *buf;
	size_t len;
	int i, err, accepted = 0;

	(void)state;
	rng_state = 0xf022f022;
	for (i = 0; i < 200000; i++) {
		len = (size_t)(rng_next() % 1600);
		buf = malloc(len ? len : 1);
		assert_non_null(buf);
		rng_fill(buf, len);
		if ((i & 1) && len >= 16) {
			buf[0] = 0x58;
			buf[1] = 0x47;
			buf[2] = XG_VERSION;
			buf[3] = types[rng_next() % sizeof(types)];
			if (buf[3] <= XG_T_NACK && len > 56)
				len = 56;
			else if (buf[3] == XG_T_PING_REQ && len > 72)
				len = 72;
			if (len > 32 && buf[3] == XG_T_GOSSIP) {
				/* Small counts so some packets parse. */
				buf[24] = (uint8_t)(rng_next() % 3);
				buf[32] = 1 + (uint8_t)(rng_next() % 4);
			} else if (len > 32 && buf[3] == XG_T_STATE) {
				be32(buf + 24, (uint32_t)(rng_next() % 3));
				buf[32] = 1 + (uint8_t)(rng_next() % 4);
			}
			be16(buf + 6, buf[3] == XG_T_STATE ? 0 : (uint16_t)len);
			if (len >= 24)
				raw_sign(buf, len, key_a);
		}
		(void)xg_peek_header(buf, len, NULL, NULL);
		err = xg_probe_decode(buf, len, key_a, key_b, &pm);
		accepted += err == 0;
		err = xg_ping_req_decode(buf, len, key_a, key_b, &rm);
		if (err == 0) {
			accepted++;
			assert_true(rm.target.family == 4 ||
				    rm.target.family == 6);
		}
		if (xg_batch_open(&r, buf, len, key_a, key_b) == 0) {
			accepted++;
			while ((err = xg_batch_next(&r, &u)) == 1) {
				assert_true(u.state >= 1 && u.state <= 4);
				assert_true(strlen(u.name) >= 1);
				assert_true(u.meta_len <= XG_META_MAX);
			}
			assert_int_equal(err, 0);
		}
		free(buf);
	}
	/* The dressed-up half must reach acceptance sometimes, or the loop
	 * would only be exercising the MAC check. */
	assert_true(accepted > 0);
}

/* Valid packets with a few random bytes changed, then re-signed (and the
 * GOSSIP length fixed up), so every mutation reaches the content checks.
 * Whatever is accepted must still satisfy every rule. */
static void test_mutated_packets_never_crash(void **state)
{
	struct sample_pkt *s = calloc(N_SAMPLES, sizeof(*s));
	uint8_t buf[XG_UDP_MAX + 16];
	struct xg_batch_reader r;
	struct xg_update_msg u;
	struct xg_ping_req_msg rm;
	size_t n, k, len, at;
	int i, flips, err, accepted = 0, rejected = 0;

	(void)state;
	assert_non_null(s);
	n = build_samples(s);
	rng_state = 0xa11ce;
	for (i = 0; i < 100000; i++) {
		k = (size_t)(rng_next() % n);
		len = s[k].len;
		memcpy(buf, s[k].buf, len);
		/* Sometimes grow or shrink the body by a few bytes. */
		if (s[k].kind == K_BATCH && rng_next() % 4 == 0) {
			len = len - 4 + (size_t)(rng_next() % 9);
			if (len > sizeof(buf))
				len = sizeof(buf);
		}
		flips = 1 + (int)(rng_next() % 4);
		while (flips--) {
			at = (size_t)(rng_next() % (len - XG_MAC_LEN));
			/* Keep magic and version: those paths are cheap and
			 * covered elsewhere. */
			if (at < 3)
				continue;
			buf[at] = (uint8_t)rng_next();
		}
		if (buf[3] == XG_T_GOSSIP && len >= 16)
			be16(buf + 6, (uint16_t)len);
		raw_sign(buf, len, key_a);

		switch (s[k].kind) {
		case K_PROBE:
			err = decode_any(K_PROBE, buf, len);
			break;
		case K_PING_REQ:
			err = xg_ping_req_decode(buf, len, key_a, NULL, &rm);
			if (err == 0)
				assert_true(rm.target.family == 4 ||
					    rm.target.family == 6);
			break;
		default:
			err = xg_batch_open(&r, buf, len, key_a, NULL);
			if (err)
				break;
			while ((err = xg_batch_next(&r, &u)) == 1) {
				assert_true(u.state >= 1 && u.state <= 4);
				assert_true(u.addr.family == 4 ||
					    u.addr.family == 6);
				assert_true(strlen(u.name) >= 1);
				assert_true(u.meta_len <= XG_META_MAX);
			}
			assert_int_equal(err, 0);
			break;
		}
		if (err == 0)
			accepted++;
		else
			rejected++;
	}
	/* Both outcomes must occur, or the loop is not testing anything. */
	assert_true(accepted > 0);
	assert_true(rejected > 0);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peek_header),
		cmocka_unit_test(test_probe_round_trip),
		cmocka_unit_test(test_ping_req_round_trip),
		cmocka_unit_test(test_gossip_round_trip),
		cmocka_unit_test(test_empty_batch),
		cmocka_unit_test(test_state_round_trip_thousands),
		cmocka_unit_test(test_raw_writer_matches_codec),
		cmocka_unit_test(test_golden_ping),
		cmocka_unit_test(test_golden_gossip),
		cmocka_unit_test(test_foreign_cluster_is_decoded),
		cmocka_unit_test(test_wrong_magic_version_type),
		cmocka_unit_test(test_key_rotation),
		cmocka_unit_test(test_encode_rejects_bad_input),
		cmocka_unit_test(test_gossip_fills_to_udp_max),
		cmocka_unit_test(test_gossip_count_limit),
		cmocka_unit_test(test_oversize_rejected),
		cmocka_unit_test(test_every_truncation_rejected),
		cmocka_unit_test(test_resigned_truncation_rejected),
		cmocka_unit_test(test_every_bit_flip_rejected),
		cmocka_unit_test(test_reserved_bytes_ignored),
		cmocka_unit_test(test_ping_req_content_rules),
		cmocka_unit_test(test_probe_length_field),
		cmocka_unit_test(test_update_content_rules),
		cmocka_unit_test(test_count_and_length_rules),
		cmocka_unit_test(test_random_input_never_crashes),
		cmocka_unit_test(test_mutated_packets_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
