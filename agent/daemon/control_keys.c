/* SPDX-License-Identifier: MIT */
/*
 * The "keys" control command (docs/CONTROL.md): a keyring change or query
 * for the whole cluster.  The agent applies it, asks every live member
 * (agent_keyfan.c), and this file turns the per-node results into the one
 * reply, which comes when the last member has answered or timed out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>

#include "daemon/agent_int.h"
#include "daemon/agent_keys.h"
#include "daemon/control_int.h"
#include "daemon/control_render.h"
#include "util/keyring.h"

struct ctl_keys {
	struct ctl_client *client; /* NULL once the client went away */
};

void ctl_orphan_keys(struct ctl_client *c)
{
	if (c->keys) {
		c->keys->client = NULL;
		c->keys = NULL;
	}
}

static const char *result_error(int err)
{
	switch (err) {
	case -ENOENT:     return "key not installed";
	case -EBUSY:      return "key is the primary";
	case -ENOSPC:     return "keyring full";
	case -EADDRINUSE: return "key id clashes with an installed key";
	case -ENOKEY:
	case -EACCES:     return "authentication failed (keys out of step?)";
	case -EPERM:      return "certificate does not match the node name";
	}
	return xg_pp_strerror(err);
}

/* One entry per distinct key: on how many nodes installed, primary. */
static json_object *key_table(const struct xg_keys_report *rep, int *err)
{
	json_object *arr = json_object_new_array();
	uint8_t seen[XG_KEYRING_MAX * 8][XG_KEY_LEN];
	size_t nseen = 0, i, j, k;

	if (!arr) {
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < rep->n; i++) {
		const struct xg_keys_result *r = &rep->r[i];

		for (k = 0; !r->err && k < r->count; k++) {
			unsigned installed = 0, primary = 0;
			char b64[XG_KEY_B64_LEN + 1];
			json_object *o;

			for (j = 0; j < nseen; j++)
				if (!memcmp(seen[j], r->keys[k], XG_KEY_LEN))
					break;
			if (j < nseen || nseen == sizeof(seen) / sizeof(seen[0]))
				continue;
			memcpy(seen[nseen++], r->keys[k], XG_KEY_LEN);
			for (j = 0; j < rep->n; j++) {
				const struct xg_keys_result *o2 = &rep->r[j];
				unsigned q;

				for (q = 0; !o2->err && q < o2->count; q++)
					if (!memcmp(o2->keys[q], r->keys[k],
						    XG_KEY_LEN)) {
						installed++;
						primary += q == o2->primary;
					}
			}
			xg_key_format_b64(r->keys[k], b64);
			o = json_object_new_object();
			if (o) {
				xg_ctl_put(o, "key", json_object_new_string(b64), err);
				xg_ctl_put(o, "installed",
					   json_object_new_int((int)installed), err);
				xg_ctl_put(o, "primary",
					   json_object_new_int((int)primary), err);
			}
			OPENSSL_cleanse(b64, sizeof(b64));
			if (!o || json_object_array_add(arr, o) < 0) {
				json_object_put(o);
				*err = -ENOMEM;
			}
		}
	}
	OPENSSL_cleanse(seen, sizeof(seen));
	return arr;
}

static json_object *build_reply(const struct xg_keys_report *rep, int *err)
{
	json_object *o = json_object_new_object(), *results;
	size_t i, failed = 0;

	results = json_object_new_array();
	if (!o || !results) {
		json_object_put(o);
		json_object_put(results);
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < rep->n; i++) {
		const struct xg_keys_result *r = &rep->r[i];
		json_object *e = json_object_new_object();

		failed += r->err != 0;
		if (e) {
			xg_ctl_put(e, "node", json_object_new_string(r->node), err);
			xg_ctl_put(e, "ok", json_object_new_boolean(!r->err), err);
			if (r->err)
				xg_ctl_put(e, "error", json_object_new_string(
						   result_error(r->err)), err);
		}
		if (!e || json_object_array_add(results, e) < 0) {
			json_object_put(e);
			*err = -ENOMEM;
		}
	}
	xg_ctl_put(o, "ok", json_object_new_boolean(1), err);
	xg_ctl_put(o, "op", json_object_new_string(xg_key_op_name(rep->op)),
		   err);
	xg_ctl_put(o, "nodes", json_object_new_int((int)rep->n), err);
	xg_ctl_put(o, "failed", json_object_new_int((int)failed), err);
	xg_ctl_put(o, "results", results, err);
	if (rep->op == XG_KEY_LIST)
		xg_ctl_put(o, "keys", key_table(rep, err), err);
	return o;
}

static void keys_done(void *ctx, const struct xg_keys_report *rep)
{
	struct ctl_keys *k = ctx;
	struct ctl_client *c = k->client;
	struct xg_control *ctl;
	json_object *reply;
	int err = 0;

	free(k);
	if (!c)
		return; /* the client hung up while the members answered */
	c->keys = NULL;
	ctl = c->ctl;
	ctl_enter(ctl);
	reply = build_reply(rep, &err);
	if (!reply || err)
		ctl_send_error(c, "out of memory");
	else
		ctl_send_json(c, reply);
	json_object_put(reply);
	ctl_resume(c);
	ctl_leave(ctl);
}

void ctl_cmd_keys(struct ctl_client *c, json_object *req)
{
	uint8_t key[XG_KEY_LEN] = { 0 };
	json_object *jop = NULL, *jkey = NULL;
	enum xg_key_op op;
	struct ctl_keys *k;
	int err;

	if (!json_object_object_get_ex(req, "op", &jop) ||
	    !json_object_is_type(jop, json_type_string) ||
	    xg_key_op_parse(json_object_get_string(jop), &op)) {
		ctl_send_error(c, "\"op\" must be list, install, use or remove");
		return;
	}
	if (op != XG_KEY_LIST &&
	    (!json_object_object_get_ex(req, "key", &jkey) ||
	     !json_object_is_type(jkey, json_type_string) ||
	     xg_key_parse_b64(json_object_get_string(jkey), key))) {
		ctl_send_error(c, "\"key\" must be a base64 32-byte key");
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		ctl_send_error(c, "out of memory");
		return;
	}
	k->client = c;
	c->keys = k;
	err = xg_agent_keys_cluster(c->ctl->agent, op, key, keys_done, k);
	OPENSSL_cleanse(key, sizeof(key));
	if (!err)
		return; /* keys_done() answers, maybe already has */
	c->keys = NULL;
	free(k);
	ctl_send_error(c, "%s", result_error(err));
}
