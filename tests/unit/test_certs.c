/* SPDX-License-Identifier: MIT */
/*
 * The cluster CA tool (agent/util/certs.c): what it writes is checked with
 * BoringSSL's own verifier and parsers, not with the code that wrote it.
 */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/certs.h"

#define DAYS 30

struct fx {
	char dir[64];
	char err[256];
};

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/xg-certs-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	nftw(f->dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

static void path_of(const struct fx *f, const char *file, char *out,
		    size_t len)
{
	snprintf(out, len, "%s/%s", f->dir, file);
}

static X509 *load_cert(const struct fx *f, const char *file)
{
	char p[128];
	FILE *fp;
	X509 *x;

	path_of(f, file, p, sizeof(p));
	fp = fopen(p, "r");
	assert_non_null(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(x);
	return x;
}

static EVP_PKEY *load_key(const struct fx *f, const char *file)
{
	char p[128];
	FILE *fp;
	EVP_PKEY *k;

	path_of(f, file, p, sizeof(p));
	fp = fopen(p, "r");
	assert_non_null(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	assert_non_null(k);
	return k;
}

static mode_t mode_of(const struct fx *f, const char *file)
{
	struct stat st;
	char p[128];

	path_of(f, file, p, sizeof(p));
	if (stat(p, &st) < 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static char *slurp(const struct fx *f, const char *file, size_t *len)
{
	char p[128], *buf = malloc(1 << 16);
	FILE *fp;

	path_of(f, file, p, sizeof(p));
	fp = fopen(p, "r");
	assert_non_null(fp);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 16, fp);
	fclose(fp);
	return buf;
}

/* X509_verify_cert against ca.pem alone, for one TLS role. */
static int verify(X509 *ca, X509 *leaf, int purpose)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok;

	assert_non_null(store);
	assert_non_null(ctx);
	assert_int_equal(X509_STORE_add_cert(store, ca), 1);
	assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, NULL), 1);
	assert_int_equal(X509_STORE_CTX_set_purpose(ctx, purpose), 1);
	ok = X509_verify_cert(ctx);
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static int init(struct fx *f, const char *const *names, size_t n)
{
	return xg_certs_init(f->dir, names, n, DAYS, f->err, sizeof(f->err));
}

static void test_files_and_modes(void **state)
{
	static const char *const names[] = { "node1", "198.18.0.7", "b" };
	struct fx *f = *state;

	assert_int_equal(init(f, names, 3), 0);
	assert_int_equal(mode_of(f, "ca.pem"), 0644);
	assert_int_equal(mode_of(f, "ca-key.pem"), 0600);
	assert_int_equal(mode_of(f, "node1.pem"), 0644);
	assert_int_equal(mode_of(f, "node1-key.pem"), 0600);
	assert_int_equal(mode_of(f, "198.18.0.7.pem"), 0644);
	assert_int_equal(mode_of(f, "198.18.0.7-key.pem"), 0600);
	assert_int_equal(mode_of(f, "b.pem"), 0644);
	assert_int_equal(mode_of(f, "b-key.pem"), 0600);
}

static void test_missing_dir_is_made_private(void **state)
{
	static const char *const names[] = { "n" };
	struct fx *f = *state;
	char sub[128];
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/tls", f->dir);
	assert_int_equal(xg_certs_init(sub, names, 1, DAYS, f->err,
				       sizeof(f->err)), 0);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(mode_of(f, "tls/n-key.pem"), 0600);
}

static void test_ca_is_a_ca(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *key;
	X509 *ca;
	int days, secs;

	assert_int_equal(init(f, NULL, 0), 0);
	ca = load_cert(f, "ca.pem");
	key = load_key(f, "ca-key.pem");
	assert_int_equal(X509_check_ca(ca), 1);
	assert_true(X509_get_key_usage(ca) & KU_KEY_CERT_SIGN);
	assert_int_equal(X509_check_private_key(ca, key), 1);
	assert_int_equal(EVP_PKEY_id(key), EVP_PKEY_EC);
	/* self-signed */
	assert_int_equal(X509_NAME_cmp(X509_get_subject_name(ca),
				       X509_get_issuer_name(ca)), 0);
	assert_int_equal(X509_verify(ca, key), 1);
	/* about ten years */
	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL,
					X509_get0_notAfter(ca)), 1);
	assert_in_range(days, 3649, 3650);
	EVP_PKEY_free(key);
	X509_free(ca);
}

