/* SPDX-License-Identifier: MIT */
/*
 * The agent's side of the XDP fast path: load bpf/xgossip.bpf.c, attach it
 * through libxdp (so it can share an interface with other XDP programs),
 * keep its maps pinned under /sys/fs/bpf/xgossip/<instance>/ so a restarted
 * agent takes them over, and keep them in sync: keys, heartbeat, seen ids;
 * read back the statistics.
 *
 * Calls are not thread-safe; the daemon makes them from its loop.  All
 * functions return 0 or a negative errno; open() writes a one-line
 * explanation into err, later calls into xg_xdp_last_error().
 * docs/XDP.md describes the program, the maps and the restart story.
 */
#ifndef XGOSSIP_XDP_XDP_H
#define XGOSSIP_XDP_XDP_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xgossip/xdp_maps.h>

#include "core/addr.h"

enum xg_xdp_mode {
	XG_XDP_OFF,
	XG_XDP_AUTO,    /* native, then generic, then give up (caller runs off) */
	XG_XDP_NATIVE,  /* in the driver (XDP_MODE_NATIVE) */
	XG_XDP_GENERIC, /* in the stack, after the skb is built (XDP_MODE_SKB) */
};

/* "off", "auto", "native", "generic" (also "skb", "drv") -> 0 or -EINVAL. */
int xg_xdp_mode_parse(const char *s, enum xg_xdp_mode *out);
/* "off", "auto", "native", "generic".  (Not xg_xdp_mode_name: the daemon's
 * flags.c has its own copy of that until it includes this header.) */
const char *xg_xdp_mode_str(enum xg_xdp_mode m);

#define XG_XDP_PIN_ROOT        "/sys/fs/bpf/xgossip"
#define XG_XDP_BPFFS           "/sys/fs/bpf"
/* docs/XDP.md: about the shortest suspicion timeout of a small cluster.
 * The heartbeat is stored at every wakeup of the agent's loop; the timer
 * below only covers a loop with nothing to do, 8 beats per window. */
#define XG_XDP_LIVENESS_DEFAULT_NS (2000ULL * 1000 * 1000)
#define XG_XDP_HEARTBEAT_INTERVAL_NS (250ULL * 1000 * 1000)

struct xg_xdp_opts {
	const char      *ifname;    /* interface; or NULL and ifindex */
	int              ifindex;
	enum xg_xdp_mode mode;      /* AUTO, NATIVE or GENERIC */
	const char      *instance;  /* pin directory name; default "default" */
	const char      *pin_root;  /* default XG_XDP_PIN_ROOT (must be on bpffs) */
	uint16_t         port;      /* the agent's UDP port (host order), != 0 */
	uint64_t         cluster_id;
	uint64_t         node_id;
	uint64_t         liveness_ns; /* 0 = XG_XDP_LIVENESS_DEFAULT_NS */
	uint32_t         seen_max;    /* 0 = XG_SEEN_MAX_DEFAULT */
};

struct xg_xdp;

/* Mount bpffs if needed, load, reuse or create the pinned maps, detach the
 * program a previous agent of this instance left on the interface, attach,
 * write the config.  The heartbeat starts at 0 and no key is loaded, so
 * nothing is answered from the kernel until the caller has called
 * xg_xdp_set_keys() and xg_xdp_heartbeat().
 * AUTO tries native then generic and logs which it got; when both fail it
 * returns the error (err names both) and the caller runs with XDP off. */
int  xg_xdp_open(struct xg_xdp **out, const struct xg_xdp_opts *o, char *err,
		 size_t errlen);

/* Stop answering at once (heartbeat := 0), then either leave program and
 * maps in place for the next agent (restart) or detach the program and
 * remove the pins (leave, or switching XDP off).  NULL is a no-op. */
void xg_xdp_close(struct xg_xdp *x, bool detach_and_unpin);

/* Remove what an agent of this instance left behind (o->ifname/ifindex,
 * o->instance, o->pin_root are used): detach its program from the
 * interface and delete its pins.  For `--xdp=off` after running with XDP,
 * and for uninstalling.  Nothing to remove is not an error. */
int xg_xdp_purge(const struct xg_xdp_opts *o, char *err, size_t errlen);

/* Load the probe keys: primary signs ACKs and is accepted, secondary (may
 * be NULL) is accepted too during a rotation.  The ids are the keyring
 * slots; primary_id is stamped into ACKs.  Published atomically: the
 * program sees either the old pair or the new one. */
