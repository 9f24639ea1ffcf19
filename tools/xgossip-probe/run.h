/* SPDX-License-Identifier: MIT */
/*
 * The probe engine: send signed PINGs to one node at a steady rate or with
 * a bounded window outstanding, match ACKs by sequence number, verify them,
 * and time them from the kernel's receive timestamp.
 */
#ifndef XGOSSIP_PROBE_RUN_H
#define XGOSSIP_PROBE_RUN_H

#include <stdint.h>

#include "xdp/probe_args.h"
#include "xdp/probe_stats.h"

struct probe_result {
	uint64_t sent;
	uint64_t answered;
	uint64_t lost;         /* not answered within the timeout */
	uint64_t late;         /* answered after being counted lost */
	uint64_t duplicate;    /* a second ACK for one PING */
	uint64_t bad;          /* failed MAC, wrong ids or unknown seq */
	uint64_t hung;         /* the target's NACK flagged REFUSED: its XDP
				* program says the agent is hung */
	uint64_t send_errors;  /* sendmmsg failures other than a full buffer */
	uint64_t icmp_errors;  /* port/host unreachable reported on the socket */
	uint64_t clock_skew;   /* ACKs stamped before their PING left (RTT 0) */
	uint64_t send_ns;      /* length of the sending phase */
	uint64_t sender_id;
	struct xg_hist rtt;    /* ns */
};

struct probe_setup {
	const struct xg_probe_args *args;
	uint8_t  key[16];
	uint8_t  key_id;
	uint64_t cluster_id;
	uint64_t sender_id;
};

/* Runs for args->duration_ns, then waits up to the timeout for what is
 * still outstanding.  r is fully written.  0 or -errno (setup failures;
 * loss is a result, not an error). */
int probe_run(const struct probe_setup *s, struct probe_result *r);

#endif /* XGOSSIP_PROBE_RUN_H */
