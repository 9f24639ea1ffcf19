/* SPDX-License-Identifier: MIT */
/*
 * xgossipd's command line.  Kept apart from main() so tests can feed it
 * argument vectors and check both the result and the error text.
 */
#ifndef XGOSSIP_DAEMON_FLAGS_H
#define XGOSSIP_DAEMON_FLAGS_H

#include <stdio.h>

#include "config.h"

/* Exit statuses of xgossipd (docs/OPERATIONS.md). */
#define XG_EXIT_OK    0
#define XG_EXIT_FAIL  1 /* could not start, or failed while running */
#define XG_EXIT_USAGE 2 /* bad command line */

enum xg_flags_result {
	XG_FLAGS_RUN,  /* cfg is filled in: start the agent */
	XG_FLAGS_EXIT, /* --help or --version was printed to out: exit 0 */
	XG_FLAGS_BAD,  /* a message went to err: exit XG_EXIT_USAGE */
};

/* Parse argv into cfg (which xg_agent_config_init() prepared; the caller
 * frees it whatever the result).  Help and version go to out, errors to
 * err. */
enum xg_flags_result xg_flags_parse(int argc, char **argv,
				    struct xg_agent_config *cfg, FILE *out,
				    FILE *err);

void xg_flags_usage(FILE *out);

/* A --name value: 1..XG_NAME_MAX-1 bytes of printable ASCII without
 * spaces, so it reads unquoted in logs and peers files.  0 or -EINVAL. */
int xg_name_check(const char *name);

/* An --xdp-instance value: 1..XG_XDP_INSTANCE_MAX-1 characters from
 * [A-Za-z0-9._-], not starting with '.'.  0 or -EINVAL. */
int xg_xdp_instance_check(const char *s);
/* The instance used when --xdp-instance is not given: the node name with
 * every character the check refuses replaced by '_'.  out holds at least
 * XG_XDP_INSTANCE_MAX bytes (less truncates). */
void xg_xdp_instance_default(const char *name, char *out, size_t cap);

#endif /* XGOSSIP_DAEMON_FLAGS_H */
