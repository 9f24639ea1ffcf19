/* SPDX-License-Identifier: MIT */
/*
 * The UDP adapter's send batching (agent/net/udp.c): what a receive
 * callback sends waits for the end of its batch and then leaves in order,
 * in one sendmmsg(); a bad destination in the middle loses only itself;
 * outside a drain a send is immediate.  And what the kernel says back:
 * a datagram to a closed port comes back as a refusal on the error queue,
 * and the socket's pending error it leaves does not cost the next send or
 * receive its datagram.  Over loopback, which delivers synchronously
 * (ICMP included), so "not received yet" really means "not sent yet".
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/sockaddr.h"
#include "net/udp.h"

struct rig {
	struct xg_udp   *u;
	struct xg_addr   uaddr;  /* where u listens */
	int              client; /* plain socket that pings u */
	struct xg_addr   caddr;
	/* what the callback does */
	unsigned         replies_per_packet;
	int              bad_at;  /* reply to this packet goes to port 0 */
	unsigned         seen;
	unsigned         early;   /* replies the client had before the batch ended */
};

static struct xg_addr loopback(uint16_t port)
{
	struct xg_addr a = { .family = 4, .port = port };

	a.ip[0] = 127;
	a.ip[3] = 1;
	return a;
}

static uint16_t local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	return ntohs(sin.sin_port);
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct sockaddr_storage ss;
	socklen_t len;

	assert_non_null(r);
	r->u = calloc(1, sizeof(*r->u));
	assert_non_null(r->u);
	r->uaddr = loopback(0);
	assert_int_equal(xg_udp_open(r->u, &r->uaddr), 0);
	r->uaddr.port = local_port(r->u->fd);

	r->client = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(r->client >= 0);
	r->caddr = loopback(0);
	assert_int_equal(xg_addr_to_sockaddr(&r->caddr, AF_INET, &ss, &len), 0);
	assert_int_equal(bind(r->client, (struct sockaddr *)&ss, len), 0);
	r->caddr.port = local_port(r->client);
	r->bad_at = -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;

	xg_udp_close(r->u);
	free(r->u);
	close(r->client);
	free(r);
	return 0;
}

static void client_send(struct rig *r, unsigned n)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char msg[32];
	unsigned i;

	assert_int_equal(xg_addr_to_sockaddr(&r->uaddr, AF_INET, &ss, &len), 0);
	for (i = 0; i < n; i++) {
		int k = snprintf(msg, sizeof(msg), "ping %u", i);

		assert_int_equal(sendto(r->client, msg, (size_t)k, 0,
					(struct sockaddr *)&ss, len), k);
	}
}

/* Next datagram for the client, or -1 if none is queued. */
static int client_recv(struct rig *r, char *buf, size_t cap)
{
	ssize_t n = recv(r->client, buf, cap - 1, MSG_DONTWAIT);

	if (n < 0) {
		assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
		return -1;
	}
	buf[n] = '\0';
	return (int)n;
}

static bool client_has_data(struct rig *r)
{
	char c;

	return recv(r->client, &c, 1, MSG_DONTWAIT | MSG_PEEK) >= 0;
}

static void echo(void *ctx, const struct xg_addr *from, const uint8_t *buf,
		 size_t len, uint64_t rx_mono_ns)
{
	struct rig *r = ctx;
	char reply[64];
	unsigned k;

	(void)rx_mono_ns;
	if (client_has_data(r))
		r->early++;
	for (k = 0; k < r->replies_per_packet; k++) {
		struct xg_addr to = *from;
		int n = snprintf(reply, sizeof(reply), "ack %.*s/%u", (int)len - 5,
				 (const char *)buf + 5, k);

		if ((int)r->seen == r->bad_at)
			to.port = 0; /* EINVAL from the kernel, at flush time */
		assert_int_equal(xg_udp_send(r->u, &to, reply, (size_t)n), 0);
	}
	r->seen++;
}

static void expect_replies(struct rig *r, unsigned packets, unsigned per,
			   int skip)
{
	char buf[128], want[64];
	unsigned i, k;

	for (i = 0; i < packets; i++) {
		if ((int)i == skip)
			continue;
		for (k = 0; k < per; k++) {
			snprintf(want, sizeof(want), "ack %u/%u", i, k);
			assert_true(client_recv(r, buf, sizeof(buf)) > 0);
			assert_string_equal(buf, want);
		}
	}
	assert_int_equal(client_recv(r, buf, sizeof(buf)), -1);
}

/* Replies wait for the end of the batch, then all arrive, in order, from
 * one sendmmsg. */
static void test_batch_replies_leave_together(void **state)
{
	struct rig *r = *state;
	const unsigned n = 20;

	r->replies_per_packet = 1;
	client_send(r, n);
	assert_int_equal(xg_udp_drain(r->u, 1, echo, r), (int)n);
	assert_int_equal(r->seen, n);
	assert_int_equal(r->early, 0);
	expect_replies(r, n, 1, -1);
	assert_int_equal(r->u->stats.tx_packets, n);
	assert_int_equal(r->u->stats.tx_errors, 0);
	assert_int_equal(r->u->stats.tx_batches, 1);
	assert_int_equal(r->u->tx.n, 0);
}

