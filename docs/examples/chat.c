/* SPDX-License-Identifier: MIT */
/*
 * chat: a cluster chat room on libxgossip-embed, in the program's own
 * poll() loop (docs/EMBEDDING.md walks through it).
 *
 *   chat [--topic TOPIC] [xgossipd options...]
 *
 * Every option but --topic is an xgossipd option, handed to the library
 * as it is: --name n3 --bind 198.18.0.13 --join 198.18.0.11 --state-dir
 * /tmp/n3 --cluster-secret-file secret --tls-ca ca.pem ...  ("--opt value"
 * or "--opt=value"; an option followed by another option has no value).
 *
 * Each line read from standard input is broadcast on TOPIC (default
 * "chat"); lines starting with '/' are commands:
 *
 *   /members          list the members
 *   /msg NODE TEXT    send TEXT to one member only, and report delivery
 *   /join ADDR        join through one more address (an IP literal)
 *   /tag KEY=VALUE    set one of this node's tags
 *   /quit             leave the cluster and exit (so do end of input,
 *                     SIGINT and SIGTERM)
 *
 * Standard output gets one line per event, flushed at once:
 *
 *   * I am n3 (id 5f0c...)          at start
 *   * n1 join 198.18.0.11:7946 role=db  a membership event: address, tags
 *   <n1> hello                      a broadcast on TOPIC
 *   <n1> (to you) hello             a message sent to this node only
 *   * sent to n1: delivered in 1.2 ms
 *   * left                          at the end
 *
 * Build: cc -o chat chat.c -lxgossip-embed $(libraries, docs/EMBEDDING.md)
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xgossip/xgossip.h>

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

/* ---- what the library tells us ------------------------------------------ */

/* Payloads are bytes; only printable ones reach the terminal. */
static void print_text(const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	if (len > 0 && p[len - 1] == '\n')
		len--;
	for (i = 0; i < len; i++)
		putchar(p[i] >= 0x20 && p[i] != 0x7f ? p[i] : '?');
}

static void on_message(void *ctx, const struct xgossip_message *m)
{
	char id[17];

	(void)ctx;
	/* A member this node has not heard of yet has no name: its id. */
	snprintf(id, sizeof(id), "%016" PRIx64, m->origin);
	printf("<%s> %s", m->origin_name ? m->origin_name : id,
	       m->kind == XGOSSIP_UNICAST ? "(to you) " : "");
	print_text(m->data, m->len);
	putchar('\n');
	fflush(stdout);
}

/* Tags travel as "k=v" lines; one line of output shows them after the
 * address, space-separated. */
static void print_tags(const char *tags)
{
	if (*tags)
		putchar(' ');
	for (; *tags; tags++)
		putchar(*tags == '\n' ? ' ' : *tags);
}

static void on_member(void *ctx, const struct xgossip_member_event *ev)
{
	(void)ctx;
	if (ev->member.self && ev->type != XGOSSIP_EV_REFUTE)
		return;
	printf("* %s %s %s", ev->member.name, xgossip_event_name(ev->type),
	       ev->member.addr);
	print_tags(ev->member.tags);
	putchar('\n');
	fflush(stdout);
}

static void on_sent(void *ctx, int err, uint64_t rtt_ns)
{
	char *node = ctx;

	if (err)
		printf("* sent to %s: failed: %s\n", node, strerror(-err));
	else
		printf("* sent to %s: delivered in %.1f ms\n", node,
		       (double)rtt_ns / 1e6);
	fflush(stdout);
	free(node);
}

static void on_joined(void *ctx, int joined, const char *err)
{
	(void)ctx;
	printf("* join: %d address%s answered%s%s\n", joined,
	       joined == 1 ? "" : "es", err ? ", " : "", err ? err : "");
	fflush(stdout);
}

/* ---- what the user asks ---------------------------------------------------- */

static void list_members(struct xgossip *g)
{
	struct xgossip_member *m;
	size_t n, i;
	int err = xgossip_members(g, &m, &n);

	if (err) {
		printf("* members: %s\n", strerror(-err));
		return;
	}
	for (i = 0; i < n; i++) {
		printf("* member %s %s %s", m[i].name,
		       xgossip_state_name(m[i].state), m[i].addr);
		print_tags(m[i].tags);
		putchar('\n');
	}
	xgossip_members_free(m);
}

static void send_to(struct xgossip *g, const char *topic, char *args)
{
	char *text = strchr(args, ' '), *node;
	int err;

	if (!text || text == args) {
		printf("* usage: /msg NODE TEXT\n");
		return;
	}
	*text++ = '\0';
	node = strdup(args);
	if (!node)
		return;
	err = xgossip_send(g, node, topic, text, strlen(text), NULL, on_sent,
			   node);
	if (err) {
		printf("* sent to %s: not sent: %s\n", node, strerror(-err));
		free(node);
	}
}

