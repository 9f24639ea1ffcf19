/* SPDX-License-Identifier: MIT */
/*
 * The UDP keyring: install/use/remove rules, which key the XDP program's
 * second slot gets through a rotation, base64 keys, and the keyring file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/base64.h"
#include "util/keyring.h"

/* Deterministic distinct candidate keys. */
static void cand(uint8_t k[XG_KEY_LEN], unsigned i)
{
	unsigned j;

	for (j = 0; j < XG_KEY_LEN; j++)
		k[j] = (uint8_t)(i * 97 + j * 13 + (i >> 8) + 5);
	k[0] = (uint8_t)i;
	k[1] = (uint8_t)(i >> 8);
}

static uint8_t id_of(const uint8_t k[XG_KEY_LEN])
{
	struct xg_ring_key rk;

	assert_int_equal(xg_ring_key_derive(&rk, k), 0);
	return rk.id;
}

/* Keys that all have distinct ids, taken from the candidates in order. */
static void distinct_keys(uint8_t keys[][XG_KEY_LEN], unsigned n)
{
	int used[256] = { 0 };
	unsigned i = 0, c = 0;

	while (i < n) {
		uint8_t id;

		cand(keys[i], c++);
		id = id_of(keys[i]);
		assert_int_not_equal(id, 0);
		if (used[id])
			continue;
		used[id] = 1;
		i++;
	}
}

/* Two different candidate keys with the same id.  Among 256 candidates
 * two must share one of 255 ids. */
static void clash_pair(uint8_t a[XG_KEY_LEN], uint8_t b[XG_KEY_LEN])
{
	int first[256];
	unsigned i;

	memset(first, -1, sizeof(first));
	for (i = 0; i < 256; i++) {
		cand(b, i);
		if (first[id_of(b)] >= 0)
			break;
		first[id_of(b)] = (int)i;
	}
	assert_true(i < 256);
	cand(a, (unsigned)first[id_of(b)]);
	assert_memory_not_equal(a, b, XG_KEY_LEN);
	assert_int_equal(id_of(a), id_of(b));
}

static void test_install_rules(void **state)
{
	uint8_t k[3][XG_KEY_LEN], unknown[XG_KEY_LEN];
	struct xg_keyring kr;
	uint64_t rank, clock;

	(void)state;
	distinct_keys(k, 3);
	cand(unknown, 100000);
	xg_keyring_init(&kr);
	assert_null(xg_keyring_primary(&kr));
	assert_null(xg_keyring_secondary(&kr));

	assert_int_equal(xg_keyring_install(&kr, k[0]), 0);
	assert_int_equal(kr.n, 1);
	assert_memory_equal(xg_keyring_primary(&kr)->secret, k[0], XG_KEY_LEN);
	assert_int_equal(xg_keyring_primary(&kr)->id, id_of(k[0]));

	/* The second key does not take over. */
	assert_int_equal(xg_keyring_install(&kr, k[1]), 0);
	assert_memory_equal(xg_keyring_primary(&kr)->secret, k[0], XG_KEY_LEN);

	/* Installing again changes nothing, not even recency. */
	rank = kr.keys[0].rank;
	clock = kr.clock;
	assert_int_equal(xg_keyring_install(&kr, k[0]), 0);
	assert_int_equal(xg_keyring_install(&kr, k[1]), 0);
	assert_int_equal(kr.n, 2);
	assert_true(kr.keys[0].rank == rank && kr.clock == clock);

	assert_int_equal(xg_keyring_remove(&kr, k[0]), -EBUSY);
	assert_int_equal(xg_keyring_remove(&kr, unknown), -ENOENT);
	assert_int_equal(xg_keyring_use(&kr, unknown), -ENOENT);
	assert_int_equal(kr.n, 2);

	/* Using the primary is a no-op. */
	assert_int_equal(xg_keyring_use(&kr, k[0]), 0);
	assert_true(kr.clock == clock);

	/* by_id finds installed keys only; 0 is never an id. */
	assert_ptr_equal(xg_keyring_by_id(&kr, id_of(k[1])), &kr.keys[1]);
	assert_null(xg_keyring_by_id(&kr, id_of(k[2])));
	assert_null(xg_keyring_by_id(&kr, 0));

	/* Removing a key before the primary keeps the primary. */
	assert_int_equal(xg_keyring_install(&kr, k[2]), 0);
	assert_int_equal(xg_keyring_use(&kr, k[2]), 0);
	assert_int_equal(xg_keyring_remove(&kr, k[0]), 0);
	assert_int_equal(xg_keyring_remove(&kr, k[0]), -ENOENT);
	assert_int_equal(kr.n, 2);
	assert_memory_equal(xg_keyring_primary(&kr)->secret, k[2], XG_KEY_LEN);
	assert_memory_equal(kr.keys[0].secret, k[1], XG_KEY_LEN);
	assert_null(xg_keyring_by_id(&kr, id_of(k[0])));
	/* The freed slot holds nothing any more. */
	assert_true(kr.keys[2].id == 0 && kr.keys[2].rank == 0);

	xg_keyring_wipe(&kr);
	assert_int_equal(kr.n, 0);
	assert_null(xg_keyring_primary(&kr));
}

