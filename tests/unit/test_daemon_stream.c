/* SPDX-License-Identifier: MIT */
/* Framed streams over a non-blocking socket (agent/net/stream.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/stream.h"

struct fx {
	struct xg_stream a, b; /* two ends of one socketpair */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	int sv[2];

	if (!f || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) < 0)
		return -1;
	xg_stream_init(&f->a, sv[0], 1 << 24, 1000);
	xg_stream_init(&f->b, sv[1], 1 << 24, 1000);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	xg_stream_close(&f->a);
	xg_stream_close(&f->b);
	free(f);
	return 0;
}

static void raw_write(int fd, const void *buf, size_t len)
{
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
}

static void test_one_frame(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	assert_int_equal(xg_stream_recv(&f->b, &p, &len), -EAGAIN);
	assert_int_equal(xg_stream_send(&f->a, "hello", 5), 0);
	assert_true(xg_stream_write_pending(&f->a));
	assert_int_equal(xg_stream_flush(&f->a), 0);
	assert_false(xg_stream_write_pending(&f->a));
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), -EAGAIN);
}

static void test_wire_layout(void **state)
{
	struct fx *f = *state;
	uint8_t raw[16];

	assert_int_equal(xg_stream_send(&f->a, "abc", 3), 0);
	assert_int_equal(xg_stream_flush(&f->a), 0);
	assert_int_equal(read(f->b.fd, raw, sizeof(raw)), 7);
	assert_memory_equal(raw, "\0\0\0\3abc", 7); /* 4-byte BE length */
}

static void test_back_to_back_frames(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	/* Two frames and an empty one in a single write: each is delivered
	 * alone, nothing of the next leaks into the previous. */
	raw_write(f->a.fd, "\0\0\0\2hi\0\0\0\0\0\0\0\3xyz", 17);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_int_equal(len, 2);
	assert_memory_equal(p, "hi", 2);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "xyz", 3);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), -EAGAIN);
}

static void test_byte_by_byte(void **state)
{
	static const uint8_t msg[] = "\0\0\0\5world";
	struct fx *f = *state;
	const uint8_t *p, *part;
	size_t len, plen, declared, i;

	for (i = 0; i < 8; i++) {
		raw_write(f->a.fd, &msg[i], 1);
		assert_int_equal(xg_stream_recv(&f->b, &p, &len), -EAGAIN);
	}
	/* Header known, 4 of 5 payload bytes in. */
	xg_stream_partial(&f->b, &part, &plen, &declared);
	assert_int_equal(declared, 5);
	assert_int_equal(plen, 4);
	assert_memory_equal(part, "worl", 4);
	raw_write(f->a.fd, &msg[8], 1);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "world", 5);
}

static void test_oversized_frame_is_refused_unbuffered(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	f->b.max_frame = 100;
	raw_write(f->a.fd, "\0\0\0\145", 4); /* 101 */
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), -EMSGSIZE);
	assert_int_equal(xg_stream_rx_buffered(&f->b), 0);
	/* The sender side refuses too. */
	f->a.max_frame = 100;
	assert_null(xg_stream_reserve(&f->a, 101));
	assert_int_equal(xg_stream_send(&f->a, "x", 101), -EMSGSIZE);
	assert_int_equal(xg_stream_send(&f->a, "x", 0), 0);
}

static void test_eof(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	/* Clean close between frames. */
	shutdown(f->a.fd, SHUT_WR);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), -ENODATA);
}

static void test_eof_mid_header(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	raw_write(f->a.fd, "\0\0", 2);
	shutdown(f->a.fd, SHUT_WR);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), -ECONNRESET);
}

static void test_eof_mid_payload(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	raw_write(f->a.fd, "\0\0\0\12abc", 7);
	shutdown(f->a.fd, SHUT_WR);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), -ECONNRESET);
}

static void test_large_frame_with_backpressure(void **state)
{
	struct fx *f = *state;
	const size_t n = 4u << 20;
	const uint8_t *p = NULL;
	uint8_t *w;
	size_t len = 0, i;
	int wr = -EAGAIN, rd = -EAGAIN, rounds = 0;

	/* Reserve more than needed, commit less: the encoder pattern. */
	w = xg_stream_reserve(&f->a, n + 100);
	assert_non_null(w);
	for (i = 0; i < n; i++)
		w[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(xg_stream_commit(&f->a, n), 0);
	/* A socketpair holds far less than 4 MiB: both sides must take
	 * turns, as they do under the event loop. */
	while (wr != 0 || rd != 1) {
		if (wr != 0) {
			wr = xg_stream_flush(&f->a);
			assert_true(wr == 0 || wr == -EAGAIN);
		}
		if (rd != 1) {
			rd = xg_stream_recv(&f->b, &p, &len);
			assert_true(rd == 1 || rd == -EAGAIN);
		}
		assert_true(++rounds < 100000);
	}
	assert_true(rounds > 1);
	assert_int_equal(len, n);
	for (i = 0; i < n; i++)
		if (p[i] != (uint8_t)(i * 7 + 3))
			fail_msg("byte %zu differs", i);
	/* The buffer grew with the data, not beyond the frame. */
	assert_true(f->b.rcap <= n);
}

static void test_queue_after_partial_send(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	assert_int_equal(xg_stream_send(&f->a, "one", 3), 0);
	assert_int_equal(xg_stream_send(&f->a, "two!", 4), 0);
	assert_int_equal(xg_stream_flush(&f->a), 0);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_memory_equal(p, "one", 3);
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_int_equal(len, 4);
	assert_memory_equal(p, "two!", 4);
}

static void test_deadline(void **state)
{
	struct fx *f = *state;

	assert_false(xg_stream_expired(&f->a, 999));
	assert_true(xg_stream_expired(&f->a, 1000));
	assert_true(xg_stream_expired(&f->a, 5000));
}

/* A transport under the framing (what TLS will be): here one that
 * delivers at most 3 bytes per call and counts calls. */
static int tiny_reads;

static ssize_t tiny_read(struct xg_stream *s, void *buf, size_t len)
{
	tiny_reads++;
	return xg_stream_plain_ops.read(s, buf, len < 3 ? len : 3);
}

static const struct xg_stream_ops tiny_ops = {
	.read = tiny_read,
	.write = NULL,
	.close = NULL,
};

static void test_custom_transport(void **state)
{
	struct fx *f = *state;
	const uint8_t *p;
	size_t len;

	f->b.ops = &tiny_ops;
	raw_write(f->a.fd, "\0\0\0\7payload", 11);
	tiny_reads = 0;
	assert_int_equal(xg_stream_recv(&f->b, &p, &len), 1);
	assert_int_equal(len, 7);
	assert_memory_equal(p, "payload", 7);
	assert_true(tiny_reads >= 4);
	f->b.ops = &xg_stream_plain_ops;
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_one_frame),
		T(test_wire_layout),
		T(test_back_to_back_frames),
		T(test_byte_by_byte),
		T(test_oversized_frame_is_refused_unbuffered),
		T(test_eof),
		T(test_eof_mid_header),
		T(test_eof_mid_payload),
		T(test_large_frame_with_backpressure),
		T(test_queue_after_partial_send),
		T(test_deadline),
		T(test_custom_transport),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
