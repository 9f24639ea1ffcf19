/* SPDX-License-Identifier: MIT */
#include "cmd_tls.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "util/certs.h"

const char ctl_tls_page[] =
"NAME\n"
"    xgossipctl tls init - make the cluster CA and node certificates\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl tls init [--dir DIR] [--days N] NAME...\n"
"\n"
"DESCRIPTION\n"
"    Writes what TLS between xgossip agents needs (push/pull, large\n"
"    messages), for a cluster without a PKI of its own.  Runs locally;\n"
"    no agent is contacted.\n"
"    In DIR: a CA, ca.pem and ca-key.pem (EC P-256, valid 10 years),\n"
"    made only if DIR has none (an existing CA is reused, so nodes can\n"
"    be added later); and for each NAME a key and a certificate signed\n"
"    by the CA, NAME-key.pem and NAME.pem, for the name NAME (and, when\n"
"    NAME is an IPv4 address, that address), usable as TLS client and\n"
"    server.  Existing files of a NAME are replaced.  Keys are written\n"
"    with mode 0600, DIR is created with mode 0700.\n"
"    A NAME has 1 to 63 letters, digits, '.', '_' or '-'; \"ca\" and\n"
"    names ending in \"-key\" are reserved.\n"
"    Give every node ca.pem and its own NAME.pem and NAME-key.pem; keep\n"
"    ca-key.pem off the nodes (only tls init needs it, to add nodes).\n"
"    Lists the files written (and the CA reused), one per line.  Exit\n"
"    status 1 if a file cannot be written or DIR holds an unusable CA\n"
"    (half of one, or a key that does not match); files listed before\n"
"    the failure were written.\n"
"\n"
"OPTIONS\n"
"    --dir DIR\n"
"        Where the files go.  Default: " CTL_TLS_DEFAULT_DIR ".\n"
"\n"
"    --days N\n"
"        How long the node certificates are valid, 1 to 36500 days.\n"
"        Default: 825.\n"
"\n";

const char ctl_tls_examples[] =
"EXAMPLES\n"
"    xgossipctl tls init node1 node2 node3\n"
"    xgossipctl tls init --dir /etc/xgossip/tls --days 365 198.18.0.4\n"
"    xgossipctl tls init -o json node4 | jq -r '.files[].path'\n";

static int parse_days(const char *s, unsigned *out)
{
	unsigned long v = 0;
	const char *p;

	if (!*s)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > XG_CERTS_DAYS_MAX)
			return -EINVAL;
	}
	if (v < 1)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

int ctl_tls_check(struct ctl_opts *o, const char *dir, const char *days,
		  char *err, size_t errlen)
{
	size_t i, j;
	int e;

	if (o->cmd != CTL_CMD_TLS_INIT) {
		if (dir)
			return ctl_usage(err, errlen, "--dir is an option of tls "
				     "init");
		if (days)
			return ctl_usage(err, errlen, "--days is an option of tls "
				     "init");
		return 0;
	}
	o->tls_dir = dir ? dir : CTL_TLS_DEFAULT_DIR;
	o->tls_days = CTL_TLS_DEFAULT_DAYS;
	if (!*o->tls_dir)
		return ctl_usage(err, errlen, "--dir is empty");
	if (days && parse_days(days, &o->tls_days))
		return ctl_usage(err, errlen, "--days wants a whole number of days "
			     "from 1 to %d, not \"%s\"", XG_CERTS_DAYS_MAX,
			     days);
	if (!o->nargs)
		return ctl_usage(err, errlen, "tls init needs at least one NAME");
	for (i = 0; i < o->nargs; i++) {
		e = xg_certs_name_check(o->args[i], err, errlen);
		if (e)
			return e;
		for (j = 0; j < i; j++)
			if (strcmp(o->args[i], o->args[j]) == 0)
				return ctl_usage(err, errlen, "name \"%s\" given "
					     "twice", o->args[i]);
	}
	return 0;
}

struct listing {
	FILE        *out;
	json_object *files; /* with -o json, else NULL */
	int          err;   /* -ENOMEM once the JSON could not grow */
};

static void list_file(void *ctx, const char *dir, const char *file,
		      bool created)
{
	struct listing *l = ctx;
	json_object *f, *p;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	if (!l->files) {
		fprintf(l->out, "%-8s %s\n", created ? "created" : "reused",
			path);
		return;
	}
	f = json_object_new_object();
	p = json_object_new_string(path);
	if (!f || !p || json_object_object_add(f, "path", p) < 0) {
		json_object_put(p);
		goto oom;
	}
	if (json_object_object_add(f, "created",
				   json_object_new_boolean(created)) < 0 ||
	    json_object_array_add(l->files, f) < 0)
		goto oom;
	return;
oom:
	json_object_put(f);
	l->err = -ENOMEM;
}

static int print_json(FILE *out, const struct ctl_opts *o, json_object *files)
{
	json_object *r = json_object_new_object();
	int e = 0;

	if (!r ||
	    json_object_object_add(r, "dir",
				   json_object_new_string(o->tls_dir)) < 0 ||
	    json_object_object_add(r, "days",
				   json_object_new_int((int)o->tls_days)) < 0 ||
	    json_object_object_add(r, "files", json_object_get(files)) < 0)
		e = -ENOMEM;
	else
		fprintf(out, "%s\n", json_object_to_json_string_ext(r,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(r);
	return e;
}

int ctl_tls_init(const struct ctl_opts *o, FILE *out, FILE *err)
{
	struct listing l = { out, NULL, 0 };
	char msg[512];
	int e;

	if (o->output == CTL_OUT_JSON) {
		l.files = json_object_new_array();
		if (!l.files) {
			fprintf(err, "xgossipctl: tls init: out of memory\n");
			return CTL_EXIT_FAILED;
		}
	}
	e = xg_certs_init_ex(o->tls_dir, o->args, o->nargs, o->tls_days,
			     list_file, &l, msg, sizeof(msg));
	if (!e && !l.err && l.files)
		l.err = print_json(out, o, l.files);
	json_object_put(l.files);
	if (e) {
		fprintf(err, "xgossipctl: tls init: %s\n",
			msg[0] ? msg : strerror(-e));
		return CTL_EXIT_FAILED;
	}
	if (l.err) {
		fprintf(err, "xgossipctl: tls init: the files were written but "
			"the listing ran out of memory\n");
		return CTL_EXIT_FAILED;
	}
	return CTL_EXIT_OK;
}
