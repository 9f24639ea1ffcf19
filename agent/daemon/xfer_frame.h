/* SPDX-License-Identifier: MIT */
/*
 * UNICAST and FETCH frames (include/xgossip/wire.h, struct xg_xfer_hdr): the
 * request that opens a transfer and the answer that closes it.  Like
 * KEYOP they travel inside TLS and carry a MAC under the sender's primary
 * keyring key as well: a member needs both its certificate and the
 * cluster's keys, so a node whose keys were rotated away can no longer
 * send or fetch even while its certificate is still trusted.
 *
 * The bulk (a UNICAST's payload, a FETCH's body) is not in these frames
 * but in the frame after them; TLS protects it, and a FETCH body is also
 * checked against the SHA-256 its announcement gave.
 */
#ifndef XGOSSIP_DAEMON_XFER_FRAME_H
#define XGOSSIP_DAEMON_XFER_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xgossip/wire.h>

#include "core/msg.h"
#include "util/keyring.h"

/* The largest frame: header, a 63-byte name, a 64-byte topic, MAC. */
#define XG_XFER_FRAME_MAX \
	(sizeof(struct xg_xfer_hdr) + (XG_NAME_MAX - 1) + XG_MSG_TOPIC_MAX + \
	 XG_MAC_LEN)

struct xg_xfer_msg {
	uint8_t  type;                        /* XG_T_UNICAST or XG_T_FETCH */
	bool     reply;
	uint8_t  id[16];
	uint64_t sender_id;
	int      status;                      /* reply: 0 or -errno */
	uint32_t body_len;
	char     name[XG_NAME_MAX];           /* request: the sender's name */
	char     topic[XG_MSG_TOPIC_MAX + 1]; /* UNICAST request */
};

/* Signed with kr's primary.  Returns the length, -EINVAL (a field breaks
 * the rules decode enforces), -ENOSPC or -ENOKEY. */
ssize_t xg_xfer_encode(const struct xg_keyring *kr, uint64_t cluster_id,
		       const struct xg_xfer_msg *m, uint8_t *out, size_t cap);
/* 0, -EPROTO (not a UNICAST/FETCH, or another cluster), -EBADMSG
 * (lengths, names, topic, fields that do not fit the kind of frame),
 * -ENOKEY (unknown key id), -EACCES (MAC). */
int xg_xfer_decode(const struct xg_keyring *kr, uint64_t cluster_id,
		   const uint8_t *buf, size_t len, struct xg_xfer_msg *out);

#endif /* XGOSSIP_DAEMON_XFER_FRAME_H */
