/* SPDX-License-Identifier: MIT */
/*
 * Wire format v1 encoders and decoders.
 *
 * Every field is read and written a byte at a time at offsets taken from the
 * structs in <xgossip/wire.h>.  Nothing casts a packet pointer to a struct:
 * a datagram may sit at any alignment in a receive buffer, and the structs
 * serve only as the single source of truth for offsets and sizes.
 *
 * Decoders check in a fixed order: header shape (magic, version, type),
 * declared length against real length, MAC, and only then the contents.
 * Authenticating first keeps anyone without the key away from the update
 * parser, the most intricate code here; the content checks still run
 * afterwards because a member holding the key may be buggy or old.
 */
#include "core/bytes.h"
#include "core/mac.h"
#include "core/codec.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <xgossip/siphash.h>

#define HDR_LEN    sizeof(struct xg_hdr)
#define PROBE_LEN  sizeof(struct xg_probe)
#define PREQ_LEN   sizeof(struct xg_ping_req)
#define UPD_LEN    sizeof(struct xg_update)
#define BATCH_HDR  sizeof(struct xg_gossip_hdr)

_Static_assert(sizeof(struct xg_gossip_hdr) == sizeof(struct xg_state_hdr),
	       "GOSSIP and STATE share the batch code: same header size");

#define OFF(type, field) offsetof(struct type, field)



/* --- common header ------------------------------------------------------ */

static void hdr_write(uint8_t *p, uint8_t type, uint8_t flags, uint8_t key_id,
		      uint16_t len, uint64_t cluster_id)
{
	xg_be_put16(p + OFF(xg_hdr, magic), XG_MAGIC);
	p[OFF(xg_hdr, version)] = XG_VERSION;
	p[OFF(xg_hdr, type)] = type;
	p[OFF(xg_hdr, flags)] = flags;
	p[OFF(xg_hdr, key_id)] = key_id;
	xg_be_put16(p + OFF(xg_hdr, len), len);
	xg_be_put64(p + OFF(xg_hdr, cluster_id), cluster_id);
}

int xg_peek_header(const void *buf, size_t len, uint8_t *type,
		   uint64_t *cluster_id)
{
	const uint8_t *p = buf;

	if (!p || len < HDR_LEN)
		return -EBADMSG;
	if (xg_be_get16(p + OFF(xg_hdr, magic)) != XG_MAGIC)
		return -EBADMSG;
	if (p[OFF(xg_hdr, version)] != XG_VERSION)
		return -EPROTO;
	if (type)
		*type = p[OFF(xg_hdr, type)];
	if (cluster_id)
		*cluster_id = xg_be_get64(p + OFF(xg_hdr, cluster_id));
	return 0;
}

/* Fixed-size packets: the declared length must be both the real length and
 * the struct size, so trailing bytes are as bad as missing ones. */
static int fixed_len_check(const uint8_t *p, size_t len, size_t want)
{
	if (len != want || xg_be_get16(p + OFF(xg_hdr, len)) != want)
		return -EBADMSG;
	return 0;
}

/* --- probes ------------------------------------------------------------- */

static bool is_probe_type(uint8_t t)
{
	return t == XG_T_PING || t == XG_T_ACK || t == XG_T_NACK;
}

ssize_t xg_probe_encode(const struct xg_probe_msg *m, const uint8_t key[16],
			void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (!m || !key || !p || !is_probe_type(m->type))
		return -EINVAL;
	if (cap < PROBE_LEN)
		return -ENOSPC;
	hdr_write(p, m->type, m->flags, m->key_id, PROBE_LEN, m->cluster_id);
	xg_be_put32(p + OFF(xg_probe, seq), m->seq);
	xg_be_put32(p + OFF(xg_probe, reserved), 0);
	xg_be_put64(p + OFF(xg_probe, sender_id), m->sender_id);
	xg_be_put64(p + OFF(xg_probe, target_id), m->target_id);
	xg_be_put64(p + OFF(xg_probe, ts_ns), m->ts_ns);
	xg_mac_write(p, OFF(xg_probe, mac), key);
	return PROBE_LEN;
}

int xg_probe_decode(const void *buf, size_t len, const uint8_t key[16],
		    const uint8_t *key2, struct xg_probe_msg *out)
{
	const uint8_t *p = buf;
	uint8_t type;
	int err;

	err = xg_peek_header(p, len, &type, NULL);
	if (err)
		return err;
	if (!is_probe_type(type))
		return -EPROTO;
	err = fixed_len_check(p, len, PROBE_LEN);
	if (err)
		return err;
	err = xg_mac_check(p, OFF(xg_probe, mac), key, key2);
	if (err)
		return err;
	if (!out)
		return 0;
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->flags = p[OFF(xg_hdr, flags)];
	out->key_id = p[OFF(xg_hdr, key_id)];
	out->cluster_id = xg_be_get64(p + OFF(xg_hdr, cluster_id));
	out->seq = xg_be_get32(p + OFF(xg_probe, seq));
	out->sender_id = xg_be_get64(p + OFF(xg_probe, sender_id));
	out->target_id = xg_be_get64(p + OFF(xg_probe, target_id));
	out->ts_ns = xg_be_get64(p + OFF(xg_probe, ts_ns));
	return 0;
}

