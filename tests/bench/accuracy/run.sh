#!/usr/bin/env bash
# Failure-detector accuracy: Serf vs xgossip (XDP native, XDP off), one run.
#
#   tests/bench/accuracy/run.sh [B]        (make bench-accuracy)
#
# For each system, in fresh namespaces (tests/ns/lib.sh) and with the same
# LAN timings (probe 1 s, timeout 500 ms, 3 indirect checks, suspicion x4,
# gossip 200 ms to 3, retransmit x4, push/pull 30 s):
#
#   16 nodes: steady state (bytes/s, RSS), SIGSTOP bursts on 2 nodes,
#             2 nodes CPU-throttled, an 8/8 partition and its heal
#   16 nodes: SIGKILL detection, ACC_REPS kills
#   32 nodes: SIGKILL detection, ACC_REPS kills
#   16 nodes: a hung agent (SIGSTOP) detection, ACC_REPS stops
#
# then counts everything from the agents' logs (summarize.py), prints the
# table and the verdicts on the issue's bars, and writes
# B/bench/accuracy.csv and B/bench/accuracy.png.  A full run also puts the
# plot in docs/bench/ and its section in docs/BENCHMARKS.md.
#
# Environment:
#   ACCURACY_QUICK=1     a ~5 minute smoke run: short phases, 2 kills, one
#                        16-node cluster per system; docs are not touched
#   ACCURACY_SYSTEMS     which systems (default "serf xdp off")
#   ACCURACY_PUBLISH=0|1 update docs/ (default: 1 for a full run of all)
#   ACCURACY_CLUSTERS    "N TAG PHASES" specs, ';'-separated, instead of the
#                        default clusters (e.g. "16 fp throttle"); not published
#   ACCURACY_REPORT=1    run nothing: count, tabulate, plot (and publish)
#                        again from the last run's logs in B/bench/accuracy/
#   ACC_*                phase lengths, see phases.sh
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
B=${1:-build}
QUICK=${ACCURACY_QUICK:-0}
SYSTEMS=${ACCURACY_SYSTEMS:-serf xdp off}
REPORT=${ACCURACY_REPORT:-0}
out=$B/bench/accuracy
csv=$B/bench/accuracy.csv
dat=$B/bench/accuracy.dat
png=$B/bench/accuracy.png
# pget KEY: a parameter of the run (params below).
pget() { local p; for p in "${params[@]}"; do [ "${p%%=*}" = "$1" ] && { echo "${p#*=}"; return 0; }; done; }

if [ "$REPORT" = 1 ]; then
	[ -s "$out/params.txt" ] && [ -s "$out/runlog.tsv" ] ||
		{ echo "bench-accuracy: no earlier run in $out" >&2; exit 1; }
	mapfile -t params <"$out/params.txt"
	out=$(cd "$out" && pwd)
	QUICK=$(pget quick) ACC_SLOW=$(pget slow_nodes) ACC_BURSTS=$(pget bursts_s)
	ACC_STALL_S=$(pget stall_s) ACC_QUOTAS=$(pget quotas_us) ACC_THROTTLE_S=$(pget throttle_s)
	ACC_PART_S=$(pget partition_s) ACC_HEAL_T=$(pget heal_bound_s) ACC_STEADY_S=$(pget steady_s)
	ACC_REPS=$(pget kills) ACC_QUIET=$(pget quiet_s)
	if [ "$QUICK" = 0 ]; then : "${ACCURACY_PUBLISH:=1}"; else : "${ACCURACY_PUBLISH:=0}"; fi
	t_start=$EPOCHREALTIME
	failed=0
