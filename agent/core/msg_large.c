/* SPDX-License-Identifier: MIT */
/*
 * Large messages, the announcing side: a broadcast whose payload does not
 * fit a datagram, and the ANNOUNCEs that spread it (docs/MESSAGING.md,
 * "Large messages").
 *
 * The messenger never holds a large body.  The daemon keeps it (the
 * origin's copy, and every copy a member fetched) and serves it over TLS;
 * here we only say who should fetch it from whom.  An ANNOUNCE takes the
 * place of the PUSH: it goes to fanout random members with an ACK round,
 * and a short round pull-syncs with the ANNOUNCE itself.  Members that
 * fetched the body announce it on in turn, so the load of serving it
 * spreads like an epidemic instead of falling on the origin.
 */
#include <errno.h>
#include <string.h>

#include "core/msg_int.h"

ssize_t xg_msgr_announce_encode(struct xg_msgr *m, const struct xg_msg *msg,
				uint8_t hops, uint64_t size,
				const uint8_t sha256[XG_MSG_SHA256_LEN])
{
	struct xg_msg_pkt p;

	memset(&p, 0, sizeof(p));
	p.type = XG_T_PULL_SYNC;
	p.flags = XG_MSG_F_LARGE;
	p.key_id = m->cfg.key_id;
	p.cluster_id = m->cfg.cluster_id;
	memcpy(p.msg.id, msg->id, XG_MSG_ID_LEN);
	p.msg.sender_id = m->cfg.self_id;
	p.msg.origin_ms = msg->origin_ms;
	p.msg.hops = hops;
	memcpy(p.msg.topic, msg->topic, sizeof(p.msg.topic));
	p.size = size;
	memcpy(p.sha256, sha256, XG_MSG_SHA256_LEN);
	return xg_msg_encode(&p, m->cfg.mac_key, m->pkt, sizeof(m->pkt));
}

void xg_msgr_announce_out(struct xg_msgr *m, const struct xg_msg *msg,
			  uint64_t size,
			  const uint8_t sha256[XG_MSG_SHA256_LEN],
			  uint64_t exclude, uint64_t now_ns)
{
	uint64_t to[XG_MSG_FANOUT_MAX];
	size_t n;
	ssize_t len;

	n = xg_msgr_fan_targets(m, exclude, to);
	if (n == 0)
		return;
	len = xg_msgr_announce_encode(m, msg, msg->hops, size, sha256);
	if (len < 0) {
		m->st.tx_errors++;
		return;
	}
	xg_msgr_fan_send(m, msg->id, to, n, (size_t)len, exclude, true,
			 now_ns);
	m->st.announces_sent += n;
}

static void msg_of_entry(struct xg_msg *msg, const struct xg_cache_ent *e)
{
	memset(msg, 0, sizeof(*msg));
	memcpy(msg->id, e->node.id, XG_MSG_ID_LEN);
	memcpy(msg->topic, e->topic, sizeof(msg->topic));
	msg->origin_ms = e->origin_ms;
}

/* peek, not get: a pull-sync round is our own doing and says nothing
 * about whether others still want the message. */
ssize_t xg_msgr_announce_cached(struct xg_msgr *m,
				const uint8_t id[XG_MSG_ID_LEN])
{
	const struct xg_cache_ent *e = xg_cache_peek(&m->cache, id);
	struct xg_msg msg;
	ssize_t len;

	if (!e || !e->large)
		return -ENOENT;
	msg_of_entry(&msg, e);
	len = xg_msgr_announce_encode(m, &msg, e->hops_out, e->size,
				      e->sha256);
	if (len < 0)
		m->st.tx_errors++;
	return len;
}

void xg_msgr_respond_announce(struct xg_msgr *m,
			      const struct xg_cache_ent *e, uint64_t to)
{
	struct xg_msg msg;
	ssize_t len;

	msg_of_entry(&msg, e);
	len = xg_msgr_announce_encode(m, &msg, e->hops_out, e->size,
				      e->sha256);
	if (len < 0) {
		m->st.tx_errors++;
		return;
	}
	xg_msgr_send(m, to, m->pkt, (size_t)len);
	m->st.announces_sent++;
}

/* --- broadcast ---------------------------------------------------------- */

static int large_check(const struct xg_msgr *m, const char *topic,
		       uint64_t size, const uint8_t *sha256)
{
	size_t tlen;

	if (!topic || !sha256)
		return -EINVAL;
	tlen = strnlen(topic, XG_MSG_TOPIC_MAX + 1);
	if (!xg_msg_topic_valid(topic, tlen))
		return -EINVAL;
	/* What fits a PUSH goes as a PUSH: members would refuse an
	 * ANNOUNCE of it. */
	if (size <= xg_msg_max_push(tlen))
		return -EINVAL;
	if (size > m->cfg.max_large)
		return -EMSGSIZE;
	/* A member that cannot fetch cannot take part; the daemon that
	 * left io->fetch out has no body store either. */
	if (!m->io.fetch)
		return -EOPNOTSUPP;
	return 0;
}

/* As xg_msgr_broadcast: not delivered here, marked seen, cached (the
 * metadata: the body is the caller's), hops 0 in what we send. */
int xg_msgr_broadcast_large(struct xg_msgr *m, const char *topic,
			    uint64_t size,
			    const uint8_t sha256[XG_MSG_SHA256_LEN],
			    uint64_t now_ns, uint8_t id_out[XG_MSG_ID_LEN])
{
	struct xg_msg msg;
	int err;

	if (!m)
		return -EINVAL;
	err = large_check(m, topic, size, sha256);
	if (err)
		return err;
	now_ns = xg_msgr_advance(m, now_ns);
	err = xg_msgr_claim_id(m, &msg, now_ns);
	if (err)
		return err;
	memcpy(msg.topic, topic, strlen(topic));
	if (xg_cache_put_large(&m->cache, &msg, size, sha256, 0, now_ns) ==
	    -ENOMEM)
		m->st.alloc_failures++;
	xg_msgr_announce_out(m, &msg, size, sha256, 0, now_ns);
	m->st.broadcasts++;
	m->st.large_broadcasts++;
	if (id_out)
		memcpy(id_out, msg.id, XG_MSG_ID_LEN);
	xg_msgr_gauges(m);
	return 0;
}