int xg_xdp_set_keys(struct xg_xdp *x, const uint8_t primary[16],
		    uint8_t primary_id, const uint8_t *secondary,
		    uint8_t secondary_id);
/* Forget every key: PINGs go to userspace again. */
int xg_xdp_clear_keys(struct xg_xdp *x);
/* The liveness window the program applies from the next packet on (the
 * agent stretches it while starved: daemon/liveness.h). */
int xg_xdp_set_liveness(struct xg_xdp *x, uint64_t liveness_ns);

/* The agent is alive and working at now_mono_ns (CLOCK_MONOTONIC).  Call
 * at every wakeup of the loop that also reads the socket, and at least
 * every XG_XDP_HEARTBEAT_INTERVAL_NS, so a hung loop stops the heartbeat.
 * A store into the mmapped map; a map update (syscall) where the kernel
 * would not map it (xg_xdp_heartbeat_is_cheap() tells which). */
int  xg_xdp_heartbeat(struct xg_xdp *x, uint64_t now_mono_ns);
bool xg_xdp_heartbeat_is_cheap(const struct xg_xdp *x);

/* How many PINGs flagged XG_F_SUSPECTED the program has answered since the
 * maps were created (a counter kept across agent restarts: compare with an
 * earlier reading).  0 when the notice map could not be mapped. */
uint64_t xg_xdp_suspected_pings(const struct xg_xdp *x);

/* Message id id16 was authenticated and accepted at now_ns: the program
 * drops further copies of PUSH / PULL_SYNC with this id. */
int xg_xdp_seen_add(struct xg_xdp *x, const uint8_t id16[16], uint64_t now_ns);
/* Is id16 in the seen map?  1, 0 or -errno. */
int xg_xdp_seen_has(struct xg_xdp *x, const uint8_t id16[16]);

/* Sum of the per-CPU counters (since the maps were created, which can be
 * before this agent started: they survive restarts). */
int xg_xdp_read_stats(struct xg_xdp *x, struct xg_bpf_stats *sum);

/* Field names of struct xg_bpf_stats in order, NULL-terminated, for
 * metrics and `xgossipctl info`. */
extern const char *const xg_xdp_stat_names[];
/* The n-th counter of s (same order as xg_xdp_stat_names). */
uint64_t xg_xdp_stat_get(const struct xg_bpf_stats *s, size_t n);

enum xg_xdp_mode xg_xdp_mode(const struct xg_xdp *x); /* NATIVE or GENERIC */
const char *xg_xdp_ifname(const struct xg_xdp *x);
int         xg_xdp_ifindex(const struct xg_xdp *x);
uint32_t    xg_xdp_prog_id(const struct xg_xdp *x);
const char *xg_xdp_pin_dir(const struct xg_xdp *x);
/* Pin path of one map by name (XG_MAP_*), into out.  0 or -EINVAL. */
int         xg_xdp_pin_path(const struct xg_xdp *x, const char *map_name,
			    char *out, size_t cap);
/* Descriptor of a map by name (owned by x), or -ENOENT. */
int         xg_xdp_map_fd(const struct xg_xdp *x, const char *map_name);
const char *xg_xdp_last_error(const struct xg_xdp *x);

/* The interface that holds local address a (family and ip; the port is
 * ignored).  Fills ifname (IF_NAMESIZE bytes) and *ifindex.  0,
 * -EADDRNOTAVAIL when no interface has it, -EINVAL for a wildcard. */
int xg_xdp_iface_for_addr(const struct xg_addr *a, char *ifname,
			  int *ifindex);

/* The kernel driver behind ifname ("veth", "mlx5_core", ...) as ethtool
 * reports it.  0 or -errno. */
int xg_xdp_iface_driver(const char *ifname, char *driver, size_t cap);

/* Make sure bpffs is mounted at XG_XDP_BPFFS.  0 or -errno. */
int xg_xdp_bpffs_ensure(void);

/* An XDP_PASS program for the far end of a veth (see bpf/xdp_pass.bpf.c).
 * ifindex is in the caller's current network namespace. */
struct xg_xdp_pass;
int  xg_xdp_pass_attach(struct xg_xdp_pass **out, int ifindex,
			enum xg_xdp_mode mode, char *err, size_t errlen);
void xg_xdp_pass_detach(struct xg_xdp_pass *p);

#endif /* XGOSSIP_XDP_XDP_H */
