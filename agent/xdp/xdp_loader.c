/* SPDX-License-Identifier: MIT */
/*
 * Loading, attaching and detaching the XDP program; the restart takeover.
 *
 * A restarted agent must find the maps of its predecessor (seen ids,
 * counters) and must not leave two copies of the program on the interface.
 * The pinned config map identifies "our" program: any program attached to
 * the interface that uses the map pinned at <pin_dir>/xg_config was loaded
 * by an earlier agent of this instance and is detached before the new one
 * is attached.  Other XDP programs on the interface are left alone: libxdp's
 * dispatcher runs them side by side.
 */
#include "xdp/xdp_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xgossip.skel.h"
#include "util/log.h"

const char *const xg_xdp_map_names[XG_MI_COUNT] = {
	[XG_MI_CONFIG]    = XG_MAP_CONFIG,
	[XG_MI_KEYS]      = XG_MAP_KEYS,
	[XG_MI_HEARTBEAT] = XG_MAP_HEARTBEAT,
	[XG_MI_SEEN]      = XG_MAP_SEEN,
	[XG_MI_STATS]     = XG_MAP_STATS,
	[XG_MI_NOTICE]    = XG_MAP_NOTICE,
};

static struct bpf_map *skel_map(struct xgossip_bpf *skel, int i)
{
	switch (i) {
	case XG_MI_CONFIG:    return skel->maps.xg_config;
	case XG_MI_KEYS:      return skel->maps.xg_keys;
	case XG_MI_HEARTBEAT: return skel->maps.xg_heartbeat;
	case XG_MI_SEEN:      return skel->maps.xg_seen;
	case XG_MI_STATS:     return skel->maps.xg_stats;
	case XG_MI_NOTICE:    return skel->maps.xg_notice;
	}
	return NULL;
}

static enum xdp_attach_mode libxdp_mode(enum xg_xdp_mode m)
{
	return m == XG_XDP_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_SKB;
}

/* Would libbpf accept the map pinned at path in place of want?  (The same
 * test libbpf applies when it reuses a pin; doing it first lets an upgraded
 * agent replace an incompatible map instead of failing to load.) */
static int pin_compatible(const char *path, const struct bpf_map *want)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	int fd, ok;

	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0) {
		ok = -errno;
		close(fd);
		return ok;
	}
	close(fd);
	ok = info.type == bpf_map__type(want) &&
	     info.key_size == bpf_map__key_size(want) &&
	     info.value_size == bpf_map__value_size(want) &&
	     info.max_entries == bpf_map__max_entries(want) &&
	     info.map_flags == bpf_map__map_flags(want);
	return ok;
}

/* Point every map of skel at its pin; drop pins that cannot be reused.
 * *reused counts the pins that will be taken over. */
static int skel_set_pins(struct xg_xdp *x, struct xgossip_bpf *skel,
			 int *reused)
{
	char path[PATH_MAX];
	int i, err, ok;

	*reused = 0;
	for (i = 0; i < XG_MI_COUNT; i++) {
		struct bpf_map *m = skel_map(skel, i);

		err = xg_pin_path(x->pin_dir, xg_xdp_map_names[i], path,
				  sizeof(path));
		if (err)
			return err;
		ok = pin_compatible(path, m);
		if (ok == 0) {
			xg_warn("xdp: pinned map %s does not match this program; "
				"replacing it", path);
			if (unlink(path) < 0)
				return -errno;
		} else if (ok == 1) {
			(*reused)++;
		} else if (ok != -ENOENT) {
			return ok;
		}
		err = bpf_map__set_pin_path(m, path);
		if (err)
			return err;
	}
	return 0;
}

/* Before the new program can run, the maps it will reuse must already say
 * "no key, no heartbeat, this config": otherwise it would briefly answer
 * with whatever the previous agent left there. */
