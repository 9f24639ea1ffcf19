/* SPDX-License-Identifier: MIT */
/*
 * Building the SSL_CTX from the operator's PEM files.  Every check that
 * can be made at load time is made here, with a message naming the file,
 * so a wrong path or a mismatched key stops the agent at start-up (or
 * fails the reload) instead of failing every connection later.
 */
#include "net/tls.h"
#include "net/tls_int.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/atomic_file.h"

/* A CA bundle of a few hundred certificates still fits. */
#define PEM_MAX (1u << 20)

static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	ERR_clear_error();
	return code;
}

/* The whole file, through our own reader so the errno is the real one
 * (-ENOENT, -EACCES) rather than whatever BoringSSL makes of it. */
static int read_file(const char *path, const char *what, char **buf,
		     size_t *len, char *err, size_t errlen)
{
	int e;

	*buf = malloc(PEM_MAX);
	if (!*buf)
		return fail(err, errlen, -ENOMEM, "out of memory");
	e = xg_file_read_path(path, *buf, PEM_MAX, len);
	if (e == -EFBIG)
		e = fail(err, errlen, -EINVAL, "%s %s: larger than %u bytes",
			 what, path, PEM_MAX);
	else if (e)
		e = fail(err, errlen, e, "%s %s: %s", what, path, strerror(-e));
	if (e) {
		free(*buf);
		*buf = NULL;
	}
	return e;
}

static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

/* Every certificate in a PEM text, in order.  NULL with *e set on error;
 * an empty stack is returned as -EINVAL. */
static STACK_OF(X509) *parse_certs(const char *pem, size_t len, int *e)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	BIO *bio = BIO_new_mem_buf(pem, (int)len);
	X509 *x;

	*e = -ENOMEM;
	if (!sk || !bio)
		goto out;
	while ((x = PEM_read_bio_X509(bio, NULL, no_password, NULL))) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto out;
		}
	}
	/* The loop ends at the end of the text (no more PEM blocks) or at a
	 * block that does not parse; only the first is fine. */
	if (ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE &&
	    sk_X509_num(sk) > 0)
		*e = 0;
	else
		*e = -EINVAL;
out:
	BIO_free(bio);
	ERR_clear_error();
	if (*e) {
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	return sk;
}

static int load_ca(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	STACK_OF(X509) *certs;
	size_t len, i;
	char *pem;
	int e;

	e = read_file(path, "CA file", &pem, &len, err, errlen);
	if (e)
		return e;
	certs = parse_certs(pem, len, &e);
	free(pem);
	if (e)
		return fail(err, errlen, e, "CA file %s: %s", path,
			    e == -ENOMEM ? "out of memory"
					 : "no PEM certificates, or a bad one");
	for (i = 0; !e && i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (X509_check_ca(x) != 1)
			e = fail(err, errlen, -EINVAL, "CA file %s: certificate "
				 "%zu is not a CA certificate", path, i + 1);
		else if (!X509_STORE_add_cert(store, x))
			e = fail(err, errlen, -EPROTO, "CA file %s: certificate "
				 "%zu refused", path, i + 1);
	}
	sk_X509_pop_free(certs, X509_free);
	return e;
}

/* The leaf, then any intermediates the peers need to reach the CA. */
static int load_chain(SSL_CTX *ctx, const char *path, char *err,
		      size_t errlen)
{
	STACK_OF(X509) *certs;
	size_t len, i;
	char *pem;
	int e;

	e = read_file(path, "certificate file", &pem, &len, err, errlen);
	if (e)
		return e;
	certs = parse_certs(pem, len, &e);
	free(pem);
	if (e)
		return fail(err, errlen, e, "certificate file %s: %s", path,
			    e == -ENOMEM ? "out of memory"
					 : "no PEM certificates, or a bad one");
	if (!SSL_CTX_use_certificate(ctx, sk_X509_value(certs, 0)))
		e = fail(err, errlen, -EINVAL, "certificate file %s: key type "
			 "not supported", path);
	for (i = 1; !e && i < sk_X509_num(certs); i++)
		if (!SSL_CTX_add1_chain_cert(ctx, sk_X509_value(certs, i)))
			e = fail(err, errlen, -ENOMEM, "out of memory");
	sk_X509_pop_free(certs, X509_free);
	return e;
}

