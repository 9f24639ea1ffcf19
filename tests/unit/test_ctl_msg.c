/* SPDX-License-Identifier: MIT */
/* xgossipctl broadcast, send and subscribe (tools/xgossipctl/cmd_msg.c,
 * msg_payload.c, msg_text.c): the command-line rules, topic checks,
 * reading the payload, the size limit, the line printed per message,
 * and the three commands end to end against a fake agent that records
 * the request and answers with a canned reply. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../tools/xgossipctl/args.h"
#include "../../tools/xgossipctl/cmd_msg.h"
#include "../../tools/xgossipctl/cmds.h"
#include "../../tools/xgossipctl/help.h"
#include "../../tools/xgossipctl/msg_payload.h"
#include "../../tools/xgossipctl/msg_text.h"
#include "util/base64.h"

#define ARGV(...) ((char *[]){ "xgossipctl", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "xgossipctl", __VA_ARGS__ }) / \
			 sizeof(char *)))

#define SEC 1000000000ULL

static char errbuf[512];
static char dir[64], sock_path[128], req_path[128], file_path[128];

#define PARSE(o, ...) \
	ctl_parse_args(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), sock_path, o, \
		       errbuf, sizeof(errbuf))

/* A usage error (exit status 2, nothing sent) whose message has want. */
#define PARSE_BAD(want, ...) do {					\
	struct ctl_opts o_;						\
	assert_int_equal(PARSE(&o_, __VA_ARGS__), -EINVAL);		\
	if (!strstr(errbuf, want))					\
		fail_msg("\"%s\" lacks \"%s\"", errbuf, want);		\
	ctl_opts_free(&o_);						\
} while (0)

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/xgctl-msg-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", dir);
	snprintf(req_path, sizeof(req_path), "%s/request", dir);
	snprintf(file_path, sizeof(file_path), "%s/payload", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	unlink(req_path);
	unlink(file_path);
	rmdir(dir);
	return 0;
}

static void write_file(const char *path, const void *data, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

/* The request a parsed command line would send, with payload p. */
static const char *request_of(struct ctl_opts *o, const char *p)
{
	static char buf[2048];
	json_object *req;

	o->payload = (const uint8_t *)p;
	o->payload_len = p ? strlen(p) : 0;
	req = ctl_build_request(o);
	assert_non_null(req);
	snprintf(buf, sizeof(buf), "%s", json_object_to_json_string_ext(req,
		 JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(req);
	return buf;
}

/* ---- command line ------------------------------------------------------ */

static void test_parse_broadcast(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "broadcast", "deploy"), 0);
	assert_int_equal(o.cmd, CTL_CMD_BROADCAST);
	assert_string_equal(o.topic, "deploy");
	assert_null(o.payload_path);
	assert_true(o.timeout_ns == 10 * SEC);
	assert_string_equal(request_of(&o, "hello!"), "{\"cmd\":\"broadcast\","
			    "\"topic\":\"deploy\",\"payload\":\"aGVsbG8h\"}");
	/* An empty payload is a message too. */
	assert_string_equal(request_of(&o, NULL), "{\"cmd\":\"broadcast\","
			    "\"topic\":\"deploy\",\"payload\":\"\"}");
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "broadcast", "a topic", "-"), 0);
	assert_string_equal(o.topic, "a topic");
	assert_string_equal(o.payload_path, "-");
	ctl_opts_free(&o);

	/* Options anywhere; "--" lets a topic start with '-'. */
	assert_int_equal(PARSE(&o, "-o", "json", "broadcast", "--", "-t",
			       "/etc/hosts"), 0);
	assert_string_equal(o.topic, "-t");
	assert_string_equal(o.payload_path, "/etc/hosts");
	assert_int_equal(o.output, CTL_OUT_JSON);
	ctl_opts_free(&o);

	PARSE_BAD("broadcast needs a TOPIC", "broadcast");
	PARSE_BAD("broadcast takes one FILE at most", "broadcast", "t", "a",
		  "b");
	PARSE_BAD("--count is an option of subscribe", "broadcast", "t",
		  "--count", "1");
	PARSE_BAD("--raw is an option of subscribe", "broadcast", "t",
		  "--raw");
}

