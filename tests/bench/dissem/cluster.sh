#!/usr/bin/env bash
# One cluster of the dissemination benchmark (called by run.sh):
#
#   cluster.sh BIN SYSTEM N OUT
#
# Starts N agents of SYSTEM (serf, xdp, off; tests/bench/accuracy/lib_acc.sh)
# in fresh namespaces with the LAN timings, waits until every node sees
# every other alive and DISSEM_SETTLE_S more (the joins' gossip dies
# down), then hands over to driver.py, which measures a quiet baseline and
# the broadcasts (see there).  Every Serf agent runs an event handler for
# user events, the cheapest there is: one line of sh that appends the
# event's name to a file (Serf starts /bin/sh -c for every event).  The
# time Serf received an event comes from its log line ("agent: Received
# event", written just before it starts the handler), stamped on arrival
# by the accuracy benchmark's stamp.py.
#
# Leaves in OUT/SYSTEM-nN/: config.json, result.json (driver.py) and the
# agents' logs (logs/).  Namespaces, agents, XDP pins and the Serf log
# stamper are removed on any exit (the harnesses' traps).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../ns/lib.sh"
. "$here/../accuracy/lib_acc.sh"
xg_init "$@"
SYS=$2 N=$3 OUT=$4
DIR=$OUT/$SYS-n$N

# The LAN defaults of both systems, as in the accuracy benchmark.
export XG_PROBE_INTERVAL=1s XG_PROBE_TIMEOUT=500ms XG_INDIRECT_CHECKS=3
export XG_GOSSIP_INTERVAL=200ms XG_GOSSIP_NODES=3 XG_SUSPICION_MULT=4
export XG_RETRANSMIT_MULT=4 XG_PUSHPULL_INTERVAL=30s XG_LEAVE_TIMEOUT=2s

: "${DISSEM_MESSAGES:=200}" "${DISSEM_RATE:=10}" "${DISSEM_PAYLOAD:=100}"
: "${DISSEM_BASELINE_S:=10}" "${DISSEM_SETTLE_S:=5}" "${DISSEM_TAIL_S:=3}"
: "${DISSEM_DRAIN_S:=20}" "${DISSEM_SEED:=6}" "${DISSEM_SEND:=rpc}"

mkdir -p "$DIR"
acc_setup "$SYS" "$DIR/logs"
xg_net_create "$N"
xg_say "$SYS N=$N: network made"
# Extra xgossipd flags (DISSEM_XG_FLAGS, e.g. "--msg-fanout 4"): for
# experiments; run.sh publishes no run that uses them.
# shellcheck disable=SC2206
ACC_XG_FLAGS+=(${DISSEM_XG_FLAGS:-})

# dis_start_serf i: lib_acc.sh's Serf agent, with an event handler that
# records every user event the node gets.
dis_start_serf() {
	local d
	d=$(xg_dir "$1")
	: >"$d/recv.txt"
	acc_start_serf "$1" -event-handler "user=echo \"\$SERF_USER_EVENT\" >>$d/recv.txt"
}

if [ "$SYS" = serf ]; then
	ACC_SERF_KEY=$(head -c 32 /dev/urandom | base64)
	acc_start_stamper "$N"
	dis_start_serf 1
	xg_wait_log 1 "serf: EventMemberJoin: n1 " 20 || xg_fail "serf n1 did not start"
	for ((i = 2; i <= N; i++)); do dis_start_serf "$i"; done
else
	acc_start_all "$N"
fi
xg_say "$SYS N=$N: agents started"
acc_wait_converged "$N" 90 || xg_fail "$SYS N=$N: no convergence"
xg_say "$SYS N=$N: converged"
acc_sleep "$DISSEM_SETTLE_S"

# The driver's configuration: every node's namespace, agent pid, control
# socket (xgossipd) or handler file (Serf).
{
	printf '{"system":"%s","hub":"%s","out":"%s","xgossipctl":"%s",' \
		"$SYS" "$(xg_hub)" "$DIR" "$XG_BIN/xgossipctl"
	printf '"messages":%d,"rate":%s,"payload":%d,"baseline_s":%s,"tail_s":%s,"drain_s":%s,"seed":%d,"send":"%s",' \
		"$DISSEM_MESSAGES" "$DISSEM_RATE" "$DISSEM_PAYLOAD" "$DISSEM_BASELINE_S" \
		"$DISSEM_TAIL_S" "$DISSEM_DRAIN_S" "$DISSEM_SEED" "$DISSEM_SEND"
	printf '"nodes":['
	for ((i = 1; i <= N; i++)); do
		[ "$i" -gt 1 ] && printf ','
		printf '{"i":%d,"name":"%s","ns":"%s","pid":%d,"sock":"%s","recv":"%s"}' \
			"$i" "$(xg_name "$i")" "$(xg_ns "$i")" "$(xg_pid "$i")" "$(xg_sock "$i")" \
			"$(xg_dir "$i")/recv.txt"
	done
	printf ']}\n'
} >"$DIR/config.json"

acc_bg python3 -B "$here/driver.py" "$DIR/config.json"
rc=$?
echo "$ACC_OUT"
[ $rc = 0 ] || xg_fail "$SYS N=$N: driver failed"
# Every agent must have lived through it: a crash would void the numbers.
for ((i = 1; i <= N; i++)); do
	xg_running "$i" || xg_fail "$SYS N=$N: n$i is not running at the end"
done
xg_done
