/* SPDX-License-Identifier: MIT */
#include "net/udp.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/sockaddr.h"
#include "util/clockpair.h"

/* SO_RCVBUFFORCE ignores rmem_max and needs CAP_NET_ADMIN; without it the
 * plain option still gets as much as the sysctl allows.  Either way a
 * smaller buffer is not fatal, only lossier under bursts. */
static void raise_buffer(int fd, int force_opt, int opt)
{
	int v = (int)XG_UDP_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v));
}

/* Ask for ICMP errors on the error queue (struct xg_udp_refused_fn says
 * why).  A dual-stack IPv6 socket needs the IPv4 option too, for its IPv4
 * peers; a kernel built without IPv4 may refuse that one. */
static int recv_errors(int fd, int af)
{
	int one = 1;

	if (af == AF_INET6) {
		if (setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one,
			       sizeof(one)) < 0)
			return -errno;
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
		return 0;
	}
	return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0 ?
		       -errno : 0;
}

int xg_udp_open(struct xg_udp *u, const struct xg_addr *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, zero = 0, fd, err;

	memset(&u->stats, 0, sizeof(u->stats));
	u->tx.n = 0;
	u->tx.active = false;
	u->fd = -1;
	u->af = xg_addr_af(addr);
	err = xg_addr_to_sockaddr(addr, u->af, &ss, &len);
	if (err)
		return err;
	fd = socket(u->af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (u->af == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
		goto fail;
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0)
		goto fail;
	if (recv_errors(fd, u->af) < 0)
		goto fail;
	raise_buffer(fd, SO_RCVBUFFORCE, SO_RCVBUF);
	raise_buffer(fd, SO_SNDBUFFORCE, SO_SNDBUF);
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto fail;
	u->fd = fd;
	return 0;
fail:
	err = -errno;
	close(fd);
	return err;
}

void xg_udp_close(struct xg_udp *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

uint64_t xg_rx_real_to_mono(uint64_t now_mono, uint64_t now_real,
			    uint64_t rx_real)
{
	uint64_t age;

	if (rx_real >= now_real)
		return now_mono;
	age = now_real - rx_real;
	return age >= now_mono ? 0 : now_mono - age;
}

/* The SCM_TIMESTAMPNS value of one message, or 0 if it has none. */
static uint64_t rx_timestamp(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			return (uint64_t)ts.tv_sec * 1000000000ULL +
			       (uint64_t)ts.tv_nsec;
		}
	}
	return 0;
}

/* With IP_RECVERR an ICMP error also sets the socket's pending error,
 * which the next send or receive returns once and clears, whatever that
 * call was about: the error is not about this datagram, so the call is
 * made once more.  (The error itself waits on the error queue.)  A real
 * failure fails again and is counted then; EAGAIN is never pending. */
static bool pending_error(bool *retried)
{
	if (*retried || errno == EAGAIN || errno == EWOULDBLOCK)
		return false;
	*retried = true;
	return true;
}

/* Send what xg_udp_send() queued, in order, with as few sendmmsg() calls
 * as the kernel allows.  sendmmsg() stops at the first message it cannot
 * send and reports only how many went before it; the next call then fails
 * on that message, which is counted and skipped, so one bad destination
 * does not hold back the rest. */
static void tx_flush(struct xg_udp *u)
{
	struct mmsghdr msgs[XG_UDP_TXQ];
	struct iovec iov[XG_UDP_TXQ];
	unsigned i, done = 0, n = u->tx.n;
	bool retried = false;
	int sent;

	if (n == 0)
		return;
	u->tx.n = 0;
	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (i = 0; i < n; i++) {
		iov[i].iov_base = u->tx.buf[i];
		iov[i].iov_len = u->tx.len[i];
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &u->tx.to[i];
		msgs[i].msg_hdr.msg_namelen = u->tx.tolen[i];
	}
	while (done < n) {
		sent = sendmmsg(u->fd, msgs + done, n - done,
				MSG_DONTWAIT | MSG_NOSIGNAL);
		if (sent < 0 && errno == EINTR)
			continue;
		if (sent < 0 && pending_error(&retried))
			continue;
		retried = false;
		u->stats.tx_batches++;
		if (sent <= 0) {
			u->stats.tx_errors++;
			done++;
			continue;
		}
		u->stats.tx_packets += (unsigned)sent;
		done += (unsigned)sent;
	}
}

/* One recvmmsg() call.  Returns the count delivered, 0 if nothing was
 * queued, or -errno. */
