/* SPDX-License-Identifier: MIT */
/*
 * The messenger's small tables: the id hash table under them all, ACK
 * rounds (majority, deadlines, bounds) and pull wants (holders, retries,
 * bounds).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/msg_gap.h"
#include "core/msg_idtab.h"
#include "core/msg_round.h"
#include "core/msg_want.h"

static void mkid(uint8_t id[16], uint64_t n)
{
	xg_msg_id_make(id, 42, 1, (uint32_t)n);
}

/* --- id table ------------------------------------------------------------ */

static void test_idtab(void **state)
{
	const size_t n = 10000;
	struct xg_idnode *nodes = calloc(n, sizeof(*nodes));
	struct xg_idtab t;
	uint8_t id[16];
	size_t i;

	(void)state;
	assert_non_null(nodes);
	assert_int_equal(xg_idtab_init(&t, 5000, 1, 2), 0);
	for (i = 0; i < n; i++) {
		mkid(nodes[i].id, i);
		xg_idtab_insert(&t, &nodes[i]);
	}
	assert_int_equal(t.n, n);
	/* grows with the entries, but not past the bound given */
	assert_int_equal(t.nslots, 8192);
	for (i = 0; i < n; i++) {
		mkid(id, i);
		assert_ptr_equal(xg_idtab_find(&t, id), &nodes[i]);
	}
	mkid(id, n);
	assert_null(xg_idtab_find(&t, id));
	for (i = 0; i < n; i += 2)
		xg_idtab_remove(&t, &nodes[i]);
	assert_int_equal(t.n, n / 2);
	for (i = 0; i < n; i++) {
		mkid(id, i);
		if (i % 2)
			assert_ptr_equal(xg_idtab_find(&t, id), &nodes[i]);
		else
			assert_null(xg_idtab_find(&t, id));
	}
	xg_idtab_fini(&t);
	free(nodes);
}

/* Ids that differ in one byte anywhere are different keys. */
static void test_idtab_full_key(void **state)
{
	struct xg_idnode a, b;
	struct xg_idtab t;
	int i;

	(void)state;
	assert_int_equal(xg_idtab_init(&t, 16, 3, 4), 0);
	memset(a.id, 0, 16);
	xg_idtab_insert(&t, &a);
	for (i = 0; i < 16; i++) {
		memset(b.id, 0, 16);
		b.id[i] = 1;
		assert_null(xg_idtab_find(&t, b.id));
	}
	assert_ptr_equal(xg_idtab_find(&t, a.id), &a);
	xg_idtab_fini(&t);
}

/* --- rounds -------------------------------------------------------------- */

static void test_round_majority(void **state)
{
	static const uint64_t to[3] = { 11, 12, 13 };
	struct xg_rounds r;
	uint8_t id[16];

	(void)state;
	assert_int_equal(xg_round_majority(1), 1);
	assert_int_equal(xg_round_majority(2), 2);
	assert_int_equal(xg_round_majority(3), 2);
	assert_int_equal(xg_round_majority(4), 3);
	assert_int_equal(xg_rounds_init(&r, 8, 5, 6), 0);
	mkid(id, 1);
	assert_int_equal(xg_rounds_start(&r, id, to, 3, 99, 1000), 0);
	assert_int_equal(xg_rounds_start(&r, id, to, 3, 99, 1000), -EEXIST);
	assert_int_equal(xg_rounds_ack(&r, id, 99), -ENOENT);
	assert_int_equal(xg_rounds_ack(&r, id, 12), 0);
	assert_int_equal(xg_rounds_ack(&r, id, 12), -ENOENT);
	assert_non_null(xg_rounds_find(&r, id));
	assert_int_equal(xg_rounds_find(&r, id)->acks, 1);
	assert_int_equal(xg_rounds_ack(&r, id, 11), 1);
	/* closed and freed */
	assert_null(xg_rounds_find(&r, id));
	assert_int_equal(xg_rounds_count(&r), 0);
	assert_int_equal(xg_rounds_ack(&r, id, 13), -ENOENT);
	/* one target: its ACK is the majority */
	mkid(id, 2);
	assert_int_equal(xg_rounds_start(&r, id, to, 1, 0, 1000), 0);
	assert_int_equal(xg_rounds_ack(&r, id, 11), 1);
	/* bad sizes */
	assert_int_equal(xg_rounds_start(&r, id, to, 0, 0, 1000), -EINVAL);
	assert_int_equal(xg_rounds_start(&r, id, to, XG_MSG_FANOUT_MAX + 1, 0,
					 1000), -EINVAL);
	xg_rounds_fini(&r);
}

