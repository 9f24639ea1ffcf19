#!/usr/bin/env bash
# Restart takeover: an XDP agent killed with SIGKILL leaves its program and
# pinned maps; restarted with the same instance it takes the maps over (the
# same kernel maps, counters and all), replaces the program, and the kernel
# answers for it again.  A clean SIGTERM afterwards removes everything.
#
# n1 runs native XDP (an XDP_PASS program on its veth peer); n2 is a plain
# agent (--xdp off) in the same cluster, and its namespace probes n1.
set -uo pipefail
: "${XG_TEST_TIMEOUT:=60}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xdp_lib.sh"
xg_init "$@"
xg_xdp_init

RATE=20
MAPS=(xg_config xg_keys xg_heartbeat xg_seen xg_stats)
xg_net_create 2
xg_xdp_peer_pass 1
xg_xdp_start_node 1 native --no-join
xg_xdp_start_node 2 off
xg_wait_converged 20 2 1 2 || xg_fail "no convergence"

map_ids() {
	local m
	for m in "${MAPS[@]}"; do
		bpftool map show pinned "$(xg_xdp_pins 1)/$m" 2>/dev/null |
			awk -F: 'NR == 1 { printf "%s ", $1 }'
	done
}

all_answered() { # label
	local out sent ans
	out=$(xg_xdp_probe 2 1 $RATE 1)
	sent=$(xg_xdp_field sent "$out")
	ans=$(xg_xdp_field answered "$out")
	[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$ans" = "$sent" ] ||
		xg_fail "$1: $ans of $sent PINGs answered: $out"
	echo "$sent"
}

sent=$(all_answered "first agent")
ids1=$(map_ids)
prog1=$(xg_xdp_ctl 1 prog_id)
read -r answered1 <<<"$(xg_xdp_stat 1 ping_answered)"
[ "$answered1" -ge "$sent" ] || xg_fail "the kernel answered $answered1 < $sent"
xg_say "first agent: program $prog1, maps $ids1, ping_answered $answered1"

xg_kill 1 KILL
xg_wait_exit 1 5 || xg_fail "n1 survived SIGKILL"
[ "$(map_ids)" = "$ids1" ] || xg_fail "pins changed with the crash: $(map_ids)"
[ "$(xg_xdp_attached 1)" = "xdp $prog1" ] ||
	xg_fail "eth0 carries '$(xg_xdp_attached 1)' after the crash, expected the old program"

xg_mark 1
xg_xdp_start_node 1 native --no-join
xg_grep_log 1 "xdp: program id=[0-9]+ attached to eth0 .* maps reused at $(xg_xdp_pins 1)" | grep -q . ||
	xg_fail "the restarted agent did not report reusing the pinned maps"
ids2=$(map_ids)
[ "$ids2" = "$ids1" ] || xg_fail "the restarted agent has maps $ids2, not the pinned $ids1"
prog2=$(xg_xdp_ctl 1 prog_id)
[ "$prog2" != "$prog1" ] || xg_fail "the program was not replaced ($prog2)"
[ "$(xg_xdp_attached 1)" = "xdp $prog2" ] ||
	xg_fail "eth0 carries '$(xg_xdp_attached 1)', expected only the new program $prog2"
read -r answered2 <<<"$(xg_xdp_stat 1 ping_answered)"
[ "$answered2" -ge "$answered1" ] ||
	xg_fail "counters restarted from $answered2: the stats map was not taken over"
xg_say "restarted: program $prog1 -> $prog2, same maps, ping_answered $answered2"

sent=$(all_answered "restarted agent")
read -r answered3 <<<"$(xg_xdp_stat 1 ping_answered)"
[ $((answered3 - answered2)) -ge "$sent" ] ||
	xg_fail "the new program answered $((answered3 - answered2)) of $sent"
xg_check_alive_count 2 1 2 || xg_fail "n1 and n2 do not both see two alive members"
xg_say "the kernel answers for the restarted agent ($sent of $sent)"

xg_kill 1 TERM
xg_wait_exit 1 10 || xg_fail "n1 did not exit after SIGTERM"
[ "$XG_EXIT_RC" = 0 ] || xg_fail "n1 exited $XG_EXIT_RC after SIGTERM"
[ ! -e "$(xg_xdp_pins 1)" ] || xg_fail "pins left after a clean shutdown"
[ -z "$(xg_xdp_attached 1)" ] || xg_fail "XDP left on eth0 after a clean shutdown"
xg_done
