#!/bin/sh
# swinstall-agent (examples/agent.c) on the simulated A/B device, configured
# through the API only (options or SWINSTALL_* variables, no configuration
# file): install (staged), is-installed, apply, the reboot, mark-good;
# rollback; a cancel mid-stream, on SIGTERM, and of a wait for the lock;
# verify; and
# examples/adu/swinstall-adu.sh, the step script of Device Update's SWUpdate
# handler, driving the same steps and writing their result files.
#
# The agent is found next to $SWINSTALL (build/swinstall-agent).
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT=${SWINSTALL_AGENT:-$(dirname "$SWINSTALL")/swinstall-agent}
ADU_SCRIPT="$ROOT/examples/adu/swinstall-adu.sh"

# ------------------------------------------------------------ the device

# agent_case: lib.sh's device in $DEV (slot A runs, found by root= on the
# simulated kernel command line), a signed A/B image of version 2.0.0 in
# $CASE/ab.swu whose payload is $CASE/w/rootfs.img.
agent_case() {
	DEV="$CASE/dev"
	make_device "$DEV" || fail "make_device"
	reboot_into A
	echo "22 1 254:1 / / rw - ext4 /dev/unrelated-root rw" >"$DEV/mountinfo"
	ab_image "$CASE/ab.swu" cms newc || fail "the image could not be built"
	[ -x "$AGENT" ] || fail "no $AGENT (make all builds it)"
}

# reboot_into SLOT: the next "boot" runs SLOT (found by root=).
reboot_into() {
	echo "console=ttyS0 root=$DEV/slot$1.img rootwait ro" >"$DEV/cmdline"
}

# The device's settings, as SWINSTALL_* variables (for the ADU script).
device_env() {
	cat <<EOF
SWINSTALL_PUBLIC_KEY=$KEYS/ca.pem
SWINSTALL_BOOTLOADER=uboot
SWINSTALL_UBOOT_ENV_CONFIG=$DEV/fw_env.config
SWINSTALL_HWREVISION_FILE=$DEV/hwrevision
SWINSTALL_SW_VERSIONS_FILE=$DEV/sw-versions
SWINSTALL_LOCK_FILE=$DEV/swinstall.lock
SWINSTALL_STATE_DIR=$DEV/state
SWINSTALL_CMDLINE_FILE=$DEV/cmdline
SWINSTALL_MOUNTINFO_FILE=$DEV/mountinfo
SWINSTALL_SLOTS="A:$DEV/slotA.img:stable,copy1:rootpart=2 B:$DEV/slotB.img:stable,copy2:rootpart=3"
EOF
}

# exec_agent ARGS...: becomes swinstall-agent with the device's settings as
# options (in a subshell: its pid is the agent's).
exec_agent() {
	exec "$AGENT" --public-key "$KEYS/ca.pem" --bootloader uboot \
		--uboot-env-config "$DEV/fw_env.config" --hwrevision-file "$DEV/hwrevision" \
		--sw-versions-file "$DEV/sw-versions" --lock-file "$DEV/swinstall.lock" \
		--state-dir "$DEV/state" --cmdline-file "$DEV/cmdline" \
		--mountinfo-file "$DEV/mountinfo" \
		--slot "A:$DEV/slotA.img:stable,copy1:rootpart=2" \
		--slot "B:$DEV/slotB.img:stable,copy2:rootpart=3" "$@"
}

# agent ARGS...: runs it; sets RC, keeps stdout/stderr in $CASE/out and
# $CASE/err.
agent() {
	(exec_agent "$@") >"$CASE/out" 2>"$CASE/err"
	RC=$?
	echo "\$ swinstall-agent $* -> exit $RC"
	sed 's/^/  stdout: /' "$CASE/out"
	sed 's/^/  stderr: /' "$CASE/err"
}

expect_exit() {
	[ "$RC" -eq "$1" ] || fail "expected exit $1, got $RC; stderr: $(head -c 600 "$CASE/err")"
}

expect_out() {
	grep -qF -- "$1" "$CASE/out" || fail "stdout does not say '$1': $(head -c 600 "$CASE/out")"
}

