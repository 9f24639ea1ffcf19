# shellcheck shell=bash
# XDP helpers for tests/ns/test_xdp_*.sh, on top of lib.sh (docs/TESTING.md).
#
#   . tests/ns/lib.sh
#   . tests/ns/xdp_lib.sh
#   xg_init "$B"; xg_xdp_init      # SKIP (77) without bpftool or BPF
#   xg_net_create 2
#   xg_xdp_peer_pass 1             # native XDP_TX on eth0 of n1 needs it
#   xg_xdp_start_node 1 native --no-join
#   xg_xdp_probe 2 1 20 1          # JSON of xgossip-probe from n2 to n1
#   xg_xdp_stat 1 ping_answered    # a kernel counter, by bpftool
#
# Pins.  `ip netns exec` gives each agent a mount namespace of its own with
# a fresh /sys and no bpffs under it; an agent started that way mounts a
# private bpffs that dies with it, so its pins could neither be dumped from
# here nor be taken over by the next agent.  On a real host (and in the
# DaemonSet, which mounts the host's /sys/fs/bpf) every agent sees the one
# bpffs.  xg_xdp_init makes the test match that: agents are started through
# a wrapper that re-enters this shell's mount namespace before it execs
# xgossipd (same pid, the harness is none the wiser).
#
# Every pin directory is named after the run (xg<run>n<i>), so runs and
# benchmarks on one host never share maps, and it is removed on exit
# whatever happened (a killed agent leaves its pins behind by design).

XG_REAL_BIN=
declare -A XG_XDP_INST=()   # node index -> instance it was started with

xg_xdp_init() {
	local b
	command -v bpftool >/dev/null || xg_skip "needs bpftool"
	command -v nsenter >/dev/null || xg_skip "needs nsenter (util-linux)"
	if ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
		mount -t bpf bpf /sys/fs/bpf 2>/dev/null ||
			xg_skip "no bpffs at /sys/fs/bpf and cannot mount one"
	fi
	# A private copy of the binaries: a rebuild of the build directory
	# while the test runs (the linker replaces files) cannot pull them
	# from under it.
	XG_REAL_BIN=$XG_TMP/bin
	mkdir -p "$XG_REAL_BIN/bpf" || xg_fail "mkdir $XG_REAL_BIN"
	for b in xgossipd xgossipctl xgossip-probe bpf/xdp_pass.bpf.o; do
		[ -e "$XG_BIN/$b" ] || xg_fail "$XG_BIN/$b is not built"
		cp "$XG_BIN/$b" "$XG_REAL_BIN/$b" || xg_fail "cp $XG_BIN/$b"
	done
	mv "$XG_REAL_BIN/xgossipd" "$XG_REAL_BIN/xgossipd.real"
	printf '#!/bin/sh\nexec nsenter --mount=/proc/%d/ns/mnt -- "%s" "$@"\n' \
		"$$" "$XG_REAL_BIN/xgossipd.real" >"$XG_REAL_BIN/xgossipd"
	chmod 0755 "$XG_REAL_BIN/xgossipd"
	XG_BIN=$XG_REAL_BIN
	# Before lib.sh's cleanup deletes the namespaces: agents gone, pins
	# gone.  lib.sh's trap still runs, with the test's exit status.
	trap 'xg_xdp_cleanup' EXIT
}

xg_xdp_cleanup() {
	local rc=$? i pid t inst
	for i in "${!XG_PIDS[@]}"; do
		pid=${XG_PIDS[$i]}
		kill -KILL "$pid" 2>/dev/null
	done
	for ((t = 0; t < 50; t++)); do
		local alive=0
		for i in "${!XG_PIDS[@]}"; do xg_running "$i" && alive=1; done
		[ $alive = 0 ] && break
		sleep 0.1
	done
	for inst in "${XG_XDP_INST[@]}"; do
		[ -n "$inst" ] && rm -rf "/sys/fs/bpf/xgossip/$inst"
	done
	rmdir /sys/fs/bpf/xgossip 2>/dev/null
	(exit "$rc")
	xg_cleanup
}

xg_xdp_inst() { echo "xg${XG_RUNID}n$1"; }
xg_xdp_pins() { echo "/sys/fs/bpf/xgossip/$(xg_xdp_inst "$1")"; }

# xg_xdp_peer_pass i: an XDP_PASS program on the bridge side of n<i>'s veth.
# Native XDP_TX on a veth delivers only when the peer runs XDP itself.
xg_xdp_peer_pass() {
	local err
	err=$(ip -n "$(xg_hub)" link set dev "p$1" xdpdrv \
		obj "$XG_REAL_BIN/bpf/xdp_pass.bpf.o" sec xdp 2>&1) ||
		xg_skip "cannot attach XDP to a veth (no BPF here?): $err"
}

