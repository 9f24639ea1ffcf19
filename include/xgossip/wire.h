/* SPDX-License-Identifier: MIT */
/*
 * xgossip wire format, version 1.
 *
 * This header is compiled by both the XDP program (clang -target bpf) and the
 * userspace agent, so it uses only <linux/types.h> and plain structs.  Every
 * multi-byte field is big-endian on the wire.  Every struct is laid out so that
 * each field sits at its natural alignment inside the packet; the static
 * asserts below pin the sizes so a careless edit cannot shift an offset that
 * the kernel program depends on.
 *
 * docs/PROTOCOL.md describes every byte; keep the two in step.
 */
#ifndef XGOSSIP_WIRE_H
#define XGOSSIP_WIRE_H

#include <linux/types.h>

#define XG_MAGIC        0x5847 /* "XG" */
#define XG_VERSION      1
#define XG_DEFAULT_PORT 7946

/* Packet types.  Probes (PING..NACK) are fixed-size and the XDP program may
 * answer PING itself; GOSSIP carries membership updates; STATE is the TCP
 * push/pull payload; PUSH..PULL_RESPONSE are user messaging. */
enum xg_type {
	XG_T_PING          = 1,
	XG_T_ACK           = 2,
	XG_T_PING_REQ      = 3,
	XG_T_NACK          = 4,
	XG_T_GOSSIP        = 5,
	XG_T_STATE         = 6,
	XG_T_KEYOP         = 7,  /* TCP: keyring change/query, and its reply */
	XG_T_UNICAST       = 8,  /* TCP: a message for one member, and its receipt */
	XG_T_FETCH         = 9,  /* TCP: a large broadcast's body, asked of a holder */
	XG_T_PUSH          = 16,
	XG_T_PUSH_ACK      = 17,
	XG_T_PULL_SYNC     = 18,
	XG_T_PULL_REQUEST  = 19,
	XG_T_PULL_RESPONSE = 20,
};

/* Header flags (covered by the MAC). */
#define XG_F_INDIRECT  0x01 /* ACK relayed by a PING-REQ helper */
#define XG_F_SUSPECTED 0x02 /* PING to a node we suspect (Lifeguard buddy) */
#define XG_F_JOIN      0x04 /* STATE sent as part of a join */
#define XG_F_REPLY     0x08 /* STATE sent as the answer of a push/pull */
#define XG_F_REFUSED   0x10 /* NACK: the target's host refused our PING
			     * (ICMP port unreachable: no agent listens) */

/* Common header, 16 bytes, at the start of every packet and TCP frame. */
struct xg_hdr {
	__be16 magic;      /* XG_MAGIC */
	__u8   version;    /* XG_VERSION */
	__u8   type;       /* enum xg_type */
	__u8   flags;      /* XG_F_* */
	__u8   key_id;     /* keyring slot that authenticated the packet */
	__be16 len;        /* total length including header and MAC; 0 for STATE */
	__be64 cluster_id; /* packets of other clusters are dropped */
};

#define XG_MAC_LEN 8 /* SipHash-2-4 output, 64 bits */

/* PING, ACK and NACK: 56 bytes.
 * PING: sender_id = prober, target_id = node probed, ts_ns = prober's clock.
 * ACK:  sender_id = node that was probed, target_id = prober; seq and ts_ns
 *       echoed unchanged so the prober can match and time it.
 * NACK: sent by a PING-REQ helper whose own probe of the target failed;
 *       sender_id = helper, target_id = requester, seq/ts_ns echoed.
 * mac:  SipHash-2-4 over bytes [0, offsetof(mac)) with the probe key. */
struct xg_probe {
	struct xg_hdr hdr;
	__be32 seq;
	__be32 reserved;   /* zero on send, ignored on receive */
	__be64 sender_id;
	__be64 target_id;
	__be64 ts_ns;
	__u8   mac[XG_MAC_LEN];
};

/* PING-REQ: 72 bytes.  Asks a helper to probe target_id at target_addr on
 * behalf of sender_id.  The helper answers the requester with an ACK
 * (flags XG_F_INDIRECT, sender_id = target) or a NACK. */
struct xg_ping_req {
	struct xg_hdr hdr;
	__be32 seq;
	__be16 target_port;
	__u8   target_family; /* 4 or 6 */
	__u8   reserved;
	__be64 sender_id;
	__be64 target_id;
	__be64 ts_ns;
	__u8   target_addr[16]; /* IPv4 in the first 4 bytes, rest zero */
	__u8   mac[XG_MAC_LEN];
};

/* Member states carried in updates. */
enum xg_member_state {
	XG_S_ALIVE   = 1,
	XG_S_SUSPECT = 2,
	XG_S_DEAD    = 3,
	XG_S_LEFT    = 4,
};

#define XG_NAME_MAX 64  /* including the terminating NUL kept in memory */
#define XG_META_MAX 512 /* opaque metadata (tags) per member */

