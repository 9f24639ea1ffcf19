/* SPDX-License-Identifier: MIT */
/* TCP push/pull between real sockets on 127.0.0.1 (agent/daemon/pushpull.c):
 * a full exchange, rejection of strangers, deadlines, the connection cap.
 * Deadlines are checked by handing xg_pp_expire() a later "now", never by
 * waiting. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/loop.h"
#include "daemon/pushpull.h"
#include "lib/onecore.h"
#include "net/sockaddr.h"

struct node {
	struct onecore oc;
	struct xg_pp   pp;
	struct xg_addr addr; /* where its listener really is */
};

struct fx {
	struct xg_loop *loop;
	struct node     a, b;
};

struct result {
	int            calls;
	int            err;
	struct xg_addr peer;
};

static void on_done(void *ctx, const struct xg_addr *peer, int err)
{
	struct result *r = ctx;

	r->calls++;
	r->err = err;
	r->peer = *peer;
}

static void loopback(struct xg_addr *a, uint16_t port)
{
	assert_int_equal(xg_addr_parse("127.0.0.1", port, a), 0);
}

static void node_start(struct fx *f, struct node *n, uint64_t id,
		       const char *name, uint64_t cluster, uint8_t key)
{
	struct xg_core_config cfg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct xg_addr bind;

	oc_config(&cfg);
	cfg.self_id = id;
	cfg.name = name;
	cfg.cluster_id = cluster;
	memset(cfg.gossip_key, key, sizeof(cfg.gossip_key));
	oc_addr(&cfg.advertise, (unsigned)id);
	assert_int_equal(oc_start(&n->oc, &cfg, xg_now_mono_ns()), 0);
	/* Port 0: the kernel picks a free one, read back below. */
	memset(&bind, 0, sizeof(bind));
	bind.family = 4;
	bind.ip[0] = 127;
	bind.ip[3] = 1;
	assert_int_equal(xg_pp_open(&n->pp, f->loop, n->oc.core, &bind), 0);
	assert_int_equal(getsockname(n->pp.listen.fd, (struct sockaddr *)&ss,
				     &len), 0);
	assert_int_equal(xg_addr_from_sockaddr((struct sockaddr *)&ss, len,
					       &n->addr), 0);
}

static void node_stop(struct node *n)
{
	xg_pp_close(&n->pp);
	oc_stop(&n->oc);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || xg_loop_new(&f->loop))
		return -1;
	node_start(f, &f->a, 1, "alpha", OC_CLUSTER, 0x22);
	node_start(f, &f->b, 2, "beta", OC_CLUSTER, 0x22);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	node_stop(&f->a);
	node_stop(&f->b);
	xg_loop_free(f->loop);
	free(f);
	return 0;
}

/* Run the loop until *flag is set or the loop has nothing more to do for
 * a while (bounded; a hang fails the test instead of stalling it). */
static void run_until(struct fx *f, const int *flag)
{
	int i;

	for (i = 0; i < 200 && !*flag; i++)
		assert_int_equal(xg_loop_run_once(f->loop, 50), 0);
	assert_true(*flag);
}

static void run_idle(struct fx *f, int rounds)
{
	while (rounds-- > 0)
		assert_int_equal(xg_loop_run_once(f->loop, 10), 0);
}

static bool knows(const struct node *n, uint64_t id)
{
	struct xg_member_info m;

	return xg_core_member_find(n->oc.core, id, &m) == 0 &&
	       m.state == XG_ALIVE;
}

static void test_exchange(void **state)
{
	struct fx *f = *state;
	struct result r = { 0 };

	assert_false(knows(&f->a, 2));
	assert_int_equal(xg_pp_start(&f->b.pp, &f->a.addr, true, on_done, &r), 0);
	/* done never runs inside start */
	assert_int_equal(r.calls, 0);
	run_until(f, &r.calls);
	run_idle(f, 3);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	assert_true(xg_addr_equal(&r.peer, &f->a.addr));
	/* Both sides merged: the joiner and the node it joined through. */
	assert_true(knows(&f->a, 2));
	assert_true(knows(&f->b, 1));
	assert_int_equal(f->b.pp.stats.connects, 1);
	assert_int_equal(f->b.pp.stats.ok, 1);
	assert_int_equal(f->a.pp.stats.accepts, 1);
	assert_int_equal(f->a.pp.stats.ok, 1);
	assert_int_equal(f->a.pp.nconns, 0);
	assert_int_equal(f->b.pp.nconns, 0);
	assert_int_equal(xg_pp_next_deadline(&f->a.pp), UINT64_MAX);
}

static void test_refused(void **state)
{
	struct fx *f = *state;
	struct result r = { 0 };
	struct xg_addr nowhere;

	/* Our own listener's port plus nothing: a closed port on loopback. */
	loopback(&nowhere, 1);
	assert_int_equal(xg_pp_start(&f->b.pp, &nowhere, true, on_done, &r), 0);
	run_until(f, &r.calls);
	assert_int_equal(r.err, -ECONNREFUSED);
	assert_int_equal(f->b.pp.stats.failed, 1);
}

