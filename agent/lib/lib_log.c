/* SPDX-License-Identifier: MIT */
/*
 * The agent says why it cannot start only in its log (xg_error lines).  An
 * application wants that reason as text from xgossip_new, so while the
 * agent starts its log goes to a memory file; afterwards every line is
 * passed on to where the application wants the log, and the last ERROR
 * line becomes the error text.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/lib_int.h"
#include "util/log.h"

/* The application's log descriptor, for every agent of the process (the
 * log itself is process-wide). */
static int app_log_fd = 2;

void xgossip_set_log_fd(int fd)
{
	app_log_fd = fd;
	xg_log_set_fd(fd);
}

void lib_logcap_begin(struct lib_logcap *c)
{
	/* Without a memory file the lines go straight through, and the error
	 * text falls back to the errno's. */
	c->fd = memfd_create("xgossip-start-log", MFD_CLOEXEC);
	if (c->fd >= 0)
		xg_log_set_fd(c->fd);
}

static void pass_on(const char *buf, size_t len)
{
	while (len > 0 && app_log_fd >= 0) {
		ssize_t w = write(app_log_fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* a log that cannot be written: nothing to tell */
		buf += w;
		len -= (size_t)w;
	}
}

/* The message of the last "<timestamp> ERROR <message>" line. */
static void last_error(const char *text, char *errbuf, size_t errlen)
{
	const char *p = text, *hit = NULL, *m;

	while ((m = strstr(p, "Z ERROR "))) {
		hit = m + 8;
		p = hit;
	}
	if (hit)
		snprintf(errbuf, errlen, "%.*s", (int)strcspn(hit, "\n"), hit);
}

void lib_logcap_end(struct lib_logcap *c, char *errbuf, size_t errlen)
{
	char *text;
	off_t size;

	xg_log_set_fd(app_log_fd);
	if (c->fd < 0)
		return;
	size = lseek(c->fd, 0, SEEK_END);
	text = size > 0 ? malloc((size_t)size + 1) : NULL;
	if (text && pread(c->fd, text, (size_t)size, 0) == size) {
		text[size] = '\0';
		pass_on(text, (size_t)size);
		if (errbuf && errlen > 0)
			last_error(text, errbuf, errlen);
	}
	free(text);
	close(c->fd);
	c->fd = -1;
}
