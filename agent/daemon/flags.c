/* SPDX-License-Identifier: MIT */
#include "daemon/flags.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <xgossip/wire.h>

#include "core/msg.h"
#include "daemon/resolve.h"
#include "net/sockaddr.h"
#include "util/duration.h"
#include "util/keys.h"
#include "util/version.h"

void xg_agent_config_init(struct xg_agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	xg_addr_parse("0.0.0.0", XG_DEFAULT_PORT, &cfg->bind);
	cfg->cluster = XG_DEFAULT_CLUSTER;
	cfg->state_dir = XG_DEFAULT_STATE_DIR;
	cfg->control_path = XG_DEFAULT_CONTROL;
	cfg->log_level = XG_LOG_INFO;
	cfg->leave_timeout_ns = XG_DEFAULT_LEAVE_TIMEOUT_NS;
	cfg->xdp_mode = XG_XDP_AUTO;
	cfg->xdp_liveness_ns = XG_XDP_LIVENESS_DEFAULT_NS;
	cfg->starved_cpu_limit_ns = XG_STARVED_CPU_LIMIT_DEFAULT_NS;
}

void xg_agent_config_free(struct xg_agent_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_joins; i++)
		free(cfg->joins[i]);
	free(cfg->joins);
	cfg->joins = NULL;
	cfg->n_joins = 0;
	xg_tags_free(&cfg->tags);
	xg_evh_specs_free(cfg->evh, cfg->n_evh);
	cfg->evh = NULL;
	cfg->n_evh = 0;
}

int xg_name_check(const char *name)
{
	size_t i, n = name ? strlen(name) : 0;

	if (n == 0 || n >= XG_NAME_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '=' || c == '\\')
			return -EINVAL;
	}
	return 0;
}

static bool instance_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

int xg_xdp_instance_check(const char *s)
{
	size_t i, n = s ? strlen(s) : 0;

	/* A leading dot would allow "." and "..", which are not directories
	 * of their own. */
	if (n == 0 || n >= XG_XDP_INSTANCE_MAX || s[0] == '.')
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!instance_char(s[i]))
			return -EINVAL;
	return 0;
}

void xg_xdp_instance_default(const char *name, char *out, size_t cap)
{
	size_t i;

	if (cap == 0)
		return;
	/* Node names may hold '/' and other characters a path component
	 * must not; they become '_' (the name stays recognisable). */
	for (i = 0; name[i] && i + 1 < cap && i + 1 < XG_XDP_INSTANCE_MAX; i++)
		out[i] = instance_char(name[i]) && !(i == 0 && name[i] == '.')
			 ? name[i] : '_';
	out[i] = '\0';
}

