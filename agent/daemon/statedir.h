/* SPDX-License-Identifier: MIT */
/*
 * The state directory (--state-dir): what an agent must remember across
 * restarts.
 *
 *   lock         flock()ed while an agent runs: two agents sharing one
 *                identity would fight over it, so the second one refuses
 *   node-id      16 hex digits, drawn at first start and kept: the node's
 *                identity in the cluster
 *   incarnation  the last incarnation this node used; a restart uses one
 *                more, so a rejoining node outranks whatever the others
 *                still remember of its previous life (suspect, dead, left)
 *   peers        "id name addr" per line: alive members at the last
 *                snapshot, tried as join seeds on the next start
 *
 * Every file is replaced atomically (util/atomic_file.h), mode 0600.
 */
#ifndef XGOSSIP_DAEMON_STATEDIR_H
#define XGOSSIP_DAEMON_STATEDIR_H

#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

struct xg_statedir {
	char *path;    /* owned */
	int   lock_fd;
};

/* Create dir (0700) if needed and lock it.  0, -EBUSY when another agent
 * holds it, or -errno. */
int  xg_statedir_open(struct xg_statedir *sd, const char *path);
void xg_statedir_close(struct xg_statedir *sd);

/* The saved node id, or a new random non-zero one (saved before it is
 * returned).  0, -EBADMSG for a damaged file (never silently replaced:
 * that would change the node's identity), or -errno. */
int xg_statedir_node_id(struct xg_statedir *sd, uint64_t *id);

/* The incarnation to start with: saved + 1 (1 the first time), saved
 * before it is returned.  0, -EBADMSG, -EOVERFLOW (no usable incarnation
 * is left: the core takes at most UINT32_MAX - 1) or -errno. */
int xg_statedir_next_incarnation(struct xg_statedir *sd, uint32_t *inc);
int xg_statedir_save_incarnation(struct xg_statedir *sd, uint32_t inc);

struct xg_peer_entry {
	uint64_t       id;
	const char    *name;
	struct xg_addr addr;
};

int xg_statedir_save_peers(struct xg_statedir *sd,
			   const struct xg_peer_entry *peers, size_t n);
/* Addresses of the saved peers, as text, in file order; *addrs is an
 * owned array of owned strings (free with xg_statedir_free_list).  A
 * missing file is an empty list; malformed lines are skipped. */
int  xg_statedir_load_peers(struct xg_statedir *sd, char ***addrs, size_t *n);
void xg_statedir_free_list(char **list, size_t n);

#endif /* XGOSSIP_DAEMON_STATEDIR_H */
