/* SPDX-License-Identifier: MIT */
/*
 * The agent's end of the XDP fast path (docs/XDP.md): choose the
 * interface, open the loader, load the probe key, write the heartbeat from
 * the loop, answer `xgossipctl xdp`, and let go on the way out.
 *
 * The heartbeat is written by the agent's own loop, the one that reads
 * the UDP socket, at every wakeup and from a timerfd when idle: if that loop stops (SIGSTOP, a deadlock, a blocking
 * call), the heartbeat stops with it and the kernel stops answering for
 * this node once the liveness window has passed.  A thread or a separate
 * process would keep beating for an agent that no longer works.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/agent_int.h"
#include "daemon/agent_keys.h"
#include "daemon/flags.h"
#include "net/sockaddr.h"
#include "util/cputime.h"
#include "util/log.h"

#define AGENT_OF_HB(w) \
	((struct xg_agent *)((char *)(w) - offsetof(struct xg_agent, xdp.hb_w)))

const struct xg_addr *xg_agent_xdp_addr(const struct xg_addr *bind,
					const struct xg_addr *advertise)
{
	return xg_addr_is_wildcard(bind) ? advertise : bind;
}

bool xg_agent_xdp_fatal(enum xg_xdp_mode requested)
{
	/* Asked for by name, a mode that cannot be had is a configuration
	 * error; under auto, a host that cannot run XDP is a fact. */
	return requested == XG_XDP_NATIVE || requested == XG_XDP_GENERIC;
}

char *xg_agent_xdp_describe(const struct xg_agent *a, char *out, size_t cap)
{
	char q[sizeof(a->xdp.reason) * 4 + 3];

	if (a->xdp.x)
		snprintf(out, cap, "xdp=%s iface=%s prog_id=%" PRIu32,
			 xg_xdp_mode_str(xg_xdp_mode(a->xdp.x)),
			 xg_xdp_ifname(a->xdp.x), xg_xdp_prog_id(a->xdp.x));
	else
		snprintf(out, cap, "xdp=off reason=%s",
			 xg_log_quote(a->xdp.reason, strlen(a->xdp.reason), q,
				      sizeof(q)));
	return out;
}

/* ---- heartbeat --------------------------------------------------------- */

/* A starved agent asks the kernel for more patience (daemon/liveness.h).
 * Only a change costs a system call: a few a minute at most. */
static void stretch(struct xg_agent *a, uint64_t now)
{
	struct xg_liveness *l = &a->xdp.live;
	uint64_t before = l->window_ns;
	int err;

	if (l->max_ns <= l->base_ns ||
	    !xg_liveness_wake(l, now, xg_cpu_now_ns()))
		return;
	err = xg_xdp_set_liveness(a->xdp.x, l->window_ns);
	if (err) {
		a->xdp.live_errors++;
		l->window_ns = before; /* try again at the next wakeup */
		return;
	}
	if (l->window_ns > before)
		xg_info("xdp: not run for %" PRIu64 " ms: liveness window "
			"stretched to %" PRIu64 " ms",
			l->last_gap_ns / 1000000, l->window_ns / 1000000);
	else
		xg_info("xdp: running on time again: liveness window back to "
			"%" PRIu64 " ms", l->window_ns / 1000000);
}

/* measure: this beat is the wakeup's measurement of how long the agent
 * went unrun (one CPU-clock system call); a second beat in the same
 * wakeup passes false. */
static void beat(struct xg_agent *a, bool measure)
{
	uint64_t now = xg_now_mono_ns();
	int err = xg_xdp_heartbeat(a->xdp.x, now);

	if (err) {
		a->xdp.hb_errors++;
		/* Once per failing stretch: a map that refuses writes would
		 * refuse ten a second. */
		if (!a->xdp.hb_failing)
			xg_warn("xdp: cannot write the heartbeat (%s); the "
				"kernel stops answering for this node",
				strerror(-err));
		a->xdp.hb_failing = true;
		return;
	}
	if (a->xdp.hb_failing)
		xg_info("xdp: heartbeat written again after %" PRIu64
			" failures", a->xdp.hb_errors);
	a->xdp.hb_failing = false;
	a->xdp.hb_last_ns = now;
	a->xdp.hb_count++;
	if (measure)
		stretch(a, now);
}

static void on_heartbeat(struct xg_watch *w, uint32_t events)
{
	struct xg_agent *a = AGENT_OF_HB(w);
	uint64_t expirations;

	(void)events;
	/* Missed periods are not made up: one write says "alive now". */
	if (read(w->fd, &expirations, sizeof(expirations)) < 0 &&
	    errno != EAGAIN)
		xg_warn("xdp: heartbeat timer read failed: %s",
			strerror(errno));
	/* With a mapped heartbeat the wake hook has beaten and measured in
	 * this wakeup already. */
	beat(a, !xg_xdp_heartbeat_is_cheap(a->xdp.x));
}

