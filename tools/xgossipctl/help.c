/* SPDX-License-Identifier: MIT */
#include "help.h"

#include "cmd_keys.h"
#include "cmd_msg.h"
#include "cmd_tls.h"

/* Paragraphs every page shares. */
static const char global_options[] =
"    These may appear anywhere on the command line.\n"
"\n"
"    --socket PATH\n"
"        The agent's control socket.  Default: $XGOSSIP_SOCKET if set,\n"
"        else " CTL_DEFAULT_SOCKET " (the default of xgossipd --control).\n"
"\n"
"    -o, --output table|json\n"
"        table (default) prints aligned text for people; json prints the\n"
"        agent's reply object as it is (for monitor and subscribe, one\n"
"        JSON object per line), for scripts and jq.\n"
"\n"
"    --timeout DURATION\n"
"        How long to wait for the agent's reply, with a unit: 500ms, 10s,\n"
"        2m.  Default 10s (20s for send and the keys commands that ask\n"
"        the agent).  For monitor and subscribe it bounds only the first\n"
"        reply.\n"
"\n"
"    -h, --help\n"
"        Show this page (after a command: that command's page).\n"
"\n"
"    --version\n"
"        Print xgossipctl's version and exit.\n"
"\n";

static const char exit_status[] =
"EXIT STATUS\n"
"    0   success\n"
"    1   the agent refused or failed the request, sent no reply within\n"
"        --timeout, or closed the connection\n"
"    2   bad usage: unknown command or option, invalid argument\n"
"    3   the agent is not reachable on the socket (not running, wrong\n"
"        --socket, no permission)\n"
"\n";

static const char overall[] =
"NAME\n"
"    xgossipctl - inspect and control a running xgossipd agent\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl [--socket PATH] [-o table|json] [--timeout DURATION]\n"
"               COMMAND [ARGS...]\n"
"    xgossipctl help [COMMAND]\n"
"    xgossipctl COMMAND --help\n"
"\n"
"DESCRIPTION\n"
"    xgossipctl talks to the xgossipd agent on this host through its\n"
"    control socket (a Unix socket speaking one JSON object per line, see\n"
"    docs/CONTROL.md).  It shows the cluster as this agent sees it,\n"
"    follows membership events as they happen, asks the agent to join\n"
"    other nodes, change its tags or leave the cluster, and sends and\n"
"    receives user messages.\n"
"\n"
"COMMANDS\n"
"    members [--status S]     list the members this agent knows of\n"
"    info                     this node, the agent and its counters\n"
"    join ADDR...             join a cluster through one or more nodes\n"
"    leave                    leave the cluster gracefully; the agent exits\n"
"    tags set KEY=VALUE...    add or change this node's tags\n"
"    tags del KEY...          remove tags from this node\n"
"    monitor [--events LIST]  print membership events until interrupted\n"
"    xdp                      the XDP fast path: mode, interface, maps,\n"
"                             kernel counters (or why it is off)\n"
"    tls init NAME...         make the cluster CA and node certificates\n"
"                             (local, no agent needed)\n"
"    keys generate            print a new random gossip key (local)\n"
"    keys list                the gossip keys of every live member\n"
"    keys install|use|remove KEY\n"
"                             add, make primary or drop a gossip key on\n"
"                             every live member\n"
"    broadcast TOPIC [FILE|-] send a message to every other member\n"
"    send NODE TOPIC [FILE|-] send a message to one member, wait for it\n"
"    subscribe [TOPIC...]     print the messages this node receives\n"
"    help [COMMAND]           show this page or a command's page\n"
"\n"
"    Run 'xgossipctl COMMAND --help' for the details of one command.\n"
"\n";

static const char environment[] =
"ENVIRONMENT\n"
"    XGOSSIP_SOCKET   control socket path used when --socket is not given\n"
"\n";

static const char overall_examples[] =
"EXAMPLES\n"
"    xgossipctl members\n"
"    xgossipctl members --status suspect -o json | jq -r '.members[].name'\n"
"    xgossipctl --socket /tmp/xg.sock info\n"
"    xgossipctl join 198.18.0.2 198.18.0.3:7946\n"
"    xgossipctl tags set role=db zone=eu-1\n"
"    xgossipctl monitor --events join,leave,fail\n"
"    echo 'deploy v42' | xgossipctl broadcast deploy\n"
"    xgossipctl subscribe deploy\n";

