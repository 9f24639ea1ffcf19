/* SPDX-License-Identifier: MIT */
/*
 * Encoder and decoder for the user-messaging packets, PUSH .. PULL_RESPONSE,
 * and ANNOUNCE, a PULL_SYNC with XG_MSG_F_LARGE (docs/MESSAGING.md has the
 * byte layout).
 *
 * Same discipline as core/codec.c: bytes are read and written one at a
 * time at fixed offsets (a datagram can sit at any alignment), and the
 * decoder checks header shape, then length, then the MAC, and only then
 * the contents, so nobody without the key reaches the topic parser.  The
 * content checks still run after the MAC because a member holding the key
 * may run buggy or old software.
 */
#include "core/msg.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <xgossip/siphash.h>

#include "core/bytes.h"
#include "core/mac.h"

#define OFF(type, field) offsetof(struct type, field)

/* Offsets of the PUSH / PULL_RESPONSE body, right after struct xg_msg_hdr.
 * The body is not in <xgossip/wire.h> because the XDP program never reads
 * past the message id. */
#define HDR_LEN       sizeof(struct xg_msg_hdr)
#define B_ORIGIN_MS   (HDR_LEN + 0)
#define B_HOPS        (HDR_LEN + 8)
#define B_TOPIC_LEN   (HDR_LEN + 9)
#define B_RESERVED    (HDR_LEN + 10)
#define B_PAYLOAD_LEN (HDR_LEN + 12)
#define B_TOPIC       (HDR_LEN + XG_MSG_BODY_LEN)
/* ANNOUNCE: the same first 12 bytes, then size and SHA-256. */
#define A_SIZE        (HDR_LEN + 12)
#define A_SHA256      (HDR_LEN + 20)
#define A_TOPIC       (HDR_LEN + XG_MSG_ANN_BODY_LEN)

_Static_assert(XG_MSG_DATA_HDR == 56, "PUSH fixed part is 56 bytes");
_Static_assert(XG_MSG_CTRL_LEN == 48, "control packets are 48 bytes");
_Static_assert(XG_MSG_MAX_PAYLOAD == 1272, "max payload changed");
_Static_assert(A_TOPIC == 92 && XG_MSG_ANN_MAX == 164, "ANNOUNCE layout");
_Static_assert((XG_MSG_F_LARGE & (XG_F_INDIRECT | XG_F_SUSPECTED |
				  XG_F_JOIN | XG_F_REPLY)) == 0,
	       "XG_MSG_F_LARGE collides with a wire.h flag");


/* --- ids ---------------------------------------------------------------- */

void xg_msg_id_make(uint8_t id[XG_MSG_ID_LEN], uint64_t origin,
		    uint32_t incarnation, uint32_t counter)
{
	xg_be_put64(id, origin);
	xg_be_put64(id + 8, (uint64_t)incarnation << 32 | counter);
}

uint64_t xg_msg_id_origin(const uint8_t id[XG_MSG_ID_LEN])
{
	return xg_be_get64(id);
}

uint64_t xg_msg_id_seq(const uint8_t id[XG_MSG_ID_LEN])
{
	return xg_be_get64(id + 8);
}


/* --- topic -------------------------------------------------------------- */

/* Topics are names an operator types and reads in logs and JSON: printable
 * ASCII only, so no control character, no NUL that would cut the C
 * string short, and no byte that needs an encoding to be shown. */
bool xg_msg_topic_valid(const char *topic, size_t len)
{
	size_t i;

	if (!topic || len == 0 || len > XG_MSG_TOPIC_MAX)
		return false;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)topic[i];

		if (ch < 0x20 || ch > 0x7e)
			return false;
	}
	return true;
}

size_t xg_msg_max_push(size_t topic_len)
{
	if (topic_len > XG_MSG_TOPIC_MAX)
		topic_len = XG_MSG_TOPIC_MAX;
	return XG_UDP_MAX - XG_MSG_DATA_HDR - topic_len - XG_MAC_LEN;
}

/* --- encode ------------------------------------------------------------- */

static void hdr_write(uint8_t *p, const struct xg_msg_pkt *m, size_t total)
{
	xg_be_put16(p + OFF(xg_hdr, magic), XG_MAGIC);
	p[OFF(xg_hdr, version)] = XG_VERSION;
	p[OFF(xg_hdr, type)] = m->type;
	p[OFF(xg_hdr, flags)] = m->flags;
	p[OFF(xg_hdr, key_id)] = m->key_id;
	xg_be_put16(p + OFF(xg_hdr, len), (uint16_t)total);
	xg_be_put64(p + OFF(xg_hdr, cluster_id), m->cluster_id);
	memcpy(p + OFF(xg_msg_hdr, msg_id), m->msg.id, XG_MSG_ID_LEN);
	xg_be_put64(p + OFF(xg_msg_hdr, sender_id), m->msg.sender_id);
}

