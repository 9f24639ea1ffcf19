/* SPDX-License-Identifier: MIT */
/*
 * What the files of agent/xdp/ share.  Only xdp_loader.c includes the
 * generated skeleton (it embeds the whole BPF object); the others work on
 * the map descriptors kept here.
 */
#ifndef XGOSSIP_XDP_INTERNAL_H
#define XGOSSIP_XDP_INTERNAL_H

#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include <xgossip/xdp_maps.h>

#include "xdp/xdp.h"

struct xgossip_bpf;
struct xdp_program;

enum xg_xdp_map_idx {
	XG_MI_CONFIG,
	XG_MI_KEYS,
	XG_MI_HEARTBEAT,
	XG_MI_SEEN,
	XG_MI_STATS,
	XG_MI_NOTICE,
	XG_MI_COUNT,
};

extern const char *const xg_xdp_map_names[XG_MI_COUNT];

struct xg_xdp {
	struct xgossip_bpf  *skel;
	struct xdp_program  *prog;
	enum xg_xdp_mode     mode;
	int                  ifindex;
	char                 ifname[IF_NAMESIZE];
	char                 pin_dir[PATH_MAX];
	int                  fd[XG_MI_COUNT];  /* owned by skel */
	struct xg_bpf_config cfg;              /* as last written */
	bool                 fresh_pins;       /* this open created the pins */
	/* The mmapped heartbeat and notice maps (NULL if mmap failed: the
	 * heartbeat then falls back to a map update). */
	volatile uint64_t             *hb_mem;
	const volatile struct xg_bpf_notice *notice_mem;
	char                 err[256];
};

/* Format "msg: strerror" into buf and return err (negative errno), so error
 * paths read `return xg_xdp_errf(...)`. */
int xg_xdp_errf(char *buf, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Route libbpf's and libxdp's messages into the agent's log (debug level:
 * they are noisy, and the error that matters is reported by the caller). */
void xg_xdp_log_bridge(void);

/* Pins (xdp_pin.c). */
int  xg_pin_mkdirs(const char *dir);
/* "<dir>/<name>" into out; -ENAMETOOLONG if it does not fit. */
int  xg_pin_path(const char *dir, const char *name, char *out, size_t cap);
/* Id of the map pinned at path, 0 if nothing is pinned there. */
uint32_t xg_pin_map_id(const char *path);
/* Remove every map pin of the instance and the directory (and the root if
 * it is left empty).  Missing pins are not an error. */
void xg_pin_remove_all(const char *dir, const char *root);

/* Map writes (xdp_sync.c). */
int xg_sync_write_config(int fd, const struct xg_bpf_config *cfg);
int xg_sync_clear_keys(int fd);
int xg_sync_write_heartbeat(int fd, uint64_t now);

#endif /* XGOSSIP_XDP_INTERNAL_H */
