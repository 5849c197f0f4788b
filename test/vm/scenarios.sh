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
