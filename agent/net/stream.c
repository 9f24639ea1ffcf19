/* SPDX-License-Identifier: MIT */
#include "net/stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* First read buffer; it doubles as data arrives, up to the frame size. */
#define RBUF_MIN (64u << 10)

static ssize_t plain_read(struct xg_stream *s, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(s->fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static ssize_t plain_write(struct xg_stream *s, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(s->fd, buf, len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static void plain_close(struct xg_stream *s)
{
	(void)s;
}

const struct xg_stream_ops xg_stream_plain_ops = {
	.read  = plain_read,
	.write = plain_write,
	.close = plain_close,
};

void xg_stream_init(struct xg_stream *s, int fd, size_t max_frame,
		    uint64_t deadline_ns)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->ops = &xg_stream_plain_ops;
	s->max_frame = max_frame;
	s->deadline_ns = deadline_ns;
}

void xg_stream_close(struct xg_stream *s)
{
	if (s->ops && s->ops->close)
		s->ops->close(s);
	if (s->fd >= 0)
		close(s->fd);
	free(s->rbuf);
	free(s->wbuf);
	s->fd = -1;
	s->rbuf = NULL;
	s->wbuf = NULL;
	s->rcap = s->wcap = 0;
}

uint8_t *xg_stream_reserve(struct xg_stream *s, size_t cap)
{
	size_t need;

	if (cap > s->max_frame)
		return NULL;
	/* Bytes already sent are dropped first so the buffer never holds more
	 * than what is still owed to the peer. */
	if (s->woff > 0) {
		memmove(s->wbuf, s->wbuf + s->woff, s->wlen - s->woff);
		s->wlen -= s->woff;
		s->woff = 0;
	}
	need = s->wlen + 4 + cap;
	if (need > s->wcap) {
		uint8_t *nb = realloc(s->wbuf, need);

		if (!nb)
			return NULL;
		s->wbuf = nb;
		s->wcap = need;
	}
	return s->wbuf + s->wlen + 4;
}

int xg_stream_commit(struct xg_stream *s, size_t len)
{
	uint8_t *p;

	if (len > s->max_frame || s->wlen + 4 + len > s->wcap)
		return -EINVAL;
	p = s->wbuf + s->wlen;
	p[0] = (uint8_t)(len >> 24);
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	s->wlen += 4 + len;
	return 0;
}

int xg_stream_send(struct xg_stream *s, const void *payload, size_t len)
{
	uint8_t *p;

	if (len > s->max_frame)
		return -EMSGSIZE;
	p = xg_stream_reserve(s, len);
	if (!p)
		return -ENOMEM;
	if (len)
		memcpy(p, payload, len);
	return xg_stream_commit(s, len);
}

int xg_stream_handshake(struct xg_stream *s)
{
	return s->ops->handshake ? s->ops->handshake(s) : 0;
}

uint32_t xg_stream_wait_events(const struct xg_stream *s, uint32_t wanted)
{
	uint32_t need = s->ops->wait_events ? s->ops->wait_events(s) : 0;

	return need ? need : wanted;
}

bool xg_stream_write_pending(const struct xg_stream *s)
{
	return s->woff < s->wlen;
}

int xg_stream_flush(struct xg_stream *s)
{
	ssize_t n;

	while (s->woff < s->wlen) {
		n = s->ops->write(s, s->wbuf + s->woff, s->wlen - s->woff);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		s->woff += (size_t)n;
	}
	s->woff = s->wlen = 0;
	return 0;
}

static int read_header(struct xg_stream *s)
{
	ssize_t n;

	while (s->rhdr_have < sizeof(s->rhdr)) {
		n = s->ops->read(s, s->rhdr + s->rhdr_have,
				 sizeof(s->rhdr) - s->rhdr_have);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return s->rhdr_have ? -ECONNRESET : -ENODATA;
		s->rhdr_have += (size_t)n;
	}
	s->rwant = (size_t)s->rhdr[0] << 24 | (size_t)s->rhdr[1] << 16 |
		   (size_t)s->rhdr[2] << 8 | s->rhdr[3];
	return s->rwant > s->max_frame ? -EMSGSIZE : 0;
}

/* Make room for more of the payload: double, but never past the frame. */
static int grow_rbuf(struct xg_stream *s)
{
	size_t ncap = s->rcap ? s->rcap * 2 : RBUF_MIN;
	uint8_t *nb;

	if (ncap > s->rwant)
		ncap = s->rwant;
	nb = realloc(s->rbuf, ncap ? ncap : 1);
	if (!nb)
		return -ENOMEM;
	s->rbuf = nb;
	s->rcap = ncap;
	return 0;
}

int xg_stream_recv(struct xg_stream *s, const uint8_t **payload, size_t *len)
{
	size_t want;
	ssize_t n;
	int err;

	if (s->rdelivered) {
		s->rdelivered = false;
		s->rhdr_have = 0;
		s->rhave = 0;
		s->rwant = 0;
	}
	if (s->rhdr_have < sizeof(s->rhdr)) {
		err = read_header(s);
		if (err)
			return err;
	}
	while (s->rhave < s->rwant) {
		if (s->rhave == s->rcap) {
			err = grow_rbuf(s);
			if (err)
				return err;
		}
		/* Never past this frame: what follows belongs to the next. */
		want = (s->rcap < s->rwant ? s->rcap : s->rwant) - s->rhave;
		n = s->ops->read(s, s->rbuf + s->rhave, want);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return -ECONNRESET;
		s->rhave += (size_t)n;
	}
	s->rdelivered = true;
	*payload = s->rbuf ? s->rbuf : (const uint8_t *)"";
	*len = s->rwant;
	return 1;
}

void xg_stream_partial(const struct xg_stream *s, const uint8_t **data,
		       size_t *len, size_t *declared)
{
	bool mid = !s->rdelivered && s->rhdr_have == sizeof(s->rhdr);

	*data = s->rbuf;
	*len = mid ? s->rhave : 0;
	*declared = mid ? s->rwant : 0;
}

size_t xg_stream_rx_buffered(const struct xg_stream *s)
{
	return s->rcap;
}

bool xg_stream_expired(const struct xg_stream *s, uint64_t now_ns)
{
	return now_ns >= s->deadline_ns;
}
