#!/usr/bin/env bash
# Graceful leave: SIGTERM one of 8.  It exits 0 within the leave timeout;
# every other node logs `member leave` for it and lists it as left; nobody
# logs `member fail` for it.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=8 LEAVER=3
xg_net_create $N
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"

others=()
for ((i = 1; i <= N; i++)); do [ $i = $LEAVER ] || others+=($i); done
xg_mark "${others[@]}"
xg_say "converged; SIGTERM n$LEAVER"
xg_kill $LEAVER TERM
# The agent may spend up to its leave timeout spreading the news.
t=$(awk -v l="$(xg_ms "$XG_LEAVE_TIMEOUT")" 'BEGIN { printf "%.1f", l / 1000 + 5 }')
xg_wait_exit $LEAVER "$t" || xg_fail "n$LEAVER still running ${t}s after SIGTERM"
[ "$XG_EXIT_RC" = 0 ] || xg_fail "n$LEAVER exited with status $XG_EXIT_RC after SIGTERM, expected 0"
xg_say "n$LEAVER exited 0"

xg_wait_log_all 10 "$(xg_ev leave $LEAVER)" "${others[@]}" ||
	xg_fail "not every node logged n$LEAVER's leave"
xg_say "every node logged the leave"

# Long enough for a wrongly running failure detector to have fired.
sleep "$(awk -v b="$(xg_fail_bound_ms $N)" 'BEGIN { printf "%.1f", b / 2000 }')"
xg_unmark "${others[@]}"   # the whole run: no failure at all, joining included
for i in "${others[@]}"; do
	bad=$(xg_grep_log $i ' member fail name=')
	[ -z "$bad" ] || xg_fail "n$i logged a failure after a graceful leave: $bad"
	s=$(xg_member $i $LEAVER status) || xg_fail "n$i does not list n$LEAVER"
	[ "$s" = left ] || xg_fail "n$i lists n$LEAVER as '$s', expected left"
done
xg_check_alive_count $((N - 1)) "${others[@]}" || xg_fail "survivors disagree"
xg_done
