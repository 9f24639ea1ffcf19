/* SPDX-License-Identifier: MIT */
/*
 * Push/pull anti-entropy (the STATE payload exchanged over TCP).  The full
 * table goes out, dead and left members included: leaving them out would
 * let a peer that still holds them alive resurrect them here.  Merging
 * applies every entry with the ordinary precedence rules, so a join is
 * simply a push/pull in both directions and needs no code of its own.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

size_t xg_core_state_size(const struct xg_core *c)
{
	size_t i, size = sizeof(struct xg_state_hdr) + XG_MAC_LEN;

	for (i = 0; i < c->members.n; i++) {
		const struct xg_member *m = c->members.v[i];

		size += sizeof(struct xg_update) +
			strnlen(m->info.name, XG_NAME_MAX) + m->info.meta_len;
	}
	return size;
}

ssize_t xg_core_state_encode(struct xg_core *c, uint8_t flags, void *buf,
			     size_t cap)
{
	struct xg_update_msg u;
	struct xg_batch b;
	size_t i;
	int err;

	if (!c || !buf)
		return -EINVAL;
	err = xg_batch_begin(&b, XG_T_STATE, flags, c->cfg.cluster_id,
			     c->self->info.id, buf, cap);
	if (err)
		return err;
	for (i = 0; i < c->members.n; i++) {
		const struct xg_member *m = c->members.v[i];

		xg_member_to_update(m, m->from_id, true, &u);
		err = xg_batch_add(&b, &u);
		if (err)
			return err;
	}
	return xg_batch_finish_kid(&b, c->cfg.key_id, c->cfg.gossip_key);
}

static int merge(struct xg_core *c, const void *buf, size_t len,
		 uint64_t now_ns)
{
	struct xg_batch_reader r;
	int err;

	const struct xg_core_key *k = xg_key_for(c, buf, len);

	if (!k)
		return -EACCES;
	err = xg_batch_open(&r, buf, len, k->mac, NULL);
	if (err)
		return err;
	if (r.type != XG_T_STATE)
		return -EPROTO;
	if (r.cluster_id != c->cfg.cluster_id)
		return -EXDEV;
	return xg_apply_batch(c, &r, XG_SRC_STATE, now_ns);
}

int xg_core_state_merge(struct xg_core *c, const void *buf, size_t len,
			uint64_t now_ns)
{
	int err;

	if (!c || !buf)
		return -EINVAL;
	if (now_ns > c->now_ns)
		c->now_ns = now_ns;
	err = merge(c, buf, len, c->now_ns);
	xg_gossip_urgent_flush(c, c->now_ns);
	if (err && err != -ENOMEM) {
		c->stats.rx_bad++;
		return err;
	}
	c->stats.pushpulls++;
	return err;
}

int xg_core_state_sender(const struct xg_core *c, const void *buf, size_t len,
			 char *name, size_t cap)
{
	const struct xg_core_key *k;
	struct xg_batch_reader r;
	struct xg_update_msg u;
	int err;

	if (!c || !buf || !name || cap == 0)
		return -EINVAL;
	k = xg_key_for(c, buf, len);
	if (!k)
		return -EACCES;
	err = xg_batch_open(&r, buf, len, k->mac, NULL);
	if (err)
		return err;
	if (r.type != XG_T_STATE)
		return -EPROTO;
	while ((err = xg_batch_next(&r, &u)) == 1) {
		if (u.node_id != r.sender_id)
			continue;
		snprintf(name, cap, "%s", u.name);
		return 0;
	}
	return err < 0 ? err : -EBADMSG;
}
