#!/bin/sh
# run-tests: timeout=900
# swinstall on a real boot chain: an A/B disk with GRUB and
# examples/boot/grub.cfg boots under QEMU (TCG); the guest runs swinstall
# against its real block devices and GRUB environment. test/vm/ has the parts.
#
# VM_CUTS: power cuts of the power-cut scenario (default 10; make check-vm: 50).
# VM_ONLY="1 5": only those scenarios (by number). VM_JOBS=1: one QEMU at a
# time (default: two).
# Skipped (one "ok - # SKIP" line saying why) without qemu-system-x86_64,
# GRUB's i386-pc files or a kernel package to fetch.
# shellcheck disable=SC2034 # T_NUM, T_PASSED and T_FAILED belong to lib.sh
. "$(dirname "$0")/lib.sh"
VM_DIR="$(cd "$(dirname "$0")/../vm" && pwd)"
. "$VM_DIR/lib.sh"
. "$VM_DIR/scenarios.sh"

VM_CUTS=${VM_CUTS:-10}

for tool in qemu-system-x86_64 grub-mkimage grub-editenv busybox sfdisk mkfs.ext4 debugfs \
	mkfs.vfat mcopy mtype fsck.vfat mkenvimage fw_printenv fw_setenv python3; do
	command -v "$tool" >/dev/null 2>&1 || t_skip_all "skipped: no $tool (make deps installs test/debian-packages)"
done
[ -f /usr/lib/grub/i386-pc/boot.img ] || t_skip_all "skipped: no GRUB for BIOS (grub-pc-bin)"
[ -x /bin/busybox ] || t_skip_all "skipped: no /bin/busybox (busybox-static)"
# A sanitizer build (make check-asan) carries its runtimes (libasan,
# libubsan, libstdc++) into the guest, more than a slot holds; the VM
# proves the boot chain with the build of make check.
if readelf -d "$SWINSTALL" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
	t_skip_all "skipped: $SWINSTALL is a sanitizer build (make check runs the VM tests)"
fi

t_init
# The kernel .deb and the base disk stay next to the program being tested.
VM_BUILD="$(cd "$(dirname "$SWINSTALL")" && pwd)/vm"
kernel=$(sh "$VM_DIR/kernel.sh" "$VM_BUILD/cache" 2>"$TMP/kernel.err") ||
	t_skip_all "skipped: no kernel: $(cat "$TMP/kernel.err")"
VM_BASE="$VM_BUILD/base"
start=$(date +%s)
sh "$VM_DIR/build-disk.sh" "$SWINSTALL" "$kernel" "$VM_BASE" >"$TMP/build.log" 2>&1 || {
	echo "not ok - the VM disk is built"
	sed 's/^/#   /' "$TMP/build.log"
	exit 1
}
echo "# VM disk built in $(($(date +%s) - start)) s"
. "$VM_BASE/layout"

# vm_case NUMBER NAME FUNCTION: run_case, unless VM_ONLY leaves it out.
vm_case() {
	case " ${VM_ONLY:-$1} " in
	*" $1 "*) run_case "VM $1: $2" "$3" ;;
	esac
}

vm_scenario() {
	case "$1" in
	1) vm_case 1 "life cycle: A installs B through /dev/sda3, B boots pending, mark-good, B confirmed" vm_life_cycle ;;
	2) vm_case 2 "refused images (other hardware: exit 4, tampered: exit 3): A boots, status reports the failure" vm_refused ;;
	3) vm_case 3 "rollback by GRUB's boot counting: B never confirmed, the 4th boot is A" vm_bootloader_rollback ;;
	4) vm_case 4 "rollback on request from a confirmed B: A boots" vm_requested_rollback ;;
	5) vm_case 5 "$VM_CUTS power cuts during an install: A, or a complete B once committed; the env parses" vm_power_cuts ;;
	6) vm_case 6 "U-Boot environment pair on the disk: the life cycle, the host playing U-Boot with examples/boot/boot.cmd" vm_uboot_life_cycle ;;
	7) vm_case 7 "offline USB: install --from a stick picks the image for this board, newer than the running one; life cycle follows" vm_usb ;;
	8) vm_case 8 "a second install into B before the reboot breaks off half-way: A boots, not the half-written B" vm_second_install ;;
	9) vm_case 9 "a rawfile entry writes into a vfat partition it mounts: the file is there, fsck.vfat clean" vm_vfat_file ;;
	esac
}

# vm_group FIRST-CASE-NUMBER SCENARIO...: the scenarios one after the other;
# the case numbers (and so the cases' directories) start after FIRST.
vm_group() {
	T_NUM=$1
	shift
	for n in "$@"; do
		vm_scenario "$n"
	done
}

# Two QEMUs at a time (VM_JOBS=1: one): the power cuts with two short
# scenarios, the other scenarios beside them; TCG keeps one core busy each.
if [ "${VM_JOBS:-2}" -ge 2 ]; then
	vm_group 0 5 8 9 >"$TMP/group1.out" 2>&1 &
	group1=$!
	vm_group 100 1 2 3 4 6 7 >"$TMP/group2.out" 2>&1 &
	group2=$!
	wait "$group1" "$group2"
	cat "$TMP/group2.out" "$TMP/group1.out"
	T_PASSED=$(grep -c '^ok - ' "$TMP/group2.out" "$TMP/group1.out" | awk -F: '{ s += $2 } END { print s }')
	T_FAILED=$(grep -c '^not ok - ' "$TMP/group2.out" "$TMP/group1.out" | awk -F: '{ s += $2 } END { print s }')
else
	vm_group 0 1 2 3 4 5 6 7 8 9
fi
[ -f "$TMP/power-cuts" ] && echo "# $(cat "$TMP/power-cuts")"
echo "# VM suite took $(($(date +%s) - start)) s"
t_done
