/* SPDX-License-Identifier: MIT */
#include "daemon/pushpull.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/codec.h"
#include "daemon/pushpull_bulk.h"
#include "net/stream.h"
#include "net/tcp.h"
#include "net/tls.h"
#include "util/log.h"

/* Accepts taken per wakeup: enough to empty a burst of joins, few enough
 * that probes are not kept waiting behind them. */
#define ACCEPT_BURST 16

enum phase {
	PH_CONNECTING, /* outgoing: waiting for connect() to finish */
	PH_HANDSHAKE,  /* TLS handshake, both directions */
	PH_SENDING,    /* outgoing: writing our STATE or request (+ body) */
	PH_RECEIVING,  /* reading theirs (both directions) */
	PH_BODY,       /* reading a body frame (bulk, in slices) */
	PH_REPLYING,   /* incoming: writing our reply (+ tail) */
};

struct xg_pp_conn {
	struct xg_watch    w;
	struct xg_pp      *pp;
	struct xg_stream   st;
	struct xg_addr     peer;
	enum phase         phase;
	bool               outgoing, join;
	char               tls_err[160]; /* why TLS failed, for the log */
	/* An outgoing request (xg_pp_request, xg_pp_ask) rather than a
	 * push/pull. */
	xg_pp_reply_fn     reply_fn;
	bool               asking;
	struct xg_pp_ask   ask;     /* frame, len and expect_name unused */
	char               expect[XG_NAME_MAX]; /* "" : any member */
	/* A request being served: its service and request frame (in the
	 * stream's read buffer, which stays put until the conn ends). */
	bool               serving;
	struct xg_pp_service svc;
	const uint8_t     *req;
	size_t             req_len;
	/* Body and tail frames: request body or reply tail out, reply body or
	 * request body in. */
	struct xg_bulk_tx  tx;
	struct xg_bulk_rx  rx;
	bool               paused;  /* a body waiting for receive budget */
	void             (*release)(void *ctx, void *ref);
	void              *release_ctx, *release_ref;
	uint32_t           events;
	xg_pp_done_fn      done;
	void              *ctx;
	struct xg_pp_conn *next, **pprev;
};

const char *xg_pp_strerror(int err)
{
	switch (err) {
	case -ETIMEDOUT:    return "timed out";
	case -EACCES:       return "authentication failed (certificate from "
				   "another CA, or different cluster keys?)";
	case -EPROTO:       return "not an xgossip STATE or another cluster";
	case -EXDEV:        return "another cluster";
	case -EBADMSG:      return "malformed STATE";
	case -EMSGSIZE:     return "STATE frame too large";
	case -ENODATA:
	case -ECONNRESET:   return "connection closed by peer";
	case -ECONNREFUSED: return "connection refused";
	case -EBUSY:        return "too many push/pulls at once";
	case -ENOBUFS:      return "push/pull memory budget exhausted";
	case -ECANCELED:    return "agent shutting down";
	case -EPERM:        return "peer certificate does not name the node "
				   "it claims to be";
	case -EINPROGRESS:  return "transfer still in progress";
	}
	return strerror(-err);
}

static void conn_release(struct xg_pp_conn *c)
{
	void (*release)(void *, void *) = c->release;

	c->release = NULL;
	if (release)
		release(c->release_ctx, c->release_ref);
}

static int want(struct xg_pp_conn *c, uint32_t events);

/* Receive budget came free: bodies that waited for it try again on the
 * next wakeup (a paused stream watches no events, so EPOLLOUT, which a
 * stream we only read from always has, brings it back). */
static void resume_paused(struct xg_pp *pp)
{
	struct xg_pp_conn *c;

	for (c = pp->conns; c; c = c->next) {
		if (!c->paused)
			continue;
		c->paused = false;
		(void)want(c, EPOLLIN | EPOLLOUT);
	}
}

