/* SPDX-License-Identifier: MIT */
/*
 * The control socket server (agent/daemon/control*.c) driven through a
 * real Unix socket and the real loop, with a real core (tests/unit/lib
 * onecore) and a fake agent defined here: the xg_agent_* calls record what
 * they were asked and let the test decide when a join completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/msg.h"
#include "daemon/agent.h"
#include "daemon/control.h"
#include "daemon/control_int.h"
#include "daemon/evhandler.h"
#include "lib/onecore.h"
#include "util/log.h"
#include "util/tags.h"

/* ---- the fake agent ------------------------------------------------------ */

struct xg_agent {
	struct xg_loop  *loop;
	struct onecore   oc;
	/* the last join */
	unsigned         joins;
	xg_join_done_fn  join_done;
	void            *join_ctx;
	char             join_addr0[64];
	size_t           join_n;
	unsigned         leaves;
	int              tags_err;  /* forced result of tags set/del */
	unsigned         tags_calls;
	/* the last broadcast */
	unsigned         bcasts;
	int              bcast_err;
	char             bcast_topic[XG_MSG_TOPIC_MAX + 1];
	uint8_t          bcast_payload[64];
	size_t           bcast_len;
	struct xg_msgr_stats msg_stats;
};

struct xg_core *xg_agent_core(struct xg_agent *a)
{
	return a->oc.core;
}

struct xg_loop *xg_agent_loop(struct xg_agent *a)
{
	return a->loop;
}

int xg_agent_join(struct xg_agent *a, const char *const *addrs, size_t n,
		  xg_join_done_fn done, void *ctx)
{
	if (strcmp(addrs[0], "bad") == 0)
		return -EINVAL;
	a->joins++;
	a->join_done = done;
	a->join_ctx = ctx;
	a->join_n = n;
	snprintf(a->join_addr0, sizeof(a->join_addr0), "%s", addrs[0]);
	return 0;
}

/* Complete the pending join as the agent would, from the loop. */
static void finish_join(struct xg_agent *a, int joined, const char *err)
{
	xg_join_done_fn done = a->join_done;

	assert_non_null(done);
	a->join_done = NULL;
	done(a->join_ctx, joined, err);
}

int xg_agent_leave(struct xg_agent *a)
{
	a->leaves++;
	return 0;
}

static int change_tags(struct xg_agent *a, const char *const *items, size_t n,
		       bool del)
{
	const struct xg_member_info *self = xg_core_self(a->oc.core);
	struct xg_tags t;
	uint8_t meta[XG_META_MAX];
	ssize_t len;
	size_t i;
	int err;

	a->tags_calls++;
	if (a->tags_err)
		return a->tags_err;
	err = xg_tags_decode(self->meta, self->meta_len, &t);
	for (i = 0; i < n && !err; i++) {
		if (del) {
			xg_tags_del(&t, items[i]);
		} else {
			char *k, *v;

			err = xg_tags_parse_kv(items[i], &k, &v);
			if (!err)
				err = xg_tags_set(&t, k, v);
			free(k);
			free(v);
		}
	}
	len = err ? err : xg_tags_encode(&t, meta, sizeof(meta));
	xg_tags_free(&t);
	if (len < 0)
		return (int)len;
	return xg_core_set_meta(a->oc.core, meta, (uint16_t)len,
				xg_now_mono_ns());
}

int xg_agent_tags_set(struct xg_agent *a, const char *const *kv, size_t n)
{
	return change_tags(a, kv, n, false);
}

int xg_agent_tags_del(struct xg_agent *a, const char *const *keys, size_t n)
{
	return change_tags(a, keys, n, true);
}

int xg_agent_broadcast(struct xg_agent *a, const char *topic,
		       const void *payload, size_t len, uint8_t id[16])
{
	a->bcasts++;
	if (a->bcast_err)
		return a->bcast_err;
	snprintf(a->bcast_topic, sizeof(a->bcast_topic), "%s", topic);
	a->bcast_len = len;
	memcpy(a->bcast_payload, payload,
	       len < sizeof(a->bcast_payload) ? len : sizeof(a->bcast_payload));
	memset(id, 0xab, 16);
	return 0;
}

void xg_agent_evh_stats(struct xg_agent *a, struct xg_evh_stats *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	out->handlers = 2;
	out->run = 7;
}

const struct xg_msgr_stats *xg_agent_msg_stats(struct xg_agent *a)
{
	return &a->msg_stats;
}

