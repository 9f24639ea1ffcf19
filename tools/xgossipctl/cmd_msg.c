/* SPDX-License-Identifier: MIT */
#include "cmd_msg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/msg.h"
#include "msg_payload.h"
#include "msg_text.h"
#include "util/base64.h"
#include "xgossip/wire.h"

bool ctl_msg_has_payload(enum ctl_cmd c)
{
	return c == CTL_CMD_BROADCAST || c == CTL_CMD_SEND;
}

static bool is_msg_cmd(enum ctl_cmd c)
{
	return ctl_msg_has_payload(c) || c == CTL_CMD_SUBSCRIBE;
}

static int check_topic(const char *t, char *err, size_t errlen)
{
	if (xg_msg_topic_valid(t, strlen(t)))
		return 0;
	return ctl_usage(err, errlen, "invalid topic \"%.80s\": want 1 to %d "
		     "printable ASCII characters", t, XG_MSG_TOPIC_MAX);
}

/* What a member name can be (xgossipd --name): printable ASCII without
 * blanks, as is a node id in hex.  The agent decides which member it
 * names; this only keeps what cannot be one from being sent. */
static int check_node(const char *n, char *err, size_t errlen)
{
	size_t i, len = strlen(n);

	for (i = 0; i < len; i++)
		if ((unsigned char)n[i] <= 0x20 || (unsigned char)n[i] > 0x7e)
			break;
	if (len && len < XG_NAME_MAX && i == len)
		return 0;
	return ctl_usage(err, errlen, "invalid NODE \"%.80s\": want a member "
		     "name or a 16-digit hex node id", n);
}

static int parse_count(const char *s, uint64_t *out, char *err,
		       size_t errlen)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && v <= UINT32_MAX; p++)
		v = v * 10 + (uint64_t)(*p - '0');
	if (p == s || *p || v == 0 || v > UINT32_MAX)
		return ctl_usage(err, errlen, "--count wants a whole number from "
			     "1 to %" PRIu32 ", not \"%s\"", UINT32_MAX, s);
	*out = v;
	return 0;
}

/* TOPIC [FILE|-] from the operands at first. */
static int take_topic_and_file(struct ctl_opts *o, size_t first, char *err,
			       size_t errlen)
{
	const char *name = ctl_cmd_name(o->cmd);

	if (o->nargs <= first)
		return ctl_usage(err, errlen, "%s needs a TOPIC", name);
	if (o->nargs > first + 2)
		return ctl_usage(err, errlen, "%s takes one FILE at most (got "
			     "\"%s\" and \"%s\")", name, o->args[first + 1],
			     o->args[first + 2]);
	o->topic = o->args[first];
	o->payload_path = o->nargs > first + 1 ? o->args[first + 1] : NULL;
	return check_topic(o->topic, err, errlen);
}

int ctl_msg_check(struct ctl_opts *o, const char *count, bool timeout_given,
		  char *err, size_t errlen)
{
	size_t i;
	int e;

	if (o->raw && o->cmd != CTL_CMD_SUBSCRIBE)
		return ctl_usage(err, errlen, "--raw is an option of subscribe");
	if (count && o->cmd != CTL_CMD_SUBSCRIBE)
		return ctl_usage(err, errlen, "--count is an option of subscribe");
	if (!is_msg_cmd(o->cmd))
		return 0;
	switch (o->cmd) {
	case CTL_CMD_BROADCAST:
		return take_topic_and_file(o, 0, err, errlen);
	case CTL_CMD_SEND:
		if (!timeout_given)
			o->timeout_ns = CTL_SEND_DEFAULT_TIMEOUT_NS;
		if (o->nargs < 1)
			return ctl_usage(err, errlen, "send needs a NODE and a "
				     "TOPIC");
		o->node = o->args[0];
		if ((e = check_node(o->node, err, errlen)))
			return e;
		return take_topic_and_file(o, 1, err, errlen);
	default: /* subscribe */
		break;
	}
	if (o->raw && o->output == CTL_OUT_JSON)
		return ctl_usage(err, errlen, "--raw and -o json exclude each "
			     "other");
	if (count && (e = parse_count(count, &o->count, err, errlen)))
		return e;
	if (o->nargs > CTL_SUBSCRIBE_MAX_TOPICS)
		return ctl_usage(err, errlen, "subscribe takes at most %d topics",
			     CTL_SUBSCRIBE_MAX_TOPICS);
	for (i = 0; i < o->nargs; i++)
		if ((e = check_topic(o->args[i], err, errlen)))
			return e;
	return 0;
}

