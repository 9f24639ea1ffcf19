/* SPDX-License-Identifier: MIT */
#include "xdp/probe_args.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"

const char xg_probe_usage[] =
"usage: xgossip-probe --target IP:PORT --target-id HEX --cluster NAME\n"
"                     --cluster-secret-file PATH (--rate PPS | --flood)\n"
"                     --duration S [--window N] [--timeout DUR]\n"
"                     [--sender-id HEX] [-o text|json]\n"
"\n"
"Sends signed PINGs to one xgossip node and measures its ACKs.\n"
"\n"
"  --target IP:PORT            node to probe (IPv4, or [IPv6]:port)\n"
"  --target-id HEX             its node id (xgossipctl members shows it)\n"
"  --cluster NAME              cluster name (the cluster id is derived)\n"
"  --cluster-secret-file PATH  the cluster secret, as given to xgossipd\n"
"  --rate PPS                  send at this steady rate, or\n"
"  --flood                     keep --window probes outstanding, as fast as\n"
"                              answers come back (throughput)\n"
"  --duration S                seconds to send for (2.5 and 500ms work too)\n"
"  --window N                  outstanding probes in flood mode (default 64)\n"
"  --timeout DUR               a probe unanswered this long is lost\n"
"                              (default 1s)\n"
"  --sender-id HEX             node id to send as (default: random)\n"
"  -o, --output text|json      result format (default text)\n";

static int fail(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err && len) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int parse_hex64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!*s || strlen(s) > 16)
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 16);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int xg_probe_parse_seconds(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	if (!s || !*s)
		return -EINVAL;
	/* A bare number means seconds here (the tool's unit), unlike the
	 * agent's durations where a bare number is milliseconds. */
	if (strspn(s, "0123456789.") == strlen(s)) {
		errno = 0;
		v = strtod(s, &end);
		if (errno || *end || !(v > 0) || v > 86400.0 * 365)
			return -EINVAL;
		*ns = (uint64_t)llround(v * 1e9);
		return *ns ? 0 : -EINVAL;
	}
	if (xg_duration_parse(s, ns) || *ns == 0)
		return -EINVAL;
	return 0;
}

enum {
	OPT_TARGET = 256, OPT_TARGET_ID, OPT_CLUSTER, OPT_SECRET, OPT_RATE,
	OPT_FLOOD, OPT_DURATION, OPT_WINDOW, OPT_TIMEOUT, OPT_SENDER,
};

static const struct option long_opts[] = {
	{ "target",              required_argument, NULL, OPT_TARGET },
	{ "target-id",           required_argument, NULL, OPT_TARGET_ID },
	{ "cluster",             required_argument, NULL, OPT_CLUSTER },
	{ "cluster-secret-file", required_argument, NULL, OPT_SECRET },
	{ "rate",                required_argument, NULL, OPT_RATE },
	{ "flood",               no_argument,       NULL, OPT_FLOOD },
	{ "duration",            required_argument, NULL, OPT_DURATION },
	{ "window",              required_argument, NULL, OPT_WINDOW },
	{ "timeout",             required_argument, NULL, OPT_TIMEOUT },
	{ "sender-id",           required_argument, NULL, OPT_SENDER },
	{ "output",              required_argument, NULL, 'o' },
	{ "help",                no_argument,       NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int apply(int c, const char *v, struct xg_probe_args *a, bool *have_target,
		 bool *have_id, char *err, size_t len)
{
	uint64_t n;

	switch (c) {
	case OPT_TARGET:
		if (xg_addr_parse(v, 0, &a->target) || a->target.port == 0)
			return fail(err, len, "--target %s: want IP:PORT or [IPv6]:PORT", v);
		*have_target = true;
		return 0;
	case OPT_TARGET_ID:
		if (parse_hex64(v, &a->target_id))
			return fail(err, len, "--target-id %s: want up to 16 hex digits", v);
		*have_id = true;
		return 0;
	case OPT_CLUSTER:
		if (!*v)
			return fail(err, len, "--cluster: empty name");
		a->cluster = v;
		return 0;
	case OPT_SECRET:
		a->secret_file = v;
		return 0;
	case OPT_RATE:
		if (parse_uint(v, XG_PROBE_RATE_MAX, &a->rate_pps))
			return fail(err, len, "--rate %s: want 1..%llu packets/s", v,
				    (unsigned long long)XG_PROBE_RATE_MAX);
		return 0;
	case OPT_FLOOD:
		a->flood = true;
		return 0;
	case OPT_DURATION:
		if (xg_probe_parse_seconds(v, &a->duration_ns))
			return fail(err, len, "--duration %s: want seconds (10, 2.5) or 500ms", v);
		return 0;
	case OPT_WINDOW:
		if (parse_uint(v, XG_PROBE_WINDOW_MAX, &n))
			return fail(err, len, "--window %s: want 1..%u", v,
				    XG_PROBE_WINDOW_MAX);
		a->window = (unsigned)n;
		return 0;
	case OPT_TIMEOUT:
		if (xg_duration_parse(v, &a->timeout_ns) || a->timeout_ns == 0)
			return fail(err, len, "--timeout %s: want a duration such as 1s or 500ms", v);
		return 0;
	case OPT_SENDER:
		if (parse_hex64(v, &a->sender_id) || a->sender_id == 0)
			return fail(err, len, "--sender-id %s: want non-zero hex", v);
		return 0;
	case 'o':
		if (strcmp(v, "json") == 0)
			a->json = true;
		else if (strcmp(v, "text") == 0)
			a->json = false;
		else
			return fail(err, len, "-o %s: want text or json", v);
		return 0;
	case 'h':
		a->help = true;
		return 0;
	}
	return fail(err, len, "unknown option (see --help)");
}

int xg_probe_args_parse(int argc, char **argv, struct xg_probe_args *a,
			char *err, size_t len)
{
	bool have_target = false, have_id = false;
	int c, r;

	memset(a, 0, sizeof(*a));
	a->window = XG_PROBE_WINDOW_DEFAULT;
	a->timeout_ns = XG_PROBE_TIMEOUT_DEFAULT;
	optind = 0; /* full reset: tests parse many vectors */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "o:h", long_opts, NULL)) != -1) {
		if (c == '?' || c == ':')
			return fail(err, len, "%s: unknown option or missing value",
				    argv[optind - 1]);
		r = apply(c, optarg, a, &have_target, &have_id, err, len);
		if (r)
			return r;
	}
	if (a->help)
		return 0;
	if (optind < argc)
		return fail(err, len, "unexpected argument %s", argv[optind]);
	if (!have_target)
		return fail(err, len, "--target is required");
	if (!have_id)
		return fail(err, len, "--target-id is required");
	if (!a->cluster)
		return fail(err, len, "--cluster is required");
	if (!a->secret_file)
		return fail(err, len, "--cluster-secret-file is required");
	if (a->flood == (a->rate_pps != 0))
		return fail(err, len, "give exactly one of --rate PPS or --flood");
	if (!a->duration_ns)
		return fail(err, len, "--duration is required");
	return 0;
}
