/* SPDX-License-Identifier: MIT */
/*
 * Transfers over TLS (agent/daemon/xfer*.c on pushpull): real agents'
 * halves in one process, over 127.0.0.1, with certificates from a test
 * CA, driven by the event loop.  Every wait is a bounded loop and an
 * alarm turns a hang into a failure; deadlines are checked by handing the
 * expire calls a later "now", never by waiting.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/sha.h>

#include "daemon/bodystore.h"
#include "daemon/loop.h"
#include "daemon/pushpull.h"
#include "daemon/xfer.h"
#include "daemon/xfer_frame.h"
#include "lib/onecore.h"
#include "net/sockaddr.h"
#include "net/tls.h"
#include "util/certs.h"

#define BIG    XG_XFER_PAYLOAD_MAX
#define ROUNDS 100000

static char dir[64];
static uint8_t *big;              /* 16 MiB of pattern */
static uint8_t big_sha[32];

struct node {
	struct xg_loop      *loop;
	struct onecore       oc;
	struct xg_pp         pp;
	struct xg_tls_ctx   *tls;
	struct xg_keyring    kr;
	struct xg_xfer      *x;
	struct xg_bodystore *bs;
	struct xg_addr       addr;
	bool                 up;
	/* What on_unicast saw, and what it answers. */
	int                  ret, calls;
	int                  good; /* payloads equal to the start of big */
	char                 from[XG_NAME_MAX];
	uint64_t             from_id;
	uint8_t              id[16];
	char                 topic[XG_MSG_TOPIC_MAX + 1];
	uint8_t             *payload;
	size_t               len;
};

struct fx {
	struct xg_loop *loop;
	struct node     a, b;
};

struct sent {
	int      calls, err;
	uint64_t rtt;
};

struct got {
	int      calls, err;
	uint8_t *body;
	size_t   len;
};

static void on_sent(void *ctx, int err, uint64_t rtt)
{
	struct sent *s = ctx;

	s->calls++;
	s->err = err;
	s->rtt = rtt;
}

static void on_fetched(void *ctx, int err, uint8_t *body, size_t len)
{
	struct got *g = ctx;

	g->calls++;
	g->err = err;
	free(g->body);
	g->body = body;
	g->len = len;
}

static int on_unicast(void *ctx, const char *from_name, uint64_t from_id,
		      const uint8_t id[16], const char *topic,
		      const uint8_t *payload, size_t len)
{
	struct node *n = ctx;

	n->calls++;
	snprintf(n->from, sizeof(n->from), "%s", from_name);
	n->from_id = from_id;
	memcpy(n->id, id, 16);
	snprintf(n->topic, sizeof(n->topic), "%s", topic);
	free(n->payload);
	n->payload = malloc(len ? len : 1);
	assert_non_null(n->payload);
	memcpy(n->payload, payload, len);
	n->len = len;
	n->good += len <= BIG && !memcmp(payload, big, len);
	return n->ret;
}

static int body_get(void *ctx, const uint8_t id[16], const uint8_t **body,
		    size_t *len, void **ref)
{
	struct node *n = ctx;

	return xg_bodystore_hook_get(n->bs, id, body, len, ref);
}

static void body_put(void *ctx, void *ref)
{
	struct node *n = ctx;

	xg_bodystore_hook_put(n->bs, ref);
}

static void mkid(uint8_t id[16], unsigned k)
{
	memset(id, 0, 16);
	id[0] = 0xa1;
	id[15] = (uint8_t)k;
}

static struct xg_tls_ctx *ctx_for(const char *cert_name)
{
	char ca[128], cert[160], key[160], err[256];
	struct xg_tls_ctx *c = NULL;

	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, cert_name);
	snprintf(key, sizeof(key), "%s/%s-key.pem", dir, cert_name);
	if (xg_tls_ctx_new(&c, ca, cert, key, err, sizeof(err))) {
		print_error("xg_tls_ctx_new(%s): %s\n", cert_name, err);
		return NULL;
	}
	return c;
}

/* A node called name, with the certificate of cert_name (NULL: plain
 * TCP) and a keyring of one key made of key_byte. */
