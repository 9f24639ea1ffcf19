#!/usr/bin/env bash
# TLS on the TCP streams (docs/SECURITY.md):
#
#  1. n4 holds a certificate from another CA: it cannot join, and the seed
#     logs the refusal and counts it (tls_refused);
#  2. n5 holds a certificate of the cluster's CA, but one issued to n2 (a
#     stolen or misissued certificate): its push/pull is refused because the
#     certificate does not name the node its STATE speaks for;
#  3. SIGHUP makes n2 reload a renewed certificate without dropping out of
#     anyone's membership, and push/pulls keep succeeding.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=3
xg_net_create 5
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"

# --- 1. another CA -----------------------------------------------------------
xg_tls_init "$XG_TMP/tls-other" "$(xg_name 4)"
xg_tls_install "$XG_TMP/tls-other" "$(xg_name 4)" "$(xg_dir 4)/tls"
xg_mark 1
xg_start_node 4
xg_wait_log 1 "pushpull in peer=$(xg_ip4 4):[0-9]+ refused: authentication failed.*(certificate verify failed|could not verify our certificate)" 15 ||
	xg_fail "n1 did not report the foreign certificate"
[ "$(xg_info 1 stats.tls_refused)" -ge 1 ] || xg_fail "n1 did not count the refusal"
xg_say "n4 (certificate of another CA): refused by n1 and reported"

# --- 2. the cluster's CA, someone else's name ---------------------------------
xg_tls_install "$XG_TMP/tls" "$(xg_name 2)" "$(xg_dir 5)/tls"
xg_mark 1
xg_start_node 5
xg_wait_log 1 "pushpull in peer=$(xg_ip4 5):[0-9]+ refused: peer certificate does not name the node it claims to be" 15 ||
	xg_fail "n1 did not refuse n5 posing with n2's certificate"
[ "$(xg_info 1 stats.name_mismatch)" -ge 1 ] || xg_fail "n1 did not count the name mismatch"
xg_say "n5 (n2's certificate): refused by n1 and reported"

sleep 2
for i in 1 2 3; do
	for j in 4 5; do
		if xg_member $i $j status >/dev/null 2>&1; then
			xg_fail "n$i lists n$j, which has no valid certificate for its name"
		fi
	done
done
[ "$(xg_ctl 4 members -o json | xg_json count all)" = 1 ] ||
	xg_fail "n4 learned members without a valid certificate"
xg_say "neither n4 nor n5 is a member anywhere, and n4 knows nobody"
xg_kill 4 TERM; xg_kill 5 TERM
xg_wait_exit 4 10; xg_wait_exit 5 10

# --- 3. renew n2's certificate and SIGHUP --------------------------------------
xg_tls_init "$XG_TMP/tls" "$(xg_name 2)"
cmp -s "$XG_TMP/tls/$(xg_name 2).pem" "$(xg_dir 2)/tls/cert.pem" &&
	xg_fail "tls init did not renew n2's certificate"
xg_tls_install "$XG_TMP/tls" "$(xg_name 2)" "$(xg_dir 2)/tls"
xg_mark 1 2 3
ok0=$(xg_info 2 stats.pushpull_ok)
kill -HUP "$(xg_pid 2)"
xg_wait_log 2 "tls: certificates reloaded" 10 || xg_fail "n2 did not reload on SIGHUP"
# Two push/pull intervals: n2 initiates and is asked, with the new files.
sleep "$(awk -v p="$(xg_ms "$XG_PUSHPULL_INTERVAL")" 'BEGIN { printf "%.1f", 2.5 * p / 1000 }')"
ok1=$(xg_info 2 stats.pushpull_ok)
[ "$ok1" -gt "$ok0" ] || xg_fail "no push/pull succeeded on n2 after the reload"
for i in 1 2 3; do
	bad=$(xg_grep_log $i "member (suspect|fail|leave) name=")
	[ -z "$bad" ] || xg_fail "n$i saw a membership change during the reload: $bad"
done
xg_check_alive_count $N 1 2 3 || xg_fail "members disagree after the reload"
xg_say "n2 reloaded a renewed certificate on SIGHUP: $((ok1 - ok0)) push/pulls since, no membership change"
xg_done