static void test_other_secret_learns_nothing(void **state)
{
	struct fx *f = *state;
	struct node c;
	struct result r = { 0 };

	/* Same cluster id, different gossip key: the MAC check fails at A,
	 * which closes without replying. */
	node_start(f, &c, 3, "gamma", OC_CLUSTER, 0x99);
	assert_int_equal(xg_pp_start(&c.pp, &f->a.addr, true, on_done, &r), 0);
	run_until(f, &r.calls);
	run_idle(f, 3);
	assert_true(r.err != 0);
	assert_false(knows(&f->a, 3));
	assert_false(knows(&c, 1));
	assert_int_equal(f->a.pp.stats.failed, 1);
	assert_int_equal(f->a.pp.stats.ok, 0);
	node_stop(&c);
}

static void test_other_cluster_rejected_early(void **state)
{
	struct fx *f = *state;
	struct node c;
	struct result r = { 0 };

	node_start(f, &c, 3, "gamma", OC_CLUSTER + 1, 0x22);
	assert_int_equal(xg_pp_start(&c.pp, &f->a.addr, false, on_done, &r), 0);
	run_until(f, &r.calls);
	run_idle(f, 3);
	assert_true(r.err != 0);
	assert_false(knows(&f->a, 3));
	assert_int_equal(f->a.pp.stats.failed, 1);
	node_stop(&c);
}

static int raw_connect(const struct xg_addr *to)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(xg_addr_to_sockaddr(to, AF_INET, &ss, &len), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	return fd;
}

/* True once the peer has closed fd (EOF or reset). */
static bool closed_by_peer(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN);
}

static void test_junk_is_dropped(void **state)
{
	struct fx *f = *state;
	int http = raw_connect(&f->a.addr), hdr = raw_connect(&f->a.addr);
	static const char junk_hdr[] =
		"\0\0\0\100" "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

	/* "GET " read as a length is over 1 GiB: refused at once. */
	assert_int_equal(write(http, "GET / HTTP/1.1\r\n\r\n", 18), 18);
	/* A plausible length, then a header that is not xgossip's: refused
	 * after 16 bytes, without waiting for the other 48. */
	assert_int_equal(write(hdr, junk_hdr, 20), 20);
	run_idle(f, 10);
	assert_true(closed_by_peer(http));
	assert_true(closed_by_peer(hdr));
	assert_int_equal(f->a.pp.stats.failed, 2);
	assert_int_equal(f->a.pp.nconns, 0);
	close(http);
	close(hdr);
}

static void test_silent_peer_times_out(void **state)
{
	struct fx *f = *state;
	int fd = raw_connect(&f->a.addr);
	uint64_t deadline;

	run_idle(f, 3);
	assert_int_equal(f->a.pp.nconns, 1);
	deadline = xg_pp_next_deadline(&f->a.pp);
	assert_true(deadline != UINT64_MAX);
	xg_pp_expire(&f->a.pp, deadline - 1);
	assert_int_equal(f->a.pp.nconns, 1);
	xg_pp_expire(&f->a.pp, deadline);
	assert_int_equal(f->a.pp.nconns, 0);
	assert_int_equal(f->a.pp.stats.failed, 1);
	assert_true(closed_by_peer(fd));
	close(fd);
}

static void test_silent_server_times_out(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	struct result r = { 0 };
	struct xg_addr to;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	/* A listener that never accepts or answers: the kernel completes the
	 * handshake, then nothing. */
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
	loopback(&to, ntohs(sin.sin_port));
	assert_int_equal(xg_pp_start(&f->b.pp, &to, true, on_done, &r), 0);
	run_idle(f, 5);
	assert_int_equal(r.calls, 0);
	xg_pp_expire(&f->b.pp, xg_pp_next_deadline(&f->b.pp));
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, -ETIMEDOUT);
	close(lfd);
}

static void test_connection_cap(void **state)
{
	struct fx *f = *state;
	int fds[XG_PP_MAX_CONNS + 6], i;
	struct result r = { 0 };

	for (i = 0; i < XG_PP_MAX_CONNS + 6; i++)
		fds[i] = raw_connect(&f->a.addr);
	run_idle(f, 10);
	assert_int_equal(f->a.pp.nconns, XG_PP_MAX_CONNS);
	assert_int_equal(f->a.pp.stats.accepts, XG_PP_MAX_CONNS + 6);
	assert_int_equal(f->a.pp.stats.rejected, 6);
	/* Outgoing exchanges count against the same cap. */
	assert_int_equal(xg_pp_start(&f->a.pp, &f->b.addr, false, on_done, &r),
			 -EBUSY);
	/* Shutting down releases everything. */
	xg_pp_close(&f->a.pp);
	assert_int_equal(f->a.pp.nconns, 0);
	for (i = 0; i < XG_PP_MAX_CONNS + 6; i++)
		close(fds[i]);
}

static void test_close_cancels(void **state)
{
	struct fx *f = *state;
	struct result r = { 0 };

	assert_int_equal(xg_pp_start(&f->b.pp, &f->a.addr, true, on_done, &r), 0);
	xg_pp_close(&f->b.pp);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, -ECANCELED);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_exchange),
		T(test_refused),
		T(test_other_secret_learns_nothing),
		T(test_other_cluster_rejected_early),
		T(test_junk_is_dropped),
		T(test_silent_peer_times_out),
		T(test_silent_server_times_out),
		T(test_connection_cap),
		T(test_close_cancels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
