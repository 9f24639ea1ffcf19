/* SPDX-License-Identifier: MIT */
/*
 * The agent's life: set up (identity, keys, sockets, core, control), run
 * the loop, tear down.  Also the agent.h calls the control server makes.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "daemon/agent_int.h"
#include "daemon/agent_run.h"
#include "daemon/flags.h"
#include "net/ifaddr.h"
#include "net/sockaddr.h"
#include "util/keys.h"
#include "util/memtrim.h"
#include "daemon/agent_keys.h"
#include "daemon/agent_msg.h"
#include "util/log.h"
#include "util/version.h"

/* ---- agent.h ----------------------------------------------------------- */

struct xg_core *xg_agent_core(struct xg_agent *a)
{
	return a->core;
}

struct xg_loop *xg_agent_loop(struct xg_agent *a)
{
	return a->loop;
}

int xg_agent_join(struct xg_agent *a, const char *const *addrs, size_t n,
		  xg_join_done_fn done, void *ctx)
{
	struct xg_join_env env = xg_agent_join_env(a);
	struct xg_join *j;
	struct xg_addr tmp;
	size_t i;

	if (n == 0)
		return -EINVAL;
	/* Literal addresses only: resolving a name here would block the loop
	 * (getaddrinfo has no deadline we control) and with it every probe
	 * answer of this node.  Names belong in --join. */
	for (i = 0; i < n; i++)
		if (!addrs[i] || xg_addr_parse(addrs[i], XG_DEFAULT_PORT, &tmp))
			return -EINVAL;
	if (a->leaving)
		return -ESHUTDOWN;
	j = xg_join_new(&env, addrs, n, false, done, ctx);
	if (!j)
		return -ENOMEM;
	j->next = a->joins;
	a->joins = j;
	/* The attempt itself starts from the timer, so done is never called
	 * before this returns. */
	return 0;
}

int xg_agent_leave(struct xg_agent *a)
{
	return xg_agent_start_leave(a, "control");
}

static int change_tags(struct xg_agent *a, const char *const *items, size_t n,
		       bool del)
{
	struct xg_tags next;
	uint8_t meta[XG_META_MAX];
	size_t len;
	int err;

	err = xg_tags_apply(&a->tags, items, n, del, &next, meta, &len);
	if (!err) {
		const struct xg_member_info *self = xg_core_self(a->core);

		/* An unchanged set is not news: no incarnation bump, no
		 * gossip. */
		if (len != self->meta_len || memcmp(meta, self->meta, len))
			err = xg_core_set_meta(a->core, meta, (uint16_t)len,
					       xg_now_mono_ns());
	}
	if (err) {
		xg_tags_free(&next);
		return err;
	}
	xg_tags_free(&a->tags);
	a->tags = next;
	xg_agent_persist_incarnation(a);
	return 0;
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
		       const void *payload, size_t len,
		       uint8_t id[XG_MSG_ID_LEN])
{
	return xg_agent_msg_broadcast(a, topic, payload, len, id);
}

const struct xg_msgr_stats *xg_agent_msg_stats(struct xg_agent *a)
{
	return a->msg.m ? xg_msgr_stats(a->msg.m) : NULL;
}

void xg_agent_evh_stats(struct xg_agent *a, struct xg_evh_stats *out)
{
	xg_evh_stats(a->evh, out);
}

void xg_agent_get_info(struct xg_agent *a, struct xg_agent_info *out)
{
	memset(out, 0, sizeof(*out));
	out->version = XGOSSIP_VERSION;
	out->bind = a->bind_text;
	out->xdp_mode = a->xdp_active;
	out->state_dir = a->cfg->state_dir;
	out->cluster = a->cfg->cluster;
	out->cluster_id = a->cluster_id;
	out->started_real_ns = a->started_real_ns;
	out->uptime_ns = xg_now_mono_ns() - a->started_mono_ns;
	out->udp_rx_packets = a->udp->stats.rx_packets;
	out->udp_tx_packets = a->udp->stats.tx_packets;
	out->tcp_accepts = a->pp.stats.accepts;
	out->tcp_connects = a->pp.stats.connects;
	out->pushpull_ok = a->pp.stats.ok;
	out->pushpull_failed = a->pp.stats.failed;
	out->rx_unsealed = a->rx_unsealed;
	out->rx_limited = a->rx_limited;
	out->tls_refused = a->pp.stats.tls_refused;
	out->name_mismatch = a->pp.stats.name_mismatch;
	out->pushpull_shed = a->pp_shed + a->pp.stats.shed;
	out->cpu_limit_us = a->cpu_limit_us;
	out->cpu_limited = a->cpu_limited;
	out->keys = a->keyring.n;
	out->primary_key_id = a->keyring.n ? xg_keyring_primary(&a->keyring)->id : 0;
	out->tls = a->tls != NULL;
}

