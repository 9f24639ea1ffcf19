/* SPDX-License-Identifier: MIT */
#include "net/tcp.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sockaddr.h"

int xg_tcp_listen(const struct xg_addr *addr, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int af = xg_addr_af(addr), one = 1, zero = 0, fd, err;

	err = xg_addr_to_sockaddr(addr, af, &ss, &len);
	if (err)
		return err;
	fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A restarted agent must get its port back while connections of the
	 * previous run sit in TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	if (af == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0)
		goto fail;
	return fd;
fail:
	err = -errno;
	close(fd);
	return err;
}

int xg_tcp_accept(int lfd, struct xg_addr *peer)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, one = 1;

	do
		fd = accept4(lfd, (struct sockaddr *)&ss, &len,
			     SOCK_NONBLOCK | SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (xg_addr_from_sockaddr((struct sockaddr *)&ss, len, peer)) {
		close(fd);
		return -EAFNOSUPPORT;
	}
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

int xg_tcp_connect(const struct xg_addr *to)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int af = xg_addr_af(to), fd, err, one = 1;

	err = xg_addr_to_sockaddr(to, af, &ss, &len);
	if (err)
		return err;
	fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* One frame each way, then close: Nagle would only add a delay. */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int xg_tcp_connect_result(int fd)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return soerr == 0 ? 0 : -soerr;
}
