/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the control server's files: control.c (socket,
 * connections, framing, event fan-out) and control_cmd.c (what each request
 * does).  Not for use outside agent/daemon/control*.c and their tests.
 */
#ifndef XGOSSIP_DAEMON_CONTROL_INT_H
#define XGOSSIP_DAEMON_CONTROL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "agent.h"
#include "control.h"
#include "loop.h"

/* A request line may be this long, not counting its '\n': a broadcast
 * of the largest message, in base64, with room for the rest. */
#define XG_CTL_LINE_MAX    (24u << 20)
/* Connections at once; one more is told "too many clients" and closed. */
#define XG_CTL_MAX_CLIENTS 64
/* Unsent monitor output a client may have queued before it is dropped.
 * A subscriber may exceed it by one message: a 16 MiB message must reach
 * a subscriber that reads. */
#define XG_CTL_MONITOR_BUF (1u << 20)
/* A request/response client stops being read while this much of its
 * output is unsent, so one that never reads cannot make us queue replies
 * without bound. */
#define XG_CTL_REPLY_BACKLOG (64u * 1024)
/* Loop priority of the listener and the clients: after the UDP socket and
 * the timers, which keep the protocol on time. */
#define XG_CTL_PRIO 2

struct ctl_join;
struct ctl_keys;
struct ctl_send;

struct ctl_client {
	struct xg_watch     w;
	struct xg_control  *ctl;
	struct ctl_client  *prev, *next;
	uint64_t            serial;     /* for log lines */

	char               *in;         /* grows up to XG_CTL_LINE_MAX + 1 */
	size_t              in_len, in_cap;
	char               *out;
	size_t              out_off, out_len, out_cap;
	uint32_t            epoll_mask; /* what the loop watches now */

	struct ctl_join    *join;       /* a join waiting for the agent */
	struct ctl_keys    *keys;       /* a key change waiting for members */
	struct ctl_send    *send;       /* a unicast waiting for its receipt */
	bool                monitor;
	uint32_t            event_mask; /* bit (1 << enum xg_event_type) */
	bool                subscriber; /* a monitor of user messages */
	char              **topics;     /* owned; none: every topic */
	size_t              ntopics;
	bool                rd_closed;  /* the peer shut down its sending side */
	bool                closing;    /* protocol error: flush, then close */
	bool                in_process; /* inside client_process() */
	bool                dead;       /* fd closed; freed at the next reap */
};

struct xg_control {
	struct xg_agent   *agent;
	struct xg_loop    *loop;
	struct xg_watch    listen;
	int                reserve_fd;  /* spent to shed a connection at EMFILE */
	char              *path;
	dev_t              sock_dev;    /* the socket file we made, so close */
	ino_t              sock_ino;    /* unlinks only that one */

	struct ctl_client *clients;
	size_t             nclients;
	size_t             nmonitors;
	uint64_t           next_serial;
	unsigned           depth;       /* nesting of entry points; reap at 0 */

	uint64_t           accepted, refused, monitors_dropped;
};

/* control.c */
/* Queue one JSON value as a line (ownership of obj stays with the caller)
 * and try to send it.  0 or -errno; on error the client is marked dead. */
int  ctl_send_json(struct ctl_client *c, json_object *obj);
/* {"ok":false,"error":msg} */
int  ctl_send_error(struct ctl_client *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A reply that may arrive after the client went away: process the input
 * that waited for it and re-arm the watch (a no-op on a dead client). */
void ctl_resume(struct ctl_client *c);
void ctl_enter(struct xg_control *ctl);
void ctl_leave(struct xg_control *ctl);

/* control_cmd.c */
/* Handle one request line (without its newline).  Returns 0, or a
 * negative errno for a protocol violation after which the connection is
 * closed (the error reply is already queued). */
int  ctl_handle_line(struct ctl_client *c, const char *line, size_t len);
/* The client is going away: a pending join must not call back into it. */
void ctl_orphan_join(struct ctl_client *c);

/* Reply building shared by the command files: {"ok":true} (NULL when out
 * of memory); send a reply (an "out of memory" error if reply is NULL or
 * err is set) and release it; req[key] as an array of 1..max strings,
 * *out malloc'd and pointing into req (0, or -EINVAL after an error reply
 * was sent). */
json_object *ctl_ok_reply(void);
void ctl_send_reply(struct ctl_client *c, json_object *reply, int err);
int  ctl_string_array(struct ctl_client *c, json_object *req,
		      const char *key, size_t max, bool required,
		      const char ***out, size_t *n);

/* control_msg.c: broadcast, send, subscribe. */
void ctl_cmd_broadcast(struct ctl_client *c, json_object *req);
void ctl_cmd_subscribe(struct ctl_client *c, json_object *req);
void ctl_cmd_send(struct ctl_client *c, json_object *req);
void ctl_orphan_send(struct ctl_client *c);
bool ctl_subscribed(const struct ctl_client *c, const char *topic);
struct xg_msg;
struct xg_msgr_stats;
/* "messages" in the info reply: every messenger counter by name. */
json_object *ctl_msg_stats_json(const struct xg_msgr_stats *st);
/* One subscriber line for a delivered message, without the newline:
 * malloc'd, its length in *len; NULL when out of memory. */
char *ctl_message_line(const struct xg_msg *m, bool unicast,
		       const char *origin_name, uint64_t now_real_ns,
		       size_t *len);

/* control_keys.c: the "keys" command, answered once the members have. */
void ctl_cmd_keys(struct ctl_client *c, json_object *req);
void ctl_orphan_keys(struct ctl_client *c);

/* A request whose answer comes later holds up the client's next ones. */
static inline bool ctl_waiting(const struct ctl_client *c)
{
	return c->join || c->keys || c->send;
}

#endif /* XGOSSIP_DAEMON_CONTROL_INT_H */