/* ---- setup ------------------------------------------------------------- */

static int setup_name(struct xg_agent *a)
{
	char host[256];

	if (a->cfg->name) {
		strcpy(a->name, a->cfg->name); /* checked by the flag parser */
		return 0;
	}
	if (gethostname(host, sizeof(host)) < 0) {
		xg_error("cannot read the host name (%s); give --name",
			 strerror(errno));
		return -errno;
	}
	host[sizeof(host) - 1] = '\0';
	if (xg_name_check(host)) {
		xg_error("the host name is not a valid node name; give --name");
		return -EINVAL;
	}
	strcpy(a->name, host);
	return 0;
}

static int setup_state(struct xg_agent *a)
{
	const char *dir = a->cfg->state_dir;
	int err;

	err = xg_statedir_open(&a->sd, dir);
	if (err == -EBUSY) {
		xg_error("state dir %s is locked by another running xgossipd; "
			 "give each agent its own --state-dir", dir);
		return err;
	}
	if (err) {
		xg_error("state dir %s: %s", dir, strerror(-err));
		return err;
	}
	err = xg_statedir_node_id(&a->sd, &a->node_id);
	if (err) {
		xg_error("state dir %s: node-id: %s", dir, err == -EBADMSG ?
			 "damaged (remove it to give this node a new identity)" :
			 strerror(-err));
		return err;
	}
	err = xg_statedir_next_incarnation(&a->sd, &a->saved_inc);
	if (err)
		xg_error("state dir %s: incarnation: %s", dir,
			 err == -EBADMSG ? "damaged (remove it to restart at 1)" :
			 strerror(-err));
	return err;
}

static int setup_advertise(struct xg_agent *a)
{
	const struct xg_addr *bind = &a->cfg->bind;
	char text[XG_ADDR_STRLEN];
	int err;

	if (a->cfg->has_advertise) {
		a->advertise = a->cfg->advertise;
		if (a->advertise.family == 6 && bind->family == 4) {
			xg_error("--advertise is IPv6 but --bind is IPv4: peers "
				 "could not reach the socket; bind \"[::]\"");
			return -EINVAL;
		}
		return 0;
	}
	if (!xg_addr_is_wildcard(bind)) {
		a->advertise = *bind;
		return 0;
	}
	err = xg_pick_advertise(bind->family, bind->port, &a->advertise);
	if (err)
		xg_error("--bind %s is a wildcard and no %s address to advertise "
			 "was found (%s); give --advertise",
			 xg_addr_format(bind, text, sizeof(text)),
			 bind->family == 4 ? "IPv4" : "IPv6", strerror(-err));
	return err;
}

static void apply_timing(const struct xg_timing *t, struct xg_core_config *cc)
{
	if (t->set & XG_SET_PROBE_INTERVAL)
		cc->probe_interval_ns = t->probe_interval_ns;
	if (t->set & XG_SET_PROBE_TIMEOUT)
		cc->probe_timeout_ns = t->probe_timeout_ns;
	if (t->set & XG_SET_INDIRECT_CHECKS)
		cc->indirect_checks = t->indirect_checks;
	if (t->set & XG_SET_GOSSIP_INTERVAL)
		cc->gossip_interval_ns = t->gossip_interval_ns;
	if (t->set & XG_SET_GOSSIP_NODES)
		cc->gossip_nodes = t->gossip_nodes;
	if (t->set & XG_SET_SUSPICION_MULT)
		cc->suspicion_mult = t->suspicion_mult;
	if (t->set & XG_SET_RETRANSMIT_MULT)
		cc->retransmit_mult = t->retransmit_mult;
	if (t->set & XG_SET_PUSHPULL_INTERVAL)
		cc->pushpull_interval_ns = t->pushpull_interval_ns;
	if (t->set & XG_SET_RECLAIM)
		cc->dead_reclaim_ns = t->reclaim_ns;
	if (t->set & XG_SET_LHM_MAX)
		cc->lhm_max = t->lhm_max;
	if (t->set & XG_SET_SUSPICION_MAX)
		cc->suspicion_max_mult = t->suspicion_max_mult;
}