static int prime_pinned_maps(struct xg_xdp *x)
{
	char path[PATH_MAX];
	int fd, err;

	err = xg_pin_path(x->pin_dir, XG_MAP_HEARTBEAT, path, sizeof(path));
	if (!err && (fd = bpf_obj_get(path)) >= 0) {
		err = xg_sync_write_heartbeat(fd, 0);
		close(fd);
		if (err)
			return err;
	}
	err = xg_pin_path(x->pin_dir, XG_MAP_KEYS, path, sizeof(path));
	if (!err && (fd = bpf_obj_get(path)) >= 0) {
		err = xg_sync_clear_keys(fd);
		close(fd);
		if (err)
			return err;
	}
	err = xg_pin_path(x->pin_dir, XG_MAP_CONFIG, path, sizeof(path));
	if (!err && (fd = bpf_obj_get(path)) >= 0) {
		err = xg_sync_write_config(fd, &x->cfg);
		close(fd);
	}
	return err;
}

static int prog_uses_map(__u32 prog_id, __u32 map_id)
{
	struct bpf_prog_info info;
	__u32 ids[16], len = sizeof(info), i;
	int fd, found = 0;

	fd = bpf_prog_get_fd_by_id(prog_id);
	if (fd < 0)
		return 0;
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (__u64)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		if (info.nr_map_ids > sizeof(ids) / sizeof(ids[0]))
			info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
		for (i = 0; i < info.nr_map_ids; i++)
			found |= ids[i] == map_id;
	}
	close(fd);
	return found;
}

/* Detach every program on the interface that uses config map map_id. */
static int detach_previous(struct xg_xdp *x, __u32 map_id)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p = NULL;
	enum xdp_attach_mode mode;
	__u32 ids[32];
	int n = 0, i, err = 0;

	mp = xdp_multiprog__get_from_ifindex(x->ifindex);
	if (libxdp_get_error(mp))
		return 0; /* nothing attached */
	mode = xdp_multiprog__attach_mode(mp);
	if (xdp_multiprog__is_legacy(mp)) {
		p = xdp_multiprog__main_prog(mp);
		if (p && prog_uses_map(xdp_program__id(p), map_id)) {
			err = xdp_multiprog__detach(mp);
			if (!err)
				xg_info("xdp: detached previous program id=%u "
					"from %s", xdp_program__id(p), x->ifname);
		}
		xdp_multiprog__close(mp);
		return err;
	}
	while ((p = xdp_multiprog__next_prog(p, mp)) && n < 32)
		if (prog_uses_map(xdp_program__id(p), map_id))
			ids[n++] = xdp_program__id(p);
	xdp_multiprog__close(mp);

	for (i = 0; i < n && !err; i++) {
		struct xdp_program *old = xdp_program__from_id(ids[i]);

		if (libxdp_get_error(old))
			continue; /* gone meanwhile */
		err = xdp_program__detach(old, x->ifindex, mode, 0);
		xdp_program__close(old);
		if (!err)
			xg_info("xdp: detached previous program id=%u from %s",
				ids[i], x->ifname);
	}
	return err;
}

/* One attempt in one mode; on failure everything it made is undone (but
 * maps it pinned stay, for the next attempt to reuse). */
static int try_attach(struct xg_xdp *x, enum xg_xdp_mode mode,
		      uint32_t seen_max, int *reused, char *why, size_t whylen)
{
	struct xgossip_bpf *skel;
	struct xdp_program *prog;
	int err;

	skel = xgossip_bpf__open();
	if (!skel)
		return xg_xdp_errf(why, whylen, -errno, "opening BPF object");
	err = bpf_map__set_max_entries(skel->maps.xg_seen, seen_max);
	if (!err)
		err = skel_set_pins(x, skel, reused);
	if (err) {
		xgossip_bpf__destroy(skel);
		return xg_xdp_errf(why, whylen, err, "preparing maps");
	}
	prog = xdp_program__from_bpf_obj(skel->obj, "xdp");
	err = (int)libxdp_get_error(prog);
	if (err) {
		xgossip_bpf__destroy(skel);
		return xg_xdp_errf(why, whylen, err, "preparing program");
	}
	err = xdp_program__attach(prog, x->ifindex, libxdp_mode(mode), 0);
	if (err) {
		xdp_program__close(prog);
		xgossip_bpf__destroy(skel);
		return xg_xdp_errf(why, whylen, err, "%s attach",
				   xg_xdp_mode_str(mode));
	}
	x->skel = skel;
	x->prog = prog;
	x->mode = mode;
	return 0;
}

