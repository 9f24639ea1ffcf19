/* SPDX-License-Identifier: MIT */
/* Event handlers (--event-handler): filter parsing, what a handler is
 * given, queue bounds, order, timeouts and shutdown
 * (agent/daemon/evhandler*.c).  Handlers are small /bin/sh scripts in a
 * temporary directory that leave what they saw in files next to them;
 * the agent's loop (daemon/loop.h) runs until they are done. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/addr.h"
#include "core/msg.h"
#include "core/swim.h"
#include "daemon/evhandler.h"
#include "daemon/evhandler_int.h"
#include "daemon/loop.h"
#include "util/log.h"

/* ---- fixture ------------------------------------------------------------- */

struct fx {
	char            dir[64];
	struct xg_loop *loop;
	struct xg_evh  *h;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/xg-evh-XXXXXX");
	if (!mkdtemp(f->dir) || xg_loop_new(&f->loop))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *de;
	char p[512];
	DIR *d;

	xg_evh_close(f->h);
	xg_loop_free(f->loop);
	d = opendir(f->dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void path_in(const struct fx *f, const char *name, char *out,
		    size_t cap)
{
	snprintf(out, cap, "%s/%s", f->dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* A script in the fixture's directory; D is that directory. */
static void script(const struct fx *f, const char *name, const char *body,
		   char *path, size_t cap)
{
	char text[2048];

	path_in(f, name, path, cap);
	snprintf(text, sizeof(text), "#!/bin/sh\nD='%s'\n%s\n", f->dir, body);
	write_file(path, text, 0755);
}

/* The whole file (NUL-terminated) in a malloc'd buffer, or NULL. */
static char *slurp(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		char *nb = realloc(buf, n + 4097);
		ssize_t r;

		assert_non_null(nb);
		buf = nb;
		r = read(fd, buf + n, 4096);
		assert_true(r >= 0);
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static void open_handlers(struct fx *f, const char *const *args, size_t n)
{
	struct xg_evh_spec specs[XG_EVH_SPECS_MAX];
	char why[256];
	size_t i;

	assert_true(n <= XG_EVH_SPECS_MAX);
	for (i = 0; i < n; i++)
		assert_int_equal(xg_evh_spec_parse(args[i], &specs[i], why,
						   sizeof(why)), 0);
	assert_int_equal(xg_evh_open(&f->h, f->loop, specs, n, "self1"), 0);
	for (i = 0; i < n; i++)
		xg_evh_spec_free(&specs[i]);
}

static struct xg_evh_stats stats(const struct fx *f)
{
	struct xg_evh_stats st;

	xg_evh_stats(f->h, &st);
	return st;
}

/* Run the loop until nothing runs or waits.  The bound only keeps a
 * broken handler from hanging the test; nothing here is timed. */
static void run_until_idle(struct fx *f)
{
	int i;

	for (i = 0; i < 600; i++) {
		struct xg_evh_stats st = stats(f);

		if (st.running == 0 && st.queued == 0)
			return;
		assert_int_equal(xg_loop_run_once(f->loop, 100), 0);
	}
	fail_msg("event handlers still busy");
}

/* Wait for a file a handler writes (bounded, for the same reason). */
static void wait_file(const char *path)
{
	int i;

	for (i = 0; i < 1000; i++) {
		if (access(path, F_OK) == 0)
			return;
		usleep(10000);
	}
	fail_msg("%s never appeared", path);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static struct xg_member_info member(const char *name, const char *meta,
				    size_t meta_len)
{
	struct xg_member_info m;

	memset(&m, 0, sizeof(m));
	m.id = 0x1122334455667788ULL;
	snprintf(m.name, sizeof(m.name), "%s", name);
	assert_int_equal(xg_addr_parse("198.18.0.2:7946", 7946, &m.addr), 0);
	m.state = XG_ALIVE;
	m.incarnation = 3;
	memcpy(m.meta, meta, meta_len);
	m.meta_len = (uint16_t)meta_len;
	return m;
}

static void send_member(struct fx *f, enum xg_event_type t,
			const struct xg_member_info *m)
{
	struct xg_event ev = { .type = t, .member = m, .now_ns = 1 };

	xg_evh_member(f->h, &ev);
}

static void send_user(struct fx *f, const char *topic, const void *payload,
		      size_t len, bool unicast, const char *origin)
{
	struct xg_msg m;
	size_t i;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < XG_MSG_ID_LEN; i++)
		m.id[i] = (uint8_t)(0xa0 + i);
	m.origin_id = 0xa0a1a2a3a4a5a6a7ULL;
	m.sender_id = 7;
	m.origin_ms = 1767225600123ULL; /* 2026-01-01T00:00:00.123Z */
	m.hops = 2;
	snprintf(m.topic, sizeof(m.topic), "%s", topic);
	m.payload = payload;
	m.payload_len = (uint32_t)len;
	xg_evh_message(f->h, &m, unicast, origin);
}

/* ---- filters ------------------------------------------------------------- */

static void test_parse_good(void **state)
{
	struct xg_evh_spec s;
	char why[256];

	(void)state;
	assert_int_equal(xg_evh_spec_parse("/bin/h", &s, why, sizeof(why)), 0);
	assert_int_equal(s.events, XG_EVH_E_ALL);
	assert_string_equal(s.path, "/bin/h");
	assert_int_equal(s.n_topics, 0);
	xg_evh_spec_free(&s);

	assert_int_equal(xg_evh_spec_parse("member-join,member-failed,"
					   "user:deploy,user:a b=rel/h x",
					   &s, why, sizeof(why)), 0);
	assert_int_equal(s.events, XG_EVH_E_JOIN | XG_EVH_E_FAILED);
	assert_int_equal(s.n_topics, 2);
	assert_string_equal(s.topics[0], "deploy");
	assert_string_equal(s.topics[1], "a b");
	assert_string_equal(s.path, "rel/h x");
	xg_evh_spec_free(&s);

	/* Only the first '=' splits: the filter '*' lets a path hold one. */
	assert_int_equal(xg_evh_spec_parse("*=/opt/a=b/h", &s, why,
					   sizeof(why)), 0);
	assert_int_equal(s.events, XG_EVH_E_ALL);
	assert_string_equal(s.path, "/opt/a=b/h");
	xg_evh_spec_free(&s);

	assert_int_equal(xg_evh_spec_parse("member-leave,member-update,"
					   "member-suspect,member-alive,user=/h",
					   &s, why, sizeof(why)), 0);
	assert_int_equal(s.events, XG_EVH_E_LEAVE | XG_EVH_E_UPDATE |
			 XG_EVH_E_SUSPECT | XG_EVH_E_ALIVE | XG_EVH_E_USER);
	xg_evh_spec_free(&s);
}

static void test_parse_bad(void **state)
{
	static const char *const bad[] = {
		"",                      /* no path */
		"member-join=",          /* no path */
		"=/h",                   /* empty filter */
		"member-join,=/h",       /* empty item */
		"member-join,,user=/h",
		"member-join,=/h",
		"member-fail=/h",        /* Serf's name is member-failed */
		"user:=/h",              /* empty topic */
		"user:\x01x=/h",         /* not printable */
		"USER=/h",               /* names are lower case */
		"/opt/a=b/h",            /* '=' in a path needs a filter */
		"user:0123456789012345678901234567890123456789"
		"01234567890123456789012345=/h", /* 65-byte topic */
	};
	struct xg_evh_spec s;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(xg_evh_spec_parse(bad[i], &s, why,
						   sizeof(why)), -EINVAL);
		assert_true(why[0] != '\0');
		xg_evh_spec_free(&s);
	}
	assert_int_equal(xg_evh_spec_parse("bogus=/h", &s, why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "'bogus'"));
	xg_evh_spec_free(&s);
}

static void test_specs_add(void **state)
{
	struct xg_evh_spec *v = NULL;
	char why[256];
	size_t n = 0, i;

	(void)state;
	for (i = 0; i < XG_EVH_SPECS_MAX; i++)
		assert_int_equal(xg_evh_specs_add(&v, &n, "user=/h", why,
						  sizeof(why)), 0);
	assert_int_equal(n, XG_EVH_SPECS_MAX);
	assert_int_equal(xg_evh_specs_add(&v, &n, "/h", why, sizeof(why)),
			 -E2BIG);
	assert_int_equal(n, XG_EVH_SPECS_MAX);
	xg_evh_specs_free(v, n);

	v = NULL;
	n = 0;
	assert_int_equal(xg_evh_specs_add(&v, &n, "nope=/h", why, sizeof(why)),
			 -EINVAL);
	assert_int_equal(n, 0);
	assert_null(v);
}

static void test_wants(void **state)
{
	struct xg_evh_spec s;
	char why[256];

	(void)state;
	assert_int_equal(xg_evh_spec_parse("member-failed,user:deploy=/h", &s,
					   why, sizeof(why)), 0);
	assert_true(xg_evh_spec_wants_member(&s, XG_EV_FAIL));
	assert_false(xg_evh_spec_wants_member(&s, XG_EV_JOIN));
	assert_false(xg_evh_spec_wants_member(&s, XG_EV_REFUTE));
	assert_true(xg_evh_spec_wants_user(&s, "deploy"));
	assert_false(xg_evh_spec_wants_user(&s, "deploy2"));
	assert_false(xg_evh_spec_wants_user(&s, "deplo"));
	xg_evh_spec_free(&s);

	assert_int_equal(xg_evh_spec_parse("/h", &s, why, sizeof(why)), 0);
	assert_true(xg_evh_spec_wants_member(&s, XG_EV_SUSPECT));
	assert_false(xg_evh_spec_wants_member(&s, XG_EV_REFUTE));
	assert_true(xg_evh_spec_wants_user(&s, "anything"));
	xg_evh_spec_free(&s);

	assert_string_equal(xg_evh_member_event_name(XG_EV_FAIL),
			    "member-failed");
	assert_string_equal(xg_evh_member_event_name(XG_EV_ALIVE),
			    "member-alive");
	assert_null(xg_evh_member_event_name(XG_EV_REFUTE));
}

/* ---- the stdin line ------------------------------------------------------ */

static void test_member_line(void **state)
{
	static const char meta[] = "path=C:\\x\nrole=db\nzone=a,b\tc";
	static const uint8_t raw[] = { 0x00, 0xff, 0x41 };
	char line[XG_EVH_LINE_MAX];
	struct xg_member_info m;
	ssize_t n;

	(void)state;
	m = member("n2", meta, sizeof(meta) - 1);
	n = xg_evh_member_line(&m, line, sizeof(line));
	assert_true(n > 0);
	line[n] = '\0';
	assert_string_equal(line, "n2\t198.18.0.2:7946\talive\t"
			    "path=C:\\x5cx,role=db,zone=a\\x2cb\\x09c\n");

	/* Metadata that is not tags text: hex, told apart by its "0x". */
	m = member("n3", (const char *)raw, sizeof(raw));
	m.state = XG_DEAD;
	n = xg_evh_member_line(&m, line, sizeof(line));
	assert_true(n > 0);
	line[n] = '\0';
	assert_string_equal(line, "n3\t198.18.0.2:7946\tdead\t0x00ff41\n");

	m = member("n4", "", 0);
	assert_int_equal(xg_addr_parse("[fd00:198:18::4]:7000", 7946,
				       &m.addr), 0);
	m.state = XG_LEFT;
	n = xg_evh_member_line(&m, line, sizeof(line));
	assert_true(n > 0);
	line[n] = '\0';
	assert_string_equal(line, "n4\t[fd00:198:18::4]:7000\tleft\t\n");

	assert_int_equal(xg_evh_member_line(&m, line, 100), -ENOSPC);
}

/* ---- start-up checks ----------------------------------------------------- */

static void test_open_checks(void **state)
{
	struct fx *f = *state;
	struct xg_evh_spec s;
	char p[256], why[256], cwd[512], arg[300];

	path_in(f, "missing", p, sizeof(p));
	assert_int_equal(xg_evh_spec_parse(p, &s, why, sizeof(why)), 0);
	assert_int_equal(xg_evh_open(&f->h, f->loop, &s, 1, "self1"), -ENOENT);
	assert_null(f->h);
	xg_evh_spec_free(&s);

	path_in(f, "plain", p, sizeof(p));
	write_file(p, "#!/bin/sh\n", 0644);
	assert_int_equal(xg_evh_spec_parse(p, &s, why, sizeof(why)), 0);
	assert_int_equal(xg_evh_open(&f->h, f->loop, &s, 1, "self1"), -EACCES);
	xg_evh_spec_free(&s);

	assert_int_equal(xg_evh_spec_parse(f->dir, &s, why, sizeof(why)), 0);
	assert_int_equal(xg_evh_open(&f->h, f->loop, &s, 1, "self1"), -EISDIR);
	xg_evh_spec_free(&s);

	/* A relative path is fixed against the directory at start, so the
	 * handler still runs after the agent's directory changes. */
	script(f, "rel", ": > \"$D/ran\"", p, sizeof(p));
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(f->dir), 0);
	snprintf(arg, sizeof(arg), "user=./rel");
	assert_int_equal(xg_evh_spec_parse(arg, &s, why, sizeof(why)), 0);
	assert_int_equal(xg_evh_open(&f->h, f->loop, &s, 1, "self1"), 0);
	xg_evh_spec_free(&s);
	assert_int_equal(chdir("/"), 0);
	send_user(f, "t", "x", 1, false, "n2");
	run_until_idle(f);
	assert_int_equal(chdir(cwd), 0);
	path_in(f, "ran", p, sizeof(p));
	assert_int_equal(access(p, F_OK), 0);
	assert_int_equal(stats(f).failed, 0);

	/* No handlers at all is allowed, and NULL is a no-op. */
	xg_evh_close(f->h);
	assert_int_equal(xg_evh_open(&f->h, f->loop, NULL, 0, "self1"), 0);
	send_user(f, "t", "x", 1, false, "n2");
	assert_int_equal(stats(f).run, 0);
	xg_evh_close(NULL);
}

/* ---- what a handler sees ------------------------------------------------- */

/* Lines of an `env` dump, less what /bin/sh adds itself (PWD). */
static void assert_env(const char *dump, const char *const *want, size_t n)
{
	char *copy = strdup(dump), *save = NULL, *line;
	size_t seen = 0, i;

	assert_non_null(copy);
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		bool found = false;

		if (strncmp(line, "PWD=", 4) == 0)
			continue;
		for (i = 0; i < n && !found; i++)
			found = strcmp(line, want[i]) == 0;
		if (!found)
			fail_msg("unexpected variable: %s", line);
		seen++;
	}
	free(copy);
	assert_int_equal(seen, n);
}

static void test_member_env_and_stdin(void **state)
{
	static const char meta[] = "role=db\nzone=a,b";
	static const char *const want[] = {
		XG_EVH_ENV_PATH,
		"XGOSSIP_EVENT=member-join",
		"XGOSSIP_SELF_NAME=self1",
	};
	struct fx *f = *state;
	struct xg_member_info m = member("n2", meta, sizeof(meta) - 1);
	const char *args[1];
	char p[256], *env, *in, *sig;

	/* The signal state is read first and with builtins only: dash
	 * blocks every signal around its forks. */
	script(f, "dump", "while read -r k v; do case $k in\n"
	       "SigBlk:|SigIgn:) echo \"$k $v\";; esac\n"
	       "done < /proc/self/status > \"$D/sig\"\n"
	       "env > \"$D/env.$XGOSSIP_EVENT\"\n"
	       "cat > \"$D/in.$XGOSSIP_EVENT\"", p, sizeof(p));
	args[0] = p;
	open_handlers(f, args, 1);
	/* The agent blocks these for its signalfd and ignores SIGPIPE; a
	 * handler must start with them at their defaults. */
	send_member(f, XG_EV_JOIN, &m);
	send_member(f, XG_EV_REFUTE, &m); /* not a handler event */
	run_until_idle(f);
	assert_int_equal(stats(f).run, 1);
	assert_int_equal(stats(f).failed, 0);

	path_in(f, "env.member-join", p, sizeof(p));
	env = slurp(p, NULL);
	assert_non_null(env);
	assert_env(env, want, sizeof(want) / sizeof(want[0]));
	free(env);
	path_in(f, "in.member-join", p, sizeof(p));
	in = slurp(p, NULL);
	assert_non_null(in);
	assert_string_equal(in, "n2\t198.18.0.2:7946\talive\t"
			    "role=db,zone=a\\x2cb\n");
	free(in);
	path_in(f, "sig", p, sizeof(p));
	in = slurp(p, NULL);
	assert_non_null(in);
	/* Nothing blocked, nothing ignored but glibc's own two internal
	 * signals (32 and 33), which its posix_spawn sets to SIG_IGN in the
	 * child: programs linked with glibc take them back at start. */
	assert_non_null(strstr(in, "SigBlk: 0000000000000000\n"));
	sig = strstr(in, "SigIgn: ");
	assert_non_null(sig);
	assert_int_equal(strtoull(sig + 8, NULL, 16) & ~0x180000000ULL, 0);
	free(in);
}

static void test_user_env_and_stdin(void **state)
{
	static const uint8_t payload[] = { 'h', 0, '\n', 0xff, 'i' };
	static const char *const want_b[] = {
		XG_EVH_ENV_PATH,
		"XGOSSIP_EVENT=user",
		"XGOSSIP_SELF_NAME=self1",
		"XGOSSIP_USER_TOPIC=deploy now",
		"XGOSSIP_USER_ID=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"XGOSSIP_USER_ORIGIN=n2",
		"XGOSSIP_USER_ORIGIN_ID=a0a1a2a3a4a5a6a7",
		"XGOSSIP_USER_KIND=broadcast",
		"XGOSSIP_USER_SENT=2026-01-01T00:00:00.123Z",
		"XGOSSIP_USER_HOPS=2",
		"XGOSSIP_USER_SIZE=5",
	};
	static const char *const want_u[] = {
		XG_EVH_ENV_PATH,
		"XGOSSIP_EVENT=user",
		"XGOSSIP_SELF_NAME=self1",
		"XGOSSIP_USER_TOPIC=empty",
		"XGOSSIP_USER_ID=a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		"XGOSSIP_USER_ORIGIN=a0a1a2a3a4a5a6a7",
		"XGOSSIP_USER_ORIGIN_ID=a0a1a2a3a4a5a6a7",
		"XGOSSIP_USER_KIND=unicast",
		"XGOSSIP_USER_SENT=2026-01-01T00:00:00.123Z",
		"XGOSSIP_USER_HOPS=2",
		"XGOSSIP_USER_SIZE=0",
	};
	struct fx *f = *state;
	const char *args[1];
	char p[256], *env, *in;
	size_t len;

	script(f, "dump", "n=$XGOSSIP_USER_KIND\n"
	       "env > \"$D/env.$n\"\ncat > \"$D/in.$n\"", p, sizeof(p));
	args[0] = p;
	open_handlers(f, args, 1);
	send_user(f, "deploy now", payload, sizeof(payload), false, "n2");
	send_user(f, "empty", NULL, 0, true, NULL);
	run_until_idle(f);
	assert_int_equal(stats(f).run, 2);
	assert_int_equal(stats(f).failed, 0);

	path_in(f, "env.broadcast", p, sizeof(p));
	env = slurp(p, NULL);
	assert_non_null(env);
	assert_env(env, want_b, sizeof(want_b) / sizeof(want_b[0]));
	free(env);
	path_in(f, "in.broadcast", p, sizeof(p));
	in = slurp(p, &len);
	assert_non_null(in);
	assert_int_equal(len, sizeof(payload));
	assert_memory_equal(in, payload, sizeof(payload));
	free(in);

	path_in(f, "env.unicast", p, sizeof(p));
	env = slurp(p, NULL);
	assert_non_null(env);
	assert_env(env, want_u, sizeof(want_u) / sizeof(want_u[0]));
	free(env);
	path_in(f, "in.unicast", p, sizeof(p));
	in = slurp(p, &len);
	assert_non_null(in);
	assert_int_equal(len, 0);
	free(in);
}

static void test_filters_route(void **state)
{
	struct fx *f = *state;
	struct xg_member_info m = member("n2", "", 0);
	char pa[256], pb[256], arg_a[300], arg_b[300], *log;
	const char *args[2] = { arg_a, arg_b };

	script(f, "a", "echo \"$XGOSSIP_EVENT\" >> \"$D/a.log\"", pa,
	       sizeof(pa));
	script(f, "b", "echo \"$XGOSSIP_EVENT $XGOSSIP_USER_TOPIC\" >> "
	       "\"$D/b.log\"", pb, sizeof(pb));
	snprintf(arg_a, sizeof(arg_a), "member-join,member-failed=%s", pa);
	snprintf(arg_b, sizeof(arg_b), "user:deploy=%s", pb);
	open_handlers(f, args, 2);
	send_member(f, XG_EV_JOIN, &m);
	send_member(f, XG_EV_SUSPECT, &m);
	send_user(f, "other", "x", 1, false, "n2");
	send_member(f, XG_EV_FAIL, &m);
	send_user(f, "deploy", "x", 1, false, "n2");
	run_until_idle(f);
	assert_int_equal(stats(f).run, 3);
	assert_int_equal(stats(f).dropped, 0);

	path_in(f, "a.log", pa, sizeof(pa));
	log = slurp(pa, NULL);
	assert_non_null(log);
	assert_string_equal(log, "member-join\nmember-failed\n");
	free(log);
	path_in(f, "b.log", pb, sizeof(pb));
	log = slurp(pb, NULL);
	assert_non_null(log);
	assert_string_equal(log, "user deploy\n");
	free(log);
}

/* ---- order and bounds ---------------------------------------------------- */

static void test_order_per_handler(void **state)
{
	struct fx *f = *state;
	char p[256], want[512], *log, num[16];
	const char *args[1];
	size_t o = 0;
	int i, fds;

	/* A run that overlaps another of the same handler leaves a mark;
	 * the sleep gives an overlap time to show. */
	script(f, "ord",
	       "if [ -e \"$D/busy\" ]; then echo overlap >> \"$D/log\"; fi\n"
	       ": > \"$D/busy\"\n"
	       "p=$(cat)\n"
	       "sleep 0.01\n"
	       "echo \"$p\" >> \"$D/log\"\n"
	       "rm \"$D/busy\"", p, sizeof(p));
	args[0] = p;
	fds = count_fds();
	open_handlers(f, args, 1);
	for (i = 0; i < 20; i++) {
		snprintf(num, sizeof(num), "%d", i);
		send_user(f, "t", num, strlen(num), false, "n2");
		o += (size_t)snprintf(want + o, sizeof(want) - o, "%d\n", i);
	}
	assert_int_equal(stats(f).running, 1);
	assert_int_equal(stats(f).queued, 19);
	run_until_idle(f);
	assert_int_equal(stats(f).run, 20);
	assert_int_equal(stats(f).failed, 0);
	/* 20 children came and went: only the handlers' timerfd stays. */
	assert_int_equal(count_fds(), fds + 1);
	path_in(f, "log", p, sizeof(p));
	log = slurp(p, NULL);
	assert_non_null(log);
	assert_string_equal(log, want);
	free(log);
}

static void test_running_cap(void **state)
{
	struct fx *f = *state;
	const char *args[10];
	char p[256];
	size_t i;

	script(f, "sleeper", "exec sleep 30", p, sizeof(p));
	for (i = 0; i < 10; i++)
		args[i] = p;
	open_handlers(f, args, 10);
	send_user(f, "t", "x", 1, false, "n2");
	assert_int_equal(stats(f).handlers, 10);
	assert_int_equal(stats(f).running, XG_EVH_RUNNING_MAX);
	assert_int_equal(stats(f).queued, 10 - XG_EVH_RUNNING_MAX);
	assert_int_equal(stats(f).run, XG_EVH_RUNNING_MAX);
	/* teardown closes: SIGTERM ends them all */
}

static void test_queue_bound(void **state)
{
	struct fx *f = *state;
	const char *args[1];
	struct xg_evh_stats st;
	char p[256];
	int i;

	script(f, "sleeper", "exec sleep 30", p, sizeof(p));
	args[0] = p;
	open_handlers(f, args, 1);
	for (i = 0; i < 1 + XG_EVH_QUEUE_MAX + 5; i++)
		send_user(f, "t", "x", 1, false, "n2");
	st = stats(f);
	assert_int_equal(st.run, 1);
	assert_int_equal(st.running, 1);
	assert_int_equal(st.queued, XG_EVH_QUEUE_MAX);
	assert_int_equal(st.dropped, 5);
	assert_true(st.queued_bytes > 0);
}

static void test_byte_bound_shared(void **state)
{
	struct fx *f = *state;
	struct xg_evh_limits lim = { .bytes_max = 5000 };
	const char *args[2];
	struct xg_evh_stats st;
	uint8_t payload[1500];
	char p[256];
	int i;

	memset(payload, 'p', sizeof(payload));
	script(f, "sleeper", "exec sleep 30", p, sizeof(p));
	args[0] = p;
	args[1] = p;
	open_handlers(f, args, 2);
	xg_evh_set_limits(f->h, &lim);
	/* An event holds its payload and about 700 bytes of environment
	 * and bookkeeping.  The first runs in both handlers at once; the
	 * next two wait in both queues, their bytes counted once; the
	 * fourth does not fit. */
	for (i = 0; i < 4; i++)
		send_user(f, "t", payload, sizeof(payload), false, "n2");
	st = stats(f);
	assert_int_equal(st.run, 2);
	assert_int_equal(st.queued, 4);
	assert_int_equal(st.dropped, 2);
	assert_true(st.queued_bytes > 2 * sizeof(payload));
	assert_true(st.queued_bytes <= 5000);

	/* One event larger than the whole bound never fits. */
	lim.bytes_max = 100;
	xg_evh_set_limits(f->h, &lim);
	send_user(f, "t", payload, sizeof(payload), false, "n2");
	assert_int_equal(stats(f).dropped, 4);
}

/* ---- failures, timeouts, shutdown ---------------------------------------- */

static void test_failure_logged(void **state)
{
	struct fx *f = *state;
	const char *args[2];
	char p[256], pn[256], logp[256], *log;
	int fd;

	script(f, "bad", "echo 'bad thing' >&2\necho to-stdout\nexit 3", p,
	       sizeof(p));
	/* Executable but not a program: execve says ENOEXEC. */
	path_in(f, "noexec", pn, sizeof(pn));
	write_file(pn, "just text\n", 0755);
	args[0] = p;
	args[1] = pn;
	path_in(f, "agent.log", logp, sizeof(logp));
	fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	xg_log_set_fd(fd);
	open_handlers(f, args, 2);
	send_user(f, "t", "x", 1, false, "n2");
	run_until_idle(f);
	xg_log_set_fd(2);
	close(fd);
	assert_int_equal(stats(f).run, 2);
	assert_int_equal(stats(f).failed, 2);
	assert_int_equal(stats(f).killed, 0);
	log = slurp(logp, NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "WARN  event handler failed"));
	assert_non_null(strstr(log, "exit=3"));
	assert_null(strstr(log, "event handler killed"));
	assert_non_null(strstr(log, "bad thing"));
	assert_non_null(strstr(log, "to-stdout"));
	assert_non_null(strstr(log, "start=failed"));
	free(log);
}

static void test_timeout_kills(void **state)
{
	struct fx *f = *state;
	struct xg_evh_limits lim = { .timeout_ns = 200 * 1000000ULL };
	const char *args[1];
	struct xg_evh_stats st;
	char p[256];

	script(f, "slow", "if [ \"$XGOSSIP_USER_TOPIC\" = slow ]; then\n"
	       "\texec sleep 30\nfi\n: > \"$D/after\"", p, sizeof(p));
	args[0] = p;
	open_handlers(f, args, 1);
	xg_evh_set_limits(f->h, &lim);
	send_user(f, "slow", "x", 1, false, "n2");
	send_user(f, "fast", "x", 1, false, "n2");
	run_until_idle(f);
	st = stats(f);
	assert_int_equal(st.run, 2);
	assert_int_equal(st.killed, 1);
	assert_int_equal(st.failed, 0);
	/* The next event ran once the slow one was gone. */
	path_in(f, "after", p, sizeof(p));
	assert_int_equal(access(p, F_OK), 0);
}

static int read_pid(const char *path)
{
	char *s = slurp(path, NULL);
	int pid;

	assert_non_null(s);
	pid = atoi(s);
	free(s);
	assert_true(pid > 1);
	return pid;
}

/* Reap an orphan adopted by this process (a subreaper): how it died. */
static int reap_orphan(int pid)
{
	int pfd = pidfd_open(pid, 0), st = 0;
	struct pollfd p = { .fd = pfd, .events = POLLIN };

	assert_true(pfd >= 0);
	assert_int_equal(poll(&p, 1, 10000), 1);
	close(pfd);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_close_kills(void **state)
{
	struct fx *f = *state;
	const char *args[1];
	char p[256], pp[256], gp[256];
	int hpid, gpid, st;

	/* The script and its background child ignore SIGTERM (an ignored
	 * signal stays ignored across exec), so only the SIGKILL after the
	 * grace period ends them, the grandchild with its group. */
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
	script(f, "stubborn", "trap '' TERM\n"
	       "sleep 30 &\n"
	       "echo $! > \"$D/g.tmp\"; mv \"$D/g.tmp\" \"$D/gpid\"\n"
	       "echo $$ > \"$D/h.tmp\"; mv \"$D/h.tmp\" \"$D/hpid\"\n"
	       "wait", p, sizeof(p));
	args[0] = p;
	open_handlers(f, args, 1);
	send_user(f, "t", "x", 1, false, "n2");
	send_user(f, "t", "y", 1, false, "n2");
	assert_int_equal(stats(f).running, 1);
	assert_int_equal(stats(f).queued, 1);
	path_in(f, "hpid", pp, sizeof(pp));
	path_in(f, "gpid", gp, sizeof(gp));
	wait_file(pp);
	hpid = read_pid(pp);
	gpid = read_pid(gp);

	xg_evh_close(f->h);
	f->h = NULL;
	/* The handler was reaped by close: no zombie of ours is left. */
	assert_int_equal(waitpid(hpid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	st = reap_orphan(gpid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGKILL);
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 0), 0);
}

static void test_close_term(void **state)
{
	struct fx *f = *state;
	const char *args[1];
	char p[256], pp[256];
	int hpid, fds = count_fds();

	script(f, "polite", "echo $$ > \"$D/h.tmp\"; mv \"$D/h.tmp\" "
	       "\"$D/hpid\"\nexec sleep 30", p, sizeof(p));
	args[0] = p;
	open_handlers(f, args, 1);
	send_user(f, "t", "x", 1, false, "n2");
	path_in(f, "hpid", pp, sizeof(pp));
	wait_file(pp);
	hpid = read_pid(pp);
	xg_evh_close(f->h);
	f->h = NULL;
	assert_int_equal(waitpid(hpid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	assert_int_equal(kill(hpid, 0), -1);
	assert_int_equal(count_fds(), fds);
}

/* Nothing of the agent's leaks into a handler: only 0, 1 and 2 open. */
static void test_fds_closed(void **state)
{
	struct fx *f = *state;
	const char *args[1];
	char p[256], *fds;
	int leak;

	leak = open("/dev/null", O_RDONLY); /* no O_CLOEXEC on purpose */
	assert_true(leak > 2);
	script(f, "fds", "ls /proc/self/fd > \"$D/fds\"", p, sizeof(p));
	args[0] = p;
	open_handlers(f, args, 1);
	send_user(f, "t", "x", 1, false, "n2");
	run_until_idle(f);
	close(leak);
	path_in(f, "fds", p, sizeof(p));
	fds = slurp(p, NULL);
	assert_non_null(fds);
	/* ls's own directory fd is 3 */
	assert_string_equal(fds, "0\n1\n2\n3\n");
	free(fds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_specs_add),
		cmocka_unit_test(test_wants),
		cmocka_unit_test(test_member_line),
		cmocka_unit_test_setup_teardown(test_open_checks, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_member_env_and_stdin,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_env_and_stdin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_filters_route, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_order_per_handler, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_running_cap, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_queue_bound, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_byte_bound_shared, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failure_logged, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_kills, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_term, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fds_closed, setup,
						teardown),
	};

	/* What the agent does before any handler runs (agent.c): the child
	 * must not inherit either. */
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
