/* SPDX-License-Identifier: MIT */
/*
 * The daemon's end of the XDP fast path (agent/daemon/agent_xdp.c) and its
 * flags (--xdp, --xdp-instance, --liveness-window).
 *
 * The pure parts (flags, instance names, which address, which failures are
 * fatal, the start log text) run anywhere.  The rest drives
 * xg_agent_xdp_setup()/close() on a real agent structure against a veth
 * pair in a network namespace of the test's own: the program attaches,
 * the probe key and the first heartbeat are written, the loop's timer
 * writes the next one, a clean close detaches and unpins, a crash-style
 * close leaves the pins and --xdp off removes them, auto falls back to off
 * with a reason and native/generic refuse to start.  That part needs root
 * and BPF; without them it is skipped (the run still fails under CI).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <xdp/libxdp.h>

#include "daemon/agent_int.h"
#include "daemon/flags.h"
#include "util/log.h"

#define MS 1000000ULL
#define IFA "xgd0"
#define IFB "xgd1"
#define IP_A "198.18.1.1"
#define PORT 17951

/* ---- flags ------------------------------------------------------------- */

static enum xg_flags_result parse(struct xg_agent_config *cfg, char *errbuf,
				  size_t cap, ...)
{
	char *argv[16];
	FILE *out, *err;
	va_list ap;
	int argc = 0;
	enum xg_flags_result r;

	argv[argc++] = (char *)"xgossipd";
	va_start(ap, cap);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	xg_agent_config_init(cfg);
	out = fopen("/dev/null", "w");
	err = fmemopen(errbuf, cap, "w");
	assert_non_null(out);
	assert_non_null(err);
	r = xg_flags_parse(argc, argv, cfg, out, err);
	fclose(out);
	fclose(err);
	return r;
}

static void test_flags(void **state)
{
	struct xg_agent_config cfg;
	char err[512];

	(void)state;
	assert_int_equal(parse(&cfg, err, sizeof(err), "--xdp", "native",
			       "--xdp-instance", "edge-1.a_b", "--liveness-window",
			       "500ms", NULL), XG_FLAGS_RUN);
	assert_int_equal(cfg.xdp_mode, XG_XDP_NATIVE);
	assert_string_equal(cfg.xdp_instance, "edge-1.a_b");
	assert_int_equal(cfg.xdp_liveness_ns, 500 * MS);
	xg_agent_config_free(&cfg);

	assert_int_equal(parse(&cfg, err, sizeof(err), "--xdp=generic",
			       "--liveness-window=600ms", NULL), XG_FLAGS_RUN);
	assert_int_equal(cfg.xdp_mode, XG_XDP_GENERIC);
	assert_int_equal(cfg.xdp_liveness_ns, 600 * MS);
	xg_agent_config_free(&cfg);

	assert_int_equal(parse(&cfg, err, sizeof(err), "--xdp", "off", NULL),
			 XG_FLAGS_RUN);
	assert_int_equal(cfg.xdp_mode, XG_XDP_OFF);
	assert_int_equal(cfg.xdp_liveness_max_ns, 0); /* 4 x the window */
	xg_agent_config_free(&cfg);

	assert_int_equal(parse(&cfg, err, sizeof(err), "--liveness-window",
			       "1s", "--liveness-window-max", "1s", NULL),
			 XG_FLAGS_RUN);
	assert_int_equal(cfg.xdp_liveness_max_ns, 1000 * MS);
	xg_agent_config_free(&cfg);
}

static void expect_bad(const char *needle, const char *flag, const char *val)
{
	struct xg_agent_config cfg;
	char err[512] = "";

	assert_int_equal(parse(&cfg, err, sizeof(err), flag, val, NULL),
			 XG_FLAGS_BAD);
	if (!strstr(err, needle))
		fail_msg("%s %s: wanted \"%s\" in: %s", flag, val, needle, err);
	xg_agent_config_free(&cfg);
}

