/* SPDX-License-Identifier: MIT */
#include "daemon/statedir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <unistd.h>

#include <xgossip/wire.h>

#include "util/atomic_file.h"
#include "util/log.h"

#define FILE_MODE  0600
#define PEERS_MAX  (4u << 20) /* ~30k members; anything larger is damage */

int xg_statedir_open(struct xg_statedir *sd, const char *path)
{
	char lockpath[4096];
	int err, fd;

	sd->path = NULL;
	sd->lock_fd = -1;
	err = xg_mkdir_p(path, 0700);
	if (err)
		return err;
	if ((size_t)snprintf(lockpath, sizeof(lockpath), "%s/lock", path) >=
	    sizeof(lockpath))
		return -ENAMETOOLONG;
	fd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		  FILE_MODE);
	if (fd < 0)
		return -errno;
	/* flock, not a pid file: the kernel drops it when the process dies,
	 * however it dies, so a crash never leaves a stale lock behind. */
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno == EWOULDBLOCK ? -EBUSY : -errno;
		close(fd);
		return err;
	}
	sd->path = strdup(path);
	if (!sd->path) {
		close(fd);
		return -ENOMEM;
	}
	sd->lock_fd = fd;
	return 0;
}

void xg_statedir_close(struct xg_statedir *sd)
{
	if (sd->lock_fd >= 0)
		close(sd->lock_fd);
	free(sd->path);
	sd->lock_fd = -1;
	sd->path = NULL;
}

/* Trailing newline and spaces of a one-value file. */
static void rstrip(char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == '\n' || s[*len - 1] == ' ' ||
			    s[*len - 1] == '\r' || s[*len - 1] == '\t'))
		s[--*len] = '\0';
}

static int parse_hex64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len != 16)
		return -EBADMSG;
	for (i = 0; i < len; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -EBADMSG;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

int xg_statedir_node_id(struct xg_statedir *sd, uint64_t *id)
{
	char buf[64];
	size_t len;
	uint64_t v = 0;
	int err;

	err = xg_file_read_small(sd->path, "node-id", buf, sizeof(buf), &len);
	if (err == 0) {
		rstrip(buf, &len);
		err = parse_hex64(buf, len, &v);
		if (!err && v == 0)
			err = -EBADMSG;
		if (!err)
			*id = v;
		return err;
	}
	if (err == -EFBIG)
		return -EBADMSG;
	if (err != -ENOENT)
		return err;
	while (v == 0) {
		if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
			return errno ? -errno : -EIO;
	}
	len = (size_t)snprintf(buf, sizeof(buf), "%016" PRIx64 "\n", v);
	err = xg_file_write_atomic(sd->path, "node-id", buf, len, FILE_MODE);
	if (!err)
		*id = v;
	return err;
}

int xg_statedir_save_incarnation(struct xg_statedir *sd, uint32_t inc)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%" PRIu32 "\n", inc);

	return xg_file_write_atomic(sd->path, "incarnation", buf, (size_t)len,
				    FILE_MODE);
}

int xg_statedir_next_incarnation(struct xg_statedir *sd, uint32_t *inc)
{
	char buf[32];
	size_t len, i;
	uint64_t v = 0;
	int err;

	err = xg_file_read_small(sd->path, "incarnation", buf, sizeof(buf),
				 &len);
	if (err == -EFBIG)
		return -EBADMSG;
	if (err && err != -ENOENT)
		return err;
	if (!err) {
		rstrip(buf, &len);
		if (len == 0 || len > 10)
			return -EBADMSG;
		for (i = 0; i < len; i++) {
			if (buf[i] < '0' || buf[i] > '9')
				return -EBADMSG;
			v = v * 10 + (uint64_t)(buf[i] - '0');
		}
		/* The core refuses UINT32_MAX itself (it could never be
		 * refuted), so the last usable saved value is two below. */
		if (v > UINT32_MAX)
			return -EBADMSG;
		if (v >= UINT32_MAX - 1)
			return -EOVERFLOW;
	}
	err = xg_statedir_save_incarnation(sd, (uint32_t)v + 1);
	if (!err)
		*inc = (uint32_t)v + 1;
	return err;
}

int xg_statedir_save_peers(struct xg_statedir *sd,
			   const struct xg_peer_entry *peers, size_t n)
{
	/* Longest line: 16 + 1 + quoted name (4 per byte + 2) + 1 + addr + 1. */
	const size_t line_max = 16 + 1 + 4 * XG_NAME_MAX + 2 + 1 +
				XG_ADDR_STRLEN + 1;
	char *buf, name[4 * XG_NAME_MAX + 3], addr[XG_ADDR_STRLEN];
	size_t len = 0, i;
	int err;

	buf = malloc(n * line_max + 1);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		/* Names from the network may hold anything; quoting keeps one
		 * peer per line and the address as the last field. */
		xg_log_quote(peers[i].name, strnlen(peers[i].name, XG_NAME_MAX),
			     name, sizeof(name));
		len += (size_t)snprintf(buf + len, n * line_max + 1 - len,
					"%016" PRIx64
					" %s %s\n", peers[i].id, name,
					xg_addr_format(&peers[i].addr, addr,
						       sizeof(addr)));
	}
	err = xg_file_write_atomic(sd->path, "peers", buf, len, FILE_MODE);
	free(buf);
	return err;
}

void xg_statedir_free_list(char **list, size_t n)
{
	size_t i;

	for (i = 0; list && i < n; i++)
		free(list[i]);
	free(list);
}

/* The address of one "id name addr" line, or NULL if the line is not
 * one. */
static const char *peer_line_addr(char *line)
{
	char *sp = strrchr(line, ' ');
	struct xg_addr a;
	uint64_t id;

	if (!sp || sp - line < 17 || line[16] != ' ' ||
	    parse_hex64(line, 16, &id) || xg_addr_parse(sp + 1, 0, &a) ||
	    a.port == 0)
		return NULL;
	return sp + 1;
}

int xg_statedir_load_peers(struct xg_statedir *sd, char ***addrs, size_t *n)
{
	char *buf, *line, *save = NULL, **list = NULL;
	size_t len, count = 0;
	int err;

	*addrs = NULL;
	*n = 0;
	buf = malloc(PEERS_MAX);
	if (!buf)
		return -ENOMEM;
	err = xg_file_read_small(sd->path, "peers", buf, PEERS_MAX, &len);
	if (err) {
		free(buf);
		return err == -ENOENT ? 0 : err;
	}
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		const char *addr = peer_line_addr(line);
		char **nl, *copy;

		if (!addr)
			continue;
		copy = strdup(addr);
		nl = copy ? realloc(list, (count + 1) * sizeof(*nl)) : NULL;
		if (!nl) {
			free(copy);
			xg_statedir_free_list(list, count);
			free(buf);
			return -ENOMEM;
		}
		list = nl;
		list[count++] = copy;
	}
	free(buf);
	*addrs = list;
	*n = count;
	return 0;
}
