/* SPDX-License-Identifier: MIT */
/*
 * A cluster secret file (--cluster-secret-file) stands for a keyring of one
 * key: HKDF(secret, "keyring key").  Every node given the same secret
 * derives the same key, so a cluster can start from one shared file (a
 * Kubernetes Secret) and rotate to random keys later with `xgossipctl keys`.
 */
#include <errno.h>

#include <openssl/mem.h>

#include "util/keyring.h"
#include "util/keys.h"

int xg_keyring_from_secret(struct xg_keyring *kr, const void *secret,
			   size_t len)
{
	uint8_t key[XG_KEY_LEN];
	int err;

	if (!kr || !secret || len == 0)
		return -EINVAL;
	err = xg_hkdf_label(secret, len, "keyring key", key, sizeof(key));
	if (!err) {
		xg_keyring_init(kr);
		err = xg_keyring_install(kr, key);
	}
	OPENSSL_cleanse(key, sizeof(key));
	return err;
}