static void test_bad_flags(void **state)
{
	char long_name[80];

	(void)state;
	expect_bad("--xdp: 'turbo' is not one of", "--xdp", "turbo");
	expect_bad("--xdp-instance: 'a/b' is not a valid instance name",
		   "--xdp-instance", "a/b");
	expect_bad("--xdp-instance: '..'", "--xdp-instance", "..");
	expect_bad("--xdp-instance: '.x'", "--xdp-instance", ".x");
	expect_bad("--xdp-instance: '' is not a valid", "--xdp-instance", "");
	memset(long_name, 'i', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	expect_bad("is not a valid instance name", "--xdp-instance", long_name);
	expect_bad("--liveness-window: '400ms' is shorter than 500ms",
		   "--liveness-window", "400ms");
	expect_bad("--liveness-window: '0' is shorter", "--liveness-window",
		   "0");
	expect_bad("--liveness-window: invalid duration '2x'",
		   "--liveness-window", "2x");
	expect_bad("--liveness-window-max (1500ms) is shorter than the "
		   "liveness window (2s)", "--liveness-window-max", "1500ms");
	expect_bad("--liveness-window-max: must be greater than zero",
		   "--liveness-window-max", "0");
}

static void test_instance_names(void **state)
{
	char out[XG_XDP_INSTANCE_MAX], name[XG_NAME_MAX];

	(void)state;
	assert_int_equal(xg_xdp_instance_check("n1"), 0);
	assert_int_equal(xg_xdp_instance_check("a.b-c_D9"), 0);
	assert_int_equal(xg_xdp_instance_check("a b"), -EINVAL);
	assert_int_equal(xg_xdp_instance_check("a/b"), -EINVAL);
	assert_int_equal(xg_xdp_instance_check("."), -EINVAL);
	assert_int_equal(xg_xdp_instance_check(NULL), -EINVAL);

	xg_xdp_instance_default("node-1.example", out, sizeof(out));
	assert_string_equal(out, "node-1.example");
	xg_xdp_instance_default("rack/4:b", out, sizeof(out));
	assert_string_equal(out, "rack_4_b");
	xg_xdp_instance_default(".hidden", out, sizeof(out));
	assert_string_equal(out, "_hidden");
	assert_int_equal(xg_xdp_instance_check(out), 0);
	/* The longest node name still gives a valid instance. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	xg_xdp_instance_default(name, out, sizeof(out));
	assert_int_equal(xg_xdp_instance_check(out), 0);
	/* A short buffer truncates rather than overflows. */
	xg_xdp_instance_default("abcdef", out, 4);
	assert_string_equal(out, "abc");
}

static void test_addr_and_fatal(void **state)
{
	struct xg_addr wild, bind, adv;

	(void)state;
	assert_int_equal(xg_addr_parse("0.0.0.0", 7946, &wild), 0);
	assert_int_equal(xg_addr_parse("198.18.0.5", 7946, &bind), 0);
	assert_int_equal(xg_addr_parse("198.18.0.6", 7946, &adv), 0);
	/* A wildcard bind: the program goes where peers send, the
	 * advertised address. */
	assert_ptr_equal(xg_agent_xdp_addr(&wild, &adv), &adv);
	assert_ptr_equal(xg_agent_xdp_addr(&bind, &adv), &bind);

	assert_false(xg_agent_xdp_fatal(XG_XDP_AUTO));
	assert_false(xg_agent_xdp_fatal(XG_XDP_OFF));
	assert_true(xg_agent_xdp_fatal(XG_XDP_NATIVE));
	assert_true(xg_agent_xdp_fatal(XG_XDP_GENERIC));
}

static void test_describe_off(void **state)
{
	struct xg_agent *a = calloc(1, sizeof(*a));
	char line[512];

	(void)state;
	assert_non_null(a);
	snprintf(a->xdp.reason, sizeof(a->xdp.reason), "--xdp off");
	assert_string_equal(xg_agent_xdp_describe(a, line, sizeof(line)),
			    "xdp=off reason=\"--xdp off\"");
	/* A reason cannot forge a log line. */
	snprintf(a->xdp.reason, sizeof(a->xdp.reason), "x\nERROR y");
	xg_agent_xdp_describe(a, line, sizeof(line));
	assert_null(strchr(line, '\n'));
	free(a);
}

/* ---- the agent's setup and close, live --------------------------------- */

static char instance[48], pin_dir[PATH_MAX];
static bool live_ok;
static char live_skip[128];

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int attached_count(void)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	int n = 0;

	mp = xdp_multiprog__get_from_ifindex((int)if_nametoindex(IFA));
	if (libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp))
		n = 1;
	else
		while ((p = xdp_multiprog__next_prog(p, mp)))
			n++;
	xdp_multiprog__close(mp);
	return n;
}

static void detach_all(void)
{
	struct xdp_multiprog *mp;
	int idx = (int)if_nametoindex(IFA);

	if (!idx)
		return;
	mp = xdp_multiprog__get_from_ifindex(idx);
	if (libxdp_get_error(mp))
		return;
	if (xdp_multiprog__detach(mp))
		fprintf(stderr, "cleanup: could not detach XDP from %s\n", IFA);
	xdp_multiprog__close(mp);
}

/* The private namespace dies with the process; the pins and libxdp's
 * dispatcher pins live in the host's bpffs and must be removed here. */
static void cleanup(void)
{
	detach_all();
	if (instance[0])
		sh("rm -rf %s", pin_dir);
	sh("rmdir %s 2>/dev/null", XG_XDP_PIN_ROOT);
}