static void node_start(struct node *n, struct xg_loop *loop, uint64_t id,
		       const char *name, const char *cert_name,
		       uint8_t key_byte)
{
	struct xg_core_config cfg;
	struct sockaddr_storage ss;
	socklen_t slen = sizeof(ss);
	struct xg_addr bind;
	uint8_t key[XG_KEY_LEN];
	struct xg_xfer_config xc = {
		.keyring = &n->kr,
		.cluster_id = OC_CLUSTER,
		.self_id = id,
		.self_name = name,
		.hooks = {
			.ctx = n,
			.on_unicast = on_unicast,
			.body_get = body_get,
			.body_put = body_put,
		},
	};

	memset(n, 0, sizeof(*n));
	n->loop = loop;
	oc_config(&cfg);
	cfg.self_id = id;
	cfg.name = name;
	oc_addr(&cfg.advertise, (unsigned)id);
	assert_int_equal(oc_start(&n->oc, &cfg, xg_now_mono_ns()), 0);
	memset(&bind, 0, sizeof(bind));
	bind.family = 4;
	bind.ip[0] = 127;
	bind.ip[3] = 1;
	assert_int_equal(xg_pp_open(&n->pp, loop, n->oc.core, &bind), 0);
	assert_int_equal(getsockname(n->pp.listen.fd, (struct sockaddr *)&ss,
				     &slen), 0);
	assert_int_equal(xg_addr_from_sockaddr((struct sockaddr *)&ss, slen,
					       &n->addr), 0);
	if (cert_name) {
		n->tls = ctx_for(cert_name);
		assert_non_null(n->tls);
		n->pp.tls = n->tls;
	}
	xg_keyring_init(&n->kr);
	memset(key, key_byte, sizeof(key));
	assert_int_equal(xg_keyring_install(&n->kr, key), 0);
	assert_int_equal(xg_bodystore_new(&n->bs, 0), 0);
	xc.pp = &n->pp;
	assert_int_equal(xg_xfer_open(&n->x, &xc), 0);
	n->up = true;
}

static void node_stop(struct node *n)
{
	if (!n->up)
		return;
	xg_xfer_close(n->x);
	xg_pp_close(&n->pp);
	xg_tls_ctx_free(n->tls);
	xg_bodystore_free(n->bs);
	oc_stop(&n->oc);
	xg_keyring_wipe(&n->kr);
	free(n->payload);
	n->up = false;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int group_setup(void **state)
{
	static const char *const names[] = { "alpha", "beta", "gamma" };
	char err[256];
	size_t i;

	(void)state;
	/* A call that blocks or a loop that never ends fails the run. */
	alarm(300);
	strcpy(dir, "/tmp/xg-xfer-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	if (xg_certs_init(dir, names, 3, 30, err, sizeof(err))) {
		print_error("xg_certs_init: %s\n", err);
		return -1;
	}
	big = malloc(BIG);
	if (!big)
		return -1;
	for (i = 0; i < BIG; i++)
		big[i] = (uint8_t)(i * 131 + (i >> 12));
	SHA256(big, BIG, big_sha);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(big);
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f || xg_loop_new(&f->loop))
		return -1;
	node_start(&f->a, f->loop, 1, "alpha", "alpha", 0x5a);
	node_start(&f->b, f->loop, 2, "beta", "beta", 0x5a);
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

static void run_until(struct xg_loop *loop, const int *flag)
{
	int i;

	for (i = 0; i < ROUNDS && !*flag; i++)
		assert_int_equal(xg_loop_run_once(loop, 100), 0);
	assert_true(*flag);
}

static void run_idle(struct xg_loop *loop, int rounds)
{
	while (rounds-- > 0)
		assert_int_equal(xg_loop_run_once(loop, 10), 0);
}

static struct xg_xfer_stats stats(const struct node *n)
{
	struct xg_xfer_stats st;

	xg_xfer_get_stats(n->x, &st);
	return st;
}

/* Put a copy of big[0..len) into n's store under id k. */
static void store(struct node *n, unsigned k, size_t len)
{
	uint8_t id[16], *copy = malloc(len);

	assert_non_null(copy);
	memcpy(copy, big, len);
	mkid(id, k);
	assert_int_equal(xg_bodystore_put(n->bs, id, copy, len), 0);
}

/* A priority-0 source that is always ready, like a busy UDP socket:
 * counts the wakeups it was served in. */
struct busy_udp {
	struct xg_watch w;
	int             calls;
};

static void busy_event(struct xg_watch *w, uint32_t events)
{
	struct busy_udp *u = (struct busy_udp *)w;

	(void)events;
	u->calls++;
}

static void busy_start(struct busy_udp *u, struct xg_loop *loop)
{
	memset(u, 0, sizeof(*u));
	u->w.fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC); /* never drained */
	u->w.fn = busy_event;
	u->w.prio = 0;
	assert_true(u->w.fd >= 0);
	assert_int_equal(xg_loop_add(loop, &u->w, EPOLLIN), 0);
}

static void busy_stop(struct busy_udp *u, struct xg_loop *loop)
{
	xg_loop_del(loop, &u->w);
	close(u->w.fd);
}

/* --- unicast ------------------------------------------------------------ */

static void test_unicast_delivered(void **state)
{
	struct fx *f = *state;
	static const char msg[] = "hello, beta";
	struct sent s = { 0 };
	uint8_t id[16];

	mkid(id, 1);
	assert_int_equal(xg_xfer_unicast(f->a.x, &f->b.addr, "beta", id, "greet",
					 msg, sizeof(msg), on_sent, &s), 0);
	assert_int_equal(s.calls, 0); /* never inside the call */
	run_until(f->loop, &s.calls);
	run_idle(f->loop, 3);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_true(s.rtt > 0);
	assert_int_equal(f->b.calls, 1);
	assert_string_equal(f->b.from, "alpha");
	assert_int_equal(f->b.from_id, 1);
	assert_memory_equal(f->b.id, id, 16);
	assert_string_equal(f->b.topic, "greet");
	assert_int_equal(f->b.len, sizeof(msg));
	assert_memory_equal(f->b.payload, msg, sizeof(msg));
	assert_int_equal(stats(&f->a).unicasts_sent, 1);
	assert_int_equal(stats(&f->b).unicasts_recv, 1);
	assert_int_equal(f->a.pp.nconns, 0);
	assert_int_equal(f->b.pp.nconns, 0);
}

