/* SPDX-License-Identifier: MIT */
/*
 * The cgroup CPU limit reader (agent/util/cgroup_cpu.c) on fake /proc and
 * /sys/fs/cgroup trees in a temporary directory: v1 and v2, a parent
 * tighter than its child, no limit, missing and malformed files, and a
 * container's cgroup namespace.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/atomic_file.h"
#include "util/cgroup_cpu.h"

struct fx {
	char root[64];
	char proc[96];
	char sys[96];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->root, "/tmp/xg-cgroup-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->root);
	snprintf(f->sys, sizeof(f->sys), "%s/cgroup", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Write text to base/rel, making the directories on the way. */
static void put(const char *base, const char *rel, const char *text)
{
	char path[512], *slash;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(xg_mkdir_p(path, 0755), 0);
	*slash = '/';
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void dir(const char *base, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", base, rel);
	assert_int_equal(xg_mkdir_p(path, 0755), 0);
}

/* A v1 level: cpu.cfs_quota_us and cpu.cfs_period_us under base/rel. */
static void put_v1(const char *base, const char *rel, const char *quota,
		   const char *period)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/cpu.cfs_quota_us", rel);
	put(base, path, quota);
	snprintf(path, sizeof(path), "%s/cpu.cfs_period_us", rel);
	put(base, path, period);
}

/* This host's shape: v1 controllers, cpu and cpuacct apart, and a v2
 * tree at unified/ without controllers. */
static void hybrid(const struct fx *f, const char *cpu_path)
{
	char text[256];

	snprintf(text, sizeof(text),
		 "9:name=systemd:/\n3:cpuset:/\n2:cpuacct:/\n1:cpu:%s\n0::/\n",
		 cpu_path);
	put(f->proc, "self/cgroup", text);
	put(f->sys, "unified/cgroup.controllers", "");
	put_v1(f->sys, "cpu", "-1\n", "100000\n");
	put(f->sys, "cpuacct/cpuacct.usage", "0\n");
}

static int readf(const struct fx *f, struct xg_cgroup_cpu *cg)
{
	return xg_cgroup_cpu_read(f->proc, f->sys, cg);
}