static void test_parse_send(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "send", "n3", "ops", "./f"), 0);
	assert_int_equal(o.cmd, CTL_CMD_SEND);
	assert_string_equal(o.node, "n3");
	assert_string_equal(o.topic, "ops");
	assert_string_equal(o.payload_path, "./f");
	/* The agent takes up to ~5 s to answer: more than the usual 10 s
	 * budget unless the user chose one. */
	assert_true(o.timeout_ns >= 15 * SEC);
	assert_true(o.timeout_ns == CTL_SEND_DEFAULT_TIMEOUT_NS);
	assert_string_equal(request_of(&o, "hi"), "{\"cmd\":\"send\","
			    "\"node\":\"n3\",\"topic\":\"ops\","
			    "\"payload\":\"aGk=\"}");
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "--timeout", "3s", "send",
			       "41fe335b8564b6ff", "ops"), 0);
	assert_true(o.timeout_ns == 3 * SEC);
	assert_string_equal(o.node, "41fe335b8564b6ff");
	assert_null(o.payload_path);
	ctl_opts_free(&o);

	/* A 63-byte name is the longest a member can have. */
	assert_int_equal(PARSE(&o, "send",
		"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
		"t"), 0);
	ctl_opts_free(&o);

	PARSE_BAD("send needs a NODE and a TOPIC", "send");
	PARSE_BAD("send needs a TOPIC", "send", "n3");
	PARSE_BAD("send takes one FILE at most", "send", "n3", "t", "a", "b");
	PARSE_BAD("invalid NODE", "send", "", "t");
	PARSE_BAD("invalid NODE", "send", "node 3", "t");
	PARSE_BAD("invalid NODE", "send", "n\x01", "t");
	PARSE_BAD("invalid NODE", "send",
		"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
		"t");
	PARSE_BAD("invalid topic", "send", "n3", "");
}

static void test_parse_subscribe(void **state)
{
	struct ctl_opts o;

	(void)state;
	assert_int_equal(PARSE(&o, "subscribe"), 0);
	assert_int_equal(o.cmd, CTL_CMD_SUBSCRIBE);
	assert_false(o.raw);
	assert_true(o.count == 0);
	assert_string_equal(request_of(&o, NULL), "{\"cmd\":\"subscribe\"}");
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "subscribe", "--raw", "deploy", "--count",
			       "3", "a b"), 0);
	assert_true(o.raw);
	assert_true(o.count == 3);
	assert_string_equal(request_of(&o, NULL), "{\"cmd\":\"subscribe\","
			    "\"topics\":[\"deploy\",\"a b\"]}");
	ctl_opts_free(&o);

	assert_int_equal(PARSE(&o, "subscribe", "--count=4294967295", "-o",
			       "json"), 0);
	assert_true(o.count == 4294967295ULL);
	ctl_opts_free(&o);

	PARSE_BAD("--raw and -o json exclude each other", "subscribe",
		  "--raw", "-o", "json");
	PARSE_BAD("--count wants a whole number", "subscribe", "--count",
		  "0");
	PARSE_BAD("--count wants a whole number", "subscribe", "--count",
		  "-1");
	PARSE_BAD("--count wants a whole number", "subscribe", "--count",
		  "2x");
	PARSE_BAD("--count wants a whole number", "subscribe", "--count",
		  "4294967296");
	PARSE_BAD("--count wants a whole number", "subscribe", "--count",
		  "99999999999999999999999");
	PARSE_BAD("--count needs a value", "subscribe", "--count");
	PARSE_BAD("--count is an option of subscribe", "monitor", "--count",
		  "1");
	PARSE_BAD("--raw is an option of subscribe", "members", "--raw");
	PARSE_BAD("invalid topic \"\"", "subscribe", "ok", "");
}

static void test_subscribe_topic_limit(void **state)
{
	char *argv[CTL_SUBSCRIBE_MAX_TOPICS + 4];
	char names[CTL_SUBSCRIBE_MAX_TOPICS + 1][16];
	struct ctl_opts o;
	int i;

	(void)state;
	argv[0] = "xgossipctl";
	argv[1] = "subscribe";
	for (i = 0; i <= CTL_SUBSCRIBE_MAX_TOPICS; i++) {
		snprintf(names[i], sizeof(names[i]), "t%d", i);
		argv[i + 2] = names[i];
	}
	argv[CTL_SUBSCRIBE_MAX_TOPICS + 3] = NULL;
	assert_int_equal(ctl_parse_args(CTL_SUBSCRIBE_MAX_TOPICS + 1, argv,
					 NULL, &o, errbuf, sizeof(errbuf)), 0);
	assert_int_equal(o.nargs, CTL_SUBSCRIBE_MAX_TOPICS - 1);
	ctl_opts_free(&o);
	assert_int_equal(ctl_parse_args(CTL_SUBSCRIBE_MAX_TOPICS + 2, argv,
					 NULL, &o, errbuf, sizeof(errbuf)), 0);
	ctl_opts_free(&o);
	assert_int_equal(ctl_parse_args(CTL_SUBSCRIBE_MAX_TOPICS + 3, argv,
					 NULL, &o, errbuf, sizeof(errbuf)),
			 -EINVAL);
	assert_non_null(strstr(errbuf, "at most 64 topics"));
	ctl_opts_free(&o);
}

