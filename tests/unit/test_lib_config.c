/* SPDX-License-Identifier: MIT */
/*
 * The library's configuration (agent/lib/lib_config.c) through the public
 * API, and what it hands the agent.  No network: the only agent started
 * fails at its state dir, before any socket is opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <xgossip/xgossip.h>

#include "daemon/config.h"
#include "lib/lib_int.h"

static struct xgossip_config *cfg_of(const char *first, ...)
{
	struct xgossip_config *cfg = xgossip_config_new();
	const char *opt, *val;
	va_list ap;

	assert_non_null(cfg);
	va_start(ap, first);
	for (opt = first; opt; opt = va_arg(ap, const char *)) {
		val = va_arg(ap, const char *);
		assert_int_equal(xgossip_config_set(cfg, opt, val), 0);
	}
	va_end(ap);
	return cfg;
}

/* The configuration as the agent gets it.  0 or the parse error. */
static int parsed(const struct xgossip_config *cfg, struct xg_agent_config *out,
		  struct lib_argv *argv, char *why, size_t cap)
{
	assert_int_equal(lib_argv_build(cfg, argv), 0);
	return lib_parse(argv, out, why, cap);
}

static void check_error(struct xgossip_config *cfg, const char *needle)
{
	char why[256];

	memset(why, 'x', sizeof(why));
	assert_int_equal(xgossip_config_check(cfg, why, sizeof(why)), -EINVAL);
	if (!strstr(why, needle))
		fail_msg("error '%s' does not mention '%s'", why, needle);
	/* Only the reason: no program name, no "Try --help" line. */
	assert_null(strchr(why, '\n'));
	assert_true(strncmp(why, "xgossipd:", 9) != 0);
	xgossip_config_free(cfg);
}

static void test_set_refuses_what_cannot_be_an_option(void **state)
{
	struct xgossip_config *cfg = xgossip_config_new();

	(void)state;
	assert_non_null(cfg);
	assert_int_equal(xgossip_config_set(cfg, "", "x"), -EINVAL);
	assert_int_equal(xgossip_config_set(cfg, "bind=1.2.3.4", NULL), -EINVAL);
	assert_int_equal(xgossip_config_set(cfg, "Bind", "1.2.3.4"), -EINVAL);
	assert_int_equal(xgossip_config_set(cfg, "-b", "1.2.3.4"), -EINVAL);
	assert_int_equal(xgossip_config_set(cfg, "bind port", "1"), -EINVAL);
	assert_int_equal(xgossip_config_set(cfg, NULL, "1"), -EINVAL);
	assert_int_equal(xgossip_config_set(NULL, "bind", "1.2.3.4"), -EINVAL);
	/* Help and version would print to a standard output the library
	 * does not have. */
	assert_int_equal(xgossip_config_set(cfg, "help", NULL), -EINVAL);
	assert_int_equal(xgossip_config_set(cfg, "version", NULL), -EINVAL);
	/* A value for a flag without one. */
	assert_int_equal(xgossip_config_set(cfg, "insecure-dev", "yes"), -EINVAL);
	assert_int_equal(xgossip_config_set(cfg, "insecure-dev", NULL), 0);
	/* The leading dashes may be written. */
	assert_int_equal(xgossip_config_set(cfg, "--bind", "198.18.0.1"), 0);
	assert_int_equal(cfg->n, 2);
	assert_string_equal(cfg->opt[1], "bind");
	assert_int_equal(xgossip_config_check(cfg, NULL, 0), 0);
	xgossip_config_free(cfg);
	xgossip_config_free(NULL);
}

static void test_parser_errors_come_back_as_text(void **state)
{
	(void)state;
	check_error(cfg_of("bnd", "198.18.0.1", NULL), "unknown option '--bnd'");
	check_error(cfg_of("bind", "nonsense", NULL),
		    "--bind: 'nonsense' is not an IP address");
	check_error(cfg_of("bind", NULL, NULL), "--bind: needs a value");
	check_error(cfg_of("probe-interval", "fast", NULL),
		    "--probe-interval: invalid duration 'fast'");
	check_error(cfg_of("gossip-nodes", "0", NULL),
		    "--gossip-nodes: '0' is not a whole number");
	check_error(cfg_of("name", "has space", NULL), "--name:");
	check_error(cfg_of("xdp", "sometimes", NULL), "--xdp: 'sometimes'");
	check_error(cfg_of("tag", "novalue", NULL), "--tag: 'novalue'");
	check_error(cfg_of("join", "not an address", NULL), "--join:");
}