/* One line of input; returns 1 when the user wants to go. */
static int command(struct xgossip *g, const char *topic, char *line)
{
	const char *addrs[1];
	int err = 0;

	if (strcmp(line, "/quit") == 0)
		return 1;
	if (strcmp(line, "/members") == 0) {
		list_members(g);
	} else if (strncmp(line, "/msg ", 5) == 0) {
		send_to(g, topic, line + 5);
	} else if (strncmp(line, "/join ", 6) == 0) {
		addrs[0] = line + 6;
		err = xgossip_join(g, addrs, 1, on_joined, NULL);
	} else if (strncmp(line, "/tag ", 5) == 0) {
		addrs[0] = line + 5;
		err = xgossip_set_tags(g, addrs, 1);
	} else if (line[0] == '/') {
		printf("* commands: /members, /msg NODE TEXT, /join ADDR, "
		       "/tag KEY=VALUE, /quit\n");
	} else if (line[0]) {
		err = xgossip_broadcast(g, topic, line, strlen(line), NULL);
	}
	if (err)
		printf("* %s: %s\n", line, strerror(-err));
	fflush(stdout);
	return 0;
}

/* Standard input is read with read(2), not stdio: poll() cannot see lines
 * that stdio has already buffered.  Returns 1 at end of input or /quit. */
static int read_input(struct xgossip *g, const char *topic, char *buf,
		      size_t cap, size_t *have)
{
	ssize_t n = read(0, buf + *have, cap - 1 - *have);
	char *nl, *start = buf;

	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 0 : 1;
	if (n == 0)
		return 1;
	*have += (size_t)n;
	buf[*have] = '\0';
	while ((nl = strchr(start, '\n'))) {
		*nl = '\0';
		if (command(g, topic, start))
			return 1;
		start = nl + 1;
	}
	*have -= (size_t)(start - buf);
	memmove(buf, start, *have);
	/* A line longer than the buffer goes out in pieces. */
	if (*have == cap - 1) {
		buf[*have] = '\0';
		*have = 0;
		return command(g, topic, buf);
	}
	return 0;
}

/* ---- start-up ---------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: chat [--topic TOPIC] [xgossipd options...]\n"
		"  e.g. chat --name n3 --bind 198.18.0.13 --join 198.18.0.11 "
		"--state-dir /tmp/n3 --insecure-dev\n");
	return 2;
}

/* argv into the library's configuration (and --topic into *topic). */
static int configure(int argc, char **argv, struct xgossip_config *cfg,
		     const char **topic)
{
	char opt[128];
	int i, err;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *val = NULL;

		if (strncmp(a, "--", 2) != 0 || strcmp(a, "--help") == 0)
			return usage();
		a += 2;
		eq = strchr(a, '=');
		if (eq) {
			snprintf(opt, sizeof(opt), "%.*s", (int)(eq - a), a);
			val = eq + 1;
		} else {
			snprintf(opt, sizeof(opt), "%s", a);
			if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
				val = argv[++i];
		}
		if (strcmp(opt, "topic") == 0) {
			if (!val)
				return usage();
			*topic = val;
			continue;
		}
		err = xgossip_config_set(cfg, opt, val);
		if (err) {
			fprintf(stderr, "chat: --%s: %s\n", opt,
				err == -EINVAL ? "not an option of the library "
				"(or it takes no value)" : strerror(-err));
			return 2;
		}
	}
	return 0;
}

static struct xgossip *start(int argc, char **argv, const char **topic)
{
	struct xgossip_config *cfg = xgossip_config_new();
	struct xgossip *g = NULL;
	char why[256];
	int err;

	if (!cfg) {
		fprintf(stderr, "chat: out of memory\n");
		return NULL;
	}
	err = configure(argc, argv, cfg, topic);
	if (!err) {
		err = xgossip_new(&g, cfg, why, sizeof(why));
		if (err)
			fprintf(stderr, "chat: %s\n", why);
	}
	xgossip_config_free(cfg);
	if (err)
		return NULL;
	/* Before the first xgossip_process: nothing is missed. */
	if (xgossip_subscribe(g, *topic, on_message, NULL) < 0 ||
	    xgossip_on_member(g, on_member, NULL) < 0) {
		fprintf(stderr, "chat: cannot subscribe\n");
		xgossip_free(g);
		return NULL;
	}
	printf("* I am %s (id %016" PRIx64 "), topic %s\n", xgossip_name(g),
	       xgossip_id(g), *topic);
	fflush(stdout);
	return g;
}

int main(int argc, char **argv)
{
	static char buf[4096];
	const char *topic = "chat";
	struct sigaction sa;
	struct xgossip *g;
	struct pollfd p[2];
	size_t have = 0;
	bool input = true, leaving = false;
	int r = 0, n;

	g = start(argc, argv, &topic);
	if (!g)
		return 2;
	/* No SA_RESTART: a signal must interrupt poll() so we can leave. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	p[0].fd = xgossip_fd(g);
	p[0].events = POLLIN;
	p[1].fd = 0;
	p[1].events = POLLIN;
	for (;;) {
		/* The library's descriptor wakes us for its timers too. */
		n = poll(p, input ? 2 : 1, -1);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0 && input && (p[1].revents & (POLLIN | POLLHUP)) &&
		    read_input(g, topic, buf, sizeof(buf), &have))
			input = false;
		if ((got_signal || !input) && !leaving) {
			/* The departure spreads; xgossip_process returns 1
			 * once it has (at most the leave timeout). */
			leaving = true;
			xgossip_leave(g);
		}
		r = xgossip_process(g);
		if (r != 0)
			break;
	}
	if (r < 0)
		fprintf(stderr, "chat: %s\n", strerror(-r));
	r = xgossip_free(g);
	printf("* left\n");
	return r == 0 ? 0 : 1;
}