static void v1_limit(void **state)
{
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;

	hybrid(f, "/bench/agent");
	put_v1(f->sys, "cpu/bench", "-1\n", "100000\n");
	put_v1(f->sys, "cpu/bench/agent", "1000\n", "1000000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 1);
	assert_int_equal(cg.limit_us, 1000);
	assert_int_equal(cg.levels, 3);

	/* Half a CPU, and two CPUs: the unit is CPU time per second. */
	put_v1(f->sys, "cpu/bench/agent", "50000\n", "100000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.limit_us, 500000);
	put(f->sys, "cpu/bench/agent/cpu.cfs_quota_us", "200000");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.limit_us, 2000000);
}

/* The combined mount name some distributions use. */
static void v1_combined_mount(void **state)
{
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;

	put(f->proc, "self/cgroup", "4:cpu,cpuacct:/svc\n3:cpuset:/\n");
	put_v1(f->sys, "cpu,cpuacct/svc", "2500\n", "250000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 1);
	assert_int_equal(cg.limit_us, 10000);
}

static void v2_limit(void **state)
{
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;

	put(f->proc, "self/cgroup", "0::/system.slice/xg.service\n");
	put(f->sys, "cgroup.controllers", "cpuset cpu io memory pids\n");
	put(f->sys, "system.slice/cpu.max", "max 100000\n");
	put(f->sys, "system.slice/xg.service/cpu.max", "1000 1000000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 2);
	assert_int_equal(cg.limit_us, 1000);
	/* The root has no cpu.max: it was looked at all the same. */
	assert_int_equal(cg.levels, 3);
}

/* A parent's limit binds its children: the tightest one wins, wherever
 * it is on the way up. */
static void parent_tighter(void **state)
{
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;

	put(f->proc, "self/cgroup", "0::/a/b/c\n");
	put(f->sys, "cgroup.controllers", "cpu\n");
	put(f->sys, "a/cpu.max", "5000 100000\n");   /* 50 ms/s */
	put(f->sys, "a/b/cpu.max", "2000 1000000\n"); /* 2 ms/s */
	put(f->sys, "a/b/c/cpu.max", "max 100000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.limit_us, 2000);

	hybrid(f, "/p/q");
	put_v1(f->sys, "cpu/p", "1000\n", "1000000\n");
	put_v1(f->sys, "cpu/p/q", "100000\n", "100000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 1);
	assert_int_equal(cg.limit_us, 1000);
}

static void unlimited(void **state)
{
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;

	hybrid(f, "/");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 1);
	assert_int_equal(cg.limit_us, 0);
	assert_int_equal(cg.levels, 1);

	put(f->proc, "self/cgroup", "0::/x\n");
	put(f->sys, "cgroup.controllers", "cpu\n");
	put(f->sys, "x/cpu.max", "max 100000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 2);
	assert_int_equal(cg.limit_us, 0);
}

static void missing(void **state)
{
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;

	/* No /proc/self/cgroup at all. */
	assert_int_equal(readf(f, &cg), -ENOENT);
	/* No CPU controller anywhere in it. */
	put(f->proc, "self/cgroup", "3:cpuset:/\n2:cpuacct:/\n");
	assert_int_equal(readf(f, &cg), -ENOENT);
	/* A cpu line, but nothing mounted for it, nor a v2 tree. */
	put(f->proc, "self/cgroup", "1:cpu:/\n0::/\n");
	assert_int_equal(readf(f, &cg), -ENOENT);
	/* A v2 tree whose cgroup has no cpu.max (the controller is not
	 * enabled for it): no limit. */
	put(f->sys, "cgroup.controllers", "memory\n");
	dir(f->sys, "x");
	put(f->proc, "self/cgroup", "0::/x\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 2);
	assert_int_equal(cg.limit_us, 0);
	/* v1: a quota without its period is not a cgroup. */
	put(f->proc, "self/cgroup", "1:cpu:/y\n");
	put(f->sys, "cpu/y/cpu.cfs_quota_us", "1000\n");
	assert_int_equal(readf(f, &cg), -EBADMSG);
}

static void malformed(void **state)
{
	static const char *const bad_max[] = {
		"", "\n", "1000\n", "1000 \n", "abc 100000\n", "1000 100000 7\n",
		"-5 100000\n", "0 100000\n", "1000 0\n", "1000  100000\n",
		"99999999999999999999 100000\n", "1000 100000\nxx",
		"maximum 100000\n",
	};
	static const char *const bad_quota[] = {
		"", "-2\n", "1e3\n", " 1000\n", "1000x\n", "0\n", "-1 \n",
	};
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;
	char big[200];
	size_t i;

	put(f->proc, "self/cgroup", "0::/x\n");
	put(f->sys, "cgroup.controllers", "cpu\n");
	for (i = 0; i < sizeof(bad_max) / sizeof(bad_max[0]); i++) {
		put(f->sys, "x/cpu.max", bad_max[i]);
		if (readf(f, &cg) != -EBADMSG)
			fail_msg("cpu.max '%s' was accepted", bad_max[i]);
	}
	/* Too long to be a limit. */
	memset(big, '1', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put(f->sys, "x/cpu.max", big);
	assert_int_equal(readf(f, &cg), -EBADMSG);
	/* "max" alone (no period) is still no limit. */
	put(f->sys, "x/cpu.max", "max\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.limit_us, 0);

	hybrid(f, "/y");
	put(f->sys, "cpu/y/cpu.cfs_period_us", "100000\n");
	for (i = 0; i < sizeof(bad_quota) / sizeof(bad_quota[0]); i++) {
		put(f->sys, "cpu/y/cpu.cfs_quota_us", bad_quota[i]);
		if (readf(f, &cg) != -EBADMSG)
			fail_msg("cfs_quota_us '%s' was accepted", bad_quota[i]);
	}
	put_v1(f->sys, "cpu/y", "1000\n", "zero\n");
	assert_int_equal(readf(f, &cg), -EBADMSG);

	/* /proc/self/cgroup itself. */
	put(f->proc, "self/cgroup", "garbage\n");
	assert_int_equal(readf(f, &cg), -EBADMSG);
	put(f->proc, "self/cgroup", "1:cpu\n");
	assert_int_equal(readf(f, &cg), -EBADMSG);
	put(f->proc, "self/cgroup", "1:cpu:relative/path\n");
	assert_int_equal(readf(f, &cg), -EBADMSG);
}

/* In a container with its own cgroup namespace the process's cgroup is
 * "/" and the container's limit sits in the files at the mount's root. */
static void namespace_root(void **state)
{
	struct fx *f = *state;
	struct xg_cgroup_cpu cg;

	put(f->proc, "self/cgroup", "0::/\n");
	put(f->sys, "cgroup.controllers", "cpu memory\n");
	put(f->sys, "cpu.max", "1000 1000000\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.version, 2);
	assert_int_equal(cg.limit_us, 1000);
	assert_int_equal(cg.levels, 1);

	/* Without a namespace a container may see the host's path while
	 * only its own cgroup is mounted: the root is that cgroup. */
	put(f->proc, "self/cgroup", "0::/kubepods/pod1/ctr\n");
	assert_int_equal(readf(f, &cg), 0);
	assert_int_equal(cg.limit_us, 1000);
	assert_int_equal(cg.levels, 1);
}

/* The real host: whatever it says, it says it without crashing, and a
 * limit it finds is a plausible one. */
static void this_host(void **state)
{
	struct xg_cgroup_cpu cg;
	int err;

	(void)state;
	err = xg_cgroup_cpu_read(NULL, NULL, &cg);
	assert_true(err == 0 || err == -ENOENT || err == -EACCES);
	if (!err)
		assert_true(cg.version == 1 || cg.version == 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(v1_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(v1_combined_mount, setup,
						teardown),
		cmocka_unit_test_setup_teardown(v2_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(parent_tighter, setup, teardown),
		cmocka_unit_test_setup_teardown(unlimited, setup, teardown),
		cmocka_unit_test_setup_teardown(missing, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(namespace_root, setup, teardown),
		cmocka_unit_test(this_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
