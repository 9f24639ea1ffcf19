/* SPDX-License-Identifier: MIT */
/*
 * A framed byte stream over a non-blocking socket: each frame is a 4-byte
 * big-endian length followed by that many bytes.  Frames larger than the
 * stream's limit are refused before any of their payload is buffered, and
 * the read buffer grows only as bytes really arrive, so a peer that
 * announces 16 MiB and sends nothing costs nothing.
 *
 * The bytes move through a small transport interface (struct
 * xg_stream_ops); plain TCP is the default and TLS can be slotted in under
 * the framing without the push/pull logic above it noticing.
 *
 * Every stream carries a deadline; the owner checks it with
 * xg_stream_expired() from its timer, so a silent peer cannot hold a
 * stream (and its memory) forever.
 */
#ifndef XGOSSIP_NET_STREAM_H
#define XGOSSIP_NET_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct xg_stream;

/* The transport under the framing.  read/write return a byte count > 0,
 * 0 for end of stream (read only), -EAGAIN when the socket is not ready,
 * or another -errno.  close releases transport state (not the fd).
 *
 * The last two are optional (NULL for plain TCP).  A transport with a
 * handshake (TLS) runs it from read and write as needed, and then a read
 * may wait for the socket to become writable or a write for it to become
 * readable: wait_events says which (EPOLLIN or EPOLLOUT) after a -EAGAIN,
 * 0 when the transport is not blocked.  handshake advances the handshake
 * without moving any data: 0 once done, -EAGAIN, or -errno. */
struct xg_stream_ops {
	ssize_t  (*read)(struct xg_stream *s, void *buf, size_t len);
	ssize_t  (*write)(struct xg_stream *s, const void *buf, size_t len);
	void     (*close)(struct xg_stream *s);
	int      (*handshake)(struct xg_stream *s);
	uint32_t (*wait_events)(const struct xg_stream *s);
};

/* Plain read/write on the socket. */
extern const struct xg_stream_ops xg_stream_plain_ops;

struct xg_stream {
	int                         fd;
	const struct xg_stream_ops *ops;
	void                       *transport; /* state of ops, e.g. an SSL* */
	size_t                      max_frame;
	uint64_t                    deadline_ns;

	/* read side: the length prefix, then the payload */
	uint8_t  rhdr[4];
	size_t   rhdr_have;
	uint8_t *rbuf;
	size_t   rcap, rhave, rwant;
	bool     rdelivered; /* the last frame was handed out: start anew */

	/* write side: queued frames, prefix included */
	uint8_t *wbuf;
	size_t   wcap, wlen, woff;
};

/* Take ownership of fd (closed by xg_stream_close).  max_frame bounds both
 * directions. */
void xg_stream_init(struct xg_stream *s, int fd, size_t max_frame,
		    uint64_t deadline_ns);
void xg_stream_close(struct xg_stream *s);

/* Queue a frame: reserve room for up to cap payload bytes, fill them in,
 * then commit the real length (<= cap).  Reserve returns NULL for cap >
 * max_frame or on allocation failure.  Lets an encoder write straight
 * into the send buffer. */
uint8_t *xg_stream_reserve(struct xg_stream *s, size_t cap);
int      xg_stream_commit(struct xg_stream *s, size_t len);
/* reserve + memcpy + commit.  0, -EMSGSIZE or -ENOMEM. */
int      xg_stream_send(struct xg_stream *s, const void *payload, size_t len);

/* Write queued bytes.  0 when everything is out, -EAGAIN when the socket
 * is full (wait for EPOLLOUT), or -errno. */
int  xg_stream_flush(struct xg_stream *s);
bool xg_stream_write_pending(const struct xg_stream *s);

/* Drive the transport's handshake (a client must, when it has nothing to
 * send).  0 once done (at once for plain TCP), -EAGAIN, or -errno: for TLS
 * -EACCES when a certificate was refused, -EPROTO for other failures. */
int xg_stream_handshake(struct xg_stream *s);

/* The epoll events to wait for after a -EAGAIN: `wanted` (what the owner
 * is waiting to do) unless the transport is blocked on the other
 * direction, e.g. a TLS read that must first write handshake bytes. */
uint32_t xg_stream_wait_events(const struct xg_stream *s, uint32_t wanted);

/* Read towards the next frame.  1 with *payload / *len set (valid until
 * the next call), -EAGAIN when more bytes are needed, -EMSGSIZE for a
 * frame over max_frame, -ECONNRESET if the peer closed mid-frame,
 * -ENODATA if it closed cleanly between frames, or -errno.
 * After a frame, call again until -EAGAIN before waiting on the socket: a
 * transport (TLS) may already hold the next frame's bytes in its own
 * buffer, where epoll cannot see them. */
int xg_stream_recv(struct xg_stream *s, const uint8_t **payload, size_t *len);

/* The part of the incoming frame received so far (its length prefix
 * excluded), so a caller can reject a frame by its first bytes before the
 * rest arrives.  *declared is the frame's announced length (0 while the
 * prefix is incomplete). */
void xg_stream_partial(const struct xg_stream *s, const uint8_t **data,
		       size_t *len, size_t *declared);

/* Bytes of read buffer this stream holds right now: what a peer can make
 * us allocate, as opposed to what we chose to send. */
size_t xg_stream_rx_buffered(const struct xg_stream *s);

bool xg_stream_expired(const struct xg_stream *s, uint64_t now_ns);

#endif /* XGOSSIP_NET_STREAM_H */
