/* SPDX-License-Identifier: MIT */
/*
 * Latency histogram for xgossip-probe: log-linear buckets (64 per power of
 * two, so any reported value is within 1/64 = 1.6% of the true one), fixed
 * size, no allocation, O(1) insert.  Values below 64 are exact.
 * Percentiles come from bucket boundaries, clamped to the true minimum and
 * maximum, so p0 and p100 are exact.
 */
#ifndef XGOSSIP_XDP_PROBE_STATS_H
#define XGOSSIP_XDP_PROBE_STATS_H

#include <stdint.h>

#define XG_HIST_SUB_BITS 6
#define XG_HIST_SUB      (1u << XG_HIST_SUB_BITS)
/* Exact range [0, 64) plus 64 sub-buckets for each exponent 6..63. */
#define XG_HIST_BUCKETS  (XG_HIST_SUB * (64 - XG_HIST_SUB_BITS + 1))

struct xg_hist {
	uint64_t count;
	uint64_t min, max;
	uint64_t sum;     /* saturates instead of wrapping */
	uint64_t bucket[XG_HIST_BUCKETS];
};

void xg_hist_init(struct xg_hist *h);
void xg_hist_add(struct xg_hist *h, uint64_t v);
/* Merge src into dst (per-thread histograms, or runs). */
void xg_hist_merge(struct xg_hist *dst, const struct xg_hist *src);

/* The value at percentile p in [0, 100]: the smallest recorded value such
 * that at least p% of the samples are <= it (to bucket precision).  0 for
 * an empty histogram; p outside [0, 100] is clamped. */
uint64_t xg_hist_percentile(const struct xg_hist *h, double p);
/* Mean (0 when empty). */
double   xg_hist_mean(const struct xg_hist *h);

/* Bucket arithmetic, exposed for tests. */
unsigned xg_hist_index(uint64_t v);
uint64_t xg_hist_bucket_low(unsigned idx);
uint64_t xg_hist_bucket_high(unsigned idx); /* inclusive */

#endif /* XGOSSIP_XDP_PROBE_STATS_H */
