/* SPDX-License-Identifier: MIT */
/*
 * struct xg_addr (the core's socket-free address) <-> struct sockaddr.
 *
 * A dual-stack socket bound to "[::]" reports IPv4 peers as v4-mapped IPv6
 * addresses (::ffff:a.b.c.d).  The core must see those as family 4: the
 * same peer would otherwise have two different addresses depending on
 * which of our sockets it reached, and membership would not match.
 */
#ifndef XGOSSIP_NET_SOCKADDR_H
#define XGOSSIP_NET_SOCKADDR_H

#include <stdbool.h>
#include <sys/socket.h>

#include "core/addr.h"

/* sa -> a, unmapping v4-mapped IPv6.  0 or -EAFNOSUPPORT. */
int xg_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len,
			  struct xg_addr *a);

/* a -> a sockaddr usable on a socket of sock_family (AF_INET/AF_INET6):
 * an IPv4 address on an AF_INET6 socket becomes v4-mapped.  0 or
 * -EAFNOSUPPORT (IPv6 destination on an IPv4 socket, unset family). */
int xg_addr_to_sockaddr(const struct xg_addr *a, int sock_family,
			struct sockaddr_storage *ss, socklen_t *len);

/* AF_INET or AF_INET6 for a->family. */
int xg_addr_af(const struct xg_addr *a);

/* 0.0.0.0 or :: */
bool xg_addr_is_wildcard(const struct xg_addr *a);

#endif /* XGOSSIP_NET_SOCKADDR_H */
