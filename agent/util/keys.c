/* SPDX-License-Identifier: MIT */
#include "util/keys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	uint8_t buf[4096];
	size_t n = 0, start = 0;
	ssize_t r;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (n < sizeof(buf)) {
		r = read(fd, buf + n, sizeof(buf) - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (err)
		return err;
	while (start < n && isspace(buf[start]))
		start++;
	while (n > start && isspace(buf[n - 1]))
		n--;
	if (n - start < 16)
		return -EINVAL;
	*out = malloc(n - start);
	if (!*out)
		return -ENOMEM;
	memcpy(*out, buf + start, n - start);
	*len = n - start;
	memset(buf, 0, sizeof(buf));
	return 0;
}
