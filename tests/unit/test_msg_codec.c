/* SPDX-License-Identifier: MIT */
/*
 * The user-messaging codec (PUSH .. PULL_RESPONSE, ANNOUNCE) and message
 * ids.
 *
 * Round trips, golden bytes written out by hand from the layout in
 * docs/MESSAGING.md, and rejection of everything else: every truncation,
 * every single-bit flip, the topic and length rules on packets that carry
 * a valid MAC (built with a raw writer here, independent of the codec, so
 * the content checks are reached and not just the MAC check), oversize
 * payloads.
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

#include "core/msg.h"

static const uint8_t key_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8,
				   9, 10, 11, 12, 13, 14, 15, 16 };
static const uint8_t key_b[16] = { 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
				   0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
				   0xbc, 0xbd, 0xbe, 0xbf };

#define CLUSTER 0x0102030405060708ULL
#define ORIGIN  0x1111222233334444ULL
#define SENDER  0x5555666677778888ULL

static uint8_t payload_buf[XG_UDP_MAX];

static void payload_fill(void)
{
	size_t i;

	for (i = 0; i < sizeof(payload_buf); i++)
		payload_buf[i] = (uint8_t)(i * 7 + 3);
}

static struct xg_msg_pkt sample(uint8_t type, const char *topic,
				uint32_t plen)
{
	struct xg_msg_pkt p;

	memset(&p, 0, sizeof(p));
	p.type = type;
	p.key_id = 9;
	p.cluster_id = CLUSTER;
	xg_msg_id_make(p.msg.id, ORIGIN, 7, 42);
	p.msg.sender_id = SENDER;
	p.msg.origin_ms = 0x0000018f12345678ULL;
	p.msg.hops = 3;
	strncpy(p.msg.topic, topic, sizeof(p.msg.topic) - 1);
	p.msg.payload = payload_buf;
	p.msg.payload_len = plen;
	return p;
}

static void topic_of(char *t, size_t n, char ch)
{
	memset(t, ch, n);
	t[n] = '\0';
}

/* --- raw writer: layout by hand, signed, no codec involved --------------- */

static void be(uint8_t *p, uint64_t v, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static void raw_sign(uint8_t *p, size_t total, const uint8_t *key)
{
	xg_mac_store(p + total - 8,
		     xg_siphash24(key, p, (__u32)(total - 8)));
}

/* A data packet with the given topic_len byte, topic bytes and payload_len
 * field, total bytes long (header len = total), signed with key_a. */
static size_t raw_data(uint8_t *p, uint8_t type, uint8_t tlen_field,
		       const char *topic, size_t tbytes, uint32_t plen_field,
		       size_t plen_bytes)
{
	size_t total = 56 + tbytes + plen_bytes + 8;

	memset(p, 0, total);
	be(p + 0, 0x5847, 2);
	p[2] = 1;
	p[3] = type;
	p[5] = 9;
	be(p + 6, total, 2);
	be(p + 8, CLUSTER, 8);
	be(p + 16, ORIGIN, 8);
	be(p + 24, 0x0000000700000001ULL, 8);
	be(p + 32, SENDER, 8);
	be(p + 40, 1000, 8);
	p[48] = 2;
	p[49] = tlen_field;
	be(p + 52, plen_field, 4);
	memcpy(p + 56, topic, tbytes);
	memset(p + 56 + tbytes, 0xab, plen_bytes);
	raw_sign(p, total, key_a);
	return total;
}

/* --- round trips --------------------------------------------------------- */

static void check_same(const struct xg_msg_pkt *a, const struct xg_msg_pkt *b,
		       bool data)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->key_id, b->key_id);
	assert_int_equal(a->cluster_id, b->cluster_id);
	assert_memory_equal(a->msg.id, b->msg.id, 16);
	assert_int_equal(a->msg.sender_id, b->msg.sender_id);
	assert_int_equal(b->msg.origin_id, ORIGIN);
	if (!data)
		return;
	assert_int_equal(a->msg.origin_ms, b->msg.origin_ms);
	assert_int_equal(a->msg.hops, b->msg.hops);
	assert_string_equal(a->msg.topic, b->msg.topic);
	assert_int_equal(a->msg.payload_len, b->msg.payload_len);
	if (a->msg.payload_len)
		assert_memory_equal(a->msg.payload, b->msg.payload,
				    a->msg.payload_len);
}

