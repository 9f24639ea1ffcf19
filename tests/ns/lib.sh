# shellcheck shell=bash
# The network-namespace harness: real xgossipd agents in namespaces on one
# bridge.  Sourced by tests/ns/test_*.sh, tools/demo.sh and tests/bench/*.
# The API is described in docs/TESTING.md; the short version:
#
#   . tests/ns/lib.sh
#   xg_init "$B"               # build dir; root check, time bound, cleanup trap
#   xg_net_create 8            # hub bridge + 8 node namespaces
#   xg_start_node 1            # agent n1 (no seed)
#   xg_start_node 2 ...        # agent n2, joins n1 unless --join is given
#   xg_wait_converged 20 8 $(seq 1 8) || xg_fail "no convergence"
#   xg_done
#
# Topology.  One hub namespace holds bridge br0; node i lives in namespace
# xg<run>n<i> with eth0, a veth whose peer p<i> is a bridge port.  Node i
# has 198.18.H/256.H%256/16 and fd00:198:18::H/64 where H = i + 10, so node
# 1 is 198.18.0.11 and fd00:198:18::11: the IPv6 group spells the same
# digits, which makes logs easy to read.  MACs are derived from H.  Every
# node namespace gets permanent neighbour entries for every other node, IPv4
# and IPv6: the kernel's neighbour table is shared by all namespaces and
# overflows near 64 nodes, and with permanent entries no ARP/ND is needed.
#
# Lightness.  On 2 CPUs the harness competes with the agents it tests, and
# a greedy harness makes healthy agents miss probes.  So waits read the
# agents' own logs, once every XG_POLL seconds, with one process per check
# (not one per node), and the CLI is used to verify a state, not to poll.

# --- parameters (environment overrides) -------------------------------------
# Short timings so the suite is fast; the benchmark sets the LAN defaults.
: "${XG_PROBE_INTERVAL:=200ms}"
: "${XG_PROBE_TIMEOUT:=100ms}"
: "${XG_INDIRECT_CHECKS:=3}"
: "${XG_GOSSIP_INTERVAL:=50ms}"
: "${XG_GOSSIP_NODES:=3}"
: "${XG_SUSPICION_MULT:=4}"
: "${XG_RETRANSMIT_MULT:=4}"
: "${XG_PUSHPULL_INTERVAL:=5s}"
: "${XG_LEAVE_TIMEOUT:=2s}"
: "${XG_FAMILY:=4}"            # 4 or 6: which address agents bind and join
: "${XG_PORT:=7946}"
: "${XG_CLUSTER:=xgtest}"
: "${XG_LOG_LEVEL:=info}"
: "${XG_TEST_TIMEOUT:=90}"     # seconds; the whole test, cleanup excluded
: "${XG_POLL:=0.2}"            # seconds between two looks at the logs
: "${XG_KEEP:=0}"              # 1: keep the temp dir (logs) after the run
: "${XG_VERBOSE:=0}"
: "${XG_TLS:=1}"              # 1: every agent gets a certificate (TLS); 0: --insecure-dev

XG_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# --- state -------------------------------------------------------------------
XG_BIN=
XG_RUNID=
XG_TMP=
XG_NODES=0
XG_NS_CREATED=()      # every namespace this run created, hub last
declare -A XG_PIDS=()  # node index -> agent pid (absent once reaped)
declare -A XG_MARK=()  # node index -> log line count at the last xg_mark
XG_RESULT=fail        # set to pass by xg_done, skip by xg_skip
XG_T0=${EPOCHREALTIME}

# --- output ------------------------------------------------------------------
xg_elapsed() {
	awk -v a="$XG_T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%6.2f", b - a }'
}
xg_say() { echo "[$(xg_elapsed)s] $*"; }
xg_debug() { [ "$XG_VERBOSE" = 1 ] && echo "[$(xg_elapsed)s]   $*"; return 0; }

xg_fail() {
	echo "FAIL: $*" >&2
	XG_RESULT=fail
	exit 1
}

xg_skip() {
	echo "SKIP: $* ***************************************" >&2
	XG_RESULT=skip
	exit 77
}

