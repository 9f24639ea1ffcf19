/* SPDX-License-Identifier: MIT */
#include "util/memtrim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/* One line of /proc/self/maps: "start-end perms offset dev inode path". */
static int parse_line(const char *line, uintptr_t *start, uintptr_t *end,
		      char perms[5], char *path, size_t pathlen)
{
	unsigned long long s, e, ino;
	char p[5], dev[16];
	unsigned long long off;
	int used = 0;

	if (sscanf(line, "%llx-%llx %4s %llx %15s %llu %n", &s, &e, p, &off,
		   dev, &ino, &used) < 6)
		return -EINVAL;
	snprintf(path, pathlen, "%s", line + used);
	path[strcspn(path, "\n")] = '\0';
	*start = (uintptr_t)s;
	*end = (uintptr_t)e;
	memcpy(perms, p, 5);
	return 0;
}

/* File-backed, executable, not writable, private: code. */
static int is_code(const char perms[5], const char *path)
{
	return perms[0] == 'r' && perms[1] == '-' && perms[2] == 'x' &&
	       perms[3] == 'p' && path[0] == '/';
}

long xg_trim_code_pages(void)
{
	return xg_trim_code_pages_of(NULL);
}

long xg_trim_code_pages_of(const char *part)
{
	char line[4096 + 128], perms[5], path[4096];
	uintptr_t start, end;
	long total = 0;
	FILE *f;

	f = fopen("/proc/self/maps", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (parse_line(line, &start, &end, perms, path, sizeof(path)))
			continue;
		if (!is_code(perms, path) || end <= start)
			continue;
		if (part && !strstr(path, part))
			continue;
		/* Advice is best effort: a mapping that refuses it simply
		 * stays as it was. */
		if (madvise((void *)start, end - start, MADV_RANDOM) == 0 &&
		    madvise((void *)start, end - start, MADV_DONTNEED) == 0)
			total += (long)(end - start);
	}
	fclose(f);
	return total;
}
