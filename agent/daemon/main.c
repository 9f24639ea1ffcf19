/* SPDX-License-Identifier: MIT */
/* xgossipd: parse the command line, run the agent. */
#include <stdio.h>

#include "daemon/agent_run.h"
#include "daemon/flags.h"

int main(int argc, char **argv)
{
	struct xg_agent_config cfg;
	int status;

	xg_agent_config_init(&cfg);
	switch (xg_flags_parse(argc, argv, &cfg, stdout, stderr)) {
	case XG_FLAGS_EXIT:
		status = XG_EXIT_OK;
		break;
	case XG_FLAGS_BAD:
		status = XG_EXIT_USAGE;
		break;
	default:
		status = xg_agent_run(&cfg);
		break;
	}
	xg_agent_config_free(&cfg);
	return status;
}
