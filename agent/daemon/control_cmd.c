/* SPDX-License-Identifier: MIT */
/*
 * What each control request does (docs/CONTROL.md).  A handler validates
 * its arguments, asks the agent or reads the core, and queues exactly one
 * reply -- except "join", whose reply comes later from the agent's
 * callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/control_int.h"
#include "daemon/evhandler.h"
#include "daemon/control_render.h"
#include "util/tags.h"

/* Addresses in one join request; more is a mistake, not a use case. */
#define JOIN_MAX_ADDRS 256
/* Tags in one tags-set/tags-del; metadata cannot hold more anyway. */
#define TAGS_MAX_ARGS  256

#define ALL_STATES ((1u << XG_ALIVE) | (1u << XG_SUSPECT) | \
		    (1u << XG_DEAD) | (1u << XG_LEFT))

struct ctl_join {
	struct ctl_client *client; /* NULL once the client went away */
	json_object       *req;    /* keeps the address strings alive */
};

void ctl_orphan_join(struct ctl_client *c)
{
	if (c->join) {
		c->join->client = NULL;
		c->join = NULL;
	}
}

/* {"ok":true} followed by the caller's fields, ready for more. */
json_object *ctl_ok_reply(void)
{
	json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	xg_ctl_put(o, "ok", json_object_new_boolean(1), &err);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Send reply (may be NULL after a failed build) and release it. */
void ctl_send_reply(struct ctl_client *c, json_object *reply, int err)
{
	if (!reply || err)
		ctl_send_error(c, "out of memory");
	else
		ctl_send_json(c, reply);
	json_object_put(reply);
}

static json_object *self_tags(struct xg_control *ctl)
{
	const struct xg_member_info *self =
		xg_core_self(xg_agent_core(ctl->agent));
	bool invalid;

	return xg_ctl_tags_json(self->meta, self->meta_len, &invalid);
}

/* req[key] as an array of strings.  *out points into req (valid while req
 * lives) and is malloc'd; the caller frees it.  0, or -EINVAL after an
 * error reply has been sent. */
int ctl_string_array(struct ctl_client *c, json_object *req,
		     const char *key, size_t max, bool required,
		     const char ***out, size_t *n)
{
	json_object *arr;
	size_t i, len;

	*out = NULL;
	*n = 0;
	if (!json_object_object_get_ex(req, key, &arr) || !arr) {
		if (!required)
			return 0;
		ctl_send_error(c, "\"%s\" is required", key);
		return -EINVAL;
	}
	if (!json_object_is_type(arr, json_type_array)) {
		ctl_send_error(c, "\"%s\" must be an array of strings", key);
		return -EINVAL;
	}
	len = json_object_array_length(arr);
	if (len == 0 || len > max) {
		ctl_send_error(c, "\"%s\" must hold 1 to %zu strings", key, max);
		return -EINVAL;
	}
	*out = calloc(len, sizeof(**out));
	if (!*out) {
		ctl_send_error(c, "out of memory");
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		json_object *s = json_object_array_get_idx(arr, i);

		/* A NUL inside would silently cut the text short. */
		if (!json_object_is_type(s, json_type_string) ||
		    strlen(json_object_get_string(s)) !=
		    (size_t)json_object_get_string_len(s)) {
			ctl_send_error(c, "\"%s\" must be an array of strings",
				       key);
			free(*out);
			*out = NULL;
			return -EINVAL;
		}
		(*out)[i] = json_object_get_string(s);
	}
	*n = len;
	return 0;
}

/* ---- members ----------------------------------------------------------- */

static void cmd_members(struct ctl_client *c, json_object *req)
{
	struct xg_core *core = xg_agent_core(c->ctl->agent);
	struct xg_member_info *m;
	unsigned mask = ALL_STATES;
	json_object *status, *reply;
	size_t i, n, k = 0;
	int err = 0;

	if (json_object_object_get_ex(req, "status", &status) && status) {
		enum xg_state st;

		if (!json_object_is_type(status, json_type_string) ||
		    xg_ctl_parse_state(json_object_get_string(status), &st)) {
			ctl_send_error(c, "\"status\" must be one of alive, "
				       "suspect, dead, left");
			return;
		}
		mask = 1u << st;
	}
	n = xg_core_member_count(core);
	m = malloc((n ? n : 1) * sizeof(*m));
	if (!m) {
		ctl_send_error(c, "out of memory");
		return;
	}
	for (i = 0; i < n; i++)
		if (xg_core_member_at(core, i, &m[k]) == 0)
			k++;
	reply = ctl_ok_reply();
	if (reply)
		xg_ctl_put(reply, "members",
			   xg_ctl_members_json(m, k, mask, xg_now_mono_ns()),
			   &err);
	free(m);
	ctl_send_reply(c, reply, err);
}

/* ---- info -------------------------------------------------------------- */

static void put_control_stats(struct xg_control *ctl, json_object *stats,
			      int *err)
{
	xg_ctl_put(stats, "control_clients",
		   json_object_new_uint64(ctl->nclients), err);
	xg_ctl_put(stats, "control_accepted",
		   json_object_new_uint64(ctl->accepted), err);
	xg_ctl_put(stats, "control_refused",
		   json_object_new_uint64(ctl->refused), err);
	xg_ctl_put(stats, "control_monitors_dropped",
		   json_object_new_uint64(ctl->monitors_dropped), err);
}

static json_object *evh_json(struct xg_agent *a)
{
	struct xg_evh_stats st;
	json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return NULL;
	xg_agent_evh_stats(a, &st);
	xg_ctl_put(o, "handlers", json_object_new_uint64(st.handlers), &err);
	xg_ctl_put(o, "run", json_object_new_uint64(st.run), &err);
	xg_ctl_put(o, "failed", json_object_new_uint64(st.failed), &err);
	xg_ctl_put(o, "killed", json_object_new_uint64(st.killed), &err);
	xg_ctl_put(o, "dropped", json_object_new_uint64(st.dropped), &err);
	xg_ctl_put(o, "running", json_object_new_uint64(st.running), &err);
	xg_ctl_put(o, "queued", json_object_new_uint64(st.queued), &err);
	xg_ctl_put(o, "queued_bytes", json_object_new_uint64(st.queued_bytes),
		   &err);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void cmd_info(struct ctl_client *c, json_object *req)
{
	struct xg_control *ctl = c->ctl;
	struct xg_core *core = xg_agent_core(ctl->agent);
	struct xg_agent_info ai;
	struct xg_ctl_info_src src;
	json_object *body, *reply, *stats;
	int err = 0;

	(void)req;
	memset(&ai, 0, sizeof(ai));
	xg_agent_get_info(ctl->agent, &ai);
	src.self = xg_core_self(core);
	src.core = xg_core_stats(core);
	src.agent = &ai;
	src.counts[0] = xg_core_count_state(core, XG_ALIVE);
	src.counts[1] = xg_core_count_state(core, XG_SUSPECT);
	src.counts[2] = xg_core_count_state(core, XG_DEAD);
	src.counts[3] = xg_core_count_state(core, XG_LEFT);
	body = xg_ctl_info_json(&src);
	reply = ctl_ok_reply();
	if (!body || !reply) {
		json_object_put(body);
		ctl_send_reply(c, reply, -ENOMEM);
		return;
	}
	if (json_object_object_get_ex(body, "stats", &stats))
		put_control_stats(ctl, stats, &err);
	xg_ctl_put(body, "event_handlers", evh_json(ctl->agent), &err);
	if (xg_agent_msg_stats(ctl->agent))
		xg_ctl_put(body, "messages", ctl_msg_stats_json(
				xg_agent_msg_stats(ctl->agent)), &err);
	json_object_object_foreach(body, key, val)
		xg_ctl_put(reply, key, json_object_get(val), &err);
	json_object_put(body);
	ctl_send_reply(c, reply, err);
}

/* ---- xdp --------------------------------------------------------------- */

static void cmd_xdp(struct ctl_client *c, json_object *req)
{
	struct xg_agent_xdp_info xi;
	json_object *body, *reply;
	int err = 0;

	(void)req;
	xg_agent_get_xdp(c->ctl->agent, &xi);
	body = xg_ctl_xdp_json(&xi);
	reply = ctl_ok_reply();
	if (!body || !reply) {
		json_object_put(body);
		ctl_send_reply(c, reply, -ENOMEM);
		return;
	}
	json_object_object_foreach(body, key, val)
		xg_ctl_put(reply, key, json_object_get(val), &err);
	json_object_put(body);
	ctl_send_reply(c, reply, err);
}

/* ---- join -------------------------------------------------------------- */

static void join_done(void *ctx, int joined, const char *errtext)
{
	struct ctl_join *j = ctx;
	struct ctl_client *c = j->client;
	struct xg_control *ctl;

	json_object_put(j->req);
	free(j);
	if (!c)
		return; /* the client hung up while we were joining */
	c->join = NULL;
	ctl = c->ctl;
	ctl_enter(ctl);
	if (joined > 0) {
		json_object *reply = ctl_ok_reply();
		int err = 0;

		if (reply)
			xg_ctl_put(reply, "joined", json_object_new_int(joined),
				   &err);
		ctl_send_reply(c, reply, err);
	} else {
		ctl_send_error(c, "%s",
			       errtext ? errtext : "no address could be joined");
	}
	ctl_resume(c);
	ctl_leave(ctl);
}

static void cmd_join(struct ctl_client *c, json_object *req)
{
	const char **addrs;
	struct ctl_join *j;
	size_t n;
	int err;

	if (ctl_string_array(c, req, "addrs", JOIN_MAX_ADDRS, true, &addrs, &n))
		return;
	j = calloc(1, sizeof(*j));
	if (!j) {
		free(addrs);
		ctl_send_error(c, "out of memory");
		return;
	}
	j->client = c;
	j->req = json_object_get(req);
	c->join = j;
	err = xg_agent_join(c->ctl->agent, addrs, n, join_done, j);
	free(addrs);
	if (!err)
		return; /* join_done() answers, maybe already has */
	/* Not started: done will not be called, j is still ours -- unless
	 * the agent called done anyway, which cleared c->join. */
	if (c->join == j) {
		c->join = NULL;
		json_object_put(j->req);
		free(j);
	}
	if (err == -EINVAL)
		ctl_send_error(c, "invalid address in \"addrs\": want IP, "
			       "IP:PORT, [IPv6] or [IPv6]:PORT");
	else if (err == -ESHUTDOWN)
		ctl_send_error(c, "the agent is leaving the cluster");
	else
		ctl_send_error(c, "%s", strerror(-err));
}

/* ---- leave ------------------------------------------------------------- */

static void cmd_leave(struct ctl_client *c, json_object *req)
{
	/* Leaving is asynchronous (the agent stays up until the news has
	 * spread), so the reply still goes out after starting it. */
	int err = xg_agent_leave(c->ctl->agent);

	(void)req;
	if (err == -EALREADY)
		ctl_send_error(c, "already leaving");
	else if (err)
		ctl_send_error(c, "%s", strerror(-err));
	else
		ctl_send_reply(c, ctl_ok_reply(), 0);
}

/* ---- tags -------------------------------------------------------------- */

static void tags_reply(struct ctl_client *c, int err)
{
	json_object *reply;

	if (err == -EINVAL) {
		ctl_send_error(c, "invalid tag");
		return;
	}
	if (err == -E2BIG) {
		ctl_send_error(c, "tags too large: more than %d bytes once "
			       "encoded as metadata", XG_META_MAX);
		return;
	}
	if (err) {
		ctl_send_error(c, "%s", strerror(-err));
		return;
	}
	err = 0;
	reply = ctl_ok_reply();
	if (reply)
		xg_ctl_put(reply, "tags", self_tags(c->ctl), &err);
	ctl_send_reply(c, reply, err);
}

static void cmd_tags_set(struct ctl_client *c, json_object *req)
{
	const char **kv;
	size_t i, n;

	if (ctl_string_array(c, req, "tags", TAGS_MAX_ARGS, true, &kv, &n))
		return;
	/* Checked here too so the error names the culprit. */
	for (i = 0; i < n; i++) {
		char *k, *v;
		int err = xg_tags_parse_kv(kv[i], &k, &v);

		free(k);
		free(v);
		if (err) {
			ctl_send_error(c, "invalid tag \"%s\": want key=value, "
				       "key non-empty without '=' or newline, "
				       "value without newline", kv[i]);
			free(kv);
			return;
		}
	}
	tags_reply(c, xg_agent_tags_set(c->ctl->agent, kv, n));
	free(kv);
}

static void cmd_tags_del(struct ctl_client *c, json_object *req)
{
	const char **keys;
	size_t i, n;

	if (ctl_string_array(c, req, "keys", TAGS_MAX_ARGS, true, &keys, &n))
		return;
	for (i = 0; i < n; i++) {
		if (!xg_tags_key_valid(keys[i], strlen(keys[i]))) {
			ctl_send_error(c, "invalid tag key \"%s\"", keys[i]);
			free(keys);
			return;
		}
	}
	tags_reply(c, xg_agent_tags_del(c->ctl->agent, keys, n));
	free(keys);
}

/* ---- monitor ----------------------------------------------------------- */

static void cmd_monitor(struct ctl_client *c, json_object *req)
{
	uint32_t mask = 0;
	const char **names;
	json_object *reply, *list;
	size_t i, n;
	int t, err = 0;

	if (ctl_string_array(c, req, "events", XG_EV_REFUTE + 1u, false, &names, &n))
		return;
	for (i = 0; i < n; i++) {
		enum xg_event_type ev;

		if (xg_ctl_parse_event(names[i], &ev)) {
			ctl_send_error(c, "unknown event \"%s\"", names[i]);
			free(names);
			return;
		}
		mask |= 1u << ev;
	}
	free(names);
	if (!mask)
		for (t = XG_EV_JOIN; t <= XG_EV_REFUTE; t++)
			mask |= 1u << t;

	reply = ctl_ok_reply();
	list = json_object_new_array();
	for (t = XG_EV_JOIN; list && t <= XG_EV_REFUTE; t++)
		if ((mask & (1u << t)) &&
		    json_object_array_add(list, json_object_new_string(
				xg_event_name((enum xg_event_type)t))) < 0)
			err = -ENOMEM;
	if (reply)
		xg_ctl_put(reply, "events", list, &err);
	else
		json_object_put(list);
	c->monitor = true;
	c->event_mask = mask;
	c->ctl->nmonitors++;
	ctl_send_reply(c, reply, err);
}

/* ---- dispatch ---------------------------------------------------------- */

static const struct command {
	const char *name;
	void (*run)(struct ctl_client *c, json_object *req);
} commands[] = {
	{ "members",  cmd_members },
	{ "info",     cmd_info },
	{ "xdp",      cmd_xdp },
	{ "join",     cmd_join },
	{ "leave",    cmd_leave },
	{ "tags-set", cmd_tags_set },
	{ "tags-del", cmd_tags_del },
	{ "monitor",  cmd_monitor },
	{ "keys",     ctl_cmd_keys },
	{ "broadcast", ctl_cmd_broadcast },
	{ "subscribe", ctl_cmd_subscribe },
	{ "send",      ctl_cmd_send },
};

static json_object *parse_line(struct ctl_client *c, const char *line,
			       size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	enum json_tokener_error jerr;
	json_object *req;

	if (!tok) {
		ctl_send_error(c, "out of memory");
		return NULL;
	}
	/* json-c stops at a NUL as at the end of the text: what follows
	 * would be ignored, not refused. */
	if (memchr(line, '\0', len)) {
		json_tokener_free(tok);
		ctl_send_error(c, "bad JSON: NUL byte in the request line");
		return NULL;
	}
	/* Strict: one value and nothing after it; UTF-8 checked so that
	 * strings handed on (names, tags) are valid text. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT |
				    JSON_TOKENER_VALIDATE_UTF8);
	req = json_tokener_parse_ex(tok, line, (int)len);
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (!req || jerr != json_tokener_success) {
		json_object_put(req);
		ctl_send_error(c, "bad JSON: %s", jerr == json_tokener_continue
			       ? "incomplete value" : json_tokener_error_desc(jerr));
		return NULL;
	}
	if (!json_object_is_type(req, json_type_object)) {
		json_object_put(req);
		ctl_send_error(c, "a request must be a JSON object");
		return NULL;
	}
	return req;
}

int ctl_handle_line(struct ctl_client *c, const char *line, size_t len)
{
	json_object *req = parse_line(c, line, len), *cmd;
	const char *name;
	size_t i;

	if (!req)
		return -EBADMSG;
	if (!json_object_object_get_ex(req, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		ctl_send_error(c, "\"cmd\" (a string) is required");
		json_object_put(req);
		return 0;
	}
	name = json_object_get_string(cmd);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0) {
			commands[i].run(c, req);
			json_object_put(req);
			return 0;
		}
	}
	ctl_send_error(c, "unknown command \"%s\"", name);
	json_object_put(req);
	return 0;
}
