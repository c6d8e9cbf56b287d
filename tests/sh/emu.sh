# emu.sh -- sourced by tests/sh/test_*.sh that need the ARM emulator.
# shellcheck shell=sh
#
#   emu_start DIR [ARMEMU FLAGS...]  start $ARMEMU_BIN on a loopback port
#                                    with the demo fleet; sets emu_url
#   emu_clock TIME                   freeze the emulator's clock at TIME
#   emu_stop                         stop it (also set as the EXIT trap)
#   emu_config FILE DB [SECRETFILE]  write an aksnap.ini for the demo
#                                    fleet's five pools against emu_url
#
# The caller sets top (the repository root).  Uses curl.
ARMEMU_BIN=${ARMEMU_BIN:-$top/build/armemu}
emu_pid=""
emu_url=""

emu_start() {
	_dir=$1
	shift
	"$ARMEMU_BIN" --port 0 --fleet "$top/tests/armemu/fleet-demo.json" \
		--retry-after 0 "$@" >"$_dir/emu.out" 2>"$_dir/emu.err" &
	emu_pid=$!
	_i=0
	while [ ! -s "$_dir/emu.out" ] && [ "$_i" -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ ! -s "$_dir/emu.out" ]; then
		echo "not ok - armemu did not start: $(cat "$_dir/emu.err")"
		exit 1
	fi
	emu_url="http://127.0.0.1:$(head -n 1 "$_dir/emu.out")"
}

emu_clock() {
	curl -fsS -X POST "$emu_url/_armemu/clock" \
		-d "{\"now\":\"$1\",\"frozen\":true}" >/dev/null
}

emu_stop() {
	if [ -n "$emu_pid" ]; then
		kill "$emu_pid" 2>/dev/null
		wait "$emu_pid" 2>/dev/null
		emu_pid=""
	fi
}

emu_config() {
	_secret_line=""
	[ -z "${3-}" ] || _secret_line="client_secret_file = $3"
	cat >"$1" <<INI
[aksnap]
database       = $2
subscription   = 00000000-0000-0000-0000-000000000001
auth           = client-secret
tenant         = 00000000-0000-0000-0000-0000000000aa
client_id      = 00000000-0000-0000-0000-0000000000bb
$_secret_line
arm_endpoint   = $emu_url
authority_host = $emu_url

[policy:default]
schedule      = 0 2 * * *
snapshot_when = changed

[pool:staging-system]
resource_group = rg-staging
cluster        = aks-staging
nodepool       = system

[pool:staging-user]
resource_group = rg-staging
cluster        = aks-staging
nodepool       = user

[pool:prod-system]
resource_group = rg-prod
cluster        = aks-prod
nodepool       = system

[pool:prod-batch]
resource_group = rg-prod
cluster        = aks-prod
nodepool       = batch

[pool:edge-system]
resource_group = rg-prod
cluster        = aks-edge
nodepool       = system
INI
}