static int load_key(SSL_CTX *ctx, const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	BIO *bio;
	size_t len;
	char *pem;
	int e;

	e = read_file(path, "key file", &pem, &len, err, errlen);
	if (e)
		return e;
	bio = BIO_new_mem_buf(pem, (int)len);
	if (bio)
		key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
	BIO_free(bio);
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (!key)
		return fail(err, errlen, bio ? -EINVAL : -ENOMEM, "key file %s: "
			    "no unencrypted PEM private key", path);
	/* Checked first: BoringSSL refuses a mismatched key with an error
	 * that says less. */
	if (!X509_check_private_key(SSL_CTX_get0_certificate(ctx), key))
		e = fail(err, errlen, -EINVAL, "key file %s does not match "
			 "the certificate", path);
	else if (!SSL_CTX_use_PrivateKey(ctx, key))
		e = fail(err, errlen, -EINVAL, "key file %s: key type not "
			 "supported", path);
	EVP_PKEY_free(key);
	return e;
}

/* Our own certificate must verify against the CA we require of peers,
 * for both roles (push/pull connects both ways): otherwise every peer
 * would refuse us, one connection at a time. */
static int check_own_chain(SSL_CTX *ctx, const char *cert, const char *ca,
			   char *err, size_t errlen)
{
	static const int purposes[] = { X509_PURPOSE_SSL_CLIENT,
					X509_PURPOSE_SSL_SERVER };
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain = NULL;
	size_t i;
	int e = 0;

	if (!sctx)
		return fail(err, errlen, -ENOMEM, "out of memory");
	SSL_CTX_get0_chain_certs(ctx, &chain);
	for (i = 0; !e && i < sizeof(purposes) / sizeof(purposes[0]); i++) {
		if (!X509_STORE_CTX_init(sctx, SSL_CTX_get_cert_store(ctx),
					 SSL_CTX_get0_certificate(ctx), chain) ||
		    !X509_STORE_CTX_set_purpose(sctx, purposes[i]))
			e = fail(err, errlen, -ENOMEM, "out of memory");
		else if (X509_verify_cert(sctx) != 1)
			e = fail(err, errlen, -EINVAL, "certificate %s does "
				 "not verify against CA file %s%s: %s", cert, ca,
				 i ? " as a TLS server" : " as a TLS client",
				 X509_verify_cert_error_string(
					 X509_STORE_CTX_get_error(sctx)));
		X509_STORE_CTX_cleanup(sctx);
	}
	X509_STORE_CTX_free(sctx);
	ERR_clear_error();
	return e;
}

/* TLS 1.3 only, mutual authentication, resumption with tickets
 * (tls_session.c), partial writes (the stream hands over whole buffers)
 * from a buffer that may move between retries (the stream's write buffer
 * grows by realloc). */
static int configure(SSL_CTX *ctx)
{
	int e;

	if (!SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) ||
	    !SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION))
		return -EPROTO;
	e = xg_tls_sessions_enable(ctx);
	if (e)
		return e;
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
			      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
			   xg_tls_sessions_verify_cb);
	return 0;
}

int xg_tls_ctx_new(struct xg_tls_ctx **out, const char *ca, const char *cert,
		   const char *key, char *err, size_t errlen)
{
	struct xg_tls_ctx *c;
	int e;

	*out = NULL;
	if (err && errlen)
		err[0] = '\0';
	c = calloc(1, sizeof(*c));
	if (c)
		c->ssl = SSL_CTX_new(TLS_method());
	if (!c || !c->ssl) {
		free(c);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	e = configure(c->ssl);
	if (e)
		fail(err, errlen, e, "the TLS library refused TLS 1.3 only");
	if (!e)
		e = load_ca(c->ssl, ca, err, errlen);
	if (!e)
		e = load_chain(c->ssl, cert, err, errlen);
	if (!e)
		e = load_key(c->ssl, key, err, errlen);
	if (!e)
		e = check_own_chain(c->ssl, cert, ca, err, errlen);
	if (e) {
		xg_tls_ctx_free(c);
		return e;
	}
	*out = c;
	return 0;
}

void xg_tls_ctx_free(struct xg_tls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ssl);
	free(c);
}