static void live_setup(void)
{
	if (geteuid() != 0) {
		snprintf(live_skip, sizeof(live_skip), "needs root");
		return;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		snprintf(live_skip, sizeof(live_skip),
			 "cannot create a network namespace");
		return;
	}
	snprintf(instance, sizeof(instance), "test-daemon-xdp-%d", (int)getpid());
	snprintf(pin_dir, sizeof(pin_dir), "%s/%s", XG_XDP_PIN_ROOT, instance);
	atexit(cleanup);
	if (sh("ip link set lo up && "
	       "ip link add " IFA " type veth peer name " IFB " && "
	       "ip addr add " IP_A "/24 dev " IFA " && "
	       "ip link set " IFA " up && ip link set " IFB " up")) {
		snprintf(live_skip, sizeof(live_skip), "cannot make a veth pair");
		return;
	}
	live_ok = true;
}

struct fixture {
	struct xg_agent_config cfg;
	struct xg_agent        a;
};

static void fixture_init(struct fixture *f, enum xg_xdp_mode mode,
			 const char *bind, const char *advertise)
{
	memset(f, 0, sizeof(*f));
	xg_agent_config_init(&f->cfg);
	f->cfg.xdp_mode = mode;
	f->cfg.xdp_instance = instance;
	assert_int_equal(xg_addr_parse(bind, PORT, &f->cfg.bind), 0);
	f->a.cfg = &f->cfg;
	assert_int_equal(xg_addr_parse(advertise, PORT, &f->a.advertise), 0);
	snprintf(f->a.name, sizeof(f->a.name), "unit");
	f->a.cluster_id = 0x0102030405060708ULL;
	f->a.node_id = 0x00000000000000d1ULL;
	f->a.xdp.hb_w.fd = -1;
	assert_int_equal(xg_keyring_from_secret(&f->a.keyring,
						"unit test cluster secret", 24), 0);
	assert_int_equal(xg_loop_new(&f->a.loop), 0);
}

static void fixture_free(struct fixture *f)
{
	xg_agent_xdp_close(&f->a, true);
	xg_loop_free(f->a.loop);
	xg_agent_config_free(&f->cfg);
}

