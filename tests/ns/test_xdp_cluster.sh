#!/usr/bin/env bash
# Eight agents in mixed XDP modes: n1-n3 native, n4-n6 generic, n7-n8 off.
#
#   - the cluster converges, and each agent's `xgossipctl xdp` reports the
#     mode it was given (off ones say why);
#   - the kernel answers the cluster's own probes: ping_answered moves on
#     every XDP node;
#   - `bpftool map dump pinned` works on every map of every XDP node;
#   - a SIGKILLed XDP node (n5, generic) is declared failed by every other
#     node within the bound of the timing parameters (lib.sh
#     xg_fail_bound_ms): the kernel stops answering for it at once;
#   - SIGTERM on n2 (native) and n6 (generic) is a clean shutdown: exit 0,
#     the program detached from eth0 and the pin directory removed.
set -uo pipefail
: "${XG_TEST_TIMEOUT:=60}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xdp_lib.sh"
xg_init "$@"
xg_xdp_init

N=8 VICTIM=5
mode_of() {
	if [ "$1" -le 3 ]; then echo native
	elif [ "$1" -le 6 ]; then echo generic
	else echo off; fi
}
xdp_nodes=(1 2 3 4 5 6)

xg_net_create $N
for i in 1 2 3; do xg_xdp_peer_pass $i; done
xg_xdp_start_node 1 "$(mode_of 1)"
for ((i = 2; i <= N; i++)); do xg_xdp_start_node $i "$(mode_of $i)"; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"
xg_say "converged"

# What each agent says about its fast path (one CLI call per node).
for ((i = 1; i <= N; i++)); do
	want=$(mode_of $i)
	IFS=$'\t' read -r got why ifname pins prog <<<"$(xg_xdp_ctl $i mode reason interface pin_dir prog_id)"
	[ "$got" = "$want" ] || xg_fail "n$i: xgossipctl xdp says mode '$got', expected $want"
	if [ "$want" = off ]; then
		[ "$why" = "--xdp off" ] || xg_fail "n$i: off for reason '$why'"
		continue
	fi
	[ "$ifname" = eth0 ] || xg_fail "n$i: on '$ifname', not eth0"
	[ "$pins" = "$(xg_xdp_pins $i)" ] || xg_fail "n$i: pin dir '$pins', not $(xg_xdp_pins $i)"
	att=$(xg_xdp_attached $i)
	case $want in
	native) [[ $att == "xdp "* ]] || xg_fail "n$i: eth0 carries '$att', expected native xdp" ;;
	generic) [[ $att == "xdpgeneric "* ]] || xg_fail "n$i: eth0 carries '$att', expected xdpgeneric" ;;
	esac
	[ "${att#* }" = "$prog" ] || xg_fail "n$i: eth0 runs program ${att#* }, the agent reports $prog"
done
xg_say "every agent reports its mode"

# The kernel answers the cluster's probes.  Every member probes every
# other once per round of N-1 probe intervals; wait for two rounds.
sleep "$(awk -v p="$(xg_ms "$XG_PROBE_INTERVAL")" -v n=$N 'BEGIN { printf "%.1f", 2 * p * (n - 1) / 1000 }')"
for i in "${xdp_nodes[@]}"; do
	read -r answered tx <<<"$(xg_xdp_stat $i ping_answered tx)"
	[ "$answered" -gt 0 ] || xg_fail "n$i ($(mode_of $i)): the kernel answered no PING"
	[ "$tx" = "$answered" ] || xg_fail "n$i: tx $tx differs from ping_answered $answered"
	ctl=$(xg_xdp_ctl $i ping_answered)
	[ "$ctl" -ge "$answered" ] 2>/dev/null ||
		xg_fail "n$i: xgossipctl xdp shows ping_answered '$ctl', bpftool $answered"
	for m in xg_config xg_keys xg_heartbeat xg_seen xg_stats; do
		bpftool map dump pinned "$(xg_xdp_pins $i)/$m" >/dev/null 2>&1 ||
			xg_fail "n$i: bpftool map dump pinned $(xg_xdp_pins $i)/$m failed"
	done
	xg_debug "n$i: ping_answered $answered"
done
xg_say "ping_answered moves on n1-n6; bpftool dumps all their maps"

# A killed XDP node is found dead: its program stops answering at once.
others=()
for ((i = 1; i <= N; i++)); do [ $i = $VICTIM ] || others+=($i); done
bound_ms=$(xg_fail_bound_ms $N)
xg_mark "${others[@]}"
t_kill=$EPOCHREALTIME
xg_kill $VICTIM KILL
xg_wait_exit $VICTIM 5 || xg_fail "n$VICTIM survived SIGKILL"
xg_wait_log_all "$(awk -v b="$bound_ms" 'BEGIN { printf "%.3f", b / 1000 }')" \
	"$(xg_ev fail $VICTIM)" "${others[@]}" ||
	xg_fail "not every node declared n$VICTIM ($(mode_of $VICTIM) XDP) failed within ${bound_ms} ms"
xg_say "every node declared n$VICTIM failed after $(awk -v a="$t_kill" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s (bound ${bound_ms} ms)"
read -r dead_answered <<<"$(xg_xdp_stat $VICTIM ping_answered)"
sleep 1
[ "$(xg_xdp_stat $VICTIM ping_answered)" = "$dead_answered" ] ||
	xg_fail "the kernel still answers for the dead n$VICTIM"

# Clean shutdown detaches and unpins.
for i in 2 6; do xg_kill $i TERM; done
for i in 2 6; do
	xg_wait_exit $i 10 || xg_fail "n$i did not exit after SIGTERM"
	[ "$XG_EXIT_RC" = 0 ] || xg_fail "n$i exited $XG_EXIT_RC after SIGTERM"
	[ ! -e "$(xg_xdp_pins $i)" ] || xg_fail "n$i left its pins in $(xg_xdp_pins $i)"
	[ -z "$(xg_xdp_attached $i)" ] || xg_fail "n$i left XDP on eth0: $(xg_xdp_attached $i)"
	xg_grep_log $i 'xdp: detached program id=' | grep -q . ||
		xg_fail "n$i did not log the detach"
done
xg_say "SIGTERM on n2 (native) and n6 (generic): detached, pins removed"
xg_check_alive_count $((N - 3)) 1 3 4 7 8 || xg_fail "survivors disagree"
xg_done