# Last words of a passing test: a sanitizer report in any agent log fails it
# even if the cluster behaved.
xg_done() {
	local i log bad=0
	for ((i = 1; i <= XG_NODES; i++)); do
		log=$(xg_log "$i")
		[ -f "$log" ] || continue
		if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log"; then
			echo "sanitizer report in n$i's log:" >&2
			grep -m5 -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$log" >&2
			bad=1
		fi
	done
	[ $bad = 0 ] || xg_fail "sanitizer reports in agent logs"
	XG_RESULT=pass
	xg_say "PASS"
	exit 0
}

# --- durations ----------------------------------------------------------------
# A duration as xgossipd reads it ("200ms", "5s", "2m", "100us"; a bare
# number is milliseconds) -> milliseconds, rounded up.
xg_ms() {
	awk -v d="$1" 'BEGIN {
		if (d ~ /ms$/)      v = substr(d, 1, length(d) - 2)
		else if (d ~ /us$/) v = substr(d, 1, length(d) - 2) / 1000
		else if (d ~ /ns$/) v = substr(d, 1, length(d) - 2) / 1000000
		else if (d ~ /s$/)  v = substr(d, 1, length(d) - 1) * 1000
		else if (d ~ /m$/)  v = substr(d, 1, length(d) - 1) * 60000
		else if (d ~ /h$/)  v = substr(d, 1, length(d) - 1) * 3600000
		else                v = d + 0
		v += 0
		printf "%d", (v == int(v)) ? v : int(v) + 1 }'
}

# Upper bound, in ms, on the time from a node's death until every other
# member has declared it failed, for a cluster of n nodes:
#
#   (n-1)*PI               every member probes every other once per round
#                          of n-1 probe intervals, so the first probe of the
#                          dead node starts at the latest this long after
#                          its death;
# + PI                     that probe period: the direct PING times out after
#                          the probe timeout (<= PI) and the indirect
#                          PING-REQs get the rest of the period;
# + 6*SM*max(1,log10 n)*PI the suspicion timeout at its Lifeguard maximum
#                          (no independent confirmations; it shrinks towards
#                          SM*max(1,log10 n)*PI as they arrive);
# + RM*ceil(log10(n+1))*GI the dead notice's retransmissions, gossiped every
#                          GI to GN random members;
# + margin                 scheduling on 2 CPUs, sanitizers (XG_FAIL_MARGIN,
#                          default 2000 ms).
#
# PI probe interval, SM suspicion mult, RM retransmit mult, GI gossip
# interval.  It is an upper bound on purpose: the test must not fail a
# correct agent; the benchmark reports the actual times.
xg_fail_bound_ms() {
	local n=$1
	awk -v n="$n" -v pi="$(xg_ms "$XG_PROBE_INTERVAL")" \
	    -v sm="$XG_SUSPICION_MULT" -v rm="$XG_RETRANSMIT_MULT" \
	    -v gi="$(xg_ms "$XG_GOSSIP_INTERVAL")" \
	    -v margin="${XG_FAIL_MARGIN:-2000}" 'BEGIN {
		l = log(n) / log(10); if (l < 1) l = 1
		r = log(n + 1) / log(10); rc = (r == int(r)) ? r : int(r) + 1
		b = (n - 1) * pi + pi + 6 * sm * l * pi + rm * rc * gi + margin
		printf "%d", b }'
}

# --- names -------------------------------------------------------------------
xg_host() { echo $(($1 + 10)); }
xg_ns() { echo "xg${XG_RUNID}n$1"; }
xg_hub() { echo "xg${XG_RUNID}hub"; }
xg_ip4() { local h=$(($1 + 10)); echo "198.18.$((h / 256)).$((h % 256))"; }
xg_ip6() { echo "fd00:198:18::$(($1 + 10))"; }
xg_ip() { if [ "${2:-$XG_FAMILY}" = 6 ]; then xg_ip6 "$1"; else xg_ip4 "$1"; fi; }
# The ip:port an agent binds and others join, in the current family.
xg_addr() {
	if [ "${2:-$XG_FAMILY}" = 6 ]; then echo "[$(xg_ip6 "$1")]:$XG_PORT"
	else echo "$(xg_ip4 "$1"):$XG_PORT"; fi
}
xg_mac() { local h=$(($1 + 10)); printf '02:78:67:00:%02x:%02x' $((h / 256)) $((h % 256)); }
xg_hub_mac() { local h=$(($1 + 10)); printf '02:78:68:00:%02x:%02x' $((h / 256)) $((h % 256)); }
xg_name() { echo "n$1"; }
xg_dir() { echo "$XG_TMP/n$1"; }
xg_log() { echo "$XG_TMP/n$1/agent.log"; }
xg_sock() { echo "$XG_TMP/n$1/ctl.sock"; }
xg_pid() { echo "${XG_PIDS[$1]:-}"; }

