/* SPDX-License-Identifier: MIT */
/*
 * Incarnation precedence, one row per (current state, update) pair, on a
 * single core fed GOSSIP packets: the resulting state and incarnation, the
 * applied/stale counters, the event, and whether the member is queued for
 * gossip again afterwards (never the stale update itself; our own newer
 * state when the update proves its sender is behind).
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

#define M       50ULL  /* the member under test */
#define HELPER  51ULL  /* keeps a gossip target around while M is gone */
#define SECOND  1000000000ULL
#define NO_EV   (-1)

struct row {
	uint8_t  s0;        /* M's state before (inc 5) */
	uint8_t  s;         /* update */
	uint32_t inc;
	uint8_t  want_s;
	uint32_t want_inc;
	bool     applied;
	int      event;     /* enum xg_event_type or NO_EV */
	bool     queued;    /* M has a queue entry afterwards */
};

static const struct row rows[] = {
	/* ALIVE 5 */
	{ XG_ALIVE, XG_ALIVE,   4, XG_ALIVE,   5, false, NO_EV,         true  },
	{ XG_ALIVE, XG_ALIVE,   5, XG_ALIVE,   5, false, NO_EV,         false },
	{ XG_ALIVE, XG_ALIVE,   6, XG_ALIVE,   6, true,  NO_EV,         true  },
	{ XG_ALIVE, XG_SUSPECT, 4, XG_ALIVE,   5, false, NO_EV,         true  },
	{ XG_ALIVE, XG_SUSPECT, 5, XG_SUSPECT, 5, true,  XG_EV_SUSPECT, true  },
	{ XG_ALIVE, XG_SUSPECT, 6, XG_SUSPECT, 6, true,  XG_EV_SUSPECT, true  },
	{ XG_ALIVE, XG_DEAD,    4, XG_ALIVE,   5, false, NO_EV,         true  },
	{ XG_ALIVE, XG_DEAD,    5, XG_DEAD,    5, true,  XG_EV_FAIL,    true  },
	{ XG_ALIVE, XG_LEFT,    4, XG_ALIVE,   5, false, NO_EV,         true  },
	{ XG_ALIVE, XG_LEFT,    5, XG_LEFT,    5, true,  XG_EV_LEAVE,   true  },
	/* SUSPECT 5 */
	{ XG_SUSPECT, XG_ALIVE,   5, XG_SUSPECT, 5, false, NO_EV,       true  },
	{ XG_SUSPECT, XG_ALIVE,   6, XG_ALIVE,   6, true,  XG_EV_ALIVE, true  },
	{ XG_SUSPECT, XG_SUSPECT, 4, XG_SUSPECT, 5, false, NO_EV,       true  },
	{ XG_SUSPECT, XG_SUSPECT, 5, XG_SUSPECT, 5, false, NO_EV,       false },
	{ XG_SUSPECT, XG_SUSPECT, 6, XG_SUSPECT, 6, true,  NO_EV,       true  },
	{ XG_SUSPECT, XG_DEAD,    4, XG_SUSPECT, 5, false, NO_EV,       true  },
	{ XG_SUSPECT, XG_DEAD,    5, XG_DEAD,    5, true,  XG_EV_FAIL,  true  },
	{ XG_SUSPECT, XG_LEFT,    5, XG_LEFT,    5, true,  XG_EV_LEAVE, true  },
	/* DEAD 5: only ALIVE with a higher incarnation brings it back */
	{ XG_DEAD, XG_ALIVE,   5, XG_DEAD,  5, false, NO_EV,       true  },
	{ XG_DEAD, XG_ALIVE,   6, XG_ALIVE, 6, true,  XG_EV_ALIVE, true  },
	{ XG_DEAD, XG_SUSPECT, 6, XG_DEAD,  5, false, NO_EV,       false },
	{ XG_DEAD, XG_DEAD,    5, XG_DEAD,  5, false, NO_EV,       false },
	{ XG_DEAD, XG_DEAD,    6, XG_DEAD,  6, true,  NO_EV,       true  },
	{ XG_DEAD, XG_LEFT,    5, XG_LEFT,  5, true,  XG_EV_LEAVE, true  },
	/* LEFT 5: wins the tie with DEAD */
	{ XG_LEFT, XG_ALIVE,   5, XG_LEFT,  5, false, NO_EV,       true  },
	{ XG_LEFT, XG_ALIVE,   6, XG_ALIVE, 6, true,  XG_EV_ALIVE, true  },
	{ XG_LEFT, XG_SUSPECT, 7, XG_LEFT,  5, false, NO_EV,       false },
	{ XG_LEFT, XG_DEAD,    5, XG_LEFT,  5, false, NO_EV,       true  },
	{ XG_LEFT, XG_DEAD,    6, XG_DEAD,  6, true,  NO_EV,       true  },
	{ XG_LEFT, XG_LEFT,    5, XG_LEFT,  5, false, NO_EV,       false },
};