static const char members_page[] =
"NAME\n"
"    xgossipctl members - list the members this agent knows of\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl members [--status alive|suspect|dead|left]\n"
"\n"
"DESCRIPTION\n"
"    Prints every member in this agent's membership table, itself\n"
"    included, sorted by name: its name, address (ip:port), status,\n"
"    incarnation number and tags (key=value, comma separated).  Dead\n"
"    and left members stay listed until the agent reclaims them.\n"
"    With -o json each member also has its node id, whether it is this\n"
"    node, and since_ms, the time since its status last changed here.\n"
"\n"
"OPTIONS\n"
"    --status S\n"
"        Only members in status S: alive, suspect, dead or left.\n"
"\n";

static const char members_examples[] =
"EXAMPLES\n"
"    $ xgossipctl members\n"
"    Name   Address          Status  Incarnation  Tags\n"
"    node1  198.18.0.1:7946  alive   1            role=db,zone=a\n"
"    node2  198.18.0.2:7946  alive   3            zone=b\n"
"\n"
"    $ xgossipctl members --status dead -o json\n";

static const char info_page[] =
"NAME\n"
"    xgossipctl info - show this node, the agent and its counters\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl info\n"
"\n"
"DESCRIPTION\n"
"    Prints four sections: node (this node's name, id, address,\n"
"    incarnation, tags), agent (version, bind address, XDP mode, state\n"
"    directory, cluster name and id, start time, uptime), members (how\n"
"    many are alive, suspect, dead, left) and stats (protocol and\n"
"    transport counters since the agent started).\n"
"\n";

static const char info_examples[] =
"EXAMPLES\n"
"    xgossipctl info\n"
"    xgossipctl info -o json | jq .stats.probes_failed\n";

static const char join_page[] =
"NAME\n"
"    xgossipctl join - join a cluster through one or more nodes\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl join ADDR...\n"
"\n"
"DESCRIPTION\n"
"    Asks the agent to exchange its full state with each ADDR (a TCP\n"
"    push/pull).  ADDR is an IPv4 address or an IPv6 address in\n"
"    brackets, with an optional :port (default 7946): 198.18.0.2,\n"
"    198.18.0.2:7946, [fd00:198:18::2]:7946.  Host names are refused\n"
"    here (resolving them would stall the agent); give them to\n"
"    xgossipd --join instead.\n"
"    Succeeds if at least one node answered, and prints how many did.\n"
"    Joining takes as long as the slowest address; raise --timeout for\n"
"    far or slow nodes.\n"
"\n";

static const char join_examples[] =
"EXAMPLES\n"
"    xgossipctl join 198.18.0.2\n"
"    xgossipctl --timeout 30s join 198.18.0.2 '[fd00:198:18::3]:7946'\n";

static const char leave_page[] =
"NAME\n"
"    xgossipctl leave - leave the cluster gracefully\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl leave\n"
"\n"
"DESCRIPTION\n"
"    Tells the agent to announce that this node is leaving, so the other\n"
"    members record it as left rather than failed, and to exit once the\n"
"    news has spread (or its leave timeout passed).  The command returns\n"
"    as soon as the leave has started.\n"
"\n";

static const char leave_examples[] =
"EXAMPLES\n"
"    xgossipctl leave\n";

static const char tags_page[] =
"NAME\n"
"    xgossipctl tags - change this node's tags\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl tags set KEY=VALUE...\n"
"    xgossipctl tags del KEY...\n"
"\n"
"DESCRIPTION\n"
"    Tags are key=value pairs attached to this node and spread to every\n"
"    member (as the node's metadata, so other agents see them in\n"
"    members and in update events).  'tags set' adds or replaces the\n"
"    given tags and keeps the others; 'tags del' removes the given keys.\n"
"    A KEY is non-empty and has no '=' or newline; a VALUE has no\n"
"    newline and may be empty.  All tags together must fit in 512 bytes\n"
"    encoded as key=value lines.  Prints the node's tags afterwards.\n"
"\n";

static const char tags_examples[] =
"EXAMPLES\n"
"    xgossipctl tags set role=db zone=eu-1\n"
"    xgossipctl tags del zone\n";

static const char monitor_page[] =
"NAME\n"
"    xgossipctl monitor - print membership events as they happen\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl monitor [--events EVENT[,EVENT...]]\n"
"\n"
"DESCRIPTION\n"
"    Prints one line per event seen by this agent, until interrupted\n"
"    (Ctrl-C or SIGTERM: exit status 0) or the agent goes away (exit\n"
"    status 1).\n"
"    Events: join (a member appeared), leave (left gracefully), fail\n"
"    (declared dead), update (tags or address changed), suspect (became\n"
"    suspect), alive (a suspect or dead member is back), refute (this\n"
"    node refuted a suspicion of itself).  Each line shows the time\n"
"    (UTC), event, and the member's name, address, status, incarnation\n"
"    and tags; with -o json one JSON object per line.  The agent drops a\n"
"    monitor that does not keep up with its events (1 MiB unread).\n"
"\n"
"OPTIONS\n"
"    --events LIST\n"
"        Only these events, comma separated.  Default: all.\n"
"\n";

