/* SPDX-License-Identifier: MIT */
/*
 * SipHash-2-4 as compiled into both the XDP program and the agent: checked
 * against the reference test vectors and, on random inputs, against
 * BoringSSL's independent implementation.  If either disagrees, kernel and
 * userspace MACs would still match each other but no other SipHash would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/siphash.h>
#include <xgossip/siphash.h>

/* Reference vectors: key 00 01 .. 0f, message 00 01 .. (n-1), output as
 * the 8 bytes the reference implementation writes (little-endian). */
static const char *const ref_vectors[64] = {
	"310e0edd47db6f72", /*  0 */
	"fd67dc93c539f874", /*  1 */
	"5a4fa9d909806c0d", /*  2 */
	"2d7efbd796666785", /*  3 */
	"b7877127e09427cf", /*  4 */
	"8da699cd64557618", /*  5 */
	"cee3fe586e46c9cb", /*  6 */
	"37d1018bf50002ab", /*  7 */
	"6224939a79f5f593", /*  8 */
	"b0e4a90bdf82009e", /*  9 */
	"f3b9dd94c5bb5d7a", /* 10 */
	"a7ad6b22462fb3f4", /* 11 */
	"fbe50e86bc8f1e75", /* 12 */
	"903d84c02756ea14", /* 13 */
	"eef27a8e90ca23f7", /* 14 */
	"e545be4961ca29a1", /* 15 */
	"db9bc2577fcc2a3f", /* 16 */
	"9447be2cf5e99a69", /* 17 */
	"9cd38d96f0b3c14b", /* 18 */
	"bd6179a71dc96dbb", /* 19 */
	"98eea21af25cd6be", /* 20 */
	"c7673b2eb0cbf2d0", /* 21 */
	"883ea3e395675393", /* 22 */
	"c8ce5ccd8c030ca8", /* 23 */
	"94af49f6c650adb8", /* 24 */
	"eab8858ade92e1bc", /* 25 */
	"f315bb5bb835d817", /* 26 */
	"adcf6b0763612e2f", /* 27 */
	"a5c91da7acaa4dde", /* 28 */
	"716595876650a2a6", /* 29 */
	"28ef495c53a387ad", /* 30 */
	"42c341d8fa92d832", /* 31 */
	"ce7cf2722f512771", /* 32 */
	"e37859f94623f3a7", /* 33 */
	"381205bb1ab0e012", /* 34 */
	"ae97a10fd434e015", /* 35 */
	"b4a31508beff4d31", /* 36 */
	"81396229f0907902", /* 37 */
	"4d0cf49ee5d4dcca", /* 38 */
	"5c73336a76d8bf9a", /* 39 */
	"d0a704536ba93e0e", /* 40 */
	"925958fcd6420cad", /* 41 */
	"a915c29bc8067318", /* 42 */
	"952b79f3bc0aa6d4", /* 43 */
	"f21df2e41d4535f9", /* 44 */
	"87577519048f53a9", /* 45 */
	"10a56cf5dfcd9adb", /* 46 */
	"eb75095ccd986cd0", /* 47 */
	"51a9cb9ecba312e6", /* 48 */
	"96afadfc2ce666c7", /* 49 */
	"72fe52975a4364ee", /* 50 */
	"5a1645b276d592a1", /* 51 */
	"b274cb8ebf87870a", /* 52 */
	"6f9bb4203de7b381", /* 53 */
	"eaecb2a30b22a87f", /* 54 */
	"9924a43cc1315724", /* 55 */
	"bd838d3aafbf8db7", /* 56 */
	"0b1a2a3265d51aea", /* 57 */
	"135079a3231ce660", /* 58 */
	"932b2846e4d70666", /* 59 */
	"e1915f5cb1eca46c", /* 60 */
	"f325965ca16d629f", /* 61 */
	"575ff28e60381be5", /* 62 */
	"724506eb4c328a95", /* 63 */
};

static uint64_t rng_state;

