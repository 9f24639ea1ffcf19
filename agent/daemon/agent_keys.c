/* SPDX-License-Identifier: MIT */
#include "daemon/agent_keys.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/mem.h>

#include <xgossip/wire.h>

#include "daemon/agent_int.h"
#include "daemon/agent_msg.h"
#include "util/aead.h"
#include "util/keys.h"
#include "util/log.h"

static int ring_path(const struct xg_agent *a, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s/%s", a->sd.path, XG_KEYRING_FILE);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int from_secret_file(struct xg_agent *a, const char *path)
{
	uint8_t *secret = NULL;
	size_t len = 0;
	int err;

	err = xg_secret_read(path, &secret, &len);
	if (err) {
		xg_error("--cluster-secret-file %s: %s", path,
			 err == -EINVAL ? "the secret is shorter than 16 bytes" :
			 strerror(-err));
		return err;
	}
	err = xg_keyring_from_secret(&a->keyring, secret, len);
	OPENSSL_cleanse(secret, len);
	free(secret);
	return err;
}

static void warn_insecure(void)
{
	xg_warn("INSECURE: --insecure-dev: the cluster key is the public "
		"development key and streams are not encrypted");
	xg_warn("INSECURE: anyone who can reach this node can read and forge "
		"its gossip; never run a production cluster like this");
}

/* Where the keys come from at start, most specific first. */
static int load_initial(struct xg_agent *a, const char *saved)
{
	const struct xg_agent_config *cfg = a->cfg;
	int err;

	err = xg_keyring_load(&a->keyring, saved);
	if (err == 0) {
		xg_info("keys: %u key(s) from %s", a->keyring.n, saved);
		return 0;
	}
	if (err != -ENOENT) {
		xg_error("keys: %s: %s (remove it to start again from the "
			 "configured keys)", saved, strerror(-err));
		return err;
	}
	if (cfg->keyring_file) {
		err = xg_keyring_load(&a->keyring, cfg->keyring_file);
		if (err)
			xg_error("--keyring-file %s: %s", cfg->keyring_file,
				 err == -EBADMSG ? "not a JSON array of base64 "
				 "32-byte keys" : strerror(-err));
		return err;
	}
	if (cfg->secret_file)
		return from_secret_file(a, cfg->secret_file);
	if (cfg->insecure_dev) {
		warn_insecure();
		return xg_keyring_from_secret(&a->keyring, xg_dev_secret,
					      strlen(xg_dev_secret));
	}
	xg_error("no cluster keys: give --keyring-file or "
		 "--cluster-secret-file (or --insecure-dev for a throwaway "
		 "test cluster)");
	return -ENOKEY;
}

int xg_agent_keys_setup(struct xg_agent *a)
{
	char path[PATH_MAX];
	int err;

	xg_keyring_init(&a->keyring);
	err = ring_path(a, path, sizeof(path));
	if (!err)
		err = load_initial(a, path);
	if (err)
		return err;
	/* From now on the state dir's copy is the keyring: changes made
	 * with `xgossipctl keys` survive a restart. */
	err = xg_keyring_save(&a->keyring, path);
	if (err)
		xg_error("keys: cannot save %s: %s", path, strerror(-err));
	return err;
}

/* keys[0] the primary, then the others in ring order. */
static size_t core_keys(const struct xg_keyring *kr, struct xg_core_key *out)
{
	const struct xg_ring_key *p = xg_keyring_primary(kr);
	size_t n = 0;
	unsigned i;

	if (!p)
		return 0;
	out[n].id = p->id;
	memcpy(out[n].probe, p->probe, sizeof(out[n].probe));
	memcpy(out[n].mac, p->state_mac, sizeof(out[n].mac));
	n++;
	for (i = 0; i < kr->n && n < XG_CORE_MAX_KEYS; i++) {
		const struct xg_ring_key *k = &kr->keys[i];

		if (k == p)
			continue;
		out[n].id = k->id;
		memcpy(out[n].probe, k->probe, sizeof(out[n].probe));
		memcpy(out[n].mac, k->state_mac, sizeof(out[n].mac));
		n++;
	}
	return n;
}

int xg_agent_keys_apply(struct xg_agent *a)
{
	struct xg_core_key keys[XG_CORE_MAX_KEYS];
	const struct xg_ring_key *p = xg_keyring_primary(&a->keyring);
	const struct xg_ring_key *s = xg_keyring_secondary(&a->keyring);
	size_t n = core_keys(&a->keyring, keys);
	int err = n ? 0 : -ENOKEY;

	if (!err && a->core)
		err = xg_core_set_keys(a->core, keys, n);
	OPENSSL_cleanse(keys, sizeof(keys));
	if (!err && a->xdp.x)
		err = xg_xdp_set_keys(a->xdp.x, p->probe, p->id,
				      s ? s->probe : NULL, s ? s->id : 0);
	if (!err)
		err = xg_agent_msg_keys(a);
	return err;
}

int xg_agent_keys_change(struct xg_agent *a, enum xg_key_op op,
			 const uint8_t key[XG_KEY_LEN])
{
	struct xg_keyring next = a->keyring;
	char path[PATH_MAX];
	int err;

	switch (op) {
	case XG_KEY_INSTALL:
		err = xg_keyring_install(&next, key);
		break;
	case XG_KEY_USE:
		err = xg_keyring_use(&next, key);
		break;
	case XG_KEY_REMOVE:
		err = xg_keyring_remove(&next, key);
		break;
	default:
		err = 0;
		break;
	}
	/* Saved before it is used: a crash right after a change must not
	 * bring the agent back with keys the cluster has moved away from. */
	if (!err && op != XG_KEY_LIST) {
		err = ring_path(a, path, sizeof(path));
		if (!err)
			err = xg_keyring_save(&next, path);
		if (!err) {
			xg_keyring_wipe(&a->keyring);
			a->keyring = next;
			err = xg_agent_keys_apply(a);
		}
	}
	xg_keyring_wipe(&next);
	return err;
}

const char *xg_key_op_name(enum xg_key_op op)
{
	switch (op) {
	case XG_KEY_LIST:    return "list";
	case XG_KEY_INSTALL: return "install";
	case XG_KEY_USE:     return "use";
	case XG_KEY_REMOVE:  return "remove";
	}
	return "?";
}

int xg_key_op_parse(const char *s, enum xg_key_op *op)
{
	static const enum xg_key_op all[] = { XG_KEY_LIST, XG_KEY_INSTALL,
					      XG_KEY_USE, XG_KEY_REMOVE };
	size_t i;

	for (i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, xg_key_op_name(all[i])) == 0) {
			*op = all[i];
			return 0;
		}
	return -EINVAL;
}

