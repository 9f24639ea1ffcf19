/* SPDX-License-Identifier: MIT */
/*
 * The XDP loader on a real veth pair.
 *
 * The test process moves into a network namespace of its own ("near",
 * holding xgt0 and the stand-in agent socket); the peer xgt1 lives in a
 * named namespace ("far", holding the prober).  Addresses come from
 * 198.18.0.0/15 and fd00:198:18::/64 only.  Everything is removed at exit,
 * also when an assertion fails: the near namespace dies with the process,
 * the far one and the pins are removed by an atexit handler.
 *
 * Covered: attach in generic, native and auto mode; pins exist and bpftool
 * can dump every map (with field names for the stats); a reopen takes over
 * the pinned maps and replaces the old program; close unpins and detaches;
 * and end to end, a PING sent over the veth is answered by the kernel, is
 * handed to userspace when the heartbeat stops, and is not answered once
 * the agent's socket is gone.  Needs root; prints SKIP and exits 77
 * without it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "core/codec.h"
#include "util/log.h"
#include "xdp/xdp.h"

#define PORT     17947
#define CLUSTER  0x0a0b0c0d01020304ULL
#define SELF_ID  0x00000000000000a1ULL
#define PEER_ID  0x00000000000000b2ULL
#define NEAR_IF  "xgt0"
#define FAR_IF   "xgt1"
#define NEAR_IP4 "198.18.0.1"
#define FAR_IP4  "198.18.0.2"

static const uint8_t key[16] = { 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80,
				 0x90, 0xa0, 0xb0, 0xc0, 0xd0, 0xe0, 0xf0, 0x01 };

static char far_ns[64];      /* name of the far namespace */
static char instance[64];    /* pin directory name */
static int near_ns_fd = -1, far_ns_fd = -1;
static bool far_created;

/* --- harness ------------------------------------------------------------- */

static void skip_all(const char *why)
{
	printf("SKIP: test_xdp_loader: %s\n", why);
	fflush(stdout);
	exit(77);
}

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

static void enter_far(void)
{
	assert_int_equal(setns(far_ns_fd, CLONE_NEWNET), 0);
}

static void enter_near(void)
{
	assert_int_equal(setns(near_ns_fd, CLONE_NEWNET), 0);
}

/* Detach whatever XDP is left on ifname in the current namespace. */
static void detach_all(const char *ifname)
{
	int idx = (int)if_nametoindex(ifname);
	struct xdp_multiprog *mp;

	if (!idx)
		return;
	mp = xdp_multiprog__get_from_ifindex(idx);
	if (libxdp_get_error(mp))
		return;
	if (xdp_multiprog__detach(mp))
		fprintf(stderr, "cleanup: could not detach XDP from %s\n", ifname);
	xdp_multiprog__close(mp);
}

static void cleanup(void)
{
	if (near_ns_fd >= 0 && setns(near_ns_fd, CLONE_NEWNET) == 0)
		detach_all(NEAR_IF);
	if (far_ns_fd >= 0 && setns(far_ns_fd, CLONE_NEWNET) == 0) {
		detach_all(FAR_IF);
		if (near_ns_fd >= 0 && setns(near_ns_fd, CLONE_NEWNET) < 0)
			fprintf(stderr, "cleanup: cannot return to near ns\n");
	}
	if (far_created)
		sh("ip netns del %s 2>/dev/null", far_ns);
	if (instance[0])
		sh("rm -rf %s/%s", XG_XDP_PIN_ROOT, instance);
	sh("rmdir %s 2>/dev/null", XG_XDP_PIN_ROOT);
}

/* Each test starts from a bare interface and no pins, so one failure does
 * not cascade into the next test. */
static int fresh(void **state)
{
	(void)state;
	if (setns(near_ns_fd, CLONE_NEWNET) < 0)
		return -1;
	detach_all(NEAR_IF);
	if (setns(far_ns_fd, CLONE_NEWNET) < 0)
		return -1;
	detach_all(FAR_IF);
	if (setns(near_ns_fd, CLONE_NEWNET) < 0)
		return -1;
	sh("rm -rf %s/%s", XG_XDP_PIN_ROOT, instance);
	return 0;
}

