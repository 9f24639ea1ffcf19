/* SPDX-License-Identifier: MIT */
/*
 * What a handler is given for one event: its environment and its stdin,
 * packed into one allocation so that the byte bound counts what the
 * queue really holds and freeing it is one call.
 */
#include "daemon/evhandler_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/evhandler_spec.h"
#include "util/tags.h"

/* Variables per event: PATH, XGOSSIP_EVENT, XGOSSIP_SELF_NAME and up to
 * eight XGOSSIP_USER_*. */
#define ENV_MAX 12
#define ENV_VAR_MAX 160

struct envb {
	char   vars[ENV_MAX][ENV_VAR_MAX];
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static void env_add(struct envb *b, const char *fmt, ...)
{
	va_list ap;

	if (b->n >= ENV_MAX)
		return; /* cannot happen: ENV_MAX counts every caller */
	va_start(ap, fmt);
	vsnprintf(b->vars[b->n++], ENV_VAR_MAX, fmt, ap);
	va_end(ap);
}

static struct xg_evh_rec *pack(const struct envb *b, const void *in,
			       size_t in_len)
{
	size_t strs = 0, i, total;
	struct xg_evh_rec *r;
	char *p;

	for (i = 0; i < b->n; i++)
		strs += strlen(b->vars[i]) + 1;
	total = sizeof(*r) + (b->n + 1) * sizeof(char *) + strs + in_len;
	r = malloc(total);
	if (!r)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->refs = 1;
	r->bytes = total;
	r->envp = (char **)(r + 1);
	p = (char *)(r->envp + b->n + 1);
	for (i = 0; i < b->n; i++) {
		size_t len = strlen(b->vars[i]) + 1;

		memcpy(p, b->vars[i], len);
		r->envp[i] = p;
		p += len;
	}
	r->envp[b->n] = NULL;
	if (in_len)
		memcpy(p, in, in_len);
	r->input = (const uint8_t *)p;
	r->input_len = in_len;
	return r;
}

void xg_evh_rec_put(struct xg_evh_rec *r)
{
	if (r && --r->refs == 0)
		free(r);
}

/* Bytes a line-oriented reader could trip over become \xNN: controls
 * (tab and newline are the separators), DEL, the backslash itself, and
 * in tags the ',' between items.  Anything else, UTF-8 included, is
 * passed as it is. */
static bool needs_escape(unsigned char c, bool in_tags)
{
	return c < 0x20 || c == 0x7f || c == '\\' || (in_tags && c == ',');
}

static size_t escape(char *out, const char *s, size_t len, bool in_tags)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (needs_escape(c, in_tags)) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	return o;
}

/* Metadata that is not tags text is shown as "0x" + hex: no tag item
 * lacks its '=', so a reader can tell the two apart. */
static size_t tags_field(char *out, const uint8_t *meta, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	struct xg_tags t;
	size_t i, o = 0;
	int err;

	err = xg_tags_decode(meta, len, &t);
	if (err == 0) {
		for (i = 0; i < t.n; i++) {
			if (i)
				out[o++] = ',';
			o += escape(out + o, t.keys[i], strlen(t.keys[i]),
				    true);
			out[o++] = '=';
			o += escape(out + o, t.vals[i], strlen(t.vals[i]),
				    true);
		}
	} else if (len) {
		out[o++] = '0';
		out[o++] = 'x';
		for (i = 0; i < len; i++) {
			out[o++] = hex[meta[i] >> 4];
			out[o++] = hex[meta[i] & 15];
		}
	}
	xg_tags_free(&t);
	return o;
}

