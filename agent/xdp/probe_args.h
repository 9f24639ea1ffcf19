/* SPDX-License-Identifier: MIT */
/*
 * xgossip-probe's command line, parsed into a struct before any socket is
 * opened, so every rule can be tested without a network.
 *
 *   xgossip-probe --target IP:PORT --target-id HEX --cluster NAME
 *                 --cluster-secret-file PATH (--rate PPS | --flood)
 *                 --duration S [--window N] [--timeout DUR]
 *                 [--sender-id HEX] [-o text|json]
 */
#ifndef XGOSSIP_XDP_PROBE_ARGS_H
#define XGOSSIP_XDP_PROBE_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"

#define XG_PROBE_WINDOW_DEFAULT  64
#define XG_PROBE_WINDOW_MAX      65536
#define XG_PROBE_RATE_MAX        10000000ULL
#define XG_PROBE_TIMEOUT_DEFAULT (1000ULL * 1000 * 1000)

/* Exit statuses: 0 ok, 1 failed while running, 2 bad command line. */
#define XG_PROBE_EXIT_OK    0
#define XG_PROBE_EXIT_FAIL  1
#define XG_PROBE_EXIT_USAGE 2

struct xg_probe_args {
	struct xg_addr target;
	uint64_t       target_id;
	const char    *cluster;
	const char    *secret_file;
	uint64_t       rate_pps;    /* 0 with flood */
	bool           flood;
	uint64_t       duration_ns;
	unsigned       window;      /* outstanding probes in flood mode */
	uint64_t       timeout_ns;  /* a probe unanswered this long is lost */
	uint64_t       sender_id;   /* 0: pick a random one */
	bool           json;
	bool           help;
};

/* 0 (args filled, or help set), or -EINVAL with a one-line reason in err.
 * argv strings are referenced, not copied. */
int xg_probe_args_parse(int argc, char **argv, struct xg_probe_args *out,
			char *err, size_t errlen);

/* "--duration 10", "--duration 2.5", "--duration 500ms": a number of
 * seconds (fractions allowed) or a duration with a unit.  0 or -EINVAL. */
int xg_probe_parse_seconds(const char *s, uint64_t *ns);

extern const char xg_probe_usage[];

#endif /* XGOSSIP_XDP_PROBE_ARGS_H */