static void conn_free(struct xg_pp_conn *c)
{
	struct xg_pp *pp = c->pp;
	bool freed_budget = !c->outgoing && c->rx.cap;

	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		pp->nconns--;
	}
	xg_loop_del(pp->loop, &c->w);
	xg_stream_close(&c->st);
	xg_bulk_rx_free(&c->rx);
	conn_release(c);
	free(c);
	if (freed_budget)
		resume_paused(pp);
}

static void conn_finish(struct xg_pp_conn *c, int err)
{
	struct xg_pp *pp = c->pp;
	xg_pp_done_fn done = c->done;
	struct xg_addr peer = c->peer;
	char addr[XG_ADDR_STRLEN];
	void *ctx = c->ctx;
	bool outgoing = c->outgoing;
	xg_pp_reply_fn reply_fn;
	struct xg_pp_ask ask = c->ask;
	bool asking = c->asking;
	uint8_t *body = NULL;
	size_t body_len = 0;

	if (c->st.transport && !c->tls_err[0])
		snprintf(c->tls_err, sizeof(c->tls_err), "%s",
			 xg_tls_last_error(&c->st));

	if (err == -EACCES || err == -EPERM) {
		/* Someone without the cluster's credentials, or with a
		 * certificate for another node: the operator must hear of
		 * it. */
		pp->stats.failed++;
		if (err == -EACCES)
			pp->stats.tls_refused++;
		else
			pp->stats.name_mismatch++;
		xg_warn("pushpull %s peer=%s refused: %s%s%s",
			outgoing ? "out" : "in",
			xg_addr_format(&peer, addr, sizeof(addr)),
			xg_pp_strerror(err), c->tls_err[0] ? ": " : "",
			c->tls_err);
	} else if (err) {
		pp->stats.failed++;
		xg_debug("pushpull %s peer=%s failed: %s",
			 outgoing ? "out" : "in",
			 xg_addr_format(&peer, addr, sizeof(addr)),
			 xg_pp_strerror(err));
	} else {
		pp->stats.ok++;
		xg_debug("pushpull %s peer=%s ok", outgoing ? "out" : "in",
			 xg_addr_format(&peer, addr, sizeof(addr)));
	}
	/* Everything is released before the callback runs: it may start new
	 * exchanges and must find the slot free. */
	reply_fn = c->reply_fn;
	if (asking && !err && c->rx.active)
		body = xg_bulk_rx_take(&c->rx, &body_len);
	conn_free(c);
	if (done)
		done(ctx, &peer, err);
	if (reply_fn && err)
		reply_fn(ctx, &peer, err, NULL, 0);
	if (asking)
		ask.on_done(ask.ctx, err, body, body_len);
}

static int want(struct xg_pp_conn *c, uint32_t events)
{
	int err;

	/* TLS may need the other direction first (a read that must write
	 * handshake bytes). */
	events = xg_stream_wait_events(&c->st, events);
	if (c->events == events)
		return 0;
	err = xg_loop_mod(c->pp->loop, &c->w, events);
	if (!err)
		c->events = events;
	return err;
}

/* Our full state as the one frame of this stream. */
static int queue_state(struct xg_pp_conn *c, uint8_t flags)
{
	struct xg_core *core = c->pp->core;
	size_t cap = xg_core_state_size(core);
	uint8_t *p = xg_stream_reserve(&c->st, cap);
	ssize_t n;

	if (!p)
		return cap > c->st.max_frame ? -EMSGSIZE : -ENOMEM;
	n = xg_core_state_encode(core, flags, p, cap);
	if (n < 0)
		return (int)n;
	return xg_stream_commit(&c->st, (size_t)n);
}

/* Write what is queued, then the body or tail frame a slice at a time;
 * once it is all out, go to the next phase.  Returns 1 when the conn is
 * finished (freed), else 0. */
