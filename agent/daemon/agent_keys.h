/* SPDX-License-Identifier: MIT */
/*
 * The agent's keyring (docs/SECURITY.md): where it comes from at start,
 * where it is kept, and how a change reaches the core (probe and gossip
 * MAC keys by id), the XDP program (primary and secondary probe keys) and
 * the UDP sealing layer.
 */
#ifndef XGOSSIP_DAEMON_AGENT_KEYS_H
#define XGOSSIP_DAEMON_AGENT_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/keyring.h"

struct xg_agent;

#define XG_KEYRING_FILE "keyring.json" /* in the state dir, mode 0600 */

enum xg_key_op {
	XG_KEY_LIST,
	XG_KEY_INSTALL,
	XG_KEY_USE,
	XG_KEY_REMOVE,
};

/* Load the keyring: the state dir's copy if there is one (a rotation
 * survives restarts), else --keyring-file, else --cluster-secret-file,
 * else (only with --insecure-dev) the development key.  Saves it to the
 * state dir.  Needs the state dir open. */
int  xg_agent_keys_setup(struct xg_agent *a);
/* Give the current keys to the core and the XDP program. */
int  xg_agent_keys_apply(struct xg_agent *a);
/* Change the keyring, save it, apply it.  0 or -errno (-ENOENT unknown
 * key, -EBUSY removing the primary, -ENOSPC full, -EADDRINUSE id clash). */
int  xg_agent_keys_change(struct xg_agent *a, enum xg_key_op op,
			  const uint8_t key[XG_KEY_LEN]);
const char *xg_key_op_name(enum xg_key_op op);
int  xg_key_op_parse(const char *s, enum xg_key_op *op);

/* The cluster-wide form (agent_keyfan.c): applied here first (an error
 * there is returned and nothing is sent), then asked of every live member
 * over TLS; done gets one result per node, ours first, exactly once (maybe
 * inside this call when there is nobody to ask). */
struct xg_keys_result {
	char     node[64];
	int      err;       /* 0: applied (or listed) there */
	unsigned count, primary;
	uint8_t  keys[XG_KEYRING_MAX][XG_KEY_LEN]; /* list: the node's ring */
};
struct xg_keys_report {
	enum xg_key_op         op;
	size_t                 n;
	struct xg_keys_result *r;
};
typedef void (*xg_keys_done_fn)(void *ctx, const struct xg_keys_report *rep);
int xg_agent_keys_cluster(struct xg_agent *a, enum xg_key_op op,
			  const uint8_t key[XG_KEY_LEN], xg_keys_done_fn done,
			  void *ctx);
/* The push/pull listener's server for KEYOP requests (xg_pp_serve_fn). */
ssize_t xg_agent_keys_serve(void *ctx, const uint8_t *req, size_t len,
			    uint8_t *out, size_t cap);

/* UDP: probes go as they are (SipHash-signed, and the XDP program must
 * read them); everything else is sealed with the primary key.  seal writes
 * into out (cap >= len + XG_AEAD_OVERHEAD + 24) and returns its length;
 * open writes the inner packet into out and returns its length, or
 * -ENOKEY / -EACCES / -EBADMSG. */
bool    xg_wire_is_probe(uint8_t type);
ssize_t xg_agent_seal(const struct xg_agent *a, const void *pkt, size_t len,
		      uint8_t *out, size_t cap);
ssize_t xg_agent_open(const struct xg_agent *a, const void *pkt, size_t len,
		      uint8_t *out, size_t cap);

#endif /* XGOSSIP_DAEMON_AGENT_KEYS_H */
