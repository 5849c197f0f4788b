#!/bin/sh
# A/B slots: running-slot detection, automatic standby, refusal of busy
# targets, status / mark-good / rollback, on a single U-Boot environment, a
# redundant U-Boot pair and a GRUB environment block; a redundant copy torn
# in the middle of a write; the example boot scripts (syntax, and their
# boot counting run against the environment swinstall writes).
#
# The simulated device of a case (mk_ab DIR BACKEND) is a set of plain files:
#   slotA.img, slotB.img  1 MiB each; slot A (rootpart=2) runs, B (rootpart=3)
#   cmdline, mountinfo    simulated /proc/cmdline and /proc/self/mountinfo;
#                         cmdline says root=DIR/slotA.img, mountinfo mounts
#                         DIR/data.img on /data (and / from an unrelated device)
#   data.img              a mounted device no update may write
#   env.img               BACKEND uboot: one environment (mkenvimage)
#   env1.img, env2.img    BACKEND pair: a redundant pair (mkenvimage -r)
#   env.img (32 KiB)      BACKEND pairfile: a redundant pair in one file
#   grubenv               BACKEND grub: GRUB environment block (grub-editenv)
#   swinstall.conf        slots A and B and all of the above
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BOOT_EXAMPLES="$ROOT/examples/boot"
AB_SLOT_SIZE=1048576
AB_ENV_SIZE=0x4000

# ------------------------------------------------------------ the device

# mk_ab DIR BACKEND(uboot|pair|pairfile|grub)
mk_ab() {
	d=$1 backend=$2
	mkdir -p "$d"
	echo "$backend" >"$d/backend"
	yes "slot A: running system 1.0 " | head -c "$AB_SLOT_SIZE" >"$d/slotA.img"
	yes "slot B: old standby system 0.9 " | head -c "$AB_SLOT_SIZE" >"$d/slotB.img"
	yes "data partition " | head -c 65536 >"$d/data.img"
	cp "$d/slotB.img" "$d/slotB.orig"
	printf 'bootcount=0\nbootlimit=3\nrootpart=2\nupgrade_available=0\nustate=0\n' >"$d/env.txt"
	case "$backend" in
	uboot)
		mkenvimage -s "$AB_ENV_SIZE" -o "$d/env.img" "$d/env.txt" || return 1
		echo "$d/env.img 0x0 $AB_ENV_SIZE" >"$d/fw_env.config"
		boot="bootloader = \"uboot\"; uboot-env-config = \"$d/fw_env.config\";"
		;;
	pair)
		# Both copies hold the same variables; copy 1 has flag 1 (mkenvimage
		# -r), copy 2 flag 0, so copy 1 is current. The CRC does not cover
		# the flag byte.
		mkenvimage -r -s "$AB_ENV_SIZE" -o "$d/env1.img" "$d/env.txt" || return 1
		cp "$d/env1.img" "$d/env2.img"
		printf '\000' | dd of="$d/env2.img" bs=1 seek=4 conv=notrunc 2>/dev/null
		printf '%s\n' "$d/env1.img 0x0 $AB_ENV_SIZE" "$d/env2.img 0x0 $AB_ENV_SIZE" \
			>"$d/fw_env.config"
		boot="bootloader = \"uboot\"; uboot-env-config = \"$d/fw_env.config\";"
		;;
	pairfile)
		# A redundant pair as two halves of one file.
		mkenvimage -r -s "$AB_ENV_SIZE" -o "$d/env.img" "$d/env.txt" || return 1
		mkenvimage -r -s "$AB_ENV_SIZE" -o "$d/env2.img" "$d/env.txt" || return 1
		printf '\000' | dd of="$d/env2.img" bs=1 seek=4 conv=notrunc 2>/dev/null
		cat "$d/env2.img" >>"$d/env.img"
		rm -f "$d/env2.img"
		printf '%s\n' "$d/env.img 0x0 $AB_ENV_SIZE" "$d/env.img $AB_ENV_SIZE $AB_ENV_SIZE" \
			>"$d/fw_env.config"
		boot="bootloader = \"uboot\"; uboot-env-config = \"$d/fw_env.config\";"
		;;
	grub)
		grub-editenv "$d/grubenv" create || return 1
		grub-editenv "$d/grubenv" set bootcount=0 bootlimit=3 rootpart=2 \
			upgrade_available=0 ustate=0 || return 1
		boot="bootloader = \"grub\"; grubenv = \"$d/grubenv\";"
		;;
	*) echo "mk_ab: unknown backend $backend" >&2; return 1 ;;
	esac
	echo "myboard 1.0" >"$d/hwrevision"
	printf 'rootfs 1.0.0\n' >"$d/sw-versions"
	echo "console=ttyS0 root=$d/slotA.img rootwait ro" >"$d/cmdline"
	printf '%s\n' "22 1 254:1 / / rw - ext4 /dev/unrelated-root rw" \
		"36 22 7:3 / /data rw - ext4 $d/data.img rw" >"$d/mountinfo"
	cat >"$d/swinstall.conf" <<EOF