expect_stderr() {
	grep -qF -- "$1" "$CASE/err" || fail "stderr does not say '$1': $(head -c 600 "$CASE/err")"
}

# expect_is_installed VERSION EXIT: what is-installed answers.
expect_is_installed() {
	agent is-installed "$1"
	expect_exit "$2"
}

# The environment boots slot A still, no update pending.
expect_boots_a() {
	expect_env "$DEV" rootpart 2
	[ "$(env_get "$DEV" ustate)" != 1 ] || fail "ustate is 1: an update is pending"
}

# ------------------------------------------------------------ the cases

# install -> staged (A still boots) -> apply -> reboot into B -> mark-good.
case_life_cycle() {
	agent_case
	expect_is_installed 2.0.0 10
	agent install "$CASE/ab.swu"
	expect_exit 0
	expect_out "staged 2.0.0 in slot B"
	expect_out "progress: 100% committing"
	expect_bytes "$DEV/slotB.img" 0 "$CASE/w/rootfs.img"
	expect_slot_a_untouched "$DEV"
	expect_boots_a
	expect_is_installed 2.0.0 13
	expect_out "2.0.0: staged"
	agent status
	expect_exit 0
	expect_out "staged: B"
	expect_out "slot B: $DEV/slotB.img, version 2.0.0"

	agent apply
	expect_exit 0
	expect_out "apply done: slot B boots next"
	expect_committed "$DEV" 3
	expect_is_installed 2.0.0 12
	expect_out "2.0.0: applied"
	agent is-installed --image "$CASE/ab.swu"
	expect_exit 12

	reboot_into B
	expect_is_installed 2.0.0 0
	expect_out "2.0.0: installed and running; slot B"
	expect_is_installed 1.0.0 10
	# a group given replaces the defaults (ustate=0 upgrade_available=0 bootcount=0)
	agent --mark-good-env ustate=0 --mark-good-env confirmed_by=agent mark-good
	expect_exit 0
	expect_env "$DEV" ustate 0
	expect_env "$DEV" rootpart 3
	expect_env "$DEV" confirmed_by agent
	expect_is_installed 2.0.0 0
}

# apply with nothing staged is refused by the update state (exit 6).
case_apply_nothing_staged() {
	agent_case
	agent apply
	expect_exit 6
	expect_device_untouched "$DEV"
}

# mark-good before the reboot is refused; rollback of the applied update
# boots A again, and 2.0.0 is then held by a slot nothing boots.
case_rollback() {
	agent_case
	agent install "$CASE/ab.swu"
	expect_exit 0
	agent apply
	expect_exit 0
	agent mark-good
	expect_exit 6
	agent rollback
	expect_exit 0
	expect_out "rollback done: slot A boots next"
	expect_env "$DEV" rootpart 2
	expect_is_installed 2.0.0 14
	expect_out "nothing boots it"
}

# --cancel-at 50: the main thread cancels once the install is half way
# through the stream; exit 7, slot A still boots, nothing is recorded.
case_cancel_mid_stream() {
	agent_case
	agent install --cancel-at 50 "$CASE/ab.swu"
	expect_exit 7
	# progress comes as blocks are consumed: the last report is the first
	# one at 50 % or more, in the middle of the payload
	last=$(grep '^progress:' "$CASE/out" | tail -n 1)
	pct=$(echo "$last" | sed -n 's/^progress: *\([0-9]*\)% installing rootfs.img (1 of 1)$/\1/p')
	case $pct in
	[5-9][0-9]) ;;
	*) fail "the last progress is not mid-stream: '$last'" ;;
	esac
	expect_stderr "cancel"
	expect_slot_a_untouched "$DEV"
	expect_boots_a
	expect_is_installed 2.0.0 10
	# and the device takes the next install
	agent install "$CASE/ab.swu"
	expect_exit 0
}

