/* SPDX-License-Identifier: MIT */
/*
 * Seed addresses as operators write them: "198.18.0.1", "198.18.0.1:7946",
 * "[fd00:198:18::1]:7946", or a host name with an optional port
 * ("seed.example:7946", a Kubernetes headless Service name).  Host names go
 * through getaddrinfo(), which blocks: only the startup join and its
 * retries use it (docs/OPERATIONS.md says why).
 */
#ifndef XGOSSIP_DAEMON_RESOLVE_H
#define XGOSSIP_DAEMON_RESOLVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define XG_HOST_MAX 253

/* Split a seed into host and port without resolving anything.  *literal
 * says whether host is a numeric address (then *addr holds it).  0 or
 * -EINVAL. */
int xg_seed_split(const char *text, uint16_t default_port, char *host,
		  size_t host_cap, uint16_t *port, bool *literal,
		  struct xg_addr *addr);

/* Resolve a seed to at most cap addresses (numeric ones without any
 * lookup).  family_pref 4 or 6 puts that family first; 0 keeps the
 * resolver's order.  Returns the count (>= 1), -EINVAL for a malformed
 * seed, -EHOSTUNREACH when the name has no usable address, or -EAGAIN
 * for a temporary resolver failure. */
int xg_seed_resolve(const char *text, uint16_t default_port, int family_pref,
		    struct xg_addr *out, size_t cap);

#endif /* XGOSSIP_DAEMON_RESOLVE_H */
