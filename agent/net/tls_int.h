/* SPDX-License-Identifier: MIT */
/* What tls.c and tls_ctx.c share (not for other users of net/tls.h). */
#ifndef XGOSSIP_NET_TLS_INT_H
#define XGOSSIP_NET_TLS_INT_H

#include <stdint.h>

#include <openssl/ssl.h>

#define XG_TLS_PEER_KEY 64

struct xg_tls_ctx {
	SSL_CTX *ssl;
};

/* The per-stream state under struct xg_stream's transport pointer. */
struct xg_tls_conn {
	SSL     *ssl;
	SSL_CTX *ctx;      /* our own reference: the xg_tls_ctx may go away */
	int      fd;
	int      sock_err; /* errno of the last failed socket call, or 0 */
	uint32_t need;     /* EPOLLIN/EPOLLOUT while blocked, else 0 */
	int      failed;   /* sticky -errno once the session is broken */
	char     why[200];
	char     peer[XG_TLS_PEER_KEY]; /* client: whose ticket to keep */
	X509    *leaf;     /* the peer certificate verified on this conn */
};

/* tls_session.c: resumption.  enable() on a new context; resume() on a
 * client conn before its handshake, with the peer's address as key. */
int  xg_tls_sessions_enable(SSL_CTX *ctx);
void xg_tls_sessions_resume(struct xg_tls_conn *conn, const char *peer);
/* The peer's certificate (a reference the caller frees), also for a
 * resumed session on the server side; NULL if unknown. */
X509 *xg_tls_sessions_peer_cert(const struct xg_tls_conn *conn);
/* Verify callback for SSL_CTX_set_verify (records the peer certificate). */
int  xg_tls_sessions_verify_cb(int ok, X509_STORE_CTX *store);

/* A BIO over conn's socket: send() with MSG_NOSIGNAL (a library must not
 * raise SIGPIPE in its host), errno kept in conn->sock_err.  NULL on
 * allocation failure. */
BIO *xg_tls_bio_new(struct xg_tls_conn *conn);

#endif /* XGOSSIP_NET_TLS_INT_H */
