/* SPDX-License-Identifier: MIT */
/*
 * The "xdp" reply (docs/CONTROL.md): what `xgossipctl xdp` shows.  Pure,
 * like the rest of control_render: the agent gathers the facts
 * (xg_agent_get_xdp), this only shapes them.
 */
#include "daemon/control_render.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "xdp/xdp.h"

#define NS_PER_MS 1000000ULL

/* Every map the program uses, in the order operators meet them. */
static const char *const map_names[] = {
	XG_MAP_CONFIG, XG_MAP_KEYS, XG_MAP_HEARTBEAT, XG_MAP_SEEN, XG_MAP_STATS,
};

static json_object *done(json_object *o, int err)
{
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void put_u64(json_object *o, const char *k, uint64_t v, int *err)
{
	xg_ctl_put(o, k, json_object_new_uint64(v), err);
}

static void put_null(json_object *o, const char *k, int *err)
{
	if (json_object_object_add(o, k, NULL) < 0)
		*err = -ENOMEM;
}

static json_object *summary(const struct xg_agent_xdp_info *xi)
{
	json_object *o = json_object_new_object();
	bool on = xi->reason == NULL;
	int err = 0;

	if (!o)
		return NULL;
	xg_ctl_put(o, "mode", json_object_new_string(xi->mode), &err);
	xg_ctl_put(o, "requested", json_object_new_string(xi->requested), &err);
	if (!on)
		xg_ctl_put(o, "reason", json_object_new_string(xi->reason), &err);
	xg_ctl_put(o, "instance", json_object_new_string(xi->instance), &err);
	if (on) {
		xg_ctl_put(o, "interface", json_object_new_string(xi->ifname),
			   &err);
		xg_ctl_put(o, "ifindex", json_object_new_int(xi->ifindex), &err);
		put_u64(o, "prog_id", xi->prog_id, &err);
		xg_ctl_put(o, "pin_dir", json_object_new_string(xi->pin_dir),
			   &err);
	}
	put_u64(o, "liveness_window_ms", xi->liveness_ns / NS_PER_MS, &err);
	put_u64(o, "liveness_window_max_ms", xi->liveness_max_ns / NS_PER_MS,
		&err);
	if (on) {
		put_u64(o, "liveness_window_now_ms",
			xi->liveness_now_ns / NS_PER_MS, &err);
		put_u64(o, "liveness_stretches", xi->liveness_stretches, &err);
		put_u64(o, "starved_gap_max_ms",
			xi->liveness_longest_gap_ns / NS_PER_MS, &err);
	}
	put_u64(o, "heartbeat_interval_ms",
		xi->heartbeat_interval_ns / NS_PER_MS, &err);
	if (on) {
		if (xi->heartbeat_seen)
			put_u64(o, "heartbeat_age_ms",
				xi->heartbeat_age_ns / NS_PER_MS, &err);
		else
			put_null(o, "heartbeat_age_ms", &err);
		put_u64(o, "heartbeats", xi->heartbeats, &err);
		put_u64(o, "heartbeat_errors", xi->heartbeat_errors, &err);
		if (xi->stats_err)
			xg_ctl_put(o, "counters_error",
				   json_object_new_string(strerror(-xi->stats_err)),
				   &err);
	}
	return done(o, err);
}

static json_object *maps(const char *pin_dir)
{
	json_object *o = json_object_new_object();
	char path[PATH_MAX + 32];
	size_t i;
	int err = 0;

	if (!o)
		return NULL;
	for (i = 0; i < sizeof(map_names) / sizeof(map_names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", pin_dir, map_names[i]);
		xg_ctl_put(o, map_names[i], json_object_new_string(path), &err);
	}
	return done(o, err);
}

static json_object *counters(const struct xg_bpf_stats *s)
{
	json_object *o = json_object_new_object();
	size_t i;
	int err = 0;

	if (!o)
		return NULL;
	for (i = 0; xg_xdp_stat_names[i]; i++)
		put_u64(o, xg_xdp_stat_names[i], xg_xdp_stat_get(s, i), &err);
	return done(o, err);
}

json_object *xg_ctl_xdp_json(const struct xg_agent_xdp_info *xi)
{
	json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	xg_ctl_put(o, "xdp", summary(xi), &err);
	if (!xi->reason) {
		xg_ctl_put(o, "maps", maps(xi->pin_dir), &err);
		if (!xi->stats_err)
			xg_ctl_put(o, "counters", counters(&xi->stats), &err);
	}
	return done(o, err);
}