static int setup_core(struct xg_agent *a)
{
	struct xg_core_config cc;
	struct xg_core_io io = xg_agent_core_io_template;
	uint8_t meta[XG_META_MAX];
	ssize_t mlen;
	int err;

	mlen = xg_tags_encode(&a->tags, meta, sizeof(meta));
	if (mlen < 0)
		return (int)mlen;
	xg_core_config_defaults(&cc);
	apply_timing(&a->cfg->timing, &cc);
	cc.cluster_id = a->cluster_id;
	cc.self_id = a->node_id;
	cc.name = a->name;
	cc.advertise = a->advertise;
	cc.incarnation = a->saved_inc;
	cc.meta = meta;
	cc.meta_len = (uint16_t)mlen;
	io.ctx = a;
	/* Created with no key; xg_agent_keys_apply() gives it the
	 * keyring's before anything is sent. */
	err = xg_core_new(&a->core, &cc, &io, xg_now_mono_ns());
	if (!err)
		err = xg_agent_keys_apply(a);
	if (err)
		xg_error("cannot create the protocol core: %s", strerror(-err));
	return err;
}

static int add_watch(struct xg_agent *a, struct xg_watch *w, int fd,
		     xg_watch_fn fn, int prio)
{
	w->fd = fd;
	w->fn = fn;
	w->prio = prio;
	return xg_loop_add(a->loop, w, EPOLLIN);
}

static int setup_sockets(struct xg_agent *a)
{
	int err;

	a->udp = malloc(sizeof(*a->udp));
	if (!a->udp)
		return -ENOMEM;
	err = xg_udp_open(a->udp, &a->cfg->bind);
	if (err) {
		xg_error("cannot bind UDP %s: %s", a->bind_text, strerror(-err));
		return err;
	}
	/* A member sends a few packets a second (a probe, its ACKs, gossip
	 * rounds), a joining cluster a few hundred; a flood from one address
	 * must not take the agent's time from everyone else.  Probes the
	 * kernel answers never get here. */
	err = xg_ratelimit_new(&a->rl, XG_RX_RATE_PER_SOURCE,
			       XG_RX_BURST_PER_SOURCE, XG_RX_RATE_SOURCES);
	if (err) {
		xg_error("cannot set up the rate limiter: %s", strerror(-err));
		return err;
	}
	return add_watch(a, &a->udp_w, a->udp->fd, xg_agent_udp_event,
			 XG_PRIO_UDP);
}

