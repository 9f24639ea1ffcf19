/* SPDX-License-Identifier: MIT */
/*
 * The cluster keyring for UDP: which operator keys this node holds, which
 * one it sends with, and the protocol keys derived from each.
 *
 * Operator keys are 32 random bytes, written as padded standard base64 (44
 * characters), like Serf's -encrypt keys.  A ring holds up to
 * XG_KEYRING_MAX of them.  Exactly one is primary: it seals gossip and signs
 * probes.  Every installed key opens and verifies, so a rotation is: install
 * the new key everywhere, `use` it everywhere, remove the old one
 * everywhere -- no node is ever unable to read another during the change.
 *
 * Each key yields, through xg_hkdf_label() (HKDF-SHA256, salt "xgossip v1"):
 *   id         "key id"      first byte % 255 + 1.  The 1-byte key_id in
 *                            every header names the key that authenticated
 *                            the packet, so the receiver tries one key, not
 *                            all sixteen, and the XDP program can match its
 *                            two slots.  0 is never an id (it means "no
 *                            key").  Derived rather than a slot number so
 *                            that every node gives a key the same id, in
 *                            whatever order keys were installed.  With 255
 *                            ids two keys can collide; install refuses the
 *                            second one (-EADDRINUSE) and the operator
 *                            generates another key.
 *   probe      "probe mac"   SipHash key of PING/ACK/PING-REQ/NACK (same
 *                            label as xg_keys_derive, so one secret gives
 *                            the same probe key either way).
 *   state_mac  "gossip mac"  SipHash key of the codec's inner MAC.
 *   aead_key   "gossip aead" XChaCha20-Poly1305 key (util/aead.h).
 *
 * The XDP program has two key slots: primary and "secondary".  Secondary is
 * the non-primary key most recently installed or demoted by `use`: during
 * an install-use-remove rotation that is always the key the other half of
 * the cluster is still sending with (the new one before `use`, the old one
 * after).  `rank` records that recency from the ring's own counter `clock`;
 * it is not a time.
 *
 * The ring is plain data (no pointers, no heap), so it can be copied, but
 * every copy holds secrets: wipe it with xg_keyring_wipe() when done.
 * Nothing here logs or prints key material.
 */
#ifndef XGOSSIP_UTIL_KEYRING_H
#define XGOSSIP_UTIL_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#define XG_KEY_LEN     32
#define XG_KEYRING_MAX 16
#define XG_KEY_B64_LEN 44 /* characters of a key in base64, without NUL */

struct xg_ring_key {
	uint8_t  secret[XG_KEY_LEN]; /* the operator key */
	uint8_t  id;                 /* 1..255, the wire key_id */
	uint8_t  probe[16];
	uint8_t  state_mac[16];
	uint8_t  aead_key[32];
	uint64_t rank;               /* higher = installed/demoted later */
};

struct xg_keyring {
	struct xg_ring_key keys[XG_KEYRING_MAX]; /* [0, n) in install order */
	unsigned n;
	unsigned primary;  /* index into keys; meaningless while n == 0 */
	uint64_t clock;    /* last rank handed out */
};

/* Derive id and protocol keys of secret into *k (rank 0).  0 or -EIO. */
int xg_ring_key_derive(struct xg_ring_key *k, const uint8_t secret[XG_KEY_LEN]);

/* An empty ring. */
void xg_keyring_init(struct xg_keyring *kr);

/* Add a key.  0 (also when it is already installed: installing is
 * idempotent and then changes nothing, not even its rank), -ENOSPC (ring
 * full), -EADDRINUSE (another installed key has the same id: generate a
 * different key), -EIO.  The first key of an empty ring becomes primary. */
int xg_keyring_install(struct xg_keyring *kr, const uint8_t key[XG_KEY_LEN]);

/* Make an installed key primary; the previous primary is demoted (becomes
 * the secondary).  Using the current primary changes nothing.  0 or
 * -ENOENT. */
int xg_keyring_use(struct xg_keyring *kr, const uint8_t key[XG_KEY_LEN]);

/* Remove and wipe a key.  0, -ENOENT, -EBUSY (it is primary: `use` another
 * key first, so a node never ends up without a sending key). */
int xg_keyring_remove(struct xg_keyring *kr, const uint8_t key[XG_KEY_LEN]);

/* NULL if the ring is empty. */
const struct xg_ring_key *xg_keyring_primary(const struct xg_keyring *kr);

/* The installed key with this wire id, or NULL (always NULL for id 0). */
const struct xg_ring_key *xg_keyring_by_id(const struct xg_keyring *kr,
					   uint8_t id);

/* The key the XDP program's second slot verifies with: the most recently
 * installed or demoted non-primary key; NULL if the ring has fewer than two
 * keys. */
const struct xg_ring_key *xg_keyring_secondary(const struct xg_keyring *kr);

/* OPENSSL_cleanse the whole ring; it is then empty. */
void xg_keyring_wipe(struct xg_keyring *kr);

/* --- keys in text and at rest (keyring_file.c) ------------------------ */

/* The ring on disk: a JSON array of base64 keys, primary first, then the
 * others from most to least recently installed/demoted, so that loading
 * it gives back the same primary and the same secondary.  Written
 * atomically (temp file, fsync, rename) with mode 0600 whatever the umask.
 * 0, -EINVAL (empty ring: a node without a key cannot talk, so such a file
 * is never written) or -errno. */
int xg_keyring_save(const struct xg_keyring *kr, const char *path);

/* Replace *kr by the ring in path.  On any error *kr is left untouched.
 * 0, -ENOENT (no file), -EBADMSG (not a JSON array of strings, a string
 * that is not a base64 key of exactly 32 bytes, the same key twice, or no
 * key at all), -E2BIG (more than XG_KEYRING_MAX keys, or a file far larger
 * than such a ring), -EADDRINUSE (two keys with the same id: the file was
 * not written by xgossip) or -errno.  Symlinks are followed (Kubernetes
 * mounts Secrets as links). */
int xg_keyring_load(struct xg_keyring *kr, const char *path);

/* Parse an operator key.  Surrounding whitespace (a trailing newline from
 * a file or a paste) is ignored; the rest must be strict base64 of exactly
 * XG_KEY_LEN bytes.  0 or -EINVAL. */
int xg_key_parse_b64(const char *text, uint8_t key[XG_KEY_LEN]);

/* Write key as base64 into out (44 characters and a NUL). */
void xg_key_format_b64(const uint8_t key[XG_KEY_LEN],
		       char out[XG_KEY_B64_LEN + 1]);

/* A new random key (BoringSSL RAND_bytes).  0 or -EIO. */
int xg_key_generate(uint8_t key[XG_KEY_LEN]);

/* The one-key keyring a cluster secret stands for (keyring_secret.c):
 * HKDF(secret, "keyring key").  0 or -EINVAL / -EIO. */
int xg_keyring_from_secret(struct xg_keyring *kr, const void *secret,
			   size_t len);

#endif /* XGOSSIP_UTIL_KEYRING_H */
