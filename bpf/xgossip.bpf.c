/* SPDX-License-Identifier: MIT */
/*
 * xgossip XDP fast path.
 *
 * Answers authenticated PINGs addressed to this node with an ACK built in
 * place (XDP_TX) while the agent is alive and not hung, drops user messages
 * whose id the agent has already accepted, drops other clusters' traffic,
 * and passes everything else to the kernel stack.  It never decides
 * anything about membership: every map it reads is written by the agent and
 * read-only to this program (docs/XDP.md).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include <xgossip/wire.h>
#include <xgossip/xdp_maps.h>

#include "xg_csum.h"
#include "xg_parse.h"
#include "xg_probe.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__type(key, __u32);
	__type(value, struct xg_bpf_config);
} xg_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, XG_KEY_SLOTS);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__type(key, __u32);
	__type(value, struct xg_bpf_keys);
} xg_keys SEC(".maps");

/* Mmapped by the agent, which stores its heartbeat at every wakeup of
 * its loop without a system call.  The kernel refuses a writable mapping
 * of a BPF_F_RDONLY_PROG map, so this is the one agent-owned map the
 * verifier does not hold read-only; the program only ever loads it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} xg_heartbeat SEC(".maps");

/* The one map this program writes for the agent (mmapped there too). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct xg_bpf_notice);
} xg_notice SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, XG_SEEN_MAX_DEFAULT);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__type(key, struct xg_bpf_seen_key);
	__type(value, __u64);
} xg_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct xg_bpf_stats);
} xg_stats SEC(".maps");

/* Family dispatch below tests f->ip6 explicitly rather than using a bare
 * "else": the verifier cannot know that ip6 is set whenever ip4 is not, and
 * clang is free to merge the two paths in ways that make it ask. */

static __always_inline void xg_notice_suspected(void)
{
	struct xg_bpf_notice *n;
	__u32 zero = 0;

	n = bpf_map_lookup_elem(&xg_notice, &zero);
	if (!n)
		return;
	__sync_fetch_and_add(&n->suspected_pings, 1);
	n->last_suspected_ns = bpf_ktime_get_ns();
}

#define XG_PASS(s, field) ((s)->field++, (s)->passed++, XDP_PASS)
#define XG_DROP(s, field) ((s)->field++, (s)->dropped++, XDP_DROP)

/* The ACK's source address is the PING's destination; a group or broadcast
 * address must never become one. */
static __always_inline int xg_frame_is_unicast(const struct xg_frame *f)
{
	if (f->eth->h_dest[0] & 1)
		return 0;
	if (f->ip4) {
		__u32 d = bpf_ntohl(f->ip4->daddr);

		return (d >> 28) != 0xe && d != 0xffffffff;
	}
	if (f->ip6)
		return f->ip6->daddr.in6_u.u6_addr8[0] != 0xff;
	return 0;
}

/* Liveness (a): the agent's socket for this very 5-tuple still exists.
 * The lookup uses the packet's own addresses, so a socket bound to the
 * wildcard address is found too.  A process that dies, even by SIGKILL,
 * loses its sockets at once, and with them every answer from here. */
static __always_inline int xg_agent_socket_alive(struct xdp_md *ctx,
						 const struct xg_frame *f)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;
	__u32 len;

	if (f->ip4) {
		t.ipv4.saddr = f->ip4->saddr;
		t.ipv4.daddr = f->ip4->daddr;
		t.ipv4.sport = f->udp->source;
		t.ipv4.dport = f->udp->dest;
		len = sizeof(t.ipv4);
	} else if (f->ip6) {
		__builtin_memcpy(t.ipv6.saddr, &f->ip6->saddr, 16);
		__builtin_memcpy(t.ipv6.daddr, &f->ip6->daddr, 16);
		t.ipv6.sport = f->udp->source;
		t.ipv6.dport = f->udp->dest;
		len = sizeof(t.ipv6);
	} else {
		return 0;
	}
	sk = bpf_sk_lookup_udp(ctx, &t, len, BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	bpf_sk_release(sk);
	return 1;
}

