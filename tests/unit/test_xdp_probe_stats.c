/* SPDX-License-Identifier: MIT */
/*
 * xgossip-probe's pure parts: the latency histogram and the command line.
 *
 * The histogram is checked against exact percentiles computed here by
 * sorting the same samples: every answer must be within the advertised
 * 1/64 relative error (exact below 64, exact at p0 and p100).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "xdp/probe_args.h"
#include "xdp/probe_stats.h"

static uint64_t rng_state = 0x1234;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct xg_hist *hist_new(void)
{
	struct xg_hist *h = malloc(sizeof(*h));

	assert_non_null(h);
	xg_hist_init(h);
	return h;
}

/* --- bucket arithmetic --------------------------------------------------- */

static void check_bucket(uint64_t v)
{
	unsigned i = xg_hist_index(v);
	uint64_t lo, hi;

	assert_true(i < XG_HIST_BUCKETS);
	lo = xg_hist_bucket_low(i);
	hi = xg_hist_bucket_high(i);
	if (v < lo || v > hi)
		fail_msg("value %llu in bucket %u [%llu, %llu]",
			 (unsigned long long)v, i, (unsigned long long)lo,
			 (unsigned long long)hi);
	/* Width at most 1/64 of the bucket's low end. */
	assert_true(hi - lo <= lo / XG_HIST_SUB);
}

static void test_bucket_contains_value(void **state)
{
	uint64_t v;
	int k, i;

	(void)state;
	for (v = 0; v < 5000; v++)
		check_bucket(v);
	for (k = 6; k < 64; k++) {
		uint64_t p = 1ULL << k;

		check_bucket(p - 1);
		check_bucket(p);
		check_bucket(p + 1);
	}
	check_bucket(UINT64_MAX);
	for (i = 0; i < 100000; i++)
		check_bucket(rng_next() >> (rng_next() % 64));
}

static void test_small_values_exact(void **state)
{
	uint64_t v;

	(void)state;
	for (v = 0; v < XG_HIST_SUB; v++) {
		assert_int_equal(xg_hist_index(v), v);
		assert_int_equal(xg_hist_bucket_low((unsigned)v), v);
		assert_int_equal(xg_hist_bucket_high((unsigned)v), v);
	}
}

static void test_index_monotonic_and_contiguous(void **state)
{
	unsigned i;

	(void)state;
	/* Buckets tile [0, 2^64) with no gap and no overlap. */
	for (i = 1; i < XG_HIST_BUCKETS; i++)
		assert_true(xg_hist_bucket_low(i) == xg_hist_bucket_high(i - 1) + 1);
	assert_true(xg_hist_bucket_high(XG_HIST_BUCKETS - 1) == UINT64_MAX);
	assert_int_equal(xg_hist_index(UINT64_MAX), XG_HIST_BUCKETS - 1);
}

/* --- percentiles against the truth -------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The rank-th smallest, rank = ceil(p/100 * n), at least 1. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank = (size_t)(p / 100.0 * (double)n + 0.999999999);

	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static void check_against_truth(uint64_t *v, size_t n)
{
	static const double ps[] = { 0, 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99, 100 };
	struct xg_hist *h = hist_new();
	size_t i;

	for (i = 0; i < n; i++)
		xg_hist_add(h, v[i]);
	qsort(v, n, sizeof(v[0]), cmp_u64);
	assert_int_equal(h->count, n);
	assert_int_equal(h->min, v[0]);
	assert_int_equal(h->max, v[n - 1]);
	for (i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		uint64_t want = exact_percentile(v, n, ps[i]);
		uint64_t got = xg_hist_percentile(h, ps[i]);
		uint64_t diff = got > want ? got - want : want - got;

		if (diff > want / XG_HIST_SUB)
			fail_msg("p%g: got %llu want %llu", ps[i],
				 (unsigned long long)got, (unsigned long long)want);
	}
	assert_int_equal(xg_hist_percentile(h, 0), v[0]);
	assert_int_equal(xg_hist_percentile(h, 100), v[n - 1]);
	free(h);
}

static void test_percentiles_uniform(void **state)
{
	uint64_t *v = malloc(10000 * sizeof(*v));
	size_t i;

	(void)state;
	assert_non_null(v);
	for (i = 0; i < 10000; i++)
		v[i] = i + 1;
	check_against_truth(v, 10000);
	free(v);
}

static void test_percentiles_random_latencies(void **state)
{
	const size_t n = 200000;
	uint64_t *v = malloc(n * sizeof(*v));
	size_t i;

	(void)state;
	assert_non_null(v);
	/* A long tail: mostly tens of microseconds, some milliseconds. */
	for (i = 0; i < n; i++)
		v[i] = i % 97 == 0 ? 1000000 + rng_next() % 50000000 :
				     5000 + rng_next() % 80000;
	check_against_truth(v, n);
	free(v);
}

