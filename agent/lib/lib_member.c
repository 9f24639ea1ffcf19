/* SPDX-License-Identifier: MIT */
/* Members and membership events in the public types (plain C, no core
 * headers needed by the application). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgossip/wire.h>

#include "core/addr.h"
#include "daemon/agent.h"
#include "lib/lib_int.h"

_Static_assert(XGOSSIP_NAME_MAX == XG_NAME_MAX, "name size");
_Static_assert(XGOSSIP_TAGS_MAX == XG_META_MAX, "tags size");
_Static_assert(XGOSSIP_ADDR_MAX == XG_ADDR_STRLEN, "address size");

static enum xgossip_state state_of(enum xg_state s)
{
	switch (s) {
	case XG_SUSPECT: return XGOSSIP_SUSPECT;
	case XG_DEAD:    return XGOSSIP_DEAD;
	case XG_LEFT:    return XGOSSIP_LEFT;
	default:         return XGOSSIP_ALIVE;
	}
}

void lib_member_from(struct xgossip_member *out, const struct xg_member_info *m)
{
	size_t len = m->meta_len < XG_META_MAX ? m->meta_len : XG_META_MAX;

	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%.*s",
		 (int)strnlen(m->name, sizeof(m->name)), m->name);
	out->id = m->id;
	xg_addr_format(&m->addr, out->addr, sizeof(out->addr));
	out->state = state_of(m->state);
	out->incarnation = m->incarnation;
	/* Tags are text on the wire (util/tags.h): a NUL inside can only come
	 * from a peer that breaks the format, and ends the string early. */
	memcpy(out->tags, m->meta, len);
	out->tags[len] = '\0';
	out->self = m->is_self;
}

enum xgossip_event_type lib_event_type(enum xg_event_type t)
{
	switch (t) {
	case XG_EV_JOIN:    return XGOSSIP_EV_JOIN;
	case XG_EV_LEAVE:   return XGOSSIP_EV_LEAVE;
	case XG_EV_FAIL:    return XGOSSIP_EV_FAIL;
	case XG_EV_UPDATE:  return XGOSSIP_EV_UPDATE;
	case XG_EV_SUSPECT: return XGOSSIP_EV_SUSPECT;
	case XG_EV_ALIVE:   return XGOSSIP_EV_ALIVE;
	default:            return XGOSSIP_EV_REFUTE;
	}
}

const char *xgossip_state_name(enum xgossip_state s)
{
	switch (s) {
	case XGOSSIP_ALIVE:   return "alive";
	case XGOSSIP_SUSPECT: return "suspect";
	case XGOSSIP_DEAD:    return "dead";
	case XGOSSIP_LEFT:    return "left";
	}
	return "?";
}

const char *xgossip_event_name(enum xgossip_event_type t)
{
	switch (t) {
	case XGOSSIP_EV_JOIN:    return "join";
	case XGOSSIP_EV_LEAVE:   return "leave";
	case XGOSSIP_EV_FAIL:    return "fail";
	case XGOSSIP_EV_UPDATE:  return "update";
	case XGOSSIP_EV_SUSPECT: return "suspect";
	case XGOSSIP_EV_ALIVE:   return "alive";
	case XGOSSIP_EV_REFUTE:  return "refute";
	}
	return "?";
}

const char *xgossip_tag(const struct xgossip_member *m, const char *key,
			char *buf, size_t cap)
{
	size_t klen = key ? strlen(key) : 0;
	const char *p;

	if (!m || klen == 0 || !buf || cap == 0)
		return NULL;
	for (p = m->tags; *p; ) {
		size_t n = strcspn(p, "\n");

		if (n > klen && p[klen] == '=' && memcmp(p, key, klen) == 0) {
			snprintf(buf, cap, "%.*s", (int)(n - klen - 1),
				 p + klen + 1);
			return buf;
		}
		p += n;
		if (*p)
			p++;
	}
	return NULL;
}

int xgossip_members(struct xgossip *g, struct xgossip_member **out, size_t *n)
{
	const struct xg_core *core;
	struct xg_member_info info;
	struct xgossip_member *v;
	size_t count, i, k = 0;

	*out = NULL;
	*n = 0;
	if (g->closing)
		return -ESHUTDOWN;
	core = xg_agent_core(g->agent);
	count = xg_core_member_count(core);
	v = calloc(count ? count : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < count; i++)
		if (xg_core_member_at(core, i, &info) == 0)
			lib_member_from(&v[k++], &info);
	*out = v;
	*n = k;
	return 0;
}

void xgossip_members_free(struct xgossip_member *members)
{
	free(members);
}

int xgossip_self(struct xgossip *g, struct xgossip_member *out)
{
	if (g->closing)
		return -ESHUTDOWN;
	lib_member_from(out, xg_core_self(xg_agent_core(g->agent)));
	return 0;
}
