/* SPDX-License-Identifier: MIT */
#include "util/certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>
#include <openssl/nid.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "util/atomic_file.h"
#include "util/certs_x509.h"

#define CA_CERT   "ca.pem"
#define CA_KEY    "ca-key.pem"
/* PEM of one certificate or EC key is under 1 KiB; a CA file someone
 * replaced with a bundle still fits. */
#define PEM_CAP   (64u << 10)
#define FILE_MAX  (XG_CERTS_NAME_MAX + sizeof("-key.pem"))

struct ca {
	X509     *cert;
	EVP_PKEY *key;
};

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
	return code;
}

int xg_certs_name_check(const char *name, char *err, size_t errlen)
{
	size_t n = strlen(name), i;

	if (n == 0 || n > XG_CERTS_NAME_MAX)
		return fail(err, errlen, -EINVAL, "name \"%.80s\" must have 1 "
			    "to %d characters", name, XG_CERTS_NAME_MAX);
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return fail(err, errlen, -EINVAL, "name \"%s\" may only "
				    "contain letters, digits, '.', '_' and '-'",
				    name);
	}
	/* <name>.pem and <name>-key.pem must not be another name's files or
	 * the CA's. */
	if (strcmp(name, "ca") == 0 ||
	    (n >= 4 && strcmp(name + n - 4, "-key") == 0))
		return fail(err, errlen, -EINVAL, "name \"%s\" is reserved "
			    "(its files would clash with %s)", name,
			    strcmp(name, "ca") == 0 ? "the CA's" : "a key file");
	return 0;
}

/* Key first: a crash between the two writes leaves a key without its
 * certificate (harmless, replaced next time), never a certificate whose
 * key is gone. */
static int write_pair(const char *dir, const char *base, X509 *cert,
		      EVP_PKEY *key, xg_certs_report_fn report, void *rctx,
		      char *err, size_t errlen)
{
	char cert_file[FILE_MAX], key_file[FILE_MAX];
	char *pem;
	size_t len;
	int e;

	snprintf(cert_file, sizeof(cert_file), "%s.pem", base);
	snprintf(key_file, sizeof(key_file), "%s-key.pem", base);
	e = xg_x509_key_pem(key, &pem, &len);
	if (e)
		return fail(err, errlen, e, "cannot encode the key of %s", base);
	e = xg_file_write_atomic(dir, key_file, pem, len, 0600);
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (e)
		return fail(err, errlen, e, "writing %s/%s: %s", dir, key_file,
			    strerror(-e));
	if (report)
		report(rctx, dir, key_file, true);
	e = xg_x509_cert_pem(cert, &pem, &len);
	if (e)
		return fail(err, errlen, e, "cannot encode the certificate of "
			    "%s", base);
	e = xg_file_write_atomic(dir, cert_file, pem, len, 0644);
	free(pem);
	if (e)
		return fail(err, errlen, e, "writing %s/%s: %s", dir, cert_file,
			    strerror(-e));
	if (report)
		report(rctx, dir, cert_file, true);
	return 0;
}

static int ca_create(const char *dir, struct ca *ca, xg_certs_report_fn report,
		     void *rctx, char *err, size_t errlen)
{
	static const struct xg_x509_ext ext[] = {
		{ NID_subject_key_identifier,   "hash" },
		{ NID_basic_constraints,        "critical,CA:TRUE,pathlen:0" },
		{ NID_key_usage,                "critical,keyCertSign,cRLSign" },
	};
	uint8_t tag[4];
	char cn[64];

	/* Two clusters' CAs (or an old and a new one in a bundle during a
	 * rotation) are told apart by name as well as by key. */
	RAND_bytes(tag, sizeof(tag)); /* BoringSSL aborts rather than fail */
	snprintf(cn, sizeof(cn), "xgossip CA %02x%02x%02x%02x", tag[0], tag[1],
		 tag[2], tag[3]);
	ca->key = xg_x509_new_key();
	ca->cert = ca->key ? xg_x509_issue(ca->key, cn, NULL, ca->key,
					   XG_CERTS_CA_DAYS, ext,
					   sizeof(ext) / sizeof(ext[0]))
			   : NULL;
	if (!ca->cert)
		return fail(err, errlen, -ENOMEM, "cannot make the CA "
			    "certificate");
	return write_pair(dir, "ca", ca->cert, ca->key, report, rctx, err,
			  errlen);
}

static int read_pem(const char *dir, const char *file, char **buf,
		    size_t *len)
{
	int e;

	*buf = malloc(PEM_CAP);
	if (!*buf)
		return -ENOMEM;
	e = xg_file_read_small(dir, file, *buf, PEM_CAP, len);
	if (e) {
		free(*buf);
		*buf = NULL;
	}
	return e;
}

static int ca_parse(const char *dir, char *cert_pem, size_t cert_len,
		    char *key_pem, size_t key_len, struct ca *ca, char *err,
		    size_t errlen)
{
	ca->cert = xg_x509_cert_parse(cert_pem, cert_len);
	if (!ca->cert)
		return fail(err, errlen, -EINVAL, "%s/" CA_CERT " holds no "
			    "PEM certificate", dir);
	ca->key = xg_x509_key_parse(key_pem, key_len);
	if (!ca->key)
		return fail(err, errlen, -EINVAL, "%s/" CA_KEY " holds no "
			    "unencrypted PEM private key", dir);
	if (!X509_check_private_key(ca->cert, ca->key))
		return fail(err, errlen, -EINVAL, "%s/" CA_KEY " is not the "
			    "key of %s/" CA_CERT, dir, dir);
	if (X509_check_ca(ca->cert) != 1)
		return fail(err, errlen, -EINVAL, "%s/" CA_CERT " is not a CA "
			    "certificate", dir);
	return 0;
}

