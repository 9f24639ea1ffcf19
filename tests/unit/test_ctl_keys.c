/* SPDX-License-Identifier: MIT */
/* xgossipctl keys (tools/xgossipctl/cmd_keys.c): its command line, the
 * local generate, and list/install/use/remove against a fake agent that
 * records the request and answers with a canned reply. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../tools/xgossipctl/args.h"
#include "../../tools/xgossipctl/cmd_keys.h"
#include "../../tools/xgossipctl/cmds.h"
#include "../../tools/xgossipctl/help.h"
#include "util/keyring.h"

/* Bytes 0..31 and 100..131. */
#define KEY_A "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_B "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoM="

#define ARGV(...) ((char *[]){ "xgossipctl", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "xgossipctl", __VA_ARGS__ }) / \
			 sizeof(char *)))

static char errbuf[512];
static char dir[64], sock_path[128];

#define PARSE(o, ...) \
	ctl_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), sock_path, o, \
		       errbuf, sizeof(errbuf))

/* A usage error (main turns -EINVAL into exit status 2) whose message
 * contains want. */
#define PARSE_BAD(want, ...) do {					\
	struct ctl_opts o_;						\
	assert_int_equal(PARSE(&o_, __VA_ARGS__), -EINVAL);		\
	assert_non_null(strstr(errbuf, want));				\
	ctl_opts_free(&o_);						\
} while (0)

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xgctl-keys-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	rmdir(dir);
	return 0;
}

static const char *request_of(const struct ctl_opts *o)
{
	static char buf[1024];
	json_object *req = ctl_build_request(o);

	assert_non_null(req);
	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(req,
		 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	return buf;
}

static void test_parse_errors(void **state)
{
	(void)state;
	PARSE_BAD("keys needs a subcommand", "keys");
	PARSE_BAD("unknown keys subcommand \"rotate\"", "keys", "rotate");
	PARSE_BAD("keys install needs exactly one KEY (got 0)", "keys",
		  "install");
	PARSE_BAD("keys use needs exactly one KEY (got 2)", "keys", "use",
		  KEY_A, KEY_B);
	PARSE_BAD("keys remove needs exactly one KEY", "keys", "remove");
	PARSE_BAD("keys list takes no arguments", "keys", "list", KEY_A);
	PARSE_BAD("keys generate takes no arguments", "keys", "generate",
		  "x");
	/* Not base64, too short, too long, non-zero unused bits, URL-safe
	 * alphabet: all refused before anything is sent. */
	PARSE_BAD("keys install: invalid KEY", "keys", "install", "hunter2");
	PARSE_BAD("invalid KEY", "keys", "install",
		  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==");
	PARSE_BAD("invalid KEY", "keys", "use", KEY_A "AAAA");
	PARSE_BAD("invalid KEY", "keys", "use",
		  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=");
	PARSE_BAD("invalid KEY", "keys", "remove",
		  "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1-f4CBgoM=");
	/* The message never repeats what may be most of a secret. */
	PARSE_BAD("invalid KEY", "keys", "install", KEY_A "A");
	assert_null(strstr(errbuf, "AAECAwQF"));
}

static void test_parse_ok(void **state)
{
	struct ctl_opts o;

	(void)state;
	/* Whitespace around a pasted key is dropped; the request carries
	 * the canonical form. */
	assert_int_equal(PARSE(&o, "keys", "install", " " KEY_A "\n"), 0);
	assert_int_equal(o.cmd, CTL_CMD_KEYS_INSTALL);
	assert_string_equal(o.key, KEY_A);
	assert_string_equal(request_of(&o), "{\"cmd\":\"keys\",\"op\":"
			    "\"install\",\"key\":\"" KEY_A "\"}");
	/* The agent waits up to ~6 s for members: more than the usual
	 * 10 s budget unless the user chose one. */
	assert_true(o.timeout_ns >= 15ULL * 1000000000ULL);
	assert_int_equal(o.timeout_ns, CTL_KEYS_DEFAULT_TIMEOUT_NS);
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "--timeout", "3s", "keys", "use", KEY_B),
			 0);
	assert_int_equal(o.timeout_ns, 3ULL * 1000000000ULL);
	assert_string_equal(request_of(&o), "{\"cmd\":\"keys\",\"op\":\"use\","
			    "\"key\":\"" KEY_B "\"}");
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "keys", "remove", KEY_B), 0);
	assert_string_equal(request_of(&o), "{\"cmd\":\"keys\",\"op\":"
			    "\"remove\",\"key\":\"" KEY_B "\"}");
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "keys", "list", "-o", "json"), 0);
	assert_int_equal(o.cmd, CTL_CMD_KEYS_LIST);
	assert_string_equal(request_of(&o),
			    "{\"cmd\":\"keys\",\"op\":\"list\"}");
	assert_int_equal(o.timeout_ns, CTL_KEYS_DEFAULT_TIMEOUT_NS);
	ctl_opts_free(&o);

	/* Other commands keep the global default. */
	assert_int_equal(PARSE(&o, "members"), 0);
	assert_int_equal(o.timeout_ns, CTL_DEFAULT_TIMEOUT_NS);
	ctl_opts_free(&o);

	/* Help needs no valid operands. */
	assert_int_equal(PARSE(&o, "keys", "--help"), 0);
	assert_int_equal(o.cmd, CTL_CMD_KEYS);
	assert_true(o.help);
	ctl_opts_free(&o);
	assert_int_equal(PARSE(&o, "help", "keys", "install"), 0);
	assert_true(o.help);
	ctl_opts_free(&o);
}

