/* SPDX-License-Identifier: MIT */
/*
 * Choosing the address to advertise when the agent binds a wildcard: the
 * first address of the bind family on an interface that is up and not a
 * loopback.  IPv6 link-local addresses are skipped: without a scope id
 * they are useless to peers on other links.
 */
#ifndef XGOSSIP_NET_IFADDR_H
#define XGOSSIP_NET_IFADDR_H

#include <stdint.h>

#include "core/addr.h"

/* family 4 or 6.  0 with *out filled (port set), -EADDRNOTAVAIL when
 * there is no such address, or -errno. */
int xg_pick_advertise(uint8_t family, uint16_t port, struct xg_addr *out);

#endif /* XGOSSIP_NET_IFADDR_H */
