/* SPDX-License-Identifier: MIT */
/*
 * Base64, standard alphabet (RFC 4648 section 4) with '=' padding, the form
 * operators see their keys in.
 *
 * The decoder is strict on purpose: a key is copied by hand between hosts,
 * and a decoder that skipped stray characters, accepted missing padding or
 * ignored non-zero bits in the last character would let two different
 * strings name the same key (or a mangled paste install a key nobody meant).
 * Exactly one spelling decodes to a given byte string.  No whitespace, no
 * URL-safe alphabet.
 *
 * Hand-written rather than BoringSSL's EVP_DecodeBase64 so the character
 * mapping can avoid secret-indexed table lookups (the input is key
 * material) and so the strictness rules are ours and tested here.
 */
#ifndef XGOSSIP_UTIL_BASE64_H
#define XGOSSIP_UTIL_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters xg_b64_encode writes for n bytes, not counting the NUL. */
#define XG_B64_ENCODED_LEN(n) (4 * (((n) + 2) / 3))

/* Encode n bytes into out, which must hold XG_B64_ENCODED_LEN(n) + 1
 * characters; out is NUL-terminated. */
void xg_b64_encode(const uint8_t *in, size_t n, char *out);

/* Decode in[0..in_len) into out (cap bytes); *out_len gets the byte count.
 * 0, -EINVAL (not canonical padded base64: length not a multiple of 4, a
 * character outside the alphabet, misplaced or excess '=', non-zero unused
 * bits) or -ENOBUFS (cap too small).  out is undefined on error. */
int xg_b64_decode(const char *in, size_t in_len, uint8_t *out, size_t cap,
		  size_t *out_len);

#endif /* XGOSSIP_UTIL_BASE64_H */
