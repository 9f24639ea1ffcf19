#!/usr/bin/env bash
# 8 agents on IPv4, all joining n1: every node's `members` lists 8 alive.
set -uo pipefail
. "$(dirname "$0")/lib.sh"
xg_init "$@"

N=8
xg_net_create $N
xg_say "starting $N agents on IPv4, all joining n1 ($(xg_addr 1))"
for ((i = 1; i <= N; i++)); do xg_start_node $i; done
xg_wait_converged 30 $N $(seq 1 $N) || xg_fail "cluster did not converge"
xg_say "converged: every node lists $N alive members"

# Each node's table holds the IPv4 addresses the others advertised.
for ((i = 2; i <= N; i++)); do
	a=$(xg_member 1 $i addr) || xg_fail "n1 cannot describe n$i"
	[ "$a" = "$(xg_addr $i)" ] || xg_fail "n1 lists n$i at '$a', expected $(xg_addr $i)"
done
xg_done
