#!/bin/sh
# Runs swinstall's tests and prints one summary line "N passed, N failed".
#
# Usage: sh test/run-tests.sh BUILD_DIR [unit|integration]
#   unit         every BUILD_DIR/test/test_* (cmocka binaries), run from the
#                repository root with no arguments
#   integration  every test/integration/test_*.sh with SWINSTALL=BUILD_DIR/swinstall
#                (time limit INTEGRATION_TIMEOUT, or the script's own line
#                "# run-tests: timeout=SECONDS")
#   (default: both, unit tests first)
# Exit status: 0 when nothing failed, 1 otherwise, 2 on bad usage.
#
# Counting: a cmocka binary contributes the N of its "[  PASSED  ] N test(s)."
# and "[  FAILED  ] N test(s), listed below:" lines; a binary that crashes,
# times out or exits non-zero without a FAILED line counts one failure more.
# An integration script contributes its "ok - "/"not ok - " lines; one that
# exits non-zero without any "not ok" line counts one failure more.
set -u

usage() {
	echo "usage: $0 BUILD_DIR [unit|integration]" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
build=$1
what=${2:-all}
case "$what" in unit | integration | all) ;; *) usage ;; esac

# BUILD_DIR is taken relative to where we were called from; everything then
# runs from the repository root (test binaries expect it).
build=$(cd "$build" 2>/dev/null && pwd) || { echo "run-tests: no directory $1" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2

# A hung test must not hang the run: each one gets a time limit (seconds).
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
INTEGRATION_TIMEOUT=${INTEGRATION_TIMEOUT:-300}

passed=0
failed=0
child=
log=$(mktemp "${TMPDIR:-/tmp}/swinstall-run.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT
# coreutils timeout runs its command in a process group of its own, which a
# ^C on the terminal does not reach: pass the signal on (timeout forwards it
# to its whole group, so the scripts' own clean-up traps run).
trap 'if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null; wait "$child"; fi; exit 130' INT TERM HUP

# with_timeout SECONDS CMD...: CMD with a time limit, in the background so
# that a signal interrupts the wait.
with_timeout() {
	t=$1
	shift
	if command -v timeout >/dev/null 2>&1; then
		timeout -k 10 "$t" "$@" &
	else
		"$@" &
	fi
	child=$!
	wait "$child"
	rc=$?
	child=
	return "$rc"
}

# sum_field PATTERN: sum of the numbers after PATTERN in $log.
sum_field() {
	sed -n "s/^$1 *\([0-9][0-9]*\) test.*/\1/p" "$log" | awk '{ s += $1 } END { print s + 0 }'
}

run_unit() {
	found=0
	for bin in "$build"/test/test_*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		found=1
		name=$(basename "$bin")
		echo "== $name"
		with_timeout "$UNIT_TIMEOUT" "$bin" >"$log" 2>&1
		rc=$?
		cat "$log"
		p=$(sum_field '\[  PASSED  \]')
		f=$(sum_field '\[  FAILED  \]')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			# crashed, timed out, or failed in setup: count the binary as failed
			echo "!! $name exited with status $rc (crash, timeout or setup failure)"
			f=$((f + 1))
		fi
		passed=$((passed + p))
		failed=$((failed + f))
	done
	if [ "$found" -eq 0 ]; then
		echo "!! no unit test binaries in $build/test (run 'make' first)"
		failed=$((failed + 1))
	fi
}

run_integration() {
	if [ ! -x "$build/swinstall" ]; then
		echo "!! $build/swinstall not found (run 'make' first)"
		failed=$((failed + 1))
		return
	fi
	for script in test/integration/test_*.sh; do
		[ -f "$script" ] || continue
		echo "== $script"
		# A script that needs longer says so in a line "# run-tests: timeout=N".
		limit=$(sed -n 's/^# run-tests: timeout=\([0-9][0-9]*\)$/\1/p' "$script" | head -n 1)
		SWINSTALL="$build/swinstall" with_timeout "${limit:-$INTEGRATION_TIMEOUT}" sh "$script" >"$log" 2>&1
		rc=$?
		cat "$log"
		p=$(grep -c '^ok - ' "$log")
		f=$(grep -c '^not ok - ' "$log")
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			echo "!! $script exited with status $rc without a 'not ok' line"
			f=1
		fi
		passed=$((passed + p))
		failed=$((failed + f))
	done
}

case "$what" in
unit) run_unit ;;
integration) run_integration ;;
all) run_unit; run_integration ;;
esac

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
