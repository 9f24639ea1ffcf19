#!/usr/bin/env bash
# One cluster of the accuracy benchmark (called by run.sh):
#
#   phases.sh B SYSTEM N PHASES OUT
#
# Starts N agents of SYSTEM (serf, xdp, off) in fresh namespaces, waits
# until every node sees every other alive, then runs the PHASES (a
# comma-separated list, in order) and appends what it did, with the
# harness's wall-clock times, to OUT/runlog.tsv.  It counts nothing
# itself: summarize.py reads the agent logs, copied to
# OUT/logs/SYSTEM-nN[-TAG]/, against these times afterwards.
#
#   steady     ACC_STEADY_S seconds of nothing: eth0 bytes and agent memory
#              (VmRSS, RssAnon, Pss)
#   stop       for each burst length in ACC_BURSTS, ACC_STALL_S seconds of
#              SIGSTOP/SIGCONT bursts on the last ACC_SLOW nodes
#   throttle   for each quota in ACC_QUOTAS (us per 1 s), ACC_THROTTLE_S
#              seconds with the last ACC_SLOW nodes in one CPU-limited cgroup
#   partition  the bridge split in halves for ACC_PART_S s, then healed;
#              until every node sees all N alive again (ACC_HEAL_T at most)
#   detect     ACC_REPS times: SIGKILL one node (the highest still running),
#              until every other node declared it failed
#
# Runlog rows (tab-separated): system n tag phase param t0 t1 nodes value...
# After a stress phase, t1 is when the cluster was quiet again (ACC_QUIET s
# without suspicion or failure), so late consequences are counted too.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../ns/lib.sh"
. "$here/lib_acc.sh"
xg_init "$@"
SYS=$2 N=$3 PHASES=$4 OUT=$5 TAG=${ACC_TAG:-}

# The LAN defaults of both systems: memberlist's DefaultLANConfig is what
# Serf's "lan" profile uses, and xgossipd's defaults are the same numbers.
export XG_PROBE_INTERVAL=1s XG_PROBE_TIMEOUT=500ms XG_INDIRECT_CHECKS=3
export XG_GOSSIP_INTERVAL=200ms XG_GOSSIP_NODES=3 XG_SUSPICION_MULT=4
export XG_RETRANSMIT_MULT=4 XG_PUSHPULL_INTERVAL=30s XG_LEAVE_TIMEOUT=2s

: "${ACC_STEADY_S:=30}" "${ACC_BURSTS:=1 2 3}" "${ACC_STALL_S:=60}"
: "${ACC_QUOTAS:=1000 2000}" "${ACC_THROTTLE_S:=120}" "${ACC_SLOW:=2}"
: "${ACC_PART_S:=30}" "${ACC_HEAL_T:=90}" "${ACC_REPS:=5}" "${ACC_QUIET:=5}"
: "${ACC_SETTLE_T:=60}"

acc_setup "$SYS" "$OUT/logs/$SYS-n$N${TAG:+-$TAG}"

now() { echo "$EPOCHREALTIME"; }
rec() {
	local IFS=$'\t'
	echo "$SYS	$N	${TAG:--}	$*" >>"$OUT/runlog.tsv"
}
csv_nodes() { local IFS=,; echo "$*"; }

# The stressed nodes: the last ACC_SLOW.  Not n1, which everyone joined.
SLOW=()
for ((i = N - ACC_SLOW + 1; i <= N; i++)); do SLOW+=("$i"); done
ALL=($(seq 1 "$N"))

# settle: until the cluster is whole and quiet; ACC_T: the end time.  A
# cluster that does not settle is recorded, not fatal: what happened is
# in the logs and the counts will show it.
ACC_T=
settle() {
	if ! acc_wait_stable "$N" "$ACC_QUIET" "$ACC_SETTLE_T" "${ALL[@]}"; then
		xg_say "$SYS: cluster not quiet after ${ACC_SETTLE_T}s"
		rec unsettled - "$(now)" "$(now)" -
	fi
	ACC_T=$(now)
}

xg_net_create "$N"
acc_start_all "$N"
acc_wait_converged "$N" 90 || xg_fail "$SYS N=$N: no convergence"
xg_say "$SYS N=$N: converged"
settle

