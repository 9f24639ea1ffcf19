/* SPDX-License-Identifier: MIT */
/*
 * The agent as the core's adapter: the callbacks the core calls (send,
 * event, randomness, push/pull requests) and the loop handlers that feed
 * the core (UDP socket, timer, signals).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon/agent_int.h"
#include "daemon/agent_keys.h"
#include "daemon/agent_msg.h"
#include "util/duration.h"
#include "util/log.h"
#include "util/cputime.h"
#include "util/memtrim.h"

#define AGENT_OF(w, field) \
	((struct xg_agent *)((char *)(w) - offsetof(struct xg_agent, field)))

/* ---- core callbacks ---------------------------------------------------- */

/* Probes go as the core signed them (the XDP program reads and answers
 * them); everything else is sealed with the keyring's primary key. */
int xg_agent_send_sealed(struct xg_agent *a, const struct xg_addr *to,
			 const void *buf, size_t len)
{
	uint8_t sealed[XG_UDP_WIRE_MAX];
	ssize_t n = xg_agent_seal(a, buf, len, sealed, sizeof(sealed));

	if (n < 0)
		return (int)n;
	return xg_udp_send(a->udp, to, sealed, (size_t)n);
}

static int io_send(void *ctx, const struct xg_addr *to, const void *buf,
		   size_t len)
{
	struct xg_agent *a = ctx;

	if (len >= sizeof(struct xg_hdr) &&
	    xg_wire_is_probe(((const uint8_t *)buf)[offsetof(struct xg_hdr,
							      type)]))
		return xg_udp_send(a->udp, to, buf, len);
	return xg_agent_send_sealed(a, to, buf, len);
}

static void io_event(void *ctx, const struct xg_event *ev)
{
	struct xg_agent *a = ctx;
	const struct xg_member_info *m = ev->member;
	char name[4 * XG_NAME_MAX + 3], addr[XG_ADDR_STRLEN];

	/* The shape of this line is a contract with test harnesses and
	 * operators' log pipelines (docs/OPERATIONS.md). */
	xg_info("member %s name=%s id=%016" PRIx64 " addr=%s inc=%" PRIu32,
		xg_event_name(ev->type),
		xg_log_quote(m->name, strnlen(m->name, sizeof(m->name)), name,
			     sizeof(name)),
		m->id, xg_addr_format(&m->addr, addr, sizeof(addr)),
		m->incarnation);
	if (!m->is_self)
		a->peers_dirty = true;
	if (a->ctl)
		xg_control_on_event(a->ctl, ev);
	xg_evh_member(a->evh, ev);
	if (a->hooks.on_member)
		a->hooks.on_member(a->hooks.ctx, ev);
}

static uint64_t io_rand64(void *ctx)
{
	struct xg_agent *a = ctx;

	return xg_rng_next(&a->rng);
}

static void io_want_pushpull(void *ctx, const struct xg_addr *to)
{
	struct xg_agent *a = ctx;
	char addr[XG_ADDR_STRLEN];
	int err;

	if (a->leaving)
		return;
	/* Anti-entropy can wait; a starved agent's CPU cannot
	 * (agent_starve.c). */
	if (a->pp.shed) {
		a->pp_shed++;
		return;
	}
	err = xg_pp_start(&a->pp, to, false, NULL, NULL);
	if (err)
		xg_debug("pushpull to %s not started: %s",
			 xg_addr_format(to, addr, sizeof(addr)),
			 xg_pp_strerror(err));
}

const struct xg_core_io xg_agent_core_io_template = {
	.send          = io_send,
	.on_event      = io_event,
	.rand64        = io_rand64,
	.want_pushpull = io_want_pushpull,
};

/* ---- UDP and timer ----------------------------------------------------- */

static void on_datagram(void *ctx, const struct xg_addr *from,
			const uint8_t *buf, size_t len, uint64_t rx_ns)
{
	struct xg_agent *a = ctx;
	uint8_t inner[XG_UDP_RXBUF];
	ssize_t n;

	/* Rejections are counted (rx_limited, rx_unsealed, the core's
	 * rx_bad); logging each one would hand a flood of junk a second
	 * target, the disk.  The limit comes first: it is the cheapest
	 * check, and opening a sealed packet is the dearest. */
	if (a->rl && !xg_ratelimit_allow(a->rl, from, rx_ns)) {
		a->rx_limited++;
		return;
	}
	if (len >= sizeof(struct xg_hdr) &&
	    !xg_wire_is_probe(buf[offsetof(struct xg_hdr, type)])) {
		n = xg_agent_open(a, buf, len, inner, sizeof(inner));
		if (n < 0) {
			a->rx_unsealed++;
			return;
		}
		buf = inner;
		len = (size_t)n;
		if (xg_wire_is_msg(buf[offsetof(struct xg_hdr, type)])) {
			xg_agent_msg_on_packet(a, from, buf, len,
					       xg_now_mono_ns());
			return;
		}
	}
	(void)xg_core_on_packet(a->core, from, buf, len, rx_ns);
}

