/* SPDX-License-Identifier: MIT */
/*
 * Text form of node addresses.  Only numeric addresses are understood here:
 * name resolution blocks and belongs to the agent, never to the core.
 */
#include "core/addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Longest input worth looking at: "[" + 45-char IPv6 (with an embedded
 * IPv4 tail) + "]:" + 5 digits.  Anything longer is garbage. */
#define ADDR_TEXT_MAX 56

static size_t ip_len(uint8_t family)
{
	return family == 4 ? 4 : 16;
}

bool xg_addr_equal(const struct xg_addr *a, const struct xg_addr *b)
{
	if (a->family != b->family || a->port != b->port)
		return false;
	if (a->family == 0)
		return true;
	return memcmp(a->ip, b->ip, ip_len(a->family)) == 0;
}

char *xg_addr_format(const struct xg_addr *a, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];

	if (!out || cap == 0)
		return out;
	if (a->family == 4 && inet_ntop(AF_INET, a->ip, ip, sizeof(ip)))
		snprintf(out, cap, "%s:%u", ip, a->port);
	else if (a->family == 6 && inet_ntop(AF_INET6, a->ip, ip, sizeof(ip)))
		snprintf(out, cap, "[%s]:%u", ip, a->port);
	else
		snprintf(out, cap, "unset");
	return out;
}

int xg_port_parse(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = 0;

	for (; s[n]; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int parse_ip(int af, const char *s, struct xg_addr *a)
{
	if (inet_pton(af, s, a->ip) != 1)
		return -EINVAL;
	a->family = af == AF_INET ? 4 : 6;
	return 0;
}

/* "[v6]" or "[v6]:port"; s starts after the '['. */
static int parse_bracketed(char *s, struct xg_addr *a)
{
	char *close = strchr(s, ']');

	if (!close)
		return -EINVAL;
	*close = '\0';
	if (parse_ip(AF_INET6, s, a))
		return -EINVAL;
	if (close[1] == '\0')
		return 0;
	if (close[1] != ':')
		return -EINVAL;
	return xg_port_parse(close + 2, &a->port);
}

int xg_addr_parse(const char *text, uint16_t default_port, struct xg_addr *out)
{
	char buf[ADDR_TEXT_MAX + 1];
	struct xg_addr a;
	char *colon;
	size_t n;
	int err;

	if (!text || !out)
		return -EINVAL;
	n = strnlen(text, sizeof(buf));
	if (n == 0 || n > ADDR_TEXT_MAX)
		return -EINVAL;
	memcpy(buf, text, n + 1);
	memset(&a, 0, sizeof(a));
	a.port = default_port;

	colon = strchr(buf, ':');
	if (buf[0] == '[') {
		err = parse_bracketed(buf + 1, &a);
	} else if (colon && strchr(colon + 1, ':')) {
		/* Two or more colons can only be a bare IPv6 address; a port
		 * needs brackets to be told apart from the last group. */
		err = parse_ip(AF_INET6, buf, &a);
	} else if (colon) {
		*colon = '\0';
		err = parse_ip(AF_INET, buf, &a);
		if (!err)
			err = xg_port_parse(colon + 1, &a.port);
	} else {
		err = parse_ip(AF_INET, buf, &a);
	}
	if (err)
		return -EINVAL;
	*out = a;
	return 0;
}
