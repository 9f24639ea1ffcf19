/* SPDX-License-Identifier: MIT */
#include "net/sockaddr.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v4mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					     0xff, 0xff };

int xg_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
			  struct xg_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		a->family = 4;
		a->port = ntohs(s4->sin_port);
		memcpy(a->ip, &s4->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		const uint8_t *ip = s6->sin6_addr.s6_addr;

		a->port = ntohs(s6->sin6_port);
		if (memcmp(ip, v4mapped_prefix, sizeof(v4mapped_prefix)) == 0) {
			a->family = 4;
			memcpy(a->ip, ip + 12, 4);
		} else {
			a->family = 6;
			memcpy(a->ip, ip, 16);
		}
		return 0;
	}
	return -EAFNOSUPPORT;
}

int xg_addr_to_sockaddr(const struct xg_addr *a, int sock_family,
			struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4 && sock_family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(a->port);
		memcpy(&s4->sin_addr, a->ip, 4);
		*len = sizeof(*s4);
		return 0;
	}
	if ((a->family == 4 || a->family == 6) && sock_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(a->port);
		if (a->family == 4) {
			memcpy(s6->sin6_addr.s6_addr, v4mapped_prefix, 12);
			memcpy(s6->sin6_addr.s6_addr + 12, a->ip, 4);
		} else {
			memcpy(s6->sin6_addr.s6_addr, a->ip, 16);
		}
		*len = sizeof(*s6);
		return 0;
	}
	return -EAFNOSUPPORT;
}

int xg_addr_af(const struct xg_addr *a)
{
	return a->family == 6 ? AF_INET6 : a->family == 4 ? AF_INET : AF_UNSPEC;
}

bool xg_addr_is_wildcard(const struct xg_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == 4 ? 4 : 16) == 0;
}