void xg_agent_get_info(struct xg_agent *a, struct xg_agent_info *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	out->version = "test";
	out->bind = "198.18.0.1:7946";
	out->xdp_mode = "off";
	out->cluster = "unit";
	out->cluster_id = OC_CLUSTER;
	out->udp_rx_packets = 5;
}

void xg_agent_get_xdp(struct xg_agent *a, struct xg_agent_xdp_info *out)
{
	(void)a;
	memset(out, 0, sizeof(*out));
	out->mode = "off";
	out->requested = "auto";
	out->reason = "no local interface holds 198.18.0.1:7946";
	out->instance = "self";
	out->liveness_ns = 2000000000ULL;
	out->heartbeat_interval_ns = 100000000ULL;
}

/* ---- fixture ----------------------------------------------------------- */

static struct {
	char               dir[64];
	char               path[128];
	struct xg_agent    agent;
	struct xg_control *ctl;
} fx;

static void add_peer(uint64_t id, uint8_t state)
{
	struct xg_update_msg u;

	oc_update(&u, state, id, 1, id);
	assert_int_equal(oc_gossip(&fx.agent.oc, &u, 1, xg_now_mono_ns()), 0);
}

static int setup(void **state)
{
	struct xg_core_config cfg;

	(void)state;
	memset(&fx, 0, sizeof(fx));
	xg_log_set_level(XG_LOG_ERROR); /* keep expected warnings quiet */
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/xgctl-srv-XXXXXX");
	if (!mkdtemp(fx.dir))
		return -1;
	/* A parent that does not exist yet: the server creates it. */
	snprintf(fx.path, sizeof(fx.path), "%s/run/xg.sock", fx.dir);
	if (xg_loop_new(&fx.agent.loop))
		return -1;
	oc_config(&cfg);
	if (oc_start(&fx.agent.oc, &cfg, xg_now_mono_ns()))
		return -1;
	add_peer(2, XG_S_ALIVE);
	add_peer(3, XG_S_ALIVE);
	return xg_control_open(&fx.ctl, &fx.agent, fx.path) ? -1 : 0;
}

static int teardown(void **state)
{
	char run[160];

	(void)state;
	xg_control_close(fx.ctl);
	oc_stop(&fx.agent.oc);
	xg_loop_free(fx.agent.loop);
	snprintf(run, sizeof(run), "%s/run", fx.dir);
	rmdir(run);
	rmdir(fx.dir);
	return 0;
}

/* ---- a client ------------------------------------------------------------ */

struct client {
	int    fd;
	char   buf[1 << 16];
	size_t len;
	bool   eof;
};

static void pump(int rounds)
{
	while (rounds-- > 0)
		assert_int_equal(xg_loop_run_once(fx.agent.loop, 0), 0);
}

