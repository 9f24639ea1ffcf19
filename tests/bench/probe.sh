#!/usr/bin/env bash
# XDP probe-path benchmark: the same xgossipd answering PINGs with
# --xdp=native, --xdp=generic and --xdp=off, side by side, in one run.
#
#   tests/bench/probe.sh [B]          (root; B = build dir, default build)
#
# Two namespaces joined by one veth pair (no bridge, so nothing but the two
# ends is measured): the responder R runs the agent, the generator G runs
# xgossip-probe.  The agent and R's receive processing are pinned to CPU
# XG_PROBE_RESP_CPU (1), the generator and G's receive processing to
# XG_PROBE_GEN_CPU (0).  Per mode:
#
#   flood     xgossip-probe --flood --window 64 for XG_PROBE_FLOOD_S (5 s),
#             XG_PROBE_REPS (3) times, medians: answered probes/s, and the
#             responder CPU's share used, measured by what a SCHED_IDLE
#             spinner pinned to it lost against idle calibrations taken
#             between the repetitions (bench-spin, tests/bench/spin.c), and
#             cross-checked by the CPU time the scheduler booked to the path
#             (probe_table.py); CPU per answer = share / answered per second.
#   idle      --rate 1000 for XG_PROBE_LAT_S (5 s): RTT p50/p99/p99.9.
#   stop      the same while the agent is SIGSTOPped 300 ms of every 1 s;
#   longstop  ... 700 ms of every 1.5 s (longer than the 500 ms probe
#             timeout, shorter than the 2 s liveness window);
#   busy      ... while a SCHED_OTHER busy loop shares the agent's CPU.
#             "missed" = no ACK within 500 ms, the default probe timeout.
#
# Where veth does the receive work, and how this script moves it to the
# responder's CPU, is explained in docs/BENCHMARKS.md ("XDP probe path").
# XG_PROBE_STEER=none leaves the kernel's default placement (the sender's
# CPU) for comparison.
#
# Output: a table with ratios against the --xdp=off row, B/bench/probe.csv,
# B/bench/probe.txt.  Bounded (XG_TEST_TIMEOUT, default 290 s) and cleaned
# up on any exit by the namespace harness's trap plus our own.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${XG_TEST_TIMEOUT:=290}"
# The LAN defaults (docs/OPERATIONS.md): the probe timeout is what "missed"
# means below.
: "${XG_PROBE_INTERVAL:=1s}" "${XG_PROBE_TIMEOUT:=500ms}"
: "${XG_GOSSIP_INTERVAL:=200ms}" "${XG_PUSHPULL_INTERVAL:=30s}"
: "${XG_LEAVE_TIMEOUT:=1s}" "${XG_CLUSTER:=xgbench}"
export XG_TEST_TIMEOUT XG_PROBE_INTERVAL XG_PROBE_TIMEOUT XG_GOSSIP_INTERVAL \
	XG_PUSHPULL_INTERVAL XG_LEAVE_TIMEOUT XG_CLUSTER
. "$here/../ns/lib.sh"

: "${XG_PROBE_MODES:=native generic off}"
: "${XG_PROBE_REPS:=3}"
: "${XG_PROBE_FLOOD_S:=5}"
: "${XG_PROBE_WINDOW:=64}"
: "${XG_PROBE_CALIB_S:=2}"
: "${XG_PROBE_LAT_S:=5}"
: "${XG_PROBE_RATE:=1000}"
: "${XG_PROBE_STOP:=300 1000}"       # ms stopped, ms period
: "${XG_PROBE_LONGSTOP:=700 1500}"
: "${XG_PROBE_RESP_CPU:=1}"
: "${XG_PROBE_GEN_CPU:=0}"
: "${XG_PROBE_STEER:=napi}"          # napi | none

xg_init "$@"
B_ARG=${1:-build}

