/* SPDX-License-Identifier: MIT */
/*
 * Frame parsing for the XDP program: Ethernet with at most one VLAN tag,
 * IPv4 without options or fragmentation, IPv6 with UDP as the very next
 * header, UDP to one port.  Anything the program does not fully understand
 * is left to the kernel stack: the XDP path is an accelerator, never the
 * only way in, so refusing to parse is always safe.
 */
#ifndef XGOSSIP_BPF_PARSE_H
#define XGOSSIP_BPF_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define XG_IP_MF     0x2000
#define XG_IP_OFFSET 0x1fff

/* A parsed frame.  Pointers are into the packet and already bounds-checked
 * for their fixed header size. */
struct xg_frame {
	struct ethhdr  *eth;
	struct iphdr   *ip4;  /* exactly one of ip4 / ip6 is set */
	struct ipv6hdr *ip6;
	struct udphdr  *udp;
	__u32 payload_len;    /* UDP length minus the UDP header */
};

enum xg_parse_result {
	XG_PARSE_OK,
	XG_PARSE_NOT_OURS,    /* not IP/UDP to our port */
	XG_PARSE_UNSUPPORTED, /* UDP we refuse to parse: options, fragments, ... */
};

struct xg_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

static __always_inline int xg_is_ipv6_ext(__u8 nexthdr)
{
	switch (nexthdr) {
	case IPPROTO_HOPOPTS:
	case IPPROTO_ROUTING:
	case IPPROTO_FRAGMENT:
	case IPPROTO_DSTOPTS:
	case IPPROTO_AH:
	case IPPROTO_MH:
		return 1;
	}
	return 0;
}

/* IPv4: the ACK is built by mirroring the header, which is only right for a
 * 20-byte header of an unfragmented datagram.  The UDP length must agree
 * with the IP length, or the two sides would disagree on the payload. */
static __always_inline int xg_parse_ipv4(struct xg_frame *f, void *l3,
					 void *data_end, __u32 l3_off,
					 __u32 frame_len)
{
	struct iphdr *ip = l3;
	__u32 tot_len;

	if ((void *)(ip + 1) > data_end)
		return XG_PARSE_NOT_OURS;
	if (ip->version != 4 || ip->protocol != IPPROTO_UDP)
		return XG_PARSE_NOT_OURS;
	if (ip->ihl != 5 ||
	    (ip->frag_off & bpf_htons(XG_IP_MF | XG_IP_OFFSET)))
		return XG_PARSE_UNSUPPORTED;
	tot_len = bpf_ntohs(ip->tot_len);
	if (tot_len < sizeof(*ip) + sizeof(struct udphdr) ||
	    l3_off + tot_len > frame_len)
		return XG_PARSE_NOT_OURS;
	f->ip4 = ip;
	f->udp = (void *)(ip + 1);
	if ((void *)(f->udp + 1) > data_end)
		return XG_PARSE_NOT_OURS;
	if (bpf_ntohs(f->udp->len) != tot_len - sizeof(*ip))
		return XG_PARSE_NOT_OURS;
	return XG_PARSE_OK;
}

static __always_inline int xg_parse_ipv6(struct xg_frame *f, void *l3,
					 void *data_end, __u32 l3_off,
					 __u32 frame_len)
{
	struct ipv6hdr *ip6 = l3;
	__u32 plen;

	if ((void *)(ip6 + 1) > data_end)
		return XG_PARSE_NOT_OURS;
	if (ip6->version != 6)
		return XG_PARSE_NOT_OURS;
	if (ip6->nexthdr != IPPROTO_UDP)
		return xg_is_ipv6_ext(ip6->nexthdr) ? XG_PARSE_UNSUPPORTED :
						      XG_PARSE_NOT_OURS;
	plen = bpf_ntohs(ip6->payload_len);
	if (plen < sizeof(struct udphdr) ||
	    l3_off + sizeof(*ip6) + plen > frame_len)
		return XG_PARSE_NOT_OURS;
	f->ip6 = ip6;
	f->udp = (void *)(ip6 + 1);
	if ((void *)(f->udp + 1) > data_end)
		return XG_PARSE_NOT_OURS;
	if (bpf_ntohs(f->udp->len) != plen)
		return XG_PARSE_NOT_OURS;
	return XG_PARSE_OK;
}

/* Fills *f and returns XG_PARSE_OK for a UDP datagram to port (host order)
 * whose IP and UDP lengths are consistent and lie inside the frame. */
static __always_inline int xg_parse_frame(struct xdp_md *ctx, __u16 port,
					  struct xg_frame *f)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 frame_len = ctx->data_end - ctx->data;
	struct ethhdr *eth = data;
	__u32 l3_off = sizeof(*eth);
	__u16 proto;
	int r;

	if ((void *)(eth + 1) > data_end)
		return XG_PARSE_NOT_OURS;
	f->eth = eth;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		struct xg_vlan_hdr *vlan = (void *)(eth + 1);

		if ((void *)(vlan + 1) > data_end)
			return XG_PARSE_NOT_OURS;
		proto = vlan->encap_proto;
		l3_off += sizeof(*vlan);
	}

	if (proto == bpf_htons(ETH_P_IP))
		r = xg_parse_ipv4(f, data + l3_off, data_end, l3_off, frame_len);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = xg_parse_ipv6(f, data + l3_off, data_end, l3_off, frame_len);
	else
		return XG_PARSE_NOT_OURS;
	if (r != XG_PARSE_OK)
		return r;
	if (port == 0 || f->udp->dest != bpf_htons(port))
		return XG_PARSE_NOT_OURS;
	f->payload_len = bpf_ntohs(f->udp->len) - sizeof(struct udphdr);
	return XG_PARSE_OK;
}

#endif /* XGOSSIP_BPF_PARSE_H */
