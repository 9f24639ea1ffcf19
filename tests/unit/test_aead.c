/* SPDX-License-Identifier: MIT */
/*
 * Sealed UDP packets: round trips at every interesting size, and that any
 * change to any part of a packet -- cleartext prefix, nonce, ciphertext,
 * tag, length -- is refused.
 */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xgossip/wire.h>

#include "util/aead.h"
#include "util/keyring.h"

#define CLUSTER_ID 0x1122334455667788ULL

struct fix {
	struct xg_keyring ring;  /* key A (primary) and key B */
	struct xg_keyring only_b;
	uint8_t a[XG_KEY_LEN], b[XG_KEY_LEN];
};

static void key_fill(uint8_t k[XG_KEY_LEN], uint8_t seed)
{
	unsigned i;

	for (i = 0; i < XG_KEY_LEN; i++)
		k[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	key_fill(f->a, 1);
	key_fill(f->b, 2);
	xg_keyring_init(&f->ring);
	assert_int_equal(xg_keyring_install(&f->ring, f->a), 0);
	assert_int_equal(xg_keyring_install(&f->ring, f->b), 0);
	xg_keyring_init(&f->only_b);
	assert_int_equal(xg_keyring_install(&f->only_b, f->b), 0);
	/* The tests below need two distinct ids. */
	assert_int_not_equal(f->ring.keys[0].id, f->ring.keys[1].id);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	xg_keyring_wipe(&f->ring);
	xg_keyring_wipe(&f->only_b);
	free(f);
	return 0;
}

/* A prefix of the right length for type, header filled except len/key_id,
 * followed by pt_len bytes of pattern.  Returns ad_len. */
static size_t build(uint8_t *buf, uint8_t type, size_t pt_len, uint8_t seed)
{
	size_t ad = xg_aead_prefix_len(type), i;
	struct xg_hdr *h = (struct xg_hdr *)buf;

	memset(buf, 0, ad);
	h->magic = htobe16(XG_MAGIC);
	h->version = XG_VERSION;
	h->type = type;
	h->flags = 0x5a;
	h->cluster_id = htobe64(CLUSTER_ID);
	for (i = sizeof(*h); i < ad; i++)
		buf[i] = (uint8_t)(0xa0 + i); /* message id, sender id */
	for (i = 0; i < pt_len; i++)
		buf[ad + i] = (uint8_t)(seed + i * 13);
	return ad;
}

static void roundtrip(struct fix *f, uint8_t type, size_t pt_len)
{
	static uint8_t buf[XG_UDP_MAX], want[XG_UDP_MAX];
	const struct xg_ring_key *used = NULL, *pk = xg_keyring_primary(&f->ring);
	size_t ad = build(want, type, pt_len, (uint8_t)pt_len);
	ssize_t n;

	memcpy(buf, want, ad + pt_len);
	n = xg_aead_seal(pk, buf, ad, pt_len, sizeof(buf));
	assert_int_equal(n, ad + pt_len + XG_AEAD_OVERHEAD);
	assert_int_equal(buf[offsetof(struct xg_hdr, key_id)], pk->id);
	assert_int_equal(be16toh(((struct xg_hdr *)buf)->len), n);
	/* The rest of the prefix is sent as it was. */
	assert_memory_equal(buf, want, offsetof(struct xg_hdr, key_id));
	assert_memory_equal(buf + sizeof(struct xg_hdr), want + sizeof(struct xg_hdr),
			    ad - sizeof(struct xg_hdr));
	if (pt_len >= 16)
		assert_memory_not_equal(buf + ad + XG_AEAD_NONCE, want + ad, 16);

	assert_int_equal(xg_aead_open(&f->ring, buf, (size_t)n, ad, &used), pt_len);
	assert_ptr_equal(used, pk);
	assert_memory_equal(buf + ad, want + ad, pt_len);
	assert_memory_equal(buf + sizeof(struct xg_hdr), want + sizeof(struct xg_hdr),
			    ad - sizeof(struct xg_hdr));
}

static void test_roundtrip_sizes(void **state)
{
	static const uint8_t types[] = { XG_T_GOSSIP, XG_T_PUSH,
					 XG_T_PULL_RESPONSE, XG_T_PUSH_ACK };
	size_t sizes[] = { 0, 1, 15, 16, 17, 63, 64, 255, 256, 1000, 0 };
	unsigned t, s;

	for (t = 0; t < sizeof(types); t++) {
		size_t ad = xg_aead_prefix_len(types[t]);

		/* The largest plaintext that fits a XG_UDP_MAX datagram. */
		sizes[sizeof(sizes) / sizeof(sizes[0]) - 1] =
			XG_UDP_MAX - ad - XG_AEAD_OVERHEAD;
		for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			roundtrip(*state, types[t], sizes[s]);
	}
}

static void test_prefix_len(void **state)
{
	unsigned t;

	(void)state;
	assert_int_equal(xg_aead_prefix_len(XG_T_GOSSIP), 16);
	assert_int_equal(xg_aead_prefix_len(XG_T_PING), 16);
	assert_int_equal(xg_aead_prefix_len(XG_T_STATE), 16);
	for (t = XG_T_PUSH; t <= XG_T_PULL_RESPONSE; t++)
		assert_int_equal(xg_aead_prefix_len((uint8_t)t), 40);
	assert_int_equal(xg_aead_prefix_len(XG_T_PULL_RESPONSE + 1), 16);
	assert_int_equal(xg_aead_prefix_len(0), 16);
}

/* Seal a packet of type/pt_len with key k into buf; returns its length. */
static size_t sealed(const struct xg_ring_key *k, uint8_t *buf, size_t cap,
		     uint8_t type, size_t pt_len, size_t *ad)
{
	ssize_t n;

	*ad = build(buf, type, pt_len, 7);
	n = xg_aead_seal(k, buf, *ad, pt_len, cap);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_any_installed_key_opens(void **state)
{
	struct fix *f = *state;
	const struct xg_ring_key *kb = xg_keyring_by_id(&f->ring, f->ring.keys[1].id);
	const struct xg_ring_key *used = NULL;
	uint8_t buf[256];
	size_t ad, n;

	/* A peer that already uses B; we hold B as a non-primary key. */
	n = sealed(kb, buf, sizeof(buf), XG_T_GOSSIP, 100, &ad);
	assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, &used), 100);
	assert_ptr_equal(used, kb);
	/* used may be NULL. */
	n = sealed(kb, buf, sizeof(buf), XG_T_GOSSIP, 10, &ad);
	assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), 10);
}