/* ---- sealing ------------------------------------------------------------ */

bool xg_wire_is_probe(uint8_t type)
{
	return type == XG_T_PING || type == XG_T_ACK ||
	       type == XG_T_PING_REQ || type == XG_T_NACK;
}

ssize_t xg_agent_seal(const struct xg_agent *a, const void *pkt, size_t len,
		      uint8_t *out, size_t cap)
{
	const struct xg_ring_key *k = xg_keyring_primary(&a->keyring);
	const uint8_t *p = pkt;
	size_t ad;

	if (!k)
		return -ENOKEY;
	if (len < sizeof(struct xg_hdr))
		return -EINVAL;
	ad = xg_aead_prefix_len(p[offsetof(struct xg_hdr, type)]);
	if (len < ad || len > cap)
		return -EINVAL;
	memcpy(out, pkt, len);
	return xg_aead_seal(k, out, ad, len - ad, cap);
}

ssize_t xg_agent_open(const struct xg_agent *a, const void *pkt, size_t len,
		      uint8_t *out, size_t cap)
{
	size_t ad, inner;
	ssize_t n;

	if (len < sizeof(struct xg_hdr) || len > cap)
		return -EBADMSG;
	memcpy(out, pkt, len);
	ad = xg_aead_prefix_len(out[offsetof(struct xg_hdr, type)]);
	n = xg_aead_open(&a->keyring, out, len, ad, NULL);
	if (n < 0)
		return n;
	/* The inner packet's own header says its own length (the sealed
	 * one said the sealed length): put it back for the decoder. */
	inner = ad + (size_t)n;
	out[offsetof(struct xg_hdr, len)] = (uint8_t)(inner >> 8);
	out[offsetof(struct xg_hdr, len) + 1] = (uint8_t)inner;
	return (ssize_t)inner;
}
