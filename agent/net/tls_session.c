/* SPDX-License-Identifier: MIT */
/*
 * TLS 1.3 session resumption for push/pull.  Every member opens a stream to
 * a random member every push/pull interval; a full mutual-auth handshake
 * sends both certificates and two signatures each time, which is more bytes
 * than the state being exchanged in a small cluster and costs two ECDSA
 * signatures.  A resumed handshake (PSK with a fresh ECDHE share, so
 * forward secrecy stays) sends neither.
 *
 * Servers issue one ticket per handshake (stateless: the ticket key lives
 * in the SSL_CTX, so a SIGHUP reload simply makes old tickets fall back to
 * a full handshake).  Clients keep the newest ticket per peer address in a
 * small direct-mapped cache attached to the SSL_CTX, so that streams still
 * running after a reload never touch a freed cache.  A ticket is used once
 * and dropped: the server hands out a new one with every handshake.
 *
 * A ticket carries the session, and a session normally carries the
 * client's certificate: the ticket would then cost as many bytes as the
 * certificate it saves.  So servers keep only the SHA-256 of client
 * certificates in sessions (SSL_CTX_set_retain_only_sha256_of_client_certs)
 * and remember the verified certificates themselves by that hash, next to
 * the ticket key they belong with.  The node-name check after a resumed
 * handshake is then the same check against the same certificate, found by
 * its hash; a certificate no longer remembered fails the check, and the
 * client's next exchange makes a full handshake.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgossip/siphash.h>

#include <openssl/digest.h>
#include <openssl/x509.h>

#include "net/tls_int.h"

#define CACHE_SLOTS 64 /* peers remembered; a collision costs one full handshake */

/* Client certificates a server remembers, by SHA-256, for the name check
 * on resumed sessions.  A certificate that is pushed out makes its
 * owner's resumed connections fail the check until it does a full
 * handshake again, so a certificate has CERT_PROBE slots to land in and
 * is only pushed out when all of them hold others: with a cluster's worth
 * of members that practically never happens. */
#define CERT_SLOTS 1024
#define CERT_PROBE 8

struct session_cache {
	char         peer[CACHE_SLOTS][XG_TLS_PEER_KEY];
	SSL_SESSION *sess[CACHE_SLOTS];
	uint8_t      cert_sha[CERT_SLOTS][32];
	X509        *cert[CERT_SLOTS];
};

static int cache_index = -1;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int index,
		       long argl, void *argp)
{
	struct session_cache *c = ptr;
	size_t i;

	(void)parent; (void)ad; (void)index; (void)argl; (void)argp;
	if (!c)
		return;
	for (i = 0; i < CACHE_SLOTS; i++)
		SSL_SESSION_free(c->sess[i]);
	for (i = 0; i < CERT_SLOTS; i++)
		X509_free(c->cert[i]);
	free(c);
}

static void cache_index_init(void)
{
	cache_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, cache_free);
}

static struct session_cache *cache_of(SSL_CTX *ctx)
{
	return cache_index < 0 ? NULL : SSL_CTX_get_ex_data(ctx, cache_index);
}

static size_t slot_of(const char *peer)
{
	static const uint8_t k[16] = "xgossip tls peer";

	return (size_t)(xg_siphash24(k, peer, (__u32)strlen(peer)) %
			CACHE_SLOTS);
}

/* BoringSSL hands us a reference to every new session (ticket) a client
 * receives; keep it as the peer's newest. */
static int on_new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct xg_tls_conn *conn = SSL_get_app_data(ssl);
	struct session_cache *c = cache_of(SSL_get_SSL_CTX(ssl));
	size_t i;

	if (!conn || !c || !conn->peer[0])
		return 0; /* not kept: BoringSSL frees it */
	i = slot_of(conn->peer);
	SSL_SESSION_free(c->sess[i]);
	c->sess[i] = sess;
	snprintf(c->peer[i], sizeof(c->peer[i]), "%s", conn->peer);
	return 1;
}

/* Where the certificate with this hash is, or else the first free slot of
 * its window, or else its home slot (to be replaced). */
