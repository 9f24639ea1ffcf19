/* SPDX-License-Identifier: MIT */
#include "daemon/pushpull_bulk.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"

/* Bytes handed to one write call.  Constant on purpose: after a TLS write
 * said -EAGAIN, BoringSSL wants the retry to offer at least the bytes of
 * the record it already built (16 KiB at most), and a retry always offers
 * min(remaining, CHUNK) from the same place. */
#define CHUNK (64u << 10)
/* First receive buffer: a peer that announces 16 MiB and sends nothing
 * costs 64 KiB.  Once that much has come, the buffer takes the whole
 * frame in one step: doubling would copy the body again at each step
 * (glibc serves large blocks from the heap once big blocks have been
 * freed, and realloc then moves them), and the frame's sender has been
 * authenticated by then (a body frame only follows a checked request). */
#define RX_FIRST (64u << 10)

void xg_bulk_tx_start(struct xg_bulk_tx *t, const uint8_t *data, size_t len)
{
	memset(t, 0, sizeof(*t));
	xg_be_put32(t->prefix, (uint32_t)len);
	t->data = data;
	t->len = len;
	t->active = true;
}

int xg_bulk_tx_step(struct xg_bulk_tx *t, struct xg_stream *s, size_t slice)
{
	size_t total = sizeof(t->prefix) + t->len, moved = 0, n;
	const uint8_t *p;
	ssize_t w;

	while (t->off < total) {
		if (moved >= slice)
			return -EINPROGRESS;
		if (t->off < sizeof(t->prefix)) {
			p = t->prefix + t->off;
			n = sizeof(t->prefix) - t->off;
		} else {
			p = t->data + (t->off - sizeof(t->prefix));
			n = total - t->off < CHUNK ? total - t->off : CHUNK;
		}
		w = s->ops->write(s, p, n);
		if (w < 0)
			return (int)w;
		if (w == 0)
			return -EIO;
		t->off += (size_t)w;
		moved += (size_t)w;
	}
	t->active = false;
	return 0;
}

void xg_bulk_rx_start(struct xg_bulk_rx *r, size_t want)
{
	xg_bulk_rx_free(r);
	r->want = want;
	r->active = true;
}

static int grow(struct xg_bulk_rx *r, size_t room)
{
	size_t ncap = r->cap ? r->want : RX_FIRST;
	uint8_t *nb;

	if (ncap > r->want)
		ncap = r->want;
	if (ncap - r->cap > room)
		return -ENOBUFS;
	nb = realloc(r->buf, ncap);
	if (!nb)
		return -ENOMEM;
	r->buf = nb;
	r->cap = ncap;
	return 0;
}

int xg_bulk_rx_step(struct xg_bulk_rx *r, struct xg_stream *s, size_t slice,
		    size_t room, size_t *got)
{
	size_t moved = 0, n;
	ssize_t k;
	int err;

	*got = 0;
	while (r->phave < sizeof(r->prefix)) {
		k = s->ops->read(s, r->prefix + r->phave,
				 sizeof(r->prefix) - r->phave);
		if (k < 0)
			return (int)k;
		if (k == 0)
			return r->phave ? -ECONNRESET : -ENODATA;
		r->phave += (size_t)k;
		if (r->phave == sizeof(r->prefix) &&
		    xg_be_get32(r->prefix) != r->want)
			return -EBADMSG;
	}
	while (r->have < r->want) {
		if (moved >= slice)
			return -EINPROGRESS;
		if (r->have == r->cap) {
			err = grow(r, room);
			if (err)
				return err;
		}
		n = r->cap - r->have;
		if (n > slice - moved)
			n = slice - moved;
		k = s->ops->read(s, r->buf + r->have, n);
		if (k < 0)
			return (int)k;
		if (k == 0)
			return -ECONNRESET;
		r->have += (size_t)k;
		moved += (size_t)k;
		*got += (size_t)k;
	}
	return 1;
}

uint8_t *xg_bulk_rx_take(struct xg_bulk_rx *r, size_t *len)
{
	uint8_t *b = r->buf;

	*len = r->want;
	r->buf = NULL;
	xg_bulk_rx_free(r);
	return b;
}

void xg_bulk_rx_free(struct xg_bulk_rx *r)
{
	free(r->buf);
	memset(r, 0, sizeof(*r));
}
