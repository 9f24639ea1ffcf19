/* SPDX-License-Identifier: MIT */
#include "util/aead.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <openssl/aead.h>
#include <openssl/err.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

#include <xgossip/wire.h>

#define OFF_KEY_ID offsetof(struct xg_hdr, key_id)
#define OFF_LEN    offsetof(struct xg_hdr, len)
#define OFF_TYPE   offsetof(struct xg_hdr, type)

size_t xg_aead_prefix_len(uint8_t type)
{
	if (type >= XG_T_PUSH && type <= XG_T_PULL_RESPONSE)
		return sizeof(struct xg_msg_hdr);
	return sizeof(struct xg_hdr);
}

/* A context per call rather than one cached per key: for ChaCha20 init is
 * a 32-byte copy, and a keyring of plain data stays copyable and trivially
 * wiped. */
static int ctx_init(EVP_AEAD_CTX *ctx, const struct xg_ring_key *k)
{
	if (!EVP_AEAD_CTX_init(ctx, EVP_aead_xchacha20_poly1305(), k->aead_key,
			       sizeof(k->aead_key), XG_AEAD_TAG, NULL)) {
		ERR_clear_error();
		return -EIO;
	}
	return 0;
}

ssize_t xg_aead_seal(const struct xg_ring_key *k, uint8_t *buf, size_t ad_len,
		     size_t pt_len, size_t cap)
{
	uint8_t *nonce = buf + ad_len, *body = nonce + XG_AEAD_NONCE;
	size_t total, out_len = 0;
	EVP_AEAD_CTX ctx;
	int ok, err;

	if (ad_len < sizeof(struct xg_hdr) ||
	    ad_len != xg_aead_prefix_len(buf[OFF_TYPE]))
		return -EINVAL;
	if (pt_len > 65535 || ad_len + pt_len + XG_AEAD_OVERHEAD > 65535)
		return -EMSGSIZE;
	total = ad_len + pt_len + XG_AEAD_OVERHEAD;
	if (cap < total)
		return -ENOBUFS;
	buf[OFF_KEY_ID] = k->id;
	buf[OFF_LEN] = (uint8_t)(total >> 8);
	buf[OFF_LEN + 1] = (uint8_t)total;
	/* BoringSSL allows in-place only with in == out exactly, so the
	 * plaintext makes room for the nonce first and is sealed where it
	 * lands. */
	memmove(body, nonce, pt_len);
	if (RAND_bytes(nonce, XG_AEAD_NONCE) != 1)
		return -EIO;
	err = ctx_init(&ctx, k);
	if (err)
		return err;
	ok = EVP_AEAD_CTX_seal(&ctx, body, &out_len, pt_len + XG_AEAD_TAG,
			       nonce, XG_AEAD_NONCE, body, pt_len, buf, ad_len);
	EVP_AEAD_CTX_cleanup(&ctx);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	if (!ok || out_len != pt_len + XG_AEAD_TAG) {
		ERR_clear_error();
		OPENSSL_cleanse(body, pt_len);
		return -EIO;
	}
	return (ssize_t)total;
}

ssize_t xg_aead_open(const struct xg_keyring *kr, uint8_t *buf, size_t len,
		     size_t ad_len, const struct xg_ring_key **used)
{
	const struct xg_ring_key *k;
	uint8_t *nonce = buf + ad_len, *body = nonce + XG_AEAD_NONCE;
	size_t ct_len, out_len = 0;
	EVP_AEAD_CTX ctx;
	int ok, err;

	if (len < sizeof(struct xg_hdr) ||
	    ad_len != xg_aead_prefix_len(buf[OFF_TYPE]) ||
	    len < ad_len + XG_AEAD_OVERHEAD ||
	    ((size_t)buf[OFF_LEN] << 8 | buf[OFF_LEN + 1]) != len)
		return -EBADMSG;
	k = xg_keyring_by_id(kr, buf[OFF_KEY_ID]);
	if (!k)
		return -ENOKEY;
	ct_len = len - ad_len - XG_AEAD_NONCE;
	err = ctx_init(&ctx, k);
	if (err)
		return err;
	ok = EVP_AEAD_CTX_open(&ctx, body, &out_len, ct_len, nonce,
			       XG_AEAD_NONCE, body, ct_len, buf, ad_len);
	EVP_AEAD_CTX_cleanup(&ctx);
	OPENSSL_cleanse(&ctx, sizeof(ctx));
	if (!ok) {
		ERR_clear_error();
		OPENSSL_cleanse(nonce, len - ad_len);
		return -EACCES;
	}
	memmove(nonce, body, out_len);
	if (used)
		*used = k;
	return (ssize_t)out_len;
}
