#!/usr/bin/env bash
# Membership convergence benchmark.
#
#   tests/bench/convergence.sh [B]
#
# For each cluster size (XG_BENCH_SIZES, default "8 32") and repetition
# (XG_BENCH_REPS, default 3), in fresh namespaces, with the LAN defaults:
#   join:   from starting all agents (all joining n1) until the last node
#           logged its last `member join`, i.e. every node knows all N
#           (start: how long the harness took to launch them, included);
#   detect: from SIGKILL of one node until the first / the last other node
#           logged `member fail` for it.
# Prints p50 and max over the repetitions and writes B/bench/convergence.csv.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=${1:-build}
SIZES=${XG_BENCH_SIZES:-8 32}
REPS=${XG_BENCH_REPS:-3}

# The LAN defaults (docs/OPERATIONS.md), not the test suite's short ones.
export XG_PROBE_INTERVAL=1s XG_PROBE_TIMEOUT=500ms XG_INDIRECT_CHECKS=3
export XG_GOSSIP_INTERVAL=200ms XG_GOSSIP_NODES=3 XG_SUSPICION_MULT=4
export XG_RETRANSMIT_MULT=4 XG_PUSHPULL_INTERVAL=30s XG_LEAVE_TIMEOUT=2s
export XG_TEST_TIMEOUT=${XG_BENCH_RUN_TIMEOUT:-180}

mkdir -p "$B/bench"
csv="$B/bench/convergence.csv"
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

echo "convergence benchmark: sizes $SIZES, $REPS repetitions each, --xdp off"
echo "  probe interval $XG_PROBE_INTERVAL, probe timeout $XG_PROBE_TIMEOUT, indirect checks $XG_INDIRECT_CHECKS,"
echo "  suspicion mult $XG_SUSPICION_MULT, gossip interval $XG_GOSSIP_INTERVAL, gossip nodes $XG_GOSSIP_NODES, retransmit mult $XG_RETRANSMIT_MULT"
failed=0
for n in $SIZES; do
	for ((r = 1; r <= REPS; r++)); do
		out=$(bash "$here/convergence_run.sh" "$B" "$n" "$r" "$raw" 2>&1)
		rc=$?
		if [ $rc != 0 ]; then
			echo "N=$n rep $r: FAILED (exit $rc)"
			echo "$out" | tail -n 40 | sed 's/^/    | /'
			failed=$((failed + 1))
		else
			echo "  N=$n rep $r done"
		fi
	done
done

{
	echo "# xgossip convergence benchmark, $(date -u +%FT%TZ), $(uname -r), $(nproc) CPUs"
	echo "# probe_interval=$XG_PROBE_INTERVAL probe_timeout=$XG_PROBE_TIMEOUT indirect_checks=$XG_INDIRECT_CHECKS suspicion_mult=$XG_SUSPICION_MULT gossip_interval=$XG_GOSSIP_INTERVAL gossip_nodes=$XG_GOSSIP_NODES retransmit_mult=$XG_RETRANSMIT_MULT xdp=off"
	echo "nodes,rep,start_s,join_s,detect_first_s,detect_all_s,false_fails"
	cat "$raw"
} >"$csv"

python3 -S "$here/summarize.py" "$csv"
echo "csv: $csv"
if command -v gnuplot >/dev/null 2>&1; then
	png="$B/bench/convergence.png"
	if gnuplot -e "csv='$csv'; out='$png'" "$here/convergence.gp" 2>"$raw"; then
		echo "plot: $png"
	else
		echo "plot: gnuplot failed: $(head -n3 "$raw")"
	fi
fi
[ $failed = 0 ]