static void test_unicast_empty_payload(void **state)
{
	struct fx *f = *state;
	struct sent s = { 0 };
	uint8_t id[16];

	mkid(id, 2);
	assert_int_equal(xg_xfer_unicast(f->a.x, &f->b.addr, "beta", id, "t",
					 NULL, 0, on_sent, &s), 0);
	run_until(f->loop, &s.calls);
	assert_int_equal(s.err, 0);
	assert_int_equal(f->b.calls, 1);
	assert_int_equal(f->b.len, 0);
}

static void test_unicast_16mib(void **state)
{
	struct fx *f = *state;
	struct busy_udp udp;
	struct sent s = { 0 };
	uint8_t id[16];

	mkid(id, 3);
	busy_start(&udp, f->loop);
	assert_int_equal(xg_xfer_unicast(f->a.x, &f->b.addr, "beta", id, "big",
					 big, BIG, on_sent, &s), 0);
	run_until(f->loop, &s.calls);
	busy_stop(&udp, f->loop);
	assert_int_equal(s.err, 0);
	assert_int_equal(f->b.len, BIG);
	assert_memory_equal(f->b.payload, big, BIG);
	/* The payload moved a slice per wakeup, with UDP served each time. */
	assert_true(udp.calls >= (int)(BIG / XG_PP_SLICE));
	assert_int_equal(stats(&f->a).unicast_bytes, 0);
}

static void test_unicast_refused_by_hook(void **state)
{
	struct fx *f = *state;
	struct sent s = { 0 };
	uint8_t id[16];

	f->b.ret = -ENOSPC;
	mkid(id, 4);
	assert_int_equal(xg_xfer_unicast(f->a.x, &f->b.addr, "beta", id, "t",
					 "x", 1, on_sent, &s), 0);
	run_until(f->loop, &s.calls);
	assert_int_equal(s.err, -ENOSPC);
	assert_true(s.rtt > 0); /* it answered */
	assert_int_equal(f->b.calls, 1);
	assert_int_equal(stats(&f->a).unicasts_refused, 1);
	assert_int_equal(stats(&f->b).unicasts_rejected, 1);
}

static void test_unicast_closed_port(void **state)
{
	struct fx *f = *state;
	struct sent s = { 0 };
	struct xg_addr nowhere;
	uint8_t id[16];

	assert_int_equal(xg_addr_parse("127.0.0.1", 1, &nowhere), 0);
	mkid(id, 5);
	assert_int_equal(xg_xfer_unicast(f->a.x, &nowhere, "beta", id, "t",
					 "x", 1, on_sent, &s), 0);
	run_until(f->loop, &s.calls);
	assert_int_equal(s.err, -ECONNREFUSED);
	assert_int_equal(s.rtt, 0); /* nobody answered */
	assert_int_equal(stats(&f->a).unicasts_failed, 1);
}

/* A listener that never accepts: connections complete in the kernel and
 * then nothing happens. */
static int silent_listener(struct xg_addr *to)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 128), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(xg_addr_parse("127.0.0.1", ntohs(sin.sin_port), to),
			 0);
	return fd;
}

static void test_unicast_deadline(void **state)
{
	struct fx *f = *state;
	struct sent s = { 0 };
	struct xg_addr to;
	uint64_t t0, t1, d;
	uint8_t id[16];
	int lfd = silent_listener(&to);

	mkid(id, 6);
	t0 = xg_now_mono_ns();
	assert_int_equal(xg_xfer_unicast(f->a.x, &to, "beta", id, "t", big,
					 4u << 20, on_sent, &s), 0);
	t1 = xg_now_mono_ns();
	run_idle(f->loop, 3);
	assert_int_equal(s.calls, 0);
	/* 5 s plus 4 MiB at 4 MiB/s. */
	d = xg_pp_next_deadline(&f->a.pp);
	assert_true(d >= t0 + 6000000000ULL && d <= t1 + 6000000000ULL);
	xg_pp_expire(&f->a.pp, d - 1);
	assert_int_equal(s.calls, 0);
	xg_pp_expire(&f->a.pp, d);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, -ETIMEDOUT);
	assert_int_equal(s.rtt, 0);
	close(lfd);
}