static int setup_timer_and_signals(struct xg_agent *a)
{
	sigset_t set;
	int fd, err;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = add_watch(a, &a->timer_w, fd, xg_agent_timer_event,
			XG_PRIO_TIMER);
	if (err) {
		close(fd);
		a->timer_w.fd = -1;
		return err;
	}
	/* Signals belong to the program that embeds the agent; every write
	 * of ours passes MSG_NOSIGNAL anyway. */
	if (a->cfg->embedded)
		return 0;
	/* A write to a vanished control client or TCP peer must be an
	 * error return, not the death of the agent. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = add_watch(a, &a->sig_w, fd, xg_agent_signal_event,
			XG_PRIO_SIGNAL);
	if (err) {
		close(fd);
		a->sig_w.fd = -1;
	}
	return err;
}

/* --join seeds first, then remembered peers: the operator's list is the
 * better bet, the snapshot covers a seed that has gone away. */
static int start_join(struct xg_agent *a)
{
	struct xg_join_env env = xg_agent_join_env(a);
	char **peers = NULL, **seeds;
	size_t npeers = 0, n = 0, i;
	int err;

	err = xg_statedir_load_peers(&a->sd, &peers, &npeers);
	if (err)
		xg_warn("state dir: cannot read peers: %s", strerror(-err));
	seeds = calloc(a->cfg->n_joins + npeers + 1, sizeof(*seeds));
	if (!seeds) {
		xg_statedir_free_list(peers, npeers);
		return -ENOMEM;
	}
	for (i = 0; i < a->cfg->n_joins; i++)
		seeds[n++] = a->cfg->joins[i];
	for (i = 0; i < npeers; i++)
		seeds[n++] = peers[i];
	if (n > 0) {
		xg_info("join seeds=%zu remembered=%zu", a->cfg->n_joins,
			npeers);
		a->joins = xg_join_new(&env, (const char *const *)seeds, n, true,
				       NULL, NULL);
		if (!a->joins)
			err = -ENOMEM;
	}
	free(seeds);
	xg_statedir_free_list(peers, npeers);
	return err == -ENOMEM ? err : 0;
}

static void log_start(struct xg_agent *a)
{
	char adv[XG_ADDR_STRLEN], cluster[256], xdp[1400];

	xg_info("starting name=%s id=%016" PRIx64 " bind=%s advertise=%s "
		"cluster=%s %s", a->name, a->node_id, a->bind_text,
		xg_addr_format(&a->advertise, adv, sizeof(adv)),
		xg_log_quote(a->cfg->cluster, strlen(a->cfg->cluster), cluster,
			     sizeof(cluster)),
		xg_agent_xdp_describe(a, xdp, sizeof(xdp)));
	xg_info("state dir=%s incarnation=%" PRIu32 " version=%s",
		a->cfg->state_dir, a->saved_inc, XGOSSIP_VERSION);
}

/* Everything that can fail on a busy host (state dir lock, ports, the
 * control socket) is claimed before XDP: a second agent started by
 * mistake must fail without touching the first one's program. */
static int setup_services(struct xg_agent *a)
{
	int err;

	err = xg_pp_open(&a->pp, a->loop, a->core, &a->cfg->bind);
	if (err) {
		xg_error("cannot listen on TCP %s: %s", a->bind_text,
			 strerror(-err));
		return err;
	}
	a->pp_open = true;
	a->pp.tls = a->tls;
	a->pp.serve_type = XG_T_KEYOP;
	a->pp.serve = xg_agent_keys_serve;
	a->pp.serve_ctx = a;
	err = xg_agent_xfer_setup(a);
	if (err)
		return err;
	err = setup_timer_and_signals(a);
	if (err) {
		xg_error("cannot set up timer and signals: %s", strerror(-err));
		return err;
	}
	/* An application that embeds the agent may go without one. */
	if (!a->cfg->control_path || !a->cfg->control_path[0])
		return 0;
	err = xg_control_open(&a->ctl, a, a->cfg->control_path);
	if (err)
		xg_error("control socket %s: %s", a->cfg->control_path,
			 err == -EADDRINUSE ? "another agent is serving it" :
			 strerror(-err));
	return err;
}

/* Startup code (option parsing, the BPF object's ELF and BTF, key
 * derivation) is not run again; util/memtrim.h says why and how its pages
 * are given back. */
static void trim_startup_memory(void)
{
	long n = xg_trim_code_pages();

	if (n < 0)
		xg_debug("memory: cannot trim code pages: %s", strerror((int)-n));
	else
		xg_debug("memory: code mappings trimmed, %ld KiB of address "
			 "range", n / 1024);
}

static int setup(struct xg_agent *a)
{
	int err;

	a->cluster_id = xg_cluster_id(a->cfg->cluster);
	xg_addr_format(&a->cfg->bind, a->bind_text, sizeof(a->bind_text));
	err = setup_name(a);
	if (!err)
		err = setup_advertise(a);
	if (!err) {
		err = xg_rng_seed(&a->rng);
		if (err)
			xg_error("cannot seed the random generator: %s",
				 strerror(-err));
	}
	if (!err)
		err = setup_state(a);
	if (!err)
		err = xg_agent_keys_setup(a);
	if (!err)
		err = xg_agent_tls_setup(a);
	if (!err)
		err = xg_loop_new(&a->loop);
	if (!err) {
		err = xg_evh_open(&a->evh, a->loop, a->cfg->evh, a->cfg->n_evh,
				  a->name);
		if (err == -ENOMEM)
			xg_error("event handlers: out of memory");
	}
	if (!err)
		err = setup_sockets(a);
	if (!err)
		err = setup_core(a);
	if (!err)
		err = xg_agent_msg_setup(a);
	if (!err)
		err = setup_services(a);
	if (!err)
		err = xg_agent_xdp_setup(a);
	if (err)
		return err;
	log_start(a);
	/* Before the first contact: a member that joins CPU-limited says so
	 * in the state it joins with. */
	xg_agent_cpu_limit_check(a, xg_now_mono_ns(), true);
	return start_join(a);
}

static void teardown(struct xg_agent *a, bool clean)
{
	struct xg_join *j;
	int err;

	/* First: the kernel stops answering for this node while the agent
	 * itself still can. */
	xg_agent_xdp_close(a, clean);
	if (a->core)
		xg_agent_persist_incarnation(a);
	/* Only news is written: an agent that failed to start, or never
	 * reached anyone, must not wipe the list the next start depends on. */
	if (a->ran && a->peers_dirty) {
		err = xg_agent_write_peers(a);
		if (err)
			xg_warn("state dir: cannot save peers: %s",
				strerror(-err));
	}
	/* Pending joins learn that they failed while whoever asked (a control
	 * client) can still be told. */
	for (j = a->joins; j; j = j->next)
		xg_join_cancel(j);
	xg_agent_xfer_close(a);
	if (a->pp_open)
		xg_pp_close(&a->pp);
	for (j = a->joins; j; j = j->next)
		xg_join_tick(j, xg_now_mono_ns());
	while ((j = a->joins)) {
		a->joins = j->next;
		xg_join_free(j);
	}
	if (a->ctl)
		xg_control_close(a->ctl);
	if (a->timer_w.fd >= 0)
		close(a->timer_w.fd);
	if (a->sig_w.fd >= 0)
		close(a->sig_w.fd);
	if (a->udp) {
		xg_udp_close(a->udp);
		free(a->udp);
	}
	xg_agent_msg_close(a);
	xg_evh_close(a->evh);
	a->evh = NULL;
	xg_core_free(a->core);
	xg_loop_free(a->loop);
	if (a->sd.path)
		xg_statedir_close(&a->sd);
	xg_tags_free(&a->tags);
	xg_agent_tls_close(a);
	xg_keyring_wipe(&a->keyring);
	xg_ratelimit_free(a->rl);
}

int xg_agent_new(struct xg_agent **out, const struct xg_agent_config *cfg,
		  const struct xg_agent_hooks *hooks)
{
	struct xg_agent *a;
	uint8_t meta[XG_META_MAX];
	ssize_t mlen;
	int err;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a) {
		xg_error("out of memory");
		return -ENOMEM;
	}
	a->cfg = cfg;
	if (hooks)
		a->hooks = *hooks;
	a->armed_ns = UINT64_MAX;
	a->timer_w.fd = a->sig_w.fd = a->udp_w.fd = a->xdp.hb_w.fd = -1;
	a->xdp_active = "off";
	a->sd.lock_fd = -1;
	a->started_real_ns = xg_now_real_ns();
	a->started_mono_ns = xg_now_mono_ns();
	/* The agent's own copy of the tags, through the wire encoding. */
	mlen = xg_tags_encode(&cfg->tags, meta, sizeof(meta));
	err = mlen < 0 ? (int)mlen : xg_tags_decode(meta, (size_t)mlen, &a->tags);
	if (!err)
		err = setup(a);
	if (err) {
		teardown(a, false);
		free(a);
		return err;
	}
	a->ran = true;
	/* Trimming acts on every executable mapping of the process: in an
	 * application's process those are the application's. */
	if (!cfg->embedded)
		trim_startup_memory();
	xg_agent_after_wakeup(a); /* arms the first timer */
	*out = a;
	return 0;
}

