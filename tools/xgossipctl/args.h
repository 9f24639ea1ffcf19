/* SPDX-License-Identifier: MIT */
/*
 * xgossipctl's command line, parsed into a plain struct before anything is
 * sent: a mistyped command never reaches the agent, and tests can check
 * every rule without a socket.
 */
#ifndef XGOSSIPCTL_ARGS_H
#define XGOSSIPCTL_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/keyring.h"

#define CTL_DEFAULT_SOCKET     "/run/xgossip/xgossip.sock"
#define CTL_SOCKET_ENV         "XGOSSIP_SOCKET"
#define CTL_DEFAULT_TIMEOUT_NS (10ULL * 1000000000ULL)

/* Exit statuses (docs/CLI.md). */
#define CTL_EXIT_OK          0
#define CTL_EXIT_FAILED      1 /* refused, failed, timed out, cut off */
#define CTL_EXIT_USAGE       2
#define CTL_EXIT_UNREACHABLE 3 /* nothing answers on the socket */

enum ctl_cmd {
	CTL_CMD_NONE,
	CTL_CMD_MEMBERS,
	CTL_CMD_INFO,
	CTL_CMD_JOIN,
	CTL_CMD_LEAVE,
	CTL_CMD_TAGS,      /* "tags" without set/del: only for its --help */
	CTL_CMD_TAGS_SET,
	CTL_CMD_TAGS_DEL,
	CTL_CMD_MONITOR,
	CTL_CMD_XDP,
	CTL_CMD_TLS,       /* "tls" without init: only for its --help */
	CTL_CMD_TLS_INIT,  /* local: no agent involved (cmd_tls.h) */
	CTL_CMD_KEYS,      /* "keys" without a subcommand: only for --help */
	CTL_CMD_KEYS_GENERATE, /* local, like tls init (cmd_keys.h) */
	CTL_CMD_KEYS_LIST,
	CTL_CMD_KEYS_INSTALL,
	CTL_CMD_KEYS_USE,
	CTL_CMD_KEYS_REMOVE,
	CTL_CMD_BROADCAST, /* user messages (cmd_msg.h) */
	CTL_CMD_SEND,
	CTL_CMD_SUBSCRIBE,
};

enum ctl_output {
	CTL_OUT_TABLE,
	CTL_OUT_JSON,
};

struct ctl_opts {
	const char     *socket;
	enum ctl_output output;
	uint64_t        timeout_ns;
	enum ctl_cmd    cmd;
	bool            help;     /* print help for cmd (or overall) */
	bool            version;
	const char     *status;   /* members --status */
	const char    **events;   /* monitor --events, split; NULL = all */
	size_t          nevents;
	const char    **args;     /* operands after the command */
	size_t          nargs;
	char           *events_buf; /* owned storage behind events[] */
	const char     *tls_dir;    /* tls init --dir */
	unsigned        tls_days;   /* tls init --days */
	char            key[XG_KEY_B64_LEN + 1]; /* keys install/use/remove:
						    KEY, canonical base64 */
	/* broadcast and send (cmd_msg.h): pointers into args[]. */
	const char     *node;         /* send: NODE */
	const char     *topic;
	const char     *payload_path; /* NULL or "-": standard input */
	/* The payload bytes, read by ctl_run() just before connecting (the
	 * parser must not block on standard input); not owned here. */
	const uint8_t  *payload;
	size_t          payload_len;
	/* subscribe: its TOPICs are args[]. */
	bool            raw;          /* --raw: payload bytes only */
	uint64_t        count;        /* --count N; 0 = until interrupted */
};

/* A usage error: the message into err, -EINVAL returned. */
int ctl_usage(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The command's name as typed ("members", "tags set", ...). */
const char *ctl_cmd_name(enum ctl_cmd c);

/* Parse argv.  env_socket is $XGOSSIP_SOCKET (or NULL).  0, or -EINVAL
 * with a one-line message in err (a usage error), or -ENOMEM.  Free *o
 * with ctl_opts_free() in every case. */
int  ctl_parse_args(int argc, char **argv, const char *env_socket,
		    struct ctl_opts *o, char *err, size_t errlen);
void ctl_opts_free(struct ctl_opts *o);

#endif /* XGOSSIPCTL_ARGS_H */