public-key = "$KEYS/ca.pem";
$boot
EOF
	device_settings "$d" >>"$d/swinstall.conf"
	slot_settings "$d" >>"$d/swinstall.conf"
}

env_files() {
	case "$(cat "$1/backend")" in
	uboot | pairfile) echo "$1/env.img" ;;
	pair) echo "$1/env1.img $1/env2.img" ;;
	grub) echo "$1/grubenv" ;;
	esac
}

# dev_sums DIR: checksums of both slots, the mounted device and the env.
dev_sums() {
	# shellcheck disable=SC2046 # a list of files on purpose
	for f in "$1/slotA.img" "$1/slotB.img" "$1/data.img" $(env_files "$1"); do
		echo "$(basename "$f") $(sha "$f")"
	done
}

remember() {
	dev_sums "$1" >"$1/.sums"
}

# expect_untouched DIR: nothing changed since `remember DIR`.
expect_untouched() {
	dev_sums "$1" >"$1/.sums-now"
	cmp -s "$1/.sums" "$1/.sums-now" ||
		fail "device changed: $(diff "$1/.sums" "$1/.sums-now" | grep '^>' | tr '\n' ' ')"
}

# ------------------------------------------------- the bootloader's view

# tool_env DIR: the environment as the bootloader's own tool prints it.
tool_env() {
	case "$(cat "$1/backend")" in
	uboot | pair | pairfile) fw_printenv -c "$1/fw_env.config" ;;
	grub) grub-editenv "$1/grubenv" list ;;
	esac
}

# tool_set DIR NAME VALUE: what the bootloader would write.
tool_set() {
	case "$(cat "$1/backend")" in
	uboot | pair | pairfile) fw_setenv -c "$1/fw_env.config" "$2" "$3" ;;
	grub) grub-editenv "$1/grubenv" set "$2=$3" ;;
	esac
}

expect_tool_env() {
	tool_env "$1" >"$CASE/.env" 2>&1 || fail "the bootloader's tool cannot read the environment: $(cat "$CASE/.env")"
	grep -q "^$2=" "$CASE/.env" || fail "env: $2 is absent, expected '$3'"
	v=$(sed -n "s/^$2=//p" "$CASE/.env")
	[ "$v" = "$3" ] || fail "env: $2='$v', expected '$3'"
}

expect_tool_env_absent() {
	tool_env "$1" >"$CASE/.env" 2>&1 || fail "the bootloader's tool cannot read the environment: $(cat "$CASE/.env")"
	if grep -q "^$2=" "$CASE/.env"; then
		fail "env: $2 is set ($(grep "^$2=" "$CASE/.env")), expected absent"
	fi
}

# expect_next_boot DIR SLOT USTATE: the env selects SLOT's partition.
expect_next_boot() {
	case "$2" in A) rp=2 ;; B) rp=3 ;; esac
	expect_tool_env "$1" rootpart "$rp"
	expect_tool_env "$1" ustate "$3"
}

# ------------------------------------------------------- running swinstall

# status_json DIR: runs `status --json` into $CASE/status.json.
status_json() {
	"$SWINSTALL" -f "$1/swinstall.conf" status --json >"$CASE/status.json" 2>"$CASE/status.err" ||
		fail "status --json failed: $(cat "$CASE/status.err")"
	cat "$CASE/status.json"
}

# jget KEY: a top-level value of $CASE/status.json ("null" for null). The
# output is json-c's pretty print: one "key": value per line.
jget() {
	sed -n -e "s/^  \"$1\": *\"\(.*\)\",\{0,1\} *\$/\1/p" \
		-e "s/^  \"$1\": *\([^\" ,][^ ,]*\),\{0,1\} *\$/\1/p" "$CASE/status.json"
}

expect_status() {
	v=$(jget "$1")
	[ "$v" = "$2" ] || fail "status: $1 is '$v', expected '$2'"
}

