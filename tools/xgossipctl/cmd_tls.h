/* SPDX-License-Identifier: MIT */
/*
 * xgossipctl tls init: make the cluster CA and node certificates for TLS
 * (agent/util/certs.h).  Runs locally; no agent is involved.
 */
#ifndef XGOSSIPCTL_CMD_TLS_H
#define XGOSSIPCTL_CMD_TLS_H

#include <stdio.h>

#include "args.h"

#define CTL_TLS_DEFAULT_DIR  "./xgossip-tls"
#define CTL_TLS_DEFAULT_DAYS 825

/* Its manual page (help.c prints it like the others). */
extern const char ctl_tls_page[];
extern const char ctl_tls_examples[];

/* Command-line rules of tls init: --dir and --days (NULL when not given)
 * belong to it alone; it needs at least one valid, distinct NAME.  Fills
 * o->tls_dir and o->tls_days.  0 or -EINVAL with a message in err. */
int ctl_tls_check(struct ctl_opts *o, const char *dir, const char *days,
		  char *err, size_t errlen);

/* Write the files and list them on out; returns the exit status. */
int ctl_tls_init(const struct ctl_opts *o, FILE *out, FILE *err);

#endif /* XGOSSIPCTL_CMD_TLS_H */