static void test_full(void **state)
{
	uint8_t k[XG_KEYRING_MAX + 1][XG_KEY_LEN];
	struct xg_keyring kr;
	unsigned i;

	(void)state;
	distinct_keys(k, XG_KEYRING_MAX + 1);
	xg_keyring_init(&kr);
	for (i = 0; i < XG_KEYRING_MAX; i++)
		assert_int_equal(xg_keyring_install(&kr, k[i]), 0);
	assert_int_equal(xg_keyring_install(&kr, k[XG_KEYRING_MAX]), -ENOSPC);
	/* An installed key is still accepted: install is idempotent. */
	assert_int_equal(xg_keyring_install(&kr, k[3]), 0);
	assert_int_equal(kr.n, XG_KEYRING_MAX);
	assert_int_equal(xg_keyring_remove(&kr, k[5]), 0);
	assert_int_equal(xg_keyring_install(&kr, k[XG_KEYRING_MAX]), 0);
	xg_keyring_wipe(&kr);
}

static void test_id_clash(void **state)
{
	uint8_t a[XG_KEY_LEN], b[XG_KEY_LEN];
	struct xg_keyring kr;

	(void)state;
	clash_pair(a, b);
	xg_keyring_init(&kr);
	assert_int_equal(xg_keyring_install(&kr, a), 0);
	assert_int_equal(xg_keyring_install(&kr, b), -EADDRINUSE);
	assert_int_equal(kr.n, 1);
	assert_int_equal(xg_keyring_use(&kr, b), -ENOENT);
	xg_keyring_wipe(&kr);
}

static void assert_is(const struct xg_ring_key *rk, const uint8_t k[XG_KEY_LEN])
{
	assert_non_null(rk);
	assert_memory_equal(rk->secret, k, XG_KEY_LEN);
}

/* The whole rotation as an operator runs it, and what the XDP program's
 * second slot holds at each step. */
static void test_secondary_rotation(void **state)
{
	uint8_t k[4][XG_KEY_LEN];
	struct xg_keyring kr;

	(void)state;
	distinct_keys(k, 4);
	xg_keyring_init(&kr);
	assert_int_equal(xg_keyring_install(&kr, k[0]), 0); /* A */
	assert_null(xg_keyring_secondary(&kr));

	assert_int_equal(xg_keyring_install(&kr, k[1]), 0); /* install B */
	assert_is(xg_keyring_primary(&kr), k[0]);
	assert_is(xg_keyring_secondary(&kr), k[1]);

	assert_int_equal(xg_keyring_use(&kr, k[1]), 0); /* use B */
	assert_is(xg_keyring_primary(&kr), k[1]);
	assert_is(xg_keyring_secondary(&kr), k[0]);

	assert_int_equal(xg_keyring_remove(&kr, k[0]), 0); /* remove A */
	assert_is(xg_keyring_primary(&kr), k[1]);
	assert_null(xg_keyring_secondary(&kr));

	/* More keys: the latest install or demotion wins, whatever the slot
	 * order. */
	assert_int_equal(xg_keyring_install(&kr, k[2]), 0); /* C */
	assert_int_equal(xg_keyring_install(&kr, k[3]), 0); /* D */
	assert_is(xg_keyring_secondary(&kr), k[3]);
	assert_int_equal(xg_keyring_use(&kr, k[2]), 0);     /* B demoted */
	assert_is(xg_keyring_secondary(&kr), k[1]);
	assert_int_equal(xg_keyring_use(&kr, k[3]), 0);     /* C demoted */
	assert_is(xg_keyring_secondary(&kr), k[2]);
	assert_int_equal(xg_keyring_remove(&kr, k[2]), 0);
	assert_is(xg_keyring_secondary(&kr), k[1]);
	xg_keyring_wipe(&kr);
}

/* --- base64 ----------------------------------------------------------- */

