/* SPDX-License-Identifier: MIT */
/* The "xdp" reply of the control protocol (control_render_xdp.c): exact
 * shape with XDP on and off, every counter by name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/control_render.h"
#include "xdp/xdp.h"

static const int plain = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

static struct xg_agent_xdp_info on_info(void)
{
	struct xg_agent_xdp_info xi;
	uint64_t *v = (uint64_t *)&xi.stats;
	size_t i;

	memset(&xi, 0, sizeof(xi));
	xi.mode = "native";
	xi.requested = "auto";
	xi.instance = "n1";
	xi.liveness_ns = 2000000000ULL;
	xi.liveness_max_ns = 8000000000ULL;
	xi.liveness_now_ns = 3500000000ULL;
	xi.liveness_stretches = 2;
	xi.liveness_longest_gap_ns = 1500000000ULL;
	xi.heartbeat_interval_ns = 100000000ULL;
	xi.ifname = "eth0";
	xi.ifindex = 2;
	xi.prog_id = 57;
	xi.pin_dir = "/sys/fs/bpf/xgossip/n1";
	xi.heartbeat_seen = true;
	xi.heartbeat_age_ns = 42999999;
	xi.heartbeats = 1234;
	xi.heartbeat_errors = 1;
	/* Counter i holds 100 + i: a field swap would show. */
	for (i = 0; i < sizeof(xi.stats) / sizeof(*v); i++)
		v[i] = 100 + i;
	return xi;
}

static void test_on(void **state)
{
	struct xg_agent_xdp_info xi = on_info();
	json_object *o = xg_ctl_xdp_json(&xi), *c, *v;
	size_t i, n = 0;

	(void)state;
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "xdp", &v));
	assert_string_equal(json_object_to_json_string_ext(v, plain),
		"{\"mode\":\"native\",\"requested\":\"auto\",\"instance\":\"n1\","
		"\"interface\":\"eth0\",\"ifindex\":2,\"prog_id\":57,"
		"\"pin_dir\":\"/sys/fs/bpf/xgossip/n1\","
		"\"liveness_window_ms\":2000,\"liveness_window_max_ms\":8000,"
		"\"liveness_window_now_ms\":3500,\"liveness_stretches\":2,"
		"\"starved_gap_max_ms\":1500,\"heartbeat_interval_ms\":100,"
		"\"heartbeat_age_ms\":42,\"heartbeats\":1234,"
		"\"heartbeat_errors\":1}");
	assert_true(json_object_object_get_ex(o, "maps", &v));
	assert_string_equal(json_object_to_json_string_ext(v, plain),
		"{\"xg_config\":\"/sys/fs/bpf/xgossip/n1/xg_config\","
		"\"xg_keys\":\"/sys/fs/bpf/xgossip/n1/xg_keys\","
		"\"xg_heartbeat\":\"/sys/fs/bpf/xgossip/n1/xg_heartbeat\","
		"\"xg_seen\":\"/sys/fs/bpf/xgossip/n1/xg_seen\","
		"\"xg_stats\":\"/sys/fs/bpf/xgossip/n1/xg_stats\"}");
	assert_true(json_object_object_get_ex(o, "counters", &c));
	for (i = 0; xg_xdp_stat_names[i]; i++) {
		assert_true(json_object_object_get_ex(c, xg_xdp_stat_names[i], &v));
		assert_int_equal(json_object_get_uint64(v), 100 + i);
	}
	/* Every counter of the map, and nothing else. */
	json_object_object_foreach(c, k, val) {
		(void)k;
		(void)val;
		n++;
	}
	assert_int_equal(n, sizeof(struct xg_bpf_stats) / sizeof(uint64_t));
	assert_int_equal(n, i);
	assert_true(json_object_object_get_ex(c, "ping_answered", &v));
	json_object_put(o);
}

static void test_no_heartbeat_yet_and_stats_error(void **state)
{
	struct xg_agent_xdp_info xi = on_info();
	json_object *o, *x, *v;

	(void)state;
	xi.heartbeat_seen = false;
	xi.stats_err = -EPERM;
	o = xg_ctl_xdp_json(&xi);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "xdp", &x));
	assert_true(json_object_object_get_ex(x, "heartbeat_age_ms", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(x, "counters_error", &v));
	assert_string_equal(json_object_get_string(v), strerror(EPERM));
	assert_false(json_object_object_get_ex(o, "counters", &v));
	assert_true(json_object_object_get_ex(o, "maps", &v));
	json_object_put(o);
}

static void test_off(void **state)
{
	struct xg_agent_xdp_info xi;
	json_object *o;

	(void)state;
	memset(&xi, 0, sizeof(xi));
	xi.mode = "off";
	xi.requested = "auto";
	xi.reason = "xdp on eth0: native attach: Operation not supported";
	xi.instance = "n1";
	xi.liveness_ns = 2000000000ULL;
	xi.liveness_max_ns = 8000000000ULL;
	xi.heartbeat_interval_ns = 100000000ULL;
	o = xg_ctl_xdp_json(&xi);
	assert_non_null(o);
	assert_string_equal(json_object_to_json_string_ext(o, plain),
		"{\"xdp\":{\"mode\":\"off\",\"requested\":\"auto\","
		"\"reason\":\"xdp on eth0: native attach: Operation not "
		"supported\",\"instance\":\"n1\",\"liveness_window_ms\":2000,"
		"\"liveness_window_max_ms\":8000,\"heartbeat_interval_ms\":100}}");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_on),
		cmocka_unit_test(test_no_heartbeat_yet_and_stats_error),
		cmocka_unit_test(test_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