static void start(struct onecore *o)
{
	struct xg_core_config cfg;

	oc_config(&cfg);
	/* No probes during the test: only gossip moves state. */
	cfg.probe_interval_ns = 3600 * SECOND;
	cfg.probe_timeout_ns = 1800 * SECOND;
	assert_int_equal(oc_start(o, &cfg, SECOND), 0);
}

static void send_one(struct onecore *o, uint8_t state, uint64_t id,
		     uint32_t inc, uint64_t from, uint64_t now)
{
	struct xg_update_msg u;

	oc_update(&u, state, id, inc, from);
	assert_int_equal(oc_gossip(o, &u, 1, now), 0);
}

/* Let gossip rounds run until the queue is empty. */
static uint64_t drain(struct onecore *o, uint64_t now)
{
	int i;

	for (i = 0; i < 200 && xg_dissem_len(o->core); i++) {
		now += o->cfg.gossip_interval_ns;
		xg_core_tick(o->core, now);
	}
	assert_int_equal(xg_dissem_len(o->core), 0);
	return now;
}

static void run_row(const struct row *r)
{
	struct onecore o;
	struct xg_member_info mi;
	const struct xg_core_stats *st;
	uint64_t now = 2 * SECOND, applied, stale;
	size_t nev;

	start(&o);
	send_one(&o, XG_ALIVE, HELPER, 1, HELPER, now);
	send_one(&o, XG_ALIVE, M, 5, M, now);
	if (r->s0 != XG_ALIVE)
		send_one(&o, r->s0, M, 5, 99, now);
	assert_int_equal(xg_core_member_find(o.core, M, &mi), 0);
	assert_int_equal(mi.state, r->s0);
	now = drain(&o, now);

	st = xg_core_stats(o.core);
	applied = st->updates_applied;
	stale = st->updates_stale;
	nev = o.nev;
	send_one(&o, r->s, M, r->inc, r->s == XG_ALIVE ? M : 99, now);

	assert_int_equal(xg_core_member_find(o.core, M, &mi), 0);
	assert_int_equal(mi.state, r->want_s);
	assert_int_equal(mi.incarnation, r->want_inc);
	assert_int_equal(st->updates_applied, applied + (r->applied ? 1 : 0));
	assert_int_equal(st->updates_stale, stale + (r->applied ? 0 : 1));
	if (r->event == NO_EV) {
		assert_int_equal(o.nev, nev);
	} else {
		assert_int_equal(o.nev, nev + 1);
		assert_int_equal(o.ev[nev].type, r->event);
		assert_int_equal(o.ev[nev].id, M);
	}
	assert_int_equal(xg_dissem_transmits(o.core, M) >= 0, r->queued);
	oc_stop(&o);
}

static void precedence_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		print_message("row %zu: %s -> %s %u\n", i,
			      xg_state_name(rows[i].s0),
			      xg_state_name(rows[i].s), rows[i].inc);
		run_row(&rows[i]);
	}
}

/* A second, distinct accuser of the same suspicion is news (Lifeguard
 * counts them); the same accuser again is not. */
static void suspicion_confirmations(void **state)
{
	struct onecore o;
	struct xg_member *m;
	uint64_t now = 2 * SECOND;

	(void)state;
	start(&o);
	send_one(&o, XG_ALIVE, M, 5, M, now);
	send_one(&o, XG_SUSPECT, M, 5, 60, now);
	m = xg_members_find(&o.core->members, M);
	assert_non_null(m);
	assert_int_equal(m->susp.n_confirm, 1);
	send_one(&o, XG_SUSPECT, M, 5, 61, now);
	assert_int_equal(m->susp.n_confirm, 2);
	assert_int_equal(xg_core_stats(o.core)->updates_stale, 0);
	send_one(&o, XG_SUSPECT, M, 5, 61, now);
	assert_int_equal(m->susp.n_confirm, 2);
	assert_int_equal(xg_core_stats(o.core)->updates_stale, 1);
	assert_int_equal(oc_count_events(&o, XG_EV_SUSPECT, M), 1);
	oc_stop(&o);
}

/* Updates about this node: anything accusing our current incarnation is
 * refuted with a higher one; older accusations are stale, except DEAD in
 * a push/pull, which says the peer missed our refutation. */
