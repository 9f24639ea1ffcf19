/* SPDX-License-Identifier: MIT */
#include "daemon/control_render.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/tags.h"

static const enum xg_state all_states[] = {
	XG_ALIVE, XG_SUSPECT, XG_DEAD, XG_LEFT,
};

void xg_ctl_put(json_object *obj, const char *key, json_object *val, int *err)
{
	if (!val) {
		*err = -ENOMEM;
		return;
	}
	if (json_object_object_add(obj, key, val) < 0) {
		json_object_put(val);
		*err = -ENOMEM;
	}
}

/* A string that may legitimately be absent (say, no state dir): JSON null
 * then, which json-c spells as adding a NULL value. */
static void put_str(json_object *obj, const char *key, const char *s, int *err)
{
	if (!s) {
		if (json_object_object_add(obj, key, NULL) < 0)
			*err = -ENOMEM;
		return;
	}
	xg_ctl_put(obj, key, json_object_new_string(s), err);
}

/* Node ids and the cluster id are 64-bit: as JSON numbers they would lose
 * precision in every client that parses numbers as doubles. */
static json_object *hex64(uint64_t v)
{
	char buf[17];

	snprintf(buf, sizeof(buf), "%016" PRIx64, v);
	return json_object_new_string(buf);
}

char *xg_ctl_format_time(uint64_t real_ns, char out[XG_CTL_TIME_LEN])
{
	time_t secs = (time_t)(real_ns / 1000000000ULL);
	unsigned usec = (unsigned)(real_ns % 1000000000ULL / 1000);
	struct tm tm;
	size_t n;

	/* 19 characters: uint64_t nanoseconds end in the year 2554. */
	if (!gmtime_r(&secs, &tm) ||
	    (n = strftime(out, XG_CTL_TIME_LEN, "%Y-%m-%dT%H:%M:%S", &tm)) != 19) {
		usec = 0;
		n = 19;
		memcpy(out, "1970-01-01T00:00:00", n);
	}
	snprintf(out + n, XG_CTL_TIME_LEN - n, ".%06uZ", usec % 1000000u);
	return out;
}

uint64_t xg_ctl_mono_to_real(uint64_t mono_ns, uint64_t now_mono_ns,
			     uint64_t now_real_ns)
{
	if (mono_ns <= now_mono_ns) {
		uint64_t ago = now_mono_ns - mono_ns;

		return ago < now_real_ns ? now_real_ns - ago : 0;
	}
	return now_real_ns + (mono_ns - now_mono_ns);
}

int xg_ctl_parse_state(const char *name, enum xg_state *out)
{
	size_t i;

	for (i = 0; name && i < sizeof(all_states) / sizeof(all_states[0]); i++) {
		if (strcmp(name, xg_state_name(all_states[i])) == 0) {
			*out = all_states[i];
			return 0;
		}
	}
	return -EINVAL;
}

int xg_ctl_parse_event(const char *name, enum xg_event_type *out)
{
	int t;

	for (t = XG_EV_JOIN; name && t <= XG_EV_REFUTE; t++) {
		if (strcmp(name, xg_event_name((enum xg_event_type)t)) == 0) {
			*out = (enum xg_event_type)t;
			return 0;
		}
	}
	return -EINVAL;
}