static void test_topic_rules(void **state)
{
	struct ctl_opts o;

	(void)state;
	/* 1..64 bytes of 0x20..0x7e, blanks and punctuation included. */
	assert_int_equal(PARSE(&o, "broadcast", "x"), 0);
	ctl_opts_free(&o);
	assert_int_equal(PARSE(&o, "broadcast", " ~!\"#$%&'()*+,./:;<=>?@[]"),
			 0);
	ctl_opts_free(&o);
	assert_int_equal(PARSE(&o, "broadcast",
		"0123456789012345678901234567890123456789012345678901234567890123"),
		0);
	ctl_opts_free(&o);
	PARSE_BAD("want 1 to 64 printable ASCII", "broadcast",
		"01234567890123456789012345678901234567890123456789012345678901234");
	PARSE_BAD("invalid topic", "broadcast", "");
	PARSE_BAD("invalid topic", "broadcast", "tab\there");
	PARSE_BAD("invalid topic", "broadcast", "new\nline");
	PARSE_BAD("invalid topic", "broadcast", "del\x7f");
	PARSE_BAD("invalid topic", "broadcast", "caf\xc3\xa9");
	PARSE_BAD("invalid topic", "subscribe", "caf\xc3\xa9");
}

static void test_help_pages(void **state)
{
	static char *const cmds[] = { "broadcast", "send", "subscribe" };
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		struct ctl_opts o;
		char *page = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&page, &len);

		assert_int_equal(PARSE(&o, cmds[i], "--help"), 0);
		assert_int_equal(ctl_run(&o, f, stderr), CTL_EXIT_OK);
		fclose(f);
		assert_non_null(strstr(page, "SYNOPSIS"));
		assert_non_null(strstr(page, cmds[i]));
		assert_non_null(strstr(page, "EXIT STATUS"));
		free(page);
		ctl_opts_free(&o);
	}
}

/* ---- reading the payload ----------------------------------------------- */

static void test_payload_from_file(void **state)
{
	static const uint8_t bin[] = { 0, 1, 2, 0xff, '\n', 0 };
	uint8_t *buf;
	size_t len;

	(void)state;
	write_file(file_path, bin, sizeof(bin));
	assert_int_equal(ctl_payload_read(file_path, -1, 100, &buf, &len), 0);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(buf, bin, sizeof(bin));
	free(buf);

	/* Exactly the limit is fine, one byte more is not. */
	assert_int_equal(ctl_payload_read(file_path, -1, sizeof(bin), &buf,
					  &len), 0);
	free(buf);
	assert_int_equal(ctl_payload_read(file_path, -1, sizeof(bin) - 1, &buf,
					  &len), -EFBIG);
	assert_null(buf);

	/* An empty file: a buffer all the same, of 0 bytes. */
	write_file(file_path, "", 0);
	assert_int_equal(ctl_payload_read(file_path, -1, 100, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);

	assert_int_equal(ctl_payload_read("/nonexistent/xg", -1, 100, &buf,
					  &len), -ENOENT);
	assert_int_equal(ctl_payload_read(dir, -1, 100, &buf, &len), -EISDIR);
	assert_null(buf);
}

/* A pipe whose read end holds n bytes of c (n fits the pipe buffer) and
 * is closed for writing. */
static int pipe_with(int c, size_t n)
{
	char data[4096];
	int p[2];

	assert_true(n <= sizeof(data));
	memset(data, c, n);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], data, n), (ssize_t)n);
	close(p[1]);
	return p[0];
}