/* splitmix64: tiny, deterministic, good enough to spread test inputs. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void rng_fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)rng_next();
}

static void hex_to_bytes(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	unsigned v;

	assert_int_equal(strlen(hex), 2 * n);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static void test_reference_vectors(void **state)
{
	uint8_t key[XG_SIPKEY_LEN], msg[64], want[8], got[8];
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(key); n++)
		key[n] = (uint8_t)n;
	for (n = 0; n < sizeof(msg); n++)
		msg[n] = (uint8_t)n;
	for (n = 0; n < 64; n++) {
		hex_to_bytes(ref_vectors[n], want, sizeof(want));
		xg_mac_store(got, xg_siphash24(key, msg, (__u32)n));
		if (memcmp(got, want, sizeof(want)) != 0)
			fail_msg("SipHash-2-4 vector %zu differs", n);
	}
}

/* The vectors also pin BoringSSL's convention, so the random comparison
 * below is comparing like with like. */
static void test_boringssl_agrees_on_vectors(void **state)
{
	uint8_t key[XG_SIPKEY_LEN], msg[64], want[8], got[8];
	uint64_t k[2];
	size_t n;

	(void)state;
	for (n = 0; n < sizeof(key); n++)
		key[n] = (uint8_t)n;
	for (n = 0; n < sizeof(msg); n++)
		msg[n] = (uint8_t)n;
	k[0] = xg_load_le64(key);
	k[1] = xg_load_le64(key + 8);
	for (n = 0; n < 64; n++) {
		hex_to_bytes(ref_vectors[n], want, sizeof(want));
		xg_mac_store(got, SIPHASH_24(k, msg, n));
		assert_memory_equal(got, want, sizeof(want));
	}
}

static void test_random_against_boringssl(void **state)
{
	uint8_t key[XG_SIPKEY_LEN], msg[256];
	uint64_t k[2], ours, theirs;
	size_t len;
	int i;

	(void)state;
	rng_state = 0x5eed5eed12345678ULL;
	for (i = 0; i < 10000; i++) {
		rng_fill(key, sizeof(key));
		len = (size_t)(rng_next() % (sizeof(msg) + 1));
		rng_fill(msg, len);
		k[0] = xg_load_le64(key);
		k[1] = xg_load_le64(key + 8);
		ours = xg_siphash24(key, msg, (__u32)len);
		theirs = SIPHASH_24(k, msg, len);
		if (ours != theirs)
			fail_msg("input %d (len %zu): %016llx != %016llx", i, len,
				 (unsigned long long)ours,
				 (unsigned long long)theirs);
	}
}

/* Any change of key or message must change the output: guards against an
 * implementation that ignores part of its input. */
static void test_every_input_bit_matters(void **state)
{
	uint8_t key[XG_SIPKEY_LEN], msg[23];
	uint64_t base;
	size_t i;
	int b;

	(void)state;
	rng_state = 42;
	rng_fill(key, sizeof(key));
	rng_fill(msg, sizeof(msg));
	base = xg_siphash24(key, msg, sizeof(msg));
	for (i = 0; i < sizeof(msg); i++)
		for (b = 0; b < 8; b++) {
			msg[i] ^= (uint8_t)(1u << b);
			assert_true(xg_siphash24(key, msg, sizeof(msg)) != base);
			msg[i] ^= (uint8_t)(1u << b);
		}
	for (i = 0; i < sizeof(key); i++)
		for (b = 0; b < 8; b++) {
			key[i] ^= (uint8_t)(1u << b);
			assert_true(xg_siphash24(key, msg, sizeof(msg)) != base);
			key[i] ^= (uint8_t)(1u << b);
		}
	/* Length is part of the input even when the extra bytes are zero. */
	memset(msg, 0, sizeof(msg));
	assert_true(xg_siphash24(key, msg, 7) != xg_siphash24(key, msg, 8));
}

static void test_mac_store_is_little_endian(void **state)
{
	static const uint8_t want[8] = { 0x08, 0x07, 0x06, 0x05,
					 0x04, 0x03, 0x02, 0x01 };
	uint8_t out[8];

	(void)state;
	xg_mac_store(out, 0x0102030405060708ULL);
	assert_memory_equal(out, want, sizeof(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_boringssl_agrees_on_vectors),
		cmocka_unit_test(test_random_against_boringssl),
		cmocka_unit_test(test_every_input_bit_matters),
		cmocka_unit_test(test_mac_store_is_little_endian),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
