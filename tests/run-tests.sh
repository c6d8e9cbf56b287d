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
# TEST_JOBS (default 1) programs run at once: each test program starts its
# own emulators on ports the system picks and works in its own temporary
# directory, so they do not meet; the tests assert request and row counts,
# never wall time.  Each program's output is shown whole, in the order
# given, as soon as it and every one before it have ended, followed by
# its CPU and wall seconds ("== name: 1.2 s wall, 0.8 s CPU").
#
# TEST_WRAPPER (e.g. valgrind) prefixes each cmocka binary.
set -u
jobs=${TEST_JOBS:-1}
case "$jobs" in
'' | *[!0-9]* | 0) jobs=1 ;;
esac
passed=0
failed=0
skipped=0
failed_names=""
skipped_names=""
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# Run each program as "N PATH" lines come in: its output into
# $dir/N.log (a file, not a pipe: a pipe would wait for every process
# that inherited it, a test's stray background child), then its exit code
# and times into $dir/N.rc (written last: its presence says "ended").
# The CPU is the shell's `times` after the program (its children's user
# and system time; not in a pipe, whose subshell has no children).
runner='
d=$1
n=$2
t=$3
start=$(date +%s.%N)
case "$t" in
*.sh) sh "$t" >"$d/$n.log" 2>&1 ;;
*) ${TEST_WRAPPER:-} "$t" >"$d/$n.log" 2>&1 ;;
esac
rc=$?
end=$(date +%s.%N)
times >"$d/$n.times"
cpu=$(awk "NR == 2 { for (i = 1; i <= 2; i++) { s = \$i; m = s; sub(/m.*/, \"\", m); sub(/^[0-9]+m/, \"\", s); sub(/s$/, \"\", s); c += m * 60 + s } } END { printf \"%.1f\", c }" "$d/$n.times")
wall=$(awk -v a="$start" -v b="$end" "BEGIN { printf \"%.1f\", b - a }")
echo "$rc $wall $cpu" >"$d/$n.rc.tmp"
mv "$d/$n.rc.tmp" "$d/$n.rc"
'
i=0
for t in "$@"; do
	i=$((i + 1))
	printf '%s %s\n' "$i" "$t"
done | xargs -P "$jobs" -L 1 sh -c "$runner" sh-run-test "$dir" \
	>"$dir/xargs.log" 2>&1 &
xargs_pid=$!

i=0
for t in "$@"; do
	i=$((i + 1))
	echo "== $t"
	while [ ! -e "$dir/$i.rc" ]; do
		if ! kill -0 "$xargs_pid" 2>/dev/null && [ ! -e "$dir/$i.rc" ]; then
			echo "run-tests.sh: $t was never run" >"$dir/$i.log"
			echo "127 0 0" >"$dir/$i.rc"
			break
		fi
		sleep 0.2
	done
	read -r rc wall cpu <"$dir/$i.rc"
	log="$dir/$i.log"
	cat "$log"
	echo "== $t: $wall s wall, $cpu s CPU"
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
wait "$xargs_pid" 2>/dev/null
[ -z "$skipped_names" ] || echo "skipped in:$skipped_names"
[ -z "$failed_names" ] || echo "failed programs:$failed_names"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
