/* SPDX-License-Identifier: MIT */
/* `xgossipctl xdp`: parsing, the request, the help page and the table
 * shown for an agent with XDP on and off. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/xgossipctl/args.h"
#include "../../tools/xgossipctl/cmds.h"
#include "../../tools/xgossipctl/help.h"
#include "../../tools/xgossipctl/table.h"

#define ARGV(...) ((char *[]){ "xgossipctl", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "xgossipctl", __VA_ARGS__ }) / \
			 sizeof(char *)))

static char errbuf[512];

static int parse(struct ctl_opts *o, int argc, char **argv)
{
	return ctl_parse_args(argc, argv, NULL, o, errbuf, sizeof(errbuf));
}

static void test_parse_and_request(void **state)
{
	struct ctl_opts o;
	json_object *req;

	(void)state;
	assert_int_equal(parse(&o, ARGC("xdp"), ARGV("xdp")), 0);
	assert_int_equal(o.cmd, CTL_CMD_XDP);
	assert_string_equal(ctl_cmd_name(o.cmd), "xdp");
	req = ctl_build_request(&o);
	assert_non_null(req);
	assert_string_equal(json_object_to_json_string_ext(req,
				JSON_C_TO_STRING_PLAIN), "{\"cmd\":\"xdp\"}");
	json_object_put(req);
	ctl_opts_free(&o);

	assert_int_equal(parse(&o, ARGC("-o", "json", "xdp"),
			       ARGV("-o", "json", "xdp")), 0);
	assert_int_equal(o.output, CTL_OUT_JSON);
	ctl_opts_free(&o);

	assert_int_equal(parse(&o, ARGC("xdp", "eth0"), ARGV("xdp", "eth0")),
			 -EINVAL);
	assert_non_null(strstr(errbuf, "xdp takes no arguments"));
	ctl_opts_free(&o);
	assert_int_equal(parse(&o, ARGC("xdp", "--status", "alive"),
			       ARGV("xdp", "--status", "alive")), -EINVAL);
	assert_non_null(strstr(errbuf, "--status is an option of members"));
	ctl_opts_free(&o);
}

static char *render(const char *reply_text)
{
	json_object *reply = json_tokener_parse(reply_text);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(reply);
	assert_non_null(f);
	assert_int_equal(ctl_print_info(f, reply), 0);
	fclose(f);
	json_object_put(reply);
	return buf;
}

static void test_table_on(void **state)
{
	char *out;

	(void)state;
	out = render("{\"ok\":true,\"xdp\":{\"mode\":\"native\","
		     "\"requested\":\"auto\",\"instance\":\"n1\","
		     "\"interface\":\"eth0\",\"heartbeat_age_ms\":null},"
		     "\"maps\":{\"xg_config\":\"/p/xg_config\","
		     "\"xg_stats\":\"/p/xg_stats\"},"
		     "\"counters\":{\"rx\":10,\"ping_answered\":7}}");
	assert_string_equal(out,
		"xdp:\n"
		"  mode             = native\n"
		"  requested        = auto\n"
		"  instance         = n1\n"
		"  interface        = eth0\n"
		"  heartbeat_age_ms = -\n"
		"\n"
		"maps:\n"
		"  xg_config = /p/xg_config\n"
		"  xg_stats  = /p/xg_stats\n"
		"\n"
		"counters:\n"
		"  rx            = 10\n"
		"  ping_answered = 7\n");
	free(out);
}

static void test_table_off(void **state)
{
	char *out;

	(void)state;
	out = render("{\"ok\":true,\"xdp\":{\"mode\":\"off\","
		     "\"requested\":\"off\",\"reason\":\"--xdp off\"}}");
	assert_string_equal(out,
		"xdp:\n"
		"  mode      = off\n"
		"  requested = off\n"
		"  reason    = --xdp off\n");
	free(out);
}

static void test_help(void **state)
{
	char *page = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	f = open_memstream(&page, &len);
	assert_non_null(f);
	ctl_help(f, CTL_CMD_XDP);
	fclose(f);
	assert_non_null(strstr(page, "xgossipctl xdp - "));
	assert_non_null(strstr(page, "EXIT STATUS\n"));
	assert_non_null(strstr(page, "EXAMPLES\n"));
	free(page);

	page = NULL;
	f = open_memstream(&page, &len);
	assert_non_null(f);
	ctl_help(f, CTL_CMD_NONE);
	fclose(f);
	assert_non_null(strstr(page, "\n    xdp  "));
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_request),
		cmocka_unit_test(test_table_on),
		cmocka_unit_test(test_table_off),
		cmocka_unit_test(test_help),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
