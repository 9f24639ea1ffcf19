/* SPDX-License-Identifier: MIT */
/*
 * Core configuration: LAN defaults and the checks xg_core_new() applies.
 * The defaults follow SWIM's usual LAN tuning (memberlist's are the same
 * order of magnitude): a probe a second, half of it to wait for the ACK,
 * gossip five times a second.
 */
#include <errno.h>
#include <string.h>

#include "core/core_internal.h"

void xg_core_config_defaults(struct xg_core_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->probe_interval_ns = 1000 * XG_NS_PER_MS;
	cfg->probe_timeout_ns = 500 * XG_NS_PER_MS;
	cfg->indirect_checks = 3;
	cfg->gossip_interval_ns = 200 * XG_NS_PER_MS;
	cfg->gossip_nodes = 3;
	cfg->suspicion_mult = 4;
	cfg->retransmit_mult = 4;
	cfg->pushpull_interval_ns = 30000 * XG_NS_PER_MS;
	cfg->dead_reclaim_ns = 24ULL * 3600 * 1000 * XG_NS_PER_MS;
	cfg->gossip_to_dead_ns = 30000 * XG_NS_PER_MS;
	/* Lifeguard, with memberlist's values for the same knobs (why:
	 * docs/CORE.md): a struggling node may slow its probing down to a
	 * ninth, and a lone accusation waits six times the SWIM timeout. */
	cfg->lhm_max = 8;
	cfg->suspicion_max_mult = 6;
	cfg->suspicion_expected_confirms = 0;
}

/* The same rule the codec applies on the wire, so a name we accept here
 * can always be encoded into an update. */
static bool name_ok(const char *name)
{
	size_t n, i;

	if (!name)
		return false;
	n = strnlen(name, XG_NAME_MAX);
	if (n == 0 || n >= XG_NAME_MAX)
		return false;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch < 0x20 || ch == 0x7f)
			return false;
	}
	return true;
}

static bool addr_ok(const struct xg_addr *a)
{
	size_t i;

	if (a->port == 0)
		return false;
	if (a->family == 6)
		return true;
	if (a->family != 4)
		return false;
	for (i = 4; i < sizeof(a->ip); i++)
		if (a->ip[i])
			return false;
	return true;
}

int xg_config_check(const struct xg_core_config *cfg)
{
	if (!cfg || !name_ok(cfg->name) || !addr_ok(&cfg->advertise))
		return -EINVAL;
	/* Id 0 is what a zeroed struct holds: refusing it catches a caller
	 * that forgot to pick one. */
	if (cfg->self_id == 0)
		return -EINVAL;
	if (cfg->meta_len > XG_META_MAX || (cfg->meta_len && !cfg->meta))
		return -EINVAL;
	if (cfg->probe_interval_ns == 0 || cfg->probe_timeout_ns == 0 ||
	    cfg->probe_timeout_ns >= cfg->probe_interval_ns)
		return -EINVAL;
	if (cfg->gossip_interval_ns == 0 || cfg->gossip_nodes == 0)
		return -EINVAL;
	if (cfg->suspicion_mult == 0 || cfg->retransmit_mult == 0)
		return -EINVAL;
	if (cfg->dead_reclaim_ns == 0)
		return -EINVAL;
	if (cfg->lhm_max > XG_LHM_MAX_LIMIT ||
	    cfg->suspicion_max_mult == 0 ||
	    cfg->suspicion_max_mult > XG_SUSPICION_MAX_LIMIT ||
	    cfg->suspicion_expected_confirms > XG_SUSPECT_CONFIRM_MAX - 1)
		return -EINVAL;
	/* An incarnation at the top could never be refuted. */
	if (cfg->incarnation == UINT32_MAX)
		return -EINVAL;
	return 0;
}
