#!/usr/bin/env bash
# xgossipctl against live agents: `tags set` spreads to every member, a
# fresh agent joins through `xgossipctl join`, bad arguments exit 2 and an
# absent agent exits 3.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=5 FRESH=6
xg_net_create $FRESH
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"

# --- tags set -----------------------------------------------------------------
xg_mark $(seq 1 $N)
xg_ctl 2 tags set role=db zone=a >/dev/null || xg_fail "tags set on n2 failed"
xg_wait_log_all 10 "$(xg_ev update 2)" 1 3 4 5 || xg_fail "n2's tag update did not spread"
for ((i = 1; i <= N; i++)); do
	v=$(xg_ctl $i members -o json | xg_json tag n2 role) || xg_fail "n$i: members"
	[ "$v" = db ] || xg_fail "n$i sees n2 role='$v', expected db"
done
xg_say "tags set on n2 is seen by all $N nodes"

# --- join through the CLI -------------------------------------------------------
# Started with no seed: it knows nobody until told.
xg_start_node $FRESH --no-join
xg_wait_log $FRESH 'starting name=' 10 || xg_fail "n$FRESH did not start"
xg_ctl $FRESH join "$(xg_addr 3)" >/dev/null || xg_fail "xgossipctl join failed"
xg_wait_converged 30 $FRESH $(seq 1 $FRESH) || xg_fail "n$FRESH did not join through the CLI"
xg_say "n$FRESH joined through 'xgossipctl join $(xg_addr 3)'"

# --- exit codes ---------------------------------------------------------------------
expect_rc() {
	local want=$1 what=$2; shift 2
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	[ $rc = "$want" ] || xg_fail "$what: exit $rc, expected $want: $out"
}
expect_rc 2 "unknown command" xg_ctl 1 frobnicate
expect_rc 2 "unknown option" xg_ctl 1 members --no-such-option
expect_rc 2 "missing argument" xg_ctl 1 join
expect_rc 3 "no agent at the socket path" \
	"$XG_BIN/xgossipctl" --socket "$XG_TMP/nobody-here.sock" members
xg_kill 4 KILL
xg_wait_exit 4 5 || xg_fail "n4 survived SIGKILL"
expect_rc 3 "dead agent's socket" xg_ctl 4 members
xg_say "exit codes: 2 for usage errors, 3 for an unreachable agent"
xg_done