static void test_wrong_key(void **state)
{
	struct fix *f = *state;
	const struct xg_ring_key *ka = xg_keyring_primary(&f->ring);
	struct xg_keyring forged;
	uint8_t buf[256], copy[256];
	size_t ad, n;

	n = sealed(ka, buf, sizeof(buf), XG_T_PUSH, 60, &ad);
	memcpy(copy, buf, n);
	/* A ring without key A has no key of that id. */
	assert_int_equal(xg_aead_open(&f->only_b, buf, n, ad, NULL), -ENOKEY);
	assert_memory_equal(buf, copy, n);
	/* A ring whose (different) key claims A's id: the id picks the key,
	 * the tag still refuses it. */
	forged = f->only_b;
	forged.keys[0].id = ka->id;
	assert_int_equal(xg_aead_open(&forged, buf, n, ad, NULL), -EACCES);
	xg_keyring_wipe(&forged);
	/* key_id 0 is never a key. */
	memcpy(buf, copy, n);
	buf[offsetof(struct xg_hdr, key_id)] = 0;
	assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), -ENOKEY);
}

/* Every byte of the cleartext prefix is authenticated. */
static void tamper_prefix(struct fix *f, uint8_t type)
{
	const struct xg_ring_key *ka = xg_keyring_primary(&f->ring);
	uint8_t buf[256], copy[256];
	size_t ad, n, i;
	int bit;

	n = sealed(ka, copy, sizeof(copy), type, 50, &ad);
	for (i = 0; i < ad; i++) {
		for (bit = 0; bit < 8; bit++) {
			ssize_t r;

			memcpy(buf, copy, n);
			buf[i] ^= (uint8_t)(1u << bit);
			r = xg_aead_open(&f->ring, buf, n, ad, NULL);
			if (i == offsetof(struct xg_hdr, len) ||
			    i == offsetof(struct xg_hdr, len) + 1)
				assert_int_equal(r, -EBADMSG);
			else if (i == offsetof(struct xg_hdr, key_id))
				assert_true(r == -ENOKEY || r == -EACCES);
			else if (i == offsetof(struct xg_hdr, type))
				assert_true(r == -EBADMSG || r == -EACCES);
			else
				assert_int_equal(r, -EACCES);
		}
	}
	/* The untouched packet still opens. */
	memcpy(buf, copy, n);
	assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), 50);
}