# --- setup and cleanup ---------------------------------------------------------
# xg_init B: B is the build directory holding xgossipd and xgossipctl.
# Re-executes the calling script under timeout(1) so a hung test ends, and
# installs the cleanup trap.  Exits 77 (SKIP) when namespaces are impossible.
xg_init() {
	local b=${1:-build}
	if [ -z "${XG_UNDER_TIMEOUT:-}" ]; then
		export XG_UNDER_TIMEOUT=1
		# --foreground keeps Ctrl-C reaching the test (and so its
		# cleanup); -k: if cleanup itself hangs, the test still ends.
		exec timeout --foreground -k 20 "$XG_TEST_TIMEOUT" bash "$0" "$@"
	fi
	XG_BIN=$(cd "$b" 2>/dev/null && pwd) || xg_fail "no build directory $b"
	XG_T0=$EPOCHREALTIME
	trap xg_cleanup EXIT
	trap 'xg_say "interrupted"; exit 130' INT
	trap 'xg_say "terminated (time bound ${XG_TEST_TIMEOUT}s?)"; exit 143' TERM

	[ "$(id -u)" = 0 ] || xg_skip "needs root (network namespaces)"
	command -v ip >/dev/null || xg_skip "no ip(8) (iproute2)"
	local x
	for x in xgossipd xgossipctl; do
		[ -x "$XG_BIN/$x" ] || xg_fail "$XG_BIN/$x is not built"
	done
	XG_TMP=$(mktemp -d /tmp/xgns.XXXXXX) || xg_fail "mktemp"
	chmod 0755 "$XG_TMP"
	xg_new_runid
}

# A run id no existing namespace uses; claimed by creating the hub.
xg_new_runid() {
	local tries=0 err
	while :; do
		XG_RUNID=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
		if err=$(ip netns add "$(xg_hub)" 2>&1); then
			XG_NS_CREATED+=("$(xg_hub)")
			return 0
		fi
		[ -e "/run/netns/$(xg_hub)" ] || xg_skip "cannot create network namespaces: $err"
		tries=$((tries + 1))
		[ $tries -lt 20 ] || xg_fail "no free run id"
	done
}

# xg_tls_init DIR NAME...: a CA (made once per DIR) and certificates for
# the names, with xgossipctl tls init.
xg_tls_init() {
	local dir=$1 out; shift
	out=$("$XG_BIN/xgossipctl" tls init --dir "$dir" "$@" 2>&1) ||
		xg_fail "xgossipctl tls init: $out"
}

# xg_tls_install DIR NAME DEST: NAME's certificate, key and DIR's CA into
# DEST as cert.pem, key.pem, ca.pem (what xg_start_node passes).
xg_tls_install() {
	mkdir -p "$3" &&
		install -m 0644 "$1/ca.pem" "$3/ca.pem" &&
		install -m 0644 "$1/$2.pem" "$3/cert.pem" &&
		install -m 0600 "$1/$2-key.pem" "$3/key.pem" ||
		xg_fail "cannot install the certificate of $2 into $3"
}

