/* SPDX-License-Identifier: MIT */
/*
 * Keeping the program's maps in step with the agent: config, keys,
 * heartbeat, seen ids; and reading the statistics back.
 */
#include "xdp/xdp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static int map_put(int fd, __u32 key, const void *val)
{
	return bpf_map_update_elem(fd, &key, val, BPF_ANY) < 0 ? -errno : 0;
}

int xg_sync_write_config(int fd, const struct xg_bpf_config *cfg)
{
	return map_put(fd, 0, cfg);
}

/* Publish cfg as the program's config and adopt it as ours; what names
 * the change for the error message. */
static int publish_config(struct xg_xdp *x, const struct xg_bpf_config *cfg,
			  const char *what)
{
	int err = xg_sync_write_config(x->fd[XG_MI_CONFIG], cfg);

	if (err)
		return xg_xdp_errf(x->err, sizeof(x->err), err, "xdp: %s",
				   what);
	x->cfg = *cfg;
	return 0;
}

int xg_sync_clear_keys(int fd)
{
	struct xg_bpf_keys none;
	__u32 slot;
	int err;

	memset(&none, 0, sizeof(none));
	for (slot = 0; slot < XG_KEY_SLOTS; slot++) {
		err = map_put(fd, slot, &none);
		if (err)
			return err;
	}
	return 0;
}

int xg_sync_write_heartbeat(int fd, uint64_t now)
{
	return map_put(fd, 0, &now);
}

int xg_xdp_set_keys(struct xg_xdp *x, const uint8_t primary[16],
		    uint8_t primary_id, const uint8_t *secondary,
		    uint8_t secondary_id)
{
	struct xg_bpf_config cfg;
	struct xg_bpf_keys k;
	__u32 slot;
	int err;

	if (!x || !primary)
		return -EINVAL;
	memset(&k, 0, sizeof(k));
	memcpy(k.primary, primary, sizeof(k.primary));
	k.primary_id = primary_id;
	k.flags = XG_KEY_HAS_PRIMARY;
	if (secondary) {
		memcpy(k.secondary, secondary, sizeof(k.secondary));
		k.secondary_id = secondary_id;
		k.flags |= XG_KEY_HAS_SECONDARY;
	}

	/* Write the slot the program is not reading, then publish it. */
	slot = !x->cfg.keys_slot;
	err = map_put(x->fd[XG_MI_KEYS], slot, &k);
	memset(&k, 0, sizeof(k));
	if (err)
		return xg_xdp_errf(x->err, sizeof(x->err), err,
				   "xdp: writing keys");
	cfg = x->cfg;
	cfg.keys_slot = (__u8)slot;
	return publish_config(x, &cfg, "publishing keys");
}

int xg_xdp_clear_keys(struct xg_xdp *x)
{
	int err;

	if (!x)
		return -EINVAL;
	err = xg_sync_clear_keys(x->fd[XG_MI_KEYS]);
	if (err)
		return xg_xdp_errf(x->err, sizeof(x->err), err,
				   "xdp: clearing keys");
	return 0;
}

int xg_xdp_set_liveness(struct xg_xdp *x, uint64_t liveness_ns)
{
	struct xg_bpf_config cfg;

	if (!x || !liveness_ns)
		return -EINVAL;
	cfg = x->cfg;
	cfg.liveness_ns = liveness_ns;
	return publish_config(x, &cfg, "writing the liveness window");
}

int xg_xdp_heartbeat(struct xg_xdp *x, uint64_t now_mono_ns)
{
	int err;

	if (!x)
		return -EINVAL;
	if (x->hb_mem) {
		/* One aligned 8-byte store: the program reads either the
		 * old beat or the new one. */
		*x->hb_mem = now_mono_ns;
		return 0;
	}
	err = xg_sync_write_heartbeat(x->fd[XG_MI_HEARTBEAT], now_mono_ns);
	if (err)
		return xg_xdp_errf(x->err, sizeof(x->err), err,
				   "xdp: writing heartbeat");
	return 0;
}

int xg_xdp_seen_add(struct xg_xdp *x, const uint8_t id16[16], uint64_t now_ns)
{
	struct xg_bpf_seen_key key;

	if (!x || !id16)
		return -EINVAL;
	memcpy(key.id, id16, sizeof(key.id));
	if (bpf_map_update_elem(x->fd[XG_MI_SEEN], &key, &now_ns, BPF_ANY) < 0)
		return xg_xdp_errf(x->err, sizeof(x->err), -errno,
				   "xdp: adding seen id");
	return 0;
}

int xg_xdp_seen_has(struct xg_xdp *x, const uint8_t id16[16])
{
	struct xg_bpf_seen_key key;
	__u64 when;

	if (!x || !id16)
		return -EINVAL;
	memcpy(key.id, id16, sizeof(key.id));
	if (bpf_map_lookup_elem(x->fd[XG_MI_SEEN], &key, &when) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

int xg_xdp_read_stats(struct xg_xdp *x, struct xg_bpf_stats *sum)
{
	const size_t nfields = sizeof(*sum) / sizeof(__u64);
	__u64 *per_cpu, *out = (__u64 *)sum;
	__u32 zero = 0;
	int ncpu, cpu, err = 0;
	size_t i;

	if (!x || !sum)
		return -EINVAL;
	ncpu = libbpf_num_possible_cpus();
	if (ncpu <= 0)
		return xg_xdp_errf(x->err, sizeof(x->err), ncpu ? ncpu : -EINVAL,
				   "xdp: counting CPUs");
	/* The kernel hands back one value per possible CPU, each rounded up
	 * to 8 bytes; the stats struct is all __u64 so no rounding occurs. */
	per_cpu = calloc((size_t)ncpu, sizeof(*sum));
	if (!per_cpu)
		return -ENOMEM;
	if (bpf_map_lookup_elem(x->fd[XG_MI_STATS], &zero, per_cpu) < 0) {
		err = xg_xdp_errf(x->err, sizeof(x->err), -errno,
				  "xdp: reading stats");
	} else {
		memset(sum, 0, sizeof(*sum));
		for (cpu = 0; cpu < ncpu; cpu++)
			for (i = 0; i < nfields; i++)
				out[i] += per_cpu[(size_t)cpu * nfields + i];
	}
	free(per_cpu);
	return err;
}

uint64_t xg_xdp_suspected_pings(const struct xg_xdp *x)
{
	return x && x->notice_mem ? x->notice_mem->suspected_pings : 0;
}

bool xg_xdp_heartbeat_is_cheap(const struct xg_xdp *x)
{
	return x && x->hb_mem;
}
