/* SPDX-License-Identifier: MIT */
/*
 * Non-blocking TCP sockets for push/pull.  Every call returns at once; the
 * event loop waits for readiness.  Nothing here knows about frames or the
 * protocol (that is stream.h and the daemon's push/pull).
 */
#ifndef XGOSSIP_NET_TCP_H
#define XGOSSIP_NET_TCP_H

#include "core/addr.h"

/* Listening socket on addr (dual-stack when IPv6).  fd or -errno. */
int xg_tcp_listen(const struct xg_addr *addr, int backlog);

/* Accept one connection as a non-blocking socket; *peer gets its address
 * (v4-mapped unmapped).  fd, -EAGAIN when none is pending, or -errno. */
int xg_tcp_accept(int lfd, struct xg_addr *peer);

/* Start connecting to `to`; the fd becomes writable when the attempt is
 * over and xg_tcp_connect_result() tells how it went.  fd or -errno. */
int xg_tcp_connect(const struct xg_addr *to);
/* Call once the fd is writable (or in error): 0 if connected, else the
 * -errno of the failure. */
int xg_tcp_connect_result(int fd);

#endif /* XGOSSIP_NET_TCP_H */
