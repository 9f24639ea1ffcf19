/* SPDX-License-Identifier: MIT */
/*
 * Node tags: the human-facing meaning of a member's opaque metadata.
 *
 * On the wire (XG_META_MAX bytes of member metadata) tags are UTF-8 text,
 * one "key=value" per line, lines separated by '\n'.  Keys are non-empty
 * and contain no '=', '\n' or NUL; values contain no '\n' or NUL.  The core
 * never looks inside; only the daemon, the control socket and tools do.
 *
 * A tag set is kept sorted by key (bytewise) so that equal sets always
 * encode to equal bytes: a no-op "tags set" then changes nothing on the
 * wire, and peers can compare metadata with memcmp.
 */
#ifndef XGOSSIP_UTIL_TAGS_H
#define XGOSSIP_UTIL_TAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct xg_tags {
	size_t n;
	char **keys; /* sorted, unique, each malloc'd */
	char **vals; /* vals[i] belongs to keys[i], each malloc'd */
};

#define XG_TAGS_INIT { 0, NULL, NULL }

/* Validity of one key / one value as text of the given length (no NUL
 * inside, valid UTF-8, and the separators above). */
bool xg_tags_key_valid(const char *key, size_t len);
bool xg_tags_val_valid(const char *val, size_t len);

/* Split "k=v" at the first '=' into malloc'd *key and *val (the caller
 * frees both).  0, -EINVAL (no '=', bad key or value) or -ENOMEM. */
int xg_tags_parse_kv(const char *kv, char **key, char **val);

/* Parse metadata bytes into *out (which the caller then owns and frees
 * with xg_tags_free, also on error).  Empty metadata is an empty set; one
 * trailing '\n' is tolerated.  0, -EBADMSG (malformed line, invalid UTF-8,
 * duplicate key) or -ENOMEM. */
int xg_tags_decode(const uint8_t *meta, size_t len, struct xg_tags *out);

/* Insert or replace.  0, -EINVAL or -ENOMEM (then t is unchanged). */
int xg_tags_set(struct xg_tags *t, const char *key, const char *val);
/* Remove.  0 or -ENOENT. */
int xg_tags_del(struct xg_tags *t, const char *key);
/* The value of key, or NULL. */
const char *xg_tags_get(const struct xg_tags *t, const char *key);

/* Encode into buf (no trailing newline, no NUL).  Returns the length, or
 * -E2BIG when it does not fit in cap (buf is then left unspecified).
 * xg_tags_encoded_len() tells the size beforehand. */
ssize_t xg_tags_encode(const struct xg_tags *t, uint8_t *buf, size_t cap);
size_t  xg_tags_encoded_len(const struct xg_tags *t);

void xg_tags_free(struct xg_tags *t);

#endif /* XGOSSIP_UTIL_TAGS_H */