static int step_write(struct xg_pp_conn *c)
{
	int err = xg_stream_flush(&c->st);

	if (!err && c->tx.active)
		err = xg_bulk_tx_step(&c->tx, &c->st, XG_PP_SLICE);
	if (err == -EINPROGRESS) {
		/* The socket can take more: level-triggered EPOLLOUT brings us
		 * back on the next wakeup, after the UDP socket. */
		err = want(c, EPOLLOUT);
		if (!err)
			return 0;
	}
	if (err == -EAGAIN) {
		err = want(c, EPOLLOUT);
		if (!err)
			return 0;
	}
	if (err) {
		conn_finish(c, err);
		return 1;
	}
	if (c->phase == PH_REPLYING) {
		if (c->serving)
			c->pp->stats.served++;
		conn_finish(c, 0);
		return 1;
	}
	c->phase = PH_RECEIVING;
	err = want(c, EPOLLIN);
	if (err) {
		conn_finish(c, err);
		return 1;
	}
	return 0;
}

/* The simple server of struct xg_pp's serve fields, as a service. */
static int legacy_handle(void *ctx, struct xg_pp_call *call)
{
	struct xg_pp *pp = ctx;
	ssize_t n = pp->serve(pp->serve_ctx, call->req, call->req_len,
			      call->reply, call->reply_cap);

	if (n < 0)
		return (int)n;
	call->reply_len = (size_t)n;
	return 0;
}

/* The service for a request type: registered ones first, then the
 * simple server.  0 or -EPROTO (nobody serves it). */
static int find_service(const struct xg_pp *pp, uint8_t type,
			struct xg_pp_service *out)
{
	size_t i;

	for (i = 0; i < pp->nservices; i++) {
		if (pp->services[i].type == type) {
			*out = pp->services[i];
			return 0;
		}
	}
	if (pp->serve && type == pp->serve_type) {
		*out = (struct xg_pp_service){
			.type = type,
			.max_req = XG_PP_REQUEST_MAX,
			.max_reply = XG_PP_REQUEST_MAX,
			.handle = legacy_handle,
			.ctx = (void *)pp,
		};
		return 0;
	}
	return -EPROTO;
}

/* Reject a frame by its header, before the rest of it is buffered: a port
 * scanner or another cluster costs 16 bytes, not 16 MiB. */
static int check_partial(struct xg_pp_conn *c)
{
	const struct xg_core_config *cfg = xg_core_config(c->pp->core);
	struct xg_pp_service svc;
	const uint8_t *data;
	size_t len, declared;
	uint64_t cluster;
	uint8_t type;

	xg_stream_partial(&c->st, &data, &len, &declared);
	if (declared && declared < sizeof(struct xg_state_hdr))
		return -EBADMSG;
	if (len < sizeof(struct xg_hdr))
		return 0;
	if (xg_peek_header(data, len, &type, &cluster))
		return -EPROTO;
	if (cluster != cfg->cluster_id)
		return -EPROTO;
	if (c->asking)
		return declared > c->ask.reply_max ? -EMSGSIZE : 0;
	if (c->reply_fn)
		return 0; /* the reply's checks are its reader's */
	if (type == XG_T_STATE)
		return 0;
	/* A request is small (its bulk, if any, comes as a body frame that
	 * its server asks for): only STATE may be large. */
	if (find_service(c->pp, type, &svc))
		return -EPROTO;
	return declared > svc.max_req ? -EMSGSIZE : 0;
}

static size_t buffered_total(const struct xg_pp *pp)
{
	const struct xg_pp_conn *c;
	size_t total = 0;

	/* A body we asked for is ours to bound (xfer.c), not the peers'. */
	for (c = pp->conns; c; c = c->next)
		total += xg_stream_rx_buffered(&c->st) +
			 (c->outgoing ? 0 : c->rx.cap);
	return total;
}

/* With TLS, the certificate must name the node the STATE speaks for:
 * a member's certificate does not let it pose as another member. */
