/* SPDX-License-Identifier: MIT */
#include "daemon/resolve.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net/sockaddr.h"

/* RFC 1123 letters, digits, '-' and '.', plus '_' which service names in
 * DNS use.  Anything else (spaces, '/', '%') cannot be a host name and is
 * better reported now than as a resolver failure later. */
static bool host_valid(const char *h, size_t n)
{
	size_t i;

	if (n == 0 || n > XG_HOST_MAX || h[0] == '-' || h[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];

		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return false;
	}
	return true;
}

int xg_seed_split(const char *text, uint16_t default_port, char *host,
		  size_t host_cap, uint16_t *port, bool *literal,
		  struct xg_addr *addr)
{
	const char *colon;
	size_t n;

	if (!text || !*text)
		return -EINVAL;
	if (xg_addr_parse(text, default_port, addr) == 0) {
		*literal = true;
		*port = addr->port;
		return xg_addr_format(addr, host, host_cap) ? 0 : -EINVAL;
	}
	*literal = false;
	colon = strchr(text, ':');
	if (colon && strchr(colon + 1, ':'))
		return -EINVAL; /* a mangled IPv6 literal, not a name */
	n = colon ? (size_t)(colon - text) : strlen(text);
	/* All digits and dots is a mistyped IPv4 address, not a name. */
	if (strspn(text, "0123456789.") >= n)
		return -EINVAL;
	if (!host_valid(text, n) || n >= host_cap)
		return -EINVAL;
	*port = default_port;
	if (colon && xg_port_parse(colon + 1, port))
		return -EINVAL;
	memcpy(host, text, n);
	host[n] = '\0';
	return 0;
}

int xg_seed_resolve(const char *text, uint16_t default_port, int family_pref,
		    struct xg_addr *out, size_t cap)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[XG_HOST_MAX + 1];
	struct xg_addr a;
	uint16_t port;
	bool literal;
	size_t n = 0, pass;
	int err;

	if (cap == 0)
		return -EINVAL;
	err = xg_seed_split(text, default_port, host, sizeof(host), &port,
			    &literal, &a);
	if (err)
		return err;
	if (literal) {
		out[0] = a;
		return 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(host, NULL, &hints, &res);
	if (err)
		return err == EAI_AGAIN ? -EAGAIN : -EHOSTUNREACH;
	/* Two passes put the preferred family first without sorting. */
	for (pass = 0; pass < 2; pass++) {
		for (ai = res; ai && n < cap; ai = ai->ai_next) {
			size_t i;
			bool pref;

			if (xg_addr_from_sockaddr(ai->ai_addr, ai->ai_addrlen, &a))
				continue;
			pref = family_pref == 0 || a.family == family_pref;
			if (pref != (pass == 0))
				continue;
			a.port = port;
			for (i = 0; i < n && !xg_addr_equal(&out[i], &a); i++)
				;
			if (i == n)
				out[n++] = a;
		}
	}
	freeaddrinfo(res);
	return n ? (int)n : -EHOSTUNREACH;
}