STOPPED_PID=         # an agent we may have left SIGSTOPped
INSTANCE=
probe_cleanup() {
	local rc=$? p
	# Our own background jobs (spinners, stopper, probes), by job table:
	# a pid we waited for may belong to someone else by now.
	for p in $(jobs -p); do kill "$p" 2>/dev/null; done
	[ -n "$STOPPED_PID" ] && kill -CONT "$STOPPED_PID" 2>/dev/null
	# Pins live in the agent's private bpffs (ip netns exec makes a mount
	# namespace), but an agent that found the host's would leave them.
	[ -n "$INSTANCE" ] && [ -d "/sys/fs/bpf/xgossip/$INSTANCE" ] &&
		rm -rf "/sys/fs/bpf/xgossip/$INSTANCE"
	(exit "$rc")
	xg_cleanup
}
trap probe_cleanup EXIT

ncpu=$(nproc)
[ "$ncpu" -ge 2 ] || xg_skip "needs 2 CPUs (have $ncpu)"
for x in xgossipd xgossip-probe; do
	[ -x "$XG_BIN/$x" ] || xg_fail "$XG_BIN/$x is not built"
done
SPIN=$XG_BIN/bench-spin
if [ ! -x "$SPIN" ]; then
	SPIN=$XG_TMP/bench-spin
	${CC:-cc} -O2 -std=gnu11 -D_GNU_SOURCE -o "$SPIN" "$here/spin.c" ||
		xg_fail "cannot build bench-spin (make $B_ARG/bench-spin)"
fi
PASS_OBJ=$XG_BIN/bpf/xdp_pass.bpf.o

# Which modes this agent build can run at all.
help=$("$XG_BIN/xgossipd" --help 2>&1)
XDP_OK=0
case $help in *--xdp-instance*) XDP_OK=1 ;; esac

RESP_CPU=$XG_PROBE_RESP_CPU GEN_CPU=$XG_PROBE_GEN_CPU
RES=$XG_TMP/res
mkdir -p "$RES"

# --- network ------------------------------------------------------------------
# R = node 1 (198.18.0.11), G = node 2 (198.18.0.12); interface names carry
# the run id, so their NAPI threads (napi/<ifname>-<id>) are ours to find.
NS_R=$(xg_ns 1) NS_G=$(xg_ns 2)
IF_R=xr$XG_RUNID IF_G=xg$XG_RUNID
IP_R=$(xg_ip4 1) IP_G=$(xg_ip4 2)
INSTANCE=bench$XG_RUNID

net_setup() {
	local ns err
	for ns in "$NS_R" "$NS_G"; do
		ip netns add "$ns" || xg_fail "ip netns add $ns"
		XG_NS_CREATED=("$ns" "${XG_NS_CREATED[@]}")
		ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
			net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	done
	XG_NODES=2
	mkdir -p "$(xg_dir 1)/state" "$(xg_dir 2)"
	err=$(ip link add "$IF_R" netns "$NS_R" address "$(xg_mac 1)" type veth \
		peer name "$IF_G" netns "$NS_G" address "$(xg_mac 2)" 2>&1) ||
		xg_fail "veth: $err"
	ip -n "$NS_R" -batch - <<-EOF || xg_fail "setup of $NS_R"
		link set lo up
		link set $IF_R up
		addr add $IP_R/24 dev $IF_R
		neigh replace $IP_G lladdr $(xg_mac 2) dev $IF_R nud permanent
	EOF
	ip -n "$NS_G" -batch - <<-EOF || xg_fail "setup of $NS_G"
		link set lo up
		link set $IF_G up
		addr add $IP_G/24 dev $IF_G
		neigh replace $IP_R lladdr $(xg_mac 1) dev $IF_G nud permanent
	EOF
	od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$XG_TMP/secret"
	chmod 0600 "$XG_TMP/secret"
	cp "$XG_TMP/secret" "$(xg_dir 1)/secret"

	# G's end gets an XDP_PASS program: native XDP_TX on R only delivers
	# to a peer that runs XDP itself (DESIGN.md section 5).  It is there
	# in every mode so the generator's side is the same for all rows.
	err=$(ip -n "$NS_G" link set dev "$IF_G" xdpdrv obj "$PASS_OBJ" sec xdp 2>&1) ||
		xg_fail "xdp_pass on $IF_G: $err"
	[ "$XG_PROBE_STEER" = napi ] || return 0
	# G's NAPI runs in a thread pinned to the generator's CPU; R's
	# receive work goes to the responder's CPU: by RPS for the skb path
	# (off, generic), by its own NAPI thread once native XDP gives R a
	# NAPI instance (pinned in pin_napi, after the agent attached).
	sysfs_w "$NS_G" "$IF_G/threaded" 1
	sysfs_w "$NS_R" "$IF_R/queues/rx-0/rps_cpus" "$(printf %x $((1 << RESP_CPU)))"
	sysfs_w "$NS_G" "$IF_G/queues/rx-0/rps_cpus" "$(printf %x $((1 << GEN_CPU)))"
	pin_napi "$IF_G" "$GEN_CPU" || xg_fail "no NAPI thread for $IF_G"
}