static void test_unicast_wrong_target_name(void **state)
{
	struct fx *f = *state;
	struct sent s = { 0 };
	uint8_t id[16];

	/* b's certificate says "beta": it is not the "gamma" we meant. */
	mkid(id, 7);
	assert_int_equal(xg_xfer_unicast(f->a.x, &f->b.addr, "gamma", id, "t",
					 "x", 1, on_sent, &s), 0);
	run_until(f->loop, &s.calls);
	run_idle(f->loop, 3);
	assert_int_equal(s.err, -EPERM);
	assert_int_equal(s.rtt, 0);
	assert_int_equal(f->b.calls, 0);
	assert_int_equal(f->a.pp.stats.name_mismatch, 1);
}

static void test_sender_posing_as_another(void **state)
{
	struct fx *f = *state;
	struct node g;
	struct sent s = { 0 };
	uint8_t id[16];

	/* A member with gamma's certificate calling itself alpha. */
	node_start(&g, f->loop, 3, "alpha", "gamma", 0x5a);
	mkid(id, 8);
	assert_int_equal(xg_xfer_unicast(g.x, &f->b.addr, "beta", id, "t",
					 big, 1u << 20, on_sent, &s), 0);
	run_until(f->loop, &s.calls);
	run_idle(f->loop, 3);
	assert_true(s.err < 0);
	assert_int_equal(s.rtt, 0);
	/* Refused on the request frame, before the payload was read. */
	assert_int_equal(f->b.calls, 0);
	assert_int_equal(f->b.pp.stats.name_mismatch, 1);
	node_stop(&g);
}

static void test_other_keyring_refused(void **state)
{
	struct fx *f = *state;
	struct node g;
	struct sent s = { 0 };
	struct got r = { 0 };
	uint8_t id[16];

	/* A valid certificate, but not the cluster's keys. */
	node_start(&g, f->loop, 3, "gamma", "gamma", 0x77);
	store(&f->b, 9, 1000);
	mkid(id, 9);
	assert_int_equal(xg_xfer_unicast(g.x, &f->b.addr, "beta", id, "t", "x",
					 1, on_sent, &s), 0);
	assert_int_equal(xg_xfer_fetch(g.x, &f->b.addr, "beta", id, 1000,
				       big_sha, on_fetched, &r), 0);
	run_until(f->loop, &s.calls);
	run_until(f->loop, &r.calls);
	assert_true(s.err < 0);
	assert_int_equal(s.rtt, 0);
	assert_true(r.err < 0);
	assert_null(r.body);
	assert_int_equal(f->b.calls, 0);
	assert_int_equal(stats(&f->b).serves, 0);
	node_stop(&g);
}

/* --- fetch -------------------------------------------------------------- */

static void test_fetch_16mib(void **state)
{
	struct fx *f = *state;
	struct busy_udp udp;
	struct xg_bodystore_stats bst;
	struct got r = { 0 };
	uint8_t id[16];

	store(&f->b, 10, BIG);
	mkid(id, 10);
	busy_start(&udp, f->loop);
	assert_int_equal(xg_xfer_fetch(f->a.x, &f->b.addr, "beta", id, BIG,
				       big_sha, on_fetched, &r), 0);
	run_until(f->loop, &r.calls);
	busy_stop(&udp, f->loop);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.len, BIG);
	assert_memory_equal(r.body, big, BIG);
	assert_true(udp.calls >= (int)(BIG / XG_PP_SLICE));
	run_idle(f->loop, 3);
	/* The served body went back to the store. */
	xg_bodystore_get_stats(f->b.bs, &bst);
	assert_int_equal(bst.in_use, 0);
	assert_int_equal(stats(&f->b).serving, 0);
	assert_int_equal(stats(&f->b).serves, 1);
	assert_int_equal(stats(&f->a).fetches_ok, 1);
	free(r.body);
}

static void test_fetch_wrong_sha(void **state)
{
	struct fx *f = *state;
	struct got r = { 0 };
	uint8_t id[16], sha[32];

	store(&f->b, 11, 100000);
	mkid(id, 11);
	SHA256(big, 100000, sha);
	sha[31] ^= 1;
	assert_int_equal(xg_xfer_fetch(f->a.x, &f->b.addr, "beta", id, 100000,
				       sha, on_fetched, &r), 0);
	run_until(f->loop, &r.calls);
	assert_int_equal(r.err, -EBADMSG);
	assert_null(r.body);
	assert_int_equal(stats(&f->a).fetches_bad, 1);
}

static void test_fetch_wrong_size(void **state)
{
	struct fx *f = *state;
	struct got r = { 0 };
	uint8_t id[16], sha[32];

	/* Announced 1000 bytes, the holder has 999: refused on the answer,
	 * before any of the body is read. */
	store(&f->b, 12, 999);
	mkid(id, 12);
	SHA256(big, 1000, sha);
	assert_int_equal(xg_xfer_fetch(f->a.x, &f->b.addr, "beta", id, 1000,
				       sha, on_fetched, &r), 0);
	run_until(f->loop, &r.calls);
	assert_int_equal(r.err, -EBADMSG);
	assert_null(r.body);
}