# xg_xdp_start_node i MODE [flags...]: agent n<i> with --xdp MODE and this
# run's instance, then wait for its start line to name the mode it got.
xg_xdp_start_node() {
	local i=$1 mode=$2 want
	shift 2
	XG_XDP_INST[$i]=$(xg_xdp_inst "$i")
	xg_start_node "$i" --xdp "$mode" --xdp-instance "$(xg_xdp_inst "$i")" "$@"
	want="xdp=$mode iface=eth0 prog_id=[0-9]+"
	[ "$mode" = off ] && want='xdp=off reason='
	xg_wait_log "$i" "starting name=$(xg_name "$i") .*$want" 20 ||
		xg_fail "n$i did not start with xdp=$mode"
}

# The node id of n<i>, from its start line (latest start).
xg_xdp_node_id() {
	grep -o "starting name=$(xg_name "$1") id=[0-9a-f]*" "$(xg_log "$1")" |
		tail -n1 | sed 's/.*id=//'
}

# xg_xdp_probe from to rate seconds: signed PINGs from n<from>'s namespace
# to n<to>'s address and node id, at a low rate; prints the probe tool's
# JSON.  Nothing answered is a result here, not an error.
xg_xdp_probe() {
	local from=$1 to=$2 rate=$3 secs=$4 id
	id=$(xg_xdp_node_id "$to")
	[ -n "$id" ] || xg_fail "no node id for n$to in its log"
	timeout 30 ip netns exec "$(xg_ns "$from")" "$XG_REAL_BIN/xgossip-probe" \
		--target "$(xg_ip4 "$to"):$XG_PORT" --target-id "$id" \
		--cluster "$XG_CLUSTER" --cluster-secret-file "$(xg_dir "$to")/secret" \
		--rate "$rate" --duration "$secs" --timeout 500ms -o json 2>/dev/null
	return 0
}

# xg_xdp_field KEY JSON: a whole-number field of the probe tool's one-line
# JSON (no subprocess: on 2 busy CPUs a python start costs ~0.3 s, and
# these tests race a liveness window).
xg_xdp_field() {
	if [[ $2 =~ \"$1\":([0-9]+)[,}] ]]; then
		echo "${BASH_REMATCH[1]}"
	fi
}

# xg_xdp_stat i NAME...: kernel counters of n<i>'s program, summed over
# CPUs, read from its pinned xg_stats map with bpftool (works while the
# agent is stopped or gone).  One value per name, space separated.
xg_xdp_stat() {
	local i=$1 out; shift
	out=$(bpftool map dump pinned "$(xg_xdp_pins "$i")/xg_stats" 2>/dev/null) ||
		xg_fail "cannot dump $(xg_xdp_pins "$i")/xg_stats"
	# bpftool prints one '"name": value' line per counter and CPU (BTF).
	awk -v names="$*" '
		BEGIN { n = split(names, want, " ") }
		{ for (k = 1; k <= n; k++)
			if ($1 == "\"" want[k] "\":") { v = $2; sub(/,$/, "", v); sum[k] += v; seen[k] = 1 } }
		END { for (k = 1; k <= n; k++) { if (!seen[k]) exit 1; printf "%s%d", (k > 1 ? " " : ""), sum[k] }
		      print "" }' <<<"$out" ||
		xg_fail "no counter $* in $(xg_xdp_pins "$i")/xg_stats"
}

# xg_xdp_ctl i KEY...: values from n<i>'s `xgossipctl xdp` table (keys
# are unique across its sections: mode, reason, prog_id, ping_answered,
# xg_stats...), tab separated, "-" for a key not shown.  One CLI call.
xg_xdp_ctl() {
	local i=$1; shift
	xg_ctl "$i" xdp | awk -v keys="$*" '
		BEGIN { n = split(keys, want, " ") }
		/^  [^ ]+ +=/ { k = $1; v = $0; sub(/^  [^ ]+ += /, "", v); val[k] = v }
		END { for (j = 1; j <= n; j++)
			printf "%s%s", (j > 1 ? "\t" : ""), ((want[j] in val) ? val[want[j]] : "-")
		      print "" }'
}

# xg_xdp_attached i: what XDP n<i>'s eth0 carries ("xdp", "xdpgeneric" or
# nothing) and the program id, as "MODE ID".
xg_xdp_attached() {
	ip -n "$(xg_ns "$1")" -d link show dev eth0 | awk '
		/ xdp(generic|drv|offload)? / { for (k = 1; k <= NF; k++)
			if ($k ~ /^xdp/) mode = $k }
		/prog\/xdp id/ { for (k = 1; k <= NF; k++) if ($k == "id") id = $(k + 1) }
		END { if (mode != "") print mode, id }'
}
