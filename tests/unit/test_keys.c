/* SPDX-License-Identifier: MIT */
/*
 * Key derivation and secret files.  The expected keys were computed outside
 * this code base (Python's hmac/hashlib, RFC 5869 HKDF), so a change of
 * salt, label or hash cannot slip through as "still self-consistent".
 */
#include <errno.h>
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

#include "util/keys.h"

static const char secret[] = "0123456789abcdef-test-secret";

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void test_derive_vectors(void **state)
{
	struct xg_keys k;
	char h[33];

	(void)state;
	assert_int_equal(xg_keys_derive(secret, strlen(secret), &k), 0);
	hex(k.probe, 16, h);
	assert_string_equal(h, "d5d89909c14f52ba4b0a5fd8bace0caa");
	hex(k.gossip, 16, h);
	assert_string_equal(h, "2648bfb91bbb1c7947bf4c54d2739f2d");
	assert_int_equal(xg_keys_derive(secret, 0, &k), -EINVAL);
	assert_int_equal(xg_keys_derive(NULL, 4, &k), -EINVAL);
}

static void test_cluster_id(void **state)
{
	(void)state;
	assert_true(xg_cluster_id("default") == 0x2269f7d72ea58883ULL);
	assert_true(xg_cluster_id("a") != xg_cluster_id("b"));
}

struct tmp {
	char dir[64];
	char file[96];
	char link[96];
};

static void tmp_make(struct tmp *t, const char *content)
{
	FILE *f;

	strcpy(t->dir, "/tmp/xg-keys-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->file, sizeof(t->file), "%s/secret", t->dir);
	snprintf(t->link, sizeof(t->link), "%s/link", t->dir);
	f = fopen(t->file, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	assert_int_equal(symlink("secret", t->link), 0);
}

static void tmp_drop(struct tmp *t)
{
	unlink(t->link);
	unlink(t->file);
	rmdir(t->dir);
}

static void test_secret_trimmed_and_links_followed(void **state)
{
	struct tmp t;
	uint8_t *s = NULL;
	size_t n = 0;

	(void)state;
	tmp_make(&t, "  \n0123456789abcdef-test-secret\n\n");
	assert_int_equal(xg_secret_read(t.file, &s, &n), 0);
	assert_int_equal(n, strlen(secret));
	assert_memory_equal(s, secret, n);
	free(s);
	/* Kubernetes mounts Secret files as symlinks into ..data/. */
	assert_int_equal(xg_secret_read(t.link, &s, &n), 0);
	assert_int_equal(n, strlen(secret));
	free(s);
	tmp_drop(&t);
}

static void test_secret_rejects_short_and_missing(void **state)
{
	struct tmp t;
	uint8_t *s = NULL;
	size_t n = 0;

	(void)state;
	tmp_make(&t, "  fifteen-bytes!  \n");
	assert_int_equal(xg_secret_read(t.file, &s, &n), -EINVAL);
	assert_null(s);
	assert_int_equal(xg_secret_read("/nonexistent/xg-secret", &s, &n),
			 -ENOENT);
	tmp_drop(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_derive_vectors),
		cmocka_unit_test(test_cluster_id),
		cmocka_unit_test(test_secret_trimmed_and_links_followed),
		cmocka_unit_test(test_secret_rejects_short_and_missing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
