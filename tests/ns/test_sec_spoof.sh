#!/usr/bin/env bash
# An attacker on the cluster's network without its keys (docs/SECURITY.md):
#
#  1. forged DEAD and SUSPECT about a live node, sealed with a guessed key
#     and in the unsealed layout: nobody suspects or fails it, and the
#     packets are counted as rejected;
#  2. a flood of forged ACKs from one address: the per-source rate limit
#     turns most of it away and the cluster stays healthy;
#  3. a node is SIGKILLed while the attacker spoofs ACKs in its name (every
#     seq in a wide window, guessed key) and replays the ACKs and gossip it
#     captured from that node while it lived: the node is still declared
#     failed within the usual bound, and the replayed ALIVE gossip does not
#     bring it back.
#
# n1..n4 run agents; n5 is the attacker (no agent).  Captures are taken on
# the hub's bridge port of the victim, i.e. by an on-path observer.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=4 ATT=5 VICTIM=3 LIVE=2
ATTACKER=$XG_LIB_DIR/attacker.py
xg_net_create $((N + 1))
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"
others=(1 2 4)

id_of() { xg_member 1 "$1" id; }
att() { ip netns exec "$(xg_ns $ATT)" python3 "$ATTACKER" "$@"; }
sum_stat() {
	local s=0 i v
	for i in "${others[@]}"; do
		v=$(xg_info "$i" "stats.$1") || xg_fail "n$i info: stats.$1"
		s=$((s + v))
	done
	echo $s
}

# --- capture n3's traffic while it is alive ---------------------------------
# A tag change during the capture makes n3 gossip its ALIVE: the capture
# then holds real, correctly sealed gossip to replay after its death.
cap=$XG_TMP/capture.jsonl
ip netns exec "$(xg_hub)" python3 "$ATTACKER" capture --iface p$VICTIM \
	--port "$XG_PORT" --out "$cap" --duration 3 >"$XG_TMP/capture.out" 2>&1 &
cap_pid=$!
for ((t = 0; t < 50; t++)); do [ -e "$cap" ] && break; sleep 0.05; done
xg_ctl $VICTIM tags set role=victim >/dev/null || xg_fail "tags set on n$VICTIM"
wait $cap_pid || xg_fail "capture: $(cat "$XG_TMP/capture.out")"
# type byte 2 (ACK) and 5 (GOSSIP) after magic 5847 and version 01
n_ack=$(grep -c '"payload": *"58470102' "$cap" || true)
n_gossip=$(grep -c '"payload": *"58470105' "$cap" || true)
xg_say "captured $(wc -l <"$cap") packets of n$VICTIM's traffic on the bridge ($n_ack ACKs, $n_gossip GOSSIP)"
[ "$n_ack" -gt 0 ] && [ "$n_gossip" -gt 0 ] ||
	xg_fail "the capture lacks ACKs or GOSSIP from n$VICTIM"

# --- 1. forged DEAD / SUSPECT about a live node --------------------------------
live_id=$(id_of $LIVE) || xg_fail "no id for n$LIVE"
xg_mark "${others[@]}"
unsealed0=$(sum_stat rx_unsealed)
for i in "${others[@]}"; do
	[ $i = $LIVE ] && continue
	for st in dead suspect; do
		att forge-gossip --to "$(xg_addr $i)" --cluster "$XG_CLUSTER" --state $st \
			--node-id "$live_id" --name "$(xg_name $LIVE)" --addr "$(xg_addr $LIVE)" \
			--incarnation 1000 --times 20 >/dev/null || xg_fail "forge-gossip failed"
		att forge-gossip --to "$(xg_addr $i)" --cluster "$XG_CLUSTER" --state $st \
			--node-id "$live_id" --name "$(xg_name $LIVE)" --addr "$(xg_addr $LIVE)" \
			--incarnation 1000 --times 20 --plain >/dev/null || xg_fail "forge-gossip --plain failed"
	done
