/* SPDX-License-Identifier: MIT */
/*
 * Layouts of the maps shared by the XDP program (bpf/xgossip.bpf.c) and the
 * agent's loader (agent/xdp/).  Like wire.h this is compiled by clang
 * -target bpf and by gcc, so it uses only <linux/types.h>.
 *
 * Ownership is one-way: the agent writes config, keys, heartbeat and seen;
 * the program only reads them (the maps are created BPF_F_RDONLY_PROG, so
 * the verifier itself refuses a program that tries to write them).  The
 * program writes only the statistics.  That is how "the kernel only
 * enforces" is made structural rather than a promise.
 *
 * These maps are pinned and reused across agent restarts.  The loader only
 * reuses a pinned map whose type, key size, value size, entry count and
 * flags match, so any change below must change a size (or the map name) to
 * force fresh maps.
 */
#ifndef XGOSSIP_XDP_MAPS_H
#define XGOSSIP_XDP_MAPS_H

#include <linux/types.h>

/* Map names as the kernel and bpftool show them and as they are pinned. */
#define XG_MAP_CONFIG    "xg_config"
#define XG_MAP_KEYS      "xg_keys"
#define XG_MAP_HEARTBEAT "xg_heartbeat"
#define XG_MAP_SEEN      "xg_seen"
#define XG_MAP_STATS     "xg_stats"
#define XG_MAP_NOTICE    "xg_notice"

#define XG_XDP_PROG_NAME "xgossip_xdp"

/* Default entry count of the seen map; the loader may size it at load. */
#define XG_SEEN_MAX_DEFAULT 65536

/* xg_config[0].  Host byte order throughout so bpftool shows readable
 * numbers.  port == 0 means "not configured": the program passes every
 * packet, which is the state between load and the loader's first write. */
struct xg_bpf_config {
	__u64 cluster_id;
	__u64 node_id;
	__u64 liveness_ns; /* a heartbeat older than this => PING goes to userspace */
	__u16 port;
	__u8  keys_slot;   /* which xg_keys entry (0 or 1) is current */
	__u8  pad[5];
};

/* xg_keys has two entries.  A key change is written to the entry that is
 * not current and then published by flipping config.keys_slot, so the
 * program never reads a half-written pair of keys (a map update is a plain
 * copy, not atomic for 40 bytes). */
#define XG_KEY_SLOTS 2
#define XG_KEY_HAS_PRIMARY   0x01
#define XG_KEY_HAS_SECONDARY 0x02

struct xg_bpf_keys {
	__u8 primary[16];    /* signs ACKs; accepted on PINGs */
	__u8 secondary[16];  /* also accepted on PINGs (key rotation) */
	__u8 primary_id;     /* keyring slot stamped into the ACK's key_id */
	__u8 secondary_id;
	__u8 flags;          /* XG_KEY_HAS_* */
	__u8 pad[5];
};

/* xg_heartbeat[0]: CLOCK_MONOTONIC ns of the agent's last heartbeat, 0 when
 * the agent is not (yet) standing behind answers.  It is written with a
 * map update, which is a copy and not guaranteed to be one 64-bit store;
 * a torn read is harmless, though: it can only happen while the agent is
 * writing, i.e. alive, and its worst outcome is one PING sent to userspace.
 * (An mmapable map would give single stores, but the kernel refuses a
 * writable mapping of a BPF_F_RDONLY_PROG map, and read-only-to-the-program
 * is the guarantee that matters.) */

/* xg_seen: LRU hash, key = message id, value = CLOCK_MONOTONIC ns at which
 * the agent, having authenticated the message, inserted it. */
/* The program's messages to the agent, one entry, mmapped by the agent
 * (BPF_F_MMAPABLE) so that reading it costs no system call.
 * suspected_pings counts the PINGs flagged XG_F_SUSPECTED that the kernel
 * answered: their prober suspects this node, and the agent must refute
 * (the Lifeguard buddy system) although it never saw the PING. */
struct xg_bpf_notice {
	__u64 suspected_pings;
	__u64 last_suspected_ns; /* bpf_ktime_get_ns() of the last one */
};

struct xg_bpf_seen_key {
	__u8 id[16];
};

/* xg_stats[0], per CPU.  Every packet the program sees counts once in rx and
 * exactly once in one of the outcome counters between not_ours and
 * other_type; passed/dropped/tx count the verdicts, mac_secondary is an
 * extra count of PINGs authenticated with the secondary key. */
struct xg_bpf_stats {
	__u64 rx;
	/* outcomes (exclusive) */
	__u64 not_ours;             /* not UDP to our port, or not IP   PASS */
	__u64 ip_unsupported;       /* IPv4 UDP w/ options or fragment,
				     * IPv6 w/ extension headers       PASS */
	__u64 bad_header;           /* short, wrong magic or version    PASS */
	__u64 other_cluster;        /* cluster id is not ours           DROP */
	__u64 ping_malformed;       /* PING with wrong lengths          PASS */
	__u64 ping_other_target;    /* PING for another node id         PASS */
	__u64 ping_not_unicast;     /* PING to a multicast/broadcast    PASS */
	__u64 ping_no_key;          /* no key loaded yet                PASS */
	__u64 bad_mac;              /* PING MAC matches no key          DROP */
	__u64 ping_no_socket;       /* agent socket gone                PASS */
	__u64 ping_stale_heartbeat; /* agent heartbeat too old          PASS */
	__u64 ping_answered;        /* ACK sent from the kernel         TX   */
	__u64 dup_dropped;          /* PUSH/PULL_SYNC id already seen   DROP */
	__u64 msg_unknown;          /* PUSH/PULL_SYNC id not seen       PASS */
	__u64 msg_malformed;        /* PUSH/PULL_SYNC too short         PASS */
	__u64 other_type;           /* ACK, GOSSIP, ...                 PASS */
	/* verdicts and extras */
	__u64 passed;
	__u64 dropped;
	__u64 tx;
	__u64 mac_secondary;
};

#endif /* XGOSSIP_XDP_MAPS_H */
