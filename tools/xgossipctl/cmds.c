/* SPDX-License-Identifier: MIT */
#include "cmds.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_keys.h"
#include "cmd_msg.h"
#include "cmd_tls.h"
#include "conn.h"
#include "help.h"
#include "table.h"
#include "util/duration.h"
#include "util/version.h"

static void put(json_object *o, const char *key, json_object *v, int *err)
{
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		*err = -ENOMEM;
	}
}

static json_object *strings(const char *const *s, size_t n)
{
	json_object *arr = json_object_new_array();
	size_t i;

	for (i = 0; arr && i < n; i++) {
		json_object *v = json_object_new_string(s[i]);

		if (!v || json_object_array_add(arr, v) < 0) {
			json_object_put(v);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

json_object *ctl_build_request(const struct ctl_opts *o)
{
	static const char *const wire[] = {
		[CTL_CMD_MEMBERS]  = "members",
		[CTL_CMD_INFO]     = "info",
		[CTL_CMD_JOIN]     = "join",
		[CTL_CMD_LEAVE]    = "leave",
		[CTL_CMD_TAGS_SET] = "tags-set",
		[CTL_CMD_TAGS_DEL] = "tags-del",
		[CTL_CMD_MONITOR]  = "monitor",
		[CTL_CMD_XDP]      = "xdp",
		[CTL_CMD_KEYS_LIST]    = "keys",
		[CTL_CMD_KEYS_INSTALL] = "keys",
		[CTL_CMD_KEYS_USE]     = "keys",
		[CTL_CMD_KEYS_REMOVE]  = "keys",
		[CTL_CMD_BROADCAST]    = "broadcast",
		[CTL_CMD_SEND]         = "send",
		[CTL_CMD_SUBSCRIBE]    = "subscribe",
	};
	json_object *req;
	int err = 0;

	if ((size_t)o->cmd >= sizeof(wire) / sizeof(wire[0]) || !wire[o->cmd])
		return NULL;
	req = json_object_new_object();
	if (!req)
		return NULL;
	put(req, "cmd", json_object_new_string(wire[o->cmd]), &err);
	switch (o->cmd) {
	case CTL_CMD_MEMBERS:
		if (o->status)
			put(req, "status", json_object_new_string(o->status),
			    &err);
		break;
	case CTL_CMD_JOIN:
		put(req, "addrs", strings(o->args, o->nargs), &err);
		break;
	case CTL_CMD_TAGS_SET:
		put(req, "tags", strings(o->args, o->nargs), &err);
		break;
	case CTL_CMD_TAGS_DEL:
		put(req, "keys", strings(o->args, o->nargs), &err);
		break;
	case CTL_CMD_MONITOR:
		if (o->events)
			put(req, "events", strings(o->events, o->nevents),
			    &err);
		break;
	case CTL_CMD_KEYS_LIST:
	case CTL_CMD_KEYS_INSTALL:
	case CTL_CMD_KEYS_USE:
	case CTL_CMD_KEYS_REMOVE:
		if (!err)
			err = ctl_keys_request(o, req);
		break;
	case CTL_CMD_BROADCAST:
	case CTL_CMD_SEND:
	case CTL_CMD_SUBSCRIBE:
		if (!err)
			err = ctl_msg_request(o, req);
		break;
	default:
		break;
	}
	if (err) {
		json_object_put(req);
		return NULL;
	}
	return req;
}

static void print_json(FILE *out, json_object *o, bool pretty)
{
	fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE |
		(pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
			: JSON_C_TO_STRING_PLAIN)), out);
	fputc('\n', out);
}

static void unreachable(FILE *err, const char *path, int e)
{
	fprintf(err, "xgossipctl: cannot reach the agent at %s: %s\n", path,
		strerror(-e));
	fprintf(err, "Is xgossipd running?  Point at its control socket with "
		"--socket PATH or XGOSSIP_SOCKET.\n");
}

/* A failed exchange after connecting: always exit status 1. */
static int lost(FILE *err, const struct ctl_opts *o, int e)
{
	char d[32];

	switch (e) {
	case -ETIMEDOUT:
		fprintf(err, "xgossipctl: no reply from the agent at %s within "
			"%s (raise --timeout to wait longer)\n", o->socket,
			xg_duration_format(o->timeout_ns, d, sizeof(d)));
		break;
	case -ECONNRESET:
	case -EPIPE:
		fprintf(err, "xgossipctl: the agent at %s closed the "
			"connection\n", o->socket);
		break;
	case -EBADMSG:
		fprintf(err, "xgossipctl: the agent at %s sent something that "
			"is not a JSON object\n", o->socket);
		break;
	case -E2BIG:
		fprintf(err, "xgossipctl: the agent's reply is too large\n");
		break;
	default:
		fprintf(err, "xgossipctl: talking to the agent at %s: %s\n",
			o->socket, strerror(-e));
	}
	return CTL_EXIT_FAILED;
}

static bool reply_ok(json_object *reply)
{
	json_object *ok;

	return json_object_object_get_ex(reply, "ok", &ok) &&
	       json_object_is_type(ok, json_type_boolean) &&
	       json_object_get_boolean(ok);
}

static const char *reply_error(json_object *reply)
{
	json_object *e;

	if (json_object_object_get_ex(reply, "error", &e) &&
	    json_object_is_type(e, json_type_string))
		return json_object_get_string(e);
	return "request failed (no reason given)";
}

static int print_tags_reply(FILE *out, json_object *reply)
{
	json_object *tags = NULL;
	char *s;

	json_object_object_get_ex(reply, "tags", &tags);
	s = ctl_tags_text(tags);
	if (!s)
		return -ENOMEM;
	fprintf(out, "Tags: %s\n", *s ? s : "(none)");
	free(s);
	return 0;
}

static int render(const struct ctl_opts *o, json_object *reply, FILE *out)
{
	json_object *v;

	switch (o->cmd) {
	case CTL_CMD_MEMBERS:
		return ctl_print_members(out, reply);
	case CTL_CMD_INFO:
	case CTL_CMD_XDP:
		/* Both are sections of key = value lines. */
		return ctl_print_info(out, reply);
	case CTL_CMD_JOIN:
		json_object_object_get_ex(reply, "joined", &v);
		fprintf(out, "Joined the cluster: %d node%s answered.\n",
			json_object_get_int(v),
			json_object_get_int(v) == 1 ? "" : "s");
		return 0;
	case CTL_CMD_LEAVE:
		fprintf(out, "Leaving the cluster; the agent exits once the "
			"leave has spread.\n");
		return 0;
	case CTL_CMD_TAGS_SET:
	case CTL_CMD_TAGS_DEL:
		return print_tags_reply(out, reply);
	default:
		return 0;
	}
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* One streamed line of monitor or subscribe, printed: 0 to go on, 1
 * when subscribe --count is reached, or -errno. */
static int stream_line(const struct ctl_opts *o, struct ctl_msg_stream *ms,
		       json_object *ev, FILE *out)
{
	if (o->cmd == CTL_CMD_SUBSCRIBE)
		return ctl_msg_stream_line(ms, ev, out);
	if (o->output == CTL_OUT_JSON) {
		print_json(out, ev, false);
		return 0;
	}
	return ctl_print_event(out, ev);
}

static int stream_failed(FILE *err, const struct ctl_opts *o, int e)
{
	if (e == 0)
		fprintf(err, "xgossipctl: writing the output: %s\n",
			strerror(errno));
	else if (e == -EBADMSG)
		fprintf(err, "xgossipctl: %s: the agent sent a message that "
			"is not as documented\n", ctl_cmd_name(o->cmd));
	else
		fprintf(err, "xgossipctl: %s: %s\n", ctl_cmd_name(o->cmd),
			strerror(-e));
	return CTL_EXIT_FAILED;
}

/* After the agent accepted monitor or subscribe: print what it streams
 * until a signal, until the agent hangs up, or until subscribe --count
 * messages were printed. */
static int stream_loop(const struct ctl_opts *o, struct ctl_conn *c,
		       FILE *out, FILE *err)
{
	struct sigaction sa = { .sa_handler = on_stop };
	struct ctl_msg_stream ms;
	sigset_t block, orig;
	int e = 0, status = CTL_EXIT_OK;

	/* SIGINT/SIGTERM stay blocked except inside ppoll(), so a signal is
	 * either seen there (EINTR) or waits for it: none is lost between a
	 * check and the wait. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &orig);
	c->wait_mask = &orig;

	if (o->cmd == CTL_CMD_SUBSCRIBE)
		ctl_msg_stream_start(&ms, o, out);
	else if (o->output == CTL_OUT_TABLE)
		ctl_print_event_header(out);
	fflush(out);
	while (!stop_signal) {
		json_object *ev;

		e = ctl_conn_recv(c, 0, &ev);
		if (e == -EINTR)
			continue;
		if (e) {
			status = lost(err, o, e);
			break;
		}
		e = stream_line(o, &ms, ev, out);
		json_object_put(ev);
		if (e < 0 || fflush(out) == EOF) {
			status = stream_failed(err, o, e);
			break;
		}
		if (e > 0)
			break;
	}
	sigprocmask(SIG_SETMASK, &orig, NULL);
	c->wait_mask = NULL;
	return status;
}

static int exchange(const struct ctl_opts *o, struct ctl_conn *c, FILE *out,
		    FILE *err)
{
	json_object *req = ctl_build_request(o), *reply = NULL;
	uint64_t deadline = ctl_mono_ns() + o->timeout_ns;
	int e, status;

	if (!req) {
		fprintf(err, "xgossipctl: out of memory\n");
		return CTL_EXIT_FAILED;
	}
	e = ctl_conn_send(c, req, deadline);
	json_object_put(req);
	if (!e)
		e = ctl_conn_recv(c, deadline, &reply);
	if (e)
		return lost(err, o, e);
	if (o->output == CTL_OUT_JSON && o->cmd != CTL_CMD_MONITOR &&
	    o->cmd != CTL_CMD_SUBSCRIBE)
		print_json(out, reply, true);
	if (!reply_ok(reply)) {
		fprintf(err, "xgossipctl: %s: %s\n", ctl_cmd_name(o->cmd),
			reply_error(reply));
		json_object_put(reply);
		return CTL_EXIT_FAILED;
	}
	status = CTL_EXIT_OK;
	if (o->cmd == CTL_CMD_MONITOR || o->cmd == CTL_CMD_SUBSCRIBE)
		status = stream_loop(o, c, out, err);
	else if (ctl_keys_asks_agent(o->cmd))
		status = ctl_keys_reply(o, reply, out, err);
	else if (ctl_msg_has_payload(o->cmd) && o->output == CTL_OUT_TABLE)
		status = ctl_msg_reply(o, reply, out, err);
	else if (o->output == CTL_OUT_TABLE && (e = render(o, reply, out))) {
		fprintf(err, "xgossipctl: cannot show the reply: %s\n",
			strerror(-e));
		status = CTL_EXIT_FAILED;
	}
	json_object_put(reply);
	return status;
}

static int ask_agent(const struct ctl_opts *o, FILE *out, FILE *err)
{
	struct ctl_conn c;
	int e, status;

	e = ctl_conn_open(&c, o->socket);
	if (e) {
		unreachable(err, o->socket, e);
		return CTL_EXIT_UNREACHABLE;
	}
	status = exchange(o, &c, out, err);
	ctl_conn_close(&c);
	return status;
}

/* broadcast and send: the payload first, all of it, so that a payload
 * that cannot be read or is too large is a usage error with nothing
 * sent. */
static int ask_with_payload(const struct ctl_opts *o, FILE *out, FILE *err)
{
	struct ctl_opts with = *o;
	uint8_t *payload;
	int status;

	status = ctl_msg_load_payload(&with, STDIN_FILENO, err, &payload);
	if (status == CTL_EXIT_OK)
		status = ask_agent(&with, out, err);
	free(payload);
	return status;
}

int ctl_run(const struct ctl_opts *o, FILE *out, FILE *err)
{
	int status;

	if (o->version) {
		fprintf(out, "xgossipctl %s\n", XGOSSIP_VERSION);
		return CTL_EXIT_OK;
	}
	if (o->help) {
		ctl_help(out, o->cmd);
		return CTL_EXIT_OK;
	}
	if (o->cmd == CTL_CMD_TLS_INIT)
		return ctl_tls_init(o, out, err);
	if (o->cmd == CTL_CMD_KEYS_GENERATE)
		return ctl_keys_generate(o, out, err);
	if (ctl_msg_has_payload(o->cmd))
		status = ask_with_payload(o, out, err);
	else
		status = ask_agent(o, out, err);
	if (fflush(out) == EOF && status == CTL_EXIT_OK) {
		fprintf(err, "xgossipctl: writing the output: %s\n",
			strerror(errno));
		status = CTL_EXIT_FAILED;
	}
	return status;
}
