/* SPDX-License-Identifier: MIT */
#include "msg_text.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/base64.h"

#define GAP "  "

/* Messages stream in, so widths cannot follow the data (as for monitor):
 * fixed columns wide enough for an ISO time with microseconds, a node id
 * in hex and the usual topic, pushed right by anything longer. */
enum { COL_RECEIVED, COL_KIND, COL_FROM, COL_TOPIC, COL_SIZE, NCOLS };
static const struct {
	const char *head;
	size_t      width;
} cols[NCOLS] = {
	[COL_RECEIVED] = { "Received", 27 },
	[COL_KIND]     = { "Kind",      9 },
	[COL_FROM]     = { "From",     16 },
	[COL_TOPIC]    = { "Topic",    16 },
	[COL_SIZE]     = { "Size",      8 },
};

static const char *str_field(json_object *o, const char *k)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int decode_payload(json_object *ev, struct ctl_msg_event *m)
{
	json_object *v = NULL;
	const char *b64;
	size_t n, cap;
	int err;

	if (!json_object_object_get_ex(ev, "payload", &v) ||
	    !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	b64 = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	cap = n / 4 * 3;
	/* One spare byte: malloc(0) may give NULL, which reads as failure. */
	m->payload = malloc(cap + 1);
	if (!m->payload)
		return -ENOMEM;
	err = xg_b64_decode(b64, n, m->payload, cap, &m->len);
	return err ? -EBADMSG : 0;
}

/* "size", when there, must be what the payload decodes to: a mismatch
 * means the agent and this client disagree on the protocol. */
static bool size_matches(json_object *ev, size_t len)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(ev, "size", &v))
		return true;
	return json_object_is_type(v, json_type_int) &&
	       json_object_get_int64(v) >= 0 &&
	       (uint64_t)json_object_get_int64(v) == (uint64_t)len;
}

int ctl_msg_event_read(json_object *ev, struct ctl_msg_event *m)
{
	const char *event = str_field(ev, "event");
	int err;

	memset(m, 0, sizeof(*m));
	if (!event || strcmp(event, "message") != 0)
		return 1;
	m->topic = str_field(ev, "topic");
	if (!m->topic)
		return -EBADMSG;
	err = decode_payload(ev, m);
	if (!err && !size_matches(ev, m->len))
		err = -EBADMSG;
	if (err) {
		ctl_msg_event_free(m);
		return err;
	}
	m->received = str_field(ev, "received");
	m->kind = str_field(ev, "kind");
	m->from = str_field(ev, "origin_name");
	if (!m->from)
		m->from = str_field(ev, "origin");
	return 0;
}

void ctl_msg_event_free(struct ctl_msg_event *m)
{
	free(m->payload);
	m->payload = NULL;
	m->len = 0;
}

/* Length of the UTF-8 sequence at p[0..n) and its code point, or 0 when
 * it is not the one shortest encoding of a scalar value. */
static size_t utf8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
	size_t len, i;
	uint32_t c = p[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2, c &= 0x1f, min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3, c &= 0x0f, min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4, c &= 0x07, min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool ctl_msg_is_line_text(const uint8_t *p, size_t n)
{
	size_t i = 0;

	if (n && p[n - 1] == '\n')
		n--;
	if (n == 0)
		return false;
	while (i < n) {
		uint32_t cp;
		size_t k = utf8_next(p + i, n - i, &cp);

		if (!k || is_control(cp))
			return false;
		i += k;
	}
	return true;
}

/* Names and topics come from other nodes: whatever the agent let
 * through, nothing but printable ASCII reaches the terminal. */
static void put_clean(FILE *out, const char *s, size_t width)
{
	size_t w = 0;

	for (; *s; s++, w++)
		fputc(*s >= 0x20 && *s <= 0x7e ? *s : '?', out);
	for (; w < width; w++)
		fputc(' ', out);
}

static void put_cell(FILE *out, const char *s, size_t col)
{
	put_clean(out, s && *s ? s : "-", cols[col].width);
	fputs(GAP, out);
}

void ctl_msg_print_header(FILE *out)
{
	size_t c;

	for (c = 0; c < NCOLS; c++)
		put_cell(out, cols[c].head, c);
	fputs("Payload\n", out);
}

/* The first CTL_MSG_TEXT_SHOWN characters of text already checked by
 * ctl_msg_is_line_text(), without its final newline. */
static void put_text(FILE *out, const uint8_t *p, size_t n)
{
	size_t i = 0, chars = 0;

	if (p[n - 1] == '\n')
		n--;
	while (i < n && chars < CTL_MSG_TEXT_SHOWN) {
		uint32_t cp;

		i += utf8_next(p + i, n - i, &cp);
		chars++;
	}
	fwrite(p, 1, i, out);
	if (i < n)
		fputs("...", out);
}

void ctl_msg_print_text(FILE *out, const struct ctl_msg_event *m)
{
	char size[24];

	snprintf(size, sizeof(size), "%zu", m->len);
	put_cell(out, m->received, COL_RECEIVED);
	put_cell(out, m->kind, COL_KIND);
	put_cell(out, m->from, COL_FROM);
	put_cell(out, m->topic, COL_TOPIC);
	put_cell(out, size, COL_SIZE);
	if (ctl_msg_is_line_text(m->payload, m->len))
		put_text(out, m->payload, m->len);
	else
		fprintf(out, "<%zu byte%s>", m->len, m->len == 1 ? "" : "s");
	fputc('\n', out);
}

void ctl_msg_print_raw(FILE *out, const struct ctl_msg_event *m)
{
	fwrite(m->payload, 1, m->len, out);
	fputc('\n', out);
}
