/* SPDX-License-Identifier: MIT */
/*
 * KEYOP frames (include/xgossip/wire.h): a keyring operation asked of one
 * member, and its answer.  They travel inside TLS on the push/pull port and
 * carry a MAC under the sender's primary key as well, so that a frame is
 * only ever acted on when it comes from a holder of the cluster's keys.
 */
#ifndef XGOSSIP_DAEMON_KEYOP_H
#define XGOSSIP_DAEMON_KEYOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/keyring.h"

struct xg_keyop_msg {
	bool     reply;
	uint8_t  op;       /* enum xg_key_op */
	int      status;   /* reply: 0 or -errno */
	uint8_t  key[XG_KEY_LEN];
	unsigned count;    /* reply to list: keys[0..count) */
	unsigned primary;
	uint8_t  keys[XG_KEYRING_MAX][XG_KEY_LEN];
};

/* Signed with kr's primary.  For a reply to list, ring supplies the keys
 * (may be NULL otherwise).  Returns the length or -ENOSPC / -ENOKEY. */
ssize_t xg_keyop_encode(const struct xg_keyring *kr, uint64_t cluster_id,
			const struct xg_keyop_msg *m,
			const struct xg_keyring *ring, uint8_t *out,
			size_t cap);
/* Verified with the key its key_id names.  0, -EBADMSG, -EPROTO (not a
 * KEYOP or another cluster), -EACCES (MAC), -ENOKEY (unknown key id). */
int xg_keyop_decode(const struct xg_keyring *kr, uint64_t cluster_id,
		    const uint8_t *buf, size_t len, struct xg_keyop_msg *out);

#endif /* XGOSSIP_DAEMON_KEYOP_H */