static void test_help_page(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	ctl_help(f, CTL_CMD_KEYS_USE);
	fclose(f);
	assert_non_null(strstr(buf, "xgossipctl keys install KEY"));
	assert_non_null(strstr(buf, "keys list"));
	assert_non_null(strstr(buf, "20s"));
	assert_non_null(strstr(buf, "EXIT STATUS"));
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	ctl_usage_hint(f, CTL_CMD_KEYS_REMOVE);
	fclose(f);
	assert_string_equal(buf, "Try 'xgossipctl keys --help'.\n");
	free(buf);
}

struct run {
	int   status;
	char *out, *err;
};

static struct run run_ctl(int argc, char **argv)
{
	struct run r = { 0 };
	struct ctl_opts o;
	size_t lo = 0, le = 0;
	FILE *out = open_memstream(&r.out, &lo);
	FILE *err = open_memstream(&r.err, &le);

	assert_int_equal(ctl_parse_args(argc, argv, sock_path, &o, errbuf,
					sizeof(errbuf)), 0);
	r.status = ctl_run(&o, out, err);
	ctl_opts_free(&o);
	fclose(out);
	fclose(err);
	return r;
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

#define RUN(...) run_ctl(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* The line keys generate printed, checked to be a usable key. */
static void check_generated(const char *out, char key[XG_KEY_B64_LEN + 1])
{
	uint8_t bytes[XG_KEY_LEN];

	assert_int_equal(strlen(out), XG_KEY_B64_LEN + 1);
	assert_int_equal(out[XG_KEY_B64_LEN], '\n');
	memcpy(key, out, XG_KEY_B64_LEN);
	key[XG_KEY_B64_LEN] = '\0';
	assert_int_equal(xg_key_parse_b64(key, bytes), 0);
}

static void test_generate(void **state)
{
	char k1[XG_KEY_B64_LEN + 1], k2[XG_KEY_B64_LEN + 1];
	struct run r;
	json_object *o, *v;

	(void)state;
	unlink(sock_path); /* no agent: generate must not need one */
	r = RUN("keys", "generate");
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.err, "");
	check_generated(r.out, k1);
	run_free(&r);

	r = RUN("keys", "generate");
	assert_int_equal(r.status, CTL_EXIT_OK);
	check_generated(r.out, k2);
	run_free(&r);
	assert_string_not_equal(k1, k2);

	r = RUN("-o", "json", "keys", "generate");
	assert_int_equal(r.status, CTL_EXIT_OK);
	o = json_tokener_parse(r.out);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "key", &v));
	assert_int_equal(json_object_object_length(o), 1);
	assert_int_equal(json_object_get_string_len(v), XG_KEY_B64_LEN);
	/* '/' must not come out as "\/" */
	assert_int_equal(xg_key_parse_b64(json_object_get_string(v),
					  (uint8_t[XG_KEY_LEN]){ 0 }), 0);
	json_object_put(o);
	run_free(&r);
}

/* --- against a fake agent ------------------------------------------------ */

struct fake {
	pid_t pid;
	int   lfd;
	int   req_pipe;
};

/* A child accepts one connection, passes the request line up a pipe,
 * writes reply and hangs up. */
