/* SPDX-License-Identifier: MIT */
/* The state directory: atomic writes, node id, incarnation, peers, lock
 * (agent/util/atomic_file.c, agent/daemon/statedir.c). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon/statedir.h"
#include "util/atomic_file.h"

struct fx {
	char root[64];
	char dir[128];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	strcpy(f->root, "/tmp/xg-statedir-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/a/b/state", f->root);
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

static void slurp(const char *dir, const char *name, char *buf, size_t cap)
{
	size_t len;

	assert_int_equal(xg_file_read_small(dir, name, buf, cap, &len), 0);
}

static mode_t mode_of(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* Entries of dir other than . and .. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_atomic_write(void **state)
{
	struct fx *f = *state;
	char buf[64];
	/* A strict umask would make these 0400 and 0500: the modes are part
	 * of the contract and must not depend on it. */
	mode_t old = umask(0277);

	assert_int_equal(xg_mkdir_p(f->dir, 0700), 0);
	assert_int_equal(mode_of(f->dir, "."), 0700);
	assert_int_equal(xg_file_write_atomic(f->dir, "x", "first\n", 6, 0600), 0);
	slurp(f->dir, "x", buf, sizeof(buf));
	assert_string_equal(buf, "first\n");
	assert_int_equal(mode_of(f->dir, "x"), 0600);
	/* Replacing leaves exactly the new content and no temporary file. */
	assert_int_equal(xg_file_write_atomic(f->dir, "x", "2", 1, 0600), 0);
	slurp(f->dir, "x", buf, sizeof(buf));
	assert_string_equal(buf, "2");
	assert_int_equal(count_entries(f->dir), 1);
	/* A failed write (directory gone) reports and creates nothing. */
	assert_int_equal(xg_file_write_atomic("/nonexistent-xg", "x", "1", 1,
					      0600), -ENOENT);
	umask(old);
}

static void test_read_small_limits(void **state)
{
	struct fx *f = *state;
	char buf[8];
	size_t len;

	assert_int_equal(xg_mkdir_p(f->dir, 0700), 0);
	assert_int_equal(xg_file_read_small(f->dir, "none", buf, sizeof(buf),
					    &len), -ENOENT);
	assert_int_equal(xg_file_write_atomic(f->dir, "seven", "1234567", 7,
					      0600), 0);
	assert_int_equal(xg_file_read_small(f->dir, "seven", buf, sizeof(buf),
					    &len), 0);
	assert_int_equal(len, 7);
	assert_int_equal(xg_file_write_atomic(f->dir, "eight", "12345678", 8,
					      0600), 0);
	assert_int_equal(xg_file_read_small(f->dir, "eight", buf, sizeof(buf),
					    &len), -EFBIG);
}

static void test_mkdir_p_over_file(void **state)
{
	struct fx *f = *state;
	char path[200];

	assert_int_equal(xg_mkdir_p(f->dir, 0700), 0);
	assert_int_equal(xg_mkdir_p(f->dir, 0700), 0); /* idempotent */
	assert_int_equal(xg_file_write_atomic(f->dir, "file", "x", 1, 0600), 0);
	snprintf(path, sizeof(path), "%s/file/sub", f->dir);
	assert_int_equal(xg_mkdir_p(path, 0700), -ENOTDIR);
}

static void test_node_id(void **state)
{
	struct fx *f = *state;
	struct xg_statedir sd;
	uint64_t id1 = 0, id2 = 0;
	char buf[64];

	assert_int_equal(xg_statedir_open(&sd, f->dir), 0);
	assert_int_equal(xg_statedir_node_id(&sd, &id1), 0);
	assert_true(id1 != 0);
	slurp(f->dir, "node-id", buf, sizeof(buf));
	assert_int_equal(strlen(buf), 17);
	assert_int_equal(strtoull(buf, NULL, 16), id1);
	assert_int_equal(mode_of(f->dir, "node-id"), 0600);
	/* Kept across restarts. */
	assert_int_equal(xg_statedir_node_id(&sd, &id2), 0);
	assert_int_equal(id1, id2);
	/* A damaged file is an error, never silently replaced. */
	assert_int_equal(xg_file_write_atomic(f->dir, "node-id", "12xz\n", 5,
					      0600), 0);
	assert_int_equal(xg_statedir_node_id(&sd, &id2), -EBADMSG);
	assert_int_equal(xg_file_write_atomic(f->dir, "node-id",
					      "0000000000000000\n", 17, 0600), 0);
	assert_int_equal(xg_statedir_node_id(&sd, &id2), -EBADMSG);
	slurp(f->dir, "node-id", buf, sizeof(buf));
	assert_string_equal(buf, "0000000000000000\n");
	xg_statedir_close(&sd);
}