int ctl_msg_load_payload(struct ctl_opts *o, int stdin_fd, FILE *err,
			 uint8_t **owned)
{
	const char *name = ctl_cmd_name(o->cmd);
	bool from_stdin = !o->payload_path || !strcmp(o->payload_path, "-");
	uint8_t *buf;
	size_t len;
	int e;

	*owned = NULL;
	/* Someone who forgot FILE should not face a silent wait. */
	if (from_stdin && isatty(stdin_fd))
		fprintf(err, "xgossipctl: %s: reading the payload from the "
			"terminal; end it with Ctrl-D\n", name);
	e = ctl_payload_read(o->payload_path, stdin_fd, CTL_MSG_MAX_PAYLOAD,
			     &buf, &len);
	if (e == -EFBIG) {
		fprintf(err, "xgossipctl: %s: the payload (%s) is larger "
			"than 16 MiB (%zu bytes), the most a message can "
			"carry; nothing was sent\n", name,
			from_stdin ? "standard input" : o->payload_path,
			CTL_MSG_MAX_PAYLOAD);
		return CTL_EXIT_USAGE;
	}
	if (e) {
		fprintf(err, "xgossipctl: %s: cannot read the payload from "
			"%s: %s\n", name,
			from_stdin ? "standard input" : o->payload_path,
			strerror(-e));
		return CTL_EXIT_USAGE;
	}
	o->payload = buf;
	o->payload_len = len;
	*owned = buf;
	return CTL_EXIT_OK;
}

static void put(json_object *o, const char *k, json_object *v, int *err)
{
	if (!v || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		*err = -ENOMEM;
	}
}

/* The payload in base64, built once: up to 22 MB for 16 MiB. */
static json_object *payload_b64(const struct ctl_opts *o)
{
	size_t n = XG_B64_ENCODED_LEN(o->payload_len);
	json_object *v;
	char *s = malloc(n + 1);

	if (!s)
		return NULL;
	xg_b64_encode(o->payload ? o->payload : (const uint8_t *)"",
		      o->payload_len, s);
	v = json_object_new_string_len(s, (int)n);
	free(s);
	return v;
}

static json_object *topics(const struct ctl_opts *o)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; arr && i < o->nargs; i++) {
		json_object *v = json_object_new_string(o->args[i]);

		if (!v || json_object_array_add(arr, v) < 0) {
			json_object_put(v);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

int ctl_msg_request(const struct ctl_opts *o, json_object *req)
{
	int err = 0;

	switch (o->cmd) {
	case CTL_CMD_SEND:
		put(req, "node", json_object_new_string(o->node), &err);
		/* fall through */
	case CTL_CMD_BROADCAST:
		put(req, "topic", json_object_new_string(o->topic), &err);
		put(req, "payload", payload_b64(o), &err);
		break;
	case CTL_CMD_SUBSCRIBE:
		/* No "topics" means all; [] would too, but say it plainly. */
		if (o->nargs)
			put(req, "topics", topics(o), &err);
		break;
	default:
		break;
	}
	return err;
}

static const char *str_field(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool int_field(json_object *o, const char *k, int64_t *out)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return *out >= 0;
}

void ctl_msg_format_rtt(int64_t us, char *buf, size_t len)
{
	if (us < 0)
		us = 0;
	if (us < 1000) {
		snprintf(buf, len, "%" PRId64 "us", us);
	} else if (us < 999950) {
		int64_t tenths = (us + 50) / 100;

		snprintf(buf, len, "%" PRId64 ".%" PRId64 "ms", tenths / 10,
			 tenths % 10);
	} else {
		int64_t hundredths = (us + 5000) / 10000;

		snprintf(buf, len, "%" PRId64 ".%02" PRId64 "s",
			 hundredths / 100, hundredths % 100);
	}
}

int ctl_msg_reply(const struct ctl_opts *o, json_object *reply, FILE *out,
		  FILE *err)
{
	const char *id = str_field(reply, "id"), *node;
	int64_t size, rtt;
	char rtt_s[32];

	if (o->cmd == CTL_CMD_BROADCAST) {
		if (!id || !int_field(reply, "size", &size))
			goto bad;
		fprintf(out, "id=%s size=%" PRId64 "\n", id, size);
		return CTL_EXIT_OK;
	}
	node = str_field(reply, "node");
	if (!id || !int_field(reply, "rtt_us", &rtt))
		goto bad;
	ctl_msg_format_rtt(rtt, rtt_s, sizeof(rtt_s));
	fprintf(out, "delivered to %s id=%s rtt=%s\n", node ? node : o->node,
		id, rtt_s);
	return CTL_EXIT_OK;
bad:
	fprintf(err, "xgossipctl: %s: the agent's reply is not as expected "
		"(no id, size or rtt_us)\n", ctl_cmd_name(o->cmd));
	return CTL_EXIT_FAILED;
}

void ctl_msg_stream_start(struct ctl_msg_stream *s,
			  const struct ctl_opts *o, FILE *out)
{
	s->o = o;
	s->seen = 0;
	if (o->output == CTL_OUT_TABLE && !o->raw)
		ctl_msg_print_header(out);
}

int ctl_msg_stream_line(struct ctl_msg_stream *s, json_object *ev,
			FILE *out)
{
	struct ctl_msg_event m;
	int e = ctl_msg_event_read(ev, &m);

	if (e < 0)
		return e;
	if (s->o->output == CTL_OUT_JSON) {
		/* Every line, messages or not: scripts see what the agent
		 * says. */
		fprintf(out, "%s\n", json_object_to_json_string_ext(ev,
			JSON_C_TO_STRING_PLAIN |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	} else if (e == 0 && s->o->raw) {
		ctl_msg_print_raw(out, &m);
	} else if (e == 0) {
		ctl_msg_print_text(out, &m);
	}
	if (e == 0)
		ctl_msg_event_free(&m);
	if (e == 1)
		return 0;
	s->seen++;
	return s->o->count && s->seen >= s->o->count ? 1 : 0;
}
