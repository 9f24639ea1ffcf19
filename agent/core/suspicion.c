/* SPDX-License-Identifier: MIT */
/*
 * Suspicion timers (SWIM section 4.2): a suspect member is declared dead
 * only after suspicion_mult * max(1, log10(n)) probe intervals, which gives
 * it time to hear of the suspicion and refute it.  The log term grows the
 * window with the time gossip needs to reach everyone.
 *
 * Every suspicion remembers who confirmed it (distinct from_ids).  Today
 * the timeout ignores them; Lifeguard's dynamic suspicion shrinks the
 * timeout with each independent confirmation, and xg_suspicion_timeout()
 * is the one place that will change for it.
 */
#include <math.h>

#include "core/core_internal.h"

static uint64_t base_timeout(const struct xg_core *c)
{
	double n = (double)xg_members_live(&c->members);
	double scale = n > 10.0 ? log10(n) : 1.0;
	double ns = (double)c->cfg.suspicion_mult * scale *
		    (double)c->cfg.probe_interval_ns;

	/* Converting an out-of-range double is undefined: clamp first. */
	if (ns >= 18446744073709549568.0)
		return UINT64_MAX;
	return (uint64_t)ns;
}

uint64_t xg_suspicion_timeout(const struct xg_core *c,
			      const struct xg_suspicion *s)
{
	(void)c;
	return s->base_ns;
}

static void rearm(const struct xg_core *c, struct xg_suspicion *s)
{
	s->deadline_ns = xg_sat_add(s->start_ns, xg_suspicion_timeout(c, s));
}

void xg_suspicion_start(struct xg_core *c, struct xg_member *m,
			uint64_t from_id, uint64_t now_ns)
{
	struct xg_suspicion *s = &m->susp;

	xg_list_unlink(&s->link);
	s->start_ns = now_ns;
	s->base_ns = base_timeout(c);
	s->n_confirm = 1;
	s->confirm[0] = from_id;
	rearm(c, s);
	xg_list_append(&c->members.suspects, &s->link);
}

bool xg_suspicion_confirm(struct xg_core *c, struct xg_member *m,
			  uint64_t from_id)
{
	struct xg_suspicion *s = &m->susp;
	unsigned i;

	for (i = 0; i < s->n_confirm; i++)
		if (s->confirm[i] == from_id)
			return false;
	if (s->n_confirm == XG_SUSPECT_CONFIRM_MAX)
		return false;
	s->confirm[s->n_confirm++] = from_id;
	rearm(c, s);
	return true;
}

void xg_suspicion_stop(struct xg_member *m)
{
	xg_list_unlink(&m->susp.link);
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