static int check_peer_name(struct xg_pp_conn *c, const uint8_t *frame,
			   size_t len)
{
	char name[XG_NAME_MAX];
	int err;

	if (!c->st.transport)
		return 0;
	err = xg_core_state_sender(c->pp->core, frame, len, name,
				   sizeof(name));
	if (err)
		return err;
	if (xg_tls_peer_is(&c->st, name))
		return 0;
	snprintf(c->tls_err, sizeof(c->tls_err), "claims \"%.63s\"", name);
	return -EPERM;
}

static void step_body(struct xg_pp_conn *c);

/* Ask the service about a request (first call) or its body (second):
 * read a body, or queue the reply and its tail. */
static void serve_call(struct xg_pp_conn *c, const uint8_t *body,
		       size_t body_len)
{
	struct xg_pp_call call = {
		.type = c->svc.type,
		.req = c->req,
		.req_len = c->req_len,
		.body = body,
		.body_len = body_len,
		.peer = &c->peer,
		.reply_cap = c->svc.max_reply,
		.conn = c,
	};
	int err;

	call.reply = xg_stream_reserve(&c->st, c->svc.max_reply);
	if (!call.reply) {
		conn_finish(c, -ENOMEM);
		return;
	}
	err = c->svc.handle(c->svc.ctx, &call);
	if (call.release) {
		c->release = call.release;
		c->release_ctx = call.release_ctx;
		c->release_ref = call.release_ref;
	}
	if (!err && call.deadline_ns)
		c->st.deadline_ns = call.deadline_ns;
	if (!err && call.want_body) {
		if (body || call.want_body > c->svc.max_body) {
			conn_finish(c, -EMSGSIZE);
			return;
		}
		xg_bulk_rx_start(&c->rx, call.want_body);
		c->phase = PH_BODY;
		step_body(c);
		return;
	}
	if (!err && call.reply_len > call.reply_cap)
		err = -EMSGSIZE;
	if (!err)
		err = xg_stream_commit(&c->st, call.reply_len);
	if (err) {
		conn_finish(c, err);
		return;
	}
	if (call.tail)
		xg_bulk_tx_start(&c->tx, call.tail, call.tail_len);
	c->phase = PH_REPLYING;
	step_write(c);
}

/* A request other than STATE: find who serves it. */
static void serve_request(struct xg_pp_conn *c, const uint8_t *frame,
			  size_t len)
{
	int err = find_service(c->pp, frame[offsetof(struct xg_hdr, type)],
			       &c->svc);

	/* The whole frame may have come in one read, unseen by
	 * check_partial. */
	if (!err && len > c->svc.max_req)
		err = -EMSGSIZE;
	if (err) {
		conn_finish(c, err);
		return;
	}
	c->serving = true;
	c->req = frame;
	c->req_len = len;
	serve_call(c, NULL, 0);
}

/* What an incoming body may still take of the receive budget. */
static size_t body_room(const struct xg_pp *pp)
{
	size_t used = buffered_total(pp);

	return used < XG_PP_RX_BODY_BUDGET ? XG_PP_RX_BODY_BUDGET - used : 0;
}

