/* SPDX-License-Identifier: MIT */
/*
 * The control socket server: the listening socket, its connections, line
 * framing, output buffering and the monitor fan-out.  What a request means
 * is in control_cmd.c, what a reply looks like in control_render.c.
 *
 * Lifetime rule: a connection is never freed while code up the stack may
 * still hold it.  Closing one only marks it dead (fd closed, watch
 * removed); every entry point into this file (a loop callback, an event
 * from the agent, a join completion) brackets its work with ctl_enter() /
 * ctl_leave(), and the outermost ctl_leave() frees the dead.
 */
#include "daemon/control.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/msg.h"
#include "daemon/control_int.h"
#include "daemon/control_render.h"
#include "util/log.h"

#define container_of(p, type, member) \
	((type *)((char *)(p) - offsetof(type, member)))

/* Connections accepted per wakeup, so a connect storm cannot starve the
 * protocol sources that share the loop. */
#define ACCEPT_BATCH 16
#define IN_MIN       4096
#define OUT_MIN      4096

static const int json_flags = JSON_C_TO_STRING_PLAIN |
			      JSON_C_TO_STRING_NOSLASHESCAPE;

static size_t out_pending(const struct ctl_client *c)
{
	return c->out_len - c->out_off;
}

/* ---- lifetime ---------------------------------------------------------- */

static void client_free(struct ctl_client *c)
{
	struct xg_control *ctl = c->ctl;

	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	while (c->ntopics)
		free(c->topics[--c->ntopics]);
	free(c->topics);
	free(c->in);
	free(c->out);
	free(c);
}

static void reap(struct xg_control *ctl)
{
	struct ctl_client *c = ctl->clients, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->dead)
			client_free(c);
	}
}

void ctl_enter(struct xg_control *ctl)
{
	ctl->depth++;
}

void ctl_leave(struct xg_control *ctl)
{
	if (--ctl->depth == 0)
		reap(ctl);
}

static void client_kill(struct ctl_client *c, const char *why)
{
	struct xg_control *ctl = c->ctl;

	if (c->dead)
		return;
	xg_loop_del(ctl->loop, &c->w);
	close(c->w.fd);
	c->w.fd = -1;
	ctl_orphan_join(c);
	ctl_orphan_keys(c);
	ctl_orphan_send(c);
	if (c->monitor)
		ctl->nmonitors--;
	ctl->nclients--;
	c->dead = true;
	xg_debug("control: client %" PRIu64 " closed: %s", c->serial, why);
}

/* ---- output ------------------------------------------------------------ */

static int client_flush(struct ctl_client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->w.fd, c->out + c->out_off, out_pending(c),
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		c->out_off += (size_t)n;
	}
	c->out_off = c->out_len = 0;
	/* Give back the memory of a large reply (a big "members") once it is
	 * gone; small buffers are kept for the next one. */
	if (c->out_cap > XG_CTL_REPLY_BACKLOG) {
		free(c->out);
		c->out = NULL;
		c->out_cap = 0;
	}
	return 0;
}

static int client_append(struct ctl_client *c, const char *s, size_t n)
{
	size_t need;

	if (c->out_off && c->out_len + n + 1 > c->out_cap) {
		memmove(c->out, c->out + c->out_off, out_pending(c));
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	need = c->out_len + n + 1;
	if (need > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : OUT_MIN;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(c->out, cap);
		if (!p)
			return -ENOMEM;
		c->out = p;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, s, n);
	c->out[c->out_len + n] = '\n';
	c->out_len += n + 1;
	return 0;
}

static void client_update_watch(struct ctl_client *c)
{
	uint32_t mask = 0;

	if (c->dead)
		return;
	if (!c->rd_closed && !c->closing) {
		/* A monitor's input is only read to notice it going away.
		 * Other clients are not read while a join is pending or
		 * replies are backed up; EPOLLHUP still reports a peer that
		 * closes meanwhile. */
		if (c->monitor ||
		    (!ctl_waiting(c) && out_pending(c) < XG_CTL_REPLY_BACKLOG &&
		     c->in_len <= XG_CTL_LINE_MAX))
			mask |= EPOLLIN;
	}
	if (out_pending(c))
		mask |= EPOLLOUT;
	if (mask == c->epoll_mask)
		return;
	if (xg_loop_mod(c->ctl->loop, &c->w, mask) < 0) {
		client_kill(c, "epoll_ctl failed");
		return;
	}
	c->epoll_mask = mask;
}

static int client_send_line(struct ctl_client *c, const char *s, size_t n)
{
	int err;

	if (c->dead)
		return -EPIPE;
	err = client_append(c, s, n);
	if (!err)
		err = client_flush(c);
	if (err) {
		client_kill(c, err == -ENOMEM ? "out of memory" : "write failed");
		return err;
	}
	client_update_watch(c);
	return 0;
}

int ctl_send_json(struct ctl_client *c, json_object *obj)
{
	const char *s;
	size_t n;

	s = json_object_to_json_string_length(obj, json_flags, &n);
	if (!s) {
		client_kill(c, "out of memory");
		return -ENOMEM;
	}
	return client_send_line(c, s, n);
}

int ctl_send_error(struct ctl_client *c, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char msg[512];
	va_list ap;
	int err = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!o) {
		client_kill(c, "out of memory");
		return -ENOMEM;
	}
	xg_ctl_put(o, "ok", json_object_new_boolean(0), &err);
	xg_ctl_put(o, "error", json_object_new_string(msg), &err);
	if (!err)
		err = ctl_send_json(c, o);
	else
		client_kill(c, "out of memory");
	json_object_put(o);
	return err;
}

