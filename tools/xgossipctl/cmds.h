/* SPDX-License-Identifier: MIT */
/* Running one parsed xgossipctl command against the agent. */
#ifndef XGOSSIPCTL_CMDS_H
#define XGOSSIPCTL_CMDS_H

#include <stdio.h>

#include <json-c/json.h>

#include "args.h"

/* The request line for o->cmd (docs/CONTROL.md); NULL on out-of-memory. */
json_object *ctl_build_request(const struct ctl_opts *o);

/* Connect, ask, print the answer to out (messages to err); returns the
 * exit status (CTL_EXIT_*). */
int ctl_run(const struct ctl_opts *o, FILE *out, FILE *err);

#endif /* XGOSSIPCTL_CMDS_H */
