#!/bin/sh
# The steps of an update agent on the simulated A/B device (lib.sh's, with
# slots A and B; A runs): verify writes nothing and takes no lock; install
# --stage writes slot B but keeps A booting, records B's version and keeps
# the commit; apply writes it, and refuses with nothing staged or after the
# running slot changed; a later install or a rollback discards what was
# staged; is-installed says running, pending, staged, idle or not
# installed; status lists the slots (text and JSON).
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# stage_case: the device in $CASE/dev with slots, its good image $CASE/ab.swu
# (version 2.0.0; stable,copy2 writes slot B with rootpart=3).
stage_case() {
	DEV="$CASE/dev"
	make_device "$DEV" || fail "make_device"
	slot_settings "$DEV" >>"$DEV/swinstall.conf"
	echo "console=ttyS0 root=$DEV/slotA.img ro" >"$DEV/cmdline"
	echo "22 1 254:1 / / rw - ext4 /dev/unrelated-root rw" >"$DEV/mountinfo"
	ab_image "$CASE/ab.swu" cms newc || fail "image not built"
}

STAGED_FILE=state/staged-commit

# stage_ok: stages $CASE/ab.swu; slot B holds it, A still boots.
stage_ok() {
	swi "$DEV" install --stage "$CASE/ab.swu"
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 "$CASE/w/rootfs.img"
	expect_slot_a_untouched "$DEV"
	[ -f "$DEV/$STAGED_FILE" ] || fail "no staged commit in $DEV/state"
}

# expect_installed EXIT STATE ARGS...: is-installed ARGS prints STATE and
# exits EXIT.
expect_installed() {
	want_rc=$1 want_state=$2
	shift 2
	swi "$DEV" is-installed "$@"
	cat "$CASE/out"
	expect_rc "$want_rc"
	grep -q ": $want_state" "$CASE/out" ||
		fail "is-installed printed '$(cat "$CASE/out")', expected $want_state"
}

# ------------------------------------------------------------------ stage

case_stage_keeps_running_slot() {
	stage_case
	swi "$DEV" install --stage --json -p "touch $CASE/postupdate-ran" "$CASE/ab.swu"
	expect_rc 0
	tail -n 1 "$CASE/out" | grep -q '"staged":true' || fail "the result line says not staged: $(tail -n 1 "$CASE/out")"
	tail -n 1 "$CASE/out" | grep -q '"class":"staged"' || fail "the result class is not staged"
	tail -n 1 "$CASE/out" | grep -q '"version":"2.0.0"' || fail "the result has no version"
	expect_bytes "$DEV/slotB.img" 0 "$CASE/w/rootfs.img"
	expect_slot_a_untouched "$DEV"
	expect_env "$DEV" rootpart 2
	expect_env "$DEV" ustate 0
	expect_env_absent "$DEV" recovery_status
	expect_env "$DEV" swinstall_version_B 2.0.0
	expect_env "$DEV" swinstall_complete A
	[ -f "$DEV/$STAGED_FILE" ] || fail "no staged commit"
	[ ! -e "$CASE/postupdate-ran" ] || fail "the post-update command ran at staging"
}

case_bad_input_during_stage() {
	stage_case
	cp "$CASE/ab.swu" "$CASE/bad.swu"
	flip_data "$CASE/bad.swu" rootfs.img || fail "cannot tamper"
	swi "$DEV" install --stage "$CASE/bad.swu"
	expect_rc 3
	expect_err "sha256"
	expect_slot_a_untouched "$DEV"
	expect_env "$DEV" rootpart 2
	expect_env_absent "$DEV" swinstall_version_B
	[ ! -e "$DEV/$STAGED_FILE" ] || fail "a failed staging left a staged commit"
	swi "$DEV" apply
	expect_rc 6
}

case_bad_signature_stage_writes_nothing() {
	stage_case
	cp "$CASE/ab.swu" "$CASE/bad.swu"
	flip_data "$CASE/bad.swu" sw-description 40 || fail "cannot tamper"
	swi "$DEV" install --stage "$CASE/bad.swu"
	expect_rc 3
	expect_device_untouched "$DEV"
	[ ! -e "$DEV/$STAGED_FILE" ] || fail "a refused staging left a staged commit"
}

# ------------------------------------------------------------------ apply

case_apply_switches() {
	stage_case
	stage_ok
	swi "$DEV" -p "touch $CASE/postupdate-ran" apply
	expect_rc 0
	expect_committed "$DEV" 3
	expect_env "$DEV" swinstall_complete "A B"
	expect_env "$DEV" swinstall_version_B 2.0.0
	[ ! -e "$DEV/$STAGED_FILE" ] || fail "apply left the staged commit"
	[ -e "$CASE/postupdate-ran" ] || fail "apply did not run the post-update command"
	# Once applied, there is nothing left to apply.
	cp "$DEV/env.img" "$CASE/env.after"
	swi "$DEV" apply
	expect_rc 6
	expect_err "nothing is staged"
	cmp -s "$DEV/env.img" "$CASE/env.after" || fail "a refused apply changed the environment"
}

