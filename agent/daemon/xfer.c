/* SPDX-License-Identifier: MIT */
/*
 * Transfers: life cycle, the two calls that start one, their queues and
 * deadlines.  The client side of a running transfer is xfer_client.c, the
 * server side xfer_serve.c, the frames xfer_frame.c.
 */
#include "daemon/xfer.h"
#include "daemon/xfer_frame.h"
#include "daemon/xfer_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/loop.h"
#include "util/log.h"

void xg_xfer_list_push(struct xg_xfer_list *l, struct xg_xfer_job *j)
{
	j->next = NULL;
	j->prev = l->tail;
	if (l->tail)
		l->tail->next = j;
	else
		l->head = j;
	l->tail = j;
	l->n++;
}

void xg_xfer_list_del(struct xg_xfer_list *l, struct xg_xfer_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		l->head = j->next;
	if (j->next)
		j->next->prev = j->prev;
	else
		l->tail = j->prev;
	j->prev = j->next = NULL;
	l->n--;
}

uint64_t xg_xfer_deadline(const struct xg_xfer *x, uint64_t now_ns,
			  uint64_t bytes)
{
	/* bytes <= 4 GiB and rate >= 1: no overflow in 128 bits, and the
	 * result fits 64 bits for any sane rate. */
	unsigned __int128 t = (unsigned __int128)bytes * 1000000000u /
			      x->min_rate;

	return now_ns + XG_XFER_BASE_NS + (uint64_t)t;
}

const char *xg_xfer_strerror(int err)
{
	switch (err) {
	case 0:             return "delivered";
	case -ETIMEDOUT:    return "timed out";
	case -ECONNREFUSED: return "connection refused (agent not running?)";
	case -ECONNRESET:
	case -ENODATA:
	case -EPIPE:        return "connection closed by the peer";
	case -EPERM:        return "the peer's certificate does not name the "
				   "member it was asked of";
	case -EACCES:       return "authentication failed (certificate from "
				   "another CA, or different cluster keys?)";
	case -EBUSY:        return "the peer is busy serving other transfers";
	case -ENOENT:       return "the peer does not have that message";
	case -EBADMSG:      return "body does not match its size or SHA-256";
	case -ENOBUFS:      return "too many transfers waiting here";
	case -EMSGSIZE:     return "payload too large";
	case -ECANCELED:    return "agent shutting down";
	case -EPROTO:       return "not an xgossip transfer, or another cluster";
	case -ENOKEY:       return "signed with a key this node does not hold";
	}
	return strerror(-err);
}

static bool pp_ready(const struct xg_pp *pp)
{
	return pp && pp->loop && !pp->closed;
}

int xg_xfer_open(struct xg_xfer **out, const struct xg_xfer_config *cfg)
{
	struct xg_pp_service svc = {
		.max_req = XG_XFER_FRAME_MAX,
		.max_reply = XG_XFER_FRAME_MAX,
	};
	struct xg_xfer *x;
	size_t nlen;
	int err;

	if (!out || !cfg || !pp_ready(cfg->pp) || !cfg->keyring ||
	    !cfg->self_name || cfg->max_payload > XG_XFER_PAYLOAD_MAX)
		return -EINVAL;
	nlen = strnlen(cfg->self_name, XG_NAME_MAX);
	if (nlen == 0 || nlen >= XG_NAME_MAX)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->pp = cfg->pp;
	x->kr = cfg->keyring;
	x->cluster_id = cfg->cluster_id;
	x->self_id = cfg->self_id;
	memcpy(x->self_name, cfg->self_name, nlen);
	x->max_payload = cfg->max_payload ? cfg->max_payload
					  : XG_XFER_PAYLOAD_MAX;
	x->min_rate = cfg->min_rate ? cfg->min_rate : XG_XFER_MIN_RATE;
	x->hooks = cfg->hooks;

	svc.type = XG_T_UNICAST;
	svc.max_body = x->max_payload;
	svc.handle = xg_xfer_serve_unicast;
	svc.ctx = x;
	err = xg_pp_serve(x->pp, &svc);
	if (err) {
		free(x);
		return err;
	}
	svc.type = XG_T_FETCH;
	svc.max_body = 0;
	svc.handle = xg_xfer_serve_fetch;
	err = xg_pp_serve(x->pp, &svc);
	if (err) {
		xg_pp_unserve(x->pp, XG_T_UNICAST);
		free(x);
		return err;
	}
	*out = x;
	return 0;
}

void xg_xfer_close(struct xg_xfer *x)
{
	if (!x)
		return;
	x->closing = true;
	/* Served bodies go back to their owner (release -> body_put). */
	xg_pp_unserve(x->pp, XG_T_UNICAST);
	xg_pp_unserve(x->pp, XG_T_FETCH);
	while (x->ur.head)
		xg_pp_cancel(x->pp, x->ur.head->conn);
	while (x->fr.head)
		xg_pp_cancel(x->pp, x->fr.head->conn);
	while (x->uq.head)
		xg_xfer_job_finish(x->uq.head, -ECANCELED);
	while (x->fq.head)
		xg_xfer_job_finish(x->fq.head, -ECANCELED);
	free(x);
}

/* A new job starts at once when its kind has room and nobody is waiting
 * ahead of it (then a failure to start is the caller's return value);
 * otherwise it waits its turn. */
