#!/bin/sh
# test_deb.sh -- debian/ builds a package that lintian passes and that works.
#
# A copy of the source tree (the files git tracks or would track) is built
# with `dpkg-buildpackage -us -uc -b` in a scratch directory, so neither
# build/ nor the tree's parent is touched.  Then: `lintian --fail-on error`
# on the .deb; its files are where the README says (binary, man pages,
# completion, units in /lib/systemd/system, the example configuration as a
# conffile, the timer not enabled); `dpkg -x` into a scratch root and the
# unpacked binary runs `version` and `config check` on the unpacked
# example.  Without dpkg-buildpackage, dh or lintian: one "# SKIP" line
# (.ci/run installs them, so CI always runs this).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
case ${AKSNAP_BIN-} in
*/build-san/*)
	# The package builds its own binary: the sanitizer run adds nothing.
	echo "ok - Debian package # SKIP built by make check, not again under check-sanitize"
	exit 0
	;;
esac
for tool in dpkg-buildpackage dh lintian fakeroot git; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "ok - Debian package # SKIP $tool not installed"
		exit 0
	fi
done
tmp=$(mktemp -d /tmp/aksnap-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	fail=1
}

mkdir "$tmp/src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$tmp/src"
# The package is Debian's build with Debian's compiler: a `make CC=clang
# check` must not hand its CC to it through MAKEFLAGS (clang's DWARF 5 is
# more than Debian 12's dwz reads).
if (cd "$tmp/src" && env -u CC -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	-u MAKEOVERRIDES dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b"
else
	notok "dpkg-buildpackage -us -uc -b:"
	tail -n 30 "$tmp/build.log" | sed 's/^/#   /'
	exit 1
fi
deb=$(ls "$tmp"/aksnap_*.deb)
if lintian --fail-on error "$deb" >"$tmp/lintian.log" 2>&1; then
	ok "lintian: no errors ($(grep -c '^W:' "$tmp/lintian.log") warnings)"
else
	notok "lintian reports errors:"
	sed 's/^/#   /' "$tmp/lintian.log"
fi
[ ! -e "$top/build-deb" ] || notok "the package build wrote $top/build-deb"

dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$tmp/files"
for f in /usr/bin/aksnap /usr/share/man/man8/aksnap.8.gz \
	/usr/share/man/man5/aksnap.ini.5.gz \
	/usr/share/bash-completion/completions/aksnap \
	/lib/systemd/system/aksnap.service /lib/systemd/system/aksnap.timer \
	/etc/aksnap/aksnap.ini.example /usr/share/doc/aksnap/examples/aksnap.cron; do
	grep -qx "$f" "$tmp/files" || notok "the package lacks $f"
done
ok "the package holds binary, man pages, completion, units, example configuration"
dpkg-deb -e "$deb" "$tmp/ctrl"
grep -qx /etc/aksnap/aksnap.ini.example "$tmp/ctrl/conffiles" ||
	notok "aksnap.ini.example is not a conffile"
# dh_installsystemd --no-enable --no-start: the timer is enabled again
# only where the admin had enabled it, and never started by the package.
if grep -q "debian-installed 'aksnap.timer'" "$tmp/ctrl/postinst" &&
	! grep -q "deb-systemd-invoke .*aksnap.timer" "$tmp/ctrl/postinst"; then
	ok "installing the package neither enables nor starts aksnap.timer"
else
	notok "the package's postinst enables or starts aksnap.timer:"
	grep -n 'aksnap' "$tmp/ctrl/postinst" | sed 's/^/#   /'
fi

dpkg -x "$deb" "$tmp/root"
grep -q '^ExecStart=/usr/bin/aksnap ' "$tmp/root/lib/systemd/system/aksnap.service" ||
	notok "aksnap.service does not run /usr/bin/aksnap"
if out=$("$tmp/root/usr/bin/aksnap" version 2>&1) && [ "${out#aksnap }" != "$out" ]; then
	ok "the unpacked aksnap version: $out"
else
	notok "aksnap version: $out"
fi
if out=$("$tmp/root/usr/bin/aksnap" -c "$tmp/root/etc/aksnap/aksnap.ini.example" config check 2>&1); then
	ok "the unpacked aksnap config check accepts the unpacked example"
else
	notok "config check: $out"
fi
exit "$fail"