/* Native XDP_TX on a veth hands the frame to the peer's XDP receive path;
 * when the peer (usually in another namespace, out of our sight) has no
 * program, the ACK silently vanishes and a healthy node looks dead.  Auto
 * must never pick a mode that fails that way, so on a veth it starts at
 * generic; an operator who set up the peer asks for native explicitly. */
static bool native_drops_tx(const struct xg_xdp *x)
{
	char drv[32];

	return xg_xdp_iface_driver(x->ifname, drv, sizeof(drv)) == 0 &&
	       strcmp(drv, "veth") == 0;
}

static int attach_by_mode(struct xg_xdp *x, enum xg_xdp_mode want,
			  uint32_t seen_max, int *reused, char *err,
			  size_t errlen)
{
	char why_native[160] = "", why_generic[160] = "";
	int r;

	if (want == XG_XDP_AUTO && native_drops_tx(x)) {
		xg_info("xdp: %s is a veth: native XDP_TX there is lost unless "
			"the peer runs XDP too, so auto uses generic "
			"(ask for --xdp=native if the peer is set up)",
			x->ifname);
		want = XG_XDP_GENERIC;
	}
	if (want == XG_XDP_NATIVE || want == XG_XDP_AUTO) {
		r = try_attach(x, XG_XDP_NATIVE, seen_max, reused, why_native,
			       sizeof(why_native));
		if (r == 0 || want == XG_XDP_NATIVE)
			return r ? xg_xdp_errf(err, errlen, r, "xdp on %s: %s",
					       x->ifname, why_native) : 0;
		xg_info("xdp: native mode unavailable on %s (%s), trying generic",
			x->ifname, why_native);
	}
	r = try_attach(x, XG_XDP_GENERIC, seen_max, reused, why_generic,
		       sizeof(why_generic));
	if (r == 0)
		return 0;
	if (want == XG_XDP_AUTO)
		snprintf(err, errlen, "xdp on %s: %s; %s; running without XDP",
			 x->ifname, why_native, why_generic);
	else
		snprintf(err, errlen, "xdp on %s: %s", x->ifname, why_generic);
	return r;
}

static int resolve_iface(struct xg_xdp *x, const struct xg_xdp_opts *o)
{
	if (o->ifname && *o->ifname) {
		if (strlen(o->ifname) >= sizeof(x->ifname))
			return -ENAMETOOLONG;
		x->ifindex = (int)if_nametoindex(o->ifname);
		if (!x->ifindex)
			return -errno;
		snprintf(x->ifname, sizeof(x->ifname), "%s", o->ifname);
		return 0;
	}
	if (o->ifindex <= 0 || !if_indextoname((unsigned)o->ifindex, x->ifname))
		return -ENODEV;
	x->ifindex = o->ifindex;
	return 0;
}

/* Where open() would pin and attach, without loading anything. */
static int locate(struct xg_xdp *x, const struct xg_xdp_opts *o, char *err,
		  size_t errlen)
{
	const char *root = o->pin_root ? o->pin_root : XG_XDP_PIN_ROOT;
	const char *inst = o->instance && *o->instance ? o->instance : "default";
	int r;

	if (strchr(inst, '/') || inst[0] == '.')
		return xg_xdp_errf(err, errlen, -EINVAL, "xdp: bad instance name");
	r = resolve_iface(x, o);
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: interface %s",
				   o->ifname ? o->ifname : "(by index)");
	r = snprintf(x->pin_dir, sizeof(x->pin_dir), "%s/%s", root, inst);
	if (r < 0 || (size_t)r >= sizeof(x->pin_dir))
		return xg_xdp_errf(err, errlen, -ENAMETOOLONG, "xdp: pin dir");
	return 0;
}

/* The heartbeat is written at every wakeup of the agent's loop and the
 * notice read as often: as plain memory they cost nothing.  Without the
 * mappings (a kernel that refuses them) the heartbeat is a map update from
 * the heartbeat timer, and kernel-answered suspicions go unnoticed until
 * gossip brings them. */
static void map_memory(struct xg_xdp *x)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	p = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED,
		 x->fd[XG_MI_HEARTBEAT], 0);
	if (p == MAP_FAILED)
		xg_warn("xdp: cannot map %s: %s", XG_MAP_HEARTBEAT,
			strerror(errno));
	else
		x->hb_mem = p;
	p = mmap(NULL, page, PROT_READ, MAP_SHARED, x->fd[XG_MI_NOTICE], 0);
	if (p == MAP_FAILED)
		xg_warn("xdp: cannot map %s: %s", XG_MAP_NOTICE,
			strerror(errno));
	else
		x->notice_mem = p;
}