/* A body frame, a slice per wakeup. */
static void step_body(struct xg_pp_conn *c)
{
	struct xg_pp *pp = c->pp;
	size_t got, len;
	uint8_t *body;
	int err;

	err = xg_bulk_rx_step(&c->rx, &c->st, XG_PP_SLICE,
			      c->outgoing ? SIZE_MAX : body_room(pp), &got);
	if (got && c->asking && c->ask.on_body_bytes)
		c->ask.on_body_bytes(c->ask.ctx,
				     c->rx.buf + c->rx.have - got, got);
	if (err == -ENOBUFS && !c->outgoing) {
		/* Wait for room, watching nothing (not even what TLS last
		 * asked for: a readable socket would wake us for nothing);
		 * the deadline still runs. */
		c->paused = true;
		pp->stats.body_waits++;
		err = xg_loop_mod(pp->loop, &c->w, 0);
		if (err) {
			conn_finish(c, err);
			return;
		}
		c->events = 0;
		return;
	}
	if (err == -EINPROGRESS) {
		/* More may be waiting inside TLS, where epoll cannot see it:
		 * EPOLLOUT (a socket we are not writing to is writable) brings
		 * us back on the next wakeup, after the UDP socket. */
		err = want(c, EPOLLIN | EPOLLOUT);
		if (err)
			conn_finish(c, err);
		return;
	}
	if (err == -EAGAIN) {
		err = want(c, EPOLLIN);
		if (err)
			conn_finish(c, err);
		return;
	}
	if (err < 0) {
		conn_finish(c, err);
		return;
	}
	if (c->outgoing) {
		/* Our request's body: on_done takes it. */
		conn_finish(c, 0);
		return;
	}
	body = xg_bulk_rx_take(&c->rx, &len);
	serve_call(c, body, len);
	free(body);
	resume_paused(pp);
}

static void step_read(struct xg_pp_conn *c)
{
	const uint8_t *frame;
	size_t len;
	int err;

	err = xg_stream_recv(&c->st, &frame, &len);
	if (err == -EAGAIN) {
		err = check_partial(c);
		if (!err && buffered_total(c->pp) > XG_PP_RX_BUDGET)
			err = -ENOBUFS;
		if (err)
			conn_finish(c, err);
		return;
	}
	if (err < 0) {
		conn_finish(c, err);
		return;
	}
	if (c->asking) {
		ssize_t n = c->ask.on_reply(c->ask.ctx, frame, len);

		if (n > 0 && (size_t)n > c->ask.body_max)
			n = -EMSGSIZE;
		if (n <= 0) {
			conn_finish(c, (int)n);
			return;
		}
		xg_bulk_rx_start(&c->rx, (size_t)n);
		c->phase = PH_BODY;
		err = want(c, EPOLLIN);
		if (err)
			conn_finish(c, err);
		else
			step_body(c);
		return;
	}
	if (c->reply_fn) {
		/* Our request's answer: hand it over, then we are done. */
		xg_pp_reply_fn fn = c->reply_fn;

		c->reply_fn = NULL;
		fn(c->ctx, &c->peer, 0, frame, len);
		conn_finish(c, 0);
		return;
	}
	if (len > sizeof(struct xg_hdr) &&
	    frame[offsetof(struct xg_hdr, type)] != XG_T_STATE) {
		serve_request(c, frame, len);
		return;
	}
	err = check_peer_name(c, frame, len);
	if (!err)
		err = xg_core_state_merge(c->pp->core, frame, len,
					  xg_now_mono_ns());
	if (err || c->outgoing) {
		conn_finish(c, err);
		return;
	}
	err = queue_state(c, XG_F_REPLY);
	if (err) {
		conn_finish(c, err);
		return;
	}
	c->phase = PH_REPLYING;
	step_write(c);
}

/* After the handshake the outgoing side speaks first; the incoming one
 * reads at once, in case the peer's frame came with the handshake's last
 * flight (TLS holds it where epoll cannot see it). */
static void step_handshake(struct xg_pp_conn *c)
{
	int err = xg_stream_handshake(&c->st);

	if (err == -EAGAIN) {
		err = want(c, EPOLLIN);
		if (err)
			conn_finish(c, err);
		return;
	}
	if (!err)
		xg_debug("pushpull %s tls handshake done%s",
			 c->outgoing ? "out" : "in",
			 xg_tls_resumed(&c->st) ? " (resumed)" : "");
	if (!err && c->expect[0] && !xg_tls_peer_is(&c->st, c->expect)) {
		snprintf(c->tls_err, sizeof(c->tls_err),
			 "certificate is not for \"%.63s\"", c->expect);
		err = -EPERM;
	}
	if (!err && c->outgoing && !c->reply_fn && !c->asking)
		err = queue_state(c, c->join ? XG_F_JOIN : 0);
	if (err) {
		conn_finish(c, err);
		return;
	}
	if (c->outgoing) {
		c->phase = PH_SENDING;
		step_write(c);
		return;
	}
	c->phase = PH_RECEIVING;
	err = want(c, EPOLLIN);
	if (err) {
		conn_finish(c, err);
		return;
	}
	step_read(c);
}

