/* SPDX-License-Identifier: MIT */
/*
 * The embeddable agent's life (include/xgossip/xgossip.h): start it from a
 * configuration, drive it from the application's loop or our own, stop,
 * free; and the agent's hooks turned into the public callbacks.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/msg.h"
#include "daemon/agent.h"
#include "daemon/agent_run.h"
#include "daemon/flags.h"
#include "lib/lib_int.h"
#include "util/log.h"

/* ---- the agent's hooks ---------------------------------------------------- */

static void hook_message(void *ctx, const struct xg_msg *m, bool unicast,
			 const char *origin_name)
{
	struct xgossip *g = ctx;
	struct xgossip_message msg;

	if (g->closing)
		return;
	memset(&msg, 0, sizeof(msg));
	msg.kind = unicast ? XGOSSIP_UNICAST : XGOSSIP_BROADCAST;
	memcpy(msg.id, m->id, sizeof(msg.id));
	msg.origin = m->origin_id;
	msg.origin_name = origin_name;
	msg.topic = m->topic;
	msg.data = m->payload ? (const void *)m->payload : "";
	msg.len = m->payload_len;
	msg.hops = m->hops;
	msg.sent_ms = m->origin_ms;
	lib_subs_message(&g->subs, &msg);
}

static void hook_member(void *ctx, const struct xg_event *ev)
{
	struct xgossip *g = ctx;
	struct xgossip_member_event e;

	if (g->closing)
		return;
	e.type = lib_event_type(ev->type);
	lib_member_from(&e.member, ev->member);
	lib_subs_member(&g->subs, &e);
}

/* ---- start and end ------------------------------------------------------- */

static void destroy(struct xgossip *g)
{
	lib_subs_free(&g->subs);
	xg_agent_config_free(&g->cfg);
	lib_argv_free(&g->args);
	if (g->wake_fd >= 0)
		close(g->wake_fd);
	free(g);
}

static int start_agent(struct xgossip *g, char *errbuf, size_t errlen)
{
	const struct xg_agent_hooks hooks = {
		.ctx = g,
		.on_message = hook_message,
		.on_member = hook_member,
	};
	const struct xg_member_info *self;
	struct lib_logcap cap;
	int err;

	/* The log level is the process's, like the log: the last agent
	 * started sets it. */
	xg_log_set_level(g->cfg.log_level);
	lib_logcap_begin(&cap);
	err = xg_agent_new(&g->agent, &g->cfg, &hooks);
	lib_logcap_end(&cap, err ? errbuf : NULL, errlen);
	if (err) {
		if (errbuf && errlen > 0 && !errbuf[0])
			snprintf(errbuf, errlen, "cannot start: %s",
				 strerror(-err));
		return err;
	}
	self = xg_core_self(xg_agent_core(g->agent));
	snprintf(g->name, sizeof(g->name), "%s", self->name);
	g->id = self->id;
	return 0;
}

int xgossip_new(struct xgossip **out, const struct xgossip_config *cfg,
		char *errbuf, size_t errlen)
{
	struct xgossip *g;
	int err;

	lib_errbuf(errbuf, errlen, "");
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!cfg) {
		lib_errbuf(errbuf, errlen, "no configuration");
		return -EINVAL;
	}
	g = calloc(1, sizeof(*g));
	if (!g) {
		lib_errbuf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	g->wake_fd = -1;
	atomic_init(&g->stop, 0);
	xg_agent_config_init(&g->cfg);
	/* The agent's configuration points into the argument vector: both
	 * belong to g, so the caller's configuration may go at once. */
	err = lib_argv_build(cfg, &g->args);
	if (err) {
		lib_errbuf(errbuf, errlen, "out of memory");
	} else {
		xg_agent_config_free(&g->cfg);
		err = lib_parse(&g->args, &g->cfg, errbuf, errlen);
	}
	if (!err) {
		g->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (g->wake_fd < 0) {
			err = -errno;
			lib_errbuf(errbuf, errlen, strerror(errno));
		}
	}
	if (!err)
		err = start_agent(g, errbuf, errlen);
	if (err) {
		destroy(g);
		return err;
	}
	*out = g;
	return 0;
}

int xgossip_free(struct xgossip *g)
{
	int status = 0;

	if (!g)
		return 0;
	if (g->stepping) {
		/* The loop that called back would carry on in freed memory. */
		xg_error("xgossip_free called from an xgossip callback");
		abort();
	}
	g->closing = true;
	if (xg_agent_free(g->agent) != XG_EXIT_OK)
		status = -EIO;
	g->agent = NULL;
	lib_pending_cancel_all(g);
	destroy(g);
	return status;
}

/* ---- driving it ---------------------------------------------------------- */

int xgossip_fd(const struct xgossip *g)
{
	return g && g->agent ? xg_agent_fd(g->agent) : -EINVAL;
}

static int step(struct xgossip *g)
{
	int err;

	g->stepping++;
	err = xg_agent_step(g->agent, 0);
	g->stepping--;
	return err;
}

static int can_drive(const struct xgossip *g)
{
	if (!g || g->closing)
		return -EINVAL;
	/* The agent's loop is not re-entrant. */
	if (g->stepping)
		return -EDEADLK;
	return 0;
}

int xgossip_process(struct xgossip *g)
{
	int err = can_drive(g);

	if (err)
		return err;
	if (xg_agent_done(g->agent))
		return 1;
	err = step(g);
	if (err)
		return err;
	return xg_agent_done(g->agent) ? 1 : 0;
}

static void drain_wake(struct xgossip *g)
{
	uint64_t v;

	while (read(g->wake_fd, &v, sizeof(v)) > 0)
		;
}

int xgossip_run(struct xgossip *g)
{
	struct pollfd p[2];
	int err = can_drive(g);

	if (err)
		return err;
	p[0].fd = xg_agent_fd(g->agent);
	p[0].events = POLLIN;
	p[1].fd = g->wake_fd;
	p[1].events = POLLIN;
	for (;;) {
		if (xg_agent_done(g->agent))
			return 1;
		if (atomic_exchange(&g->stop, 0)) {
			drain_wake(g);
			return 0;
		}
		/* The agent's descriptor also wakes us for its timers: no
		 * timeout of our own. */
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return -errno;
		err = step(g);
		if (err)
			return err;
	}
}

void xgossip_stop(struct xgossip *g)
{
	uint64_t one = 1;
	int saved = errno; /* a signal handler must not change it */

	if (!g)
		return;
	atomic_store(&g->stop, 1);
	if (write(g->wake_fd, &one, sizeof(one)) < 0) {
		/* Only EAGAIN (the counter is full): a wakeup is pending. */
	}
	errno = saved;
}

/* ---- this node --------------------------------------------------------------- */

const char *xgossip_name(const struct xgossip *g)
{
	return g ? g->name : NULL;
}

uint64_t xgossip_id(const struct xgossip *g)
{
	return g ? g->id : 0;
}
