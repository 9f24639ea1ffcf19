/* SPDX-License-Identifier: MIT */
/*
 * Our side of a transfer: the request, the answer, the checks on a
 * fetched body, and reporting the outcome exactly once.
 */
#include "daemon/xfer_frame.h"
#include "daemon/xfer_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>

#include "daemon/loop.h"
#include "util/log.h"

/* The answer to our request: ours (same type, same id), and a reply. */
static int take_answer(struct xg_xfer_job *j, const uint8_t *frame,
		       size_t len, struct xg_xfer_msg *m)
{
	struct xg_xfer *x = j->x;
	int err = xg_xfer_decode(x->kr, x->cluster_id, frame, len, m);

	if (err)
		return err;
	if (!m->reply ||
	    m->type != (j->fetch ? XG_T_FETCH : XG_T_UNICAST) ||
	    memcmp(m->id, j->id, sizeof(j->id)))
		return -EPROTO;
	j->answered = true;
	j->status = m->status;
	j->rtt_ns = xg_now_mono_ns() - j->start_ns;
	return 0;
}

static ssize_t unicast_reply(void *ctx, const uint8_t *frame, size_t len)
{
	struct xg_xfer_msg m;

	return take_answer(ctx, frame, len, &m);
}

/* A refusal (busy, missing) is a complete exchange, reported from
 * on_done; only a body that is not the one announced fails it here,
 * before a byte of it is buffered. */
static ssize_t fetch_reply(void *ctx, const uint8_t *frame, size_t len)
{
	struct xg_xfer_job *j = ctx;
	struct xg_xfer_msg m;
	int err = take_answer(j, frame, len, &m);

	if (err)
		return err;
	if (m.status)
		return 0;
	if (m.body_len != j->size)
		return -EBADMSG;
	return (ssize_t)j->size;
}

static void fetch_bytes(void *ctx, const uint8_t *p, size_t n)
{
	struct xg_xfer_job *j = ctx;

	SHA256_Update(&j->sha, p, n);
}

static void report(struct xg_xfer_job *j, int err, uint8_t *body,
		   size_t len)
{
	struct xg_xfer_stats *st = &j->x->stats;

	if (!j->fetch) {
		if (!err) {
			st->unicasts_sent++;
			st->bytes_sent += j->len;
		} else if (j->answered) {
			st->unicasts_refused++;
		} else {
			st->unicasts_failed++;
		}
		j->sent(j->ctx, err, j->answered ? j->rtt_ns : 0);
		return;
	}
	if (!err) {
		st->fetches_ok++;
		st->bytes_recv += len;
	} else if (err == -EBUSY && j->answered) {
		st->fetches_busy++;
	} else if (err == -ENOENT && j->answered) {
		st->fetches_missing++;
	} else if (err == -EBADMSG) {
		st->fetches_bad++;
	} else {
		st->fetches_failed++;
	}
	j->fetched(j->ctx, err, body, len);
}

/* Report and free a job that is on no list any more. */
static void job_drop(struct xg_xfer_job *j, int err, uint8_t *body,
		     size_t len)
{
	struct xg_xfer *x = j->x;
	char addr[XG_ADDR_STRLEN];

	if (!j->fetch)
		x->stats.unicast_bytes -= j->len;
	xg_debug("xfer %s %s peer=%s: %s", j->fetch ? "fetch" : "unicast",
		 j->name[0] ? j->name : "?",
		 xg_addr_format(&j->to, addr, sizeof(addr)),
		 xg_xfer_strerror(err));
	/* Freed before the callback, which may start new transfers. */
	free(j->payload);
	j->payload = NULL;
	report(j, err, body, len);
	free(j);
}

void xg_xfer_job_finish(struct xg_xfer_job *j, int err)
{
	struct xg_xfer *x = j->x;

	if (j->conn)
		xg_xfer_list_del(j->fetch ? &x->fr : &x->ur, j);
	else
		xg_xfer_list_del(j->fetch ? &x->fq : &x->uq, j);
	j->conn = NULL;
	job_drop(j, err, NULL, 0);
	xg_xfer_pump(x);
}

