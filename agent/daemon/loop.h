/* SPDX-License-Identifier: MIT */
/*
 * The agent's single-threaded event loop: one epoll set, callbacks per fd.
 * Every source (UDP socket, TCP streams, timerfd, signalfd, control socket,
 * control clients) embeds a struct xg_watch and is driven from here, so
 * there are no threads and no locks anywhere in the agent.
 */
#ifndef XGOSSIP_DAEMON_LOOP_H
#define XGOSSIP_DAEMON_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct xg_watch;
typedef void (*xg_watch_fn)(struct xg_watch *w, uint32_t epoll_events);

struct xg_watch {
	int         fd;
	xg_watch_fn fn;
	/* Sources are served in priority order within one wakeup: 0 first.
	 * The UDP socket uses 0 so packets are handed to the core before the
	 * probe timer fires (see the ordering contract in core/swim.h). */
	int         prio;
};

struct xg_loop;

int  xg_loop_new(struct xg_loop **out);
void xg_loop_free(struct xg_loop *l);
int  xg_loop_add(struct xg_loop *l, struct xg_watch *w, uint32_t events);
int  xg_loop_mod(struct xg_loop *l, struct xg_watch *w, uint32_t events);
int  xg_loop_del(struct xg_loop *l, struct xg_watch *w);
/* Wait up to timeout_ms (-1: forever) and dispatch; 0 or -errno. */
int  xg_loop_run_once(struct xg_loop *l, int timeout_ms);
/* fn(ctx) runs at every wakeup, before any source is served: the first
 * thing an agent that was stopped or starved does when it runs again. */
void xg_loop_set_wake_hook(struct xg_loop *l, void (*fn)(void *ctx),
			   void *ctx);
void xg_loop_stop(struct xg_loop *l);
/* The epoll descriptor: readable when run_once has something to do. */
int  xg_loop_fd(const struct xg_loop *l);
bool xg_loop_stopped(const struct xg_loop *l);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in nanoseconds. */
uint64_t xg_now_mono_ns(void);
uint64_t xg_now_real_ns(void);

#endif /* XGOSSIP_DAEMON_LOOP_H */
