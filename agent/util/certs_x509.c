/* SPDX-License-Identifier: MIT */
#include "util/certs_x509.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec_key.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* A peer whose clock is a little behind ours must not see a certificate
 * that is not valid yet. */
#define BACKDATE_SEC 3600

EVP_PKEY *xg_x509_new_key(void)
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *key = EVP_PKEY_new();

	if (!ec || !key || !EC_KEY_generate_key(ec) ||
	    !EVP_PKEY_assign_EC_KEY(key, ec)) {
		EC_KEY_free(ec);
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

/* RFC 5280 wants serials unique per CA; 128 random bits make that hold
 * without keeping a counter anywhere. */
static int set_random_serial(X509 *x)
{
	uint8_t raw[16];
	BIGNUM *bn;
	ASN1_INTEGER *serial;
	int ok;

	RAND_bytes(raw, sizeof(raw)); /* BoringSSL aborts rather than fail */
	bn = BN_bin2bn(raw, sizeof(raw), NULL);
	serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
	ok = serial && X509_set_serialNumber(x, serial);
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	return ok ? 0 : -ENOMEM;
}

static int set_names(X509 *x, const char *cn, X509 *issuer)
{
	X509_NAME *name = X509_NAME_new();
	int ok;

	ok = name &&
	     X509_NAME_add_entry_by_NID(name, NID_organizationName,
					MBSTRING_UTF8,
					(const uint8_t *)"xgossip", -1, -1, 0) &&
	     X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
					(const uint8_t *)cn, -1, -1, 0) &&
	     X509_set_subject_name(x, name) &&
	     X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer)
					    : name);
	X509_NAME_free(name);
	return ok ? 0 : -ENOMEM;
}

static int set_validity(X509 *x, unsigned days)
{
	if (days > INT_MAX)
		return -EINVAL;
	if (!X509_gmtime_adj(X509_getm_notBefore(x), -BACKDATE_SEC) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL))
		return -EINVAL;
	return 0;
}

static int add_extensions(X509 *x, X509 *issuer,
			  const struct xg_x509_ext *ext, size_t next)
{
	X509V3_CTX ctx;
	size_t i;

	/* The issuer's key identifier comes from issuer_cert: x itself when
	 * self-signed, which is why subjectKeyIdentifier must come first in
	 * ext. */
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	for (i = 0; i < next; i++) {
		X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, ext[i].nid,
							 ext[i].value);
		int ok = e && X509_add_ext(x, e, -1);

		X509_EXTENSION_free(e);
		if (!ok)
			return -EINVAL;
	}
	return 0;
}

X509 *xg_x509_issue(EVP_PKEY *key, const char *cn, X509 *issuer,
		    EVP_PKEY *issuer_key, unsigned days,
		    const struct xg_x509_ext *ext, size_t next)
{
	X509 *x = X509_new();

	if (!x || !X509_set_version(x, X509_VERSION_3) ||
	    set_random_serial(x) || set_names(x, cn, issuer) ||
	    set_validity(x, days) || !X509_set_pubkey(x, key) ||
	    add_extensions(x, issuer, ext, next) ||
	    !X509_sign(x, issuer_key, EVP_sha256())) {
		X509_free(x);
		ERR_clear_error();
		return NULL;
	}
	return x;
}

/* Copy a memory BIO's contents out, NUL-terminated; the BIO's own buffer
 * is wiped since it may hold a key. */
static int take_bio(BIO *bio, char **pem, size_t *len)
{
	const uint8_t *data;
	size_t n;

	if (!BIO_mem_contents(bio, &data, &n))
		return -EIO;
	*pem = malloc(n + 1);
	if (*pem) {
		memcpy(*pem, data, n);
		(*pem)[n] = '\0';
		*len = n;
	}
	OPENSSL_cleanse((void *)data, n);
	return *pem ? 0 : -ENOMEM;
}

int xg_x509_cert_pem(X509 *x, char **pem, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int err = -ENOMEM;

	*pem = NULL;
	if (bio)
		err = PEM_write_bio_X509(bio, x) ? take_bio(bio, pem, len)
						 : -EIO;
	BIO_free(bio);
	ERR_clear_error();
	return err;
}

int xg_x509_key_pem(EVP_PKEY *key, char **pem, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int err = -ENOMEM;

	*pem = NULL;
	if (bio)
		err = PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL,
					       NULL) ? take_bio(bio, pem, len)
						     : -EIO;
	BIO_free(bio);
	ERR_clear_error();
	return err;
}

/* Encrypted keys are refused rather than prompted for: nobody is at a
 * terminal when an agent starts. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

X509 *xg_x509_cert_parse(const char *pem, size_t len)
{
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, no_password, NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error();
	return x;
}

EVP_PKEY *xg_x509_key_parse(const char *pem, size_t len)
{
	BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(pem, (int)len) : NULL;
	EVP_PKEY *k = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_password,
						    NULL) : NULL;

	BIO_free(bio);
	ERR_clear_error();
	return k;
}
