# shellcheck shell=bash
# Helpers of the failure-detector accuracy benchmark, on top of the
# namespace harness (tests/ns/lib.sh, tests/ns/xdp_lib.sh).  Sourced by
# phases.sh.  One cluster runs one SYSTEM:
#
#   serf   Serf agents (LAN profile), logs stamped by stamp.py
#   xdp    xgossipd --xdp native, an XDP_PASS program on each bridge port
#   off    xgossipd --xdp off
#
# Everything this file creates (stamper, stall loops, cgroup, second
# bridge) is undone by acc_cleanup, which the EXIT trap runs before the
# harness's own cleanup, even when a phase fails.

ACC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ACC_SYSTEM=
ACC_STAMP_PID=
ACC_CG=             # cgroup directory we created (v1 or v2)
ACC_CG_BACK=()      # pid, original cgroup dir, pid, ...
ACC_SPLIT=0         # the bridge is split (partition phase)
ACC_LOGS_OUT=       # the agent logs are copied here at the end
declare -A ACC_STALL_PIDS=()  # node -> pid of its SIGSTOP/SIGCONT loop
ACC_BG_PID=         # the long command acc_bg is waiting for
ACC_OUT=            # what it printed

# acc_bg CMD...: run CMD and wait for it, interruptibly.  Bash runs a trap
# only once the foreground command has ended; during a 2-minute sleep the
# harness's timeout would lose patience and SIGKILL us before our cleanup
# ran.  `wait` is interrupted by a trapped signal at once.  CMD's output
# is left in ACC_OUT (no $(...): the subshell would be the foreground
# command again); its exit status is returned.
acc_bg() {
	local f=$XG_TMP/bg.out rc
	"$@" >"$f" </dev/null &
	ACC_BG_PID=$!
	wait "$ACC_BG_PID"
	rc=$?
	ACC_BG_PID=
	ACC_OUT=$(cat "$f")
	return $rc
}
acc_sleep() { acc_bg sleep "$1"; }

acc_log_arg() { echo "$(xg_name "$1")=$(xg_log "$1")"; }
acc_log_args() { local i; for i in "$@"; do acc_log_arg "$i"; done; }

# acc_setup SYSTEM LOGS_OUT: after xg_init.  Chains our cleanup in front
# of the harness's (xdp_lib's for the xdp system).
acc_setup() {
	ACC_SYSTEM=$1 ACC_LOGS_OUT=$2
	case $ACC_SYSTEM in
	serf)
		command -v serf >/dev/null || xg_skip "serf is not installed"
		trap acc_cleanup EXIT ;;
	xdp)
		. "$XG_LIB_DIR/xdp_lib.sh"
		xg_xdp_init
		trap acc_cleanup EXIT ;;
	off)
		trap acc_cleanup EXIT ;;
	*) xg_fail "unknown system $ACC_SYSTEM" ;;
	esac
}

acc_cleanup() {
	local rc=$? i pid
	[ -n "$ACC_BG_PID" ] && kill -KILL "$ACC_BG_PID" 2>/dev/null
	for i in "${!ACC_STALL_PIDS[@]}"; do
		kill -KILL "${ACC_STALL_PIDS[$i]}" 2>/dev/null
	done
	# A stopped agent must not stay stopped (SIGKILL would still end it,
	# but a CONT keeps the order of things obvious).
	for i in "${!XG_PIDS[@]}"; do kill -CONT "${XG_PIDS[$i]}" 2>/dev/null; done
	acc_cg_remove
	[ "$ACC_SPLIT" = 1 ] && acc_heal
	if [ -n "$ACC_LOGS_OUT" ] && [ -n "$XG_TMP" ]; then
		mkdir -p "$ACC_LOGS_OUT"
		for ((i = 1; i <= XG_NODES; i++)); do
			cp "$(xg_log "$i")" "$ACC_LOGS_OUT/n$i.log" 2>/dev/null
		done
	fi
	local next=acc_cleanup_tail
	[ "$ACC_SYSTEM" = xdp ] && next=xg_xdp_cleanup
	(exit "$rc")
	"$next"
}

# After the agents are gone (the harness kills them): the stamper, then
# the harness's cleanup with the exit status we were called with.
acc_cleanup_tail() {
	local rc=$?
	local i pid
	for i in "${!XG_PIDS[@]}"; do kill -KILL "${XG_PIDS[$i]}" 2>/dev/null; done
	for ((i = 0; i < 50; i++)); do
		local alive=0 j
		for j in "${!XG_PIDS[@]}"; do xg_running "$j" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	if [ -n "$ACC_STAMP_PID" ]; then
		kill -TERM "$ACC_STAMP_PID" 2>/dev/null
		pid=$ACC_STAMP_PID
		for ((i = 0; i < 30; i++)); do
			[ -d "/proc/$pid" ] || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	(exit "$rc")
	xg_cleanup
}

