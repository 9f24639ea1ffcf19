/* SPDX-License-Identifier: MIT */
/* xgossipctl's command line (tools/xgossipctl/args.c) and the request
 * each command sends (cmds.c: ctl_build_request). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/xgossipctl/args.h"
#include "../../tools/xgossipctl/cmds.h"
#include "../../tools/xgossipctl/help.h"

#define ARGV(...) ((char *[]){ "xgossipctl", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "xgossipctl", __VA_ARGS__ }) / \
			 sizeof(char *)))

static char errbuf[512];

static int parse(struct ctl_opts *o, int argc, char **argv, const char *env)
{
	return ctl_parse_args(argc, argv, env, o, errbuf, sizeof(errbuf));
}

#define PARSE_OK(o, env, ...) \
	assert_int_equal(parse(o, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), env), 0)

/* Parses must fail with a message containing want. */
#define PARSE_BAD(want, ...) do {					\
	struct ctl_opts o_;						\
	assert_int_equal(parse(&o_, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), \
			       NULL), -EINVAL);				\
	assert_non_null(strstr(errbuf, want));				\
	ctl_opts_free(&o_);						\
} while (0)

static const char *request(const struct ctl_opts *o)
{
	static char buf[1024];
	json_object *req = ctl_build_request(o);

	assert_non_null(req);
	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(req,
		 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	return buf;
}

static void test_defaults_and_env(void **state)
{
	struct ctl_opts o;

	(void)state;
	PARSE_OK(&o, NULL, "members");
	assert_int_equal(o.cmd, CTL_CMD_MEMBERS);
	assert_string_equal(o.socket, CTL_DEFAULT_SOCKET);
	assert_int_equal(o.output, CTL_OUT_TABLE);
	assert_true(o.timeout_ns == CTL_DEFAULT_TIMEOUT_NS);
	assert_string_equal(request(&o), "{\"cmd\":\"members\"}");
	ctl_opts_free(&o);

	/* $XGOSSIP_SOCKET replaces the default; --socket beats both; an
	 * empty variable counts as unset. */
	PARSE_OK(&o, "/tmp/env.sock", "info");
	assert_string_equal(o.socket, "/tmp/env.sock");
	ctl_opts_free(&o);
	PARSE_OK(&o, "/tmp/env.sock", "info", "--socket", "/tmp/flag.sock");
	assert_string_equal(o.socket, "/tmp/flag.sock");
	ctl_opts_free(&o);
	PARSE_OK(&o, "", "info");
	assert_string_equal(o.socket, CTL_DEFAULT_SOCKET);
	ctl_opts_free(&o);
}

static void test_global_options_anywhere(void **state)
{
	struct ctl_opts o;

	(void)state;
	PARSE_OK(&o, NULL, "--socket=/a.sock", "-o", "json", "members",
		 "--timeout", "2s", "--status", "alive");
	assert_string_equal(o.socket, "/a.sock");
	assert_int_equal(o.output, CTL_OUT_JSON);
	assert_true(o.timeout_ns == 2000000000ULL);
	assert_string_equal(o.status, "alive");
	assert_string_equal(request(&o),
			    "{\"cmd\":\"members\",\"status\":\"alive\"}");
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "info", "-ojson", "--output=table",
		 "--timeout=500ms");
	assert_int_equal(o.output, CTL_OUT_TABLE);
	assert_true(o.timeout_ns == 500000000ULL);
	ctl_opts_free(&o);
}

static void test_commands_and_requests(void **state)
{
	struct ctl_opts o;

	(void)state;
	PARSE_OK(&o, NULL, "join", "198.18.0.2", "[fd00:198:18::3]:7946");
	assert_int_equal(o.cmd, CTL_CMD_JOIN);
	assert_int_equal(o.nargs, 2);
	assert_string_equal(request(&o), "{\"cmd\":\"join\",\"addrs\":"
			    "[\"198.18.0.2\",\"[fd00:198:18::3]:7946\"]}");
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "leave");
	assert_string_equal(request(&o), "{\"cmd\":\"leave\"}");
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "tags", "set", "role=db", "expr=a=b", "empty=");
	assert_int_equal(o.cmd, CTL_CMD_TAGS_SET);
	assert_string_equal(request(&o), "{\"cmd\":\"tags-set\",\"tags\":"
			    "[\"role=db\",\"expr=a=b\",\"empty=\"]}");
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "tags", "del", "role", "zone");
	assert_int_equal(o.cmd, CTL_CMD_TAGS_DEL);
	assert_string_equal(request(&o), "{\"cmd\":\"tags-del\",\"keys\":"
			    "[\"role\",\"zone\"]}");
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "monitor");
	assert_string_equal(request(&o), "{\"cmd\":\"monitor\"}");
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "monitor", "--events", "join,fail,refute");
	assert_int_equal(o.nevents, 3);
	assert_string_equal(request(&o), "{\"cmd\":\"monitor\",\"events\":"
			    "[\"join\",\"fail\",\"refute\"]}");
	ctl_opts_free(&o);

	/* After "--", a word starting with '-' is an operand. */
	PARSE_OK(&o, NULL, "tags", "set", "--", "-weird=yes");
	assert_int_equal(o.nargs, 1);
	assert_string_equal(o.args[0], "-weird=yes");
	ctl_opts_free(&o);
}

