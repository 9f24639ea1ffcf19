/* SPDX-License-Identifier: MIT */
/*
 * The liveness window, stretched while the agent is starved: liveness.h
 * says why and by how much.
 */
#include "daemon/liveness.h"

#include <string.h>

void xg_liveness_init(struct xg_liveness *l, uint64_t base_ns, uint64_t max_ns)
{
	memset(l, 0, sizeof(*l));
	l->base_ns = base_ns;
	l->max_ns = max_ns > base_ns ? max_ns : base_ns;
	l->window_ns = base_ns;
}

/* Was the gap since the last wakeup one in which the agent wanted to run
 * and was not let? */
static bool starved(uint64_t gap, uint64_t used)
{
	return gap > XG_LIVE_STARVED_GAP_NS && used < gap / XG_LIVE_BUSY_DIV;
}

bool xg_liveness_wake(struct xg_liveness *l, uint64_t now_ns, uint64_t cpu_ns)
{
	uint64_t before = l->window_ns, gap, used, want;

	if (l->last_ns && now_ns > l->last_ns) {
		gap = now_ns - l->last_ns;
		used = cpu_ns > l->last_cpu_ns ? cpu_ns - l->last_cpu_ns : 0;
		if (l->max_ns > l->base_ns && starved(gap, used)) {
			l->last_gap_ns = gap;
			if (gap > l->longest_gap_ns)
				l->longest_gap_ns = gap;
			/* In whole heartbeat periods: a hold of 1999 ms and
			 * one of 2001 ms ask for the same window, and one
			 * map write. */
			want = (gap + XG_LIVE_STEP_NS - 1) / XG_LIVE_STEP_NS *
			       XG_LIVE_STEP_NS + l->base_ns;
			if (want > l->max_ns)
				want = l->max_ns;
			if (want > l->window_ns) {
				l->window_ns = want;
				l->stretches++;
			}
			l->until_ns = now_ns + XG_LIVE_HOLD_NS;
		}
	}
	if (l->window_ns > l->base_ns && now_ns >= l->until_ns)
		l->window_ns = l->base_ns;
	l->last_ns = now_ns;
	l->last_cpu_ns = cpu_ns;
	return l->window_ns != before;
}
