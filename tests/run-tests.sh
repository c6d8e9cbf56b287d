#!/bin/sh
# run-tests.sh TEST... -- run every test program (cmocka binaries or
# tests/sh/*.sh scripts), show their output, and end with one line
# "N passed, N failed" counting the programs.  Exit 1 if any failed.
#
# TEST_WRAPPER (e.g. valgrind) prefixes each cmocka binary.
set -u
passed=0
failed=0
failed_names=""
for t in "$@"; do
	echo "== $t"
	case "$t" in
	*.sh) sh "$t" ;;
	*) ${TEST_WRAPPER:-} "$t" ;;
	esac
	rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $t"
		echo "== FAILED: $t (exit $rc)"
	fi
done
[ -z "$failed_names" ] || echo "failed programs:$failed_names"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