phase_steady() {
	local i t0 t1 v
	declare -A b0=() b1=()
	acc_link_stats "$XG_TMP/links0.json" || xg_fail "link stats"
	t0=$(now)
	acc_sleep "$ACC_STEADY_S"
	t1=$(now)
	acc_link_stats "$XG_TMP/links1.json" || xg_fail "link stats"
	while read -r i v; do b0[$i]=$v; done < <(acc_bytes_of "$XG_TMP/links0.json")
	while read -r i v; do b1[$i]=$v; done < <(acc_bytes_of "$XG_TMP/links1.json")
	for i in "${ALL[@]}"; do
		[ -n "${b0[$i]:-}" ] && [ -n "${b1[$i]:-}" ] || xg_fail "no byte counters for p$i"
		rec steady - "$t0" "$t1" "$i" $((b1[$i] - b0[$i])) $(acc_mem_kb "$i")
	done
	xg_say "$SYS: steady state measured"
}

phase_stop() {
	local b i t0 t1
	for b in $ACC_BURSTS; do
		t0=$(now)
		for i in "${SLOW[@]}"; do acc_stall_start "$i" "$b" "$ACC_STALL_S"; done
		acc_stall_wait
		settle
		t1=$ACC_T
		rec stop "$b" "$t0" "$t1" "$(csv_nodes "${SLOW[@]}")"
		xg_say "$SYS: stop bursts of ${b}s done"
	done
}

phase_throttle() {
	local q t0 t1
	for q in $ACC_QUOTAS; do
		t0=$(now)
		acc_throttle "$q" 1000000 "${SLOW[@]}"
		acc_sleep "$ACC_THROTTLE_S"
		acc_cg_remove
		settle
		t1=$ACC_T
		rec throttle "$q" "$t0" "$t1" "$(csv_nodes "${SLOW[@]}")"
		xg_say "$SYS: throttle ${q}us/1s done"
	done
}

phase_partition() {
	local half=$((N / 2)) t0 th t1 back
	t0=$(now)
	acc_split "$half"
	acc_sleep "$ACC_PART_S"
	acc_heal
	th=$(now)
	if acc_wait_stable "$N" 2 "$ACC_HEAL_T" "${ALL[@]}"; then
		back=$ACC_OUT
		t1=$(now)
		rec partition "$ACC_PART_S" "$t0" "$t1" "$half" "$th" "$back"
		xg_say "$SYS: partition healed"
	else
		t1=$(now)
		rec partition "$ACC_PART_S" "$t0" "$t1" "$half" "$th" nan
		xg_say "$SYS: partition NOT healed within ${ACC_HEAL_T}s"
	fi
}

# kill_and_detect PHASE SIGNAL WHAT: ACC_REPS times, send SIGNAL to the
# highest-numbered node still running and record how long until every other
# node declared it failed.  Each repetition sees one node fewer.
kill_and_detect() {
	local phase=$1 sig=$2 what=$3 r v tk alive=("${ALL[@]}") others res
	for ((r = 1; r <= ACC_REPS; r++)); do
		v=${alive[-1]}
		unset 'alive[-1]'
		others=("${alive[@]}")
		sleep 2
		tk=$(now)
		xg_kill "$v" "$sig"
		if acc_wait_fail "$v" "$tk" 90 "${others[@]}"; then
			res=$ACC_OUT
			rec "$phase" "$r" "$tk" "$(now)" "$v" $res
			xg_say "$SYS N=$N: ${what}n$v detected ($res)"
		else
			rec "$phase" "$r" "$tk" "$(now)" "$v" nan nan
			xg_say "$SYS N=$N: ${what}n$v NOT detected everywhere in 90s"
		fi
		if [ "$sig" != KILL ]; then
			xg_kill "$v" KILL # a stopped process takes SIGKILL
			xg_wait_exit "$v" 5
		fi
	done
}

phase_detect() { kill_and_detect detect KILL ""; }

# As detect, but the agent hangs (SIGSTOP) instead of dying: with XDP the
# kernel answers for it until its heartbeat is older than the liveness
# window, then the ordinary detection runs.  The stopped agent is killed
# once detected.
phase_hang() { kill_and_detect hang STOP "hung "; }

IFS=, read -r -a plist <<<"$PHASES"
for p in "${plist[@]}"; do
	declare -F "phase_$p" >/dev/null || xg_fail "unknown phase $p"
done
for p in "${plist[@]}"; do
	"phase_$p"
done
xg_done
