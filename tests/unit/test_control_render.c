/* SPDX-License-Identifier: MIT */
/* JSON shapes of the control protocol (agent/daemon/control_render.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/control_render.h"

static const int plain = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE;

static struct xg_member_info member(const char *name, uint64_t id,
				    uint8_t last_octet, enum xg_state st,
				    const char *meta)
{
	struct xg_member_info m;

	memset(&m, 0, sizeof(m));
	snprintf(m.name, sizeof(m.name), "%s", name);
	m.id = id;
	m.addr.family = 4;
	m.addr.port = 7946;
	m.addr.ip[0] = 198;
	m.addr.ip[1] = 18;
	m.addr.ip[3] = last_octet;
	m.state = st;
	m.incarnation = 7;
	m.meta_len = (uint16_t)strlen(meta);
	memcpy(m.meta, meta, m.meta_len);
	m.state_since_ns = 5 * XG_NS_PER_MS;
	return m;
}

static const char *field_str(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_string));
	return json_object_get_string(v);
}

static bool field_bool(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static int64_t field_int(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	assert_true(json_object_is_type(v, json_type_int));
	return json_object_get_int64(v);
}

static void test_format_time(void **state)
{
	char buf[XG_CTL_TIME_LEN];

	(void)state;
	assert_string_equal(xg_ctl_format_time(0, buf),
			    "1970-01-01T00:00:00.000000Z");
	assert_string_equal(xg_ctl_format_time(1700000000123456789ULL, buf),
			    "2023-11-14T22:13:20.123456Z");
	/* The largest time a uint64_t of nanoseconds can hold still fits. */
	assert_string_equal(xg_ctl_format_time(UINT64_MAX, buf),
			    "2554-07-21T23:34:33.709551Z");
}

static void test_mono_to_real(void **state)
{
	(void)state;
	/* An event 2 s ago on the monotonic clock happened 2 s ago. */
	assert_int_equal(xg_ctl_mono_to_real(8000, 10000, 1000000), 998000);
	assert_int_equal(xg_ctl_mono_to_real(12000, 10000, 1000000), 1002000);
	assert_int_equal(xg_ctl_mono_to_real(0, 10000, 5), 0); /* clamps */
}

static void test_parse_names(void **state)
{
	enum xg_state st;
	enum xg_event_type ev;

	(void)state;
	assert_int_equal(xg_ctl_parse_state("suspect", &st), 0);
	assert_int_equal(st, XG_SUSPECT);
	assert_int_equal(xg_ctl_parse_state("left", &st), 0);
	assert_int_equal(st, XG_LEFT);
	assert_int_equal(xg_ctl_parse_state("Alive", &st), -EINVAL);
	assert_int_equal(xg_ctl_parse_state(NULL, &st), -EINVAL);
	assert_int_equal(xg_ctl_parse_event("fail", &ev), 0);
	assert_int_equal(ev, XG_EV_FAIL);
	assert_int_equal(xg_ctl_parse_event("refute", &ev), 0);
	assert_int_equal(ev, XG_EV_REFUTE);
	assert_int_equal(xg_ctl_parse_event("boom", &ev), -EINVAL);
}

/* The exact bytes of one member: this is the wire contract clients parse. */
static void test_member_exact(void **state)
{
	struct xg_member_info m = member("node-a", 0x00ab00000000cd01ULL, 3,
					 XG_SUSPECT, "role=db\nzone=eu-1");
	json_object *o;

	(void)state;
	m.is_self = true;
	o = xg_ctl_member_json(&m, 1234 * XG_NS_PER_MS + 999);
	assert_non_null(o);
	assert_string_equal(json_object_to_json_string_ext(o, plain),
		"{\"name\":\"node-a\",\"id\":\"00ab00000000cd01\","
		"\"addr\":\"198.18.0.3:7946\",\"status\":\"suspect\","
		"\"incarnation\":7,\"tags\":{\"role\":\"db\",\"zone\":\"eu-1\"},"
		"\"starved\":false,\"since_ms\":1229,\"self\":true}");
	json_object_put(o);

	/* Its XG_UF_STARVED flag. */
	m.flags = XG_UF_STARVED;
	o = xg_ctl_member_json(&m, 0);
	assert_true(field_bool(o, "starved"));
	json_object_put(o);

	/* A state change in the future (clock readings race) is 0 ms ago. */
	o = xg_ctl_member_json(&m, 0);
	assert_int_equal(field_int(o, "since_ms"), 0);
	json_object_put(o);
}