/* Size of a data packet for this content, 0 if the content is invalid,
 * and XG_UDP_MAX + 1 (too big) if it cannot fit a datagram. */
static size_t data_size(const struct xg_msg *m, size_t *topic_len)
{
	size_t tlen = strnlen(m->topic, sizeof(m->topic));

	if (!xg_msg_topic_valid(m->topic, tlen))
		return 0;
	if (m->payload_len && !m->payload)
		return 0;
	*topic_len = tlen;
	if (m->payload_len > XG_UDP_MAX)
		return XG_UDP_MAX + 1;
	return XG_MSG_DATA_HDR + tlen + m->payload_len + XG_MAC_LEN;
}

/* A large message is one that a PUSH cannot carry: announcing one that
 * fits would make every member fetch over TLS what one datagram does. */
static ssize_t announce_encode(const struct xg_msg_pkt *p,
			       const uint8_t key[16], uint8_t *out,
			       size_t cap)
{
	const struct xg_msg *m = &p->msg;
	size_t tlen = strnlen(m->topic, sizeof(m->topic)), total;

	if (!xg_msg_topic_valid(m->topic, tlen) ||
	    p->size <= xg_msg_max_push(tlen))
		return -EINVAL;
	total = A_TOPIC + tlen + XG_MAC_LEN;
	if (cap < total)
		return -ENOSPC;
	hdr_write(out, p, total);
	xg_be_put64(out + B_ORIGIN_MS, m->origin_ms);
	out[B_HOPS] = m->hops;
	out[B_TOPIC_LEN] = (uint8_t)tlen;
	xg_be_put16(out + B_RESERVED, 0);
	xg_be_put64(out + A_SIZE, p->size);
	memcpy(out + A_SHA256, p->sha256, XG_MSG_SHA256_LEN);
	memcpy(out + A_TOPIC, m->topic, tlen);
	xg_mac_write(out, total - XG_MAC_LEN, key);
	return (ssize_t)total;
}

ssize_t xg_msg_encode(const struct xg_msg_pkt *p, const uint8_t key[16],
		      void *buf, size_t cap)
{
	const struct xg_msg *m;
	uint8_t *out = buf;
	size_t total, tlen = 0;

	if (!p || !key || !out || !xg_msg_type_valid(p->type))
		return -EINVAL;
	if ((p->flags & XG_MSG_F_LARGE) && p->type != XG_T_PULL_SYNC)
		return -EINVAL;
	if (xg_msg_pkt_is_announce(p))
		return announce_encode(p, key, out, cap);
	m = &p->msg;
	if (!xg_msg_type_is_data(p->type)) {
		if (cap < XG_MSG_CTRL_LEN)
			return -ENOSPC;
		hdr_write(out, p, XG_MSG_CTRL_LEN);
		xg_mac_write(out, HDR_LEN, key);
		return XG_MSG_CTRL_LEN;
	}
	total = data_size(m, &tlen);
	if (total == 0)
		return -EINVAL;
	if (total > XG_UDP_MAX)
		return -EMSGSIZE;
	if (cap < total)
		return -ENOSPC;
	hdr_write(out, p, total);
	xg_be_put64(out + B_ORIGIN_MS, m->origin_ms);
	out[B_HOPS] = m->hops;
	out[B_TOPIC_LEN] = (uint8_t)tlen;
	xg_be_put16(out + B_RESERVED, 0);
	xg_be_put32(out + B_PAYLOAD_LEN, m->payload_len);
	memcpy(out + B_TOPIC, m->topic, tlen);
	if (m->payload_len)
		memcpy(out + B_TOPIC + tlen, m->payload, m->payload_len);
	xg_mac_write(out, total - XG_MAC_LEN, key);
	return (ssize_t)total;
}

/* --- decode ------------------------------------------------------------- */

uint8_t xg_msg_key_id(const void *buf, size_t len)
{
	const uint8_t *p = buf;

	if (!p || len < sizeof(struct xg_hdr))
		return 0;
	return p[OFF(xg_hdr, key_id)];
}

static bool announce_hdr(const uint8_t *p, uint8_t type)
{
	return type == XG_T_PULL_SYNC &&
	       (p[OFF(xg_hdr, flags)] & XG_MSG_F_LARGE);
}

static int shape_check(const uint8_t *p, size_t len, uint8_t *type)
{
	if (!p || len < sizeof(struct xg_hdr))
		return -EBADMSG;
	if (xg_be_get16(p + OFF(xg_hdr, magic)) != XG_MAGIC)
		return -EBADMSG;
	if (p[OFF(xg_hdr, version)] != XG_VERSION)
		return -EPROTO;
	*type = p[OFF(xg_hdr, type)];
	if (!xg_msg_type_valid(*type))
		return -EPROTO;
	return 0;
}

/* Control packets have one size; data packets at least a fixed part, a
 * one-byte topic and the MAC, at most a datagram; ANNOUNCEs a fixed part,
 * a topic of 1 .. 64 bytes and the MAC.  Either way the header must state
 * the real length, so trailing bytes are as bad as missing.  The large
 * flag means something on PULL_SYNC only; anywhere else it is a packet
 * this version does not understand. */
