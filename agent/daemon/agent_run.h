/* SPDX-License-Identifier: MIT */
/* What main() calls: run the agent with a parsed configuration until it
 * leaves or fails.  Returns the process exit status (flags.h). */
#ifndef XGOSSIP_DAEMON_AGENT_RUN_H
#define XGOSSIP_DAEMON_AGENT_RUN_H

#include "daemon/config.h"

int xg_agent_run(const struct xg_agent_config *cfg);

#endif /* XGOSSIP_DAEMON_AGENT_RUN_H */
