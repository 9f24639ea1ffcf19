/* SPDX-License-Identifier: MIT */
/*
 * The CPU limit of the calling process's cgroup (CFS bandwidth: cgroup v1
 * cpu.cfs_quota_us / cpu.cfs_period_us, v2 cpu.max), the tightest one on
 * the way from its cgroup up to the root of the hierarchy.  An agent that
 * knows it may use only a millisecond of CPU a second can tell its members
 * before the first expensive wakeup puts it seconds in debt
 * (docs/OPERATIONS.md, "CPU-limited").
 */
#ifndef XGOSSIP_UTIL_CGROUP_CPU_H
#define XGOSSIP_UTIL_CGROUP_CPU_H

#include <stdint.h>

#define XG_CG_PROC_ROOT "/proc"
#define XG_CG_SYS_ROOT  "/sys/fs/cgroup"

struct xg_cgroup_cpu {
	uint64_t limit_us; /* CPU microseconds per second; 0: no limit */
	unsigned version;  /* 1 or 2: the hierarchy read */
	unsigned levels;   /* cgroup directories looked at */
};

/* Read the limit of this process's cgroup.  proc_root holds self/cgroup
 * (NULL: XG_CG_PROC_ROOT), cg_root the cgroup mounts (NULL:
 * XG_CG_SYS_ROOT): v2 at cg_root or cg_root/unified, v1 at cg_root/cpu,
 * cg_root/cpu,cpuacct or cg_root/cpuacct,cpu.  A level without the limit
 * files has no limit of its own.  0 with out filled in; -ENOENT when no
 * hierarchy with a CPU controller was found for the process, -EBADMSG
 * when a file holds something that is not a cgroup's, another -errno when
 * a file cannot be read. */
int xg_cgroup_cpu_read(const char *proc_root, const char *cg_root,
		       struct xg_cgroup_cpu *out);

#endif /* XGOSSIP_UTIL_CGROUP_CPU_H */
