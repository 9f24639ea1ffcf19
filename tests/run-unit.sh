#!/usr/bin/env bash
# Run every cmocka unit test binary in B/tests and summarise.
#
#   tests/run-unit.sh [B]        B = build directory (default: build)
#   tests/run-unit.sh B NAME..   only the named binaries (test_codec ...)
#
# A binary that cannot run here (needs root, BPF, ...) prints SKIP and exits
# 77.  Under CI=true a skip is a failure: CI machines are expected to be able
# to run everything, so a silent skip there would hide a broken setup.
set -uo pipefail

B=${1:-build}
shift || true
dir="$B/tests"

if [ ! -d "$dir" ]; then
	echo "run-unit: no $dir (build first: make B=$B all)" >&2
	echo "unit: 0 passed, 1 failed"
	exit 1
fi

bins=()
if [ $# -gt 0 ]; then
	for n in "$@"; do bins+=("$dir/$n"); done
else
	for f in "$dir"/test_*; do
		[ -f "$f" ] && [ -x "$f" ] && bins+=("$f")
	done
fi

passed=0 failed=0 skipped=0
failed_names=()
# A test gets a generous bound so a hang shows up as a failure, not a stuck CI.
per_test_timeout=${XG_UNIT_TIMEOUT:-300}

for bin in "${bins[@]}"; do
	name=$(basename "$bin")
	log=$(mktemp)
	start=$(date +%s.%N)
	timeout -k 5 "$per_test_timeout" "$bin" >"$log" 2>&1
	rc=$?
	secs=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }')
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-32s (%ss)\n' "$name" "$secs"
	elif [ $rc -eq 77 ]; then
		reason=$(grep -m1 -i 'skip' "$log" || echo "exit 77")
		if [ "${CI:-}" = true ]; then
			failed=$((failed + 1))
			failed_names+=("$name")
			printf 'FAIL  %-32s skipped under CI=true: %s\n' "$name" "$reason"
		else
			skipped=$((skipped + 1))
			printf 'SKIP  %-32s *** %s ***\n' "$name" "$reason"
		fi
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		if [ $rc -eq 124 ]; then
			printf 'FAIL  %-32s timed out after %ss\n' "$name" "$per_test_timeout"
		else
			printf 'FAIL  %-32s exit %d (%ss)\n' "$name" "$rc" "$secs"
		fi
		# The whole log of a failed test: cmocka output is short and the
		# sanitizer report is what one needs to see.
		sed 's/^/    | /' "$log"
	fi
	rm -f "$log"
done

if [ ${#bins[@]} -eq 0 ]; then
	echo "run-unit: no test binaries in $dir" >&2
fi
[ $failed -gt 0 ] && echo "failed: ${failed_names[*]}"
summary="unit: $passed passed, $failed failed"
[ $skipped -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
[ $failed -eq 0 ]
