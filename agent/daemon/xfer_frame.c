/* SPDX-License-Identifier: MIT */
#include "daemon/xfer_frame.h"

#include <errno.h>
#include <string.h>

#include "core/bytes.h"
#include "core/mac.h"

#define OFF(f) offsetof(struct xg_xfer_hdr, f)
/* Statuses are errno values; anything larger is not one. */
#define STATUS_MAX 4095

/* Names end up in logs and JSON: no control characters, no NUL (the
 * same rule as member names in GOSSIP). */
static bool name_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n >= XG_NAME_MAX)
		return false;
	for (i = 0; i < n; i++)
		if ((uint8_t)s[i] < 0x20 || (uint8_t)s[i] == 0x7f)
			return false;
	return true;
}

/* The rules a frame's fields must follow for its kind; both ends apply
 * them, so nothing malformed is ever signed. */
static bool fields_valid(const struct xg_xfer_msg *m, size_t nlen,
			 size_t tlen)
{
	bool unicast = m->type == XG_T_UNICAST;

	if (m->type != XG_T_UNICAST && m->type != XG_T_FETCH)
		return false;
	if (m->reply)
		return nlen == 0 && tlen == 0 &&
		       (m->status == 0 || m->body_len == 0) &&
		       (unicast ? m->body_len == 0 : true);
	if (m->status || !name_valid(m->name, nlen))
		return false;
	if (!unicast)
		return tlen == 0 && m->body_len == 0;
	return xg_msg_topic_valid(m->topic, tlen);
}

ssize_t xg_xfer_encode(const struct xg_keyring *kr, uint64_t cluster_id,
		       const struct xg_xfer_msg *m, uint8_t *out, size_t cap)
{
	const struct xg_ring_key *k = xg_keyring_primary(kr);
	size_t nlen = m->reply ? 0 : strnlen(m->name, XG_NAME_MAX);
	size_t tlen = m->reply || m->type != XG_T_UNICAST ?
		      0 : strnlen(m->topic, sizeof(m->topic));
	size_t len = sizeof(struct xg_xfer_hdr) + nlen + tlen + XG_MAC_LEN;

	if (!k)
		return -ENOKEY;
	if (m->status > 0 || m->status < -STATUS_MAX ||
	    !fields_valid(m, nlen, tlen))
		return -EINVAL;
	if (len > cap)
		return -ENOSPC;
	memset(out, 0, sizeof(struct xg_xfer_hdr));
	xg_be_put16(out + OFF(hdr.magic), XG_MAGIC);
	out[OFF(hdr.version)] = XG_VERSION;
	out[OFF(hdr.type)] = m->type;
	out[OFF(hdr.flags)] = m->reply ? XG_F_REPLY : 0;
	out[OFF(hdr.key_id)] = k->id;
	xg_be_put64(out + OFF(hdr.cluster_id), cluster_id);
	memcpy(out + OFF(msg_id), m->id, sizeof(m->id));
	xg_be_put64(out + OFF(sender_id), m->sender_id);
	xg_be_put32(out + OFF(status), (uint32_t)-m->status);
	xg_be_put32(out + OFF(body_len), m->body_len);
	out[OFF(name_len)] = (uint8_t)nlen;
	out[OFF(topic_len)] = (uint8_t)tlen;
	memcpy(out + sizeof(struct xg_xfer_hdr), m->name, nlen);
	memcpy(out + sizeof(struct xg_xfer_hdr) + nlen, m->topic, tlen);
	xg_mac_write(out, len - XG_MAC_LEN, k->state_mac);
	return (ssize_t)len;
}

int xg_xfer_decode(const struct xg_keyring *kr, uint64_t cluster_id,
		   const uint8_t *buf, size_t len, struct xg_xfer_msg *out)
{
	const struct xg_ring_key *k;
	size_t nlen, tlen;
	uint32_t status;
	uint8_t type;

	if (len < sizeof(struct xg_xfer_hdr) + XG_MAC_LEN ||
	    xg_be_get16(buf + OFF(hdr.magic)) != XG_MAGIC)
		return -EBADMSG;
	type = buf[OFF(hdr.type)];
	if (buf[OFF(hdr.version)] != XG_VERSION ||
	    (type != XG_T_UNICAST && type != XG_T_FETCH) ||
	    xg_be_get64(buf + OFF(hdr.cluster_id)) != cluster_id)
		return -EPROTO;
	nlen = buf[OFF(name_len)];
	tlen = buf[OFF(topic_len)];
	if (xg_be_get16(buf + OFF(hdr.len)) != 0 ||
	    len != sizeof(struct xg_xfer_hdr) + nlen + tlen + XG_MAC_LEN)
		return -EBADMSG;
	k = xg_keyring_by_id(kr, buf[OFF(hdr.key_id)]);
	if (!k)
		return -ENOKEY;
	if (!xg_mac_matches(buf, len - XG_MAC_LEN, k->state_mac))
		return -EACCES;
	status = xg_be_get32(buf + OFF(status));
	if (status > STATUS_MAX || nlen >= XG_NAME_MAX ||
	    tlen > XG_MSG_TOPIC_MAX)
		return -EBADMSG;
	memset(out, 0, sizeof(*out));
	out->type = type;
	out->reply = buf[OFF(hdr.flags)] & XG_F_REPLY;
	memcpy(out->id, buf + OFF(msg_id), sizeof(out->id));
	out->sender_id = xg_be_get64(buf + OFF(sender_id));
	out->status = -(int)status;
	out->body_len = xg_be_get32(buf + OFF(body_len));
	memcpy(out->name, buf + sizeof(struct xg_xfer_hdr), nlen);
	memcpy(out->topic, buf + sizeof(struct xg_xfer_hdr) + nlen, tlen);
	return fields_valid(out, nlen, tlen) ? 0 : -EBADMSG;
}