static void unicast_done(void *ctx, int err, uint8_t *body, size_t len)
{
	struct xg_xfer_job *j = ctx;

	(void)len;
	free(body); /* none was asked for */
	if (!err && j->answered)
		err = j->status;
	xg_xfer_job_finish(j, err);
}

/* The body is whole (pushpull read exactly j->size bytes): compare its
 * hash, computed as it came, with the announced one. */
static void fetch_done(void *ctx, int err, uint8_t *body, size_t len)
{
	struct xg_xfer_job *j = ctx;
	struct xg_xfer *x = j->x;
	uint8_t digest[SHA256_DIGEST_LENGTH];
	char addr[XG_ADDR_STRLEN];

	if (!err && j->answered && j->status)
		err = j->status;
	else if (!err && (!body || len != j->size))
		err = -EBADMSG;
	if (!err) {
		SHA256_Final(digest, &j->sha);
		if (CRYPTO_memcmp(digest, j->sha256, sizeof(digest)))
			err = -EBADMSG;
		if (err)
			xg_warn("xfer fetch from %s peer=%s: body does not "
				"match its SHA-256",
				j->name[0] ? j->name : "?",
				xg_addr_format(&j->to, addr, sizeof(addr)));
	}
	if (err) {
		free(body);
		xg_xfer_job_finish(j, err);
		return;
	}
	/* Success: the body goes to the callback. */
	xg_xfer_list_del(&x->fr, j);
	j->conn = NULL;
	job_drop(j, 0, body, len);
	xg_xfer_pump(x);
}

int xg_xfer_job_start(struct xg_xfer_job *j, uint64_t now_ns)
{
	struct xg_xfer *x = j->x;
	struct xg_xfer_msg m = {
		.type = j->fetch ? XG_T_FETCH : XG_T_UNICAST,
		.sender_id = x->self_id,
		.body_len = j->fetch ? 0 : (uint32_t)j->len,
	};
	uint8_t frame[XG_XFER_FRAME_MAX];
	struct xg_pp_ask ask = {
		.expect_name = j->name[0] ? j->name : NULL,
		.frame = frame,
		.body = j->payload,
		.body_len = j->fetch ? 0 : j->len,
		.reply_max = XG_XFER_FRAME_MAX,
		.body_max = j->fetch ? j->size : 0,
		.on_reply = j->fetch ? fetch_reply : unicast_reply,
		.on_body_bytes = j->fetch ? fetch_bytes : NULL,
		.on_done = j->fetch ? fetch_done : unicast_done,
		.ctx = j,
	};
	ssize_t n;
	int err;

	memcpy(m.id, j->id, sizeof(m.id));
	memcpy(m.name, x->self_name, sizeof(m.name));
	memcpy(m.topic, j->topic, sizeof(m.topic));
	n = xg_xfer_encode(x->kr, x->cluster_id, &m, frame, sizeof(frame));
	if (n < 0)
		return (int)n;
	ask.len = (size_t)n;
	/* A unicast keeps the deadline it got when asked for (the control
	 * client is waiting); a fetch gets its own from now. */
	ask.deadline_ns = j->fetch ? xg_xfer_deadline(x, now_ns, j->size)
				   : j->deadline_ns;
	if (ask.deadline_ns <= now_ns)
		return -ETIMEDOUT;
	SHA256_Init(&j->sha);
	j->start_ns = now_ns;
	err = xg_pp_ask(x->pp, &j->to, &ask, &j->conn);
	if (err) {
		j->conn = NULL;
		return err;
	}
	xg_xfer_list_push(j->fetch ? &x->fr : &x->ur, j);
	return 0;
}

static void pump_kind(struct xg_xfer *x, struct xg_xfer_list *q,
		      const struct xg_xfer_list *running, uint32_t max)
{
	struct xg_xfer_job *j;
	int err;

	while (!x->closing && running->n < max && q->head) {
		j = q->head;
		xg_xfer_list_del(q, j);
		err = xg_xfer_job_start(j, xg_now_mono_ns());
		if (err)
			job_drop(j, err, NULL, 0);
	}
}

void xg_xfer_pump(struct xg_xfer *x)
{
	pump_kind(x, &x->uq, &x->ur, XG_XFER_UNICASTS_MAX);
	pump_kind(x, &x->fq, &x->fr, XG_XFER_FETCHES_MAX);
}
