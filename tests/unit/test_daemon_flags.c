/* SPDX-License-Identifier: MIT */
/* xgossipd's command line (agent/daemon/flags.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <xgossip/wire.h>

#include "daemon/flags.h"

#define MS 1000000ULL

struct run {
	struct xg_agent_config cfg;
	enum xg_flags_result   res;
	char                  *out, *err;
	size_t                 outlen, errlen;
};

/* Parse a NULL-terminated argument list (argv[0] added). */
static void parse(struct run *r, ...)
{
	char *argv[64];
	FILE *out, *err;
	va_list ap;
	int argc = 0;

	argv[argc++] = (char *)"xgossipd";
	va_start(ap, r);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	xg_agent_config_init(&r->cfg);
	out = open_memstream(&r->out, &r->outlen);
	err = open_memstream(&r->err, &r->errlen);
	assert_non_null(out);
	assert_non_null(err);
	r->res = xg_flags_parse(argc, argv, &r->cfg, out, err);
	fclose(out);
	fclose(err);
}

static void done(struct run *r)
{
	xg_agent_config_free(&r->cfg);
	free(r->out);
	free(r->err);
}

static void expect_bad(const char *needle, ...)
{
	char *argv[16];
	struct run r;
	FILE *out, *err;
	va_list ap;
	int argc = 0;

	argv[argc++] = (char *)"xgossipd";
	va_start(ap, needle);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	xg_agent_config_init(&r.cfg);
	out = open_memstream(&r.out, &r.outlen);
	err = open_memstream(&r.err, &r.errlen);
	r.res = xg_flags_parse(argc, argv, &r.cfg, out, err);
	fclose(out);
	fclose(err);
	if (r.res != XG_FLAGS_BAD || !strstr(r.err, needle) ||
	    !strstr(r.err, "Try 'xgossipd --help'"))
		fail_msg("%s ...: result %d, stderr '%s', wanted '%s'",
			 argv[1], r.res, r.err, needle);
	assert_int_equal(r.outlen, 0);
	done(&r);
}

static void test_defaults(void **state)
{
	struct run r;
	char text[XG_ADDR_STRLEN];

	(void)state;
	parse(&r, NULL);
	assert_int_equal(r.res, XG_FLAGS_RUN);
	assert_null(r.cfg.name);
	assert_string_equal(xg_addr_format(&r.cfg.bind, text, sizeof(text)),
			    "0.0.0.0:7946");
	assert_false(r.cfg.has_advertise);
	assert_int_equal(r.cfg.n_joins, 0);
	assert_int_equal(r.cfg.tags.n, 0);
	assert_string_equal(r.cfg.cluster, "default");
	assert_null(r.cfg.secret_file);
	assert_string_equal(r.cfg.state_dir, "/var/lib/xgossip");
	assert_string_equal(r.cfg.control_path, "/run/xgossip/xgossip.sock");
	assert_int_equal(r.cfg.log_level, XG_LOG_INFO);
	assert_int_equal(r.cfg.timing.set, 0);
	assert_int_equal(r.cfg.leave_timeout_ns, 5000 * MS);
	assert_int_equal(r.cfg.xdp_mode, XG_XDP_AUTO);
	assert_null(r.cfg.xdp_instance);
	assert_int_equal(r.cfg.xdp_liveness_ns, 2000 * MS);
	assert_int_equal(r.cfg.starved_cpu_limit_ns, 10 * MS);
	done(&r);
}

