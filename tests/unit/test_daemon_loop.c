/* SPDX-License-Identifier: MIT */
/* The event loop (agent/daemon/loop.c) and the receive-time conversion
 * (agent/net/udp.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "daemon/loop.h"
#include "net/udp.h"

struct src {
	struct xg_watch w;
	int             wfd;      /* write end of the pipe */
	int             id;
	struct xg_loop *loop;
	struct src     *victim;   /* removed by this one's callback */
};

static int order[16];
static int norder;

static void on_ready(struct xg_watch *w, uint32_t events)
{
	struct src *s = (struct src *)w;
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(w->fd, &c, 1), 1);
	order[norder++] = s->id;
	if (s->victim) {
		assert_int_equal(xg_loop_del(s->loop, &s->victim->w), 0);
		close(s->victim->w.fd);
		close(s->victim->wfd);
		s->victim->w.fd = -1;
	}
}

static void make_src(struct xg_loop *l, struct src *s, int id, int prio)
{
	int p[2];

	assert_int_equal(pipe(p), 0);
	memset(s, 0, sizeof(*s));
	s->w.fd = p[0];
	s->w.fn = on_ready;
	s->w.prio = prio;
	s->wfd = p[1];
	s->id = id;
	s->loop = l;
	assert_int_equal(xg_loop_add(l, &s->w, EPOLLIN), 0);
}

static void fire(struct src *s)
{
	assert_int_equal(write(s->wfd, "x", 1), 1);
}

static void free_src(struct xg_loop *l, struct src *s)
{
	if (s->w.fd < 0)
		return;
	xg_loop_del(l, &s->w);
	close(s->w.fd);
	close(s->wfd);
}

static void test_priority_order(void **state)
{
	struct xg_loop *l;
	struct src s[4];
	static const int prio[4] = { 3, 1, 0, 1 };
	int i;

	(void)state;
	assert_int_equal(xg_loop_new(&l), 0);
	for (i = 0; i < 4; i++)
		make_src(l, &s[i], i, prio[i]);
	/* All ready before the wakeup: served by priority, ties in the
	 * kernel's order. */
	for (i = 3; i >= 0; i--)
		fire(&s[i]);
	norder = 0;
	assert_int_equal(xg_loop_run_once(l, 1000), 0);
	assert_int_equal(norder, 4);
	assert_int_equal(order[0], 2);
	assert_true((order[1] == 1 && order[2] == 3) ||
		    (order[1] == 3 && order[2] == 1));
	assert_int_equal(order[3], 0);
	for (i = 0; i < 4; i++)
		free_src(l, &s[i]);
	xg_loop_free(l);
}

static void test_delete_during_dispatch(void **state)
{
	struct xg_loop *l;
	struct src a, b;

	(void)state;
	assert_int_equal(xg_loop_new(&l), 0);
	make_src(l, &a, 1, 0);
	make_src(l, &b, 2, 5);
	a.victim = &b; /* a runs first and removes b, which was also ready */
	fire(&a);
	fire(&b);
	norder = 0;
	assert_int_equal(xg_loop_run_once(l, 1000), 0);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 1);
	free_src(l, &a);
	xg_loop_free(l);
}

static void test_timeout_and_stop(void **state)
{
	struct xg_loop *l;

	(void)state;
	assert_int_equal(xg_loop_new(&l), 0);
	norder = 0;
	assert_int_equal(xg_loop_run_once(l, 0), 0); /* nothing ready */
	assert_int_equal(norder, 0);
	assert_false(xg_loop_stopped(l));
	xg_loop_stop(l);
	assert_true(xg_loop_stopped(l));
	{
		struct xg_watch bad = { .fd = -1, .fn = on_ready };

		assert_int_equal(xg_loop_add(l, &bad, EPOLLIN), -EINVAL);
	}
	xg_loop_free(l);
}

static void test_clocks(void **state)
{
	uint64_t m1 = xg_now_mono_ns(), m2 = xg_now_mono_ns();

	(void)state;
	assert_true(m2 >= m1);
	assert_true(xg_now_real_ns() > 1600000000ULL * 1000000000ULL);
}

static void test_rx_time(void **state)
{
	(void)state;
	/* Received 3 ms before the batch was read. */
	assert_int_equal(xg_rx_real_to_mono(1000000000, 5000000000, 4997000000),
			 997000000);
	/* A wall clock stepped back after reception: never in the future. */
	assert_int_equal(xg_rx_real_to_mono(1000000000, 5000000000, 5000000001),
			 1000000000);
	/* An absurd age cannot wrap below zero. */
	assert_int_equal(xg_rx_real_to_mono(1000, 5000000000, 1), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_priority_order),
		cmocka_unit_test(test_delete_during_dispatch),
		cmocka_unit_test(test_timeout_and_stop),
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_rx_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
