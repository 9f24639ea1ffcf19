/* SPDX-License-Identifier: MIT */
/*
 * The SipHash-2-4 MAC that ends every signed packet and frame: written over
 * every byte before it, and checked without an early exit so that the time
 * a check takes says nothing about how much of a forged MAC was right.
 * Shared by codec.c, msg_codec.c and the daemon's KEYOP frames.
 */
#ifndef XGOSSIP_CORE_MAC_H
#define XGOSSIP_CORE_MAC_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xgossip/siphash.h>
#include <xgossip/wire.h>

static inline void xg_mac_write(uint8_t *pkt, size_t mac_off,
				const uint8_t key[16])
{
	xg_mac_store(pkt + mac_off, xg_siphash24(key, pkt, (__u32)mac_off));
}

static inline bool xg_mac_matches(const uint8_t *pkt, size_t mac_off,
				  const uint8_t key[16])
{
	uint8_t want[XG_MAC_LEN];
	uint8_t diff = 0;
	size_t i;

	xg_mac_store(want, xg_siphash24(key, pkt, (__u32)mac_off));
	for (i = 0; i < XG_MAC_LEN; i++)
		diff |= (uint8_t)(want[i] ^ pkt[mac_off + i]);
	return diff == 0;
}

/* key2 (may be NULL) is the other key of a rotation; either one
 * authenticates.  0 or -EACCES. */
static inline int xg_mac_check(const uint8_t *pkt, size_t mac_off,
			       const uint8_t *key, const uint8_t *key2)
{
	if (key && xg_mac_matches(pkt, mac_off, key))
		return 0;
	if (key2 && xg_mac_matches(pkt, mac_off, key2))
		return 0;
	return -EACCES;
}

#endif /* XGOSSIP_CORE_MAC_H */