# expect_state DIR RUNNING NEXT USTATE: what `status --json` says.
expect_state() {
	status_json "$1"
	expect_status running "$2"
	expect_status next "$3"
	expect_status ustate "$4"
}

# reboot_into DIR SLOT: the next "boot" runs SLOT (found by root=).
reboot_into() {
	echo "console=ttyS0 root=$1/slot$2.img rootwait ro" >"$1/cmdline"
}

# ------------------------------------------------------------- the images

# mk_image OUT DIR DEVICE-A DEVICE-B [SEED]: a signed A/B image with a 200 KiB
# payload (DIR/rootfs.img; the cases use DIR=$CASE/w, which expect_written
# reads): stable,copy1 writes DEVICE-A and sets rootpart=2, stable,copy2
# writes DEVICE-B and sets rootpart=3.
mk_image() {
	w=$2
	mkdir -p "$w"
	mk_data "$w/rootfs.img" 200K "${5:-slots-$T_NUM}"
	h=$(sha "$w/rootfs.img")
	cat >"$w/sw-description" <<EOF
software =
{
	version = "2.0.0";
	hardware-compatibility: [ "1.0" ];
	stable: {
		copy1: {
			images: ( { filename = "rootfs.img"; type = "raw"; device = "$3"; sha256 = "$h"; } );
			bootenv: ( { name = "rootpart"; value = "2"; } );
		};
		copy2: {
			images: ( { filename = "rootfs.img"; type = "raw"; device = "$4"; sha256 = "$h"; } );
			bootenv: ( { name = "rootpart"; value = "3"; } );
		};
	};
}
EOF
	sign_cms "$w" || return 1
	mk_cpio "$1" newc "$w" sw-description sw-description.sig rootfs.img
}

# expect_written DIR SLOT: the payload is at the start of SLOT, the rest of
# it is as before (an installed slot B keeps the tail of slot B.orig).
expect_written() {
	expect_bytes "$1/slot$2.img" 0 "$CASE/w/rootfs.img"
	[ "$(wc -c <"$1/slot$2.img")" -eq "$AB_SLOT_SIZE" ] || fail "slot$2.img changed size"
}

# install_ok DIR: installs $CASE/ab.swu without -e.
install_ok() {
	swi "$1" -i "$CASE/ab.swu"
	expect_rc 0
}

# ---------------------------------------------------------------- (a) detection

# detect CMDLINE MOUNTINFO-ROOT EXPECTED-RUNNING EXPECTED-FOUND-BY
detect() {
	D="$CASE/dev"
	mk_ab "$D" uboot || fail "device setup failed"
	echo "$1" >"$D/cmdline"
	[ -n "$2" ] && echo "22 1 254:1 / / rw - ext4 $2 rw" >"$D/mountinfo"
	status_json "$D"
	expect_status running "$3"
	expect_status running_found_by "$4"
	case "$3" in A) expect_status standby B ;; B) expect_status standby A ;; esac
	expect_status next A
}

case_detect_swinstall_slot() {
	detect "console=ttyS0 root=$CASE/dev/slotA.img swinstall.slot=B" "" B \
		"kernel command line swinstall.slot"
}

case_detect_rauc_slot() {
	detect "rauc.slot=B root=$CASE/dev/slotA.img quiet" "" B "kernel command line rauc.slot"
}

case_detect_root_path() {
	detect "console=ttyS0 root=$CASE/dev/slotB.img ro" "" B "kernel command line root="
}

case_detect_root_symlink() {
	mkdir -p "$CASE/by-name"
	ln -s "$CASE/dev/slotB.img" "$CASE/by-name/rootfs-b"
	detect "console=ttyS0 root=$CASE/by-name/rootfs-b ro" "" B "kernel command line root="
}

case_detect_mountinfo() {
	detect "console=ttyS0 quiet" "$CASE/dev/slotB.img" B "mountinfo"
}

case_detect_root_overrides_mountinfo() {
	detect "root=$CASE/dev/slotA.img" "$CASE/dev/slotB.img" A "kernel command line root="
}

case_detect_unknown() {
	D="$CASE/dev"
	mk_ab "$D" uboot || fail "device setup failed"
	echo "console=ttyS0 root=/dev/nothing-known" >"$D/cmdline"
	status_json "$D"
	expect_status running null
	expect_status next A
	# Without a running slot there is no standby to install into.
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	remember "$D"
	swi "$D" -i "$CASE/ab.swu"
	expect_rc 4
	expect_err "running slot unknown"
	expect_untouched "$D"
}