static void test_payload_from_stdin(void **state)
{
	uint8_t *buf;
	size_t len;
	int fd;

	(void)state;
	/* NULL and "-" both mean the given standard input. */
	fd = pipe_with('a', 3000);
	assert_int_equal(ctl_payload_read(NULL, fd, 3000, &buf, &len), 0);
	assert_int_equal(len, 3000);
	assert_true(buf[0] == 'a' && buf[2999] == 'a');
	free(buf);
	close(fd);

	fd = pipe_with('b', 10);
	assert_int_equal(ctl_payload_read("-", fd, 3000, &buf, &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(buf, "bbbbbbbbbb", 10);
	free(buf);
	close(fd);

	fd = pipe_with('c', 3001);
	assert_int_equal(ctl_payload_read("-", fd, 3000, &buf, &len), -EFBIG);
	assert_null(buf);
	close(fd);

	fd = pipe_with('d', 0);
	assert_int_equal(ctl_payload_read_fd(fd, 3000, &buf, &len), 0);
	assert_non_null(buf);
	assert_int_equal(len, 0);
	free(buf);
	close(fd);
}

/* A writer that pushes more than the limit through a pipe: the reader
 * stops at the first byte over it instead of swallowing everything. */
static void test_payload_limit_on_a_stream(void **state)
{
	uint8_t *buf;
	size_t len;
	pid_t pid;
	int p[2], status;

	(void)state;
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		static char chunk[65536];
		size_t sent = 0;

		close(p[0]);
		memset(chunk, 'z', sizeof(chunk));
		/* 16 MiB + 64 KiB, then EOF; EPIPE once the reader quit. */
		while (sent < CTL_MSG_MAX_PAYLOAD + sizeof(chunk)) {
			if (write(p[1], chunk, sizeof(chunk)) < 0)
				_exit(0);
			sent += sizeof(chunk);
		}
		_exit(0);
	}
	close(p[1]);
	assert_int_equal(ctl_payload_read_fd(p[0], CTL_MSG_MAX_PAYLOAD, &buf,
					     &len), -EFBIG);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
}

/* ---- the line printed per message --------------------------------------- */

static json_object *event(const char *json)
{
	json_object *o = json_tokener_parse(json);

	assert_non_null(o);
	return o;
}

/* The text line ctl_msg_print_text() makes of a message event. */
static char *text_of(const char *json)
{
	struct ctl_msg_event m;
	json_object *ev = event(json);
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	assert_int_equal(ctl_msg_event_read(ev, &m), 0);
	ctl_msg_print_text(f, &m);
	fclose(f);
	ctl_msg_event_free(&m);
	json_object_put(ev);
	return s;
}

#define MSG(name, topic, size, b64)					\
	"{\"event\":\"message\",\"kind\":\"broadcast\","		\
	"\"id\":\"000102030405060708090a0b0c0d0e0f\","			\
	"\"origin\":\"41fe335b8564b6ff\",\"origin_name\":" name ","	\
	"\"topic\":\"" topic "\",\"hops\":1,"				\
	"\"sent\":\"2026-11-22T03:39:20.259Z\","			\
	"\"received\":\"2026-11-22T03:39:20.260547Z\","			\
	"\"size\":" size ",\"payload\":\"" b64 "\"}"

/* Cells of the columns before the payload, as printed. */
#define ROW(from, topic, size)						\
	"2026-11-22T03:39:20.260547Z  broadcast  " from topic size

static void expect_text(const char *json, const char *want)
{
	char *got = text_of(json);

	assert_string_equal(got, want);
	free(got);
}

static void test_text_line(void **state)
{
	char *s = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&s, &n);

	(void)state;
	ctl_msg_print_header(f);
	fclose(f);
	assert_string_equal(s, "Received                     Kind       "
			    "From              Topic             Size      "
			    "Payload\n");
	free(s);

	/* Text is shown; a final newline (echo's) is not. */
	expect_text(MSG("\"n2\"", "deploy", "6", "aGVsbG8h"),
		    "2026-11-22T03:39:20.260547Z  broadcast  n2                "
		    "deploy            6         hello!\n");
	expect_text(MSG("\"n2\"", "deploy", "6", "aGVsbG8K"),
		    ROW("n2                ", "deploy            ",
			"6         ") "hello\n");
	/* No name known: the node id. */
	expect_text(MSG("null", "t", "2", "aGk="),
		    ROW("41fe335b8564b6ff  ", "t                 ",
			"2         ") "hi\n");
	/* UTF-8 text is text ("héllo ✓"). */
	expect_text(MSG("\"n2\"", "t", "10", "aMOpbGxvIOKckw=="),
		    ROW("n2                ", "t                 ",
			"10        ") "h\xc3\xa9llo \xe2\x9c\x93\n");
	/* Binary, control characters, two lines, bad UTF-8: a size. */
	expect_text(MSG("\"n2\"", "t", "4", "AAEC/w=="),
		    ROW("n2                ", "t                 ",
			"4         ") "<4 bytes>\n");
	expect_text(MSG("\"n2\"", "t", "1", "AA=="),
		    ROW("n2                ", "t                 ",
			"1         ") "<1 byte>\n");
	expect_text(MSG("\"n2\"", "t", "0", ""),
		    ROW("n2                ", "t                 ",
			"0         ") "<0 bytes>\n");
	/* "a\tb" */
	expect_text(MSG("\"n2\"", "t", "3", "YQli"),
		    ROW("n2                ", "t                 ",
			"3         ") "<3 bytes>\n");
	/* "a\nb" */
	expect_text(MSG("\"n2\"", "t", "3", "YQpi"),
		    ROW("n2                ", "t                 ",
			"3         ") "<3 bytes>\n");
	/* "\x1b[2J": a terminal escape never reaches the terminal. */
	expect_text(MSG("\"n2\"", "t", "4", "G1sySg=="),
		    ROW("n2                ", "t                 ",
			"4         ") "<4 bytes>\n");
	/* A long topic and name push the rest right. */
	expect_text(MSG("\"a-rather-long-node-name\"", "a-topic-longer-than-16",
			"2", "aGk="),
		    ROW("a-rather-long-node-name  ", "a-topic-longer-than-16  ",
			"2         ") "hi\n");
}

