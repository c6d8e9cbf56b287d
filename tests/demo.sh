#!/bin/sh
# demo.sh -- aksnap end to end against the ARM emulator, in under a minute.
#
# Starts tests/armemu with a small fleet (3 clusters, 5 pools, mixed
# versions), runs `aksnap run` at a few --as-of times with a node image
# release in between, and shows what an operator would look at.  Uses
# AKSNAP_BIN and ARMEMU_BIN (set by `make demo`); needs curl.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
AKSNAP_BIN=${AKSNAP_BIN:-$top/build/aksnap}
ARMEMU_BIN=${ARMEMU_BIN:-$top/build/armemu}
work=$(mktemp -d /tmp/aksnap-demo.XXXXXX)
# shellcheck source=sh/emu.sh
. "$top/tests/sh/emu.sh"
cleanup() {
	emu_stop
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -t 1 ]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
show() { printf '$ %s\n' "$*" | sed "s|$AKSNAP_BIN|aksnap|; s|-c $work/aksnap.ini ||"; "$@"; }

emu_start "$work" --notes-dir "$top/tests/fixtures/release-notes"
url=$emu_url
ctl() { curl -fsS -X POST "$url/_armemu/$1" -d "$2" >/dev/null; }

printf 'armemu-test-secret' >"$work/secret"
chmod 600 "$work/secret"
# The emulator's five pools (tests/sh/emu.sh), metrics, and a policy that
# keeps 3 + 7 daily and promotes after a week of soak.
emu_config "$work/aksnap.ini" "$work/aksnap.db" "$work/secret"
sed -i -e "/^authority_host/a metrics_file   = $work/aksnap.prom" \
	-e '/^snapshot_when/a keep_last     = 3\nkeep_daily    = 7\npromote_after = 7d\nchannel       = stable' \
	"$work/aksnap.ini"
# The emulator serves real AgentBaker release notes (tests/fixtures).
sed -i "/^channel       = stable/a release_notes = $url/_notes/{path}.txt" \
	"$work/aksnap.ini"
A="$AKSNAP_BIN -c $work/aksnap.ini"

at() { ctl clock "{\"now\":\"$1\",\"frozen\":true}"; }

# staging-system runs real Ubuntu images, whose real release notes the
# emulator serves: 202608.14.0 now, 202608.20.0 on day 3.
ubuntu=AKSUbuntu-2204gen2containerd
ctl release "{\"resourceGroup\":\"rg-staging\",\"cluster\":\"aks-staging\",\"pool\":\"system\",\"nodeImageVersion\":\"$ubuntu-202608.14.0\"}"

say "The emulator serves 3 clusters and 5 node pools on $url"
show $A config check | sed -n '1,12p'
echo "  ..."

say "Day 1, 03:00: what would a run do?"
at 2026-11-02T03:00:00Z
show $A plan --as-of 2026-11-02T03:00:00Z

say "Day 1: the scheduled run (silent on success; -v shows the summary)"
show $A -v run --as-of 2026-11-02T03:00:00Z

say "Day 2: nothing changed, so every slot is skipped (snapshot_when = changed)"
at 2026-11-03T03:00:00Z
show $A -v run --as-of 2026-11-03T03:00:00Z

say "AKS releases a new node image for the staging cluster"
ctl release "{\"resourceGroup\":\"rg-staging\",\"cluster\":\"aks-staging\",\"pool\":\"system\",\"nodeImageVersion\":\"$ubuntu-202608.20.0\"}"
ctl release '{"resourceGroup":"rg-staging","cluster":"aks-staging","pool":"user"}'
echo "  (system: $ubuntu-202608.14.0 -> 202608.20.0; user: one week newer)"

say "Day 3: only the staging pools are snapshotted"
at 2026-11-04T03:00:00Z
show $A -v run --as-of 2026-11-04T03:00:00Z

say "Days 4 to 9: the daily runs; after 7 days of soak day 1's snapshot is the baseline"
for d in 05 06 07 08 09 10; do
	at "2026-11-${d}T03:00:00Z"
	$A run --as-of "2026-11-${d}T03:00:00Z"
