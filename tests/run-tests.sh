#!/bin/sh
# run-tests.sh TEST... -- run every test program (cmocka binaries or
# tests/sh/*.sh scripts), show their output, and end with one line
# "N passed, N failed, N skipped" counting test cases:
#
#   cmocka    its "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" /
#             "[  SKIPPED ] N test(s)" summaries (summed over its groups);
#   scripts   TAP-style lines: "ok - ...", "not ok - ...", and
#             "ok - ... # SKIP reason" for a skip.
#
# A program that exits non-zero with no failed case counted (a crash, a
# script that died) counts one failure; one that exits 0 and reports no
# case counts one pass.  Skips are listed by program before the summary,
# so that a missing tool never hides behind a green line.  Exit 1 if any
# failed.
#
# TEST_WRAPPER (e.g. valgrind) prefixes each cmocka binary.
set -u
passed=0
failed=0
skipped=0
failed_names=""
skipped_names=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for t in "$@"; do
	echo "== $t"
	# Into a file, then shown: a pipe would wait for every process that
	# inherited it (a test's stray background child) before going on.
	case "$t" in
	*.sh) sh "$t" >"$log" 2>&1 ;;
	*) ${TEST_WRAPPER:-} "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	cat "$log"
	# One line of three numbers: passed failed skipped, for this program.
	counts=$(awk '
		/^\[  PASSED  \] [0-9]+ test/ { p += $4 }
		/^\[  FAILED  \] [0-9]+ test/ { f += $4 }
		/^\[  SKIPPED \] [0-9]+ test/ { s += $4 }
		/^ok / && /# SKIP/ { s++; next }
		/^ok / { p++ }
		/^not ok / { f++ }
		END { printf "%d %d %d\n", p, f, s }' "$log")
	p=${counts%% *}
	rest=${counts#* }
	f=${rest%% *}
	s=${rest#* }
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$rc" -eq 0 ] && [ $((p + f + s)) -eq 0 ]; then
		p=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$rc" -ne 0 ] || [ "$f" -gt 0 ]; then
		failed_names="$failed_names $t"
		echo "== FAILED: $t (exit $rc)"
	fi
	if [ "$s" -gt 0 ]; then
		skipped_names="$skipped_names $t($s)"
	fi
done
[ -z "$skipped_names" ] || echo "skipped in:$skipped_names"
[ -z "$failed_names" ] || echo "failed programs:$failed_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