static void test_roundtrip_data(void **state)
{
	static const uint8_t types[] = { XG_T_PUSH, XG_T_PULL_RESPONSE };
	static const uint32_t plens[] = { 0, 1, 100, 1000 };
	char topic[XG_MSG_TOPIC_MAX + 1];
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt in, out;
	size_t t, i, tl;
	ssize_t n;

	(void)state;
	for (t = 0; t < 2; t++) {
		for (tl = 1; tl <= XG_MSG_TOPIC_MAX; tl += 21) {
			topic_of(topic, tl, 'q');
			for (i = 0; i < 4; i++) {
				in = sample(types[t], topic, plens[i]);
				n = xg_msg_encode(&in, key_a, buf,
						  sizeof(buf));
				assert_int_equal(n, 56 + tl + plens[i] + 8);
				assert_int_equal(xg_msg_decode(buf, (size_t)n,
							       key_a, NULL,
							       &out), 0);
				check_same(&in, &out, true);
				/* Nothing is copied: the payload is read
				 * where it lies in the packet. */
				assert_ptr_equal(out.msg.payload,
						 buf + 56 + tl);
			}
		}
	}
}

static void test_roundtrip_ctrl(void **state)
{
	static const uint8_t types[] = { XG_T_PUSH_ACK, XG_T_PULL_SYNC,
					 XG_T_PULL_REQUEST };
	uint8_t buf[64];
	struct xg_msg_pkt in, out;
	size_t t;

	(void)state;
	for (t = 0; t < 3; t++) {
		in = sample(types[t], "ignored", 500);
		assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)),
				 48);
		assert_int_equal(xg_msg_decode(buf, 48, key_a, NULL, &out), 0);
		check_same(&in, &out, false);
		assert_int_equal(out.msg.payload_len, 0);
		assert_string_equal(out.msg.topic, "");
	}
}

static void test_golden_push(void **state)
{
	static const uint8_t want[56] = {
		0x58, 0x47, 0x01, 0x10, 0x00, 0x09, 0x00, 0x43,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44,
		0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x2a,
		0x55, 0x55, 0x66, 0x66, 0x77, 0x77, 0x88, 0x88,
		0x00, 0x00, 0x01, 0x8f, 0x12, 0x34, 0x56, 0x78,
		0x03, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	};
	uint8_t buf[128];
	struct xg_msg_pkt in;
	uint8_t mac[8];

	(void)state;
	in = sample(XG_T_PUSH, "t", 2);
	payload_buf[0] = 0xde;
	payload_buf[1] = 0xad;
	/* 56 + 1 + 2 + 8 = 67 = 0x43 */
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), 67);
	assert_memory_equal(buf, want, 56);
	assert_int_equal(buf[56], 't');
	assert_int_equal(buf[57], 0xde);
	assert_int_equal(buf[58], 0xad);
	xg_mac_store(mac, xg_siphash24(key_a, buf, 59));
	assert_memory_equal(buf + 59, mac, 8);
	payload_fill();
}

static void test_golden_ctrl(void **state)
{
	uint8_t buf[48];
	struct xg_msg_pkt in;
	uint8_t mac[8];

	(void)state;
	in = sample(XG_T_PULL_SYNC, "x", 0);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), 48);
	assert_int_equal(buf[3], 18);
	assert_int_equal(buf[6], 0);
	assert_int_equal(buf[7], 48);
	xg_mac_store(mac, xg_siphash24(key_a, buf, 40));
	assert_memory_equal(buf + 40, mac, 8);
}

/* --- rejection ----------------------------------------------------------- */

static size_t sample_bytes(uint8_t type, uint8_t *buf, size_t cap)
{
	struct xg_msg_pkt in = sample(type, "topic/a", 37);
	ssize_t n = xg_msg_encode(&in, key_a, buf, cap);

	assert_true(n > 0);
	return (size_t)n;
}

static void test_truncations(void **state)
{
	uint8_t buf[XG_UDP_MAX], cut[XG_UDP_MAX];
	struct xg_msg_pkt out;
	uint8_t type;
	size_t n, l;

	(void)state;
	for (type = XG_T_PUSH; type <= XG_T_PULL_RESPONSE; type++) {
		n = sample_bytes(type, buf, sizeof(buf));
		for (l = 0; l < n; l++) {
			/* A copy of exactly l bytes, so ASan catches any
			 * read past len. */
			uint8_t *p = malloc(l ? l : 1);

			assert_non_null(p);
			memcpy(p, buf, l);
			assert_int_equal(xg_msg_decode(p, l, key_a, NULL,
						       &out), -EBADMSG);
			free(p);
		}
		/* and one byte too many */
		memcpy(cut, buf, n);
		cut[n] = 0;
		assert_int_equal(xg_msg_decode(cut, n + 1, key_a, NULL, &out),
				 -EBADMSG);
	}
}

