/* SPDX-License-Identifier: MIT */
#include "net/ifaddr.h"

#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

#include "net/sockaddr.h"

static bool usable(const struct xg_addr *a)
{
	if (a->family == 4)
		return a->ip[0] != 127 && !xg_addr_is_wildcard(a);
	/* fe80::/10 link-local, ::1 loopback, ::ffff:0:0/96 mapped */
	if (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80)
		return false;
	return !xg_addr_is_wildcard(a) &&
	       !(memcmp(a->ip, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0);
}

int xg_pick_advertise(uint8_t family, uint16_t port, struct xg_addr *out)
{
	struct ifaddrs *ifs, *i;
	int err = -EADDRNOTAVAIL;

	if (getifaddrs(&ifs) < 0)
		return -errno;
	for (i = ifs; i; i = i->ifa_next) {
		struct xg_addr a;
		socklen_t len;

		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) ||
		    (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET)
			len = sizeof(struct sockaddr_in);
		else if (i->ifa_addr->sa_family == AF_INET6)
			len = sizeof(struct sockaddr_in6);
		else
			continue;
		/* getifaddrs reports real families only, but an AF_INET6
		 * entry could still be a mapped address: the family check
		 * comes after the conversion. */
		if (xg_addr_from_sockaddr(i->ifa_addr, len, &a) ||
		    a.family != family || !usable(&a))
			continue;
		a.port = port;
		*out = a;
		err = 0;
		break;
	}
	freeifaddrs(ifs);
	return err;
}