static void test_tampered_prefix(void **state)
{
	tamper_prefix(*state, XG_T_GOSSIP);
	tamper_prefix(*state, XG_T_PUSH);
	tamper_prefix(*state, XG_T_PULL_SYNC);
}

/* Every byte of nonce, ciphertext and tag is authenticated, and a refused
 * packet leaves no plaintext behind. */
static void test_tampered_body(void **state)
{
	struct fix *f = *state;
	const struct xg_ring_key *ka = xg_keyring_primary(&f->ring);
	static uint8_t buf[XG_UDP_MAX], copy[XG_UDP_MAX];
	static const uint8_t zero[XG_UDP_MAX];
	size_t ad, n, i, pt = 700;

	n = sealed(ka, copy, sizeof(copy), XG_T_PUSH, pt, &ad);
	for (i = ad; i < n; i++) {
		/* All of nonce and tag; a stride through the ciphertext. */
		int in_ct = i >= ad + XG_AEAD_NONCE && i < n - XG_AEAD_TAG;

		if (in_ct && (i - ad) % 7 != 0 && i != n - XG_AEAD_TAG - 1)
			continue;
		memcpy(buf, copy, n);
		buf[i] ^= (uint8_t)(0x80 >> (i % 8));
		assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), -EACCES);
		assert_memory_equal(buf, copy, ad);
		assert_memory_equal(buf + ad, zero, n - ad);
	}
}

static void set_len(uint8_t *buf, size_t len)
{
	((struct xg_hdr *)buf)->len = htobe16((uint16_t)len);
}

static void test_truncated(void **state)
{
	struct fix *f = *state;
	const struct xg_ring_key *ka = xg_keyring_primary(&f->ring);
	uint8_t buf[256], copy[256];
	size_t ad, n, len;
	unsigned t;
	static const uint8_t types[] = { XG_T_GOSSIP, XG_T_PUSH };

	for (t = 0; t < sizeof(types); t++) {
		/* An empty plaintext: the shortest valid packet. */
		n = sealed(ka, copy, sizeof(copy), types[t], 0, &ad);
		assert_int_equal(n, ad + XG_AEAD_OVERHEAD);
		for (len = 0; len < n; len++) {
			/* hdr.len agreeing with the short length, so the minimum
			 * size is what refuses it... */
			memcpy(buf, copy, n);
			if (len >= sizeof(struct xg_hdr))
				set_len(buf, len);
			assert_int_equal(xg_aead_open(&f->ring, buf, len, ad, NULL),
					 -EBADMSG);
			/* ...and as received, with the original hdr.len. */
			memcpy(buf, copy, n);
			assert_int_equal(xg_aead_open(&f->ring, buf, len, ad, NULL),
					 -EBADMSG);
		}
		memcpy(buf, copy, n);
		assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), 0);
	}
	/* Truncating a longer packet at a length that is still above the
	 * minimum, hdr.len adjusted: the tag refuses it. */
	n = sealed(ka, copy, sizeof(copy), XG_T_GOSSIP, 100, &ad);
	memcpy(buf, copy, n);
	set_len(buf, n - 1);
	assert_int_equal(xg_aead_open(&f->ring, buf, n - 1, ad, NULL), -EACCES);
}