static void test_round_deadlines(void **state)
{
	static const uint64_t to[2] = { 1, 2 };
	struct xg_rounds r;
	struct xg_round *rd;
	uint8_t id[16];
	uint64_t i;

	(void)state;
	assert_int_equal(xg_rounds_init(&r, 3, 7, 8), 0);
	assert_int_equal(xg_rounds_next(&r), UINT64_MAX);
	for (i = 0; i < 3; i++) {
		mkid(id, i);
		assert_int_equal(xg_rounds_start(&r, id, to, 2, 0,
						 100 + i * 10), 0);
	}
	/* bounded */
	mkid(id, 3);
	assert_int_equal(xg_rounds_start(&r, id, to, 2, 0, 200), -ENOBUFS);
	assert_int_equal(xg_rounds_next(&r), 100);
	assert_null(xg_rounds_due(&r, 99));
	rd = xg_rounds_due(&r, 100);
	assert_non_null(rd);
	mkid(id, 0);
	assert_memory_equal(rd->node.id, id, 16);
	/* re-armed: to the back */
	xg_rounds_rearm(&r, rd, 400);
	assert_int_equal(xg_rounds_next(&r), 110);
	rd = xg_rounds_due(&r, 1000);
	mkid(id, 1);
	assert_memory_equal(rd->node.id, id, 16);
	xg_rounds_close(&r, rd);
	rd = xg_rounds_due(&r, 1000);
	mkid(id, 2);
	assert_memory_equal(rd->node.id, id, 16);
	xg_rounds_close(&r, rd);
	assert_int_equal(xg_rounds_next(&r), 400);
	/* fini frees what is left (ASan checks) */
	xg_rounds_fini(&r);
}

/* --- wants --------------------------------------------------------------- */

static void test_want_holders(void **state)
{
	struct xg_wants w;
	struct xg_want *wt, *again;
	uint8_t id[16];
	uint64_t h;

	(void)state;
	assert_int_equal(xg_wants_init(&w, 4, 9, 10), 0);
	mkid(id, 1);
	assert_int_equal(xg_wants_note(&w, id, 100, &wt), 1);
	assert_int_equal(xg_want_next_holder(wt), 100);
	/* not armed yet: no deadline */
	assert_int_equal(xg_wants_next(&w), UINT64_MAX);
	xg_wants_arm(&w, wt, 50);
	assert_int_equal(wt->tries, 1);
	assert_int_equal(xg_wants_note(&w, id, 101, &again), 0);
	assert_ptr_equal(again, wt);
	assert_int_equal(xg_wants_note(&w, id, 101, &again), 0);
	assert_int_equal(xg_wants_note(&w, id, 100, &again), 0);
	assert_int_equal(wt->nholders, 2);
	/* up to XG_WANT_HOLDERS remembered */
	for (h = 102; h < 110; h++)
		xg_wants_note(&w, id, h, &again);
	assert_int_equal(wt->nholders, XG_WANT_HOLDERS);
	/* retries go round the holders in the order they came */
	assert_int_equal(xg_want_next_holder(wt), 101);
	xg_wants_arm(&w, wt, 60);
	assert_int_equal(xg_want_next_holder(wt), 102);
	xg_wants_arm(&w, wt, 70);
	assert_int_equal(xg_want_next_holder(wt), 103);
	xg_wants_arm(&w, wt, 80);
	assert_int_equal(xg_want_next_holder(wt), 100);
	assert_int_equal(xg_wants_next(&w), 80);
	assert_null(xg_wants_due(&w, 79));
	assert_ptr_equal(xg_wants_due(&w, 80), wt);
	assert_ptr_equal(xg_wants_find(&w, id), wt);
	xg_wants_drop(&w, wt);
	assert_null(xg_wants_find(&w, id));
	assert_int_equal(xg_wants_count(&w), 0);
	xg_wants_fini(&w);
}