/* Relations between options are judged on the whole configuration, as on
 * a command line, whatever order they were set in. */
static void test_relations_over_the_whole_configuration(void **state)
{
	struct xgossip_config *cfg;
	char why[256];

	(void)state;
	check_error(cfg_of("tls-ca", "/x/ca.pem", NULL),
		    "TLS needs all of --tls-ca, --tls-cert and --tls-key");
	check_error(cfg_of("probe-timeout", "2s", NULL),
		    "--probe-timeout (2s) must be shorter than --probe-interval");
	check_error(cfg_of("keyring-file", "/k", "cluster-secret-file", "/s",
			   NULL), "give one source of keys");
	cfg = cfg_of("probe-timeout", "2s", "probe-interval", "5s",
		     "tls-cert", "/x/c.pem", "tls-key", "/x/k.pem",
		     "tls-ca", "/x/ca.pem", NULL);
	assert_int_equal(xgossip_config_check(cfg, why, sizeof(why)), 0);
	assert_string_equal(why, "");
	xgossip_config_free(cfg);
}

static void test_what_the_agent_gets(void **state)
{
	struct xgossip_config *cfg;
	struct xg_agent_config c;
	struct lib_argv v;
	char why[256];

	(void)state;
	cfg = cfg_of("name", "-n3", /* a value may start with a dash */
		     "bind", "198.18.0.13:7000",
		     "join", "198.18.0.11,198.18.0.12:7001",
		     "join", "[fd00:198:18::11]",
		     "tag", "role=db=primary", /* '=' in a value */
		     "tag", "zone=a",
		     "bind", "198.18.0.14", /* the last value wins */
		     "insecure-dev", NULL,
		     "state-dir", "/tmp/somewhere",
		     NULL);
	assert_int_equal(parsed(cfg, &c, &v, why, sizeof(why)), 0);
	assert_string_equal(c.name, "-n3");
	assert_int_equal(c.bind.port, 7946);
	assert_int_equal(c.bind.ip[3], 14);
	assert_int_equal(c.n_joins, 3);
	assert_string_equal(c.joins[0], "198.18.0.11");
	assert_string_equal(c.joins[1], "198.18.0.12:7001");
	assert_string_equal(c.joins[2], "[fd00:198:18::11]");
	assert_int_equal(c.tags.n, 2);
	assert_string_equal(c.tags.keys[0], "role");
	assert_string_equal(c.tags.vals[0], "db=primary");
	assert_true(c.insecure_dev);
	assert_string_equal(c.state_dir, "/tmp/somewhere");
	/* The library's two departures from xgossipd. */
	assert_null(c.control_path);
	assert_true(c.embedded);
	xg_agent_config_free(&c);
	lib_argv_free(&v);
	xgossip_config_free(cfg);

	cfg = cfg_of("control", "/tmp/x.sock", NULL);
	assert_int_equal(parsed(cfg, &c, &v, why, sizeof(why)), 0);
	assert_string_equal(c.control_path, "/tmp/x.sock");
	assert_int_equal(c.n_joins, 0);
	xg_agent_config_free(&c);
	lib_argv_free(&v);
	xgossip_config_free(cfg);
}

/* The configuration is copied: freeing it right after xgossip_config_set
 * or xgossip_new leaves nothing dangling (ASan would say). */
static void test_values_are_copied(void **state)
{
	struct xgossip_config *cfg = xgossip_config_new();
	struct xg_agent_config c;
	struct lib_argv v;
	char opt[16], val[32], why[64];

	(void)state;
	snprintf(opt, sizeof(opt), "cluster");
	snprintf(val, sizeof(val), "blue");
	assert_int_equal(xgossip_config_set(cfg, opt, val), 0);
	memset(opt, 0, sizeof(opt));
	memset(val, 0, sizeof(val));
	assert_int_equal(parsed(cfg, &c, &v, why, sizeof(why)), 0);
	xgossip_config_free(cfg);
	assert_string_equal(c.cluster, "blue");
	xg_agent_config_free(&c);
	lib_argv_free(&v);
}

