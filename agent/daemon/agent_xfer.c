/* SPDX-License-Identifier: MIT */
/*
 * Messages over TLS in the agent (docs/MESSAGING.md): unicasts with a
 * receipt, and the bodies of large broadcasts, which the messenger
 * announces and this file fetches and keeps (xfer.h, bodystore.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "daemon/agent_int.h"
#include "daemon/agent_msg.h"
#include "daemon/bodystore.h"
#include "daemon/xfer.h"
#include "util/log.h"

/* Unicast ids share the node's id space with its broadcasts but never
 * their sequence: the top bit of the counter half marks them, so a
 * unicast leaves no gap in the broadcast sequence that members would try
 * to repair (they never see unicast ids anyway). */
#define XG_UNICAST_SEQ_BIT 0x80000000u

/* ---- unicast received ---------------------------------------------------- */

static int on_unicast(void *ctx, const char *from_name, uint64_t from_id,
		      const uint8_t id[16], const char *topic,
		      const uint8_t *payload, size_t len)
{
	struct xg_agent *a = ctx;
	struct xg_member_info mi;
	struct xg_msg m;

	/* The certificate named from_name; a frame claiming the id of a
	 * member known by another name is someone speaking for it. */
	if (xg_core_member_find(a->core, from_id, &mi) == 0 &&
	    strcmp(mi.name, from_name) != 0)
		return -EPERM;
	if (!xg_msg_topic_valid(topic, strlen(topic)) || len > UINT32_MAX)
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	memcpy(m.id, id, sizeof(m.id));
	m.origin_id = m.sender_id = from_id;
	m.origin_ms = xg_now_real_ns() / 1000000;
	snprintf(m.topic, sizeof(m.topic), "%s", topic);
	m.payload = payload;
	m.payload_len = (uint32_t)len;
	xg_agent_msg_deliver(a, &m, true);
	return 0;
}

/* ---- large bodies ---------------------------------------------------------- */

static int body_get(void *ctx, const uint8_t id[16], const uint8_t **body,
		    size_t *len, void **ref)
{
	struct xg_agent *a = ctx;

	return xg_bodystore_hook_get(a->xf.bodies, id, body, len, ref);
}

static void body_put(void *ctx, void *ref)
{
	struct xg_agent *a = ctx;

	xg_bodystore_hook_put(a->xf.bodies, ref);
}

struct fetch_job {
	struct xg_agent *a;
	uint8_t          id[XG_MSG_ID_LEN];
};

static void fetched(void *ctx, int err, uint8_t *body, size_t len)
{
	struct fetch_job *j = ctx;
	struct xg_agent *a = j->a;
	struct xg_body *kept = NULL;
	const uint8_t *data = body;
	int r;

	/* Into the store first: the messenger announces the message on from
	 * inside xg_msgr_fetched, and members that hear of it fetch from us. */
	if (!err) {
		r = xg_bodystore_put(a->xf.bodies, j->id, body, len);
		if (r == 0) {
			kept = xg_bodystore_get(a->xf.bodies, j->id);
			data = kept ? xg_body_data(kept) : NULL;
			body = NULL;
		} else if (r != -EEXIST) {
			xg_debug("messaging: large body not kept: %s",
				 strerror(-r));
		}
	}
	if (a->msg.m)
		(void)xg_msgr_fetched(a->msg.m, j->id, err, err ? NULL : data,
				      err ? 0 : len, xg_now_mono_ns());
	if (kept)
		xg_body_put(kept);
	free(body);
	free(j);
}

int xg_agent_fetch(void *ctx, uint64_t from_id,
		   const uint8_t id[XG_MSG_ID_LEN], uint64_t size,
		   const uint8_t sha256[XG_MSG_SHA256_LEN])
{
	struct xg_agent *a = ctx;
	struct xg_member_info mi;
	struct fetch_job *j;
	int err;

	if (!a->xf.x)
		return -ENOTCONN;
	err = xg_core_member_find(a->core, from_id, &mi);
	if (err)
		return err;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->a = a;
	memcpy(j->id, id, sizeof(j->id));
	err = xg_xfer_fetch(a->xf.x, &mi.addr, mi.name, id, size, sha256,
			    fetched, j);
	if (err)
		free(j);
	return err;
}

/* A payload too big for one datagram: hashed, kept in the body store,
 * and announced; members fetch it over TLS. */
