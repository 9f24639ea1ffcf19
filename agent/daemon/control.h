/* SPDX-License-Identifier: MIT */
/*
 * The control socket: a Unix stream socket speaking line-delimited JSON
 * (docs/CONTROL.md).  xgossipctl is its main client; anything that can write
 * a line of JSON to a Unix socket can be another.
 */
#ifndef XGOSSIP_DAEMON_CONTROL_H
#define XGOSSIP_DAEMON_CONTROL_H

#include "agent.h"

struct xg_control;

/* Bind path (mode 0660, parent directory created 0755), register with the
 * agent's loop.  A stale socket file from a dead agent is replaced; a live
 * one is an error (-EADDRINUSE). */
int  xg_control_open(struct xg_control **out, struct xg_agent *a,
		     const char *path);
void xg_control_close(struct xg_control *c); /* unlinks the path */

/* The agent forwards every core event here; monitor clients get a line. */
void xg_control_on_event(struct xg_control *c, const struct xg_event *ev);

/* A user message delivered to this node: subscribers of its topic get a
 * line (docs/CONTROL.md, "subscribe").  origin_name may be NULL. */
struct xg_msg;
void xg_control_on_message(struct xg_control *c, const struct xg_msg *m,
			   bool unicast, const char *origin_name);

#endif /* XGOSSIP_DAEMON_CONTROL_H */
