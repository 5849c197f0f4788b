# shellcheck shell=sh
# Host side of the VM tests: boots the disk test/vm/build-disk.sh made under
# QEMU and reads what the guest reports. Sourced after test/integration/lib.sh.
#
#   vm_new            this case's own copy of the base disk ($VM_DISK)
#   vm_step TEXT      the step the guest runs at its next boot (/data/step:
#                     shell code run by test/vm/guest-init, which also offers
#                     run NAME CMD... and report_status)
#   vm_boot           one boot, to the guest's power-off; $VM_LOG is its
#                     serial log, also appended to $CASE/serial.log
#   vm_expect_boot SLOT RELEASE, vm_expect_rc NAME N, vm_expect_status KEY VALUE
#   vm_fail REASON    ends the case with REASON and the serial log
#
# VM_BASE is the directory build-disk.sh filled (disk.img, layout, payload/).

VM_BOOT_TIMEOUT=${VM_BOOT_TIMEOUT:-180}
VM_NBOOT=0

# vm_qemu SERIAL-LOG &: QEMU on $VM_DISK (and the stick $VM_USB, /dev/vda in
# the guest, when set; with VM_APPEND, QEMU boots the kernel itself with that
# command line, as U-Boot would); run it in the background, where
# exec makes $! the pid of QEMU itself (the power cuts SIGKILL it).
vm_qemu() {
	# The disk sits behind virtio-scsi so the guest names it /dev/sda, as
	# examples/boot/grub.cfg does; -no-reboot: the guest's power-off (and any
	# reboot) ends QEMU. TCG: KVM is not to be relied on here.
	exec qemu-system-x86_64 -accel tcg -m 256 -display none -monitor none -no-reboot \
		-serial "file:$1" -device virtio-scsi-pci,id=scsi0 \
		-drive "file=$VM_DISK,format=raw,if=none,id=d0" \
		-device scsi-hd,drive=d0,bus=scsi0.0 \
		${VM_USB:+-drive "file=$VM_USB,format=raw,if=virtio"} \
		${VM_APPEND:+-kernel "$VM_BASE/vmlinuz" -initrd "$VM_BASE/initrd.img" -append "$VM_APPEND"}
}

vm_new() {
	VM_DISK="$CASE/disk.img"
	cp --reflink=auto "$VM_BASE/disk.img" "$VM_DISK" || fail "could not copy the base disk"
	: >"$CASE/serial.log"
}

vm_step() {
	printf '%s\n' "$1" >"$CASE/step"
	# debugfs reaches the data partition inside the disk image with ?offset=.
	debugfs -w -f - "$VM_DISK?offset=$DATA_OFFSET" >"$CASE/debugfs.log" 2>&1 <<EOF || fail "debugfs could not write the step"
rm step
write $CASE/step step
EOF
	grep -q "^Allocated inode" "$CASE/debugfs.log" || fail "debugfs did not write the step: $(cat "$CASE/debugfs.log")"
}

# vm_log_boot: appends $VM_LOG to the case's whole serial log.
vm_log_boot() {
	{
		echo "----- boot $VM_NBOOT ($1)"
		cat "$VM_LOG"
	} >>"$CASE/serial.log"
}

vm_boot() {
	vm_start
	t0=$(date +%s%N)
	while kill -0 "$vm_pid" 2>/dev/null; do
		if [ $((($(date +%s%N) - t0) / 1000000000)) -ge "$VM_BOOT_TIMEOUT" ]; then
			kill -9 "$vm_pid" 2>/dev/null
			wait "$vm_pid"
			vm_log_boot "timed out"
			vm_fail "boot $VM_NBOOT did not end within $VM_BOOT_TIMEOUT s"
		fi
		sleep 0.1
	done
	wait "$vm_pid"
	vm_log_boot "$((($(date +%s%N) - t0) / 1000000)) ms"
	grep -q '^SWIVM end' "$VM_LOG" || vm_fail "boot $VM_NBOOT did not reach its end (qemu: $(cat "$CASE/qemu.out"))"
}

vm_fail() {
	{
		echo "$1"
		echo "serial console of the guest:"
		sed 's/^/  /' "$CASE/serial.log"
	} >>"$T_REASON"
	exit 1
}

# vm_marker WORD: the rest of the last "SWIVM WORD ..." line of this boot.
vm_marker() {
	sed -n "s/^SWIVM $1 //p" "$VM_LOG" | tr -d '\r' | tail -n 1
}

vm_booted() {
	vm_marker boot | sed -n "s/^slot=\([A-Z]*\) release=\([^ ]*\) .*/\1 \2/p"
}

vm_expect_boot() {
	got=$(vm_booted)
	[ "$got" = "$1 $2" ] || vm_fail "boot $VM_NBOOT: expected slot $1 with release $2, got '$got'"
	echo "boot $VM_NBOOT: slot $1, release $2"
}

vm_expect_rc() {
	got=$(sed -n "s/^SWIVM rc $1 //p" "$VM_LOG" | tr -d '\r' | tail -n 1)
	[ "$got" = "$2" ] || vm_fail "boot $VM_NBOOT: '$1' exited with '$got', expected $2"
	echo "boot $VM_NBOOT: $1 exited with $2"
}

# vm_status KEY: a top-level value of the last "swinstall status --json" of
# this boot ("null" for null).
vm_status() {
	vm_marker status | python3 -c 'import json, sys
v = json.load(sys.stdin).get(sys.argv[1])
print("null" if v is None else v)' "$1"
}

