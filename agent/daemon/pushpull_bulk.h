/* SPDX-License-Identifier: MIT */
/*
 * One large frame (up to 16 MiB) moved through a stream's transport in
 * bounded slices: the body of a UNICAST, or of a FETCH reply.
 *
 * The framing is the stream's own (a 4-byte big-endian length, then the
 * bytes), but the bytes bypass the stream's buffers: a frame being sent
 * is read straight from its owner's memory (a body in the body store is
 * never copied), and a frame being received lands in a buffer that grows
 * (64 KiB, then the whole frame) as bytes arrive and is then handed over
 * whole.  This works because
 * net/stream.c never reads past the frame it delivers: once a frame came
 * out of xg_stream_recv(), the next bytes in the transport are ours.
 *
 * Each step moves at most `slice` bytes and then returns -EINPROGRESS
 * even if the socket could take or give more, so one stream cannot keep
 * the event loop away from UDP (and probes) for a whole 16 MiB.
 */
#ifndef XGOSSIP_DAEMON_PUSHPULL_BULK_H
#define XGOSSIP_DAEMON_PUSHPULL_BULK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/stream.h"

struct xg_bulk_tx {
	uint8_t        prefix[4];
	const uint8_t *data;  /* not owned */
	size_t         len;
	size_t         off;   /* over prefix + data */
	bool           active;
};

struct xg_bulk_rx {
	uint8_t  prefix[4];
	size_t   phave;
	uint8_t *buf;         /* owned until taken */
	size_t   cap, have, want;
	bool     active;
};

/* Send data[0..len) as one frame.  data must stay valid until the frame
 * is out or abandoned. */
void xg_bulk_tx_start(struct xg_bulk_tx *t, const uint8_t *data, size_t len);
/* 0 once all of it is out (then inactive), -EINPROGRESS when slice bytes
 * went out and more remain, -EAGAIN (socket full: wait for
 * xg_stream_wait_events(s, EPOLLOUT)), or -errno. */
int  xg_bulk_tx_step(struct xg_bulk_tx *t, struct xg_stream *s, size_t slice);

/* Expect one frame of exactly want bytes. */
void xg_bulk_rx_start(struct xg_bulk_rx *r, size_t want);
/* Read towards its end.  The buffer may grow by at most `room` bytes in
 * this call (SIZE_MAX: no limit).  *got is set to the bytes of body this
 * call added (at buf + have - *got), for a caller that hashes as they
 * come.  1 when the frame is complete, -EINPROGRESS (slice used: more may
 * be waiting, in the socket or inside TLS), -EAGAIN, -ENOBUFS (the buffer
 * must grow by more than room: nothing more was read), -EBADMSG (the
 * frame's length is not the one expected), -ECONNRESET (closed before the
 * end), -ENOMEM, or -errno. */
int  xg_bulk_rx_step(struct xg_bulk_rx *r, struct xg_stream *s, size_t slice,
		     size_t room, size_t *got);
/* The complete frame's buffer (malloc'd, exactly want bytes; NULL for 0
 * bytes); the caller owns it and r is inactive again. */
uint8_t *xg_bulk_rx_take(struct xg_bulk_rx *r, size_t *len);
/* Drop whatever was received (safe on an inactive r). */
void xg_bulk_rx_free(struct xg_bulk_rx *r);

#endif /* XGOSSIP_DAEMON_PUSHPULL_BULK_H */
