/* SPDX-License-Identifier: MIT */
#include "util/cgroup_cpu.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/atomic_file.h"

/* Deeper nesting than any container runtime makes; the bound only keeps a
 * damaged path from becoming a long loop. */
#define CG_DEPTH_MAX 64
/* "max 100000\n", "-1\n", "1000000\n": a limit file is a line this short. */
#define CG_FILE_MAX  64

/* Where each kind of hierarchy is mounted under the cgroup root.  A
 * hybrid host (v1 controllers, the v2 tree at unified/) has both; the v1
 * CPU controller, when there is one, is the one that limits. */
static const char *const v1_mounts[] = { "cpu", "cpu,cpuacct", "cpuacct,cpu" };
static const char *const v2_mounts[] = { "", "unified" };

/* dir/name, a limit file, NUL-terminated: 0 or -errno; one too long for
 * a limit is not a cgroup's. */
static int read_limit(const char *dir, const char *name, char *buf,
		      size_t cap)
{
	char path[PATH_MAX + 32];
	size_t len;
	int err;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	err = xg_file_read_path(path, buf, cap, &len);
	return err == -EFBIG ? -EBADMSG : err;
}

/* A decimal number of at most 18 digits (no sign, no overflow), followed
 * by end, a space or a newline; *end past it. */
static int parse_num(const char *s, uint64_t *out, const char **end)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		if (i >= 18)
			return -EBADMSG;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (i == 0 || (s[i] && s[i] != ' ' && s[i] != '\n'))
		return -EBADMSG;
	*out = v;
	*end = s + i;
	return 0;
}

static bool at_line_end(const char *s)
{
	return s[0] == '\0' || (s[0] == '\n' && s[1] == '\0');
}

/* CPU time per second that quota per period allows; at least 1 so that
 * 0 keeps meaning "no limit". */
static uint64_t per_second(uint64_t quota, uint64_t period)
{
	unsigned __int128 us = (unsigned __int128)quota * 1000000u / period;

	if (us > UINT64_MAX)
		return UINT64_MAX;
	return us ? (uint64_t)us : 1;
}

/* v2 cpu.max: "max PERIOD" or "QUOTA PERIOD". */
static int level_v2(const char *dir, uint64_t *us)
{
	char buf[CG_FILE_MAX];
	uint64_t quota, period;
	const char *p;
	int err = read_limit(dir, "cpu.max", buf, sizeof(buf));

	if (err)
		return err == -ENOENT ? 0 : err; /* no cpu controller here */
	if (!strncmp(buf, "max", 3) && (buf[3] == ' ' || at_line_end(buf + 3)))
		return 0;
	if (parse_num(buf, &quota, &p) || *p != ' ' ||
	    parse_num(p + 1, &period, &p) || !at_line_end(p) ||
	    quota == 0 || period == 0)
		return -EBADMSG;
	*us = per_second(quota, period);
	return 0;
}

/* v1 cpu.cfs_quota_us ("-1": none) and cpu.cfs_period_us. */
static int level_v1(const char *dir, uint64_t *us)
{
	char buf[CG_FILE_MAX];
	uint64_t quota, period;
	const char *p;
	int err = read_limit(dir, "cpu.cfs_quota_us", buf, sizeof(buf));

	if (err)
		return err == -ENOENT ? 0 : err;
	if (!strncmp(buf, "-1", 2) && at_line_end(buf + 2))
		return 0;
	if (parse_num(buf, &quota, &p) || !at_line_end(p) || quota == 0)
		return -EBADMSG;
	err = read_limit(dir, "cpu.cfs_period_us", buf, sizeof(buf));
	if (err)
		/* A quota without a period is not a cgroup directory. */
		return err == -ENOENT ? -EBADMSG : err;
	if (parse_num(buf, &period, &p) || !at_line_end(p) || period == 0)
		return -EBADMSG;
	*us = per_second(quota, period);
	return 0;
}

/* Is "cpu" one of the comma-separated controllers in list[0..n)? */
static bool has_cpu(const char *list, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		for (j = i; j < n && list[j] != ','; j++)
			;
		if (j - i == 3 && !memcmp(list + i, "cpu", 3))
			return true;
		i = j + 1;
	}
	return false;
}

/* One line of /proc/PID/cgroup, "ID:CONTROLLERS:PATH": the path into v1
 * (its controllers include cpu) or v2 (ID 0, no controllers). */