static void test_bit_flips(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt out;
	uint8_t type;
	size_t n, i;
	int bit;

	(void)state;
	for (type = XG_T_PUSH; type <= XG_T_PULL_RESPONSE; type++) {
		n = sample_bytes(type, buf, sizeof(buf));
		for (i = 0; i < n; i++) {
			for (bit = 0; bit < 8; bit++) {
				buf[i] ^= (uint8_t)(1u << bit);
				assert_int_not_equal(
					xg_msg_decode(buf, n, key_a, NULL,
						      &out), 0);
				buf[i] ^= (uint8_t)(1u << bit);
			}
		}
		assert_int_equal(xg_msg_decode(buf, n, key_a, NULL, &out), 0);
	}
}

static void test_header_rules(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt out;
	size_t n;

	(void)state;
	n = sample_bytes(XG_T_PUSH, buf, sizeof(buf));
	buf[0] = 0;
	assert_int_equal(xg_msg_decode(buf, n, key_a, NULL, &out), -EBADMSG);
	n = sample_bytes(XG_T_PUSH, buf, sizeof(buf));
	buf[2] = 2;
	assert_int_equal(xg_msg_decode(buf, n, key_a, NULL, &out), -EPROTO);
	n = sample_bytes(XG_T_PUSH, buf, sizeof(buf));
	buf[3] = XG_T_GOSSIP;
	assert_int_equal(xg_msg_decode(buf, n, key_a, NULL, &out), -EPROTO);
	buf[3] = 21;
	assert_int_equal(xg_msg_decode(buf, n, key_a, NULL, &out), -EPROTO);
	assert_int_equal(xg_msg_decode(NULL, 0, key_a, NULL, &out), -EBADMSG);
}

static void test_keys(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt out;
	size_t n;

	(void)state;
	n = sample_bytes(XG_T_PUSH, buf, sizeof(buf));
	assert_int_equal(xg_msg_key_id(buf, n), 9);
	assert_int_equal(xg_msg_key_id(buf, 15), 0);
	assert_int_equal(xg_msg_decode(buf, n, key_b, NULL, &out), -EACCES);
	assert_int_equal(xg_msg_decode(buf, n, key_b, key_a, &out), 0);
	assert_int_equal(xg_msg_decode(buf, n, NULL, key_a, &out), 0);
	n = sample_bytes(XG_T_PUSH_ACK, buf, sizeof(buf));
	assert_int_equal(xg_msg_decode(buf, n, key_b, NULL, &out), -EACCES);
	/* decode with out == NULL only validates */
	assert_int_equal(xg_msg_decode(buf, n, key_a, NULL, NULL), 0);
}

