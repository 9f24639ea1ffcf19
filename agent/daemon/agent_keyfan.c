/* SPDX-License-Identifier: MIT */
/*
 * Keyring changes for the whole cluster (`xgossipctl keys`): the agent an
 * operator talks to applies the change itself, then sends it to every live
 * member as a KEYOP over TLS and gathers who applied it, like `serf keys`.
 * Members answer from xg_agent_keys_serve().  The report is the operator's
 * to act on: a member that was down during "install" must get the key
 * before "use", and the tool says which one it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>

#include <xgossip/wire.h>

#include "daemon/agent_int.h"
#include "daemon/agent_keys.h"
#include "daemon/keyop.h"
#include "util/log.h"

struct fan;

struct fan_slot {
	struct fan *fan;
	size_t      idx;
};

struct fan {
	struct xg_agent       *a;
	struct xg_keys_report  rep;
	struct fan_slot       *slots;
	size_t                 pending;
	xg_keys_done_fn        done;
	void                  *ctx;
};

static void fan_free(struct fan *f)
{
	OPENSSL_cleanse(f->rep.r, f->rep.n * sizeof(*f->rep.r));
	free(f->rep.r);
	free(f->slots);
	free(f);
}

static void fan_finish(struct fan *f)
{
	size_t i, failed = 0;

	for (i = 0; i < f->rep.n; i++)
		failed += f->rep.r[i].err != 0;
	xg_info("keys: %s answered by %zu of %zu nodes",
		xg_key_op_name(f->rep.op), f->rep.n - failed, f->rep.n);
	f->done(f->ctx, &f->rep);
	fan_free(f);
}

static void copy_ring(struct xg_keys_result *r, const struct xg_keyring *kr)
{
	unsigned i;

	r->count = kr->n;
	r->primary = kr->primary;
	for (i = 0; i < kr->n; i++)
		memcpy(r->keys[i], kr->keys[i].secret, XG_KEY_LEN);
}

static void on_reply(void *ctx, const struct xg_addr *peer, int err,
		     const uint8_t *frame, size_t len)
{
	struct fan_slot *s = ctx;
	struct fan *f = s->fan;
	struct xg_keys_result *r = &f->rep.r[s->idx];
	struct xg_keyop_msg m;
	unsigned i;

	(void)peer;
	if (!err)
		err = xg_keyop_decode(&f->a->keyring, f->a->cluster_id, frame,
				      len, &m);
	if (!err && (!m.reply || m.op != f->rep.op))
		err = -EPROTO;
	if (!err) {
		err = m.status;
		r->count = m.count;
		r->primary = m.primary;
		for (i = 0; i < m.count; i++)
			memcpy(r->keys[i], m.keys[i], XG_KEY_LEN);
		OPENSSL_cleanse(&m, sizeof(m));
	}
	r->err = err;
	if (--f->pending == 0)
		fan_finish(f);
}

/* Live members other than us: those a change must reach. */
static size_t count_targets(const struct xg_core *core)
{
	struct xg_member_info m;
	size_t i, n = 0;

	for (i = 0; xg_core_member_at(core, i, &m) == 0; i++)
		if (!m.is_self && (m.state == XG_ALIVE || m.state == XG_SUSPECT))
			n++;
	return n;
}

static void ask(struct fan *f, size_t idx, const struct xg_member_info *m,
		const uint8_t *frame, size_t len)
{
	struct xg_agent *a = f->a;
	struct xg_keys_result *r = &f->rep.r[idx];
	int err;

	snprintf(r->node, sizeof(r->node), "%s", m->name);
	f->slots[idx] = (struct fan_slot){ .fan = f, .idx = idx };
	/* With TLS the member must prove it is the node we mean. */
	err = xg_pp_request(&a->pp, &m->addr, a->tls ? m->name : NULL, frame,
			    len, on_reply, &f->slots[idx]);
	if (err)
		r->err = err;
	else
		f->pending++;
}

int xg_agent_keys_cluster(struct xg_agent *a, enum xg_key_op op,
			  const uint8_t key[XG_KEY_LEN], xg_keys_done_fn done,
			  void *ctx)
{
	struct xg_keyop_msg req = { .op = (uint8_t)op };
	uint8_t frame[sizeof(struct xg_keyop) + XG_MAC_LEN];
	struct xg_member_info m;
	struct fan *f;
	size_t i, n, idx = 1;
	ssize_t len;
	int err;

	if (!done)
		return -EINVAL;
	err = xg_agent_keys_change(a, op, key);
	if (err)
		return err;
	n = 1 + count_targets(a->core);
	f = calloc(1, sizeof(*f));
	if (f) {
		f->rep.r = calloc(n, sizeof(*f->rep.r));
		f->slots = calloc(n, sizeof(*f->slots));
	}
	if (!f || !f->rep.r || !f->slots) {
		if (f)
			fan_free(f);
		return -ENOMEM;
	}
	f->a = a;
	f->rep.op = op;
	f->rep.n = n;
	f->done = done;
	f->ctx = ctx;
	snprintf(f->rep.r[0].node, sizeof(f->rep.r[0].node), "%s", a->name);
	copy_ring(&f->rep.r[0], &a->keyring);

	if (op != XG_KEY_LIST)
		memcpy(req.key, key, XG_KEY_LEN);
	len = xg_keyop_encode(&a->keyring, a->cluster_id, &req, NULL, frame,
			      sizeof(frame));
	OPENSSL_cleanse(&req, sizeof(req));
	for (i = 0; xg_core_member_at(a->core, i, &m) == 0 && idx < n; i++) {
		if (m.is_self || (m.state != XG_ALIVE && m.state != XG_SUSPECT))
			continue;
		if (len < 0) {
			snprintf(f->rep.r[idx].node, sizeof(f->rep.r[idx].node),
				 "%s", m.name);
			f->rep.r[idx++].err = (int)len;
			continue;
		}
		ask(f, idx++, &m, frame, (size_t)len);
	}
	OPENSSL_cleanse(frame, sizeof(frame));
	xg_info("keys: %s applied here, sent to %zu members",
		xg_key_op_name(op), f->pending);
	if (f->pending == 0)
		fan_finish(f);
	return 0;
}

ssize_t xg_agent_keys_serve(void *ctx, const uint8_t *reqbuf, size_t len,
			    uint8_t *out, size_t cap)
{
	struct xg_agent *a = ctx;
	struct xg_keyop_msg req, rep = { .reply = true };
	ssize_t n;
	int err;

	err = xg_keyop_decode(&a->keyring, a->cluster_id, reqbuf, len, &req);
	if (!err && req.reply)
		err = -EPROTO;
	if (err) {
		xg_warn("keys: refused a key operation frame: %s",
			strerror(-err));
		return err;
	}
	rep.op = req.op;
	rep.status = xg_agent_keys_change(a, (enum xg_key_op)req.op, req.key);
	OPENSSL_cleanse(&req, sizeof(req));
	if (rep.op != XG_KEY_LIST)
		xg_info("keys: %s asked by a member: %s", xg_key_op_name(rep.op),
			rep.status ? strerror(-rep.status) : "done");
	n = xg_keyop_encode(&a->keyring, a->cluster_id, &rep, &a->keyring,
			    out, cap);
	return n;
}
