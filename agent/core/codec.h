/* SPDX-License-Identifier: MIT */
/*
 * Encoders and decoders for wire format v1 (include/xgossip/wire.h).
 *
 * Decoders are the first line of defence against the network: they check
 * magic, version, type, declared length against the real length, every
 * count and every variable-length field against what is left in the buffer,
 * the name and metadata limits, the address family, and the MAC, and they
 * return a negative errno for anything malformed, truncated or oversized.
 * Nothing is read past len.  Decoded names are NUL-terminated copies;
 * decoded metadata is a copy; nothing points into the packet.
 */
#ifndef XGOSSIP_CORE_CODEC_H
#define XGOSSIP_CORE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <xgossip/wire.h>

#include "addr.h"

/* Host-order view of PING / ACK / NACK. */
struct xg_probe_msg {
	uint8_t  type;     /* XG_T_PING, XG_T_ACK or XG_T_NACK */
	uint8_t  flags;
	uint8_t  key_id;
	uint64_t cluster_id;
	uint32_t seq;
	uint64_t sender_id;
	uint64_t target_id;
	uint64_t ts_ns;
};

/* Host-order view of PING-REQ. */
struct xg_ping_req_msg {
	uint8_t        flags;
	uint8_t        key_id;
	uint64_t       cluster_id;
	uint32_t       seq;
	uint64_t       sender_id;
	uint64_t       target_id;
	uint64_t       ts_ns;
	struct xg_addr target;
};

/* Host-order view of one membership update. */
struct xg_update_msg {
	uint8_t        state;  /* enum xg_member_state */
	uint8_t        flags;  /* XG_UF_* */
	uint32_t       incarnation;
	uint64_t       node_id;
	uint64_t       from_id;
	struct xg_addr addr;
	char           name[XG_NAME_MAX];
	uint16_t       meta_len;
	uint8_t        meta[XG_META_MAX];
};

/* Size on the wire of one update (48 + name + meta). */
size_t xg_update_wire_size(const struct xg_update_msg *u);

/* Peek at the common header: checks magic, version and that len covers a
 * header.  Fills *type and *cluster_id.  0 or -EBADMSG / -EPROTO. */
int xg_peek_header(const void *buf, size_t len, uint8_t *type,
		   uint64_t *cluster_id);

/* Probes.  encode returns sizeof(struct xg_probe) or -ENOSPC/-EINVAL;
 * decode verifies the MAC with key (or, if key2 is not NULL, either key)
 * and returns 0, -EBADMSG (malformed), -EPROTO (wrong type/version) or
 * -EACCES (bad MAC). */
ssize_t xg_probe_encode(const struct xg_probe_msg *m, const uint8_t key[16],
			void *buf, size_t cap);
int     xg_probe_decode(const void *buf, size_t len, const uint8_t key[16],
			const uint8_t *key2, struct xg_probe_msg *out);

ssize_t xg_ping_req_encode(const struct xg_ping_req_msg *m,
			   const uint8_t key[16], void *buf, size_t cap);
int     xg_ping_req_decode(const void *buf, size_t len, const uint8_t key[16],
			   const uint8_t *key2, struct xg_ping_req_msg *out);

/* GOSSIP and STATE are built incrementally so the sender can fill a
 * datagram up to a size limit. */
struct xg_batch {
	uint8_t *buf;
	size_t   cap;     /* hard limit, including the MAC */
	size_t   len;     /* bytes written so far */
	uint32_t count;   /* updates written */
	uint8_t  type;    /* XG_T_GOSSIP or XG_T_STATE */
};

/* Start a GOSSIP (cap <= XG_UDP_MAX) or STATE packet in buf. */
int xg_batch_begin(struct xg_batch *b, uint8_t type, uint8_t flags,
		   uint64_t cluster_id, uint64_t sender_id, void *buf,
		   size_t cap);
/* Append one update; -ENOSPC if it (plus the MAC) does not fit, -E2BIG when
 * a GOSSIP already holds XG_GOSSIP_MAX_UPDATES, -EINVAL for a bad update. */
int xg_batch_add(struct xg_batch *b, const struct xg_update_msg *u);
/* Write count, len and MAC; returns the final length.  _kid also stamps
 * the key id of the signing key into the header (plain: key id 0). */
ssize_t xg_batch_finish(struct xg_batch *b, const uint8_t key[16]);
ssize_t xg_batch_finish_kid(struct xg_batch *b, uint8_t key_id,
			    const uint8_t key[16]);

/* Decoding GOSSIP / STATE: verify everything once, then iterate. */
struct xg_batch_reader {
	const uint8_t *buf;
	size_t         len;   /* up to the MAC */
	size_t         off;
	uint32_t       left;
	uint8_t        type;
	uint8_t        flags;
	uint64_t       cluster_id;
	uint64_t       sender_id;
};

/* Validates the whole packet (header, every update's bounds, MAC) before
 * returning 0, so a caller that iterates never sees half a packet. */
int xg_batch_open(struct xg_batch_reader *r, const void *buf, size_t len,
		  const uint8_t key[16], const uint8_t *key2);
/* 1 with *u filled, 0 at the end, negative errno on a malformed update. */
int xg_batch_next(struct xg_batch_reader *r, struct xg_update_msg *u);

#endif /* XGOSSIP_CORE_CODEC_H */