/* Signed packets that break one content rule each. */
static void test_content_rules(void **state)
{
	uint8_t p[XG_UDP_MAX + 64];
	char topic[80];
	struct xg_msg_pkt out;
	size_t n;

	(void)state;
	/* the raw writer itself makes packets the codec accepts */
	n = raw_data(p, XG_T_PUSH, 3, "abc", 3, 5, 5);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
	assert_string_equal(out.msg.topic, "abc");
	assert_int_equal(out.msg.payload_len, 5);
	assert_int_equal(out.msg.origin_ms, 1000);
	assert_int_equal(out.msg.hops, 2);

	/* topic_len 0 (the bytes move to the payload) */
	n = raw_data(p, XG_T_PUSH, 0, "", 0, 5, 5);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* topic_len 65 with 65 bytes present */
	topic_of(topic, 65, 'a');
	n = raw_data(p, XG_T_PUSH, 65, topic, 65, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* 64 is the limit, and fine */
	n = raw_data(p, XG_T_PUSH, 64, topic, 64, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
	/* control character, DEL, a byte >= 0x80, NUL in the topic */
	n = raw_data(p, XG_T_PUSH, 3, "a\nb", 3, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_data(p, XG_T_PULL_RESPONSE, 3, "a\x7f" "b", 3, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_data(p, XG_T_PUSH, 3, "a\xc3\xa9", 3, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_data(p, XG_T_PUSH, 3, "a\0b", 3, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* space is printable */
	n = raw_data(p, XG_T_PUSH, 3, "a b", 3, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
	/* topic + payload not filling the body: too long, too short, huge */
	n = raw_data(p, XG_T_PUSH, 3, "abc", 3, 6, 5);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_data(p, XG_T_PUSH, 3, "abc", 3, 4, 5);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_data(p, XG_T_PUSH, 3, "abc", 3, 0xffffffffu, 5);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_data(p, XG_T_PUSH, 8, "abc", 3, 0, 5);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* a data packet over XG_UDP_MAX, consistent otherwise */
	n = raw_data(p, XG_T_PUSH, 1, "a", 1, 1336, 1336);
	assert_int_equal(n, XG_UDP_MAX + 1);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_data(p, XG_T_PUSH, 1, "a", 1, 1335, 1335);
	assert_int_equal(n, XG_UDP_MAX);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
	/* a control type with a data-sized body */
	n = raw_data(p, XG_T_PUSH_ACK, 3, "abc", 3, 0, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* reserved is ignored */
	n = raw_data(p, XG_T_PUSH, 3, "abc", 3, 0, 0);
	p[50] = 0xff;
	raw_sign(p, n, key_a);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
}

static void test_encode_rules(void **state)
{
	char topic[XG_MSG_TOPIC_MAX + 2];
	uint8_t buf[XG_UDP_MAX + 64];
	struct xg_msg_pkt in;

	(void)state;
	in = sample(XG_T_PUSH, "", 1);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in = sample(XG_T_PUSH, "a\tb", 1);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in = sample(XG_T_PUSH, "ok", 1);
	in.msg.payload = NULL;
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in.msg.payload_len = 0;
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), 58 + 8);
	in = sample(XG_T_GOSSIP, "ok", 1);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in = sample(XG_T_PUSH, "ok", 1);
	assert_int_equal(xg_msg_encode(&in, NULL, buf, sizeof(buf)), -EINVAL);
	/* a topic that fills the struct with no NUL (65 chars) */
	in = sample(XG_T_PUSH, "ok", 1);
	memset(in.msg.topic, 'z', sizeof(in.msg.topic));
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	/* capacity */
	in = sample(XG_T_PUSH, "ok", 10);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, 56 + 2 + 10 + 7),
			 -ENOSPC);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, 56 + 2 + 10 + 8),
			 76);
	in = sample(XG_T_PUSH_ACK, "ok", 10);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, 47), -ENOSPC);
	/* size: the max payload with the max topic is exactly a datagram */
	topic_of(topic, XG_MSG_TOPIC_MAX, 't');
	in = sample(XG_T_PUSH, topic, XG_MSG_MAX_PAYLOAD);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)),
			 XG_UDP_MAX);
	in.msg.payload_len++;
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)),
			 -EMSGSIZE);
	in.msg.payload_len = 0x7fffffff;
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)),
			 -EMSGSIZE);
}

static void test_topic_valid(void **state)
{
	char t[XG_MSG_TOPIC_MAX + 2];
	unsigned c;

	(void)state;
	assert_false(xg_msg_topic_valid(NULL, 1));
	assert_false(xg_msg_topic_valid("", 0));
	topic_of(t, XG_MSG_TOPIC_MAX, '~');
	assert_true(xg_msg_topic_valid(t, XG_MSG_TOPIC_MAX));
	topic_of(t, XG_MSG_TOPIC_MAX + 1, '~');
	assert_false(xg_msg_topic_valid(t, XG_MSG_TOPIC_MAX + 1));
	for (c = 0; c < 256; c++) {
		t[0] = (char)c;
		assert_int_equal(xg_msg_topic_valid(t, 1),
				 c >= 0x20 && c <= 0x7e);
	}
}

static void test_ids(void **state)
{
	uint8_t id[16];

	(void)state;
	xg_msg_id_make(id, 0x0102030405060708ULL, 0x0a0b0c0d, 0x11223344);
	assert_int_equal(id[0], 0x01);
	assert_int_equal(id[7], 0x08);
	assert_int_equal(id[8], 0x0a);
	assert_int_equal(id[11], 0x0d);
	assert_int_equal(id[12], 0x11);
	assert_int_equal(id[15], 0x44);
	assert_int_equal(xg_msg_id_origin(id), 0x0102030405060708ULL);
	assert_int_equal(xg_msg_id_seq(id), 0x0a0b0c0d11223344ULL);
}