/* Connected, but not yet accepted by the server. */
static void client_connect(struct client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	strcpy(sa.sun_path, fx.path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
}

static void client_open(struct client *c)
{
	client_connect(c);
	pump(2); /* accept */
}

static void client_close(struct client *c)
{
	close(c->fd);
	c->fd = -1;
}

static void client_write(struct client *c, const char *s, size_t n)
{
	assert_int_equal(send(c->fd, s, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void client_say(struct client *c, const char *line)
{
	client_write(c, line, strlen(line));
	client_write(c, "\n", 1);
}

static void client_fill(struct client *c)
{
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
			 MSG_DONTWAIT);

	if (n > 0)
		c->len += (size_t)n;
	else if (n == 0)
		c->eof = true;
}

/* The next reply line as JSON (caller puts it), or NULL if none comes
 * within a bounded number of loop rounds. */
static json_object *client_next(struct client *c)
{
	int rounds;

	for (rounds = 0; rounds < 200; rounds++) {
		char *nl = memchr(c->buf, '\n', c->len);

		if (nl) {
			json_object *o;

			*nl = '\0';
			o = json_tokener_parse(c->buf);
			assert_non_null(o);
			c->len -= (size_t)(nl + 1 - c->buf);
			memmove(c->buf, nl + 1, c->len);
			return o;
		}
		if (c->eof)
			return NULL;
		assert_int_equal(xg_loop_run_once(fx.agent.loop, 5), 0);
		client_fill(c);
	}
	return NULL;
}

/* Nothing more arrives and the server hangs up. */
static void client_expect_eof(struct client *c)
{
	assert_null(client_next(c));
	assert_true(c->eof);
	assert_int_equal(c->len, 0);
}

static void client_expect_nothing(struct client *c)
{
	pump(3);
	client_fill(c);
	assert_int_equal(c->len, 0);
	assert_false(c->eof);
}

static bool ok_of(json_object *r)
{
	json_object *v;

	assert_true(json_object_object_get_ex(r, "ok", &v));
	return json_object_get_boolean(v);
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return json_object_get_string(v);
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

/* Send line, expect an error reply containing want. */
static void expect_error(struct client *c, const char *line, const char *want)
{
	json_object *r;

	client_say(c, line);
	r = client_next(c);
	assert_non_null(r);
	assert_false(ok_of(r));
	if (!strstr(str_of(r, "error"), want))
		fail_msg("error \"%s\" lacks \"%s\"", str_of(r, "error"), want);
	json_object_put(r);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_socket_file(void **state)
{
	struct stat st;
	char run[160];

	(void)state;
	assert_int_equal(stat(fx.path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	snprintf(run, sizeof(run), "%s/run", fx.dir);
	assert_int_equal(stat(run, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
}

static void test_members(void **state)
{
	struct client c;
	json_object *r, *arr, *m;

	(void)state;
	client_open(&c);
	client_say(&c, "{\"cmd\":\"members\"}");
	r = client_next(&c);
	assert_non_null(r);
	assert_true(ok_of(r));
	arr = get(r, "members");
	assert_int_equal(json_object_array_length(arr), 3);
	/* sorted by name */
	assert_string_equal(str_of(json_object_array_get_idx(arr, 0), "name"),
			    "peer-2");
	assert_string_equal(str_of(json_object_array_get_idx(arr, 1), "name"),
			    "peer-3");
	m = json_object_array_get_idx(arr, 2);
	assert_string_equal(str_of(m, "name"), "self");
	assert_true(json_object_get_boolean(get(m, "self")));
	assert_string_equal(str_of(m, "id"), "0000000000000001");
	assert_string_equal(str_of(m, "addr"), "198.18.0.1:7946");
	assert_string_equal(str_of(m, "status"), "alive");
	assert_true(json_object_is_type(get(m, "since_ms"), json_type_int));
	json_object_put(r);

	/* Filter, and several requests on one connection. */
	client_say(&c, "{\"cmd\":\"members\",\"status\":\"dead\"}");
	r = client_next(&c);
	assert_true(ok_of(r));
	assert_int_equal(json_object_array_length(get(r, "members")), 0);
	json_object_put(r);
	expect_error(&c, "{\"cmd\":\"members\",\"status\":\"up\"}",
		     "\"status\" must be one of");
	expect_error(&c, "{\"cmd\":\"members\",\"status\":3}",
		     "\"status\" must be one of");
	client_close(&c);
}

static void test_info(void **state)
{
	struct client c;
	json_object *r, *v;

	(void)state;
	client_open(&c);
	client_say(&c, "{\"cmd\":\"info\"}");
	r = client_next(&c);
	assert_non_null(r);
	assert_true(ok_of(r));
	assert_string_equal(str_of(get(r, "node"), "name"), "self");
	assert_string_equal(str_of(get(r, "agent"), "version"), "test");
	assert_string_equal(str_of(get(r, "agent"), "cluster_id"),
			    "0c0ffee0c0ffee01");
	assert_int_equal(json_object_get_int(get(get(r, "members"), "alive")), 3);
	v = get(r, "stats");
	assert_int_equal(json_object_get_int(get(v, "udp_rx_packets")), 5);
	assert_int_equal(json_object_get_int(get(v, "control_clients")), 1);
	assert_true(json_object_get_int(get(v, "updates_applied")) >= 2);
	assert_int_equal(json_object_get_int(get(get(r, "event_handlers"),
						 "run")), 7);
	assert_non_null(get(get(r, "messages"), "delivered"));
	json_object_put(r);
	client_close(&c);
}

static void test_xdp(void **state)
{
	struct client c;
	json_object *r, *x;

	(void)state;
	client_open(&c);
	client_say(&c, "{\"cmd\":\"xdp\"}");
	r = client_next(&c);
	assert_non_null(r);
	assert_true(ok_of(r));
	x = get(r, "xdp");
	assert_string_equal(str_of(x, "mode"), "off");
	assert_string_equal(str_of(x, "requested"), "auto");
	assert_string_equal(str_of(x, "reason"),
			    "no local interface holds 198.18.0.1:7946");
	assert_int_equal(json_object_get_int(get(x, "liveness_window_ms")), 2000);
	json_object_put(r);
	client_close(&c);
}

static void test_protocol_errors(void **state)
{
	static const char nul_line[] = "{\"cmd\":\"info\"}\0junk\n";
	struct client c;
	char *big;

	(void)state;
	/* Request-level errors keep the connection. */
	client_open(&c);
	expect_error(&c, "{\"cmd\":\"dance\"}", "unknown command \"dance\"");
	expect_error(&c, "{\"nocmd\":1}", "\"cmd\" (a string) is required");
	expect_error(&c, "{\"cmd\":7}", "\"cmd\" (a string) is required");
	/* Blank lines and CRLF are fine. */
	client_write(&c, "\r\n\n", 3);
	client_write(&c, "{\"cmd\":\"leave\"}\r\n", 17);
	{
		json_object *r = client_next(&c);

		assert_non_null(r);
		assert_true(ok_of(r));
		json_object_put(r);
	}
	/* Bad JSON: error, then the server hangs up. */
	expect_error(&c, "{\"cmd\":", "bad JSON");
	client_expect_eof(&c);
	client_close(&c);

	client_open(&c);
	expect_error(&c, "{\"cmd\":\"info\"} trailing", "bad JSON");
	client_expect_eof(&c);
	client_close(&c);

	client_open(&c);
	expect_error(&c, "[\"info\"]", "must be a JSON object");
	client_expect_eof(&c);
	client_close(&c);

	client_open(&c);
	expect_error(&c, "{\"cmd\":\"\xff\"}", "bad JSON");
	client_expect_eof(&c);
	client_close(&c);

	/* A NUL byte would end the text early for json-c: refused. */
	client_open(&c);
	client_write(&c, nul_line, sizeof(nul_line) - 1);
	{
		json_object *r = client_next(&c);

		assert_non_null(r);
		assert_false(ok_of(r));
		assert_non_null(strstr(str_of(r, "error"), "NUL"));
		json_object_put(r);
	}
	client_expect_eof(&c);
	client_close(&c);

	/* A line over 64 KiB. */
	client_open(&c);
	big = malloc(XG_CTL_LINE_MAX + 100);
	assert_non_null(big);
	memset(big, ' ', XG_CTL_LINE_MAX + 100);
	for (size_t off = 0; off < XG_CTL_LINE_MAX + 100; off += 4096) {
		size_t n = XG_CTL_LINE_MAX + 100 - off;

		client_write(&c, big + off, n < 4096 ? n : 4096);
		pump(1);
	}
	free(big);
	{
		json_object *r = client_next(&c);

		assert_non_null(r);
		assert_false(ok_of(r));
		assert_non_null(strstr(str_of(r, "error"), "request line longer than"));
		json_object_put(r);
	}
	client_expect_eof(&c);
	client_close(&c);
	pump(2);
	assert_int_equal(fx.ctl->nclients, 0);
}

static void test_longest_line_is_fine(void **state)
{
	struct client c;
	char *line;
	json_object *r;
	const char *req = "{\"cmd\":\"info\"}";

	(void)state;
	/* Exactly 64 KiB before the newline: the request padded with
	 * blanks, which JSON allows. */
	line = malloc(XG_CTL_LINE_MAX + 1);
	assert_non_null(line);
	memset(line, ' ', XG_CTL_LINE_MAX);
	memcpy(line, req, strlen(req));
	line[XG_CTL_LINE_MAX] = '\n';
	client_open(&c);
	for (size_t off = 0; off <= XG_CTL_LINE_MAX; off += 4096) {
		size_t n = XG_CTL_LINE_MAX + 1 - off;

		client_write(&c, line + off, n < 4096 ? n : 4096);
		pump(1);
	}
	free(line);
	r = client_next(&c);
	assert_non_null(r);
	assert_true(ok_of(r));
	json_object_put(r);
	client_close(&c);
}

static void test_pipelined_and_half_closed(void **state)
{
	static const char reqs[] = "{\"cmd\":\"members\",\"status\":\"left\"}\n"
				   "{\"cmd\":\"nope\"}\n{\"cmd\":\"info\"}";
	struct client c;
	json_object *r;

	(void)state;
	client_open(&c);
	client_write(&c, reqs, sizeof(reqs) - 1);
	/* Shut down our side without a final newline, like
	 * `printf ... | socat - UNIX-CONNECT:...`. */
	shutdown(c.fd, SHUT_WR);
	r = client_next(&c);
	assert_true(ok_of(r));
	assert_non_null(get(r, "members"));
	json_object_put(r);
	r = client_next(&c);
	assert_false(ok_of(r));
	json_object_put(r);
	r = client_next(&c);
	assert_true(ok_of(r));
	assert_non_null(get(r, "node"));
	json_object_put(r);
	client_expect_eof(&c);
	client_close(&c);
}

static void test_join(void **state)
{
	struct client c;
	json_object *r;

	(void)state;
	client_open(&c);
	client_say(&c, "{\"cmd\":\"join\",\"addrs\":[\"198.18.0.7\","
		       "\"198.18.0.8:7946\"]}");
	/* Later requests wait for the join's answer. */
	client_say(&c, "{\"cmd\":\"leave\"}");
	client_expect_nothing(&c);
	assert_int_equal(fx.agent.joins, 1);
	assert_int_equal(fx.agent.join_n, 2);
	assert_string_equal(fx.agent.join_addr0, "198.18.0.7");
	assert_int_equal(fx.agent.leaves, 0);
	finish_join(&fx.agent, 2, NULL);
	r = client_next(&c);
	assert_true(ok_of(r));
	assert_int_equal(json_object_get_int(get(r, "joined")), 2);
	json_object_put(r);
	r = client_next(&c);
	assert_true(ok_of(r));
	json_object_put(r);
	assert_int_equal(fx.agent.leaves, 1);

	client_say(&c, "{\"cmd\":\"join\",\"addrs\":[\"198.18.0.9\"]}");
	client_expect_nothing(&c);
	finish_join(&fx.agent, 0, "198.18.0.9:7946: connection refused");
	r = client_next(&c);
	assert_false(ok_of(r));
	assert_non_null(strstr(str_of(r, "error"), "connection refused"));
	json_object_put(r);

	expect_error(&c, "{\"cmd\":\"join\",\"addrs\":[\"bad\"]}",
		     "invalid address");
	expect_error(&c, "{\"cmd\":\"join\"}", "\"addrs\" is required");
	expect_error(&c, "{\"cmd\":\"join\",\"addrs\":[]}", "1 to 256");
	expect_error(&c, "{\"cmd\":\"join\",\"addrs\":\"198.18.0.9\"}",
		     "array of strings");
	expect_error(&c, "{\"cmd\":\"join\",\"addrs\":[1]}", "array of strings");
	client_close(&c);
}

static void test_join_client_gone(void **state)
{
	struct client c;

	(void)state;
	client_open(&c);
	client_say(&c, "{\"cmd\":\"join\",\"addrs\":[\"198.18.0.7\"]}");
	pump(2);
	assert_int_equal(fx.agent.joins, 1);
	client_close(&c);
	pump(3);
	assert_int_equal(fx.ctl->nclients, 0);
	/* The agent answers after the client is gone (and freed): under
	 * ASan a touch of the old client would fail here. */
	finish_join(&fx.agent, 1, NULL);
	pump(1);

	/* Also when the whole server goes first. */
	client_open(&c);
	client_say(&c, "{\"cmd\":\"join\",\"addrs\":[\"198.18.0.7\"]}");
	pump(2);
	assert_int_equal(fx.agent.joins, 2);
	xg_control_close(fx.ctl);
	fx.ctl = NULL;
	finish_join(&fx.agent, 1, NULL);
	client_fill(&c);
	assert_true(c.eof);
	client_close(&c);
	assert_int_equal(xg_control_open(&fx.ctl, &fx.agent, fx.path), 0);
}

static void test_tags(void **state)
{
	struct client c;
	json_object *r, *tags;
	uint32_t inc0 = xg_core_self(fx.agent.oc.core)->incarnation;

	(void)state;
	client_open(&c);
	client_say(&c, "{\"cmd\":\"tags-set\",\"tags\":[\"role=db\","
		       "\"zone=eu-1\"]}");
	r = client_next(&c);
	assert_true(ok_of(r));
	tags = get(r, "tags");
	assert_string_equal(str_of(tags, "role"), "db");
	assert_string_equal(str_of(tags, "zone"), "eu-1");
	json_object_put(r);
	assert_true(xg_core_self(fx.agent.oc.core)->incarnation > inc0);

	client_say(&c, "{\"cmd\":\"tags-del\",\"keys\":[\"zone\"]}");
	r = client_next(&c);
	assert_true(ok_of(r));
	tags = get(r, "tags");
	assert_int_equal(json_object_object_length(tags), 1);
	assert_string_equal(str_of(tags, "role"), "db");
	json_object_put(r);

	/* Invalid input is refused before reaching the agent. */
	fx.agent.tags_calls = 0;
	expect_error(&c, "{\"cmd\":\"tags-set\",\"tags\":[\"ok=1\",\"novalue\"]}",
		     "invalid tag \"novalue\"");
	expect_error(&c, "{\"cmd\":\"tags-set\",\"tags\":[\"k=a\\nb\"]}",
		     "invalid tag");
	expect_error(&c, "{\"cmd\":\"tags-set\",\"tags\":[\"k=a\\u0000b\"]}",
		     "array of strings");
	expect_error(&c, "{\"cmd\":\"tags-del\",\"keys\":[\"a=b\"]}",
		     "invalid tag key \"a=b\"");
	expect_error(&c, "{\"cmd\":\"tags-del\",\"keys\":[]}", "1 to 256");
	assert_int_equal(fx.agent.tags_calls, 0);

	/* The agent's own refusals. */
	fx.agent.tags_err = -E2BIG;
	expect_error(&c, "{\"cmd\":\"tags-set\",\"tags\":[\"k=v\"]}",
		     "tags too large");
	fx.agent.tags_err = 0;
	client_close(&c);
}

static void test_monitor(void **state)
{
	struct client all, fails, plain;
	struct xg_member_info m;
	struct xg_event ev = { .member = &m, .now_ns = xg_now_mono_ns() };
	json_object *r;

	(void)state;
	assert_int_equal(xg_core_member_find(fx.agent.oc.core, 2, &m), 0);
	client_open(&all);
	client_open(&fails);
	client_open(&plain);
	client_say(&all, "{\"cmd\":\"monitor\"}");
	r = client_next(&all);
	assert_true(ok_of(r));
	assert_int_equal(json_object_array_length(get(r, "events")), 7);
	json_object_put(r);
	client_say(&fails, "{\"cmd\":\"monitor\",\"events\":[\"fail\"]}");
	r = client_next(&fails);
	assert_true(ok_of(r));
	assert_int_equal(json_object_array_length(get(r, "events")), 1);
	json_object_put(r);
	expect_error(&plain, "{\"cmd\":\"monitor\",\"events\":[\"boom\"]}",
		     "unknown event \"boom\"");
	assert_int_equal(fx.ctl->nmonitors, 2);

	ev.type = XG_EV_JOIN;
	xg_control_on_event(fx.ctl, &ev);
	m.state = XG_DEAD;
	ev.type = XG_EV_FAIL;
	xg_control_on_event(fx.ctl, &ev);

	r = client_next(&all);
	assert_string_equal(str_of(r, "event"), "join");
	assert_string_equal(str_of(r, "name"), "peer-2");
	assert_string_equal(str_of(r, "status"), "alive");
	assert_non_null(strstr(str_of(r, "time"), "Z"));
	json_object_put(r);
	r = client_next(&all);
	assert_string_equal(str_of(r, "event"), "fail");
	assert_string_equal(str_of(r, "status"), "dead");
	json_object_put(r);
	r = client_next(&fails);
	assert_string_equal(str_of(r, "event"), "fail");
	assert_string_equal(str_of(r, "id"), "0000000000000002");
	json_object_put(r);
	client_expect_nothing(&fails);
	client_expect_nothing(&plain); /* not a monitor */

	/* Whatever a monitor sends is ignored. */
	client_say(&all, "{\"cmd\":\"leave\"}");
	client_expect_nothing(&all);
	assert_int_equal(fx.agent.leaves, 0);

	client_close(&all);
	client_close(&fails);
	client_close(&plain);
	pump(3);
	assert_int_equal(fx.ctl->nmonitors, 0);
	assert_int_equal(fx.ctl->nclients, 0);
}

static void test_broadcast(void **state)
{
	struct client c;
	json_object *r;

	(void)state;
	client_open(&c);
	client_say(&c, "{\"cmd\":\"broadcast\",\"topic\":\"deploy\","
		       "\"payload\":\"aGVsbG8=\"}");
	r = client_next(&c);
	assert_true(ok_of(r));
	assert_string_equal(str_of(r, "id"), "abababababababababababababababab");
	assert_int_equal(json_object_get_int(get(r, "size")), 5);
	assert_non_null(strstr(str_of(r, "sent"), "Z"));
	json_object_put(r);
	assert_int_equal(fx.agent.bcasts, 1);
	assert_string_equal(fx.agent.bcast_topic, "deploy");
	assert_int_equal(fx.agent.bcast_len, 5);
	assert_memory_equal(fx.agent.bcast_payload, "hello", 5);

	/* No payload is an empty message. */
	client_say(&c, "{\"cmd\":\"broadcast\",\"topic\":\"t\"}");
	r = client_next(&c);
	assert_true(ok_of(r));
	assert_int_equal(json_object_get_int(get(r, "size")), 0);
	json_object_put(r);

	expect_error(&c, "{\"cmd\":\"broadcast\"}", "\"topic\"");
	expect_error(&c, "{\"cmd\":\"broadcast\",\"topic\":\"\"}",
		     "invalid topic");
	expect_error(&c, "{\"cmd\":\"broadcast\",\"topic\":\"a\\nb\"}",
		     "invalid topic");
	expect_error(&c, "{\"cmd\":\"broadcast\",\"topic\":\"t\","
		     "\"payload\":\"aGVsbG8\"}", "base64");
	expect_error(&c, "{\"cmd\":\"broadcast\",\"topic\":\"t\","
		     "\"payload\":5}", "base64");
	fx.agent.bcast_err = -EMSGSIZE;
	expect_error(&c, "{\"cmd\":\"broadcast\",\"topic\":\"t\"}",
		     "payload too large");
	assert_int_equal(fx.agent.bcasts, 3);
	expect_error(&c, "{\"cmd\":\"subscribe\",\"topics\":[\"\"]}",
		     "invalid topic");
	client_close(&c);
}

static void deliver(const char *topic, const char *payload, bool unicast,
		    const char *origin)
{
	struct xg_msg m = { .origin_id = 0x42, .origin_ms = 1700000000123ULL,
			    .hops = 2 };

	memset(m.id, 0x11, sizeof(m.id));
	snprintf(m.topic, sizeof(m.topic), "%s", topic);
	m.payload = (const uint8_t *)payload;
	m.payload_len = (uint32_t)strlen(payload);
	xg_control_on_message(fx.ctl, &m, unicast, origin);
}

static void test_subscribe(void **state)
{
	struct client all, some, mon;
	json_object *r;

	(void)state;
	client_open(&all);
	client_open(&some);
	client_open(&mon);
	client_say(&all, "{\"cmd\":\"subscribe\"}");
	r = client_next(&all);
	assert_true(ok_of(r));
	assert_int_equal(json_object_array_length(get(r, "topics")), 0);
	json_object_put(r);
	client_say(&some, "{\"cmd\":\"subscribe\",\"topics\":[\"a\",\"b c\"]}");
	r = client_next(&some);
	assert_true(ok_of(r));
	assert_int_equal(json_object_array_length(get(r, "topics")), 2);
	json_object_put(r);
	client_say(&mon, "{\"cmd\":\"monitor\"}");
	json_object_put(client_next(&mon));

	deliver("b c", "hi", false, "peer-66");
	deliver("zzz", "\x01\x02", true, NULL);

	r = client_next(&all);
	assert_string_equal(str_of(r, "event"), "message");
	assert_string_equal(str_of(r, "kind"), "broadcast");
	assert_string_equal(str_of(r, "topic"), "b c");
	assert_string_equal(str_of(r, "payload"), "aGk=");
	assert_string_equal(str_of(r, "origin"), "0000000000000042");
	assert_string_equal(str_of(r, "origin_name"), "peer-66");
	assert_string_equal(str_of(r, "id"), "11111111111111111111111111111111");
	assert_string_equal(str_of(r, "sent"), "2023-11-14T22:13:20.123000Z");
	assert_int_equal(json_object_get_int(get(r, "hops")), 2);
	assert_int_equal(json_object_get_int(get(r, "size")), 2);
	json_object_put(r);
	r = client_next(&all);
	assert_string_equal(str_of(r, "kind"), "unicast");
	assert_string_equal(str_of(r, "topic"), "zzz");
	assert_null(get(r, "origin_name"));
	json_object_put(r);
	r = client_next(&some);
	assert_string_equal(str_of(r, "topic"), "b c");
	json_object_put(r);
	client_expect_nothing(&some);  /* not subscribed to zzz */
	client_expect_nothing(&mon);   /* membership events only */

	client_close(&all);
	client_close(&some);
	client_close(&mon);
	pump(3);
	assert_int_equal(fx.ctl->nmonitors, 0);
}

static void test_slow_monitor_dropped(void **state)
{
	struct client slow, fast;
	struct xg_member_info m;
	struct xg_event ev = { .type = XG_EV_UPDATE, .member = &m,
			       .now_ns = xg_now_mono_ns() };
	json_object *r;
	int i, rcv = 4096, seen = 0;

	(void)state;
	assert_int_equal(xg_core_member_find(fx.agent.oc.core, 3, &m), 0);
	client_open(&slow);
	client_open(&fast);
	setsockopt(slow.fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	client_say(&slow, "{\"cmd\":\"monitor\"}");
	client_say(&fast, "{\"cmd\":\"monitor\"}");
	pump(3);
	/* ~250 bytes an event: 8000 of them are about twice the limit
	 * beyond what the socket buffers hold. */
	for (i = 0; i < 8000; i++) {
		xg_control_on_event(fx.ctl, &ev);
		/* the fast one keeps up */
		client_fill(&fast);
		while (memchr(fast.buf, '\n', fast.len)) {
			char *nl = memchr(fast.buf, '\n', fast.len);

			fast.len -= (size_t)(nl + 1 - fast.buf);
			memmove(fast.buf, nl + 1, fast.len);
			seen++;
		}
		pump(1);
	}
	assert_int_equal(fx.ctl->monitors_dropped, 1);
	assert_int_equal(fx.ctl->nmonitors, 1);
	/* The slow one finds the connection closed after what it got. */
	do {
		slow.len = 0;
		client_fill(&slow);
	} while (slow.len);
	assert_true(slow.eof);
	/* The fast one got the reply line and every event. */
	while ((r = client_next(&fast)) != NULL) {
		json_object_put(r);
		seen++;
		if (seen == 8001)
			break;
	}
	assert_int_equal(seen, 8001);
	client_close(&slow);
	client_close(&fast);
	pump(2);
}

static void test_client_limit(void **state)
{
	struct client *cs = calloc(XG_CTL_MAX_CLIENTS + 1, sizeof(*cs));
	json_object *r;
	int i;

	(void)state;
	assert_non_null(cs);
	for (i = 0; i < XG_CTL_MAX_CLIENTS; i++)
		client_open(&cs[i]);
	assert_int_equal(fx.ctl->nclients, XG_CTL_MAX_CLIENTS);
	client_open(&cs[i]);
	r = client_next(&cs[i]);
	assert_non_null(r);
	assert_false(ok_of(r));
	assert_string_equal(str_of(r, "error"), "too many clients");
	json_object_put(r);
	client_expect_eof(&cs[i]);
	/* The others still work. */
	client_say(&cs[0], "{\"cmd\":\"info\"}");
	r = client_next(&cs[0]);
	assert_true(ok_of(r));
	json_object_put(r);
	for (i = 0; i <= XG_CTL_MAX_CLIENTS; i++)
		client_close(&cs[i]);
	free(cs);
	pump(3);
	assert_int_equal(fx.ctl->nclients, 0);
	assert_int_equal(fx.ctl->refused, 1);
}

static void test_out_of_fds(void **state)
{
	struct rlimit old, low;
	struct client c;
	int fds[64], n = 0, fd;
	json_object *r;

	(void)state;
	client_connect(&c);
	/* Use up every descriptor below a lowered limit. */
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	fd = dup(0);
	assert_true(fd >= 0);
	close(fd);
	low = old;
	low.rlim_cur = (rlim_t)fd + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (n < 64 && (fd = dup(0)) >= 0)
		fds[n++] = fd;
	assert_int_equal(errno, EMFILE);

	/* The server cannot accept: it sheds the connection instead of
	 * spinning on it. */
	pump(2);
	assert_int_equal(fx.ctl->refused, 1);
	assert_int_equal(fx.ctl->nclients, 0);
	client_fill(&c);
	assert_true(c.eof);
	client_close(&c);

	while (n > 0)
		close(fds[--n]);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	/* and recovers */
	client_open(&c);
	client_say(&c, "{\"cmd\":\"info\"}");
	r = client_next(&c);
	assert_non_null(r);
	assert_true(ok_of(r));
	json_object_put(r);
	client_close(&c);
}

static void test_open_rules(void **state)
{
	struct xg_control *second = NULL;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char other[160];
	int fd;

	(void)state;
	/* A live agent already there. */
	assert_int_equal(xg_control_open(&second, &fx.agent, fx.path),
			 -EADDRINUSE);

	/* A stale socket (its owner died) is replaced. */
	snprintf(other, sizeof(other), "%s/stale.sock", fx.dir);
	strcpy(sa.sun_path, other);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
	assert_int_equal(xg_control_open(&second, &fx.agent, other), 0);
	xg_control_close(second);
	/* close removed it */
	assert_int_equal(access(other, F_OK), -1);

	/* A file that is not a socket is not ours to remove. */
	fd = open(other, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(xg_control_open(&second, &fx.agent, other), -EEXIST);
	assert_int_equal(access(other, F_OK), 0);
	unlink(other);

	assert_int_equal(xg_control_open(&second, &fx.agent, ""), -EINVAL);
	memset(other, 'x', sizeof(other) - 1);
	other[sizeof(other) - 1] = '\0';
	assert_int_equal(xg_control_open(&second, &fx.agent, other),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xdp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_protocol_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_longest_line_is_fine, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_pipelined_and_half_closed,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_client_gone, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_monitor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broadcast, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_monitor_dropped, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_client_limit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_out_of_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_rules, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
