#!/usr/bin/env bash
# User broadcasts across 16 agents with XDP native, through the control
# socket (tests/ns/msgdrive.py subscribes on every node and broadcasts
# from random ones):
#
#   - 1000 broadcasts, no loss: every other node delivers every message
#     exactly once, no node gets its own back;
#   - the kernel drops most duplicate copies: over the cluster, the XDP
#     programs' dup_dropped is at least nine times the duplicates that
#     still reached the agents (PUSH / PULL_RESPONSE of a seen id, and
#     PULL_SYNC of a seen id);
#   - 1000 more with 20 % of all packets lost on the bridge (an nftables
#     rule in the hub's forward path, so each packet crosses one lossy
#     hop; tc netem would do the same, but not every kernel has
#     sch_netem): still every message, exactly once, to every node.
set -uo pipefail
: "${XG_TEST_TIMEOUT:=240}"
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xdp_lib.sh"
xg_init "$@"
xg_xdp_init

N=16 M=${XG_MSG_COUNT:-1000} RATE=${XG_MSG_RATE:-100}
xg_net_create $N
for ((i = 1; i <= N; i++)); do xg_xdp_peer_pass $i; done
for ((i = 1; i <= N; i++)); do
	XG_XDP_INST[$i]=$(xg_xdp_inst "$i")
	xg_start_node "$i" --xdp native --xdp-instance "$(xg_xdp_inst "$i")"
done
xg_wait_log_all 30 "starting name=n[0-9]+ .*xdp=native iface=eth0" $(seq 1 $N) ||
	xg_fail "not every agent started with xdp=native"
xg_wait_converged 60 $N $(seq 1 $N) || xg_fail "cluster did not converge"
xg_say "$N nodes converged, XDP native"

socks=()
for ((i = 1; i <= N; i++)); do socks+=("$(xg_sock "$i")"); done

# sum_info COUNTER...: messaging counters summed over the nodes, one
# `info` per node (a CLI call and a python start per value would take
# half a minute on two busy CPUs).
sum_info() {
	local i
	for ((i = 1; i <= N; i++)); do
		xg_ctl "$i" info -o json >"$XG_TMP/info.$i" || xg_fail "n$i: info"
	done
	python3 -S -c '
import json, sys
names, files = sys.argv[1].split(), sys.argv[2:]
tot = [0] * len(names)
for f in files:
    m = json.load(open(f))["messages"]
    for k, n in enumerate(names):
        tot[k] += m[n]
print(" ".join(map(str, tot)))' "$*" $(for ((i = 1; i <= N; i++)); do echo "$XG_TMP/info.$i"; done)
}
sum_xdp() {
	local i s=0 v
	for ((i = 1; i <= N; i++)); do
		v=$(xg_xdp_stat "$i" "$1")
		s=$((s + v))
	done
	echo $s
}

# --- no loss -------------------------------------------------------------------
out=$(timeout 120 python3 "$XG_LIB_DIR/msgdrive.py" --count "$M" --rate "$RATE" \
	--timeout 30 --seed 1 "${socks[@]}" 2>&1)
rc=$?
xg_say "no loss: ${out##*msgdrive: }"
[ $rc = 0 ] || xg_fail "broadcasts without loss: $out"

kernel=$(sum_xdp dup_dropped)
read -r dups known delivered <<<"$(sum_info dups pull_syncs_known delivered)"
user=$((dups + known))
xg_say "duplicates: $kernel dropped in the kernel, $user reached the agents ($delivered deliveries)"
[ "$delivered" = $((M * (N - 1))) ] || xg_fail "agents count $delivered deliveries, expected $((M * (N - 1)))"
[ "$kernel" -gt 0 ] || xg_fail "the kernel dropped no duplicate"
[ $((user * 9)) -le "$kernel" ] ||
	xg_fail "too many duplicates reached userspace: $user against $kernel in the kernel"

# --- 20 % loss -------------------------------------------------------------------
xg_loss 20
out=$(timeout 150 python3 "$XG_LIB_DIR/msgdrive.py" --count "$M" --rate "$RATE" \
	--timeout 60 --seed 2 "${socks[@]}" 2>&1)
rc=$?
xg_loss 0
xg_say "20% loss: ${out##*msgdrive: }"
[ $rc = 0 ] || xg_fail "broadcasts with 20% loss: $out"
failed=$(grep -c "member fail " $(for ((i = 1; i <= N; i++)); do xg_log $i; done) | awk -F: '{ s += $2 } END { print s + 0 }')
xg_say "member failures declared during the run: $failed"
xg_done