static void test_line_text_rules(void **state)
{
	(void)state;
	assert_true(ctl_msg_is_line_text((const uint8_t *)"x", 1));
	assert_true(ctl_msg_is_line_text((const uint8_t *)"x\n", 2));
	assert_true(ctl_msg_is_line_text((const uint8_t *)" ", 1));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"", 0));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\n", 1));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"x\n\n", 3));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"x\r\n", 3));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"a\0b", 3));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\x7f", 1));
	/* U+0085 (a C1 control), an overlong '/', a surrogate, past
	 * U+10FFFF, a cut sequence, a lone continuation byte. */
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\xc2\x85", 2));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\xc0\xaf", 2));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\xed\xa0\x80", 3));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\xf4\x90\x80\x80",
					  4));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\xe2\x9c", 2));
	assert_false(ctl_msg_is_line_text((const uint8_t *)"\x80", 1));
	/* U+00A0, U+FFFD and U+1F600 are text. */
	assert_true(ctl_msg_is_line_text((const uint8_t *)"\xc2\xa0", 2));
	assert_true(ctl_msg_is_line_text((const uint8_t *)"\xef\xbf\xbd", 3));
	assert_true(ctl_msg_is_line_text((const uint8_t *)"\xf0\x9f\x98\x80",
					 4));
}

/* Text past CTL_MSG_TEXT_SHOWN characters is cut, on a character
 * boundary, and marked. */
static void test_long_text_cut(void **state)
{
	char text[300 * 2 + 1], b64[XG_B64_ENCODED_LEN(600) + 1];
	char json[2048], want[1024], *got, *p;
	size_t i;

	(void)state;
	for (i = 0; i < 300; i++)
		memcpy(&text[2 * i], "\xc3\xa9", 2); /* é */
	xg_b64_encode((const uint8_t *)text, 600, b64);
	snprintf(json, sizeof(json), "{\"event\":\"message\",\"topic\":\"t\","
		 "\"received\":\"r\",\"kind\":\"unicast\",\"origin\":\"o\","
		 "\"size\":600,\"payload\":\"%s\"}", b64);
	got = text_of(json);
	p = want + snprintf(want, sizeof(want), "%-27s  %-9s  %-16s  %-16s  "
			    "%-8s  ", "r", "unicast", "o", "t", "600");
	memcpy(p, text, 2 * CTL_MSG_TEXT_SHOWN);
	strcpy(p + 2 * CTL_MSG_TEXT_SHOWN, "...\n");
	assert_string_equal(got, want);
	free(got);
}

static void test_event_read(void **state)
{
	struct ctl_msg_event m;
	json_object *ev;

	(void)state;
	/* Other events are skipped, not errors. */
	ev = event("{\"event\":\"join\",\"name\":\"n2\"}");
	assert_int_equal(ctl_msg_event_read(ev, &m), 1);
	json_object_put(ev);

	ev = event(MSG("\"n2\"", "deploy", "2", "aGk="));
	assert_int_equal(ctl_msg_event_read(ev, &m), 0);
	assert_string_equal(m.topic, "deploy");
	assert_string_equal(m.from, "n2");
	assert_string_equal(m.kind, "broadcast");
	assert_int_equal(m.len, 2);
	assert_memory_equal(m.payload, "hi", 2);
	ctl_msg_event_free(&m);
	json_object_put(ev);

	/* Not canonical base64, a size that disagrees, no payload, no
	 * topic: the agent and this client disagree, stop. */
	ev = event(MSG("\"n2\"", "t", "2", "aGk"));
	assert_int_equal(ctl_msg_event_read(ev, &m), -EBADMSG);
	json_object_put(ev);
	ev = event(MSG("\"n2\"", "t", "2", "aGl="));
	assert_int_equal(ctl_msg_event_read(ev, &m), -EBADMSG);
	json_object_put(ev);
	ev = event(MSG("\"n2\"", "t", "3", "aGk="));
	assert_int_equal(ctl_msg_event_read(ev, &m), -EBADMSG);
	json_object_put(ev);
	ev = event("{\"event\":\"message\",\"topic\":\"t\"}");
	assert_int_equal(ctl_msg_event_read(ev, &m), -EBADMSG);
	json_object_put(ev);
	ev = event("{\"event\":\"message\",\"payload\":\"aGk=\"}");
	assert_int_equal(ctl_msg_event_read(ev, &m), -EBADMSG);
	json_object_put(ev);
}

static void test_rtt_format(void **state)
{
	char b[32];

	(void)state;
	ctl_msg_format_rtt(850, b, sizeof(b));
	assert_string_equal(b, "850us");
	ctl_msg_format_rtt(1234, b, sizeof(b));
	assert_string_equal(b, "1.2ms");
	ctl_msg_format_rtt(999949, b, sizeof(b));
	assert_string_equal(b, "999.9ms");
	ctl_msg_format_rtt(999950, b, sizeof(b));
	assert_string_equal(b, "1.00s");
	ctl_msg_format_rtt(2345678, b, sizeof(b));
	assert_string_equal(b, "2.35s");
}