static int drain_batch(struct xg_udp *u, xg_udp_rx_fn fn, void *ctx)
{
	struct mmsghdr msgs[XG_UDP_BATCH];
	struct iovec iov[XG_UDP_BATCH];
	struct sockaddr_storage from[XG_UDP_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl[XG_UDP_BATCH];
	struct xg_clockpair now;
	bool retried = false;
	int i, n;

	memset(msgs, 0, sizeof(msgs));
	for (i = 0; i < XG_UDP_BATCH; i++) {
		iov[i].iov_base = u->buf[i];
		iov[i].iov_len = XG_UDP_RXBUF;
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
		msgs[i].msg_hdr.msg_control = ctl[i].buf;
		msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
	}
	do
		n = recvmmsg(u->fd, msgs, XG_UDP_BATCH, MSG_DONTWAIT, NULL);
	while (n < 0 && (errno == EINTR || pending_error(&retried)));
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	/* Both clocks once per batch: the offset between them does not move
	 * within microseconds, and reading them per packet would cost more
	 * than the packet.  Read as one instant (util/clockpair.h): two
	 * plain reads can straddle an interrupt and shift every receive
	 * time of the batch by as much. */
	xg_clockpair_read(&now);
	u->stats.rx_batches++;
	u->tx.active = true;
	for (i = 0; i < n; i++) {
		struct msghdr *mh = &msgs[i].msg_hdr;
		struct xg_addr src;
		uint64_t rx_real = rx_timestamp(mh), rx_mono;

		if (mh->msg_flags & MSG_TRUNC) {
			u->stats.rx_truncated++;
			continue;
		}
		if (xg_addr_from_sockaddr((struct sockaddr *)mh->msg_name,
					  mh->msg_namelen, &src))
			continue;
		rx_mono = rx_real ? xg_rx_real_to_mono(now.mono_ns, now.real_ns,
						       rx_real)
				  : now.mono_ns;
		u->stats.rx_packets++;
		fn(ctx, &src, u->buf[i], msgs[i].msg_len, rx_mono);
	}
	u->tx.active = false;
	tx_flush(u);
	return n;
}

int xg_udp_drain(struct xg_udp *u, unsigned max_batches, xg_udp_rx_fn fn,
		 void *ctx)
{
	int total = 0, n;

	while (max_batches-- > 0) {
		n = drain_batch(u, fn, ctx);
		if (n < 0)
			return total ? total : n;
		total += n;
		if (n < XG_UDP_BATCH)
			break; /* the queue is empty: skip the extra syscall */
	}
	return total;
}

int xg_udp_send(struct xg_udp *u, const struct xg_addr *to, const void *buf,
		size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	ssize_t n;
	unsigned q;
	bool retried = false;
	int err;

	if (u->tx.active && len <= sizeof(u->tx.buf[0])) {
		if (u->tx.n == XG_UDP_TXQ)
			tx_flush(u);
		q = u->tx.n;
		err = xg_addr_to_sockaddr(to, u->af, &u->tx.to[q], &u->tx.tolen[q]);
		if (err)
			goto fail;
		memcpy(u->tx.buf[q], buf, len);
		u->tx.len[q] = (uint16_t)len;
		u->tx.n++;
		return 0;
	}
	/* Oversized, or not in a drain: what is queued goes first. */
	tx_flush(u);
	err = xg_addr_to_sockaddr(to, u->af, &ss, &sl);
	if (err)
		goto fail;
	do
		n = sendto(u->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL,
			   (struct sockaddr *)&ss, sl);
	while (n < 0 && (errno == EINTR || pending_error(&retried)));
	if (n < 0) {
		err = -errno;
		goto fail;
	}
	u->stats.tx_packets++;
	return 0;
fail:
	u->stats.tx_errors++;
	return err;
}

/* The extended error of one error-queue message, or NULL. */
static const struct sock_extended_err *ext_err(struct msghdr *mh)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (((c->cmsg_level == IPPROTO_IP &&
		      c->cmsg_type == IP_RECVERR) ||
		     (c->cmsg_level == IPPROTO_IPV6 &&
		      c->cmsg_type == IPV6_RECVERR)) &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct sock_extended_err)))
			return (const struct sock_extended_err *)CMSG_DATA(c);
	}
	return NULL;
}

static bool port_unreachable(const struct sock_extended_err *e)
{
	return (e->ee_origin == SO_EE_ORIGIN_ICMP ||
		e->ee_origin == SO_EE_ORIGIN_ICMP6) &&
	       e->ee_errno == ECONNREFUSED;
}

int xg_udp_drain_errors(struct xg_udp *u, xg_udp_refused_fn fn, void *ctx)
{
	/* The extended error, the offender's address and room to spare;
	 * the datagram itself is not wanted (it is truncated to nothing). */
	union {
		char buf[CMSG_SPACE(sizeof(struct sock_extended_err) +
				    sizeof(struct sockaddr_in6)) + 64];
		struct cmsghdr align;
	} ctl;
	struct sockaddr_storage to;
	struct msghdr mh;
	struct xg_addr a;
	const struct sock_extended_err *e;
	int i, refused = 0;

	for (i = 0; i < XG_UDP_BATCH; i++) {
		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &to;
		mh.msg_namelen = sizeof(to);
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		if (recvmsg(u->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return refused ? refused : -errno;
		}
		e = ext_err(&mh);
		if (!e || !port_unreachable(e)) {
			u->stats.rx_icmp_other++;
			continue;
		}
		u->stats.rx_refused++;
		/* The original destination, as we sent it. */
		if (xg_addr_from_sockaddr((struct sockaddr *)&to,
					  mh.msg_namelen, &a))
			continue;
		refused++;
		if (fn)
			fn(ctx, &a);
	}
	return refused;
}
