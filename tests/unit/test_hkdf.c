/* SPDX-License-Identifier: MIT */
/*
 * HKDF and the per-key derivation of the keyring.  The RFC 5869 outputs are
 * the RFC's; the per-key outputs were computed outside this code base (a
 * few lines of Python hmac/hashlib), so a changed label, salt, length or
 * id formula fails here instead of silently splitting a cluster whose
 * nodes run different versions.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/keyring.h"
#include "util/keys.h"

static void hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void fill_range(uint8_t *p, unsigned from, unsigned to)
{
	unsigned i;

	for (i = from; i < to; i++)
		p[i - from] = (uint8_t)i;
}

static void test_rfc5869_case1(void **state)
{
	uint8_t ikm[22], salt[13], info[10], okm[42];
	char h[2 * sizeof(okm) + 1];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	fill_range(salt, 0x00, 0x0d);
	fill_range(info, 0xf0, 0xfa);
	assert_int_equal(xg_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm), salt,
					sizeof(salt), info, sizeof(info)), 0);
	hex(okm, sizeof(okm), h);
	assert_string_equal(h, "3cb25f25faacd57a90434f64d0362f2a"
			       "2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
			       "34007208d5b887185865");
}

static void test_rfc5869_case2(void **state)
{
	uint8_t ikm[80], salt[80], info[80], okm[82];
	char h[2 * sizeof(okm) + 1];

	(void)state;
	fill_range(ikm, 0x00, 0x50);
	fill_range(salt, 0x60, 0xb0);
	fill_range(info, 0xb0, 0x100);
	assert_int_equal(xg_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm), salt,
					sizeof(salt), info, sizeof(info)), 0);
	hex(okm, sizeof(okm), h);
	assert_string_equal(h, "b11e398dc80327a1c8e7f78c596a4934"
			       "4f012eda2d4efad8a050cc4c19afa97c"
			       "59045a99cac7827271cb41c65e590e09"
			       "da3275600c2f09b8367793a9aca3db71"
			       "cc30c58179ec3e87c14c01d5c1f3434f"
			       "1d87");
}

static void test_rfc5869_case3(void **state)
{
	uint8_t ikm[22], okm[42];
	char h[2 * sizeof(okm) + 1];

	(void)state;
	memset(ikm, 0x0b, sizeof(ikm));
	assert_int_equal(xg_hkdf_sha256(okm, sizeof(okm), ikm, sizeof(ikm), NULL,
					0, NULL, 0), 0);
	hex(okm, sizeof(okm), h);
	assert_string_equal(h, "8da4e775a563c18f715f802a063c5a31"
			       "b8a11f5c5ee1879ec3454e5f3c738d2d"
			       "9d201395faa4b61a96c8");
}

static void test_hkdf_limits(void **state)
{
	uint8_t big[255 * 32 + 1], ikm[16] = { 1 };

	(void)state;
	/* RFC 5869: at most 255 blocks of output. */
	assert_int_equal(xg_hkdf_sha256(big, sizeof(big), ikm, sizeof(ikm), NULL,
					0, NULL, 0), -EIO);
	assert_int_equal(xg_hkdf_sha256(big, sizeof(big) - 1, ikm, sizeof(ikm),
					NULL, 0, NULL, 0), 0);
	assert_int_equal(xg_hkdf_label(ikm, 0, "x", big, 16), -EINVAL);
	assert_int_equal(xg_hkdf_label(NULL, 16, "x", big, 16), -EINVAL);
}

struct golden {
	uint8_t secret[XG_KEY_LEN];
	uint8_t id;
	const char *probe, *state_mac, *aead;
};

static void check_golden(const struct golden *g)
{
	struct xg_ring_key k;
	char h[65];

	assert_int_equal(xg_ring_key_derive(&k, g->secret), 0);
	assert_memory_equal(k.secret, g->secret, XG_KEY_LEN);
	assert_int_equal(k.id, g->id);
	hex(k.probe, sizeof(k.probe), h);
	assert_string_equal(h, g->probe);
	hex(k.state_mac, sizeof(k.state_mac), h);
	assert_string_equal(h, g->state_mac);
	hex(k.aead_key, sizeof(k.aead_key), h);
	assert_string_equal(h, g->aead);
	assert_true(k.rank == 0);
}

static void test_ring_key_golden(void **state)
{
	/* AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8= */
	struct golden g1 = {
		.id = 143,
		.probe = "9f062ef383c9ff6d7eb698cf7561fcfe",
		.state_mac = "58129a5aae992f8956b17301a57582e7",
		.aead = "332c84f699ce917fc769d7a9fa2f4bb2"
			"b8ff07390e19c2adc12d56d950b919af",
	};
	/* nEM7NeNrINsOhXLF/e1lCVumF26jX/kVURT4CoHJ1Eo=
	 * (SHA-256 of "xgossip test key 2") */
	struct golden g2 = {
		.secret = { 0x9c, 0x43, 0x3b, 0x35, 0xe3, 0x6b, 0x20, 0xdb,
			    0x0e, 0x85, 0x72, 0xc5, 0xfd, 0xed, 0x65, 0x09,
			    0x5b, 0xa6, 0x17, 0x6e, 0xa3, 0x5f, 0xf9, 0x15,
			    0x51, 0x14, 0xf8, 0x0a, 0x81, 0xc9, 0xd4, 0x4a },
		.id = 111,
		.probe = "0882fd9476a723c312f0e7e5af941d5d",
		.state_mac = "123c72fb63a825429aea36350451482f",
		.aead = "c414f2a32f189a008e85a109bc887462"
			"a76c3791c98b896e94ee3a2896241cff",
	};

	(void)state;
	fill_range(g1.secret, 0, XG_KEY_LEN);
	check_golden(&g1);
	check_golden(&g2);
}

/* A ring key and the single-secret derivation agree on the probe and
 * gossip MAC keys: a node that moves its secret into a keyring keeps
 * talking to nodes that have not. */
static void test_ring_key_matches_keys_derive(void **state)
{
	struct xg_ring_key k;
	struct xg_keys old;
	uint8_t secret[XG_KEY_LEN];

	(void)state;
	fill_range(secret, 100, 100 + XG_KEY_LEN);
	assert_int_equal(xg_ring_key_derive(&k, secret), 0);
	assert_int_equal(xg_keys_derive(secret, sizeof(secret), &old), 0);
	assert_memory_equal(k.probe, old.probe, 16);
	assert_memory_equal(k.state_mac, old.gossip, 16);
	assert_memory_not_equal(k.aead_key, k.probe, 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc5869_case1),
		cmocka_unit_test(test_rfc5869_case2),
		cmocka_unit_test(test_rfc5869_case3),
		cmocka_unit_test(test_hkdf_limits),
		cmocka_unit_test(test_ring_key_golden),
		cmocka_unit_test(test_ring_key_matches_keys_derive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
