/* SPDX-License-Identifier: MIT */
/*
 * The core's contract outside the protocol: defaults, configuration
 * checks, what a new core holds, names, accessors, STATE encoding limits,
 * the deadline an idle core asks for, and a clock that goes backwards.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "lib/onecore.h"

#define SECOND 1000000000ULL
#define MS     1000000ULL

static void defaults(void **state)
{
	struct xg_core_config cfg;

	(void)state;
	memset(&cfg, 0xff, sizeof(cfg));
	xg_core_config_defaults(&cfg);
	assert_int_equal(cfg.probe_interval_ns, SECOND);
	assert_int_equal(cfg.probe_timeout_ns, 500 * MS);
	assert_int_equal(cfg.indirect_checks, 3);
	assert_int_equal(cfg.gossip_interval_ns, 200 * MS);
	assert_int_equal(cfg.gossip_nodes, 3);
	assert_int_equal(cfg.suspicion_mult, 4);
	assert_int_equal(cfg.retransmit_mult, 4);
	assert_int_equal(cfg.pushpull_interval_ns, 30 * SECOND);
	assert_int_equal(cfg.dead_reclaim_ns, 24ULL * 3600 * SECOND);
	assert_int_equal(cfg.gossip_to_dead_ns, 30 * SECOND);
	assert_int_equal(cfg.self_id, 0);
	assert_null(cfg.name);
	assert_int_equal(cfg.probe_key[0] | cfg.gossip_key[15], 0);
}

static int try_new(void (*tweak)(struct xg_core_config *cfg))
{
	struct xg_core_config cfg;
	struct onecore o;
	int err;

	oc_config(&cfg);
	tweak(&cfg);
	err = oc_start(&o, &cfg, SECOND);
	oc_stop(&o);
	return err;
}

static void t_interval0(struct xg_core_config *c) { c->probe_interval_ns = 0; }
static void t_timeout0(struct xg_core_config *c) { c->probe_timeout_ns = 0; }
static void t_timeout_eq(struct xg_core_config *c)
{
	c->probe_timeout_ns = c->probe_interval_ns;
}
static void t_gossip0(struct xg_core_config *c) { c->gossip_interval_ns = 0; }
static void t_nodes0(struct xg_core_config *c) { c->gossip_nodes = 0; }
static void t_susp0(struct xg_core_config *c) { c->suspicion_mult = 0; }
static void t_retr0(struct xg_core_config *c) { c->retransmit_mult = 0; }
static void t_reclaim0(struct xg_core_config *c) { c->dead_reclaim_ns = 0; }
static void t_id0(struct xg_core_config *c) { c->self_id = 0; }
static void t_noname(struct xg_core_config *c) { c->name = NULL; }
static void t_emptyname(struct xg_core_config *c) { c->name = ""; }
static void t_ctrlname(struct xg_core_config *c) { c->name = "a\tb"; }
static void t_longname(struct xg_core_config *c)
{
	c->name = "0123456789012345678901234567890123456789012345678901234567890123";
}
static void t_nofamily(struct xg_core_config *c) { c->advertise.family = 0; }
static void t_noport(struct xg_core_config *c) { c->advertise.port = 0; }
static void t_v4tail(struct xg_core_config *c) { c->advertise.ip[9] = 1; }
static void t_bigmeta(struct xg_core_config *c)
{
	static const uint8_t meta[XG_META_MAX + 1];

	c->meta = meta;
	c->meta_len = XG_META_MAX + 1;
}
static void t_nullmeta(struct xg_core_config *c) { c->meta_len = 3; }
static void t_topinc(struct xg_core_config *c) { c->incarnation = UINT32_MAX; }
/* Accepted edge cases. */
static void t_v6(struct xg_core_config *c)
{
	c->advertise.family = 6;
	memset(c->advertise.ip, 0xfd, 16);
}
static void t_maxname(struct xg_core_config *c)
{
	c->name = "012345678901234567890123456789012345678901234567890123456789012";
}
static void t_noindirect(struct xg_core_config *c) { c->indirect_checks = 0; }
static void t_nopushpull(struct xg_core_config *c)
{
	c->pushpull_interval_ns = 0;
	c->gossip_to_dead_ns = 0;
}