void xg_flags_usage(FILE *out)
{
	fputs(
"NAME\n"
"    xgossipd - SWIM gossip membership agent\n"
"\n"
"SYNOPSIS\n"
"    xgossipd [--name NAME] [--bind ADDR[:PORT]] [--join ADDR[,ADDR...]]...\n"
"             [--cluster NAME] [--cluster-secret-file PATH] [OPTION]...\n"
"\n"
"DESCRIPTION\n"
"    xgossipd keeps this node in a cluster: it finds the other members, spreads\n"
"    this node's tags, and notices when a member fails or leaves.  Probes and\n"
"    gossip travel over UDP, full-state anti-entropy (push/pull) over TCP, both\n"
"    on the --bind port.  xgossipctl talks to the agent over --control.\n"
"    Logs go to standard error, one line per record.  See docs/OPERATIONS.md.\n"
"\n"
"IDENTITY AND ADDRESSES\n"
"    --name NAME              node name, unique in the cluster: 1-63 printable\n"
"                             ASCII characters without spaces, '\"', '=' or '\\'\n"
"                             (default: the host name)\n"
"    --bind ADDR[:PORT]       UDP and TCP listen address (default 0.0.0.0:7946;\n"
"                             \"[::]:7946\" listens on IPv6 and IPv4)\n"
"    --advertise ADDR[:PORT]  address peers use to reach this node (default: the\n"
"                             bind address, or if that is a wildcard the first\n"
"                             non-loopback address of its family; the port\n"
"                             defaults to the bind port)\n"
"    --join ADDR[,ADDR...]    seeds to join through; repeatable.  An address is\n"
"                             IP[:PORT], [IPv6][:PORT] or HOST[:PORT] (port 7946\n"
"                             by default).  Retried with exponential backoff\n"
"                             (1s doubling to 30s, with jitter) until one\n"
"                             push/pull succeeds.  Peers remembered in the state\n"
"                             directory are tried as well.\n"
"    --tag KEY=VALUE          node tag spread to every member; repeatable\n"
"\n"
"CLUSTER AND SECURITY\n"
"    --cluster NAME           cluster name (default \"default\"); nodes of other\n"
"                             clusters are ignored\n"
"    --keyring-file PATH      the cluster's keys: a JSON array of base64 32-byte\n"
"                             keys, the primary first (xgossipctl keys generate)\n"
"    --cluster-secret-file PATH\n"
"                             or: a file holding a cluster secret (at least 16\n"
"                             bytes, surrounding whitespace ignored) standing for\n"
"                             a one-key keyring.  Either one only seeds the\n"
"                             keyring kept in the state dir, which wins from then\n"
"                             on (rotations with xgossipctl keys survive restarts)\n"
"    --tls-ca PATH            cluster CA certificate(s), PEM; with --tls-cert and\n"
"    --tls-cert PATH          --tls-key, every TCP stream (join, push/pull, key\n"
"    --tls-key PATH           changes) is TLS 1.3 with both sides' certificates\n"
"                             signed by the CA and matching the node names they\n"
"                             claim (xgossipctl tls init).  Reloaded on SIGHUP.\n"
"    --insecure-dev           run without keys (a public development key) and\n"
"                             without TLS: for throwaway test clusters only\n"
"\n"
"FILES\n"
"    --state-dir DIR          node id, last incarnation and known peers\n"
"                             (default " XG_DEFAULT_STATE_DIR ", created 0700);\n"
"                             one agent per directory\n"
"    --control PATH           control socket for xgossipctl\n"
"                             (default " XG_DEFAULT_CONTROL ")\n"
"    --log-level LEVEL        debug, info, warn or error (default info)\n"
"\n"
"PROTOCOL TIMING\n"
"    Durations are a number with a unit: 500ms, 1s, 2m, 24h (also us, ns);\n"
"    a bare number means milliseconds.  All members should use the same values.\n"
"    --probe-interval D       time between failure-detector probes (default 1s)\n"
"    --probe-timeout D        wait for a direct ACK before asking helpers;\n"
"                             must be below --probe-interval (default 500ms)\n"
"    --indirect-checks N      helpers asked to probe an unresponsive member\n"
"                             (default 3)\n"
"    --gossip-interval D      time between gossip rounds (default 200ms)\n"
"    --gossip-nodes N         members gossiped to per round (default 3)\n"
"    --suspicion-mult N       suspicion timeout multiplier (default 4)\n"
"    --suspicion-max-mult N   a suspicion nobody confirms waits N times the\n"
"                             suspicion timeout; confirmations shorten it\n"
"                             (Lifeguard; default 6, 1 disables)\n"
"    --lhm-max N              cap of the local health multiplier: a node that\n"
"                             misses ACKs probes up to N+1 times slower\n"
"                             (Lifeguard; default 8, 0 disables)\n"
"    --retransmit-mult N      retransmissions of an update, times log(n)\n"
"                             (default 4)\n"
"    --pushpull-interval D    full-state anti-entropy with a random member;\n"
"                             0 disables (default 30s)\n"
"    --reclaim D              forget dead and departed members after this long\n"
"                             (default 24h)\n"
"    --leave-timeout D        longest time a graceful leave is spread before the\n"
"                             agent exits (default 5s)\n"
"\n"
"KERNEL FAST PATH\n"
"    An XDP program on the interface of the advertised address answers valid\n"
"    PINGs for this node in the kernel while the agent is alive and its\n"
"    heartbeat (every 100ms) is fresh.  Needs root (CAP_BPF, CAP_NET_ADMIN,\n"
"    CAP_SYS_ADMIN to mount bpffs).  See docs/XDP.md.\n"
"    --xdp MODE               off, auto, native or generic (default auto).\n"
"                             auto tries native, then generic, then runs\n"
"                             without XDP and logs why; native and generic\n"
"                             refuse to start when they cannot attach.  off\n"
"                             also removes a program an earlier agent of this\n"
"                             instance left behind.  On a veth, native mode\n"
"                             needs an XDP program on the peer too.\n"
"    --xdp-instance NAME      pin directory /sys/fs/bpf/xgossip/NAME/ (letters,\n"
"                             digits, '-', '_', '.'; default: the node name);\n"
"                             unique per host.  A restarted agent with the\n"
"                             same instance takes over the pinned maps.\n"
"    --liveness-window D      the kernel stops answering for this agent once\n"
"                             its heartbeat is older than D (default 2s, at\n"
"                             least 500ms)\n"
"    --liveness-window-max D  while the host does not let the agent run (a\n"
"                             CPU quota, an overloaded node) the window is\n"
"                             stretched by the longest such wait, up to D\n"
"                             (default 4 x the window; = the window: never)\n"
"\n"
"CPU STARVATION\n"
"    An agent the host does not let run (its timers over 500ms late while it\n"
"    used little CPU, or a cgroup CPU limit below the one given here) sheds\n"
"    push/pull exchanges and asks the members to suspect it with the longest\n"
"    suspicion timeout (so its real death is also noticed later).\n"
"    --starved-cpu-limit D    CPU time per second below which this agent's\n"
"                             cgroup limit (cpu.max, cpu.cfs_quota_us; read\n"
"                             at start and every 5s) makes it starved for as\n"
"                             long as the limit stays (default 10ms; 0: never)\n"
"    --cgroup-root DIR        where the cgroup hierarchies are mounted, as this\n"
"                             agent sees them (default /sys/fs/cgroup; under\n"
"                             `ip netns exec` that /sys has none: give the\n"
"                             host's, e.g. /proc/PID/root/sys/fs/cgroup)\n"
"\n"
"USER MESSAGES\n"
"    Broadcasts reach every live member exactly once (docs/MESSAGING.md).\n"
"    --msg-fanout N           members each message is pushed to by each\n"
"                             member that gets it first (1-16, default 3)\n"
"    --msg-cache N            recent messages kept to answer pulls\n"
"                             (default 4096)\n"
"    --msg-cache-ttl D        how long they are kept (default 2m)\n"
"    --max-message-size S     largest message accepted or sent, in bytes\n"
"                             with an optional K, M suffix (at most and\n"
"                             default 16M); above ~1.2K it travels over TLS\n"
"    --large-store S          bodies of large messages kept for members\n"
"                             that fetch them from us (default 64M)\n"
"\n"
"EVENT HANDLERS\n"
"    --event-handler [FILTER=]PATH\n"
"                             run the program PATH (directly, no shell) on\n"
"                             membership and user events; repeatable.  FILTER\n"
"                             is a comma list of member-join, member-leave,\n"
"                             member-failed, member-update, member-suspect,\n"
"                             member-alive, user, user:TOPIC, or * (default:\n"
"                             every event).  The event is in XGOSSIP_*\n"
"                             variables and on stdin; each handler runs its\n"
"                             events one at a time, in order, for at most 30s.\n"
"                             See docs/EVENT_HANDLERS.md.\n"
"\n"
"OTHER\n"
"    -h, --help               this text\n"
"    -V, --version            print the version and exit\n"
"\n"
"SIGNALS\n"
"    SIGTERM, SIGINT          leave the cluster gracefully, then exit 0; a second\n"
"                             one exits at once.  A clean exit detaches the XDP\n"
"                             program and removes its pins; a crash leaves them\n"
"                             for the next agent of the instance.\n"
"    SIGHUP                   reload the TLS certificate, key and CA files\n"
"\n"
"EXIT STATUS\n"
"    0 after a graceful leave, 1 when the agent cannot start or fails, 2 for a\n"
"    bad command line.\n"
"\n"
"EXAMPLES\n"
"    xgossipd --name n1 --bind 10.0.0.1 --cluster prod \\\n"
"             --cluster-secret-file /etc/xgossip/secret\n"
"    xgossipd --name n2 --bind 10.0.0.2 --cluster prod \\\n"
"             --cluster-secret-file /etc/xgossip/secret --join 10.0.0.1 \\\n"
"             --tag role=db --tag zone=a\n"
"    xgossipd --bind '[::]:7946' --join '[fd00::1]:7946'\n",
	      out);
}