static void self_refutes(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	uint8_t buf[4096];
	ssize_t len;
	uint64_t now = 2 * SECOND;

	(void)state;
	start(&o);
	assert_int_equal(xg_core_self(o.core)->incarnation, 0);
	send_one(&o, XG_SUSPECT, OC_SELF_ID, 0, 60, now);
	assert_int_equal(xg_core_self(o.core)->incarnation, 1);
	assert_int_equal(xg_core_self(o.core)->state, XG_ALIVE);
	assert_int_equal(oc_count_events(&o, XG_EV_REFUTE, OC_SELF_ID), 1);
	assert_int_equal(xg_core_stats(o.core)->refutes, 1);
	assert_true(xg_dissem_transmits(o.core, OC_SELF_ID) >= 0);

	send_one(&o, XG_SUSPECT, OC_SELF_ID, 0, 60, now);   /* old news */
	assert_int_equal(xg_core_self(o.core)->incarnation, 1);
	send_one(&o, XG_DEAD, OC_SELF_ID, 1, 60, now);
	assert_int_equal(xg_core_self(o.core)->incarnation, 2);
	send_one(&o, XG_DEAD, OC_SELF_ID, 0, 60, now);      /* old news */
	assert_int_equal(xg_core_self(o.core)->incarnation, 2);

	oc_update(&u, XG_DEAD, OC_SELF_ID, 0, 60);
	len = oc_batch(XG_T_STATE, OC_CLUSTER, o.cfg.gossip_key, &u, 1, buf,
		       sizeof(buf));
	assert_true(len > 0);
	assert_int_equal(xg_core_state_merge(o.core, buf, (size_t)len, now), 0);
	assert_int_equal(xg_core_self(o.core)->incarnation, 3);

	send_one(&o, XG_LEFT, OC_SELF_ID, 3, OC_SELF_ID, now);
	assert_int_equal(xg_core_self(o.core)->incarnation, 4);
	/* An ALIVE of ours from a previous life, above what we have. */
	send_one(&o, XG_ALIVE, OC_SELF_ID, 10, OC_SELF_ID, now);
	assert_int_equal(xg_core_self(o.core)->incarnation, 11);
	send_one(&o, XG_ALIVE, OC_SELF_ID, 11, OC_SELF_ID, now);
	assert_int_equal(xg_core_self(o.core)->incarnation, 11);

	assert_int_equal(xg_core_stats(o.core)->refutes, 5);
	assert_int_equal(oc_count_events(&o, XG_EV_REFUTE, 0), 5);
	assert_int_equal(xg_core_self(o.core)->state, XG_ALIVE);
	oc_stop(&o);
}

/* After our own leave we defend nothing. */
static void no_refute_after_leave(void **state)
{
	struct onecore o;
	uint64_t now = 2 * SECOND;

	(void)state;
	start(&o);
	assert_int_equal(xg_core_leave(o.core, now), 0);
	send_one(&o, XG_DEAD, OC_SELF_ID, 1, 60, now);
	assert_int_equal(xg_core_self(o.core)->state, XG_LEFT);
	assert_int_equal(xg_core_self(o.core)->incarnation, 1);
	assert_int_equal(xg_core_stats(o.core)->refutes, 0);
	oc_stop(&o);
}

/* Only a member's own ALIVE adds it: accusations about strangers are
 * dropped instead of creating ghosts. */
static void no_ghosts(void **state)
{
	struct onecore o;
	uint64_t now = 2 * SECOND;

	(void)state;
	start(&o);
	send_one(&o, XG_SUSPECT, 70, 3, 60, now);
	send_one(&o, XG_DEAD, 71, 3, 60, now);
	send_one(&o, XG_LEFT, 72, 3, 72, now);
	assert_int_equal(xg_core_member_count(o.core), 1);
	assert_int_equal(xg_core_stats(o.core)->updates_stale, 3);
	assert_int_equal(o.nev, 0);
	send_one(&o, XG_ALIVE, 73, 0, 73, now);
	assert_int_equal(xg_core_member_count(o.core), 2);
	assert_int_equal(oc_count_events(&o, XG_EV_JOIN, 73), 1);
	oc_stop(&o);
}

/* A newer ALIVE with other metadata or address is an UPDATE. */
static void update_event(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_member_info mi;
	uint64_t now = 2 * SECOND;

	(void)state;
	start(&o);
	send_one(&o, XG_ALIVE, M, 1, M, now);
	oc_update(&u, XG_ALIVE, M, 2, M);
	memcpy(u.meta, "zone=b", 6);
	u.meta_len = 6;
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	assert_int_equal(oc_count_events(&o, XG_EV_UPDATE, M), 1);
	assert_int_equal(xg_core_member_find(o.core, M, &mi), 0);
	assert_int_equal(mi.meta_len, 6);
	assert_memory_equal(mi.meta, "zone=b", 6);
	u.incarnation = 3;
	u.addr.port = 9999;
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	assert_int_equal(oc_count_events(&o, XG_EV_UPDATE, M), 2);
	/* Same content, higher incarnation: nothing to report. */
	u.incarnation = 4;
	assert_int_equal(oc_gossip(&o, &u, 1, now), 0);
	assert_int_equal(oc_count_events(&o, XG_EV_UPDATE, M), 2);
	oc_stop(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(precedence_table),
		cmocka_unit_test(suspicion_confirmations),
		cmocka_unit_test(self_refutes),
		cmocka_unit_test(no_refute_after_leave),
		cmocka_unit_test(no_ghosts),
		cmocka_unit_test(update_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
