/* SPDX-License-Identifier: MIT */
/*
 * PING authentication and the PING -> ACK rewrite, on a copy of the probe
 * held on the BPF stack (the MAC code wants plain byte loads of a buffer of
 * constant length, which the verifier accepts on the stack without
 * per-byte packet bounds proofs).
 */
#ifndef XGOSSIP_BPF_PROBE_H
#define XGOSSIP_BPF_PROBE_H

#include <linux/types.h>

#include <xgossip/siphash.h>
#include <xgossip/wire.h>
#include <xgossip/xdp_maps.h>

#define XG_PROBE_MAC_OFF __builtin_offsetof(struct xg_probe, mac)

static __always_inline __u64 xg_probe_mac(const __u8 *key,
					  const struct xg_probe *p)
{
	return xg_siphash24(key, p, XG_PROBE_MAC_OFF);
}

enum xg_auth {
	XG_AUTH_NONE,
	XG_AUTH_PRIMARY,
	XG_AUTH_SECONDARY,
};

/* Which loaded key produced the PING's MAC, if any.  The key_id the sender
 * stamped is not trusted to pick the key: it is only a hint, and trying
 * both keys costs nothing on the valid path, where the primary matches. */
static __always_inline int xg_probe_auth(const struct xg_probe *p,
					 const struct xg_bpf_keys *k)
{
	__u64 mac = xg_load_le64(p->mac);

	if ((k->flags & XG_KEY_HAS_PRIMARY) && xg_probe_mac(k->primary, p) == mac)
		return XG_AUTH_PRIMARY;
	if ((k->flags & XG_KEY_HAS_SECONDARY) &&
	    xg_probe_mac(k->secondary, p) == mac)
		return XG_AUTH_SECONDARY;
	return XG_AUTH_NONE;
}

/* A direct ACK: sender and target swap, seq and ts_ns are echoed so the
 * prober can match and time it, no flag applies (XG_F_INDIRECT is for
 * relayed ACKs, XG_F_SUSPECTED only means something on a PING), and it is
 * always signed with the primary key, the one every member is sure to
 * know once a rotation has started. */
static __always_inline void xg_probe_make_reply(struct xg_probe *p,
						const struct xg_bpf_keys *k,
						__u8 type, __u8 flags)
{
	__be64 prober = p->sender_id;

	p->hdr.type = type;
	p->hdr.flags = flags;
	p->hdr.key_id = k->primary_id;
	p->reserved = 0;
	p->sender_id = p->target_id;
	p->target_id = prober;
	xg_mac_store(p->mac, xg_probe_mac(k->primary, p));
}

static __always_inline void xg_probe_make_ack(struct xg_probe *p,
					      const struct xg_bpf_keys *k)
{
	xg_probe_make_reply(p, k, XG_T_ACK, 0);
}

/* The agent is hung: its heartbeat is older than the liveness window.  A
 * NACK from the target itself, flagged XG_F_REFUSED, says so with the
 * same authority as an ACK (signed, seq and ts echoed), and the prober
 * treats it like a PING its host refused (docs/PROTOCOL.md §10) instead
 * of waiting out its probe for an answer the agent cannot give. */
static __always_inline void xg_probe_make_hung_nack(struct xg_probe *p,
						    const struct xg_bpf_keys *k)
{
	xg_probe_make_reply(p, k, XG_T_NACK, XG_F_REFUSED);
}

#endif /* XGOSSIP_BPF_PROBE_H */
