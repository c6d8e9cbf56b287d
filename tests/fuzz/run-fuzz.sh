#!/bin/sh
# run-fuzz.sh BUILD TARGET... -- build and run libFuzzer targets (`make fuzz`).
#
# For each TARGET (a name such as "arm" for tests/fuzz/fuzz_arm.c): compile
# it with $FUZZ_CC -fsanitize=fuzzer,address,undefined against
# BUILD/libaksnap.a (which the Makefile has built with the same compiler and
# -fsanitize=fuzzer-no-link, so the library is coverage-instrumented too),
# then fuzz it for $FUZZ_SECONDS seconds.  New inputs go to
# BUILD/fuzz/corpus/TARGET (tests/fuzz/corpus/TARGET is read, never
# written); a crash is saved as BUILD/fuzz/artifacts/TARGET-crash-<sha1>.
# Every target runs even after one crashes; the summary line of each says
# how many executions ran and the final coverage.  Exit 1 if any crashed.
#
# Environment: FUZZ_CC (clang), FUZZ_SECONDS (60), FUZZ_CFLAGS and
# FUZZ_LIBS (the pkg-config flags), FUZZ_ARGS (extra libFuzzer flags).
set -u
build=$1
shift
cc=${FUZZ_CC:-clang}
secs=${FUZZ_SECONDS:-60}
out=$build/fuzz
mkdir -p "$out/artifacts"
failed=""
summary=""
for t in "$@"; do
	src=tests/fuzz/fuzz_$t.c
	bin=$out/fuzz_$t
	if [ ! -e "$src" ]; then
		echo "run-fuzz: no $src" >&2
		exit 2
	fi
	echo "  FUZZCC  $bin"
	# shellcheck disable=SC2086 # the flag variables are lists
	if ! $cc -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	    -I. ${FUZZ_CFLAGS:-} "$src" "$build/libaksnap.a" \
	    ${FUZZ_LIBS:-} -o "$bin"; then
		exit 2
	fi
	mkdir -p "$out/corpus/$t"
	echo "  FUZZ    $t for ${secs}s"
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$out/artifacts/$t-" ${FUZZ_ARGS:-} \
	    "$out/corpus/$t" "tests/fuzz/corpus/$t" >"$out/$t.log" 2>&1
	rc=$?
	stats=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|pulse|NEW|REDUCE)' \
	    "$out/$t.log" | tail -n 1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
	cov=$(echo "$stats" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
	ft=$(echo "$stats" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
	corp=$(echo "$stats" | sed -n 's/.* corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
	line="$t: rc=$rc execs=${execs:-?} cov=${cov:-?} ft=${ft:-?} corpus=${corp:-?}"
	if [ "$rc" -ne 0 ]; then
		failed="$failed $t"
		line="$line CRASH (see $out/$t.log)"
		grep -E 'ERROR: |runtime error|invariant violated|Test unit written' \
		    "$out/$t.log" | head -n 5 | sed 's/^/    /'
	fi
	echo "  $line"
	summary="$summary
  $line"
done
echo "fuzz summary:$summary"
if [ -n "$failed" ]; then
	echo "fuzz: crashes in:$failed (replay one with: $out/fuzz_NAME FILE)"
	exit 1
fi