static uint64_t read_heartbeat(struct xg_agent *a)
{
	int fd = xg_xdp_map_fd(a->xdp.x, XG_MAP_HEARTBEAT);
	uint32_t key = 0;
	uint64_t v = 0;

	assert_true(fd >= 0);
	assert_int_equal(bpf_map_lookup_elem(fd, &key, &v), 0);
	return v;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

#define NEED_LIVE()						\
	do {							\
		if (!live_ok)					\
			skip();					\
	} while (0)

static void test_generic_heartbeat_and_clean_close(void **state)
{
	struct xg_agent_xdp_info xi;
	struct fixture f;
	uint64_t hb1, hb2;

	(void)state;
	NEED_LIVE();
	fixture_init(&f, XG_XDP_GENERIC, IP_A, IP_A);
	assert_int_equal(xg_agent_xdp_setup(&f.a), 0);
	assert_non_null(f.a.xdp.x);
	assert_string_equal(f.a.xdp_active, "generic");
	assert_int_equal(attached_count(), 1);
	assert_true(exists(pin_dir));

	/* The first heartbeat is written at once... */
	hb1 = read_heartbeat(&f.a);
	assert_true(hb1 != 0);
	assert_true(hb1 <= xg_now_mono_ns());
	assert_int_equal(f.a.xdp.hb_count, 1);
	/* ...the next ones when the loop wakes for the timer: once by the
	 * wake hook, before anything is served, once by the timer. */
	assert_int_equal(xg_loop_run_once(f.a.loop, 5000), 0);
	assert_int_equal(f.a.xdp.hb_count, 3);
	hb2 = read_heartbeat(&f.a);
	assert_true(hb2 > hb1);

	xg_agent_get_xdp(&f.a, &xi);
	assert_string_equal(xi.mode, "generic");
	assert_string_equal(xi.requested, "generic");
	assert_null(xi.reason);
	assert_string_equal(xi.instance, instance);
	assert_string_equal(xi.ifname, IFA);
	assert_int_equal(xi.ifindex, (int)if_nametoindex(IFA));
	assert_true(xi.prog_id != 0);
	assert_string_equal(xi.pin_dir, pin_dir);
	assert_true(xi.heartbeat_seen);
	assert_int_equal(xi.heartbeats, 3);
	assert_int_equal(xi.heartbeat_errors, 0);
	assert_int_equal(xi.liveness_ns, 2000 * MS);
	assert_int_equal(xi.heartbeat_interval_ns, 250 * MS);
	assert_int_equal(xi.stats_err, 0);

	/* A clean exit leaves nothing behind. */
	xg_agent_xdp_close(&f.a, true);
	assert_null(f.a.xdp.x);
	assert_int_equal(f.a.xdp.hb_w.fd, -1);
	assert_string_equal(f.a.xdp_active, "off");
	assert_false(exists(pin_dir));
	assert_int_equal(attached_count(), 0);
	fixture_free(&f);
}

static void test_crash_close_then_off_purges(void **state)
{
	struct xg_agent_xdp_info xi;
	struct fixture f;
	char path[PATH_MAX + 16];

	(void)state;
	NEED_LIVE();
	/* A wildcard bind: the interface is found by the advertised
	 * address. */
	fixture_init(&f, XG_XDP_AUTO, "0.0.0.0", IP_A);
	assert_int_equal(xg_agent_xdp_setup(&f.a), 0);
	assert_non_null(f.a.xdp.x);
	assert_string_equal(xg_xdp_ifname(f.a.xdp.x), IFA);
	/* A failure exit keeps the pins for the next agent. */
	xg_agent_xdp_close(&f.a, false);
	snprintf(path, sizeof(path), "%s/%s", pin_dir, XG_MAP_SEEN);
	assert_true(exists(path));
	assert_int_equal(attached_count(), 1);
	fixture_free(&f);

	/* --xdp off removes them. */
	fixture_init(&f, XG_XDP_OFF, IP_A, IP_A);
	assert_int_equal(xg_agent_xdp_setup(&f.a), 0);
	assert_null(f.a.xdp.x);
	assert_false(exists(pin_dir));
	assert_int_equal(attached_count(), 0);
	xg_agent_get_xdp(&f.a, &xi);
	assert_string_equal(xi.mode, "off");
	assert_string_equal(xi.requested, "off");
	assert_string_equal(xi.reason, "--xdp off");
	fixture_free(&f);
}

static void test_auto_falls_back_named_mode_fails(void **state)
{
	struct fixture f;
	char line[600];

	(void)state;
	NEED_LIVE();
	/* No interface holds this address. */
	fixture_init(&f, XG_XDP_AUTO, "198.18.1.99", "198.18.1.99");
	assert_int_equal(xg_agent_xdp_setup(&f.a), 0);
	assert_null(f.a.xdp.x);
	assert_string_equal(f.a.xdp_active, "off");
	assert_non_null(strstr(f.a.xdp.reason,
			       "no local interface holds 198.18.1.99:17951"));
	xg_agent_xdp_describe(&f.a, line, sizeof(line));
	assert_true(strncmp(line, "xdp=off reason=\"no local interface", 34) == 0);
	assert_false(exists(pin_dir));
	fixture_free(&f);

	fixture_init(&f, XG_XDP_NATIVE, "198.18.1.99", "198.18.1.99");
	assert_true(xg_agent_xdp_setup(&f.a) < 0);
	assert_null(f.a.xdp.x);
	fixture_free(&f);

	fixture_init(&f, XG_XDP_GENERIC, "198.18.1.99", "198.18.1.99");
	assert_true(xg_agent_xdp_setup(&f.a) < 0);
	fixture_free(&f);
	assert_int_equal(attached_count(), 0);
}

static void test_native_start_line(void **state)
{
	struct fixture f;
	char line[600], want[128];

	(void)state;
	NEED_LIVE();
	fixture_init(&f, XG_XDP_NATIVE, IP_A, IP_A);
	assert_int_equal(xg_agent_xdp_setup(&f.a), 0);
	assert_string_equal(f.a.xdp_active, "native");
	snprintf(want, sizeof(want), "xdp=native iface=" IFA " prog_id=%u",
		 xg_xdp_prog_id(f.a.xdp.x));
	assert_string_equal(xg_agent_xdp_describe(&f.a, line, sizeof(line)),
			    want);
	fixture_free(&f);
	assert_false(exists(pin_dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_bad_flags),
		cmocka_unit_test(test_instance_names),
		cmocka_unit_test(test_addr_and_fatal),
		cmocka_unit_test(test_describe_off),
		cmocka_unit_test(test_generic_heartbeat_and_clean_close),
		cmocka_unit_test(test_crash_close_then_off_purges),
		cmocka_unit_test(test_auto_falls_back_named_mode_fails),
		cmocka_unit_test(test_native_start_line),
	};

	int failed;

	xg_log_set_level(XG_LOG_ERROR);
	live_setup();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (failed)
		return failed;
	/* The pure part passed; the live part did not run, and a run that
	 * could not test what matters must not look like a pass. */
	if (!live_ok) {
		printf("SKIP: test_daemon_xdp: live part: %s\n", live_skip);
		return 77;
	}
	return 0;
}