static int broadcast_large(struct xg_agent *a, const char *topic,
			   const void *payload, size_t len,
			   uint8_t id[XG_MSG_ID_LEN])
{
	uint8_t sha[SHA256_DIGEST_LENGTH], *copy;
	int err;

	if (!a->xf.x)
		return -EMSGSIZE;
	copy = malloc(len);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, payload, len);
	SHA256(copy, len, sha);
	err = xg_msgr_broadcast_large(a->msg.m, topic, len, sha,
				      xg_now_mono_ns(), id);
	if (err) {
		free(copy);
		return err;
	}
	err = xg_bodystore_put(a->xf.bodies, id, copy, len);
	if (err) {
		/* Announced, but nobody can fetch it: members give up after
		 * their tries; the caller learns it did not go out. */
		free(copy);
		xg_warn("messaging: large message not kept: %s",
			strerror(-err));
	}
	return err;
}

int xg_agent_msg_broadcast(struct xg_agent *a, const char *topic,
			   const void *payload, size_t len,
			   uint8_t id[XG_MSG_ID_LEN])
{
	size_t tlen = topic ? strlen(topic) : 0;

	if (!a->msg.m)
		return -ENOTCONN;
	if (topic && xg_msg_topic_valid(topic, tlen) &&
	    len > xg_msg_max_push(tlen))
		return broadcast_large(a, topic, payload, len, id);
	return xg_msgr_broadcast(a->msg.m, topic, payload, len,
				 xg_now_mono_ns(), id);
}

/* ---- unicast sent ---------------------------------------------------------- */

struct send_job {
	xg_agent_sent_fn done;
	void            *ctx;
};

static void sent(void *ctx, int err, uint64_t rtt_ns)
{
	struct send_job *j = ctx;

	j->done(j->ctx, err, rtt_ns);
	free(j);
}

/* node: a member's name, or its id as 16 hex digits. */
static int find_member(struct xg_agent *a, const char *node,
		       struct xg_member_info *out)
{
	size_t i, n = xg_core_member_count(a->core);
	char *end;
	uint64_t id;

	for (i = 0; i < n; i++)
		if (xg_core_member_at(a->core, i, out) == 0 &&
		    strcmp(out->name, node) == 0)
			return 0;
	if (strlen(node) == 16) {
		id = strtoull(node, &end, 16);
		if (*end == '\0' && xg_core_member_find(a->core, id, out) == 0)
			return 0;
	}
	return -ENOENT;
}

int xg_agent_send(struct xg_agent *a, const char *node, const char *topic,
		  const void *payload, size_t len, uint8_t id[16],
		  xg_agent_sent_fn done, void *ctx)
{
	struct xg_member_info mi;
	struct send_job *j;
	int err;

	if (!a->xf.x)
		return -ENOTCONN;
	if (!topic || !xg_msg_topic_valid(topic, strlen(topic)) ||
	    (!payload && len))
		return -EINVAL;
	err = find_member(a, node, &mi);
	if (err)
		return err;
	if (mi.is_self)
		return -ELOOP;
	if (mi.state != XG_ALIVE && mi.state != XG_SUSPECT)
		return -EHOSTDOWN;
	if (a->xf.unicast_counter == XG_UNICAST_SEQ_BIT - 1)
		return -EOVERFLOW;
	xg_msg_id_make(id, a->node_id, xg_core_self(a->core)->incarnation,
		       XG_UNICAST_SEQ_BIT | a->xf.unicast_counter);
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->done = done;
	j->ctx = ctx;
	err = xg_xfer_unicast(a->xf.x, &mi.addr, mi.name, id, topic, payload,
			      len, sent, j);
	if (err) {
		free(j);
		return err;
	}
	a->xf.unicast_counter++;
	return 0;
}

/* ---- life cycle ------------------------------------------------------------ */

int xg_agent_xfer_setup(struct xg_agent *a)
{
	struct xg_xfer_config xc = {
		.pp = &a->pp,
		.keyring = &a->keyring,
		.cluster_id = a->cluster_id,
		.self_id = a->node_id,
		.self_name = a->name,
		.max_payload = a->cfg->msg.max_size,
		.hooks = {
			.ctx = a,
			.on_unicast = on_unicast,
			.body_get = body_get,
			.body_put = body_put,
		},
	};
	int err = xg_bodystore_new(&a->xf.bodies, a->cfg->msg.store_max);

	if (err)
		return err;
	err = xg_xfer_open(&a->xf.x, &xc);
	if (err)
		xg_error("messaging: cannot serve transfers: %s",
			 strerror(-err));
	return err;
}

void xg_agent_xfer_close(struct xg_agent *a)
{
	xg_xfer_close(a->xf.x);
	a->xf.x = NULL;
	xg_bodystore_free(a->xf.bodies);
	a->xf.bodies = NULL;
}

void xg_agent_xfer_expire(struct xg_agent *a, uint64_t now_ns)
{
	if (a->xf.x)
		xg_xfer_expire(a->xf.x, now_ns);
}

uint64_t xg_agent_xfer_next_deadline(const struct xg_agent *a)
{
	return a->xf.x ? xg_xfer_next_deadline(a->xf.x) : UINT64_MAX;
}
