/* SPDX-License-Identifier: MIT */
#include "daemon/keyop.h"

#include "core/bytes.h"
#include "core/mac.h"

#include <errno.h>
#include <string.h>

#include <xgossip/siphash.h>
#include <xgossip/wire.h>

#define OFF(f) offsetof(struct xg_keyop, f)

ssize_t xg_keyop_encode(const struct xg_keyring *kr, uint64_t cluster_id,
			const struct xg_keyop_msg *m,
			const struct xg_keyring *ring, uint8_t *out,
			size_t cap)
{
	const struct xg_ring_key *k = xg_keyring_primary(kr);
	unsigned count = 0, primary = 0, i;
	uint32_t status;
	size_t len;

	if (!k)
		return -ENOKEY;
	if (m->reply && ring && m->op == 0) {
		count = ring->n;
		primary = ring->primary;
	}
	len = sizeof(struct xg_keyop) + (size_t)count * XG_KEY_LEN + XG_MAC_LEN;
	if (len > cap)
		return -ENOSPC;
	memset(out, 0, sizeof(struct xg_keyop));
	out[OFF(hdr.magic)] = XG_MAGIC >> 8;
	out[OFF(hdr.magic) + 1] = XG_MAGIC & 0xff;
	out[OFF(hdr.version)] = XG_VERSION;
	out[OFF(hdr.type)] = XG_T_KEYOP;
	out[OFF(hdr.flags)] = m->reply ? XG_F_REPLY : 0;
	out[OFF(hdr.key_id)] = k->id;
	xg_be_put64(out + OFF(hdr.cluster_id), cluster_id);
	out[OFF(op)] = m->op;
	out[OFF(count)] = (uint8_t)count;
	out[OFF(primary)] = (uint8_t)primary;
	status = m->status < 0 ? (uint32_t)-m->status : 0;
	xg_be_put32(out + OFF(status), status);
	if (!m->reply)
		memcpy(out + OFF(key), m->key, XG_KEY_LEN);
	for (i = 0; i < count; i++)
		memcpy(out + sizeof(struct xg_keyop) + (size_t)i * XG_KEY_LEN,
		       ring->keys[i].secret, XG_KEY_LEN);
	xg_mac_write(out, len - XG_MAC_LEN, k->state_mac);
	return (ssize_t)len;
}

int xg_keyop_decode(const struct xg_keyring *kr, uint64_t cluster_id,
		    const uint8_t *buf, size_t len, struct xg_keyop_msg *out)
{
	const struct xg_ring_key *k;
	unsigned count, i;
	uint32_t status;

	if (len < sizeof(struct xg_keyop) + XG_MAC_LEN)
		return -EBADMSG;
	if (buf[OFF(hdr.magic)] != (XG_MAGIC >> 8) ||
	    buf[OFF(hdr.magic) + 1] != (XG_MAGIC & 0xff) ||
	    buf[OFF(hdr.version)] != XG_VERSION ||
	    buf[OFF(hdr.type)] != XG_T_KEYOP ||
	    xg_be_get64(buf + OFF(hdr.cluster_id)) != cluster_id)
		return -EPROTO;
	count = buf[OFF(count)];
	if (count > XG_KEYRING_MAX || buf[OFF(primary)] > count ||
	    len != sizeof(struct xg_keyop) + (size_t)count * XG_KEY_LEN +
		   XG_MAC_LEN)
		return -EBADMSG;
	k = xg_keyring_by_id(kr, buf[OFF(hdr.key_id)]);
	if (!k)
		return -ENOKEY;
	if (!xg_mac_matches(buf, len - XG_MAC_LEN, k->state_mac))
		return -EACCES;
	memset(out, 0, sizeof(*out));
	out->reply = buf[OFF(hdr.flags)] & XG_F_REPLY;
	out->op = buf[OFF(op)];
	if (out->op > 3)
		return -EBADMSG;
	status = xg_be_get32(buf + OFF(status));
	if (status > 4095)
		return -EBADMSG;
	out->status = -(int)status;
	memcpy(out->key, buf + OFF(key), XG_KEY_LEN);
	out->count = count;
	out->primary = buf[OFF(primary)];
	for (i = 0; i < count; i++)
		memcpy(out->keys[i],
		       buf + sizeof(struct xg_keyop) + (size_t)i * XG_KEY_LEN,
		       XG_KEY_LEN);
	return 0;
}
