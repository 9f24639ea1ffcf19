#!/usr/bin/env bash
# One membership-convergence measurement (called by convergence.sh):
#
#   convergence_run.sh B N REP CSV
#
# Starts N agents (n1 first, the rest joining n1), measures from the start
# until the last node logged its last join, then SIGKILLs one node and
# measures until every other node logged `member fail` for it.  Times come
# from the agents' log stamps.  Appends one CSV row to CSV.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../ns/lib.sh"
xg_init "$@"
N=$2 REP=$3 CSV=$4

xg_net_create "$N"
logs=()
for ((i = 1; i <= N; i++)); do logs+=("$(xg_log $i)"); done

t_start=$EPOCHREALTIME
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
t_started=$EPOCHREALTIME
xg_wait_converged 60 "$N" $(seq 1 "$N") || xg_fail "N=$N: no convergence in 60 s"
t_conv=$(python3 -S "$here/logtimes.py" converge "$N" "${logs[@]}") || xg_fail "converge times"

# Let the joins' gossip die down so the kill measures detection, not the
# tail of the join.
sleep "$(awk -v p="$(xg_ms "$XG_PROBE_INTERVAL")" 'BEGIN { print 2 * p / 1000 }')"
V=$N
others=()
for ((i = 1; i < N; i++)); do others+=($i); done
t_kill=$EPOCHREALTIME
xg_kill "$V" KILL
bound=$(awk -v b="$(xg_fail_bound_ms "$N")" 'BEGIN { print b / 1000 }')
xg_wait_log_all "$bound" "$(xg_ev fail "$V")" "${others[@]}" ||
	xg_fail "N=$N: n$V not declared failed everywhere within ${bound}s"
olog=()
for i in "${others[@]}"; do olog+=("$(xg_log $i)"); done
read -r t_first t_last _ < <(python3 -S "$here/logtimes.py" fail "$(xg_name "$V")" "${olog[@]}") ||
	xg_fail "fail times"
false=$(python3 -S "$here/logtimes.py" falsefail "$(xg_name "$V")" "${olog[@]}")

awk -v n="$N" -v r="$REP" -v s="$t_start" -v c="$t_conv" -v k="$t_kill" \
    -v f="$t_first" -v l="$t_last" -v ff="$false" -v st="$t_started" 'BEGIN {
	printf "%d,%d,%.3f,%.3f,%.3f,%.3f,%d\n", n, r, st - s, c - s, f - k, l - k, ff }' >>"$CSV"
xg_say "N=$N rep $REP: converged $(tail -n1 "$CSV")"
xg_done
