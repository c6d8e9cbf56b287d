#!/bin/sh
# deps.sh OUT -- make sure the build dependencies are here, then write the
# compiler and linker flags that pkg-config gives into OUT (a makefile).
#
# Missing packages are installed with apt-get when run as root (after an
# `apt-get update` when the package lists are empty); otherwise the exact
# apt-get line is printed and the build stops.
set -eu
out=$1
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
MODULES="sqlite3 libcurl jansson inih cmocka libmicrohttpd libcrypto"
PACKAGES="pkg-config libsqlite3-dev libcurl4-openssl-dev libjansson-dev libinih-dev libcmocka-dev libmicrohttpd-dev libssl-dev tzdata curl"

missing=""
if ! command -v "$PKG_CONFIG" >/dev/null 2>&1; then
	missing=yes
else
	for m in $MODULES; do
		"$PKG_CONFIG" --exists "$m" || missing="$missing $m"
	done
fi
[ -e /usr/share/zoneinfo/Europe/Berlin ] || missing="$missing tzdata"
command -v curl >/dev/null 2>&1 || missing="$missing curl"

if [ -n "$missing" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "aksnap: missing build dependencies:$missing" >&2
		echo "aksnap: run as root: apt-get install -y $PACKAGES" >&2
		exit 1
	fi
	echo "aksnap: installing build dependencies:$missing" >&2
	# shellcheck disable=SC2010 # apt's own file names, no odd characters
	if [ -z "$(ls -A /var/lib/apt/lists 2>/dev/null | grep -v -e lock -e partial)" ]; then
		apt-get update -qq
	fi
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >&2
fi

{
	echo "# written by tools/deps.sh; remove to re-detect"
	echo "DEPS_CFLAGS = $("$PKG_CONFIG" --cflags sqlite3 libcurl jansson inih libcrypto)"
	echo "DEPS_LIBS = $("$PKG_CONFIG" --libs sqlite3 libcurl jansson inih libcrypto) -lm"
	echo "TEST_LIBS = $("$PKG_CONFIG" --libs cmocka)"
	echo "EMU_LIBS = $("$PKG_CONFIG" --libs libmicrohttpd jansson libcrypto) -lm"
	echo "DEPS_CFLAGS += $("$PKG_CONFIG" --cflags cmocka libmicrohttpd)"
} > "$out.tmp"
mv "$out.tmp" "$out"
