/* SPDX-License-Identifier: MIT */
#include "run.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/codec.h"
#include "net/sockaddr.h"
#include "util/clockpair.h"

#define BATCH 64
/* The ring of outstanding PINGs is indexed by seq; a slot still live when
 * its seq comes round again is older than the ring, hence lost. */
#define RING_MAX (1u << 20)

struct slot {
	uint64_t sent_ns;  /* CLOCK_MONOTONIC */
	uint32_t seq;
	bool     live;
	bool     expired;  /* counted lost; an ACK now is late */
};

struct engine {
	const struct probe_setup *s;
	struct probe_result      *r;
	int          fd;
	struct slot *ring;
	uint32_t     mask;
	uint32_t     next_seq;   /* next to send */
	uint32_t     tail;       /* oldest seq not yet resolved */
	uint64_t     outstanding;
	uint8_t      tx[BATCH][sizeof(struct xg_probe)];
	uint8_t      rx[BATCH][256];
};

static uint64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint32_t ring_size(const struct xg_probe_args *a)
{
	double need = a->flood ? a->window :
		(double)a->rate_pps * ((double)a->timeout_ns / 1e9) * 1.25;
	uint32_t n = 1024;

	while (n < RING_MAX && (double)n < need + 2 * BATCH)
		n <<= 1;
	return n;
}

static int open_socket(const struct xg_probe_args *a)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int one = 1, fd, af = xg_addr_af(&a->target), bufsz = 4 << 20;

	fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Timestamps taken by the kernel on arrival, so RTTs do not include
	 * how late this process got round to reading. */
	if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one)) < 0 ||
	    xg_addr_to_sockaddr(&a->target, af, &ss, &len) ||
	    connect(fd, (struct sockaddr *)&ss, len) < 0) {
		int err = -errno;

		close(fd);
		return err ? err : -EINVAL;
	}
	/* Best effort: bigger buffers only matter for flood. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	return fd;
}

/* Resolve timed-out probes, oldest first (seqs go out in time order). */
static void expire(struct engine *e, uint64_t now)
{
	while (e->tail != e->next_seq) {
		struct slot *sl = &e->ring[e->tail & e->mask];

		if (sl->live && sl->seq == e->tail) {
			if (now - sl->sent_ns < e->s->args->timeout_ns)
				break;
			sl->live = false;
			sl->expired = true;
			e->outstanding--;
			e->r->lost++;
		}
		e->tail++;
	}
}

/* Send up to n PINGs in one sendmmsg.  Returns how many went out. */
static unsigned send_batch(struct engine *e, unsigned n)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	unsigned i;
	int sent;

	if (n > BATCH)
		n = BATCH;
	memset(msgs, 0, sizeof(msgs[0]) * n);
	for (i = 0; i < n; i++) {
		struct xg_probe_msg m = {
			.type = XG_T_PING,
			.key_id = e->s->key_id,
			.cluster_id = e->s->cluster_id,
			.seq = e->next_seq + i,
			.sender_id = e->s->sender_id,
			.target_id = e->s->args->target_id,
			.ts_ns = now,
		};

		if (xg_probe_encode(&m, e->s->key, e->tx[i], sizeof(e->tx[i])) < 0)
			return 0;
		iov[i].iov_base = e->tx[i];
		iov[i].iov_len = sizeof(e->tx[i]);
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	sent = sendmmsg(e->fd, msgs, n, MSG_DONTWAIT);
	if (sent < 0) {
		if (errno == ECONNREFUSED)
			e->r->icmp_errors++;
		else if (errno != EAGAIN && errno != ENOBUFS)
			e->r->send_errors++;
		return 0;
	}
	for (i = 0; i < (unsigned)sent; i++) {
		struct slot *sl = &e->ring[e->next_seq & e->mask];

		if (sl->live) { /* wrapped round the ring: long lost */
			sl->live = false;
			e->outstanding--;
			e->r->lost++;
		}
		sl->seq = e->next_seq;
		sl->sent_ns = now;
		sl->live = true;
		sl->expired = false;
		e->next_seq++;
		e->outstanding++;
	}
	e->r->sent += (unsigned)sent;
	return (unsigned)sent;
}

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, read as one instant
 * (util/clockpair.h): under a PING flood this CPU takes softirqs all the
 * time, and one landing between two plain clock reads would skew the
 * offset by tens of microseconds and make some RTTs come out negative. */
static int64_t real_minus_mono(void)
{
	struct xg_clockpair p;

	xg_clockpair_read(&p);
	return xg_clockpair_offset(&p);
}

/* The kernel's receive time of a datagram on CLOCK_MONOTONIC, or the
 * current time when the kernel gave none. */
static uint64_t rx_stamp(struct msghdr *h, int64_t off)
{
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;
			uint64_t real;

			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			real = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
			return (uint64_t)((int64_t)real - off);
		}
	}
	return clock_ns(CLOCK_MONOTONIC);
}

