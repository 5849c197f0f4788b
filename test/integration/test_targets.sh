#!/bin/sh
# The target rules on real block devices: a loop device with a partition
# table, slot A (running) on its first partition, slot B on its second.
# An image may write the slot being installed and the devices listed in
# extra-targets; never the running slot (by any path to it, nor as a region
# of the whole disk), nor a device the kernel holds: a partition mounted
# where the configured mount table does not show it is refused by O_EXCL,
# and so is the region of it on the whole disk (each partition a write to a
# busy whole disk reaches is claimed with O_EXCL).
#
# The disk of a case (on_disk sets it up, and takes it down again after the
# case, also when it fails; the EXIT trap is the backstop):
#   disk.img    64 MiB, dos label: p1 at 1 MiB (16 MiB, slot A, running),
#               p2 right after it (16 MiB, slot B); every region filled with
#               its own text, so any stray write shows
#   disk.orig   a copy of disk.img before the loop device was attached (a
#               case that makes a file system takes it again after mounting)
#   $LOOP       `losetup -f --show -P disk.img`; $P1, $P2 its partitions
#   dev/        lib.sh's make_device (U-Boot environment, keys, versions),
#               its configuration extended with cmdline-file (swinstall.slot=A),
#               an empty mountinfo-file and the slots on $P1 and $P2
#
# Needs root, loop devices and partition nodes (losetup -P, else partx -a);
# without them the script prints one "ok - # SKIP" line. The cases that
# mount an ext4 file system print an "ok - # SKIP" line each where that
# cannot be done.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_targets.sh
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

MIB=1048576
DISK_SIZE=$((64 * MIB))
PART_SIZE=$((16 * MIB))
P1_START=$MIB
P2_START=$((P1_START + PART_SIZE))

# ------------------------------------------------------------------ the disk

# Every disk and mount point a case makes is listed here first, so the EXIT
# trap can take down whatever a case killed half-way left behind.
registry() {
	echo "$TMP/.$1"
}

# detach IMAGE: detaches the loop devices backed by IMAGE (only those: a
# loop device number may be someone else's by now) and drops their
# partitions.
detach() {
	for l in $(losetup -j "$1" -n -O NAME 2>/dev/null); do
		partx -d "$l" >/dev/null 2>&1
		losetup -d "$l" || echo "# could not detach $l" >&2
	done
}

unmount() {
	if mountpoint -q "$1" 2>/dev/null; then
		umount "$1" 2>/dev/null || umount -l "$1" || echo "# could not unmount $1" >&2
	fi
}

targets_cleanup() {
	[ -n "$TMP" ] && [ -d "$TMP" ] || return 0
	if [ -f "$(registry mounts)" ]; then
		while read -r m; do unmount "$m"; done <"$(registry mounts)"
	fi
	if [ -f "$(registry disks)" ]; then
		while read -r img; do detach "$img"; done <"$(registry disks)"
	fi
}

# setup_disk DIR: DIR/disk.img (and disk.orig) attached; sets DISK, LOOP,
# P1, P2 and MNT (DIR/mnt, where cases mount a partition). On failure,
# SETUP_ERR says why.
setup_disk() {
	DISK=$1/disk.img MNT=$1/mnt LOOP='' P1='' P2='' SETUP_ERR=''
	mkdir -p "$1" "$MNT"
	yes "disk: outside the partitions " | head -c "$DISK_SIZE" >"$DISK"
	yes "p1: slot A, the running system " | head -c "$PART_SIZE" |
		dd of="$DISK" bs=64K seek=$((P1_START / 65536)) conv=notrunc 2>/dev/null
	yes "p2: slot B, the old standby system " | head -c "$PART_SIZE" |
		dd of="$DISK" bs=64K seek=$((P2_START / 65536)) conv=notrunc 2>/dev/null
	printf 'label: dos\nstart=%d, size=%d, type=83\nstart=%d, size=%d, type=83\n' \
		$((P1_START / 512)) $((PART_SIZE / 512)) $((P2_START / 512)) $((PART_SIZE / 512)) |
		sfdisk -q "$DISK" >"$1/.sfdisk" 2>&1 || { SETUP_ERR="sfdisk failed: $(cat "$1/.sfdisk")"; return 1; }
	cp "$DISK" "$1/disk.orig"
	echo "$DISK" >>"$(registry disks)"
	LOOP=$(losetup -f --show -P "$DISK" 2>"$1/.losetup") ||
		{ SETUP_ERR="no usable loop device: $(cat "$1/.losetup")"; return 1; }
	P1=${LOOP}p1 P2=${LOOP}p2
	# losetup -P asks the kernel for the partitions; where that does not
	# make them appear, partx adds them.
	if ! [ -b "$P1" ] || ! [ -b "$P2" ]; then
		partx -a "$LOOP" >/dev/null 2>&1
	fi
	if ! [ -b "$P1" ] || ! [ -b "$P2" ]; then
		SETUP_ERR="the partitions of $LOOP did not appear (losetup -P, partx -a)"
		return 1
	fi
	# swinstall finds where a partition lies on its disk in sysfs.
	start=$(cat "/sys/class/block/$(basename "$P1")/start" 2>/dev/null)
	if [ "$start" != $((P1_START / 512)) ]; then
		SETUP_ERR="sysfs does not say where $P1 starts (got '$start')"
		return 1
	fi
	echo "$LOOP: p1 $P1, p2 $P2"
}

