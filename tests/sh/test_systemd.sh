#!/bin/sh
# test_systemd.sh -- the shipped units pass `systemd-analyze verify` and the
# service's exposure is "OK" or better (at most 2.9).  Skipped (a TAP
# "# SKIP" line, counted by make check) when systemd-analyze is missing.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "ok - systemd units # SKIP systemd-analyze not installed"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$top/systemd/aksnap.service" "$top/systemd/aksnap.timer" "$tmp/"
# verify checks that ExecStart= exists: point it at the built binary.
bin=${AKSNAP_BIN:-$top/build/aksnap}
sed -i "s|/usr/local/bin/aksnap|$bin|" "$tmp/aksnap.service"
fail=0
if ! out=$(cd "$tmp" && systemd-analyze verify --man=no ./aksnap.service ./aksnap.timer 2>&1); then
	echo "not ok - systemd-analyze verify: $out"
	fail=1
elif [ -n "$out" ]; then
	echo "not ok - systemd-analyze verify printed: $out"
	fail=1
else
	echo "ok - systemd-analyze verify is clean"
fi
score=$(cd "$tmp" && systemd-analyze security --offline=true ./aksnap.service 2>/dev/null |
	sed -n 's/.*Overall exposure level for aksnap.service: \([0-9.]*\).*/\1/p')
if [ -z "$score" ]; then
	echo "not ok - no exposure score from systemd-analyze security"
	fail=1
elif awk -v s="$score" 'BEGIN { exit !(s <= 2.9) }'; then
	echo "ok - exposure $score <= 2.9"
else
	echo "not ok - exposure $score > 2.9"
	fail=1
fi
exit "$fail"
