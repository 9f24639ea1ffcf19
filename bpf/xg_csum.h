/* SPDX-License-Identifier: MIT */
/*
 * Internet checksums (RFC 1071) for the rewritten ACK.
 *
 * Sums are taken over 16-bit words exactly as they lie in memory; the
 * one's-complement sum is byte-order independent, so folding it and storing
 * it back in the same order yields the right bytes on either endianness.
 * Constants that enter the sum (protocol, lengths) are therefore given in
 * network order.
 *
 * The ACK's UDP checksum is computed from scratch rather than adjusted from
 * the PING's: IPv4 allows a PING with no checksum (0), and a fresh sum
 * cannot inherit a sender's mistake.
 */
#ifndef XGOSSIP_BPF_CSUM_H
#define XGOSSIP_BPF_CSUM_H

#include <linux/ip.h>
#include <linux/types.h>

static __always_inline __u16 xg_csum_fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

/* Sum of n 16-bit words at p (n is a compile-time constant at every call). */
static __always_inline __u64 xg_csum_words(const void *p, int n)
{
	const __u16 *w = p;
	__u64 sum = 0;
	int i;

#pragma unroll
	for (i = 0; i < n; i++)
		sum += w[i];
	return sum;
}

/* IPv4 header checksum of a 20-byte header whose check field is zero. */
static __always_inline __u16 xg_ipv4_hdr_csum(const struct iphdr *ip)
{
	return xg_csum_fold(xg_csum_words(ip, sizeof(*ip) / 2));
}

/* A UDP checksum of 0 means "none" (IPv4) or is illegal (IPv6); a computed
 * zero is sent as all ones, which is the same value in one's complement. */
static __always_inline __u16 xg_udp_csum_final(__u64 sum)
{
	__u16 c = xg_csum_fold(sum);

	return c ? c : 0xffff;
}

#endif /* XGOSSIP_BPF_CSUM_H */
