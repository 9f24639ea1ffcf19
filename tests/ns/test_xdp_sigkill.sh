#!/usr/bin/env bash
# A dead agent: after SIGKILL the kernel does not answer one more PING.
#
# n1 runs generic XDP; from n2's namespace xgossip-probe sends PINGs at a
# low rate, before, across and after the kill.  The program and its pins
# stay (a crash leaves them for the next agent), so the kernel counters can
# still be read: from the moment the agent is gone ping_answered must not
# move while ping_no_socket counts every PING (the agent's socket went with
# it; DESIGN.md rule 1).  The probe after the kill gets no answer at all.
set -uo pipefail
: "${XG_TEST_TIMEOUT:=60}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xdp_lib.sh"
xg_init "$@"
xg_xdp_init

RATE=20
xg_net_create 2
xg_xdp_start_node 1 generic --no-join

out=$(xg_xdp_probe 2 1 $RATE 1)
sent=$(xg_xdp_field sent "$out")
ans=$(xg_xdp_field answered "$out")
[ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$ans" = "$sent" ] ||
	xg_fail "with the agent running, $ans of $sent answered: $out"
read -r a0 <<<"$(xg_xdp_stat 1 ping_answered)"
[ "$a0" -ge "$sent" ] || xg_fail "ping_answered is $a0 after $sent kernel answers"
xg_say "running: $ans of $sent answered (ping_answered $a0)"

# A probe that runs across the kill.
across=$XG_TMP/across.json
xg_xdp_probe 2 1 $RATE 3 >"$across" &
probe_pid=$!
sleep 1
xg_kill 1 KILL
xg_wait_exit 1 5 || xg_fail "n1 survived SIGKILL"
# The process is reaped: its socket is closed.  Whatever the kernel
# answered until now was answered for a live agent.
read -r a1 n1 <<<"$(xg_xdp_stat 1 ping_answered ping_no_socket)"
xg_say "n1 killed (exit $XG_EXIT_RC); ping_answered $a1, ping_no_socket $n1"
[ -n "$(xg_xdp_attached 1)" ] || xg_fail "the program left eth0 with the agent"
[ -e "$(xg_xdp_pins 1)/xg_stats" ] || xg_fail "the pins left with the agent"

wait "$probe_pid"
out=$(xg_xdp_probe 2 1 $RATE 1)
sent=$(xg_xdp_field sent "$out")
ans=$(xg_xdp_field answered "$out")
[ -n "$sent" ] && [ "$sent" -gt 0 ] || xg_fail "the probe sent nothing: $out"
[ "$ans" = 0 ] || xg_fail "$ans of $sent PINGs answered after SIGKILL: $out"
read -r a2 n2 <<<"$(xg_xdp_stat 1 ping_answered ping_no_socket)"
[ "$a2" = "$a1" ] || xg_fail "the kernel answered $((a2 - a1)) PINGs for a dead agent"
# Every PING after the kill: the rest of the 3 s probe (about one second of
# it, at least) and the whole second one.
[ $((n2 - n1)) -ge "$sent" ] ||
	xg_fail "ping_no_socket moved by $((n2 - n1)), fewer than the $sent PINGs sent"
xg_say "dead: 0 of $sent answered; ping_answered stays $a2, ping_no_socket +$((n2 - n1))"
sent3=$(xg_xdp_field sent "$(cat "$across")")
ans3=$(xg_xdp_field answered "$(cat "$across")")
[ -n "$ans3" ] && [ "$ans3" -lt "$sent3" ] ||
	xg_fail "the probe across the kill got $ans3 of $sent3 answered"
xg_say "across the kill: $ans3 of $sent3 answered, none after it"
xg_done