# xg_net_create N: the bridge and N node namespaces, fully addressed.
xg_net_create() {
	local n=$1 i j hub err
	hub=$(xg_hub)
	XG_NODES=$n
	for ((i = 1; i <= n; i++)); do
		ip netns add "$(xg_ns "$i")" || xg_fail "ip netns add $(xg_ns "$i")"
		XG_NS_CREATED=("$(xg_ns "$i")" "${XG_NS_CREATED[@]}")
		mkdir -p "$(xg_dir "$i")/state"
	done
	{
		# The hub only switches: no IPv6 on its ports, so it sends no
		# router solicitations or MLD reports into the test network.
		echo "link set lo up"
		echo "link add br0 type bridge mcast_snooping 0 stp_state 0"
		echo "link set br0 up"
		for ((i = 1; i <= n; i++)); do
			echo "link add p$i address $(xg_hub_mac "$i") type veth peer name eth0 address $(xg_mac "$i") netns $(xg_ns "$i")"
			echo "link set p$i master br0 up"
		done
	} >"$XG_TMP/hub.batch"
	ip netns exec "$hub" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1
	if ! err=$(ip -n "$hub" -batch "$XG_TMP/hub.batch" 2>&1); then
		case $err in
		*"Unknown device type"*|*"not supported"*) xg_skip "no bridge/veth support: $err" ;;
		esac
		xg_fail "hub setup: $err"
	fi
	for ((i = 1; i <= n; i++)); do
		{
			echo "link set lo up"
			echo "link set eth0 up"
			echo "addr add $(xg_ip4 "$i")/16 dev eth0"
			echo "addr add $(xg_ip6 "$i")/64 dev eth0 nodad"
			for ((j = 1; j <= n; j++)); do
				[ "$j" = "$i" ] && continue
				echo "neigh replace $(xg_ip4 "$j") lladdr $(xg_mac "$j") dev eth0 nud permanent"
				echo "neigh replace $(xg_ip6 "$j") lladdr $(xg_mac "$j") dev eth0 nud permanent"
			done
		} >"$XG_TMP/node.batch"
		err=$(ip -n "$(xg_ns "$i")" -batch "$XG_TMP/node.batch" 2>&1) ||
			xg_fail "node $i setup: $err"
	done
	# One secret for the cluster; each node gets its own copy, as nodes
	# on separate hosts would.
	od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$XG_TMP/secret"
	for ((i = 1; i <= n; i++)); do
		install -m 0600 "$XG_TMP/secret" "$(xg_dir "$i")/secret"
	done
	# A cluster CA and a certificate per node name: every stream is TLS
	# in the tests as in production (XG_TLS=0: --insecure-dev instead).
	if [ "$XG_TLS" = 1 ]; then
		xg_tls_init "$XG_TMP/tls" $(for ((i = 1; i <= n; i++)); do xg_name "$i"; done)
		for ((i = 1; i <= n; i++)); do
			xg_tls_install "$XG_TMP/tls" "$(xg_name "$i")" "$(xg_dir "$i")/tls"
		done
	fi
	xg_debug "network $XG_RUNID: $n nodes"
}

xg_cleanup() {
	local rc=$? i pid ns
	trap - EXIT INT TERM
	[ "$XG_RESULT" = skip ] && rc=77
	# SIGKILL, not a graceful leave: the test is over and each leave
	# would cost a leave timeout.
	for i in "${!XG_PIDS[@]}"; do
		pid=${XG_PIDS[$i]}
		kill -KILL "$pid" 2>/dev/null
	done
	# Their waiters record the exit; namespaces go only after that, so no
	# agent outlives its network.  Bounded: SIGKILL is not refused.
	local t
	for ((t = 0; t < 50; t++)); do
		local alive=0
		for i in "${!XG_PIDS[@]}"; do
			xg_running "$i" && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	if [ "$rc" != 0 ] && [ "$rc" != 77 ] && [ -n "$XG_TMP" ]; then
		xg_dump_logs "${XG_TAIL_LINES:-25}"
	fi
	for ns in "${XG_NS_CREATED[@]}"; do
		ip netns del "$ns" 2>/dev/null || echo "cleanup: could not delete namespace $ns" >&2
	done
	if [ -n "$XG_TMP" ] && [ -d "$XG_TMP" ]; then
		if [ "$XG_KEEP" = 1 ]; then
			echo "logs kept in $XG_TMP" >&2
		else
			rm -rf "$XG_TMP"
		fi
	fi
	[ -n "${XG_CLEANUP_MSG:-}" ] && echo "$XG_CLEANUP_MSG"
	exit "$rc"
}