/* ---- end to end against a fake agent ------------------------------------ */

enum after_reply {
	CLOSE,        /* hang up right after the scripted bytes */
	WAIT_FOR_EOF, /* keep the connection until the client hangs up */
};

struct fake {
	pid_t pid;
	int   lfd;
};

/* Serve one connection from a child: read a line (any length) into
 * req_path, write `reply`, then hang up as told.  The child gives up
 * after 10 s so that a client that never hangs up fails the test rather
 * than stalls it. */
static void fake_start(struct fake *fk, const char *reply, enum after_reply how)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	unlink(req_path);
	fk->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(fk->lfd >= 0);
	assert_int_equal(bind(fk->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fk->lfd, 1), 0);
	fk->pid = fork();
	assert_true(fk->pid >= 0);
	if (fk->pid == 0) {
		static char chunk[65536];
		FILE *req = fopen(req_path, "wb");
		int fd;
		ssize_t n;

		alarm(10);
		fd = accept(fk->lfd, NULL, NULL);
		if (!req || fd < 0)
			_exit(1);
		for (;;) {
			char *nl;

			n = read(fd, chunk, sizeof(chunk));
			if (n <= 0)
				_exit(1);
			nl = memchr(chunk, '\n', (size_t)n);
			fwrite(chunk, 1, nl ? (size_t)(nl - chunk) : (size_t)n,
			       req);
			if (nl)
				break;
		}
		if (fclose(req))
			_exit(1);
		if (write(fd, reply, strlen(reply)) < 0)
			_exit(1);
		if (how == WAIT_FOR_EOF)
			while (read(fd, chunk, sizeof(chunk)) > 0)
				;
		_exit(0);
	}
}

/* The request line the fake got (malloc'd); reaps the child, which must
 * have done all it was told. */
static char *fake_finish(struct fake *fk)
{
	char *req = NULL;
	size_t n = 0;
	FILE *f;
	int status, c;

	close(fk->lfd);
	assert_int_equal(waitpid(fk->pid, &status, 0), fk->pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	f = fopen(req_path, "rb");
	assert_non_null(f);
	{
		FILE *m = open_memstream(&req, &n);

		while ((c = fgetc(f)) != EOF)
			fputc(c, m);
		fclose(m);
	}
	fclose(f);
	return req;
}

struct run {
	int   status;
	char *out, *err;
	size_t out_len;
};

/* Parse argv (the socket is the fake's) and run it, standard input from
 * stdin_fd when not -1. */
static struct run run_ctl(int argc, char **argv, int stdin_fd)
{
	struct run r = { 0 };
	struct ctl_opts o;
	size_t le = 0;
	char msg[256];
	FILE *out = open_memstream(&r.out, &r.out_len);
	FILE *err = open_memstream(&r.err, &le);
	int saved = -1;

	assert_int_equal(ctl_parse_args(argc, argv, sock_path, &o, msg,
					sizeof(msg)), 0);
	if (stdin_fd >= 0) {
		saved = dup(STDIN_FILENO);
		assert_true(saved >= 0);
		assert_int_equal(dup2(stdin_fd, STDIN_FILENO), STDIN_FILENO);
	}
	r.status = ctl_run(&o, out, err);
	if (saved >= 0) {
		assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
		close(saved);
	}
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

#define RUN(...) run_ctl(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), -1)
#define RUN_STDIN(fd, ...) run_ctl(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), fd)

static void test_broadcast_from_file(void **state)
{
	struct fake fk;
	struct run r;
	char *req;

	(void)state;
	write_file(file_path, "hello!", 6);
	fake_start(&fk, "{\"ok\":true,\"id\":\"41fe335b8564b6ff0000000100000007\","
		   "\"size\":6,\"sent\":\"2026-11-22T03:39:20.259000Z\"}\n",
		   CLOSE);
	r = RUN("broadcast", "deploy", file_path);
	req = fake_finish(&fk);
	assert_string_equal(req, "{\"cmd\":\"broadcast\",\"topic\":\"deploy\","
			    "\"payload\":\"aGVsbG8h\"}");
	free(req);
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out,
			    "id=41fe335b8564b6ff0000000100000007 size=6\n");
	assert_string_equal(r.err, "");
	run_free(&r);

	/* -o json: the agent's reply as it is. */
	fake_start(&fk, "{\"ok\":true,\"id\":\"41fe335b8564b6ff0000000100000008\","
		   "\"size\":6,\"sent\":\"2026-11-22T03:39:20.259000Z\"}\n",
		   CLOSE);
	r = RUN("-o", "json", "broadcast", "deploy", file_path);
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_OK);
	{
		json_object *o = json_tokener_parse(r.out), *v;

		assert_non_null(o);
		assert_true(json_object_object_get_ex(o, "sent", &v));
		assert_string_equal(json_object_get_string(v),
				    "2026-11-22T03:39:20.259000Z");
		json_object_put(o);
	}
	run_free(&r);
}

