/* SPDX-License-Identifier: MIT */
/*
 * TLS for the agent's TCP streams (docs/SECURITY.md): the context made from
 * --tls-ca/--tls-cert/--tls-key at start, and made again on SIGHUP so that
 * renewed certificates take effect without a restart.  Streams already
 * open keep the context they started with (BoringSSL counts references),
 * so a reload drops no exchange and no membership.
 */
#include <errno.h>
#include <string.h>

#include "daemon/agent_int.h"
#include "net/tls.h"
#include "util/log.h"

static int make_ctx(const struct xg_agent_config *cfg, struct xg_tls_ctx **out)
{
	char why[256] = "";
	int err;

	err = xg_tls_ctx_new(out, cfg->tls_ca, cfg->tls_cert, cfg->tls_key,
			     why, sizeof(why));
	if (err)
		xg_error("tls: %s", why[0] ? why : strerror(-err));
	return err;
}

int xg_agent_tls_setup(struct xg_agent *a)
{
	const struct xg_agent_config *cfg = a->cfg;
	int err;

	a->tls = NULL;
	if (!cfg->tls_ca) {
		if (cfg->insecure_dev) {
			xg_warn("INSECURE: --insecure-dev: TCP streams (join, "
				"push/pull, key changes) are not encrypted");
			return 0;
		}
		xg_error("TCP streams need TLS: give --tls-ca, --tls-cert and "
			 "--tls-key (`xgossipctl tls init` makes them), or "
			 "--insecure-dev for a throwaway test cluster");
		return -EINVAL;
	}
	err = make_ctx(cfg, &a->tls);
	if (!err)
		xg_info("tls: certificate %s, CA %s", cfg->tls_cert,
			cfg->tls_ca);
	return err;
}

int xg_agent_tls_reload(struct xg_agent *a)
{
	struct xg_tls_ctx *next = NULL;
	int err;

	if (!a->tls)
		return 0;
	err = make_ctx(a->cfg, &next);
	if (err) {
		xg_warn("tls: reload failed; keeping the certificates in use");
		return err;
	}
	xg_tls_ctx_free(a->tls);
	a->tls = next;
	a->pp.tls = next;
	xg_info("tls: certificates reloaded from %s", a->cfg->tls_cert);
	return 0;
}

void xg_agent_tls_close(struct xg_agent *a)
{
	xg_tls_ctx_free(a->tls);
	a->tls = NULL;
	a->pp.tls = NULL;
}
