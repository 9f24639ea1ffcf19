/* SPDX-License-Identifier: MIT */
#include "daemon/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

/* Events taken from the kernel per wakeup.  Level-triggered epoll hands
 * back whatever is left on the next call, so this only bounds how long one
 * wakeup runs before the timer gets another chance. */
#define LOOP_BATCH 64

struct ready {
	struct xg_watch *w; /* NULL once the watch was removed mid-dispatch */
	uint32_t         events;
};

struct xg_loop {
	int          epfd;
	bool         stopped;
	struct ready ready[LOOP_BATCH];
	void       (*wake_fn)(void *ctx);
	void        *wake_ctx;
	size_t       nready;
};

int xg_loop_new(struct xg_loop **out)
{
	struct xg_loop *l = calloc(1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int err = -errno;

		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void xg_loop_free(struct xg_loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	free(l);
}

static int ctl(struct xg_loop *l, int op, struct xg_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (!w || w->fd < 0 || !w->fn)
		return -EINVAL;
	return epoll_ctl(l->epfd, op, w->fd, &ev) < 0 ? -errno : 0;
}

int xg_loop_add(struct xg_loop *l, struct xg_watch *w, uint32_t events)
{
	return ctl(l, EPOLL_CTL_ADD, w, events);
}

int xg_loop_mod(struct xg_loop *l, struct xg_watch *w, uint32_t events)
{
	return ctl(l, EPOLL_CTL_MOD, w, events);
}

int xg_loop_del(struct xg_loop *l, struct xg_watch *w)
{
	struct epoll_event ev = { 0 };
	size_t i;
	int err = 0;

	if (!w)
		return -EINVAL;
	/* The owner usually frees the watch right after this, possibly from
	 * inside another watch's callback in the same wakeup: forget any
	 * event still queued for it so it is never called again. */
	for (i = 0; i < l->nready; i++)
		if (l->ready[i].w == w)
			l->ready[i].w = NULL;
	if (w->fd >= 0 && epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, &ev) < 0)
		err = -errno;
	return err;
}

/* Stable insertion sort by priority: a handful of entries, mostly sorted. */
static void sort_ready(struct ready *r, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		struct ready x = r[i];

		for (j = i; j > 0 && r[j - 1].w->prio > x.w->prio; j--)
			r[j] = r[j - 1];
		r[j] = x;
	}
}

int xg_loop_run_once(struct xg_loop *l, int timeout_ms)
{
	struct epoll_event evs[LOOP_BATCH];
	size_t i;
	int n;

	n = epoll_wait(l->epfd, evs, LOOP_BATCH, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < (size_t)n; i++) {
		l->ready[i].w = evs[i].data.ptr;
		l->ready[i].events = evs[i].events;
	}
	l->nready = (size_t)n;
	if (l->wake_fn)
		l->wake_fn(l->wake_ctx);
	sort_ready(l->ready, l->nready);
	for (i = 0; i < l->nready; i++) {
		struct xg_watch *w = l->ready[i].w;

		if (w)
			w->fn(w, l->ready[i].events);
	}
	l->nready = 0;
	return 0;
}

void xg_loop_set_wake_hook(struct xg_loop *l, void (*fn)(void *ctx),
			   void *ctx)
{
	l->wake_fn = fn;
	l->wake_ctx = ctx;
}

void xg_loop_stop(struct xg_loop *l)
{
	l->stopped = true;
}

int xg_loop_fd(const struct xg_loop *l)
{
	return l->epfd;
}

bool xg_loop_stopped(const struct xg_loop *l)
{
	return l->stopped;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t xg_now_mono_ns(void)
{
	return now_ns(CLOCK_MONOTONIC);
}

uint64_t xg_now_real_ns(void)
{
	return now_ns(CLOCK_REALTIME);
}
