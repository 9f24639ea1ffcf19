/* SPDX-License-Identifier: MIT */
#include "args.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_keys.h"
#include "cmd_msg.h"
#include "cmd_tls.h"
#include "core/swim.h"
#include "util/duration.h"
#include "util/tags.h"

static const struct {
	const char  *name;
	enum ctl_cmd cmd;
} commands[] = {
	{ "members", CTL_CMD_MEMBERS },
	{ "info",    CTL_CMD_INFO },
	{ "join",    CTL_CMD_JOIN },
	{ "leave",   CTL_CMD_LEAVE },
	{ "tags",    CTL_CMD_TAGS },
	{ "monitor", CTL_CMD_MONITOR },
	{ "xdp",     CTL_CMD_XDP },
	{ "tls",     CTL_CMD_TLS },
	{ "keys",    CTL_CMD_KEYS },
	{ "broadcast", CTL_CMD_BROADCAST },
	{ "send",      CTL_CMD_SEND },
	{ "subscribe", CTL_CMD_SUBSCRIBE },
};

static const struct {
	const char  *name;
	enum ctl_cmd cmd;
} keys_subcommands[] = {
	{ "generate", CTL_CMD_KEYS_GENERATE },
	{ "list",     CTL_CMD_KEYS_LIST },
	{ "install",  CTL_CMD_KEYS_INSTALL },
	{ "use",      CTL_CMD_KEYS_USE },
	{ "remove",   CTL_CMD_KEYS_REMOVE },
};

const char *ctl_cmd_name(enum ctl_cmd c)
{
	switch (c) {
	case CTL_CMD_NONE:     return "";
	case CTL_CMD_MEMBERS:  return "members";
	case CTL_CMD_INFO:     return "info";
	case CTL_CMD_JOIN:     return "join";
	case CTL_CMD_LEAVE:    return "leave";
	case CTL_CMD_TAGS:     return "tags";
	case CTL_CMD_TAGS_SET: return "tags set";
	case CTL_CMD_TAGS_DEL: return "tags del";
	case CTL_CMD_MONITOR:  return "monitor";
	case CTL_CMD_XDP:      return "xdp";
	case CTL_CMD_TLS:      return "tls";
	case CTL_CMD_TLS_INIT: return "tls init";
	case CTL_CMD_KEYS:     return "keys";
	case CTL_CMD_KEYS_GENERATE: return "keys generate";
	case CTL_CMD_KEYS_LIST:     return "keys list";
	case CTL_CMD_KEYS_INSTALL:  return "keys install";
	case CTL_CMD_KEYS_USE:      return "keys use";
	case CTL_CMD_KEYS_REMOVE:   return "keys remove";
	case CTL_CMD_BROADCAST:     return "broadcast";
	case CTL_CMD_SEND:          return "send";
	case CTL_CMD_SUBSCRIBE:     return "subscribe";
	}
	return "?";
}

