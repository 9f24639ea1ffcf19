/* SPDX-License-Identifier: MIT */
/*
 * JSON shapes of the control protocol (docs/CONTROL.md): members, events and
 * the info report.  Pure functions of their inputs (times are passed in), so
 * the wire format can be tested without a socket, a loop or a running core.
 *
 * Every function returns a new json-c object the caller owns (put it with
 * json_object_put), or NULL when memory ran out.
 */
#ifndef XGOSSIP_DAEMON_CONTROL_RENDER_H
#define XGOSSIP_DAEMON_CONTROL_RENDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "agent.h"
#include "core/swim.h"

/* "2024-05-01T12:00:00.123456Z" plus NUL. */
#define XG_CTL_TIME_LEN 28

/* CLOCK_REALTIME nanoseconds as ISO 8601 UTC with microseconds. */
char *xg_ctl_format_time(uint64_t real_ns, char out[XG_CTL_TIME_LEN]);

/* Monotonic instant `mono_ns` expressed on the wall clock, given one pair
 * of readings of both clocks taken now. */
uint64_t xg_ctl_mono_to_real(uint64_t mono_ns, uint64_t now_mono_ns,
			     uint64_t now_real_ns);

/* Names used on the wire <-> enums.  0 or -EINVAL. */
int xg_ctl_parse_state(const char *name, enum xg_state *out);
int xg_ctl_parse_event(const char *name, enum xg_event_type *out);

/* {"k":"v",...} from metadata.  Metadata that is not valid tags text gives
 * an empty object and *invalid = true (the caller shows it raw). */
json_object *xg_ctl_tags_json(const uint8_t *meta, size_t len, bool *invalid);

/* One member of a "members" reply (see docs/CONTROL.md for the fields);
 * since_ms is measured against now_mono_ns. */
json_object *xg_ctl_member_json(const struct xg_member_info *m,
				uint64_t now_mono_ns);

/* The "members" array: m[] is sorted by name in place, members whose state
 * is not in state_mask (bit 1 << state) are left out. */
json_object *xg_ctl_members_json(struct xg_member_info *m, size_t n,
				 unsigned state_mask, uint64_t now_mono_ns);

/* One monitor line: {"event":..,"time":..,member fields..}. */
json_object *xg_ctl_event_json(const struct xg_event *ev,
			       uint64_t now_mono_ns, uint64_t now_real_ns);

/* What "info" reports, gathered by the caller. */
struct xg_ctl_info_src {
	const struct xg_member_info *self;
	const struct xg_core_stats  *core;
	const struct xg_agent_info  *agent;
	size_t counts[4]; /* alive, suspect, dead, left */
};

/* The body of an "info" reply: {"node":..,"agent":..,"members":..,
 * "stats":..}, without "ok". */
json_object *xg_ctl_info_json(const struct xg_ctl_info_src *src);

/* The body of an "xdp" reply, without "ok": {"xdp":{mode, requested,
 * reason or interface.., heartbeat..},"maps":{name: pin path},
 * "counters":{name: value}} (docs/CONTROL.md).  With XDP off only "xdp",
 * holding mode "off" and the reason. */
json_object *xg_ctl_xdp_json(const struct xg_agent_xdp_info *xi);

/* Add val under key, taking ownership of val in every case.  Any failure
 * (including a NULL val from a failed constructor) sets *err = -ENOMEM, so
 * long builders check once at the end. */
void xg_ctl_put(json_object *obj, const char *key, json_object *val, int *err);

#endif /* XGOSSIP_DAEMON_CONTROL_RENDER_H */