static void test_member_ipv6_and_raw_meta(void **state)
{
	struct xg_member_info m = member("v6", 1, 0, XG_ALIVE, "");
	json_object *o, *tags;

	(void)state;
	m.addr.family = 6;
	memset(m.addr.ip, 0, sizeof(m.addr.ip));
	m.addr.ip[0] = 0xfd;
	m.addr.ip[15] = 1;
	m.meta_len = 3;
	memcpy(m.meta, "\x01\x02\xff", 3); /* not tags text */
	o = xg_ctl_member_json(&m, 0);
	assert_non_null(o);
	assert_string_equal(field_str(o, "addr"), "[fd00::1]:7946");
	assert_true(json_object_object_get_ex(o, "tags", &tags));
	assert_int_equal(json_object_object_length(tags), 0);
	assert_string_equal(field_str(o, "meta"), "0102ff");
	json_object_put(o);

	/* Valid tags: no "meta" field. */
	m.meta_len = 0;
	o = xg_ctl_member_json(&m, 0);
	assert_false(json_object_object_get_ex(o, "meta", NULL));
	json_object_put(o);
}

static void test_members_sorted_and_filtered(void **state)
{
	struct xg_member_info m[4] = {
		member("charlie", 3, 3, XG_ALIVE, ""),
		member("alpha", 1, 1, XG_DEAD, ""),
		member("bravo", 2, 2, XG_ALIVE, "a=1"),
		member("alpha", 0, 4, XG_ALIVE, ""), /* same name, lower id */
	};
	json_object *arr;

	(void)state;
	arr = xg_ctl_members_json(m, 4, ~0u, 0);
	assert_non_null(arr);
	assert_int_equal(json_object_array_length(arr), 4);
	assert_string_equal(field_str(json_object_array_get_idx(arr, 0), "id"),
			    "0000000000000000");
	assert_string_equal(field_str(json_object_array_get_idx(arr, 1), "id"),
			    "0000000000000001");
	assert_string_equal(field_str(json_object_array_get_idx(arr, 2), "name"),
			    "bravo");
	assert_string_equal(field_str(json_object_array_get_idx(arr, 3), "name"),
			    "charlie");
	json_object_put(arr);

	arr = xg_ctl_members_json(m, 4, 1u << XG_DEAD, 0);
	assert_int_equal(json_object_array_length(arr), 1);
	assert_string_equal(field_str(json_object_array_get_idx(arr, 0),
				      "status"), "dead");
	json_object_put(arr);

	arr = xg_ctl_members_json(m, 4, 1u << XG_LEFT, 0);
	assert_int_equal(json_object_array_length(arr), 0);
	assert_string_equal(json_object_to_json_string_ext(arr, plain), "[]");
	json_object_put(arr);

	arr = xg_ctl_members_json(NULL, 0, ~0u, 0);
	assert_int_equal(json_object_array_length(arr), 0);
	json_object_put(arr);
}

static void test_event(void **state)
{
	struct xg_member_info m = member("n1", 0x1122334455667788ULL, 9,
					 XG_DEAD, "k=v");
	struct xg_event ev = { .type = XG_EV_FAIL, .member = &m,
			       .now_ns = 10 * 1000000000ULL };
	json_object *o, *tags;

	(void)state;
	/* Rendered 1 s after the event; wall clock now 2023-11-14T22:13:21. */
	o = xg_ctl_event_json(&ev, 11 * 1000000000ULL,
			      1700000001000000000ULL);
	assert_non_null(o);
	assert_string_equal(field_str(o, "event"), "fail");
	assert_string_equal(field_str(o, "time"), "2023-11-14T22:13:20.000000Z");
	assert_string_equal(field_str(o, "name"), "n1");
	assert_string_equal(field_str(o, "id"), "1122334455667788");
	assert_string_equal(field_str(o, "addr"), "198.18.0.9:7946");
	assert_string_equal(field_str(o, "status"), "dead");
	assert_int_equal(field_int(o, "incarnation"), 7);
	assert_true(json_object_object_get_ex(o, "tags", &tags));
	assert_string_equal(field_str(tags, "k"), "v");
	json_object_put(o);
}