int ctl_usage(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Matches "--name", "--name=value" (and a short alias "-x", "-xvalue").
 * Returns 1 with *val set (possibly from the next argument), 0 if tok is
 * not this option, or -EINVAL for a missing value. */
static int opt_value(int argc, char **argv, int *i, const char *lng,
		     const char *shrt, const char **val)
{
	const char *tok = argv[*i];
	size_t n = strlen(lng);

	if (strncmp(tok, lng, n) == 0 && tok[n] == '=') {
		*val = tok + n + 1;
		return 1;
	}
	if (shrt && strncmp(tok, shrt, 2) == 0 && tok[2] != '\0') {
		*val = tok + 2;
		return 1;
	}
	if (strcmp(tok, lng) != 0 && !(shrt && strcmp(tok, shrt) == 0))
		return 0;
	if (*i + 1 >= argc)
		return -EINVAL;
	*val = argv[++*i];
	return 1;
}

static bool event_known(const char *name)
{
	int t;

	for (t = XG_EV_JOIN; t <= XG_EV_REFUTE; t++)
		if (strcmp(name, xg_event_name((enum xg_event_type)t)) == 0)
			return true;
	return false;
}

static int split_events(struct ctl_opts *o, const char *list, char *err,
			size_t errlen)
{
	size_t n = 1;
	char *p, *save = NULL, *tok;

	o->events_buf = strdup(list);
	if (!o->events_buf)
		return -ENOMEM;
	for (p = o->events_buf; *p; p++)
		n += *p == ',';
	o->events = calloc(n, sizeof(*o->events));
	if (!o->events)
		return -ENOMEM;
	for (tok = strtok_r(o->events_buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!event_known(tok))
			return ctl_usage(err, errlen, "unknown event \"%s\" (known: "
				     "join, leave, fail, update, suspect, "
				     "alive, refute)", tok);
		o->events[o->nevents++] = tok;
	}
	if (o->nevents == 0)
		return ctl_usage(err, errlen, "--events needs at least one event");
	return 0;
}

static int parse_timeout(struct ctl_opts *o, const char *s, char *err,
			 size_t errlen)
{
	size_t n = strlen(s);

	/* A bare number would be milliseconds to xg_duration_parse() but
	 * seconds to many a user: insist on a unit. */
	if (n && s[n - 1] >= '0' && s[n - 1] <= '9')
		return ctl_usage(err, errlen, "--timeout needs a unit, "
			     "e.g. 500ms, 10s or 2m");
	if (xg_duration_parse(s, &o->timeout_ns) || o->timeout_ns == 0)
		return ctl_usage(err, errlen, "invalid --timeout \"%s\"", s);
	return 0;
}

/* Sort one word that is not an option into command, subcommand or
 * operand. */
static int take_word(struct ctl_opts *o, const char *w, bool *seen_help_word,
		     char *err, size_t errlen)
{
	size_t i;

	if (o->cmd == CTL_CMD_NONE) {
		if (strcmp(w, "help") == 0 && !*seen_help_word) {
			*seen_help_word = true;
			o->help = true;
			return 0;
		}
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (strcmp(w, commands[i].name) == 0) {
				o->cmd = commands[i].cmd;
				return 0;
			}
		}
		return ctl_usage(err, errlen, "unknown command \"%s\"", w);
	}
	if (o->cmd == CTL_CMD_TAGS) {
		if (strcmp(w, "set") == 0)
			o->cmd = CTL_CMD_TAGS_SET;
		else if (strcmp(w, "del") == 0)
			o->cmd = CTL_CMD_TAGS_DEL;
		else
			return ctl_usage(err, errlen, "unknown tags subcommand "
				     "\"%s\" (want set or del)", w);
		return 0;
	}
	if (o->cmd == CTL_CMD_TLS) {
		if (strcmp(w, "init") != 0)
			return ctl_usage(err, errlen, "unknown tls subcommand "
				     "\"%s\" (want init)", w);
		o->cmd = CTL_CMD_TLS_INIT;
		return 0;
	}
	if (o->cmd == CTL_CMD_KEYS) {
		for (i = 0; i < sizeof(keys_subcommands) /
				sizeof(keys_subcommands[0]); i++) {
			if (strcmp(w, keys_subcommands[i].name) == 0) {
				o->cmd = keys_subcommands[i].cmd;
				return 0;
			}
		}
		return ctl_usage(err, errlen, "unknown keys subcommand \"%s\" "
			     "(want generate, list, install, use or remove)",
			     w);
	}
	o->args[o->nargs++] = w;
	return 0;
}

