/* SPDX-License-Identifier: MIT */
/*
 * Event handler scheduling: a FIFO per handler, one child per handler at
 * a time (scripts see their events one by one, in order), at most
 * running_max children in all.  When a slot frees, the handler whose
 * oldest waiting event is the oldest goes next, so a busy handler does
 * not starve the others and events start roughly in the order they
 * happened.
 */
#include "daemon/evhandler.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "daemon/evhandler_int.h"
#include "util/log.h"

#define container_of(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

/* A warning about drops at most this often; failures at most
 * FAIL_LOG_BURST per period, then one line saying how many were not
 * logged. */
#define LOG_PERIOD_NS  (10ULL * 1000000000ULL)
#define FAIL_LOG_BURST 5
/* Read per wakeup from a child's output, and at most when it ends. */
#define OUT_READ       4096
#define OUT_DRAIN_MAX  (64 * 1024)

struct evh_handler {
	struct xg_evh_spec  spec;   /* owned copy, path absolute */
	char                qpath[256]; /* path quoted for logs */
	struct xg_evh_rec **ring;   /* XG_EVH_QUEUE_MAX slots */
	uint32_t            head, len;
	struct evh_child   *child;  /* running, or NULL */
};

struct evh_child {
	struct xg_evh      *h;
	struct evh_handler *hd;     /* NULL: slot free */
	struct xg_evh_proc  proc;
	struct xg_watch     pid_w, out_w;
	bool                out_open, killed;
	uint64_t            started_ns, deadline_ns;
	char                event[16];
	char                subject[XG_MSG_TOPIC_MAX + XG_NAME_MAX + 1];
	char                out[XG_EVH_OUTPUT_MAX];
	size_t              out_len;
	uint64_t            out_total;
};

struct xg_evh {
	struct xg_loop      *loop;
	char                 self_name[XG_NAME_MAX];
	struct evh_handler  *hd;
	size_t               n;
	struct evh_child     kids[XG_EVH_RUNNING_MAX];
	struct xg_watch      timer_w;
	struct xg_evh_limits lim;
	struct xg_evh_stats  st;
	uint64_t             seq;
	uint64_t             drop_logged_ns;
	bool                 drop_logged;
	uint64_t             fail_period_ns;
	unsigned             fail_logged;
	uint64_t             fail_unlogged;
};

/* ---- logging ------------------------------------------------------------ */

static char *quote(const char *s, char *out, size_t cap)
{
	return xg_log_quote(s, strlen(s), out, cap);
}

/* At most FAIL_LOG_BURST failure lines per period. */
static bool fail_log_ok(struct xg_evh *h, uint64_t now)
{
	if (now - h->fail_period_ns >= LOG_PERIOD_NS || !h->fail_period_ns) {
		if (h->fail_unlogged)
			xg_warn("event handler: %" PRIu64 " more failures "
				"not logged", h->fail_unlogged);
		h->fail_period_ns = now;
		h->fail_logged = 0;
		h->fail_unlogged = 0;
	}
	if (h->fail_logged < FAIL_LOG_BURST) {
		h->fail_logged++;
		return true;
	}
	h->fail_unlogged++;
	return false;
}

static void log_drop(struct xg_evh *h, const struct evh_handler *hd,
		     const struct xg_evh_rec *r, const char *why)
{
	uint64_t now = xg_now_mono_ns();

	if (h->drop_logged && now - h->drop_logged_ns < LOG_PERIOD_NS)
		return;
	h->drop_logged = true;
	h->drop_logged_ns = now;
	xg_warn("event handler dropped an event path=%s event=%s reason=%s "
		"dropped=%" PRIu64 " (logged at most every 10s)", hd->qpath,
		r->event, why, h->st.dropped);
}

/* ---- queues -------------------------------------------------------------- */

static void rec_unqueue(struct xg_evh *h, struct xg_evh_rec *r)
{
	h->st.queued--;
	if (--r->queued == 0)
		h->st.queued_bytes -= r->bytes;
	xg_evh_rec_put(r);
}

static void push(struct xg_evh *h, struct evh_handler *hd,
		 struct xg_evh_rec *r)
{
	const char *why = NULL;