static void test_everything(void **state)
{
	struct run r;
	char text[XG_ADDR_STRLEN];
	const struct xg_timing *t = &r.cfg.timing;

	(void)state;
	parse(&r, "--name", "node-1", "--bind", "[::]:7000",
	      "--advertise", "[fd00:198:18::1]", "--join", "198.18.0.1,seed.example:7001",
	      "--join=[fd00:198:18::2]:7002", "--tag", "zone=a", "--tag=role=db",
	      "--cluster", "prod", "--cluster-secret-file", "/etc/s",
	      "--state-dir", "/tmp/st", "--control", "/tmp/c.sock",
	      "--log-level", "debug", "--probe-interval", "200ms",
	      "--probe-timeout", "100", "--indirect-checks", "0",
	      "--gossip-interval", "50ms", "--gossip-nodes", "5",
	      "--suspicion-mult", "6", "--retransmit-mult", "3",
	      "--pushpull-interval", "0", "--reclaim", "2h",
	      "--leave-timeout", "1s", "--xdp", "auto", NULL);
	if (r.res != XG_FLAGS_RUN)
		fail_msg("stderr: %s", r.err);
	assert_string_equal(r.cfg.name, "node-1");
	assert_string_equal(xg_addr_format(&r.cfg.bind, text, sizeof(text)),
			    "[::]:7000");
	assert_true(r.cfg.has_advertise);
	/* The advertise port defaults to the bind port. */
	assert_string_equal(xg_addr_format(&r.cfg.advertise, text, sizeof(text)),
			    "[fd00:198:18::1]:7000");
	assert_int_equal(r.cfg.n_joins, 3);
	assert_string_equal(r.cfg.joins[0], "198.18.0.1");
	assert_string_equal(r.cfg.joins[1], "seed.example:7001");
	assert_string_equal(r.cfg.joins[2], "[fd00:198:18::2]:7002");
	assert_int_equal(r.cfg.tags.n, 2);
	assert_string_equal(xg_tags_get(&r.cfg.tags, "zone"), "a");
	assert_string_equal(xg_tags_get(&r.cfg.tags, "role"), "db");
	assert_string_equal(r.cfg.cluster, "prod");
	assert_string_equal(r.cfg.secret_file, "/etc/s");
	assert_string_equal(r.cfg.state_dir, "/tmp/st");
	assert_string_equal(r.cfg.control_path, "/tmp/c.sock");
	assert_int_equal(r.cfg.log_level, XG_LOG_DEBUG);
	assert_int_equal(t->set, XG_SET_PROBE_INTERVAL | XG_SET_PROBE_TIMEOUT |
			 XG_SET_INDIRECT_CHECKS | XG_SET_GOSSIP_INTERVAL |
			 XG_SET_GOSSIP_NODES | XG_SET_SUSPICION_MULT |
			 XG_SET_RETRANSMIT_MULT | XG_SET_PUSHPULL_INTERVAL |
			 XG_SET_RECLAIM);
	assert_int_equal(t->probe_interval_ns, 200 * MS);
	assert_int_equal(t->probe_timeout_ns, 100 * MS);
	assert_int_equal(t->indirect_checks, 0);
	assert_int_equal(t->gossip_interval_ns, 50 * MS);
	assert_int_equal(t->gossip_nodes, 5);
	assert_int_equal(t->suspicion_mult, 6);
	assert_int_equal(t->retransmit_mult, 3);
	assert_int_equal(t->pushpull_interval_ns, 0);
	assert_int_equal(t->reclaim_ns, 2ULL * 3600 * 1000 * MS);
	assert_int_equal(r.cfg.leave_timeout_ns, 1000 * MS);
	assert_int_equal(r.cfg.xdp_mode, XG_XDP_AUTO);
	assert_int_equal(r.errlen, 0);
	done(&r);
}

static void test_repeated_tag_replaces(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "--tag", "zone=a", "--tag", "zone=b", NULL);
	assert_int_equal(r.res, XG_FLAGS_RUN);
	assert_int_equal(r.cfg.tags.n, 1);
	assert_string_equal(xg_tags_get(&r.cfg.tags, "zone"), "b");
	done(&r);
}

