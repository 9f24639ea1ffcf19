/* SPDX-License-Identifier: MIT */
#include "util/rng.h"

#include <errno.h>
#include <sys/random.h>

int xg_rng_seed(struct xg_rng *r)
{
	ssize_t n;

	do
		n = getrandom(&r->s, sizeof(r->s), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == (ssize_t)sizeof(r->s) ? 0 : -EIO;
}

uint64_t xg_rng_next(struct xg_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t xg_rng_below(struct xg_rng *r, uint64_t n)
{
	/* Rejection keeps it uniform; the loop almost never repeats. */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, v;

	do
		v = xg_rng_next(r);
	while (v >= lim);
	return v % n;
}