	if (hd->len >= h->lim.queue_max)
		why = "queue-full";
	else if (r->queued == 0 &&
		 h->st.queued_bytes + r->bytes > h->lim.bytes_max)
		why = "bytes-full";
	if (why) {
		h->st.dropped++;
		log_drop(h, hd, r, why);
		return;
	}
	if (r->queued++ == 0)
		h->st.queued_bytes += r->bytes;
	r->refs++;
	hd->ring[(hd->head + hd->len) % XG_EVH_QUEUE_MAX] = r;
	hd->len++;
	h->st.queued++;
}

static struct xg_evh_rec *pop(struct evh_handler *hd)
{
	struct xg_evh_rec *r = hd->ring[hd->head];

	hd->ring[hd->head] = NULL;
	hd->head = (hd->head + 1) % XG_EVH_QUEUE_MAX;
	hd->len--;
	return r;
}

/* The idle handler whose oldest waiting event is the oldest, or NULL. */
static struct evh_handler *next_ready(struct xg_evh *h)
{
	struct evh_handler *best = NULL;
	size_t i;

	for (i = 0; i < h->n; i++) {
		struct evh_handler *hd = &h->hd[i];

		if (hd->child || hd->len == 0)
			continue;
		if (!best || hd->ring[hd->head]->seq <
			     best->ring[best->head]->seq)
			best = hd;
	}
	return best;
}

/* ---- timeouts ------------------------------------------------------------ */