static void test_help_and_version(void **state)
{
	static const char *const flags[] = {
		"--name", "--bind", "--advertise", "--join", "--tag",
		"--cluster", "--cluster-secret-file", "--state-dir",
		"--control", "--log-level", "--probe-interval",
		"--probe-timeout", "--indirect-checks", "--gossip-interval",
		"--gossip-nodes", "--suspicion-mult", "--retransmit-mult",
		"--pushpull-interval", "--reclaim", "--leave-timeout", "--xdp",
		"--xdp-instance", "--liveness-window", "--starved-cpu-limit",
		"--version", "--help", "SIGTERM", "EXIT STATUS",
	};
	struct run r;
	size_t i;

	(void)state;
	parse(&r, "--help", NULL);
	assert_int_equal(r.res, XG_FLAGS_EXIT);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strstr(r.out, flags[i]))
			fail_msg("--help does not mention %s", flags[i]);
	assert_int_equal(r.errlen, 0);
	done(&r);

	parse(&r, "-h", NULL);
	assert_int_equal(r.res, XG_FLAGS_EXIT);
	done(&r);

	parse(&r, "--version", NULL);
	assert_int_equal(r.res, XG_FLAGS_EXIT);
	assert_non_null(strstr(r.out, "xgossipd "));
	done(&r);
}

static void test_bad_flags(void **state)
{
	(void)state;
	expect_bad("unknown option '--bogus'", "--bogus", NULL);
	expect_bad("unknown option '-x'", "-x", NULL);
	expect_bad("--name: needs a value", "--name", NULL);
	expect_bad("unexpected argument 'extra'", "extra", NULL);
	expect_bad("--name: 'has space'", "--name", "has space", NULL);
	expect_bad("--name: must not be empty", "--name", "", NULL);
	expect_bad("--name:", "--name",
		   "a234567890123456789012345678901234567890123456789012345678901234",
		   NULL);
	expect_bad("--bind: 'example.com'", "--bind", "example.com", NULL);
	expect_bad("--bind: '1.2.3.4:0'", "--bind", "1.2.3.4:0", NULL);
	expect_bad("--bind: 'fd00::1:7946x'", "--bind", "fd00::1:7946x", NULL);
	expect_bad("--advertise: '0.0.0.0' is a wildcard", "--advertise",
		   "0.0.0.0", NULL);
	expect_bad("--join: 'bad host!'", "--join", "bad host!", NULL);
	expect_bad("--join: ''", "--join", "1.2.3.4,", NULL);
	expect_bad("--join: '1.2.3'", "--join", "1.2.3", NULL);
	expect_bad("--join: 'host:99999'", "--join", "host:99999", NULL);
	expect_bad("--tag: 'novalue'", "--tag", "novalue", NULL);
	expect_bad("--tag: '=v'", "--tag", "=v", NULL);
	expect_bad("--log-level: 'loud'", "--log-level", "loud", NULL);
	expect_bad("--probe-interval: invalid duration '1.5s'",
		   "--probe-interval", "1.5s", NULL);
	expect_bad("--gossip-interval: invalid duration '10x'",
		   "--gossip-interval", "10x", NULL);
	expect_bad("--gossip-interval: must be greater than zero",
		   "--gossip-interval", "0", NULL);
	expect_bad("--gossip-nodes: '0' is not a whole number from 1 to 64",
		   "--gossip-nodes", "0", NULL);
	expect_bad("--suspicion-mult: '-1'", "--suspicion-mult", "-1", NULL);
	expect_bad("--indirect-checks: '65'", "--indirect-checks", "65", NULL);
	expect_bad("--xdp: 'fast'", "--xdp", "fast", NULL);
	/* The relation uses the core's default for the flag not given. */
	expect_bad("--probe-timeout (500ms, the default) must be shorter than "
		   "--probe-interval (200ms)", "--probe-interval", "200ms",
		   NULL);
	expect_bad("--probe-timeout (1s) must be shorter than --probe-interval "
		   "(1s, the default)", "--probe-timeout", "1s", NULL);
}

