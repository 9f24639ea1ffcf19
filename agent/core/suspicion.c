/* SPDX-License-Identifier: MIT */
/*
 * Suspicion timers (SWIM section 4.2) with Lifeguard's dynamic timeout
 * (Dadgar et al., section 5).  A suspect member is declared dead after
 *
 *   min = suspicion_mult * max(1, log10(n)) * probe_interval
 *   max = suspicion_max_mult * min
 *   timeout(C) = max - (max - min) * log(C + 1) / log(K + 1), at least min
 *
 * counted from the moment this node started suspecting it, C being the
 * independent confirmations heard so far and K the number expected.  A
 * lone accusation waits the longest: it is most likely to come from a node
 * that is itself in trouble, and the suspect gets time to hear of it and
 * refute.  Each member that independently suspects the same incarnation
 * is more evidence, so the timeout shrinks towards min, which it reaches
 * at K confirmations.  The log makes the first confirmations count most.
 *
 * C counts distinct from_ids other than the first accuser (whose word is
 * the suspicion itself), and only SUSPECT updates about the incarnation
 * under suspicion (apply.c): a suspicion of a newer incarnation starts
 * afresh.  Our own failed probe of the member confirms like anyone's.
 *
 * K is suspicion_expected_confirms, or suspicion_mult - 2 (at least 1),
 * memberlist's choice: a member that hears the suspicion probes the
 * suspect next and confirms within a probe interval or two, so about that
 * many confirmations can arrive while a min-long window runs, with two
 * intervals to spare.  K is capped at n - 2, the members other than the
 * suspect and the accuser, who could confirm at all: a tiny cluster is not
 * held at max for want of witnesses it does not have, and with nobody to
 * confirm, min applies at once.
 *
 * The log10(n) term grows the window with the time gossip needs to reach
 * everyone; n (alive + suspect, self included) and with it min, max and K
 * are fixed when the suspicion starts.
 */
#include "core/xmath.h"

#include "core/core_internal.h"

/* Converting an out-of-range double is undefined: clamp first.  Rounded
 * to the nearest nanosecond, so that a logarithm a few ulps off (10 * 2.0
 * computed as 19.999...) gives the same timeout everywhere. */
static uint64_t to_ns(double ns)
{
	if (ns >= 18446744073709549568.0)
		return UINT64_MAX;
	return ns > 0.0 ? (uint64_t)(ns + 0.5) : 0;
}

static uint64_t min_timeout(const struct xg_core *c, size_t n)
{
	double scale = n > 10 ? xg_log10((double)n) : 1.0;

	return to_ns((double)c->cfg.suspicion_mult * scale *
		     (double)c->cfg.probe_interval_ns);
}

static unsigned expected_confirms(const struct xg_core *c, size_t n)
{
	unsigned k = c->cfg.suspicion_expected_confirms;

	if (k == 0)
		k = c->cfg.suspicion_mult > 3 ? c->cfg.suspicion_mult - 2 : 1;
	if (k > XG_SUSPECT_CONFIRM_MAX - 1)
		k = XG_SUSPECT_CONFIRM_MAX - 1;
	if (n < 2 + (size_t)k)
		k = n > 2 ? (unsigned)(n - 2) : 0;
	return k;
}

unsigned xg_suspicion_confirmations(const struct xg_suspicion *s)
{
	return s->n_confirm ? s->n_confirm - 1 : 0;
}

uint64_t xg_suspicion_timeout(const struct xg_suspicion *s)
{
	unsigned confirms = xg_suspicion_confirmations(s);
	uint64_t span = s->max_ns - s->min_ns;
	double cut;

	if (confirms >= s->k)
		return s->min_ns;
	cut = (double)span * xg_ln((double)confirms + 1.0) /
	      xg_ln((double)s->k + 1.0);
	if (cut >= (double)span)
		return s->min_ns;
	return s->max_ns - to_ns(cut);
}

static void rearm(struct xg_suspicion *s)
{
	s->deadline_ns = xg_sat_add(s->start_ns, xg_suspicion_timeout(s));
}

void xg_suspicion_start(struct xg_core *c, struct xg_member *m,
			uint64_t from_id, uint64_t now_ns)
{
	struct xg_suspicion *s = &m->susp;
	size_t n = xg_members_live(&c->members);

	xg_list_unlink(&s->link);
	s->start_ns = now_ns;
	s->min_ns = min_timeout(c, n);
	s->max_ns = xg_mul_sat(s->min_ns, c->cfg.suspicion_max_mult);
	/* A member that said it is starved of CPU is slow, not dead, until
	 * shown otherwise: it gets the longest timeout, whatever the
	 * confirmations (they only say it is slow). */
	if (m->info.flags & XG_UF_STARVED)
		s->min_ns = s->max_ns;
	s->k = expected_confirms(c, n);
	s->n_confirm = 1;
	s->confirm[0] = from_id;
	rearm(s);
	xg_list_append(&c->members.suspects, &s->link);
}

static void declare_dead(struct xg_core *c, struct xg_member *m,
			 uint64_t now_ns)
{
	struct xg_update_msg u;

	xg_member_to_update(m, c->self->info.id, false, &u);
	u.state = XG_DEAD;
	/* Cannot fail: DEAD at the member's own incarnation always wins
	 * over SUSPECT, and nothing is allocated for a known member. */
	(void)xg_apply_update(c, &u, XG_SRC_LOCAL, now_ns);
}

bool xg_suspicion_confirm(struct xg_core *c, struct xg_member *m,
			  uint64_t from_id, uint64_t now_ns)
{
	struct xg_suspicion *s = &m->susp;
	unsigned i;

	/* A member does not suspect itself; such an update is garbage. */
	if (from_id == m->info.id)
		return false;
	for (i = 0; i < s->n_confirm; i++)
		if (s->confirm[i] == from_id)
			return false;
	if (s->n_confirm == XG_SUSPECT_CONFIRM_MAX)
		return false;
	s->confirm[s->n_confirm++] = from_id;
	rearm(s);
	/* The shorter timeout, counted from the start, may already have
	 * run out: the evidence is in, so do not wait for the next tick. */
	if (s->deadline_ns <= now_ns)
		declare_dead(c, m, now_ns);
	return true;
}

void xg_suspicion_stop(struct xg_member *m)
{
	xg_list_unlink(&m->susp.link);
}

void xg_suspicion_tick(struct xg_core *c, uint64_t now_ns)
{
	struct xg_link *head = &c->members.suspects, *l, *next;

	for (l = head->next; l != head; l = next) {
		struct xg_member *m =
			xg_container_of(l, struct xg_member, susp.link);

		/* declare_dead unlinks only m, so next stays valid. */
		next = l->next;
		if (m->susp.deadline_ns <= now_ns)
			declare_dead(c, m, now_ns);
	}
}

uint64_t xg_suspicion_deadline(const struct xg_core *c)
{
	const struct xg_link *head = &c->members.suspects, *l;
	uint64_t best = UINT64_MAX;

	for (l = head->next; l != head; l = l->next) {
		const struct xg_member *m =
			xg_container_of(l, const struct xg_member, susp.link);

		best = xg_min64(best, m->susp.deadline_ns);
	}
	return best;
}