static void setup_or_skip(void)
{
	char path[128];

	if (geteuid() != 0)
		skip_all("needs root (veth, namespaces, XDP attach)");
	if (sh("command -v ip >/dev/null && command -v bpftool >/dev/null"))
		skip_all("needs ip (iproute2) and bpftool");
	if (unshare(CLONE_NEWNET) < 0)
		skip_all("cannot create a network namespace");
	near_ns_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (near_ns_fd < 0)
		skip_all("cannot open own namespace");

	snprintf(far_ns, sizeof(far_ns), "xgt-far-%d", (int)getpid());
	snprintf(instance, sizeof(instance), "test-loader-%d", (int)getpid());
	atexit(cleanup);
	if (sh("ip netns add %s", far_ns))
		skip_all("cannot create a named network namespace");
	far_created = true;
	snprintf(path, sizeof(path), "/var/run/netns/%s", far_ns);
	far_ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (far_ns_fd < 0)
		skip_all("cannot open the far namespace");

	if (sh("ip link set lo up && "
	       "ip link add " NEAR_IF " type veth peer name " FAR_IF " netns %s && "
	       "ip addr add " NEAR_IP4 "/24 dev " NEAR_IF " && "
	       "ip addr add fd00:198:18::1/64 dev " NEAR_IF " nodad && "
	       "ip link set " NEAR_IF " up && "
	       "ip -n %s link set lo up && "
	       "ip -n %s addr add " FAR_IP4 "/24 dev " FAR_IF " && "
	       "ip -n %s addr add fd00:198:18::2/64 dev " FAR_IF " nodad && "
	       "ip -n %s link set " FAR_IF " up",
	       far_ns, far_ns, far_ns, far_ns, far_ns))
		skip_all("cannot set up the veth pair");
	xg_log_set_level(XG_LOG_WARN);
}

static void opts_init(struct xg_xdp_opts *o, enum xg_xdp_mode mode)
{
	memset(o, 0, sizeof(*o));
	o->ifname = NEAR_IF;
	o->mode = mode;
	o->instance = instance;
	o->port = PORT;
	o->cluster_id = CLUSTER;
	o->node_id = SELF_ID;
}

static struct xg_xdp *open_or_fail(enum xg_xdp_mode mode)
{
	struct xg_xdp_opts o;
	struct xg_xdp *x = NULL;
	char err[256];
	int r;

	opts_init(&o, mode);
	r = xg_xdp_open(&x, &o, err, sizeof(err));
	if (r)
		fail_msg("xg_xdp_open(%s): %d %s", xg_xdp_mode_str(mode), r, err);
	return x;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Programs on NEAR_IF, as ids. */
static int attached_ids(uint32_t *ids, int cap)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	int n = 0;

	mp = xdp_multiprog__get_from_ifindex((int)if_nametoindex(NEAR_IF));
	if (libxdp_get_error(mp))
		return 0;
	if (xdp_multiprog__is_legacy(mp)) {
		ids[n++] = xdp_program__id(xdp_multiprog__main_prog(mp));
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp)) && n < cap)
			ids[n++] = xdp_program__id(p);
	}
	xdp_multiprog__close(mp);
	return n;
}

/* --- pins, bpftool, close ------------------------------------------------ */

static void check_pins_and_bpftool(struct xg_xdp *x)
{
	static const char *const maps[] = { XG_MAP_CONFIG, XG_MAP_KEYS,
					    XG_MAP_HEARTBEAT, XG_MAP_SEEN,
					    XG_MAP_STATS };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		assert_int_equal(xg_xdp_pin_path(x, maps[i], path, sizeof(path)), 0);
		assert_true(exists(path));
		if (sh("bpftool map dump pinned %s >/dev/null", path) != 0)
			fail_msg("bpftool map dump pinned %s failed", path);
	}
	/* BTF makes the counters readable by name. */
	assert_int_equal(xg_xdp_pin_path(x, XG_MAP_STATS, path, sizeof(path)), 0);
	assert_int_equal(sh("bpftool map dump pinned %s | grep -q ping_answered",
			    path), 0);
}

static void open_check_close(enum xg_xdp_mode mode, enum xg_xdp_mode got)
{
	struct xg_xdp *x = open_or_fail(mode);
	char dir[PATH_MAX];
	uint32_t ids[8], prog;
	int n;

	assert_int_equal(xg_xdp_mode(x), got);
	assert_string_equal(xg_xdp_ifname(x), NEAR_IF);
	assert_int_equal(xg_xdp_ifindex(x), (int)if_nametoindex(NEAR_IF));
	prog = xg_xdp_prog_id(x);
	assert_true(prog != 0);
	n = attached_ids(ids, 8);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], prog);
	check_pins_and_bpftool(x);

	snprintf(dir, sizeof(dir), "%s", xg_xdp_pin_dir(x));
	xg_xdp_close(x, true);
	assert_false(exists(dir));
	assert_int_equal(attached_ids(ids, 8), 0);
}

