/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 under the framed stream (BoringSSL), for push/pull and large
 * payloads between members of one cluster.
 *
 * Both ends authenticate: each presents a certificate issued by the
 * cluster CA and each requires one from the other.  Only TLS 1.3 is
 * spoken, and no session tickets are issued, so once the handshake is
 * over the only bytes on the wire are the frames the stream was asked to
 * send: a reader never waits on a ticket that a silent peer will not
 * send.
 *
 * The handshake runs inside the stream's own calls (xg_stream_flush,
 * xg_stream_recv, xg_stream_handshake), non-blocking; while it is under
 * way those return -EAGAIN and xg_stream_wait_events() tells the owner
 * which epoll event to wait for.  The stream's deadline bounds the
 * handshake like everything else.
 *
 * Certificates identify nodes by subjectAltName (DNS name, and IP address
 * when the node is named by one); which name to expect of a peer is the
 * caller's business (xg_tls_peer_is), not the handshake's.
 */
#ifndef XGOSSIP_NET_TLS_H
#define XGOSSIP_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "net/stream.h"

/* One SSL_CTX: CA, own certificate chain and key. */
struct xg_tls_ctx;

/* Load the CA bundle, the certificate chain and the private key (PEM
 * files).  -ENOENT / -EACCES (a file cannot be read), -EINVAL (no or bad
 * PEM, the key does not match the certificate, the certificate does not
 * verify against the CA), -EPROTO (the TLS library refused the setup),
 * -ENOMEM.  err gets a human message naming the file (never key
 * material). */
int  xg_tls_ctx_new(struct xg_tls_ctx **out, const char *ca, const char *cert,
		    const char *key, char *err, size_t errlen);
void xg_tls_ctx_free(struct xg_tls_ctx *c);

/* Put TLS under a freshly initialised plain stream; server is true for
 * accepted sockets.  The stream takes its own reference to the context,
 * so the caller may free or replace c (a reload) while streams are open.
 * 0, -EINVAL (not a plain stream), -ENOMEM. */
int  xg_tls_attach(struct xg_stream *s, struct xg_tls_ctx *c, bool server);

/* Whether the handshake has finished (and has not failed since).  On a
 * client this turns true once its last flight is out: a server that
 * refuses the client's certificate says so with an alert that the
 * client's next read reports as -EACCES. */
/* The same for a client that may resume its last session with this peer
 * (peer: a stable key such as "address:port", NULL for none). */
int  xg_tls_attach_peer(struct xg_stream *s, struct xg_tls_ctx *c,
			bool server, const char *peer);
bool xg_tls_handshake_done(const struct xg_stream *s);
/* The handshake resumed an earlier session (no certificates sent). */
bool xg_tls_resumed(const struct xg_stream *s);

/* After the handshake: does the peer certificate's subjectAltName match
 * name (DNS names; IP addresses too when name is an IP literal)? */
bool xg_tls_peer_is(const struct xg_stream *s, const char *name);

/* The first DNS name of the peer certificate, "" if none (or before the
 * handshake).  0, -ENOSPC (truncated), -ENOTCONN (no peer certificate). */
int  xg_tls_peer_name(const struct xg_stream *s, char *out, size_t len);

/* The last TLS failure of this stream as text for logs ("certificate
 * verify failed: unable to get local issuer certificate"), "" if none. */
const char *xg_tls_last_error(const struct xg_stream *s);

#endif /* XGOSSIP_NET_TLS_H */