done
sleep 2
for i in "${others[@]}"; do
	bad=$(xg_grep_log $i "member (suspect|fail) name=$(xg_name $LIVE)( |\$)")
	[ -z "$bad" ] || xg_fail "n$i believed a forged update about n$LIVE: $bad"
done
unsealed1=$(sum_stat rx_unsealed)
[ $((unsealed1 - unsealed0)) -ge 160 ] ||
	xg_fail "forged gossip not counted as rejected ($((unsealed1 - unsealed0)) of 160)"
xg_say "forged DEAD/SUSPECT about n$LIVE: ignored, $((unsealed1 - unsealed0)) packets rejected"

# --- 2. a flood from one address ----------------------------------------------
lim0=$(xg_info 1 stats.rx_limited)
att spoof-ack --to "$(xg_addr 1)" --cluster "$XG_CLUSTER" --sender-id "$(id_of 2)" \
	--target-id "$(id_of 1)" --seq-from 0 --seq-to 4999 --duration 2 >/dev/null ||
	xg_fail "spoof-ack flood failed"
lim1=$(xg_info 1 stats.rx_limited)
[ $((lim1 - lim0)) -gt 0 ] || xg_fail "n1 did not rate-limit a flood from one address"
xg_check_alive_count $N "${others[@]}" $VICTIM || xg_fail "the flood disturbed the cluster"
xg_say "flood of forged ACKs: $((lim1 - lim0)) packets over the per-source limit, cluster intact"

# --- 3. SIGKILL n3; spoof and replay in its name --------------------------------
victim_id=$(id_of $VICTIM) || xg_fail "no id for n$VICTIM"
bound_ms=$(xg_fail_bound_ms $N)
xg_mark "${others[@]}"
xg_kill $VICTIM KILL
xg_wait_exit $VICTIM 5 || xg_fail "n$VICTIM survived SIGKILL"
pids=()
for i in "${others[@]}"; do
	att spoof-ack --to "$(xg_addr $i)" --cluster "$XG_CLUSTER" --sender-id "$victim_id" \
		--target-id "$(id_of $i)" --seq-from 0 --seq-to 1999 --rate 400 \
		--duration 6 >/dev/null 2>&1 &
	pids+=($!)
	att replay --in "$cap" --to "$(xg_addr $i)" --times 10 --rate 200 >/dev/null 2>&1 &
	pids+=($!)
done
xg_wait_log_all "$(awk -v b="$bound_ms" 'BEGIN { printf "%.3f", b / 1000 }')" \
	"$(xg_ev fail $VICTIM)" "${others[@]}" ||
	xg_fail "spoofed/replayed ACKs kept n$VICTIM alive past ${bound_ms} ms"
for p in "${pids[@]}"; do wait "$p"; done
xg_say "n$VICTIM declared failed everywhere despite spoofed and replayed ACKs"

# Replay everything captured again, now that it is dead: old ALIVE gossip
# must not resurrect it (its DEAD is at least as new).
xg_mark "${others[@]}"
for i in "${others[@]}"; do
	att replay --in "$cap" --to "$(xg_addr $i)" --times 5 >/dev/null ||
		xg_fail "replay failed"
done
sleep 2
for i in "${others[@]}"; do
	bad=$(xg_grep_log $i "member (alive|join) name=$(xg_name $VICTIM)( |\$)")
	[ -z "$bad" ] || xg_fail "replayed gossip resurrected n$VICTIM on n$i: $bad"
	s=$(xg_member $i $VICTIM status) || xg_fail "n$i does not list n$VICTIM"
	[ "$s" = dead ] || xg_fail "n$i lists n$VICTIM as '$s' after the replay"
done
xg_unmark "${others[@]}"
for i in "${others[@]}"; do
	bad=$(xg_grep_log $i ' member fail name=' | grep -vE "$(xg_ev fail $VICTIM)")
	[ -z "$bad" ] || xg_fail "n$i declared another member failed: $bad"
done
xg_say "replayed gossip after the death: n$VICTIM stays dead"
xg_done