vm_expect_status() {
	got=$(vm_status "$1") || vm_fail "boot $VM_NBOOT: no status --json to read"
	[ "$got" = "$2" ] || vm_fail "boot $VM_NBOOT: status says $1=$got, expected $2"
	echo "boot $VM_NBOOT: status $1=$2"
}

# vm_grubenv: the GRUB environment block on the boot partition, listed by
# grub-editenv (fails when it does not parse).
vm_grubenv() {
	mcopy -o -i "$VM_DISK@@$BOOT_OFFSET" ::grub/grubenv "$CASE/grubenv" 2>/dev/null &&
		[ "$(stat -c %s "$CASE/grubenv")" -eq 1024 ] &&
		head -c 24 "$CASE/grubenv" | grep -q '^# GRUB Environment Block' &&
		grub-editenv "$CASE/grubenv" list
}

# vm_slot_sha SLOT-OFFSET: sha256 of a slot's partition in the disk image.
vm_slot_sha() {
	dd if="$VM_DISK" bs=1M skip=$(($1 / 1048576)) count=$((SLOT_BYTES / 1048576)) status=none |
		openssl dgst -sha256 -r | cut -d' ' -f1
}

# vm_start: starts a boot in the background ($vm_pid, log $VM_LOG).
vm_start() {
	VM_NBOOT=$((VM_NBOOT + 1))
	VM_LOG="$CASE/boot$VM_NBOOT.log"
	: >"$VM_LOG"
	vm_qemu "$VM_LOG" >"$CASE/qemu.out" 2>&1 &
	vm_pid=$!
}

# vm_wait_for PATTERN: waits (up to VM_BOOT_TIMEOUT) until a line of the
# running boot's serial log matches PATTERN; prints the milliseconds waited.
vm_wait_for() {
	t0=$(date +%s%N)
	while ! grep -q "$1" "$VM_LOG"; do
		kill -0 "$vm_pid" 2>/dev/null || { vm_log_boot "ended"; vm_fail "boot $VM_NBOOT ended before '$1'"; }
		if [ $((($(date +%s%N) - t0) / 1000000000)) -ge "$VM_BOOT_TIMEOUT" ]; then
			kill -9 "$vm_pid" 2>/dev/null
			wait "$vm_pid"
			vm_log_boot "timed out"
			vm_fail "boot $VM_NBOOT: no '$1' within $VM_BOOT_TIMEOUT s"
		fi
		sleep 0.05
	done
	echo $((($(date +%s%N) - t0) / 1000000))
}

# vm_cut MILLISECONDS: pulls the plug (SIGKILL to QEMU) that long after the
# guest began its step.
vm_cut() {
	vm_start
	vm_wait_for '^SWIVM step-begin' >/dev/null
	sleep "$(($1 / 1000)).$(printf %03d $(($1 % 1000)))"
	kill -9 "$vm_pid" 2>/dev/null
	wait "$vm_pid"
	vm_log_boot "power cut $1 ms after the step began"
}

# vm_random N: a random number from 0 to N-1.
vm_random() {
	echo $(($(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1))
}

# vm_slot_version SLOT: the version status --json gives the slot.
vm_slot_version() {
	vm_marker status | python3 -c 'import json, sys
print([s["version"] for s in json.load(sys.stdin)["slots"] if s["name"] == sys.argv[1]][0])' "$1"
}

# vm_uboot_boot: the host plays U-Boot. It runs examples/boot/boot.cmd (its
# hush commands are sh, given setenv, setexpr, saveenv, load and booti)
# against the environment pair on the disk, read and written with
# fw_printenv/fw_setenv -c, then boots the slot the script chose with QEMU's
# direct kernel boot and the script's bootargs (root= named as this disk).
# shellcheck disable=SC2317 # the functions are called by boot.cmd
vm_uboot_boot() {
	printf '%s %s %s\n%s %s %s\n' "$VM_DISK" "$UBOOT_ENV1" "$UBOOT_ENV_SIZE" \
		"$VM_DISK" "$UBOOT_ENV2" "$UBOOT_ENV_SIZE" >"$CASE/fw_env.config"
	fw_printenv -c "$CASE/fw_env.config" >"$CASE/uboot-env.txt" 2>&1 ||
		vm_fail "fw_printenv cannot read the environment: $(cat "$CASE/uboot-env.txt")"
	sed "s/^\([a-z_]*\)=\(.*\)$/\1='\2'/" "$CASE/uboot-env.txt" >"$CASE/uboot-vars.sh"
	rm -f "$CASE/bootargs"
	(
		set +u # hush expands unset variables to nothing
		setenv() { eval "$1=\$2"; }
		setexpr() { eval "$1=\$(($2 $3 $4))"; }
		saveenv() {
			for v in rootpart ustate upgrade_available bootcount; do
				eval "echo \"$v=\$$v\""
			done >"$CASE/saveenv"
			fw_setenv -c "$CASE/fw_env.config" -s "$CASE/saveenv" || exit 1
		}
		load() { :; }
		booti() {
			# shellcheck disable=SC2154 # set by boot.cmd
			echo "$bootargs" >"$CASE/bootargs"
			exit 0
		}
		reset() { exit 1; }
		# shellcheck disable=SC1091
		. "$CASE/uboot-vars.sh"
		# shellcheck disable=SC1091
		. "$VM_DIR/../../examples/boot/boot.cmd"
	) >"$CASE/uboot.log" 2>&1
	[ -s "$CASE/bootargs" ] || vm_fail "boot.cmd booted nothing: $(cat "$CASE/uboot.log")"
	VM_APPEND=$(sed 's|root=/dev/mmcblk0p|root=/dev/sda|' "$CASE/bootargs")
	echo "U-Boot: $(cat "$CASE/uboot.log")"
	vm_boot
}
