/* SPDX-License-Identifier: MIT */
/*
 * Which interface holds an address: the daemon binds an address and the
 * XDP program belongs on the interface packets to it arrive on.
 */
#include "xdp/xdp_internal.h"

#include <errno.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static int addr_matches(const struct sockaddr *sa, const struct xg_addr *a)
{
	if (!sa)
		return 0;
	if (a->family == 4 && sa->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)sa)->sin_addr,
			      a->ip, 4) == 0;
	if (a->family == 6 && sa->sa_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)sa)->sin6_addr,
			      a->ip, 16) == 0;
	return 0;
}

static int is_wildcard(const struct xg_addr *a)
{
	static const uint8_t zero[16];

	return memcmp(a->ip, zero, a->family == 4 ? 4 : 16) == 0;
}

int xg_xdp_iface_for_addr(const struct xg_addr *a, char *ifname, int *ifindex)
{
	struct ifaddrs *all, *it;
	int err = -EADDRNOTAVAIL;

	if (!a || !ifname || !ifindex || (a->family != 4 && a->family != 6) ||
	    is_wildcard(a))
		return -EINVAL;
	if (getifaddrs(&all) < 0)
		return -errno;
	for (it = all; it; it = it->ifa_next) {
		unsigned idx;

		if (!addr_matches(it->ifa_addr, a))
			continue;
		idx = if_nametoindex(it->ifa_name);
		if (!idx) {
			err = -errno;
			continue;
		}
		snprintf(ifname, IF_NAMESIZE, "%s", it->ifa_name);
		*ifindex = (int)idx;
		err = 0;
		break;
	}
	freeifaddrs(all);
	return err;
}

int xg_xdp_iface_driver(const char *ifname, char *driver, size_t cap)
{
	struct ethtool_drvinfo info = { .cmd = ETHTOOL_GDRVINFO };
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (!ifname || strlen(ifname) >= sizeof(ifr.ifr_name) || !driver ||
	    cap == 0)
		return -EINVAL;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&info;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		err = -errno;
	close(fd);
	if (!err)
		snprintf(driver, cap, "%.*s", (int)sizeof(info.driver),
			 info.driver);
	return err;
}
