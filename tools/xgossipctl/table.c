/* SPDX-License-Identifier: MIT */
#include "table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define GAP "  "

size_t ctl_text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

/* Growable string for the few joins below. */
struct sbuf {
	char  *s;
	size_t len, cap;
	int    err;
};

static void sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 64;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static char *sb_done(struct sbuf *b)
{
	if (b->err) {
		free(b->s);
		return NULL;
	}
	if (!b->s)
		return strdup("");
	return b->s;
}

char *ctl_tags_text(json_object *tags)
{
	struct sbuf b = { 0 };
	bool first = true;

	if (tags && json_object_is_type(tags, json_type_object)) {
		json_object_object_foreach(tags, k, v) {
			if (!first)
				sb_str(&b, ",");
			first = false;
			sb_str(&b, k);
			sb_str(&b, "=");
			sb_str(&b, v ? json_object_get_string(v) : "");
		}
	}
	return sb_done(&b);
}

char *ctl_value_text(json_object *v)
{
	struct sbuf b = { 0 };
	size_t i, n;

	if (!v)
		return strdup("-");
	switch (json_object_get_type(v)) {
	case json_type_object:
		return ctl_tags_text(v);
	case json_type_array:
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			char *s = ctl_value_text(json_object_array_get_idx(v, i));

			if (!s) {
				free(b.s);
				return NULL;
			}
			if (i)
				sb_str(&b, ",");
			sb_str(&b, s);
			free(s);
		}
		return sb_done(&b);
	default:
		return strdup(json_object_get_string(v));
	}
}

static json_object *field(json_object *o, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(o, key, &v);
	return v;
}

static void pad(FILE *out, const char *s, size_t width)
{
	size_t w = ctl_text_width(s);

	fputs(s, out);
	for (; w < width; w++)
		fputc(' ', out);
}

/* One row of cells padded to widths, two blanks apart, with no blanks at
 * the end of the line (the last column is not padded, and nothing is
 * printed for empty cells at the end). */
static void print_row(FILE *out, char *const *cells, const size_t *widths,
		      size_t ncols)
{
	size_t c, last = ncols;

	while (last > 1 && !*cells[last - 1])
		last--;
	for (c = 0; c < last; c++) {
		if (c + 1 < last) {
			pad(out, cells[c], widths[c]);
			fputs(GAP, out);
		} else {
			fputs(cells[c], out);
		}
	}
	fputc('\n', out);
}

#define MEMBER_COLS 5
static const char *const member_heads[MEMBER_COLS] = {
	"Name", "Address", "Status", "Incarnation", "Tags",
};
static const char *const member_keys[MEMBER_COLS] = {
	"name", "addr", "status", "incarnation", "tags",
};

int ctl_print_members(FILE *out, json_object *reply)
{
	json_object *arr = field(reply, "members");
	size_t widths[MEMBER_COLS], i, c, n;
	char **cells;

	if (!arr || !json_object_is_type(arr, json_type_array))
		return -EBADMSG;
	n = json_object_array_length(arr);
	cells = calloc((n + 1) * MEMBER_COLS, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	for (c = 0; c < MEMBER_COLS; c++) {
		cells[c] = strdup(member_heads[c]);
		if (!cells[c])
			goto nomem;
	}
	for (i = 0; i < n; i++) {
		json_object *m = json_object_array_get_idx(arr, i);

		for (c = 0; c < MEMBER_COLS; c++) {
			char **cell = &cells[(i + 1) * MEMBER_COLS + c];

			*cell = ctl_value_text(field(m, member_keys[c]));
			if (!*cell)
				goto nomem;
		}
	}
	for (c = 0; c < MEMBER_COLS; c++) {
		widths[c] = 0;
		for (i = 0; i <= n; i++) {
			size_t w = ctl_text_width(cells[i * MEMBER_COLS + c]);

			if (w > widths[c])
				widths[c] = w;
		}
	}
	for (i = 0; i <= n; i++)
		print_row(out, &cells[i * MEMBER_COLS], widths, MEMBER_COLS);
	for (i = 0; i < (n + 1) * MEMBER_COLS; i++)
		free(cells[i]);
	free(cells);
	return 0;
nomem:
	for (i = 0; i < (n + 1) * MEMBER_COLS; i++)
		free(cells[i]);
	free(cells);
	return -ENOMEM;
}

static int print_section(FILE *out, const char *name, json_object *sec)
{
	size_t width = 0;

	fprintf(out, "%s:\n", name);
	json_object_object_foreach(sec, k0, v0) {
		size_t w = ctl_text_width(k0);

		(void)v0;
		if (w > width)
			width = w;
	}
	json_object_object_foreach(sec, k, v) {
		char *s = ctl_value_text(v);

		if (!s)
			return -ENOMEM;
		fputs(GAP, out);
		pad(out, k, width);
		fprintf(out, " = %s\n", s);
		free(s);
	}
	return 0;
}

int ctl_print_info(FILE *out, json_object *reply)
{
	bool first = true;
	int err;

	if (!reply || !json_object_is_type(reply, json_type_object))
		return -EBADMSG;
	json_object_object_foreach(reply, key, val) {
		if (strcmp(key, "ok") == 0)
			continue;
		if (!first)
			fputc('\n', out);
		first = false;
		if (val && json_object_is_type(val, json_type_object)) {
			err = print_section(out, key, val);
			if (err)
				return err;
		} else {
			char *s = ctl_value_text(val);

			if (!s)
				return -ENOMEM;
			fprintf(out, "%s: %s\n", key, s);
			free(s);
		}
	}
	return 0;
}

/* Events stream in, so widths cannot follow the data: fixed columns wide
 * enough for the usual names and addresses, pushed right when not. */
#define EVENT_COLS 7
static const struct {
	const char *head;
	const char *key;
	size_t      width;
} event_cols[EVENT_COLS] = {
	{ "Time",        "time",        27 },
	{ "Event",       "event",        7 },
	{ "Name",        "name",        20 },
	{ "Address",     "addr",        21 },
	{ "Status",      "status",       7 },
	{ "Incarnation", "incarnation", 11 },
	{ "Tags",        "tags",         0 },
};

void ctl_print_event_header(FILE *out)
{
	size_t widths[EVENT_COLS], c;
	char *heads[EVENT_COLS];

	for (c = 0; c < EVENT_COLS; c++) {
		widths[c] = event_cols[c].width;
		heads[c] = (char *)event_cols[c].head;
	}
	print_row(out, heads, widths, EVENT_COLS);
}

int ctl_print_event(FILE *out, json_object *ev)
{
	char *cells[EVENT_COLS] = { 0 };
	size_t c;
	int err = 0;

	for (c = 0; c < EVENT_COLS && !err; c++) {
		cells[c] = ctl_value_text(field(ev, event_cols[c].key));
		if (!cells[c])
			err = -ENOMEM;
	}
	if (!err) {
		size_t widths[EVENT_COLS];

		for (c = 0; c < EVENT_COLS; c++)
			widths[c] = event_cols[c].width;
		print_row(out, cells, widths, EVENT_COLS);
	}
	for (c = 0; c < EVENT_COLS; c++)
		free(cells[c]);
	return err;
}
