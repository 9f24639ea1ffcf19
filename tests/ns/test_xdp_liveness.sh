#!/usr/bin/env bash
# A hung agent: the kernel answers for it only within the liveness window.
#
# n1 runs native XDP (its veth peer carries an XDP_PASS program, which
# native XDP_TX on a veth needs); n2's namespace only probes, with
# xgossip-probe at a low rate.  Then:
#   1. agent running: every PING is answered, by the kernel;
#   2. SIGSTOP: PINGs sent well inside the window are still answered by the
#      kernel (ping_answered moves, ping_stale_heartbeat does not);
#   3. past the window: not one is answered (ping_stale_heartbeat moves by
#      at least as many as were sent, ping_answered not at all), and every
#      one gets the hung agent's NACK flagged REFUSED instead;
#   4. SIGCONT: the agent writes its heartbeat again and the kernel answers;
#   5. the stop was a starved gap: the agent stretched its window by it
#      (xgossipctl xdp and the xg_config map agree);
#   6. stopped again: answered past the configured window inside the
#      stretched one, and not at all past the stretched one.
# Counters are read with bpftool from the pinned map: the agent is stopped.
set -uo pipefail
: "${XG_TEST_TIMEOUT:=60}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xdp_lib.sh"
xg_init "$@"
xg_xdp_init

WINDOW=2s RATE=20
xg_net_create 2
xg_xdp_peer_pass 1
xg_xdp_start_node 1 native --no-join --liveness-window $WINDOW
window_ms=$(xg_ms $WINDOW)
[ "$(xg_xdp_ctl 1 liveness_window_ms)" = "$window_ms" ] ||
	xg_fail "xgossipctl xdp does not show the liveness window $window_ms ms"

probe_check_all() { # label json
	local sent ans
	sent=$(xg_xdp_field sent "$2")
	ans=$(xg_xdp_field answered "$2")
	[ -n "$sent" ] && [ "$sent" -gt 0 ] || xg_fail "$1: the probe sent nothing: $2"
	[ "$ans" = "$sent" ] || xg_fail "$1: $ans of $sent PINGs answered: $2"
	xg_say "$1: $ans of $sent answered"
}

# 1. Running.
read -r a0 s0 <<<"$(xg_xdp_stat 1 ping_answered ping_stale_heartbeat)"
out=$(xg_xdp_probe 2 1 $RATE 1)
probe_check_all "running" "$out"
read -r a1 s1 <<<"$(xg_xdp_stat 1 ping_answered ping_stale_heartbeat)"
[ $((a1 - a0)) -ge "$(xg_xdp_field sent "$out")" ] ||
	xg_fail "ping_answered moved by $((a1 - a0)): the kernel did not answer"

