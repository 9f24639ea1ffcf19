/* SPDX-License-Identifier: MIT */
/*
 * The core's randomness (probe order, gossip targets, jitter): SplitMix64
 * seeded from getrandom().  Not for keys or nonces; it only has to be
 * unpredictable enough that nodes started together do not march in step.
 */
#ifndef XGOSSIP_UTIL_RNG_H
#define XGOSSIP_UTIL_RNG_H

#include <stdint.h>

struct xg_rng {
	uint64_t s;
};

/* Seed from the kernel; 0 or -errno. */
int      xg_rng_seed(struct xg_rng *r);
uint64_t xg_rng_next(struct xg_rng *r);
/* Uniform in [0, n), n > 0. */
uint64_t xg_rng_below(struct xg_rng *r, uint64_t n);

#endif /* XGOSSIP_UTIL_RNG_H */