static const char monitor_examples[] =
"EXAMPLES\n"
"    xgossipctl monitor\n"
"    xgossipctl monitor --events fail,leave -o json\n";

static const char xdp_page[] =
"NAME\n"
"    xgossipctl xdp - show the XDP fast path of this agent\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl xdp\n"
"\n"
"DESCRIPTION\n"
"    Prints the state of the kernel fast path that answers PINGs for\n"
"    this node (see docs/XDP.md).  Section xdp: the mode obtained\n"
"    (native, generic or off) and the one requested with xgossipd --xdp,\n"
"    the pin instance, the interface and its index, the program id, the\n"
"    pin directory, the liveness window, the heartbeat period, the age of\n"
"    the last heartbeat and how many were written or failed.  Section\n"
"    maps: the pin path of every map, for bpftool map dump pinned PATH.\n"
"    Section counters: every counter of the program, summed over CPUs,\n"
"    since its maps were created (they survive agent restarts).\n"
"    With XDP off it says so, with the reason, and exits 0.\n"
"\n";

static const char xdp_examples[] =
"EXAMPLES\n"
"    xgossipctl xdp\n"
"    xgossipctl xdp -o json | jq .counters.ping_answered\n"
"    bpftool map dump pinned \"$(xgossipctl xdp -o json | jq -r .maps.xg_stats)\"\n";

void ctl_help(FILE *out, enum ctl_cmd cmd)
{
	const char *page = overall, *examples = overall_examples;

	switch (cmd) {
	case CTL_CMD_NONE:
		break;
	case CTL_CMD_MEMBERS:
		page = members_page;
		examples = members_examples;
		break;
	case CTL_CMD_INFO:
		page = info_page;
		examples = info_examples;
		break;
	case CTL_CMD_JOIN:
		page = join_page;
		examples = join_examples;
		break;
	case CTL_CMD_LEAVE:
		page = leave_page;
		examples = leave_examples;
		break;
	case CTL_CMD_TAGS:
	case CTL_CMD_TAGS_SET:
	case CTL_CMD_TAGS_DEL:
		page = tags_page;
		examples = tags_examples;
		break;
	case CTL_CMD_MONITOR:
		page = monitor_page;
		examples = monitor_examples;
		break;
	case CTL_CMD_XDP:
		page = xdp_page;
		examples = xdp_examples;
		break;
	case CTL_CMD_TLS:
	case CTL_CMD_TLS_INIT:
		page = ctl_tls_page;
		examples = ctl_tls_examples;
		break;
	case CTL_CMD_KEYS:
	case CTL_CMD_KEYS_GENERATE:
	case CTL_CMD_KEYS_LIST:
	case CTL_CMD_KEYS_INSTALL:
	case CTL_CMD_KEYS_USE:
	case CTL_CMD_KEYS_REMOVE:
		page = ctl_keys_page;
		examples = ctl_keys_examples;
		break;
	case CTL_CMD_BROADCAST:
		page = ctl_broadcast_page;
		examples = ctl_broadcast_examples;
		break;
	case CTL_CMD_SEND:
		page = ctl_send_page;
		examples = ctl_send_examples;
		break;
	case CTL_CMD_SUBSCRIBE:
		page = ctl_subscribe_page;
		examples = ctl_subscribe_examples;
		break;
	}
	fputs(page, out);
	/* A command with options of its own has printed OPTIONS already. */
	fputs(cmd == CTL_CMD_MEMBERS || cmd == CTL_CMD_MONITOR ||
	      cmd == CTL_CMD_TLS || cmd == CTL_CMD_TLS_INIT ||
	      cmd == CTL_CMD_SUBSCRIBE
	      ? "GLOBAL OPTIONS\n" : "OPTIONS\n", out);
	fputs(global_options, out);
	if (cmd == CTL_CMD_NONE)
		fputs(environment, out);
	fputs(exit_status, out);
	fputs(examples, out);
}

void ctl_usage_hint(FILE *err, enum ctl_cmd cmd)
{
	if (cmd == CTL_CMD_NONE)
		fprintf(err, "Try 'xgossipctl --help'.\n");
	else
		fprintf(err, "Try 'xgossipctl %s --help'.\n",
			cmd == CTL_CMD_TAGS_SET || cmd == CTL_CMD_TAGS_DEL
			? "tags" : cmd == CTL_CMD_TLS_INIT
			? "tls" : cmd >= CTL_CMD_KEYS_GENERATE &&
			cmd <= CTL_CMD_KEYS_REMOVE ? "keys"
			: ctl_cmd_name(cmd));
}