/* Liveness (b): the agent wrote a heartbeat within the window.  A value in
 * the future cannot come from a working agent on the same clock, and 0 is
 * an agent that has not beaten yet (or a loader that reset it): both are
 * unknown, and when in doubt userspace answers (or not).  Only a real
 * heartbeat that has grown old says the agent is hung. */
enum xg_beat {
	XG_BEAT_FRESH,
	XG_BEAT_STALE,
	XG_BEAT_UNKNOWN,
};

static __always_inline int xg_agent_heartbeat(const struct xg_bpf_config *cfg)
{
	__u32 zero = 0;
	__u64 *hb = bpf_map_lookup_elem(&xg_heartbeat, &zero);
	__u64 beat, now;

	if (!hb)
		return XG_BEAT_UNKNOWN;
	beat = *(volatile __u64 *)hb;
	now = bpf_ktime_get_ns();
	if (beat == 0 || beat > now)
		return XG_BEAT_UNKNOWN;
	return now - beat <= cfg->liveness_ns ? XG_BEAT_FRESH : XG_BEAT_STALE;
}

/* Mirror the frame back to the prober: MACs, addresses and ports swap; the
 * IPv4 TTL / IPv6 hop limit restart at 64 as for any locally sent packet. */
static __always_inline void xg_frame_reverse(struct xg_frame *f)
{
	__u8 mac[ETH_ALEN];
	__u16 port;

	__builtin_memcpy(mac, f->eth->h_dest, ETH_ALEN);
	__builtin_memcpy(f->eth->h_dest, f->eth->h_source, ETH_ALEN);
	__builtin_memcpy(f->eth->h_source, mac, ETH_ALEN);

	if (f->ip4) {
		__be32 a = f->ip4->saddr;

		f->ip4->saddr = f->ip4->daddr;
		f->ip4->daddr = a;
		f->ip4->ttl = 64;
		f->ip4->check = 0;
		f->ip4->check = xg_ipv4_hdr_csum(f->ip4);
	} else if (f->ip6) {
		struct in6_addr a;

		__builtin_memcpy(&a, &f->ip6->saddr, sizeof(a));
		__builtin_memcpy(&f->ip6->saddr, &f->ip6->daddr, sizeof(a));
		__builtin_memcpy(&f->ip6->daddr, &a, sizeof(a));
		f->ip6->hop_limit = 64;
	}

	port = f->udp->source;
	f->udp->source = f->udp->dest;
	f->udp->dest = port;
}

/* UDP checksum of the (already reversed) frame whose payload is the ACK in
 * *ack: pseudo-header, UDP header with a zero checksum, payload. */
static __always_inline __u16 xg_frame_udp_csum(const struct xg_frame *f,
					       const struct xg_probe *ack)
{
	__u64 sum = 0;

	if (f->ip4)
		sum = xg_csum_words(&f->ip4->saddr, 4);
	else if (f->ip6)
		sum = xg_csum_words(&f->ip6->saddr, 16);
	sum += bpf_htons(IPPROTO_UDP) + f->udp->len; /* pseudo-header */
	sum += f->udp->source + f->udp->dest + f->udp->len;
	sum += xg_csum_words(ack, sizeof(*ack) / 2);
	return xg_udp_csum_final(sum);
}

static __always_inline int xg_handle_ping(struct xdp_md *ctx,
					  struct xg_frame *f,
					  const struct xg_bpf_config *cfg,
					  struct xg_bpf_stats *s)
{
	struct xg_probe *pkt = (void *)(f->udp + 1);
	void *data_end = (void *)(long)ctx->data_end;
	const struct xg_bpf_keys *keys;
	struct xg_probe p;
	__u32 slot;
	int auth, beat;

	if (f->payload_len != sizeof(p) || (void *)(pkt + 1) > data_end)
		return XG_PASS(s, ping_malformed);
	__builtin_memcpy(&p, pkt, sizeof(p));
	if (bpf_ntohs(p.hdr.len) != sizeof(p))
		return XG_PASS(s, ping_malformed);
	if (bpf_be64_to_cpu(p.target_id) != cfg->node_id)
		return XG_PASS(s, ping_other_target);
	if (!xg_frame_is_unicast(f))
		return XG_PASS(s, ping_not_unicast);