static void unmap_memory(struct xg_xdp *x)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (x->hb_mem)
		munmap((void *)x->hb_mem, page);
	if (x->notice_mem)
		munmap((void *)x->notice_mem, page);
	x->hb_mem = NULL;
	x->notice_mem = NULL;
}

static int open_checked(struct xg_xdp *x, const struct xg_xdp_opts *o,
			char *err, size_t errlen)
{
	uint32_t seen_max = o->seen_max ? o->seen_max : XG_SEEN_MAX_DEFAULT;
	char path[PATH_MAX];
	__u32 old_cfg_id;
	int r, reused, i;

	if (o->mode != XG_XDP_AUTO && o->mode != XG_XDP_NATIVE &&
	    o->mode != XG_XDP_GENERIC)
		return xg_xdp_errf(err, errlen, -EINVAL, "xdp: mode %s",
				   xg_xdp_mode_str(o->mode));
	if (o->port == 0)
		return xg_xdp_errf(err, errlen, -EINVAL, "xdp: port 0");
	r = locate(x, o, err, errlen);
	if (r)
		return r;

	x->cfg.cluster_id = o->cluster_id;
	x->cfg.node_id = o->node_id;
	x->cfg.liveness_ns = o->liveness_ns ? o->liveness_ns :
					      XG_XDP_LIVENESS_DEFAULT_NS;
	x->cfg.port = o->port;
	x->cfg.keys_slot = 0;

	xg_xdp_log_bridge();
	r = xg_xdp_bpffs_ensure();
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: mounting bpffs at %s",
				   XG_XDP_BPFFS);
	r = xg_pin_mkdirs(x->pin_dir);
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: creating %s", x->pin_dir);

	r = xg_pin_path(x->pin_dir, XG_MAP_CONFIG, path, sizeof(path));
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: pin path");
	old_cfg_id = xg_pin_map_id(path);
	r = prime_pinned_maps(x);
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: resetting pinned maps in %s",
				   x->pin_dir);
	if (old_cfg_id) {
		r = detach_previous(x, old_cfg_id);
		if (r)
			return xg_xdp_errf(err, errlen, r,
					   "xdp: detaching the previous program from %s",
					   x->ifname);
	}

	x->fresh_pins = old_cfg_id == 0;
	r = attach_by_mode(x, o->mode, seen_max, &reused, err, errlen);
	if (r)
		return r;

	for (i = 0; i < XG_MI_COUNT; i++)
		x->fd[i] = bpf_map__fd(skel_map(x->skel, i));
	map_memory(x);
	/* Fresh maps start zeroed (port 0 = pass everything); reused ones
	 * were primed above.  Either way, now say who we are. */
	r = xg_sync_write_config(x->fd[XG_MI_CONFIG], &x->cfg);
	if (!r)
		r = xg_sync_write_heartbeat(x->fd[XG_MI_HEARTBEAT], 0);
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: writing config");

	xg_info("xdp: program id=%u attached to %s (ifindex %d) in %s mode; "
		"maps %s at %s", xdp_program__id(x->prog), x->ifname, x->ifindex,
		xg_xdp_mode_str(x->mode),
		reused == XG_MI_COUNT ? "reused" : reused ? "partly reused" : "created",
		x->pin_dir);
	return 0;
}

static void release(struct xg_xdp *x, bool detach, bool unpin);

int xg_xdp_purge(const struct xg_xdp_opts *o, char *err, size_t errlen)
{
	struct xg_xdp x;
	char path[PATH_MAX], dummy[8];
	__u32 cfg_id;
	int r;

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!o)
		return xg_xdp_errf(err, errlen, -EINVAL, "xdp: no options");
	memset(&x, 0, sizeof(x));
	r = locate(&x, o, err, errlen);
	if (r)
		return r;
	xg_xdp_log_bridge();
	r = xg_pin_path(x.pin_dir, XG_MAP_CONFIG, path, sizeof(path));
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: pin path");
	cfg_id = xg_pin_map_id(path);
	if (!cfg_id)
		return 0; /* nothing pinned: nothing of ours to find */
	r = detach_previous(&x, cfg_id);
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp: detaching from %s",
				   x.ifname);
	xg_pin_remove_all(x.pin_dir, o->pin_root ? o->pin_root : XG_XDP_PIN_ROOT);
	xg_info("xdp: removed program and pins of %s from %s", x.pin_dir,
		x.ifname);
	return 0;
}