static void test_broadcast_from_stdin(void **state)
{
	struct fake fk;
	struct run r;
	char *req;
	int fd;

	(void)state;
	fd = pipe_with('x', 3);
	fake_start(&fk, "{\"ok\":true,\"id\":\"00000000000000000000000000000001\","
		   "\"size\":3}\n", CLOSE);
	r = RUN_STDIN(fd, "broadcast", "t");
	close(fd);
	req = fake_finish(&fk);
	assert_string_equal(req, "{\"cmd\":\"broadcast\",\"topic\":\"t\","
			    "\"payload\":\"eHh4\"}");
	free(req);
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out,
			    "id=00000000000000000000000000000001 size=3\n");
	run_free(&r);

	/* The agent refuses: its reason, status 1. */
	fd = pipe_with('x', 3);
	fake_start(&fk, "{\"ok\":false,\"error\":\"broadcast failed: seen table "
		   "full\"}\n", CLOSE);
	r = RUN_STDIN(fd, "broadcast", "t", "-");
	close(fd);
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "broadcast: broadcast failed: seen "
			       "table full"));
	assert_string_equal(r.out, "");
	run_free(&r);
}

/* The largest payload crosses whole; one byte more is a usage error
 * before any connection (the socket does not even exist). */
static void test_payload_size_limit(void **state)
{
	uint8_t *big = malloc(CTL_MSG_MAX_PAYLOAD + 1), *back;
	json_object *o, *v;
	struct fake fk;
	struct run r;
	size_t i, n;
	char *req;

	(void)state;
	assert_non_null(big);
	for (i = 0; i <= CTL_MSG_MAX_PAYLOAD; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 12));
	write_file(file_path, big, CTL_MSG_MAX_PAYLOAD);
	fake_start(&fk, "{\"ok\":true,\"id\":\"00000000000000000000000000000002\","
		   "\"size\":16777216}\n", CLOSE);
	r = RUN("broadcast", "big", file_path);
	req = fake_finish(&fk);
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out,
			    "id=00000000000000000000000000000002 size=16777216\n");
	run_free(&r);
	o = json_tokener_parse(req);
	free(req);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "payload", &v));
	n = (size_t)json_object_get_string_len(v);
	back = malloc(CTL_MSG_MAX_PAYLOAD);
	assert_non_null(back);
	assert_int_equal(xg_b64_decode(json_object_get_string(v), n, back,
				       CTL_MSG_MAX_PAYLOAD, &n), 0);
	assert_int_equal(n, CTL_MSG_MAX_PAYLOAD);
	assert_memory_equal(back, big, CTL_MSG_MAX_PAYLOAD);
	free(back);
	json_object_put(o);

	write_file(file_path, big, CTL_MSG_MAX_PAYLOAD + 1);
	free(big);
	unlink(sock_path);
	r = RUN("send", "n3", "big", file_path);
	assert_int_equal(r.status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r.err, "send: the payload"));
	assert_non_null(strstr(r.err, "larger than 16 MiB"));
	assert_non_null(strstr(r.err, "nothing was sent"));
	assert_string_equal(r.out, "");
	run_free(&r);

	r = RUN("broadcast", "t", "/nonexistent/payload");
	assert_int_equal(r.status, CTL_EXIT_USAGE);
	assert_non_null(strstr(r.err, "cannot read the payload from "
			       "/nonexistent/payload"));
	run_free(&r);
}

static void test_send(void **state)
{
	struct fake fk;
	struct run r;
	char *req;

	(void)state;
	write_file(file_path, "restart", 7);
	fake_start(&fk, "{\"ok\":true,\"node\":\"n3\",\"id\":"
		   "\"41fe335b8564b6ff0000000100000009\",\"size\":7,"
		   "\"rtt_us\":1234}\n", CLOSE);
	r = RUN("send", "n3", "ops", file_path);
	req = fake_finish(&fk);
	assert_string_equal(req, "{\"cmd\":\"send\",\"node\":\"n3\","
			    "\"topic\":\"ops\",\"payload\":\"cmVzdGFydA==\"}");
	free(req);
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out, "delivered to n3 id=41fe335b8564b6ff0000000"
			    "100000009 rtt=1.2ms\n");
	run_free(&r);

	fake_start(&fk, "{\"ok\":false,\"error\":\"n3: refused\"}\n", CLOSE);
	r = RUN("send", "n3", "ops", file_path);
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "send: n3: refused"));
	assert_string_equal(r.out, "");
	run_free(&r);

	/* An "ok" reply without what it should hold is a failure too. */
	fake_start(&fk, "{\"ok\":true}\n", CLOSE);
	r = RUN("send", "n3", "ops", file_path);
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "not as expected"));
	run_free(&r);

	/* No answer within --timeout (explicit, so it wins over 20 s). */
	fake_start(&fk, "", WAIT_FOR_EOF);
	r = RUN("--timeout", "100ms", "send", "n3", "ops", file_path);
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "no reply from the agent"));
	run_free(&r);
}