static int length_check(const uint8_t *p, size_t len, uint8_t type)
{
	if (xg_be_get16(p + OFF(xg_hdr, len)) != len)
		return -EBADMSG;
	if ((p[OFF(xg_hdr, flags)] & XG_MSG_F_LARGE) && type != XG_T_PULL_SYNC)
		return -EBADMSG;
	if (announce_hdr(p, type))
		return len >= A_TOPIC + 1 + XG_MAC_LEN &&
		       len <= XG_MSG_ANN_MAX ? 0 : -EBADMSG;
	if (!xg_msg_type_is_data(type))
		return len == XG_MSG_CTRL_LEN ? 0 : -EBADMSG;
	if (len < XG_MSG_DATA_HDR + 1 + XG_MAC_LEN || len > XG_UDP_MAX)
		return -EBADMSG;
	return 0;
}

/* The topic and payload must fill the body exactly.  len was bounded by
 * XG_UDP_MAX above, so the sum cannot overflow. */
static int body_check(const uint8_t *p, size_t len)
{
	size_t tlen = p[B_TOPIC_LEN];
	size_t plen = xg_be_get32(p + B_PAYLOAD_LEN);

	if (tlen == 0 || tlen > XG_MSG_TOPIC_MAX)
		return -EBADMSG;
	if (plen > len || XG_MSG_DATA_HDR + tlen + plen + XG_MAC_LEN != len)
		return -EBADMSG;
	if (!xg_msg_topic_valid((const char *)p + B_TOPIC, tlen))
		return -EBADMSG;
	return 0;
}

static int announce_check(const uint8_t *p, size_t len)
{
	size_t tlen = p[B_TOPIC_LEN];

	if (tlen == 0 || tlen > XG_MSG_TOPIC_MAX ||
	    A_TOPIC + tlen + XG_MAC_LEN != len)
		return -EBADMSG;
	if (!xg_msg_topic_valid((const char *)p + A_TOPIC, tlen))
		return -EBADMSG;
	if (xg_be_get64(p + A_SIZE) <= xg_msg_max_push(tlen))
		return -EBADMSG;
	return 0;
}

static void head_read(const uint8_t *p, uint8_t type, struct xg_msg_pkt *out)
{
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->flags = p[OFF(xg_hdr, flags)];
	out->key_id = p[OFF(xg_hdr, key_id)];
	out->cluster_id = xg_be_get64(p + OFF(xg_hdr, cluster_id));
	memcpy(out->msg.id, p + OFF(xg_msg_hdr, msg_id), XG_MSG_ID_LEN);
	out->msg.origin_id = xg_msg_id_origin(out->msg.id);
	out->msg.sender_id = xg_be_get64(p + OFF(xg_msg_hdr, sender_id));
}

/* reserved is written as zero and ignored here, so a later version can
 * give it a meaning without old members refusing its packets. */
static void body_read(const uint8_t *p, struct xg_msg *m)
{
	size_t tlen = p[B_TOPIC_LEN];

	m->origin_ms = xg_be_get64(p + B_ORIGIN_MS);
	m->hops = p[B_HOPS];
	memcpy(m->topic, p + B_TOPIC, tlen);
	m->topic[tlen] = '\0';
	m->payload_len = xg_be_get32(p + B_PAYLOAD_LEN);
	m->payload = p + B_TOPIC + tlen;
}

static void announce_read(const uint8_t *p, struct xg_msg_pkt *out)
{
	size_t tlen = p[B_TOPIC_LEN];

	out->msg.origin_ms = xg_be_get64(p + B_ORIGIN_MS);
	out->msg.hops = p[B_HOPS];
	memcpy(out->msg.topic, p + A_TOPIC, tlen);
	out->msg.topic[tlen] = '\0';
	out->size = xg_be_get64(p + A_SIZE);
	memcpy(out->sha256, p + A_SHA256, XG_MSG_SHA256_LEN);
}

int xg_msg_decode(const void *buf, size_t len, const uint8_t key[16],
		  const uint8_t *key2, struct xg_msg_pkt *out)
{
	const uint8_t *p = buf;
	uint8_t type = 0;
	int err;

	err = shape_check(p, len, &type);
	if (err)
		return err;
	err = length_check(p, len, type);
	if (err)
		return err;
	err = xg_mac_check(p, len - XG_MAC_LEN, key, key2);
	if (err)
		return err;
	if (xg_msg_type_is_data(type))
		err = body_check(p, len);
	else if (announce_hdr(p, type))
		err = announce_check(p, len);
	if (err)
		return err;
	if (!out)
		return 0;
	head_read(p, type, out);
	if (xg_msg_type_is_data(type))
		body_read(p, &out->msg);
	else if (announce_hdr(p, type))
		announce_read(p, out);
	return 0;
}
