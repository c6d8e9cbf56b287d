#!/bin/sh
# test_install.sh -- README.md's install steps work, as written.
#
# Runs every line between README's "install-steps" markers, in order, into
# a scratch root instead of /: `make install` with DESTDIR, /etc/... paths
# moved under the root, `sudoedit` replaced by writing a configuration for
# the emulator, `aksnap config check` and the job itself run as an
# unprivileged uid (setpriv, no groups, the unit's UMask=), and the
# systemctl lines replaced by checks on the installed units and by doing
# what systemd does on start: the StateDirectory= and RuntimeDirectory=
# owned by the dynamic user, the secret from /etc/credstore handed over in
# $CREDENTIALS_DIRECTORY, then the unit's own ExecStart= line.  The run must
# exit 0 and write its store and metrics; a second start under another
# dynamic uid (systemd chowns the state directory) must work too.  A README
# line this test does not know fails it.  Needs root (to become another
# uid): otherwise one "# SKIP" line.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
AKSNAP_BIN=${AKSNAP_BIN:-$top/build/aksnap}
# shellcheck source=emu.sh
. "$top/tests/sh/emu.sh"
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	echo "ok - install steps # SKIP needs root and setpriv"
	exit 0
fi
build=$(dirname "$AKSNAP_BIN")
build=${build#"$top"/}
root=$(mktemp -d /tmp/aksnap-install.XXXXXX)
chmod 0755 "$root"
trap 'emu_stop; rm -rf "$root"' EXIT
fail=0
ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	fail=1
}
# The dynamic users systemd would pick (61184-65519), one per start.
uid1=61901
uid2=61902
unitdir=$root/usr/local/lib/systemd/system
as_user() { # as_user UID CMD...: the unit's sandbox, minus the namespaces
	_u=$1
	shift
	(umask 0077 && env -i PATH=/usr/bin:/bin \
		CREDENTIALS_DIRECTORY="$root/run/credentials/aksnap.service" \
		STATE_DIRECTORY="$root/var/lib/aksnap" RUNTIME_DIRECTORY="$root/run/aksnap" \
		CONFIGURATION_DIRECTORY="$root/etc/aksnap" \
		setpriv --reuid="$_u" --regid="$_u" --clear-groups "$@")
}
unit_value() { # unit_value FILE KEY: every KEY= value, one a line
	sed -n "s/^$2=//p" "$1"
}

# What systemd does before ExecStart= (systemd.exec(5)).
systemd_start() {
	_u=$1
	install -d -m 0755 "$root/var/lib" "$root/run"
	[ "$(unit_value "$unitdir/aksnap.service" StateDirectory)" = aksnap ] ||
		notok "the service has no StateDirectory=aksnap"
	install -d -o "$_u" -g "$_u" \
		-m "$(unit_value "$unitdir/aksnap.service" StateDirectoryMode)" "$root/var/lib/aksnap"
	chown -R "$_u:$_u" "$root/var/lib/aksnap"
	install -d -o "$_u" -g "$_u" \
		-m "$(unit_value "$unitdir/aksnap.service" RuntimeDirectoryMode)" "$root/run/aksnap"
	chown -R "$_u:$_u" "$root/run/aksnap"
	rm -rf "$root/run/credentials/aksnap.service"
	install -d -o "$_u" -m 0500 "$root/run/credentials/aksnap.service"
	for c in $(unit_value "$unitdir/aksnap.service" LoadCredential); do
		case $c in
		*:*) notok "LoadCredential=$c names a path: a missing file would stop the unit" ;;
		*) [ ! -e "$root/etc/credstore/$c" ] ||
			install -o "$_u" -m 0400 "$root/etc/credstore/$c" \
				"$root/run/credentials/aksnap.service/$c" ;;
		esac
	done
}

# unit_start UID LOG WHAT: systemd's start, then the unit's ExecStart= as
# UID with the paths moved under $root; it must exit 0.
unit_start() {
	systemd_start "$1"
	_cmd=$(unit_value "$unitdir/aksnap.service" ExecStart |
		sed "s| /etc/| $root/etc/|g; s|^/|$root/|")
	# shellcheck disable=SC2086 # ExecStart= is split on spaces, as systemd does
	if as_user "$1" $_cmd >"$2" 2>&1; then
		ok "$3: the unit's ExecStart= as uid $1 exits 0"
	else
		notok "$3: the unit's ExecStart= as uid $1: $(cat "$2")"
	fi
}

emu_start "$root"
emu_url_saved=$emu_url
steps=$(sed -n '/^<!-- install-steps/,/^<!-- \/install-steps/p' "$top/README.md" |
	sed -n 's/^    //p')