static void test_want_bounds_and_order(void **state)
{
	struct xg_wants w;
	struct xg_want *wt[3], *x;
	uint8_t id[16];
	int i;

	(void)state;
	assert_int_equal(xg_wants_init(&w, 3, 11, 12), 0);
	for (i = 0; i < 3; i++) {
		mkid(id, (uint64_t)i);
		assert_int_equal(xg_wants_note(&w, id, 1, &wt[i]), 1);
		xg_wants_arm(&w, wt[i], 100 + (uint64_t)i);
	}
	mkid(id, 3);
	assert_int_equal(xg_wants_note(&w, id, 1, &x), -ENOBUFS);
	/* re-arming the first moves it behind the others */
	xg_wants_arm(&w, wt[0], 500);
	assert_ptr_equal(xg_wants_due(&w, 1000), wt[1]);
	xg_wants_drop(&w, wt[1]);
	assert_ptr_equal(xg_wants_due(&w, 1000), wt[2]);
	xg_wants_drop(&w, wt[2]);
	assert_ptr_equal(xg_wants_due(&w, 1000), wt[0]);
	/* and now there is room */
	assert_int_equal(xg_wants_note(&w, id, 1, &x), 1);
	xg_wants_fini(&w);
}

/* --- large wants --------------------------------------------------------- */

static struct xg_want_large meta(uint64_t size)
{
	struct xg_want_large l;

	memset(&l, 0, sizeof(l));
	l.size = size;
	l.origin_ms = 77;
	l.hops = 2;
	strcpy(l.topic, "big");
	memset(l.sha256, 0x11, sizeof(l.sha256));
	return l;
}

/* A gap want (plain, armed, two guessed holders) becomes large: holders
 * reset to the announcer, tries start again, off the due list. */
static void test_want_set_large(void **state)
{
	struct xg_want_large l = meta(5000);
	struct xg_wants w;
	struct xg_want *wt;
	uint8_t id[16];

	(void)state;
	assert_int_equal(xg_wants_init(&w, 4, 1, 2), 0);
	mkid(id, 7);
	assert_int_equal(xg_wants_note(&w, id, 100, &wt), 1);
	xg_wants_note(&w, id, 101, &wt);
	xg_wants_arm(&w, wt, 50);
	assert_int_equal(xg_wants_next(&w), 50);
	assert_int_equal(xg_wants_set_large(&w, wt, &l, 300), 0);
	assert_non_null(wt->large);
	assert_int_equal(wt->large->size, 5000);
	assert_string_equal(wt->large->topic, "big");
	assert_int_equal(wt->nholders, 1);
	assert_int_equal(wt->holders[0], 300);
	assert_int_equal(wt->tries, 0);
	assert_int_equal(wt->state, XG_FETCH_NONE);
	assert_int_equal(w.nlarge, 1);
	assert_int_equal(xg_wants_next(&w), UINT64_MAX);
	assert_null(xg_wants_due(&w, 1000));
	/* a second time changes nothing */
	assert_int_equal(xg_wants_set_large(&w, wt, &l, 999), 0);
	assert_int_equal(wt->holders[0], 300);
	xg_wants_drop(&w, wt);
	assert_int_equal(w.nlarge, 0);
	/* fini frees a large want left over (ASan checks) */
	mkid(id, 8);
	assert_int_equal(xg_wants_note(&w, id, 100, &wt), 1);
	assert_int_equal(xg_wants_set_large(&w, wt, &l, 100), 0);
	xg_wants_queue(&w, wt);
	xg_wants_fini(&w);
}