static void test_open_generic(void **state)
{
	(void)state;
	open_check_close(XG_XDP_GENERIC, XG_XDP_GENERIC);
}

static void test_open_native(void **state)
{
	(void)state;
	open_check_close(XG_XDP_NATIVE, XG_XDP_NATIVE);
}

/* Auto never picks native on a veth: XDP_TX there is lost unless the far
 * end runs XDP too, which the agent cannot see (xdp_loader.c). */
static void test_open_auto_uses_generic_on_veth(void **state)
{
	char drv[32];

	(void)state;
	assert_int_equal(xg_xdp_iface_driver(NEAR_IF, drv,
					     sizeof(drv)), 0);
	assert_string_equal(drv, "veth");
	open_check_close(XG_XDP_AUTO, XG_XDP_GENERIC);
}

static void test_open_bad_interface(void **state)
{
	struct xg_xdp_opts o;
	struct xg_xdp *x = NULL;
	char err[256] = "", dir[PATH_MAX];

	(void)state;
	opts_init(&o, XG_XDP_GENERIC);
	o.ifname = "xgt-nonexist";
	assert_true(xg_xdp_open(&x, &o, err, sizeof(err)) < 0);
	assert_null(x);
	assert_true(strlen(err) > 0);
	snprintf(dir, sizeof(dir), "%s/%s", XG_XDP_PIN_ROOT, instance);
	assert_false(exists(dir));

	opts_init(&o, XG_XDP_GENERIC);
	o.port = 0;
	assert_int_equal(xg_xdp_open(&x, &o, err, sizeof(err)), -EINVAL);
	assert_null(x);
}

/* --- restart takeover ---------------------------------------------------- */

static void test_reopen_reuses_maps(void **state)
{
	static const uint8_t id[16] = { 'r', 'e', 'u', 's', 'e', 1, 2, 3 };
	static const uint8_t other[16] = { 'n', 'o', 'p', 'e' };
	struct xg_xdp *x;
	uint32_t ids[8], old_prog, new_prog;
	int seen_fd_before;

	(void)state;
	x = open_or_fail(XG_XDP_GENERIC);
	assert_int_equal(xg_xdp_seen_add(x, id, 42), 0);
	assert_int_equal(xg_xdp_seen_has(x, id), 1);
	assert_int_equal(xg_xdp_seen_has(x, other), 0);
	old_prog = xg_xdp_prog_id(x);
	seen_fd_before = xg_xdp_map_fd(x, XG_MAP_SEEN);
	assert_true(seen_fd_before >= 0);
	/* A restart: the agent goes, program and pins stay. */
	xg_xdp_close(x, false);
	assert_int_equal(attached_ids(ids, 8), 1);
	assert_int_equal(ids[0], old_prog);

	/* The next agent comes up in another mode, which also proves the
	 * old program is detached first rather than stacked. */
	x = open_or_fail(XG_XDP_NATIVE);
	new_prog = xg_xdp_prog_id(x);
	assert_true(new_prog != old_prog);
	assert_int_equal(xg_xdp_seen_has(x, id), 1);
	assert_int_equal(attached_ids(ids, 8), 1);
	assert_int_equal(ids[0], new_prog);

	/* Same mode again: the dispatcher must not collect copies. */
	xg_xdp_close(x, false);
	x = open_or_fail(XG_XDP_NATIVE);
	assert_int_equal(attached_ids(ids, 8), 1);
	assert_int_equal(ids[0], xg_xdp_prog_id(x));
	assert_int_equal(xg_xdp_seen_has(x, id), 1);
	xg_xdp_close(x, true);
}

/* An agent that ran with XDP and comes back with --xdp=off cleans up. */
static void test_purge(void **state)
{
	struct xg_xdp_opts o;
	struct xg_xdp *x;
	uint32_t ids[8];
	char err[256], dir[PATH_MAX];

	(void)state;
	x = open_or_fail(XG_XDP_GENERIC);
	snprintf(dir, sizeof(dir), "%s", xg_xdp_pin_dir(x));
	xg_xdp_close(x, false);
	assert_int_equal(attached_ids(ids, 8), 1);
	assert_true(exists(dir));

	opts_init(&o, XG_XDP_OFF);
	assert_int_equal(xg_xdp_purge(&o, err, sizeof(err)), 0);
	assert_int_equal(attached_ids(ids, 8), 0);
	assert_false(exists(dir));
	/* Idempotent. */
	assert_int_equal(xg_xdp_purge(&o, err, sizeof(err)), 0);
}

