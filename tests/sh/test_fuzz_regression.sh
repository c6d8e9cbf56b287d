#!/bin/sh
# test_fuzz_regression.sh -- replay every fuzz corpus as a regression test.
#
# Each tests/fuzz/fuzz_X.c is built by `make check` with the usual compiler
# and flags, linked with tests/fuzz/driver.c, into $FUZZ_BIN_DIR/fuzz_X
# (default build/tests/fuzz); this runs it over tests/fuzz/corpus/X/, the
# seeds plus every input that once crashed.  Under `make check-sanitize` the
# binaries are ASan/UBSan builds, so a memory error fails here too.  One
# "ok"/"not ok" line per target; a failure shows the end of its output
# (the driver names each input before running it).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bindir=${FUZZ_BIN_DIR:-$top/build/tests/fuzz}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
count=0
for src in "$top"/tests/fuzz/fuzz_*.c; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .c)
	short=${name#fuzz_}
	bin=$bindir/$name
	corpus=$top/tests/fuzz/corpus/$short
	count=$((count + 1))
	if [ ! -x "$bin" ]; then
		echo "not ok - $name: $bin not built"
		fail=1
		continue
	fi
	if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
		echo "not ok - $name: no corpus in tests/fuzz/corpus/$short"
		fail=1
		continue
	fi
	n=$(ls -A "$corpus" | wc -l)
	if "$bin" "$corpus" >"$tmp/$name.log" 2>&1; then
		echo "ok - $name survives its $n corpus inputs"
	else
		echo "not ok - $name failed on its corpus (exit $?); last output:"
		tail -n 30 "$tmp/$name.log" | sed 's/^/#   /'
		fail=1
	fi
done
if [ "$count" -eq 0 ]; then
	echo "not ok - no tests/fuzz/fuzz_*.c targets found"
	fail=1
fi
exit "$fail"