# release_disk DIR: unmounts DIR/mnt, detaches DIR/disk.img.
release_disk() {
	unmount "$1/mnt"
	detach "$1/disk.img"
}

# on_disk FUNCTION: runs the case FUNCTION (in a subshell of its own) on a
# fresh disk and device D, then takes the disk down, whatever happened.
on_disk() {
	if ! setup_disk "$CASE"; then
		release_disk "$CASE"
		fail "setting up the disk failed: $SETUP_ERR"
	fi
	D="$CASE/dev"
	if make_device "$D"; then
		: >"$D/mountinfo"
		echo "console=ttyS0 root=$P1 swinstall.slot=A rootwait" >"$D/cmdline"
		slot_settings "$D" "$P1" "$P2" >>"$D/swinstall.conf"
		("$@")
		rc=$?
	else
		echo "make_device failed" >>"$T_REASON"
		rc=1
	fi
	release_disk "$CASE"
	if [ -n "$(losetup -j "$DISK" -n -O NAME 2>/dev/null)" ]; then
		echo "the loop device of $DISK could not be detached" >>"$T_REASON"
		rc=1
	fi
	return "$rc"
}

# allow_extra PATH...: the configuration's extra-targets (once per case).
allow_extra() {
	printf 'extra-targets = [ ' >>"$D/swinstall.conf"
	sep=
	for p in "$@"; do
		printf '%s"%s"' "$sep" "$p" >>"$D/swinstall.conf"
		sep=', '
	done
	printf ' ];\n' >>"$D/swinstall.conf"
}

# ---------------------------------------------------------------- the image

# image_entry W FILE DEVICE [ATTRS]: adds an images entry for member W/FILE.
image_entry() {
	printf '{ filename = "%s"; type = "raw"; device = "%s"; sha256 = "%s"; %s }\n' \
		"$2" "$3" "$(sha "$1/$2")" "${4:-}" >>"$1/.entries"
}

# image_build OUT W MEMBER...: a signed image whose selection for the
# standby slot holds the entries added so far and boots that slot: B's
# stable,copy2 with rootpart=3, or with FOR_SLOT=A, A's stable,copy1 with
# rootpart=2.
image_build() {
	case "${FOR_SLOT:-B}" in
	A) copy=copy1 rootpart=2 ;;
	*) copy=copy2 rootpart=3 ;;
	esac
	out=$1 w=$2
	shift 2
	{
		cat <<EOF
software =
{
	version = "2.0.0";
	hardware-compatibility: [ "1.0" ];
	stable: {
		$copy: {
			images: (
EOF
		sed -e 's/^/\t\t\t\t/' -e '$!s/$/,/' "$w/.entries"
		cat <<EOF
			);
			bootenv: ( { name = "rootpart"; value = "$rootpart"; } );
		};
	};
}
EOF
	} >"$w/sw-description"
	rm -f "$w/.entries"
	mk_swu "$out" cms newc "$w" "$@"
}

# rootfs_entry W: W/rootfs.img (200 KiB) for slot B.
rootfs_entry() {
	mkdir -p "$1"
	mk_data "$1/rootfs.img" 200K "rootfs-$T_NUM"
	image_entry "$1" rootfs.img "$P2"
}

# ------------------------------------------------------------------ checks

# flush_disk: what was written to the loop device and its partitions, in
# the backing file. A write that failed is not synced, and while the disk
# stays open (a partition of it mounted) closing it does not write back.
flush_disk() {
	blockdev --flushbufs "$LOOP" "$P1" "$P2" || fail "blockdev --flushbufs failed"
}

# expect_disk_unchanged: not one byte of the disk differs from disk.orig.
expect_disk_unchanged() {
	flush_disk
	if ! cmp "$DISK" "$CASE/disk.orig" >"$CASE/.cmp" 2>&1; then
		fail "the disk changed: $(cat "$CASE/.cmp")"
	fi
}

