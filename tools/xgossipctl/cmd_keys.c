/* SPDX-License-Identifier: MIT */
#include "cmd_keys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/mem.h>

#include "table.h"
#include "util/keyring.h"

const char ctl_keys_page[] =
"NAME\n"
"    xgossipctl keys - rotate the cluster's gossip encryption keys\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl keys generate\n"
"    xgossipctl keys list\n"
"    xgossipctl keys install KEY\n"
"    xgossipctl keys use KEY\n"
"    xgossipctl keys remove KEY\n"
"\n"
"DESCRIPTION\n"
"    UDP gossip and probes are authenticated (and gossip encrypted) with\n"
"    the cluster keyring: every node holds up to 16 keys, accepts all of\n"
"    them, and sends with one, its primary.  A KEY is 32 random bytes in\n"
"    base64 (44 characters).\n"
"    generate prints a new random key; it runs locally, no agent is\n"
"    contacted.\n"
"    list asks every live member for its keyring and prints each key\n"
"    seen, on how many nodes it is primary and on how many installed.\n"
"    Counts are out of all the nodes asked (this one included): a node\n"
"    that did not answer counts as not having the key.\n"
"    install adds KEY to every live member's keyring (the first key of\n"
"    an empty ring becomes primary), use makes KEY the primary\n"
"    everywhere, remove takes it out everywhere.  The agent applies the\n"
"    change to its own keyring first: if that refuses (unknown key,\n"
"    removing the primary, ring full) nothing is sent.  It then asks\n"
"    every live member over TLS and prints on how many nodes the change\n"
"    was applied, and why each of the others failed.\n"
"    A rotation is install, use, remove, with keys list in between:\n"
"    every node must have the new key installed before it is used, and\n"
"    every node must send with it before the old one is removed.\n"
"    Exit status 1 also when some node failed or did not answer: the\n"
"    change then holds on the other nodes only.\n"
"    These commands wait for the slowest member: --timeout defaults to\n"
"    20s for them.  KEY is visible to local users in the process list\n"
"    while the command runs.\n"
"\n";

const char ctl_keys_examples[] =
"EXAMPLES\n"
"    NEW=$(xgossipctl keys generate)\n"
"    xgossipctl keys install \"$NEW\"\n"
"    xgossipctl keys list        # NEW installed on N/N nodes?\n"
"    xgossipctl keys use \"$NEW\"\n"
"    xgossipctl keys list        # NEW primary on N/N nodes?\n"
"    xgossipctl keys remove OLDKEY\n"
"    xgossipctl keys list -o json | jq -r '.keys[].key'\n";

bool ctl_keys_asks_agent(enum ctl_cmd c)
{
	return c == CTL_CMD_KEYS_LIST || c == CTL_CMD_KEYS_INSTALL ||
	       c == CTL_CMD_KEYS_USE || c == CTL_CMD_KEYS_REMOVE;
}

static bool takes_key(enum ctl_cmd c)
{
	return c == CTL_CMD_KEYS_INSTALL || c == CTL_CMD_KEYS_USE ||
	       c == CTL_CMD_KEYS_REMOVE;
}

/* The "op" of the request: the subcommand's own name. */
static const char *op_name(enum ctl_cmd c)
{
	switch (c) {
	case CTL_CMD_KEYS_LIST:    return "list";
	case CTL_CMD_KEYS_INSTALL: return "install";
	case CTL_CMD_KEYS_USE:     return "use";
	case CTL_CMD_KEYS_REMOVE:  return "remove";
	default:                   return "generate";
	}
}

int ctl_keys_check(struct ctl_opts *o, bool timeout_given, char *err,
		   size_t errlen)
{
	uint8_t key[XG_KEY_LEN];
	int e;

	if (o->cmd != CTL_CMD_KEYS_GENERATE && !ctl_keys_asks_agent(o->cmd))
		return 0;
	if (!timeout_given && ctl_keys_asks_agent(o->cmd))
		o->timeout_ns = CTL_KEYS_DEFAULT_TIMEOUT_NS;
	if (!takes_key(o->cmd)) {
		if (o->nargs)
			return ctl_usage(err, errlen, "%s takes no arguments "
				     "(got \"%s\")", ctl_cmd_name(o->cmd),
				     o->args[0]);
		return 0;
	}
	if (o->nargs != 1)
		return ctl_usage(err, errlen, "%s needs exactly one KEY (got %zu)",
			     ctl_cmd_name(o->cmd), o->nargs);
	/* Never echo the argument: a slightly mistyped key is still
	 * nearly all of a secret. */
	e = xg_key_parse_b64(o->args[0], key);
	if (e)
		return ctl_usage(err, errlen, "%s: invalid KEY: want 32 bytes in "
			     "standard base64 (44 characters, as printed by "
			     "keys generate)", ctl_cmd_name(o->cmd));
	/* Canonical form, so the agent sees exactly what keys list prints. */
	xg_key_format_b64(key, o->key);
	OPENSSL_cleanse(key, sizeof(key));
	return 0;
}