static void test_fetch_missing(void **state)
{
	struct fx *f = *state;
	struct got r = { 0 };
	uint8_t id[16];

	mkid(id, 13);
	assert_int_equal(xg_xfer_fetch(f->a.x, &f->b.addr, "beta", id, 5,
				       big_sha, on_fetched, &r), 0);
	run_until(f->loop, &r.calls);
	assert_int_equal(r.err, -ENOENT);
	assert_null(r.body);
	assert_int_equal(stats(&f->a).fetches_missing, 1);
	assert_int_equal(stats(&f->b).serves_missing, 1);
}

/* A fetcher that asks and then never reads: a TLS client on a socket
 * with a tiny receive buffer, so its serve cannot finish. */
struct stall {
	struct xg_stream st;
};

static void stall_start(struct fx *f, struct stall *c, struct xg_tls_ctx *tls,
			const char *name, unsigned k)
{
	struct sockaddr_storage ss;
	struct xg_xfer_msg m = { .type = XG_T_FETCH, .sender_id = 3 };
	uint8_t frame[XG_XFER_FRAME_MAX];
	socklen_t len;
	int fd, small = 4096, i, rc = -EAGAIN;
	ssize_t n;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	assert_int_equal(xg_addr_to_sockaddr(&f->b.addr, AF_INET, &ss, &len),
			 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	xg_stream_init(&c->st, fd, 1u << 20, UINT64_MAX);
	assert_int_equal(xg_tls_attach(&c->st, tls, false), 0);
	for (i = 0; i < ROUNDS && rc == -EAGAIN; i++) {
		rc = xg_stream_handshake(&c->st);
		if (rc == -EAGAIN)
			assert_int_equal(xg_loop_run_once(f->loop, 10), 0);
	}
	assert_int_equal(rc, 0);
	mkid(m.id, k);
	strcpy(m.name, name);
	n = xg_xfer_encode(&f->b.kr, OC_CLUSTER, &m, frame, sizeof(frame));
	assert_true(n > 0);
	assert_int_equal(xg_stream_send(&c->st, frame, (size_t)n), 0);
	rc = -EAGAIN;
	for (i = 0; i < ROUNDS && rc == -EAGAIN; i++) {
		rc = xg_stream_flush(&c->st);
		if (rc == -EAGAIN)
			assert_int_equal(xg_loop_run_once(f->loop, 10), 0);
	}
	assert_int_equal(rc, 0);
}

static void run_until_serving(struct fx *f, uint32_t n)
{
	int i;

	for (i = 0; i < ROUNDS && stats(&f->b).serving < n; i++)
		assert_int_equal(xg_loop_run_once(f->loop, 10), 0);
	assert_int_equal(stats(&f->b).serving, n);
}

static void test_fetch_busy(void **state)
{
	struct fx *f = *state;
	struct stall c[XG_XFER_SERVES_MAX + 1];
	struct xg_tls_ctx *gamma = ctx_for("gamma"), *alpha = ctx_for("alpha");
	struct xg_bodystore_stats bst;
	struct got r = { 0 };
	uint8_t id[16], sha[32];
	int i;

	assert_non_null(gamma);
	assert_non_null(alpha);
	store(&f->b, 14, BIG);
	store(&f->b, 19, 1000);
	/* gamma takes its share of the slots... */
	stall_start(f, &c[0], gamma, "gamma", 14);
	stall_start(f, &c[1], gamma, "gamma", 14);
	run_until_serving(f, XG_XFER_SERVES_PER_MEMBER);
	/* ...and no more, */
	stall_start(f, &c[2], gamma, "gamma", 14);
	for (i = 0; i < ROUNDS && stats(&f->b).serves_busy < 1; i++)
		assert_int_equal(xg_loop_run_once(f->loop, 10), 0);
	assert_int_equal(stats(&f->b).serves_busy, 1);
	assert_int_equal(stats(&f->b).serving, XG_XFER_SERVES_PER_MEMBER);
	/* while alpha is still served. */
	mkid(id, 19);
	SHA256(big, 1000, sha);
	assert_int_equal(xg_xfer_fetch(f->a.x, &f->b.addr, "beta", id, 1000,
				       sha, on_fetched, &r), 0);
	run_until(f->loop, &r.calls);
	assert_int_equal(r.err, 0);
	assert_memory_equal(r.body, big, 1000);
	free(r.body);
	memset(&r, 0, sizeof(r));
	/* Two stalled fetches from alpha fill the four slots: one more is
	 * told "busy" at once (ask another holder). */
	stall_start(f, &c[3], alpha, "alpha", 14);
	stall_start(f, &c[4], alpha, "alpha", 14);
	run_until_serving(f, XG_XFER_SERVES_MAX);
	mkid(id, 14);
	assert_int_equal(xg_xfer_fetch(f->a.x, &f->b.addr, "beta", id, BIG,
				       big_sha, on_fetched, &r), 0);
	run_until(f->loop, &r.calls);
	assert_int_equal(r.err, -EBUSY);
	assert_null(r.body);
	assert_int_equal(stats(&f->a).fetches_busy, 1);
	assert_int_equal(stats(&f->b).serves_busy, 2);
	assert_int_equal(stats(&f->b).serving, XG_XFER_SERVES_MAX);
	xg_bodystore_get_stats(f->b.bs, &bst);
	assert_int_equal(bst.in_use, 1);
	/* The stalled fetchers go away: every serve ends and the body is
	 * released. */
	for (i = 0; i < XG_XFER_SERVES_MAX + 1; i++)
		xg_stream_close(&c[i].st);
	for (i = 0; i < ROUNDS && stats(&f->b).serving > 0; i++)
		assert_int_equal(xg_loop_run_once(f->loop, 10), 0);
	assert_int_equal(stats(&f->b).serving, 0);
	xg_bodystore_get_stats(f->b.bs, &bst);
	assert_int_equal(bst.in_use, 0);
	xg_tls_ctx_free(gamma);
	xg_tls_ctx_free(alpha);
}

static void test_close_releases_served_bodies(void **state)
{
	struct fx *f = *state;
	struct stall c;
	struct xg_tls_ctx *tls = ctx_for("gamma");
	struct xg_bodystore_stats bst;
	int i;

	assert_non_null(tls);
	store(&f->b, 15, BIG);
	stall_start(f, &c, tls, "gamma", 15);
	for (i = 0; i < ROUNDS && stats(&f->b).serving < 1; i++)
		assert_int_equal(xg_loop_run_once(f->loop, 10), 0);
	xg_bodystore_get_stats(f->b.bs, &bst);
	assert_int_equal(bst.in_use, 1);
	/* Closing the transfers drops the serve and gives the body back
	 * before the store goes. */
	xg_xfer_close(f->b.x);
	f->b.x = NULL;
	xg_bodystore_get_stats(f->b.bs, &bst);
	assert_int_equal(bst.in_use, 0);
	assert_int_equal(f->b.pp.nconns, 0);
	xg_stream_close(&c.st);
	xg_tls_ctx_free(tls);
}

/* --- flow control, queues, deadlines ----------------------------------- */

static void test_fetch_queue(void **state)
{
	struct fx *f = *state;
	struct got r[XG_XFER_FETCHES_MAX + XG_XFER_QUEUE_MAX + 1];
	struct xg_xfer_stats st;
	struct xg_addr to;
	uint64_t d, t0;
	uint8_t id[16];
	int i, lfd = silent_listener(&to), cancelled = 0, timedout = 0;
	int n = XG_XFER_FETCHES_MAX + XG_XFER_QUEUE_MAX;

	memset(r, 0, sizeof(r));
	mkid(id, 16);
	t0 = xg_now_mono_ns();
	for (i = 0; i < n; i++)
		assert_int_equal(xg_xfer_fetch(f->a.x, &to, "beta", id, 10,
					       big_sha, on_fetched, &r[i]), 0);
	/* The queue is bounded. */
	assert_int_equal(xg_xfer_fetch(f->a.x, &to, "beta", id, 10, big_sha,
				       on_fetched, &r[n]), -ENOBUFS);
	st = stats(&f->a);
	assert_int_equal(st.fetches_running, XG_XFER_FETCHES_MAX);
	assert_int_equal(st.fetches_queued, XG_XFER_QUEUE_MAX);
	assert_int_equal(st.refused_local, 1);
	/* Waiting too long in the queue fails a fetch. */
	d = xg_xfer_next_deadline(f->a.x);
	assert_true(d >= t0 + XG_XFER_QUEUE_WAIT_NS);
	xg_xfer_expire(f->a.x, d - 1);
	assert_int_equal(r[XG_XFER_FETCHES_MAX].calls, 0);
	xg_xfer_expire(f->a.x, d);
	assert_int_equal(r[XG_XFER_FETCHES_MAX].calls, 1);
	assert_int_equal(r[XG_XFER_FETCHES_MAX].err, -ETIMEDOUT);
	/* A running one times out: the head of the queue takes its place
	 * (FIFO). */
	xg_pp_expire(&f->a.pp, xg_pp_next_deadline(&f->a.pp));
	st = stats(&f->a);
	assert_true(r[0].calls + r[1].calls + r[2].calls + r[3].calls >= 1);
	assert_int_equal(st.fetches_running, XG_XFER_FETCHES_MAX);
	assert_true(st.fetches_queued < XG_XFER_QUEUE_MAX - 1);
	/* Shutting down cancels the rest, each exactly once. */
	xg_xfer_close(f->a.x);
	f->a.x = NULL;
	for (i = 0; i < n; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_null(r[i].body);
		cancelled += r[i].err == -ECANCELED;
		timedout += r[i].err == -ETIMEDOUT;
	}
	assert_int_equal(cancelled + timedout, n);
	assert_true(timedout >= 2);
	assert_int_equal(f->a.pp.nconns, 0);
	close(lfd);
}

static void test_unicast_memory_bound(void **state)
{
	struct fx *f = *state;
	struct sent s[5];
	struct xg_addr to;
	uint8_t id[16];
	int i, lfd = silent_listener(&to);

	memset(s, 0, sizeof(s));
	mkid(id, 17);
	for (i = 0; i < 4; i++)
		assert_int_equal(xg_xfer_unicast(f->a.x, &to, "beta", id, "t",
						 big, BIG, on_sent, &s[i]), 0);
	/* 4 × 16 MiB of copies held: not one byte more. */
	assert_int_equal(xg_xfer_unicast(f->a.x, &to, "beta", id, "t", "x", 1,
					 on_sent, &s[4]), -ENOBUFS);
	assert_int_equal(stats(&f->a).unicast_bytes, 4ULL * BIG);
	/* Too large for max_payload at all. */
	assert_int_equal(xg_xfer_unicast(f->a.x, &to, "beta", id, "t", big,
					 BIG + 1, on_sent, &s[4]), -EMSGSIZE);
	/* Bad topics. */
	assert_int_equal(xg_xfer_unicast(f->a.x, &to, "beta", id, "", "x", 1,
					 on_sent, &s[4]), -EINVAL);
	assert_int_equal(xg_xfer_unicast(f->a.x, &to, "beta", id, "a\nb", "x",
					 1, on_sent, &s[4]), -EINVAL);
	xg_xfer_close(f->a.x);
	f->a.x = NULL;
	for (i = 0; i < 4; i++) {
		assert_int_equal(s[i].calls, 1);
		assert_int_equal(s[i].err, -ECANCELED);
	}
	assert_int_equal(s[4].calls, 0);
	close(lfd);
}

/* Four 16 MiB unicasts at once from two members: the receiver holds at
 * most XG_PP_RX_BODY_BUDGET of them and makes the others wait (TCP holds
 * their senders back) rather than drop them. */
static void test_unicast_backpressure(void **state)
{
	struct fx *f = *state;
	struct node g;
	struct sent s[4];
	uint8_t id[16];
	int i, done = 0;

	memset(s, 0, sizeof(s));
	node_start(&g, f->loop, 3, "gamma", "gamma", 0x5a);
	for (i = 0; i < 4; i++) {
		mkid(id, 40 + (unsigned)i);
		assert_int_equal(xg_xfer_unicast(i & 1 ? g.x : f->a.x,
						 &f->b.addr, "beta", id, "t",
						 big, BIG, on_sent, &s[i]), 0);
	}
	for (i = 0; i < ROUNDS && done < 4; i++) {
		assert_int_equal(xg_loop_run_once(f->loop, 100), 0);
		done = s[0].calls + s[1].calls + s[2].calls + s[3].calls;
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(s[i].calls, 1);
		assert_int_equal(s[i].err, 0);
	}
	assert_int_equal(f->b.calls, 4);
	assert_int_equal(f->b.good, 4);
	assert_true(f->b.pp.stats.body_waits > 0);
	node_stop(&g);
}

/* --- pushpull underneath ----------------------------------------------- */

struct probe {
	int      done, err;
	size_t   chunks, max_chunk;
	uint8_t *body;
	size_t   len;
	struct node *n;
};

static ssize_t probe_reply(void *ctx, const uint8_t *reply, size_t len)
{
	struct probe *p = ctx;
	struct xg_xfer_msg m;
	int err = xg_xfer_decode(&p->n->kr, OC_CLUSTER, reply, len, &m);

	if (err)
		return err;
	return m.status ? m.status : (ssize_t)m.body_len;
}

static void probe_bytes(void *ctx, const uint8_t *b, size_t n)
{
	struct probe *p = ctx;

	(void)b;
	p->chunks++;
	if (n > p->max_chunk)
		p->max_chunk = n;
}

static void probe_done(void *ctx, int err, uint8_t *body, size_t len)
{
	struct probe *p = ctx;

	p->done++;
	p->err = err;
	p->body = body;
	p->len = len;
}

/* A FETCH through xg_pp_ask: the body arrives in slices of at most
 * XG_PP_SLICE, and is handed over whole. */
static void test_pp_ask_slices(void **state)
{
	struct fx *f = *state;
	struct xg_xfer_msg m = { .type = XG_T_FETCH, .sender_id = 1 };
	struct probe p = { .n = &f->a };
	uint8_t frame[XG_XFER_FRAME_MAX];
	struct xg_pp_ask ask = {
		.expect_name = "beta",
		.frame = frame,
		.body_max = BIG,
		.reply_max = XG_XFER_FRAME_MAX,
		.on_reply = probe_reply,
		.on_body_bytes = probe_bytes,
		.on_done = probe_done,
		.ctx = &p,
	};
	ssize_t n;

	store(&f->b, 18, BIG);
	mkid(m.id, 18);
	strcpy(m.name, "alpha");
	n = xg_xfer_encode(&f->a.kr, OC_CLUSTER, &m, frame, sizeof(frame));
	assert_true(n > 0);
	ask.len = (size_t)n;
	assert_int_equal(xg_pp_ask(&f->a.pp, &f->b.addr, &ask, NULL), 0);
	run_until(f->loop, &p.done);
	assert_int_equal(p.err, 0);
	assert_int_equal(p.len, BIG);
	assert_memory_equal(p.body, big, BIG);
	assert_true(p.max_chunk <= XG_PP_SLICE);
	assert_true(p.chunks >= BIG / XG_PP_SLICE);
	assert_int_equal(f->b.pp.stats.served, 1);
	free(p.body);
	/* A body larger than the asker allows is refused unread. */
	memset(&p, 0, sizeof(p));
	p.n = &f->a;
	ask.body_max = BIG - 1;
	assert_int_equal(xg_pp_ask(&f->a.pp, &f->b.addr, &ask, NULL), 0);
	run_until(f->loop, &p.done);
	assert_int_equal(p.err, -EMSGSIZE);
	assert_null(p.body);
}

struct reply {
	int     calls, err;
	uint8_t data[64];
	size_t  len;
};

static void on_reply(void *ctx, const struct xg_addr *peer, int err,
		     const uint8_t *frame, size_t len)
{
	struct reply *r = ctx;

	(void)peer;
	r->calls++;
	r->err = err;
	if (!err && len <= sizeof(r->data)) {
		memcpy(r->data, frame, len);
		r->len = len;
	}
}

static ssize_t echo_serve(void *ctx, const uint8_t *req, size_t len,
			  uint8_t *out, size_t cap)
{
	(void)ctx;
	if (len > cap)
		return -ENOSPC;
	memcpy(out, req, len);
	out[5] = 0xee;
	return (ssize_t)len;
}

/* The simple server of struct xg_pp (KEYOP's) still works next to the
 * registered services, with xg_pp_request as its client. */
static void test_simple_server_coexists(void **state)
{
	struct fx *f = *state;
	struct reply r = { 0 };
	uint8_t frame[40] = { 0x58, 0x47, 1, XG_T_KEYOP };
	int i;

	for (i = 0; i < 8; i++)
		frame[8 + i] = (uint8_t)(OC_CLUSTER >> (56 - 8 * i));
	frame[30] = 0x33;
	f->b.pp.serve_type = XG_T_KEYOP;
	f->b.pp.serve = echo_serve;
	assert_int_equal(xg_pp_request(&f->a.pp, &f->b.addr, "beta", frame,
				       sizeof(frame), on_reply, &r), 0);
	run_until(f->loop, &r.calls);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.len, sizeof(frame));
	assert_int_equal(r.data[5], 0xee);
	assert_int_equal(r.data[30], 0x33);
	/* A type nobody serves is refused. */
	memset(&r, 0, sizeof(r));
	f->b.pp.serve = NULL;
	assert_int_equal(xg_pp_request(&f->a.pp, &f->b.addr, "beta", frame,
				       sizeof(frame), on_reply, &r), 0);
	run_until(f->loop, &r.calls);
	assert_true(r.err < 0);
}