# expect_range_unchanged OFFSET LENGTH WHAT
expect_range_unchanged() {
	flush_disk
	if ! cmp -i "$1" -n "$2" "$DISK" "$CASE/disk.orig" >"$CASE/.cmp" 2>&1; then
		fail "$3 changed ($(cat "$CASE/.cmp"), counting from byte $1)"
	fi
}

expect_p1_unchanged() {
	expect_range_unchanged "$P1_START" "$PART_SIZE" "p1 (slot A, running)"
}

# expect_on_disk OFFSET FILE: the disk holds FILE's bytes at OFFSET.
expect_on_disk() {
	flush_disk
	if ! cmp -s -i "$1:0" -n "$(wc -c <"$2")" "$DISK" "$2"; then
		fail "the disk does not hold $(basename "$2") at byte $1"
	fi
}

# written_prefix OFFSET FILE: how many of FILE's first bytes the disk holds
# at OFFSET (call flush_disk first).
written_prefix() {
	out=$(cmp -i "$1:0" "$DISK" "$2" 2>&1)
	case "$out" in
	"" | *"EOF on $2"*) wc -c <"$2" ;; # all of FILE is there
	*) echo $(($(echo "$out" | sed -n 's/.* byte \([0-9]*\),.*/\1/p') - 1)) ;;
	esac
}

expect_env_unchanged() {
	expect_unchanged "$D" env.img
}

# ------------------------------------------------------------------- cases

# (a) The positive control: slot B's partition is written, B boots next.
case_slot_b() {
	rootfs_entry w
	image_build u.swu w rootfs.img || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 0
	expect_on_disk "$P2_START" w/rootfs.img
	expect_range_unchanged $((P2_START + 204800)) $((PART_SIZE - 204800)) "the rest of p2"
	expect_p1_unchanged
	expect_range_unchanged 0 "$P1_START" "the disk before p1"
	expect_committed "$D" 3
}

# (b) The whole disk, not in extra-targets: refused before slot B is written.
case_disk_not_listed() {
	rootfs_entry w
	mk_data w/boot.bin 16K "boot-$T_NUM"
	image_entry w boot.bin "$LOOP" 'offset = "8K";'
	image_build u.swu w rootfs.img boot.bin || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 4
	expect_err "extra-targets"
	expect_disk_unchanged
	expect_env_unchanged
}

# (c) The whole disk, listed, at an offset inside p1 (the running slot A).
case_disk_inside_running() {
	allow_extra "$LOOP"
	rootfs_entry w
	mk_data w/boot.bin 16K "boot-$T_NUM"
	image_entry w boot.bin "$LOOP" "offset = \"$((P1_START + 4096))\";"
	image_build u.swu w rootfs.img boot.bin || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 4
	expect_err "the running slot A"
	expect_disk_unchanged
	expect_env_unchanged
}

# (d) The whole disk, listed, a small artifact at 8K (before p1): written,
# like a bootloader in front of the partitions.
case_disk_before_running() {
	allow_extra "$LOOP"
	rootfs_entry w
	mk_data w/boot.bin 64K "boot-$T_NUM"
	image_entry w boot.bin "$LOOP" 'offset = "8K";'
	image_build u.swu w rootfs.img boot.bin || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 0
	expect_on_disk 8192 w/boot.bin
	expect_on_disk "$P2_START" w/rootfs.img
	expect_range_unchanged 0 8192 "the disk before boot.bin (the partition table)"
	expect_range_unchanged $((8192 + 65536)) $((P1_START - 8192 - 65536)) \
		"the disk between boot.bin and p1"
	expect_p1_unchanged
	expect_committed "$D" 3
}

# (e) The whole disk, listed, an uncompressed artifact at 512K of 1 MiB +
# 64K: it would run 576 KiB into p1. A member's size is known when the
# stream reaches it (not when the image is planned), and then, before its
# first byte is written, it is refused. It comes first in the image, so
# nothing is written at all; the install had begun (the environment says
# so: failed, and A still boots).
case_disk_into_running() {
	allow_extra "$LOOP"
	mkdir -p w
	mk_data w/boot.bin $((MIB + 65536)) "boot-$T_NUM"
	image_entry w boot.bin "$LOOP" 'offset = "512K";'
	rootfs_entry w
	image_build u.swu w boot.bin rootfs.img || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 1
	expect_err "would write past byte $P1_START of $LOOP, where a region in use"
	expect_disk_unchanged
	expect_env "$D" recovery_status failed
	expect_env "$D" ustate 3
	expect_env "$D" rootpart 2
}

