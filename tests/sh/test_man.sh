#!/bin/sh
# test_man.sh -- the man pages are clean and their EXIT STATUS is exact.
#
# 1. `mandoc -T lint -W style` prints nothing for man/aksnap.8 and
#    man/aksnap.ini.5 (one "# SKIP" line when mandoc is not installed;
#    .ci/run installs it).
# 2. Exit 75: every command `aksnap --help` lists is run, with the operands
#    its usage line requires, while another process holds the run lock and
#    with ARM and Entra ID unreachable (a closed loopback port).  The
#    commands that exit 75 must be exactly those aksnap(8)'s EXIT STATUS
#    names under 75, and every one of them must exit 75.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
AKSNAP_BIN=${AKSNAP_BIN:-$top/build/aksnap}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

if command -v mandoc >/dev/null 2>&1; then
	for page in "$top/man/aksnap.8" "$top/man/aksnap.ini.5"; do
		out=$(mandoc -T lint -W style "$page" 2>&1)
		if [ -z "$out" ]; then
			echo "ok - mandoc -T lint: $(basename "$page") is clean"
		else
			echo "not ok - mandoc -T lint $(basename "$page"):"
			echo "$out" | sed 's/^/#   /'
			fail=1
		fi
	done
else
	echo "ok - mandoc -T lint # SKIP mandoc not installed"
fi

# A closed port: bind one, note it, let it go.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 9)
# shellcheck source=emu.sh
. "$top/tests/sh/emu.sh"
emu_url=http://127.0.0.1:$port
emu_config "$tmp/aksnap.ini" "$tmp/aksnap.db" "$tmp/secret"
sed -i "/^\\[aksnap\\]\$/a request_timeout = 2s" "$tmp/aksnap.ini"
printf 'not-a-secret' >"$tmp/secret"
chmod 600 "$tmp/secret"
A="$AKSNAP_BIN -c $tmp/aksnap.ini"
$A db migrate >/dev/null 2>&1 || {
	echo "not ok - db migrate on a fresh store"
	exit 1
}
# Hold the run lock on fd 9 of this shell: no background process (one
# would keep run-tests.sh's output pipe open), and every aksnap started
# below opens the file anew, so its flock() finds it taken.
exec 9>>"$tmp/aksnap.db.lock"
flock -x 9

# The operands a usage line requires: optional [...] parts dropped,
# placeholders filled.  drift reaches Azure only with --refresh, changes
# only with --pool POOL --live.
operands() {
	sed -e 's/\[[^][]*\]//g' -e 's/\[[^][]*\]//g' -e 's/\.\.\.//g' |
		sed -e 's/POOL/staging-system/g; s/SNAPSHOT/aksnap-aks-staging-system-20261102T0200Z/g' \
			-e "s|FILE|$tmp/backup.db|g; s/NEWPOOL/np2/g; s/NAME/stable/g" \
			-e 's/TIME/2026-11-02T03:00:00Z/g; s/DURATION/1m/g; s/\bN\b/1/g'
}
"$AKSNAP_BIN" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]\)/\1/p' >"$tmp/usage"
got75=""
while IFS= read -r usage; do
	cmd=${usage%% *}
	# "db migrate | db status | db backup FILE": each alternative.
	echo "$usage" | sed 's/ | /\n/g' | while IFS= read -r alt; do
		args=$(echo "$alt" | operands)
		[ "$cmd" = drift ] && args="$args --refresh"
		[ "$cmd" = changes ] && args="$args --pool staging-system --live"
		# shellcheck disable=SC2086
		timeout 60 $A $args >/dev/null 2>&1 </dev/null
		echo "$? $cmd"
	done
done <"$tmp/usage" >"$tmp/codes"
got75=$(awk '$1 == 75 { print $2 }' "$tmp/codes" | sort -u | tr '\n' ' ')
if [ -z "$got75" ]; then
	echo "not ok - no command exited 75 with the lock held"
	fail=1
fi

# The commands aksnap(8) names under ".B 75" in EXIT STATUS.
man75=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$top/man/aksnap.8" |
	sed -n '/^\.B 75$/,/^\.\(TP\|PP\|SH\)/p' |
	sed -n 's/^\.[BR]*B[R]* "*\([a-z][a-z-]*\).*/\1/p' | sort -u | tr '\n' ' ')
if [ "$got75" = "$man75" ]; then
	echo "ok - exit 75 from exactly the commands aksnap(8) names: $got75"
else
	echo "not ok - exit 75 from: $got75; aksnap(8) EXIT STATUS names: $man75"
	fail=1
fi
exit "$fail"
