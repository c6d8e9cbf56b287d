#!/bin/sh
# test_kubernetes.sh -- deploy/kubernetes/ renders, lints and holds what
# README.md's "A fleet on Kubernetes" promises, offline.
#
#   yamllint -s              every manifest and kustomization
#   kubectl kustomize        the fleet renders (no cluster needed; `kubectl
#                            apply --dry-run=client` would need one)
#   the rendered objects     each CronJob: concurrencyPolicy Forbid, the
#                            workload identity label, a ServiceAccount with
#                            the client-id annotation, non-root, read-only
#                            root filesystem, no privilege escalation, its
#                            store on a PersistentVolumeClaim that exists,
#                            its ConfigMap present; the store and metrics
#                            paths on that volume (tests/sh/k8s_check.py)
#   each shard's aksnap.ini  `aksnap config check` accepts it, and no
#                            subscription belongs to two shards
#   the Containerfile        Debian 12 stages; the runtime stage installs
#                            the package of every library aksnap links
#
# A missing tool (yamllint, kubectl, python3 with yaml) is one "# SKIP"
# line; .ci/run installs them.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
AKSNAP_BIN=${AKSNAP_BIN:-$top/build/aksnap}
k8s=$top/deploy/kubernetes
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok - $*"; }
notok() {
	echo "not ok - $*"
	fail=1
}

if command -v yamllint >/dev/null 2>&1; then
	if out=$(yamllint -s "$k8s" 2>&1); then
		ok "yamllint -s deploy/kubernetes"
	else
		notok "yamllint -s deploy/kubernetes:"
		echo "$out" | sed 's/^/#   /'
	fi
else
	echo "ok - yamllint # SKIP yamllint not installed"
fi

if ! command -v kubectl >/dev/null 2>&1; then
	echo "ok - kubectl kustomize # SKIP kubectl not installed"
elif ! kubectl kustomize "$k8s" >"$tmp/fleet.yaml" 2>"$tmp/kustomize.err"; then
	notok "kubectl kustomize deploy/kubernetes: $(cat "$tmp/kustomize.err")"
elif ! python3 -c 'import yaml' 2>/dev/null; then
	ok "kubectl kustomize deploy/kubernetes renders"
	echo "ok - rendered objects # SKIP python3-yaml not installed"
else
	ok "kubectl kustomize deploy/kubernetes renders"
	python3 "$top/tests/sh/k8s_check.py" "$tmp/fleet.yaml" "$tmp" || fail=1
fi

# Every shard's configuration, as aksnap reads it.
: >"$tmp/subs"
for ini in "$k8s"/shards/*/aksnap.ini; do
	shard=$(basename "$(dirname "$ini")")
	if ! "$AKSNAP_BIN" -c "$ini" config check >"$tmp/$shard.resolved" 2>&1; then
		notok "$shard: aksnap config check: $(cat "$tmp/$shard.resolved")"
		continue
	fi
	ok "$shard: aksnap config check accepts its aksnap.ini"
	grep -q '^database = /var/lib/aksnap/' "$tmp/$shard.resolved" ||
		notok "$shard: the store is not on the volume (/var/lib/aksnap)"
	awk -v s="$shard" '/^\[pool:/ { p = 1 } /^\[/ && !/^\[pool:/ { p = 0 }
		p && /^subscription = / { print $3, s }' "$tmp/$shard.resolved" |
		sort -u >>"$tmp/subs"
done
dups=$(awk '{ print $1 }' "$tmp/subs" | sort | uniq -d)
if [ -z "$dups" ]; then
	ok "no subscription is in two shards ($(wc -l <"$tmp/subs") shard subscriptions)"
else
	notok "subscriptions in more than one shard: $dups"
fi

# The Containerfile: Debian 12, and the runtime stage has every library.
cf=$k8s/Containerfile
froms=$(sed -n 's/^FROM \([^ ]*\).*/\1/p' "$cf" | tr '\n' ' ')
case $froms in
"debian:12 debian:12-slim ") ok "Containerfile: Debian 12 build and runtime stages" ;;
*) notok "Containerfile stages: $froms" ;;
esac
runtime=$(sed -n '/^FROM debian:12-slim/,$p' "$cf")
for lib in $(objdump -p "$AKSNAP_BIN" 2>/dev/null | awk '/NEEDED/ { print $2 }'); do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l { print $NF; exit }')
	# dpkg knows a file by the path its package ships (/lib or /usr/lib).
	pkg=$({ dpkg -S "$path" || dpkg -S "$(readlink -f "$path")"; } 2>/dev/null |
		sed -n '1s/:.*//p')
	case $pkg in
	libc6 | libasan* | libubsan*) continue ;; # libc is in the image; sanitizers only in check-sanitize
	esac
	if [ -z "$pkg" ]; then
		notok "no Debian package found for $lib"
	elif ! echo "$runtime" | grep -qw -- "$pkg"; then
		notok "the Containerfile's runtime stage lacks $pkg ($lib)"
	else
		echo "$pkg" >>"$tmp/pkgs"
	fi
done
[ -s "$tmp/pkgs" ] &&
	ok "Containerfile runtime installs every linked library: $(tr '\n' ' ' <"$tmp/pkgs")"
exit "$fail"