static void check_b64(const char *bytes, const char *text)
{
	char out[64];
	uint8_t dec[64];
	size_t n = 99;

	xg_b64_encode((const uint8_t *)bytes, strlen(bytes), out);
	assert_string_equal(out, text);
	assert_int_equal(strlen(text), XG_B64_ENCODED_LEN(strlen(bytes)));
	assert_int_equal(xg_b64_decode(text, strlen(text), dec, sizeof(dec), &n), 0);
	assert_int_equal(n, strlen(bytes));
	assert_memory_equal(dec, bytes, n);
}

static void test_b64_vectors(void **state)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	static const uint8_t alphabet_bytes[48] = {
		0x00, 0x10, 0x83, 0x10, 0x51, 0x87, 0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f,
		0x41, 0x14, 0x93, 0x51, 0x55, 0x97, 0x61, 0x96, 0x9b, 0x71, 0xd7, 0x9f,
		0x82, 0x18, 0xa3, 0x92, 0x59, 0xa7, 0xa2, 0x9a, 0xab, 0xb2, 0xdb, 0xaf,
		0xc3, 0x1c, 0xb3, 0xd3, 0x5d, 0xb7, 0xe3, 0x9e, 0xbb, 0xf3, 0xdf, 0xbf,
	};
	uint8_t dec[64], all[256];
	char out[400];
	size_t n, len;
	unsigned i;

	(void)state;
	/* RFC 4648 section 10. */
	check_b64("", "");
	check_b64("f", "Zg==");
	check_b64("fo", "Zm8=");
	check_b64("foo", "Zm9v");
	check_b64("foob", "Zm9vYg==");
	check_b64("fooba", "Zm9vYmE=");
	check_b64("foobar", "Zm9vYmFy");
	/* Every character of the alphabet in its place. */
	assert_int_equal(xg_b64_decode(alphabet, 64, dec, sizeof(dec), &n), 0);
	assert_int_equal(n, 48);
	assert_memory_equal(dec, alphabet_bytes, 48);
	xg_b64_encode(alphabet_bytes, 48, out);
	assert_string_equal(out, alphabet);
	/* Every byte value, at every length up to 256. */
	for (i = 0; i < 256; i++)
		all[i] = (uint8_t)(255 - i);
	for (len = 0; len <= 256; len++) {
		uint8_t back[256];

		xg_b64_encode(all, len, out);
		assert_int_equal(strlen(out), XG_B64_ENCODED_LEN(len));
		assert_int_equal(xg_b64_decode(out, strlen(out), back, sizeof(back),
					       &n), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, all, len);
	}
}

static void test_b64_strict(void **state)
{
	static const char *const bad[] = {
		"Zg=", "Zg", "Z", "Zm9vY",          /* length not a multiple of 4 */
		"Zg=a", "Z===", "====", "=Zm9",      /* misplaced / excess padding */
		"Zg==Zg==", "Zm=v",
		"Zh==", "Zm9=",                      /* non-zero unused bits */
		"Zm 9", "Zm9v\n   ", " Zm9", "Zm9\t", /* whitespace */
		"Zm-_", "Zm.v", "Zm9\x80", "Zm9\xff", /* outside the alphabet */
	};
	uint8_t dec[16];
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(xg_b64_decode(bad[i], strlen(bad[i]), dec,
					       sizeof(dec), &n), -EINVAL);
	/* A NUL inside the counted length is not base64 either. */
	assert_int_equal(xg_b64_decode("Zm\0v", 4, dec, sizeof(dec), &n), -EINVAL);
	assert_int_equal(xg_b64_decode("Zm9vYmFy", 8, dec, 5, &n), -ENOBUFS);
	assert_int_equal(xg_b64_decode("Zm9vYmFy", 8, dec, 6, &n), 0);
	assert_int_equal(n, 6);
}

static void test_key_text(void **state)
{
	uint8_t k[XG_KEY_LEN], back[XG_KEY_LEN], g1[XG_KEY_LEN], g2[XG_KEY_LEN];
	char text[XG_KEY_B64_LEN + 1], padded[64];
	unsigned i;

	(void)state;
	for (i = 0; i < XG_KEY_LEN; i++)
		k[i] = (uint8_t)i;
	xg_key_format_b64(k, text);
	assert_string_equal(text, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	assert_int_equal(xg_key_parse_b64(text, back), 0);
	assert_memory_equal(back, k, XG_KEY_LEN);
	/* As read from a file or pasted. */
	snprintf(padded, sizeof(padded), "  %s\n", text);
	memset(back, 0, sizeof(back));
	assert_int_equal(xg_key_parse_b64(padded, back), 0);
	assert_memory_equal(back, k, XG_KEY_LEN);

	/* 31 and 33 bytes, empty, junk. */
	assert_int_equal(xg_key_parse_b64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
					  back), -EINVAL);
	assert_int_equal(xg_key_parse_b64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g",
					  back), -EINVAL);
	assert_int_equal(xg_key_parse_b64("", back), -EINVAL);
	assert_int_equal(xg_key_parse_b64("   ", back), -EINVAL);
	assert_int_equal(xg_key_parse_b64("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd Hh8=",
					  back), -EINVAL);

	assert_int_equal(xg_key_generate(g1), 0);
	assert_int_equal(xg_key_generate(g2), 0);
	assert_memory_not_equal(g1, g2, XG_KEY_LEN);
}

