#!/bin/bash
# test_completion.sh -- completion/aksnap.bash completes what the binary
# says: commands and their options from --help, subcommands, the values an
# option lists, pool names from the configuration (-c FILE or
# $AKSNAP_CONFIG) and snapshot names from the store, which a run against
# the emulator has filled.  Each case sets COMP_WORDS/COMP_CWORD as bash
# does on TAB, calls the completion function and compares COMPREPLY.
[ -n "${BASH_VERSION-}" ] || exec bash "$0" "$@"
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
AKSNAP_BIN=${AKSNAP_BIN:-$top/build/aksnap}
# shellcheck source=emu.sh
. "$top/tests/sh/emu.sh"
tmp=$(mktemp -d)
trap 'emu_stop; rm -rf "$tmp"' EXIT
fail=0

# shellcheck source=../../completion/aksnap.bash
. "$top/completion/aksnap.bash"

# complete WORD... -- COMPREPLY for the last word, sorted, space-joined.
complete_line() {
	COMP_WORDS=("$AKSNAP_BIN" "$@")
	COMP_CWORD=$#
	COMPREPLY=()
	_aksnap
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}

expect() {
	local want=$1 got
	shift
	got=$(complete_line "$@")
	if [ "$got" = "$want" ]; then
		echo "ok - aksnap $* -> $want"
	else
		echo "not ok - aksnap $*: want '$want', got '$got'"
		fail=1
	fi
}

# expect_has WORDS LINE...: every one of WORDS is offered.
expect_has() {
	local want=$1 got w
	shift
	got=" $(complete_line "$@") "
	for w in $want; do
		if [ "${got#* "$w" }" = "$got" ]; then
			echo "not ok - aksnap $*: '$w' not offered in '$got'"
			fail=1
			return
		fi
	done
	echo "ok - aksnap $* offers $want"
}

# Commands, all of them and by prefix.
ncmd=$("$AKSNAP_BIN" --help | sed -n '/^Commands:/,/^$/p' | grep -c '^  [a-z]')
got=$(complete_line "" | wc -w)
if [ "$got" -eq "$ncmd" ] && [ "$ncmd" -ge 18 ]; then
	echo "ok - aksnap <TAB> offers all $ncmd commands"
else
	echo "not ok - aksnap <TAB> offers $got words, --help lists $ncmd commands"
	fail=1
fi
expect_has "run plan snapshot prune promote pin unpin list history config db version" ""
expect "pin plan promote prune" p
expect "--config --help --json --verbose --version" --
expect "backup check migrate status vacuum" db ""
expect "check" config ""
expect "env json table tfvars" baseline --format ""
expect "--as-of --config --dry-run --help --json --pool --verbose --version" run --
expect_has "--channel --config --count --create" apply --c
expect_has "--channel --to --from --create --count --dry-run --as-of --timeout" apply --

# Files after -c and after db backup.
: >"$tmp/aksnap-one.ini"
: >"$tmp/aksnap-two.ini"
expect "$tmp/aksnap-one.ini $tmp/aksnap-two.ini" -c "$tmp/aksnap-"
expect "$tmp/aksnap-one.ini" -c "$tmp/aksnap-two.ini" db backup "$tmp/aksnap-o"

# Pools from the configuration; snapshots from the store.
emu_start "$tmp"
emu_config "$tmp/aksnap.ini" "$tmp/aksnap.db" "$tmp/secret"
printf 'armemu-test-secret' >"$tmp/secret"
chmod 600 "$tmp/secret"
pools="edge-system prod-batch prod-system staging-system staging-user"
expect "$pools" -c "$tmp/aksnap.ini" snapshot ""
expect "$pools" -c "$tmp/aksnap.ini" snapshot staging-system ""
expect "prod-batch prod-system" -c "$tmp/aksnap.ini" run --pool prod-
expect "staging-system staging-user" --config="$tmp/aksnap.ini" apply --channel stable --to st
AKSNAP_CONFIG=$tmp/aksnap.ini expect "edge-system" prune e
expect "" -c "$tmp/aksnap.ini" pin ""  # no store yet: nothing, no error
if [ -e "$tmp/aksnap.db" ]; then
	echo "not ok - completing a snapshot created the store"
	fail=1
fi

emu_clock 2026-11-02T03:00:00Z
if ! "$AKSNAP_BIN" -c "$tmp/aksnap.ini" run --as-of 2026-11-02T03:00:00Z; then
	echo "not ok - aksnap run against the emulator failed"
	fail=1
fi
snaps=$("$AKSNAP_BIN" -c "$tmp/aksnap.ini" --json list |
	sed -n 's/^ *"snapshot": "\(.*\)",$/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
if [ "$(echo "$snaps" | wc -w)" -ne 5 ]; then
	echo "not ok - the run took $(echo "$snaps" | wc -w) snapshots, not 5"
	fail=1
fi
expect "$snaps" -c "$tmp/aksnap.ini" pin ""
expect "$snaps" -c "$tmp/aksnap.ini" explain ""
staging=$(echo "$snaps" | tr ' ' '\n' | grep staging-system)
expect "$staging" -c "$tmp/aksnap.ini" promote "${staging%T*}"
expect "--as-of --channel --config --help --json --verbose --version" \
	-c "$tmp/aksnap.ini" promote "$staging" --
exit "$fail"
