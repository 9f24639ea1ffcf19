/* SPDX-License-Identifier: MIT */
#include "xdp/probe_stats.h"

#include <math.h>
#include <string.h>

void xg_hist_init(struct xg_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned xg_hist_index(uint64_t v)
{
	unsigned e;

	if (v < XG_HIST_SUB)
		return (unsigned)v;
	e = 63u - (unsigned)__builtin_clzll(v); /* >= XG_HIST_SUB_BITS */
	return (e - XG_HIST_SUB_BITS + 1) * XG_HIST_SUB +
	       (unsigned)((v >> (e - XG_HIST_SUB_BITS)) & (XG_HIST_SUB - 1));
}

uint64_t xg_hist_bucket_low(unsigned idx)
{
	unsigned e, sub;

	if (idx < XG_HIST_SUB)
		return idx;
	e = idx / XG_HIST_SUB + XG_HIST_SUB_BITS - 1;
	sub = idx % XG_HIST_SUB;
	return (uint64_t)(XG_HIST_SUB + sub) << (e - XG_HIST_SUB_BITS);
}

uint64_t xg_hist_bucket_high(unsigned idx)
{
	unsigned e;

	if (idx < XG_HIST_SUB)
		return idx;
	e = idx / XG_HIST_SUB + XG_HIST_SUB_BITS - 1;
	return xg_hist_bucket_low(idx) + ((uint64_t)1 << (e - XG_HIST_SUB_BITS)) - 1;
}

void xg_hist_add(struct xg_hist *h, uint64_t v)
{
	h->bucket[xg_hist_index(v)]++;
	h->count++;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->sum = h->sum + v < h->sum ? UINT64_MAX : h->sum + v;
}

void xg_hist_merge(struct xg_hist *dst, const struct xg_hist *src)
{
	unsigned i;

	if (!src->count)
		return;
	for (i = 0; i < XG_HIST_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->sum = dst->sum + src->sum < dst->sum ? UINT64_MAX : dst->sum + src->sum;
}

uint64_t xg_hist_percentile(const struct xg_hist *h, double p)
{
	uint64_t rank, seen = 0, v;
	unsigned i;

	if (!h->count)
		return 0;
	if (!(p > 0))
		return h->min;
	if (p >= 100)
		return h->max;
	/* The rank-th smallest sample, 1-based: at least p% are <= it. */
	rank = (uint64_t)ceil(p / 100.0 * (double)h->count);
	if (rank < 1)
		rank = 1;
	for (i = 0; i < XG_HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank)
			break;
	}
	/* The middle of the bucket halves the worst-case error; the true
	 * extremes are known exactly. */
	v = xg_hist_bucket_low(i) + (xg_hist_bucket_high(i) - xg_hist_bucket_low(i)) / 2;
	if (v < h->min)
		v = h->min;
	if (v > h->max)
		v = h->max;
	return v;
}

double xg_hist_mean(const struct xg_hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}