static void put(json_object *o, const char *k, json_object *v, int *err)
{
	if (!v || json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		*err = -ENOMEM;
	}
}

int ctl_keys_request(const struct ctl_opts *o, json_object *req)
{
	int err = 0;

	put(req, "op", json_object_new_string(op_name(o->cmd)), &err);
	if (takes_key(o->cmd))
		put(req, "key", json_object_new_string(o->key), &err);
	return err;
}

static int print_key_json(FILE *out, const char *b64)
{
	json_object *r = json_object_new_object();
	int e = 0;

	put(r, "key", json_object_new_string(b64), &e);
	if (r && !e)
		fprintf(out, "%s\n", json_object_to_json_string_ext(r,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	/* json-c keeps its own copy of the string: not wiped, but it only
	 * lives as long as the printout. */
	json_object_put(r);
	return r ? e : -ENOMEM;
}

int ctl_keys_generate(const struct ctl_opts *o, FILE *out, FILE *err)
{
	uint8_t key[XG_KEY_LEN];
	char b64[XG_KEY_B64_LEN + 1];
	int e;

	e = xg_key_generate(key);
	if (e) {
		fprintf(err, "xgossipctl: keys generate: no random bytes from "
			"the system\n");
		return CTL_EXIT_FAILED;
	}
	xg_key_format_b64(key, b64);
	OPENSSL_cleanse(key, sizeof(key));
	if (o->output == CTL_OUT_JSON)
		e = print_key_json(out, b64);
	else
		fprintf(out, "%s\n", b64);
	OPENSSL_cleanse(b64, sizeof(b64));
	if (e) {
		fprintf(err, "xgossipctl: keys generate: out of memory\n");
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}

/* --- the agent's reply ------------------------------------------------- */

struct keys_reply {
	int64_t      nodes;    /* asked, the agent included */
	int64_t      failed;   /* did not apply / did not answer */
	size_t       refusals; /* entries of results with ok other than true */
	json_object *results;  /* array, may be NULL */
	json_object *keys;     /* array; list only */
};

static json_object *field(json_object *o, const char *k, json_type t)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v) || !json_object_is_type(v, t))
		return NULL;
	return v;
}

static bool count_field(json_object *o, const char *k, int64_t *out)
{
	json_object *v = field(o, k, json_type_int);

	if (!v)
		return false;
	*out = json_object_get_int64(v);
	return *out >= 0;
}

static bool result_ok(json_object *r)
{
	json_object *ok = field(r, "ok", json_type_boolean);

	return ok && json_object_get_boolean(ok);
}

/* Check the fields the output relies on.  NULL or what is wrong. */
static const char *read_reply(json_object *reply, enum ctl_cmd cmd,
			      struct keys_reply *k)
{
	json_object *v;
	size_t i, n;

	memset(k, 0, sizeof(*k));
	if (!count_field(reply, "nodes", &k->nodes) || k->nodes < 1)
		return "no node count";
	if (!count_field(reply, "failed", &k->failed) || k->failed > k->nodes)
		return "no valid count of failed nodes";
	if (json_object_object_get_ex(reply, "results", &v)) {
		if (!json_object_is_type(v, json_type_array))
			return "results is not a list";
		k->results = v;
	}
	n = k->results ? json_object_array_length(k->results) : 0;
	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(k->results, i);

		if (!json_object_is_type(r, json_type_object))
			return "a result is not an object";
		k->refusals += !result_ok(r);
	}
	if (cmd != CTL_CMD_KEYS_LIST)
		return NULL;
	k->keys = field(reply, "keys", json_type_array);
	if (!k->keys)
		return "no list of keys";
	n = json_object_array_length(k->keys);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(k->keys, i);
		int64_t c;

		if (!field(e, "key", json_type_string) ||
		    !count_field(e, "installed", &c) || c > k->nodes ||
		    !count_field(e, "primary", &c) || c > k->nodes)
			return "a key entry lacks key, installed or primary";
	}
	return NULL;
}