static void test_len_mismatch(void **state)
{
	struct fix *f = *state;
	const struct xg_ring_key *ka = xg_keyring_primary(&f->ring);
	uint8_t buf[256], copy[256];
	size_t ad, n;

	n = sealed(ka, copy, sizeof(copy), XG_T_GOSSIP, 100, &ad);
	/* Trailing bytes after the packet. */
	memcpy(buf, copy, n);
	buf[n] = 0;
	assert_int_equal(xg_aead_open(&f->ring, buf, n + 1, ad, NULL), -EBADMSG);
	/* A header that claims more or less than arrived. */
	memcpy(buf, copy, n);
	set_len(buf, n + 1);
	assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), -EBADMSG);
	set_len(buf, n - 1);
	assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), -EBADMSG);
	set_len(buf, 0);
	assert_int_equal(xg_aead_open(&f->ring, buf, n, ad, NULL), -EBADMSG);
	/* The caller's prefix length must match the packet's type. */
	memcpy(buf, copy, n);
	assert_int_equal(xg_aead_open(&f->ring, buf, n, 40, NULL), -EBADMSG);
	assert_memory_equal(buf, copy, n);
}

static void test_nonce_is_random(void **state)
{
	struct fix *f = *state;
	const struct xg_ring_key *ka = xg_keyring_primary(&f->ring);
	uint8_t p1[128], p2[128];
	size_t ad, n1, n2;

	n1 = sealed(ka, p1, sizeof(p1), XG_T_GOSSIP, 64, &ad);
	n2 = sealed(ka, p2, sizeof(p2), XG_T_GOSSIP, 64, &ad);
	assert_int_equal(n1, n2);
	assert_memory_equal(p1, p2, ad);
	assert_memory_not_equal(p1 + ad, p2 + ad, XG_AEAD_NONCE);
	assert_memory_not_equal(p1 + ad + XG_AEAD_NONCE, p2 + ad + XG_AEAD_NONCE,
				64 + XG_AEAD_TAG);
	assert_int_equal(xg_aead_open(&f->ring, p1, n1, ad, NULL), 64);
	assert_int_equal(xg_aead_open(&f->ring, p2, n2, ad, NULL), 64);
	assert_memory_equal(p1 + ad, p2 + ad, 64);
}

static void test_seal_errors(void **state)
{
	struct fix *f = *state;
	const struct xg_ring_key *ka = xg_keyring_primary(&f->ring);
	static uint8_t buf[70000];
	size_t ad;

	/* Prefix length that does not match the type. */
	ad = build(buf, XG_T_GOSSIP, 10, 1);
	assert_int_equal(xg_aead_seal(ka, buf, 40, 10, sizeof(buf)), -EINVAL);
	ad = build(buf, XG_T_PUSH, 10, 1);
	assert_int_equal(xg_aead_seal(ka, buf, 16, 10, sizeof(buf)), -EINVAL);
	assert_int_equal(xg_aead_seal(ka, buf, 8, 10, sizeof(buf)), -EINVAL);
	/* Exactly room enough, and one byte short. */
	ad = build(buf, XG_T_GOSSIP, 10, 1);
	assert_int_equal(xg_aead_seal(ka, buf, ad, 10, ad + 10 + XG_AEAD_OVERHEAD - 1),
			 -ENOBUFS);
	assert_int_equal(xg_aead_seal(ka, buf, ad, 10, ad + 10 + XG_AEAD_OVERHEAD),
			 ad + 10 + XG_AEAD_OVERHEAD);
	/* hdr.len is 16 bits. */
	ad = build(buf, XG_T_GOSSIP, 0, 1);
	assert_int_equal(xg_aead_seal(ka, buf, ad, 65535 - ad - XG_AEAD_OVERHEAD + 1,
				      sizeof(buf)), -EMSGSIZE);
	assert_int_equal(xg_aead_seal(ka, buf, ad, (size_t)-1 / 2, sizeof(buf)),
			 -EMSGSIZE);
	assert_int_equal(xg_aead_seal(ka, buf, ad, 65535 - ad - XG_AEAD_OVERHEAD,
				      sizeof(buf)), 65535);
	assert_int_equal(xg_aead_open(&f->ring, buf, 65535, ad, NULL),
			 65535 - ad - XG_AEAD_OVERHEAD);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix_len),
		cmocka_unit_test_setup_teardown(test_roundtrip_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_any_installed_key_opens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_len_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nonce_is_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seal_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
