/* SPDX-License-Identifier: MIT */
/*
 * The messenger's adapter (agent_msg.h).  The messenger addresses members
 * by id; here ids become addresses through the core's member table, and
 * packets are sealed like GOSSIP (the 40-byte message header stays in
 * clear, so the XDP program can drop known ids).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "daemon/agent_int.h"
#include "daemon/agent_keys.h"
#include "daemon/agent_msg.h"
#include "util/log.h"

/* ---- messenger callbacks ------------------------------------------------ */

static int io_send(void *ctx, uint64_t to_id, const void *pkt, size_t len)
{
	struct xg_agent *a = ctx;
	struct xg_member_info m;
	int err = xg_core_member_find(a->core, to_id, &m);

	if (err)
		return err;
	return xg_agent_send_sealed(a, &m.addr, pkt, len);
}

static size_t io_pick(void *ctx, size_t k, uint64_t exclude, uint64_t *out)
{
	struct xg_agent *a = ctx;

	return xg_core_pick_live(a->core, k, exclude, out);
}

static size_t io_live_count(void *ctx)
{
	struct xg_agent *a = ctx;

	return xg_core_live_others(a->core);
}

static void io_deliver(void *ctx, const struct xg_msg *msg)
{
	struct xg_agent *a = ctx;

	xg_agent_msg_deliver(a, msg, false);
}

/* The kernel drops later copies of an accepted id before they cost a
 * wakeup.  Only ids the messenger accepted (authenticated, in the age
 * window) go in, so a forged packet cannot get real ones dropped.  A
 * failure costs only efficiency: the seen table still drops the copy. */
static void io_seen(void *ctx, const uint8_t id[XG_MSG_ID_LEN],
		    uint64_t now_ns)
{
	struct xg_agent *a = ctx;
	int err;

	if (!a->xdp.x)
		return;
	err = xg_xdp_seen_add(a->xdp.x, id, now_ns);
	if (err)
		a->msg.seen_errors++;
}

static uint64_t io_rand64(void *ctx)
{
	struct xg_agent *a = ctx;

	return xg_rng_next(&a->rng);
}

static uint64_t io_now_ms_real(void *ctx)
{
	(void)ctx;
	return xg_now_real_ns() / 1000000;
}

/* ---- life cycle -------------------------------------------------------- */

static void apply_flags(const struct xg_agent_config *cfg,
			struct xg_msg_config *mc)
{
	if (cfg->msg.fanout)
		mc->fanout = cfg->msg.fanout;
	if (cfg->msg.cache_max)
		mc->cache_max = cfg->msg.cache_max;
	if (cfg->msg.cache_ttl_ns)
		mc->cache_ttl_ns = cfg->msg.cache_ttl_ns;
	if (cfg->msg.max_size)
		mc->max_large = cfg->msg.max_size;
}

int xg_agent_msg_setup(struct xg_agent *a)
{
	static const struct xg_msg_io io_template = {
		.send        = io_send,
		.pick        = io_pick,
		.live_count  = io_live_count,
		.deliver     = io_deliver,
		.seen        = io_seen,
		.rand64      = io_rand64,
		.now_ms_real = io_now_ms_real,
		.fetch       = xg_agent_fetch,
	};
	struct xg_msg_io io = io_template;
	struct xg_msg_config mc;
	int err;

	xg_msg_config_defaults(&mc);
	mc.self_id = a->node_id;
	mc.incarnation = xg_core_self(a->core)->incarnation;
	mc.cluster_id = a->cluster_id;
	apply_flags(a->cfg, &mc);
	io.ctx = a;
	err = xg_msgr_new(&a->msg.m, &mc, &io, xg_now_mono_ns());
	if (err) {
		xg_error("messaging: cannot start: %s", strerror(-err));
		return err;
	}
	err = xg_agent_msg_keys(a);
	if (err)
		xg_error("messaging: cannot load keys: %s", strerror(-err));
	return err;
}

void xg_agent_msg_close(struct xg_agent *a)
{
	xg_msgr_free(a->msg.m);
	a->msg.m = NULL;
}

/* Secondary keys first, the primary last: xg_msgr_set_key makes the key
 * it installs the primary.  Then every id the ring no longer has goes. */
int xg_agent_msg_keys(struct xg_agent *a)
{
	const struct xg_ring_key *p = xg_keyring_primary(&a->keyring);
	bool keep[256] = { false };
	unsigned i;
	int err = 0;

	if (!a->msg.m)
		return 0;
	if (!p)
		return -ENOKEY;
	for (i = 0; i < a->keyring.n && !err; i++) {
		const struct xg_ring_key *k = &a->keyring.keys[i];

		keep[k->id] = true;
		if (k != p)
			err = xg_msgr_set_key(a->msg.m, k->id, k->state_mac);
	}
	if (!err)
		err = xg_msgr_set_key(a->msg.m, p->id, p->state_mac);
	for (i = 0; i < 256 && !err; i++)
		if (!keep[i] && xg_msgr_remove_key(a->msg.m, (uint8_t)i) == -EBUSY)
			err = -EBUSY;
	return err;
}

/* ---- traffic ----------------------------------------------------------- */

void xg_agent_msg_on_packet(struct xg_agent *a, const struct xg_addr *from,
			    const uint8_t *pkt, size_t len, uint64_t now_ns)
{
	int err;

	(void)from;
	/* The seal already proved the sender holds a cluster key, and with
	 * a wildcard bind or several interfaces the source address of a
	 * member's datagrams need not be the one it advertises: no address
	 * hint (docs/MESSAGING.md, "In the agent"). */
	err = xg_msgr_on_packet(a->msg.m, 0, pkt, len, now_ns);
	if (err)
		xg_debug("messaging: packet refused: %s", strerror(-err));
}

void xg_agent_msg_tick(struct xg_agent *a, uint64_t now_ns)
{
	if (a->msg.m)
		xg_msgr_tick(a->msg.m, now_ns);
}

uint64_t xg_agent_msg_next_deadline(const struct xg_agent *a)
{
	return a->msg.m ? xg_msgr_next_deadline(a->msg.m) : UINT64_MAX;
}

/* ---- the application's side -------------------------------------------- */

void xg_agent_msg_deliver(struct xg_agent *a, const struct xg_msg *msg,
			  bool unicast)
{
	struct xg_member_info o;
	const char *origin = NULL;

	if (xg_core_member_find(a->core, msg->origin_id, &o) == 0)
		origin = o.name;
	a->msg.delivered++;
	if (a->ctl)
		xg_control_on_message(a->ctl, msg, unicast, origin);
	xg_evh_message(a->evh, msg, unicast, origin);
	if (a->hooks.on_message)
		a->hooks.on_message(a->hooks.ctx, msg, unicast, origin);
}
