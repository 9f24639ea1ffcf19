/* SPDX-License-Identifier: MIT */
/*
 * One --event-handler as the operator wrote it: "[FILTER=]PATH"
 * (docs/EVENT_HANDLERS.md).  Parsing is pure so flags.c can refuse a bad
 * filter as a usage error; whether PATH can be run is checked when the
 * handlers start (xg_evh_open), with the agent's own view of the files.
 */
#ifndef XGOSSIP_DAEMON_EVHANDLER_SPEC_H
#define XGOSSIP_DAEMON_EVHANDLER_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/swim.h"

/* Handlers per agent: each costs a queue (XG_EVH_QUEUE_MAX entries) and
 * may hold a child process, so the number is bounded like everything
 * else. */
#define XG_EVH_SPECS_MAX 32

/* Event classes a filter selects (XG_EVH_E_USER: every topic). */
enum {
	XG_EVH_E_JOIN    = 1u << 0,
	XG_EVH_E_LEAVE   = 1u << 1,
	XG_EVH_E_FAILED  = 1u << 2,
	XG_EVH_E_UPDATE  = 1u << 3,
	XG_EVH_E_SUSPECT = 1u << 4,
	XG_EVH_E_ALIVE   = 1u << 5,
	XG_EVH_E_USER    = 1u << 6,
	XG_EVH_E_ALL     = (1u << 7) - 1,
};

struct xg_evh_spec {
	uint32_t events;   /* XG_EVH_E_*; never 0 after parsing */
	char   **topics;   /* "user:TOPIC" filters, each malloc'd */
	size_t   n_topics;
	char    *path;     /* malloc'd, as given */
};

/* Parse one --event-handler value into *out (which the caller frees with
 * xg_evh_spec_free, also on error).  The value is split at its first '=':
 * the left side is the filter.  0, -EINVAL with a one-line reason in why
 * (unknown event, empty item, bad topic, empty path) or -ENOMEM. */
int  xg_evh_spec_parse(const char *arg, struct xg_evh_spec *out, char *why,
		       size_t cap);
void xg_evh_spec_free(struct xg_evh_spec *s);

/* Parse arg and append it to the growing array *v of *n specs (at most
 * XG_EVH_SPECS_MAX: -E2BIG).  Errors as xg_evh_spec_parse; *v and *n are
 * unchanged on error. */
int  xg_evh_specs_add(struct xg_evh_spec **v, size_t *n, const char *arg,
		      char *why, size_t cap);
void xg_evh_specs_free(struct xg_evh_spec *v, size_t n);

/* "member-join" ... "member-alive" for the events handlers see; NULL for
 * the others (XG_EV_REFUTE is this node's own business, not an event). */
const char *xg_evh_member_event_name(enum xg_event_type t);

bool xg_evh_spec_wants_member(const struct xg_evh_spec *s,
			      enum xg_event_type t);
bool xg_evh_spec_wants_user(const struct xg_evh_spec *s, const char *topic);

#endif /* XGOSSIP_DAEMON_EVHANDLER_SPEC_H */