static int submit(struct xg_xfer_job *j, struct xg_xfer_list *queue,
		  const struct xg_xfer_list *running, uint32_t max_running)
{
	int err;

	if (running->n < max_running && !queue->head) {
		err = xg_xfer_job_start(j, xg_now_mono_ns());
		if (err)
			return err;
		return 0;
	}
	xg_xfer_list_push(queue, j);
	return 0;
}

static bool name_ok(const char *name)
{
	size_t n;

	if (!name)
		return true;
	n = strnlen(name, XG_NAME_MAX);
	return n > 0 && n < XG_NAME_MAX;
}

int xg_xfer_unicast(struct xg_xfer *x, const struct xg_addr *to,
		    const char *to_name, const uint8_t id[16],
		    const char *topic, const void *payload, size_t len,
		    xg_xfer_sent_fn done, void *ctx)
{
	struct xg_xfer_job *j;
	size_t tlen;
	int err;

	if (!x || !to || !id || !topic || !done || (len && !payload) ||
	    !name_ok(to_name))
		return -EINVAL;
	tlen = strnlen(topic, XG_MSG_TOPIC_MAX + 1);
	if (!xg_msg_topic_valid(topic, tlen))
		return -EINVAL;
	if (len > x->max_payload)
		return -EMSGSIZE;
	if (x->closing)
		return -ECANCELED;
	if (x->uq.n >= XG_XFER_QUEUE_MAX ||
	    x->stats.unicast_bytes + len > XG_XFER_UNICAST_MEM) {
		x->stats.refused_local++;
		return -ENOBUFS;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	if (len) {
		j->payload = malloc(len);
		if (!j->payload) {
			free(j);
			return -ENOMEM;
		}
		memcpy(j->payload, payload, len);
	}
	j->x = x;
	j->to = *to;
	if (to_name)
		snprintf(j->name, sizeof(j->name), "%s", to_name);
	memcpy(j->id, id, sizeof(j->id));
	memcpy(j->topic, topic, tlen);
	j->len = len;
	j->sent = done;
	j->ctx = ctx;
	j->deadline_ns = xg_xfer_deadline(x, xg_now_mono_ns(), len);
	x->stats.unicast_bytes += len;
	err = submit(j, &x->uq, &x->ur, XG_XFER_UNICASTS_MAX);
	if (err) {
		x->stats.unicast_bytes -= len;
		free(j->payload);
		free(j);
	}
	return err;
}

int xg_xfer_fetch(struct xg_xfer *x, const struct xg_addr *from,
		  const char *from_name, const uint8_t id[16], uint64_t size,
		  const uint8_t sha256[32], xg_xfer_fetched_fn done,
		  void *ctx)
{
	struct xg_xfer_job *j;
	int err;

	if (!x || !from || !id || !sha256 || !done || size == 0 ||
	    !name_ok(from_name))
		return -EINVAL;
	if (size > x->max_payload)
		return -EMSGSIZE;
	if (x->closing)
		return -ECANCELED;
	if (x->fq.n >= XG_XFER_QUEUE_MAX) {
		x->stats.refused_local++;
		return -ENOBUFS;
	}
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->x = x;
	j->fetch = true;
	j->to = *from;
	if (from_name)
		snprintf(j->name, sizeof(j->name), "%s", from_name);
	memcpy(j->id, id, sizeof(j->id));
	j->size = size;
	memcpy(j->sha256, sha256, sizeof(j->sha256));
	j->fetched = done;
	j->ctx = ctx;
	j->deadline_ns = xg_now_mono_ns() + XG_XFER_QUEUE_WAIT_NS;
	err = submit(j, &x->fq, &x->fr, XG_XFER_FETCHES_MAX);
	if (err)
		free(j);
	return err;
}

static void expire_queue(struct xg_xfer_list *q, uint64_t now_ns)
{
	struct xg_xfer_job *j, *next;

	/* A finish may start queued jobs, which leave this list: walk from
	 * the head again after each one. */
again:
	for (j = q->head; j; j = next) {
		next = j->next;
		if (now_ns >= j->deadline_ns) {
			xg_xfer_job_finish(j, -ETIMEDOUT);
			goto again;
		}
	}
}

void xg_xfer_expire(struct xg_xfer *x, uint64_t now_ns)
{
	if (!x)
		return;
	expire_queue(&x->uq, now_ns);
	expire_queue(&x->fq, now_ns);
}

static uint64_t earliest(const struct xg_xfer_list *q, uint64_t t)
{
	const struct xg_xfer_job *j;

	for (j = q->head; j; j = j->next)
		if (j->deadline_ns < t)
			t = j->deadline_ns;
	return t;
}

uint64_t xg_xfer_next_deadline(const struct xg_xfer *x)
{
	if (!x)
		return UINT64_MAX;
	return earliest(&x->fq, earliest(&x->uq, UINT64_MAX));
}

void xg_xfer_get_stats(const struct xg_xfer *x, struct xg_xfer_stats *out)
{
	*out = x->stats;
	out->unicasts_running = x->ur.n;
	out->unicasts_queued = x->uq.n;
	out->fetches_running = x->fr.n;
	out->fetches_queued = x->fq.n;
	out->serving = x->serving;
}
