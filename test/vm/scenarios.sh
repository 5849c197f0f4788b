# shellcheck shell=sh
# The scenarios of the VM tests, each a case for run_case (test/integration/
# lib.sh) on a fresh copy of the base disk. Sourced by test/integration/test_vm.sh.

INSTALL='run install swinstall -i /data/update.swu'

# 1. boot A; install into slot B through /dev/sda3; reboot into B, which is
# pending; mark-good; reboot: B again, confirmed.
vm_life_cycle() {
	vm_new
	vm_step "$INSTALL
report_status"
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc install 0
	vm_expect_status next B
	vm_expect_status ustate 1
	[ "$(vm_slot_sha "$B_OFFSET")" = "$(cat "$VM_BASE/payload/slot-2.sha256")" ] ||
		vm_fail "slot B does not hold the image's file system byte for byte"
	vm_step 'report_status
run mark-good swinstall mark-good
report_status'
	vm_boot
	vm_expect_boot B 2.0.0
	grep -q '^SWIVM status .*"ustate":"2"' "$VM_LOG" || vm_fail "B was not on trial (ustate=2) before mark-good"
	vm_expect_rc mark-good 0
	vm_expect_status running B
	vm_expect_status ustate 0
	vm_step 'report_status'
	vm_boot
	vm_expect_boot B 2.0.0
	vm_expect_status running B
	vm_expect_status next B
	vm_expect_status ustate 0
	vm_grubenv | grep -qx 'upgrade_available=0' || vm_fail "upgrade_available is not 0 after mark-good"
}

# 2. an image for other hardware (exit 4) and a tampered one (exit 3): slot A
# boots again and status reports the failed install.
vm_refused() {
	vm_new
	vm_step 'run otherhw swinstall -i /data/otherhw.swu
run tampered swinstall -i /data/tampered.swu
report_status'
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc otherhw 4
	vm_expect_rc tampered 3
	vm_expect_status next A
	vm_step 'report_status'
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_status running A
	vm_expect_status next A
	vm_expect_status recovery_status failed
	vm_expect_status rollback null
}

# 3. slot B never confirms (its health check fails): GRUB counts three boots
# of it, then falls back to slot A by itself.
vm_bootloader_rollback() {
	vm_new
	vm_step "$INSTALL"
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc install 0
	vm_step 'echo "SWIVM health check failed: slot $(cat /etc/slot-release) is not confirmed"
report_status'
	for count in 1 2 3; do
		vm_boot
		vm_expect_boot B 2.0.0
		vm_marker env | grep -q "bootcount=$count " || vm_fail "boot $VM_NBOOT: bootcount is not $count"
	done
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_status running A
	vm_expect_status next A
	vm_expect_status ustate 3
}

# 4. from a confirmed slot B, swinstall rollback; the reboot boots slot A.
vm_requested_rollback() {
	vm_new
	vm_step "$INSTALL"
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc install 0
	vm_step 'run mark-good swinstall mark-good
report_status
run rollback swinstall rollback'
	vm_boot
	vm_expect_boot B 2.0.0
	vm_expect_rc mark-good 0
	vm_expect_status ustate 0
	vm_expect_rc rollback 0
	vm_step 'report_status'
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_status running A
	vm_expect_status next A
	vm_expect_status ustate 3
}

# vm_phase LOG: how far the install of a cut boot got, from its serial log:
# booting (the step had not begun), verifying, writing, committing (the
# commit was under way), exited (swinstall had exited).
vm_phase() {
	if grep -q '^SWIVM rc install' "$1"; then
		echo exited
	elif grep -q 'committing' "$1"; then
		echo committing
	elif grep -q 'installing' "$1"; then
		echo writing
	elif grep -q '^SWIVM step-begin' "$1"; then
		echo verifying
	else
		echo booting
	fi
}

