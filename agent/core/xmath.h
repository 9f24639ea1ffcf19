/* SPDX-License-Identifier: MIT */
/*
 * The two logarithms the core needs (Lifeguard's suspicion timeouts),
 * computed here so that the agent does not link libm: every shared library
 * an agent maps is resident memory on every node of the cluster, and libm
 * would be mapped for two calls a probe round.
 *
 * Accurate to a few ulps for the arguments the core passes (small positive
 * integers and cluster sizes); tests/unit/test_xmath.c compares with libm.
 */
#ifndef XGOSSIP_CORE_XMATH_H
#define XGOSSIP_CORE_XMATH_H

#define XG_LN2  0.693147180559945309417232121458176568
#define XG_LN10 2.302585092994045684017991454684364208

/* ln(x) for x > 0 (0 for anything else, which the core never passes). */
static inline double xg_ln(double x)
{
	double y, y2, term, sum = 0.0;
	int k = 0, i;

	if (!(x > 0.0) || x > 1e300)
		return 0.0;
	/* x = m * 2^k with m in [1, 2); both loops end within 1000 steps
	 * for any double in range. */
	while (x >= 2.0) {
		x *= 0.5;
		k++;
	}
	while (x < 1.0) {
		x *= 2.0;
		k--;
	}
	/* ln(m) = 2 atanh(y), y = (m - 1) / (m + 1) < 1/3: the series
	 * gains a factor 9 per term, so 24 terms are past double precision. */
	y = (x - 1.0) / (x + 1.0);
	y2 = y * y;
	term = y;
	for (i = 1; i < 48; i += 2) {
		sum += term / i;
		term *= y2;
	}
	return 2.0 * sum + k * XG_LN2;
}

static inline double xg_log10(double x)
{
	return xg_ln(x) / XG_LN10;
}

#endif /* XGOSSIP_CORE_XMATH_H */