static void on_ack(struct engine *e, const uint8_t *buf, size_t len,
		   uint64_t rx_mono)
{
	struct xg_probe_msg m;
	struct slot *sl;

	bool hung;

	if (xg_probe_decode(buf, len, e->s->key, NULL, &m)) {
		e->r->bad++;
		return;
	}
	hung = m.type == XG_T_NACK && (m.flags & XG_F_REFUSED);
	if ((m.type != XG_T_ACK && !hung) ||
	    m.cluster_id != e->s->cluster_id ||
	    m.sender_id != e->s->args->target_id ||
	    m.target_id != e->s->sender_id) {
		e->r->bad++;
		return;
	}
	sl = &e->ring[m.seq & e->mask];
	if (sl->seq != m.seq || sl->sent_ns != m.ts_ns) {
		e->r->bad++; /* never sent, or so long ago the slot moved on */
		return;
	}
	if (!sl->live) {
		if (sl->expired) {
			e->r->late++;
			sl->expired = false;
		} else {
			e->r->duplicate++;
		}
		return;
	}
	sl->live = false;
	e->outstanding--;
	if (hung) {
		e->r->hung++;
		return;
	}
	e->r->answered++;
	if (rx_mono < sl->sent_ns)
		e->r->clock_skew++;
	xg_hist_add(&e->r->rtt, rx_mono > sl->sent_ns ? rx_mono - sl->sent_ns : 0);
}

static void drain(struct engine *e)
{
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl[BATCH];
	int64_t off;
	int n, i;

	for (;;) {
		memset(msgs, 0, sizeof(msgs));
		for (i = 0; i < BATCH; i++) {
			iov[i].iov_base = e->rx[i];
			iov[i].iov_len = sizeof(e->rx[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = ctl[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(ctl[i].buf);
		}
		n = recvmmsg(e->fd, msgs, BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == ECONNREFUSED) {
				e->r->icmp_errors++;
				continue;
			}
			return; /* EAGAIN, or nothing more we can do now */
		}
		off = real_minus_mono();
		for (i = 0; i < n; i++)
			on_ack(e, e->rx[i], msgs[i].msg_len,
			       rx_stamp(&msgs[i].msg_hdr, off));
		if (n < BATCH)
			return;
	}
}

/* How many PINGs are due now. */
static uint64_t due(const struct engine *e, uint64_t start, uint64_t now)
{
	const struct xg_probe_args *a = e->s->args;
	uint64_t should;

	if (a->flood)
		return e->outstanding < a->window ? a->window - e->outstanding : 0;
	/* Paced from the start so rounding never accumulates. */
	should = (uint64_t)((double)(now - start) * (double)a->rate_pps / 1e9) + 1;
	return should > e->r->sent ? should - e->r->sent : 0;
}

/* How long to sleep: until the next PING is due (rate), until the oldest
 * probe would time out, or until the phase ends.  Flood wakes on ACKs. */
static uint64_t wait_ns(const struct engine *e, uint64_t start, uint64_t now,
			uint64_t end, bool sending)
{
	const struct xg_probe_args *a = e->s->args;
	uint64_t w = a->timeout_ns, t;

	if (e->outstanding) {
		const struct slot *sl = &e->ring[e->tail & e->mask];

		if (sl->live) {
			t = sl->sent_ns + a->timeout_ns;
			w = t > now ? t - now : 0;
		}
	}
	if (sending) {
		if (end - now < w)
			w = end - now;
		if (!a->flood) {
			t = start + (uint64_t)((double)(e->r->sent) * 1e9 /
					       (double)a->rate_pps);
			if (t > now && t - now < w)
				w = t - now;
			else if (t <= now)
				w = 0;
		}
	}
	return w;
}

int probe_run(const struct probe_setup *s, struct probe_result *r)
{
	struct engine *e;
	uint64_t start, end, now, n, sent_before;
	bool sending = true;
	int fd;

	memset(r, 0, sizeof(*r));
	xg_hist_init(&r->rtt);
	r->sender_id = s->sender_id;
	fd = open_socket(s->args);
	if (fd < 0)
		return fd;
	e = calloc(1, sizeof(*e));
	if (!e) {
		close(fd);
		return -ENOMEM;
	}
	e->s = s;
	e->r = r;
	e->fd = fd;
	e->mask = ring_size(s->args) - 1;
	e->ring = calloc((size_t)e->mask + 1, sizeof(*e->ring));
	if (!e->ring) {
		free(e);
		close(fd);
		return -ENOMEM;
	}

	start = clock_ns(CLOCK_MONOTONIC);
	end = start + s->args->duration_ns;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct timespec ts;
		uint64_t w;

		now = clock_ns(CLOCK_MONOTONIC);
		drain(e);
		expire(e, now);
		if (sending && now >= end) {
			sending = false;
			r->send_ns = now - start;
		}
		if (!sending && e->outstanding == 0)
			break;
		if (sending) {
			n = due(e, start, now);
			while (n > 0) {
				sent_before = r->sent;
				if (!send_batch(e, n > BATCH ? BATCH : (unsigned)n))
					break;
				n -= r->sent - sent_before;
			}
		}
		w = wait_ns(e, start, clock_ns(CLOCK_MONOTONIC), end, sending);
		ts.tv_sec = (time_t)(w / 1000000000ULL);
		ts.tv_nsec = (long)(w % 1000000000ULL);
		if (ppoll(&p, 1, &ts, NULL) < 0 && errno != EINTR)
			break;
	}
	free(e->ring);
	free(e);
	close(fd);
	return 0;
}
