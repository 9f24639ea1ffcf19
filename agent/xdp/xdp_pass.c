/* SPDX-License-Identifier: MIT */
/*
 * The XDP_PASS program for the far end of a veth (bpf/xdp_pass.bpf.c):
 * native XDP_TX on a veth only delivers when the peer runs XDP too.
 */
#include "xdp/xdp_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <xdp/libxdp.h>

#include "xdp_pass.skel.h"
#include "util/log.h"

struct xg_xdp_pass {
	struct xdp_pass_bpf *skel;
	struct xdp_program  *prog;
	int                  ifindex;
	enum xdp_attach_mode mode;
};

int xg_xdp_pass_attach(struct xg_xdp_pass **out, int ifindex,
		       enum xg_xdp_mode mode, char *err, size_t errlen)
{
	struct xg_xdp_pass *p;
	int r;

	if (!out || ifindex <= 0 ||
	    (mode != XG_XDP_NATIVE && mode != XG_XDP_GENERIC))
		return xg_xdp_errf(err, errlen, -EINVAL, "xdp pass: arguments");
	xg_xdp_log_bridge();
	r = xg_xdp_bpffs_ensure();
	if (r)
		return xg_xdp_errf(err, errlen, r, "xdp pass: bpffs");
	p = calloc(1, sizeof(*p));
	if (!p)
		return xg_xdp_errf(err, errlen, -ENOMEM, "xdp pass");
	p->ifindex = ifindex;
	p->mode = mode == XG_XDP_NATIVE ? XDP_MODE_NATIVE : XDP_MODE_SKB;
	p->skel = xdp_pass_bpf__open();
	if (!p->skel) {
		r = xg_xdp_errf(err, errlen, -errno, "xdp pass: open");
		goto fail;
	}
	p->prog = xdp_program__from_bpf_obj(p->skel->obj, "xdp");
	r = (int)libxdp_get_error(p->prog);
	if (r) {
		p->prog = NULL;
		xg_xdp_errf(err, errlen, r, "xdp pass: program");
		goto fail;
	}
	r = xdp_program__attach(p->prog, ifindex, p->mode, 0);
	if (r) {
		xg_xdp_errf(err, errlen, r, "xdp pass: attach to ifindex %d",
			    ifindex);
		goto fail;
	}
	*out = p;
	return 0;
fail:
	if (p->prog)
		xdp_program__close(p->prog);
	if (p->skel)
		xdp_pass_bpf__destroy(p->skel);
	free(p);
	return r;
}

void xg_xdp_pass_detach(struct xg_xdp_pass *p)
{
	int r;

	if (!p)
		return;
	r = xdp_program__detach(p->prog, p->ifindex, p->mode, 0);
	if (r)
		xg_warn("xdp pass: detach from ifindex %d: %s", p->ifindex,
			strerror(-r));
	xdp_program__close(p->prog);
	xdp_pass_bpf__destroy(p->skel);
	free(p);
}