static size_t cert_slot(const struct session_cache *c, const uint8_t sha[32])
{
	size_t home = ((size_t)sha[0] << 8 | sha[1]) % CERT_SLOTS, i, k;
	size_t free_slot = CERT_SLOTS;

	for (k = 0; k < CERT_PROBE; k++) {
		i = (home + k) % CERT_SLOTS;
		if (!c->cert[i]) {
			if (free_slot == CERT_SLOTS)
				free_slot = i;
		} else if (!memcmp(c->cert_sha[i], sha, 32)) {
			return i;
		}
	}
	return free_slot != CERT_SLOTS ? free_slot : home;
}

/* The verifier accepted the chain: at depth 0 that is the peer's own
 * certificate.  A server remembers it by hash for resumed sessions, and
 * both sides keep it on the connection. */
int xg_tls_sessions_verify_cb(int ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(
		store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct xg_tls_conn *conn = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *leaf = X509_STORE_CTX_get_current_cert(store);
	struct session_cache *c;
	uint8_t sha[32];
	unsigned len = 0;
	size_t i;

	if (!ok || !conn || !leaf || X509_STORE_CTX_get_error_depth(store) != 0)
		return ok;
	X509_free(conn->leaf);
	conn->leaf = X509_up_ref(leaf) ? leaf : NULL;
	c = cache_of(SSL_get_SSL_CTX(ssl));
	if (!c || !SSL_is_server(ssl) ||
	    !X509_digest(leaf, EVP_sha256(), sha, &len) || len != sizeof(sha))
		return ok;
	i = cert_slot(c, sha);
	if (c->cert[i] && !memcmp(c->cert_sha[i], sha, sizeof(sha)))
		return ok;
	if (!X509_up_ref(leaf))
		return ok;
	X509_free(c->cert[i]);
	c->cert[i] = leaf;
	memcpy(c->cert_sha[i], sha, sizeof(sha));
	return ok;
}

X509 *xg_tls_sessions_peer_cert(const struct xg_tls_conn *conn)
{
	X509 *x = SSL_get_peer_certificate(conn->ssl);
	const uint8_t *sha = NULL;
	size_t len = 0, i;
	struct session_cache *c;

	if (x)
		return x;
	if (conn->leaf && X509_up_ref(conn->leaf))
		return conn->leaf;
	c = cache_of(conn->ctx);
	SSL_SESSION_get0_peer_sha256(SSL_get_session(conn->ssl), &sha, &len);
	if (!c || !sha || len != 32)
		return NULL;
	i = cert_slot(c, sha);
	if (!c->cert[i] || memcmp(c->cert_sha[i], sha, 32) != 0 ||
	    !X509_up_ref(c->cert[i]))
		return NULL;
	return c->cert[i];
}

int xg_tls_sessions_enable(SSL_CTX *ctx)
{
	struct session_cache *c;

	pthread_once(&cache_once, cache_index_init);
	if (cache_index < 0)
		return -ENOMEM;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (!SSL_CTX_set_ex_data(ctx, cache_index, c)) {
		free(c);
		return -ENOMEM;
	}
	if (!SSL_CTX_set_num_tickets(ctx, 1))
		return -EPROTO;
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
					    SSL_SESS_CACHE_NO_INTERNAL);
	SSL_CTX_sess_set_new_cb(ctx, on_new_session);
	SSL_CTX_set_retain_only_sha256_of_client_certs(ctx, 1);
	return 0;
}

void xg_tls_sessions_resume(struct xg_tls_conn *conn, const char *peer)
{
	struct session_cache *c = cache_of(conn->ctx);
	size_t i;

	snprintf(conn->peer, sizeof(conn->peer), "%s", peer ? peer : "");
	if (!c || !conn->peer[0])
		return;
	i = slot_of(conn->peer);
	if (!c->sess[i] || strcmp(c->peer[i], conn->peer) != 0)
		return;
	/* Used once: the SSL takes its own reference, the cache lets go. */
	if (SSL_SESSION_is_resumable(c->sess[i]))
		SSL_set_session(conn->ssl, c->sess[i]);
	SSL_SESSION_free(c->sess[i]);
	c->sess[i] = NULL;
	c->peer[i][0] = '\0';
}
