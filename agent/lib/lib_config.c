/* SPDX-License-Identifier: MIT */
/*
 * The library's configuration: xgossipd's options, recorded as given and
 * handed to xgossipd's own parser (daemon/flags.c) as an argument vector,
 * so that the library has every option of the daemon, with the same
 * meaning and the same error messages, and no second list to keep in
 * step with it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/flags.h"
#include "lib/lib_int.h"

struct xgossip_config *xgossip_config_new(void)
{
	return calloc(1, sizeof(struct xgossip_config));
}

void xgossip_config_free(struct xgossip_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->n; i++) {
		free(cfg->opt[i]);
		free(cfg->val[i]);
	}
	free(cfg->opt);
	free(cfg->val);
	free(cfg);
}

void lib_errbuf(char *errbuf, size_t errlen, const char *text)
{
	if (errbuf && errlen > 0)
		snprintf(errbuf, errlen, "%s", text);
}

/* What could be a long option's name: a lower-case letter, then letters,
 * digits and dashes.  Anything else (an '=' above all, which getopt would
 * split) cannot name an option and would confuse the parser's messages. */
static bool option_spelling(const char *s)
{
	size_t i;

	if (!(s[0] >= 'a' && s[0] <= 'z'))
		return false;
	for (i = 1; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return i < 64;
}

/* Run the parser on "--option" alone.  XG_FLAGS_RUN means the option is
 * complete without a value: a flag such as --insecure-dev (no lone option
 * breaks the rules between options).  A lone option that wants a value,
 * or an unknown one, is XG_FLAGS_BAD; --help and --version EXIT. */
static int probe_alone(const char *opt, enum xg_flags_result *res)
{
	struct xg_agent_config c;
	char dashed[72], *argv[3], *text = NULL;
	size_t len = 0;
	FILE *sink;

	snprintf(dashed, sizeof(dashed), "--%s", opt);
	argv[0] = (char *)"xgossipd";
	argv[1] = dashed;
	argv[2] = NULL;
	sink = open_memstream(&text, &len);
	if (!sink)
		return -ENOMEM;
	xg_agent_config_init(&c);
	*res = xg_flags_parse(2, argv, &c, sink, sink);
	xg_agent_config_free(&c);
	fclose(sink);
	free(text);
	return 0;
}

static int grow(struct xgossip_config *cfg)
{
	size_t cap = cfg->cap ? 2 * cfg->cap : 8;
	char **o, **v;

	o = realloc(cfg->opt, cap * sizeof(*o));
	if (!o)
		return -ENOMEM;
	cfg->opt = o;
	v = realloc(cfg->val, cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	cfg->val = v;
	cfg->cap = cap;
	return 0;
}

int xgossip_config_set(struct xgossip_config *cfg, const char *option,
		       const char *value)
{
	enum xg_flags_result alone;
	char *o, *v = NULL;
	int err;

	if (!cfg || !option)
		return -EINVAL;
	if (strncmp(option, "--", 2) == 0)
		option += 2;
	if (!option_spelling(option))
		return -EINVAL;
	err = probe_alone(option, &alone);
	if (err)
		return err;
	/* The library has no standard output to print to. */
	if (alone == XG_FLAGS_EXIT)
		return -EINVAL;
	/* A value for a flag that takes none would reach the parser as a
	 * stray argument; refuse it here, where the caller can see why. */
	if (alone == XG_FLAGS_RUN && value)
		return -EINVAL;
	if (cfg->n == cfg->cap && (err = grow(cfg)))
		return err;
	o = strdup(option);
	if (value)
		v = strdup(value);
	if (!o || (value && !v)) {
		free(o);
		free(v);
		return -ENOMEM;
	}
	cfg->opt[cfg->n] = o;
	cfg->val[cfg->n] = v;
	cfg->n++;
	return 0;
}

void lib_argv_free(struct lib_argv *v)
{
	int i;

	if (!v->argv)
		return;
	for (i = 0; i < v->argc; i++)
		free(v->argv[i]);
	free(v->argv);
	v->argv = NULL;
	v->argc = 0;
}

int lib_argv_build(const struct xgossip_config *cfg, struct lib_argv *out)
{
	size_t i, max = 1 + 2 * cfg->n;
	char **argv;
	int argc = 0;

	out->argc = 0;
	out->argv = NULL;
	if (max >= (size_t)1 << 30)
		return -E2BIG;
	argv = calloc(max + 1, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	out->argv = argv;
	argv[argc++] = strdup("xgossipd");
	for (i = 0; i < cfg->n && argv[argc - 1]; i++) {
		size_t len = strlen(cfg->opt[i]) + 3;

		argv[argc] = malloc(len);
		if (argv[argc])
			snprintf(argv[argc], len, "--%s", cfg->opt[i]);
		argc++;
		/* A separate argument, never "--opt=value": the value may
		 * hold '=' or start with '-'. */
		if (cfg->val[i] && argv[argc - 1])
			argv[argc++] = strdup(cfg->val[i]);
	}
	out->argc = argc;
	if (!argv[argc - 1]) {
		lib_argv_free(out);
		return -ENOMEM;
	}
	return 0;
}

/* The parser's message is "xgossipd: WHAT\nTry 'xgossipd --help' ...":
 * the library's caller gets WHAT. */
static void first_line(const char *text, char *errbuf, size_t errlen)
{
	const char *p = text ? text : "";
	size_t n;

	if (strncmp(p, "xgossipd: ", 10) == 0)
		p += 10;
	n = strcspn(p, "\n");
	if (!errbuf || errlen == 0)
		return;
	if (n == 0) {
		snprintf(errbuf, errlen, "invalid configuration");
		return;
	}
	snprintf(errbuf, errlen, "%.*s", (int)n, p);
}

int lib_parse(const struct lib_argv *v, struct xg_agent_config *out,
	      char *errbuf, size_t errlen)
{
	enum xg_flags_result res;
	char *text = NULL, *junk = NULL;
	size_t tlen = 0, jlen = 0;
	FILE *err, *sink;
	int ret = 0;

	xg_agent_config_init(out);
	/* Unlike xgossipd, no control socket unless the "control" option
	 * names one: two applications on a host must not fight over the
	 * default path, and most need none. */
	out->control_path = NULL;
	out->embedded = true;
	err = open_memstream(&text, &tlen);
	sink = open_memstream(&junk, &jlen);
	if (!err || !sink) {
		if (err)
			fclose(err);
		if (sink)
			fclose(sink);
		free(text);
		free(junk);
		lib_errbuf(errbuf, errlen, "out of memory");
		return -ENOMEM;
	}
	res = xg_flags_parse(v->argc, v->argv, out, sink, err);
	fclose(err);
	fclose(sink);
	if (res == XG_FLAGS_EXIT) {
		lib_errbuf(errbuf, errlen,
			   "help and version are not options of the library");
		ret = -EINVAL;
	} else if (res == XG_FLAGS_BAD) {
		first_line(text, errbuf, errlen);
		ret = text && strstr(text, "out of memory") ? -ENOMEM : -EINVAL;
	} else {
		lib_errbuf(errbuf, errlen, "");
	}
	free(text);
	free(junk);
	return ret;
}

int xgossip_config_check(const struct xgossip_config *cfg, char *errbuf,
			 size_t errlen)
{
	struct xg_agent_config c;
	struct lib_argv v;
	int err;

	if (!cfg) {
		lib_errbuf(errbuf, errlen, "no configuration");
		return -EINVAL;
	}
	err = lib_argv_build(cfg, &v);
	if (err) {
		lib_errbuf(errbuf, errlen, "out of memory");
		return err;
	}
	err = lib_parse(&v, &c, errbuf, errlen);
	xg_agent_config_free(&c);
	lib_argv_free(&v);
	return err;
}
