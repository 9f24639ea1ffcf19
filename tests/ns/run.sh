#!/usr/bin/env bash
# Run the namespace cluster tests one after another and summarise.
#
#   tests/ns/run.sh [B] [test_name ...]   B = build dir (default build)
#   XG_NS_TESTS="test_cli test_fail_sigkill" tests/ns/run.sh build
#
# Each test gets a time bound (XG_TEST_TIMEOUT, lib.sh) and cleans up after
# itself.  A test's output is shown only when it fails (XG_VERBOSE=1: always),
# followed by the tail of every agent log.  Exit 77 from a test is SKIP; under
# CI=true a skip is a failure, because CI must be able to run everything.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
B=${1:-build}
shift || true

names=("$@")
if [ ${#names[@]} = 0 ] && [ -n "${XG_NS_TESTS:-}" ]; then
	read -r -a names <<<"$XG_NS_TESTS"
fi
tests=()
if [ ${#names[@]} = 0 ]; then
	for t in "$here"/test_*.sh; do [ -f "$t" ] && tests+=("$t"); done
else
	for n in "${names[@]}"; do
		n=${n%.sh}
		[ -f "$here/$n.sh" ] || { echo "ns: no test $n" >&2; exit 2; }
		tests+=("$here/$n.sh")
	done
fi

# Ctrl-C: the running test cleans up (its own trap); then stop, do not go
# on to the next test.
trap 'echo "ns: interrupted"; exit 130' INT TERM
passed=0 failed=0 skipped=0
failed_names=()
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for t in "${tests[@]}"; do
	name=$(basename "$t" .sh)
	start=$EPOCHREALTIME
	if [ "${XG_VERBOSE:-0}" = 1 ]; then
		echo "=== $name"
		bash "$t" "$B" 2>&1 | tee "$out"
		rc=${PIPESTATUS[0]}
	else
		bash "$t" "$B" >"$out" 2>&1
		rc=$?
	fi
	secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	if [ $rc = 0 ]; then
		passed=$((passed + 1))
		printf 'PASS  %-28s (%ss)\n' "$name" "$secs"
	elif [ $rc = 77 ]; then
		reason=$(grep -m1 '^SKIP:' "$out" | sed 's/ *\**$//')
		if [ "${CI:-}" = true ]; then
			failed=$((failed + 1))
			failed_names+=("$name")
			printf 'FAIL  %-28s skipped under CI=true: %s\n' "$name" "$reason"
		else
			skipped=$((skipped + 1))
			printf 'SKIP  %-28s *** %s ***\n' "$name" "$reason"
		fi
	else
		failed=$((failed + 1))
		failed_names+=("$name")
		why="exit $rc"
		[ $rc = 124 ] || [ $rc = 143 ] && why="exit $rc (time bound)"
		printf 'FAIL  %-28s %s (%ss)\n' "$name" "$why" "$secs"
		[ "${XG_VERBOSE:-0}" = 1 ] || sed 's/^/    | /' "$out"
	fi
done

[ $failed -gt 0 ] && echo "failed: ${failed_names[*]}"
summary="ns: $passed passed, $failed failed"
[ $skipped -gt 0 ] && summary+=", $skipped skipped"
echo "$summary"
[ $failed = 0 ]
