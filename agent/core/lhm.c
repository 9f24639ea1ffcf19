/* SPDX-License-Identifier: MIT */
/*
 * Lifeguard's local health multiplier (LHM): how much this node distrusts
 * its own ability to judge others.  A probe that gets no ACK, a helper that
 * neither relays an ACK nor sends a NACK, and a suspicion of ourselves that
 * we have to refute are all more likely to mean that *our* network, CPU or
 * scheduler is in trouble than that several peers are, so each raises the
 * LHM; every probe answered in time lowers it again.  While it is high the
 * probe interval and timeout stretch by LHM + 1: a node that cannot keep up
 * probes less often and waits longer before it accuses anyone, instead of
 * flooding the cluster with false suspicions (Dadgar et al., section 4).
 *
 * The value is an integer in [0, lhm_max]; lhm_max = 0 turns it off.
 */
#include "core/core_internal.h"

static void store(struct xg_core *c, unsigned v)
{
	c->lhm = v;
	c->stats.lhm = v;
}

void xg_lhm_raise(struct xg_core *c, unsigned by)
{
	unsigned max = c->cfg.lhm_max;

	store(c, by >= max - c->lhm ? max : c->lhm + by);
}

void xg_lhm_lower(struct xg_core *c)
{
	if (c->lhm)
		store(c, c->lhm - 1);
}

uint64_t xg_lhm_scale(const struct xg_core *c, uint64_t ns)
{
	return xg_mul_sat(ns, (uint64_t)c->lhm + 1);
}
