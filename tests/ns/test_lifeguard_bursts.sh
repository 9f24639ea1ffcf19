#!/usr/bin/env bash
# Lifeguard with real agents (--xdp off, so the userspace failure detector
# is what is tested, not the kernel's answers): 8 nodes probing every
# 500 ms; two of them are SIGSTOPped for 1 s at a time (then run 1-2 s)
# for 60 s.  They are suspected again and again and must refute every
# time: no node may ever log `member fail`, and each sets its STARVED flag.
# Then, with local health back
# to normal, a healthy node is SIGKILLed and every other node must log its
# failure within the bound the timeouts give (xg_fail_bound_ms in lib.sh:
# first probe + Lifeguard's maximum suspicion timeout + dissemination).
set -uo pipefail
: "${XG_PROBE_INTERVAL:=500ms}"
: "${XG_PROBE_TIMEOUT:=250ms}"
: "${XG_GOSSIP_INTERVAL:=100ms}"
: "${XG_TEST_TIMEOUT:=180}"  # 60 s of bursts + settle + kill; headroom for ASan and a busy CI host
: "${XG_BURST_SECONDS:=60}"
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=8 VICTIM=5
BURSTY=(3 7)
xg_net_create $N
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"

# --- bursts ---------------------------------------------------------------------
# The schedule, in ms from now: node 3 starts at 0, node 7 at 700 so the
# two overlap only part of the time.  Each stops for 1000 ms, then runs for
# 1000-2000 ms (RANDOM, seeded per run and printed, so a failure can be
# replayed with XG_BURST_SEED).
seed=${XG_BURST_SEED:-$((RANDOM))}
RANDOM=$seed
sched=$(mktemp)
for k in 0 1; do
	t=$((k * 700))
	while [ $t -lt $((XG_BURST_SECONDS * 1000)) ]; do
		echo "$t ${BURSTY[$k]} STOP"
		t=$((t + 1000))
		echo "$t ${BURSTY[$k]} CONT"
		t=$((t + 1000 + RANDOM % 1001))
	done
done | sort -n -k1,1 >"$sched"
xg_say "converged; ${XG_BURST_SECONDS}s of 1 s SIGSTOP bursts on n${BURSTY[0]} and n${BURSTY[1]} ($(grep -c STOP "$sched") stops, XG_BURST_SEED=$seed)"

# A stopped agent must not stay stopped when the bursts end early (the
# harness's cleanup SIGKILLs agents, which works on stopped ones too).
resume_all() {
	local j pid
	for j in "${BURSTY[@]}"; do
		pid=$(xg_pid "$j")
		[ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null
	done
	return 0
}

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
start=$(now_ms)
while read -r at node sig; do
	wait_ms=$((start + at - $(now_ms)))
	[ $wait_ms -gt 0 ] && sleep "$(printf '%d.%03d' $((wait_ms / 1000)) $((wait_ms % 1000)))"
	xg_kill "$node" "$sig"
done <"$sched"
rm -f "$sched"
resume_all
xg_say "bursts over"

bad=$(for ((i = 1; i <= N; i++)); do xg_grep_log $i ' member fail name=' | sed "s/^/n$i: /"; done)
[ -z "$bad" ] || xg_fail "a node was declared failed during the bursts: $bad"
suspects=$(for ((i = 1; i <= N; i++)); do xg_grep_log $i ' member suspect name='; done | wc -l)
refutes=$(for j in "${BURSTY[@]}"; do xg_grep_log "$j" ' member refute name='; done | wc -l)
xg_say "no failures; $suspects suspect events logged, $refutes refutations by the bursty nodes"
[ "$suspects" -gt 0 ] || xg_fail "the bursts raised no suspicion at all: the test tests nothing"
# Stopped again and again, each bursty node finds its timers late while it
# used no CPU, and asks the others for the longest suspicion timeout
# (XG_UF_STARVED; docs/OPERATIONS.md).
for j in "${BURSTY[@]}"; do
	[ -n "$(xg_grep_log "$j" ' starved of CPU: asking members')" ] ||
		xg_fail "n$j was stopped for 60 s but never said it is starved"
done

# --- local health back to normal ----------------------------------------------
# The detection bound assumes probers at full speed (LHM 0).  It drops by
# one per successful probe; look once a second, only at nodes not there yet.
lhm_of() { xg_ctl "$1" info -o json | grep -o '"lhm": *[0-9]*' | grep -o '[0-9]*$'; }
pending=($(seq 1 $N))
deadline=$(xg_deadline 25)
while [ ${#pending[@]} -gt 0 ]; do
	rest=()
	for i in "${pending[@]}"; do
		h=$(lhm_of "$i") || h=
		[ -n "$h" ] || xg_fail "n$i: xgossipctl info shows no stats.lhm"
		[ "$h" = 0 ] || rest+=("$i:$h")
	done
	pending=("${rest[@]%%:*}")
	[ ${#rest[@]} = 0 ] && break
	xg_past "$deadline" && xg_fail "local health still raised after 25 s: ${rest[*]}"
	sleep 1
done
xg_say "every node's local health multiplier is back to 0"

# --- a real death ---------------------------------------------------------------
others=()
for ((i = 1; i <= N; i++)); do [ $i = $VICTIM ] || others+=($i); done
bound_ms=$(xg_fail_bound_ms $N)
xg_mark "${others[@]}"
t_kill=$EPOCHREALTIME
xg_kill $VICTIM KILL
xg_wait_exit $VICTIM 5 || xg_fail "n$VICTIM survived SIGKILL"
xg_say "SIGKILL n$VICTIM; waiting up to ${bound_ms} ms for every node to log its failure"
xg_wait_log_all "$(awk -v b="$bound_ms" 'BEGIN { printf "%.3f", b / 1000 }')" \
	"$(xg_ev fail $VICTIM)" "${others[@]}" ||
	xg_fail "not every node declared n$VICTIM failed within ${bound_ms} ms"
xg_say "every node declared n$VICTIM failed after $(awk -v a="$t_kill" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s (at most; logs are polled)"

xg_unmark "${others[@]}"
for i in "${others[@]}"; do
	bad=$(xg_grep_log $i ' member fail name=' | grep -vE "$(xg_ev fail $VICTIM)")
	[ -z "$bad" ] || xg_fail "n$i declared another member failed: $bad"
done
xg_check_alive_count $((N - 1)) "${others[@]}" || xg_fail "survivors disagree"
xg_done