static void config_checks(void **state)
{
	struct xg_core_config cfg;
	struct xg_core_io io = { 0 };
	struct xg_core *c = NULL;

	(void)state;
	assert_int_equal(try_new(t_interval0), -EINVAL);
	assert_int_equal(try_new(t_timeout0), -EINVAL);
	assert_int_equal(try_new(t_timeout_eq), -EINVAL);
	assert_int_equal(try_new(t_gossip0), -EINVAL);
	assert_int_equal(try_new(t_nodes0), -EINVAL);
	assert_int_equal(try_new(t_susp0), -EINVAL);
	assert_int_equal(try_new(t_retr0), -EINVAL);
	assert_int_equal(try_new(t_reclaim0), -EINVAL);
	assert_int_equal(try_new(t_id0), -EINVAL);
	assert_int_equal(try_new(t_noname), -EINVAL);
	assert_int_equal(try_new(t_emptyname), -EINVAL);
	assert_int_equal(try_new(t_ctrlname), -EINVAL);
	assert_int_equal(try_new(t_longname), -EINVAL);
	assert_int_equal(try_new(t_nofamily), -EINVAL);
	assert_int_equal(try_new(t_noport), -EINVAL);
	assert_int_equal(try_new(t_v4tail), -EINVAL);
	assert_int_equal(try_new(t_bigmeta), -EINVAL);
	assert_int_equal(try_new(t_nullmeta), -EINVAL);
	assert_int_equal(try_new(t_topinc), -EINVAL);
	assert_int_equal(try_new(t_v6), 0);
	assert_int_equal(try_new(t_maxname), 0);
	assert_int_equal(try_new(t_noindirect), 0);
	assert_int_equal(try_new(t_nopushpull), 0);

	/* The io needs at least send and rand64. */
	oc_config(&cfg);
	assert_int_equal(xg_core_new(&c, &cfg, &io, 0), -EINVAL);
	assert_null(c);
	assert_int_equal(xg_core_new(NULL, &cfg, &io, 0), -EINVAL);
	xg_core_free(NULL);
}

static void new_core_holds_self(void **state)
{
	struct xg_core_config cfg;
	struct onecore o;
	char name[16] = "my-node";
	uint8_t meta[4] = { 'a', '=', 'b', 0 };
	const struct xg_member_info *self;
	struct xg_member_info mi;

	(void)state;
	oc_config(&cfg);
	cfg.name = name;
	cfg.meta = meta;
	cfg.meta_len = 3;
	cfg.incarnation = 7;
	assert_int_equal(oc_start(&o, &cfg, 5 * SECOND), 0);
	/* The core keeps its own copies. */
	memset(name, 'x', sizeof(name) - 1);
	memset(meta, 'x', sizeof(meta));
	self = xg_core_self(o.core);
	assert_string_equal(self->name, "my-node");
	assert_string_equal(xg_core_config(o.core)->name, "my-node");
	assert_int_equal(self->meta_len, 3);
	assert_memory_equal(self->meta, "a=b", 3);
	assert_memory_equal(xg_core_config(o.core)->meta, "a=b", 3);
	assert_int_equal(self->incarnation, 7);
	assert_int_equal(self->state, XG_ALIVE);
	assert_true(self->is_self);
	assert_int_equal(self->id, OC_SELF_ID);
	assert_int_equal(self->state_since_ns, 5 * SECOND);
	assert_int_equal(xg_core_member_count(o.core), 1);
	assert_int_equal(xg_core_count_state(o.core, XG_ALIVE), 1);
	assert_int_equal(xg_core_count_state(o.core, XG_DEAD), 0);
	assert_int_equal(xg_core_count_state(o.core, (enum xg_state)0), 0);
	assert_int_equal(xg_core_member_at(o.core, 0, &mi), 0);
	assert_int_equal(mi.id, OC_SELF_ID);
	assert_int_equal(xg_core_member_at(o.core, 1, &mi), -ENOENT);
	assert_int_equal(xg_core_member_find(o.core, 99, &mi), -ENOENT);
	assert_int_equal(o.nev, 0);
	/* Its own ALIVE waits to be gossiped once it has company. */
	assert_int_equal(xg_dissem_transmits(o.core, OC_SELF_ID), 0);
	oc_stop(&o);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(xg_state_name(XG_ALIVE), "alive");
	assert_string_equal(xg_state_name(XG_SUSPECT), "suspect");
	assert_string_equal(xg_state_name(XG_DEAD), "dead");
	assert_string_equal(xg_state_name(XG_LEFT), "left");
	assert_string_equal(xg_state_name((enum xg_state)9), "unknown");
	assert_string_equal(xg_event_name(XG_EV_JOIN), "join");
	assert_string_equal(xg_event_name(XG_EV_LEAVE), "leave");
	assert_string_equal(xg_event_name(XG_EV_FAIL), "fail");
	assert_string_equal(xg_event_name(XG_EV_UPDATE), "update");
	assert_string_equal(xg_event_name(XG_EV_SUSPECT), "suspect");
	assert_string_equal(xg_event_name(XG_EV_ALIVE), "alive");
	assert_string_equal(xg_event_name(XG_EV_REFUTE), "refute");
	assert_string_equal(xg_event_name((enum xg_event_type)99), "unknown");
}

