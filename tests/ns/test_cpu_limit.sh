#!/usr/bin/env bash
# A CPU-limited agent (docs/OPERATIONS.md, "CPU-limited"): 5 agents with
# --xdp off and LAN-like timings; n3 is moved into a cgroup allowed 3 ms of
# CPU per 1 s period (v1 cpu.cfs_quota_us here, v2 cpu.max elsewhere): under
# --starved-cpu-limit's 10 ms, and still enough for an ASan build to answer
# its control socket (the benchmark runs 1 and 2 ms, without ASan).
# Within one cgroup check (5 s) it must log that it is CPU-limited, report
# the limit in `xgossipctl info` (agent.cpu_limit_us 3000, cpu_limited
# true), and another member must see its STARVED flag (members -o json,
# "starved").  For 20 s no member may declare it failed.  Then it goes
# back to its cgroup: it stops being CPU-limited within a check, and its
# flag clears once its timers have run on time for 30 s.
set -uo pipefail
: "${XG_PROBE_INTERVAL:=1s}"
: "${XG_PROBE_TIMEOUT:=500ms}"
: "${XG_GOSSIP_INTERVAL:=200ms}"
: "${XG_TEST_TIMEOUT:=180}"  # converge, then up to ~110 s of waits; headroom for a busy host
: "${XG_HOLD_SECONDS:=20}"
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=5 SLOW=3
QUOTA_US=3000 PERIOD_US=1000000

# --- the cgroup -------------------------------------------------------------------
# Where the CPU controller is: "v1 DIR" or "v2 DIR".
CG_VER='' CG_ROOT='' CG_DIR='' CG_BACK=''
cg_find() {
	local d
	for d in /sys/fs/cgroup/cpu /sys/fs/cgroup/cpu,cpuacct; do
		[ -e "$d/cpu.cfs_quota_us" ] && { CG_VER=v1 CG_ROOT=$d; return 0; }
	done
	grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null || return 1
	CG_VER=v2 CG_ROOT=/sys/fs/cgroup
}

# The agent back where it came from, the cgroup gone.  Bounded: a cgroup
# empties as soon as its last process has moved.
cg_restore() {
	local pid t
	[ -n "$CG_DIR" ] && [ -d "$CG_DIR" ] || return 0
	pid=$(xg_pid $SLOW)
	[ -n "$pid" ] && [ -n "$CG_BACK" ] && echo "$pid" >"$CG_BACK/cgroup.procs" 2>/dev/null
	for ((t = 0; t < 20; t++)); do
		rmdir "$CG_DIR" 2>/dev/null && break
		sleep 0.1
	done
	[ -d "$CG_DIR" ] && echo "cleanup: could not remove cgroup $CG_DIR" >&2
	CG_DIR=
}

# Runs before the harness's cleanup (which then kills the agents and
# removes the namespaces), with the test's exit status kept for it.
cg_cleanup() {
	local rc=$?
	cg_restore
	(exit "$rc")
	xg_cleanup
}
trap cg_cleanup EXIT

cg_find || xg_skip "no cgroup CPU controller (v1 cpu or v2 cpu.max)"

xg_net_create $N
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"
others=()
for ((i = 1; i <= N; i++)); do [ $i = $SLOW ] || others+=("$i"); done

# --- limit n3 -----------------------------------------------------------------------
pid=$(xg_pid $SLOW)
if [ $CG_VER = v1 ]; then
	rel=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3; exit }' "/proc/$pid/cgroup")
else
	rel=$(awk -F: '$1 == "0" { print $3; exit }' "/proc/$pid/cgroup")
fi
CG_BACK=$CG_ROOT${rel%/}
# At the root of the hierarchy: a v2 cgroup holding processes cannot get
# a child with the cpu controller.
CG_DIR=$CG_ROOT/xgcpu$XG_RUNID
mkdir "$CG_DIR" || { CG_DIR=; xg_fail "cannot make a cgroup under $CG_ROOT"; }
if [ $CG_VER = v1 ]; then
	{ echo $PERIOD_US >"$CG_DIR/cpu.cfs_period_us" &&
		echo $QUOTA_US >"$CG_DIR/cpu.cfs_quota_us"; } ||
		xg_fail "cannot set the CPU quota of $CG_DIR"