/* Random bytes with a valid header prefix never decode, and never read
 * out of bounds (ASan). */
static void test_random_bytes(void **state)
{
	uint64_t s = 12345;
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt out;
	int i;
	size_t j, n;

	(void)state;
	for (i = 0; i < 20000; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		n = (size_t)(s >> 33) % sizeof(buf);
		for (j = 0; j < n; j++) {
			s = s * 6364136223846793005ULL + 1;
			buf[j] = (uint8_t)(s >> 56);
		}
		if (n >= 16) {
			buf[0] = 0x58;
			buf[1] = 0x47;
			buf[2] = 1;
			buf[3] = (uint8_t)(16 + i % 5);
			buf[6] = (uint8_t)(n >> 8);
			buf[7] = (uint8_t)n;
		}
		assert_int_not_equal(xg_msg_decode(buf, n, key_a, NULL, &out),
				     0);
	}
}

/* --- ANNOUNCE (PULL_SYNC with XG_MSG_F_LARGE) ----------------------------- */

static struct xg_msg_pkt sample_ann(const char *topic, uint64_t size)
{
	struct xg_msg_pkt p = sample(XG_T_PULL_SYNC, topic, 0);
	int i;

	p.flags = XG_MSG_F_LARGE;
	p.msg.payload = NULL;
	p.size = size;
	for (i = 0; i < 32; i++)
		p.sha256[i] = (uint8_t)(0xa0 + i);
	return p;
}

static void test_max_push(void **state)
{
	(void)state;
	assert_int_equal(xg_msg_max_push(1), 1335);
	assert_int_equal(xg_msg_max_push(64), XG_MSG_MAX_PAYLOAD);
	assert_int_equal(xg_msg_max_push(1000), XG_MSG_MAX_PAYLOAD);
}

static void test_roundtrip_announce(void **state)
{
	char topic[XG_MSG_TOPIC_MAX + 1];
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt in, out;
	uint64_t sizes[3];
	size_t tl, i;
	ssize_t n;

	(void)state;
	for (tl = 1; tl <= XG_MSG_TOPIC_MAX; tl++) {
		topic_of(topic, tl, 'k');
		sizes[0] = xg_msg_max_push(tl) + 1;
		sizes[1] = 16u << 20;
		sizes[2] = UINT64_MAX;
		for (i = 0; i < 3; i++) {
			in = sample_ann(topic, sizes[i]);
			n = xg_msg_encode(&in, key_a, buf, sizeof(buf));
			assert_int_equal(n, 92 + tl + 8);
			assert_int_equal(xg_msg_decode(buf, (size_t)n, key_a,
						       NULL, &out), 0);
			check_same(&in, &out, false);
			assert_true(xg_msg_pkt_is_announce(&out));
			assert_int_equal(out.flags, XG_MSG_F_LARGE);
			assert_int_equal(out.msg.origin_ms, in.msg.origin_ms);
			assert_int_equal(out.msg.hops, 3);
			assert_string_equal(out.msg.topic, topic);
			assert_int_equal(out.size, sizes[i]);
			assert_memory_equal(out.sha256, in.sha256, 32);
			assert_null(out.msg.payload);
			assert_int_equal(out.msg.payload_len, 0);
		}
	}
	/* A plain PULL_SYNC is still 48 bytes and no announce. */
	in = sample(XG_T_PULL_SYNC, "x", 0);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), 48);
	assert_int_equal(xg_msg_decode(buf, 48, key_a, NULL, &out), 0);
	assert_false(xg_msg_pkt_is_announce(&out));
	assert_int_equal(out.size, 0);
}

static void test_golden_announce(void **state)
{
	static const uint8_t want[92] = {
		0x58, 0x47, 0x01, 0x12, 0x80, 0x09, 0x00, 0x67,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
		0x11, 0x11, 0x22, 0x22, 0x33, 0x33, 0x44, 0x44,
		0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x2a,
		0x55, 0x55, 0x66, 0x66, 0x77, 0x77, 0x88, 0x88,
		0x00, 0x00, 0x01, 0x8f, 0x12, 0x34, 0x56, 0x78,
		0x03, 0x03, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
		0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
		0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
		0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7,
		0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
	};
	uint8_t buf[256];
	struct xg_msg_pkt in;
	uint8_t mac[8];

	(void)state;
	in = sample_ann("a/b", 16u << 20);
	/* 92 + 3 + 8 = 103 = 0x67 */
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), 103);
	assert_memory_equal(buf, want, 92);
	assert_memory_equal(buf + 92, "a/b", 3);
	xg_mac_store(mac, xg_siphash24(key_a, buf, 95));
	assert_memory_equal(buf + 95, mac, 8);
}