# 5. power cuts: QEMU is killed at a random moment of an install into slot
# B, then the device boots again. It must come up, in slot A, or in a
# complete slot B and only if the commit was under way; the GRUB environment
# parses after the cut and after the boot. Counts go to $TMP/power-cuts.
vm_power_cuts() {
	vm_new
	vm_step "$INSTALL"
	cp "$VM_DISK" "$CASE/cut-base.img"
	# How long an install takes on this machine: the cuts fall in that time
	# and a little after it.
	vm_start
	vm_wait_for '^SWIVM step-begin' >/dev/null
	took=$(vm_wait_for '^SWIVM rc install')
	# shellcheck disable=SC2154 # vm_pid is set by vm_start
	wait "$vm_pid"
	vm_log_boot "uncut"
	vm_expect_rc install 0
	window=$((took * 5 / 4 + 500))
	echo "an install takes $took ms: cuts from 0 to $window ms after the step began"
	want=$(cat "$VM_BASE/payload/slot-2.sha256")
	n_verifying=0 n_writing=0 n_committing=0 n_exited=0
	in_a=0 in_b=0 i=0
	while [ "$i" -lt "$VM_CUTS" ]; do
		i=$((i + 1))
		: >"$CASE/serial.log"
		cp "$CASE/cut-base.img" "$VM_DISK"
		# Every other cut falls in the last moments of the install, around
		# the commit; the others anywhere in it.
		if [ $((i % 2)) -eq 0 ]; then
			delay=$((took - 600 + $(vm_random 900)))
			[ "$delay" -ge 0 ] || delay=0
		else
			delay=$(vm_random "$window")
		fi
		vm_cut "$delay"
		phase=$(vm_phase "$VM_LOG")
		eval "n_$phase=\$((n_$phase + 1))"
		vm_grubenv >"$CASE/env.txt" || vm_fail "cut $i ($delay ms, $phase): the GRUB environment does not parse"
		complete=no
		[ "$(vm_slot_sha "$B_OFFSET")" = "$want" ] && complete=yes
		vm_step 'report_status'
		vm_boot
		slot=$(vm_booted)
		case "$slot:$phase" in
		"A 1.0.0":exited)
			vm_fail "cut $i ($delay ms): swinstall had finished, yet slot A booted" ;;
		"A 1.0.0":*)
			in_a=$((in_a + 1)) ;;
		"B 2.0.0":committing | "B 2.0.0":exited)
			[ "$complete" = yes ] || vm_fail "cut $i ($delay ms, $phase): slot B booted but does not hold the image"
			in_b=$((in_b + 1)) ;;
		*)
			vm_fail "cut $i ($delay ms, $phase): booted '$slot'" ;;
		esac
		vm_grubenv >/dev/null || vm_fail "cut $i ($delay ms, $phase): the GRUB environment does not parse after the boot"
		echo "cut $i: $delay ms, $phase, B complete: $complete, booted $slot"
	done
	echo "power cuts: $VM_CUTS; reached: verifying $n_verifying, writing $n_writing," \
		"committing $n_committing, exited $n_exited; came up in A $in_a, in B $in_b" >"$TMP/power-cuts"
}

# 8. a second install before the reboot: the first one committed slot B, the
# second one into B breaks off half-way (a truncated image). The device must
# boot slot A, never the half-written B.
vm_second_install() {
	vm_new
	vm_step "$INSTALL
report_status
run truncated swinstall -i /data/truncated.swu
report_status"
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc install 0
	grep -q '^SWIVM status .*"next":"B"' "$VM_LOG" || vm_fail "the first install did not make B boot next"
	vm_expect_rc truncated 3
	vm_expect_status next A
	vm_step 'report_status'
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_status running A
	vm_expect_status recovery_status failed
}

