/* SPDX-License-Identifier: MIT */
/*
 * Turning operator secrets into protocol keys.
 *
 * One cluster secret yields independent keys for independent jobs through
 * HKDF-SHA256 with distinct labels, so a key recovered from one use (say a
 * probe MAC) says nothing about another.  The cluster id is a hash of the
 * cluster name: it keeps two clusters on one network from mixing, it is not
 * a secret.
 */
#ifndef XGOSSIP_UTIL_KEYS_H
#define XGOSSIP_UTIL_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define XG_DEFAULT_CLUSTER "default"

/* Used only when no secret is configured; the agent warns loudly. */
extern const char xg_dev_secret[];

struct xg_keys {
	uint8_t probe[16];  /* SipHash key: PING/ACK/PING-REQ/NACK */
	uint8_t gossip[16]; /* SipHash key: GOSSIP and STATE */
};

/* 0 or -EINVAL (empty secret) / -EIO (crypto failure). */
int xg_keys_derive(const void *secret, size_t len, struct xg_keys *out);

/* RFC 5869 HKDF with SHA-256: out_len bytes (at most 255 * 32) from ikm,
 * salt and info.  0, or -EIO when BoringSSL refuses (out_len too large). */
int xg_hkdf_sha256(uint8_t *out, size_t out_len, const void *ikm,
		   size_t ikm_len, const void *salt, size_t salt_len,
		   const void *info, size_t info_len);

/* The one derivation every xgossip key comes from: HKDF-SHA256 with the
 * fixed salt "xgossip v1" and the label as info.  A new kind of key gets a
 * new label, never a new salt, so one secret stays one key tree.  0, -EINVAL
 * (empty secret) or -EIO. */
int xg_hkdf_label(const void *secret, size_t len, const char *label,
		  uint8_t *out, size_t out_len);

/* First 8 bytes (big-endian) of SHA-256("xgossip cluster " || name). */
uint64_t xg_cluster_id(const char *name);

/* Read a secret file: surrounding whitespace is trimmed; at least 16 bytes
 * must remain.  *out is malloc'd and owned by the caller.  0 or -errno
 * (-EINVAL for a short secret). */
int xg_secret_read(const char *path, uint8_t **out, size_t *len);

#endif /* XGOSSIP_UTIL_KEYS_H */