/* --- addresses inside packets ------------------------------------------- */

static bool ip_tail_zero(const uint8_t ip[16])
{
	uint8_t any = 0;
	int i;

	for (i = 4; i < 16; i++)
		any |= ip[i];
	return any == 0;
}

/* Family 4 or 6, and an IPv4 address leaves bytes 4..15 zero so that two
 * encodings of one address compare equal byte for byte. */
static bool family_ip_valid(uint8_t family, const uint8_t ip[16])
{
	if (family == 6)
		return true;
	return family == 4 && ip_tail_zero(ip);
}

/* --- PING-REQ ----------------------------------------------------------- */

ssize_t xg_ping_req_encode(const struct xg_ping_req_msg *m,
			   const uint8_t key[16], void *buf, size_t cap)
{
	uint8_t *p = buf;

	if (!m || !key || !p)
		return -EINVAL;
	if (!family_ip_valid(m->target.family, m->target.ip))
		return -EINVAL;
	if (cap < PREQ_LEN)
		return -ENOSPC;
	hdr_write(p, XG_T_PING_REQ, m->flags, m->key_id, PREQ_LEN,
		  m->cluster_id);
	xg_be_put32(p + OFF(xg_ping_req, seq), m->seq);
	xg_be_put16(p + OFF(xg_ping_req, target_port), m->target.port);
	p[OFF(xg_ping_req, target_family)] = m->target.family;
	p[OFF(xg_ping_req, reserved)] = 0;
	xg_be_put64(p + OFF(xg_ping_req, sender_id), m->sender_id);
	xg_be_put64(p + OFF(xg_ping_req, target_id), m->target_id);
	xg_be_put64(p + OFF(xg_ping_req, ts_ns), m->ts_ns);
	memcpy(p + OFF(xg_ping_req, target_addr), m->target.ip, 16);
	xg_mac_write(p, OFF(xg_ping_req, mac), key);
	return PREQ_LEN;
}

int xg_ping_req_decode(const void *buf, size_t len, const uint8_t key[16],
		       const uint8_t *key2, struct xg_ping_req_msg *out)
{
	const uint8_t *p = buf;
	const uint8_t *ip;
	uint8_t type, family;
	int err;

	err = xg_peek_header(p, len, &type, NULL);
	if (err)
		return err;
	if (type != XG_T_PING_REQ)
		return -EPROTO;
	err = fixed_len_check(p, len, PREQ_LEN);
	if (err)
		return err;
	err = xg_mac_check(p, OFF(xg_ping_req, mac), key, key2);
	if (err)
		return err;
	family = p[OFF(xg_ping_req, target_family)];
	ip = p + OFF(xg_ping_req, target_addr);
	if (!family_ip_valid(family, ip))
		return -EBADMSG;
	if (!out)
		return 0;
	memset(out, 0, sizeof(*out));
	out->flags = p[OFF(xg_hdr, flags)];
	out->key_id = p[OFF(xg_hdr, key_id)];
	out->cluster_id = xg_be_get64(p + OFF(xg_hdr, cluster_id));
	out->seq = xg_be_get32(p + OFF(xg_ping_req, seq));
	out->sender_id = xg_be_get64(p + OFF(xg_ping_req, sender_id));
	out->target_id = xg_be_get64(p + OFF(xg_ping_req, target_id));
	out->ts_ns = xg_be_get64(p + OFF(xg_ping_req, ts_ns));
	out->target.family = family;
	out->target.port = xg_be_get16(p + OFF(xg_ping_req, target_port));
	memcpy(out->target.ip, ip, 16);
	return 0;
}

/* --- membership updates ------------------------------------------------- */

static bool state_valid(uint8_t s)
{
	return s >= XG_S_ALIVE && s <= XG_S_LEFT;
}

/* Names end up in logs, JSON and terminals: control characters (and NUL,
 * which would silently truncate the C string) are refused.  Bytes >= 0x80
 * pass so UTF-8 names work. */
