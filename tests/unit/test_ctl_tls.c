/* SPDX-License-Identifier: MIT */
/* xgossipctl tls init (tools/xgossipctl/cmd_tls.c): its command line and
 * a real run into a temporary directory. */
#include <errno.h>
#include <ftw.h>
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

#include "../../tools/xgossipctl/args.h"
#include "../../tools/xgossipctl/cmd_tls.h"
#include "../../tools/xgossipctl/cmds.h"
#include "../../tools/xgossipctl/help.h"

#define ARGV(...) ((char *[]){ "xgossipctl", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "xgossipctl", __VA_ARGS__ }) / \
			 sizeof(char *)))

static char errbuf[512];

#define PARSE(o, ...) \
	ctl_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), NULL, o, errbuf, \
		       sizeof(errbuf))

#define PARSE_BAD(want, ...) do {					\
	struct ctl_opts o_;						\
	assert_int_equal(PARSE(&o_, __VA_ARGS__), -EINVAL);		\
	assert_non_null(strstr(errbuf, want));				\
	ctl_opts_free(&o_);						\
} while (0)

static void test_parse(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "tls", "init", "n1", "n2"), 0);
	assert_int_equal(o.cmd, CTL_CMD_TLS_INIT);
	assert_string_equal(o.tls_dir, CTL_TLS_DEFAULT_DIR);
	assert_int_equal(o.tls_days, CTL_TLS_DEFAULT_DAYS);
	assert_int_equal(o.nargs, 2);
	assert_string_equal(o.args[1], "n2");
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "--days=30", "tls", "init", "--dir", "/x",
			       "198.18.0.1"), 0);
	assert_string_equal(o.tls_dir, "/x");
	assert_int_equal(o.tls_days, 30);
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "tls", "--help"), 0);
	assert_int_equal(o.cmd, CTL_CMD_TLS);
	assert_true(o.help);
	ctl_opts_free(&o);

	PARSE_BAD("tls needs a subcommand", "tls");
	PARSE_BAD("unknown tls subcommand \"make\"", "tls", "make", "a");
	PARSE_BAD("at least one NAME", "tls", "init");
	PARSE_BAD("reserved", "tls", "init", "ca");
	PARSE_BAD("may only contain", "tls", "init", "a/b");
	PARSE_BAD("given twice", "tls", "init", "a", "b", "a");
	PARSE_BAD("--days wants", "tls", "init", "--days", "0", "a");
	PARSE_BAD("--days wants", "tls", "init", "--days", "36501", "a");
	PARSE_BAD("--days wants", "tls", "init", "--days", "12d", "a");
	PARSE_BAD("--days wants", "tls", "init", "--days", "", "a");
	PARSE_BAD("--dir is empty", "tls", "init", "--dir", "", "a");
	PARSE_BAD("--dir is an option of tls init", "members", "--dir", "x");
	PARSE_BAD("--days is an option of tls init", "info", "--days", "3");
	PARSE_BAD("--dir needs a value", "tls", "init", "a", "--dir");
}

static void test_help_page(void **state)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&page, &len);

	(void)state;
	assert_non_null(f);
	ctl_help(f, CTL_CMD_TLS_INIT);
	fclose(f);
	assert_non_null(strstr(page, "tls init [--dir DIR] [--days N] NAME"));
	assert_non_null(strstr(page, "OPTIONS\n    --dir DIR"));
	assert_non_null(strstr(page, "GLOBAL OPTIONS\n"));
	assert_non_null(strstr(page, "EXAMPLES\n"));
	free(page);

	page = NULL;
	f = open_memstream(&page, &len);
	assert_non_null(f);
	ctl_help(f, CTL_CMD_NONE);
	fclose(f);
	assert_non_null(strstr(page, "tls init NAME..."));
	free(page);
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Run argv through parse and ctl_run, capturing both streams. */
static int run(int argc, char **argv, char **out, char **err)
{
	struct ctl_opts o;
	size_t lo, le;
	FILE *fo = open_memstream(out, &lo), *fe = open_memstream(err, &le);
	int r;

	assert_non_null(fo);
	assert_non_null(fe);
	assert_int_equal(ctl_parse_args(argc, argv, NULL, &o, errbuf,
					sizeof(errbuf)), 0);
	r = ctl_run(&o, fo, fe);
	ctl_opts_free(&o);
	fclose(fo);
	fclose(fe);
	return r;
}

static void test_run_writes_and_lists(void **state)
{
	char dir[] = "/tmp/xg-ctl-tls-XXXXXX", sub[64], line[128];
	char *out, *err;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/pki", dir);

	assert_int_equal(run(ARGC("tls", "init", "--dir", sub, "n1"),
			     ARGV("tls", "init", "--dir", sub, "n1"), &out,
			     &err), CTL_EXIT_OK);
	snprintf(line, sizeof(line), "created  %s/ca-key.pem\n", sub);
	assert_non_null(strstr(out, line));
	snprintf(line, sizeof(line), "created  %s/n1.pem\n", sub);
	assert_non_null(strstr(out, line));
	assert_string_equal(err, "");
	free(out);
	free(err);
	snprintf(line, sizeof(line), "%s/n1-key.pem", sub);
	assert_int_equal(stat(line, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);

	/* a second run reuses the CA and says so; JSON for scripts */
	assert_int_equal(run(ARGC("-o", "json", "tls", "init", "--dir", sub,
				  "n2"),
			     ARGV("-o", "json", "tls", "init", "--dir", sub,
				  "n2"), &out, &err), CTL_EXIT_OK);
	assert_non_null(strstr(out, "\"created\": false"));
	assert_non_null(strstr(out, "n2-key.pem"));
	assert_non_null(strstr(out, "\"days\": 825"));
	free(out);
	free(err);

	/* half a CA: exit 1 with the reason */
	snprintf(line, sizeof(line), "%s/ca.pem", sub);
	assert_int_equal(unlink(line), 0);
	assert_int_equal(run(ARGC("tls", "init", "--dir", sub, "n3"),
			     ARGV("tls", "init", "--dir", sub, "n3"), &out,
			     &err), CTL_EXIT_FAILED);
	assert_non_null(strstr(err, "xgossipctl: tls init: "));
	assert_non_null(strstr(err, "ca.pem does not"));
	free(out);
	free(err);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_help_page),
		cmocka_unit_test(test_run_writes_and_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
