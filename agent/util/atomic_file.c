/* SPDX-License-Identifier: MIT */
#include "util/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

static int join_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int xg_file_write_atomic(const char *dir, const char *name, const void *data,
			 size_t len, mode_t mode)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, err;

	err = join_path(path, sizeof(path), dir, name);
	if (!err) {
		/* A fixed per-process name: the state directory is locked by one
		 * agent, so nothing else writes here, and a leftover from a
		 * crashed run is simply replaced. */
		int n = snprintf(tmp, sizeof(tmp), "%s/.%s.tmp.%ld", dir, name,
				 (long)getpid());
		if (n < 0 || (size_t)n >= sizeof(tmp))
			err = -ENAMETOOLONG;
	}
	if (err)
		return err;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0)
		return -errno;
	/* open() honours the umask; the file's mode is part of the contract. */
	if (fchmod(fd, mode) < 0)
		err = -errno;
	if (!err)
		err = write_all(fd, data, len);
	if (!err && fsync(fd) < 0)
		err = -errno;
	if (close(fd) < 0 && !err)
		err = -errno;
	if (!err && rename(tmp, path) < 0)
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return fsync_dir(dir);
}

/* Reads to EOF, NUL-terminates, and closes fd whatever happens. */
static int read_and_close(int fd, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	ssize_t r;
	int err = 0;

	for (;;) {
		if (n == cap - 1) {
			char extra;

			r = read(fd, &extra, 1);
			if (r > 0)
				err = -EFBIG;
			else if (r < 0 && errno == EINTR)
				continue;
			else if (r < 0)
				err = -errno;
			break;
		}
		r = read(fd, buf + n, cap - 1 - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	*len = n;
	return 0;
}

int xg_file_read_path(const char *path, char *buf, size_t cap, size_t *len)
{
	int fd;

	if (cap == 0)
		return -EINVAL;
	/* Links are followed: Kubernetes mounts Secret files as symlinks. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return read_and_close(fd, buf, cap, len);
}

int xg_file_read_small(const char *dir, const char *name, char *buf,
		       size_t cap, size_t *len)
{
	char path[PATH_MAX];
	int err, fd;

	if (cap == 0)
		return -EINVAL;
	err = join_path(path, sizeof(path), dir, name);
	if (err)
		return err;
	/* The state dir is ours alone: a symlink there is not. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	return read_and_close(fd, buf, cap, len);
}

int xg_mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	size_t n = strlen(path), i;
	struct stat st;

	if (n == 0)
		return -EINVAL;
	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = '\0';
	for (i = 1; i <= n; i++) {
		int last = i == n;

		if (!last && buf[i] != '/')
			continue;
		if (!last)
			buf[i] = '\0';
		if (mkdir(buf, last ? mode : 0755) < 0) {
			if (errno != EEXIST)
				return -errno;
			if (stat(buf, &st) < 0)
				return -errno;
			if (!S_ISDIR(st.st_mode))
				return -ENOTDIR;
		} else if (last && chmod(buf, mode) < 0) {
			/* mkdir() honoured the umask; the state dir must be
			 * exactly what was asked for. */
			return -errno;
		}
		if (!last)
			buf[i] = '/';
	}
	return 0;
}