static void test_announce_truncations_and_flips(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt in = sample_ann("topic/large", 5000), out;
	size_t n, l, i;
	int bit;

	(void)state;
	n = (size_t)xg_msg_encode(&in, key_a, buf, sizeof(buf));
	assert_int_equal(n, 92 + 11 + 8);
	for (l = 0; l < n; l++) {
		uint8_t *p = malloc(l ? l : 1);

		assert_non_null(p);
		memcpy(p, buf, l);
		assert_int_equal(xg_msg_decode(p, l, key_a, NULL, &out),
				 -EBADMSG);
		free(p);
	}
	buf[n] = 0;
	assert_int_equal(xg_msg_decode(buf, n + 1, key_a, NULL, &out),
			 -EBADMSG);
	for (i = 0; i < n; i++) {
		for (bit = 0; bit < 8; bit++) {
			buf[i] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(xg_msg_decode(buf, n, key_a, NULL,
							   &out), 0);
			buf[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(xg_msg_decode(buf, n, key_a, NULL, &out), 0);
}

/* An ANNOUNCE laid out by hand and signed with key_a: topic_len field,
 * topic bytes, size; total = 92 + tbytes + 8 unless told otherwise. */
static size_t raw_ann(uint8_t *p, uint8_t type, uint8_t flags,
		      uint8_t tlen_field, const char *topic, size_t tbytes,
		      uint64_t size)
{
	size_t total = 92 + tbytes + 8;

	memset(p, 0, total);
	be(p + 0, 0x5847, 2);
	p[2] = 1;
	p[3] = type;
	p[4] = flags;
	p[5] = 9;
	be(p + 6, total, 2);
	be(p + 8, CLUSTER, 8);
	be(p + 16, ORIGIN, 8);
	be(p + 24, 0x0000000700000001ULL, 8);
	be(p + 32, SENDER, 8);
	be(p + 40, 1000, 8);
	p[48] = 2;
	p[49] = tlen_field;
	be(p + 52, size, 8);
	memset(p + 60, 0x5a, 32);
	memcpy(p + 92, topic, tbytes);
	raw_sign(p, total, key_a);
	return total;
}

static void test_announce_content_rules(void **state)
{
	uint8_t p[XG_UDP_MAX + 64];
	char topic[80];
	struct xg_msg_pkt out;
	uint8_t type;
	size_t n;

	(void)state;
	/* the raw writer makes packets the codec accepts */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "abc", 3, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
	assert_true(xg_msg_pkt_is_announce(&out));
	assert_string_equal(out.msg.topic, "abc");
	assert_int_equal(out.size, 100000);
	assert_int_equal(out.msg.origin_ms, 1000);
	assert_int_equal(out.msg.hops, 2);
	assert_int_equal(out.sha256[0], 0x5a);
	assert_int_equal(out.sha256[31], 0x5a);
	/* other flag bits are kept, and ignored */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE | 0x01, 3, "abc", 3,
		    100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
	assert_int_equal(out.flags, XG_MSG_F_LARGE | 0x01);
	/* reserved is ignored */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "abc", 3, 100000);
	p[50] = 0xff;
	p[51] = 0x01;
	raw_sign(p, n, key_a);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);

	/* size: a payload a PUSH with this topic carries is not large */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "abc", 3,
		    xg_msg_max_push(3));
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "abc", 3,
		    xg_msg_max_push(3) + 1);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "abc", 3, 0);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	topic_of(topic, 64, 'z');
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 64, topic, 64,
		    XG_MSG_MAX_PAYLOAD);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 64, topic, 64,
		    XG_MSG_MAX_PAYLOAD + 1);
	assert_int_equal(n, XG_MSG_ANN_MAX);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), 0);

	/* topic_len 0, 65, and not matching the bytes present */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 0, "a", 1, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	topic_of(topic, 65, 'a');
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 65, topic, 65, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 4, "abc", 3, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 2, "abc", 3, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* characters */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "a\nb", 3, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "a\0b", 3, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "a\x80" "b", 3,
		    100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* lengths: no topic at all (a 48-byte PULL_SYNC with the flag, and
	 * the fixed part alone), and past the longest topic */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 0, "", 0, 100000);
	assert_int_equal(n, 100);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	memset(p, 0, 48);
	be(p + 0, 0x5847, 2);
	p[2] = 1;
	p[3] = XG_T_PULL_SYNC;
	p[4] = XG_MSG_F_LARGE;
	be(p + 6, 48, 2);
	raw_sign(p, 48, key_a);
	assert_int_equal(xg_msg_decode(p, 48, key_a, NULL, &out), -EBADMSG);
	topic_of(topic, 65, 'a');
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 64, topic, 65, 100000);
	assert_int_equal(n, XG_MSG_ANN_MAX + 1);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* the flag on any other type, whatever its length */
	for (type = XG_T_PUSH; type <= XG_T_PULL_RESPONSE; type++) {
		if (type == XG_T_PULL_SYNC)
			continue;
		n = raw_ann(p, type, XG_MSG_F_LARGE, 3, "abc", 3, 100000);
		assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out),
				 -EBADMSG);
		n = raw_data(p, type, 3, "abc", 3, 0, 0);
		p[4] = XG_MSG_F_LARGE;
		raw_sign(p, n, key_a);
		assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out),
				 -EBADMSG);
	}
	/* an announce-shaped body on a PULL_SYNC without the flag */
	n = raw_ann(p, XG_T_PULL_SYNC, 0, 3, "abc", 3, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_a, NULL, &out), -EBADMSG);
	/* and a MAC under another key */
	n = raw_ann(p, XG_T_PULL_SYNC, XG_MSG_F_LARGE, 3, "abc", 3, 100000);
	assert_int_equal(xg_msg_decode(p, n, key_b, NULL, &out), -EACCES);
}