# The tail of every agent log: what one needs to see when a test failed.
xg_dump_logs() {
	local lines=${1:-25} i log
	for ((i = 1; i <= XG_NODES; i++)); do
		log=$(xg_log "$i")
		[ -s "$log" ] || continue
		echo "----- n$i: last $lines lines of $log -----" >&2
		tail -n "$lines" "$log" >&2
	done
}

# --- agents ------------------------------------------------------------------
# xg_start_node i [flags...]: start agent n<i> in its namespace.  Unless the
# flags include --join (or the harness's own --no-join), every node but 1
# joins node 1.  Extra flags come
# last, so they can override the harness's timing flags.
# `ip netns exec` gives the agent a /sys without cgroup mounts; this
# shell's view of the file system has them (the agent reads its CPU limit
# there: --starved-cpu-limit).
XG_CGROUP_ROOT=/proc/$$/root/sys/fs/cgroup

xg_start_node() {
	local i=$1; shift
	local d join=() extra=() f
	for f in "$@"; do
		# --no-join is the harness's: start the agent with no seed.
		if [ "$f" = --no-join ]; then join=(-); else extra+=("$f"); fi
	done
	d=$(xg_dir "$i")
	[ -d "$d" ] || xg_fail "node $i does not exist (xg_net_create)"
	[ -z "$(xg_pid "$i")" ] || xg_fail "n$i is already running (pid $(xg_pid "$i"))"
	for f in "${extra[@]}"; do
		[ "$f" = --join ] && join=(-)
	done
	if [ ${#join[@]} = 0 ] && [ "$i" != 1 ]; then
		join=(--join "$(xg_addr 1)")
	elif [ "${join[0]:-}" = - ]; then
		join=()
	fi
	local sec=(--insecure-dev)
	[ "$XG_TLS" = 1 ] && sec=(--tls-ca "$d/tls/ca.pem" --tls-cert "$d/tls/cert.pem"
		--tls-key "$d/tls/key.pem")
	local cmd=("$XG_BIN/xgossipd"
		--name "$(xg_name "$i")"
		--bind "$(xg_addr "$i")"
		--cluster "$XG_CLUSTER"
		--cluster-secret-file "$d/secret"
		"${sec[@]}"
		--state-dir "$d/state"
		--control "$(xg_sock "$i")"
		--log-level "$XG_LOG_LEVEL"
		--probe-interval "$XG_PROBE_INTERVAL"
		--probe-timeout "$XG_PROBE_TIMEOUT"
		--indirect-checks "$XG_INDIRECT_CHECKS"
		--gossip-interval "$XG_GOSSIP_INTERVAL"
		--gossip-nodes "$XG_GOSSIP_NODES"
		--suspicion-mult "$XG_SUSPICION_MULT"
		--retransmit-mult "$XG_RETRANSMIT_MULT"
		--pushpull-interval "$XG_PUSHPULL_INTERVAL"
		--leave-timeout "$XG_LEAVE_TIMEOUT"
		--xdp off
		--cgroup-root "$XG_CGROUP_ROOT"
		"${join[@]}" "${extra[@]}")
	local log pidf
	log=$(xg_log "$i")
	pidf="$d/agent.pid"
	rm -f "$pidf" "$d/agent.rc"
	echo "# $(date -u +%FT%T.%6NZ) harness: ${cmd[*]}" >>"$log"
	# A small bash per agent waits for it and writes its exit status:
	# the test shell then never reaps agents itself, so a SIGKILLed agent
	# causes no "Killed" job notice, and `ip netns exec` execs the agent,
	# so the pid written is the agent's own.
	XG_A_LOG=$log XG_A_PIDF=$pidf bash -c 'ip netns exec "$@" </dev/null >>"$XG_A_LOG" 2>&1 &
		echo $! >"$XG_A_PIDF.tmp"; mv "$XG_A_PIDF.tmp" "$XG_A_PIDF"
		wait $!; echo $? >"$XG_A_PIDF.rc.tmp"
		mv "$XG_A_PIDF.rc.tmp" "${XG_A_PIDF%.pid}.rc"' \
		_ "$(xg_ns "$i")" "${cmd[@]}" \
		2>/dev/null </dev/null >/dev/null &
	disown $! 2>/dev/null
	local t
	for ((t = 0; t < 200; t++)); do
		[ -s "$pidf" ] && break
		sleep 0.01
	done
	XG_PIDS[$i]=$(cat "$pidf" 2>/dev/null) || xg_fail "n$i: agent did not start"
	xg_debug "started n$i pid ${XG_PIDS[$i]}"
}

# xg_running i: the agent process exists (its waiter reaps it at once).
xg_running() {
	local pid
	pid=$(xg_pid "$1")
	[ -n "$pid" ] && [ -d "/proc/$pid" ] && [ ! -e "$(xg_dir "$1")/agent.rc" ]
}

xg_kill() {
	local pid
	pid=$(xg_pid "$1")
	[ -n "$pid" ] || xg_fail "xg_kill: n$1 is not running"
	xg_debug "kill -$2 n$1 (pid $pid)"
	kill "-$2" "$pid" || xg_fail "kill -$2 $pid (n$1)"
}

# xg_wait_exit i timeout: wait for agent n<i> to exit and reap it; its exit
# status (128+signal when killed) is left in XG_EXIT_RC.  Returns 1 if it is
# still running at the deadline.  Not for $(...): wait must run in the shell
# that started the agent.
XG_EXIT_RC=
xg_wait_exit() {
	local i=$1 deadline pid
	deadline=$(xg_deadline "$2")
	pid=$(xg_pid "$i")
	[ -n "$pid" ] || xg_fail "xg_wait_exit: n$i was not started"
	while [ ! -e "$(xg_dir "$i")/agent.rc" ]; do
		xg_past "$deadline" && return 1
		sleep "$XG_POLL"
	done
	XG_EXIT_RC=$(cat "$(xg_dir "$i")/agent.rc")
	unset "XG_PIDS[$i]"
	return 0
}

# xg_loss PCT: drop PCT % of the IP packets the hub forwards, chosen at
# random per packet (0: no loss).  Every packet between two nodes crosses
# the hub once.  An nftables rule, not tc netem: sch_netem is missing
# from some kernels.  The table lives in the hub namespace and goes with it.
xg_loss() {
	local pct=$1 hub
	hub=$(xg_hub)
	ip netns exec "$hub" nft delete table bridge xgloss 2>/dev/null
	[ "$pct" = 0 ] && return 0
	command -v nft >/dev/null || xg_skip "no nft(8) (apt-get install nftables)"
	ip netns exec "$hub" nft -f - <<EOF || xg_fail "nft: cannot install the loss rule"
table bridge xgloss {
	chain lossy {
		type filter hook forward priority 0; policy accept;
		meta protocol { ip, ip6 } numgen random mod 100 < $pct drop
	}
}
EOF
}

# xg_ctl i args...: xgossipctl against agent n<i>, from inside its namespace.
xg_ctl() {
	local i=$1; shift
	timeout 10 ip netns exec "$(xg_ns "$i")" \
		"$XG_BIN/xgossipctl" --socket "$(xg_sock "$i")" "$@"
}

# --- waiting on logs -----------------------------------------------------------
xg_deadline() { awk -v n="$EPOCHREALTIME" -v t="$1" 'BEGIN { printf "%.3f", n + t }'; }
xg_past() { awk -v n="$EPOCHREALTIME" -v d="$1" 'BEGIN { exit !(n >= d) }'; }

# xg_mark i...: later waits on these nodes only look at lines logged after
# this point (e.g. "fail" after a restart must be a new one).
xg_mark() {
	local i n
	for i in "$@"; do
		n=0
		[ -f "$(xg_log "$i")" ] && n=$(wc -l <"$(xg_log "$i")")
		XG_MARK[$i]=$n
	done
}
xg_unmark() { local i; for i in "$@"; do unset "XG_MARK[$i]"; done; }

# Print the indexes, among the given nodes, whose log (after its mark) has a
# line matching the ERE in $XG_RE.  One awk for all the nodes.
xg__matching() {
	local args=() i
	for i in "$@"; do
		[ -f "$(xg_log "$i")" ] || continue
		args+=("m=${XG_MARK[$i]:-0}" "i=$i" "$(xg_log "$i")")
	done
	[ ${#args[@]} = 0 ] && return 0
	XG_RE=$XG_RE awk 'BEGIN { re = ENVIRON["XG_RE"] }
		FNR > m && !(i in hit) && $0 ~ re { hit[i] = 1; print i }' "${args[@]}"
}

# xg_wait_log_all timeout ERE nodes...: until every given node has logged a
# line matching ERE.  On timeout, names the nodes that did not and returns 1.
xg_wait_log_all() {
	local t=$1 re=$2; shift 2
	local deadline left=("$@") hits h i rest
	deadline=$(xg_deadline "$t")
	while :; do
		hits=" $(XG_RE=$re xg__matching "${left[@]}" | tr '\n' ' ') "
		rest=()
		for i in "${left[@]}"; do
			case $hits in *" $i "*) ;; *) rest+=("$i") ;; esac
		done
		left=("${rest[@]}")
		[ ${#left[@]} = 0 ] && return 0
		if xg_past "$deadline"; then
			echo "timed out after ${t}s waiting for /$re/ in the logs of:$(printf ' n%s' "${left[@]}")" >&2
			return 1
		fi
		sleep "$XG_POLL"
	done
}

xg_wait_log() { local i=$1 re=$2 t=$3; xg_wait_log_all "$t" "$re" "$i"; }

# xg_grep_log i ERE: matching lines after the mark (for checks and narration).
xg_grep_log() {
	local i=$1
	XG_RE=$2 awk -v m="${XG_MARK[$i]:-0}" 'BEGIN { re = ENVIRON["XG_RE"] }
		FNR > m && $0 ~ re' "$(xg_log "$i")"
}

# ERE for one member event about node j, e.g. $(xg_ev fail 3).
xg_ev() { echo "member ($1) name=$(xg_name "$2")( |\$)"; }

# xg_wait_converged timeout n nodes...: every given node has logged a join
# for n-1 distinct other members (from its log, one awk per look), then
# each one's `members --status alive` is checked once to list n members.
xg_wait_converged() {
	local t=$1 n=$2; shift 2
	local deadline i args=() got
	deadline=$(xg_deadline "$t")
	while :; do
		args=()
		for i in "$@"; do args+=("self=$(xg_name "$i")" "i=$i" "$(xg_log "$i")"); done
		got=$(awk -v want=$((n - 1)) '
			/ member (join|alive) name=/ {
				for (k = 1; k <= NF; k++) if ($k ~ /^name=/) {
					nm = substr($k, 6)
					if (nm != self && !((i, nm) in seen)) { seen[i, nm] = 1; cnt[i]++ }
				}
			}
			END { for (k in cnt) if (cnt[k] >= want) print k }' "${args[@]}" | wc -l)
		[ "$got" -ge $# ] && break
		if xg_past "$deadline"; then
			echo "no convergence after ${t}s: $got of $# nodes logged joins of $((n - 1)) others" >&2
			return 1
		fi
		sleep "$XG_POLL"
	done
	xg_check_alive_count "$n" "$@"
}

# xg_check_alive_count n nodes...: each node's CLI lists exactly n alive
# members.  The log said so already; a few spaced retries absorb the gap
# between logging an event and the table reflecting it.
xg_check_alive_count() {
	local n=$1 i c try; shift
	for i in "$@"; do
		for try in 1 2 3 4 5; do
			c=$(xg_ctl "$i" members -o json | xg_json count alive) || c="error"
			[ "$c" = "$n" ] && break
			sleep 0.5
		done
		if [ "$c" != "$n" ]; then
			echo "n$i: members --status alive lists $c, expected $n" >&2
			xg_ctl "$i" members >&2
			return 1
		fi
	done
}

# xg_json QUERY...: query a `members -o json` document on stdin.
# -S: no site packages; it cuts the start-up from ~0.3 s to ~0.05 s here.
xg_json() { python3 -S "$XG_LIB_DIR/xgjson.py" "$@"; }

# xg_member i j FIELD: FIELD of member n<j> as seen by agent n<i>.
xg_member() { xg_ctl "$1" members -o json | xg_json field "$(xg_name "$2")" "$3"; }
# xg_info i PATH: a value of agent n<i>'s `info -o json` (e.g. stats.rx_bad).
xg_info() { xg_ctl "$1" info -o json | xg_json get "$2"; }
