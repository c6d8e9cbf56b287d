#!/bin/sh
# test_layers.sh -- includes only point down the floors of DESIGN.md §1
# (HACKING.md, "Layers"), and each library stays behind its one module.
#
#   job/base  <-  job/rules  <-  job/azure, db, config  <-  job/run  <-  job/cmd
#
# A file may include its own folder and any floor below it; the three
# folders of the middle floor do not include each other, except that
# config/ and db/ may use the rules' data types (they are on the floor
# below anyway).  Only job/azure/http.c includes curl, only config/
# includes inih, only db/ includes sqlite3.  The credentials' environment
# (AZURE_*, CREDENTIALS_DIRECTORY, PATH) is read only by config/env.c, so
# that `config check` shows what a run uses.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

floor() {
	case "$1" in
	job/base/*) echo 0 ;;
	job/rules/*) echo 1 ;;
	job/azure/*) echo 2 ;;
	db/*) echo 2 ;;
	config/*) echo 2 ;;
	job/run/*) echo 3 ;;
	job/cmd/*) echo 4 ;;
	*) echo x ;;
	esac
}

fail=0
files=$(find job config db -name '*.[ch]' | sort)
[ -n "$files" ] || { echo "not ok - no sources found under $top"; exit 1; }
for f in $files; do
	ff=$(floor "$f")
	if [ "$ff" = x ]; then
		echo "not ok - $f: not in a floor (job/base, job/rules, job/azure, job/run, job/cmd, db, config)"
		fail=1
		continue
	fi
	fdir=${f%/*}
	for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
		idir=${inc%/*}
		[ "$idir" = "$fdir" ] && continue
		fi_=$(floor "$inc")
		if [ "$fi_" = x ]; then
			echo "not ok - $f includes \"$inc\", which is in no floor"
			fail=1
		elif [ "$fi_" -gt "$ff" ]; then
			echo "not ok - $f (floor $ff) includes \"$inc\" (floor $fi_): an include that points up"
			fail=1
		elif [ "$fi_" -eq "$ff" ]; then
			echo "not ok - $f includes \"$inc\": sideways across floor $ff"
			fail=1
		fi
	done
	libs=$(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$f")
	for lib in $libs; do
		case "$lib" in
		curl/*)
			[ "$f" = job/azure/http.c ] || { echo "not ok - $f includes <$lib>: only job/azure/http.c calls libcurl"; fail=1; } ;;
		ini.h)
			case "$f" in config/*) ;; *) echo "not ok - $f includes <$lib>: only config/ calls inih"; fail=1 ;; esac ;;
		sqlite3.h)
			case "$f" in db/*) ;; *) echo "not ok - $f includes <$lib>: only db/ holds SQL"; fail=1 ;; esac ;;
		esac
	done
done
for f in $(grep -l 'getenv("\(AZURE_\|CREDENTIALS_DIRECTORY\|PATH"\)' $files); do
	[ "$f" = config/env.c ] && continue
	echo "not ok - $f reads the credentials' environment: only config/env.c does"
	fail=1
done
if [ "$fail" -eq 0 ]; then
	echo "ok - $(echo "$files" | wc -l) sources: every include points down its floors"
fi
exit "$fail"