static void arm_timer(struct xg_evh *h)
{
	struct itimerspec its = { 0 };
	uint64_t next = UINT64_MAX;
	size_t i;

	for (i = 0; i < XG_EVH_RUNNING_MAX; i++) {
		const struct evh_child *k = &h->kids[i];

		if (k->hd && !k->killed && k->deadline_ns < next)
			next = k->deadline_ns;
	}
	if (next != UINT64_MAX) {
		/* 0 would disarm: a deadline already past fires at once. */
		if (next == 0)
			next = 1;
		its.it_value.tv_sec = (time_t)(next / 1000000000ULL);
		its.it_value.tv_nsec = (long)(next % 1000000000ULL);
	}
	/* Only bad arguments make this fail, and these are not. */
	if (timerfd_settime(h->timer_w.fd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		xg_warn("event handler timer: %s", strerror(errno));
}

static void on_timer(struct xg_watch *w, uint32_t events)
{
	struct xg_evh *h = container_of(w, struct xg_evh, timer_w);
	uint64_t ticks, now = xg_now_mono_ns();
	size_t i;

	(void)events;
	if (read(w->fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		xg_debug("event handler timer: %s", strerror(errno));
	for (i = 0; i < XG_EVH_RUNNING_MAX; i++) {
		struct evh_child *k = &h->kids[i];

		if (!k->hd || k->killed || k->deadline_ns > now)
			continue;
		/* Reaped through the pidfd like any other end. */
		xg_evh_proc_kill(&k->proc, SIGKILL);
		k->killed = true;
	}
	arm_timer(h);
}

/* ---- children ------------------------------------------------------------ */

static void read_output(struct evh_child *k, size_t budget)
{
	char buf[OUT_READ];

	while (k->out_open && budget > 0) {
		ssize_t n = read(k->proc.outfd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EOF: every writer, grandchildren too, is done. */
			xg_loop_del(k->h->loop, &k->out_w);
			close(k->proc.outfd);
			k->proc.outfd = -1;
			k->out_open = false;
			return;
		}
		if (k->out_len < sizeof(k->out)) {
			size_t c = sizeof(k->out) - k->out_len;

			if (c > (size_t)n)
				c = (size_t)n;
			memcpy(k->out + k->out_len, buf, c);
			k->out_len += c;
		}
		k->out_total += (uint64_t)n;
		budget = budget > (size_t)n ? budget - (size_t)n : 0;
	}
}

static void on_output(struct xg_watch *w, uint32_t events)
{
	(void)events;
	/* One read per wakeup: level-triggered epoll comes back for more,
	 * and a child that writes without pause cannot hog the loop. */
	read_output(container_of(w, struct evh_child, out_w), OUT_READ);
}

/* "exit=3", "signal=SEGV"... */
static void describe(int code, int status, char *out, size_t cap)
{
	const char *sig;

	if (code == CLD_EXITED) {
		snprintf(out, cap, "exit=%d", status);
		return;
	}
	sig = sigabbrev_np(status);
	if (sig)
		snprintf(out, cap, "signal=%s%s", sig,
			 code == CLD_DUMPED ? " core=dumped" : "");
	else
		snprintf(out, cap, "signal=%d", status);
}

static void log_end(struct xg_evh *h, struct evh_child *k, int code,
		    int status, bool ok)
{
	char subj[4 * sizeof(k->subject) + 3], out[4 * XG_EVH_OUTPUT_MAX + 3];
	char how[48], more[48] = "";
	uint64_t ms = (xg_now_mono_ns() - k->started_ns) / 1000000ULL;
	enum xg_log_level lvl = ok ? XG_LOG_DEBUG : XG_LOG_WARN;

	if (!ok && !fail_log_ok(h, xg_now_mono_ns()))
		return;
	if (lvl < xg_log_get_level())
		return;
	if (k->killed)
		snprintf(how, sizeof(how), "timeout_ms=%" PRIu64,
			 (uint64_t)(k->h->lim.timeout_ns / 1000000));
	else
		describe(code, status, how, sizeof(how));
	if (k->out_total > k->out_len)
		snprintf(more, sizeof(more), " output_bytes=%" PRIu64,
			 k->out_total);
	xg_log(lvl, "event handler %s path=%s event=%s subject=%s %s "
	       "duration_ms=%" PRIu64 " output=%s%s",
	       ok ? "done" : k->killed ? "killed" : "failed", k->hd->qpath,
	       k->event,
	       xg_log_quote(k->subject, strlen(k->subject), subj,
			    sizeof(subj)),
	       how, ms, xg_log_quote(k->out, k->out_len, out, sizeof(out)),
	       more);
}

static void child_release(struct evh_child *k)
{
	struct xg_evh *h = k->h;

	xg_loop_del(h->loop, &k->pid_w);
	if (k->out_open) {
		xg_loop_del(h->loop, &k->out_w);
		close(k->proc.outfd);
	}
	close(k->proc.pidfd);
	k->hd->child = NULL;
	k->hd = NULL;
	k->out_open = false;
	h->st.running--;
}

static void child_ended(struct evh_child *k, int code, int status)
{
	struct xg_evh *h = k->h;
	bool ok = code == CLD_EXITED && status == 0;

	/* What the child wrote before it ended is in the pipe now. */
	read_output(k, OUT_DRAIN_MAX);
	if (k->killed)
		h->st.killed++;
	else if (!ok)
		h->st.failed++;
	log_end(h, k, code, status, ok && !k->killed);
	child_release(k);
}

static void pump(struct xg_evh *h);

static void on_exit_ready(struct xg_watch *w, uint32_t events)
{
	struct evh_child *k = container_of(w, struct evh_child, pid_w);
	struct xg_evh *h = k->h;
	int code, status, err;

	(void)events;
	err = xg_evh_proc_reap(&k->proc, false, &code, &status);
	if (err == -EAGAIN)
		return;
	if (err) {
		/* Cannot happen for our own pidfd; do not spin on it. */
		xg_warn("event handler: cannot reap pid %d: %s",
			(int)k->proc.pid, strerror(-err));
		code = CLD_KILLED;
		status = 0;
	}
	child_ended(k, code, status);
	arm_timer(h);
	pump(h);
}

static void start_failed(struct xg_evh *h, const struct evh_handler *hd,
			 const struct xg_evh_rec *r, int err)
{
	char subj[4 * sizeof(r->subject) + 3];

	h->st.failed++;
	if (!fail_log_ok(h, xg_now_mono_ns()))
		return;
	xg_warn("event handler failed path=%s event=%s subject=%s "
		"start=failed error=\"%s\"", hd->qpath, r->event,
		xg_log_quote(r->subject, strlen(r->subject), subj,
			     sizeof(subj)), strerror(-err));
}

static int watch_child(struct xg_evh *h, struct evh_child *k)
{
	int err;

	k->pid_w = (struct xg_watch){ .fd = k->proc.pidfd,
				      .fn = on_exit_ready,
				      .prio = XG_EVH_PRIO };
	k->out_w = (struct xg_watch){ .fd = k->proc.outfd, .fn = on_output,
				      .prio = XG_EVH_PRIO };
	err = xg_loop_add(h->loop, &k->pid_w, EPOLLIN);
	if (err)
		return err;
	err = xg_loop_add(h->loop, &k->out_w, EPOLLIN);
	if (err)
		xg_loop_del(h->loop, &k->pid_w);
	return err;
}

static void start(struct xg_evh *h, struct evh_handler *hd,
		  struct xg_evh_rec *r)
{
	struct evh_child *k = NULL;
	int code, status;
	size_t i;
	int err;

	for (i = 0; i < XG_EVH_RUNNING_MAX && !k; i++)
		if (!h->kids[i].hd)
			k = &h->kids[i];
	if (!k)
		return; /* cannot happen: running < running_max <= slots */
	h->st.run++;
	err = xg_evh_spawn(hd->spec.path, r->envp, r->input, r->input_len,
			   &k->proc);
	if (err) {
		start_failed(h, hd, r, err);
		return;
	}
	err = watch_child(h, k);
	if (err) {
		/* Nobody would see it end: take it down now (SIGKILL is
		 * prompt, so the wait is short). */
		xg_evh_proc_kill(&k->proc, SIGKILL);
		xg_evh_proc_reap(&k->proc, true, &code, &status);
		close(k->proc.pidfd);
		close(k->proc.outfd);
		start_failed(h, hd, r, err);
		return;
	}
	k->h = h;
	k->hd = hd;
	hd->child = k;
	k->killed = false;
	k->out_open = true;
	k->out_len = 0;
	k->out_total = 0;
	k->started_ns = xg_now_mono_ns();
	k->deadline_ns = k->started_ns + h->lim.timeout_ns;
	memcpy(k->event, r->event, sizeof(k->event));
	memcpy(k->subject, r->subject, sizeof(k->subject));
	h->st.running++;
}

static void pump(struct xg_evh *h)
{
	struct evh_handler *hd;
	bool started = false;

	while (h->st.running < h->lim.running_max && (hd = next_ready(h))) {
		struct xg_evh_rec *r = pop(hd);

		start(h, hd, r);
		/* The child has its own copy of stdin (the memfd) and of
		 * the environment: the record is done with. */
		rec_unqueue(h, r);
		started = true;
	}
	if (started)
		arm_timer(h);
}

/* ---- events in ----------------------------------------------------------- */

void xg_evh_member(struct xg_evh *h, const struct xg_event *ev)
{
	struct xg_evh_rec *r;
	bool any = false;
	size_t i;

	if (!h || !ev || !ev->member)
		return;
	for (i = 0; i < h->n && !any; i++)
		any = xg_evh_spec_wants_member(&h->hd[i].spec, ev->type);
	if (!any)
		return;
	r = xg_evh_rec_member(h->self_name, ev);
	if (!r) {
		/* Only allocation fails here: the event is lost for every
		 * handler that wanted it. */
		for (i = 0; i < h->n; i++)
			if (xg_evh_spec_wants_member(&h->hd[i].spec, ev->type))
				h->st.dropped++;
		return;
	}
	r->seq = ++h->seq;
	for (i = 0; i < h->n; i++)
		if (xg_evh_spec_wants_member(&h->hd[i].spec, ev->type))
			push(h, &h->hd[i], r);
	xg_evh_rec_put(r);
	pump(h);
}

void xg_evh_message(struct xg_evh *h, const struct xg_msg *m, bool unicast,
		    const char *origin_name)
{
	struct xg_evh_rec *r;
	bool any = false;
	size_t i;

	if (!h || !m)
		return;
	for (i = 0; i < h->n && !any; i++)
		any = xg_evh_spec_wants_user(&h->hd[i].spec, m->topic);
	if (!any)
		return;
	r = xg_evh_rec_message(h->self_name, m, unicast, origin_name);
	if (!r) {
		for (i = 0; i < h->n; i++)
			if (xg_evh_spec_wants_user(&h->hd[i].spec, m->topic))
				h->st.dropped++;
		return;
	}
	r->seq = ++h->seq;
	for (i = 0; i < h->n; i++)
		if (xg_evh_spec_wants_user(&h->hd[i].spec, m->topic))
			push(h, &h->hd[i], r);
	xg_evh_rec_put(r);
	pump(h);
}

/* ---- life cycle ---------------------------------------------------------- */

/* The file must be there and runnable by the agent now; a handler that
 * vanishes later fails per event, loudly.  One that others may rewrite
 * runs with the agent's privileges all the same: worth a warning, not a
 * refusal (the operator may have reasons). */
static int check_path(const char *path)
{
	char q[256];
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	if (access(path, X_OK) < 0)
		return -errno;
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		xg_warn("--event-handler %s is writable by its group or "
			"others, and runs as this agent's user",
			quote(path, q, sizeof(q)));
	return 0;
}

/* Relative to where the agent started, fixed now. */
static char *absolute(const char *path)
{
	char *cwd, *out;

	if (path[0] == '/')
		return strdup(path);
	cwd = getcwd(NULL, 0);
	if (!cwd)
		return NULL;
	out = malloc(strlen(cwd) + strlen(path) + 2);
	if (out)
		sprintf(out, "%s/%s", cwd, path);
	free(cwd);
	return out;
}

static int copy_spec(struct evh_handler *hd, const struct xg_evh_spec *s)
{
	size_t i;

	hd->spec.events = s->events;
	hd->spec.path = absolute(s->path);
	if (!hd->spec.path)
		return -ENOMEM;
	quote(hd->spec.path, hd->qpath, sizeof(hd->qpath));
	if (s->n_topics) {
		hd->spec.topics = calloc(s->n_topics, sizeof(char *));
		if (!hd->spec.topics)
			return -ENOMEM;
	}
	for (i = 0; i < s->n_topics; i++) {
		hd->spec.topics[i] = strdup(s->topics[i]);
		if (!hd->spec.topics[i])
			return -ENOMEM;
		hd->spec.n_topics++;
	}
	hd->ring = calloc(XG_EVH_QUEUE_MAX, sizeof(*hd->ring));
	return hd->ring ? 0 : -ENOMEM;
}

static void free_handlers(struct xg_evh *h)
{
	size_t i;

	for (i = 0; i < h->n; i++) {
		xg_evh_spec_free(&h->hd[i].spec);
		free(h->hd[i].ring);
	}
	free(h->hd);
}

static int setup_handlers(struct xg_evh *h, const struct xg_evh_spec *specs,
			  size_t n)
{
	char q[256];
	size_t i;
	int err;

	h->hd = calloc(n ? n : 1, sizeof(*h->hd));
	if (!h->hd)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		err = check_path(specs[i].path);
		if (err) {
			xg_error("--event-handler %s: %s",
				 quote(specs[i].path, q, sizeof(q)),
				 strerror(-err));
			return err;
		}
		h->n++;
		err = copy_spec(&h->hd[i], &specs[i]);
		if (err)
			return err;
	}
	return 0;
}

int xg_evh_open(struct xg_evh **out, struct xg_loop *loop,
		const struct xg_evh_spec *specs, size_t n,
		const char *self_name)
{
	struct xg_evh *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return -ENOMEM;
	h->loop = loop;
	h->timer_w.fd = -1;
	snprintf(h->self_name, sizeof(h->self_name), "%s",
		 self_name ? self_name : "");
	h->lim = (struct xg_evh_limits){
		.timeout_ns = XG_EVH_TIMEOUT_NS,
		.running_max = XG_EVH_RUNNING_MAX,
		.queue_max = XG_EVH_QUEUE_MAX,
		.bytes_max = XG_EVH_BYTES_MAX,
	};
	err = setup_handlers(h, specs, n);
	if (err)
		goto fail;
	h->st.handlers = (uint32_t)n;
	h->timer_w = (struct xg_watch){
		.fd = timerfd_create(CLOCK_MONOTONIC,
				     TFD_NONBLOCK | TFD_CLOEXEC),
		.fn = on_timer, .prio = XG_EVH_PRIO };
	if (h->timer_w.fd < 0) {
		err = -errno;
		goto fail;
	}
	err = xg_loop_add(loop, &h->timer_w, EPOLLIN);
	if (err)
		goto fail;
	*out = h;
	return 0;
fail:
	if (h->timer_w.fd >= 0)
		close(h->timer_w.fd);
	free_handlers(h);
	free(h);
	return err;
}

void xg_evh_set_limits(struct xg_evh *h, const struct xg_evh_limits *l)
{
	if (l->timeout_ns)
		h->lim.timeout_ns = l->timeout_ns;
	if (l->running_max)
		h->lim.running_max = l->running_max < XG_EVH_RUNNING_MAX ?
				     l->running_max : XG_EVH_RUNNING_MAX;
	if (l->queue_max)
		h->lim.queue_max = l->queue_max < XG_EVH_QUEUE_MAX ?
				   l->queue_max : XG_EVH_QUEUE_MAX;
	if (l->bytes_max)
		h->lim.bytes_max = l->bytes_max;
}

void xg_evh_stats(const struct xg_evh *h, struct xg_evh_stats *out)
{
	if (!h) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = h->st;
}

/* Wait up to budget_ns for running children to end, reaping those that
 * do.  Returns how many are still running. */
static unsigned wait_children(struct xg_evh *h, uint64_t budget_ns)
{
	uint64_t end = xg_now_mono_ns() + budget_ns;
	struct pollfd pfd[XG_EVH_RUNNING_MAX];

	for (;;) {
		uint64_t now = xg_now_mono_ns();
		unsigned n = 0, i;
		int code, status;

		for (i = 0; i < XG_EVH_RUNNING_MAX; i++) {
			struct evh_child *k = &h->kids[i];

			if (!k->hd)
				continue;
			if (xg_evh_proc_reap(&k->proc, false, &code,
					     &status) != -EAGAIN) {
				child_release(k);
				continue;
			}
			pfd[n++] = (struct pollfd){ .fd = k->proc.pidfd,
						    .events = POLLIN };
		}
		if (n == 0 || now >= end)
			return n;
		poll(pfd, n, (int)((end - now + 999999) / 1000000));
	}
}

static void stop_children(struct xg_evh *h)
{
	unsigned left, i;

	if (h->st.running == 0)
		return;
	xg_info("event handlers: stopping %" PRIu32 " running",
		h->st.running);
	for (i = 0; i < XG_EVH_RUNNING_MAX; i++)
		if (h->kids[i].hd)
			xg_evh_proc_kill(&h->kids[i].proc, SIGTERM);
	left = wait_children(h, XG_EVH_CLOSE_GRACE_NS);
	if (left == 0)
		return;
	for (i = 0; i < XG_EVH_RUNNING_MAX; i++)
		if (h->kids[i].hd)
			xg_evh_proc_kill(&h->kids[i].proc, SIGKILL);
	/* SIGKILL cannot be caught; this only waits for the kernel, but a
	 * child stuck in uninterruptible sleep must not hold the exit
	 * forever: after the second budget it is left to init. */
	left = wait_children(h, XG_EVH_CLOSE_GRACE_NS);
	for (i = 0; i < XG_EVH_RUNNING_MAX && left; i++)
		if (h->kids[i].hd) {
			xg_warn("event handler pid %d did not die",
				(int)h->kids[i].proc.pid);
			child_release(&h->kids[i]);
		}
}

void xg_evh_close(struct xg_evh *h)
{
	uint64_t discarded = 0;
	size_t i;

	if (!h)
		return;
	for (i = 0; i < h->n; i++) {
		struct evh_handler *hd = &h->hd[i];

		while (hd->len) {
			rec_unqueue(h, pop(hd));
			discarded++;
		}
	}
	h->st.dropped += discarded;
	if (discarded)
		xg_info("event handlers: %" PRIu64 " queued events discarded "
			"at exit", discarded);
	stop_children(h);
	xg_loop_del(h->loop, &h->timer_w);
	close(h->timer_w.fd);
	free_handlers(h);
	free(h);
}
