#!/usr/bin/env bash
# A 5-node xgossip cluster in network namespaces, narrated:
# it forms, carries a broadcast and a unicast, notices a SIGKILLed node,
# and sees a graceful leave.
#
#   tools/demo.sh [B]     B = build dir holding xgossipd/xgossipctl (build)
#
# Needs root (namespaces).  Everything it creates (namespaces, agents, temp
# files) is removed when it ends, however it ends.  Bounded to 2 minutes.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build}
if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root to create network namespaces (try: sudo make demo)" >&2
	exit 1
fi

# Demo timings: a little slower than the test suite so the states are
# visible, far quicker than the LAN defaults (1 s probes) so it is short.
export XG_PROBE_INTERVAL=300ms XG_PROBE_TIMEOUT=150ms XG_GOSSIP_INTERVAL=100ms
export XG_SUSPICION_MULT=4 XG_LEAVE_TIMEOUT=2s XG_CLUSTER=demo
export XG_TEST_TIMEOUT=110
. "$root/tests/ns/lib.sh"
xg_init "$@"

N=5 KILLED=3 LEAVER=4
hr() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
[ -t 1 ] || hr() { printf '\n== %s\n' "$*"; }
members() {
	echo "--- xgossipctl members (asked of n1) ---"
	xg_ctl 1 members || echo "(n1 did not answer)"
}
# The lines about node j that the other nodes logged since the last mark.
show_events() {
	local j=$1 re=$2 i
	for ((i = 1; i <= N; i++)); do
		[ $i = "$j" ] && continue
		[ $i = "$KILLED" ] && [ "$j" != "$KILLED" ] && continue
		xg_grep_log $i "$re" | sed "s/^/  n$i | /"
	done
}

hr "1. Network: $N namespaces on one bridge (198.18.0.0/15, the benchmark range)"
xg_net_create $N
for ((i = 1; i <= N; i++)); do
	printf '  n%d  namespace %-16s %-13s %s\n' $i "$(xg_ns $i)" "$(xg_ip4 $i)" "$(xg_ip6 $i)"
done
echo "  cluster '$XG_CLUSTER': a keyring from 32 random bytes made for this run (mode 0600, never printed)"
echo "  TLS: a cluster CA and one certificate per node name, made by: xgossipctl tls init --dir $XG_TMP/tls n1 .. n$N"
echo "       every join and push/pull is TLS 1.3 with both certificates checked"
echo "  timings: probe every $XG_PROBE_INTERVAL (timeout $XG_PROBE_TIMEOUT), gossip every $XG_GOSSIP_INTERVAL, suspicion multiplier $XG_SUSPICION_MULT"

hr "2. Start n1 alone, then n2..n$N, each joining through n1"
xg_start_node 1 --tag role=seed
xg_wait_log 1 'starting name=' 10 || xg_fail "n1 did not start"
grep -m1 'starting name=' "$(xg_log 1)" | sed 's/^/  n1 | /'
sleep 0.5
members
# One at a time, with a look at n1's view after each (a single CLI call per
# node started, not a polling loop).
for ((i = 2; i <= N; i++)); do
	xg_start_node $i --tag role=worker
	sleep 0.5
	alive=$(xg_ctl 1 members --status alive -o json 2>/dev/null | xg_json names alive 2>/dev/null | tr '\n' ' ')
	echo "  started n$i; n1 now lists alive: ${alive:-?}"
done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "the cluster did not form"
echo "  every node now lists $N alive members (checked on each node)"
members

hr "3. Messages: n2 broadcasts to everyone, n1 sends to n5 alone"
subs=()
for ((i = 1; i <= N; i++)); do
	[ $i = 2 ] && continue
	timeout 15 ip netns exec "$(xg_ns $i)" "$XG_BIN/xgossipctl" --socket "$(xg_sock $i)" \
		subscribe --count 1 demo >"$XG_TMP/sub.$i" 2>&1 &
	subs+=($!)
done
sleep 1
echo "  \$ xgossipctl broadcast demo -   (on n2, stdin: 'hello from n2')"
echo "hello from n2" | xg_ctl 2 broadcast demo - | sed 's/^/  n2 | /'
for p in "${subs[@]}"; do wait "$p"; done
for ((i = 1; i <= N; i++)); do
	[ $i = 2 ] && continue
	tail -n1 "$XG_TMP/sub.$i" | sed "s/^/  n$i got | /"
done
timeout 15 ip netns exec "$(xg_ns 5)" "$XG_BIN/xgossipctl" --socket "$(xg_sock 5)" \
	subscribe --count 1 direct >"$XG_TMP/uni.5" 2>&1 &
sub=$!
sleep 0.5
echo "  \$ xgossipctl send n5 direct -   (on n1, stdin: 'just for n5')"
echo "just for n5" | xg_ctl 1 send n5 direct - | sed 's/^/  n1 | /'
wait "$sub"
tail -n1 "$XG_TMP/uni.5" | sed 's/^/  n5 got | /'

hr "4. SIGKILL n$KILLED: no goodbye, the others must find out by probing"
xg_mark $(seq 1 $N)
t0=$EPOCHREALTIME
xg_kill $KILLED KILL
xg_wait_exit $KILLED 5 || xg_fail "n$KILLED survived SIGKILL"
others=()
for ((i = 1; i <= N; i++)); do [ $i = $KILLED ] || others+=($i); done
xg_wait_log_all "$(awk -v b="$(xg_fail_bound_ms $N)" 'BEGIN { print b / 1000 }')" \
	"$(xg_ev fail $KILLED)" "${others[@]}" || xg_fail "n$KILLED was not declared dead by everyone"
printf '  every node declared n%d dead within %.1f s; what they logged:\n' $KILLED \
	"$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')"
show_events $KILLED "member (suspect|fail) name=n$KILLED( |\$)"
members

hr "5. SIGTERM n$LEAVER: a graceful leave, announced before it exits"
xg_mark $(seq 1 $N)
xg_kill $LEAVER TERM
xg_wait_exit $LEAVER 10 || xg_fail "n$LEAVER did not exit after SIGTERM"
echo "  n$LEAVER exited with status $XG_EXIT_RC"
rest=()
for i in "${others[@]}"; do [ $i = $LEAVER ] || rest+=($i); done
xg_wait_log_all 10 "$(xg_ev leave $LEAVER)" "${rest[@]}" || xg_fail "not everyone saw n$LEAVER leave"
show_events $LEAVER "member (leave|fail) name=n$LEAVER( |\$)"
members

hr "6. Done: stopping the agents and removing the namespaces"
XG_CLEANUP_MSG="  all agents stopped, namespaces and temp files removed"
XG_RESULT=pass
exit 0