# SIGTERM while the pre-update command runs: cancelled, killed, exit 7.
case_cancel_on_sigterm() {
	agent_case
	printf '#!/bin/sh\ntouch "%s/started"\nsleep 60\n' "$CASE" >"$CASE/pre"
	chmod 0755 "$CASE/pre"
	(exec_agent --preupdatecmd "$CASE/pre" install "$CASE/ab.swu") >"$CASE/out" 2>"$CASE/err" &
	pid=$!
	n=0
	while [ ! -e "$CASE/started" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	[ -e "$CASE/started" ] || fail "the pre-update command never ran"
	start=$(date +%s)
	kill -TERM "$pid"
	wait "$pid"
	RC=$?
	sed 's/^/  stderr: /' "$CASE/err"
	[ "$(($(date +%s) - start))" -lt 20 ] || fail "the cancel took too long"
	[ "$RC" -eq 7 ] || fail "expected exit 7 after SIGTERM, got $RC: $(cat "$CASE/err")"
	expect_stderr "Terminated: cancelling"
	expect_device_untouched "$DEV"
}

# SIGTERM while rollback waits for the lock another holds (--lock-wait
# forever): the wait stops, exit 7, nothing changed.
case_cancel_lock_wait() {
	agent_case
	python3 -c 'import fcntl, sys, time
f = open(sys.argv[1], "a")
fcntl.flock(f, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(60)' "$DEV/swinstall.lock" "$CASE/held" &
	holder=$!
	n=0
	while [ ! -e "$CASE/held" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	(exec_agent --lock-wait forever rollback) >"$CASE/out" 2>"$CASE/err" &
	pid=$!
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	RC=$?
	kill "$holder"
	wait "$holder" 2>/dev/null
	sed 's/^/  stderr: /' "$CASE/err"
	[ "$RC" -eq 7 ] || fail "expected exit 7 after SIGTERM, got $RC: $(cat "$CASE/err")"
	expect_device_untouched "$DEV"
}

# verify reads everything and writes nothing; a tampered image fails (3).
case_verify() {
	agent_case
	agent verify "$CASE/ab.swu"
	expect_exit 0
	expect_out "verified 2.0.0"
	expect_device_untouched "$DEV"
	cp "$CASE/ab.swu" "$CASE/bad.swu"
	flip_data "$CASE/bad.swu" rootfs.img || fail "flip_data"
	agent download "$CASE/bad.swu"
	expect_exit 3
	expect_stderr "rootfs.img"
	expect_device_untouched "$DEV"
	[ ! -e "$DEV/state" ] || [ -z "$(ls -A "$DEV/state")" ] || fail "verify left files in state-dir"
}

case_usage() {
	agent_case
	agent --slot "C:$DEV/slotA.img" status
	expect_exit 2
	expect_stderr "--slot takes NAME:DEVICE:SET,MODE"
	agent install
	expect_exit 2
	agent frobnicate
	expect_exit 2
	expect_stderr "unknown command frobnicate"
	agent --cancel-at 101 install "$CASE/ab.swu"
	expect_exit 2
	expect_device_untouched "$DEV"
}

# ------------------------------------------------- Device Update's script

# exec_adu ACTION [API-VERSION]: becomes the script as the handler runs it,
# with --action-ACTION (apiVersion 2.0, the default) or --action ACTION (2.1).
exec_adu() {
	if [ "${2:-2.0}" = 2.1 ]; then set -- --action "$1"; else set -- "--action-$1"; fi
	exec "$ADU_SCRIPT" "$@" --swu-file "$CASE/ab.swu" --work-folder "$CASE/work" \
		--agent "$AGENT" --agent-env "$CASE/agent.env" \
		--result-file "$CASE/work/result.json" --installed-criteria 2.0.0
}

# adu ACTION [API-VERSION]: runs it; RESULT is the resultCode it wrote.
adu() {
	(exec_adu "$@") >"$CASE/out" 2>"$CASE/err"
	echo "\$ swinstall-adu.sh $* -> exit $? $(cat "$CASE/work/result.json")"
	RESULT=$(sed -n 's/^{"resultCode":\([0-9]*\),.*/\1/p' "$CASE/work/result.json")
}

expect_result() {
	[ "$RESULT" = "$1" ] || fail "resultCode $RESULT, expected $1: $(cat "$CASE/work/result.json")"
}

case_adu_steps() {
	agent_case
	mkdir -p "$CASE/work"
	device_env >"$CASE/agent.env"
	adu is-installed
	expect_result 901
	adu download
	expect_result 500
	expect_device_untouched "$DEV"
	adu install
	expect_result 600
	expect_boots_a
	adu apply
	expect_result 705
	expect_committed "$DEV" 3
	reboot_into B
	adu is-installed
	expect_result 900
	adu is-installed 2.1
	expect_result 900
	adu install 2.1
	expect_result 603
}

# cancel after apply (Device Update's Restore): the rollback boots A again.
case_adu_cancel() {
	agent_case
	mkdir -p "$CASE/work"
	device_env >"$CASE/agent.env"
	adu cancel
	expect_result 800
	expect_device_untouched "$DEV"
	adu install
	expect_result 600
	adu apply
	expect_result 705
	adu cancel
	expect_result 800
	expect_env "$DEV" rootpart 2
	adu is-installed
	expect_result 901
}

# cancel after install, before apply: nothing to switch back; A boots.
case_adu_cancel_staged() {
	agent_case
	mkdir -p "$CASE/work"
	device_env >"$CASE/agent.env"
	adu install
	expect_result 600
	adu cancel
	expect_result 800
	grep -q "never applied" "$CASE/work/result.json" || fail "$(cat "$CASE/work/result.json")"
	expect_boots_a
}

# SIGTERM to the script while it installs: passed on to the agent, which
# cancels; the step fails with extendedResultCode 7.
case_adu_sigterm() {
	agent_case
	mkdir -p "$CASE/work"
	printf '#!/bin/sh\ntouch "%s/started"\nsleep 60\n' "$CASE" >"$CASE/pre"
	chmod 0755 "$CASE/pre"
	{ device_env; echo "SWINSTALL_PREUPDATECMD=$CASE/pre"; } >"$CASE/agent.env"
	(exec_adu install) >"$CASE/out" 2>"$CASE/err" &
	pid=$!
	n=0
	while [ ! -e "$CASE/started" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	[ -e "$CASE/started" ] || fail "the pre-update command never ran"
	kill -TERM "$pid"
	wait "$pid"
	grep -q '^{"resultCode":0,"extendedResultCode":7,"resultDetails":"cancelled' \
		"$CASE/work/result.json" || fail "not cancelled: $(cat "$CASE/work/result.json")"
	expect_device_untouched "$DEV"
}

# A failed step: resultCode 0, the agent's exit status and message.
case_adu_failure() {
	agent_case
	mkdir -p "$CASE/work"
	device_env >"$CASE/agent.env"
	flip_data "$CASE/ab.swu" rootfs.img || fail "flip_data"
	adu download
	expect_result 0
	grep -q '"extendedResultCode":3,"resultDetails":"rootfs.img: sha256' "$CASE/work/result.json" ||
		fail "the result does not carry the reason: $(cat "$CASE/work/result.json")"
	expect_device_untouched "$DEV"
}

t_init
run_case "install stages, apply switches, the reboot runs it, mark-good confirms" case_life_cycle
run_case "apply with nothing staged: exit 6" case_apply_nothing_staged
run_case "rollback of an applied update boots the old slot again" case_rollback
run_case "--cancel-at 50 cancels mid-stream from the main thread: exit 7" case_cancel_mid_stream
run_case "SIGTERM cancels the install: exit 7, nothing written" case_cancel_on_sigterm
run_case "SIGTERM stops a wait for the lock: exit 7" case_cancel_lock_wait
run_case "verify writes nothing; a tampered image fails with exit 3" case_verify
run_case "usage errors: exit 2" case_usage
run_case "swinstall-adu.sh: download, install, apply, is-installed" case_adu_steps
run_case "swinstall-adu.sh: cancel rolls back what was applied" case_adu_cancel
run_case "swinstall-adu.sh: cancel of a staged update leaves the running slot booting" case_adu_cancel_staged
run_case "swinstall-adu.sh: SIGTERM cancels the install step" case_adu_sigterm
run_case "swinstall-adu.sh: a failed step reports why" case_adu_failure
t_done