# ------------------------------------------------ (b) automatic standby

case_standby_both_ways() {
	D="$CASE/dev"
	mk_ab "$D" uboot || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	cp "$D/slotA.img" "$CASE/slotA.before"
	install_ok "$D"
	expect_written "$D" B
	cmp -s "$D/slotA.img" "$CASE/slotA.before" || fail "slot A changed"
	expect_next_boot "$D" B 1
	expect_tool_env_absent "$D" recovery_status
	expect_state "$D" A B 1

	reboot_into "$D" B
	expect_state "$D" B B 1
	expect_status standby A
	swi "$D" mark-good
	expect_rc 0
	expect_next_boot "$D" B 0
	expect_tool_env "$D" bootcount 0
	expect_tool_env "$D" upgrade_available 0
	expect_state "$D" B B 0

	# B runs now: the next install goes to slot A, slot B stays as it is.
	cp "$D/slotB.img" "$CASE/slotB.before"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" second || fail "image not built"
	install_ok "$D"
	expect_written "$D" A
	cmp -s "$D/slotB.img" "$CASE/slotB.before" || fail "slot B (running) changed"
	expect_next_boot "$D" A 1
	expect_state "$D" B A 1
}

# ------------------------------------------------------------ (c) refusals

case_refuse_select_of_running() {
	D="$CASE/dev"
	mk_ab "$D" uboot || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	remember "$D"
	swi "$D" -e stable,copy1 -i "$CASE/ab.swu"
	expect_rc 4
	expect_err "running slot A"
	expect_untouched "$D"
	# ... also with the image piped in
	swi_pipe "$CASE/ab.swu" "$D" -e stable,copy1 -i -
	expect_rc 4
	expect_untouched "$D"
}

# refuse_target BACKEND DEVICE-OF-COPY2 TEXT: the standby selection writes
# a device it must not write.
refuse_target() {
	D="$CASE/dev"
	mk_ab "$D" "$1" || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotB.img" "$2" || fail "image not built"
	remember "$D"
	swi "$D" -i "$CASE/ab.swu"
	expect_rc 4
	expect_err "$3"
	expect_untouched "$D"
	swi_pipe "$CASE/ab.swu" "$D" -i -
	expect_rc 4
	expect_untouched "$D"
}

case_refuse_running_device() {
	refuse_target uboot "$CASE/dev/slotA.img" "is the running slot A"
}

case_refuse_running_device_symlink() {
	ln -s "dev/slotA.img" "$CASE/active-root"
	refuse_target pair "$CASE/active-root" "is the running slot A"
}

case_refuse_mounted_device() {
	refuse_target grub "$CASE/dev/data.img" "is mounted on /data"
}

case_refuse_mounted_escaped_path() {
	# mountinfo writes a space in a path as \040
	D="$CASE/dev"
	mk_ab "$D" uboot || fail "device setup failed"
	mkdir -p "$D/my data"
	cp "$D/data.img" "$D/my data/"
	printf '%s\n' "22 1 254:1 / / rw - ext4 /dev/unrelated-root rw" \
		"36 22 7:3 / /srv/my\\040data rw - ext4 $D/my\\040data/data.img rw" >"$D/mountinfo"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotB.img" "$D/my data/data.img" || fail "image not built"
	remember "$D"
	sha "$D/my data/data.img" >"$CASE/data.sum"
	swi "$D" -i "$CASE/ab.swu"
	expect_rc 4
	expect_err "is mounted on /srv/my data"
	expect_untouched "$D"
	[ "$(sha "$D/my data/data.img")" = "$(cat "$CASE/data.sum")" ] || fail "the mounted device changed"
}

case_refuse_mounted_running_by_mountinfo() {
	# The running slot found through mountinfo only (no root= on the cmdline).
	D="$CASE/dev"
	mk_ab "$D" uboot || fail "device setup failed"
	echo "console=ttyS0" >"$D/cmdline"
	echo "22 1 254:1 / / rw - ext4 $D/slotB.img rw" >"$D/mountinfo"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotB.img" "$D/slotB.img" || fail "image not built"
	remember "$D"
	swi "$D" -i "$CASE/ab.swu"
	expect_rc 4
	expect_untouched "$D"
}

# ------------------------------------------------------ (d) mark-good too early

