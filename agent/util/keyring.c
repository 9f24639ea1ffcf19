/* SPDX-License-Identifier: MIT */
#include "util/keyring.h"
#include "util/keys.h"

#include <errno.h>
#include <string.h>

#include <openssl/mem.h>

int xg_ring_key_derive(struct xg_ring_key *k, const uint8_t secret[XG_KEY_LEN])
{
	uint8_t id;
	int err;

	memset(k, 0, sizeof(*k));
	memcpy(k->secret, secret, XG_KEY_LEN);
	err = xg_hkdf_label(secret, XG_KEY_LEN, "key id", &id, 1);
	if (!err)
		err = xg_hkdf_label(secret, XG_KEY_LEN, "probe mac", k->probe,
				    sizeof(k->probe));
	if (!err)
		err = xg_hkdf_label(secret, XG_KEY_LEN, "gossip mac",
				    k->state_mac, sizeof(k->state_mac));
	if (!err)
		err = xg_hkdf_label(secret, XG_KEY_LEN, "gossip aead",
				    k->aead_key, sizeof(k->aead_key));
	if (err) {
		OPENSSL_cleanse(k, sizeof(*k));
		return err;
	}
	k->id = (uint8_t)(id % 255 + 1);
	return 0;
}

void xg_keyring_init(struct xg_keyring *kr)
{
	memset(kr, 0, sizeof(*kr));
}

/* Index of key in the ring, or -1.  CRYPTO_memcmp: how far a guess matched
 * must not show in the time a control request takes. */
static int find(const struct xg_keyring *kr, const uint8_t key[XG_KEY_LEN])
{
	unsigned i;

	for (i = 0; i < kr->n; i++)
		if (CRYPTO_memcmp(kr->keys[i].secret, key, XG_KEY_LEN) == 0)
			return (int)i;
	return -1;
}

int xg_keyring_install(struct xg_keyring *kr, const uint8_t key[XG_KEY_LEN])
{
	struct xg_ring_key k;
	int err;

	if (find(kr, key) >= 0)
		return 0;
	if (kr->n >= XG_KEYRING_MAX)
		return -ENOSPC;
	err = xg_ring_key_derive(&k, key);
	if (err)
		return err;
	if (xg_keyring_by_id(kr, k.id)) {
		OPENSSL_cleanse(&k, sizeof(k));
		return -EADDRINUSE;
	}
	k.rank = ++kr->clock;
	if (kr->n == 0)
		kr->primary = 0;
	kr->keys[kr->n++] = k;
	OPENSSL_cleanse(&k, sizeof(k));
	return 0;
}

int xg_keyring_use(struct xg_keyring *kr, const uint8_t key[XG_KEY_LEN])
{
	int i = find(kr, key);

	if (i < 0)
		return -ENOENT;
	if ((unsigned)i == kr->primary)
		return 0;
	kr->keys[kr->primary].rank = ++kr->clock;
	kr->primary = (unsigned)i;
	return 0;
}

int xg_keyring_remove(struct xg_keyring *kr, const uint8_t key[XG_KEY_LEN])
{
	int i = find(kr, key);
	unsigned u;

	if (i < 0)
		return -ENOENT;
	u = (unsigned)i;
	if (u == kr->primary)
		return -EBUSY;
	/* Keep install order: it is what a listing shows. */
	memmove(&kr->keys[u], &kr->keys[u + 1],
		(kr->n - u - 1) * sizeof(kr->keys[0]));
	kr->n--;
	OPENSSL_cleanse(&kr->keys[kr->n], sizeof(kr->keys[0]));
	if (kr->primary > u)
		kr->primary--;
	return 0;
}

const struct xg_ring_key *xg_keyring_primary(const struct xg_keyring *kr)
{
	return kr->n ? &kr->keys[kr->primary] : NULL;
}

const struct xg_ring_key *xg_keyring_by_id(const struct xg_keyring *kr,
					   uint8_t id)
{
	unsigned i;

	if (id == 0)
		return NULL;
	for (i = 0; i < kr->n; i++)
		if (kr->keys[i].id == id)
			return &kr->keys[i];
	return NULL;
}

const struct xg_ring_key *xg_keyring_secondary(const struct xg_keyring *kr)
{
	const struct xg_ring_key *best = NULL;
	unsigned i;

	for (i = 0; i < kr->n; i++) {
		if (i == kr->primary)
			continue;
		if (!best || kr->keys[i].rank > best->rank)
			best = &kr->keys[i];
	}
	return best;
}

void xg_keyring_wipe(struct xg_keyring *kr)
{
	OPENSSL_cleanse(kr, sizeof(*kr));
}