static void test_percentiles_bimodal(void **state)
{
	struct xg_hist *h = hist_new();
	int i;

	(void)state;
	for (i = 0; i < 990; i++)
		xg_hist_add(h, 100);
	for (i = 0; i < 10; i++)
		xg_hist_add(h, 1000000);
	assert_int_equal(xg_hist_percentile(h, 50), 100);
	assert_int_equal(xg_hist_percentile(h, 99), 100);
	assert_true(xg_hist_percentile(h, 99.1) >= 1000000 - 1000000 / 64);
	assert_int_equal(xg_hist_percentile(h, 99.9), 1000000);
	free(h);
}

static void test_empty_and_single(void **state)
{
	struct xg_hist *h = hist_new();

	(void)state;
	assert_int_equal(xg_hist_percentile(h, 50), 0);
	assert_true(xg_hist_mean(h) == 0.0);
	xg_hist_add(h, 123456789);
	assert_int_equal(xg_hist_percentile(h, 0), 123456789);
	assert_int_equal(xg_hist_percentile(h, 50), 123456789);
	assert_int_equal(xg_hist_percentile(h, 99.9), 123456789);
	assert_int_equal(xg_hist_percentile(h, -5), 123456789);
	assert_int_equal(xg_hist_percentile(h, 250), 123456789);
	assert_true(xg_hist_mean(h) == 123456789.0);
	free(h);
}

static void test_merge_and_saturation(void **state)
{
	struct xg_hist *a = hist_new(), *b = hist_new(), *all = hist_new();
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		uint64_t v = rng_next() % 1000000;

		xg_hist_add(i & 1 ? a : b, v);
		xg_hist_add(all, v);
	}
	xg_hist_merge(a, b);
	assert_memory_equal(a, all, sizeof(*a));

	xg_hist_init(a);
	xg_hist_add(a, UINT64_MAX);
	xg_hist_add(a, UINT64_MAX);
	assert_int_equal(a->sum, UINT64_MAX);
	assert_int_equal(xg_hist_percentile(a, 50), UINT64_MAX);
	free(a);
	free(b);
	free(all);
}

/* --- command line -------------------------------------------------------- */

#define ARGC(v) ((int)(sizeof(v) / sizeof(v[0])) - 1)

static int parse(int argc, char **argv, struct xg_probe_args *a, char *err)
{
	return xg_probe_args_parse(argc, argv, a, err, 256);
}

#define BASE "--target", "198.18.0.2:7946", "--target-id", "a1", \
	     "--cluster", "c", "--cluster-secret-file", "/s", "--duration", "10"

static void test_args_rate(void **state)
{
	char *v[] = { "xgossip-probe", BASE, "--rate", "5000", NULL };
	struct xg_probe_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_int_equal(a.target.family, 4);
	assert_int_equal(a.target.port, 7946);
	assert_int_equal(a.target_id, 0xa1);
	assert_string_equal(a.cluster, "c");
	assert_string_equal(a.secret_file, "/s");
	assert_int_equal(a.rate_pps, 5000);
	assert_false(a.flood);
	assert_int_equal(a.duration_ns, 10000000000ULL);
	assert_int_equal(a.window, XG_PROBE_WINDOW_DEFAULT);
	assert_int_equal(a.timeout_ns, XG_PROBE_TIMEOUT_DEFAULT);
	assert_false(a.json);
}

static void test_args_flood_json_v6(void **state)
{
	char *v[] = { "xgossip-probe", "--target", "[fd00:198:18::2]:7000",
		      "--target-id", "0xDEADbeef00000001", "--cluster", "prod",
		      "--cluster-secret-file", "/run/secret", "--flood",
		      "--window", "128", "--duration", "2.5", "-o", "json",
		      "--timeout", "250ms", "--sender-id", "ff", NULL };
	struct xg_probe_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_int_equal(a.target.family, 6);
	assert_int_equal(a.target.port, 7000);
	assert_true(a.target_id == 0xdeadbeef00000001ULL);
	assert_true(a.flood);
	assert_int_equal(a.rate_pps, 0);
	assert_int_equal(a.window, 128);
	assert_int_equal(a.duration_ns, 2500000000ULL);
	assert_int_equal(a.timeout_ns, 250000000ULL);
	assert_int_equal(a.sender_id, 0xff);
	assert_true(a.json);
}