# 2. Stopped, inside the window.  The probe takes half a second; the last
# heartbeat is at most 250 ms older than the stop (the idle timer; a busy
# loop beats at every wakeup).
xg_kill 1 STOP
t_stop=$EPOCHREALTIME
out=$(xg_xdp_probe 2 1 $RATE 0.5)
elapsed_ms=$(awk -v a="$t_stop" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
# If this machine was too slow to probe inside the window, the check below
# would test nothing: say so instead of passing or failing on it.
[ "$elapsed_ms" -lt $((window_ms - 600)) ] ||
	xg_fail "probing took ${elapsed_ms} ms after SIGSTOP: too slow to test inside a ${window_ms} ms window"
probe_check_all "stopped ${elapsed_ms} ms ago (inside the window)" "$out"
read -r a2 s2 <<<"$(xg_xdp_stat 1 ping_answered ping_stale_heartbeat)"
[ $((a2 - a1)) -ge "$(xg_xdp_field sent "$out")" ] ||
	xg_fail "inside the window ping_answered moved by only $((a2 - a1))"
[ "$s2" = "$s1" ] || xg_fail "inside the window ping_stale_heartbeat moved ($s1 -> $s2)"

# 3. Past the window.
sleep "$(awk -v a="$t_stop" -v b="$EPOCHREALTIME" -v w="$window_ms" \
	'BEGIN { s = a + w / 1000 + 0.5 - b; printf "%.2f", (s > 0 ? s : 0) }')"
out=$(xg_xdp_probe 2 1 $RATE 1)
sent=$(xg_xdp_field sent "$out")
ans=$(xg_xdp_field answered "$out")
[ -n "$sent" ] && [ "$sent" -gt 0 ] || xg_fail "past the window: the probe sent nothing: $out"
[ "$ans" = 0 ] || xg_fail "past the window: $ans of $sent PINGs answered for a stopped agent"
# The kernel says so: every PING gets the node's own NACK flagged REFUSED.
hung=$(xg_xdp_field hung "$out")
[ "$hung" = "$sent" ] ||
	xg_fail "past the window: $hung of $sent PINGs got the hung agent's NACK: $out"
read -r a3 s3 <<<"$(xg_xdp_stat 1 ping_answered ping_stale_heartbeat)"
[ "$a3" = "$a2" ] || xg_fail "past the window ping_answered moved ($a2 -> $a3)"
[ $((s3 - s2)) -ge "$sent" ] ||
	xg_fail "past the window ping_stale_heartbeat moved by $((s3 - s2)), fewer than the $sent sent"
xg_say "stopped past the window: 0 of $sent answered, $hung NACKed as hung, ping_stale_heartbeat +$((s3 - s2))"

# 4. Resumed.
xg_kill 1 CONT
xg_running 1 || xg_fail "n1 is gone after SIGCONT"
sleep 0.3
out=$(xg_xdp_probe 2 1 $RATE 1)
probe_check_all "resumed" "$out"
read -r a4 s4 <<<"$(xg_xdp_stat 1 ping_answered ping_stale_heartbeat)"
[ $((a4 - a3)) -ge "$(xg_xdp_field sent "$out")" ] ||
	xg_fail "after SIGCONT ping_answered moved by only $((a4 - a3))"
IFS=$'\t' read -r mode hb_errors <<<"$(xg_xdp_ctl 1 mode heartbeat_errors)"
[ "$mode" = native ] || xg_fail "n1 no longer reports xdp mode native"
[ "$hb_errors" = 0 ] || xg_fail "n1 failed to write $hb_errors heartbeats"

# 5. The stop was a starved gap (no CPU used): the agent stretched its
# window by the gap, rounded up to a heartbeat (daemon/liveness.h), and
# published it in the config map the program reads.
IFS=$'\t' read -r now_ms stretches gap_ms max_ms <<<"$(xg_xdp_ctl 1 \
	liveness_window_now_ms liveness_stretches starved_gap_max_ms liveness_window_max_ms)"
[ "$max_ms" = $((4 * window_ms)) ] || xg_fail "liveness_window_max_ms is $max_ms, not 4 x $window_ms"
[ "$stretches" -ge 1 ] && [ "$gap_ms" -ge "$window_ms" ] ||
	xg_fail "no stretch after a ${gap_ms} ms stop (stretches=$stretches)"
[ "$now_ms" -gt $((window_ms + gap_ms)) ] && [ "$now_ms" -le "$max_ms" ] ||
	xg_fail "window now $now_ms ms after a $gap_ms ms gap (configured $window_ms, max $max_ms)"
cfg_ns=$(bpftool map dump pinned "$(xg_xdp_pins 1)/xg_config" |
	awk '$1 == "\"liveness_ns\":" { v = $2; sub(/,$/, "", v); print v }')
[ "$cfg_ns" = $((now_ms * 1000000)) ] ||
	xg_fail "xg_config.liveness_ns is $cfg_ns, the agent says $now_ms ms"
xg_say "after a ${gap_ms} ms stop the window is $now_ms ms (xg_config agrees)"

# 6. Stopped again: answered past the configured window, inside the
# stretched one; then not at all past the stretched one.
xg_kill 1 STOP
t_stop=$EPOCHREALTIME
sleep "$(awk -v w="$window_ms" 'BEGIN { printf "%.2f", w / 1000 + 0.3 }')"
out=$(xg_xdp_probe 2 1 $RATE 0.5)
elapsed_ms=$(awk -v a="$t_stop" -v b="$EPOCHREALTIME" 'BEGIN { printf "%d", (b - a) * 1000 }')
[ "$elapsed_ms" -lt $((now_ms - 600)) ] ||
	xg_fail "probing took until ${elapsed_ms} ms after SIGSTOP: too slow to test inside a ${now_ms} ms window"
probe_check_all "stopped ${elapsed_ms} ms ago (past $window_ms, inside the stretched $now_ms)" "$out"
sleep "$(awk -v a="$t_stop" -v b="$EPOCHREALTIME" -v w="$now_ms" \
	'BEGIN { s = a + w / 1000 + 0.5 - b; printf "%.2f", (s > 0 ? s : 0) }')"
out=$(xg_xdp_probe 2 1 $RATE 1)
sent=$(xg_xdp_field sent "$out")
ans=$(xg_xdp_field answered "$out")
[ -n "$sent" ] && [ "$sent" -gt 0 ] || xg_fail "past the stretched window: the probe sent nothing: $out"
[ "$ans" = 0 ] || xg_fail "past the stretched window: $ans of $sent PINGs answered for a stopped agent"
xg_say "past the stretched window: 0 of $sent answered"
xg_kill 1 CONT
xg_running 1 || xg_fail "n1 is gone after the second SIGCONT"
xg_done