static bool name_valid(const uint8_t *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= XG_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static size_t name_len_of(const struct xg_update_msg *u)
{
	return strnlen(u->name, XG_NAME_MAX);
}

size_t xg_update_wire_size(const struct xg_update_msg *u)
{
	return UPD_LEN + name_len_of(u) + u->meta_len;
}

static bool update_valid(const struct xg_update_msg *u)
{
	return state_valid(u->state) &&
	       family_ip_valid(u->addr.family, u->addr.ip) &&
	       name_valid((const uint8_t *)u->name, name_len_of(u)) &&
	       u->meta_len <= XG_META_MAX;
}

static void update_write(uint8_t *p, const struct xg_update_msg *u)
{
	size_t nlen = name_len_of(u);

	p[OFF(xg_update, state)] = u->state;
	p[OFF(xg_update, family)] = u->addr.family;
	p[OFF(xg_update, name_len)] = (uint8_t)nlen;
	p[OFF(xg_update, flags)] = u->flags;
	xg_be_put16(p + OFF(xg_update, port), u->addr.port);
	xg_be_put16(p + OFF(xg_update, meta_len), u->meta_len);
	xg_be_put32(p + OFF(xg_update, incarnation), u->incarnation);
	xg_be_put32(p + OFF(xg_update, reserved1), 0);
	xg_be_put64(p + OFF(xg_update, node_id), u->node_id);
	xg_be_put64(p + OFF(xg_update, from_id), u->from_id);
	memcpy(p + OFF(xg_update, addr), u->addr.ip, 16);
	memcpy(p + UPD_LEN, u->name, nlen);
	if (u->meta_len)
		memcpy(p + UPD_LEN + nlen, u->meta, u->meta_len);
}

/* Checks one update at p with avail bytes left before the MAC; on success
 * stores its size in *used and, if u is not NULL, decodes it. */
static int update_read(const uint8_t *p, size_t avail,
		       struct xg_update_msg *u, size_t *used)
{
	uint8_t state, family, nlen;
	uint16_t mlen;
	size_t size;

	if (avail < UPD_LEN)
		return -EBADMSG;
	state = p[OFF(xg_update, state)];
	family = p[OFF(xg_update, family)];
	nlen = p[OFF(xg_update, name_len)];
	mlen = xg_be_get16(p + OFF(xg_update, meta_len));
	if (!state_valid(state) ||
	    !family_ip_valid(family, p + OFF(xg_update, addr)) ||
	    mlen > XG_META_MAX)
		return -EBADMSG;
	size = UPD_LEN + (size_t)nlen + mlen;
	if (size > avail || !name_valid(p + UPD_LEN, nlen))
		return -EBADMSG;
	*used = size;
	if (!u)
		return 0;
	memset(u, 0, sizeof(*u));
	u->state = state;
	u->flags = p[OFF(xg_update, flags)];
	u->incarnation = xg_be_get32(p + OFF(xg_update, incarnation));
	u->node_id = xg_be_get64(p + OFF(xg_update, node_id));
	u->from_id = xg_be_get64(p + OFF(xg_update, from_id));
	u->addr.family = family;
	u->addr.port = xg_be_get16(p + OFF(xg_update, port));
	memcpy(u->addr.ip, p + OFF(xg_update, addr), 16);
	memcpy(u->name, p + UPD_LEN, nlen);
	u->meta_len = mlen;
	memcpy(u->meta, p + UPD_LEN + nlen, mlen);
	return 0;
}

/* --- GOSSIP / STATE: encoding ------------------------------------------- */

static size_t batch_limit(uint8_t type)
{
	return type == XG_T_GOSSIP ? XG_UDP_MAX : XG_STATE_MAX;
}

static uint32_t batch_max_count(uint8_t type)
{
	return type == XG_T_GOSSIP ? XG_GOSSIP_MAX_UPDATES : UINT32_MAX;
}

int xg_batch_begin(struct xg_batch *b, uint8_t type, uint8_t flags,
		   uint64_t cluster_id, uint64_t sender_id, void *buf,
		   size_t cap)
{
	if (!b || !buf || (type != XG_T_GOSSIP && type != XG_T_STATE))
		return -EINVAL;
	/* A larger buffer is fine; the packet just never grows past what a
	 * receiver accepts. */
	if (cap > batch_limit(type))
		cap = batch_limit(type);
	if (cap < BATCH_HDR + XG_MAC_LEN)
		return -ENOSPC;
	b->buf = buf;
	b->cap = cap;
	b->len = BATCH_HDR;
	b->count = 0;
	b->type = type;
	/* len and count are written by finish; zero them now so the buffer
	 * never holds stale bytes. */
	memset(b->buf, 0, BATCH_HDR);
	hdr_write(b->buf, type, flags, 0, 0, cluster_id);
	xg_be_put64(b->buf + OFF(xg_gossip_hdr, sender_id), sender_id);
	return 0;
}

int xg_batch_add(struct xg_batch *b, const struct xg_update_msg *u)
{
	size_t size;

	if (!b || !b->buf || !u || !update_valid(u))
		return -EINVAL;
	if (b->count >= batch_max_count(b->type))
		return -E2BIG;
	size = xg_update_wire_size(u);
	if (b->len + size + XG_MAC_LEN > b->cap)
		return -ENOSPC;
	update_write(b->buf + b->len, u);
	b->len += size;
	b->count++;
	return 0;
}

ssize_t xg_batch_finish(struct xg_batch *b, const uint8_t key[16])
{
	return xg_batch_finish_kid(b, 0, key);
}

ssize_t xg_batch_finish_kid(struct xg_batch *b, uint8_t key_id,
			    const uint8_t key[16])
{
	size_t total;

	if (!b || !b->buf || !key || b->len + XG_MAC_LEN > b->cap)
		return -EINVAL;
	b->buf[OFF(xg_hdr, key_id)] = key_id;
	total = b->len + XG_MAC_LEN;
	if (b->type == XG_T_GOSSIP) {
		/* GOSSIP is a datagram: its header carries its length. */
		xg_be_put16(b->buf + OFF(xg_hdr, len), (uint16_t)total);
		b->buf[OFF(xg_gossip_hdr, count)] = (uint8_t)b->count;
	} else {
		/* STATE can exceed 64 KiB: the TCP frame length carries it. */
		xg_be_put16(b->buf + OFF(xg_hdr, len), 0);
		xg_be_put32(b->buf + OFF(xg_state_hdr, count), b->count);
	}
	xg_mac_write(b->buf, b->len, key);
	return (ssize_t)total;
}

/* --- GOSSIP / STATE: decoding ------------------------------------------- */

static uint32_t batch_count(const uint8_t *p, uint8_t type)
{
	if (type == XG_T_GOSSIP)
		return p[OFF(xg_gossip_hdr, count)];
	return xg_be_get32(p + OFF(xg_state_hdr, count));
}

static int batch_shape_check(const uint8_t *p, size_t len, uint8_t type)
{
	uint16_t declared = xg_be_get16(p + OFF(xg_hdr, len));

	if (len < BATCH_HDR + XG_MAC_LEN || len > batch_limit(type))
		return -EBADMSG;
	if (type == XG_T_GOSSIP ? declared != len : declared != 0)
		return -EBADMSG;
	return 0;
}

/* Walks every update once so that iteration afterwards cannot fail half
 * way: exactly count updates must fill the body, nothing more, nothing
 * less. */
static int batch_body_check(const uint8_t *p, size_t body_end, uint32_t count)
{
	size_t off = BATCH_HDR, used;
	uint32_t i;
	int err;

	for (i = 0; i < count; i++) {
		err = update_read(p + off, body_end - off, NULL, &used);
		if (err)
			return err;
		off += used;
	}
	return off == body_end ? 0 : -EBADMSG;
}

int xg_batch_open(struct xg_batch_reader *r, const void *buf, size_t len,
		  const uint8_t key[16], const uint8_t *key2)
{
	const uint8_t *p = buf;
	size_t body_end;
	uint32_t count;
	uint8_t type;
	int err;

	if (!r)
		return -EINVAL;
	err = xg_peek_header(p, len, &type, NULL);
	if (err)
		return err;
	if (type != XG_T_GOSSIP && type != XG_T_STATE)
		return -EPROTO;
	err = batch_shape_check(p, len, type);
	if (err)
		return err;
	body_end = len - XG_MAC_LEN;
	err = xg_mac_check(p, body_end, key, key2);
	if (err)
		return err;
	/* An absurd count costs nothing: the walk stops at the first update
	 * that does not fit. */
	count = batch_count(p, type);
	err = batch_body_check(p, body_end, count);
	if (err)
		return err;
	r->buf = p;
	r->len = body_end;
	r->off = BATCH_HDR;
	r->left = count;
	r->type = type;
	r->flags = p[OFF(xg_hdr, flags)];
	r->cluster_id = xg_be_get64(p + OFF(xg_hdr, cluster_id));
	r->sender_id = xg_be_get64(p + OFF(xg_gossip_hdr, sender_id));
	return 0;
}

int xg_batch_next(struct xg_batch_reader *r, struct xg_update_msg *u)
{
	size_t used;
	int err;

	if (!r || !u || r->off > r->len)
		return -EINVAL;
	if (r->left == 0)
		return r->off == r->len ? 0 : -EBADMSG;
	err = update_read(r->buf + r->off, r->len - r->off, u, &used);
	if (err)
		return err;
	r->off += used;
	r->left--;
	return 1;
}