# (f) The same with a gzip-compressed artifact: its decoded size is not
# known before it is decoded, so the write starts and stops before p1.
# The sha256 is the compressed member's, as in SWUpdate; the rest of the
# member is read through it after the failed write, it matches, and the
# write error stands: exit 1, the install failed after it had begun.
case_disk_into_running_gzip() {
	allow_extra "$LOOP"
	mkdir -p w
	mk_data w/boot.bin $((MIB + 65536)) "boot-$T_NUM"
	gzip -n -c w/boot.bin >w/boot.bin.gz
	image_entry w boot.bin.gz "$LOOP" 'offset = "512K"; compressed = "zlib";'
	image_build u.swu w boot.bin.gz || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 1
	expect_err "would write past byte $P1_START of $LOOP, where a region in use"
	expect_p1_unchanged
	expect_range_unchanged "$P2_START" $((DISK_SIZE - P2_START)) "p2 and the rest of the disk"
	expect_range_unchanged 0 $((512 * 1024)) "the disk before the artifact's offset"
	# What was written is the artifact's beginning (k bytes, some of it:
	# the write had started), then the disk's old bytes up to p1.
	flush_disk
	k=$(written_prefix $((512 * 1024)) w/boot.bin)
	echo "written before the refusal: $k bytes of boot.bin"
	[ "$k" -gt 0 ] || fail "nothing of boot.bin was written: the write never started"
	expect_range_unchanged $((512 * 1024 + k)) $((512 * 1024 - k)) \
		"the disk between what was written and p1"
	expect_env "$D" recovery_status failed
	expect_env "$D" ustate 3
	expect_env "$D" rootpart 2
}

# (g) A symlink to p1, listed in extra-targets: still the running slot.
case_symlink_to_running() {
	ln -s "$P1" "$CASE/alias"
	allow_extra "$CASE/alias"
	mkdir -p w
	mk_data w/boot.bin 16K "boot-$T_NUM"
	image_entry w boot.bin "$CASE/alias"
	image_build u.swu w boot.bin || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 4
	expect_err "target $CASE/alias is the running slot A"
	expect_disk_unchanged
	expect_env_unchanged
}

# mount_fs PART: an ext4 file system on PART holding a file "data" (also
# in $CASE/content), mounted on $MNT, which mountinfo-file does not list:
# only the kernel knows. disk.orig is taken again, with the file system.
mount_fs() {
	mkdir -p "$CASE/content"
	mk_data "$CASE/content/data" 100K "data-$T_NUM"
	# Nothing initialised later in the background: the bytes stay put.
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 -d "$CASE/content" "$1" ||
		fail "mkfs.ext4 failed"
	echo "$MNT" >>"$(registry mounts)"
	mount -t ext4 "$1" "$MNT" || fail "mounting $1 failed"
	sync
	cp "$DISK" "$CASE/disk.orig"
}

# expect_fs_intact PART: the file system mount_fs made on PART, unmounted
# now, checks clean and holds its file.
expect_fs_intact() {
	cmp -s "$MNT/data" "$CASE/content/data" || fail "the mounted file system's file changed"
	umount "$MNT" || fail "unmounting $1 failed"
	e2fsck -fn "$1" >"$CASE/.fsck" 2>&1 || fail "e2fsck $1: $(tail -n 5 "$CASE/.fsck")"
}

# (h) Slot B's p2 mounted: the exclusive open is refused, p2's file system
# stays intact. The install had begun (the open is the start of writing).
case_mounted_standby() {
	mount_fs "$P2"
	rootfs_entry w
	image_build u.swu w rootfs.img || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 1
	expect_err "is in use"
	expect_disk_unchanged
	expect_env "$D" recovery_status failed
	expect_env "$D" ustate 3
	expect_env "$D" rootpart 2
	expect_fs_intact "$P2"
}

# (i) The whole disk, listed, written at an offset inside the mounted p2.
# The disk is busy (a partition of it is mounted), so it is opened shared,
# and each partition the write reaches is claimed with O_EXCL: p2's claim
# is refused, and so is the write.
case_disk_inside_mounted() {
	mount_fs "$P2"
	allow_extra "$LOOP"
	mkdir -p w
	mk_data w/boot.bin 64K "boot-$T_NUM"
	image_entry w boot.bin "$LOOP" "offset = \"$((P2_START + 65536))\";"
	image_build u.swu w boot.bin || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 1
	expect_err "would write into partition $(basename "$P2"), which is in use"
	expect_disk_unchanged
	expect_fs_intact "$P2"
}

