/* SPDX-License-Identifier: MIT */
/* The core's own logarithms against libm's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/xmath.h"

static void close_to(double got, double want)
{
	double tol = 1e-13 * (fabs(want) > 1.0 ? fabs(want) : 1.0);

	if (fabs(got - want) > tol)
		fail_msg("got %.17g, want %.17g", got, want);
}

static void ln_matches_libm(void **state)
{
	double x;
	int i;

	(void)state;
	for (i = 1; i <= 100000; i++)
		close_to(xg_ln((double)i), log((double)i));
	for (x = 1e-9; x < 1e12; x *= 1.37)
		close_to(xg_ln(x), log(x));
	close_to(xg_ln(4294967296.0), log(4294967296.0));
	assert_true(xg_ln(1.0) == 0.0);
}

static void log10_matches_libm(void **state)
{
	int i;

	(void)state;
	for (i = 1; i <= 100000; i++)
		close_to(xg_log10((double)i), log10((double)i));
	close_to(xg_log10(1000.0), 3.0);
}

static void outside_the_domain(void **state)
{
	(void)state;
	assert_true(xg_ln(0.0) == 0.0);
	assert_true(xg_ln(-5.0) == 0.0);
	assert_true(xg_ln(NAN) == 0.0);
	assert_true(xg_ln(INFINITY) == 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ln_matches_libm),
		cmocka_unit_test(log10_matches_libm),
		cmocka_unit_test(outside_the_domain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
