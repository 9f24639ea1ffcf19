/* SPDX-License-Identifier: MIT */
/*
 * What xgossipctl subscribe prints for one message the agent streams
 * (docs/CONTROL.md, "subscribe"): a line of text for people, or the bare
 * payload (--raw) for pipelines.  Writes to a FILE * so tests can render
 * into memory.
 */
#ifndef XGOSSIPCTL_MSG_TEXT_H
#define XGOSSIPCTL_MSG_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

/* Text payloads longer than this many characters are cut (with "...")
 * on the line: the line is a glance, --raw or -o json has it all. */
#define CTL_MSG_TEXT_SHOWN 200

/* One "message" event, its strings borrowed from the JSON object. */
struct ctl_msg_event {
	const char *received; /* this agent's wall clock at delivery */
	const char *kind;     /* "broadcast" or "unicast" */
	const char *from;     /* origin_name, else the origin's node id */
	const char *topic;
	uint8_t    *payload;  /* decoded, malloc'd */
	size_t      len;
};

/* Read a line of the subscribe stream.  0 (free *m with
 * ctl_msg_event_free), 1 when the line is not a message event (another
 * kind of event, to skip), -EBADMSG when a message event lacks its topic
 * or payload, the payload is not canonical base64, or "size" disagrees
 * with it, or -ENOMEM. */
int  ctl_msg_event_read(json_object *ev, struct ctl_msg_event *m);
void ctl_msg_event_free(struct ctl_msg_event *m);

/* Whether the payload reads as one line of text: valid UTF-8 without
 * control characters (C0, DEL, C1), except one '\n' at the very end
 * (what "echo hello |" sends), which is not shown.  Empty is not. */
bool ctl_msg_is_line_text(const uint8_t *p, size_t n);

/* "Received  Kind  From  Topic  Size  Payload". */
void ctl_msg_print_header(FILE *out);

/* One row under that header: the payload as text when it reads as one
 * line (cut after CTL_MSG_TEXT_SHOWN characters), else "<N bytes>". */
void ctl_msg_print_text(FILE *out, const struct ctl_msg_event *m);

/* --raw: the payload's bytes, then '\n'. */
void ctl_msg_print_raw(FILE *out, const struct ctl_msg_event *m);

#endif /* XGOSSIPCTL_MSG_TEXT_H */
