/* SPDX-License-Identifier: MIT */
/*
 * The messaging control commands (docs/CONTROL.md): broadcast, subscribe,
 * and the line each subscriber gets per delivered message.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "daemon/control_int.h"
#include "daemon/control_render.h"
#include "daemon/xfer.h"
#include "util/base64.h"

/* ---- shared by the commands --------------------------------------------- */

static void hex(const uint8_t *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* req["topic"], checked as the wire checks it. */
static const char *get_topic(struct ctl_client *c, json_object *req)
{
	json_object *t;
	const char *s;

	if (!json_object_object_get_ex(req, "topic", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		ctl_send_error(c, "\"topic\" (a string) is required");
		return NULL;
	}
	s = json_object_get_string(t);
	if (!xg_msg_topic_valid(s, strlen(s))) {
		ctl_send_error(c, "invalid topic: want 1 to %d printable ASCII "
			       "characters", XG_MSG_TOPIC_MAX);
		return NULL;
	}
	return s;
}

/* req["payload"] decoded into a malloc'd buffer (*out, at least 1 byte so
 * an empty payload is not NULL).  0, or -EINVAL after an error reply. */
static int get_payload(struct ctl_client *c, json_object *req, uint8_t **out,
		       size_t *len)
{
	json_object *p;
	const char *s;
	size_t slen;
	int err;

	*out = NULL;
	*len = 0;
	if (!json_object_object_get_ex(req, "payload", &p))
		s = "", slen = 0;
	else if (!json_object_is_type(p, json_type_string)) {
		ctl_send_error(c, "\"payload\" must be a base64 string");
		return -EINVAL;
	} else {
		s = json_object_get_string(p);
		slen = (size_t)json_object_get_string_len(p);
	}
	*out = malloc(slen / 4 * 3 + 1);
	if (!*out) {
		ctl_send_error(c, "out of memory");
		return -EINVAL;
	}
	err = xg_b64_decode(s, slen, *out, slen / 4 * 3 + 1, len);
	if (err) {
		free(*out);
		*out = NULL;
		ctl_send_error(c, "\"payload\" is not canonical padded base64");
		return -EINVAL;
	}
	return 0;
}

static const char *broadcast_error(int err)
{
	switch (err) {
	case -EMSGSIZE:  return "payload too large";
	case -EOVERFLOW: return "message ids of this run used up: restart the agent";
	case -ENOBUFS:   return "seen table full: too many messages at once";
	case -ENOTCONN:  return "messaging is not running";
	}
	return strerror(-err);
}

/* ---- broadcast ---------------------------------------------------------- */

void ctl_cmd_broadcast(struct ctl_client *c, json_object *req)
{
	char idhex[2 * XG_MSG_ID_LEN + 1], when[XG_CTL_TIME_LEN];
	uint8_t id[XG_MSG_ID_LEN], *payload;
	const char *topic = get_topic(c, req);
	json_object *reply;
	uint64_t sent;
	size_t len;
	int err = 0, r;

	if (!topic || get_payload(c, req, &payload, &len))
		return;
	r = xg_agent_broadcast(c->ctl->agent, topic, payload, len, id);
	sent = xg_now_real_ns();
	free(payload);
	if (r) {
		ctl_send_error(c, "broadcast failed: %s", broadcast_error(r));
		return;
	}
	hex(id, sizeof(id), idhex);
	reply = ctl_ok_reply();
	if (reply) {
		xg_ctl_put(reply, "id", json_object_new_string(idhex), &err);
		xg_ctl_put(reply, "size", json_object_new_uint64(len), &err);
		xg_ctl_put(reply, "sent", json_object_new_string(
				xg_ctl_format_time(sent, when)), &err);
	}
	ctl_send_reply(c, reply, err);
}

/* ---- send ---------------------------------------------------------------- */

struct ctl_send {
	struct ctl_client *client; /* NULL once the client went away */
	char               node[XG_NAME_MAX];
	uint8_t            id[XG_MSG_ID_LEN];
	size_t             size;
};

void ctl_orphan_send(struct ctl_client *c)
{
	if (c->send) {
		c->send->client = NULL;
		c->send = NULL;
	}
}

static const char *send_error(int err)
{
	switch (err) {
	case -ENOENT:     return "no such member";
	case -ELOOP:      return "that is this node";
	case -EHOSTDOWN:  return "the member is not alive";
	case -EMSGSIZE:   return "payload too large";
	case -ENOBUFS:    return "too many messages waiting to be sent";
	case -ENOTCONN:   return "messaging is not running";
	}
	return xg_xfer_strerror(err);
}

static void send_done(void *ctx, int err, uint64_t rtt_ns)
{
	struct ctl_send *s = ctx;
	struct ctl_client *c = s->client;
	char idhex[2 * XG_MSG_ID_LEN + 1];
	struct xg_control *ctl;
	json_object *reply;
	int jerr = 0;

	if (!c) {
		free(s);
		return; /* the client hung up while we were sending */
	}
	c->send = NULL;
	ctl = c->ctl;
	ctl_enter(ctl);
	if (err) {
		ctl_send_error(c, "send to %s failed: %s%s", s->node,
			       rtt_ns ? "refused by the member: " : "",
			       send_error(err));
	} else {
		hex(s->id, sizeof(s->id), idhex);
		reply = ctl_ok_reply();
		if (reply) {
			xg_ctl_put(reply, "node", json_object_new_string(s->node),
				   &jerr);
			xg_ctl_put(reply, "id", json_object_new_string(idhex),
				   &jerr);
			xg_ctl_put(reply, "size", json_object_new_uint64(s->size),
				   &jerr);
			xg_ctl_put(reply, "rtt_us",
				   json_object_new_uint64(rtt_ns / 1000), &jerr);
		}
		ctl_send_reply(c, reply, jerr);
	}
	free(s);
	ctl_resume(c);
	ctl_leave(ctl);
}

void ctl_cmd_send(struct ctl_client *c, json_object *req)
{
	const char *topic = get_topic(c, req), *node;
	json_object *n;
	struct ctl_send *s;
	uint8_t *payload;
	size_t len;
	int err;

	if (!topic)
		return;
	if (!json_object_object_get_ex(req, "node", &n) ||
	    !json_object_is_type(n, json_type_string)) {
		ctl_send_error(c, "\"node\" (a member name or id) is required");
		return;
	}
	node = json_object_get_string(n);
	if (get_payload(c, req, &payload, &len))
		return;
	s = calloc(1, sizeof(*s));
	if (!s) {
		free(payload);
		ctl_send_error(c, "out of memory");
		return;
	}
	s->client = c;
	s->size = len;
	snprintf(s->node, sizeof(s->node), "%s", node);
	c->send = s;
	err = xg_agent_send(c->ctl->agent, node, topic, payload, len, s->id,
			    send_done, s);
	free(payload);
	if (!err)
		return; /* send_done() answers */
	c->send = NULL;
	free(s);
	ctl_send_error(c, "send to %s failed: %s", node, send_error(err));
}

/* ---- subscribe ---------------------------------------------------------- */

#define CTL_SUB_TOPICS_MAX 64

void ctl_cmd_subscribe(struct ctl_client *c, json_object *req)
{
	const char **topics;
	json_object *reply, *list;
	size_t i, n;
	int err = 0;

	if (ctl_string_array(c, req, "topics", CTL_SUB_TOPICS_MAX, false,
			     &topics, &n))
		return;
	for (i = 0; i < n; i++) {
		if (!xg_msg_topic_valid(topics[i], strlen(topics[i]))) {
			ctl_send_error(c, "invalid topic \"%s\"", topics[i]);
			free(topics);
			return;
		}
	}
	c->topics = calloc(n ? n : 1, sizeof(*c->topics));
	list = json_object_new_array();
	reply = ctl_ok_reply();
	if (!c->topics || !list || !reply)
		err = -ENOMEM;
	for (i = 0; !err && i < n; i++) {
		c->topics[i] = strdup(topics[i]);
		if (!c->topics[i] ||
		    json_object_array_add(list,
				json_object_new_string(topics[i])) < 0)
			err = -ENOMEM;
		c->ntopics = i + 1;
	}
	free(topics);
	if (reply)
		xg_ctl_put(reply, "topics", list, &err);
	else
		json_object_put(list);
	if (!err) {
		/* A subscriber streams like a monitor, with no membership
		 * events (event_mask 0). */
		c->monitor = true;
		c->subscriber = true;
		c->event_mask = 0;
		c->ctl->nmonitors++;
	}
	ctl_send_reply(c, reply, err);
}

bool ctl_subscribed(const struct ctl_client *c, const char *topic)
{
	size_t i;

	if (!c->subscriber)
		return false;
	if (!c->ntopics)
		return true;
	for (i = 0; i < c->ntopics; i++)
		if (strcmp(c->topics[i], topic) == 0)
			return true;
	return false;
}

/* The payload is spliced into the rendered line rather than handed to
 * json-c: base64 needs no escaping, and a 16 MiB message would otherwise
 * be copied and scanned twice more on the agent's loop. */
char *ctl_message_line(const struct xg_msg *m, bool unicast,
		       const char *origin_name, uint64_t now_real_ns,
		       size_t *len)
{
	char idhex[2 * XG_MSG_ID_LEN + 1], ohex[17], sent[XG_CTL_TIME_LEN],
	     recv[XG_CTL_TIME_LEN], *line = NULL;
	static const char key[] = ",\"payload\":\"";
	json_object *o = json_object_new_object();
	const char *head;
	size_t hlen, b64;
	int err = 0;

	if (!o)
		return NULL;
	hex(m->id, sizeof(m->id), idhex);
	snprintf(ohex, sizeof(ohex), "%016" PRIx64, m->origin_id);
	xg_ctl_put(o, "event", json_object_new_string("message"), &err);
	xg_ctl_put(o, "kind", json_object_new_string(unicast ? "unicast"
							     : "broadcast"),
		   &err);
	xg_ctl_put(o, "id", json_object_new_string(idhex), &err);
	xg_ctl_put(o, "origin", json_object_new_string(ohex), &err);
	if (origin_name)
		xg_ctl_put(o, "origin_name",
			   json_object_new_string(origin_name), &err);
	else if (json_object_object_add(o, "origin_name", NULL) < 0)
		err = -ENOMEM;
	xg_ctl_put(o, "topic", json_object_new_string(m->topic), &err);
	xg_ctl_put(o, "hops", json_object_new_int(m->hops), &err);
	xg_ctl_put(o, "sent", json_object_new_string(xg_ctl_format_time(
			m->origin_ms * 1000000ULL, sent)), &err);
	xg_ctl_put(o, "received", json_object_new_string(
			xg_ctl_format_time(now_real_ns, recv)), &err);
	xg_ctl_put(o, "size", json_object_new_uint64(m->payload_len), &err);
	head = err ? NULL : json_object_to_json_string_length(
			o, JSON_C_TO_STRING_PLAIN, &hlen);
	if (head && hlen >= 2 && head[hlen - 1] == '}') {
		b64 = XG_B64_ENCODED_LEN((size_t)m->payload_len);
		line = malloc(hlen - 1 + sizeof(key) - 1 + b64 + 3);
	}
	if (line) {
		char *p = line;

		memcpy(p, head, hlen - 1);
		p += hlen - 1;
		memcpy(p, key, sizeof(key) - 1);
		p += sizeof(key) - 1;
		xg_b64_encode(m->payload, m->payload_len, p);
		p += b64;
		*p++ = '"';
		*p++ = '}';
		*p = '\0';
		*len = (size_t)(p - line);
	}
	json_object_put(o);
	return line;
}

/* ---- counters for "info" ------------------------------------------------- */

#define MSG_STAT(f) { #f, offsetof(struct xg_msgr_stats, f) }
static const struct {
	const char *name;
	size_t      off;
} msg_stats[] = {
	MSG_STAT(broadcasts), MSG_STAT(delivered),
	MSG_STAT(pushes_sent), MSG_STAT(pushes_recv), MSG_STAT(dups),
	MSG_STAT(acks_sent), MSG_STAT(acks_recv), MSG_STAT(acks_unexpected),
	MSG_STAT(rounds_started), MSG_STAT(rounds_majority),
	MSG_STAT(rounds_short), MSG_STAT(rounds_dropped),
	MSG_STAT(pull_syncs_sent), MSG_STAT(pull_syncs_recv),
	MSG_STAT(pull_syncs_known), MSG_STAT(pull_requests_sent),
	MSG_STAT(pull_requests_recv), MSG_STAT(pull_responses_sent),
	MSG_STAT(pull_responses_recv), MSG_STAT(pull_misses),
	MSG_STAT(pulls_failed), MSG_STAT(pulls_dropped),
	MSG_STAT(gaps_found), MSG_STAT(refused_old), MSG_STAT(refused_future),
	MSG_STAT(refused_full), MSG_STAT(hop_limited), MSG_STAT(rx_bad),
	MSG_STAT(tx_errors), MSG_STAT(alloc_failures),
	MSG_STAT(large_broadcasts), MSG_STAT(announces_sent),
	MSG_STAT(announces_recv), MSG_STAT(large_refused),
	MSG_STAT(fetches_started), MSG_STAT(fetches_ok),
	MSG_STAT(fetches_failed), MSG_STAT(fetches_timed_out),
	MSG_STAT(fetches_given_up), MSG_STAT(fetches_stale),
	MSG_STAT(seen_entries), MSG_STAT(cached), MSG_STAT(rounds_open),
	MSG_STAT(pulls_open), MSG_STAT(origins), MSG_STAT(fetches_running),
	MSG_STAT(fetches_queued), MSG_STAT(large_wants),
};

json_object *ctl_msg_stats_json(const struct xg_msgr_stats *st)
{
	json_object *o = json_object_new_object();
	size_t i;
	int err = 0;

	for (i = 0; o && st && i < sizeof(msg_stats) / sizeof(msg_stats[0]);
	     i++) {
		uint64_t v;

		memcpy(&v, (const char *)st + msg_stats[i].off, sizeof(v));
		xg_ctl_put(o, msg_stats[i].name, json_object_new_uint64(v),
			   &err);
	}
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