enum {
	OPT_NAME = 256, OPT_BIND, OPT_ADVERTISE, OPT_JOIN, OPT_TAG,
	OPT_CLUSTER, OPT_SECRET, OPT_STATE_DIR, OPT_CONTROL, OPT_LOG_LEVEL,
	OPT_PROBE_INTERVAL, OPT_PROBE_TIMEOUT, OPT_INDIRECT, OPT_GOSSIP_INTERVAL,
	OPT_GOSSIP_NODES, OPT_SUSPICION, OPT_RETRANSMIT, OPT_PUSHPULL,
	OPT_RECLAIM, OPT_LEAVE_TIMEOUT, OPT_XDP, OPT_XDP_INSTANCE,
	OPT_LIVENESS, OPT_LIVENESS_MAX, OPT_LHM_MAX, OPT_SUSPICION_MAX, OPT_KEYRING,
	OPT_INSECURE_DEV, OPT_TLS_CA, OPT_TLS_CERT, OPT_TLS_KEY,
	OPT_MSG_FANOUT, OPT_MSG_CACHE, OPT_MSG_CACHE_TTL, OPT_MSG_MAX_SIZE,
	OPT_LARGE_STORE,
	OPT_EVENT_HANDLER, OPT_STARVED_CPU, OPT_CGROUP_ROOT,
};