case_mark_good_before_reboot() {
	D="$CASE/dev"
	mk_ab "$D" pair || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	install_ok "$D"
	remember "$D"
	swi "$D" mark-good
	expect_rc 6
	expect_err "reboot into it"
	expect_untouched "$D"
	expect_next_boot "$D" B 1
}

case_mark_good_nothing_pending() {
	D="$CASE/dev"
	mk_ab "$D" uboot || fail "device setup failed"
	remember "$D"
	swi "$D" mark-good
	expect_rc 0
	expect_untouched "$D"
}

# --------------------------------------------------------------- (e) rollback

rollback_after_install() {
	D="$CASE/dev"
	mk_ab "$D" "$1" || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	install_ok "$D"
	expect_state "$D" A B 1
	swi "$D" rollback
	expect_rc 0
	expect_next_boot "$D" A 3
	expect_tool_env "$D" bootcount 0
	expect_tool_env "$D" upgrade_available 0
	expect_state "$D" A A 3
	expect_written "$D" B
}

case_rollback_before_reboot() {
	rollback_after_install uboot
}

case_rollback_after_reboot() {
	D="$CASE/dev"
	mk_ab "$D" grub || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	install_ok "$D"
	reboot_into "$D" B
	expect_state "$D" B B 1
	swi "$D" rollback
	expect_rc 0
	expect_next_boot "$D" A 3
	expect_state "$D" B A 3
	# and once more: from A booting next, rollback selects B again
	swi "$D" rollback
	expect_rc 0
	expect_next_boot "$D" B 3
}

# ------------------------------------------------- (f) the whole life cycle

# env_writes DIR: for a redundant pair, the flag of the current copy (each
# write of the environment increments it); 0 for the other backends.
env_writes() {
	if [ "$(cat "$1/backend")" = pair ]; then
		flag_of "$1/$(current_copy "$1")"
	else
		echo 0
	fi
}

# expect_writes DIR BEFORE N: N environment writes since env_writes said
# BEFORE (checked on a redundant pair only).
expect_writes() {
	[ "$(cat "$1/backend")" = pair ] || return 0
	now=$(env_writes "$1")
	[ "$now" -eq $(($2 + $3)) ] || fail "expected $3 environment write(s), the flag went from $2 to $now"
}

# life_cycle BACKEND: install, the bootloader's first boot (done with its
# own tool), mark-good, install back into A, rollback; each step checked
# with the bootloader's tool and with status (and, on a redundant pair, the
# number of environment writes: two for an install, one for the others).
life_cycle() {
	D="$CASE/dev"
	mk_ab "$D" "$1" || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	cp "$D/slotA.img" "$CASE/slotA.before"
	w=$(env_writes "$D")
	install_ok "$D"
	expect_writes "$D" "$w" 2
	expect_written "$D" B
	cmp -s "$D/slotA.img" "$CASE/slotA.before" || fail "slot A changed"
	expect_next_boot "$D" B 1
	expect_tool_env_absent "$D" recovery_status
	expect_tool_env "$D" bootlimit 3
	expect_state "$D" A B 1

	remember "$D"
	swi "$D" mark-good
	expect_rc 6
	expect_untouched "$D"

	# First boot of slot B: the boot script puts it on trial.
	reboot_into "$D" B
	if ! { tool_set "$D" ustate 2 && tool_set "$D" upgrade_available 1 &&
		tool_set "$D" bootcount 1; }; then
		fail "the bootloader's tool could not write"
	fi
	expect_state "$D" B B 2
	w=$(env_writes "$D")
	swi "$D" mark-good
	expect_rc 0
	expect_writes "$D" "$w" 1
	expect_next_boot "$D" B 0
	expect_tool_env "$D" upgrade_available 0
	expect_tool_env "$D" bootcount 0
	expect_tool_env "$D" bootlimit 3
	expect_state "$D" B B 0

	cp "$D/slotB.img" "$CASE/slotB.before"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" third || fail "image not built"
	install_ok "$D"
	expect_written "$D" A
	cmp -s "$D/slotB.img" "$CASE/slotB.before" || fail "slot B (running) changed"
	expect_next_boot "$D" A 1
	expect_state "$D" B A 1

	w=$(env_writes "$D")
	swi "$D" rollback
	expect_rc 0
	expect_writes "$D" "$w" 1
	expect_next_boot "$D" B 3
	expect_state "$D" B B 3
	# ustate 3 is no pending update: mark-good has nothing to do
	remember "$D"
	swi "$D" mark-good
	expect_rc 0
	expect_untouched "$D"
	swi "$D" status
	expect_rc 0
	grep -q "^running slot: *B" "$CASE/out" || fail "status text: $(cat "$CASE/out")"
}