/* Plain TCP goes straight on; TLS first shakes hands. */
static void connected(struct xg_pp_conn *c)
{
	int err = 0;

	if (c->pp->tls) {
		char key[XG_ADDR_STRLEN];

		/* Keyed by address: a resumed handshake skips both
		 * certificates (net/tls_session.c). */
		xg_addr_format(&c->peer, key, sizeof(key));
		err = xg_tls_attach_peer(&c->st, c->pp->tls, !c->outgoing,
					 c->outgoing ? key : NULL);
		if (err) {
			conn_finish(c, err);
			return;
		}
		c->phase = PH_HANDSHAKE;
		step_handshake(c);
		return;
	}
	if (c->outgoing) {
		if (!c->reply_fn && !c->asking)
			err = queue_state(c, c->join ? XG_F_JOIN : 0);
		if (err) {
			conn_finish(c, err);
			return;
		}
		c->phase = PH_SENDING;
		step_write(c);
		return;
	}
	c->phase = PH_RECEIVING;
}

static void conn_event(struct xg_watch *w, uint32_t events)
{
	struct xg_pp_conn *c = (struct xg_pp_conn *)((char *)w -
						     offsetof(struct xg_pp_conn, w));
	int err;

	switch (c->phase) {
	case PH_CONNECTING:
		err = xg_tcp_connect_result(c->st.fd);
		if (!err && (events & (EPOLLERR | EPOLLHUP)))
			err = -ECONNRESET;
		if (err) {
			conn_finish(c, err);
			return;
		}
		connected(c);
		return;
	case PH_HANDSHAKE:
		step_handshake(c);
		return;
	case PH_SENDING:
	case PH_REPLYING:
		step_write(c);
		return;
	case PH_RECEIVING:
		step_read(c);
		return;
	case PH_BODY:
		if (c->paused) {
			/* Only errors wake a paused stream: the peer gave up. */
			if (events & (EPOLLERR | EPOLLHUP))
				conn_finish(c, -ECONNRESET);
			return;
		}
		step_body(c);
		return;
	}
}

static struct xg_pp_conn *conn_new(struct xg_pp *pp, int fd,
				   const struct xg_addr *peer, uint32_t events)
{
	struct xg_pp_conn *c = calloc(1, sizeof(*c));
	int err;

	if (!c) {
		close(fd);
		return NULL;
	}
	c->pp = pp;
	c->peer = *peer;
	xg_stream_init(&c->st, fd, XG_STATE_MAX,
		       xg_now_mono_ns() + XG_PP_TIMEOUT_NS);
	c->w.fd = fd;
	c->w.fn = conn_event;
	c->w.prio = XG_PP_PRIO;
	c->events = events;
	err = xg_loop_add(pp->loop, &c->w, events);
	if (err) {
		xg_stream_close(&c->st);
		free(c);
		errno = -err;
		return NULL;
	}
	c->next = pp->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &pp->conns;
	pp->conns = c;
	pp->nconns++;
	return c;
}

static void listen_event(struct xg_watch *w, uint32_t events)
{
	struct xg_pp *pp = (struct xg_pp *)((char *)w -
					    offsetof(struct xg_pp, listen));
	struct xg_pp_conn *c;
	struct xg_addr peer;
	int i, fd;

	(void)events;
	for (i = 0; i < ACCEPT_BURST; i++) {
		fd = xg_tcp_accept(pp->listen.fd, &peer);
		if (fd == -EAGAIN)
			return;
		if (fd < 0) {
			/* EMFILE and friends: the connection stays queued; try
			 * again on the next wakeup rather than spin here. */
			xg_warn("pushpull accept failed: %s", strerror(-fd));
			return;
		}
		pp->stats.accepts++;
		if (pp->shed) {
			pp->stats.shed++;
			close(fd);
			continue;
		}
		if (pp->nconns >= XG_PP_MAX_CONNS) {
			pp->stats.rejected++;
			close(fd);
			continue;
		}
		c = conn_new(pp, fd, &peer, EPOLLIN);
		if (!c) {
			pp->stats.failed++;
			continue;
		}
		connected(c);
	}
}