/* --- end to end over the veth ------------------------------------------- */

static uint64_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int udp_socket_bound(const char *ip, uint16_t port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(inet_pton(AF_INET, ip, &sa.sin_addr), 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void send_ping(int fd, uint32_t seq)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(PORT) };
	struct xg_probe_msg m = {
		.type = XG_T_PING, .cluster_id = CLUSTER, .seq = seq,
		.sender_id = PEER_ID, .target_id = SELF_ID, .ts_ns = 1000 + seq,
	};
	uint8_t buf[sizeof(struct xg_probe)];

	assert_int_equal(xg_probe_encode(&m, key, buf, sizeof(buf)),
			 (ssize_t)sizeof(buf));
	inet_pton(AF_INET, NEAR_IP4, &to.sin_addr);
	assert_int_equal(sendto(fd, buf, sizeof(buf), 0, (struct sockaddr *)&to,
				sizeof(to)), (ssize_t)sizeof(buf));
}

/* Wait (bounded) for a datagram on fd; its length, or -1 on timeout. */
static ssize_t recv_wait(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) <= 0)
		return -1;
	return recv(fd, buf, cap, 0);
}

/* Wait (bounded) until the program has counted one more of a field. */
static void wait_stat(struct xg_xdp *x, size_t field, uint64_t before)
{
	struct xg_bpf_stats s;
	int i;

	for (i = 0; i < 300; i++) {
		assert_int_equal(xg_xdp_read_stats(x, &s), 0);
		if (xg_xdp_stat_get(&s, field) > before)
			return;
		usleep(10000);
	}
	fail_msg("counter %s did not move", xg_xdp_stat_names[field]);
}

static size_t stat_index(const char *name)
{
	size_t i;

	for (i = 0; xg_xdp_stat_names[i]; i++)
		if (strcmp(xg_xdp_stat_names[i], name) == 0)
			return i;
	fail_msg("no counter %s", name);
	return 0;
}

static uint64_t stat_now(struct xg_xdp *x, size_t field)
{
	struct xg_bpf_stats s;

	assert_int_equal(xg_xdp_read_stats(x, &s), 0);
	return xg_xdp_stat_get(&s, field);
}

static void end_to_end(enum xg_xdp_mode mode)
{
	const size_t answered = stat_index("ping_answered");
	const size_t stale = stat_index("ping_stale_heartbeat");
	const size_t nosock = stat_index("ping_no_socket");
	struct xg_xdp_pass *pass = NULL;
	struct xg_probe_msg ack;
	uint8_t buf[512];
	struct xg_xdp *x;
	int agent, prober, i;
	uint64_t before;
	ssize_t n;
	char err[256];

	if (mode == XG_XDP_NATIVE) {
		/* The far end needs an XDP program for native XDP_TX frames
		 * to be delivered (docs/XDP.md). */
		enter_far();
		if (xg_xdp_pass_attach(&pass, (int)if_nametoindex(FAR_IF),
				       XG_XDP_NATIVE, err, sizeof(err)))
			fail_msg("pass program: %s", err);
		enter_near();
	}
	x = open_or_fail(mode);
	agent = udp_socket_bound("0.0.0.0", PORT);
	enter_far();
	prober = udp_socket_bound(FAR_IP4, 0);
	enter_near();

	assert_int_equal(xg_xdp_set_keys(x, key, 0, NULL, 0), 0);
	/* The heartbeat is a store into the mapped map (the stale case
	 * below proves the program sees it). */
	assert_true(xg_xdp_heartbeat_is_cheap(x));
	assert_int_equal(xg_xdp_heartbeat(x, mono_now()), 0);

	/* Answered by the kernel: an ACK comes back, the agent sees nothing. */
	for (i = 1; i <= 3; i++) {
		before = stat_now(x, answered);
		send_ping(prober, (uint32_t)i);
		n = recv_wait(prober, buf, sizeof(buf), 3000);
		assert_int_equal(n, (ssize_t)sizeof(struct xg_probe));
		assert_int_equal(xg_probe_decode(buf, (size_t)n, key, NULL, &ack), 0);
		assert_int_equal(ack.type, XG_T_ACK);
		assert_int_equal(ack.seq, (uint32_t)i);
		assert_true(ack.sender_id == SELF_ID && ack.target_id == PEER_ID);
		assert_true(ack.ts_ns == 1000 + (uint64_t)i);
		assert_true(stat_now(x, answered) > before);
	}
	assert_true(recv(agent, buf, sizeof(buf), 0) < 0 && errno == EAGAIN);

	/* A hung agent (heartbeat stopped): the PING reaches userspace. */
	assert_int_equal(xg_xdp_heartbeat(x, 0), 0);
	before = stat_now(x, stale);
	send_ping(prober, 100);
	n = recv_wait(agent, buf, sizeof(buf), 3000);
	assert_int_equal(n, (ssize_t)sizeof(struct xg_probe));
	assert_true(stat_now(x, stale) > before);

	/* A dead agent (socket gone), even with a fresh heartbeat: no ACK. */
	assert_int_equal(xg_xdp_heartbeat(x, mono_now()), 0);
	close(agent);
	before = stat_now(x, nosock);
	{
		uint64_t ans = stat_now(x, answered);

		send_ping(prober, 200);
		wait_stat(x, nosock, before);
		assert_int_equal(stat_now(x, answered), ans);
	}

	close(prober);
	xg_xdp_close(x, true);
	if (pass) {
		enter_far();
		xg_xdp_pass_detach(pass);
		enter_near();
	}
}