/* xg_update.flags.  STARVED: the member finds it is not given the CPU (a
 * quota, an overloaded host) and asks for the longest suspicion timeout;
 * it sets and clears the flag with a new incarnation.  Unknown bits are
 * ignored. */
#define XG_UF_STARVED 0x01

/* One membership update, 48 fixed bytes followed by name_len bytes of name
 * (no NUL) and meta_len bytes of metadata.  Updates are packed back to back
 * with no padding. */
struct xg_update {
	__u8   state;       /* enum xg_member_state */
	__u8   family;      /* 4 or 6 */
	__u8   name_len;    /* 1 .. XG_NAME_MAX-1 */
	__u8   flags;       /* XG_UF_*, the member's own, of this incarnation */
	__be16 port;
	__be16 meta_len;    /* 0 .. XG_META_MAX */
	__be32 incarnation;
	__be32 reserved1;
	__be64 node_id;
	__be64 from_id;     /* who raised a SUSPECT/DEAD; node_id itself otherwise */
	__u8   addr[16];
};

/* GOSSIP: header, then count updates, then mac over everything before it. */
struct xg_gossip_hdr {
	struct xg_hdr hdr;
	__be64 sender_id;
	__u8   count;
	__u8   reserved[7];
};

/* STATE (TCP push/pull).  A TCP frame is a 4-byte big-endian length followed
 * by that many bytes: this header, count updates, mac. */
struct xg_state_hdr {
	struct xg_hdr hdr;
	__be64 sender_id;
	__be32 count;
	__be32 reserved;
};

/* User messaging (PUSH, PULL_SYNC, ...).  The 128-bit message id sits at a
 * fixed offset right after the common header so the XDP program can look it
 * up in the seen map without parsing further. */
struct xg_msg_hdr {
	struct xg_hdr hdr;
	__u8   msg_id[16];  /* origin node id (8) + origin sequence (8) */
	__be64 sender_id;
};

/* KEYOP (TCP, inside TLS): one keyring operation asked of one member by
 * the member an operator ran `xgossipctl keys` against; the answer is a
 * KEYOP with XG_F_REPLY.  hdr.len is 0 (the TCP frame length carries the
 * size).  A reply to "list" is followed by count 32-byte keys, the primary
 * at index primary.  Both end with a MAC (SipHash-2-4, the gossip MAC key
 * of the keyring key hdr.key_id names) over everything before it. */
struct xg_keyop {
	struct xg_hdr hdr;
	__u8   op;        /* 0 list, 1 install, 2 use, 3 remove */
	__u8   count;     /* reply: keys that follow */
	__u8   primary;   /* reply: index of the primary among them */
	__u8   reserved;
	__be32 status;    /* reply: 0, or the positive errno of the failure */
	__u8   key[32];   /* request: the key (zeros for list) */
};

/* UNICAST and FETCH (TCP, inside TLS), docs/PROTOCOL.md section 6.2.
 * hdr.len is 0; the TCP frame length carries the size.  A request is
 * this struct, name_len bytes of the sender's member name, topic_len
 * bytes of topic (UNICAST only), and a MAC (SipHash-2-4, the STATE/KEYOP
 * MAC key of the keyring key hdr.key_id names) over everything before it.
 * A UNICAST request is followed by a second frame of body_len bytes: the
 * payload (none when body_len is 0).  The answer (flags XG_F_REPLY,
 * name_len and topic_len 0, same msg_id) carries status; a FETCH answer
 * with status 0 is followed by a second frame of body_len bytes: the
 * body. */
struct xg_xfer_hdr {
	struct xg_hdr hdr;
	__u8   msg_id[16];
	__be64 sender_id;   /* the member sending this frame */
	__be32 status;      /* reply: 0, or the positive errno of the refusal */
	__be32 body_len;    /* bytes of the frame that follows (or 0) */
	__u8   name_len;    /* request: 1 .. XG_NAME_MAX-1 */
	__u8   topic_len;   /* UNICAST request: 1 .. 64 */
	__u8   reserved[6];
};

#define XG_UDP_MAX     1400            /* largest UDP payload we send */
#define XG_STATE_MAX   (16u << 20)     /* largest STATE frame we accept */
#define XG_GOSSIP_MAX_UPDATES 255

#define XG_STATIC_ASSERT(c, m) _Static_assert(c, m)
XG_STATIC_ASSERT(sizeof(struct xg_hdr) == 16, "xg_hdr must be 16 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_probe) == 56, "xg_probe must be 56 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_ping_req) == 72, "xg_ping_req must be 72 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_update) == 48, "xg_update must be 48 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_gossip_hdr) == 32, "xg_gossip_hdr must be 32 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_state_hdr) == 32, "xg_state_hdr must be 32 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_msg_hdr) == 40, "xg_msg_hdr must be 40 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_keyop) == 56, "xg_keyop must be 56 bytes");
XG_STATIC_ASSERT(sizeof(struct xg_xfer_hdr) == 56, "xg_xfer_hdr must be 56 bytes");

#endif /* XGOSSIP_WIRE_H */
