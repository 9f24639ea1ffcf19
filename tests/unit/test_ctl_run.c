/* SPDX-License-Identifier: MIT */
/* xgossipctl end to end against a scripted fake agent: the request it
 * sends, what it prints, and its exit status (tools/xgossipctl/cmds.c). */
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
#include "../../tools/xgossipctl/cmds.h"

static char dir[64], sock_path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xgctl-test-XXXXXX");
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

enum after_reply {
	CLOSE,        /* hang up right after the scripted bytes */
	WAIT_FOR_EOF, /* keep the connection until the client hangs up */
};

struct fake {
	pid_t pid;
	int   lfd;
	int   req_pipe; /* read end: the request line the fake received */
};

/* Serve one connection from a child process: read a line, report it
 * through a pipe, write `reply` (raw bytes), then hang up as told. */
static void fake_start(struct fake *fk, const char *reply, enum after_reply how)
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
		while (fd >= 0 && n < sizeof(line) - 1 &&
		       read(fd, &line[n], 1) == 1 && line[n] != '\n')
			n++;
		if (write(p[1], line, n) < 0)
			_exit(1);
		close(p[1]);
		if (fd >= 0 && write(fd, reply, strlen(reply)) < 0)
			_exit(1);
		if (how == WAIT_FOR_EOF)
			while (read(fd, line, sizeof(line)) > 0)
				;
		_exit(0);
	}
	close(p[1]);
	fk->req_pipe = p[0];
}

/* The request line the fake got (static buffer); reaps the child. */
static const char *fake_finish(struct fake *fk)
{
	static char req[4096];
	ssize_t n, got = 0;
	int status;

	while ((n = read(fk->req_pipe, req + got, sizeof(req) - 1 - got)) > 0)
		got += n;
	req[got] = '\0';
	close(fk->req_pipe);
	close(fk->lfd);
	assert_int_equal(waitpid(fk->pid, &status, 0), fk->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return req;
}

struct run {
	int   status;
	char *out, *err;
};

/* Parse argv (with --socket pointing at the fake) and run it. */
static struct run run_ctl(int argc, char **argv)
{
	struct run r = { 0 };
	struct ctl_opts o;
	size_t lo = 0, le = 0;
	char msg[256];
	FILE *out = open_memstream(&r.out, &lo);
	FILE *err = open_memstream(&r.err, &le);

	assert_int_equal(ctl_parse_args(argc, argv, sock_path, &o, msg,
					sizeof(msg)), 0);
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

#define RUN(...) run_ctl((int)(sizeof((char *[]){ "xgossipctl", __VA_ARGS__ }) \
			       / sizeof(char *)),			   \
			 (char *[]){ "xgossipctl", __VA_ARGS__, NULL })

static void test_unreachable(void **state)
{
	struct run r;

	(void)state;
	unlink(sock_path);
	r = RUN("members");
	assert_int_equal(r.status, CTL_EXIT_UNREACHABLE);
	assert_non_null(strstr(r.err, sock_path));
	assert_non_null(strstr(r.err, "--socket"));
	assert_string_equal(r.out, "");
	run_free(&r);
}

static void test_members_table(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "{\"ok\":true,\"members\":[{\"name\":\"a\","
		   "\"addr\":\"198.18.0.1:7946\",\"status\":\"alive\","
		   "\"incarnation\":2,\"tags\":{\"k\":\"v\"}}]}\n", CLOSE);
	r = RUN("members", "--status", "alive");
	assert_string_equal(fake_finish(&fk),
			    "{\"cmd\":\"members\",\"status\":\"alive\"}");
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out,
		"Name  Address          Status  Incarnation  Tags\n"
		"a     198.18.0.1:7946  alive   2            k=v\n");
	assert_string_equal(r.err, "");
	run_free(&r);
}

static void test_json_output(void **state)
{
	struct fake fk;
	struct run r;
	json_object *o, *v;

	(void)state;
	fake_start(&fk, "{\"ok\":true,\"joined\":2}\n", CLOSE);
	r = RUN("-o", "json", "join", "198.18.0.2", "198.18.0.3");
	assert_string_equal(fake_finish(&fk), "{\"cmd\":\"join\",\"addrs\":"
			    "[\"198.18.0.2\",\"198.18.0.3\"]}");
	assert_int_equal(r.status, CTL_EXIT_OK);
	o = json_tokener_parse(r.out);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "joined", &v));
	assert_int_equal(json_object_get_int(v), 2);
	json_object_put(o);
	run_free(&r);
}

static void test_refused(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "{\"ok\":false,\"error\":\"tags too large\"}\n", CLOSE);
	r = RUN("tags", "set", "a=b");
	fake_finish(&fk);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "tags set: tags too large"));
	run_free(&r);
}

static void test_no_reply_in_time(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "", WAIT_FOR_EOF);
	r = RUN("--timeout", "100ms", "info");
	fake_finish(&fk);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "no reply from the agent"));
	assert_non_null(strstr(r.err, "100ms"));
	run_free(&r);
}

static void test_hangup_and_garbage(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, "", CLOSE);
	r = RUN("leave");
	fake_finish(&fk);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "closed the connection"));
	run_free(&r);

	fake_start(&fk, "[1,2]\n", CLOSE);
	r = RUN("leave");
	fake_finish(&fk);
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "not a JSON object"));
	run_free(&r);
}

static void test_monitor_until_agent_leaves(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk,
		"{\"ok\":true,\"events\":[\"join\",\"fail\"]}\n"
		"{\"event\":\"join\",\"time\":\"2023-11-14T22:13:20.000000Z\","
		"\"name\":\"b\",\"addr\":\"198.18.0.2:7946\",\"status\":\"alive\","
		"\"incarnation\":1,\"tags\":{}}\n"
		"{\"event\":\"fail\",\"time\":\"2023-11-14T22:13:25.000000Z\","
		"\"name\":\"b\",\"addr\":\"198.18.0.2:7946\",\"status\":\"dead\","
		"\"incarnation\":1,\"tags\":{}}\n", CLOSE);
	r = RUN("monitor", "--events", "join,fail", "-o", "json");
	assert_string_equal(fake_finish(&fk), "{\"cmd\":\"monitor\","
			    "\"events\":[\"join\",\"fail\"]}");
	/* The agent went away: events were printed, then status 1. */
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "closed the connection"));
	assert_string_equal(r.out,
		"{\"event\":\"join\",\"time\":\"2023-11-14T22:13:20.000000Z\","
		"\"name\":\"b\",\"addr\":\"198.18.0.2:7946\",\"status\":\"alive\","
		"\"incarnation\":1,\"tags\":{}}\n"
		"{\"event\":\"fail\",\"time\":\"2023-11-14T22:13:25.000000Z\","
		"\"name\":\"b\",\"addr\":\"198.18.0.2:7946\",\"status\":\"dead\","
		"\"incarnation\":1,\"tags\":{}}\n");
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unreachable),
		cmocka_unit_test(test_members_table),
		cmocka_unit_test(test_json_output),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_no_reply_in_time),
		cmocka_unit_test(test_hangup_and_garbage),
		cmocka_unit_test(test_monitor_until_agent_leaves),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
