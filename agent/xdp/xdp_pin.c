/* SPDX-License-Identifier: MIT */
/*
 * bpffs housekeeping: the mount, the instance directory, the map pins.
 */
#include "xdp/xdp_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <bpf/bpf.h>

#include "util/log.h"

int xg_xdp_bpffs_ensure(void)
{
	struct statfs st;

	if (statfs(XG_XDP_BPFFS, &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	/* Many hosts (and these test machines) boot without bpffs; pins
	 * need it, and mode 0700 keeps the maps root's alone. */
	if (mount("bpf", XG_XDP_BPFFS, "bpf", 0, "mode=0700") < 0)
		return -errno;
	xg_info("xdp: mounted bpffs at %s", XG_XDP_BPFFS);
	return 0;
}

int xg_pin_mkdirs(const char *dir)
{
	char tmp[PATH_MAX];
	size_t n = strlen(dir), i;

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		tmp[i] = dir[i];
	}
	return 0;
}

int xg_pin_path(const char *dir, const char *name, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

uint32_t xg_pin_map_id(const char *path)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	uint32_t id = 0;
	int fd;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0)
		id = info.id;
	close(fd);
	return id;
}

void xg_pin_remove_all(const char *dir, const char *root)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < XG_MI_COUNT; i++) {
		if (xg_pin_path(dir, xg_xdp_map_names[i], path, sizeof(path)))
			continue;
		if (unlink(path) < 0 && errno != ENOENT)
			xg_warn("xdp: cannot unpin %s: %s", path, strerror(errno));
	}
	if (rmdir(dir) < 0 && errno != ENOENT)
		xg_warn("xdp: cannot remove %s: %s", dir, strerror(errno));
	/* Other instances may still live under the root: only an empty
	 * root goes. */
	if (root)
		(void)rmdir(root);
}