static void expect_bad(int argc, char **argv, const char *needle)
{
	struct xg_probe_args a;
	char err[256] = "";

	assert_int_equal(parse(argc, argv, &a, err), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void test_args_rejected(void **state)
{
	(void)state;
	{ char *v[] = { "x", "--target-id", "a1", "--cluster", "c",
			"--cluster-secret-file", "/s", "--duration", "1",
			"--rate", "1", NULL };
	  expect_bad(ARGC(v), v, "--target is required"); }
	{ char *v[] = { "x", BASE, NULL };
	  expect_bad(ARGC(v), v, "exactly one of"); }
	{ char *v[] = { "x", BASE, "--rate", "10", "--flood", NULL };
	  expect_bad(ARGC(v), v, "exactly one of"); }
	{ char *v[] = { "x", BASE, "--rate", "0", NULL };
	  expect_bad(ARGC(v), v, "--rate"); }
	{ char *v[] = { "x", BASE, "--rate", "-5", NULL };
	  expect_bad(ARGC(v), v, "--rate"); }
	{ char *v[] = { "x", BASE, "--flood", "--window", "0", NULL };
	  expect_bad(ARGC(v), v, "--window"); }
	{ char *v[] = { "x", BASE, "--flood", "--window", "99999999", NULL };
	  expect_bad(ARGC(v), v, "--window"); }
	{ char *v[] = { "x", BASE, "--flood", "--duration", "0", NULL };
	  expect_bad(ARGC(v), v, "--duration"); }
	{ char *v[] = { "x", BASE, "--flood", "--duration", "ten", NULL };
	  expect_bad(ARGC(v), v, "--duration"); }
	{ char *v[] = { "x", BASE, "--flood", "--target", "198.18.0.2", NULL };
	  expect_bad(ARGC(v), v, "--target"); }
	{ char *v[] = { "x", BASE, "--flood", "--target-id", "xyz", NULL };
	  expect_bad(ARGC(v), v, "--target-id"); }
	{ char *v[] = { "x", BASE, "--flood", "--target-id", "11223344556677889", NULL };
	  expect_bad(ARGC(v), v, "--target-id"); }
	{ char *v[] = { "x", BASE, "--flood", "-o", "yaml", NULL };
	  expect_bad(ARGC(v), v, "-o"); }
	{ char *v[] = { "x", BASE, "--flood", "--bogus", NULL };
	  expect_bad(ARGC(v), v, "--bogus"); }
	{ char *v[] = { "x", BASE, "--flood", "stray", NULL };
	  expect_bad(ARGC(v), v, "stray"); }
	{ char *v[] = { "x", "--target", "198.18.0.2:1", "--target-id", "1",
			"--cluster-secret-file", "/s", "--flood", "--duration", "1",
			NULL };
	  expect_bad(ARGC(v), v, "--cluster is required"); }
	{ char *v[] = { "x", "--target", "198.18.0.2:1", "--target-id", "1",
			"--cluster", "c", "--flood", "--duration", "1", NULL };
	  expect_bad(ARGC(v), v, "--cluster-secret-file is required"); }
	{ char *v[] = { "x", "--target", "198.18.0.2:1", "--cluster", "c",
			"--cluster-secret-file", "/s", "--flood", "--duration", "1",
			NULL };
	  expect_bad(ARGC(v), v, "--target-id is required"); }
	{ char *v[] = { "x", "--target", "198.18.0.2:1", "--target-id", "1",
			"--cluster", "c", "--cluster-secret-file", "/s", "--flood",
			NULL };
	  expect_bad(ARGC(v), v, "--duration is required"); }
}

static void test_args_help(void **state)
{
	char *v[] = { "xgossip-probe", "--help", NULL };
	struct xg_probe_args a;
	char err[256];

	(void)state;
	assert_int_equal(parse(ARGC(v), v, &a, err), 0);
	assert_true(a.help);
	assert_non_null(strstr(xg_probe_usage, "--cluster-secret-file"));
}

static void test_parse_seconds(void **state)
{
	uint64_t ns;

	(void)state;
	assert_int_equal(xg_probe_parse_seconds("1", &ns), 0);
	assert_int_equal(ns, 1000000000ULL);
	assert_int_equal(xg_probe_parse_seconds("0.25", &ns), 0);
	assert_int_equal(ns, 250000000ULL);
	assert_int_equal(xg_probe_parse_seconds("500ms", &ns), 0);
	assert_int_equal(ns, 500000000ULL);
	assert_int_equal(xg_probe_parse_seconds("2m", &ns), 0);
	assert_int_equal(ns, 120000000000ULL);
	assert_int_equal(xg_probe_parse_seconds("", &ns), -EINVAL);
	assert_int_equal(xg_probe_parse_seconds("0", &ns), -EINVAL);
	assert_int_equal(xg_probe_parse_seconds("1.2.3", &ns), -EINVAL);
	assert_int_equal(xg_probe_parse_seconds("-1", &ns), -EINVAL);
	assert_int_equal(xg_probe_parse_seconds("0.0000000001", &ns), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_contains_value),
		cmocka_unit_test(test_small_values_exact),
		cmocka_unit_test(test_index_monotonic_and_contiguous),
		cmocka_unit_test(test_percentiles_uniform),
		cmocka_unit_test(test_percentiles_random_latencies),
		cmocka_unit_test(test_percentiles_bimodal),
		cmocka_unit_test(test_empty_and_single),
		cmocka_unit_test(test_merge_and_saturation),
		cmocka_unit_test(test_args_rate),
		cmocka_unit_test(test_args_flood_json_v6),
		cmocka_unit_test(test_args_rejected),
		cmocka_unit_test(test_args_help),
		cmocka_unit_test(test_parse_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