/* Alone, a core has nothing to probe and nobody to gossip to: it sleeps
 * from one probe interval to the next and sends nothing. */
static void idle_alone(void **state)
{
	struct onecore o;
	uint64_t now = SECOND, d;
	int i;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, now), 0);
	for (i = 0; i < 20; i++) {
		d = xg_core_next_deadline(o.core);
		assert_true(d > now);
		assert_true(d <= now + o.cfg.probe_interval_ns);
		now = d;
		xg_core_tick(o.core, now);
	}
	assert_int_equal(o.nsent, 0);
	assert_int_equal(o.pushpull_wants, 0);
	oc_stop(&o);
}

/* Time handed in from a slow path may be older than the last tick: the
 * core keeps its own clock monotonic and fires nothing twice. */
static void clock_never_goes_back(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	uint64_t now = SECOND;
	size_t pings;
	int i;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, now), 0);
	oc_update(&u, XG_ALIVE, 50, 0, 50);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	for (i = 0; i < 30; i++)
		xg_core_tick(o.core, now += 100 * MS);
	pings = oc_count_sent(&o, XG_T_PING);
	assert_true(pings >= 2);
	xg_core_tick(o.core, 0);
	xg_core_tick(o.core, now - 2 * SECOND);
	assert_int_equal(oc_count_sent(&o, XG_T_PING), pings);
	assert_true(xg_core_next_deadline(o.core) > now);
	oc_stop(&o);
}

static void state_encode_limits(void **state)
{
	struct onecore o, peer;
	struct xg_update_msg u;
	struct xg_batch_reader r;
	uint8_t buf[8192], small[8192];
	size_t need;
	ssize_t len;
	uint64_t id;
	int k = 0;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, SECOND), 0);
	for (id = 50; id < 60; id++) {
		oc_update(&u, XG_ALIVE, id, 1, id);
		u.meta_len = (uint16_t)(id - 50);
		assert_int_equal(oc_gossip(&o, &u, 1, SECOND), 0);
	}
	oc_update(&u, XG_DEAD, 55, 1, 99);
	assert_int_equal(oc_gossip(&o, &u, 1, SECOND), 0);

	need = xg_core_state_size(o.core);
	len = xg_core_state_encode(o.core, XG_F_JOIN, buf, sizeof(buf));
	assert_true(len > 0);
	assert_true((size_t)len <= need);
	assert_int_equal(xg_core_state_encode(o.core, 0, small,
					      (size_t)len - 1), -ENOSPC);
	assert_int_equal(xg_core_state_encode(o.core, 0, small, 10), -ENOSPC);

	/* Every member, dead ones too, so a peer cannot resurrect them. */
	assert_int_equal(xg_batch_open(&r, buf, (size_t)len, o.cfg.gossip_key,
				       NULL), 0);
	assert_int_equal(r.flags, XG_F_JOIN);
	assert_int_equal(r.sender_id, OC_SELF_ID);
	while (xg_batch_next(&r, &u) == 1) {
		if (u.node_id == 55)
			assert_int_equal(u.state, XG_DEAD);
		k++;
	}
	assert_int_equal(k, 11);

	/* A fresh peer that merges it knows the living and ignores the
	 * dead one it never met. */
	assert_int_equal(oc_start(&peer, NULL, SECOND), 0);
	assert_int_equal(xg_core_state_merge(peer.core, buf, (size_t)len,
					     2 * SECOND), 0);
	/* Our own entry about it (self id is the same in both) is stale. */
	assert_int_equal(xg_core_member_count(peer.core), 10);
	assert_int_equal(xg_core_member_find(peer.core, 55, NULL), -ENOENT);
	assert_int_equal(xg_core_stats(peer.core)->pushpulls, 1);
	assert_int_equal(oc_count_events(&peer, XG_EV_JOIN, 0), 9);
	/* Garbage is refused and counted. */
	assert_int_equal(xg_core_state_merge(peer.core, buf, 20, 2 * SECOND),
			 -EBADMSG);
	assert_int_equal(xg_core_stats(peer.core)->rx_bad, 1);
	oc_stop(&peer);
	oc_stop(&o);
}