# sysfs_w NS IF/PATH VALUE: a /sys/class/net file of a namespace's device.
sysfs_w() {
	ip netns exec "$1" sh -c 'echo "$2" >"/sys/class/net/$1"' _ "$2" "$3" ||
		xg_fail "cannot write $3 to /sys/class/net/$2 in $1"
}

# pin_napi IF CPU: pin the NAPI kernel threads of IF to CPU, at SCHED_FIFO
# 50 (the priority of threaded interrupt handlers): softirq work preempts
# any task, and a NAPI thread that queued behind other tenants' processes
# would charge their CPU use to the path under test.  1 if none.
pin_napi() {
	local p found=1
	for p in $(pgrep "^napi/$1-"); do
		taskset -pc "$2" "$p" >/dev/null && chrt -f -p 50 "$p" && found=0
	done
	return $found
}

# --- helpers --------------------------------------------------------------------
# probe_bg OUT ARGS...: one xgossip-probe run on the generator CPU, in the
# background; PROBE_PID is its pid (ip netns exec and taskset exec it).
PROBE_PID=
probe_bg() {
	local out=$1; shift
	ip netns exec "$NS_G" taskset -c "$GEN_CPU" "$XG_BIN/xgossip-probe" \
		--target "$IP_R:$XG_PORT" --target-id "$NODE_ID" \
		--cluster "$XG_CLUSTER" --cluster-secret-file "$XG_TMP/secret" \
		-o json "$@" >"$out" 2>"$out.err" &
	PROBE_PID=$!
}
probe() { probe_bg "$@"; wait "$PROBE_PID"; }

# The processes whose CPU time is the path under test, per CPU: on the
# responder's, the agent, R's NAPI threads and ksoftirqd; on the
# generator's, the probe tool, G's NAPI threads and ksoftirqd.
watch_args() { # watch_args CPU PID...
	local c=$1 p; shift
	for p in "$@" $(pgrep "^ksoftirqd/$c\$"); do echo "--watch $p"; done
}

# spin_both PREFIX SECONDS [DELAY]: SCHED_IDLE spinners on both CPUs, in the
# background; their pids are appended to SPIN_PIDS.  WATCH_GEN and
# WATCH_RESP hold --watch options for each.
SPIN_PIDS=()
WATCH_GEN='' WATCH_RESP=''
spin_both() {
	local c w
	for c in "$GEN_CPU" "$RESP_CPU"; do
		if [ "$c" = "$GEN_CPU" ]; then w=$WATCH_GEN; else w=$WATCH_RESP; fi
		# shellcheck disable=SC2086 # w is a list of options
		"$SPIN" --cpu "$c" --duration "$2" --delay "${3:-0}" $w >"$1.cpu$c" &
		SPIN_PIDS+=($!)
	done
}
spin_wait() { wait "${SPIN_PIDS[@]}"; SPIN_PIDS=(); }

calibrate() { # calibrate PREFIX
	spin_both "$1" "$XG_PROBE_CALIB_S"
	spin_wait
}

# stopper STOP_MS PERIOD_MS PID: SIGSTOP PID for STOP_MS in every PERIOD_MS,
# until killed.  It always leaves PID running (CONT on TERM).
stopper() {
	local stop run pid=$3
	stop=$(awk -v s="$1" 'BEGIN { printf "%.3f", s / 1000 }')
	run=$(awk -v s="$1" -v p="$2" 'BEGIN { printf "%.3f", (p - s) / 1000 }')
	trap 'kill -CONT $pid 2>/dev/null; exit 0' TERM
	while :; do
		sleep "$run"
		kill -STOP "$pid" 2>/dev/null || exit 0
		sleep "$stop"
		kill -CONT "$pid" 2>/dev/null || exit 0
	done
}

