#!/bin/sh
# demo-ladder.sh -- channel ladders and pause, against the ARM emulator.
#
#   sh tests/demo-ladder.sh ladder   (make demo-ladder) four weeks of daily
#       runs of a canary:1d stable:7d ladder with weekly node images: the
#       aksnap-channel tag in Azure after each promotion, then a bad canary
#       demoted by hand and the channel falling back
#   sh tests/demo-ladder.sh pause    (make demo-pause) a pool with
#       enabled = no: observed, nothing taken; plan says why, check PAUSED
#
# Uses AKSNAP_BIN and ARMEMU_BIN (set by make); needs curl.  Exits non-zero
# when what it shows is not what it should be.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
AKSNAP_BIN=${AKSNAP_BIN:-$top/build/aksnap}
ARMEMU_BIN=${ARMEMU_BIN:-$top/build/armemu}
what=${1:-ladder}
work=$(mktemp -d /tmp/aksnap-demo.XXXXXX)
# shellcheck source=sh/emu.sh
. "$top/tests/sh/emu.sh"
cleanup() {
	emu_stop
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

say() { printf '\n== %s\n' "$*"; }
show() { printf '$ %s\n' "$*" | sed "s|$AKSNAP_BIN|aksnap|; s|-c $work/aksnap.ini ||"; "$@"; }

emu_start "$work"
printf 'armemu-test-secret' >"$work/secret"
chmod 600 "$work/secret"
emu_config "$work/aksnap.ini" "$work/aksnap.db" "$work/secret"
A="$AKSNAP_BIN -c $work/aksnap.ini"
ctl() { curl -fsS -X POST "$emu_url/_armemu/$1" -d "$2" >/dev/null; }
# The aksnap-channel tag of every aksnap snapshot of staging-system.
tags() {
	curl -fsS "$emu_url/_armemu/state" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["snapshots"]:
    t = s.get("tags") or {}
    if t.get("aksnap-pool") == "staging-system":
        print("  %s  aksnap-channel=%s" % (s["name"], t.get("aksnap-channel", "-")))'
}
day() { # day N: 02:00 UTC of 2026-11-(9+N)
	date -u -d "2026-11-09T02:00:00Z + $1 days" +%Y-%m-%dT%H:%M:%SZ
}
run_day() {
	t=$(day "$1")
	emu_clock "$t"
	$A run --as-of "$t"
}

case $what in
ladder)
	sed -i '/^snapshot_when/a channels      = canary:1d stable:7d' \
		"$work/aksnap.ini"
	say "A ladder: canary after 1 day, stable 7 days after entering canary"
	show $A config check | grep -m1 channels
	for d in $(seq 0 22); do
		if [ "$d" = 0 ] || [ "$d" = 14 ] || [ "$d" = 21 ]; then
			ctl release '{"cluster":"aks-staging","pool":"system"}'
		fi
		run_day "$d"
		case $d in
		1 | 8 | 15 | 22)
			say "Day $d: the tags in Azure"
			tags
			;;
		esac
	done
	tags | grep -q 'aksnap-channel=stable$'
	bad=$($A --json baseline --channel canary | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["baselines"][0]["snapshot"])')
	say "The canary image is bad: demote it by hand"
	emu_clock 2026-12-01T03:00:00Z
	show $A demote "$bad" --as-of 2026-12-01T03:00:00Z
	tags
	tags | grep -q "$bad  aksnap-channel=-"
	show $A baseline --channel canary
	;;
pause)
	sed -i '/^\[pool:prod-batch\]/a enabled = no' "$work/aksnap.ini"
	say "prod-batch is paused (enabled = no)"
	emu_clock "$(day 0)"
	show $A plan --as-of "$(day 0)"
	$A plan --as-of "$(day 0)" | grep -q 'paused: enabled = no'
	run_day 0
	run_day 1
	say "Observed, nothing taken"
	show $A history prod-batch
	show $A list prod-batch
	say "check: PAUSED, not stale"
	show $A check --as-of "$(day 1)" || true
	$A check --as-of "$(day 1)" | grep -q '^PAUSED: prod-batch'
	;;
*)
	echo "usage: sh tests/demo-ladder.sh ladder|pause" >&2
	exit 2
	;;
esac