/* Reuse the CA in dir, or make one if there is none.  Half a CA (one file
 * of the two) is refused: making a new one would silently orphan every
 * certificate the old one signed. */
static int ca_load_or_create(const char *dir, struct ca *ca,
			     xg_certs_report_fn report, void *rctx, char *err,
			     size_t errlen)
{
	char *cert_pem = NULL, *key_pem = NULL;
	size_t cert_len = 0, key_len = 0;
	int ec, ek, e;

	ec = read_pem(dir, CA_CERT, &cert_pem, &cert_len);
	ek = read_pem(dir, CA_KEY, &key_pem, &key_len);
	if (ec == -ENOENT && ek == -ENOENT)
		e = ca_create(dir, ca, report, rctx, err, errlen);
	else if (ec == -ENOENT || ek == -ENOENT)
		e = fail(err, errlen, -EINVAL, "%s/%s exists but %s/%s does "
			 "not: restore it, or remove both to make a new CA",
			 dir, ec ? CA_KEY : CA_CERT, dir, ec ? CA_CERT : CA_KEY);
	else if (ec || ek)
		e = fail(err, errlen, ec ? ec : ek, "reading %s/%s: %s", dir,
			 ec ? CA_CERT : CA_KEY, strerror(-(ec ? ec : ek)));
	else
		e = ca_parse(dir, cert_pem, cert_len, key_pem, key_len, ca,
			     err, errlen);
	if (!e && !ec && report) {
		report(rctx, dir, CA_KEY, false);
		report(rctx, dir, CA_CERT, false);
	}
	if (key_pem)
		OPENSSL_cleanse(key_pem, key_len);
	free(key_pem);
	free(cert_pem);
	return e;
}

static int is_ipv4(const char *name)
{
	struct in_addr a;

	return inet_pton(AF_INET, name, &a) == 1;
}

static int issue_node(const char *dir, const char *name, const struct ca *ca,
		      unsigned days, xg_certs_report_fn report, void *rctx,
		      char *err, size_t errlen)
{
	char san[2 * XG_CERTS_NAME_MAX + 16];
	struct xg_x509_ext ext[] = {
		{ NID_subject_key_identifier,   "hash" },
		{ NID_authority_key_identifier, "keyid:always" },
		{ NID_basic_constraints,        "critical,CA:FALSE" },
		{ NID_key_usage,                "critical,digitalSignature" },
		{ NID_ext_key_usage,            "serverAuth,clientAuth" },
		{ NID_subject_alt_name,         san },
	};
	EVP_PKEY *key;
	X509 *cert = NULL;
	int e;

	if (is_ipv4(name))
		snprintf(san, sizeof(san), "DNS:%s,IP:%s", name, name);
	else
		snprintf(san, sizeof(san), "DNS:%s", name);
	key = xg_x509_new_key();
	if (key)
		cert = xg_x509_issue(key, name, ca->cert, ca->key, days, ext,
				     sizeof(ext) / sizeof(ext[0]));
	if (!cert)
		e = fail(err, errlen, -ENOMEM, "cannot make the certificate "
			 "of %s", name);
	else
		e = write_pair(dir, name, cert, key, report, rctx, err, errlen);
	X509_free(cert);
	EVP_PKEY_free(key);
	return e;
}

static int check_args(const char *dir, const char *const *names, size_t n,
		      unsigned days, char *err, size_t errlen)
{
	size_t i, j;
	int e;

	if (!dir || !*dir)
		return fail(err, errlen, -EINVAL, "no directory given");
	if (days < 1 || days > XG_CERTS_DAYS_MAX)
		return fail(err, errlen, -EINVAL, "validity must be 1 to %d "
			    "days, not %u", XG_CERTS_DAYS_MAX, days);
	for (i = 0; i < n; i++) {
		e = xg_certs_name_check(names[i], err, errlen);
		if (e)
			return e;
		for (j = 0; j < i; j++)
			if (strcmp(names[i], names[j]) == 0)
				return fail(err, errlen, -EINVAL, "name \"%s\" "
					    "given twice", names[i]);
	}
	return 0;
}

int xg_certs_init_ex(const char *dir, const char *const *names, size_t n,
		     unsigned days, xg_certs_report_fn report, void *rctx,
		     char *err, size_t errlen)
{
	struct ca ca = { NULL, NULL };
	size_t i;
	int e;

	if (err && errlen)
		err[0] = '\0';
	e = check_args(dir, names, n, days, err, errlen);
	if (e)
		return e;
	/* 0700: the CA key lives here. */
	e = xg_mkdir_p(dir, 0700);
	if (e)
		return fail(err, errlen, e, "creating %s: %s", dir,
			    strerror(-e));
	e = ca_load_or_create(dir, &ca, report, rctx, err, errlen);
	for (i = 0; !e && i < n; i++)
		e = issue_node(dir, names[i], &ca, days, report, rctx, err,
			       errlen);
	X509_free(ca.cert);
	EVP_PKEY_free(ca.key);
	return e;
}

int xg_certs_init(const char *dir, const char *const *names, size_t n,
		  unsigned days, char *err, size_t errlen)
{
	return xg_certs_init_ex(dir, names, n, days, NULL, NULL, err, errlen);
}
