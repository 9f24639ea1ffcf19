/* SPDX-License-Identifier: MIT */
/*
 * The insides of the embeddable library (include/xgossip/xgossip.h),
 * shared by the files of agent/lib only.  The library is a thin shell over the
 * agent of xgossipd (daemon/agent_run.h): it owns a parsed configuration,
 * the application's callbacks and the bookkeeping that turns the agent's
 * hooks into the public types.
 */
#ifndef XGOSSIP_LIB_INT_H
#define XGOSSIP_LIB_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xgossip/xgossip.h>

#include "core/swim.h"
#include "daemon/config.h"

struct xg_agent;

/* ---- lib_config.c ------------------------------------------------------ */

struct xgossip_config {
	size_t n, cap;
	char **opt;   /* without "--", each malloc'd */
	char **val;   /* NULL for a flag without value */
};

/* An argument vector for xgossipd's parser: "xgossipd" then "--opt"
 * [value] per option, every string owned by the vector. */
struct lib_argv {
	int    argc;
	char **argv; /* argc + 1 entries, NULL-terminated */
};

int  lib_argv_build(const struct xgossip_config *cfg, struct lib_argv *out);
void lib_argv_free(struct lib_argv *v);
/* Parse v into out (initialised here, freed by the caller whatever the
 * result) as the library reads it: no control socket unless asked for,
 * embedded.  0 or -EINVAL with the reason in errbuf; -ENOMEM. */
int  lib_parse(const struct lib_argv *v, struct xg_agent_config *out,
	       char *errbuf, size_t errlen);

/* ---- lib_subs.c: the application's callbacks ---------------------------- */

struct lib_sub {
	int   handle;
	bool  member;     /* an on_member callback, else a subscription */
	bool  dead;       /* unsubscribed while a dispatch was running */
	char *topic;      /* NULL: every topic */
	xgossip_message_fn on_msg;
	xgossip_member_fn  on_member;
	void *ctx;
};

struct lib_subs {
	struct lib_sub *v;
	size_t          n, cap;
	int             last_handle;
	unsigned        dispatching; /* nesting depth */
	bool            garbage;     /* dead entries to sweep */
};

int  lib_subs_add(struct lib_subs *s, const struct lib_sub *proto);
int  lib_subs_remove(struct lib_subs *s, int handle);
void lib_subs_message(struct lib_subs *s, const struct xgossip_message *m);
void lib_subs_member(struct lib_subs *s, const struct xgossip_member_event *ev);
void lib_subs_free(struct lib_subs *s);

/* ---- lib_pending.c: join and send callbacks waiting for the agent ------- */

struct lib_pending {
	struct lib_pending *prev, *next;
	struct xgossip     *g;
	bool                is_send;
	xgossip_join_fn     join_done;
	xgossip_send_fn     send_done;
	void               *ctx;
};

/* Answer (-ECANCELED) every join and send the agent left unanswered. */
void lib_pending_cancel_all(struct xgossip *g);

/* ---- xgossip.c ------------------------------------------------------------ */

struct xgossip {
	struct xg_agent        *agent;
	struct xg_agent_config  cfg;     /* strings point into args */
	struct lib_argv         args;
	struct lib_subs         subs;
	struct lib_pending     *pending; /* list head */
	int                     wake_fd; /* eventfd: xgossip_stop */
	atomic_int              stop;
	unsigned                stepping; /* inside the agent's loop */
	bool                    closing;  /* xgossip_free is tearing down */
	char                    name[XGOSSIP_NAME_MAX];
	uint64_t                id;
};

/* -ESHUTDOWN once the agent stopped or is being freed: every call that
 * would act on the cluster checks it first. */
int lib_usable(const struct xgossip *g);

/* ---- lib_member.c ------------------------------------------------------- */

void lib_member_from(struct xgossip_member *out,
		     const struct xg_member_info *m);
enum xgossip_event_type lib_event_type(enum xg_event_type t);

/* ---- lib_log.c: xgossipd's log around start-up -------------------------- */

/* Collect the log lines written while the agent starts, so that the
 * reason a start failed can be given to the caller as text; end passes
 * them on to the application's log descriptor and puts the last ERROR
 * line's message into errbuf (if there was one). */
struct lib_logcap {
	int fd; /* -1: not capturing (the lines go straight through) */
};
void lib_logcap_begin(struct lib_logcap *c);
void lib_logcap_end(struct lib_logcap *c, char *errbuf, size_t errlen);

void lib_errbuf(char *errbuf, size_t errlen, const char *text);

#endif /* XGOSSIP_LIB_INT_H */
