/* SPDX-License-Identifier: MIT */
/*
 * A node's transport address as the protocol core sees it: family, IP and
 * UDP/TCP port (the same port number serves both).  Kept free of socket
 * headers so the core stays a pure state machine; agent/net converts.
 */
#ifndef XGOSSIP_CORE_ADDR_H
#define XGOSSIP_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xg_addr {
	uint8_t  family;  /* 4 or 6; 0 means unset */
	uint8_t  pad;
	uint16_t port;    /* host byte order */
	uint8_t  ip[16];  /* IPv4 uses ip[0..3], the rest is zero */
};

/* Longest text form: "[" + 39-char IPv6 + "]:" + 5 digits + NUL. */
#define XG_ADDR_STRLEN 48

bool xg_addr_equal(const struct xg_addr *a, const struct xg_addr *b);

/* "1.2.3.4:7946", "[fd00::1]:7946"; returns out. */
char *xg_addr_format(const struct xg_addr *a, char *out, size_t cap);

/* Accepts "1.2.3.4", "1.2.3.4:7946", "fd00::1", "[fd00::1]",
 * "[fd00::1]:7946".  A missing port becomes default_port.  Returns 0 or
 * -EINVAL.  (Host names are resolved by the agent, not here.) */
int xg_addr_parse(const char *text, uint16_t default_port, struct xg_addr *out);

/* A port: decimal 1..65535, digits only (no sign, spaces or hex).
 * 0 or -EINVAL; *port is untouched on error. */
int xg_port_parse(const char *s, uint16_t *port);

#endif /* XGOSSIP_CORE_ADDR_H */