static void test_leaves_verify_with_sans_and_ekus(void **state)
{
	static const char *const names[] = { "node1", "198.18.0.7" };
	struct fx *f = *state;
	X509 *ca, *n1, *ip;
	EVP_PKEY *k1;
	int days, secs;

	assert_int_equal(init(f, names, 2), 0);
	ca = load_cert(f, "ca.pem");
	n1 = load_cert(f, "node1.pem");
	ip = load_cert(f, "198.18.0.7.pem");
	k1 = load_key(f, "node1-key.pem");

	assert_int_equal(verify(ca, n1, X509_PURPOSE_SSL_CLIENT), 1);
	assert_int_equal(verify(ca, n1, X509_PURPOSE_SSL_SERVER), 1);
	assert_int_equal(verify(ca, ip, X509_PURPOSE_SSL_CLIENT), 1);
	assert_int_equal(verify(ca, ip, X509_PURPOSE_SSL_SERVER), 1);
	assert_int_equal(X509_check_private_key(n1, k1), 1);
	assert_int_equal(X509_check_ca(n1), 0);
	assert_true(X509_get_key_usage(n1) & KU_DIGITAL_SIGNATURE);
	assert_false(X509_get_key_usage(n1) & KU_KEY_CERT_SIGN);
	assert_int_equal(X509_get_extended_key_usage(n1),
			 XKU_SSL_SERVER | XKU_SSL_CLIENT);
	assert_int_equal(X509_get_extended_key_usage(ip),
			 XKU_SSL_SERVER | XKU_SSL_CLIENT);

	/* SANs: by subjectAltName only */
	assert_int_equal(X509_check_host(n1, "node1", 5,
					 X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
					 NULL), 1);
	assert_int_not_equal(X509_check_host(n1, "node2", 5,
					     X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
					     NULL), 1);
	assert_int_not_equal(X509_check_ip_asc(n1, "198.18.0.7", 0), 1);
	assert_int_equal(X509_check_ip_asc(ip, "198.18.0.7", 0), 1);
	assert_int_not_equal(X509_check_ip_asc(ip, "198.18.0.8", 0), 1);
	assert_int_equal(X509_check_host(ip, "198.18.0.7", 10,
					 X509_CHECK_FLAG_NEVER_CHECK_SUBJECT,
					 NULL), 1);

	/* validity as asked, distinct random serials */
	assert_int_equal(ASN1_TIME_diff(&days, &secs, NULL,
					X509_get0_notAfter(n1)), 1);
	assert_in_range(days, DAYS - 1, DAYS);
	assert_int_not_equal(ASN1_INTEGER_cmp(X509_get0_serialNumber(n1),
					      X509_get0_serialNumber(ip)), 0);
	assert_in_range(X509_get0_serialNumber(n1)->length, 9, 17);

	EVP_PKEY_free(k1);
	X509_free(ip);
	X509_free(n1);
	X509_free(ca);
}

static void test_rerun_reuses_ca(void **state)
{
	static const char *const first[] = { "a" };
	static const char *const second[] = { "c" };
	struct fx *f = *state;
	size_t l1, l2, k1, k2;
	char *ca1, *ca2, *key1, *key2;
	X509 *ca, *c;

	assert_int_equal(init(f, first, 1), 0);
	ca1 = slurp(f, "ca.pem", &l1);
	key1 = slurp(f, "ca-key.pem", &k1);
	assert_int_equal(init(f, second, 1), 0);
	ca2 = slurp(f, "ca.pem", &l2);
	key2 = slurp(f, "ca-key.pem", &k2);
	assert_int_equal(l1, l2);
	assert_memory_equal(ca1, ca2, l1);
	assert_int_equal(k1, k2);
	assert_memory_equal(key1, key2, k1);

	ca = load_cert(f, "ca.pem");
	c = load_cert(f, "c.pem");
	assert_int_equal(verify(ca, c, X509_PURPOSE_SSL_CLIENT), 1);
	X509_free(c);
	c = load_cert(f, "a.pem");
	assert_int_equal(verify(ca, c, X509_PURPOSE_SSL_SERVER), 1);
	X509_free(c);
	X509_free(ca);
	free(ca1);
	free(ca2);
	free(key1);
	free(key2);
}