agent_start() { # agent_start MODE -> 0, or 1 if the mode is unavailable
	local mode=$1 pid line
	local flags=(--no-join --xdp "$mode")
	[ "$XDP_OK" = 1 ] && flags+=(--xdp-instance "$INSTANCE")
	xg_mark 1
	xg_start_node 1 "${flags[@]}"
	pid=$(xg_pid 1)
	taskset -a -pc "$RESP_CPU" "$pid" >/dev/null 2>&1 ||
		{ xg_running 1 || return 1; xg_fail "cannot pin the agent"; }
	# Until it logs its start, or exits (a mode it cannot attach).
	local t
	for ((t = 0; t < 100; t++)); do
		line=$(xg_grep_log 1 ' starting name=.* xdp=' | tail -n1)
		[ -n "$line" ] && break
		xg_running 1 || return 1
		sleep 0.1
	done
	[ -n "$line" ] || xg_fail "agent ($mode) did not log its start in 10 s"
	NODE_ID=$(sed -n 's/.* id=\([0-9a-f]*\).*/\1/p' <<<"$line")
	AGENT_XDP=$(sed -n 's/.* xdp=\([a-z]*\).*/\1/p' <<<"$line")
	[ -n "$NODE_ID" ] || xg_fail "no node id in: $line"
	# A slow start (bpffs, verifier) must not count as the agent's.
	sleep 0.5
	xg_running 1 || return 1
	[ "$AGENT_XDP" = "$mode" ] || return 1
	if [ "$mode" = native ] && [ "$XG_PROBE_STEER" = napi ]; then
		# veth has NAPI (and so a thread to switch on) only while an
		# XDP program is attached.
		sysfs_w "$NS_R" "$IF_R/threaded" 1
		pin_napi "$IF_R" "$RESP_CPU" ||
			xg_fail "native XDP on $IF_R but no NAPI thread to pin"
	fi
	return 0
}

agent_stop() {
	local pid
	pid=$(xg_pid 1)
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null
	kill -KILL "$pid" 2>/dev/null
	xg_wait_exit 1 10 || xg_fail "agent did not exit"
	# The agent's pins died with its mount namespace, so the next agent
	# cannot find and replace this program: detach it here.
	ip -n "$NS_R" link set dev "$IF_R" xdpgeneric off 2>/dev/null
	ip -n "$NS_R" link set dev "$IF_R" xdpdrv off 2>/dev/null
	return 0
}

