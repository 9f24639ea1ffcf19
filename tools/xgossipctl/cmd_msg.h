/* SPDX-License-Identifier: MIT */
/*
 * xgossipctl broadcast, send and subscribe: user messages through the
 * agent (docs/MESSAGING.md, docs/CONTROL.md).  The command-line rules,
 * the requests, the replies, and the stream subscribe prints.
 */
#ifndef XGOSSIPCTL_CMD_MSG_H
#define XGOSSIPCTL_CMD_MSG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "args.h"

/* The agent answers send once the target confirmed delivery or gave up
 * (about 5 s), after taking in up to 16 MiB: the global 10 s default
 * would cut it close, so send waits as long as the keys commands. */
#define CTL_SEND_DEFAULT_TIMEOUT_NS (20ULL * 1000000000ULL)

/* subscribe takes at most this many TOPICs, as many as the agent
 * accepts (docs/CONTROL.md): more is a usage error here. */
#define CTL_SUBSCRIBE_MAX_TOPICS 64

/* Their manual pages (cmd_msg_page.c; help.c prints them). */
extern const char ctl_broadcast_page[];
extern const char ctl_broadcast_examples[];
extern const char ctl_send_page[];
extern const char ctl_send_examples[];
extern const char ctl_subscribe_page[];
extern const char ctl_subscribe_examples[];

/* broadcast and send: they carry a payload. */
bool ctl_msg_has_payload(enum ctl_cmd c);

/* Command-line rules: broadcast TOPIC [FILE|-], send NODE TOPIC
 * [FILE|-], subscribe [TOPIC...] with valid topics (1..64 printable
 * ASCII) and a NODE that can be a member name; --raw and --count (NULL
 * when not given) belong to subscribe, --raw not with -o json.  Fills
 * o->node, o->topic, o->payload_path, o->count.  timeout_given says
 * whether --timeout was on the command line; if not, send gets
 * CTL_SEND_DEFAULT_TIMEOUT_NS.  0 or -EINVAL with a message in err. */
int ctl_msg_check(struct ctl_opts *o, const char *count, bool timeout_given,
		  char *err, size_t errlen);

/* Read the payload of broadcast/send (o->payload_path, stdin_fd for
 * standard input) into o->payload and o->payload_len; *owned gets the
 * buffer to free after the exchange.  Returns the exit status: 0, or
 * CTL_EXIT_USAGE (too large, cannot be read) after a message to err. */
int ctl_msg_load_payload(struct ctl_opts *o, int stdin_fd, FILE *err,
			 uint8_t **owned);

/* Add the fields of broadcast, send or subscribe to a request whose
 * "cmd" is already there.  0 or -ENOMEM. */
int ctl_msg_request(const struct ctl_opts *o, json_object *req);

/* An "ok":true reply to broadcast or send, -o table: "id=... size=N",
 * "delivered to NODE id=... rtt=1.2ms".  Returns the exit status (1 if
 * the reply lacks what it should have). */
int ctl_msg_reply(const struct ctl_opts *o, json_object *reply, FILE *out,
		  FILE *err);

/* "rtt" as people read it: "850us", "1.2ms", "2.35s". */
void ctl_msg_format_rtt(int64_t rtt_us, char *buf, size_t len);

/* The lines subscribe streams after the agent accepted it. */
struct ctl_msg_stream {
	const struct ctl_opts *o;
	uint64_t               seen; /* message events printed */
};

/* Before the first line: the header, in the text output. */
void ctl_msg_stream_start(struct ctl_msg_stream *s,
			  const struct ctl_opts *o, FILE *out);

/* Print one line as o asks (text, --raw, or -o json: the line as it
 * came).  0 to go on, 1 when --count messages have been printed,
 * -EBADMSG for a message event not as documented, or -ENOMEM. */
int ctl_msg_stream_line(struct ctl_msg_stream *s, json_object *ev,
			FILE *out);

#endif /* XGOSSIPCTL_CMD_MSG_H */
