/* SPDX-License-Identifier: MIT */
/*
 * Inside the event handlers: the queued event (evhandler_event.c) and the
 * child process (evhandler_spawn.c).  evhandler.c schedules the two.
 */
#ifndef XGOSSIP_DAEMON_EVHANDLER_INT_H
#define XGOSSIP_DAEMON_EVHANDLER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/msg.h"
#include "core/swim.h"

/* The environment every handler starts from, whatever the agent's. */
#define XG_EVH_ENV_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:" \
			"/usr/bin:/sbin:/bin"

/* One event, ready to run: the child's environment and stdin, built
 * once and shared by every handler that takes it. */
struct xg_evh_rec {
	unsigned       refs;
	unsigned       queued;    /* queue entries holding it (byte bound) */
	uint64_t       seq;       /* arrival order, over all handlers */
	size_t         bytes;     /* the whole allocation */
	char         **envp;      /* NULL-terminated, inside the allocation */
	const uint8_t *input;     /* the child's stdin */
	size_t         input_len;
	char           event[16]; /* "member-join" ... "user", for logs */
	/* The member's name or the topic, for logs (unquoted). */
	char           subject[XG_MSG_TOPIC_MAX + XG_NAME_MAX + 1];
};

/* A record for a membership event (NULL: out of memory, or an event
 * handlers do not see).  refs starts at 1. */
struct xg_evh_rec *xg_evh_rec_member(const char *self_name,
				     const struct xg_event *ev);
/* A record for a user message (NULL: out of memory). */
struct xg_evh_rec *xg_evh_rec_message(const char *self_name,
				      const struct xg_msg *m, bool unicast,
				      const char *origin_name);
void xg_evh_rec_put(struct xg_evh_rec *r);

/* The stdin line of a membership event, "name\taddr\tstatus\ttags\n"
 * (docs/EVENT_HANDLERS.md for the escaping).  Returns its length, or
 * -ENOSPC when cap is too small (XG_EVH_LINE_MAX always fits). */
#define XG_EVH_LINE_MAX (4 * XG_NAME_MAX + XG_ADDR_STRLEN + 16 + \
			 4 * XG_META_MAX + 8)
ssize_t xg_evh_member_line(const struct xg_member_info *m, char *out,
			   size_t cap);

/* A running child: its own process group and session, stdin a memfd with
 * the event, stdout and stderr into one pipe whose read end is outfd
 * (non-blocking), pidfd for the loop. */
struct xg_evh_proc {
	pid_t pid;
	int   pidfd;
	int   outfd;
};

/* Start path with envp and the given stdin.  0 or -errno (nothing is left
 * behind on error: no fd, no child). */
int  xg_evh_spawn(const char *path, char *const envp[], const uint8_t *in,
		  size_t len, struct xg_evh_proc *out);
/* sig to the child's whole process group (its own children too). */
void xg_evh_proc_kill(const struct xg_evh_proc *p, int sig);
/* Reap the child if it has ended: 0 with *code (CLD_EXITED, CLD_KILLED,
 * CLD_DUMPED) and *status (exit status or signal), -EAGAIN while it runs,
 * or -errno.  With block, waits for the end. */
int  xg_evh_proc_reap(const struct xg_evh_proc *p, bool block, int *code,
		      int *status);

#endif /* XGOSSIP_DAEMON_EVHANDLER_INT_H */