ssize_t xg_evh_member_line(const struct xg_member_info *m, char *out,
			   size_t cap)
{
	char addr[XG_ADDR_STRLEN];
	const char *state = xg_state_name(m->state);
	size_t meta_len = m->meta_len > XG_META_MAX ? XG_META_MAX : m->meta_len;
	size_t o = 0;

	/* Every field at its longest: the escaped name and tags, or hex
	 * metadata, which is shorter than escaped tags. */
	if (cap < XG_EVH_LINE_MAX)
		return -ENOSPC;
	o += escape(out + o, m->name, strnlen(m->name, sizeof(m->name)),
		    false);
	o += (size_t)snprintf(out + o, cap - o, "\t%s\t%s\t",
			      xg_addr_format(&m->addr, addr, sizeof(addr)),
			      state ? state : "unknown");
	o += tags_field(out + o, m->meta, meta_len);
	out[o++] = '\n';
	return (ssize_t)o;
}

static void env_common(struct envb *b, const char *event,
		       const char *self_name)
{
	env_add(b, "%s", XG_EVH_ENV_PATH);
	env_add(b, "XGOSSIP_EVENT=%s", event);
	env_add(b, "XGOSSIP_SELF_NAME=%s", self_name ? self_name : "");
}

struct xg_evh_rec *xg_evh_rec_member(const char *self_name,
				     const struct xg_event *ev)
{
	const char *event = xg_evh_member_event_name(ev->type);
	char line[XG_EVH_LINE_MAX];
	struct xg_evh_rec *r;
	struct envb b;
	ssize_t n;

	if (!event)
		return NULL;
	n = xg_evh_member_line(ev->member, line, sizeof(line));
	if (n < 0)
		return NULL;
	b.n = 0;
	env_common(&b, event, self_name);
	r = pack(&b, line, (size_t)n);
	if (!r)
		return NULL;
	snprintf(r->event, sizeof(r->event), "%s", event);
	snprintf(r->subject, sizeof(r->subject), "%.*s",
		 (int)strnlen(ev->member->name, sizeof(ev->member->name)),
		 ev->member->name);
	return r;
}

/* ISO 8601 UTC with milliseconds, as the control socket's "sent". */
static void iso_ms(uint64_t ms, char *out, size_t cap)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (!gmtime_r(&secs, &tm)) {
		snprintf(out, cap, "?");
		return;
	}
	snprintf(out, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000));
}

struct xg_evh_rec *xg_evh_rec_message(const char *self_name,
				      const struct xg_msg *m, bool unicast,
				      const char *origin_name)
{
	static const char hex[] = "0123456789abcdef";
	char id[2 * XG_MSG_ID_LEN + 1], sent[80];
	struct xg_evh_rec *r;
	struct envb b;
	size_t i;

	for (i = 0; i < XG_MSG_ID_LEN; i++) {
		id[2 * i] = hex[m->id[i] >> 4];
		id[2 * i + 1] = hex[m->id[i] & 15];
	}
	id[2 * XG_MSG_ID_LEN] = '\0';
	iso_ms(m->origin_ms, sent, sizeof(sent));
	b.n = 0;
	env_common(&b, "user", self_name);
	env_add(&b, "XGOSSIP_USER_TOPIC=%s", m->topic);
	env_add(&b, "XGOSSIP_USER_ID=%s", id);
	if (origin_name && *origin_name)
		env_add(&b, "XGOSSIP_USER_ORIGIN=%s", origin_name);
	else
		env_add(&b, "XGOSSIP_USER_ORIGIN=%016" PRIx64, m->origin_id);
	env_add(&b, "XGOSSIP_USER_ORIGIN_ID=%016" PRIx64, m->origin_id);
	env_add(&b, "XGOSSIP_USER_KIND=%s", unicast ? "unicast" : "broadcast");
	env_add(&b, "XGOSSIP_USER_SENT=%s", sent);
	env_add(&b, "XGOSSIP_USER_HOPS=%u", (unsigned)m->hops);
	env_add(&b, "XGOSSIP_USER_SIZE=%" PRIu32, m->payload_len);
	r = pack(&b, m->payload, m->payload_len);
	if (!r)
		return NULL;
	snprintf(r->event, sizeof(r->event), "user");
	snprintf(r->subject, sizeof(r->subject), "%s", m->topic);
	return r;
}
