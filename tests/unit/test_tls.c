/* SPDX-License-Identifier: MIT */
/*
 * TLS under the framed stream (agent/net/tls.c) over a non-blocking
 * socketpair: both ends live in this one thread, and every exchange is a
 * bounded loop of alternating calls, so a call that blocked or a loop
 * that never finished shows up as a failure (the alarm below), not a hang.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ssl.h>

#include "net/stream.h"
#include "net/tls.h"
#include "net/tls_int.h" /* to wrap hand-made SSL_CTXs for odd clients */
#include "util/certs.h"

#define MAX_FRAME (2u << 20)
#define DEADLINE  1000
#define ROUNDS    10000 /* far more than any exchange here needs */

/* Certificates shared by all tests: made once, they are slow-ish. */
static char dir[64];

struct fx {
	struct xg_tls_ctx *a, *b; /* node "a" and node "b", cluster CA */
	struct xg_stream   cli, srv;
};

static void path(char *out, size_t len, const char *file)
{
	snprintf(out, len, "%s/%s", dir, file);
}

static struct xg_tls_ctx *ctx_for(const char *ca, const char *name,
				  const char *sub)
{
	char cap[128], cert[160], key[160], err[256];
	struct xg_tls_ctx *c = NULL;
	char base[64];

	snprintf(base, sizeof(base), "%s%s", sub, name);
	path(cap, sizeof(cap), ca);
	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, base);
	snprintf(key, sizeof(key), "%s/%s-key.pem", dir, base);
	if (xg_tls_ctx_new(&c, cap, cert, key, err, sizeof(err))) {
		print_error("xg_tls_ctx_new(%s): %s\n", base, err);
		return NULL;
	}
	return c;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Concatenate two PEM files into a third. */
static int bundle(const char *x, const char *y, const char *out)
{
	char px[128], py[128], po[128], buf[8192];
	const char *in[2] = { px, py };
	FILE *o, *i;
	size_t n, k;

	path(px, sizeof(px), x);
	path(py, sizeof(py), y);
	path(po, sizeof(po), out);
	o = fopen(po, "w");
	if (!o)
		return -1;
	for (k = 0; k < 2; k++) {
		i = fopen(in[k], "r");
		if (!i)
			return -1;
		while ((n = fread(buf, 1, sizeof(buf), i)) > 0)
			fwrite(buf, 1, n, o);
		fclose(i);
	}
	return fclose(o);
}

