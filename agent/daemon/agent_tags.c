/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/agent_int.h"

int xg_tags_apply(const struct xg_tags *cur, const char *const *items,
		  size_t n, bool del, struct xg_tags *next, uint8_t *meta,
		  size_t *meta_len)
{
	uint8_t copy[XG_META_MAX];
	ssize_t len;
	size_t i;
	int err;

	next->n = 0;
	next->keys = next->vals = NULL;
	/* A copy through the wire encoding: the current set always fits. */
	len = xg_tags_encode(cur, copy, sizeof(copy));
	if (len < 0)
		return (int)len;
	err = xg_tags_decode(copy, (size_t)len, next);
	for (i = 0; !err && i < n; i++) {
		if (del) {
			/* Removing an absent key leaves the set as asked:
			 * not an error (agent.h). */
			if (!xg_tags_key_valid(items[i], strlen(items[i])))
				err = -EINVAL;
			else if (xg_tags_del(next, items[i]) == -ENOENT)
				err = 0;
		} else {
			char *k, *v;

			err = xg_tags_parse_kv(items[i], &k, &v);
			if (!err)
				err = xg_tags_set(next, k, v);
			free(k);
			free(v);
		}
	}
	if (err)
		return err;
	len = xg_tags_encode(next, meta, XG_META_MAX);
	if (len < 0)
		return (int)len;
	*meta_len = (size_t)len;
	return 0;
}
