/* SPDX-License-Identifier: MIT */
#include "util/keys.h"
#include "util/atomic_file.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/digest.h>
#include <openssl/err.h>
#include <openssl/hkdf.h>
#include <openssl/sha.h>

const char xg_dev_secret[] = "xgossip-insecure-development-secret-do-not-use";

int xg_hkdf_sha256(uint8_t *out, size_t out_len, const void *ikm,
		   size_t ikm_len, const void *salt, size_t salt_len,
		   const void *info, size_t info_len)
{
	if (!HKDF(out, out_len, EVP_sha256(), ikm, ikm_len, salt, salt_len,
		  info, info_len)) {
		/* Leave nothing on this thread's error queue for TLS code that
		 * reads it later. */
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

int xg_hkdf_label(const void *secret, size_t len, const char *label,
		  uint8_t *out, size_t out_len)
{
	static const uint8_t salt[] = "xgossip v1";

	if (!secret || len == 0)
		return -EINVAL;
	return xg_hkdf_sha256(out, out_len, secret, len, salt, sizeof(salt) - 1,
			      label, strlen(label));
}

int xg_keys_derive(const void *secret, size_t len, struct xg_keys *out)
{
	int err;

	if (!secret || len == 0)
		return -EINVAL;
	err = xg_hkdf_label(secret, len, "probe mac", out->probe, 16);
	if (!err)
		err = xg_hkdf_label(secret, len, "gossip mac", out->gossip, 16);
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