case_life_cycle_uboot() { life_cycle uboot; }
case_life_cycle_uboot_pair() { life_cycle pair; }
case_life_cycle_uboot_pair_one_file() { life_cycle pairfile; }
case_life_cycle_grub() { life_cycle grub; }

# --------------------------------------- (g) a redundant copy torn mid-write

# flag_of FILE: the flags byte (byte 4) of a redundant copy.
flag_of() {
	od -An -tu1 -j4 -N1 "$1" | tr -d ' \n'
}

# current_copy DIR: env1.img or env2.img, the copy libubootenv takes as
# current when both are valid: the one whose flag is one ahead of the
# other's (wrapping at 255), else the higher one.
current_copy() {
	f1=$(flag_of "$1/env1.img") f2=$(flag_of "$1/env2.img")
	if [ "$f1" -eq $(((f2 + 1) % 256)) ]; then
		echo env1.img
	elif [ "$f2" -eq $(((f1 + 1) % 256)) ]; then
		echo env2.img
	elif [ "$f1" -gt "$f2" ]; then
		echo env1.img
	else
		echo env2.img
	fi
}

# tear FILE: overwrites 64 bytes in the middle of an environment copy, as a
# write cut off half-way through leaves it (the CRC no longer matches).
tear() {
	yes X | head -c 64 | dd of="$1" bs=1 seek=$((0x2000)) conv=notrunc 2>/dev/null
}

case_pair_corrupt_latest_copy() {
	D="$CASE/dev"
	mk_ab "$D" pair || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	install_ok "$D"
	expect_next_boot "$D" B 1
	# The install wrote twice (the in_progress marker, then the commit):
	# each copy holds one of the two.
	latest=$(current_copy "$D")
	echo "current copy after the install: $latest (flags $(flag_of "$D/env1.img") $(flag_of "$D/env2.img"))"
	tear "$D/$latest"
	# The previous consistent environment: the marker, old boot selection.
	expect_next_boot "$D" A 0
	expect_tool_env "$D" recovery_status in_progress
	expect_state "$D" A A 0
	expect_status recovery_status in_progress
	# That environment says an install into B started and did not finish:
	# there is nothing to roll back to, unless forced.
	swi "$D" rollback
	expect_rc 6
	expect_err "nothing to roll back to"
	# swinstall writes over the torn copy; fw_printenv sees that write.
	swi "$D" --force rollback
	expect_rc 0
	expect_next_boot "$D" B 3
	expect_tool_env "$D" bootlimit 3
	[ "$(current_copy "$D")" = "$latest" ] || fail "the rollback did not go to the torn copy $latest"
}

case_pair_interrupted_write() {
	D="$CASE/dev"
	mk_ab "$D" pair || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	install_ok "$D"
	reboot_into "$D" B
	# mark-good goes to the copy that is not current; cut that write off
	# half-way: the first half new, the second half still the old bytes.
	target=$(current_copy "$D")
	target=$([ "$target" = env1.img ] && echo env2.img || echo env1.img)
	cp "$D/$target" "$CASE/old-copy"
	swi "$D" mark-good
	expect_rc 0
	expect_next_boot "$D" B 0
	[ "$(current_copy "$D")" = "$target" ] || fail "mark-good did not write $target"
	# Torn inside the variables (they take a few hundred bytes at the
	# start), so the copy cannot equal either the old or the new one.
	cp "$D/$target" "$CASE/new-copy"
	{
		head -c 32 "$D/$target"
		tail -c +33 "$CASE/old-copy"
	} >"$CASE/torn"
	cp "$CASE/torn" "$D/$target"
	cmp -s "$D/$target" "$CASE/old-copy" && fail "the torn copy equals the old one: nothing was torn"
	cmp -s "$D/$target" "$CASE/new-copy" && fail "the torn copy equals the new one: nothing was torn"
	# fw_printenv and status read the environment before mark-good.
	expect_next_boot "$D" B 1
	expect_state "$D" B B 1
	# and mark-good can simply be run again
	swi "$D" mark-good
	expect_rc 0
	expect_next_boot "$D" B 0
	expect_state "$D" B B 0
}

