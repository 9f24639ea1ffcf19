/* SPDX-License-Identifier: MIT */
/*
 * The membership table against a reference model: random adds and
 * removals (with ids chosen to collide in the index), then every id is
 * looked up, present or not.  Linear-probing deletion is the part that
 * goes wrong quietly, so it gets a test of its own.
 */
#include <errno.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core_internal.h"
#include "lib/onecore.h"

/* Up to ~IDS * 2/3 members live at once: the index sits at 1024 slots
 * at up to ~40% load, where runs crossing the end of the array (the
 * case deletion gets wrong most easily) happen regularly. */
#define IDS 600

static uint64_t rng = 99;

static uint64_t next_rand(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void check(struct onecore *o, const bool *present)
{
	const struct xg_members *t = &o->core->members;
	size_t i, n = 1;

	for (i = 0; i < IDS; i++) {
		struct xg_member *m = xg_members_find(t, 100 + i);

		assert_int_equal(m != NULL, present[i]);
		if (m) {
			assert_int_equal(m->info.id, 100 + i);
			assert_ptr_equal(t->v[m->idx], m);
			n++;
		}
	}
	assert_int_equal(t->n, n);
	assert_ptr_equal(t->v[0], o->core->self);
	assert_int_equal(t->by_state[XG_ALIVE], n);
}

static void random_adds_and_removes(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	bool present[IDS] = { false };
	int k;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, 1), 0);
	for (k = 0; k < 60000; k++) {
		size_t i = (size_t)(next_rand() % IDS);
		struct xg_member *m = xg_members_find(&o.core->members, 100 + i);

		/* Grow towards ~2/3 full, then churn around it. */
		if (!m && (next_rand() % 3 != 0)) {
			oc_update(&u, XG_ALIVE, 100 + i, 0, 100 + i);
			assert_non_null(xg_members_add(o.core, &u, 1));
			present[i] = true;
		} else if (m) {
			xg_members_remove(o.core, m);
			present[i] = false;
		}
		check(&o, present);
	}
	check(&o, present);
	/* The index grew past its initial size and stayed half empty. */
	assert_true(o.core->members.nslots >= 2 * o.core->members.n);
	assert_true(o.core->members.nslots > 16);
	oc_stop(&o);
}

/* The index's hash, mirrored here to build collisions on purpose; the
 * test asserts the layout it expects, so a changed hash fails loudly
 * instead of silently testing nothing. */
static size_t home_of(uint64_t id, size_t nslots)
{
	id ^= id >> 30;
	id *= 0xbf58476d1ce4e5b9ULL;
	id ^= id >> 27;
	id *= 0x94d049bb133111ebULL;
	id ^= id >> 31;
	return (size_t)id & (nslots - 1);
}

static size_t slot_of(const struct xg_members *t, uint64_t id)
{
	size_t i;

	for (i = 0; i < t->nslots; i++)
		if (t->slots[i] && t->slots[i]->info.id == id)
			return i;
	return SIZE_MAX;
}

/* A probe run that wraps past the end of the slot array, and deletions
 * inside it: every later member must stay reachable from its home. */
static void deletion_in_wrapped_run(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_members *t;
	uint64_t last[3], first = 0, id;
	size_t nl = 0, n, k;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, 1), 0);
	t = &o.core->members;
	n = t->nslots;
	assert_int_equal(n, 16);
	/* Three ids at home n-1 and one at home 0, none colliding with
	 * self's slot run. */
	for (id = 1000; nl < 3 || !first; id++) {
		size_t h = home_of(id, n);

		if (h == n - 1 && nl < 3)
			last[nl++] = id;
		else if (h == 0 && !first)
			first = id;
	}
	assert_int_not_equal(home_of(OC_SELF_ID, n), n - 1);
	assert_true(home_of(OC_SELF_ID, n) > 3);
	for (k = 0; k < 3; k++) {
		oc_update(&u, XG_ALIVE, last[k], 0, last[k]);
		assert_non_null(xg_members_add(o.core, &u, 1));
	}
	oc_update(&u, XG_ALIVE, first, 0, first);
	assert_non_null(xg_members_add(o.core, &u, 1));
	assert_int_equal(slot_of(t, last[0]), n - 1);
	assert_int_equal(slot_of(t, last[1]), 0);
	assert_int_equal(slot_of(t, last[2]), 1);
	assert_int_equal(slot_of(t, first), 2);

	/* Delete inside the wrapped part: last[2] (home n-1) and first
	 * (home 0) must both shift back. */
	xg_members_remove(o.core, xg_members_find(t, last[1]));
	assert_null(xg_members_find(t, last[1]));
	assert_non_null(xg_members_find(t, last[0]));
	assert_non_null(xg_members_find(t, last[2]));
	assert_non_null(xg_members_find(t, first));
	assert_int_equal(slot_of(t, last[2]), 0);
	assert_int_equal(slot_of(t, first), 1);
	/* Delete the run's head, at the end of the array. */
	xg_members_remove(o.core, xg_members_find(t, last[0]));
	assert_non_null(xg_members_find(t, last[2]));
	assert_non_null(xg_members_find(t, first));
	assert_int_equal(slot_of(t, last[2]), n - 1);
	assert_int_equal(slot_of(t, first), 0);
	/* Hole at the end, next slot holds a member at its own home (0):
	 * it must stay where it is. */
	xg_members_remove(o.core, xg_members_find(t, last[2]));
	assert_int_equal(slot_of(t, first), 0);
	assert_non_null(xg_members_find(t, first));
	assert_non_null(xg_members_find(t, OC_SELF_ID));
	assert_int_equal(t->n, 2);
	oc_stop(&o);
}

