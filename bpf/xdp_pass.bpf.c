/* SPDX-License-Identifier: MIT */
/*
 * An XDP program that passes everything.  On veth, frames sent with XDP_TX
 * are only delivered when the peer device runs an XDP program of its own
 * (the peer's NAPI poll is what drains them), so test and benchmark rigs
 * attach this to the far end of every veth whose near end runs xgossip in
 * native mode.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xg_xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