# --- starting agents -----------------------------------------------------------
# acc_start_stamper N: the log stamper for n1..nN (Serf only).
acc_start_stamper() {
	local n=$1 i args=()
	for ((i = 1; i <= n; i++)); do
		args+=("$(xg_dir "$i")/log.fifo" "$(xg_log "$i")")
	done
	python3 -S "$ACC_DIR/stamp.py" "$XG_TMP/stamp.ready" "${args[@]}" \
		</dev/null >>"$XG_TMP/stamp.err" 2>&1 &
	ACC_STAMP_PID=$!
	disown "$ACC_STAMP_PID" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		[ -e "$XG_TMP/stamp.ready" ] && return 0
		sleep 0.05
	done
	xg_fail "log stamper did not start: $(cat "$XG_TMP/stamp.err")"
}

# acc_start_serf i [serf flags...]: Serf agent n<i>, LAN profile, joining n1.  Started the
# way lib.sh starts xgossipd (a waiter records the exit status; the pid is
# the agent's own), so the harness's cleanup handles it too.
acc_start_serf() {
	local i=$1 d pidf fifo cmd
	shift
	d=$(xg_dir "$i")
	pidf="$d/agent.pid"
	fifo="$d/log.fifo"
	cmd=(serf agent -node "$(xg_name "$i")" -bind "$(xg_ip4 "$i"):$XG_PORT"
		-rpc-addr "127.0.0.1:7373" -profile lan -log-level info
		-encrypt "$ACC_SERF_KEY" "$@")
	[ "$i" != 1 ] && cmd+=(-join "$(xg_ip4 1):$XG_PORT")
	echo "$(date +%s.%6N) # harness: ${cmd[*]}" >>"$(xg_log "$i")"
	rm -f "$pidf" "$d/agent.rc"
	XG_A_FIFO=$fifo XG_A_PIDF=$pidf bash -c 'ip netns exec "$@" </dev/null >>"$XG_A_FIFO" 2>&1 &
		echo $! >"$XG_A_PIDF.tmp"; mv "$XG_A_PIDF.tmp" "$XG_A_PIDF"
		wait $!; echo $? >"$XG_A_PIDF.rc.tmp"
		mv "$XG_A_PIDF.rc.tmp" "${XG_A_PIDF%.pid}.rc"' \
		_ "$(xg_ns "$i")" "${cmd[@]}" 2>/dev/null </dev/null >/dev/null &
	disown $! 2>/dev/null
	local t
	for ((t = 0; t < 200; t++)); do
		[ -s "$pidf" ] && break
		sleep 0.01
	done
	XG_PIDS[$i]=$(cat "$pidf" 2>/dev/null) || xg_fail "n$i: serf did not start"
}

# Lifeguard's two knobs, at memberlist's values (SuspicionMaxTimeoutMult 6,
# AwarenessMaxMultiplier 8); they are xgossipd's defaults too, spelled out
# so the comparison does not silently change with them.
ACC_XG_FLAGS=(--suspicion-max-mult 6 --lhm-max 8)

# acc_start_all N: the whole cluster of the current system; n1 first.
acc_start_all() {
	local n=$1 i
	case $ACC_SYSTEM in
	serf)
		# A Serf key, as xgossipd has its cluster secret: both then
		# authenticate every packet (Serf can only do that by
		# encrypting too).
		ACC_SERF_KEY=$(head -c 32 /dev/urandom | base64)
		acc_start_stamper "$n"
		acc_start_serf 1
		xg_wait_log 1 "serf: EventMemberJoin: n1 " 20 || xg_fail "serf n1 did not start"
		for ((i = 2; i <= n; i++)); do acc_start_serf "$i"; done ;;
	xdp)
		for ((i = 1; i <= n; i++)); do xg_xdp_peer_pass "$i"; done
		# xg_xdp_start_node waits for each agent's start line in turn;
		# starting all and checking once is a lot faster at 32 nodes.
		for ((i = 1; i <= n; i++)); do
			XG_XDP_INST[$i]=$(xg_xdp_inst "$i")
			xg_start_node "$i" "${ACC_XG_FLAGS[@]}" --liveness-window 2s \
				--xdp native --xdp-instance "$(xg_xdp_inst "$i")"
		done
		xg_wait_log_all 30 "starting name=n[0-9]+ .*xdp=native iface=eth0 prog_id=[0-9]+" \
			$(seq 1 "$n") || xg_fail "not every agent started with xdp=native" ;;
	off)
		for ((i = 1; i <= n; i++)); do xg_start_node "$i" "${ACC_XG_FLAGS[@]}"; done ;;
	esac
}

