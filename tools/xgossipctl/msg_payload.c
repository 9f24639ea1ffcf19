/* SPDX-License-Identifier: MIT */
#include "msg_payload.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Room for what a pipe usually holds before the first doubling. */
#define FIRST_CAP ((size_t)64 << 10)

/* A regular file says how big it is: refuse an oversized one without
 * reading it, and size the buffer once. */
static int first_cap(int fd, size_t max, size_t *cap)
{
	struct stat st;

	*cap = FIRST_CAP;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((uint64_t)st.st_size > max)
		return -EFBIG;
	/* One byte more than the size, so a read of 0 can end the loop
	 * without a realloc. */
	*cap = (size_t)st.st_size + 1;
	return 0;
}

static int grow(uint8_t **buf, size_t *cap, size_t limit)
{
	size_t want = *cap < limit / 2 ? *cap * 2 : limit;
	uint8_t *p = realloc(*buf, want);

	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = want;
	return 0;
}

int ctl_payload_read_fd(int fd, size_t max, uint8_t **buf, size_t *len)
{
	/* Reading one byte past max is how "more than max" shows. */
	size_t cap, n = 0, limit = max + 1;
	uint8_t *b;
	int err;

	*buf = NULL;
	*len = 0;
	err = first_cap(fd, max, &cap);
	if (err)
		return err;
	if (cap > limit)
		cap = limit;
	b = malloc(cap);
	if (!b)
		return -ENOMEM;
	for (;;) {
		ssize_t r;

		if (n == cap && (err = grow(&b, &cap, limit)))
			break;
		r = read(fd, b + n, cap - n);
		if (r == 0)
			break;
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		n += (size_t)r;
		if (n > max) {
			err = -EFBIG;
			break;
		}
	}
	if (err) {
		free(b);
		return err;
	}
	*buf = b;
	*len = n;
	return 0;
}

int ctl_payload_read(const char *path, int stdin_fd, size_t max,
		     uint8_t **buf, size_t *len)
{
	int fd, err;

	*buf = NULL;
	*len = 0;
	if (!path || strcmp(path, "-") == 0)
		return ctl_payload_read_fd(stdin_fd, max, buf, len);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = ctl_payload_read_fd(fd, max, buf, len);
	close(fd);
	return err;
}