json_object *xg_ctl_tags_json(const uint8_t *meta, size_t len, bool *invalid)
{
	struct xg_tags t;
	json_object *o = json_object_new_object();
	int err = 0;
	size_t i;

	*invalid = false;
	if (!o)
		return NULL;
	err = xg_tags_decode(meta, len, &t);
	if (err == -EBADMSG) {
		*invalid = true;
		err = 0;
	} else {
		for (i = 0; i < t.n && !err; i++)
			xg_ctl_put(o, t.keys[i], json_object_new_string(t.vals[i]),
				   &err);
	}
	xg_tags_free(&t);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static json_object *hex_bytes(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = malloc(2 * n + 1);
	json_object *o;
	size_t i;

	if (!s)
		return NULL;
	for (i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	o = json_object_new_string_len(s, (int)(2 * n));
	free(s);
	return o;
}

/* The member fields shared by "members" entries, monitor events and
 * info's "node". */
static void put_member(json_object *o, const struct xg_member_info *m,
		       bool with_status, int *err)
{
	char addr[XG_ADDR_STRLEN];
	bool invalid;

	xg_ctl_put(o, "name", json_object_new_string_len(m->name,
			(int)strnlen(m->name, sizeof(m->name))), err);
	xg_ctl_put(o, "id", hex64(m->id), err);
	xg_ctl_put(o, "addr", json_object_new_string(
			xg_addr_format(&m->addr, addr, sizeof(addr))), err);
	if (with_status)
		xg_ctl_put(o, "status",
			   json_object_new_string(xg_state_name(m->state)), err);
	xg_ctl_put(o, "incarnation", json_object_new_int64(m->incarnation),
		   err);
	xg_ctl_put(o, "tags", xg_ctl_tags_json(m->meta, m->meta_len, &invalid),
		   err);
	/* The member said it is starved of CPU (docs/OPERATIONS.md): it is
	 * suspected with the longest timeout, and not asked for push/pull. */
	xg_ctl_put(o, "starved",
		   json_object_new_boolean(!!(m->flags & XG_UF_STARVED)), err);
	/* Metadata written by something other than the tags encoder is shown
	 * as it is rather than silently hidden behind an empty tag set. */
	if (invalid)
		xg_ctl_put(o, "meta", hex_bytes(m->meta, m->meta_len), err);
}

static json_object *finish(json_object *o, int err)
{
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *xg_ctl_member_json(const struct xg_member_info *m,
				uint64_t now_mono_ns)
{
	json_object *o = json_object_new_object();
	uint64_t since = 0;
	int err = 0;

	if (!o)
		return NULL;
	if (now_mono_ns > m->state_since_ns)
		since = (now_mono_ns - m->state_since_ns) / XG_NS_PER_MS;
	put_member(o, m, true, &err);
	xg_ctl_put(o, "since_ms", json_object_new_uint64(since), &err);
	xg_ctl_put(o, "self", json_object_new_boolean(m->is_self), &err);
	return finish(o, err);
}

static int by_name(const void *pa, const void *pb)
{
	const struct xg_member_info *a = pa, *b = pb;
	int c = strncmp(a->name, b->name, sizeof(a->name));

	if (c)
		return c;
	return a->id < b->id ? -1 : a->id > b->id;
}

json_object *xg_ctl_members_json(struct xg_member_info *m, size_t n,
				 unsigned state_mask, uint64_t now_mono_ns)
{
	json_object *arr = json_object_new_array();
	size_t i;

	if (!arr)
		return NULL;
	if (n > 1)
		qsort(m, n, sizeof(*m), by_name);
	for (i = 0; i < n; i++) {
		json_object *o;

		if (!(state_mask & (1u << m[i].state)))
			continue;
		o = xg_ctl_member_json(&m[i], now_mono_ns);
		if (!o || json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

json_object *xg_ctl_event_json(const struct xg_event *ev,
			       uint64_t now_mono_ns, uint64_t now_real_ns)
{
	json_object *o = json_object_new_object();
	char when[XG_CTL_TIME_LEN];
	int err = 0;

	if (!o)
		return NULL;
	xg_ctl_format_time(xg_ctl_mono_to_real(ev->now_ns, now_mono_ns,
					       now_real_ns), when);
	xg_ctl_put(o, "event", json_object_new_string(xg_event_name(ev->type)),
		   &err);
	xg_ctl_put(o, "time", json_object_new_string(when), &err);
	put_member(o, ev->member, true, &err);
	return finish(o, err);
}

static json_object *info_node(const struct xg_member_info *self)
{
	json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	put_member(o, self, false, &err);
	return finish(o, err);
}

static json_object *info_agent(const struct xg_agent_info *ai)
{
	json_object *o = json_object_new_object();
	char started[XG_CTL_TIME_LEN];
	int err = 0;

	if (!o)
		return NULL;
	put_str(o, "version", ai->version, &err);
	put_str(o, "bind", ai->bind, &err);
	put_str(o, "xdp", ai->xdp_mode, &err);
	put_str(o, "state_dir", ai->state_dir, &err);
	put_str(o, "cluster", ai->cluster, &err);
	xg_ctl_put(o, "cluster_id", hex64(ai->cluster_id), &err);
	xg_ctl_put(o, "started", json_object_new_string(
			xg_ctl_format_time(ai->started_real_ns, started)), &err);
	xg_ctl_put(o, "uptime_s",
		   json_object_new_uint64(ai->uptime_ns / 1000000000ULL), &err);
	xg_ctl_put(o, "cpu_limit_us", json_object_new_uint64(ai->cpu_limit_us),
		   &err);
	xg_ctl_put(o, "cpu_limited", json_object_new_boolean(ai->cpu_limited),
		   &err);
	xg_ctl_put(o, "tls", json_object_new_boolean(ai->tls), &err);
	xg_ctl_put(o, "keys", json_object_new_int((int)ai->keys), &err);
	xg_ctl_put(o, "primary_key_id",
		   json_object_new_int((int)ai->primary_key_id), &err);
	return finish(o, err);
}

static json_object *info_counts(const size_t counts[4])
{
	json_object *o = json_object_new_object();
	int err = 0;
	size_t i;

	if (!o)
		return NULL;
	for (i = 0; i < 4; i++)
		xg_ctl_put(o, xg_state_name(all_states[i]),
			   json_object_new_uint64(counts[i]), &err);
	return finish(o, err);
}

/* Counters are listed by hand (C has no reflection).  The unit test checks
 * that "stats" has as many keys as struct xg_core_stats has counters, so a
 * counter added to the core without being added here fails a test. */
#define STAT(s, f) { #f, offsetof(s, f) }
static const struct stat_field {
	const char *name;
	size_t      off;
} core_fields[] = {
	STAT(struct xg_core_stats, pings_sent),
	STAT(struct xg_core_stats, pings_recv),
	STAT(struct xg_core_stats, acks_sent),
	STAT(struct xg_core_stats, acks_recv),
	STAT(struct xg_core_stats, ping_reqs_sent),
	STAT(struct xg_core_stats, ping_reqs_recv),
	STAT(struct xg_core_stats, nacks_sent),
	STAT(struct xg_core_stats, nacks_recv),
	STAT(struct xg_core_stats, gossip_sent),
	STAT(struct xg_core_stats, gossip_recv),
	STAT(struct xg_core_stats, updates_applied),
	STAT(struct xg_core_stats, updates_stale),
	STAT(struct xg_core_stats, probes_failed),
	STAT(struct xg_core_stats, suspicions_raised),
	STAT(struct xg_core_stats, refutes),
	STAT(struct xg_core_stats, pushpulls),
	STAT(struct xg_core_stats, rx_bad),
	STAT(struct xg_core_stats, tx_errors),
	STAT(struct xg_core_stats, bytes_sent),
	STAT(struct xg_core_stats, bytes_recv),
	STAT(struct xg_core_stats, pings_not_for_us),
	STAT(struct xg_core_stats, pings_refused),
	STAT(struct xg_core_stats, lhm),
}, agent_fields[] = {
	STAT(struct xg_agent_info, udp_rx_packets),
	STAT(struct xg_agent_info, udp_tx_packets),
	STAT(struct xg_agent_info, tcp_accepts),
	STAT(struct xg_agent_info, tcp_connects),
	STAT(struct xg_agent_info, pushpull_ok),
	STAT(struct xg_agent_info, pushpull_failed),
	STAT(struct xg_agent_info, rx_unsealed),
	STAT(struct xg_agent_info, rx_limited),
	STAT(struct xg_agent_info, tls_refused),
	STAT(struct xg_agent_info, name_mismatch),
	STAT(struct xg_agent_info, pushpull_shed),
};
#undef STAT

static void put_fields(json_object *o, const void *base,
		       const struct stat_field *f, size_t n, int *err)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t v;

		memcpy(&v, (const char *)base + f[i].off, sizeof(v));
		xg_ctl_put(o, f[i].name, json_object_new_uint64(v), err);
	}
}

static json_object *info_stats(const struct xg_core_stats *cs,
			       const struct xg_agent_info *ai)
{
	json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	put_fields(o, cs, core_fields,
		   sizeof(core_fields) / sizeof(core_fields[0]), &err);
	put_fields(o, ai, agent_fields,
		   sizeof(agent_fields) / sizeof(agent_fields[0]), &err);
	return finish(o, err);
}

json_object *xg_ctl_info_json(const struct xg_ctl_info_src *src)
{
	json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	xg_ctl_put(o, "node", info_node(src->self), &err);
	xg_ctl_put(o, "agent", info_agent(src->agent), &err);
	xg_ctl_put(o, "members", info_counts(src->counts), &err);
	xg_ctl_put(o, "stats", info_stats(src->core, src->agent), &err);
	return finish(o, err);
}