static void test_incarnation(void **state)
{
	struct fx *f = *state;
	struct xg_statedir sd;
	uint32_t inc = 0;
	char buf[32];

	assert_int_equal(xg_statedir_open(&sd, f->dir), 0);
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), 0);
	assert_int_equal(inc, 1);
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), 0);
	assert_int_equal(inc, 2);
	/* A refute raised it to 10 while running: the next start uses 11. */
	assert_int_equal(xg_statedir_save_incarnation(&sd, 10), 0);
	slurp(f->dir, "incarnation", buf, sizeof(buf));
	assert_string_equal(buf, "10\n");
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), 0);
	assert_int_equal(inc, 11);
	assert_int_equal(mode_of(f->dir, "incarnation"), 0600);

	/* The highest incarnation the core accepts is UINT32_MAX - 1. */
	assert_int_equal(xg_statedir_save_incarnation(&sd, UINT32_MAX - 2), 0);
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), 0);
	assert_int_equal(inc, UINT32_MAX - 1);
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), -EOVERFLOW);
	assert_int_equal(xg_statedir_save_incarnation(&sd, UINT32_MAX), 0);
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), -EOVERFLOW);
	assert_int_equal(xg_file_write_atomic(f->dir, "incarnation", "-3\n", 3,
					      0600), 0);
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), -EBADMSG);
	assert_int_equal(xg_file_write_atomic(f->dir, "incarnation",
					      "99999999999\n", 12, 0600), 0);
	assert_int_equal(xg_statedir_next_incarnation(&sd, &inc), -EBADMSG);
	xg_statedir_close(&sd);
}

static void test_peers(void **state)
{
	struct fx *f = *state;
	struct xg_statedir sd;
	struct xg_peer_entry p[3];
	char buf[512], **addrs;
	size_t n;

	assert_int_equal(xg_statedir_open(&sd, f->dir), 0);
	/* No file yet: no peers, no error. */
	assert_int_equal(xg_statedir_load_peers(&sd, &addrs, &n), 0);
	assert_int_equal(n, 0);
	xg_statedir_free_list(addrs, n);

	p[0].id = 0x1122334455667788ULL;
	p[0].name = "n1";
	assert_int_equal(xg_addr_parse("198.18.0.1:7946", 0, &p[0].addr), 0);
	p[1].id = 2;
	/* A hostile name from the network cannot add a line or a field. */
	p[1].name = "evil\n0000000000000009 x 10.0.0.1:1";
	assert_int_equal(xg_addr_parse("[fd00:198:18::2]:7000", 0, &p[1].addr),
			 0);
	p[2].id = 3;
	p[2].name = "with space";
	assert_int_equal(xg_addr_parse("198.18.0.3:7946", 0, &p[2].addr), 0);
	assert_int_equal(xg_statedir_save_peers(&sd, p, 3), 0);
	assert_int_equal(mode_of(f->dir, "peers"), 0600);
	slurp(f->dir, "peers", buf, sizeof(buf));
	assert_non_null(strstr(buf, "1122334455667788 n1 198.18.0.1:7946\n"));
	assert_null(strstr(buf, "\n0000000000000009"));

	assert_int_equal(xg_statedir_load_peers(&sd, &addrs, &n), 0);
	assert_int_equal(n, 3);
	assert_string_equal(addrs[0], "198.18.0.1:7946");
	assert_string_equal(addrs[1], "[fd00:198:18::2]:7000");
	assert_string_equal(addrs[2], "198.18.0.3:7946");
	xg_statedir_free_list(addrs, n);

	/* Damaged lines are skipped, good ones kept. */
	snprintf(buf, sizeof(buf), "garbage\n"
		 "00000000000000zz n 1.2.3.4:1\n"
		 "0000000000000001 n not-an-addr\n"
		 "0000000000000001 n 1.2.3.4\n"
		 "0000000000000002 ok 1.2.3.4:5\n");
	assert_int_equal(xg_file_write_atomic(f->dir, "peers", buf, strlen(buf),
					      0600), 0);
	assert_int_equal(xg_statedir_load_peers(&sd, &addrs, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(addrs[0], "1.2.3.4:5");
	xg_statedir_free_list(addrs, n);

	/* An empty snapshot is a valid one. */
	assert_int_equal(xg_statedir_save_peers(&sd, NULL, 0), 0);
	assert_int_equal(xg_statedir_load_peers(&sd, &addrs, &n), 0);
	assert_int_equal(n, 0);
	xg_statedir_free_list(addrs, n);
	xg_statedir_close(&sd);
}

static void test_lock(void **state)
{
	struct fx *f = *state;
	struct xg_statedir a, b;

	assert_int_equal(xg_statedir_open(&a, f->dir), 0);
	assert_int_equal(mode_of(f->dir, "."), 0700);
	/* flock conflicts between open file descriptions, even in one
	 * process, which is what makes this testable here. */
	assert_int_equal(xg_statedir_open(&b, f->dir), -EBUSY);
	xg_statedir_close(&a);
	assert_int_equal(xg_statedir_open(&b, f->dir), 0);
	xg_statedir_close(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_small_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mkdir_p_over_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_node_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_incarnation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