static void test_info(void **state)
{
	struct xg_member_info self = member("me", 42, 1, XG_ALIVE, "zone=a");
	struct xg_core_stats cs;
	struct xg_agent_info ai = {
		.version = "9.9.9", .bind = "198.18.0.1:7946",
		.xdp_mode = "off", .state_dir = NULL, .cluster = "prod",
		.cluster_id = 0xfeedfacecafebeefULL,
		.started_real_ns = 1700000000000000000ULL,
		.uptime_ns = 61 * 1000000000ULL + 5,
		.udp_rx_packets = 11, .pushpull_failed = 66,
		.rx_unsealed = 5, .tls_refused = 4, .tls = true, .keys = 2,
		.pushpull_shed = 3,
		.cpu_limit_us = 1000, .cpu_limited = true,
		.primary_key_id = 77,
	};
	struct xg_ctl_info_src src = {
		.self = &self, .core = &cs, .agent = &ai,
		.counts = { 3, 2, 1, 0 },
	};
	json_object *o, *node, *agent, *members, *stats, *v;

	(void)state;
	memset(&cs, 0, sizeof(cs));
	cs.pings_sent = 1;
	cs.bytes_recv = UINT64_MAX; /* 64-bit counters stay exact */
	o = xg_ctl_info_json(&src);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "node", &node));
	assert_string_equal(field_str(node, "name"), "me");
	assert_string_equal(field_str(node, "id"), "000000000000002a");
	assert_string_equal(field_str(node, "addr"), "198.18.0.1:7946");
	assert_int_equal(field_int(node, "incarnation"), 7);
	assert_true(json_object_object_get_ex(node, "tags", &v));
	assert_string_equal(field_str(v, "zone"), "a");

	assert_true(json_object_object_get_ex(o, "agent", &agent));
	assert_string_equal(field_str(agent, "version"), "9.9.9");
	assert_string_equal(field_str(agent, "bind"), "198.18.0.1:7946");
	assert_string_equal(field_str(agent, "xdp"), "off");
	assert_true(json_object_object_get_ex(agent, "state_dir", &v));
	assert_null(v);
	assert_string_equal(field_str(agent, "cluster"), "prod");
	assert_string_equal(field_str(agent, "cluster_id"), "feedfacecafebeef");
	assert_string_equal(field_str(agent, "started"),
			    "2023-11-14T22:13:20.000000Z");
	assert_int_equal(field_int(agent, "uptime_s"), 61);

	assert_true(json_object_object_get_ex(o, "members", &members));
	assert_int_equal(field_int(members, "alive"), 3);
	assert_int_equal(field_int(members, "suspect"), 2);
	assert_int_equal(field_int(members, "dead"), 1);
	assert_int_equal(field_int(members, "left"), 0);

	assert_true(json_object_object_get_ex(o, "stats", &stats));
	/* Every core counter and the eleven agent counters, nothing else. */
	assert_int_equal(json_object_object_length(stats),
			 sizeof(struct xg_core_stats) / sizeof(uint64_t) + 11);
	assert_int_equal(field_int(stats, "pushpull_shed"), 3);
	assert_int_equal(field_int(stats, "rx_unsealed"), 5);
	assert_int_equal(field_int(stats, "tls_refused"), 4);
	assert_true(field_bool(agent, "tls"));
	assert_int_equal(field_int(agent, "cpu_limit_us"), 1000);
	assert_true(field_bool(agent, "cpu_limited"));
	assert_int_equal(field_int(agent, "keys"), 2);
	assert_int_equal(field_int(agent, "primary_key_id"), 77);
	assert_int_equal(field_int(stats, "pings_sent"), 1);
	assert_int_equal(field_int(stats, "udp_rx_packets"), 11);
	assert_int_equal(field_int(stats, "pushpull_failed"), 66);
	assert_true(json_object_object_get_ex(stats, "bytes_recv", &v));
	assert_true(json_object_get_uint64(v) == UINT64_MAX);
	assert_non_null(strstr(json_object_to_json_string_ext(stats, plain),
			       "\"bytes_recv\":18446744073709551615"));
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_mono_to_real),
		cmocka_unit_test(test_parse_names),
		cmocka_unit_test(test_member_exact),
		cmocka_unit_test(test_member_ipv6_and_raw_meta),
		cmocka_unit_test(test_members_sorted_and_filtered),
		cmocka_unit_test(test_event),
		cmocka_unit_test(test_info),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