static void test_help_and_version(void **state)
{
	struct ctl_opts o;

	(void)state;
	PARSE_OK(&o, NULL, "--help");
	assert_true(o.help);
	assert_int_equal(o.cmd, CTL_CMD_NONE);
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "members", "-h");
	assert_true(o.help);
	assert_int_equal(o.cmd, CTL_CMD_MEMBERS);
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "help", "monitor");
	assert_true(o.help);
	assert_int_equal(o.cmd, CTL_CMD_MONITOR);
	ctl_opts_free(&o);

	/* --help needs no complete command line. */
	PARSE_OK(&o, NULL, "tags", "--help");
	assert_true(o.help);
	assert_int_equal(o.cmd, CTL_CMD_TAGS);
	ctl_opts_free(&o);
	PARSE_OK(&o, NULL, "join", "--help");
	assert_true(o.help);
	ctl_opts_free(&o);

	PARSE_OK(&o, NULL, "--version");
	assert_true(o.version);
	ctl_opts_free(&o);
}

static void test_usage_errors(void **state)
{
	(void)state;
	PARSE_BAD("no command given", "--socket", "/x");
	PARSE_BAD("unknown command \"memebrs\"", "memebrs");
	PARSE_BAD("unknown option \"--verbose\"", "members", "--verbose");
	PARSE_BAD("--socket needs a value", "members", "--socket");
	PARSE_BAD("socket path is empty", "members", "--socket=");
	PARSE_BAD("-o wants table or json", "members", "-o", "yaml");
	PARSE_BAD("--timeout needs a unit", "members", "--timeout", "10");
	PARSE_BAD("invalid --timeout", "members", "--timeout", "0s");
	PARSE_BAD("invalid --timeout", "members", "--timeout", "1.5s");
	PARSE_BAD("--status wants alive", "members", "--status", "up");
	PARSE_BAD("--status is an option of members", "info", "--status",
		  "alive");
	PARSE_BAD("--events is an option of monitor", "members", "--events",
		  "join");
	PARSE_BAD("unknown event \"crash\"", "monitor", "--events",
		  "join,crash");
	PARSE_BAD("--events needs at least one", "monitor", "--events", ",");
	PARSE_BAD("join needs at least one address", "join");
	PARSE_BAD("tags needs a subcommand", "tags");
	PARSE_BAD("unknown tags subcommand \"add\"", "tags", "add", "a=b");
	PARSE_BAD("tags set needs at least one", "tags", "set");
	PARSE_BAD("invalid tag \"novalue\"", "tags", "set", "novalue");
	PARSE_BAD("invalid tag \"=v\"", "tags", "set", "=v");
	PARSE_BAD("tags del needs at least one", "tags", "del");
	PARSE_BAD("invalid tag key \"a=b\"", "tags", "del", "a=b");
	PARSE_BAD("members takes no arguments", "members", "extra");
	PARSE_BAD("leave takes no arguments", "leave", "now");
}

static void test_help_pages(void **state)
{
	static const enum ctl_cmd cmds[] = {
		CTL_CMD_NONE, CTL_CMD_MEMBERS, CTL_CMD_INFO, CTL_CMD_JOIN,
		CTL_CMD_LEAVE, CTL_CMD_TAGS, CTL_CMD_MONITOR,
	};
	static const char *const sections[] = {
		"NAME\n", "SYNOPSIS\n", "DESCRIPTION\n", "OPTIONS\n",
		"EXIT STATUS\n", "EXAMPLES\n",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char *page = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&page, &len);

		assert_non_null(f);
		ctl_help(f, cmds[i]);
		fclose(f);
		for (j = 0; j < sizeof(sections) / sizeof(sections[0]); j++)
			assert_non_null(strstr(page, sections[j]));
		if (cmds[i] == CTL_CMD_NONE)
			assert_non_null(strstr(page, "COMMANDS\n"));
		else
			assert_non_null(strstr(page, ctl_cmd_name(cmds[i])));
		free(page);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_env),
		cmocka_unit_test(test_global_options_anywhere),
		cmocka_unit_test(test_commands_and_requests),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_help_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
