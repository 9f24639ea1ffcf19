/* SPDX-License-Identifier: MIT */
/*
 * watch: print the cluster's membership events, with the library running
 * the loop (xgossip_run) -- the smallest embedding (docs/EMBEDDING.md).
 *
 *   watch --name w1 --bind 198.18.0.14 --join 198.18.0.11 --state-dir ...
 *
 * Every argument is an xgossipd option ("--opt value", "--opt=value", or
 * "--opt" alone when the next argument is an option too).  SIGINT or
 * SIGTERM: leave the cluster gracefully and exit 0; a second one exits
 * without waiting for the departure to spread.
 *
 * Standard output, one line per event, flushed at once:
 *
 *   * I am w1 (id 5f0c...)
 *   * n1 join 198.18.0.11:7946 alive inc=1 role=db
 *   * leaving
 *   * left
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgossip/xgossip.h>

/* The handler's way to the agent: xgossip_stop is the one call that is
 * safe from a signal handler. */
static struct xgossip *volatile running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		xgossip_stop(running);
}

static void on_member(void *ctx, const struct xgossip_member_event *ev)
{
	const char *t;

	(void)ctx;
	printf("* %s %s %s %s inc=%" PRIu32, ev->member.name,
	       xgossip_event_name(ev->type), ev->member.addr,
	       xgossip_state_name(ev->member.state), ev->member.incarnation);
	/* Tags travel as "k=v" lines: space-separated here. */
	if (*ev->member.tags)
		putchar(' ');
	for (t = ev->member.tags; *t; t++)
		putchar(*t == '\n' ? ' ' : *t);
	putchar('\n');
	fflush(stdout);
}

static struct xgossip *start(int argc, char **argv)
{
	struct xgossip_config *cfg = xgossip_config_new();
	struct xgossip *g = NULL;
	char why[256];
	int i, err = cfg ? 0 : -ENOMEM;

	for (i = 1; i < argc && !err; i++) {
		char opt[128];
		const char *a = argv[i], *eq, *val = NULL;

		if (strncmp(a, "--", 2) != 0) {
			fprintf(stderr, "watch: '%s': every argument is an "
				"xgossipd --option\n", a);
			err = -EINVAL;
			break;
		}
		eq = strchr(a + 2, '=');
		if (eq) {
			snprintf(opt, sizeof(opt), "%.*s", (int)(eq - a - 2), a + 2);
			val = eq + 1;
		} else {
			snprintf(opt, sizeof(opt), "%s", a + 2);
			if (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0)
				val = argv[++i];
		}
		err = xgossip_config_set(cfg, opt, val);
		if (err)
			fprintf(stderr, "watch: --%s: %s\n", opt, strerror(-err));
	}
	if (!err) {
		err = xgossip_new(&g, cfg, why, sizeof(why));
		if (err)
			fprintf(stderr, "watch: %s\n", why);
	}
	xgossip_config_free(cfg);
	if (!err && xgossip_on_member(g, on_member, NULL) < 0) {
		xgossip_free(g);
		g = NULL;
	}
	return err ? NULL : g;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	struct xgossip *g = start(argc, argv);
	int r;

	if (!g)
		return 2;
	printf("* I am %s (id %016" PRIx64 ")\n", xgossip_name(g),
	       xgossip_id(g));
	fflush(stdout);
	running = g;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	/* 0: a signal stopped it.  Leave, and run until the departure has
	 * spread (1), or until a second signal (0). */
	r = xgossip_run(g);
	if (r == 0 && xgossip_leave(g) == 0) {
		printf("* leaving\n");
		fflush(stdout);
		r = xgossip_run(g);
	}
	running = NULL;
	if (r < 0)
		fprintf(stderr, "watch: %s\n", strerror(-r));
	r = xgossip_free(g) == 0 && r >= 0 ? 0 : 1;
	printf("* left\n");
	return r;
}
