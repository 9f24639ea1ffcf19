/* SPDX-License-Identifier: MIT */
/* What tls.c and tls_ctx.c share (not for other users of net/tls.h). */
#ifndef XGOSSIP_NET_TLS_INT_H
#define XGOSSIP_NET_TLS_INT_H

#include <stdint.h>

#include <openssl/ssl.h>

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
};

/* A BIO over conn's socket: send() with MSG_NOSIGNAL (a library must not
 * raise SIGPIPE in its host), errno kept in conn->sock_err.  NULL on
 * allocation failure. */
BIO *xg_tls_bio_new(struct xg_tls_conn *conn);

#endif /* XGOSSIP_NET_TLS_INT_H */