/* --- the keyring file ------------------------------------------------- */

struct tmpdir {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->dir, "/tmp/xg-keyring-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/keyring.json", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmpdir *t = *state;

	unlink(t->path);
	assert_int_equal(rmdir(t->dir), 0);
	free(t);
	return 0;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void read_file(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void test_save_load(void **state)
{
	struct tmpdir *t = *state;
	uint8_t k[4][XG_KEY_LEN];
	struct xg_keyring kr, back;
	char text[1024], b64[XG_KEY_B64_LEN + 1], *p;
	struct stat st;
	mode_t old;
	unsigned i;

	distinct_keys(k, 4);
	xg_keyring_init(&kr);
	for (i = 0; i < 4; i++)
		assert_int_equal(xg_keyring_install(&kr, k[i]), 0);
	/* Primary C (slot 2), secondary A (demoted last), then D, then B. */
	assert_int_equal(xg_keyring_use(&kr, k[2]), 0);

	old = umask(0);
	assert_int_equal(xg_keyring_save(&kr, t->path), 0);
	umask(old);
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* The file lists the primary first, then by recency. */
	read_file(t->path, text, sizeof(text));
	p = text;
	{
		const unsigned want[4] = { 2, 0, 3, 1 };

		for (i = 0; i < 4; i++) {
			xg_key_format_b64(k[want[i]], b64);
			p = strstr(p, b64);
			assert_non_null(p);
			p += XG_KEY_B64_LEN;
		}
	}

	/* Loading replaces whatever the ring held. */
	xg_keyring_init(&back);
	assert_int_equal(xg_keyring_install(&back, k[3]), 0);
	assert_int_equal(xg_keyring_load(&back, t->path), 0);
	assert_int_equal(back.n, 4);
	assert_is(xg_keyring_primary(&back), k[2]);
	assert_is(xg_keyring_secondary(&back), k[0]);
	for (i = 0; i < 4; i++)
		assert_non_null(xg_keyring_by_id(&back, id_of(k[i])));
	/* Recency survives the trip beyond the secondary: without A, D
	 * (installed after B) comes next, as it would have before the save. */
	assert_int_equal(xg_keyring_remove(&back, k[0]), 0);
	assert_is(xg_keyring_secondary(&back), k[3]);
	/* And the ring's clock moved on: a demotion now outranks all. */
	assert_int_equal(xg_keyring_use(&back, k[1]), 0);
	assert_is(xg_keyring_secondary(&back), k[2]);

	/* Saving over an existing file, a one-key ring. */
	assert_int_equal(xg_keyring_remove(&kr, k[0]), 0);
	assert_int_equal(xg_keyring_remove(&kr, k[1]), 0);
	assert_int_equal(xg_keyring_remove(&kr, k[3]), 0);
	assert_int_equal(xg_keyring_save(&kr, t->path), 0);
	assert_int_equal(xg_keyring_load(&back, t->path), 0);
	assert_int_equal(back.n, 1);
	assert_is(xg_keyring_primary(&back), k[2]);
	assert_null(xg_keyring_secondary(&back));
	assert_int_equal(stat(t->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* No key, no file. */
	xg_keyring_wipe(&kr);
	assert_int_equal(xg_keyring_save(&kr, t->path), -EINVAL);
	xg_keyring_wipe(&back);
}

/* Load text; on failure the ring must be exactly as it was. */
static int load_text(struct tmpdir *t, const char *text)
{
	struct xg_keyring kr, before;
	uint8_t k[XG_KEY_LEN];
	int err;

	cand(k, 4242);
	xg_keyring_init(&kr);
	assert_int_equal(xg_keyring_install(&kr, k), 0);
	before = kr;
	write_file(t->path, text);
	err = xg_keyring_load(&kr, t->path);
	if (err)
		assert_memory_equal(&kr, &before, sizeof(kr));
	xg_keyring_wipe(&kr);
	xg_keyring_wipe(&before);
	return err;
}

static void test_load_malformed(void **state)
{
	struct tmpdir *t = *state;
	uint8_t k[XG_KEYRING_MAX + 1][XG_KEY_LEN], a[XG_KEY_LEN], b[XG_KEY_LEN];
	char b64[XG_KEYRING_MAX + 1][XG_KEY_B64_LEN + 1];
	char text[2048], *big;
	struct xg_keyring kr;
	unsigned i;

	distinct_keys(k, XG_KEYRING_MAX + 1);
	for (i = 0; i <= XG_KEYRING_MAX; i++)
		xg_key_format_b64(k[i], b64[i]);

	xg_keyring_init(&kr);
	assert_int_equal(xg_keyring_load(&kr, t->path), -ENOENT);

	/* Sanity: the well-formed variants load. */
	snprintf(text, sizeof(text), "[\"%s\"]", b64[0]);
	assert_int_equal(load_text(t, text), 0);
	snprintf(text, sizeof(text), " [ \"%s\" , \"%s\" ]\n\n", b64[0], b64[1]);
	assert_int_equal(load_text(t, text), 0);

	assert_int_equal(load_text(t, ""), -EBADMSG);
	assert_int_equal(load_text(t, "not json"), -EBADMSG);
	assert_int_equal(load_text(t, "{}"), -EBADMSG);
	assert_int_equal(load_text(t, "[]"), -EBADMSG);
	assert_int_equal(load_text(t, "[1]"), -EBADMSG);
	assert_int_equal(load_text(t, "[null]"), -EBADMSG);
	snprintf(text, sizeof(text), "\"%s\"", b64[0]);
	assert_int_equal(load_text(t, text), -EBADMSG);
	snprintf(text, sizeof(text), "[\"%s\"", b64[0]);          /* unclosed */
	assert_int_equal(load_text(t, text), -EBADMSG);
	snprintf(text, sizeof(text), "[\"%s\"] x", b64[0]);       /* trailing */
	assert_int_equal(load_text(t, text), -EBADMSG);
	snprintf(text, sizeof(text), "[\"%s\",]", b64[0]);        /* not strict JSON */
	assert_int_equal(load_text(t, text), -EBADMSG);
	snprintf(text, sizeof(text), "[\"%s\", [\"%s\"]]", b64[0], b64[1]);
	assert_int_equal(load_text(t, text), -EBADMSG);
	/* Bad base64, a short key, a long key. */
	snprintf(text, sizeof(text), "[\"%s\", \"%.43s!\"]", b64[0], b64[1]);
	assert_int_equal(load_text(t, text), -EBADMSG);
	assert_int_equal(load_text(t, "[\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\"]"),
			 -EBADMSG);
	assert_int_equal(load_text(t, "[\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\"]"),
			 -EBADMSG);
	/* The same key twice, even as the primary and a later entry. */
	snprintf(text, sizeof(text), "[\"%s\", \"%s\", \"%s\"]", b64[0], b64[1],
		 b64[0]);
	assert_int_equal(load_text(t, text), -EBADMSG);
	/* One key too many. */
	strcpy(text, "[");
	for (i = 0; i <= XG_KEYRING_MAX; i++) {
		strcat(text, i ? ",\"" : "\"");
		strcat(text, b64[i]);
		strcat(text, "\"");
	}
	strcat(text, "]");
	assert_int_equal(load_text(t, text), -E2BIG);
	/* ...and exactly the maximum is fine. */
	strcpy(text, "[");
	for (i = 0; i < XG_KEYRING_MAX; i++) {
		strcat(text, i ? ",\"" : "\"");
		strcat(text, b64[i]);
		strcat(text, "\"");
	}
	strcat(text, "]");
	assert_int_equal(load_text(t, text), 0);
	/* A file far larger than any ring. */
	big = malloc(100000);
	assert_non_null(big);
	memset(big, ' ', 99999);
	big[0] = '[';
	big[99997] = ']';
	big[99999] = '\0';
	assert_int_equal(load_text(t, big), -E2BIG);
	free(big);
	/* Two keys with one id: not a file xgossip wrote. */
	clash_pair(a, b);
	xg_key_format_b64(a, b64[0]);
	xg_key_format_b64(b, b64[1]);
	snprintf(text, sizeof(text), "[\"%s\", \"%s\"]", b64[0], b64[1]);
	assert_int_equal(load_text(t, text), -EADDRINUSE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_rules),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_id_clash),
		cmocka_unit_test(test_secondary_rotation),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_strict),
		cmocka_unit_test(test_key_text),
		cmocka_unit_test_setup_teardown(test_save_load, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_load_malformed, tmp_setup,
						tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