# The environment as a redundant U-Boot pair: every write goes to the other
# copy with the flag one higher, so the flags count the writes.
use_env_pair() {
	mkenvimage -r -s "$ENV_SIZE" -o "$DEV/env1.img" "$DEV/env.txt" || fail "mkenvimage"
	cp "$DEV/env1.img" "$DEV/env2.img"
	printf '\000' | dd of="$DEV/env2.img" bs=1 seek=4 conv=notrunc 2>/dev/null
	printf '%s\n' "$DEV/env1.img 0x0 $ENV_SIZE" "$DEV/env2.img 0x0 $ENV_SIZE" \
		>"$DEV/fw_env.config"
}

# The higher flag of the pair (no test here writes 255 times).
env_writes() {
	a=$(od -An -tu1 -j4 -N1 "$DEV/env1.img" | tr -d ' ')
	b=$(od -An -tu1 -j4 -N1 "$DEV/env2.img" | tr -d ' ')
	[ "$a" -gt "$b" ] && echo "$a" || echo "$b"
}

case_apply_is_one_write() {
	stage_case
	use_env_pair
	stage_ok
	before=$(env_writes)
	swi "$DEV" apply
	expect_rc 0
	expect_committed "$DEV" 3
	after=$(env_writes)
	echo "# environment copies written: flag $before before apply, $after after"
	[ "$after" -eq $((before + 1)) ] || fail "apply wrote the environment $((after - before)) times"
}

case_apply_nothing_staged() {
	stage_case
	swi "$DEV" apply
	expect_rc 6
	expect_err "nothing is staged"
	expect_device_untouched "$DEV"
}

case_apply_after_running_slot_changed() {
	stage_case
	stage_ok
	cp "$DEV/env.img" "$CASE/env.staged"
	echo "console=ttyS0 root=$DEV/slotB.img ro" >"$DEV/cmdline"
	swi "$DEV" apply
	expect_rc 6
	expect_err "slot B runs now, but the commit was staged while slot A ran"
	cmp -s "$DEV/env.img" "$CASE/env.staged" || fail "a refused apply changed the environment"
}

case_later_install_discards() {
	stage_case
	stage_ok
	ab_image "$CASE/second.swu" cms newc 200K || fail "image not built"
	swi "$DEV" install "$CASE/second.swu"
	expect_rc 0
	expect_committed "$DEV" 3
	[ ! -e "$DEV/$STAGED_FILE" ] || fail "the install kept the earlier staged commit"
	swi "$DEV" apply
	expect_rc 6
}

case_later_stage_replaces() {
	stage_case
	stage_ok
	swi "$DEV" -v install --stage "$CASE/ab.swu"
	expect_rc 0
	grep -q "staged commit is discarded (a new install started)" "$CASE/err" ||
		fail "the second staging did not discard the first one's commit"
	expect_env "$DEV" rootpart 2
	swi "$DEV" apply
	expect_rc 0
	expect_committed "$DEV" 3
}

# With two slots the other one is the staged slot: a forced rollback boots
# it in the rollback's state (ustate=3), and the commit is gone.
case_rollback_discards() {
	stage_case
	stage_ok
	swi "$DEV" --force rollback
	expect_rc 0
	expect_env "$DEV" ustate 3
	[ ! -e "$DEV/$STAGED_FILE" ] || fail "the rollback kept the staged commit"
	swi "$DEV" apply
	expect_rc 6
	expect_err "nothing is staged"
}

case_install_records_version() {
	stage_case
	swi "$DEV" install "$CASE/ab.swu"
	expect_rc 0
	expect_env "$DEV" swinstall_version_B 2.0.0
	# The first write of the next install into B forgets it; a failed one
	# leaves it forgotten.
	cp "$CASE/ab.swu" "$CASE/bad.swu"
	flip_data "$CASE/bad.swu" rootfs.img || fail "cannot tamper"
	swi "$DEV" install "$CASE/bad.swu"
	expect_rc 3
	expect_env_absent "$DEV" swinstall_version_B
}

# ----------------------------------------------------------- is-installed

case_is_installed_states() {
	stage_case
	expect_installed 10 not-installed "$CASE/ab.swu"
	stage_ok
	expect_installed 13 "staged (slot B)" "$CASE/ab.swu"
	expect_installed 13 "staged (slot B)" --version 2.0.0
	expect_installed 10 not-installed --version 1.0.0
	swi "$DEV" apply
	expect_rc 0
	expect_installed 12 "pending (slot B)" "$CASE/ab.swu"
	reboot_into_b
	expect_installed 0 "running (slot B)" "$CASE/ab.swu"
	swi "$DEV" is-installed --json --version 2.0.0
	expect_rc 0
	grep -q '"state":"running"' "$CASE/out" || fail "JSON: $(cat "$CASE/out")"
	grep -q '"slot":"B"' "$CASE/out" || fail "JSON: $(cat "$CASE/out")"
}