static void fake_start(struct fake *fk, const char *reply)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int p[2];

	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	fk->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fk->lfd >= 0);
	assert_int_equal(bind(fk->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fk->lfd, 1), 0);
	assert_int_equal(pipe(p), 0);
	fk->pid = fork();
	assert_true(fk->pid >= 0);
	if (fk->pid == 0) {
		char line[4096];
		size_t n = 0;
		int fd = accept(fk->lfd, NULL, NULL);

		close(p[0]);
		while (fd >= 0 && n < sizeof(line) &&
		       read(fd, &line[n], 1) == 1 && line[n] != '\n')
			n++;
		if (write(p[1], line, n) < 0)
			_exit(1);
		close(p[1]);
		if (fd < 0 || write(fd, reply, strlen(reply)) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	fk->req_pipe = p[0];
}

/* Reap the child; the request it got must be want. */
static void fake_finish(struct fake *fk, const char *want)
{
	char req[4096];
	ssize_t n, got = 0;
	int status;

	while ((n = read(fk->req_pipe, req + got,
			 sizeof(req) - 1 - (size_t)got)) > 0)
		got += n;
	req[got] = '\0';
	close(fk->req_pipe);
	close(fk->lfd);
	assert_int_equal(waitpid(fk->pid, &status, 0), fk->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(req, want);
}

#define REQ_INSTALL_A \
	"{\"cmd\":\"keys\",\"op\":\"install\",\"key\":\"" KEY_A "\"}"
#define REQ_LIST "{\"cmd\":\"keys\",\"op\":\"list\"}"

static void test_install_all_ok(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "{\"ok\":true,\"op\":\"install\",\"nodes\":3,"
		   "\"failed\":0,\"results\":[{\"node\":\"n1\",\"ok\":true},"
		   "{\"node\":\"n2\",\"ok\":true},{\"node\":\"n3\","
		   "\"ok\":true}]}\n");
	r = RUN("keys", "install", KEY_A);
	fake_finish(&fk, REQ_INSTALL_A);
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out, "install: applied on 3 of 3 nodes\n");
	assert_string_equal(r.err, "");
	run_free(&r);

	/* A cluster of one: the agent alone. */
	fake_start(&fk, "{\"ok\":true,\"op\":\"use\",\"nodes\":1,"
		   "\"failed\":0,\"results\":[{\"node\":\"n1\",\"ok\":true}]}\n");
	r = RUN("keys", "use", KEY_B);
	fake_finish(&fk, "{\"cmd\":\"keys\",\"op\":\"use\",\"key\":\""
		    KEY_B "\"}");
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out, "use: applied on 1 of 1 node\n");
	run_free(&r);
}

static void test_install_one_failed(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "{\"ok\":true,\"op\":\"remove\",\"nodes\":4,"
		   "\"failed\":2,\"results\":[{\"node\":\"n1\",\"ok\":true},"
		   "{\"node\":\"n3\",\"ok\":false,\"error\":\"timed out\"},"
		   "{\"node\":\"n2\",\"ok\":true},"
		   "{\"node\":\"n4\",\"ok\":false,\"error\":"
		   "\"key is primary\"}]}\n");
	r = RUN("keys", "remove", KEY_A);
	fake_finish(&fk, "{\"cmd\":\"keys\",\"op\":\"remove\",\"key\":\""
		    KEY_A "\"}");
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_string_equal(r.out, "remove: applied on 2 of 4 nodes\n"
			    "  n3: timed out\n"
			    "  n4: key is primary\n");
	run_free(&r);

	/* A node listed as failed counts even when "failed" says 0. */
	fake_start(&fk, "{\"ok\":true,\"op\":\"install\",\"nodes\":2,"
		   "\"failed\":0,\"results\":[{\"node\":\"n1\",\"ok\":true},"
		   "{\"node\":\"n2\",\"ok\":false}]}\n");
	r = RUN("keys", "install", KEY_A);
	fake_finish(&fk, REQ_INSTALL_A);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_string_equal(r.out, "install: applied on 1 of 2 nodes\n"
			    "  n2: failed\n");
	run_free(&r);
}

