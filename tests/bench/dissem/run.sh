#!/usr/bin/env bash
# Dissemination: how fast and at what cost a broadcast reaches every node,
# Serf's user events vs xgossip (XDP native, XDP off), in one run.
#
#   tests/bench/dissem/run.sh [B]        (make bench-dissem; part of make bench)
#
# For each cluster size (16 and 32 nodes) and each system, in fresh
# namespaces (tests/ns/lib.sh) with the LAN timings of the accuracy
# benchmark (cluster.sh), driver.py measures a quiet baseline and then
# DISSEM_MESSAGES broadcasts of DISSEM_PAYLOAD bytes, DISSEM_RATE per
# second, from origins drawn at random (the same list for every system).
# summarize.py then prints the table and the verdicts on the issue's bars
# and writes B/bench/dissem.csv; a full default run also writes its section
# of docs/BENCHMARKS.md.  About 8 minutes.
#
# Environment:
#   DISSEM_SYSTEMS      which systems (default "serf xdp off")
#   DISSEM_N            cluster sizes (default "16 32")
#   DISSEM_MESSAGES     broadcasts per cluster (default 100)
#   DISSEM_RATE         broadcasts per second (default 3)
#   DISSEM_PAYLOAD      bytes per broadcast (default 100)
#   DISSEM_BASELINE_S   seconds of quiet measured first (default 10)
#   DISSEM_SEND         rpc: requests on connections opened once (default);
#                       cli: `serf event` / `xgossipctl broadcast` per message
#   DISSEM_XG_FLAGS     extra xgossipd flags, e.g. "--msg-fanout 4" (default none)
#   DISSEM_BIN          take xgossipd & co. from this directory instead of B
#                       (a copy made earlier); DISSEM_COMMIT then names their
#                       commit in the results (default: HEAD of this tree)
#   DISSEM_PUBLISH=0|1  update docs/BENCHMARKS.md (default: 1 for a run with
#                       every default above)
#   DISSEM_REPORT=1     run nothing: tabulate (and publish) the last run's
#                       results in B/bench/dissem/ again
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
B=${1:-build}
SYSTEMS=${DISSEM_SYSTEMS:-serf xdp off}
# Without Serf installed the default run (make bench) measures xgossip
# alone; asking for Serf explicitly without it is an error below.
if [ -z "${DISSEM_SYSTEMS:-}" ] && ! command -v serf >/dev/null; then
	echo "bench-dissem: serf is not installed (apt-get install serf): xgossip only" >&2
	SYSTEMS="xdp off"
fi
SIZES=${DISSEM_N:-16 32}
REPORT=${DISSEM_REPORT:-0}
out=$B/bench/dissem
csv=$B/bench/dissem.csv
pget() { local p; for p in "${params[@]}"; do [ "${p%%=*}" = "$1" ] && { echo "${p#*=}"; return 0; }; done; }

if [ "$REPORT" = 1 ]; then
	[ -s "$out/params.txt" ] || { echo "bench-dissem: no earlier run in $out" >&2; exit 1; }
	mapfile -t params <"$out/params.txt"
	: "${DISSEM_PUBLISH:=$(pget default)}"
	SIZES=$(pget sizes)
	t_start=$EPOCHREALTIME
	failed=0