static void reaping(void **state)
{
	struct xg_core_config cfg;
	struct onecore o;
	struct xg_update_msg u;
	uint64_t now = SECOND;

	(void)state;
	oc_config(&cfg);
	cfg.dead_reclaim_ns = 10 * SECOND;
	cfg.probe_interval_ns = 3600 * SECOND;
	cfg.probe_timeout_ns = 60 * SECOND;
	assert_int_equal(oc_start(&o, &cfg, now), 0);
	oc_update(&u, XG_ALIVE, 50, 1, 50);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	oc_update(&u, XG_ALIVE, 51, 1, 51);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	oc_update(&u, XG_DEAD, 50, 1, 99);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	oc_update(&u, XG_LEFT, 51, 2, 51);
	assert_int_equal(oc_gossip(&o, &u, 1, now + 2 * SECOND), 0);
	assert_true(xg_core_next_deadline(o.core) <= now + 10 * SECOND);

	xg_core_tick(o.core, now + 10 * SECOND - 1);
	assert_int_equal(xg_core_member_count(o.core), 3);
	xg_core_tick(o.core, now + 10 * SECOND);
	assert_int_equal(xg_core_member_count(o.core), 2);
	assert_int_equal(xg_core_member_find(o.core, 50, NULL), -ENOENT);
	xg_core_tick(o.core, now + 12 * SECOND);
	assert_int_equal(xg_core_member_count(o.core), 1);
	assert_int_equal(xg_core_count_state(o.core, XG_DEAD), 0);
	assert_int_equal(xg_core_count_state(o.core, XG_LEFT), 0);

	/* Forgotten means forgotten: old news about it adds no ghost, its
	 * own ALIVE brings it back. */
	oc_update(&u, XG_DEAD, 50, 1, 99);
	assert_int_equal(oc_gossip(&o, &u, 1, now + 13 * SECOND), 0);
	assert_int_equal(xg_core_member_count(o.core), 1);
	oc_update(&u, XG_ALIVE, 50, 2, 50);
	assert_int_equal(oc_gossip(&o, &u, 1, now + 13 * SECOND), 0);
	assert_int_equal(xg_core_member_count(o.core), 2);
	assert_int_equal(oc_count_events(&o, XG_EV_JOIN, 50), 2);
	oc_stop(&o);
}

/* Send failures are counted and do not stop the protocol. */
static void send_errors_counted(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	uint64_t now = SECOND;
	int i;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, now), 0);
	oc_update(&u, XG_ALIVE, 50, 0, 50);
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	o.send_err = -ENETUNREACH;
	for (i = 0; i < 20; i++)
		xg_core_tick(o.core, now += 100 * MS);
	assert_true(xg_core_stats(o.core)->tx_errors > 0);
	assert_int_equal(xg_core_stats(o.core)->pings_sent, 0);
	assert_int_equal(xg_core_stats(o.core)->bytes_sent, 0);
	oc_stop(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(defaults),
		cmocka_unit_test(config_checks),
		cmocka_unit_test(new_core_holds_self),
		cmocka_unit_test(names),
		cmocka_unit_test(idle_alone),
		cmocka_unit_test(clock_never_goes_back),
		cmocka_unit_test(state_encode_limits),
		cmocka_unit_test(reaping),
		cmocka_unit_test(send_errors_counted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
