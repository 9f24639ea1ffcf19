/* SPDX-License-Identifier: MIT */
/*
 * The X.509 pieces behind certs.c: EC keys, issuing a certificate, PEM in
 * and out.  Internal to agent/util/certs*.c.
 */
#ifndef XGOSSIP_UTIL_CERTS_X509_H
#define XGOSSIP_UTIL_CERTS_X509_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* One extension in OpenSSL's configuration syntax ("critical,CA:TRUE"). */
struct xg_x509_ext {
	int         nid;
	const char *value;
};

/* A fresh EC P-256 key, NULL on failure. */
EVP_PKEY *xg_x509_new_key(void);

/* A certificate for key's public half with subject CN=cn, O=xgossip,
 * signed by issuer_key; issuer NULL makes it self-signed (issuer_key is
 * then key).  Valid from an hour ago (clocks in a cluster differ a little)
 * for `days`, with a random 128-bit serial and the given extensions.
 * NULL on failure. */
X509 *xg_x509_issue(EVP_PKEY *key, const char *cn, X509 *issuer,
		    EVP_PKEY *issuer_key, unsigned days,
		    const struct xg_x509_ext *ext, size_t next);

/* PEM text in a malloc'd buffer (*len bytes, NUL-terminated).  The key's
 * buffer holds a secret: wipe it (OPENSSL_cleanse) before freeing.  0 or
 * -ENOMEM / -EIO. */
int xg_x509_cert_pem(X509 *x, char **pem, size_t *len);
int xg_x509_key_pem(EVP_PKEY *key, char **pem, size_t *len);

/* Parse the first certificate / an unencrypted private key from PEM text;
 * NULL if there is none. */
X509     *xg_x509_cert_parse(const char *pem, size_t len);
EVP_PKEY *xg_x509_key_parse(const char *pem, size_t len);

#endif /* XGOSSIP_UTIL_CERTS_X509_H */