[ -n "$steps" ] || notok "README.md has no install-steps block"
nsteps=0
while IFS= read -r line; do
	nsteps=$((nsteps + 1))
	case $line in
	"make")
		if make -s -C "$top" BUILD="$build" >"$root/make.log" 2>&1; then
			ok "$line"
		else
			notok "$line: $(tail -n 5 "$root/make.log")"
		fi
		;;
	"sudo make install")
		if make -s -C "$top" BUILD="$build" DESTDIR="$root" install >"$root/make.log" 2>&1; then
			ok "$line"
		else
			notok "$line: $(tail -n 5 "$root/make.log")"
		fi
		for f in usr/local/bin/aksnap usr/local/share/man/man8/aksnap.8 \
			usr/local/share/man/man5/aksnap.ini.5 \
			usr/local/lib/systemd/system/aksnap.service \
			usr/local/lib/systemd/system/aksnap.timer \
			usr/local/share/bash-completion/completions/aksnap \
			etc/aksnap/aksnap.ini.example; do
			[ -f "$root/$f" ] || notok "make install did not install /$f"
		done
		[ ! -e "$root/lib/systemd" ] || notok "make install wrote $root/lib/systemd with PREFIX=/usr/local"
		;;
	"sudo install "*)
		cmd=$(echo "${line#sudo }" | sed "s| /etc/| $root/etc/|g")
		# shellcheck disable=SC2086
		if $cmd; then ok "$line"; else notok "$line"; fi
		;;
	"sudoedit /etc/aksnap/aksnap.ini")
		cfg=$root/etc/aksnap/aksnap.ini
		mode=$(stat -c %a "$cfg")
		dmode=$(stat -c %a "$root/etc/aksnap")
		if [ "$mode" != 644 ] || [ "$dmode" != 755 ]; then
			notok "aksnap.ini is $mode in a $dmode directory: the dynamic user cannot read it"
		fi
		# The edit: the emulator's fleet, the secret as a credential,
		# the store and metrics where the unit keeps them.
		emu_url=$emu_url_saved
		emu_config "$cfg" /var/lib/aksnap/aksnap.db
		sed -i "s|^database .*|database = $root/var/lib/aksnap/aksnap.db\\nmetrics_file = $root/run/aksnap/aksnap.prom|" "$cfg"
		[ "$(stat -c %a "$cfg")" = 644 ] || notok "editing changed the mode"
		install -d -m 0700 "$root/etc/credstore"
		printf 'armemu-test-secret' >"$root/etc/credstore/aksnap-client-secret"
		chmod 0600 "$root/etc/credstore/aksnap-client-secret"
		ok "$line (emulator configuration, secret in /etc/credstore)"
		;;
	"aksnap config check")
		if out=$(as_user "$uid1" "$root/usr/local/bin/aksnap" -c "$root/etc/aksnap/aksnap.ini" config check 2>&1); then
			ok "$line, as uid $uid1"
		else
			notok "$line as uid $uid1: $out"
		fi
		;;
	"sudo systemctl daemon-reload")
		if grep -q '^\[Install\]' "$unitdir/aksnap.service"; then
			notok "aksnap.service has an [Install] section"
		else
			ok "$line: aksnap.service has no [Install] section"
		fi
		;;
	"sudo systemctl enable --now aksnap.timer")
		[ "$(unit_value "$unitdir/aksnap.timer" WantedBy)" = timers.target ] ||
			notok "aksnap.timer is not WantedBy=timers.target"
		unit_start "$uid1" "$root/run1.log" "$line"
		;;
	*)
		notok "README install step '$line' is not known to this test"
		;;
	esac
done <<STEPS
$steps
STEPS
[ "$nsteps" -ge 7 ] || notok "only $nsteps install steps in README.md"

# What the run left: its store (owned by the dynamic user) and metrics.
db=$root/var/lib/aksnap/aksnap.db
prom=$root/run/aksnap/aksnap.prom
if [ "$(stat -c %u "$db" 2>/dev/null)" = "$uid1" ]; then
	ok "the store is the dynamic user's"
else
	notok "no store owned by $uid1 at $db"
fi
n=$(as_user "$uid1" "$root/usr/local/bin/aksnap" -c "$root/etc/aksnap/aksnap.ini" --json list |
	grep -c '"snapshot": "aksnap-')
if [ "$n" -eq 5 ]; then
	ok "the store holds the 5 snapshots taken"
else
	notok "the store holds $n snapshots, not 5"
fi
if [ -f "$prom" ] && [ "$(stat -c %a "$prom")" = 644 ] &&
	[ "$(grep -c '^aksnap_.*pool="' "$prom")" -ge 5 ]; then
	ok "the metrics file is written, 0644, with every pool"
else
	notok "metrics file $prom: $(ls -l "$prom" 2>&1)"
fi
if grep -rq armemu-test-secret "$root/var" "$root/run/aksnap" "$root/run1.log"; then
	notok "the secret reached the store, the metrics or the output"
else
	ok "the secret is in neither store, metrics nor output"
fi

# The next start: another dynamic uid, systemd chowns the state directory.
unit_start "$uid2" "$root/run2.log" "the next start"
exit "$fail"