/* queued -> running -> waiting -> queued, with the counts and lists. */
static void test_want_fetch_states(void **state)
{
	struct xg_want_large l = meta(5000);
	struct xg_wants w;
	struct xg_want *wt[3];
	uint8_t id[16];
	int i;

	(void)state;
	assert_int_equal(xg_wants_init(&w, 8, 3, 4), 0);
	for (i = 0; i < 3; i++) {
		mkid(id, 10 + (uint64_t)i);
		assert_int_equal(xg_wants_note(&w, id, 100, &wt[i]), 1);
		assert_int_equal(xg_wants_set_large(&w, wt[i], &l, 100), 0);
		xg_wants_queue(&w, wt[i]);
	}
	assert_int_equal(w.nqueued, 3);
	/* first queued, first out */
	assert_ptr_equal(xg_wants_queue_head(&w), wt[0]);
	xg_wants_run(&w, wt[0], 100, 1000);
	assert_int_equal(wt[0]->state, XG_FETCH_RUNNING);
	assert_int_equal(wt[0]->tries, 1);
	assert_int_equal(wt[0]->large->from, 100);
	assert_int_equal(w.nqueued, 2);
	assert_int_equal(w.nrunning, 1);
	assert_ptr_equal(xg_wants_queue_head(&w), wt[1]);
	xg_wants_run(&w, wt[1], 100, 1100);
	/* the guard deadlines: running wants are not "due" */
	assert_int_equal(xg_wants_next(&w), 1000);
	assert_null(xg_wants_due(&w, 5000));
	assert_null(xg_wants_overdue(&w, 999));
	assert_ptr_equal(xg_wants_overdue(&w, 1000), wt[0]);
	/* a failure waits on due; due and running both feed next */
	xg_wants_wait(&w, wt[0], 400);
	assert_int_equal(wt[0]->state, XG_FETCH_WAITING);
	assert_int_equal(w.nrunning, 1);
	assert_int_equal(xg_wants_next(&w), 400);
	assert_ptr_equal(xg_wants_due(&w, 400), wt[0]);
	assert_ptr_equal(xg_wants_overdue(&w, 1100), wt[1]);
	/* queues again behind the one that waited all along */
	xg_wants_queue(&w, wt[0]);
	assert_null(xg_wants_due(&w, 5000));
	assert_ptr_equal(xg_wants_queue_head(&w), wt[2]);
	assert_int_equal(w.nqueued, 2);
	/* dropping a running and a queued want gives their places back */
	xg_wants_drop(&w, wt[1]);
	assert_int_equal(w.nrunning, 0);
	assert_int_equal(xg_wants_next(&w), UINT64_MAX);
	xg_wants_drop(&w, wt[2]);
	assert_int_equal(w.nqueued, 1);
	assert_ptr_equal(xg_wants_queue_head(&w), wt[0]);
	xg_wants_drop(&w, wt[0]);
	assert_int_equal(w.nqueued + w.nrunning + w.nlarge, 0);
	assert_null(xg_wants_queue_head(&w));
	xg_wants_fini(&w);
}

/* Holders in the order they announced, then the origin, in turn. */
static void test_want_source(void **state)
{
	struct xg_want_large l = meta(5000);
	struct xg_wants w;
	struct xg_want *wt;
	uint8_t id[16];
	uint64_t h;

	(void)state;
	assert_int_equal(xg_wants_init(&w, 8, 5, 6), 0);
	mkid(id, 20);
	assert_int_equal(xg_wants_note(&w, id, 100, &wt), 1);
	assert_int_equal(xg_wants_set_large(&w, wt, &l, 100), 0);
	xg_wants_note(&w, id, 101, &wt);
	assert_int_equal(xg_want_source(wt, 900), 100);
	xg_wants_run(&w, wt, 100, 10);
	assert_int_equal(xg_want_source(wt, 900), 101);
	xg_wants_run(&w, wt, 101, 10);
	assert_int_equal(xg_want_source(wt, 900), 900);
	xg_wants_run(&w, wt, 900, 10);
	assert_int_equal(xg_want_source(wt, 900), 100);
	/* an origin among the holders is not asked twice per turn; none
	 * (0, it is us) leaves the holders only */
	assert_int_equal(wt->tries, 3);
	assert_int_equal(xg_want_source(wt, 101), 101);
	assert_int_equal(xg_want_source(wt, 0), 101);
	for (h = 102; h < 110; h++)
		xg_wants_note(&w, id, h, &wt);
	assert_int_equal(wt->nholders, XG_WANT_HOLDERS);
	assert_int_equal(xg_want_source(wt, 900), 103);
	wt->tries = 4;
	assert_int_equal(xg_want_source(wt, 900), 900);
	xg_wants_fini(&w);
}