static void test_announce_encode_rules(void **state)
{
	uint8_t buf[XG_UDP_MAX];
	struct xg_msg_pkt in;
	uint8_t type;

	(void)state;
	in = sample_ann("", 100000);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in = sample_ann("a\tb", 100000);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in = sample_ann("abc", xg_msg_max_push(3));
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in = sample_ann("abc", 0);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)), -EINVAL);
	in = sample_ann("abc", 100000);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, 92 + 3 + 7), -ENOSPC);
	assert_int_equal(xg_msg_encode(&in, key_a, buf, 92 + 3 + 8), 103);
	for (type = XG_T_PUSH; type <= XG_T_PULL_RESPONSE; type++) {
		if (type == XG_T_PULL_SYNC)
			continue;
		in = sample(type, "abc", 10);
		in.flags = XG_MSG_F_LARGE;
		assert_int_equal(xg_msg_encode(&in, key_a, buf, sizeof(buf)),
				 -EINVAL);
	}
}

/* Random bytes shaped as an ANNOUNCE header never decode. */
static void test_announce_random_bytes(void **state)
{
	uint64_t s = 777;
	uint8_t buf[256];
	struct xg_msg_pkt out;
	size_t j, n;
	int i;

	(void)state;
	for (i = 0; i < 20000; i++) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		n = 16 + (size_t)(s >> 33) % 200;
		for (j = 0; j < n; j++) {
			s = s * 6364136223846793005ULL + 1;
			buf[j] = (uint8_t)(s >> 56);
		}
		buf[0] = 0x58;
		buf[1] = 0x47;
		buf[2] = 1;
		buf[3] = XG_T_PULL_SYNC;
		buf[4] |= XG_MSG_F_LARGE;
		buf[6] = 0;
		buf[7] = (uint8_t)n;
		if (n > 49)
			buf[49] = (uint8_t)(n - 100);
		assert_int_not_equal(xg_msg_decode(buf, n, key_a, NULL, &out),
				     0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_data),
		cmocka_unit_test(test_roundtrip_ctrl),
		cmocka_unit_test(test_golden_push),
		cmocka_unit_test(test_golden_ctrl),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_bit_flips),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_content_rules),
		cmocka_unit_test(test_encode_rules),
		cmocka_unit_test(test_topic_valid),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_max_push),
		cmocka_unit_test(test_roundtrip_announce),
		cmocka_unit_test(test_golden_announce),
		cmocka_unit_test(test_announce_truncations_and_flips),
		cmocka_unit_test(test_announce_content_rules),
		cmocka_unit_test(test_announce_encode_rules),
		cmocka_unit_test(test_announce_random_bytes),
	};

	payload_fill();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
