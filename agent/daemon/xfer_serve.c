/* SPDX-License-Identifier: MIT */
/*
 * The server side of transfers: pushpull services for UNICAST and FETCH.
 * A request is checked (MAC, kind, size) and its sender must be the
 * member the peer's certificate names before anything else happens: a
 * member cannot make us buffer a payload in another member's name.
 */
#include "daemon/xfer_frame.h"
#include "daemon/xfer_int.h"

#include <errno.h>
#include <string.h>

#include "daemon/loop.h"
#include "util/log.h"

static int take_request(struct xg_xfer *x, struct xg_pp_call *call,
			uint8_t type, struct xg_xfer_msg *m)
{
	char addr[XG_ADDR_STRLEN];
	int err = xg_xfer_decode(x->kr, x->cluster_id, call->req,
				 call->req_len, m);

	if (!err && (m->reply || m->type != type))
		err = -EPROTO;
	if (!err && m->body_len > x->max_payload)
		err = -EMSGSIZE;
	if (err == -EACCES)
		return err; /* pushpull logs it as an authentication failure */
	if (err) {
		/* Only members get this far (TLS): a bad frame from one is
		 * worth a line. */
		xg_warn("xfer: refused a %s frame from %s: %s",
			type == XG_T_FETCH ? "FETCH" : "UNICAST",
			xg_addr_format(call->peer, addr, sizeof(addr)),
			xg_xfer_strerror(err));
		return err;
	}
	return xg_pp_call_peer_is(call, m->name) ? 0 : -EPERM;
}

/* Our answer: same type and id, a status, and the length of a body
 * frame to follow (FETCH). */
static int answer(struct xg_xfer *x, struct xg_pp_call *call,
		  const struct xg_xfer_msg *req, int status,
		  uint32_t body_len)
{
	struct xg_xfer_msg m = {
		.type = req->type,
		.reply = true,
		.sender_id = x->self_id,
		.status = status,
		.body_len = body_len,
	};
	ssize_t n;

	memcpy(m.id, req->id, sizeof(m.id));
	n = xg_xfer_encode(x->kr, x->cluster_id, &m, call->reply,
			   call->reply_cap);
	if (n < 0)
		return (int)n;
	call->reply_len = (size_t)n;
	return 0;
}

int xg_xfer_serve_unicast(void *ctx, struct xg_pp_call *call)
{
	struct xg_xfer *x = ctx;
	struct xg_xfer_msg m;
	int status, err = take_request(x, call, XG_T_UNICAST, &m);

	if (err)
		return err;
	if (!call->body && m.body_len) {
		/* The payload comes next; its time starts now. */
		call->want_body = m.body_len;
		call->deadline_ns = xg_xfer_deadline(x, xg_now_mono_ns(),
						     m.body_len);
		return 0;
	}
	if (!x->hooks.on_unicast)
		status = -EOPNOTSUPP;
	else
		status = x->hooks.on_unicast(x->hooks.ctx, m.name, m.sender_id,
					     m.id, m.topic,
					     call->body ? call->body
							: (const uint8_t *)"",
					     m.body_len);
	/* Whatever the hook says goes back as an errno. */
	if (status > 0 || status < -4095)
		status = -EIO;
	if (status) {
		x->stats.unicasts_rejected++;
	} else {
		x->stats.unicasts_recv++;
		x->stats.bytes_recv += m.body_len;
	}
	return answer(x, call, &m, status, 0);
}

static void serve_release(void *ctx, void *ref)
{
	struct xg_xfer *x = ctx;
	struct xg_xfer_serve *sv = ref;
	void *body_ref = sv->ref;

	memset(sv, 0, sizeof(*sv));
	x->serving--;
	if (x->hooks.body_put)
		x->hooks.body_put(x->hooks.ctx, body_ref);
}

/* A free serve slot, or NULL when all are taken or `name` holds its
 * share already. */
static struct xg_xfer_serve *serve_slot(struct xg_xfer *x, const char *name)
{
	struct xg_xfer_serve *free_slot = NULL;
	unsigned i, mine = 0;

	for (i = 0; i < XG_XFER_SERVES_MAX; i++) {
		if (!x->serves[i].used)
			free_slot = free_slot ? free_slot : &x->serves[i];
		else if (!strcmp(x->serves[i].name, name))
			mine++;
	}
	return mine < XG_XFER_SERVES_PER_MEMBER ? free_slot : NULL;
}

int xg_xfer_serve_fetch(void *ctx, struct xg_pp_call *call)
{
	struct xg_xfer *x = ctx;
	const uint8_t *body = NULL;
	struct xg_xfer_serve *sv;
	struct xg_xfer_msg m;
	void *ref = NULL;
	size_t len = 0;
	int err = take_request(x, call, XG_T_FETCH, &m);

	if (err)
		return err;
	/* Busy is said at once: the fetcher asks another holder rather
	 * than wait behind four bodies. */
	sv = serve_slot(x, m.name);
	if (!sv) {
		x->stats.serves_busy++;
		return answer(x, call, &m, -EBUSY, 0);
	}
	err = x->hooks.body_get ? x->hooks.body_get(x->hooks.ctx, m.id, &body,
						    &len, &ref)
				: -ENOENT;
	if (err) {
		if (err > 0 || err < -4095)
			err = -EIO;
		x->stats.serves_missing++;
		return answer(x, call, &m, err, 0);
	}
	/* From here the body goes back through release, whatever happens
	 * to the stream (or to this answer). */
	sv->used = true;
	memcpy(sv->name, m.name, sizeof(sv->name));
	sv->ref = ref;
	x->serving++;
	call->release = serve_release;
	call->release_ctx = x;
	call->release_ref = sv;
	if (len > x->max_payload || !body)
		return answer(x, call, &m, -EFBIG, 0);
	call->tail = body;
	call->tail_len = len;
	call->deadline_ns = xg_xfer_deadline(x, xg_now_mono_ns(), len);
	x->stats.serves++;
	x->stats.bytes_sent += len;
	return answer(x, call, &m, 0, (uint32_t)len);
}
