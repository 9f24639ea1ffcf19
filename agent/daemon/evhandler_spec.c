/* SPDX-License-Identifier: MIT */
#include "daemon/evhandler_spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"

static const struct {
	const char        *name;
	uint32_t           bit;
	enum xg_event_type type;
} member_events[] = {
	{ "member-join",    XG_EVH_E_JOIN,    XG_EV_JOIN },
	{ "member-leave",   XG_EVH_E_LEAVE,   XG_EV_LEAVE },
	{ "member-failed",  XG_EVH_E_FAILED,  XG_EV_FAIL },
	{ "member-update",  XG_EVH_E_UPDATE,  XG_EV_UPDATE },
	{ "member-suspect", XG_EVH_E_SUSPECT, XG_EV_SUSPECT },
	{ "member-alive",   XG_EVH_E_ALIVE,   XG_EV_ALIVE },
};

#define N_MEMBER_EVENTS (sizeof(member_events) / sizeof(member_events[0]))

const char *xg_evh_member_event_name(enum xg_event_type t)
{
	size_t i;

	for (i = 0; i < N_MEMBER_EVENTS; i++)
		if (member_events[i].type == t)
			return member_events[i].name;
	return NULL;
}

bool xg_evh_spec_wants_member(const struct xg_evh_spec *s,
			      enum xg_event_type t)
{
	size_t i;

	for (i = 0; i < N_MEMBER_EVENTS; i++)
		if (member_events[i].type == t)
			return (s->events & member_events[i].bit) != 0;
	return false;
}

bool xg_evh_spec_wants_user(const struct xg_evh_spec *s, const char *topic)
{
	size_t i;

	if (s->events & XG_EVH_E_USER)
		return true;
	for (i = 0; i < s->n_topics; i++)
		if (strcmp(s->topics[i], topic) == 0)
			return true;
	return false;
}

void xg_evh_spec_free(struct xg_evh_spec *s)
{
	size_t i;

	for (i = 0; i < s->n_topics; i++)
		free(s->topics[i]);
	free(s->topics);
	free(s->path);
	memset(s, 0, sizeof(*s));
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t cap, const char *fmt, ...)
{
	va_list ap;

	if (cap) {
		va_start(ap, fmt);
		vsnprintf(why, cap, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int add_topic(struct xg_evh_spec *s, const char *t, size_t len)
{
	char **v = realloc(s->topics, (s->n_topics + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	s->topics = v;
	v[s->n_topics] = strndup(t, len);
	if (!v[s->n_topics])
		return -ENOMEM;
	s->n_topics++;
	return 0;
}

static int one_item(struct xg_evh_spec *s, const char *item, size_t len,
		    char *why, size_t cap)
{
	size_t i;

	if (len == 0)
		return fail(why, cap, "empty event in the filter");
	if (len == 1 && item[0] == '*') {
		s->events |= XG_EVH_E_ALL;
		return 0;
	}
	if (len == 4 && memcmp(item, "user", 4) == 0) {
		s->events |= XG_EVH_E_USER;
		return 0;
	}
	if (len >= 5 && memcmp(item, "user:", 5) == 0) {
		if (!xg_msg_topic_valid(item + 5, len - 5))
			return fail(why, cap, "'%.*s': a topic is 1-%d "
				    "printable ASCII characters", (int)len,
				    item, XG_MSG_TOPIC_MAX);
		return add_topic(s, item + 5, len - 5);
	}
	for (i = 0; i < N_MEMBER_EVENTS; i++) {
		if (strlen(member_events[i].name) == len &&
		    memcmp(member_events[i].name, item, len) == 0) {
			s->events |= member_events[i].bit;
			return 0;
		}
	}
	return fail(why, cap, "unknown event '%.*s' (member-join, "
		    "member-leave, member-failed, member-update, "
		    "member-suspect, member-alive, user, user:TOPIC or *; "
		    "a PATH holding '=' needs a filter: '*=PATH')",
		    (int)len, item);
}

static int parse_filter(struct xg_evh_spec *s, const char *f, size_t len,
			char *why, size_t cap)
{
	const char *end = f + len;
	int err;

	for (;;) {
		const char *comma = memchr(f, ',', (size_t)(end - f));
		size_t n = comma ? (size_t)(comma - f) : (size_t)(end - f);

		err = one_item(s, f, n, why, cap);
		if (err || !comma)
			return err;
		f = comma + 1;
	}
}

int xg_evh_spec_parse(const char *arg, struct xg_evh_spec *out, char *why,
		      size_t cap)
{
	const char *eq = strchr(arg, '=');
	const char *path = eq ? eq + 1 : arg;
	int err;

	memset(out, 0, sizeof(*out));
	if (cap)
		why[0] = '\0';
	if (eq) {
		err = parse_filter(out, arg, (size_t)(eq - arg), why, cap);
		if (err)
			return err;
	} else {
		out->events = XG_EVH_E_ALL;
	}
	if (!*path)
		return fail(why, cap, "no PATH to run");
	out->path = strdup(path);
	return out->path ? 0 : -ENOMEM;
}

int xg_evh_specs_add(struct xg_evh_spec **v, size_t *n, const char *arg,
		     char *why, size_t cap)
{
	struct xg_evh_spec s, *nv;
	int err;

	if (*n >= XG_EVH_SPECS_MAX) {
		if (cap)
			snprintf(why, cap, "at most %d handlers",
				 XG_EVH_SPECS_MAX);
		return -E2BIG;
	}
	err = xg_evh_spec_parse(arg, &s, why, cap);
	if (err) {
		xg_evh_spec_free(&s);
		return err;
	}
	nv = realloc(*v, (*n + 1) * sizeof(*nv));
	if (!nv) {
		xg_evh_spec_free(&s);
		return -ENOMEM;
	}
	nv[*n] = s;
	*v = nv;
	(*n)++;
	return 0;
}

void xg_evh_specs_free(struct xg_evh_spec *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		xg_evh_spec_free(&v[i]);
	free(v);
}