/* ids with the given home slot, distinct across calls via *next */
static uint64_t id_at_home(size_t home, size_t nslots, uint64_t *next)
{
	while (home_of(*next, nslots) != home)
		(*next)++;
	return (*next)++;
}

static void add_id(struct onecore *o, uint64_t id)
{
	struct xg_update_msg u;

	oc_update(&u, XG_ALIVE, id, 0, id);
	assert_non_null(xg_members_add(o->core, &u, 1));
}

/* A hole just before a run whose members all belong later: nothing may
 * move into it, not even members that wrapped to the start. */
static void deletion_before_foreign_run(void **state)
{
	struct onecore o;
	struct xg_members *t;
	uint64_t next = 5000, x, y, z;
	size_t n;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, 1), 0);
	t = &o.core->members;
	n = t->nslots;
	assert_true(home_of(OC_SELF_ID, n) > 2 && home_of(OC_SELF_ID, n) < n - 2);
	x = id_at_home(n - 2, n, &next);
	y = id_at_home(n - 1, n, &next);
	z = id_at_home(n - 1, n, &next);
	add_id(&o, x);
	add_id(&o, y);
	add_id(&o, z);
	assert_int_equal(slot_of(t, x), n - 2);
	assert_int_equal(slot_of(t, y), n - 1);
	assert_int_equal(slot_of(t, z), 0);
	xg_members_remove(o.core, xg_members_find(t, x));
	assert_int_equal(slot_of(t, y), n - 1);
	assert_int_equal(slot_of(t, z), 0);
	assert_non_null(xg_members_find(t, y));
	assert_non_null(xg_members_find(t, z));
	oc_stop(&o);
}

/* The side lists follow the states: suspects and dead-or-left members. */
static void side_lists_follow_states(void **state)
{
	struct onecore o;
	struct xg_update_msg u;
	struct xg_member *m;

	(void)state;
	assert_int_equal(oc_start(&o, NULL, 1), 0);
	oc_update(&u, XG_ALIVE, 50, 0, 50);
	m = xg_members_add(o.core, &u, 1);
	assert_non_null(m);
	xg_member_set_state(o.core, m, XG_SUSPECT, 2);
	xg_suspicion_start(o.core, m, 99, 2);
	assert_false(xg_list_empty(&o.core->members.suspects));
	xg_member_set_state(o.core, m, XG_DEAD, 3);
	assert_true(xg_list_empty(&o.core->members.suspects));
	assert_false(xg_list_empty(&o.core->members.gone));
	assert_int_equal(m->info.state_since_ns, 3);
	assert_int_equal(xg_members_reap_deadline(o.core),
			 3 + o.cfg.dead_reclaim_ns);
	xg_member_set_state(o.core, m, XG_ALIVE, 4);
	assert_true(xg_list_empty(&o.core->members.gone));
	assert_int_equal(xg_members_reap_deadline(o.core), UINT64_MAX);
	/* Self never goes on the reap list. */
	xg_member_set_state(o.core, o.core->self, XG_LEFT, 5);
	assert_true(xg_list_empty(&o.core->members.gone));
	assert_int_equal(xg_core_count_state(o.core, XG_LEFT), 1);
	assert_int_equal(xg_core_count_state(o.core, XG_ALIVE), 1);
	oc_stop(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(random_adds_and_removes),
		cmocka_unit_test(deletion_in_wrapped_run),
		cmocka_unit_test(deletion_before_foreign_run),
		cmocka_unit_test(side_lists_follow_states),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