#define STREAM_OK "{\"ok\":true,\"topics\":[\"deploy\"]}\n"
#define M1 MSG("\"n2\"", "deploy", "6", "aGVsbG8h")
#define M2 MSG("null", "deploy", "4", "AAEC/w==")
#define M3 MSG("\"n4\"", "deploy", "2", "aGk=")
#define JOIN "{\"event\":\"join\",\"name\":\"n5\"}"

/* --count: the client stops by itself after N messages (the fake waits
 * for it to hang up); other events do not count. */
static void test_subscribe_count(void **state)
{
	struct fake fk;
	struct run r;
	char *req;

	(void)state;
	fake_start(&fk, STREAM_OK JOIN "\n" M1 "\n" M2 "\n" M3 "\n",
		   WAIT_FOR_EOF);
	r = RUN("subscribe", "--count", "2", "deploy");
	req = fake_finish(&fk);
	assert_string_equal(req, "{\"cmd\":\"subscribe\",\"topics\":"
			    "[\"deploy\"]}");
	free(req);
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out,
		"Received                     Kind       From              "
		"Topic             Size      Payload\n"
		"2026-11-22T03:39:20.260547Z  broadcast  n2                "
		"deploy            6         hello!\n"
		"2026-11-22T03:39:20.260547Z  broadcast  41fe335b8564b6ff  "
		"deploy            4         <4 bytes>\n");
	assert_string_equal(r.err, "");
	run_free(&r);
}

static void test_subscribe_raw_and_json(void **state)
{
	static const char want_raw[] = "hello!\n\x00\x01\x02\xff\n";
	struct fake fk;
	struct run r;

	(void)state;
	fake_start(&fk, STREAM_OK M1 "\n" JOIN "\n" M2 "\n", WAIT_FOR_EOF);
	r = RUN("subscribe", "--raw", "--count", "2");
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_int_equal(r.out_len, sizeof(want_raw) - 1);
	assert_memory_equal(r.out, want_raw, sizeof(want_raw) - 1);
	run_free(&r);

	/* -o json: every line after the first reply, one per line. */
	fake_start(&fk, STREAM_OK JOIN "\n" M1 "\n" M2 "\n", WAIT_FOR_EOF);
	r = RUN("subscribe", "-o", "json", "--count", "1");
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_OK);
	assert_string_equal(r.out, JOIN "\n" M1 "\n");
	run_free(&r);
}

static void test_subscribe_ends(void **state)
{
	struct fake fk;
	struct run r;

	(void)state;
	/* The agent goes away: what came is printed, then status 1. */
	fake_start(&fk, STREAM_OK M3 "\n", CLOSE);
	r = RUN("subscribe", "--raw");
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_string_equal(r.out, "hi\n");
	assert_non_null(strstr(r.err, "closed the connection"));
	run_free(&r);

	/* A message not as documented stops it, status 1. */
	fake_start(&fk, STREAM_OK MSG("\"n2\"", "t", "9", "aGk=") "\n",
		   WAIT_FOR_EOF);
	r = RUN("subscribe");
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "subscribe: the agent sent a message "
			       "that is not as documented"));
	run_free(&r);

	/* Refused. */
	fake_start(&fk, "{\"ok\":false,\"error\":\"invalid topic\"}\n", CLOSE);
	r = RUN("subscribe", "x");
	free(fake_finish(&fk));
	assert_int_equal(r.status, CTL_EXIT_FAILED);
	assert_non_null(strstr(r.err, "subscribe: invalid topic"));
	assert_string_equal(r.out, "");
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_broadcast),
		cmocka_unit_test(test_parse_send),
		cmocka_unit_test(test_parse_subscribe),
		cmocka_unit_test(test_subscribe_topic_limit),
		cmocka_unit_test(test_topic_rules),
		cmocka_unit_test(test_help_pages),
		cmocka_unit_test(test_payload_from_file),
		cmocka_unit_test(test_payload_from_stdin),
		cmocka_unit_test(test_payload_limit_on_a_stream),
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_line_text_rules),
		cmocka_unit_test(test_long_text_cut),
		cmocka_unit_test(test_event_read),
		cmocka_unit_test(test_rtt_format),
		cmocka_unit_test(test_broadcast_from_file),
		cmocka_unit_test(test_broadcast_from_stdin),
		cmocka_unit_test(test_payload_size_limit),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_subscribe_count),
		cmocka_unit_test(test_subscribe_raw_and_json),
		cmocka_unit_test(test_subscribe_ends),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
