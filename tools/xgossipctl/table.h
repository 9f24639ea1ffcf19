/* SPDX-License-Identifier: MIT */
/*
 * Human output of xgossipctl (-o table): replies of the control protocol
 * turned into aligned text.  Everything writes to a FILE * so tests can
 * render into memory and compare.
 */
#ifndef XGOSSIPCTL_TABLE_H
#define XGOSSIPCTL_TABLE_H

#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

/* Columns taken by UTF-8 text: one per code point (no wide glyphs). */
size_t ctl_text_width(const char *s);

/* "k=v,k=v" in the object's order; malloc'd (caller frees), NULL on
 * out-of-memory.  A missing or empty object gives "". */
char *ctl_tags_text(json_object *tags);

/* A value as one cell: strings as they are, null as "-", objects as
 * k=v,... and arrays comma-joined.  malloc'd, NULL on out-of-memory. */
char *ctl_value_text(json_object *v);

/* The "members" reply: Name, Address, Status, Incarnation, Tags. */
int ctl_print_members(FILE *out, json_object *reply);

/* The "info" reply (and the "xdp" one, shaped alike): one block per
 * section, "  key = value" lines. */
int ctl_print_info(FILE *out, json_object *reply);

/* Monitor output: a header, then one row per event. */
void ctl_print_event_header(FILE *out);
int  ctl_print_event(FILE *out, json_object *ev);

#endif /* XGOSSIPCTL_TABLE_H */