/* Rules that need the whole command line. */
static int check(struct ctl_opts *o, const char *output, const char *timeout,
		 const char *events, const char *dir, const char *days,
		 const char *count, char *err, size_t errlen)
{
	size_t i;
	int e;

	if (output && strcmp(output, "table") == 0)
		o->output = CTL_OUT_TABLE;
	else if (output && strcmp(output, "json") == 0)
		o->output = CTL_OUT_JSON;
	else if (output)
		return ctl_usage(err, errlen, "-o wants table or json, not \"%s\"",
			     output);
	if (!*o->socket)
		return ctl_usage(err, errlen, "the socket path is empty");
	if (timeout && (e = parse_timeout(o, timeout, err, errlen)))
		return e;

	if (o->help || o->version)
		return 0;
	switch (o->cmd) {
	case CTL_CMD_NONE:
		return ctl_usage(err, errlen, "no command given");
	case CTL_CMD_TAGS:
		return ctl_usage(err, errlen, "tags needs a subcommand: set or del");
	case CTL_CMD_TLS:
		return ctl_usage(err, errlen, "tls needs a subcommand: init");
	case CTL_CMD_KEYS:
		return ctl_usage(err, errlen, "keys needs a subcommand: generate, "
			     "list, install, use or remove");
	default:
		break;
	}
	if (o->status && o->cmd != CTL_CMD_MEMBERS)
		return ctl_usage(err, errlen, "--status is an option of members");
	if (events && o->cmd != CTL_CMD_MONITOR)
		return ctl_usage(err, errlen, "--events is an option of monitor");
	if (o->status && strcmp(o->status, "alive") &&
	    strcmp(o->status, "suspect") && strcmp(o->status, "dead") &&
	    strcmp(o->status, "left"))
		return ctl_usage(err, errlen, "--status wants alive, suspect, dead "
			     "or left, not \"%s\"", o->status);
	if (events && (e = split_events(o, events, err, errlen)))
		return e;
	if ((e = ctl_tls_check(o, dir, days, err, errlen)))
		return e;
	if ((e = ctl_keys_check(o, timeout != NULL, err, errlen)))
		return e;
	if ((e = ctl_msg_check(o, count, timeout != NULL, err, errlen)))
		return e;

	switch (o->cmd) {
	case CTL_CMD_JOIN:
		if (!o->nargs)
			return ctl_usage(err, errlen, "join needs at least one "
				     "address");
		return 0;
	case CTL_CMD_TAGS_SET:
		if (!o->nargs)
			return ctl_usage(err, errlen, "tags set needs at least "
				     "one KEY=VALUE");
		for (i = 0; i < o->nargs; i++) {
			char *k, *v;

			e = xg_tags_parse_kv(o->args[i], &k, &v);
			free(k);
			free(v);
			if (e == -ENOMEM)
				return e;
			if (e)
				return ctl_usage(err, errlen, "invalid tag \"%s\": "
					     "want KEY=VALUE", o->args[i]);
		}
		return 0;
	case CTL_CMD_TLS_INIT:
		return 0; /* ctl_tls_check() had its operands */
	case CTL_CMD_KEYS_GENERATE:
	case CTL_CMD_KEYS_LIST:
	case CTL_CMD_KEYS_INSTALL:
	case CTL_CMD_KEYS_USE:
	case CTL_CMD_KEYS_REMOVE:
		return 0; /* ctl_keys_check() had its operands */
	case CTL_CMD_BROADCAST:
	case CTL_CMD_SEND:
	case CTL_CMD_SUBSCRIBE:
		return 0; /* ctl_msg_check() had its operands */
	case CTL_CMD_TAGS_DEL:
		if (!o->nargs)
			return ctl_usage(err, errlen, "tags del needs at least "
				     "one KEY");
		for (i = 0; i < o->nargs; i++)
			if (!xg_tags_key_valid(o->args[i], strlen(o->args[i])))
				return ctl_usage(err, errlen, "invalid tag key "
					     "\"%s\"", o->args[i]);
		return 0;
	default:
		if (o->nargs)
			return ctl_usage(err, errlen, "%s takes no arguments "
				     "(got \"%s\")", ctl_cmd_name(o->cmd),
				     o->args[0]);
		return 0;
	}
}

int ctl_parse_args(int argc, char **argv, const char *env_socket,
		   struct ctl_opts *o, char *err, size_t errlen)
{
	const char *output = NULL, *timeout = NULL, *events = NULL, *val;
	const char *dir = NULL, *days = NULL, *count = NULL;
	bool dashdash = false, help_word = false;
	int i, r;

	memset(o, 0, sizeof(*o));
	o->socket = env_socket && *env_socket ? env_socket : CTL_DEFAULT_SOCKET;
	o->timeout_ns = CTL_DEFAULT_TIMEOUT_NS;
	if (err && errlen)
		err[0] = '\0';
	o->args = calloc(argc > 0 ? (size_t)argc : 1, sizeof(*o->args));
	if (!o->args)
		return -ENOMEM;

	for (i = 1; i < argc; i++) {
		const char *tok = argv[i];

		if (dashdash || tok[0] != '-' || tok[1] == '\0') {
			r = take_word(o, tok, &help_word, err, errlen);
			if (r)
				return r;
			continue;
		}
		if (strcmp(tok, "--") == 0) {
			dashdash = true;
			continue;
		}
		if (strcmp(tok, "-h") == 0 || strcmp(tok, "--help") == 0) {
			o->help = true;
			continue;
		}
		if (strcmp(tok, "--version") == 0) {
			o->version = true;
			continue;
		}
		if (strcmp(tok, "--raw") == 0) {
			o->raw = true;
			continue;
		}
#define VALUE_OPT(lng, shrt, dst)					\
		r = opt_value(argc, argv, &i, lng, shrt, &val);		\
		if (r < 0)						\
			return ctl_usage(err, errlen, "%s needs a value", lng); \
		if (r > 0) {						\
			dst = val;					\
			continue;					\
		}
		VALUE_OPT("--socket", NULL, o->socket)
		VALUE_OPT("--output", "-o", output)
		VALUE_OPT("--timeout", NULL, timeout)
		VALUE_OPT("--status", NULL, o->status)
		VALUE_OPT("--events", NULL, events)
		VALUE_OPT("--dir", NULL, dir)
		VALUE_OPT("--days", NULL, days)
		VALUE_OPT("--count", NULL, count)
#undef VALUE_OPT
		return ctl_usage(err, errlen, "unknown option \"%s\"", tok);
	}
	return check(o, output, timeout, events, dir, days, count, err,
		     errlen);
}

void ctl_opts_free(struct ctl_opts *o)
{
	free(o->args);
	free(o->events);
	free(o->events_buf);
	o->args = NULL;
	o->events = NULL;
	o->events_buf = NULL;
}
