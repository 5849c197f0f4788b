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
