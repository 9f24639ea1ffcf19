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
	PH_SENDING,    /* outgoing: writing our STATE */
	PH_RECEIVING,  /* reading theirs (both directions) */
	PH_REPLYING,   /* incoming: writing our reply */
};

struct xg_pp_conn {
	struct xg_watch    w;
	struct xg_pp      *pp;
	struct xg_stream   st;
	struct xg_addr     peer;
	enum phase         phase;
	bool               outgoing, join;
	char               tls_err[160]; /* why TLS failed, for the log */
	/* An outgoing request (xg_pp_request) rather than a push/pull. */
	xg_pp_reply_fn     reply_fn;
	char               expect[XG_NAME_MAX]; /* "" : any member */
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
	}
	return strerror(-err);
}

static void conn_free(struct xg_pp_conn *c)
{
	struct xg_pp *pp = c->pp;

	if (c->pprev) {
		*c->pprev = c->next;
		if (c->next)
			c->next->pprev = c->pprev;
		pp->nconns--;
	}
	xg_loop_del(pp->loop, &c->w);
	xg_stream_close(&c->st);
	free(c);
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
	conn_free(c);
	if (done)
		done(ctx, &peer, err);
	if (reply_fn && err)
		reply_fn(ctx, &peer, err, NULL, 0);
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

/* Write what is queued; once it is out, go to the next phase.  Returns 1
 * when the conn is finished (freed), else 0. */
static int step_write(struct xg_pp_conn *c)
{
	int err = xg_stream_flush(&c->st);

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

/* Reject a frame by its header, before the rest of it is buffered: a port
 * scanner or another cluster costs 16 bytes, not 16 MiB. */
static int check_partial(struct xg_pp_conn *c)
{
	const struct xg_core_config *cfg = xg_core_config(c->pp->core);
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
	if (c->reply_fn)
		return 0; /* the reply's checks are its reader's */
	if (type != XG_T_STATE && !(c->pp->serve && type == c->pp->serve_type))
		return -EPROTO;
	/* A request is small: only STATE may be large. */
	if (type != XG_T_STATE && declared > XG_PP_REQUEST_MAX)
		return -EMSGSIZE;
	return 0;
}

static size_t buffered_total(const struct xg_pp *pp)
{
	const struct xg_pp_conn *c;
	size_t total = 0;

	for (c = pp->conns; c; c = c->next)
		total += xg_stream_rx_buffered(&c->st);
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

/* A request other than STATE: the server writes the one reply frame. */
static void serve_request(struct xg_pp_conn *c, const uint8_t *frame,
			  size_t len)
{
	struct xg_pp *pp = c->pp;
	uint8_t *p;
	ssize_t n;
	int err;

	if (!pp->serve) {
		conn_finish(c, -EPROTO);
		return;
	}
	p = xg_stream_reserve(&c->st, XG_PP_REQUEST_MAX);
	if (!p) {
		conn_finish(c, -ENOMEM);
		return;
	}
	n = pp->serve(pp->serve_ctx, frame, len, p, XG_PP_REQUEST_MAX);
	err = n < 0 ? (int)n : xg_stream_commit(&c->st, (size_t)n);
	if (err) {
		conn_finish(c, err);
		return;
	}
	c->phase = PH_REPLYING;
	step_write(c);
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
	if (!err && c->outgoing && !c->reply_fn)
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
		if (!c->reply_fn)
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

int xg_pp_request(struct xg_pp *pp, const struct xg_addr *to,
		  const char *expect_name, const void *frame, size_t len,
		  xg_pp_reply_fn fn, void *ctx)
{
	struct xg_pp_conn *c;
	int fd, err;

	if (!fn || !frame || len > XG_PP_REQUEST_MAX)
		return -EINVAL;
	if (pp->nconns >= XG_PP_MAX_CONNS)
		return -EBUSY;
	fd = xg_tcp_connect(to);
	if (fd < 0)
		return fd;
	c = conn_new(pp, fd, to, EPOLLOUT);
	if (!c)
		return -errno;
	/* Queued now, written once connected (and shaken hands). */
	err = xg_stream_send(&c->st, frame, len);
	if (err) {
		conn_free(c);
		return err;
	}
	pp->stats.connects++;
	c->outgoing = true;
	c->phase = PH_CONNECTING;
	c->reply_fn = fn;
	c->ctx = ctx;
	if (expect_name)
		snprintf(c->expect, sizeof(c->expect), "%s", expect_name);
	return 0;
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