static const struct option long_opts[] = {
	{ "name",                required_argument, NULL, OPT_NAME },
	{ "bind",                required_argument, NULL, OPT_BIND },
	{ "advertise",           required_argument, NULL, OPT_ADVERTISE },
	{ "join",                required_argument, NULL, OPT_JOIN },
	{ "tag",                 required_argument, NULL, OPT_TAG },
	{ "cluster",             required_argument, NULL, OPT_CLUSTER },
	{ "cluster-secret-file", required_argument, NULL, OPT_SECRET },
	{ "keyring-file",        required_argument, NULL, OPT_KEYRING },
	{ "insecure-dev",        no_argument,       NULL, OPT_INSECURE_DEV },
	{ "tls-ca",              required_argument, NULL, OPT_TLS_CA },
	{ "tls-cert",            required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key",             required_argument, NULL, OPT_TLS_KEY },
	{ "state-dir",           required_argument, NULL, OPT_STATE_DIR },
	{ "control",             required_argument, NULL, OPT_CONTROL },
	{ "log-level",           required_argument, NULL, OPT_LOG_LEVEL },
	{ "probe-interval",      required_argument, NULL, OPT_PROBE_INTERVAL },
	{ "probe-timeout",       required_argument, NULL, OPT_PROBE_TIMEOUT },
	{ "indirect-checks",     required_argument, NULL, OPT_INDIRECT },
	{ "gossip-interval",     required_argument, NULL, OPT_GOSSIP_INTERVAL },
	{ "gossip-nodes",        required_argument, NULL, OPT_GOSSIP_NODES },
	{ "suspicion-mult",      required_argument, NULL, OPT_SUSPICION },
	{ "suspicion-max-mult",  required_argument, NULL, OPT_SUSPICION_MAX },
	{ "lhm-max",             required_argument, NULL, OPT_LHM_MAX },
	{ "retransmit-mult",     required_argument, NULL, OPT_RETRANSMIT },
	{ "pushpull-interval",   required_argument, NULL, OPT_PUSHPULL },
	{ "reclaim",             required_argument, NULL, OPT_RECLAIM },
	{ "leave-timeout",       required_argument, NULL, OPT_LEAVE_TIMEOUT },
	{ "xdp",                 required_argument, NULL, OPT_XDP },
	{ "xdp-instance",        required_argument, NULL, OPT_XDP_INSTANCE },
	{ "liveness-window",     required_argument, NULL, OPT_LIVENESS },
	{ "liveness-window-max", required_argument, NULL, OPT_LIVENESS_MAX },
	{ "msg-fanout",          required_argument, NULL, OPT_MSG_FANOUT },
	{ "msg-cache",           required_argument, NULL, OPT_MSG_CACHE },
	{ "msg-cache-ttl",       required_argument, NULL, OPT_MSG_CACHE_TTL },
	{ "max-message-size",    required_argument, NULL, OPT_MSG_MAX_SIZE },
	{ "large-store",         required_argument, NULL, OPT_LARGE_STORE },
	{ "event-handler",       required_argument, NULL, OPT_EVENT_HANDLER },
	{ "starved-cpu-limit",   required_argument, NULL, OPT_STARVED_CPU },
	{ "cgroup-root",         required_argument, NULL, OPT_CGROUP_ROOT },
	{ "help",                no_argument,       NULL, 'h' },
	{ "version",             no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static const char *opt_name(int c)
{
	const struct option *o;

	for (o = long_opts; o->name; o++)
		if (o->val == c)
			return o->name;
	return "?";
}

__attribute__((format(printf, 2, 3)))
static enum xg_flags_result bad(FILE *err, const char *fmt, ...)
{
	va_list ap;

	fputs("xgossipd: ", err);
	va_start(ap, fmt);
	vfprintf(err, fmt, ap);
	va_end(ap);
	fputs("\nTry 'xgossipd --help' for more information.\n", err);
	return XG_FLAGS_BAD;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 9)
			return -EINVAL;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (i == 0 || v < lo || v > hi)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static int add_joins(struct xg_agent_config *cfg, const char *list,
		     FILE *err, enum xg_flags_result *res)
{
	char host[XG_HOST_MAX + 1];
	const char *p = list;

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		char *item = strndup(p, n), **nj;
		struct xg_addr a;
		uint16_t port;
		bool literal;

		if (!item)
			return -ENOMEM;
		if (xg_seed_split(item, XG_DEFAULT_PORT, host, sizeof(host),
				  &port, &literal, &a)) {
			*res = bad(err, "--join: '%s' is not an address "
				   "(IP[:PORT], [IPv6][:PORT] or HOST[:PORT])",
				   item);
			free(item);
			return -EINVAL;
		}
		nj = realloc(cfg->joins, (cfg->n_joins + 1) * sizeof(*nj));
		if (!nj) {
			free(item);
			return -ENOMEM;
		}
		cfg->joins = nj;
		cfg->joins[cfg->n_joins++] = item;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

static enum xg_flags_result set_duration(int c, const char *arg,
					 struct xg_agent_config *cfg, FILE *err)
{
	struct xg_timing *t = &cfg->timing;
	uint64_t ns;

	if (xg_duration_parse(arg, &ns))
		return bad(err, "--%s: invalid duration '%s' (use e.g. 500ms, "
			   "1s, 2m, or a number of milliseconds)",
			   opt_name(c), arg);
	switch (c) {
	case OPT_PROBE_INTERVAL:
		t->probe_interval_ns = ns;
		t->set |= XG_SET_PROBE_INTERVAL;
		break;
	case OPT_PROBE_TIMEOUT:
		t->probe_timeout_ns = ns;
		t->set |= XG_SET_PROBE_TIMEOUT;
		break;
	case OPT_GOSSIP_INTERVAL:
		t->gossip_interval_ns = ns;
		t->set |= XG_SET_GOSSIP_INTERVAL;
		break;
	case OPT_PUSHPULL:
		t->pushpull_interval_ns = ns;
		t->set |= XG_SET_PUSHPULL_INTERVAL;
		return XG_FLAGS_RUN; /* 0 is meaningful: disabled */
	case OPT_RECLAIM:
		t->reclaim_ns = ns;
		t->set |= XG_SET_RECLAIM;
		break;
	case OPT_LEAVE_TIMEOUT:
		cfg->leave_timeout_ns = ns;
		return XG_FLAGS_RUN; /* 0: exit right after announcing */
	case OPT_MSG_CACHE_TTL:
		cfg->msg.cache_ttl_ns = ns;
		break;
	case OPT_LIVENESS:
		if (ns < XG_XDP_LIVENESS_MIN_NS) {
			char m[32];

			return bad(err, "--liveness-window: '%s' is shorter "
				   "than %s (two heartbeats)", arg,
				   xg_duration_format(XG_XDP_LIVENESS_MIN_NS, m,
						      sizeof(m)));
		}
		cfg->xdp_liveness_ns = ns;
		return XG_FLAGS_RUN;
	case OPT_LIVENESS_MAX:
		cfg->xdp_liveness_max_ns = ns;
		break;
	case OPT_STARVED_CPU:
		cfg->starved_cpu_limit_ns = ns;
		return XG_FLAGS_RUN; /* 0: the cgroup is not read */
	}
	if (ns == 0)
		return bad(err, "--%s: must be greater than zero", opt_name(c));
	return XG_FLAGS_RUN;
}

static enum xg_flags_result set_count(int c, const char *arg,
				      struct xg_agent_config *cfg, FILE *err)
{
	struct xg_timing *t = &cfg->timing;
	unsigned lo = 1, hi = 64, v;

	if (c == OPT_INDIRECT)
		lo = 0; /* no indirect probes: a legitimate, if harsh, choice */
	if (c == OPT_LHM_MAX)
		lo = 0; /* local health off: plain SWIM probing */
	if (c == OPT_MSG_FANOUT)
		hi = XG_MSG_FANOUT_MAX;
	if (c == OPT_MSG_CACHE)
		hi = 1u << 20;
	if (parse_uint(arg, lo, hi, &v))
		return bad(err, "--%s: '%s' is not a whole number from %u to %u",
			   opt_name(c), arg, lo, hi);
	switch (c) {
	case OPT_INDIRECT:
		t->indirect_checks = v;
		t->set |= XG_SET_INDIRECT_CHECKS;
		break;
	case OPT_GOSSIP_NODES:
		t->gossip_nodes = v;
		t->set |= XG_SET_GOSSIP_NODES;
		break;
	case OPT_SUSPICION:
		t->suspicion_mult = v;
		t->set |= XG_SET_SUSPICION_MULT;
		break;
	case OPT_RETRANSMIT:
		t->retransmit_mult = v;
		t->set |= XG_SET_RETRANSMIT_MULT;
		break;
	case OPT_LHM_MAX:
		t->lhm_max = v;
		t->set |= XG_SET_LHM_MAX;
		break;
	case OPT_SUSPICION_MAX:
		t->suspicion_max_mult = v;
		t->set |= XG_SET_SUSPICION_MAX;
		break;
	case OPT_MSG_FANOUT:
		cfg->msg.fanout = v;
		break;
	case OPT_MSG_CACHE:
		cfg->msg.cache_max = v;
		break;
	}
	return XG_FLAGS_RUN;
}

/* "4096", "64K", "16M": bytes, binary units. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0':            break;
	case 'k': case 'K':  v <<= 10; end++; break;
	case 'm': case 'M':  v <<= 20; end++; break;
	default:             return -EINVAL;
	}
	if (*end || v > (1ULL << 40))
		return -EINVAL;
	*out = v;
	return 0;
}

static enum xg_flags_result set_size(int c, const char *arg,
				     struct xg_agent_config *cfg, FILE *err)
{
	uint64_t v;

	if (parse_size(arg, &v))
		return bad(err, "--%s: '%s' is not a size (bytes, or with a "
			   "K or M suffix)", opt_name(c), arg);
	if (c == OPT_MSG_MAX_SIZE) {
		if (v < 1 || v > XG_MSG_LARGE_MAX_DEFAULT)
			return bad(err, "--max-message-size: '%s' is not from "
				   "1 to 16M", arg);
		cfg->msg.max_size = v;
	} else {
		if (v > (4ULL << 30))
			return bad(err, "--large-store: '%s' is over 4G", arg);
		cfg->msg.store_max = (size_t)v;
	}
	return XG_FLAGS_RUN;
}

static enum xg_flags_result set_xdp(const char *arg,
				    struct xg_agent_config *cfg, FILE *err)
{
	if (xg_xdp_mode_parse(arg, &cfg->xdp_mode) == 0)
		return XG_FLAGS_RUN;
	return bad(err, "--xdp: '%s' is not one of off, auto, native, generic",
		   arg);
}

static enum xg_flags_result set_xdp_instance(const char *arg,
					     struct xg_agent_config *cfg,
					     FILE *err)
{
	if (xg_xdp_instance_check(arg))
		return bad(err, "--xdp-instance: '%s' is not a valid instance "
			   "name (1-%d letters, digits, '-', '_' or '.', not "
			   "starting with '.')", arg, XG_XDP_INSTANCE_MAX - 1);
	cfg->xdp_instance = arg;
	return XG_FLAGS_RUN;
}

static enum xg_flags_result set_tag(const char *arg,
				    struct xg_agent_config *cfg, FILE *err)
{
	char *k, *v;
	int e;

	e = xg_tags_parse_kv(arg, &k, &v);
	if (e == -ENOMEM)
		return bad(err, "out of memory");
	if (e)
		return bad(err, "--tag: '%s' is not KEY=VALUE (the key is "
			   "non-empty and has no '=', neither has a newline)",
			   arg);
	e = xg_tags_set(&cfg->tags, k, v);
	free(k);
	free(v);
	if (e)
		return bad(err, "--tag: cannot add '%s': %s", arg, strerror(-e));
	if (xg_tags_encoded_len(&cfg->tags) > XG_META_MAX)
		return bad(err, "--tag: the tags take more than %d bytes "
			   "encoded", XG_META_MAX);
	return XG_FLAGS_RUN;
}

static enum xg_flags_result set_addr(int c, const char *arg,
				     struct xg_agent_config *cfg, FILE *err)
{
	struct xg_addr a;
	uint16_t port = c == OPT_BIND ? XG_DEFAULT_PORT : 0;

	if (xg_addr_parse(arg, port, &a))
		return bad(err, "--%s: '%s' is not an IP address with an "
			   "optional port (1.2.3.4:7946, [fd00::1]:7946)",
			   opt_name(c), arg);
	if (c == OPT_BIND) {
		cfg->bind = a;
		return XG_FLAGS_RUN;
	}
	if (xg_addr_is_wildcard(&a))
		return bad(err, "--advertise: '%s' is a wildcard; peers need "
			   "a real address", arg);
	cfg->advertise = a;
	cfg->has_advertise = true;
	return XG_FLAGS_RUN;
}

static enum xg_flags_result set_string(int c, const char *arg,
				       struct xg_agent_config *cfg, FILE *err)
{
	if (!*arg)
		return bad(err, "--%s: must not be empty", opt_name(c));
	switch (c) {
	case OPT_NAME:
		if (xg_name_check(arg))
			return bad(err, "--name: '%s' is not a valid node name "
				   "(1-%d printable ASCII characters without "
				   "spaces, '\"', '=' or '\\')", arg,
				   XG_NAME_MAX - 1);
		cfg->name = arg;
		break;
	case OPT_CLUSTER:
		cfg->cluster = arg;
		break;
	case OPT_SECRET:
		cfg->secret_file = arg;
		break;
	case OPT_KEYRING:
		cfg->keyring_file = arg;
		break;
	case OPT_TLS_CA:
		cfg->tls_ca = arg;
		break;
	case OPT_TLS_CERT:
		cfg->tls_cert = arg;
		break;
	case OPT_TLS_KEY:
		cfg->tls_key = arg;
		break;
	case OPT_STATE_DIR:
		cfg->state_dir = arg;
		break;
	case OPT_CONTROL:
		cfg->control_path = arg;
		break;
	case OPT_CGROUP_ROOT:
		cfg->cgroup_root = arg;
		break;
	case OPT_LOG_LEVEL:
		if (xg_log_level_parse(arg, &cfg->log_level))
			return bad(err, "--log-level: '%s' is not one of debug, "
				   "info, warn, error", arg);
		break;
	}
	return XG_FLAGS_RUN;
}

/* Only the filter is checked here; whether PATH runs is for start-up
 * (xg_evh_open), an error there rather than a usage error. */
static enum xg_flags_result add_event_handler(const char *arg,
					      struct xg_agent_config *cfg,
					      FILE *err)
{
	char why[256];
	int e;

	e = xg_evh_specs_add(&cfg->evh, &cfg->n_evh, arg, why, sizeof(why));
	if (e == -ENOMEM)
		return bad(err, "out of memory");
	if (e)
		return bad(err, "--event-handler: '%s': %s", arg, why);
	return XG_FLAGS_RUN;
}

static enum xg_flags_result one_opt(int c, const char *arg,
				    struct xg_agent_config *cfg, FILE *err)
{
	enum xg_flags_result res = XG_FLAGS_RUN;

	switch (c) {
	case OPT_BIND:
	case OPT_ADVERTISE:
		return set_addr(c, arg, cfg, err);
	case OPT_JOIN:
		if (add_joins(cfg, arg, err, &res) == -ENOMEM)
			return bad(err, "out of memory");
		return res;
	case OPT_TAG:
		return set_tag(arg, cfg, err);
	case OPT_PROBE_INTERVAL:
	case OPT_PROBE_TIMEOUT:
	case OPT_GOSSIP_INTERVAL:
	case OPT_PUSHPULL:
	case OPT_RECLAIM:
	case OPT_LEAVE_TIMEOUT:
	case OPT_LIVENESS:
	case OPT_LIVENESS_MAX:
	case OPT_MSG_CACHE_TTL:
	case OPT_STARVED_CPU:
		return set_duration(c, arg, cfg, err);
	case OPT_INDIRECT:
	case OPT_GOSSIP_NODES:
	case OPT_SUSPICION:
	case OPT_RETRANSMIT:
	case OPT_LHM_MAX:
	case OPT_SUSPICION_MAX:
	case OPT_MSG_FANOUT:
	case OPT_MSG_CACHE:
		return set_count(c, arg, cfg, err);
	case OPT_XDP:
		return set_xdp(arg, cfg, err);
	case OPT_MSG_MAX_SIZE:
	case OPT_LARGE_STORE:
		return set_size(c, arg, cfg, err);
	case OPT_XDP_INSTANCE:
		return set_xdp_instance(arg, cfg, err);
	case OPT_EVENT_HANDLER:
		return add_event_handler(arg, cfg, err);
	case OPT_INSECURE_DEV: /* takes no value */
		cfg->insecure_dev = true;
		return XG_FLAGS_RUN;
	default:
		return set_string(c, arg, cfg, err);
	}
}

/* Relations between flags, checked once all are known. */
static enum xg_flags_result check_all(struct xg_agent_config *cfg, FILE *err)
{
	const struct xg_timing *t = &cfg->timing;
	const unsigned both = XG_SET_PROBE_INTERVAL | XG_SET_PROBE_TIMEOUT;
	uint64_t interval = t->set & XG_SET_PROBE_INTERVAL ?
			    t->probe_interval_ns : 1000 * 1000000ULL;
	uint64_t timeout = t->set & XG_SET_PROBE_TIMEOUT ?
			   t->probe_timeout_ns : 500 * 1000000ULL;

	/* A timeout at or past the interval would let probe rounds overlap;
	 * with only one of the two given the core's default of the other is
	 * what counts. */
	if ((t->set & both) && timeout >= interval) {
		char ts[32], is[32];

		return bad(err, "--probe-timeout (%s%s) must be shorter than "
			   "--probe-interval (%s%s)",
			   xg_duration_format(timeout, ts, sizeof(ts)),
			   t->set & XG_SET_PROBE_TIMEOUT ? "" : ", the default",
			   xg_duration_format(interval, is, sizeof(is)),
			   t->set & XG_SET_PROBE_INTERVAL ? "" : ", the default");
	}
	if (cfg->xdp_liveness_max_ns &&
	    cfg->xdp_liveness_max_ns < cfg->xdp_liveness_ns) {
		char ms[32], ws[32];

		return bad(err, "--liveness-window-max (%s) is shorter than "
			   "the liveness window (%s)",
			   xg_duration_format(cfg->xdp_liveness_max_ns, ms,
					      sizeof(ms)),
			   xg_duration_format(cfg->xdp_liveness_ns, ws,
					      sizeof(ws)));
	}
	if (cfg->has_advertise && cfg->advertise.port == 0)
		cfg->advertise.port = cfg->bind.port;
	if (cfg->secret_file && cfg->keyring_file)
		return bad(err, "--keyring-file and --cluster-secret-file: give "
			   "one source of keys");
	if ((cfg->tls_ca || cfg->tls_cert || cfg->tls_key) &&
	    !(cfg->tls_ca && cfg->tls_cert && cfg->tls_key))
		return bad(err, "TLS needs all of --tls-ca, --tls-cert and "
			   "--tls-key");
	return XG_FLAGS_RUN;
}

enum xg_flags_result xg_flags_parse(int argc, char **argv,
				    struct xg_agent_config *cfg, FILE *out,
				    FILE *err)
{
	enum xg_flags_result res;
	int c;

	/* Reset getopt fully: tests parse more than once per process. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			xg_flags_usage(out);
			return XG_FLAGS_EXIT;
		case 'V':
			fprintf(out, "xgossipd %s\n", XGOSSIP_VERSION);
			return XG_FLAGS_EXIT;
		case ':':
			return bad(err, "%s: needs a value", argv[optind - 1]);
		case '?':
			if (optopt)
				return bad(err, "unknown option '-%c'", optopt);
			return bad(err, "unknown option '%s'", argv[optind - 1]);
		default:
			res = one_opt(c, optarg, cfg, err);
			if (res != XG_FLAGS_RUN)
				return res;
		}
	}
	if (optind < argc)
		return bad(err, "unexpected argument '%s' (every setting is a "
			   "--flag)", argv[optind]);
	return check_all(cfg, err);
}