# acc_wait_converged N T: every node saw the N-1 others alive (logs).
acc_wait_converged() {
	local n=$1 t=$2
	acc_bg python3 -S "$ACC_DIR/acclog.py" converged "$ACC_SYSTEM" "$n" "$t" \
		$(acc_log_args $(seq 1 "$n"))
}

# acc_wait_stable N QUIET T nodes...: every given node sees the others of
# the N alive, and nothing was suspected or declared failed for QUIET s.
# ACC_OUT: the time the last member came back alive.
acc_wait_stable() {
	local n=$1 quiet=$2 t=$3; shift 3
	acc_bg python3 -S "$ACC_DIR/acclog.py" stable "$ACC_SYSTEM" "$n" "$quiet" "$t" \
		$(acc_log_args "$@")
}

# acc_wait_fail VICTIM SINCE T nodes...: until every given node declared
# n<VICTIM> failed after SINCE; ACC_OUT: the first and the last time.
acc_wait_fail() {
	local v=$1 since=$2 t=$3; shift 3
	acc_bg python3 -S "$ACC_DIR/acclog.py" fail "$ACC_SYSTEM" "$(xg_name "$v")" "$since" "$t" \
		$(acc_log_args "$@")
}

# --- what the phases do to nodes --------------------------------------------------
# acc_stall_start i B SECS: a loop that stops agent n<i> for B s, lets it
# run 1-2 s (random, so two stalled nodes drift apart), again, for SECS s.
# It always leaves the agent running.
acc_stall_start() {
	local i=$1 b=$2 secs=$3 pid
	pid=$(xg_pid "$i")
	[ -n "$pid" ] || xg_fail "acc_stall_start: n$i is not running"
	bash -c 'pid=$1 b=$2 end=$(( $(date +%s) + $3 ))
		trap "kill -CONT $pid 2>/dev/null; exit 0" TERM
		while [ "$(date +%s)" -lt "$end" ]; do
			kill -STOP "$pid" 2>/dev/null || exit 0
			sleep "$b"
			kill -CONT "$pid" 2>/dev/null || exit 0
			sleep "1.$(( RANDOM % 10 ))"
		done' _ "$pid" "$b" "$secs" </dev/null >/dev/null 2>&1 &
	ACC_STALL_PIDS[$i]=$!
}

# acc_stall_wait: until every stall loop has ended (they end on time).
acc_stall_wait() {
	local i
	for i in "${!ACC_STALL_PIDS[@]}"; do
		wait "${ACC_STALL_PIDS[$i]}" 2>/dev/null
		kill -CONT "$(xg_pid "$i")" 2>/dev/null
		unset "ACC_STALL_PIDS[$i]"
	done
}

# The CPU controller: cgroup v1 (cpu.cfs_quota_us, this machine) or v2
# (cpu.max).  Prints "v1 DIR" or "v2 DIR" for the hierarchy's root.
acc_cg_root() {
	if [ -e /sys/fs/cgroup/cpu/cpu.cfs_quota_us ]; then
		echo "v1 /sys/fs/cgroup/cpu"
	elif [ -e /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us ]; then
		echo "v1 /sys/fs/cgroup/cpu,cpuacct"
	elif grep -qw cpu /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		echo "v2 /sys/fs/cgroup"
	else
		return 1
	fi
}

# acc_cg_of PID VER ROOT: the directory of PID's cgroup in that hierarchy.
acc_cg_of() {
	local rel
	if [ "$2" = v1 ]; then
		rel=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ { print $3; exit }' "/proc/$1/cgroup")
	else
		rel=$(awk -F: '$1 == "0" { print $3; exit }' "/proc/$1/cgroup")
	fi
	echo "$3${rel%/}"
}