int xg_xdp_open(struct xg_xdp **out, const struct xg_xdp_opts *o, char *err,
		size_t errlen)
{
	struct xg_xdp *x;
	char dummy[8];
	int r, i;

	if (!err || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (!out || !o)
		return xg_xdp_errf(err, errlen, -EINVAL, "xdp: no options");
	x = calloc(1, sizeof(*x));
	if (!x)
		return xg_xdp_errf(err, errlen, -ENOMEM, "xdp");
	for (i = 0; i < XG_MI_COUNT; i++)
		x->fd[i] = -1;
	r = open_checked(x, o, err, errlen);
	if (r) {
		/* Nothing half-attached survives a failed open, and pins it
		 * created go too; a predecessor's pins stay for the next try. */
		release(x, x->prog != NULL, x->fresh_pins);
		return r;
	}
	*out = x;
	return 0;
}

static void release(struct xg_xdp *x, bool detach, bool unpin)
{
	int err;

	unmap_memory(x);
	if (x->skel && x->fd[XG_MI_HEARTBEAT] >= 0) {
		err = xg_sync_write_heartbeat(x->fd[XG_MI_HEARTBEAT], 0);
		if (err)
			xg_warn("xdp: clearing the heartbeat: %s", strerror(-err));
	}
	if (x->prog && detach) {
		err = xdp_program__detach(x->prog, x->ifindex,
					  libxdp_mode(x->mode), 0);
		if (err)
			xg_warn("xdp: detaching program id=%u from %s: %s",
				xdp_program__id(x->prog), x->ifname,
				strerror(-err));
		else
			xg_info("xdp: detached program id=%u from %s",
				xdp_program__id(x->prog), x->ifname);
	}
	if (unpin && x->pin_dir[0]) {
		char root[PATH_MAX];
		char *slash;

		snprintf(root, sizeof(root), "%s", x->pin_dir);
		slash = strrchr(root, '/');
		if (slash)
			*slash = '\0';
		xg_pin_remove_all(x->pin_dir, slash ? root : NULL);
	}
	if (x->prog)
		xdp_program__close(x->prog);
	if (x->skel)
		xgossip_bpf__destroy(x->skel);
	free(x);
}

void xg_xdp_close(struct xg_xdp *x, bool detach_and_unpin)
{
	if (x)
		release(x, detach_and_unpin, detach_and_unpin);
}

enum xg_xdp_mode xg_xdp_mode(const struct xg_xdp *x)
{
	return x ? x->mode : XG_XDP_OFF;
}

const char *xg_xdp_ifname(const struct xg_xdp *x)
{
	return x ? x->ifname : "";
}

int xg_xdp_ifindex(const struct xg_xdp *x)
{
	return x ? x->ifindex : 0;
}

uint32_t xg_xdp_prog_id(const struct xg_xdp *x)
{
	return x && x->prog ? xdp_program__id(x->prog) : 0;
}

const char *xg_xdp_pin_dir(const struct xg_xdp *x)
{
	return x ? x->pin_dir : "";
}

static int map_index(const char *name)
{
	int i;

	for (i = 0; name && i < XG_MI_COUNT; i++)
		if (strcmp(name, xg_xdp_map_names[i]) == 0)
			return i;
	return -1;
}

int xg_xdp_pin_path(const struct xg_xdp *x, const char *map_name, char *out,
		    size_t cap)
{
	if (!x || map_index(map_name) < 0)
		return -EINVAL;
	return xg_pin_path(x->pin_dir, map_name, out, cap);
}

int xg_xdp_map_fd(const struct xg_xdp *x, const char *map_name)
{
	int i = map_index(map_name);

	return x && i >= 0 && x->fd[i] >= 0 ? x->fd[i] : -ENOENT;
}

const char *xg_xdp_last_error(const struct xg_xdp *x)
{
	return x ? x->err : "";
}