else
	grep -qw cpu "$CG_ROOT/cgroup.subtree_control" ||
		echo +cpu >"$CG_ROOT/cgroup.subtree_control" ||
		xg_fail "cannot enable the cpu controller in $CG_ROOT"
	echo "$QUOTA_US $PERIOD_US" >"$CG_DIR/cpu.max" ||
		xg_fail "cannot set cpu.max of $CG_DIR"
fi
xg_mark $(seq 1 $N)
echo "$pid" >"$CG_DIR/cgroup.procs" || xg_fail "cannot move n$SLOW ($pid) into $CG_DIR"
t_move=$EPOCHREALTIME
xg_say "n$SLOW moved into $CG_DIR ($CG_VER, ${QUOTA_US} us per ${PERIOD_US} us)"

# The agent reads its limit every 5 s (at once after a late timer).  Its
# log, not its control socket, is polled: every request costs it CPU it
# does not have.
xg_wait_log $SLOW ' CPU-limited: cgroup v[12] allows ' 12 ||
	xg_fail "n$SLOW did not notice its CPU limit"
xg_say "n$SLOW is CPU-limited after $(awk -v a="$t_move" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
[ -n "$(xg_grep_log $SLOW ' starved of CPU: asking members')" ] ||
	xg_fail "n$SLOW is CPU-limited but did not set its starved flag"
# One request, with time to answer it: at 3 ms of CPU a second (slower
# still under ASan) a reply can take seconds, more than xg_ctl allows.
slow_info() {
	timeout 40 ip netns exec "$(xg_ns $SLOW)" "$XG_BIN/xgossipctl" \
		--socket "$(xg_sock $SLOW)" --timeout 30s info -o json
}
info=$(slow_info) || xg_fail "n$SLOW: no reply to info"
lim=$(xg_json get agent.cpu_limit_us <<<"$info") || lim=
[ "$lim" = $QUOTA_US ] || xg_fail "n$SLOW: info agent.cpu_limit_us is '$lim', expected $QUOTA_US"
[ "$(xg_json get agent.cpu_limited <<<"$info")" = true ] ||
	xg_fail "n$SLOW: info agent.cpu_limited is not true"

# n1_sees_starved true|false: within 10 s n1 lists n3 with that flag (its
# new incarnation spreads by gossip).  Once a second: n1 is not limited.
n1_sees_starved() {
	local seen='' deadline
	deadline=$(xg_deadline 10)
	while :; do
		seen=$(xg_member 1 $SLOW starved) || seen=
		[ "$seen" = "$1" ] && return 0
		xg_past "$deadline" && xg_fail "n1 lists n$SLOW with starved=$seen 10 s on, expected $1"
		sleep 1
	done
}
n1_sees_starved true
xg_say "n1 sees n$SLOW's starved flag"

# --- hold ---------------------------------------------------------------------------
xg_say "holding n$SLOW at ${QUOTA_US} us/s for ${XG_HOLD_SECONDS} s"
sleep "$XG_HOLD_SECONDS"
bad=$(for i in "${others[@]}"; do xg_grep_log "$i" "$(xg_ev fail $SLOW)" | sed "s/^/n$i: /"; done)
[ -z "$bad" ] || xg_fail "n$SLOW was declared failed while CPU-limited: $bad"
suspects=$(for i in "${others[@]}"; do xg_grep_log "$i" "$(xg_ev suspect $SLOW)"; done | wc -l)
shed=$(slow_info | xg_json get stats.pushpull_shed) || shed='?'
xg_say "no member declared n$SLOW failed ($suspects suspect events; it shed $shed push/pulls)"
xg_check_alive_count $N "${others[@]}" || xg_fail "members do not all list n$SLOW alive"

# --- release ------------------------------------------------------------------------
cg_restore
xg_say "n$SLOW back in its own cgroup"
xg_wait_log $SLOW ' no longer CPU-limited' 12 ||
	xg_fail "n$SLOW still thinks it is CPU-limited"
[ "$(xg_info $SLOW agent.cpu_limited)" = false ] ||
	xg_fail "n$SLOW: info agent.cpu_limited is still true"
# The late timers of the limited time hold the flag for 30 s more (no
# flapping); then it clears and the members see that too.
xg_wait_log $SLOW ' starved flag cleared' 45 ||
	xg_fail "n$SLOW never cleared its starved flag"
n1_sees_starved false
xg_say "flag cleared and seen cleared by n1"
bad=$(for i in "${others[@]}"; do xg_grep_log "$i" "$(xg_ev fail $SLOW)"; done)
[ -z "$bad" ] || xg_fail "n$SLOW was declared failed after all: $bad"
xg_done