/* More replies than the queue holds: it is flushed when full, order kept. */
static void test_queue_overflow_flushes_in_order(void **state)
{
	struct rig *r = *state;
	const unsigned n = 24, per = 3; /* 72 > XG_UDP_TXQ */

	r->replies_per_packet = per;
	client_send(r, n);
	assert_int_equal(xg_udp_drain(r->u, 1, echo, r), (int)n);
	expect_replies(r, n, per, -1);
	assert_int_equal(r->u->stats.tx_packets, n * per);
	assert_int_equal(r->u->stats.tx_errors, 0);
	assert_true(r->u->stats.tx_batches >= (n * per + XG_UDP_TXQ - 1) / XG_UDP_TXQ);
}

/* A destination the kernel refuses, in the middle of a batch, is counted
 * and skipped; the replies after it still go out. */
static void test_bad_destination_loses_only_itself(void **state)
{
	struct rig *r = *state;
	const unsigned n = 6;

	r->replies_per_packet = 1;
	r->bad_at = 2;
	client_send(r, n);
	assert_int_equal(xg_udp_drain(r->u, 1, echo, r), (int)n);
	expect_replies(r, n, 1, 2);
	assert_int_equal(r->u->stats.tx_packets, n - 1);
	assert_int_equal(r->u->stats.tx_errors, 1);
}

/* An address the socket cannot reach at all fails at once, queued or not. */
static void test_wrong_family_fails_at_once(void **state)
{
	struct rig *r = *state;
	struct xg_addr v6 = { .family = 6, .port = 7946 };

	v6.ip[15] = 1;
	assert_int_equal(xg_udp_send(r->u, &v6, "x", 1), -EAFNOSUPPORT);
	r->u->tx.active = true;
	assert_int_equal(xg_udp_send(r->u, &v6, "x", 1), -EAFNOSUPPORT);
	r->u->tx.active = false;
	assert_int_equal(r->u->tx.n, 0);
	assert_int_equal(r->u->stats.tx_errors, 2);
}

/* Outside a drain nothing waits. */
static void test_send_outside_drain_is_immediate(void **state)
{
	struct rig *r = *state;
	char buf[32];

	assert_int_equal(xg_udp_send(r->u, &r->caddr, "hello", 5), 0);
	assert_int_equal(client_recv(r, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(r->u->stats.tx_packets, 1);
	assert_int_equal(r->u->stats.tx_batches, 0);
}

/* A loopback port nobody listens on (bound, read, closed). */
static struct xg_addr closed_port(void)
{
	struct xg_addr a = loopback(0);
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(xg_addr_to_sockaddr(&a, AF_INET, &ss, &len), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	a.port = local_port(fd);
	close(fd);
	return a;
}

static bool error_pending(struct rig *r)
{
	struct pollfd p = { .fd = r->u->fd, .events = POLLIN };

	assert_true(poll(&p, 1, 1000) >= 0);
	return (p.revents & POLLERR) != 0;
}

struct refusals {
	unsigned       n;
	struct xg_addr to;
};

static void note_refused(void *ctx, const struct xg_addr *to)
{
	struct refusals *f = ctx;

	f->n++;
	f->to = *to;
}

static void count(void *ctx, const struct xg_addr *from, const uint8_t *buf,
		  size_t len, uint64_t rx_mono_ns)
{
	(void)from;
	(void)buf;
	(void)len;
	(void)rx_mono_ns;
	((struct rig *)ctx)->seen++;
}

/* The closed port's refusal is reported with the address we sent to, and
 * the error it left pending costs neither a receive nor a send. */
static void test_refusal_reported(void **state)
{
	struct rig *r = *state;
	struct xg_addr gone = closed_port();
	struct refusals f = { 0 };
	char buf[32];

	assert_int_equal(xg_udp_send(r->u, &gone, "x", 1), 0);
	assert_true(error_pending(r));
	client_send(r, 1);
	assert_int_equal(xg_udp_drain(r->u, 1, count, r), 1);
	assert_int_equal(r->seen, 1);

	assert_int_equal(xg_udp_send(r->u, &gone, "y", 1), 0);
	assert_int_equal(xg_udp_send(r->u, &r->caddr, "hello", 5), 0);
	assert_int_equal(client_recv(r, buf, sizeof(buf)), 5);
	assert_int_equal(r->u->stats.tx_errors, 0);

	assert_int_equal(xg_udp_drain_errors(r->u, note_refused, &f), 2);
	assert_int_equal(f.n, 2);
	assert_true(xg_addr_equal(&f.to, &gone));
	assert_int_equal(r->u->stats.rx_refused, 2);
	assert_false(error_pending(r));
	assert_int_equal(xg_udp_drain_errors(r->u, note_refused, &f), 0);
}

/* A batch sent while an error is pending loses nothing either. */
static void test_refusal_spares_a_batch(void **state)
{
	struct rig *r = *state;
	struct xg_addr gone = closed_port();
	const unsigned n = 4;

	assert_int_equal(xg_udp_send(r->u, &gone, "x", 1), 0);
	assert_true(error_pending(r));
	r->replies_per_packet = 1;
	client_send(r, n);
	assert_int_equal(xg_udp_drain(r->u, 1, echo, r), (int)n);
	expect_replies(r, n, 1, -1);
	assert_int_equal(r->u->stats.tx_errors, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batch_replies_leave_together, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_overflow_flushes_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_destination_loses_only_itself, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_family_fails_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_outside_drain_is_immediate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_spares_a_batch, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
