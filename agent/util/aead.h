/* SPDX-License-Identifier: MIT */
/*
 * Sealing UDP packets with the keyring: XChaCha20-Poly1305.
 *
 * Layout of every sealed packet:
 *
 *   [ cleartext prefix, ad_len bytes, starts with struct xg_hdr ]
 *   [ nonce, 24 ] [ ciphertext ] [ tag, 16 ]
 *
 * The prefix stays readable because the XDP program needs it: the header
 * to drop other clusters' packets, and for PUSH..PULL_RESPONSE the message
 * id of struct xg_msg_hdr to drop duplicates.  It is the AEAD's additional
 * data, so changing any byte of it (type, flags, key_id, len, cluster id,
 * message id, sender) fails authentication just like changing the body.
 * hdr.len (total length) and hdr.key_id are filled in by xg_aead_seal
 * before sealing, so they are covered too.
 *
 * Nonces are 24 random bytes per packet.  With ChaCha20-Poly1305's 96-bit
 * nonce a random nonce repeats after about 2^32 packets per key with
 * dangerous probability, and a repeat gives away the authentication key;
 * with XChaCha20's 192 bits the collision chance stays negligible
 * (about n^2 / 2^193) for any number of packets a cluster could ever send
 * under one key, so no counter has to be kept, persisted across restarts or
 * coordinated between nodes sharing a key.
 *
 * The key is chosen by hdr.key_id (util/keyring.h): the sender's primary
 * seals, any installed key opens.
 */
#ifndef XGOSSIP_UTIL_AEAD_H
#define XGOSSIP_UTIL_AEAD_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/keyring.h"

#define XG_AEAD_NONCE    24
#define XG_AEAD_TAG      16
#define XG_AEAD_OVERHEAD (XG_AEAD_NONCE + XG_AEAD_TAG)

/* Cleartext prefix length for a packet type: sizeof(struct xg_msg_hdr)
 * (40) for XG_T_PUSH..XG_T_PULL_RESPONSE, sizeof(struct xg_hdr) (16) for
 * everything else. */
size_t xg_aead_prefix_len(uint8_t type);

/* Seal in place.  buf[0, ad_len) is the prefix (header filled in except len
 * and key_id), buf[ad_len, ad_len + pt_len) the plaintext, cap the size of
 * buf.  The plaintext moves up behind the nonce and is encrypted; key_id
 * and len (big-endian) are set.  Returns the packet's total length,
 * ad_len + pt_len + XG_AEAD_OVERHEAD, or -EINVAL (ad_len is not
 * xg_aead_prefix_len() of the header's type), -EMSGSIZE (total over
 * 65535, which hdr.len cannot say), -ENOBUFS (cap too small), -EIO. */
ssize_t xg_aead_seal(const struct xg_ring_key *k, uint8_t *buf, size_t ad_len,
		     size_t pt_len, size_t cap);

/* Open in place a packet of len bytes whose prefix is ad_len bytes.
 * -EBADMSG when it cannot be a sealed packet: shorter than ad_len +
 * XG_AEAD_OVERHEAD, ad_len not the prefix length of its type, hdr.len not
 * len.  -ENOKEY when hdr.key_id names no installed key, -EACCES when
 * authentication fails (forged or damaged; the body is then zeroed so no
 * unauthenticated plaintext is left for anyone to use).  On success the
 * plaintext is at buf + ad_len, its length is returned and *used is the key
 * that opened it (used may be NULL). */
ssize_t xg_aead_open(const struct xg_keyring *kr, uint8_t *buf, size_t len,
		     size_t ad_len, const struct xg_ring_key **used);

#endif /* XGOSSIP_UTIL_AEAD_H */
