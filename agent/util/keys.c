/* SPDX-License-Identifier: MIT */
#include "util/keys.h"
#include "util/atomic_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/digest.h>
#include <openssl/hkdf.h>
#include <openssl/sha.h>

const char xg_dev_secret[] = "xgossip-insecure-development-secret-do-not-use";

static int hkdf_label(const void *secret, size_t len, const char *label,
		      uint8_t out[16])
{
	static const uint8_t salt[] = "xgossip v1";

	if (!HKDF(out, 16, EVP_sha256(), secret, len, salt, sizeof(salt) - 1,
		  (const uint8_t *)label, strlen(label)))
		return -EIO;
	return 0;
}

int xg_keys_derive(const void *secret, size_t len, struct xg_keys *out)
{
	int err;

	if (!secret || len == 0)
		return -EINVAL;
	err = hkdf_label(secret, len, "probe mac", out->probe);
	if (!err)
		err = hkdf_label(secret, len, "gossip mac", out->gossip);
	return err;
}

uint64_t xg_cluster_id(const char *name)
{
	static const char prefix[] = "xgossip cluster ";
	uint8_t md[SHA256_DIGEST_LENGTH];
	SHA256_CTX ctx;
	uint64_t id = 0;
	int i;

	SHA256_Init(&ctx);
	SHA256_Update(&ctx, prefix, sizeof(prefix) - 1);
	SHA256_Update(&ctx, name, strlen(name));
	SHA256_Final(md, &ctx);
	for (i = 0; i < 8; i++)
		id = id << 8 | md[i];
	return id;
}

int xg_secret_read(const char *path, uint8_t **out, size_t *len)
{
	char buf[4096];
	size_t n, start = 0;
	int err;

	err = xg_file_read_path(path, buf, sizeof(buf), &n);
	if (err)
		goto out;
	while (start < n && isspace((unsigned char)buf[start]))
		start++;
	while (n > start && isspace((unsigned char)buf[n - 1]))
		n--;
	err = -EINVAL;
	if (n - start < 16)
		goto out;
	err = -ENOMEM;
	*out = malloc(n - start);
	if (!*out)
		goto out;
	memcpy(*out, buf + start, n - start);
	*len = n - start;
	err = 0;
out:
	/* The secret must not linger on the stack. */
	explicit_bzero(buf, sizeof(buf));
	return err;
}
