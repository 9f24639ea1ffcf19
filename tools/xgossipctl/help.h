/* SPDX-License-Identifier: MIT */
/* xgossipctl's manual: the overall page and one per command. */
#ifndef XGOSSIPCTL_HELP_H
#define XGOSSIPCTL_HELP_H

#include <stdio.h>

#include "args.h"

/* The page for cmd; CTL_CMD_NONE gives the overall one. */
void ctl_help(FILE *out, enum ctl_cmd cmd);

/* Two lines for usage errors: what to type instead. */
void ctl_usage_hint(FILE *err, enum ctl_cmd cmd);

#endif /* XGOSSIPCTL_HELP_H */