static void test_end_to_end_generic(void **state)
{
	(void)state;
	end_to_end(XG_XDP_GENERIC);
}

static void test_end_to_end_native(void **state)
{
	(void)state;
	end_to_end(XG_XDP_NATIVE);
}

/* --- interface lookup ---------------------------------------------------- */

static void test_iface_for_addr(void **state)
{
	struct xg_addr a;
	char name[IF_NAMESIZE];
	int idx = 0;

	(void)state;
	assert_int_equal(xg_addr_parse(NEAR_IP4, 0, &a), 0);
	assert_int_equal(xg_xdp_iface_for_addr(&a, name, &idx), 0);
	assert_string_equal(name, NEAR_IF);
	assert_int_equal(idx, (int)if_nametoindex(NEAR_IF));

	assert_int_equal(xg_addr_parse("fd00:198:18::1", 0, &a), 0);
	assert_int_equal(xg_xdp_iface_for_addr(&a, name, &idx), 0);
	assert_string_equal(name, NEAR_IF);

	assert_int_equal(xg_addr_parse("198.18.0.77", 0, &a), 0);
	assert_int_equal(xg_xdp_iface_for_addr(&a, name, &idx), -EADDRNOTAVAIL);
	assert_int_equal(xg_addr_parse("0.0.0.0", 0, &a), 0);
	assert_int_equal(xg_xdp_iface_for_addr(&a, name, &idx), -EINVAL);
}

static void test_mode_names(void **state)
{
	enum xg_xdp_mode m;

	(void)state;
	assert_int_equal(xg_xdp_mode_parse("auto", &m), 0);
	assert_int_equal(m, XG_XDP_AUTO);
	assert_int_equal(xg_xdp_mode_parse("skb", &m), 0);
	assert_int_equal(m, XG_XDP_GENERIC);
	assert_int_equal(xg_xdp_mode_parse("NATIVE", &m), 0);
	assert_int_equal(m, XG_XDP_NATIVE);
	assert_int_equal(xg_xdp_mode_parse("offload", &m), -EINVAL);
	assert_string_equal(xg_xdp_mode_str(XG_XDP_GENERIC), "generic");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_mode_names, fresh),
		cmocka_unit_test_setup(test_iface_for_addr, fresh),
		cmocka_unit_test_setup(test_open_bad_interface, fresh),
		cmocka_unit_test_setup(test_open_generic, fresh),
		cmocka_unit_test_setup(test_open_native, fresh),
		cmocka_unit_test_setup(test_open_auto_uses_generic_on_veth, fresh),
		cmocka_unit_test_setup(test_reopen_reuses_maps, fresh),
		cmocka_unit_test_setup(test_purge, fresh),
		cmocka_unit_test_setup(test_end_to_end_generic, fresh),
		cmocka_unit_test_setup(test_end_to_end_native, fresh),
	};

	setup_or_skip();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