reboot_into_b() {
	echo "console=ttyS0 root=$DEV/slotB.img ro" >"$DEV/cmdline"
}

case_is_installed_idle() {
	stage_case
	swi "$DEV" install "$CASE/ab.swu"
	expect_rc 0
	# Rolled back before the reboot: B holds 2.0.0 and nothing boots it.
	swi "$DEV" rollback
	expect_rc 0
	expect_env "$DEV" rootpart 2
	expect_installed 14 "idle (slot B)" "$CASE/ab.swu"
}

case_is_installed_checks_signature() {
	stage_case
	cp "$CASE/ab.swu" "$CASE/bad.swu"
	flip_data "$CASE/bad.swu" sw-description 40 || fail "cannot tamper"
	swi "$DEV" is-installed "$CASE/bad.swu"
	expect_rc 3
}

# ----------------------------------------------------------------- status

case_status_per_slot() {
	stage_case
	stage_ok
	swi "$DEV" status
	expect_rc 0
	cat "$CASE/out"
	grep -Eq "^  A +$DEV/slotA.img +- +running next complete\$" "$CASE/out" ||
		fail "status: no row for slot A: $(cat "$CASE/out")"
	grep -Eq "^  B +$DEV/slotB.img +2.0.0 +staged\$" "$CASE/out" ||
		fail "status: no row for slot B: $(cat "$CASE/out")"
	grep -q "^staged: *slot B" "$CASE/out" || fail "status does not name the staged slot"
	swi "$DEV" status --json
	expect_rc 0
	tr -d ' \n' <"$CASE/out" >"$CASE/status.flat"
	grep -q '"staged":"B"' "$CASE/status.flat" || fail "status --json does not name the staged slot"
	grep -q '{"name":"B","device":"[^"]*slotB.img","version":"2.0.0","complete":false,"running":false,"booting_next":false,"staged":true}' "$CASE/status.flat" ||
		fail "status --json: slot B is not as staged: $(cat "$CASE/status.flat")"
	grep -q '{"name":"A","device":"[^"]*slotA.img","version":null,"complete":true,"running":true,"booting_next":true,"staged":false}' "$CASE/status.flat" ||
		fail "status --json: slot A: $(cat "$CASE/status.flat")"
}

# ----------------------------------------------------------------- verify

case_verify_writes_nothing() {
	stage_case
	# The lock is held meanwhile: verify must not need it.
	flock "$DEV/swinstall.lock" "$SWINSTALL" -f "$DEV/swinstall.conf" verify "$CASE/ab.swu" \
		>"$CASE/out" 2>"$CASE/err"
	# shellcheck disable=SC2034 # read by expect_rc
	SWI_RC=$?
	cat "$CASE/err"
	expect_rc 0
	expect_device_untouched "$DEV"
	[ ! -e "$DEV/state" ] || fail "verify created the state directory"
}

case_verify_catches_tampering() {
	stage_case
	cp "$CASE/ab.swu" "$CASE/bad.swu"
	flip_data "$CASE/bad.swu" rootfs.img || fail "cannot tamper"
	swi "$DEV" verify "$CASE/bad.swu"
	expect_rc 3
	expect_err "sha256"
	expect_device_untouched "$DEV"
}

t_init
run_case "stage: slot B written, A still boots, B's version recorded, post-update waits" case_stage_keeps_running_slot
run_case "stage: a bad artifact leaves the boot selection and slot A, nothing staged" case_bad_input_during_stage
run_case "stage: a bad signature writes nothing" case_bad_signature_stage_writes_nothing
run_case "apply: the staged commit switches to B, then the post-update command" case_apply_switches
run_case "apply: one environment write" case_apply_is_one_write
run_case "apply: nothing staged is refused (exit 6)" case_apply_nothing_staged
run_case "apply: refused after the running slot changed" case_apply_after_running_slot_changed
run_case "a later install discards the staged commit" case_later_install_discards
run_case "a later staging replaces the staged commit" case_later_stage_replaces
run_case "a rollback discards the staged commit" case_rollback_discards
run_case "install records the slot's version; the next install's first write forgets it" case_install_records_version
run_case "is-installed: not installed, staged, pending, running" case_is_installed_states
run_case "is-installed: idle after a rollback" case_is_installed_idle
run_case "is-installed: a tampered sw-description is refused" case_is_installed_checks_signature
run_case "status: a row per slot (text and JSON)" case_status_per_slot
run_case "verify: nothing written, no lock taken" case_verify_writes_nothing
run_case "verify: a tampered artifact is caught" case_verify_catches_tampering
t_done