# vm_firmware_check: the firmware partition (vfat) holds /overlays/vm.txt as
# the image had it, and fsck.vfat finds nothing to mend.
vm_firmware_check() {
	dd if="$VM_DISK" of="$CASE/fw.vfat" bs=1M skip=$((FW_OFFSET / 1048576)) \
		count=$((FW_BYTES / 1048576)) status=none
	got=$(mtype -i "$CASE/fw.vfat" ::overlays/vm.txt 2>&1)
	[ "$got" = "written into vfat by swinstall" ] || vm_fail "$1: /overlays/vm.txt of the vfat partition holds '$got'"
	fsck.vfat -n "$CASE/fw.vfat" >"$CASE/fsck.log" 2>&1 ||
		vm_fail "$1: fsck.vfat -n finds the vfat partition unclean: $(cat "$CASE/fsck.log")"
	! grep -qi dirty "$CASE/fsck.log" || vm_fail "$1: the vfat partition is dirty: $(cat "$CASE/fsck.log")"
	echo "$1: /overlays/vm.txt is there, fsck.vfat -n clean"
}

# 9. an image with a rawfile entry that mounts a vfat partition
# (filesystem = "vfat") and writes into it, besides slot B.
vm_vfat_file() {
	vm_new
	vm_step 'run install swinstall -i /data/update-vfat.swu'
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc install 0
	vm_firmware_check "after the install"
	vm_step 'report_status'
	vm_boot
	vm_expect_boot B 2.0.0
	vm_firmware_check "after the reboot"
}

# 7. offline update from a USB stick (a second disk) holding an image for
# other hardware, an older one and the right one: install --from picks the
# right one; then the life cycle of 1.
vm_usb() {
	vm_new
	VM_USB="$CASE/usb.img"
	cp --reflink=auto "$VM_BASE/usb.img" "$VM_USB" || fail "could not copy the stick"
	vm_step 'mkdir -p /run/usb
mount -o ro /dev/vda /run/usb
run from swinstall install --from /run/usb
umount /run/usb
report_status'
	vm_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc from 0
	vm_expect_status next B
	[ "$(vm_slot_version B)" = 2.0.0 ] || vm_fail "install --from put version '$(vm_slot_version B)' into B, not 2.0.0"
	[ "$(vm_slot_sha "$B_OFFSET")" = "$(cat "$VM_BASE/payload/slot-2.sha256")" ] ||
		vm_fail "slot B does not hold the 2.0.0 image's file system byte for byte"
	vm_step 'run mark-good swinstall mark-good'
	vm_boot
	vm_expect_boot B 2.0.0
	vm_expect_rc mark-good 0
	vm_step 'report_status'
	vm_boot
	vm_expect_boot B 2.0.0
	vm_expect_status ustate 0
}

# 6. the life cycle with bootloader = "uboot": the redundant environment
# pair lies on the disk at fixed offsets, as on an eMMC; the host plays
# U-Boot with examples/boot/boot.cmd (vm_uboot_boot).
vm_uboot_life_cycle() {
	vm_new
	U='-f /etc/swinstall-uboot.conf'
	vm_step "run install swinstall $U -i /data/update.swu
report_status $U"
	vm_uboot_boot
	vm_expect_boot A 1.0.0
	vm_expect_rc install 0
	vm_expect_status next B
	vm_expect_status ustate 1
	[ "$(vm_slot_sha "$B_OFFSET")" = "$(cat "$VM_BASE/payload/slot-2.sha256")" ] ||
		vm_fail "slot B does not hold the image's file system byte for byte"
	vm_step "report_status $U
run mark-good swinstall $U mark-good
report_status $U"
	vm_uboot_boot
	vm_expect_boot B 2.0.0
	grep -q '^SWIVM status .*"ustate":"2"' "$VM_LOG" || vm_fail "B was not on trial (ustate=2) before mark-good"
	vm_expect_rc mark-good 0
	vm_expect_status ustate 0
	vm_step "report_status $U"
	vm_uboot_boot
	vm_expect_boot B 2.0.0
	vm_expect_status running B
	vm_expect_status ustate 0
	grep -qx 'upgrade_available=0' "$CASE/uboot-env.txt" || vm_fail "upgrade_available is not 0 after mark-good"
}
