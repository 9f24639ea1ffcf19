/* SPDX-License-Identifier: MIT */
/*
 * Operator keys as text (base64) and the keyring file.
 *
 * The file is written by hand rather than through json-c: base64 needs no
 * escaping, and building it in our own buffer lets us wipe every copy of
 * the keys afterwards.  Reading goes through json-c in strict mode; the key
 * strings it holds are wiped before the objects are freed (its tokener's
 * scratch buffer is not ours to reach and may keep a copy in freed heap of
 * this process, which already holds the keys anyway).
 */
#include "util/keyring.h"
#include "util/atomic_file.h"
#include "util/base64.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/mem.h>
#include <openssl/rand.h>

/* A full ring is under 1 KiB; the cap only bounds what we read.  A file
 * larger than this is not a ring we wrote. */
#define KEYRING_FILE_MAX 8192

int xg_key_parse_b64(const char *text, uint8_t key[XG_KEY_LEN])
{
	uint8_t tmp[XG_KEY_LEN];
	size_t start = 0, end = strlen(text), n = 0;
	int err;

	while (start < end && isspace((unsigned char)text[start]))
		start++;
	while (end > start && isspace((unsigned char)text[end - 1]))
		end--;
	err = xg_b64_decode(text + start, end - start, tmp, sizeof(tmp), &n);
	if (!err && n != XG_KEY_LEN)
		err = -EINVAL;
	if (!err)
		memcpy(key, tmp, XG_KEY_LEN);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return err ? -EINVAL : 0;
}

void xg_key_format_b64(const uint8_t key[XG_KEY_LEN],
		       char out[XG_KEY_B64_LEN + 1])
{
	xg_b64_encode(key, XG_KEY_LEN, out);
}

int xg_key_generate(uint8_t key[XG_KEY_LEN])
{
	return RAND_bytes(key, XG_KEY_LEN) == 1 ? 0 : -EIO;
}

/* Indexes of kr's keys in file order: primary, then by falling rank. */
static void file_order(const struct xg_keyring *kr, unsigned order[])
{
	unsigned i, j, n = 0;

	order[n++] = kr->primary;
	for (i = 0; i < kr->n; i++) {
		if (i == kr->primary)
			continue;
		j = n++;
		while (j > 1 && kr->keys[order[j - 1]].rank < kr->keys[i].rank) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
}

/* dir and name of path for xg_file_write_atomic ("." for a bare name). */
static int split_path(const char *path, char dir[PATH_MAX], const char **name)
{
	const char *slash = strrchr(path, '/');
	size_t dlen;

	if (!slash) {
		strcpy(dir, ".");
		*name = path;
	} else {
		dlen = slash == path ? 1 : (size_t)(slash - path);
		if (dlen >= PATH_MAX)
			return -ENAMETOOLONG;
		memcpy(dir, path, dlen);
		dir[dlen] = '\0';
		*name = slash + 1;
	}
	return **name ? 0 : -EINVAL;
}

int xg_keyring_save(const struct xg_keyring *kr, const char *path)
{
	/* "[\n", per key '  "<44>",\n' (50), "]\n" */
	char buf[4 + XG_KEYRING_MAX * (XG_KEY_B64_LEN + 6) + 1];
	char dir[PATH_MAX];
	unsigned order[XG_KEYRING_MAX], i;
	const char *name;
	size_t len = 0;
	int err;

	if (kr->n == 0 || kr->n > XG_KEYRING_MAX)
		return -EINVAL;
	err = split_path(path, dir, &name);
	if (err)
		return err;
	file_order(kr, order);
	memcpy(buf + len, "[\n", 2);
	len += 2;
	for (i = 0; i < kr->n; i++) {
		memcpy(buf + len, "  \"", 3);
		len += 3;
		xg_key_format_b64(kr->keys[order[i]].secret, buf + len);
		len += XG_KEY_B64_LEN;
		memcpy(buf + len, i + 1 < kr->n ? "\",\n" : "\"\n", 3);
		len += i + 1 < kr->n ? 3 : 2;
	}
	memcpy(buf + len, "]\n", 2);
	len += 2;
	err = xg_file_write_atomic(dir, name, buf, len, 0600);
	OPENSSL_cleanse(buf, sizeof(buf));
	return err;
}

/* Parse text as one JSON value (and nothing after it but whitespace). */
static int parse_json(const char *text, size_t len, json_object **out)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj;
	size_t end;

	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!obj)
		return -EBADMSG;
	/* json-c 0.16 in strict mode already refuses anything after the
	 * value; other versions stop quietly at its end, and a file with a
	 * second value is not a keyring whichever one we would pick. */
	while (end < len && isspace((unsigned char)text[end]))
		end++;
	if (end != len) {
		json_object_put(obj);
		return -EBADMSG;
	}
	*out = obj;
	return 0;
}

/* Overwrite the strings of a parsed file (the root or the array's
 * elements: where keys can be) before json-c frees them. */
static void wipe_strings(json_object *obj)
{
	size_t i, n;

	if (json_object_is_type(obj, json_type_string)) {
		/* The buffer belongs to obj, which we own and free next;
		 * json-c only hands it out as const. */
		OPENSSL_cleanse((char *)json_object_get_string(obj),
				(size_t)json_object_get_string_len(obj));
		return;
	}
	if (!json_object_is_type(obj, json_type_array))
		return;
	n = json_object_array_length(obj);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(obj, i);

		if (json_object_is_type(e, json_type_string))
			wipe_strings(e);
	}
}

/* Install the keys of a JSON array into the empty ring kr, in array order,
 * then give them the ranks that file order stands for. */
static int ring_from_array(struct xg_keyring *kr, json_object *arr)
{
	size_t i, n = json_object_array_length(arr);
	uint8_t key[XG_KEY_LEN];
	unsigned before;
	int err = 0;

	if (n == 0)
		return -EBADMSG;
	if (n > XG_KEYRING_MAX)
		return -E2BIG;
	for (i = 0; i < n && !err; i++) {
		json_object *s = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(s, json_type_string) ||
		    xg_key_parse_b64(json_object_get_string(s), key) < 0) {
			err = -EBADMSG;
			break;
		}
		before = kr->n;
		err = xg_keyring_install(kr, key);
		if (!err && kr->n == before)
			err = -EBADMSG; /* the same key twice */
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (err)
		return err;
	/* keys[0] is primary (the first installed); the rest were written
	 * most recent first, so keys[1] must outrank keys[2] and so on. */
	kr->clock = n;
	for (i = 0; i < n; i++)
		kr->keys[i].rank = n - i;
	return 0;
}

int xg_keyring_load(struct xg_keyring *kr, const char *path)
{
	struct xg_keyring tmp;
	json_object *root = NULL;
	size_t len = 0;
	char *buf;
	int err;

	buf = malloc(KEYRING_FILE_MAX);
	if (!buf)
		return -ENOMEM;
	err = xg_file_read_path(path, buf, KEYRING_FILE_MAX, &len);
	if (err == -EFBIG)
		err = -E2BIG;
	if (!err)
		err = parse_json(buf, len, &root);
	OPENSSL_cleanse(buf, KEYRING_FILE_MAX);
	free(buf);
	if (err)
		return err;
	xg_keyring_init(&tmp);
	if (json_object_is_type(root, json_type_array))
		err = ring_from_array(&tmp, root);
	else
		err = -EBADMSG;
	wipe_strings(root);
	json_object_put(root);
	if (!err) {
		xg_keyring_wipe(kr);
		*kr = tmp;
	}
	xg_keyring_wipe(&tmp);
	return err;
}