	slot = cfg->keys_slot;
	keys = bpf_map_lookup_elem(&xg_keys, &slot);
	if (!keys || !(keys->flags & XG_KEY_HAS_PRIMARY))
		return XG_PASS(s, ping_no_key);
	auth = xg_probe_auth(&p, keys);
	if (auth == XG_AUTH_NONE)
		return XG_DROP(s, bad_mac);
	if (auth == XG_AUTH_SECONDARY)
		s->mac_secondary++;

	if (!xg_agent_socket_alive(ctx, f))
		return XG_PASS(s, ping_no_socket);
	beat = xg_agent_heartbeat(cfg);
	if (beat == XG_BEAT_UNKNOWN)
		return XG_PASS(s, ping_stale_heartbeat);

	/* Answering keeps the node alive in the prober's eyes, but the
	 * flag means the prober already suspects it: the agent must still
	 * hear of it and refute, or the suspicion runs out elsewhere.  A
	 * hung agent that wakes up refutes too. */
	if (p.hdr.flags & XG_F_SUSPECTED)
		xg_notice_suspected();
	if (beat == XG_BEAT_STALE) {
		xg_probe_make_hung_nack(&p, keys);
		s->ping_stale_heartbeat++;
	} else {
		xg_probe_make_ack(&p, keys);
		s->ping_answered++;
	}
	xg_frame_reverse(f);
	f->udp->check = 0;
	f->udp->check = xg_frame_udp_csum(f, &p);
	__builtin_memcpy(pkt, &p, sizeof(p));
	s->tx++;
	return XDP_TX;
}

/* A PUSH or PULL_SYNC whose id the agent has already accepted carries
 * nothing new: drop it before it costs a wake-up.  Only the agent writes
 * the seen map, after checking the message's MAC, so a forged packet can at
 * worst be dropped itself. */
static __always_inline int xg_handle_msg(struct xdp_md *ctx,
					 struct xg_frame *f,
					 struct xg_bpf_stats *s)
{
	struct xg_msg_hdr *m = (void *)(f->udp + 1);
	void *data_end = (void *)(long)ctx->data_end;
	struct xg_bpf_seen_key key;

	if (f->payload_len < sizeof(*m) || (void *)(m + 1) > data_end)
		return XG_PASS(s, msg_malformed);
	__builtin_memcpy(key.id, m->msg_id, sizeof(key.id));
	if (bpf_map_lookup_elem(&xg_seen, &key))
		return XG_DROP(s, dup_dropped);
	return XG_PASS(s, msg_unknown);
}

SEC("xdp")
int xgossip_xdp(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	const struct xg_bpf_config *cfg;
	struct xg_bpf_stats *s;
	struct xg_frame f = {};
	struct xg_hdr *h;
	__u32 zero = 0;
	int r;

	s = bpf_map_lookup_elem(&xg_stats, &zero);
	cfg = bpf_map_lookup_elem(&xg_config, &zero);
	if (!s || !cfg)
		return XDP_PASS;
	s->rx++;

	r = xg_parse_frame(ctx, cfg->port, &f);
	if (r == XG_PARSE_NOT_OURS)
		return XG_PASS(s, not_ours);
	if (r != XG_PARSE_OK)
		return XG_PASS(s, ip_unsupported);

	h = (void *)(f.udp + 1);
	if (f.payload_len < sizeof(*h) || (void *)(h + 1) > data_end)
		return XG_PASS(s, bad_header);
	if (h->magic != bpf_htons(XG_MAGIC) || h->version != XG_VERSION)
		return XG_PASS(s, bad_header);
	if (bpf_be64_to_cpu(h->cluster_id) != cfg->cluster_id)
		return XG_DROP(s, other_cluster);

	switch (h->type) {
	case XG_T_PING:
		return xg_handle_ping(ctx, &f, cfg, s);
	case XG_T_PUSH:
	case XG_T_PULL_SYNC:
		return xg_handle_msg(ctx, &f, s);
	}
	return XG_PASS(s, other_type);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
