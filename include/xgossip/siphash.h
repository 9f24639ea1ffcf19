/* SPDX-License-Identifier: MIT */
/*
 * SipHash-2-4 (Aumasson & Bernstein), 64-bit output, 128-bit key.
 *
 * Written once here and compiled both into the XDP program and into
 * userspace, so the kernel and the agent cannot disagree on a MAC.  Only
 * byte loads and 64-bit arithmetic are used: no memcpy, no unaligned word
 * loads, no libc, which keeps the BPF verifier and every host endianness
 * happy.  Callers in BPF pass a buffer on the stack with a constant length so
 * the loop has a constant trip count.
 */
#ifndef XGOSSIP_SIPHASH_H
#define XGOSSIP_SIPHASH_H

#include <linux/types.h>

#define XG_SIPKEY_LEN 16

#define XG_ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

#define XG_SIPROUND(v0, v1, v2, v3)                                       \
	do {                                                              \
		v0 += v1; v1 = XG_ROTL64(v1, 13); v1 ^= v0;               \
		v0 = XG_ROTL64(v0, 32);                                   \
		v2 += v3; v3 = XG_ROTL64(v3, 16); v3 ^= v2;               \
		v0 += v3; v3 = XG_ROTL64(v3, 21); v3 ^= v0;               \
		v2 += v1; v1 = XG_ROTL64(v1, 17); v1 ^= v2;               \
		v2 = XG_ROTL64(v2, 32);                                   \
	} while (0)

static inline __u64 xg_load_le64(const __u8 *p)
{
	return (__u64)p[0] | (__u64)p[1] << 8 | (__u64)p[2] << 16 |
	       (__u64)p[3] << 24 | (__u64)p[4] << 32 | (__u64)p[5] << 40 |
	       (__u64)p[6] << 48 | (__u64)p[7] << 56;
}

/* The key as SipHash defines it: two little-endian 64-bit halves. */
static inline void xg_sipkey_split(const __u8 key[XG_SIPKEY_LEN], __u64 *k0,
				   __u64 *k1)
{
	*k0 = xg_load_le64(key);
	*k1 = xg_load_le64(key + 8);
}

static inline __u64 xg_siphash24_k(__u64 k0, __u64 k1, const __u8 *in,
				   __u32 len)
{
	__u64 v0 = 0x736f6d6570736575ULL ^ k0;
	__u64 v1 = 0x646f72616e646f6dULL ^ k1;
	__u64 v2 = 0x6c7967656e657261ULL ^ k0;
	__u64 v3 = 0x7465646279746573ULL ^ k1;
	__u32 words = len / 8;
	__u32 i;
	__u64 m, b;

	for (i = 0; i < words; i++) {
		m = xg_load_le64(in + 8 * i);
		v3 ^= m;
		XG_SIPROUND(v0, v1, v2, v3);
		XG_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}

	b = (__u64)len << 56;
	for (i = 0; i < (len & 7); i++)
		b |= (__u64)in[8 * words + i] << (8 * i);

	v3 ^= b;
	XG_SIPROUND(v0, v1, v2, v3);
	XG_SIPROUND(v0, v1, v2, v3);
	v0 ^= b;
	v2 ^= 0xff;
	XG_SIPROUND(v0, v1, v2, v3);
	XG_SIPROUND(v0, v1, v2, v3);
	XG_SIPROUND(v0, v1, v2, v3);
	XG_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

static inline __u64 xg_siphash24(const __u8 key[XG_SIPKEY_LEN], const void *in,
				 __u32 len)
{
	__u64 k0, k1;

	xg_sipkey_split(key, &k0, &k1);
	return xg_siphash24_k(k0, k1, (const __u8 *)in, len);
}

/* The MAC bytes on the wire are the hash in little-endian order, as the
 * SipHash reference implementation emits them. */
static inline void xg_mac_store(__u8 out[8], __u64 h)
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = (__u8)(h >> (8 * i));
}

#endif /* XGOSSIP_SIPHASH_H */