case_pair_both_copies_corrupt() {
	D="$CASE/dev"
	mk_ab "$D" pair || fail "device setup failed"
	tear "$D/env1.img"
	tear "$D/env2.img"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	remember "$D"
	swi "$D" -i "$CASE/ab.swu"
	[ "$SWI_RC" -ne 0 ] || fail "installed on a corrupt environment"
	expect_untouched "$D"
	swi "$D" rollback
	[ "$SWI_RC" -ne 0 ] || fail "rollback wrote a corrupt environment"
	expect_untouched "$D"
}

# ------------------------------------------------------ the example scripts

case_boot_cmd_mkimage() {
	mkimage -A arm64 -O linux -T script -C none -n "swinstall A/B" \
		-d "$BOOT_EXAMPLES/boot.cmd" "$CASE/boot.scr" || fail "mkimage refused boot.cmd"
	mkimage -l "$CASE/boot.scr" | grep -q "Script" || fail "boot.scr is not a script image"
}

case_grub_cfg_syntax() {
	grub-script-check "$BOOT_EXAMPLES/grub.cfg" || fail "grub-script-check refused grub.cfg"
	# the check can fail: a broken copy is refused
	sed '$d' "$BOOT_EXAMPLES/grub.cfg" >"$CASE/broken.cfg"
	if grub-script-check "$CASE/broken.cfg" >/dev/null 2>&1; then
		fail "grub-script-check accepted a grub.cfg without its last line"
	fi
}

# The boot scripts' logic, run by sh against the environment swinstall
# wrote. U-Boot's hush commands used in boot.cmd are sh syntax, given shell
# functions for setenv/setexpr/saveenv/load; grub.cfg needs `set N=V` turned
# into `N=V` and its menuentry dropped. Loading the kernel fails, so every
# simulated boot of a slot on trial is counted.
# shellcheck disable=SC2317 # the functions are called by the sourced scripts
sim_uboot_boot() {
	(
		set +u # hush expands unset variables to nothing
		setenv() { eval "$1=\$2"; }
		setexpr() { eval "$1=\$(($2 $3 $4))"; }
		saveenv() {
			for v in rootpart ustate upgrade_available bootcount; do
				eval "fw_setenv -c \"\$D/fw_env.config\" $v \"\$$v\"" || exit 1
			done
		}
		load() { return 1; }
		booti() { :; }
		reset() { :; }
		tool_env "$D" | sed "s/^\([a-z_]*\)=\(.*\)$/\1='\2'/" >"$CASE/vars.sh"
		# shellcheck disable=SC1091
		. "$CASE/vars.sh"
		# shellcheck disable=SC1091
		. "$BOOT_EXAMPLES/boot.cmd"
	)
}

# shellcheck disable=SC2317,SC2034 # functions and $prefix used by grub.sh
sim_grub_boot() {
	sed -e 's/^\([[:space:]]*\)set \([a-z_]*=\)/\1\2/' -e '/^menuentry/,$d' \
		"$BOOT_EXAMPLES/grub.cfg" >"$CASE/grub.sh"
	(
		set +u
		prefix=$(dirname "$D/grubenv")
		load_env() {
			grub-editenv "$D/grubenv" list | sed "s/^\([a-z_]*\)=\(.*\)$/\1='\2'/" >"$CASE/vars.sh"
			# shellcheck disable=SC1091
			. "$CASE/vars.sh"
		}
		save_env() {
			for v in "$@"; do
				eval "grub-editenv \"\$D/grubenv\" set \"$v=\$$v\"" || exit 1
			done
		}
		# shellcheck disable=SC1091
		. "$CASE/grub.sh"
	)
}

