/* SPDX-License-Identifier: MIT */
/*
 * Everything the operator can set on the command line, as parsed by
 * flags.c and consumed by the agent.  Plain strings point into argv (they
 * live as long as main); the join list and the tags are owned and freed by
 * xg_agent_config_free().
 */
#ifndef XGOSSIP_DAEMON_CONFIG_H
#define XGOSSIP_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/addr.h"
#include "daemon/evhandler_spec.h"
#include "util/log.h"
#include "util/tags.h"
#include "xdp/xdp.h"

#define XG_DEFAULT_STATE_DIR "/var/lib/xgossip"
#define XG_DEFAULT_CONTROL   "/run/xgossip/xgossip.sock"
#define XG_DEFAULT_LEAVE_TIMEOUT_NS (5ULL * 1000000000ULL)

/* --xdp-instance: a directory name under /sys/fs/bpf/xgossip/. */
#define XG_XDP_INSTANCE_MAX 64
/* --liveness-window: below two heartbeats a healthy agent would flap
 * between answered in the kernel and answered in userspace. */
#define XG_XDP_LIVENESS_MIN_NS (2 * XG_XDP_HEARTBEAT_INTERVAL_NS)
/* --liveness-window-max by default: a starved agent's window may grow to
 * this many times the configured one (daemon/liveness.h). */
#define XG_XDP_LIVENESS_MAX_MULT 4

/* --starved-cpu-limit by default: CPU time per second.  A push/pull (2-4
 * ms of CPU with TLS) paid out of less puts the cgroup so far in debt that
 * CFS holds the agent longer than a probe timeout; at 10 ms/s or more the
 * hold is under ~0.4 s (docs/OPERATIONS.md, "CPU-limited"). */
#define XG_STARVED_CPU_LIMIT_DEFAULT_NS (10ULL * 1000000)

/* Which protocol timings were given on the command line; the others keep
 * the core's defaults (xg_core_config_defaults). */
enum {
	XG_SET_PROBE_INTERVAL    = 1u << 0,
	XG_SET_PROBE_TIMEOUT     = 1u << 1,
	XG_SET_INDIRECT_CHECKS   = 1u << 2,
	XG_SET_GOSSIP_INTERVAL   = 1u << 3,
	XG_SET_GOSSIP_NODES      = 1u << 4,
	XG_SET_SUSPICION_MULT    = 1u << 5,
	XG_SET_RETRANSMIT_MULT   = 1u << 6,
	XG_SET_PUSHPULL_INTERVAL = 1u << 7,
	XG_SET_RECLAIM           = 1u << 8,
	XG_SET_LHM_MAX           = 1u << 9,
	XG_SET_SUSPICION_MAX     = 1u << 10,
};

struct xg_timing {
	unsigned set; /* XG_SET_* */
	uint64_t probe_interval_ns;
	uint64_t probe_timeout_ns;
	unsigned indirect_checks;
	uint64_t gossip_interval_ns;
	unsigned gossip_nodes;
	unsigned suspicion_mult;
	unsigned retransmit_mult;
	uint64_t pushpull_interval_ns;
	uint64_t reclaim_ns;
	unsigned lhm_max;            /* Lifeguard, docs/CORE.md */
	unsigned suspicion_max_mult;
};

struct xg_agent_config {
	const char       *name;          /* NULL: the host name */
	struct xg_addr    bind;
	bool              has_advertise;
	struct xg_addr    advertise;
	char            **joins;         /* owned; each as typed, comma-split */
	size_t            n_joins;
	struct xg_tags    tags;          /* owned */
	const char       *cluster;
	const char       *secret_file;   /* one-key keyring from a secret */
	const char       *keyring_file;  /* JSON array of base64 keys */
	bool              insecure_dev;  /* allow the public dev key, no TLS */
	const char       *tls_ca, *tls_cert, *tls_key;
	const char       *state_dir;
	const char       *control_path;
	enum xg_log_level log_level;
	struct xg_timing  timing;
	uint64_t          leave_timeout_ns;
	enum xg_xdp_mode  xdp_mode;      /* default XG_XDP_AUTO */
	const char       *xdp_instance;  /* NULL: derived from the node name */
	uint64_t          xdp_liveness_ns;
	uint64_t          xdp_liveness_max_ns; /* 0: XG_XDP_LIVENESS_MAX_MULT x */
	uint64_t          starved_cpu_limit_ns; /* CPU per second; 0: off */
	const char       *cgroup_root;   /* NULL: XG_CG_SYS_ROOT */
	struct xg_evh_spec *evh;         /* --event-handler, in order; owned */
	size_t            n_evh;
	bool              embedded;      /* in an application: no signals */
	struct {                         /* user messaging; 0: default */
		unsigned  fanout;
		unsigned  cache_max;
		uint64_t  cache_ttl_ns;
		uint64_t  max_size;      /* --max-message-size */
		size_t    store_max;     /* --large-store: bodies kept */
	} msg;
};

/* Defaults for everything (bind 0.0.0.0:7946, cluster "default", ...). */
void xg_agent_config_init(struct xg_agent_config *cfg);
void xg_agent_config_free(struct xg_agent_config *cfg);

#endif /* XGOSSIP_DAEMON_CONFIG_H */
