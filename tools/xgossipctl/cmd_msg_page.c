/* SPDX-License-Identifier: MIT */
/* The manual pages of broadcast, send and subscribe (docs/CLI.md says
 * the same at more length). */
#include "cmd_msg.h"

const char ctl_broadcast_page[] =
"NAME\n"
"    xgossipctl broadcast - send a message to every other member\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl broadcast TOPIC [FILE|-]\n"
"\n"
"DESCRIPTION\n"
"    Hands a message to the agent, which spreads it to every live member\n"
"    of the cluster; each of them delivers it once to its subscribers\n"
"    (xgossipctl subscribe) and event handlers.  This node's own\n"
"    subscribers do not get it.\n"
"    TOPIC: 1 to 64 printable ASCII characters (spaces included).  The\n"
"    payload is all of FILE, or of standard input when FILE is - or\n"
"    missing: any bytes, up to 16 MiB (more is a usage error and nothing\n"
"    is sent).  Payloads over about 1.2 KiB travel over TLS.\n"
"    Prints the message's id and size (id=HEX size=N) once the agent has\n"
"    sent it; delivery is not waited for.\n"
"\n";

const char ctl_broadcast_examples[] =
"EXAMPLES\n"
"    echo 'deploy v42' | xgossipctl broadcast deploy\n"
"    xgossipctl broadcast config /etc/app/config.json\n"
"    xgossipctl broadcast -o json alerts < alert.bin | jq -r .id\n";

const char ctl_send_page[] =
"NAME\n"
"    xgossipctl send - send a message to one member and wait for it\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl send NODE TOPIC [FILE|-]\n"
"\n"
"DESCRIPTION\n"
"    Sends a message to one member over TLS and waits until that member\n"
"    has delivered it to its subscribers, then prints\n"
"    'delivered to NODE id=HEX rtt=1.2ms'.  NODE is a member's name or\n"
"    its node id (16 hex digits).  TOPIC and the payload are as for\n"
"    broadcast: 1 to 64 printable ASCII characters; all of FILE, or of\n"
"    standard input when FILE is - or missing, up to 16 MiB.\n"
"    Exit status 1 when the member refused it, is unknown, or did not\n"
"    confirm in time (the agent gives up after about 5 s).\n"
"    The agent answers only then, so send waits 20s by default rather\n"
"    than 10s; an explicit --timeout wins.\n"
"\n";

const char ctl_send_examples[] =
"EXAMPLES\n"
"    echo restart | xgossipctl send node3 ops\n"
"    xgossipctl send 41fe335b8564b6ff blobs ./blob.bin\n";

const char ctl_subscribe_page[] =
"NAME\n"
"    xgossipctl subscribe - print the messages this node receives\n"
"\n"
"SYNOPSIS\n"
"    xgossipctl subscribe [--raw] [--count N] [TOPIC...]\n"
"\n"
"DESCRIPTION\n"
"    Prints every message delivered to this node from now on (broadcasts\n"
"    and messages sent to it), or only those on the given TOPICs, until\n"
"    interrupted (Ctrl-C or SIGTERM: exit status 0), until N messages\n"
"    with --count (exit status 0), or until the agent goes away (exit\n"
"    status 1).  Messages that arrived before it started are not shown.\n"
"    One line per message: when it was received (UTC), kind (broadcast\n"
"    or unicast), the sender's name (or node id), topic, size, and the\n"
"    payload if it is one line of UTF-8 text without control characters\n"
"    (a final newline is dropped; more than 200 characters are cut with\n"
"    ...), else <N bytes>.  With -o json, every line the agent sends, as\n"
"    it is, the payload in base64.  Output is flushed after each message.\n"
"\n"
"OPTIONS\n"
"    --raw\n"
"        Write only each payload's bytes, followed by a newline, for\n"
"        pipelines.  Not with -o json.\n"
"\n"
"    --count N\n"
"        Exit after N messages (1 to 4294967295).\n"
"\n";

const char ctl_subscribe_examples[] =
"EXAMPLES\n"
"    xgossipctl subscribe\n"
"    xgossipctl subscribe deploy alerts\n"
"    xgossipctl subscribe --raw --count 1 deploy\n"
"    xgossipctl subscribe -o json | jq -r '.payload | @base64d'\n";