static void test_new_refuses_a_bad_configuration(void **state)
{
	struct xgossip_config *cfg = cfg_of("bind", "nowhere", NULL);
	struct xgossip *g = (struct xgossip *)1;
	char why[256], tiny[8];

	(void)state;
	assert_int_equal(xgossip_new(&g, cfg, why, sizeof(why)), -EINVAL);
	assert_null(g);
	assert_non_null(strstr(why, "--bind: 'nowhere'"));
	/* A short buffer gets the start of the text, terminated. */
	assert_int_equal(xgossip_new(&g, cfg, tiny, sizeof(tiny)), -EINVAL);
	assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
	assert_int_equal(xgossip_new(&g, cfg, NULL, 0), -EINVAL);
	assert_int_equal(xgossip_new(&g, NULL, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "no configuration");
	xgossip_config_free(cfg);
}

/* An agent that cannot start says why in the error text, which comes
 * from its log; the log lines still reach the application's descriptor. */
static void test_new_reports_a_start_failure(void **state)
{
	struct xgossip_config *cfg;
	struct xgossip *g = NULL;
	char why[256], logbuf[8192];
	int p[2], err;
	ssize_t n;

	(void)state;
	cfg = cfg_of("name", "t1", "bind", "127.0.0.1:1", "insecure-dev", NULL,
		     "xdp", "off", "log-level", "info",
		     /* Not a directory anyone can create: fails before any
		      * socket is opened. */
		     "state-dir", "/proc/xgossip-test/state", NULL);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	xgossip_set_log_fd(p[1]);
	err = xgossip_new(&g, cfg, why, sizeof(why));
	xgossip_set_log_fd(2);
	assert_true(err < 0);
	assert_null(g);
	if (!strstr(why, "state dir /proc/xgossip-test/state"))
		fail_msg("error text: '%s'", why);
	n = read(p[0], logbuf, sizeof(logbuf) - 1);
	assert_true(n > 0);
	logbuf[n] = '\0';
	assert_non_null(strstr(logbuf, " ERROR state dir /proc/xgossip-test/state"));
	close(p[0]);
	close(p[1]);
	xgossip_config_free(cfg);
}

static void test_tag_lookup(void **state)
{
	struct xgossip_member m;
	char buf[16], small[4];

	(void)state;
	memset(&m, 0, sizeof(m));
	snprintf(m.tags, sizeof(m.tags), "a=1\nrole=db=x\nro=no\nz=");
	assert_string_equal(xgossip_tag(&m, "a", buf, sizeof(buf)), "1");
	assert_string_equal(xgossip_tag(&m, "role", buf, sizeof(buf)), "db=x");
	assert_string_equal(xgossip_tag(&m, "ro", buf, sizeof(buf)), "no");
	assert_string_equal(xgossip_tag(&m, "z", buf, sizeof(buf)), "");
	assert_null(xgossip_tag(&m, "r", buf, sizeof(buf)));
	assert_null(xgossip_tag(&m, "zz", buf, sizeof(buf)));
	assert_null(xgossip_tag(&m, "", buf, sizeof(buf)));
	assert_string_equal(xgossip_tag(&m, "role", small, sizeof(small)), "db=");
	m.tags[0] = '\0';
	assert_null(xgossip_tag(&m, "a", buf, sizeof(buf)));
	assert_string_equal(xgossip_state_name(XGOSSIP_SUSPECT), "suspect");
	assert_string_equal(xgossip_event_name(XGOSSIP_EV_FAIL), "fail");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_refuses_what_cannot_be_an_option),
		cmocka_unit_test(test_parser_errors_come_back_as_text),
		cmocka_unit_test(test_relations_over_the_whole_configuration),
		cmocka_unit_test(test_what_the_agent_gets),
		cmocka_unit_test(test_values_are_copied),
		cmocka_unit_test(test_new_refuses_a_bad_configuration),
		cmocka_unit_test(test_new_reports_a_start_failure),
		cmocka_unit_test(test_tag_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
