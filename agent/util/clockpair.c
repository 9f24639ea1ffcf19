/* SPDX-License-Identifier: MIT */
#include "util/clockpair.h"

static uint64_t system_clock(clockid_t clk, void *ctx)
{
	struct timespec ts;

	(void)ctx;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void xg_clockpair_read_with(struct xg_clockpair *p, xg_clock_fn now,
			    void *ctx)
{
	uint64_t m1, r, m2, gap;
	int i;

	p->gap_ns = UINT64_MAX;
	p->mono_ns = p->real_ns = 0;
	for (i = 0; i < XG_CLOCKPAIR_TRIES; i++) {
		m1 = now(CLOCK_MONOTONIC, ctx);
		r = now(CLOCK_REALTIME, ctx);
		m2 = now(CLOCK_MONOTONIC, ctx);
		/* A monotonic clock does not go back; a source that does is
		 * broken, and its bracket means nothing. */
		gap = m2 >= m1 ? m2 - m1 : UINT64_MAX - 1;
		if (gap < p->gap_ns) {
			p->gap_ns = gap;
			p->mono_ns = m2 >= m1 ? m1 + gap / 2 : m2;
			p->real_ns = r;
		}
		if (p->gap_ns < XG_CLOCKPAIR_TIGHT_NS)
			break;
	}
}

void xg_clockpair_read(struct xg_clockpair *p)
{
	xg_clockpair_read_with(p, system_clock, NULL);
}

int64_t xg_clockpair_offset(const struct xg_clockpair *p)
{
	return (int64_t)(p->real_ns - p->mono_ns);
}