# acc_throttle QUOTA_US PERIOD_US nodes...: put the agents of the given
# nodes (all their threads) in one new cgroup limited to QUOTA per PERIOD.
# It is made at the root of the hierarchy (a v2 leaf holding processes
# could not get a child with the cpu controller); each agent goes back to
# the cgroup it came from.
acc_throttle() {
	local quota=$1 period=$2 ver root i pid; shift 2
	read -r ver root < <(acc_cg_root) || xg_skip "no cgroup CPU controller"
	ACC_CG=$root/xgacc$XG_RUNID
	ACC_CG_BACK=()
	mkdir "$ACC_CG" || xg_fail "mkdir $ACC_CG"
	if [ "$ver" = v1 ]; then
		echo "$period" >"$ACC_CG/cpu.cfs_period_us" &&
			echo "$quota" >"$ACC_CG/cpu.cfs_quota_us" ||
			xg_fail "cannot set the CPU quota in $ACC_CG"
	else
		grep -qw cpu "$root/cgroup.subtree_control" ||
			echo +cpu >"$root/cgroup.subtree_control" ||
			xg_fail "cannot enable the cpu controller in $root"
		echo "$quota $period" >"$ACC_CG/cpu.max" ||
			xg_fail "cannot set cpu.max in $ACC_CG"
	fi
	for i in "$@"; do
		pid=$(xg_pid "$i")
		ACC_CG_BACK+=("$pid" "$(acc_cg_of "$pid" "$ver" "$root")")
		echo "$pid" >"$ACC_CG/cgroup.procs" || xg_fail "cannot move n$i ($pid) to $ACC_CG"
	done
}

# acc_cg_remove: the throttled agents back where they were, the cgroup
# removed.
acc_cg_remove() {
	[ -n "$ACC_CG" ] && [ -d "$ACC_CG" ] || return 0
	local k t
	for ((k = 0; k < ${#ACC_CG_BACK[@]}; k += 2)); do
		echo "${ACC_CG_BACK[k]}" >"${ACC_CG_BACK[k + 1]}/cgroup.procs" 2>/dev/null
	done
	for ((t = 0; t < 20; t++)); do
		rmdir "$ACC_CG" 2>/dev/null && break
		sleep 0.1
	done
	[ -d "$ACC_CG" ] && echo "cleanup: could not remove cgroup $ACC_CG" >&2
	ACC_CG=
}

# acc_split LAST_OF_A: a partition: the bridge ports of nodes after
# LAST_OF_A move to a second bridge, so the halves cannot reach each
# other.  Only the hub namespace changes.  (VLAN filtering would do it
# too, but this kernel's bridge has none.)
acc_split() {
	local a=$1 i hub
	hub=$(xg_hub)
	ACC_SPLIT=1
	{
		echo "link add br1 type bridge mcast_snooping 0 stp_state 0"
		echo "link set br1 up"
		for ((i = a + 1; i <= XG_NODES; i++)); do
			echo "link set p$i master br1"
		done
	} >"$XG_TMP/split.batch"
	ip -n "$hub" -batch "$XG_TMP/split.batch" || xg_fail "bridge split"
}

acc_heal() {
	local i hub
	hub=$(xg_hub)
	{
		for ((i = 1; i <= XG_NODES; i++)); do
			echo "link set p$i master br0"
		done
		echo "link del br1"
	} >"$XG_TMP/heal.batch"
	ip -n "$hub" -force -batch "$XG_TMP/heal.batch" 2>/dev/null
	ACC_SPLIT=0
}

# --- measurements ---------------------------------------------------------------
# acc_link_stats FILE: the counters of every bridge port, in one command
# so that every node is read at the same moment (parsed afterwards by
# acc_bytes_of, off the clock).
acc_link_stats() {
	ip -n "$(xg_hub)" -s -j link show type veth >"$1"
}

# acc_bytes_of FILE: "i bytes" per node: rx + tx of n<i>'s eth0, read from
# its bridge-side peer p<i>.  A veth pair's counters mirror each other, XDP
# frames included (the kernel adds the peer's XDP queue bytes to each
# side), so p<i>'s rx + tx is eth0's rx + tx.
acc_bytes_of() {
	python3 -S -c 'import json, sys
for l in json.load(open(sys.argv[1])):
    n = l.get("ifname", "")
    if n.startswith("p") and n[1:].isdigit():
        s = l["stats64"]
        print(n[1:], s["rx"]["bytes"] + s["tx"]["bytes"])' "$1"
}

# acc_mem_kb i: "VmRSS RssAnon Pss" of agent n<i>, in kB.  VmRSS counts
# every resident page, shared library pages included; RssAnon only the
# agent's private memory; Pss shares each page among the processes that
# map it (16 agents on one host share their libraries or binary).
acc_mem_kb() {
	local pid
	pid=$(xg_pid "$1")
	awk '/^VmRSS:/ { r = $2 } /^RssAnon:/ { a = $2 } /^Pss:/ { p = $2 }
		END { print r + 0, a + 0, p + 0 }' "/proc/$pid/status" "/proc/$pid/smaps_rollup"
}