else
	if [ "$(id -u)" != 0 ]; then
		echo "bench-dissem: needs root (network namespaces, XDP)" >&2
		exit 1
	fi
	SRC=${DISSEM_BIN:-$B}
	for x in xgossipd xgossipctl xgossip-probe bpf/xdp_pass.bpf.o; do
		[ -e "$SRC/$x" ] || { echo "bench-dissem: $SRC/$x is not built" >&2; exit 1; }
	done
	case " $SYSTEMS " in *" serf "*)
		command -v serf >/dev/null || { echo "bench-dissem: serf is not installed (apt-get install serf)" >&2; exit 1; }
	esac
	: "${DISSEM_MESSAGES:=100}" "${DISSEM_RATE:=3}" "${DISSEM_PAYLOAD:=100}"
	: "${DISSEM_BASELINE_S:=10}" "${DISSEM_SEND:=rpc}"
	export DISSEM_MESSAGES DISSEM_RATE DISSEM_PAYLOAD DISSEM_BASELINE_S DISSEM_SEND
	export XG_TAIL_LINES=${XG_TAIL_LINES:-6}
	default=0
	[ "$SYSTEMS" = "serf xdp off" ] && [ "$SIZES" = "16 32" ] && [ "$DISSEM_MESSAGES" = 100 ] &&
		[ "$DISSEM_RATE" = 3 ] && [ "$DISSEM_PAYLOAD" = 100 ] && [ "$DISSEM_SEND" = rpc ] &&
		[ -z "${DISSEM_XG_FLAGS:-}" ] && default=1
	: "${DISSEM_PUBLISH:=$default}"

	rm -rf "$out"
	mkdir -p "$out/bin/bpf"
	out=$(cd "$out" && pwd)
	# Others may rebuild build/ while this runs: every cluster runs the
	# binaries of this moment.
	for x in xgossipd xgossipctl xgossip-probe bpf/xdp_pass.bpf.o; do
		cp "$SRC/$x" "$out/bin/$x"
	done
	BIN=$out/bin
	params=(
		"date=$(date -u +%FT%TZ)" "kernel=$(uname -r)" "cpus=$(nproc)"
		"serf=$(dpkg-query -W -f '${Version}' serf 2>/dev/null || echo unknown)"
		"xgossipd=$("$BIN/xgossipd" --version 2>/dev/null | head -n1)"
		"commit=${DISSEM_COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo +changes)}"
		"default=$default" "sizes=$SIZES" "systems=$SYSTEMS" "messages=$DISSEM_MESSAGES"
		"rate_per_s=$DISSEM_RATE" "payload_bytes=$DISSEM_PAYLOAD" "baseline_s=$DISSEM_BASELINE_S"
		"send=$DISSEM_SEND" "xgossipd_extra_flags=${DISSEM_XG_FLAGS:-}" "probe_interval=1s" "gossip_interval=200ms" "gossip_nodes=3"
		"retransmit_mult=4" "pushpull_interval=30s"
	)
	printf '%s\n' "${params[@]}" >"$out/params.txt"

	t_start=$EPOCHREALTIME
	echo "dissemination benchmark: systems: $SYSTEMS; N = ${SIZES// /, };" \
		"$DISSEM_MESSAGES broadcasts of $DISSEM_PAYLOAD B at $DISSEM_RATE/s"
	failed=0
	for n in $SIZES; do
		for sys in $SYSTEMS; do
			# Starting, converging, baseline, the broadcasts, the
			# drain (20 s at most), cleanup.
			t=$(awk -v n="$n" -v m="$DISSEM_MESSAGES" -v r="$DISSEM_RATE" -v b="$DISSEM_BASELINE_S" \
				'BEGIN { printf "%d", 150 + 3 * n + m / r + b }')
			echo "=== $sys, $n nodes (bound ${t}s)"
			XG_TEST_TIMEOUT=$t bash "$here/cluster.sh" "$BIN" "$sys" "$n" "$out" 2>&1 | sed 's/^/    /'
			rc=${PIPESTATUS[0]}
			if [ "$rc" != 0 ]; then
				echo "    $sys $n nodes: FAILED (exit $rc)"
				failed=$((failed + 1))
			fi
		done
	done
fi

echo
echo "=== results ($(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) / 60 }') min)"
frag=$(mktemp)
trap 'rm -f "$frag" "$frag.sec"' EXIT
python3 -B "$here/summarize.py" "$out" "$csv" "$frag" "${params[@]}" || failed=$((failed + 1))
echo "csv: $csv"
echo "raw: $out/"