static void test_tags_too_big(void **state)
{
	char big[XG_META_MAX + 8];

	(void)state;
	memset(big, 'v', sizeof(big) - 1);
	big[0] = 'k';
	big[1] = '=';
	big[sizeof(big) - 1] = '\0';
	expect_bad("--tag: the tags take more than 512 bytes", "--tag", big,
		   NULL);
}

static void test_name_check(void **state)
{
	(void)state;
	assert_int_equal(xg_name_check("node-1.example"), 0);
	assert_int_equal(xg_name_check("a"), 0);
	assert_int_equal(xg_name_check(""), -EINVAL);
	assert_int_equal(xg_name_check(NULL), -EINVAL);
	assert_int_equal(xg_name_check("a b"), -EINVAL);
	assert_int_equal(xg_name_check("a\nb"), -EINVAL);
	assert_int_equal(xg_name_check("a=b"), -EINVAL);
	assert_int_equal(xg_name_check("a\"b"), -EINVAL);
	assert_int_equal(xg_name_check("n\xc3\xa9"), -EINVAL);
}

/* Lifeguard's knobs (docs/CORE.md): 0 turns local health off; a maximum
 * multiplier of 1 is SWIM's fixed suspicion timeout. */
static void test_lifeguard_flags(void **state)
{
	const struct xg_timing *t;
	struct run r;

	(void)state;
	parse(&r, "--lhm-max", "0", "--suspicion-max-mult", "1", NULL);
	assert_int_equal(r.res, XG_FLAGS_RUN);
	t = &r.cfg.timing;
	assert_int_equal(t->set, XG_SET_LHM_MAX | XG_SET_SUSPICION_MAX);
	assert_int_equal(t->lhm_max, 0);
	assert_int_equal(t->suspicion_max_mult, 1);
	done(&r);
	parse(&r, "--lhm-max=64", "--suspicion-max-mult=64", NULL);
	assert_int_equal(r.res, XG_FLAGS_RUN);
	assert_int_equal(r.cfg.timing.lhm_max, 64);
	assert_int_equal(r.cfg.timing.suspicion_max_mult, 64);
	done(&r);
	parse(&r, "--help", NULL);
	assert_non_null(strstr(r.out, "--lhm-max N"));
	assert_non_null(strstr(r.out, "--suspicion-max-mult N"));
	done(&r);
	expect_bad("--lhm-max: '65' is not a whole number from 0 to 64",
		   "--lhm-max", "65", NULL);
	expect_bad("--suspicion-max-mult: '0' is not a whole number from 1 "
		   "to 64", "--suspicion-max-mult", "0", NULL);
}

/* --starved-cpu-limit is CPU time per second; 0 turns the cgroup check
 * off. */
static void test_starved_cpu_limit(void **state)
{
	struct run r;

	(void)state;
	parse(&r, "--starved-cpu-limit", "25ms", NULL);
	assert_int_equal(r.res, XG_FLAGS_RUN);
	assert_int_equal(r.cfg.starved_cpu_limit_ns, 25 * MS);
	done(&r);
	parse(&r, "--starved-cpu-limit=500us", NULL);
	assert_int_equal(r.res, XG_FLAGS_RUN);
	assert_int_equal(r.cfg.starved_cpu_limit_ns, 500000);
	done(&r);
	parse(&r, "--starved-cpu-limit", "0", NULL);
	assert_int_equal(r.res, XG_FLAGS_RUN);
	assert_int_equal(r.cfg.starved_cpu_limit_ns, 0);
	done(&r);
	expect_bad("--starved-cpu-limit: invalid duration '10%'",
		   "--starved-cpu-limit", "10%", NULL);
	expect_bad("--starved-cpu-limit: needs a value", "--starved-cpu-limit",
		   NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_everything),
		cmocka_unit_test(test_repeated_tag_replaces),
		cmocka_unit_test(test_help_and_version),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_tags_too_big),
		cmocka_unit_test(test_name_check),
		cmocka_unit_test(test_lifeguard_flags),
		cmocka_unit_test(test_starved_cpu_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