static int group_setup(void **state)
{
	static const char *const names[] = { "a", "b", "198.18.0.9" };
	static const char *const other[] = { "a" };
	char err[256], sub[96];

	(void)state;
	/* A call that blocks fails the run instead of hanging it. */
	alarm(60);
	strcpy(dir, "/tmp/xg-tls-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sub, sizeof(sub), "%s/other", dir);
	if (xg_certs_init(dir, names, 3, 30, err, sizeof(err)) ||
	    xg_certs_init(sub, other, 1, 30, err, sizeof(err))) {
		print_error("xg_certs_init: %s\n", err);
		return -1;
	}
	/* Trusts both CAs: lets a node with the other CA's certificate
	 * accept our servers and load its own certificate. */
	return bundle("ca.pem", "other/ca.pem", "both-ca.pem");
}

static int group_teardown(void **state)
{
	(void)state;
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	xg_stream_init(&f->cli, sv[0], MAX_FRAME, DEADLINE);
	xg_stream_init(&f->srv, sv[1], MAX_FRAME, DEADLINE);
	f->a = ctx_for("ca.pem", "a", "");
	f->b = ctx_for("ca.pem", "b", "");
	if (!f->a || !f->b)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xg_stream_close(&f->cli);
	xg_stream_close(&f->srv);
	xg_tls_ctx_free(f->a);
	xg_tls_ctx_free(f->b);
	free(f);
	return 0;
}

/* XG_TEST_VERBOSE=1 shows the failure texts an operator would read. */
static void show(const char *what, const struct xg_stream *s)
{
	if (getenv("XG_TEST_VERBOSE"))
		fprintf(stderr, "  %s: %s\n", what, xg_tls_last_error(s));
}

/* Alternate handshake calls on both ends until neither says -EAGAIN. */
static void handshake(struct fx *f, int *rc, int *rs)
{
	int i;

	*rc = *rs = -EAGAIN;
	for (i = 0; i < ROUNDS && (*rc == -EAGAIN || *rs == -EAGAIN); i++) {
		if (*rc == -EAGAIN)
			*rc = xg_stream_handshake(&f->cli);
		if (*rs == -EAGAIN)
			*rs = xg_stream_handshake(&f->srv);
	}
}

static void attach(struct fx *f, struct xg_tls_ctx *cli,
		   struct xg_tls_ctx *srv)
{
	assert_int_equal(xg_tls_attach(&f->cli, cli, false), 0);
	assert_int_equal(xg_tls_attach(&f->srv, srv, true), 0);
}

/* Send one frame from one end, flushing and receiving alternately until
 * the other end has it; returns the receiver's last result. */
static int transfer(struct xg_stream *from, struct xg_stream *to,
		    const uint8_t *data, size_t len)
{
	const uint8_t *p;
	size_t got;
	int i, fl = -EAGAIN, r = -EAGAIN;

	assert_int_equal(xg_stream_send(from, data, len), 0);
	for (i = 0; i < ROUNDS; i++) {
		if (fl == -EAGAIN)
			fl = xg_stream_flush(from);
		if (fl != 0 && fl != -EAGAIN)
			return fl;
		r = xg_stream_recv(to, &p, &got);
		if (r != -EAGAIN)
			break;
	}
	if (r == 1) {
		assert_int_equal(got, len);
		assert_memory_equal(p, data, len);
		/* the sender has nothing left over */
		assert_int_equal(xg_stream_flush(from), 0);
	}
	return r;
}

static int client_outcome(struct fx *f, int rc)
{
	const uint8_t *p;
	size_t len;
	int i;

	for (i = 0; i < ROUNDS && (rc == 0 || rc == -EAGAIN); i++)
		rc = xg_stream_recv(&f->cli, &p, &len);
	return rc;
}

static void test_handshake_and_frames(void **state)
{
	struct fx *f = *state;
	uint8_t *big = malloc(1u << 20), peek[4096];
	char name[64];
	const uint8_t *p;
	size_t i, len;
	ssize_t n;
	int rc, rs, r;

	assert_non_null(big);
	for (i = 0; i < (1u << 20); i++)
		big[i] = (uint8_t)(i * 131 + (i >> 9));
	attach(f, f->a, f->b);
	assert_false(xg_tls_handshake_done(&f->cli));
	assert_false(xg_tls_peer_is(&f->cli, "b"));
	handshake(f, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_true(xg_tls_handshake_done(&f->cli));
	assert_true(xg_tls_handshake_done(&f->srv));
	assert_string_equal(xg_tls_last_error(&f->cli), "");
	assert_int_equal(recv(f->cli.fd, peek, 1, MSG_PEEK), -1);
	assert_int_equal(errno, EAGAIN);

	/* The server's session ticket goes ahead of its first frame; the
	 * client reads past it. */
	assert_int_equal(xg_stream_send(&f->srv, "yo", 2), 0);
	assert_int_equal(xg_stream_flush(&f->srv), 0);
	n = recv(f->cli.fd, peek, sizeof(peek), MSG_PEEK);
	assert_true(n >= 5);
	assert_int_equal(peek[0], 23); /* application data */
	assert_false(xg_tls_resumed(&f->cli));
	r = -EAGAIN;
	for (i = 0; i < ROUNDS && r == -EAGAIN; i++)
		r = xg_stream_recv(&f->cli, &p, &len);
	assert_int_equal(r, 1);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "yo", 2);
	assert_int_equal(transfer(&f->cli, &f->srv, (const uint8_t *)"hi", 2),
			 1);
	assert_int_equal(transfer(&f->cli, &f->srv, big, 1u << 20), 1);
	assert_int_equal(transfer(&f->srv, &f->cli, big, 1u << 20), 1);
	assert_int_equal(transfer(&f->cli, &f->srv, big, 0), 1);

	/* who is who: each side sees the other's name, only that */
	assert_true(xg_tls_peer_is(&f->cli, "b"));
	assert_false(xg_tls_peer_is(&f->cli, "a"));
	assert_false(xg_tls_peer_is(&f->cli, ""));
	assert_false(xg_tls_peer_is(&f->cli, "198.18.0.9"));
	assert_true(xg_tls_peer_is(&f->srv, "a"));
	assert_false(xg_tls_peer_is(&f->srv, "b"));
	assert_int_equal(xg_tls_peer_name(&f->cli, name, sizeof(name)), 0);
	assert_string_equal(name, "b");
	assert_int_equal(xg_tls_peer_name(&f->srv, name, sizeof(name)), 0);
	assert_string_equal(name, "a");
	assert_int_equal(xg_tls_peer_name(&f->srv, name, 1), -ENOSPC);
	assert_string_equal(name, "");
	free(big);
}

static void test_peer_named_by_ip(void **state)
{
	struct fx *f = *state;
	struct xg_tls_ctx *ip = ctx_for("ca.pem", "198.18.0.9", "");
	int rc, rs;

	assert_non_null(ip);
	attach(f, f->a, ip);
	handshake(f, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_true(xg_tls_peer_is(&f->cli, "198.18.0.9"));
	assert_false(xg_tls_peer_is(&f->cli, "198.18.0.8"));
	assert_false(xg_tls_peer_is(&f->cli, "::1"));
	xg_tls_ctx_free(ip);
}

/* A certificate of another cluster's CA: the server refuses it, the
 * client learns it from the server's alert. */
static void test_client_from_other_ca_refused(void **state)
{
	struct fx *f = *state;
	struct xg_tls_ctx *alien = ctx_for("both-ca.pem", "a", "other/");
	int rc, rs;

	assert_non_null(alien);
	attach(f, alien, f->b);
	handshake(f, &rc, &rs);
	assert_int_equal(rs, -EACCES);
	assert_non_null(strstr(xg_tls_last_error(&f->srv), "verify"));
	assert_non_null(strstr(xg_tls_last_error(&f->srv),
			       "unable to get local issuer certificate"));
	assert_false(xg_tls_handshake_done(&f->srv));
	assert_false(xg_tls_peer_is(&f->srv, "a"));
	/* TLS 1.3: the client's part was over before the server judged it;
	 * the server's alert reaches it on its next read */
	rc = client_outcome(f, rc);
	assert_int_equal(rc, -EACCES);
	assert_non_null(strstr(xg_tls_last_error(&f->cli), "verify"));
	assert_false(xg_tls_handshake_done(&f->cli));
	/* broken for good */
	assert_int_equal(xg_stream_send(&f->cli, "x", 1), 0);
	assert_int_equal(xg_stream_flush(&f->cli), -EACCES);
	assert_int_equal(xg_stream_handshake(&f->srv), -EACCES);
	show("server", &f->srv);
	show("client", &f->cli);
	xg_tls_ctx_free(alien);
}

/* The server certificate says "b" where "a" was expected: TLS itself is
 * content (same CA), the name check is not. */
static void test_wrong_name_detected_after_handshake(void **state)
{
	struct fx *f = *state;
	int rc, rs;

	attach(f, f->a, f->b);
	handshake(f, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_false(xg_tls_peer_is(&f->cli, "a"));
	assert_true(xg_tls_peer_is(&f->cli, "b"));
}

/* An SSL_CTX built by hand for a client xg_tls_ctx_new would not make. */
static struct xg_tls_ctx *raw_client(uint16_t max_version, bool with_cert)
{
	struct xg_tls_ctx *c = calloc(1, sizeof(*c));
	char p[128];

	assert_non_null(c);
	c->ssl = SSL_CTX_new(TLS_method());
	assert_non_null(c->ssl);
	assert_int_equal(SSL_CTX_set_min_proto_version(c->ssl,
						       TLS1_2_VERSION), 1);
	assert_int_equal(SSL_CTX_set_max_proto_version(c->ssl, max_version),
			 1);
	path(p, sizeof(p), "ca.pem");
	assert_int_equal(SSL_CTX_load_verify_locations(c->ssl, p, NULL), 1);
	SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
	if (with_cert) {
		path(p, sizeof(p), "a.pem");
		assert_int_equal(SSL_CTX_use_certificate_chain_file(c->ssl, p),
				 1);
		path(p, sizeof(p), "a-key.pem");
		assert_int_equal(SSL_CTX_use_PrivateKey_file(c->ssl, p,
							     SSL_FILETYPE_PEM),
				 1);
	}
	return c;
}

static void test_missing_client_cert_refused(void **state)
{
	struct fx *f = *state;
	struct xg_tls_ctx *anon = raw_client(TLS1_3_VERSION, false);
	int rc, rs;

	attach(f, anon, f->b);
	handshake(f, &rc, &rs);
	assert_int_equal(rs, -EACCES);
	assert_non_null(strstr(xg_tls_last_error(&f->srv), "no certificate"));
	assert_int_equal(client_outcome(f, rc), -EACCES);
	assert_non_null(strstr(xg_tls_last_error(&f->cli), "certificate"));
	show("server", &f->srv);
	show("client", &f->cli);
	xg_tls_ctx_free(anon);
}

static void test_tls12_client_refused(void **state)
{
	struct fx *f = *state;
	struct xg_tls_ctx *old = raw_client(TLS1_2_VERSION, true);
	int rc, rs;

	attach(f, old, f->b);
	handshake(f, &rc, &rs);
	assert_int_equal(rs, -EPROTO);
	assert_non_null(strstr(xg_tls_last_error(&f->srv), "TLS 1.3"));
	assert_int_equal(client_outcome(f, rc), -EPROTO);
	show("server", &f->srv);
	show("client", &f->cli);
	xg_tls_ctx_free(old);
}

/* Plain framing sent to a TLS server is a protocol error, not a frame. */
static void test_plain_client_refused(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;
	int i, r = -EAGAIN;

	assert_int_equal(xg_tls_attach(&f->srv, f->b, true), 0);
	assert_int_equal(xg_stream_send(&f->cli, "GET / HTTP/1.0\r\n\r\n",
					18), 0);
	assert_int_equal(xg_stream_flush(&f->cli), 0);
	for (i = 0; i < ROUNDS && r == -EAGAIN; i++)
		r = xg_stream_recv(&f->srv, &p, &len);
	assert_int_equal(r, -EPROTO);
	show("server", &f->srv);
	assert_non_null(strstr(xg_tls_last_error(&f->srv), "TLS error"));
}

/* A peer that never speaks keeps the other end at -EAGAIN, waiting for
 * input, until the owner's deadline check drops it.  Every call here is
 * on a non-blocking socket; one that blocked would trip the alarm. */
static void test_silent_peer_bounded_by_deadline(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;
	int i;

	attach(f, f->a, f->b);
	for (i = 0; i < 100; i++) {
		assert_int_equal(xg_stream_handshake(&f->srv), -EAGAIN);
		assert_int_equal(xg_stream_recv(&f->srv, &p, &len), -EAGAIN);
		assert_int_equal(xg_stream_wait_events(&f->srv, EPOLLOUT),
				 EPOLLIN);
		assert_false(xg_stream_expired(&f->srv, DEADLINE - 1));
	}
	assert_true(xg_stream_expired(&f->srv, DEADLINE));
	assert_false(xg_tls_handshake_done(&f->srv));

	/* a client whose server is silent: ClientHello out, then waiting */
	assert_int_equal(xg_stream_handshake(&f->cli), -EAGAIN);
	assert_int_equal(xg_stream_handshake(&f->cli), -EAGAIN);
	assert_int_equal(xg_stream_wait_events(&f->cli, EPOLLOUT), EPOLLIN);
	assert_true(xg_stream_expired(&f->cli, DEADLINE));
}

/* A read that has to write (the server's handshake flight) while the
 * socket is full reports -EAGAIN and asks for EPOLLOUT, then carries on. */
static void test_read_waiting_to_write(void **state)
{
	struct fx *f = *state;
	uint8_t junk[4096], sink[4096];
	const uint8_t *p;
	size_t len, filled = 0, drained = 0;
	ssize_t n;
	int rc, rs;

	memset(junk, 0x5a, sizeof(junk));
	attach(f, f->a, f->b);
	assert_int_equal(xg_stream_handshake(&f->cli), -EAGAIN);
	/* fill server -> client completely, below TLS */
	while ((n = write(f->srv.fd, junk, sizeof(junk))) > 0)
		filled += (size_t)n;
	while ((n = write(f->srv.fd, junk, 1)) > 0)
		filled += (size_t)n;
	assert_int_equal(errno, EAGAIN);

	assert_int_equal(xg_stream_recv(&f->srv, &p, &len), -EAGAIN);
	assert_int_equal(xg_stream_wait_events(&f->srv, EPOLLIN), EPOLLOUT);

	while ((n = read(f->cli.fd, sink, sizeof(sink))) > 0)
		drained += (size_t)n;
	assert_int_equal(drained, filled);

	handshake(f, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_int_equal(xg_stream_wait_events(&f->srv, EPOLLIN), EPOLLIN);
	assert_int_equal(transfer(&f->cli, &f->srv, (const uint8_t *)"ok", 2),
			 1);
}

/* A write blocked by a full socket asks for EPOLLOUT, like plain TCP. */
static void test_write_waits_for_room(void **state)
{
	struct fx *f = *state;
	uint8_t *big = calloc(1, 1u << 20);
	const uint8_t *p;
	size_t len;
	int rc, rs, i, got = 0, fl = -EAGAIN, r;

	assert_non_null(big);
	attach(f, f->a, f->b);
	handshake(f, &rc, &rs);
	assert_int_equal(rs, 0);
	assert_int_equal(xg_stream_send(&f->srv, big, 1u << 20), 0);
	assert_int_equal(xg_stream_flush(&f->srv), -EAGAIN);
	assert_int_equal(xg_stream_wait_events(&f->srv, EPOLLOUT), EPOLLOUT);
	/* a reserve between retries may move the buffer */
	assert_int_equal(xg_stream_send(&f->srv, "tail", 4), 0);
	for (i = 0; i < ROUNDS && got < 2; i++) {
		if (fl == -EAGAIN)
			fl = xg_stream_flush(&f->srv);
		r = xg_stream_recv(&f->cli, &p, &len);
		if (r == -EAGAIN)
			continue;
		assert_int_equal(r, 1);
		assert_int_equal(len, got ? 4 : 1u << 20);
		got++;
	}
	assert_int_equal(got, 2);
	assert_memory_equal(p, "tail", 4);
	assert_int_equal(fl, 0);
	free(big);
}

/* Two frames in one TLS record: the second is already out of the socket,
 * inside TLS, and is returned by the next call without any more input. */
static void test_frames_buffered_inside_tls(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;
	int rc, rs, i, r = -EAGAIN;

	attach(f, f->a, f->b);
	handshake(f, &rc, &rs);
	assert_int_equal(rs, 0);
	assert_int_equal(xg_stream_send(&f->cli, "one", 3), 0);
	assert_int_equal(xg_stream_send(&f->cli, "two", 3), 0);
	assert_int_equal(xg_stream_flush(&f->cli), 0);
	for (i = 0; i < ROUNDS && r == -EAGAIN; i++)
		r = xg_stream_recv(&f->srv, &p, &len);
	assert_int_equal(r, 1);
	assert_memory_equal(p, "one", 3);
	assert_int_equal(xg_stream_recv(&f->srv, &p, &len), 1);
	assert_memory_equal(p, "two", 3);
	assert_int_equal(xg_stream_recv(&f->srv, &p, &len), -EAGAIN);
}

/* The context may be freed (a reload) while its streams are open. */
static void test_ctx_freed_while_streams_open(void **state)
{
	struct fx *f = *state;
	struct xg_tls_ctx *c1 = ctx_for("ca.pem", "a", "");
	struct xg_tls_ctx *c2 = ctx_for("ca.pem", "b", "");
	int rc, rs;

	assert_non_null(c1);
	assert_non_null(c2);
	attach(f, c1, c2);
	xg_tls_ctx_free(c1);
	xg_tls_ctx_free(c2);
	handshake(f, &rc, &rs);
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	assert_int_equal(transfer(&f->cli, &f->srv, (const uint8_t *)"r", 1),
			 1);
	assert_int_equal(transfer(&f->srv, &f->cli, (const uint8_t *)"s", 1),
			 1);
	assert_true(xg_tls_peer_is(&f->cli, "b"));
}

/* One exchange over a fresh pair of streams with the given peer key. */
static void exchange(struct xg_tls_ctx *cli, struct xg_tls_ctx *srv,
		     const char *peer, bool *resumed)
{
	struct xg_stream c, s;
	int sv[2], i, rc = -EAGAIN, rs = -EAGAIN;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	xg_stream_init(&c, sv[0], MAX_FRAME, DEADLINE);
	xg_stream_init(&s, sv[1], MAX_FRAME, DEADLINE);
	assert_int_equal(xg_tls_attach_peer(&c, cli, false, peer), 0);
	assert_int_equal(xg_tls_attach(&s, srv, true), 0);
	for (i = 0; i < ROUNDS && (rc == -EAGAIN || rs == -EAGAIN); i++) {
		if (rc == -EAGAIN)
			rc = xg_stream_handshake(&c);
		if (rs == -EAGAIN)
			rs = xg_stream_handshake(&s);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(rs, 0);
	/* A frame each way: the client reads the server's ticket here. */
	assert_int_equal(transfer(&c, &s, (const uint8_t *)"q", 1), 1);
	assert_int_equal(transfer(&s, &c, (const uint8_t *)"r", 1), 1);
	/* Resumed or not, each side still knows who the other is. */
	assert_true(xg_tls_peer_is(&c, "b"));
	assert_true(xg_tls_peer_is(&s, "a"));
	assert_false(xg_tls_peer_is(&c, "a"));
	*resumed = xg_tls_resumed(&c);
	assert_int_equal(xg_tls_resumed(&s), *resumed);
	xg_stream_close(&c);
	xg_stream_close(&s);
}

/* The second exchange with a peer resumes (no certificates on the wire),
 * a ticket is used once, and another peer key starts from scratch. */
static void test_resumption(void **state)
{
	struct fx *f = *state;
	bool r;

	exchange(f->a, f->b, "198.18.0.2:7946", &r);
	assert_false(r);
	exchange(f->a, f->b, "198.18.0.2:7946", &r);
	assert_true(r);
	exchange(f->a, f->b, "198.18.0.2:7946", &r);
	assert_true(r); /* with the ticket the last exchange brought */
	exchange(f->a, f->b, "198.18.0.3:7946", &r);
	assert_false(r);
	exchange(f->a, f->b, NULL, &r);
	assert_false(r);
}

static void test_clean_close_is_end_of_stream(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;
	int rc, rs, i, r = -EAGAIN;

	attach(f, f->a, f->b);
	handshake(f, &rc, &rs);
	assert_int_equal(rs, 0);
	assert_int_equal(transfer(&f->cli, &f->srv, (const uint8_t *)"x", 1),
			 1);
	xg_stream_close(&f->cli); /* sends close_notify */
	for (i = 0; i < ROUNDS && r == -EAGAIN; i++)
		r = xg_stream_recv(&f->srv, &p, &len);
	assert_int_equal(r, -ENODATA);
}

static void test_plain_stream_unchanged(void **state)
{
	struct fx *f = *state;

	assert_int_equal(xg_stream_handshake(&f->cli), 0);
	assert_int_equal(xg_stream_wait_events(&f->cli, EPOLLOUT), EPOLLOUT);
	assert_int_equal(xg_stream_wait_events(&f->cli, EPOLLIN), EPOLLIN);
	assert_false(xg_tls_handshake_done(&f->cli));
	assert_false(xg_tls_peer_is(&f->cli, "a"));
	assert_string_equal(xg_tls_last_error(&f->cli), "");
	/* attaching twice is refused */
	assert_int_equal(xg_tls_attach(&f->cli, f->a, false), 0);
	assert_int_equal(xg_tls_attach(&f->cli, f->a, false), -EINVAL);
}

static int new_ctx(const char *ca, const char *cert, const char *key,
		   char *err, size_t errlen)
{
	char pca[128], pc[128], pk[128];
	struct xg_tls_ctx *c = NULL;
	int e;

	path(pca, sizeof(pca), ca);
	path(pc, sizeof(pc), cert);
	path(pk, sizeof(pk), key);
	err[0] = '\0';
	e = xg_tls_ctx_new(&c, pca, pc, pk, err, errlen);
	if (getenv("XG_TEST_VERBOSE"))
		fprintf(stderr, "%s %s %s: %d %s\n", ca, cert, key, e, err);
	if (e)
		assert_null(c);
	else
		assert_non_null(c);
	xg_tls_ctx_free(c);
	return e;
}

static void test_ctx_load_errors(void **state)
{
	char err[256], p[128];
	FILE *fp;

	(void)state;
	assert_int_equal(new_ctx("ca.pem", "a.pem", "a-key.pem", err,
				 sizeof(err)), 0);
	assert_int_equal(new_ctx("nope.pem", "a.pem", "a-key.pem", err,
				 sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nope.pem"));
	assert_int_equal(new_ctx("ca.pem", "a.pem", "nope-key.pem", err,
				 sizeof(err)), -ENOENT);
	/* key of another certificate */
	assert_int_equal(new_ctx("ca.pem", "a.pem", "b-key.pem", err,
				 sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not match"));
	/* a certificate our own CA did not sign */
	assert_int_equal(new_ctx("ca.pem", "other/a.pem", "other/a-key.pem",
				 err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not verify"));
	/* a leaf given as CA */
	assert_int_equal(new_ctx("a.pem", "a.pem", "a-key.pem", err,
				 sizeof(err)), -EINVAL);
	/* not PEM at all; the key file's text is never echoed */
	path(p, sizeof(p), "junk.pem");
	fp = fopen(p, "w");
	assert_non_null(fp);
	fputs("SECRET-LOOKING-BYTES\n", fp);
	fclose(fp);
	assert_int_equal(new_ctx("junk.pem", "a.pem", "a-key.pem", err,
				 sizeof(err)), -EINVAL);
	assert_int_equal(new_ctx("ca.pem", "junk.pem", "a-key.pem", err,
				 sizeof(err)), -EINVAL);
	assert_int_equal(new_ctx("ca.pem", "a.pem", "junk.pem", err,
				 sizeof(err)), -EINVAL);
	assert_null(strstr(err, "SECRET"));
	/* a key given as certificate */
	assert_int_equal(new_ctx("ca.pem", "a-key.pem", "a-key.pem", err,
				 sizeof(err)), -EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_handshake_and_frames),
		T(test_peer_named_by_ip),
		T(test_client_from_other_ca_refused),
		T(test_wrong_name_detected_after_handshake),
		T(test_missing_client_cert_refused),
		T(test_tls12_client_refused),
		T(test_plain_client_refused),
		T(test_silent_peer_bounded_by_deadline),
		T(test_read_waiting_to_write),
		T(test_write_waits_for_room),
		T(test_frames_buffered_inside_tls),
		T(test_ctx_freed_while_streams_open),
		T(test_clean_close_is_end_of_stream),
		T(test_resumption),
		T(test_plain_stream_unchanged),
		cmocka_unit_test(test_ctx_load_errors),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