static void test_other_ca_does_not_verify(void **state)
{
	static const char *const names[] = { "a" };
	struct fx *f = *state;
	char other[128];
	X509 *ca, *leaf;

	snprintf(other, sizeof(other), "%s/other", f->dir);
	assert_int_equal(init(f, NULL, 0), 0);
	assert_int_equal(xg_certs_init(other, names, 1, DAYS, f->err,
				       sizeof(f->err)), 0);
	ca = load_cert(f, "ca.pem");
	leaf = load_cert(f, "other/a.pem");
	assert_int_not_equal(verify(ca, leaf, X509_PURPOSE_SSL_CLIENT), 1);
	X509_free(leaf);
	X509_free(ca);
}

static void test_invalid_names_rejected(void **state)
{
	static const char *const bad[] = {
		"", "a/b", "../x", "a b", "ca", "x-key", "n\n", "é",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct fx *f = *state;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *names[] = { "good", bad[i] };

		f->err[0] = '\0';
		assert_int_equal(init(f, names, 2), -EINVAL);
		assert_true(f->err[0] != '\0');
		/* nothing written: the names are checked first */
		assert_int_equal(mode_of(f, "ca.pem"), (mode_t)-1);
		assert_int_equal(mode_of(f, "good.pem"), (mode_t)-1);
	}
	/* 63 characters is the longest name */
	{
		const char *ok[] = {
			"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"A.b_c-9",
		};
		assert_int_equal(init(f, ok, 2), 0);
	}
}

static void test_bad_arguments(void **state)
{
	static const char *const dup[] = { "a", "b", "a" };
	static const char *const one[] = { "a" };
	struct fx *f = *state;

	assert_int_equal(init(f, dup, 3), -EINVAL);
	assert_non_null(strstr(f->err, "twice"));
	assert_int_equal(xg_certs_init(f->dir, one, 1, 0, f->err,
				       sizeof(f->err)), -EINVAL);
	assert_int_equal(xg_certs_init(f->dir, one, 1, XG_CERTS_DAYS_MAX + 1,
				       f->err, sizeof(f->err)), -EINVAL);
	assert_int_equal(xg_certs_init("", one, 1, DAYS, f->err,
				       sizeof(f->err)), -EINVAL);
	assert_int_equal(mode_of(f, "ca.pem"), (mode_t)-1);
}

static void test_half_ca_refused(void **state)
{
	static const char *const names[] = { "a" };
	struct fx *f = *state;
	char p[128];

	assert_int_equal(init(f, NULL, 0), 0);
	path_of(f, "ca.pem", p, sizeof(p));
	assert_int_equal(unlink(p), 0);
	assert_int_equal(init(f, names, 1), -EINVAL);
	assert_non_null(strstr(f->err, "ca.pem"));
	/* the key was not replaced by a new CA's */
	assert_int_equal(mode_of(f, "ca.pem"), (mode_t)-1);
	assert_int_equal(mode_of(f, "a.pem"), (mode_t)-1);
}

static void test_mismatched_ca_key_refused(void **state)
{
	static const char *const names[] = { "a" };
	struct fx *f = *state;
	char from[128], to[128];

	assert_int_equal(init(f, names, 1), 0);
	path_of(f, "a-key.pem", from, sizeof(from));
	path_of(f, "ca-key.pem", to, sizeof(to));
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(init(f, names, 1), -EINVAL);
	assert_non_null(strstr(f->err, "not the key"));
}

static void test_name_check(void **state)
{
	char err[128];

	(void)state;
	assert_int_equal(xg_certs_name_check("node-1.eu_west", err,
					     sizeof(err)), 0);
	assert_int_equal(xg_certs_name_check("ca", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "reserved"));
	assert_int_equal(xg_certs_name_check("ca-key", err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(xg_certs_name_check("cab", err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_files_and_modes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_missing_dir_is_made_private,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_is_a_ca, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_leaves_verify_with_sans_and_ekus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rerun_reuses_ca, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_other_ca_does_not_verify,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_names_rejected,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_half_ca_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_mismatched_ca_key_refused,
						setup, teardown),
		cmocka_unit_test(test_name_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
