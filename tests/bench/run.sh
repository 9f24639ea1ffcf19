#!/usr/bin/env bash
# All benchmarks, one after another.  Each script takes the build dir and
# writes its results under B/bench/.
#
#   tests/bench/run.sh [B]
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
B=${1:-build}
if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (network namespaces)" >&2
	exit 1
fi
rc=0
for b in convergence.sh; do
	echo "=== $b"
	bash "$here/$b" "$B" || rc=1
done
echo "=== probe.sh"; bash "$here/probe.sh" "$B" || rc=1
echo "=== dissem/run.sh"; bash "$here/dissem/run.sh" "$B" || rc=1
exit $rc