/* ---- input ------------------------------------------------------------- */

static void client_read(struct ctl_client *c)
{
	ssize_t n;

	if (c->in_len == c->in_cap) {
		size_t cap = c->in_cap ? c->in_cap * 2 : IN_MIN;
		char *p;

		if (cap > XG_CTL_LINE_MAX + 1)
			cap = XG_CTL_LINE_MAX + 1;
		if (cap == c->in_cap)
			return; /* full: client_process() decides */
		p = realloc(c->in, cap);
		if (!p) {
			client_kill(c, "out of memory");
			return;
		}
		c->in = p;
		c->in_cap = cap;
	}
	n = recv(c->w.fd, c->in + c->in_len, c->in_cap - c->in_len,
		 MSG_DONTWAIT);
	if (n > 0) {
		c->in_len += (size_t)n;
		return;
	}
	if (n == 0) {
		/* "echo '{...}' | socat - UNIX-CONNECT:..." half-closes right
		 * after its request, unterminated or not, and then waits for
		 * the answer: treat the tail as a last line and keep going. */
		c->rd_closed = true;
		if (c->in_len && c->in[c->in_len - 1] != '\n' &&
		    c->in_len < c->in_cap)
			c->in[c->in_len++] = '\n';
		return;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		client_kill(c, "read failed");
}

/* Run every complete request line that may run now.  Requests are
 * answered in order: after one that has to wait (a join), or while
 * replies are backed up, the rest stay in the buffer. */
static void client_process(struct ctl_client *c)
{
	size_t off = 0;

	if (c->in_process || c->dead)
		return;
	c->in_process = true;
	while (!c->dead && !c->closing && !ctl_waiting(c) && !c->monitor &&
	       out_pending(c) < XG_CTL_REPLY_BACKLOG) {
		char *line, *nl;
		size_t len;

		if (off == c->in_len)
			break;
		line = c->in + off;
		nl = memchr(line, '\n', c->in_len - off);
		if (!nl)
			break;
		len = (size_t)(nl - line);
		off += len + 1;
		if (len && line[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		if (ctl_handle_line(c, line, len) < 0)
			c->closing = true;
	}
	if (c->monitor)
		off = c->in_len; /* nothing more is expected from a monitor */
	if (!c->dead && off) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	if (!c->dead) {
		if (!c->closing && c->in_len > XG_CTL_LINE_MAX &&
		    !memchr(c->in, '\n', c->in_len)) {
			ctl_send_error(c, "request line longer than %u bytes",
				       XG_CTL_LINE_MAX);
			c->closing = true;
		}
	}
	c->in_process = false;
}

/* Close a connection that has nothing left to do. */
static void client_finish(struct ctl_client *c)
{
	if (c->dead || out_pending(c))
		return;
	if (c->closing)
		client_kill(c, "protocol error");
	else if (c->rd_closed && !c->monitor && !ctl_waiting(c) &&
		 (!c->in_len || !memchr(c->in, '\n', c->in_len)))
		client_kill(c, "end of input");
}

void ctl_resume(struct ctl_client *c)
{
	client_process(c);
	client_finish(c);
	client_update_watch(c);
}

static void client_on_io(struct xg_watch *w, uint32_t events)
{
	struct ctl_client *c = container_of(w, struct ctl_client, w);
	struct xg_control *ctl = c->ctl;

	ctl_enter(ctl);
	if ((events & EPOLLOUT) && client_flush(c) < 0)
		client_kill(c, "write failed");
	if (!c->dead && !c->rd_closed &&
	    (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		client_read(c);
	client_process(c);
	/* Requests that came with the hangup have been run; nobody is
	 * left to read the answers. */
	if (events & (EPOLLHUP | EPOLLERR))
		client_kill(c, "hangup");
	client_finish(c);
	client_update_watch(c);
	ctl_leave(ctl);
}

/* ---- listening socket ---------------------------------------------------- */

static void refuse(struct xg_control *ctl, int fd)
{
	static const char msg[] = "{\"ok\":false,\"error\":\"too many clients\"}\n";
	ssize_t n;

	/* Best effort: a fresh socket's buffer takes this short line. */
	n = send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	(void)n;
	close(fd);
	ctl->refused++;
	xg_warn("control: refused a connection: %zu clients already",
		ctl->nclients);
}

/* Out of file descriptors, the pending connection would stay queued and
 * the level-triggered listener would wake the loop again at once, forever.
 * A descriptor held in reserve is let go to accept and close it. */
static void shed_connection(struct xg_control *ctl)
{
	int fd;

	xg_warn("control: out of file descriptors, dropping a connection");
	if (ctl->reserve_fd < 0)
		return;
	close(ctl->reserve_fd);
	fd = accept4(ctl->listen.fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		close(fd);
	ctl->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	ctl->refused++;
}

static int client_new(struct xg_control *ctl, int fd)
{
	struct ctl_client *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->ctl = ctl;
	c->w.fd = fd;
	c->w.fn = client_on_io;
	c->w.prio = XG_CTL_PRIO;
	c->epoll_mask = EPOLLIN;
	c->serial = ++ctl->next_serial;
	err = xg_loop_add(ctl->loop, &c->w, c->epoll_mask);
	if (err) {
		free(c);
		return err;
	}
	c->next = ctl->clients;
	if (c->next)
		c->next->prev = c;
	ctl->clients = c;
	ctl->nclients++;
	ctl->accepted++;
	xg_debug("control: client %" PRIu64 " connected", c->serial);
	return 0;
}

static void listen_on_io(struct xg_watch *w, uint32_t events)
{
	struct xg_control *ctl = container_of(w, struct xg_control, listen);
	int i, fd, err;

	(void)events;
	ctl_enter(ctl);
	for (i = 0; i < ACCEPT_BATCH; i++) {
		fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				shed_connection(ctl);
				break;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				xg_warn("control: accept: %s", strerror(errno));
			break;
		}
		if (ctl->nclients >= XG_CTL_MAX_CLIENTS) {
			refuse(ctl, fd);
			continue;
		}
		err = client_new(ctl, fd);
		if (err) {
			xg_warn("control: dropping a connection: %s",
				strerror(-err));
			close(fd);
		}
	}
	ctl_leave(ctl);
}

/* mkdir -p of the directory part of path; directories made here get 0755
 * whatever the umask, existing ones are left alone. */
static int make_parents(const char *path)
{
	char *dir = strdup(path), *p;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	p = strrchr(dir, '/');
	if (!p || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; !err; p++) {
		char saved = *p;

		if (saved != '/' && saved != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == 0) {
			if (chmod(dir, 0755) < 0)
				err = -errno;
		} else if (errno != EEXIST) {
			err = -errno;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(dir);
	return err;
}

/* Is an agent answering on path?  1 yes, 0 no (nothing there, or a stale
 * socket file which is then removed), or -errno. */
static int live_agent_at(const struct sockaddr_un *sa, socklen_t salen)
{
	struct stat st;
	int fd, err;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST; /* not ours to remove */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Non-blocking: a live agent with a full backlog answers EAGAIN
	 * instead of making us wait, and counts as live. */
	err = connect(fd, (const struct sockaddr *)sa, salen) < 0 ? errno : 0;
	close(fd);
	if (err == ECONNREFUSED) {
		xg_info("control: removing stale socket %s", sa->sun_path);
		if (unlink(sa->sun_path) < 0 && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (err == ENOENT)
		return 0;
	return 1;
}

static int bind_socket(int fd, const struct sockaddr_un *sa, socklen_t salen)
{
	mode_t old;
	int err, live;

	for (int attempt = 0; attempt < 2; attempt++) {
		/* The file is born 0660; umask is process-wide, but the agent
		 * is single-threaded. */
		old = umask(0117);
		err = bind(fd, (const struct sockaddr *)sa, salen) < 0 ? -errno : 0;
		umask(old);
		if (err != -EADDRINUSE)
			return err;
		live = live_agent_at(sa, salen);
		if (live < 0)
			return live;
		if (live)
			return -EADDRINUSE;
	}
	return -EADDRINUSE;
}

int xg_control_open(struct xg_control **out, struct xg_agent *a,
		    const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct xg_control *ctl;
	socklen_t salen;
	struct stat st;
	int fd, err;

	if (!path || !*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			    strlen(path) + 1);

	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->agent = a;
	ctl->loop = xg_agent_loop(a);
	ctl->path = strdup(path);
	ctl->listen.fd = -1;
	ctl->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (!ctl->path) {
		err = -ENOMEM;
		goto fail;
	}
	err = make_parents(path);
	if (err)
		goto fail;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	ctl->listen.fd = fd;
	err = bind_socket(fd, &sa, salen);
	if (err)
		goto fail;
	if (chmod(path, 0660) < 0 || stat(path, &st) < 0) {
		err = -errno;
		unlink(path);
		goto fail;
	}
	ctl->sock_dev = st.st_dev;
	ctl->sock_ino = st.st_ino;
	if (listen(fd, XG_CTL_MAX_CLIENTS) < 0) {
		err = -errno;
		unlink(path);
		goto fail;
	}
	ctl->listen.fn = listen_on_io;
	ctl->listen.prio = XG_CTL_PRIO;
	err = xg_loop_add(ctl->loop, &ctl->listen, EPOLLIN);
	if (err) {
		unlink(path);
		goto fail;
	}
	*out = ctl;
	return 0;
fail:
	if (ctl->listen.fd >= 0)
		close(ctl->listen.fd);
	if (ctl->reserve_fd >= 0)
		close(ctl->reserve_fd);
	free(ctl->path);
	free(ctl);
	return err;
}

void xg_control_close(struct xg_control *ctl)
{
	struct ctl_client *c;
	struct stat st;

	if (!ctl)
		return;
	for (c = ctl->clients; c; c = c->next)
		client_kill(c, "agent shutting down");
	reap(ctl);
	xg_loop_del(ctl->loop, &ctl->listen);
	close(ctl->listen.fd);
	if (ctl->reserve_fd >= 0)
		close(ctl->reserve_fd);
	/* Only remove the file we created: another agent may have replaced
	 * it since (after finding ours stale, say). */
	if (stat(ctl->path, &st) == 0 && st.st_dev == ctl->sock_dev &&
	    st.st_ino == ctl->sock_ino)
		unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* ---- events ---------------------------------------------------------------- */

void xg_control_on_event(struct xg_control *ctl, const struct xg_event *ev)
{
	struct ctl_client *c;
	json_object *obj;
	const char *s;
	size_t n;

	if (!ctl || !ctl->nmonitors || !ev || !ev->member)
		return;
	obj = xg_ctl_event_json(ev, xg_now_mono_ns(), xg_now_real_ns());
	s = obj ? json_object_to_json_string_length(obj, json_flags, &n) : NULL;
	if (!s) {
		xg_warn("control: out of memory rendering an event");
		json_object_put(obj);
		return;
	}
	ctl_enter(ctl);
	for (c = ctl->clients; c; c = c->next) {
		if (c->dead || !c->monitor || !(c->event_mask & (1u << ev->type)))
			continue;
		if (out_pending(c) + n + 1 > XG_CTL_MONITOR_BUF) {
			xg_warn("control: dropping monitor client %" PRIu64
				": %zu bytes of events unread", c->serial,
				out_pending(c));
			ctl->monitors_dropped++;
			client_kill(c, "monitor too slow");
			continue;
		}
		client_send_line(c, s, n);
	}
	ctl_leave(ctl);
	json_object_put(obj);
}

void xg_control_on_message(struct xg_control *ctl, const struct xg_msg *m,
			   bool unicast, const char *origin_name)
{
	struct ctl_client *c;
	char *s = NULL;
	size_t n = 0;

	if (!ctl || !ctl->nmonitors || !m)
		return;
	ctl_enter(ctl);
	for (c = ctl->clients; c; c = c->next) {
		if (c->dead || !ctl_subscribed(c, m->topic))
			continue;
		if (!s) {
			s = ctl_message_line(m, unicast, origin_name,
					     xg_now_real_ns(), &n);
			if (!s) {
				xg_warn("control: out of memory rendering a "
					"message");
				break;
			}
		}
		if (out_pending(c) && out_pending(c) + n + 1 > XG_CTL_MONITOR_BUF) {
			xg_warn("control: dropping subscriber %" PRIu64
				": %zu bytes of messages unread", c->serial,
				out_pending(c));
			ctl->monitors_dropped++;
			client_kill(c, "subscriber too slow");
			continue;
		}
		client_send_line(c, s, n);
	}
	ctl_leave(ctl);
	free(s);
}