done
echo "  (6 runs, all exit 0)"

say "What would promoting staging's newest snapshot bring in? (real release notes)"
show $A changes --pool staging-system | sed -n '1,60p'
echo "  ... (the full list: aksnap changes --pool staging-system; --json for scripts)"

say "And the Azure Linux 2 pool: its notes are no longer published"
show $A changes --pool staging-user 2>&1 | sed -n '1,12p' || true

say "Days 10 to 12: day 3's snapshot soaks and replaces the baseline"
for d in 11 12 13; do
	at "2026-11-${d}T03:00:00Z"
	$A run --as-of "2026-11-${d}T03:00:00Z"
done
echo "  (3 runs, all exit 0)"

say "The version history, changes only"
show $A history --changes

say "The snapshots in the store"
show $A list

say "The baselines, for az aks nodepool add --snapshot-id or Terraform"
show $A baseline --format tfvars

say "Why is that snapshot the baseline?"
base=$($A --json baseline | sed -n 's/.*"snapshot": "\(aksnap-aks-staging-system[^"]*\)".*/\1/p' | head -n 1)
show $A explain "$base"

say "Monitoring"
show $A check --as-of 2026-11-13T04:00:00Z || true

say "Prometheus textfile ($work/aksnap.prom)"
grep -E '^aksnap_(last_run|run_failures|snapshots\{pool="staging-system")' "$work/aksnap.prom"

say "The rest of the month: weekly node images, a Kubernetes patch on the edge"
day=14
while [ $day -le 30 ]; do
	as_of=$(printf '2026-11-%02dT03:00:00Z' "$day")
	case $day in
	16) ctl release '{"resourceGroup":"rg-staging","cluster":"aks-staging"}' ;;
	18) ctl release '{"resourceGroup":"rg-prod","cluster":"aks-prod"}' ;;
	23) ctl release '{"resourceGroup":"rg-staging","cluster":"aks-staging"}' ;;
	25) ctl release '{"resourceGroup":"rg-prod","cluster":"aks-edge","kubernetesVersion":"1.31.5"}' ;;
	esac
	at "$as_of"
	$A run --as-of "$as_of"
	day=$((day + 1))
done
echo "  (17 runs, all exit 0)"

say "The pin holds (issue 12): guards, a cluster from a baseline, rollback, channels"
# The applies run at the demo's time (the month's last day), as the runs do:
# real time would put the month's real node images past AKS's 90-day window.
base=$($A --json baseline | sed -n 's/.*"snapshot": "\(aksnap-aks-staging-system[^"]*\)".*/\1/p' | head -n 1)
echo "  guards: staging's baseline (westeurope) onto prod (northeurope) is refused, nothing sent"
show $A apply --channel stable --from staging-system --to prod-system --dry-run || true
echo "  create cluster from snapshot: pinned (nodeOSUpgradeChannel None), verified"
show $A apply --channel stable --from staging-system --new-cluster aks-copy --as-of 2026-11-30T03:00:00Z
echo "  rollback: AKS upgrades staging-system past its baseline; back to the baseline"
ctl release '{"resourceGroup":"rg-staging","cluster":"aks-staging","pool":"system"}'
show $A apply --channel stable --to staging-system --allow-older --as-of 2026-11-30T03:00:00Z
show $A explain "$base" | tail -n 3
echo "  auto-upgrade channel awareness: prod is put on NodeImage, and AKS's weekly upgrade runs"
ctl clusters/auto-upgrade-profile '{"cluster":"aks-prod","nodeOSUpgradeChannel":"NodeImage"}'
ctl auto-upgrade '{"cluster":"aks-prod"}'
at 2026-12-01T03:00:00Z
$A run --as-of 2026-12-01T03:00:00Z
show $A history --changes --since 2026-11-30T00:00:00Z prod-system
show $A check --as-of 2026-12-01T04:00:00Z || true

say "A picture of the month: one self-contained HTML page"
report=${AKSNAP_DEMO_REPORT:-$top/build/demo-report.html}
show $A report --html "$report"
echo "  open it in a browser: $report"

say "Done: the emulator is stopped and $work removed"
