/* SPDX-License-Identifier: MIT */
/*
 * xgossip-probe: a PING load generator for one xgossip node, to measure
 * what the XDP fast path (or the userspace agent, with --xdp=off) answers
 * and how fast.  See xg_probe_usage for the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "run.h"
#include "util/keyring.h"
#include "util/keys.h"
#include "util/rng.h"
#include "xdp/probe_args.h"

/* The probe key of the keyring the agents derive from the same secret
 * file (--cluster-secret-file): its primary, and that key's id. */
static int load_key(const struct xg_probe_args *a, uint8_t key[16],
		    uint8_t *key_id)
{
	struct xg_keyring kr;
	uint8_t *secret = NULL;
	size_t len = 0;
	int err;

	err = xg_secret_read(a->secret_file, &secret, &len);
	if (err) {
		fprintf(stderr, "xgossip-probe: %s: %s\n", a->secret_file,
			err == -EINVAL ? "secret shorter than 16 bytes" :
					 strerror(-err));
		return err;
	}
	err = xg_keyring_from_secret(&kr, secret, len);
	memset(secret, 0, len);
	free(secret);
	if (err) {
		fprintf(stderr, "xgossip-probe: deriving keys: %s\n", strerror(-err));
		return err;
	}
	memcpy(key, xg_keyring_primary(&kr)->probe, 16);
	*key_id = xg_keyring_primary(&kr)->id;
	xg_keyring_wipe(&kr);
	return 0;
}

int main(int argc, char **argv)
{
	struct xg_probe_args a;
	struct probe_setup s;
	struct probe_result *r;
	struct xg_rng rng;
	char err[256];
	int rc;

	if (xg_probe_args_parse(argc, argv, &a, err, sizeof(err))) {
		fprintf(stderr, "xgossip-probe: %s (see --help)\n", err);
		return XG_PROBE_EXIT_USAGE;
	}
	if (a.help) {
		fputs(xg_probe_usage, stdout);
		return XG_PROBE_EXIT_OK;
	}
	memset(&s, 0, sizeof(s));
	s.args = &a;
	s.cluster_id = xg_cluster_id(a.cluster);
	if (load_key(&a, s.key, &s.key_id))
		return XG_PROBE_EXIT_FAIL;
	s.sender_id = a.sender_id;
	if (!s.sender_id) {
		if (xg_rng_seed(&rng)) {
			fprintf(stderr, "xgossip-probe: no randomness for a sender id\n");
			return XG_PROBE_EXIT_FAIL;
		}
		do
			s.sender_id = xg_rng_next(&rng);
		while (!s.sender_id);
	}

	/* The histogram is large; keep it off the stack. */
	r = malloc(sizeof(*r));
	if (!r) {
		fprintf(stderr, "xgossip-probe: out of memory\n");
		return XG_PROBE_EXIT_FAIL;
	}
	rc = probe_run(&s, r);
	memset(s.key, 0, sizeof(s.key));
	if (rc) {
		fprintf(stderr, "xgossip-probe: %s\n", strerror(-rc));
		free(r);
		return XG_PROBE_EXIT_FAIL;
	}
	if (a.json)
		rc = report_json(stdout, &a, r);
	else
		report_text(stdout, &a, r);
	if (rc)
		fprintf(stderr, "xgossip-probe: cannot format the result\n");
	else if (!r->answered)
		fprintf(stderr, "xgossip-probe: no PING was answered\n");
	rc = rc || !r->answered ? XG_PROBE_EXIT_FAIL : XG_PROBE_EXIT_OK;
	free(r);
	return rc;
}