# --- one mode ---------------------------------------------------------------------
run_mode() {
	local mode=$1 r k pid stop_pid busy_pid
	local spin_s
	spin_s=$(awk -v d="$XG_PROBE_FLOOD_S" 'BEGIN { printf "%.2f", d - 1 }')
	if ! agent_start "$mode"; then
		echo "unavailable: agent with --xdp=$mode did not run (xdp=${AGENT_XDP:-?})" >"$RES/$mode.status"
		xg_say "$mode: unavailable (see the agent log)"
		xg_grep_log 1 'xdp|error|ERROR' | tail -n 3 | sed 's/^/    | /'
		agent_stop
		return 0
	fi
	echo ok >"$RES/$mode.status"
	xg_say "$mode: agent up (xdp=$AGENT_XDP, id $NODE_ID); warm-up"
	probe "$RES/$mode.warm" --flood --window "$XG_PROBE_WINDOW" --duration 1 ||
		xg_fail "$mode: warm-up flood got no answer: $(cat "$RES/$mode.warm.err")"

	WATCH_GEN='' WATCH_RESP=''
	calibrate "$RES/$mode.calib.0"
	for ((r = 1; r <= XG_PROBE_REPS; r++)); do
		probe_bg "$RES/$mode.flood.$r.json" --flood --window "$XG_PROBE_WINDOW" \
			--duration "$XG_PROBE_FLOOD_S"
		WATCH_RESP=$(watch_args "$RESP_CPU" "$(xg_pid 1)" $(pgrep "^napi/$IF_R-"))
		WATCH_GEN=$(watch_args "$GEN_CPU" "$PROBE_PID" $(pgrep "^napi/$IF_G-"))
		# The spinners measure the middle of the flood: not its ramp
		# up, not its drain.
		spin_both "$RES/$mode.flood.$r" "$spin_s" 0.5
		wait "$PROBE_PID" ||
			xg_say "$mode: flood $r: $(cat "$RES/$mode.flood.$r.json.err")"
		spin_wait
		WATCH_GEN='' WATCH_RESP=''
		calibrate "$RES/$mode.calib.$r"
	done
	xg_say "$mode: flood done; latency"

	probe "$RES/$mode.idle.json" --rate "$XG_PROBE_RATE" \
		--duration "$XG_PROBE_LAT_S" --timeout "$XG_PROBE_TIMEOUT"

	pid=$(xg_pid 1)
	for k in stop longstop; do
		local sp
		if [ $k = stop ]; then read -r -a sp <<<"$XG_PROBE_STOP"
		else read -r -a sp <<<"$XG_PROBE_LONGSTOP"; fi
		STOPPED_PID=$pid
		stopper "${sp[0]}" "${sp[1]}" "$pid" &
		stop_pid=$!
		probe "$RES/$mode.$k.json" --rate "$XG_PROBE_RATE" \
			--duration "$XG_PROBE_LAT_S" --timeout "$XG_PROBE_TIMEOUT"
		kill -TERM "$stop_pid" 2>/dev/null
		wait "$stop_pid" 2>/dev/null
		kill -CONT "$pid" 2>/dev/null
		STOPPED_PID=
		echo "${sp[0]} ${sp[1]}" >"$RES/$mode.$k.param"
		xg_running 1 || xg_fail "$mode: the agent died during the $k test"
	done

	"$SPIN" --normal --cpu "$RESP_CPU" --duration "$XG_PROBE_LAT_S" \
		>"$RES/$mode.busy.spin" &
	busy_pid=$!
	probe "$RES/$mode.busy.json" --rate "$XG_PROBE_RATE" \
		--duration "$XG_PROBE_LAT_S" --timeout "$XG_PROBE_TIMEOUT"
	wait "$busy_pid"
	xg_running 1 || xg_fail "$mode: the agent died during the busy test"
	agent_stop
	xg_say "$mode: done"
}

# --- main ---------------------------------------------------------------------------
net_setup
cmd="tests/bench/probe.sh $B_ARG"
xg_say "probe benchmark: modes [$XG_PROBE_MODES], steer=$XG_PROBE_STEER, responder CPU $RESP_CPU, generator CPU $GEN_CPU"
if [ "$XDP_OK" != 1 ]; then
	xg_say "this xgossipd has no --xdp-instance: XDP modes will be reported unavailable"
fi
for mode in $XG_PROBE_MODES; do
	run_mode "$mode"
done

mkdir -p "$XG_BIN/bench"
{
	echo "# xgossip XDP probe benchmark, $(date -u +%FT%TZ), $(uname -r), $ncpu CPUs"
	echo "# command: $cmd  steer=$XG_PROBE_STEER reps=$XG_PROBE_REPS flood=${XG_PROBE_FLOOD_S}s window=$XG_PROBE_WINDOW rate=$XG_PROBE_RATE lat=${XG_PROBE_LAT_S}s"
} >"$XG_TMP/header"
python3 -S "$here/probe_table.py" --res "$RES" --modes "$XG_PROBE_MODES" \
	--steer "$XG_PROBE_STEER" --resp-cpu "$RESP_CPU" --gen-cpu "$GEN_CPU" \
	--header "$XG_TMP/header" --csv "$XG_BIN/bench/probe.csv" \
	--txt "$XG_BIN/bench/probe.txt" || xg_fail "summary failed"
echo "csv: $XG_BIN/bench/probe.csv"
XG_RESULT=pass
exit 0