static int parse_line(char *line, char *v1, char *v2, size_t cap)
{
	char *c1 = strchr(line, ':'), *c2, *path, *dst = NULL;
	size_t n;

	if (!c1 || !(c2 = strchr(c1 + 1, ':')))
		return -EBADMSG;
	path = c2 + 1;
	n = strcspn(path, "\n");
	path[n] = '\0';
	if (path[0] != '/')
		return -EBADMSG;
	if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1)
		dst = v2;
	else if (has_cpu(c1 + 1, (size_t)(c2 - c1 - 1)))
		dst = v1;
	if (!dst)
		return 0;
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, path, n + 1);
	return 0;
}

static int own_cgroups(const char *proc_root, char *v1, char *v2, size_t cap)
{
	char path[PATH_MAX];
	char *line = NULL;
	size_t lcap = 0;
	FILE *f;
	int err = 0;

	v1[0] = v2[0] = '\0';
	snprintf(path, sizeof(path), "%s/self/cgroup", proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!err && getline(&line, &lcap, f) >= 0)
		err = parse_line(line, v1, v2, cap);
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	fclose(f);
	return err;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory of cgroup rel in the first of mounts that exists, into
 * dir; the length of the mount's part, or -ENOENT. */
static int locate(const char *cg_root, const char *const *mounts, size_t nm,
		  bool v2, const char *rel, char *dir, size_t cap)
{
	char probe[PATH_MAX + 32];
	size_t i;
	int base;

	for (i = 0; i < nm; i++) {
		base = snprintf(dir, cap, "%s%s%s", cg_root,
				mounts[i][0] ? "/" : "", mounts[i]);
		if (base < 0 || (size_t)base >= cap)
			return -ENAMETOOLONG;
		/* A v2 mount says so; a bare tmpfs at the root of a v1 host
		 * is not one. */
		snprintf(probe, sizeof(probe), "%s/cgroup.controllers", dir);
		if (v2 ? access(probe, F_OK) != 0 : !is_dir(dir))
			continue;
		/* Without a cgroup namespace a container sees the host's path
		 * but has only its own cgroup mounted, at the mount's root:
		 * the path is then not there, and the root is the cgroup. */
		if (strcmp(rel, "/") &&
		    snprintf(probe, sizeof(probe), "%s%s", dir, rel) > 0 &&
		    is_dir(probe)) {
			if (strlen(probe) >= cap)
				return -ENAMETOOLONG;
			strcpy(dir, probe);
		}
		return base;
	}
	return -ENOENT;
}

/* The directory of our cgroup in the v1 CPU hierarchy under cg_root, or
 * failing that in v2's; the length of the mount's path, or -errno. */
static int find_hierarchy(const char *cg_root, const char *v1,
			  const char *v2, char *dir, size_t cap, bool *use_v2)
{
	int base = -ENOENT;

	if (v1[0])
		base = locate(cg_root, v1_mounts, 3, false, v1, dir, cap);
	*use_v2 = base == -ENOENT;
	if (*use_v2 && v2[0])
		base = locate(cg_root, v2_mounts, 2, true, v2, dir, cap);
	return base;
}

int xg_cgroup_cpu_read(const char *proc_root, const char *cg_root,
		       struct xg_cgroup_cpu *out)
{
	char v1[PATH_MAX], v2[PATH_MAX], dir[PATH_MAX];
	bool use_v2;
	size_t len;
	int base, err;
	unsigned depth;

	memset(out, 0, sizeof(*out));
	err = own_cgroups(proc_root ? proc_root : XG_CG_PROC_ROOT, v1, v2,
			  sizeof(v1));
	if (err)
		return err;
	base = find_hierarchy(cg_root ? cg_root : XG_CG_SYS_ROOT, v1, v2, dir,
			      sizeof(dir), &use_v2);
	if (base < 0)
		return base;
	out->version = use_v2 ? 2 : 1;
	/* From the process's cgroup up to the mount's root: a parent's limit
	 * binds every child, so the tightest one on the way is the limit. */
	for (depth = 0; depth < CG_DEPTH_MAX; depth++) {
		uint64_t us = 0;
		char *slash;

		err = use_v2 ? level_v2(dir, &us) : level_v1(dir, &us);
		if (err)
			return err;
		out->levels++;
		if (us && (!out->limit_us || us < out->limit_us))
			out->limit_us = us;
		len = strlen(dir);
		if (len <= (size_t)base)
			break;
		slash = strrchr(dir, '/');
		if (!slash || slash < dir + base)
			break;
		*slash = '\0';
	}
	return 0;
}