int xg_pp_open(struct xg_pp *pp, struct xg_loop *loop, struct xg_core *core,
	       const struct xg_addr *bind)
{
	int fd, err;

	memset(pp, 0, sizeof(*pp));
	pp->listen.fd = -1;
	pp->loop = loop;
	pp->core = core;
	fd = xg_tcp_listen(bind, 128);
	if (fd < 0)
		return fd;
	pp->listen.fd = fd;
	pp->listen.fn = listen_event;
	pp->listen.prio = XG_PP_PRIO;
	err = xg_loop_add(loop, &pp->listen, EPOLLIN);
	if (err) {
		close(fd);
		pp->listen.fd = -1;
	}
	return err;
}

void xg_pp_close(struct xg_pp *pp)
{
	if (pp->listen.fd >= 0) {
		xg_loop_del(pp->loop, &pp->listen);
		close(pp->listen.fd);
	}
	pp->listen.fd = -1;
	pp->closed = true;
	while (pp->conns)
		conn_finish(pp->conns, -ECANCELED);
}

/* Failures before connect() are returned; everything after, even an
 * immediate refusal, arrives through the loop, so done never runs inside
 * this call and callers need not be reentrant. */
int xg_pp_start(struct xg_pp *pp, const struct xg_addr *to, bool join,
		xg_pp_done_fn done, void *ctx)
{
	struct xg_pp_conn *c;
	int fd;

	if (pp->closed)
		return -ECANCELED;
	if (pp->nconns >= XG_PP_MAX_CONNS)
		return -EBUSY;
	fd = xg_tcp_connect(to);
	if (fd < 0)
		return fd;
	c = conn_new(pp, fd, to, EPOLLOUT);
	if (!c)
		return -errno;
	pp->stats.connects++;
	c->outgoing = true;
	c->join = join;
	c->phase = PH_CONNECTING;
	c->done = done;
	c->ctx = ctx;
	return 0;
}

/* An outgoing stream to `to` with frame queued: written once connected
 * (and, with TLS, once hands are shaken). */
static int connect_with(struct xg_pp *pp, const struct xg_addr *to,
			const void *frame, size_t len, struct xg_pp_conn **out)
{
	struct xg_pp_conn *c;
	int fd, err;

	if (pp->closed)
		return -ECANCELED;
	if (pp->nconns >= XG_PP_MAX_CONNS)
		return -EBUSY;
	fd = xg_tcp_connect(to);
	if (fd < 0)
		return fd;
	c = conn_new(pp, fd, to, EPOLLOUT);
	if (!c)
		return -errno;
	err = xg_stream_send(&c->st, frame, len);
	if (err) {
		conn_free(c);
		return err;
	}
	pp->stats.connects++;
	c->outgoing = true;
	c->phase = PH_CONNECTING;
	*out = c;
	return 0;
}

int xg_pp_request(struct xg_pp *pp, const struct xg_addr *to,
		  const char *expect_name, const void *frame, size_t len,
		  xg_pp_reply_fn fn, void *ctx)
{
	struct xg_pp_conn *c;
	int err;

	if (!fn || !frame || len > XG_PP_REQUEST_MAX)
		return -EINVAL;
	err = connect_with(pp, to, frame, len, &c);
	if (err)
		return err;
	c->reply_fn = fn;
	c->ctx = ctx;
	if (expect_name)
		snprintf(c->expect, sizeof(c->expect), "%s", expect_name);
	return 0;
}