static const char *str_or(json_object *o, const char *k, const char *dflt)
{
	json_object *v = field(o, k, json_type_string);

	return v ? json_object_get_string(v) : dflt;
}

/* "  n3: timed out" for every node that did not apply or answer. */
static void print_failures(FILE *out, const struct keys_reply *k)
{
	size_t i, n = k->results ? json_object_array_length(k->results) : 0;

	for (i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(k->results, i);

		if (!result_ok(r))
			fprintf(out, "  %s: %s\n", str_or(r, "node", "?"),
				str_or(r, "error", "failed"));
	}
}

static void pad(FILE *out, const char *s, size_t width)
{
	size_t w = ctl_text_width(s);

	fputs(s, out);
	for (; w < width; w++)
		fputc(' ', out);
}

/* "2/3": count of e's field k out of all nodes asked. */
static void count_cell(char *buf, size_t len, json_object *e, const char *k,
		       int64_t nodes)
{
	snprintf(buf, len, "%" PRId64 "/%" PRId64,
		 json_object_get_int64(field(e, k, json_type_int)), nodes);
}

/* KEY  PRIMARY  INSTALLED, counts out of all nodes asked rather than out
 * of those that answered: a key is safe to use (or its predecessor to
 * remove) only at N/N, and a node that did not answer must not make it
 * look so. */
static void print_key_table(FILE *out, const struct keys_reply *k)
{
	size_t i, n = json_object_array_length(k->keys);
	size_t wkey = strlen("KEY"), wpri = strlen("PRIMARY");
	char pri[48], ins[48];

	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(k->keys, i);
		size_t w = ctl_text_width(str_or(e, "key", ""));

		if (w > wkey)
			wkey = w;
		count_cell(pri, sizeof(pri), e, "primary", k->nodes);
		if (strlen(pri) > wpri)
			wpri = strlen(pri);
	}
	pad(out, "KEY", wkey);
	fputs("  ", out);
	pad(out, "PRIMARY", wpri);
	fputs("  INSTALLED\n", out);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(k->keys, i);

		count_cell(pri, sizeof(pri), e, "primary", k->nodes);
		count_cell(ins, sizeof(ins), e, "installed", k->nodes);
		pad(out, str_or(e, "key", ""), wkey);
		fputs("  ", out);
		pad(out, pri, wpri);
		fprintf(out, "  %s\n", ins);
	}
}

static const char *nodes_word(int64_t n)
{
	return n == 1 ? "node" : "nodes";
}

int ctl_keys_reply(const struct ctl_opts *o, json_object *reply, FILE *out,
		   FILE *err)
{
	const char *name = ctl_cmd_name(o->cmd), *bad;
	struct keys_reply k;
	bool list = o->cmd == CTL_CMD_KEYS_LIST;
	int64_t failed;

	bad = read_reply(reply, o->cmd, &k);
	if (bad) {
		fprintf(err, "xgossipctl: %s: the agent's reply is not as "
			"expected (%s)\n", name, bad);
		return CTL_EXIT_FAILED;
	}
	/* Trust whichever says more failed: a node listed as failed is
	 * failed even if the count disagrees. */
	failed = k.failed > (int64_t)k.refusals ? k.failed
						: (int64_t)k.refusals;
	if (failed > k.nodes)
		failed = k.nodes;
	if (o->output == CTL_OUT_TABLE) {
		if (list)
			print_key_table(out, &k);
		if (list && failed)
			fprintf(out, "list: answered by %" PRId64 " of %"
				PRId64 " %s\n", k.nodes - failed, k.nodes,
				nodes_word(k.nodes));
		else if (!list)
			fprintf(out, "%s: applied on %" PRId64 " of %" PRId64
				" %s\n", op_name(o->cmd), k.nodes - failed,
				k.nodes, nodes_word(k.nodes));
		print_failures(out, &k);
	} else if (failed) {
		/* The JSON on stdout says which; this says why the exit
		 * status is 1 to whoever reads the log. */
		fprintf(err, "xgossipctl: %s: %s %" PRId64 " of %" PRId64
			" %s\n", name, list ? "no answer from" : "failed on",
			failed, k.nodes, nodes_word(k.nodes));
	}
	return failed ? CTL_EXIT_FAILED : CTL_EXIT_OK;
}