# (j) Slot B runs (p2), and p1, the standby, is mounted (only the kernel
# knows). The whole disk, listed, gets a gzip artifact at 8K that decodes
# to 2 MiB: the core limits it to p2's start (the running slot), the claim
# of p1 is refused, so the write stops where p1 begins.
case_disk_into_mounted_gzip() {
	echo "console=ttyS0 root=$P2 swinstall.slot=B rootwait" >"$D/cmdline"
	mount_fs "$P1"
	allow_extra "$LOOP"
	mkdir -p w
	mk_data w/boot.bin 2M "boot-$T_NUM"
	gzip -n -c w/boot.bin >w/boot.bin.gz
	image_entry w boot.bin.gz "$LOOP" 'offset = "8K"; compressed = "zlib";'
	FOR_SLOT=A image_build u.swu w boot.bin.gz || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 1
	expect_err "would write past byte $P1_START of $LOOP, where a region in use"
	expect_range_unchanged "$P1_START" $((DISK_SIZE - P1_START)) "p1, p2 and the rest of the disk"
	flush_disk
	k=$(written_prefix 8192 w/boot.bin)
	echo "written before the refusal: $k bytes of boot.bin"
	[ "$k" -gt 0 ] || fail "nothing of boot.bin was written: the write never started"
	expect_range_unchanged $((8192 + k)) $((P1_START - 8192 - k)) \
		"the disk between what was written and p1"
	expect_fs_intact "$P1"
}

# ------------------------------------------------------------------- run

[ "$(id -u)" -eq 0 ] || t_skip_all "needs root (loop devices, partitions, mount)"
for tool in losetup partx sfdisk blockdev mountpoint mkenvimage fw_printenv gzip; do
	command -v "$tool" >/dev/null 2>&1 || t_skip_all "$tool is not installed"
done
t_init
trap 'targets_cleanup; t_cleanup' EXIT

# A probe disk: loop devices and partition nodes, and whether an ext4 file
# system can be mounted from a partition here (case h needs it).
MOUNT_SKIP=
if ! setup_disk "$TMP/probe" >/dev/null; then
	release_disk "$TMP/probe"
	t_skip_all "$SETUP_ERR"
fi
if ! command -v mkfs.ext4 >/dev/null 2>&1; then
	MOUNT_SKIP="mkfs.ext4 is not installed"
elif ! mkfs.ext4 -q -F "$P2" >"$TMP/probe/.mkfs" 2>&1; then
	MOUNT_SKIP="mkfs.ext4 failed: $(head -c 200 "$TMP/probe/.mkfs")"
else
	echo "$MNT" >>"$(registry mounts)"
	mount -t ext4 "$P2" "$MNT" >"$TMP/probe/.mount" 2>&1 ||
		MOUNT_SKIP="mounting ext4 from $P2 failed: $(head -c 200 "$TMP/probe/.mount")"
fi
release_disk "$TMP/probe"
rm -rf "$TMP/probe"

run_case "targets: slot B's partition installs, B boots next (positive control)" on_disk case_slot_b
run_case "targets: the whole disk, not in extra-targets, refused (4), nothing written" on_disk case_disk_not_listed
run_case "targets: the whole disk at an offset inside the running p1 refused (4), nothing written" on_disk case_disk_inside_running
run_case "targets: the whole disk at 8K, before p1, installs; p1 unchanged" on_disk case_disk_before_running
run_case "targets: an artifact running into p1 refused before its first byte (1), nothing written" on_disk case_disk_into_running
run_case "targets: a gzip artifact running into p1 stops at p1's start (1), p1 unchanged" on_disk case_disk_into_running_gzip
run_case "targets: a symlink to the running p1 in extra-targets refused (4)" on_disk case_symlink_to_running
if [ -z "$MOUNT_SKIP" ]; then
	run_case "targets: p2 mounted (the kernel's knowledge only): O_EXCL refuses (1), its file system intact" \
		on_disk case_mounted_standby
	run_case "targets: the whole disk at an offset inside the mounted p2 refused (1), its file system intact" \
		on_disk case_disk_inside_mounted
	run_case "targets: B running, p1 mounted: a gzip artifact on the whole disk stops at p1 (1), its file system intact" \
		on_disk case_disk_into_mounted_gzip
else
	for what in "p2 mounted, O_EXCL" "the whole disk inside the mounted p2" \
		"the whole disk up to the mounted p1"; do
		T_NUM=$((T_NUM + 1))
		T_PASSED=$((T_PASSED + 1))
		echo "ok - # SKIP $what: $MOUNT_SKIP"
	done
fi
t_done