int xg_pp_ask(struct xg_pp *pp, const struct xg_addr *to,
	      const struct xg_pp_ask *ask, struct xg_pp_conn **handle)
{
	struct xg_pp_conn *c;
	int err;

	if (!ask || !ask->on_reply || !ask->on_done || !ask->frame ||
	    ask->len > XG_PP_REQUEST_MAX || ask->body_len > UINT32_MAX ||
	    (ask->body_len && !ask->body))
		return -EINVAL;
	err = connect_with(pp, to, ask->frame, ask->len, &c);
	if (err)
		return err;
	c->asking = true;
	c->ask = *ask;
	c->ask.frame = NULL;
	c->ask.expect_name = NULL;
	if (!c->ask.reply_max)
		c->ask.reply_max = XG_PP_REQUEST_MAX;
	if (ask->deadline_ns)
		c->st.deadline_ns = ask->deadline_ns;
	if (ask->body_len)
		xg_bulk_tx_start(&c->tx, ask->body, ask->body_len);
	if (ask->expect_name)
		snprintf(c->expect, sizeof(c->expect), "%s", ask->expect_name);
	if (handle)
		*handle = c;
	return 0;
}

void xg_pp_cancel(struct xg_pp *pp, struct xg_pp_conn *handle)
{
	(void)pp;
	if (handle)
		conn_finish(handle, -ECANCELED);
}

int xg_pp_serve(struct xg_pp *pp, const struct xg_pp_service *svc)
{
	struct xg_pp_service tmp;

	if (!svc || !svc->handle || svc->type == XG_T_STATE ||
	    svc->max_req < sizeof(struct xg_hdr) || svc->max_req > XG_STATE_MAX ||
	    svc->max_body > UINT32_MAX || !svc->max_reply ||
	    svc->max_reply > XG_STATE_MAX)
		return -EINVAL;
	if (find_service(pp, svc->type, &tmp) == 0 &&
	    tmp.handle != legacy_handle)
		return -EEXIST;
	if (pp->nservices == XG_PP_SERVICES_MAX)
		return -ENOSPC;
	pp->services[pp->nservices++] = *svc;
	return 0;
}

void xg_pp_unserve(struct xg_pp *pp, uint8_t type)
{
	struct xg_pp_conn *c;
	size_t i;

	for (i = 0; i < pp->nservices; i++) {
		if (pp->services[i].type != type)
			continue;
		pp->services[i] = pp->services[--pp->nservices];
		break;
	}
again:
	for (c = pp->conns; c; c = c->next) {
		if (c->serving && c->svc.type == type) {
			conn_finish(c, -ECANCELED);
			goto again;
		}
	}
}

bool xg_pp_call_peer_is(struct xg_pp_call *call, const char *name)
{
	struct xg_pp_conn *c = call->conn;

	if (!c->st.transport)
		return true;
	if (name && xg_tls_peer_is(&c->st, name))
		return true;
	snprintf(c->tls_err, sizeof(c->tls_err), "claims \"%.63s\"",
		 name ? name : "");
	return false;
}

void xg_pp_expire(struct xg_pp *pp, uint64_t now_ns)
{
	struct xg_pp_conn *c;

again:
	for (c = pp->conns; c; c = c->next) {
		if (xg_stream_expired(&c->st, now_ns)) {
			/* The done callback may change the list: rescan.  At
			 * most XG_PP_MAX_CONNS entries, rarely more than one
			 * expiring at a time. */
			conn_finish(c, -ETIMEDOUT);
			goto again;
		}
	}
}

uint64_t xg_pp_next_deadline(const struct xg_pp *pp)
{
	const struct xg_pp_conn *c;
	uint64_t t = UINT64_MAX;

	for (c = pp->conns; c; c = c->next)
		if (c->st.deadline_ns < t)
			t = c->st.deadline_ns;
	return t;
}