static int dummy_handle(void *ctx, struct xg_pp_call *call)
{
	(void)ctx;
	(void)call;
	return -EIO;
}

static void test_serve_registry(void **state)
{
	struct fx *f = *state;
	struct xg_pp_service svc = {
		.type = XG_T_UNICAST,
		.max_req = 256,
		.max_reply = 256,
		.handle = dummy_handle,
	};

	/* xfer holds UNICAST and FETCH already. */
	assert_int_equal(xg_pp_serve(&f->a.pp, &svc), -EEXIST);
	svc.type = XG_T_STATE;
	assert_int_equal(xg_pp_serve(&f->a.pp, &svc), -EINVAL);
	svc.type = 100;
	svc.handle = NULL;
	assert_int_equal(xg_pp_serve(&f->a.pp, &svc), -EINVAL);
	svc.handle = dummy_handle;
	assert_int_equal(xg_pp_serve(&f->a.pp, &svc), 0);
	assert_int_equal(xg_pp_serve(&f->a.pp, &svc), -EEXIST);
	xg_pp_unserve(&f->a.pp, 100);
	assert_int_equal(xg_pp_serve(&f->a.pp, &svc), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_unicast_delivered),
		T(test_unicast_empty_payload),
		T(test_unicast_16mib),
		T(test_unicast_refused_by_hook),
		T(test_unicast_closed_port),
		T(test_unicast_deadline),
		T(test_unicast_wrong_target_name),
		T(test_sender_posing_as_another),
		T(test_other_keyring_refused),
		T(test_fetch_16mib),
		T(test_fetch_wrong_sha),
		T(test_fetch_wrong_size),
		T(test_fetch_missing),
		T(test_fetch_busy),
		T(test_close_releases_served_bodies),
		T(test_fetch_queue),
		T(test_unicast_memory_bound),
		T(test_unicast_backpressure),
		T(test_pp_ask_slices),
		T(test_simple_server_coexists),
		T(test_serve_registry),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
