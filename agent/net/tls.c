/* SPDX-License-Identifier: MIT */
/*
 * The TLS transport of a framed stream: SSL_read/SSL_write in place of
 * recv/send, the handshake run implicitly by whichever comes first, and
 * BoringSSL's outcomes turned into the stream's -errno language.
 */
#include "net/tls.h"
#include "net/tls_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

static const struct xg_stream_ops tls_ops;

static struct xg_tls_conn *conn_of(const struct xg_stream *s)
{
	return s->ops == &tls_ops ? s->transport : NULL;
}

/* Record a fatal failure: every later call on the stream returns it. */
static int broken(struct xg_tls_conn *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int broken(struct xg_tls_conn *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->failed = err;
	c->need = 0;
	ERR_clear_error();
	return err;
}

/* Alerts a peer sends when it does not accept our certificate. */
static bool certificate_alert(int alert)
{
	switch (alert) {
	case SSL_AD_BAD_CERTIFICATE:
	case SSL_AD_UNSUPPORTED_CERTIFICATE:
	case SSL_AD_CERTIFICATE_REVOKED:
	case SSL_AD_CERTIFICATE_EXPIRED:
	case SSL_AD_CERTIFICATE_UNKNOWN:
	case SSL_AD_UNKNOWN_CA:
	case SSL_AD_ACCESS_DENIED:
	case SSL_AD_CERTIFICATE_REQUIRED:
		return true;
	}
	return false;
}

/* SSL_ERROR_SSL: a protocol failure, ours or reported by the peer. */
static int protocol_failure(struct xg_tls_conn *c)
{
	uint32_t e = ERR_peek_error();
	int reason = ERR_GET_LIB(e) == ERR_LIB_SSL ? ERR_GET_REASON(e) : 0;
	int alert = reason - SSL_AD_REASON_OFFSET;
	const char *text;

	if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
		return broken(c, -EACCES, "certificate verify failed: %s",
			      X509_verify_cert_error_string(
				      SSL_get_verify_result(c->ssl)));
	if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
		return broken(c, -EACCES, "certificate verify failed: the "
			      "peer sent no certificate");
	if (alert == SSL_AD_CERTIFICATE_REQUIRED)
		return broken(c, -EACCES, "the peer requires a certificate "
			      "and we sent none (alert: certificate "
			      "required)");
	if (alert >= 0 && alert < 256 && certificate_alert(alert))
		return broken(c, -EACCES, "the peer could not verify our "
			      "certificate (alert: %s)",
			      SSL_alert_desc_string_long(alert));
	if (reason == SSL_R_UNSUPPORTED_PROTOCOL)
		return broken(c, -EPROTO, "the peer does not speak TLS 1.3");
	if (alert == SSL_AD_PROTOCOL_VERSION)
		return broken(c, -EPROTO, "the peer refused our TLS version "
			      "(alert: protocol version)");
	if (alert >= 0 && alert < 256)
		return broken(c, -EPROTO, "the peer sent a TLS alert: %s",
			      SSL_alert_desc_string_long(alert));
	text = e ? ERR_reason_error_string(e) : NULL;
	return broken(c, -EPROTO, "TLS error: %s", text ? text : "unknown");
}

/* Map an SSL call's return value: a byte count, 0 for the end of the
 * stream, -EAGAIN (with c->need set), or a -errno that sticks. */
static int outcome(struct xg_tls_conn *c, int ret)
{
	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_NONE:
		c->need = 0;
		return ret;
	case SSL_ERROR_WANT_READ:
		c->need = EPOLLIN;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		c->need = EPOLLOUT;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		c->need = 0;
		ERR_clear_error();
		return 0; /* close_notify: the framing knows if it came early */
	case SSL_ERROR_SYSCALL:
		if (c->sock_err)
			return broken(c, -c->sock_err, "socket: %s",
				      strerror(c->sock_err));
		if (!SSL_is_init_finished(c->ssl))
			return broken(c, -ECONNRESET, "connection closed "
				      "during the TLS handshake");
		/* A close without close_notify.  Truncation cannot pass for a
		 * whole message: frames carry their length. */
		c->need = 0;
		ERR_clear_error();
		return 0;
	default:
		return protocol_failure(c);
	}
}

/* Every SSL call starts with a clean error queue: SSL_get_error() reads
 * it, and a stale entry from elsewhere would be taken for ours. */
static void before_call(struct xg_tls_conn *c)
{
	ERR_clear_error();
	c->sock_err = 0;
}

static ssize_t tls_read(struct xg_stream *s, void *buf, size_t len)
{
	struct xg_tls_conn *c = s->transport;

	if (c->failed)
		return c->failed;
	before_call(c);
	return outcome(c, SSL_read(c->ssl, buf, len > INT_MAX ? INT_MAX
							       : (int)len));
}

static ssize_t tls_write(struct xg_stream *s, const void *buf, size_t len)
{
	struct xg_tls_conn *c = s->transport;
	int n;

	if (c->failed)
		return c->failed;
	before_call(c);
	n = outcome(c, SSL_write(c->ssl, buf, len > INT_MAX ? INT_MAX
							    : (int)len));
	/* SSL_write never reports an end of stream; 0 would be a bug. */
	return n == 0 ? broken(c, -EIO, "TLS write made no progress") : n;
}