/* --- sequence gaps ------------------------------------------------------- */

static int gap_note(struct xg_gaps *g, uint64_t origin, uint32_t inc,
		    uint32_t c, uint64_t now, uint32_t *out, size_t cap)
{
	uint8_t id[16];

	xg_msg_id_make(id, origin, inc, c);
	return xg_gaps_note(g, id, now, 1000, out, cap);
}

static void test_gaps(void **state)
{
	struct xg_gaps g;
	uint32_t out[XG_GAP_MAX + 8];

	(void)state;
	assert_int_equal(xg_gaps_init(&g, 2, 13, 14), 0);
	assert_int_equal(gap_note(&g, 1, 1, 5, 0, out, 70), 0);
	assert_int_equal(gap_note(&g, 1, 1, 6, 10, out, 70), 0);
	assert_int_equal(gap_note(&g, 1, 1, 9, 20, out, 70), 2);
	assert_int_equal(out[0], 7);
	assert_int_equal(out[1], 8);
	/* below the highest: nothing, and the highest stays */
	assert_int_equal(gap_note(&g, 1, 1, 7, 30, out, 70), 0);
	assert_int_equal(gap_note(&g, 1, 1, 11, 40, out, 70), 1);
	assert_int_equal(out[0], 10);
	/* cap and XG_GAP_MAX: the counters nearest the new one */
	assert_int_equal(gap_note(&g, 1, 1, 21, 50, out, 3), 3);
	assert_int_equal(out[0], 18);
	assert_int_equal(out[2], 20);
	assert_int_equal(gap_note(&g, 1, 1, 1000, 60, out, 70), XG_GAP_MAX);
	assert_int_equal(out[0], 1000 - XG_GAP_MAX);
	/* the top of the counter range */
	assert_int_equal(gap_note(&g, 1, 1, UINT32_MAX, 70, out, 70),
			 XG_GAP_MAX);
	assert_int_equal(out[XG_GAP_MAX - 1], UINT32_MAX - 1);
	/* incarnations are separate sequences; the bound evicts the least
	 * recently updated */
	assert_int_equal(gap_note(&g, 1, 2, 3, 80, out, 70), 0);
	assert_int_equal(xg_gaps_count(&g), 2);
	assert_int_equal(gap_note(&g, 2, 1, 3, 90, out, 70), 0);
	assert_int_equal(xg_gaps_count(&g), 2);
	/* (1, 1) was evicted: a new baseline */
	assert_int_equal(gap_note(&g, 1, 1, UINT32_MAX, 100, out, 70), 0);
	/* (2, 1) stayed... until (1, 1) came back; (1, 2) went */
	assert_int_equal(gap_note(&g, 2, 1, 5, 110, out, 70), 1);
	/* past the horizon since the last raise: no gaps */
	assert_int_equal(gap_note(&g, 2, 1, 9, 1111, out, 70), 0);
	assert_int_equal(gap_note(&g, 2, 1, 11, 1112, out, 70), 1);
	xg_gaps_fini(&g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idtab),
		cmocka_unit_test(test_idtab_full_key),
		cmocka_unit_test(test_round_majority),
		cmocka_unit_test(test_round_deadlines),
		cmocka_unit_test(test_want_holders),
		cmocka_unit_test(test_want_bounds_and_order),
		cmocka_unit_test(test_want_set_large),
		cmocka_unit_test(test_want_fetch_states),
		cmocka_unit_test(test_want_source),
		cmocka_unit_test(test_gaps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