/* The loop's wake hook: beat first, before a backlog is worked off, so a
 * starved agent that finally runs is answered for again at once; then pass
 * on any suspicion the kernel saw in a flagged PING it answered. */
static void on_wake(void *ctx)
{
	struct xg_agent *a = ctx;
	uint64_t n;

	if (!a->xdp.x)
		return;
	if (xg_xdp_heartbeat_is_cheap(a->xdp.x))
		beat(a, true);
	n = xg_xdp_suspected_pings(a->xdp.x);
	if (n != a->xdp.suspected_seen) {
		a->xdp.suspected_seen = n;
		xg_core_suspected_notice(a->core, xg_now_mono_ns());
	}
}

static int start_heartbeat(struct xg_agent *a)
{
	const struct itimerspec its = {
		.it_interval.tv_nsec = (long)XG_XDP_HEARTBEAT_INTERVAL_NS,
		.it_value.tv_nsec = (long)XG_XDP_HEARTBEAT_INTERVAL_NS,
	};
	int fd, err;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (timerfd_settime(fd, 0, &its, NULL) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	a->xdp.hb_w.fd = fd;
	a->xdp.hb_w.fn = on_heartbeat;
	a->xdp.hb_w.prio = XG_PRIO_TIMER;
	err = xg_loop_add(a->loop, &a->xdp.hb_w, EPOLLIN);
	if (err) {
		close(fd);
		a->xdp.hb_w.fd = -1;
		return err;
	}
	xg_liveness_init(&a->xdp.live, a->cfg->xdp_liveness_ns,
			 a->cfg->xdp_liveness_max_ns ?
			 a->cfg->xdp_liveness_max_ns :
			 XG_XDP_LIVENESS_MAX_MULT * a->cfg->xdp_liveness_ns);
	/* The agent can answer from now on: say so without waiting a
	 * period. */
	beat(a, true);
	a->xdp.suspected_seen = xg_xdp_suspected_pings(a->xdp.x);
	xg_loop_set_wake_hook(a->loop, on_wake, a);
	return 0;
}

static void stop_heartbeat(struct xg_agent *a)
{
	if (a->xdp.hb_w.fd < 0)
		return;
	if (a->loop) {
		xg_loop_set_wake_hook(a->loop, NULL, NULL);
		(void)xg_loop_del(a->loop, &a->xdp.hb_w);
	}
	close(a->xdp.hb_w.fd);
	a->xdp.hb_w.fd = -1;
}

/* ---- setup and close --------------------------------------------------- */

static void fill_opts(struct xg_agent *a, struct xg_xdp_opts *o,
		      const char *ifname, int ifindex)
{
	memset(o, 0, sizeof(*o));
	o->ifname = ifname;
	o->ifindex = ifindex;
	o->mode = a->cfg->xdp_mode;
	o->instance = a->xdp.instance;
	o->port = a->cfg->bind.port;
	o->cluster_id = a->cluster_id;
	o->node_id = a->node_id;
	o->liveness_ns = a->cfg->xdp_liveness_ns;
}

/* Under auto: remember why and run without XDP.  Otherwise: fatal. */
static int give_up(struct xg_agent *a, int err)
{
	static const char tail[] = "; running without XDP";
	size_t n = strlen(a->xdp.reason), t = sizeof(tail) - 1;

	/* The loader's auto message says what happens next; so do we, once. */
	if (n > t && strcmp(a->xdp.reason + n - t, tail) == 0)
		a->xdp.reason[n - t] = '\0';
	if (xg_agent_xdp_fatal(a->cfg->xdp_mode)) {
		xg_error("--xdp=%s: %s", xg_xdp_mode_str(a->cfg->xdp_mode),
			 a->xdp.reason);
		return err < 0 ? err : -EOPNOTSUPP;
	}
	xg_warn("xdp: %s; running with xdp=off", a->xdp.reason);
	return 0;
}

/* --xdp off: a program an earlier agent of this instance left on the
 * interface would otherwise go on answering PINGs for this node, from
 * maps nobody updates (it would stop at once, its heartbeat being stale,
 * but an operator who switched XDP off expects it gone). */
static void purge(struct xg_agent *a, const char *ifname, int ifindex)
{
	struct xg_xdp_opts o;
	char msg[256];
	int err;

	fill_opts(a, &o, ifname, ifindex);
	err = xg_xdp_purge(&o, msg, sizeof(msg));
	if (err)
		xg_warn("xdp: cannot remove an earlier agent's program: %s",
			msg);
}

int xg_agent_xdp_setup(struct xg_agent *a)
{
	const struct xg_addr *where = xg_agent_xdp_addr(&a->cfg->bind,
							&a->advertise);
	char ifname[IF_NAMESIZE] = "", text[XG_ADDR_STRLEN];
	struct xg_xdp_opts o;
	int ifindex = 0, err;

	a->xdp_active = "off";
	a->xdp.hb_w.fd = -1;
	if (a->cfg->xdp_instance)
		snprintf(a->xdp.instance, sizeof(a->xdp.instance), "%s",
			 a->cfg->xdp_instance);
	else
		xg_xdp_instance_default(a->name, a->xdp.instance,
					sizeof(a->xdp.instance));

	err = xg_xdp_iface_for_addr(where, ifname, &ifindex);
	if (a->cfg->xdp_mode == XG_XDP_OFF) {
		snprintf(a->xdp.reason, sizeof(a->xdp.reason), "--xdp off");
		if (!err)
			purge(a, ifname, ifindex);
		return 0;
	}
	if (err) {
		snprintf(a->xdp.reason, sizeof(a->xdp.reason),
			 "no local interface holds %s (%s)",
			 xg_addr_format(where, text, sizeof(text)),
			 err == -EADDRNOTAVAIL ? "the XDP program belongs on "
			 "the interface peers send to" : strerror(-err));
		return give_up(a, err);
	}

	fill_opts(a, &o, ifname, ifindex);
	err = xg_xdp_open(&a->xdp.x, &o, a->xdp.reason, sizeof(a->xdp.reason));
	if (err) {
		a->xdp.x = NULL;
		return give_up(a, err);
	}
	/* The keyring's primary signs ACKs; the secondary is accepted too,
	 * so a rotation in progress is answered either way. */
	err = xg_agent_keys_apply(a);
	if (!err)
		err = start_heartbeat(a);
	if (err) {
		snprintf(a->xdp.reason, sizeof(a->xdp.reason), "%s",
			 xg_xdp_last_error(a->xdp.x)[0] ?
			 xg_xdp_last_error(a->xdp.x) : strerror(-err));
		stop_heartbeat(a);
		/* Nothing of it was ever used: leave no trace. */
		xg_xdp_close(a->xdp.x, true);
		a->xdp.x = NULL;
		return give_up(a, err);
	}
	a->xdp_active = xg_xdp_mode_str(xg_xdp_mode(a->xdp.x));
	return 0;
}

void xg_agent_xdp_close(struct xg_agent *a, bool clean)
{
	stop_heartbeat(a);
	if (!a->xdp.x)
		return;
	/* A clean exit leaves nothing behind (docs/XDP.md "Pinning and
	 * restart takeover"); after a failure the pins stay, so the agent
	 * restarted by its supervisor takes over warm maps. */
	xg_info("xdp: %s", clean ? "detaching the program and removing its "
		"pins" : "leaving the program and pins for the next agent");
	xg_xdp_close(a->xdp.x, clean);
	a->xdp.x = NULL;
	a->xdp_active = "off";
	snprintf(a->xdp.reason, sizeof(a->xdp.reason), "the agent is stopping");
}

/* ---- agent.h ----------------------------------------------------------- */

void xg_agent_get_xdp(struct xg_agent *a, struct xg_agent_xdp_info *out)
{
	struct xg_xdp *x = a->xdp.x;

	memset(out, 0, sizeof(*out));
	out->mode = a->xdp_active;
	out->requested = xg_xdp_mode_str(a->cfg->xdp_mode);
	out->instance = a->xdp.instance;
	out->liveness_ns = a->cfg->xdp_liveness_ns;
	out->liveness_max_ns = a->xdp.live.max_ns ? a->xdp.live.max_ns :
			       a->cfg->xdp_liveness_ns;
	out->liveness_now_ns = a->xdp.live.window_ns ? a->xdp.live.window_ns :
			       a->cfg->xdp_liveness_ns;
	out->liveness_stretches = a->xdp.live.stretches;
	out->liveness_longest_gap_ns = a->xdp.live.longest_gap_ns;
	out->heartbeat_interval_ns = XG_XDP_HEARTBEAT_INTERVAL_NS;
	if (!x) {
		out->reason = a->xdp.reason;
		return;
	}
	out->ifname = xg_xdp_ifname(x);
	out->ifindex = xg_xdp_ifindex(x);
	out->prog_id = xg_xdp_prog_id(x);
	out->pin_dir = xg_xdp_pin_dir(x);
	out->heartbeat_seen = a->xdp.hb_last_ns != 0;
	if (out->heartbeat_seen)
		out->heartbeat_age_ns = xg_now_mono_ns() - a->xdp.hb_last_ns;
	out->heartbeats = a->xdp.hb_count;
	out->heartbeat_errors = a->xdp.hb_errors;
	out->stats_err = xg_xdp_read_stats(x, &out->stats);
}