else
	if [ "$(id -u)" != 0 ]; then
		echo "bench-accuracy: needs root (network namespaces, cgroups, XDP)" >&2
		exit 1
	fi
	for x in xgossipd xgossipctl bpf/xdp_pass.bpf.o; do
		[ -e "$B/$x" ] || { echo "bench-accuracy: $B/$x is not built" >&2; exit 1; }
	done
	case " $SYSTEMS " in *" serf "*)
		command -v serf >/dev/null || { echo "bench-accuracy: serf is not installed (apt-get install serf)" >&2; exit 1; }
	esac

	if [ "$QUICK" = 1 ]; then
		: "${ACC_STEADY_S:=5}" "${ACC_BURSTS:=1 3}" "${ACC_STALL_S:=10}"
		: "${ACC_QUOTAS:=1000}" "${ACC_THROTTLE_S:=12}" "${ACC_PART_S:=10}"
		: "${ACC_HEAL_T:=40}" "${ACC_REPS:=2}" "${ACC_QUIET:=2}" "${ACC_SETTLE_T:=25}"
		CLUSTERS=("16 fp steady,stop,throttle,partition,detect")
		: "${ACCURACY_PUBLISH:=0}"
	else
		: "${ACC_STEADY_S:=30}" "${ACC_BURSTS:=1 2 3}" "${ACC_STALL_S:=60}"
		: "${ACC_QUOTAS:=1000 2000}" "${ACC_THROTTLE_S:=120}" "${ACC_PART_S:=30}"
		: "${ACC_HEAL_T:=90}" "${ACC_REPS:=5}" "${ACC_QUIET:=5}" "${ACC_SETTLE_T:=60}"
		# The partition comes last on its cluster and detection gets clusters
		# of its own: kills shrink a cluster, and a partition that did not heal
		# must not spoil the detection numbers.
		CLUSTERS=("16 fp steady,stop,throttle,partition" "16 kill detect" "32 kill detect"
			  "16 hang hang")
		if [ "$SYSTEMS" = "serf xdp off" ]; then : "${ACCURACY_PUBLISH:=1}"; else : "${ACCURACY_PUBLISH:=0}"; fi
	fi
	if [ -n "${ACCURACY_CLUSTERS:-}" ]; then
		IFS=';' read -r -a CLUSTERS <<<"$ACCURACY_CLUSTERS"
		ACCURACY_PUBLISH=0
	fi
	: "${ACC_SLOW:=2}"
	export ACC_STEADY_S ACC_BURSTS ACC_STALL_S ACC_QUOTAS ACC_THROTTLE_S ACC_PART_S
	export ACC_HEAL_T ACC_REPS ACC_QUIET ACC_SETTLE_T ACC_SLOW
	export XG_TAIL_LINES=${XG_TAIL_LINES:-6}

	rm -rf "$out"
	mkdir -p "$out/bin/bpf"
	out=$(cd "$out" && pwd)
	# Other people rebuild build/ while this runs for half an hour: every
	# cluster runs the binaries of this moment.
	for x in xgossipd xgossipctl xgossip-probe bpf/xdp_pass.bpf.o; do
		[ -e "$B/$x" ] && cp "$B/$x" "$out/bin/$x"
	done
	BIN=$out/bin
	kernel=$(uname -r)
	serf_v=$(dpkg-query -W -f '${Version}' serf 2>/dev/null || echo unknown)
	xg_v=$("$BIN/xgossipd" --version 2>/dev/null | head -n1)
	params=(
		"date=$(date -u +%FT%TZ)" "kernel=$kernel" "cpus=$(nproc)" "serf=$serf_v" "xgossipd=$xg_v"
		"commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null)$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo +changes)"
		"quick=$QUICK" "nodes=16" "detect_sizes=$(for s in "${CLUSTERS[@]}"; do case $s in *detect*) echo -n "${s%% *} " ;; esac; done)"
		"probe_interval=1s" "probe_timeout=500ms" "indirect_checks=3" "suspicion_mult=4"
		"gossip_interval=200ms" "gossip_nodes=3" "retransmit_mult=4" "pushpull_interval=30s"
		"suspicion_max_mult=6" "lhm_max=8" "liveness_window=2s" "slow_nodes=$ACC_SLOW" "bursts_s=$ACC_BURSTS" "stall_s=$ACC_STALL_S"
		"quotas_us=$ACC_QUOTAS" "period_us=1000000" "throttle_s=$ACC_THROTTLE_S"
		"partition_s=$ACC_PART_S" "heal_bound_s=$ACC_HEAL_T" "steady_s=$ACC_STEADY_S"
		"kills=$ACC_REPS" "quiet_s=$ACC_QUIET"
	)
	printf '%s\n' "${params[@]}" >"$out/params.txt"

	# The bound of one cluster's script: its phases plus slack for starting,
	# settling after every phase and cleaning up.
	bound() {
		local phases=$1 n=$2 t=150 nb nq
		nb=$(wc -w <<<"$ACC_BURSTS") nq=$(wc -w <<<"$ACC_QUOTAS")
		case $phases in *steady*) t=$((t + ACC_STEADY_S + ACC_SETTLE_T)) ;; esac
		case $phases in *stop*) t=$((t + nb * (ACC_STALL_S + ACC_SETTLE_T + 5))) ;; esac
		case $phases in *throttle*) t=$((t + nq * (ACC_THROTTLE_S + ACC_SETTLE_T + 5))) ;; esac
		case $phases in *partition*) t=$((t + ACC_PART_S + ACC_HEAL_T)) ;; esac
		case $phases in *detect*) t=$((t + ACC_REPS * 95 + n)) ;; esac
		case $phases in *hang*) t=$((t + ACC_REPS * 100 + n)) ;; esac
		echo "$t"
	}

	t_start=$EPOCHREALTIME
	echo "accuracy benchmark: systems: $SYSTEMS$([ "$QUICK" = 1 ] && echo " (quick)")"
	echo "  bursts ${ACC_BURSTS// /,} s for ${ACC_STALL_S}s on $ACC_SLOW of 16; CPU quota ${ACC_QUOTAS// /,} us/1s for ${ACC_THROTTLE_S}s;"
	echo "  partition 8/8 for ${ACC_PART_S}s; steady ${ACC_STEADY_S}s; $ACC_REPS kills per size"
	failed=0
	for spec in "${CLUSTERS[@]}"; do
		read -r n tag phases <<<"$spec"
		for sys in $SYSTEMS; do
			t=$(bound "$phases" "$n")
			echo "=== $sys, $n nodes: $phases (bound ${t}s)"
			XG_TEST_TIMEOUT=$t ACC_TAG=$tag bash "$here/phases.sh" "$BIN" "$sys" "$n" "$phases" "$out" 2>&1 |
				sed 's/^/    /'
			rc=${PIPESTATUS[0]}
			if [ "$rc" != 0 ]; then
				echo "    $sys $n nodes: FAILED (exit $rc)"
				failed=$((failed + 1))
			fi
		done
	done
