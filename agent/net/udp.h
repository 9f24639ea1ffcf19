/* SPDX-License-Identifier: MIT */
/*
 * The agent's one UDP socket: probes and gossip in and out.
 *
 * Datagrams are read in batches with recvmmsg() and each carries the
 * kernel's receive timestamp, converted to CLOCK_MONOTONIC, so the core
 * judges probe timeouts by when a reply reached this host, not by when a
 * busy agent got round to reading it (DESIGN.md, rule 4).
 */
#ifndef XGOSSIP_NET_UDP_H
#define XGOSSIP_NET_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <xgossip/wire.h>

#include "core/addr.h"

#define XG_UDP_BATCH  32
/* Larger than anything a conforming peer sends (XG_UDP_MAX), so an
 * oversized datagram shows up as truncated instead of being cut silently. */
#define XG_UDP_RXBUF  2048
/* What we send at most: a packet of XG_UDP_MAX plus the AEAD's nonce and
 * tag (40 bytes), with room to spare; under 1452, the IPv6 UDP payload of
 * a 1500-byte MTU. */
#define XG_UDP_WIRE_MAX (XG_UDP_MAX + 48)
#define XG_UDP_SOCKBUF (4u << 20)

struct xg_udp_stats {
	uint64_t rx_packets, rx_truncated, rx_batches;
	uint64_t tx_packets, tx_errors, tx_batches;
	uint64_t rx_refused;   /* ICMP port unreachable for what we sent */
	uint64_t rx_icmp_other; /* any other ICMP error for what we sent */
};

/* Datagrams sent while a received batch is handled (the ACKs to a batch of
 * PINGs, mostly) wait here and leave together in one sendmmsg() once the
 * batch is done: one system call per batch instead of one per ACK, which
 * is most of the userspace probe path's cost (docs/BENCHMARKS.md, "XDP
 * probe path").  The delay is the rest of one batch's handling. */
#define XG_UDP_TXQ XG_UDP_BATCH
struct xg_udp_txq {
	unsigned                n;
	bool                    active;  /* inside a drain: queue sends */
	socklen_t               tolen[XG_UDP_TXQ];
	uint16_t                len[XG_UDP_TXQ];
	struct sockaddr_storage to[XG_UDP_TXQ];
	uint8_t                 buf[XG_UDP_TXQ][XG_UDP_WIRE_MAX];
};

struct xg_udp {
	int                 fd;
	int                 af;  /* AF_INET or AF_INET6 */
	struct xg_udp_stats stats;
	struct xg_udp_txq   tx;
	/* recvmmsg scratch space, reused for every batch. */
	uint8_t             buf[XG_UDP_BATCH][XG_UDP_RXBUF];
};

/* The host at `to` refused a datagram we sent it: ICMP (or ICMPv6) port
 * unreachable, which a host sends when no socket is bound to the port.
 * The socket asks for these (IP_RECVERR): without it an unconnected UDP
 * socket never hears of them, and a dead agent on a live host looks no
 * different from a lost packet. */
typedef void (*xg_udp_refused_fn)(void *ctx, const struct xg_addr *to);

/* Called once per datagram, in arrival order. */
typedef void (*xg_udp_rx_fn)(void *ctx, const struct xg_addr *from,
			     const uint8_t *buf, size_t len, uint64_t rx_mono_ns);

/* Bind a non-blocking socket to addr.  An IPv6 socket accepts IPv4 too
 * (IPV6_V6ONLY off).  Socket buffers are raised to XG_UDP_SOCKBUF where
 * the kernel allows.  0 or -errno. */
int  xg_udp_open(struct xg_udp *u, const struct xg_addr *addr);
void xg_udp_close(struct xg_udp *u);

/* Read what is queued, at most max_batches batches of XG_UDP_BATCH, and
 * hand each datagram to fn.  What fn sends with xg_udp_send() leaves when
 * its batch is done, in order.  Returns the number delivered (0 when the
 * socket was empty) or -errno. */
int xg_udp_drain(struct xg_udp *u, unsigned max_batches, xg_udp_rx_fn fn,
		 void *ctx);

/* Read the socket's error queue: the ICMP errors the kernel matched to
 * datagrams we sent.  epoll reports EPOLLERR for as long as it holds any,
 * so call this on EPOLLERR.  Each port unreachable goes to fn; other
 * errors are only counted.  At most XG_UDP_BATCH per call (the rest keep
 * EPOLLERR up).  Returns the refusals delivered, or -errno. */
int xg_udp_drain_errors(struct xg_udp *u, xg_udp_refused_fn fn, void *ctx);

/* Non-blocking send; a full socket buffer (-EAGAIN) is an error like any
 * other and counted in tx_errors.  0 or -errno.  Called from an
 * xg_udp_drain() callback, it only queues the datagram (see struct
 * xg_udp_txq): 0 then means queued, and a later failure to send is counted
 * in tx_errors only. */
int xg_udp_send(struct xg_udp *u, const struct xg_addr *to, const void *buf,
		size_t len);

/* A receive time on CLOCK_REALTIME -> CLOCK_MONOTONIC, given both clocks
 * read once for the batch.  Never later than now_mono (the wall clock may
 * have been stepped).  Pure, for tests. */
uint64_t xg_rx_real_to_mono(uint64_t now_mono, uint64_t now_real,
			    uint64_t rx_real);

#endif /* XGOSSIP_NET_UDP_H */
