/* SPDX-License-Identifier: MIT */
/* What main() calls: run the agent with a parsed configuration until it
 * leaves or fails.  Returns the process exit status (flags.h). */
#ifndef XGOSSIP_DAEMON_AGENT_RUN_H
#define XGOSSIP_DAEMON_AGENT_RUN_H

#include <stdbool.h>

#include "daemon/agent.h"
#include "daemon/config.h"

int xg_agent_run(const struct xg_agent_config *cfg);

/* The same agent in steps, for a program that embeds it in its own loop
 * (include/xgossip/xgossip.h).  new sets everything up, joins and arms
 * the first timer (-errno, logged, when it cannot start; cfg must outlive
 * the agent); fd is one descriptor that is readable whenever step has
 * work; step waits up to timeout_ms (-1: until there is work, 0: not at
 * all) and does it; done says the agent stopped (it left, or failed);
 * free tears down and returns the exit status (flags.h). */
struct xg_agent;
int  xg_agent_new(struct xg_agent **out, const struct xg_agent_config *cfg,
		  const struct xg_agent_hooks *hooks);
int  xg_agent_fd(const struct xg_agent *a);
int  xg_agent_step(struct xg_agent *a, int timeout_ms);
bool xg_agent_done(const struct xg_agent *a);
int  xg_agent_free(struct xg_agent *a);

#endif /* XGOSSIP_DAEMON_AGENT_RUN_H */