int xg_agent_step(struct xg_agent *a, int timeout_ms)
{
	int err;

	if (xg_loop_stopped(a->loop))
		return 0;
	err = xg_loop_run_once(a->loop, timeout_ms);
	if (err) {
		xg_error("event loop failed: %s", strerror(-err));
		a->failed = true;
		xg_loop_stop(a->loop);
		return err;
	}
	xg_agent_after_wakeup(a);
	return 0;
}

bool xg_agent_done(const struct xg_agent *a)
{
	return xg_loop_stopped(a->loop);
}

int xg_agent_fd(const struct xg_agent *a)
{
	return xg_loop_fd(a->loop);
}

int xg_agent_free(struct xg_agent *a)
{
	int status = a->failed ? XG_EXIT_FAIL : XG_EXIT_OK;

	teardown(a, status == XG_EXIT_OK);
	free(a);
	xg_info("stopped status=%d", status);
	return status;
}

int xg_agent_run(const struct xg_agent_config *cfg)
{
	struct xg_agent *a;

	xg_log_set_level(cfg->log_level);
	if (xg_agent_new(&a, cfg, NULL))
		return XG_EXIT_FAIL;
	while (!xg_agent_done(a))
		(void)xg_agent_step(a, -1);
	return xg_agent_free(a);
}
