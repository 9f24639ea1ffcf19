/* SPDX-License-Identifier: MIT */
/*
 * What the application asks of a running agent: join, tags, broadcast,
 * send, subscriptions.
 *
 * Join and send answer later through a callback.  Each call that started
 * leaves a record in g->pending until its answer comes, so that
 * xgossip_free can answer (-ECANCELED) whatever the agent did not: the
 * application is told exactly once in every case, and no record leaks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/msg.h"
#include "daemon/agent.h"
#include "daemon/agent_run.h"
#include "lib/lib_int.h"

int lib_usable(const struct xgossip *g)
{
	if (!g || g->closing || xg_agent_done(g->agent))
		return -ESHUTDOWN;
	return 0;
}

/* ---- pending answers ------------------------------------------------------ */

static struct lib_pending *pending_new(struct xgossip *g, void *ctx)
{
	struct lib_pending *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->g = g;
	p->ctx = ctx;
	p->next = g->pending;
	if (g->pending)
		g->pending->prev = p;
	g->pending = p;
	return p;
}

static void pending_unlink(struct lib_pending *p)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		p->g->pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	p->prev = p->next = NULL;
}

static void join_answer(void *ctx, int joined, const char *err)
{
	struct lib_pending *p = ctx;

	pending_unlink(p);
	if (p->join_done)
		p->join_done(p->ctx, joined, err);
	free(p);
}

static void send_answer(void *ctx, int err, uint64_t rtt_ns)
{
	struct lib_pending *p = ctx;

	pending_unlink(p);
	if (p->send_done)
		p->send_done(p->ctx, err, rtt_ns);
	free(p);
}

/* After the agent is gone: whatever it never answered. */
void lib_pending_cancel_all(struct xgossip *g)
{
	struct lib_pending *p;

	while ((p = g->pending)) {
		if (p->is_send)
			send_answer(p, -ECANCELED, 0);
		else
			join_answer(p, 0, "cancelled: the agent stopped");
	}
}

/* ---- membership ----------------------------------------------------------- */

int xgossip_join(struct xgossip *g, const char *const *addrs, size_t n,
		 xgossip_join_fn done, void *ctx)
{
	struct lib_pending *p;
	int err = lib_usable(g);

	if (err)
		return err;
	if (!addrs || n == 0)
		return -EINVAL;
	p = pending_new(g, ctx);
	if (!p)
		return -ENOMEM;
	p->join_done = done;
	err = xg_agent_join(g->agent, addrs, n, join_answer, p);
	if (err) {
		pending_unlink(p);
		free(p);
	}
	return err;
}

int xgossip_leave(struct xgossip *g)
{
	int err = lib_usable(g);

	return err ? err : xg_agent_leave(g->agent);
}

int xgossip_set_tags(struct xgossip *g, const char *const *kv, size_t n)
{
	int err = lib_usable(g);

	if (err)
		return err;
	if (!kv && n)
		return -EINVAL;
	return xg_agent_tags_set(g->agent, kv, n);
}

int xgossip_del_tags(struct xgossip *g, const char *const *keys, size_t n)
{
	int err = lib_usable(g);

	if (err)
		return err;
	if (!keys && n)
		return -EINVAL;
	return xg_agent_tags_del(g->agent, keys, n);
}

int xgossip_on_member(struct xgossip *g, xgossip_member_fn fn, void *ctx)
{
	struct lib_sub s = { .member = true, .on_member = fn, .ctx = ctx };

	if (!g || !fn)
		return -EINVAL;
	return lib_subs_add(&g->subs, &s);
}

/* ---- messages --------------------------------------------------------------- */

int xgossip_subscribe(struct xgossip *g, const char *topic,
		      xgossip_message_fn fn, void *ctx)
{
	struct lib_sub s = { .topic = (char *)topic, .on_msg = fn, .ctx = ctx };

	if (!g || !fn)
		return -EINVAL;
	if (topic && !xg_msg_topic_valid(topic, strlen(topic)))
		return -EINVAL;
	return lib_subs_add(&g->subs, &s);
}

int xgossip_unsubscribe(struct xgossip *g, int handle)
{
	if (!g)
		return -EINVAL;
	return lib_subs_remove(&g->subs, handle);
}

int xgossip_broadcast(struct xgossip *g, const char *topic, const void *data,
		      size_t len, uint8_t *id)
{
	uint8_t tmp[XGOSSIP_ID_LEN];
	int err = lib_usable(g);

	if (err)
		return err;
	if (!topic || (!data && len))
		return -EINVAL;
	return xg_agent_broadcast(g->agent, topic, data, len, id ? id : tmp);
}

int xgossip_send(struct xgossip *g, const char *node, const char *topic,
		 const void *data, size_t len, uint8_t *id,
		 xgossip_send_fn done, void *ctx)
{
	uint8_t tmp[XGOSSIP_ID_LEN];
	struct lib_pending *p;
	int err = lib_usable(g);

	if (err)
		return err;
	if (!node || !topic || (!data && len))
		return -EINVAL;
	p = pending_new(g, ctx);
	if (!p)
		return -ENOMEM;
	p->is_send = true;
	p->send_done = done;
	err = xg_agent_send(g->agent, node, topic, data, len, id ? id : tmp,
			    send_answer, p);
	if (err) {
		pending_unlink(p);
		free(p);
	}
	return err;
}