fi
kernel=$(pget kernel)
serf_v=$(pget serf)
run_day=$(pget date)
run_day=${run_day%%T*}
echo
echo "=== results ($(awk -v a="$t_start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) / 60 }') min)"
frag=$(mktemp)
trap 'rm -f "$frag" "$frag.sec"' EXIT
python3 -B "$here/summarize.py" "$out" "$csv" "$dat" "$frag" "${params[@]}" || failed=$((failed + 1))
echo "csv: $csv"
echo "logs: $out/logs"
if command -v gnuplot >/dev/null 2>&1; then
	if gnuplot -e "dat='$dat'; out='$png'" "$here/accuracy.gp" 2>"$frag.gperr"; then
		echo "plot: $png"
	else
		echo "plot: gnuplot failed: $(head -n3 "$frag.gperr")"
	fi
	rm -f "$frag.gperr"
fi

if [ "$ACCURACY_PUBLISH" = 1 ] && [ -s "$frag" ]; then
	mkdir -p "$root/docs/bench"
	[ -s "$png" ] && cp "$png" "$root/docs/bench/accuracy.png"
	{
		cat <<EOF
## Failure-detector accuracy

How well the failure detector tells dead nodes from slow ones, xgossip against
Serf ${serf_v%%~*} (Debian \`serf\` ${serf_v}), in one run on the same machine
($(pget cpus) vCPUs, kernel $kernel, $run_day; xgossip commit $(pget commit)). Command:

\`\`\`sh
make bench-accuracy            # tests/bench/accuracy/run.sh build; ~40 min
ACCURACY_QUICK=1 make bench-accuracy   # ~5 min smoke run, docs untouched
\`\`\`

![accuracy](bench/accuracy.png)

$(cat "$frag")

**Systems.** Serf agents with the \`lan\` profile, which is memberlist's
\`DefaultLANConfig\`: probe every 1 s, probe timeout 500 ms, 3 indirect checks,
suspicion multiplier 4 (Lifeguard maximum ×6), gossip every 200 ms to 3 nodes,
retransmit ×4, push/pull every 30 s; started with \`-encrypt\` so that, like
xgossip, every packet is authenticated. xgossipd with the same numbers
(\`--probe-interval 1s --probe-timeout 500ms --indirect-checks 3 --suspicion-mult 4
--gossip-interval 200ms --gossip-nodes 3 --retransmit-mult 4 --pushpull-interval 30s
--suspicion-max-mult 6 --lhm-max 8\`, the last two being memberlist's
\`SuspicionMaxTimeoutMult\` and \`AwarenessMaxMultiplier\`), liveness window 2 s
(stretched to at most 8 s while an agent is starved: the default
\`--liveness-window-max\`), once with \`--xdp native\` (an XDP_PASS program on each
bridge-side veth, which native XDP_TX on a veth needs) and once with \`--xdp off\`;
with its security on, as in production: a keyring (every gossip packet sealed with
XChaCha20-Poly1305, probes signed) and TLS 1.3 with a certificate per node on every
push/pull (docs/SECURITY.md).
Every node is in its own network namespace on one bridge (tests/ns/lib.sh),
IPv4 198.18.0.0/15.

**Phases**, each system in fresh namespaces, 16 nodes unless stated:

- *Steady state*: ${ACC_STEADY_S} s with nothing happening. eth0 rx+tx bytes of every
  node over that time (read on the bridge side of each veth, all in one
  command: a veth pair's counters mirror each other, XDP frames included), and
  each agent's memory at its end: VmRSS (the bar), and for context RssAnon
  (private memory) and PSS (shared pages divided among the processes mapping
  them).
- *SIGSTOP bursts*: nodes 15 and 16 each get, for ${ACC_STALL_S} s, SIGSTOP for b s,
  SIGCONT, 1.0–1.9 s of running, again; b = ${ACC_BURSTS// /, } s.
- *CPU throttle*: nodes 15 and 16 in one cgroup (v1 \`cpu.cfs_quota_us\` here; v2
  \`cpu.max\` where that is the CPU controller) with ${ACC_QUOTAS// / or } µs of CPU per
  1 s period, for ${ACC_THROTTLE_S} s each.
- *Partition*: nodes 9–16's bridge ports moved to a second bridge for
  ${ACC_PART_S} s, then back.
- *Hung agent*: the same on a 16-node cluster with SIGSTOP instead of SIGKILL
  (the stopped agent is killed once every other node declared it failed).
  With XDP the kernel answers for a stopped agent until its heartbeat is older
  than the liveness window, so the bar is the window plus Serf's SIGKILL median.
  (A hung agent that was not starved in the 30 s before it hung has the
  configured window; the bar uses that one.)
- *SIGKILL detection*: ${ACC_REPS} kills, one after another, on a 16-node and on a
  32-node cluster (the node killed is always the highest-numbered one still
  running, so the last kill sees $((16 - ACC_REPS + 1)) resp. $((32 - ACC_REPS + 1)) nodes).

After every stress phase the harness waits until every node sees every other
alive and nothing was suspected or declared failed for ${ACC_QUIET} s; what happens
until then counts for that phase.

**How it is counted** (tests/bench/accuracy/summarize.py, from the agents' own
logs after the run; the harness only reads logs, never polls a CLI):

- *Detection*: from the SIGKILL (harness clock, just before \`kill\`) until the
  last surviving node's first failure line about the victim (\`member fail\`;
  Serf: \`EventMemberFailed\`). p99 of 5 values is interpolated, i.e. close to
  the maximum.
- *Declared failed*: failure lines about one node less than 10 s apart count
  once (one node declared failed by 15 observers is one false failure).
- *Suspicions*: suspicion lines about one node less than 2 s apart count once;
  the first line of such a group names who raised it. xgossipd logs every
  suspicion it learns of (\`member suspect\`), Serf only the ones it raises
  (\`Suspect X has failed, no acks received\`); grouping makes the two
  comparable. "by throttled" counts suspicions of healthy nodes raised by a
  throttled node.
- Serf stamps its log to the second only, so its lines pass through one
  stamping process (tests/bench/accuracy/stamp.py) that prefixes the time it
  read them; xgossipd's lines carry their own microsecond stamps.
- *Heal*: from the end of the partition until every node sees all 16 alive
  again (its last \`alive\`/\`join\` line), bounded by ${ACC_HEAL_T} s. "Pairs
  declared failed" counts the (observer, node in the other half) pairs, of
  2·8·8 = 128, that were declared failed before the heal: what the heal had to
  undo.

**Reading the results** (what the logs and the code show; see the issue's bars
above):

- Once a dead node is suspected, both systems declare it failed after the
  suspicion timeout, 4 × max(1, log₁₀ n) × 1 s (4.8 s at 16 nodes, 6.0 s at
  32) when other nodes confirm the suspicion. The rest of the detection time
  is how long until some node's probe of the dead one, and its indirect
  probes, fail. There xgossipd uses what the dead node's host says: its
  kernel answers a PING to the closed port with ICMP port unreachable, which
  xgossipd asks for (IP_RECVERR) and memberlist ignores. A refused PING goes
  to the indirect phase at once; when a helper's PING is refused too (it
  sends a NACK flagged REFUSED at once), the probe fails there and then,
  instead of a full probe interval (1 s) after it began, for the first
  suspicion and for every confirmation (docs/PROTOCOL.md §10, "Refused
  probes"). A whole host that goes down sends no ICMP; then detection is
  as before: the hung-agent phase without XDP (a stopped agent's socket
  stays open, so nothing is refused) shows that path. With XDP, once a
  stopped agent's heartbeat is older than the liveness window, the program
  answers its PINGs with the node's own NACK flagged REFUSED, which probers
  treat as a refusal (docs/XDP.md): the hang is then found like a crash,
  the window later.
- With XDP the kernel answers PINGs for an agent whose heartbeat is younger
  than the liveness window (2 s), so SIGSTOP bursts of 1–2 s are invisible to
  the others; a 3 s burst leaves about 1 s in which probes of the stopped node
  go unanswered. A stop is also a gap in which the agent wanted to run and was
  not let (agent/daemon/liveness.h): after the first one the agent stretches
  its window by the gap (to about 5 s after a 3 s stop) for 30 s, so later
  stops of the same length are invisible too. Without XDP the stopped agent
  answers nothing while stopped.
- xgossipd judges whether an ACK came in time by its kernel receive timestamp,
  so a throttled agent that reads its socket late does not accuse the peers
  that answered in time. Serf's throttled agents do ("susp. healthy (by
  throttled)").
- A throttled agent gets about 0.5 ms of CPU a second (two agents share 1 ms).
  Sampled every few ms (/proc/PID/schedstat), an idle agent of a 16-node
  cluster wakes about 4 times a second for 30–300 µs each, within that budget,
  until one wakeup costs more (the first push/pull: 2–4 ms). CFS then holds
  the agent until the debt is paid, and from there on it runs once at the start
  of a period, every 1–3 s. With XDP the agent measures those holds (the time
  since its last wakeup, during which it used almost no CPU) and stretches its
  liveness window by the longest one, rounded up to 250 ms, to at most 4× the
  configured window, until it has run on time for 30 s
  (agent/daemon/liveness.h); the kernel then keeps answering across the holds,
  and the throttled agent is neither suspected nor flooded with the
  suspicion traffic that would cost it more CPU. Without XDP it is suspected,
  and is declared failed unless its refutation gets out within the suspicion
  timeout. Once starved it says so (the STARVED flag in its own state, with a
  new incarnation: docs/PROTOCOL.md 5.1), and the others then give it the
  longest suspicion timeout, 28.8 s at 16 nodes, whatever the confirmations.
  Three things make the refutation get out: it
  leaves with the packet that brought the accusation rather than at the next
  gossip round (agent/core/gossip.c), to the accuser first; with XDP the kernel
  still answers PINGs flagged SUSPECTED, and tells the agent through a mapped
  counter (xg_notice) that it reads first thing at every wakeup, so the buddy
  notice is not lost; and the heartbeat is written first thing at every wakeup
  (a store into the mapped map), so a starved agent is answered for again the
  moment it runs. And an agent whose timers fire more than 500 ms late sheds
  push/pull for 30 s, its own and other members' (a TLS handshake costs
  about half a millisecond on each side; agent/daemon/agent_starve.c).
  The throttle can act before any timer is late (the first push/pull puts
  the cgroup seconds in debt), so each agent also reads its own cgroup's
  CPU limit, at start and every 5 s: below \`--starved-cpu-limit\` (10 ms
  a second) it sheds push/pull and sets the STARVED flag at once, before
  the first long hold (docs/OPERATIONS.md, "A CPU-limited agent"). The
  harness passes \`--cgroup-root\`, since \`ip netns exec\` leaves the
  agents a /sys without cgroup mounts.
- VmRSS counts file pages mapped into each xgossipd, most of them shared with
  every other process (libc, BoringSSL); Serf is one static Go binary. xgossipd
  links libbpf, libxdp, libelf, zlib and json-c statically and, after start-up
  and after each push/pull, hands back the code pages it is not running
  (util/memtrim.h: MADV_DONTNEED on its executable mappings; the pages stay in
  the page cache), so its VmRSS is close to the code it really runs. The
  RssAnon / PSS row shows the private and the proportional share, which no
  trimming changes.
- Bytes: every push/pull is a TLS 1.3 exchange; resumed sessions
  (docs/TLS.md) send no certificates, so each costs about 1.4 KB of TLS on top
  of the two states and the TCP packets.
- Partition: memberlist raises its awareness (Lifeguard's local health) after
  a failed probe only by the number of helpers that sent no NACK; xgossipd
  raises its local health multiplier by one for the failed probe plus one per
  missing NACK (the Lifeguard paper's rule, agent/core/probe.c). With half of
  the cluster unreachable xgossipd's multiplier climbs towards its cap and it
  probes up to 9× slower, so fewer cross-partition pairs are declared failed
  within the split, and fewer must be undone at the heal.

Raw numbers: \`$B/bench/accuracy.csv\` (parameters in its header), the agents'
logs in \`$B/bench/accuracy/logs/\`.
EOF
	} >"$frag.sec"
	python3 "$here/publish.py" "$root/docs/BENCHMARKS.md" "$frag.sec" &&
		echo "docs: docs/BENCHMARKS.md (section \"Failure-detector accuracy\"), docs/bench/accuracy.png"
fi
[ $failed = 0 ]
