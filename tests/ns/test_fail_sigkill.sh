#!/usr/bin/env bash
# SIGKILL one of 8: every other node logs `member fail` for it within the
# bound the timing parameters imply (xg_fail_bound_ms in lib.sh documents
# the formula), and nobody else is declared failed.  The victim's host is
# up, so its kernel refuses the PINGs (ICMP port unreachable): the probers
# and their helpers must have heard that (stats.pings_refused), which is
# what lets a probe fail without waiting out its interval.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=8 VICTIM=5
xg_net_create $N
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"
xg_say "converged; SIGKILL n$VICTIM"

others=()
for ((i = 1; i <= N; i++)); do [ $i = $VICTIM ] || others+=($i); done
bound_ms=$(xg_fail_bound_ms $N)
xg_mark "${others[@]}"
t_kill=$EPOCHREALTIME
xg_kill $VICTIM KILL
xg_wait_exit $VICTIM 5 || xg_fail "n$VICTIM survived SIGKILL"

xg_say "waiting up to ${bound_ms} ms (probe ${XG_PROBE_INTERVAL}/${XG_PROBE_TIMEOUT}, suspicion mult ${XG_SUSPICION_MULT}, gossip ${XG_GOSSIP_INTERVAL}) for every node to log the failure"
xg_wait_log_all "$(awk -v b="$bound_ms" 'BEGIN { printf "%.3f", b / 1000 }')" \
	"$(xg_ev fail $VICTIM)" "${others[@]}" ||
	xg_fail "not every node declared n$VICTIM failed within ${bound_ms} ms"
xg_say "every node declared n$VICTIM failed after $(awk -v a="$t_kill" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s (at most; logs are polled)"

# Nobody else: no fail event for another member, now or shortly after
# (one more probe round for stragglers).
sleep "$(awk -v p="$(xg_ms "$XG_PROBE_INTERVAL")" -v n=$N 'BEGIN { printf "%.1f", p * n / 1000 }')"
xg_unmark "${others[@]}"   # the whole run: a false failure while joining counts too
for i in "${others[@]}"; do
	bad=$(xg_grep_log $i ' member fail name=' | grep -vE "$(xg_ev fail $VICTIM)")
	[ -z "$bad" ] || xg_fail "n$i declared another member failed: $bad"
done
for i in "${others[@]}"; do
	s=$(xg_member $i $VICTIM status) || xg_fail "n$i does not list n$VICTIM"
	[ "$s" = dead ] || xg_fail "n$i lists n$VICTIM as '$s', expected dead"
done
xg_check_alive_count $((N - 1)) "${others[@]}" || xg_fail "survivors disagree"
refused=0
for i in "${others[@]}"; do
	r=$(xg_info $i stats.pings_refused) || xg_fail "n$i: no stats.pings_refused"
	refused=$((refused + r))
done
# One probe refused to its prober and to one helper at least.
[ "$refused" -ge 2 ] ||
	xg_fail "survivors heard $refused refusals of PINGs to n$VICTIM, expected at least 2"
xg_say "PINGs to n$VICTIM refused: $refused (kernel port unreachable)"
xg_done