static void drain_udp(struct xg_agent *a, unsigned batches)
{
	int n = xg_udp_drain(a->udp, batches, on_datagram, a);

	if (n < 0)
		xg_warn("udp receive failed: %s", strerror(-n));
}

static void on_refused(void *ctx, const struct xg_addr *to)
{
	struct xg_agent *a = ctx;

	xg_core_on_refused(a->core, to, xg_now_mono_ns());
}

void xg_agent_udp_event(struct xg_watch *w, uint32_t events)
{
	struct xg_agent *a = AGENT_OF(w, udp_w);
	int err;

	/* EPOLLERR stays up while the error queue holds anything, so it is
	 * read whenever reported, or the loop would spin on it. */
	if (events & EPOLLERR) {
		err = xg_udp_drain_errors(a->udp, on_refused, a);
		if (err < 0)
			xg_warn("udp error queue: %s", strerror(-err));
	}
	drain_udp(a, XG_UDP_BATCHES_PER_WAKEUP);
}

void xg_agent_timer_event(struct xg_watch *w, uint32_t events)
{
	struct xg_agent *a = AGENT_OF(w, timer_w);
	struct xg_join *j;
	uint64_t expirations, now;

	(void)events;
	if (read(a->timer_w.fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		xg_warn("timerfd read failed: %s", strerror(errno));
	now = xg_now_mono_ns();
	xg_agent_note_lateness(a, now);
	xg_agent_cpu_limit_check(a, now, false);
	a->armed_ns = UINT64_MAX; /* a one-shot timer that fired is disarmed */
	/* Replies already in the socket count before anything times out. */
	drain_udp(a, XG_UDP_BATCHES_BEFORE_TICK);
	now = xg_now_mono_ns();
	xg_pp_expire(&a->pp, now);
	xg_agent_xfer_expire(a, now);
	for (j = a->joins; j; j = j->next)
		xg_join_tick(j, now);
	xg_core_tick(a->core, now);
	xg_agent_msg_tick(a, now);
}

/* ---- leaving and signals ----------------------------------------------- */

int xg_agent_start_leave(struct xg_agent *a, const char *why)
{
	char d[32];
	struct xg_join *j;
	uint64_t now = xg_now_mono_ns();
	int err;

	if (a->leaving)
		return -EALREADY;
	err = xg_core_leave(a->core, now);
	if (err) {
		xg_error("leave failed: %s", strerror(-err));
		return err;
	}
	a->leaving = true;
	a->leave_deadline_ns = now + a->cfg->leave_timeout_ns;
	for (j = a->joins; j; j = j->next)
		xg_join_cancel(j);
	xg_info("leaving cluster reason=%s timeout=%s", why,
		xg_duration_format(a->cfg->leave_timeout_ns, d, sizeof(d)));
	return 0;
}

void xg_agent_signal_event(struct xg_watch *w, uint32_t events)
{
	struct xg_agent *a = AGENT_OF(w, sig_w);
	struct signalfd_siginfo si;

	(void)events;
	while (read(a->sig_w.fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		const char *name = si.ssi_signo == SIGTERM ? "SIGTERM" :
				   si.ssi_signo == SIGINT ? "SIGINT" : "SIGHUP";

		if (si.ssi_signo == SIGHUP) {
			/* Certificates are what operators renew; the rest of
			 * the configuration needs a restart. */
			xg_info("signal SIGHUP: reloading TLS certificates");
			(void)xg_agent_tls_reload(a);
			continue;
		}
		if (!a->leaving) {
			xg_agent_start_leave(a, name);
			continue;
		}
		/* An operator who asks twice does not want to wait. */
		xg_warn("signal %s during leave: exiting now", name);
		xg_loop_stop(a->loop);
	}
}

/* ---- after every wakeup ------------------------------------------------ */

void xg_agent_persist_incarnation(struct xg_agent *a)
{
	uint32_t inc = xg_core_self(a->core)->incarnation;
	int err;

	if (inc == a->saved_inc)
		return;
	err = xg_statedir_save_incarnation(&a->sd, inc);
	if (err) {
		/* Try again after the next wakeup; a restart with an old value
		 * would rejoin below what peers remember until it refutes. */
		xg_error("state dir: cannot save incarnation %" PRIu32 ": %s",
			 inc, strerror(-err));
		return;
	}
	a->saved_inc = inc;
}

int xg_agent_write_peers(struct xg_agent *a)
{
	size_t n = xg_core_member_count(a->core), i, k = 0;
	struct xg_member_info *infos;
	struct xg_peer_entry *peers;
	int err;

	infos = calloc(n ? n : 1, sizeof(*infos));
	peers = calloc(n ? n : 1, sizeof(*peers));
	if (!infos || !peers) {
		free(infos);
		free(peers);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct xg_member_info *m = &infos[k];

		if (xg_core_member_at(a->core, i, m) || m->is_self ||
		    m->state != XG_ALIVE)
			continue;
		peers[k].id = m->id;
		peers[k].name = m->name;
		peers[k].addr = m->addr;
		k++;
	}
	err = xg_statedir_save_peers(&a->sd, peers, k);
	free(infos);
	free(peers);
	return err;
}

static void maybe_write_peers(struct xg_agent *a, uint64_t now)
{
	int err;

	if (!a->peers_dirty || now < a->peers_written_ns + XG_PEERS_WRITE_NS)
		return;
	a->peers_written_ns = now;
	err = xg_agent_write_peers(a);
	if (err)
		xg_warn("state dir: cannot save peers: %s", strerror(-err));
	else
		a->peers_dirty = false;
}

static void sweep_joins(struct xg_agent *a)
{
	struct xg_join **pp = &a->joins, *j;

	while ((j = *pp)) {
		if (j->done) {
			*pp = j->next;
			xg_join_free(j);
		} else {
			pp = &j->next;
		}
	}
}

static uint64_t min_u64(uint64_t x, uint64_t y)
{
	return x < y ? x : y;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static void arm_timer(struct xg_agent *a, uint64_t at)
{
	struct itimerspec its = { 0 };

	/* it_value 0 would disarm; anything due is due now. */
	if (at == 0)
		at = 1;
	if (at == a->armed_ns)
		return;
	if (at != UINT64_MAX) {
		its.it_value.tv_sec = (time_t)(at / 1000000000ULL);
		its.it_value.tv_nsec = (long)(at % 1000000000ULL);
	}
	if (timerfd_settime(a->timer_w.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0) {
		xg_error("timerfd_settime failed: %s", strerror(errno));
		return;
	}
	a->armed_ns = at;
	/* A deadline already past when armed fires at once: its lateness
	 * counts from now, not from the deadline. */
	a->armed_at_ns = xg_now_mono_ns();
	a->armed_cpu_ns = xg_cpu_now_ns();
	a->armed_due_ns = max_u64(at, a->armed_at_ns);
}

/* TLS handshakes, certificate checks and state encoding run for a
 * millisecond per push/pull and touch a few hundred KiB of code that the
 * agent then leaves alone for seconds: hand those pages back after each
 * exchange (util/memtrim.h).  Faulting the hot path back in costs a few
 * dozen minor faults; measured under a CPU quota it made no difference to
 * how often a starved agent was declared failed, while trimming only the
 * TLS libraries left 0.4 MiB more resident. */
static void maybe_trim(struct xg_agent *a)
{
	uint64_t done = a->pp.stats.ok + a->pp.stats.failed;

	if (done == a->trimmed_after || a->cfg->embedded)
		return;
	a->trimmed_after = done;
	(void)xg_trim_code_pages();
}

void xg_agent_after_wakeup(struct xg_agent *a)
{
	uint64_t now = xg_now_mono_ns(), next;
	struct xg_join *j;

	xg_agent_persist_incarnation(a);
	if (a->leaving && (xg_core_leave_spread(a->core) ||
			   now >= a->leave_deadline_ns)) {
		xg_info("left cluster spread=%s",
			xg_core_leave_spread(a->core) ? "yes" : "timeout");
		xg_loop_stop(a->loop);
		return;
	}
	maybe_write_peers(a, now);
	sweep_joins(a);
	maybe_trim(a);

	next = xg_core_next_deadline(a->core);
	next = min_u64(next, xg_pp_next_deadline(&a->pp));
	next = min_u64(next, xg_agent_msg_next_deadline(a));
	next = min_u64(next, xg_agent_xfer_next_deadline(a));
	next = min_u64(next, xg_agent_cpu_limit_deadline(a));
	for (j = a->joins; j; j = j->next)
		next = min_u64(next, xg_join_next_deadline(j));
	if (a->leaving)
		next = min_u64(next, a->leave_deadline_ns);
	if (a->peers_dirty)
		next = min_u64(next, a->peers_written_ns + XG_PEERS_WRITE_NS);
	arm_timer(a, next);
}

struct xg_join_env xg_agent_join_env(struct xg_agent *a)
{
	struct xg_join_env env = {
		.pp = &a->pp,
		.core = a->core,
		.rng = &a->rng,
		.family_pref = a->advertise.family,
	};

	env.self[0] = &a->advertise;
	env.self[1] = &a->cfg->bind;
	return env;
}
