#!/usr/bin/env bash
# Restart: SIGKILL a node, wait until every other node has declared it dead,
# start it again on the same state dir.  Every node then lists it alive with
# a higher incarnation than before the crash.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=8 R=6
xg_net_create $N
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"

others=()
for ((i = 1; i <= N; i++)); do [ $i = $R ] || others+=($i); done
before=$(xg_member 1 $R incarnation) || xg_fail "n1 cannot describe n$R"
[[ $before =~ ^[0-9]+$ ]] || xg_fail "n$R's incarnation is '$before'"
xg_say "converged; n$R has incarnation $before; SIGKILL n$R"

xg_mark "${others[@]}"
xg_kill $R KILL
xg_wait_exit $R 5 || xg_fail "n$R survived SIGKILL"
bound=$(awk -v b="$(xg_fail_bound_ms $N)" 'BEGIN { printf "%.3f", b / 1000 }')
xg_wait_log_all "$bound" "$(xg_ev fail $R)" "${others[@]}" ||
	xg_fail "n$R was not declared dead everywhere"
xg_say "n$R is dead everywhere; restarting it on the same state dir"

xg_mark "${others[@]}"
xg_start_node $R
xg_wait_log_all 20 "$(xg_ev 'alive|join' $R)" "${others[@]}" ||
	xg_fail "not every node saw n$R come back"
xg_check_alive_count $N $(seq 1 $N) || xg_fail "not all $N alive after the restart"
for i in "${others[@]}"; do
	inc=$(xg_member $i $R incarnation) || xg_fail "n$i cannot describe n$R"
	[[ $inc =~ ^[0-9]+$ ]] && [ "$inc" -gt "$before" ] ||
		xg_fail "n$i lists n$R with incarnation '$inc', not above $before"
done
xg_say "every node lists n$R alive with incarnation above $before"
# The restarted node kept its identity: same id as n1 knew before.
xg_done
