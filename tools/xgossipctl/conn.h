/* SPDX-License-Identifier: MIT */
/*
 * The client side of the control protocol: one connection, one JSON
 * object per line each way (docs/CONTROL.md).
 */
#ifndef XGOSSIPCTL_CONN_H
#define XGOSSIPCTL_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/* The longest reply line accepted; "members" of a very large cluster is
 * the biggest thing the agent sends. */
#define CTL_REPLY_MAX (256u << 20)

#include <signal.h>

struct ctl_conn {
	int    fd;
	char  *buf;
	size_t len, cap;
	/* Signal mask while waiting (ppoll), NULL to keep the current one:
	 * lets a caller block SIGINT everywhere except inside the wait, so
	 * the signal cannot slip in between a flag check and the wait. */
	const sigset_t *wait_mask;
};

/* 0 or -errno from socket()/connect(). */
int  ctl_conn_open(struct ctl_conn *c, const char *path);
void ctl_conn_close(struct ctl_conn *c);

/* Write req as one line; 0 or -errno (-ETIMEDOUT past deadline). */
int ctl_conn_send(struct ctl_conn *c, json_object *req, uint64_t deadline_ns);

/* Read the next line as a JSON object into *out (the caller puts it).
 * deadline_ns is on CLOCK_MONOTONIC, 0 for none.  0, -ETIMEDOUT,
 * -ECONNRESET (the agent closed the connection), -EBADMSG (not a JSON
 * object), -E2BIG (over CTL_REPLY_MAX), -EINTR (a signal arrived) or
 * another -errno. */
int ctl_conn_recv(struct ctl_conn *c, uint64_t deadline_ns, json_object **out);

uint64_t ctl_mono_ns(void);

#endif /* XGOSSIPCTL_CONN_H */