static int tls_handshake(struct xg_stream *s)
{
	struct xg_tls_conn *c = s->transport;
	int ret;

	if (c->failed)
		return c->failed;
	if (SSL_is_init_finished(c->ssl))
		return 0;
	before_call(c);
	ret = SSL_do_handshake(c->ssl);
	if (ret == 1) {
		c->need = 0;
		return 0;
	}
	ret = outcome(c, ret);
	if (ret >= 0) /* an end of stream mid-handshake */
		ret = broken(c, -ECONNRESET, "connection closed during the "
			     "TLS handshake");
	return ret;
}

static uint32_t tls_wait_events(const struct xg_stream *s)
{
	const struct xg_tls_conn *c = s->transport;

	return c->need;
}

static void tls_close(struct xg_stream *s)
{
	struct xg_tls_conn *c = s->transport;

	if (!c)
		return;
	/* One try at close_notify so the peer sees a clean end; the socket is
	 * non-blocking and about to be closed, so there is no waiting for it
	 * and its outcome changes nothing. */
	if (!c->failed && SSL_is_init_finished(c->ssl)) {
		before_call(c);
		SSL_shutdown(c->ssl);
		ERR_clear_error();
	}
	SSL_free(c->ssl);
	SSL_CTX_free(c->ctx);
	X509_free(c->leaf);
	free(c);
	s->transport = NULL;
}

static const struct xg_stream_ops tls_ops = {
	.read        = tls_read,
	.write       = tls_write,
	.close       = tls_close,
	.handshake   = tls_handshake,
	.wait_events = tls_wait_events,
};

int xg_tls_attach(struct xg_stream *s, struct xg_tls_ctx *ctx, bool server)
{
	return xg_tls_attach_peer(s, ctx, server, NULL);
}

int xg_tls_attach_peer(struct xg_stream *s, struct xg_tls_ctx *ctx,
		       bool server, const char *peer)
{
	struct xg_tls_conn *c;
	BIO *bio;

	if (s->ops != &xg_stream_plain_ops || s->transport || s->fd < 0 ||
	    !ctx)
		return -EINVAL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = s->fd;
	c->ssl = SSL_new(ctx->ssl);
	bio = c->ssl ? xg_tls_bio_new(c) : NULL;
	if (!bio) {
		SSL_free(c->ssl);
		free(c);
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_bio(c->ssl, bio, bio); /* the SSL owns the one reference */
	/* SSL_new holds the context too, but only as long as BoringSSL says
	 * so; this reference is the one the reload contract rests on. */
	SSL_CTX_up_ref(ctx->ssl);
	c->ctx = ctx->ssl;
	SSL_set_app_data(c->ssl, c);
	if (server) {
		SSL_set_accept_state(c->ssl);
	} else {
		SSL_set_connect_state(c->ssl);
		xg_tls_sessions_resume(c, peer);
	}
	s->ops = &tls_ops;
	s->transport = c;
	return 0;
}

bool xg_tls_handshake_done(const struct xg_stream *s)
{
	const struct xg_tls_conn *c = conn_of(s);

	return c && !c->failed && SSL_is_init_finished(c->ssl);
}

static bool is_ip_literal(const char *name)
{
	uint8_t a[16];

	return inet_pton(AF_INET, name, a) == 1 ||
	       inet_pton(AF_INET6, name, a) == 1;
}

bool xg_tls_peer_is(const struct xg_stream *s, const char *name)
{
	const struct xg_tls_conn *c = conn_of(s);
	X509 *peer;
	bool ok;

	if (!name || !*name || !xg_tls_handshake_done(s))
		return false;
	peer = xg_tls_sessions_peer_cert(c);
	if (!peer)
		return false;
	/* Only subjectAltName counts: a common name is not a host name. */
	ok = X509_check_host(peer, name, strlen(name),
			     X509_CHECK_FLAG_NEVER_CHECK_SUBJECT, NULL) == 1;
	if (!ok && is_ip_literal(name))
		ok = X509_check_ip_asc(peer, name, 0) == 1;
	X509_free(peer);
	ERR_clear_error();
	return ok;
}

/* Copy a DNS name for a log line: anything unprintable becomes '?', so a
 * certificate cannot put control characters into our logs. */
static int copy_printable(char *out, size_t len, const uint8_t *p, size_t n)
{
	size_t i, m = n < len - 1 ? n : len - 1;

	for (i = 0; i < m; i++)
		out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	out[m] = '\0';
	return m < n ? -ENOSPC : 0;
}

int xg_tls_peer_name(const struct xg_stream *s, char *out, size_t len)
{
	const struct xg_tls_conn *c = conn_of(s);
	GENERAL_NAMES *names;
	X509 *peer;
	size_t i;
	int e = 0;

	if (!len)
		return -ENOSPC;
	out[0] = '\0';
	if (!xg_tls_handshake_done(s))
		return -ENOTCONN;
	peer = xg_tls_sessions_peer_cert(c);
	if (!peer)
		return -ENOTCONN;
	names = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
	for (i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);

		if (g->type != GEN_DNS)
			continue;
		e = copy_printable(out, len, ASN1_STRING_get0_data(g->d.dNSName),
				   (size_t)ASN1_STRING_length(g->d.dNSName));
		break;
	}
	GENERAL_NAMES_free(names);
	X509_free(peer);
	ERR_clear_error();
	return e;
}

const char *xg_tls_last_error(const struct xg_stream *s)
{
	const struct xg_tls_conn *c = conn_of(s);

	return c ? c->why : "";
}

bool xg_tls_resumed(const struct xg_stream *s)
{
	const struct xg_tls_conn *c = conn_of(s);

	return c && SSL_session_reused(c->ssl);
}
