/* SPDX-License-Identifier: MIT */
/*
 * xgossipctl keys: the cluster keyring of UDP gossip (agent/util/keyring.h).
 * "generate" runs locally; list, install, use and remove ask the agent,
 * which asks every live member (docs/CONTROL.md, "keys").
 */
#ifndef XGOSSIPCTL_CMD_KEYS_H
#define XGOSSIPCTL_CMD_KEYS_H

#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>

#include "args.h"

/* The agent answers once every member answered or timed out (about 6 s),
 * so the global 10 s default would be cutting it close on a loaded host. */
#define CTL_KEYS_DEFAULT_TIMEOUT_NS (20ULL * 1000000000ULL)

/* Its manual page (help.c prints it like the others). */
extern const char ctl_keys_page[];
extern const char ctl_keys_examples[];

/* list, install, use or remove: the ones that talk to the agent. */
bool ctl_keys_asks_agent(enum ctl_cmd c);

/* Command-line rules of the keys subcommands: install/use/remove take
 * exactly one valid KEY (stored canonical in o->key), the others none.
 * timeout_given says whether --timeout was on the command line; if not,
 * the agent commands get CTL_KEYS_DEFAULT_TIMEOUT_NS.  0 or -EINVAL with
 * a message in err; does nothing for other commands. */
int ctl_keys_check(struct ctl_opts *o, bool timeout_given, char *err,
		   size_t errlen);

/* Add "op" (and "key") to a request whose "cmd" is already "keys".
 * 0 or -ENOMEM. */
int ctl_keys_request(const struct ctl_opts *o, json_object *req);

/* keys generate: print a new key; returns the exit status. */
int ctl_keys_generate(const struct ctl_opts *o, FILE *out, FILE *err);

/* A reply with "ok":true to a keys request: print it (-o table) and
 * return the exit status: 1 when a node failed or did not answer, or the
 * reply is not shaped as documented. */
int ctl_keys_reply(const struct ctl_opts *o, json_object *reply, FILE *out,
		   FILE *err);

#endif /* XGOSSIPCTL_CMD_KEYS_H */
