/* SPDX-License-Identifier: MIT */
#include "conn.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

uint64_t ctl_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int ctl_conn_open(struct ctl_conn *c, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1)) < 0) {
		int err = -errno;

		close(c->fd);
		c->fd = -1;
		return err;
	}
	return 0;
}

void ctl_conn_close(struct ctl_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

/* Wait for events on the socket until the deadline: 0, -ETIMEDOUT or
 * -EINTR. */
static int wait_fd(const struct ctl_conn *c, short events,
		   uint64_t deadline_ns)
{
	struct pollfd p = { .fd = c->fd, .events = events };
	struct timespec ts, *tsp = NULL;
	int r;

	if (deadline_ns) {
		uint64_t now = ctl_mono_ns(), left;

		if (now >= deadline_ns)
			return -ETIMEDOUT;
		left = deadline_ns - now;
		ts.tv_sec = (time_t)(left / 1000000000ULL);
		ts.tv_nsec = (long)(left % 1000000000ULL);
		tsp = &ts;
	}
	r = ppoll(&p, 1, tsp, c->wait_mask);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

static int send_all(struct ctl_conn *c, const char *p, size_t n,
		    uint64_t deadline_ns)
{
	size_t off = 0;
	int err = 0;

	while (off < n && !err) {
		ssize_t w = send(c->fd, p + off, n - off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w >= 0)
			off += (size_t)w;
		else if (errno == EAGAIN || errno == EWOULDBLOCK)
			err = wait_fd(c, POLLOUT, deadline_ns);
		else if (errno != EINTR)
			err = -errno;
	}
	return err;
}

int ctl_conn_send(struct ctl_conn *c, json_object *req, uint64_t deadline_ns)
{
	const char *s;
	size_t n;
	int err;

	s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s)
		return -ENOMEM;
	/* The line and its newline in two writes rather than one copy: a
	 * broadcast's line can be 22 MB. */
	err = send_all(c, s, n, deadline_ns);
	if (!err)
		err = send_all(c, "\n", 1, deadline_ns);
	return err;
}

static int parse_line(const char *line, size_t len, json_object **out)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *o;
	int ok;

	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	ok = o && json_tokener_get_error(tok) == json_tokener_success &&
	     json_object_is_type(o, json_type_object);
	json_tokener_free(tok);
	if (!ok) {
		json_object_put(o);
		return -EBADMSG;
	}
	*out = o;
	return 0;
}

int ctl_conn_recv(struct ctl_conn *c, uint64_t deadline_ns, json_object **out)
{
	size_t scanned = 0;

	*out = NULL;
	for (;;) {
		char *nl = c->len ? memchr(c->buf + scanned, '\n',
					   c->len - scanned) : NULL;
		ssize_t r;
		int err;

		if (nl) {
			size_t len = (size_t)(nl - c->buf);

			err = parse_line(c->buf, len, out);
			memmove(c->buf, nl + 1, c->len - len - 1);
			c->len -= len + 1;
			return err;
		}
		scanned = c->len;
		if (c->len >= CTL_REPLY_MAX)
			return -E2BIG;
		if (c->len == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 65536;
			char *p = realloc(c->buf, cap);

			if (!p)
				return -ENOMEM;
			c->buf = p;
			c->cap = cap;
		}
		err = wait_fd(c, POLLIN, deadline_ns);
		if (err)
			return err;
		r = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
		if (r == 0)
			return -ECONNRESET;
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -errno;
		}
		c->len += (size_t)r;
	}
}
