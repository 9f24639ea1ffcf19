/* SPDX-License-Identifier: MIT */
/* What xfer.c, xfer_client.c and xfer_serve.c share (not for others). */
#ifndef XGOSSIP_DAEMON_XFER_INT_H
#define XGOSSIP_DAEMON_XFER_INT_H

#include <openssl/sha.h>

#include <xgossip/wire.h>

#include "core/msg.h"
#include "daemon/xfer.h"

/* One of our transfers, queued or running. */
struct xg_xfer_job {
	struct xg_xfer     *x;
	bool                fetch;
	struct xg_addr      to;
	char                name[XG_NAME_MAX];  /* "" : any member */
	uint8_t             id[16];
	/* UNICAST */
	char                topic[XG_MSG_TOPIC_MAX + 1];
	uint8_t            *payload;            /* our copy */
	size_t              len;
	xg_xfer_sent_fn     sent;
	/* FETCH */
	uint64_t            size;
	uint8_t             sha256[32];
	SHA256_CTX          sha;                /* over the body as it comes */
	xg_xfer_fetched_fn  fetched;
	void               *ctx;

	uint64_t            deadline_ns;        /* while queued */
	uint64_t            start_ns;
	uint64_t            rtt_ns;
	bool                answered;
	int                 status;             /* the answer's */
	struct xg_pp_conn  *conn;               /* while running */
	struct xg_xfer_job *prev, *next;
};

struct xg_xfer_list {
	struct xg_xfer_job *head, *tail;
	uint32_t            n;
};

/* A body being served: to whom (for the per-member bound), and the
 * owner's reference to give back. */
struct xg_xfer_serve {
	bool  used;
	char  name[XG_NAME_MAX];
	void *ref;
};

struct xg_xfer {
	struct xg_pp            *pp;
	const struct xg_keyring *kr;
	uint64_t                 cluster_id;
	uint64_t                 self_id;
	char                     self_name[XG_NAME_MAX];
	size_t                   max_payload;
	uint64_t                 min_rate;
	struct xg_xfer_hooks     hooks;
	bool                     closing;
	/* queued and running, per kind */
	struct xg_xfer_list      uq, ur, fq, fr;
	uint32_t                 serving;
	struct xg_xfer_serve     serves[XG_XFER_SERVES_MAX];
	struct xg_xfer_stats     stats;
};

void xg_xfer_list_push(struct xg_xfer_list *l, struct xg_xfer_job *j);
void xg_xfer_list_del(struct xg_xfer_list *l, struct xg_xfer_job *j);

/* The deadline for moving `bytes` starting at now_ns. */
uint64_t xg_xfer_deadline(const struct xg_xfer *x, uint64_t now_ns,
			  uint64_t bytes);

/* xfer_client.c: start a job (it joins the running list), or -errno. */
int  xg_xfer_job_start(struct xg_xfer_job *j, uint64_t now_ns);
/* Take j off its list, report err through its callback, free it, and
 * start what the freed slot lets start. */
void xg_xfer_job_finish(struct xg_xfer_job *j, int err);
/* Start queued jobs while there is room. */
void xg_xfer_pump(struct xg_xfer *x);

/* xfer_serve.c: the pushpull services. */
int  xg_xfer_serve_unicast(void *ctx, struct xg_pp_call *call);
int  xg_xfer_serve_fetch(void *ctx, struct xg_pp_call *call);

#endif /* XGOSSIP_DAEMON_XFER_INT_H */
