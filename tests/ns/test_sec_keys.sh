#!/usr/bin/env bash
# The UDP keyring (docs/SECURITY.md):
#
#  1. n5 has a certificate of the cluster's CA but another keyring: it
#     cannot join (its STATE's MAC names a key nobody has), sees nobody, and
#     nobody sees it;
#  2. a full rotation with `xgossipctl keys` (install, use, remove the old
#     key) while every node keeps changing its tags (gossip traffic from all
#     of them): every node ends with only the new key as primary, nobody is
#     suspected or declared failed, no packet was turned away for want of a
#     key (rx_unsealed 0 everywhere), and every node holds every other
#     node's last tags;
#  3. the keyring survives a restart from the state dir, with mode 0600.
#
# The members run generic XDP, so the kernel answers their PINGs with the
# probe keys of the keyring (primary and secondary slots) through the
# rotation: not one PING may fail its MAC in the kernel.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/xdp_lib.sh"
xg_init "$@"
xg_xdp_init

N=4 OUT=5
xg_net_create $OUT
for ((i = 1; i <= N; i++)); do xg_xdp_start_node $i generic; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"

# --- 1. a node with another keyring -------------------------------------------
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$(xg_dir $OUT)/secret"
xg_mark 1
xg_start_node $OUT
xg_wait_log 1 "pushpull in peer=$(xg_ip4 $OUT):[0-9]+ failed|pushpull in peer=$(xg_ip4 $OUT):[0-9]+ refused" 15 ||
	xg_wait_log $OUT "join attempt 2 failed" 15 ||
	xg_fail "n$OUT with another keyring was not turned away"
sleep 1
for ((i = 1; i <= N; i++)); do
	xg_member $i $OUT status >/dev/null 2>&1 && xg_fail "n$i lists n$OUT (other keyring)"
done
[ "$(xg_ctl $OUT members -o json | xg_json count all)" = 1 ] ||
	xg_fail "n$OUT learned members with another keyring"
xg_kill $OUT TERM; xg_wait_exit $OUT 10
xg_say "n$OUT (another keyring): turned away, sees nobody, seen by nobody"

# --- 2. rotation under traffic --------------------------------------------------
old=$(xg_ctl 1 keys list -o json | xg_json get keys.0.key) || xg_fail "keys list"
new=$(xg_ctl 1 keys generate) || xg_fail "keys generate"
[ ${#new} = 44 ] || xg_fail "keys generate printed '$new'"
xg_mark $(seq 1 $N)
declare -A ans0
for ((i = 1; i <= N; i++)); do ans0[$i]=$(xg_xdp_stat $i ping_answered); done
traffic() {
	local i=$1 k
	for ((k = 1; k <= 60; k++)); do
		xg_ctl $i tags set "seq=$k" >/dev/null 2>&1 || return 1
		sleep 0.1
	done
}
tpids=()
for ((i = 1; i <= N; i++)); do traffic $i & tpids+=($!); done
sleep 0.5
step() {
	local out
	out=$(xg_ctl 1 keys "$@" 2>&1) || xg_fail "keys $1 failed: $out"
	xg_say "keys $1: $out"
	sleep 0.7
}
step install "$new"
step use "$new"
step remove "$old"
for p in "${tpids[@]}"; do wait "$p" || xg_fail "tag traffic failed"; done

list=$(xg_ctl 1 keys list -o json) || xg_fail "keys list after the rotation"
[ "$(xg_json get keys.0.key <<<"$list")" = "$new" ] || xg_fail "the ring is not the new key: $list"
[ "$(xg_json get keys.0.primary <<<"$list")" = $N ] || xg_fail "not primary everywhere: $list"
[ "$(xg_json get keys.0.installed <<<"$list")" = $N ] || xg_fail "not installed everywhere: $list"
xg_json get keys.1 <<<"$list" >/dev/null 2>&1 && xg_fail "the old key is still installed somewhere: $list"
# Gossip still flows with the new key alone: the last tags everywhere.
deadline=$(xg_deadline 10)
for ((i = 1; i <= N; i++)); do
	for ((j = 1; j <= N; j++)); do
		until [ "$(xg_ctl $i members -o json | xg_json tag "$(xg_name $j)" seq)" = 60 ]; do
			xg_past "$deadline" && xg_fail "n$i does not hold n$j's last tags"
			sleep 0.2
		done
	done
done
for ((i = 1; i <= N; i++)); do
	bad=$(xg_grep_log $i "member (suspect|fail) name=")
	[ -z "$bad" ] || xg_fail "n$i suspected or failed a member during the rotation: $bad"
	u=$(xg_info $i stats.rx_unsealed) || xg_fail "info n$i"
	[ "$u" = 0 ] || xg_fail "n$i turned away $u packets for want of a key during the rotation"
done
answered=0
for ((i = 1; i <= N; i++)); do
	read -r a bad <<<"$(xg_xdp_stat $i ping_answered bad_mac)"
	[ "$bad" = 0 ] || xg_fail "n$i's XDP program dropped $bad PINGs for a bad MAC during the rotation"
	answered=$((answered + a - ${ans0[$i]}))
done
[ $answered -gt 0 ] || xg_fail "the kernel answered no PING during the rotation"
xg_say "rotation under traffic: new key primary on all $N, old key gone, no suspicion, no packet refused, last tags everywhere; $answered PINGs answered in the kernel, none with a bad MAC"

# --- 3. the keyring at rest ----------------------------------------------------
f=$(xg_dir 2)/state/keyring.json
[ "$(stat -c %a "$f")" = 600 ] || xg_fail "$f has mode $(stat -c %a "$f"), not 600"
grep -q "$new" "$f" || xg_fail "$f does not hold the new key"
grep -q "$old" "$f" && xg_fail "$f still holds the removed key"
xg_kill 2 TERM; xg_wait_exit 2 10
xg_mark 1
xg_xdp_start_node 2 generic
xg_wait_log 2 "keys: 1 key\\(s\\) from .*keyring.json" 10 || xg_fail "n2 did not load its saved keyring"
xg_wait_log 1 "$(xg_ev '(alive|join)' 2)" 20 || xg_fail "n2 did not rejoin with the rotated key"
xg_say "n2 restarted with the saved keyring (mode 600) and rejoined"
xg_done
