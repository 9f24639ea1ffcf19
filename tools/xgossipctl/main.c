/* SPDX-License-Identifier: MIT */
/* xgossipctl: the operator's view of a running xgossipd (docs/CLI.md). */
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "cmds.h"
#include "help.h"

int main(int argc, char **argv)
{
	struct ctl_opts o;
	char err[512];
	int r;

	r = ctl_parse_args(argc, argv, getenv(CTL_SOCKET_ENV), &o, err,
			   sizeof(err));
	if (r) {
		if (err[0])
			fprintf(stderr, "xgossipctl: %s\n", err);
		else
			perror("xgossipctl");
		ctl_usage_hint(stderr, o.cmd);
		ctl_opts_free(&o);
		return CTL_EXIT_USAGE;
	}
	r = ctl_run(&o, stdout, stderr);
	ctl_opts_free(&o);
	return r;
}
