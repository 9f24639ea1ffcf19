/* SPDX-License-Identifier: MIT */
#include "util/tags.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence at s (at most len bytes), or 0 if it is not
 * a well-formed one.  Overlong forms, surrogates and code points above
 * U+10FFFF are rejected: JSON renderers downstream emit these bytes as
 * they are, and a consumer with a strict decoder must not choke on them. */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

static bool text_valid(const char *s, size_t len, bool is_key)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if (u[i] == '\0' || u[i] == '\n' || (is_key && u[i] == '='))
			return false;
		n = utf8_seq(u + i, len - i);
		if (n == 0)
			return false;
		i += n;
	}
	return true;
}

bool xg_tags_key_valid(const char *key, size_t len)
{
	return key && len > 0 && text_valid(key, len, true);
}

bool xg_tags_val_valid(const char *val, size_t len)
{
	return val && text_valid(val, len, false);
}

int xg_tags_parse_kv(const char *kv, char **key, char **val)
{
	const char *eq;
	size_t klen, vlen;

	*key = NULL;
	*val = NULL;
	if (!kv || !(eq = strchr(kv, '=')))
		return -EINVAL;
	klen = (size_t)(eq - kv);
	vlen = strlen(eq + 1);
	if (!xg_tags_key_valid(kv, klen) || !xg_tags_val_valid(eq + 1, vlen))
		return -EINVAL;
	*key = strndup(kv, klen);
	*val = strdup(eq + 1);
	if (!*key || !*val) {
		free(*key);
		free(*val);
		*key = NULL;
		*val = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Index where key is, or where it would go, with *found saying which. */
static size_t find_slot(const struct xg_tags *t, const char *key, bool *found)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->keys[mid], key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Takes ownership of k and v on success only. */
static int insert_owned(struct xg_tags *t, char *k, char *v, bool replace)
{
	bool found;
	size_t at = find_slot(t, k, &found);
	char **nk, **nv;

	if (found) {
		if (!replace)
			return -EEXIST;
		free(t->keys[at]);
		free(t->vals[at]);
		t->keys[at] = k;
		t->vals[at] = v;
		return 0;
	}
	/* Grow both arrays first; a failure leaves t as it was (a larger
	 * allocation is harmless). */
	nk = realloc(t->keys, (t->n + 1) * sizeof(*nk));
	if (!nk)
		return -ENOMEM;
	t->keys = nk;
	nv = realloc(t->vals, (t->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->vals = nv;
	memmove(&t->keys[at + 1], &t->keys[at], (t->n - at) * sizeof(*nk));
	memmove(&t->vals[at + 1], &t->vals[at], (t->n - at) * sizeof(*nv));
	t->keys[at] = k;
	t->vals[at] = v;
	t->n++;
	return 0;
}

int xg_tags_set(struct xg_tags *t, const char *key, const char *val)
{
	char *k, *v;
	int err;

	if (!key || !val || !xg_tags_key_valid(key, strlen(key)) ||
	    !xg_tags_val_valid(val, strlen(val)))
		return -EINVAL;
	k = strdup(key);
	v = strdup(val);
	if (!k || !v) {
		err = -ENOMEM;
		goto fail;
	}
	err = insert_owned(t, k, v, true);
	if (err)
		goto fail;
	return 0;
fail:
	free(k);
	free(v);
	return err;
}

int xg_tags_del(struct xg_tags *t, const char *key)
{
	bool found;
	size_t at;

	if (!key)
		return -ENOENT;
	at = find_slot(t, key, &found);
	if (!found)
		return -ENOENT;
	free(t->keys[at]);
	free(t->vals[at]);
	memmove(&t->keys[at], &t->keys[at + 1], (t->n - at - 1) * sizeof(char *));
	memmove(&t->vals[at], &t->vals[at + 1], (t->n - at - 1) * sizeof(char *));
	t->n--;
	return 0;
}

const char *xg_tags_get(const struct xg_tags *t, const char *key)
{
	bool found;
	size_t at = find_slot(t, key, &found);

	return found ? t->vals[at] : NULL;
}

static int decode_line(struct xg_tags *t, const char *line, size_t len)
{
	const char *eq = memchr(line, '=', len);
	size_t klen, vlen;
	char *k, *v;
	int err;

	if (!eq)
		return -EBADMSG;
	klen = (size_t)(eq - line);
	vlen = len - klen - 1;
	if (!xg_tags_key_valid(line, klen) || !xg_tags_val_valid(eq + 1, vlen))
		return -EBADMSG;
	k = strndup(line, klen);
	v = strndup(eq + 1, vlen);
	if (!k || !v) {
		err = -ENOMEM;
		goto fail;
	}
	/* A duplicate key means the sender did not write this format:
	 * guessing which value it meant would hide that. */
	err = insert_owned(t, k, v, false);
	if (err == -EEXIST)
		err = -EBADMSG;
	if (err)
		goto fail;
	return 0;
fail:
	free(k);
	free(v);
	return err;
}

int xg_tags_decode(const uint8_t *meta, size_t len, struct xg_tags *out)
{
	const char *p = (const char *)meta, *end;
	int err;

	out->n = 0;
	out->keys = NULL;
	out->vals = NULL;
	if (len == 0)
		return 0;
	if (!meta)
		return -EINVAL;
	if (p[len - 1] == '\n' && --len == 0)
		return 0;
	end = p + len;
	for (;;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;

		err = decode_line(out, p, (size_t)(stop - p));
		if (err)
			return err;
		if (!nl)
			return 0;
		p = nl + 1;
	}
}

size_t xg_tags_encoded_len(const struct xg_tags *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n; i++)
		n += strlen(t->keys[i]) + 1 + strlen(t->vals[i]) + (i ? 1 : 0);
	return n;
}

ssize_t xg_tags_encode(const struct xg_tags *t, uint8_t *buf, size_t cap)
{
	size_t i, off = 0;

	if (xg_tags_encoded_len(t) > cap)
		return -E2BIG;
	for (i = 0; i < t->n; i++) {
		size_t kl = strlen(t->keys[i]), vl = strlen(t->vals[i]);

		if (i)
			buf[off++] = '\n';
		memcpy(buf + off, t->keys[i], kl);
		off += kl;
		buf[off++] = '=';
		memcpy(buf + off, t->vals[i], vl);
		off += vl;
	}
	return (ssize_t)off;
}

void xg_tags_free(struct xg_tags *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++) {
		free(t->keys[i]);
		free(t->vals[i]);
	}
	free(t->keys);
	free(t->vals);
	t->n = 0;
	t->keys = NULL;
	t->vals = NULL;
}