# boot_counting BACKEND SIM: install, then unconfirmed boots until the boot
# script goes back to slot A; then install again, boot once, mark-good.
boot_counting() {
	D="$CASE/dev"
	mk_ab "$D" "$1" || fail "device setup failed"
	mk_image "$CASE/ab.swu" "$CASE/w" "$D/slotA.img" "$D/slotB.img" || fail "image not built"
	install_ok "$D"
	for n in 1 2 3; do
		"$2" >"$CASE/boot.log" 2>&1 || fail "boot $n: $(cat "$CASE/boot.log")"
		expect_next_boot "$D" B 2
		expect_tool_env "$D" upgrade_available 1
		expect_tool_env "$D" bootcount "$n"
	done
	reboot_into "$D" B
	expect_state "$D" B B 2
	"$2" >"$CASE/boot.log" 2>&1 || fail "boot 4: $(cat "$CASE/boot.log")"
	expect_next_boot "$D" A 3
	expect_tool_env "$D" upgrade_available 0
	expect_tool_env "$D" bootcount 0
	reboot_into "$D" A
	expect_state "$D" A A 3
	"$2" >"$CASE/boot.log" 2>&1 || fail "boot 5: $(cat "$CASE/boot.log")"
	expect_next_boot "$D" A 3

	install_ok "$D"
	"$2" >"$CASE/boot.log" 2>&1 || fail "boot after the second install: $(cat "$CASE/boot.log")"
	reboot_into "$D" B
	expect_state "$D" B B 2
	swi "$D" mark-good
	expect_rc 0
	for n in 1 2 3 4 5; do
		"$2" >"$CASE/boot.log" 2>&1 || fail "confirmed boot $n: $(cat "$CASE/boot.log")"
	done
	expect_next_boot "$D" B 0
	expect_tool_env "$D" bootcount 0
}

case_boot_cmd_counting() { boot_counting pair sim_uboot_boot; }
case_grub_cfg_counting() { boot_counting grub sim_grub_boot; }

# ------------------------------------------------------------------- run

t_init
for tool in mkenvimage fw_printenv fw_setenv grub-editenv grub-script-check mkimage; do
	command -v "$tool" >/dev/null 2>&1 || t_skip_all "$tool is not installed"
done

run_case "slots: running slot from swinstall.slot= (over root=)" case_detect_swinstall_slot
run_case "slots: running slot from rauc.slot=" case_detect_rauc_slot
run_case "slots: running slot from root= (path)" case_detect_root_path
run_case "slots: running slot from root= (symlink)" case_detect_root_symlink
run_case "slots: running slot from the device mounted at / (mountinfo)" case_detect_mountinfo
run_case "slots: root= decides before mountinfo" case_detect_root_overrides_mountinfo
run_case "slots: unknown running slot: status says null, install without -e refused (4)" case_detect_unknown
run_case "slots: A running installs into B, B running installs into A; mark-good after reboot" case_standby_both_ways
run_case "slots: -e of the running slot refused (4), nothing written" case_refuse_select_of_running
run_case "slots: artifact on the running slot's device refused (4), nothing written" case_refuse_running_device
run_case "slots: artifact on a symlink to the running slot refused (4), nothing written" case_refuse_running_device_symlink
run_case "slots: artifact on a device mounted per mountinfo refused (4), nothing written" case_refuse_mounted_device
run_case "slots: a mounted device with an octal-escaped space in mountinfo refused (4)" case_refuse_mounted_escaped_path
run_case "slots: running slot known from mountinfo is refused as a target (4)" case_refuse_mounted_running_by_mountinfo
run_case "slots: mark-good before rebooting into the new slot refused (6), env unchanged" case_mark_good_before_reboot
run_case "slots: mark-good with no pending update does nothing (0)" case_mark_good_nothing_pending
run_case "slots: rollback after an install selects A again (rootpart=2, ustate=3)" case_rollback_before_reboot
run_case "slots: rollback after rebooting into B selects A (GRUB)" case_rollback_after_reboot
run_case "life cycle on a single U-Boot environment (fw_printenv)" case_life_cycle_uboot
run_case "life cycle on a redundant U-Boot pair (fw_printenv)" case_life_cycle_uboot_pair
run_case "life cycle on a redundant U-Boot pair in one file (fw_printenv)" case_life_cycle_uboot_pair_one_file
run_case "life cycle on a GRUB environment block (grub-editenv)" case_life_cycle_grub
run_case "redundant pair: the latest copy torn, the previous environment is read" case_pair_corrupt_latest_copy
run_case "redundant pair: a write interrupted half-way leaves the old environment readable" case_pair_interrupted_write
run_case "redundant pair: both copies corrupt: install and rollback refused, nothing written" case_pair_both_copies_corrupt
run_case "examples/boot/boot.cmd: mkimage -T script accepts it" case_boot_cmd_mkimage
run_case "examples/boot/grub.cfg: grub-script-check accepts it" case_grub_cfg_syntax
run_case "examples/boot/boot.cmd: boot counting falls back after bootlimit, mark-good stops it" case_boot_cmd_counting
run_case "examples/boot/grub.cfg: boot counting falls back after 3 boots, mark-good stops it" case_grub_cfg_counting
t_done