if [ "$DISSEM_PUBLISH" = 1 ] && [ -s "$frag" ]; then
	serf_v=$(pget serf)
	day=$(pget date)
	{
		cat <<EOF
## Dissemination: user broadcasts

How long a broadcast takes to reach every node, and what it costs in packets and
CPU, xgossip against Serf ${serf_v%%~*}'s user events (Debian \`serf\` ${serf_v}),
in one run on the same machine ($(pget cpus) vCPUs, kernel $(pget kernel), ${day%%T*};
xgossip commit $(pget commit)). Command:

\`\`\`sh
make bench-dissem          # tests/bench/dissem/run.sh build; ~8 min; also part of make bench
DISSEM_N=16 DISSEM_MESSAGES=20 make bench-dissem   # a quick look, docs untouched
\`\`\`

$(pget messages) broadcasts per cluster, $(pget payload_bytes) bytes each, $(pget rate_per_s) per second, each
from a node drawn at random (the same sequence of origins for every system), on
clusters of ${SIZES// / and } nodes. The issue's bars: xgossip's median time to all
nodes at most half of Serf's, and with XDP on, at most a tenth of the duplicates
reaching userspace that reach it with XDP off.

$(cat "$frag")

**Systems.** The accuracy benchmark's (section "Failure-detector accuracy"): Serf
agents with the \`lan\` profile and \`-encrypt\`; xgossipd with the same LAN timings,
once with \`--xdp native\` (an XDP_PASS program on each bridge-side veth) and once
with \`--xdp off\`, with its keyring and TLS. Every Serf agent runs an event handler
for user events, \`-event-handler 'user=echo "\$SERF_USER_EVENT" >>FILE'\`: the
cheapest handler there is, since Serf starts \`/bin/sh -c\` for every event on every
node. xgossipd needs no process per message: every node has one subscriber
(\`{"cmd":"subscribe","topics":["dissem"]}\` on its control socket) that receives a
line per message.

**How a run goes.** Per system and size, in fresh namespaces: start, wait until
every node sees every other alive, 5 s more, then one process
(tests/bench/dissem/driver.py) does the rest. It opens one connection per agent
(Serf: its RPC port, speaking what \`serf event -coalesce=false NAME PAYLOAD\`
sends; xgossipd: its control socket, \`{"cmd":"broadcast",...}\`); snapshots the
counters; waits $(pget baseline_s) s (the baseline); snapshots; sends the broadcasts on a
fixed schedule; waits until every node has every message (20 s at most after the
last) and 3 s more for retransmissions and pull-sync rounds still under way;
snapshots again.

**How it is counted** (tests/bench/dissem/summarize.py):

- *Time to all nodes*: per message, from the driver's clock just before it wrote
  the request to the last of the other N−1 nodes' receipts. Receipt, xgossipd: the
  subscriber line's \`received\`, the agent's wall clock when it delivered the
  message. Serf: its log line \`agent: Received event: user-event: NAME\`, written
  as the agent hands the event to its handler, stamped on arrival by the
  accuracy benchmark's stamp.py (Serf stamps to the second only). p50 and p99 over
  the messages. *Time to one node*: the same per (node, message) pair.
- *Delivered / missing / duplicate*: (node, message) pairs, the origin excluded,
  from the subscriber lines (xgossipd) or the handlers' files (Serf): every node
  should get every message exactly once.
- *Packets, bytes*: frames and bytes every node sent during the broadcasts (read on
  the bridge side of each veth, all in one command; any protocol, so TCP push/pull
  too), minus the baseline's rate times the same time, per message per node.
- *Agent CPU*: utime + stime of every agent process over the same time minus the
  baseline's rate, per 1000 broadcasts, the cluster's total. Serf's handler
  processes are not in it (they are given apart, below the table).
- *Duplicates to userspace* (xgossipd): the messenger's counters \`dups\` (a PUSH or
  PULL_RESPONSE of an id already seen) + \`pull_syncs_known\` (a PULL_SYNC for one),
  from \`info\`, summed over the agents. With XDP on the kernel drops those before
  they reach the agent (\`dup_dropped\` in \`xdp\`).

**Reading it** (what the counters, the logs and the code show):

- xgossipd pushes a message on as soon as it first receives it: each hop is one
  datagram and one wakeup, so pushes reach most nodes within a few milliseconds.
  With the default fanout of 3, the pushes sometimes miss a node altogether, and
  more often in larger clusters. A node misses a message when none of the nodes
  that receive it picks that node, which happens with probability about e⁻³
  ≈ 5 % per node. Nodes missed this way get the message through the repair
  path. Pushes late in the epidemic mostly hit nodes that already have the
  message, and those send no ACK, so the pusher's ACK round falls short. After
  \`ack_timeout\` (300 ms) the pusher sends PULL_SYNCs. A node that lacks the
  message answers with a PULL_REQUEST and gets a PULL_RESPONSE
  (docs/MESSAGING.md). So a message's time to all nodes is either a few
  milliseconds or just over 300 ms. The row "messages at all nodes within
  250 ms" gives the share reached by pushes alone. The median falls in the
  group that holds more than half of the messages.
- Serf queues a user event in memberlist's broadcast queue. The event travels
  piggybacked on the gossip packets that every node sends every 200 ms to 3
  random members. Each hop therefore waits for the holder's next gossip round,
  and reaching every node takes a few rounds.
- Packets: for every message, each xgossipd node sends 3 PUSHes and an ACK for
  its first copy. When its ACK round falls short, which is the common case
  (see above), it also sends up to 3 rounds of 5 PULL_SYNCs. Serf puts several
  events into one gossip packet when they are frequent, so its packets per
  message fall as the broadcast rate rises.
- With XDP on, the kernel drops PULL_SYNCs and duplicate PUSHes for message ids
  in the seen map before they reach the agent ("dups dropped by XDP"). The few
  duplicates that still reach the agent arrived before the agent had written the
  id into the map. XDP does not change the agent's other work per message:
  sealing and sending its own packets, the wakeups, and the subscriber's line.
  CPU is what the scheduler charged to the agent processes. Softirq work,
  including the XDP program and the receive path of veth, runs on the sending
  CPU and is charged to whatever task is running there.

Raw numbers: \`$B/bench/dissem.csv\` (parameters in its header), per cluster the
driver's \`result.json\` and the agents' logs in \`$B/bench/dissem/\`.
EOF
	} >"$frag.sec"
	python3 "$here/publish.py" "$root/docs/BENCHMARKS.md" "$frag.sec" &&
		echo "docs: docs/BENCHMARKS.md (section \"Dissemination: user broadcasts\")"
fi
[ $failed = 0 ]