static void test_list_table(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "{\"ok\":true,\"op\":\"list\",\"nodes\":3,"
		   "\"failed\":0,\"results\":[{\"node\":\"n1\",\"ok\":true},"
		   "{\"node\":\"n2\",\"ok\":true},{\"node\":\"n3\",\"ok\":true}],"
		   "\"keys\":[{\"key\":\"" KEY_A "\",\"installed\":3,"
		   "\"primary\":1},{\"key\":\"" KEY_B "\",\"installed\":2,"
		   "\"primary\":2}]}\n");
	r = RUN("keys", "list");
	fake_finish(&fk, REQ_LIST);
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out,
		"KEY                                           PRIMARY  INSTALLED\n"
		KEY_A "  1/3      3/3\n"
		KEY_B "  2/3      2/3\n");
	assert_string_equal(r.err, "");
	run_free(&r);

	/* n3 did not answer: counts stay out of all 3 nodes (so nothing
	 * looks installed everywhere), n3 is named, exit status 1. */
	fake_start(&fk, "{\"ok\":true,\"op\":\"list\",\"nodes\":3,"
		   "\"failed\":1,\"results\":[{\"node\":\"n1\",\"ok\":true},"
		   "{\"node\":\"n2\",\"ok\":true},{\"node\":\"n3\",\"ok\":false,"
		   "\"error\":\"timed out\"}],"
		   "\"keys\":[{\"key\":\"" KEY_A "\",\"installed\":2,"
		   "\"primary\":2}]}\n");
	r = RUN("keys", "list");
	fake_finish(&fk, REQ_LIST);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_string_equal(r.out,
		"KEY                                           PRIMARY  INSTALLED\n"
		KEY_A "  2/3      2/3\n"
		"list: answered by 2 of 3 nodes\n"
		"  n3: timed out\n");
	run_free(&r);
}

static void test_refused(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "{\"ok\":false,\"error\":\"cannot remove the primary "
		   "key: use another key first\"}\n");
	r = RUN("keys", "remove", KEY_A);
	fake_finish(&fk, "{\"cmd\":\"keys\",\"op\":\"remove\",\"key\":\""
		    KEY_A "\"}");
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "xgossipctl: keys remove: cannot remove "
			    "the primary key: use another key first\n");
	run_free(&r);
}

static void test_malformed_reply(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	/* ok but no counts: not taken for success. */
	fake_start(&fk, "{\"ok\":true}\n");
	r = RUN("keys", "install", KEY_A);
	fake_finish(&fk, REQ_INSTALL_A);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "keys install: the agent's reply is "
			       "not as expected (no node count)"));
	run_free(&r);

	/* list without its keys. */
	fake_start(&fk, "{\"ok\":true,\"nodes\":1,\"failed\":0}\n");
	r = RUN("keys", "list");
	fake_finish(&fk, REQ_LIST);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "no list of keys"));
	run_free(&r);

	/* More failed than asked. */
	fake_start(&fk, "{\"ok\":true,\"nodes\":1,\"failed\":2}\n");
	r = RUN("keys", "install", KEY_A);
	fake_finish(&fk, REQ_INSTALL_A);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "failed nodes"));
	run_free(&r);
}

static void test_json_output(void **state)
{
	static const char reply[] =
		"{\"ok\":true,\"op\":\"install\",\"nodes\":3,\"failed\":1,"
		"\"results\":[{\"node\":\"n1\",\"ok\":true},{\"node\":\"n3\","
		"\"ok\":false,\"error\":\"timed out\"}]}";
	json_object *want = json_tokener_parse(reply), *got;
	char line[sizeof(reply) + 1];
	struct fake fk;
	struct run r;

	(void)state;
	assert_non_null(want);
	snprintf(line, sizeof(line), "%s\n", reply);
	fake_start(&fk, line);
	r = RUN("-o", "json", "keys", "install", KEY_A);
	fake_finish(&fk, REQ_INSTALL_A);
	/* The reply as it came, no text; still exit 1, and why on stderr. */
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	got = json_tokener_parse(r.out);
	assert_non_null(got);
	assert_true(json_object_equal(got, want));
	assert_null(strstr(r.out, "applied on"));
	assert_string_equal(r.err, "xgossipctl: keys install: failed on 1 of "
			    "3 nodes\n");
	json_object_put(got);
	json_object_put(want);
	run_free(&r);

	/* An error reply is printed too, as for the other commands. */
	fake_start(&fk, "{\"ok\":false,\"error\":\"unknown key\"}\n");
	r = RUN("-o", "json", "keys", "use", KEY_A);
	fake_finish(&fk, "{\"cmd\":\"keys\",\"op\":\"use\",\"key\":\""
		    KEY_A "\"}");
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	got = json_tokener_parse(r.out);
	assert_non_null(got);
	assert_non_null(strstr(r.err, "keys use: unknown key"));
	json_object_put(got);
	run_free(&r);
}

static void test_unreachable(void **state)
{
	struct run r;

	(void)state;
	unlink(sock_path);
	r = RUN("keys", "list");
	assert_int_equal(r.status, CTL_EXIT_UNREACHABLE);
	assert_string_equal(r.out, "");
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_help_page),
		cmocka_unit_test(test_generate),
		cmocka_unit_test(test_install_all_ok),
		cmocka_unit_test(test_install_one_failed),
		cmocka_unit_test(test_list_table),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_malformed_reply),
		cmocka_unit_test(test_json_output),
		cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
