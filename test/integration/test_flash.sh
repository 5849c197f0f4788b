#!/bin/sh
# `swinstall flash IMAGE DEVICE [--sha256 HEX]`: a whole-disk image (raw,
# .xz, .gz, .zst) written byte for byte, checked against a sha256 (given, or
# IMAGE.sha256 beside it); a mounted device and the disk the running system
# is on refused (simulated with mountinfo-file and cmdline-file). A block
# device target (a loop device) needs root; skipped otherwise.
#
# Usage: SWINSTALL=build/swinstall sh test/integration/test_flash.sh
. "$(dirname "$0")/lib.sh"

# A 3 MiB disk image of several kinds of bytes (so that it compresses some)
# as disk.img and compressed beside it; the simulated system in flash.conf.
flash_case() {
	mk_data part1 1M "flash-$T_NUM"
	yes "factory image $T_NUM" | head -c 1M >part2
	mk_data part3 1M "flash3-$T_NUM"
	cat part1 part2 part3 >disk.img
	{ xz -k -T1 -3 disk.img && gzip -k disk.img && zstd -q -k disk.img; } || fail "compress"
	HASH=$(sha disk.img)
	echo "console=ttyS0 root=/dev/mmcblk9p2 ro" >cmdline
	echo "22 1 254:1 / / rw - ext4 /dev/mmcblk9p2 rw" >mountinfo
	cat >flash.conf <<EOF
cmdline-file = "$CASE/cmdline";
mountinfo-file = "$CASE/mountinfo";
EOF
}

flash() {
	"$SWINSTALL" -f "$CASE/flash.conf" flash "$@" >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	echo "\$ swinstall flash $* -> exit $SWI_RC"
	sed 's/^/  stderr: /' "$CASE/err"
}

case_each_format() {
	flash_case
	for image in disk.img disk.img.xz disk.img.gz disk.img.zst; do
		rm -f target
		flash "$image" target --sha256 "$HASH"
		expect_rc 0
		cmp -s disk.img target || fail "$image: the target differs from the image"
		grep -q "3145728 bytes written to target, sha256 verified" err ||
			fail "$image: no word of the check"
	done
	# A longer file is made anew, not overwritten in part.
	head -c 5M /dev/zero >target
	flash disk.img.xz target --sha256 "$HASH"
	expect_rc 0
	cmp -s disk.img target || fail "a longer target keeps its tail"
}

case_wrong_hash() {
	flash_case
	wrong=$(printf '%s' "$HASH" | tr 0-9a-f 1-9a-f0)
	flash disk.img.xz target --sha256 "$wrong"
	expect_rc 3
	expect_err "sha256 mismatch: the decoded image is $HASH, the sha256 given says $wrong"
	expect_err "target was overwritten with these 3145728 bytes and must not be used"
	flash disk.img target --sha256 1234
	expect_rc 2
	expect_err "sha256 '1234' is not 64 hex digits"
}

case_sha256_beside() {
	flash_case
	sha256sum disk.img >disk.img.zst.sha256
	flash disk.img.zst target
	expect_rc 0
	grep -q "sha256 verified" err || fail "disk.img.zst.sha256 was not used"
	cmp -s disk.img target || fail "the target differs from the image"
	sha256sum part1 | sed 's/part1/disk.img/' >disk.img.gz.sha256
	flash disk.img.gz target
	expect_rc 3
	expect_err "disk.img.gz.sha256 says $(sha part1)"
	echo "not a hash" >disk.img.sha256
	flash disk.img target
	expect_rc 2
	expect_err "disk.img.sha256: does not start with a sha256"
	# None: written, with a warning that nothing was checked.
	rm -f target
	flash disk.img.xz target
	expect_rc 0
	grep -q "warning: disk.img.xz: no sha256 given and no disk.img.xz.sha256" err ||
		fail "no warning that nothing is checked"
	cmp -s disk.img target || fail "the target differs from the image"
}

case_corrupt() {
	flash_case
	# The first MiB of random bytes is as long compressed; cut after it.
	head -c 1300000 disk.img.xz >cut.img.xz
	flash cut.img.xz target --sha256 "$HASH"
	expect_rc 3
	expect_err "cut.img.xz: compressed data is truncated; target was partially overwritten"
	expect_err "must not be used"
	head -c 1048576 target | cmp -s - part1 || fail "the target does not start with the image"
	# Cut before the first decoded byte reached it: a file is left as it was.
	echo "old contents" >target
	cp target target.orig
	head -c 100 disk.img.xz >cut.img.xz
	flash cut.img.xz target --sha256 "$HASH"
	expect_rc 3
	expect_err "cut.img.xz: compressed data is truncated"
	cmp -s target target.orig || fail "the target was changed though nothing was written"
	flash missing.img target
	expect_rc 2
	expect_err "missing.img"
}

# The target is not touched when it is refused.
expect_refused() {
	expect_rc 4
	expect_err "$1"
	cmp -s target target.orig || fail "the refused target was written"
}

case_mounted() {
	flash_case
	echo "old contents" >target
	cp target target.orig
	echo "36 22 7:3 / /data rw - ext4 $CASE/target rw" >>mountinfo
	flash disk.img.xz target --sha256 "$HASH"
	expect_refused "target is mounted on /data; refused"
}

case_running_disk() {
	flash_case
	echo "old contents" >target
	cp target target.orig
	echo "console=ttyS0 root=$CASE/target ro" >cmdline
	flash disk.img.xz target --sha256 "$HASH"
	expect_refused "target holds the running system (root=$CASE/target"
	echo "console=ttyS0 ro" >cmdline
	echo "22 1 254:1 / / rw - ext4 $CASE/target rw" >mountinfo
	flash disk.img.xz target --sha256 "$HASH"
	expect_refused "target is mounted on / (the running system)"
	# The running slot of an A/B layout.
	: >mountinfo
	DEV="$CASE/dev"
	make_device "$DEV" || fail "make_device"
	slot_settings "$DEV" "$CASE/target" >>"$DEV/swinstall.conf"
	echo "swinstall.slot=A" >"$DEV/cmdline"
	: >"$DEV/mountinfo"
	swi "$DEV" flash disk.img.xz "$CASE/target" --sha256 "$HASH"
	expect_refused "target is the running slot A"
}

case_usage() {
	flash_case
	flash disk.img
	expect_rc 2
	expect_err "flash needs an image and a device"
	flash disk.img /dev/swinstall-test-no-such-disk
	expect_rc 2
	expect_err "/dev/swinstall-test-no-such-disk: no such device"
	[ ! -e /dev/swinstall-test-no-such-disk ] || fail "a file was made in /dev"
	cp disk.img copy.img
	flash copy.img ./copy.img
	expect_rc 2
	expect_err "copy.img and ./copy.img are the same file"
	cmp -s disk.img copy.img || fail "the image was written over itself"
	"$SWINSTALL" -f flash.conf status --sha256 "$HASH" >/dev/null 2>err
	[ $? -eq 2 ] || fail "--sha256 with status is accepted"
}

# A loop device as the target: a block device, opened exclusively.
case_block_device() {
	flash_case
	truncate -s 4M disk.bin
	loop=$(losetup -f --show disk.bin) || fail "losetup"
	flash disk.img.xz "$loop" --sha256 "$HASH"
	rc=$SWI_RC
	losetup -d "$loop"
	[ "$rc" -eq 0 ] || fail "flash onto $loop exited $rc"
	head -c 3145728 disk.bin | cmp -s - disk.img || fail "$loop does not hold the image"
	# Mounted for real: refused by /proc/self/mountinfo.
	mkfs.ext4 -q -F disk.bin || fail "mkfs.ext4"
	cp disk.bin target.orig
	loop=$(losetup -f --show disk.bin) || fail "losetup"
	mkdir mnt
	if ! mount -o ro "$loop" mnt; then
		losetup -d "$loop"
		echo "mounting a loop device is not allowed here: that part skipped"
		return 0
	fi
	echo "# no settings" >real.conf
	"$SWINSTALL" -f real.conf flash disk.img.xz "$loop" --sha256 "$HASH" >out 2>err
	SWI_RC=$?
	umount mnt
	losetup -d "$loop"
	cp disk.bin target
	expect_refused "$loop is mounted on $CASE/mnt; refused"
}

t_init
run_case "flash: raw, .xz, .gz, .zst byte for byte, checked" case_each_format
run_case "flash: a wrong sha256 fails and says the target must not be used" case_wrong_hash
run_case "flash: IMAGE.sha256 beside the image; none: a warning" case_sha256_beside
run_case "flash: a truncated image fails, partially written, and says so" case_corrupt
run_case "flash: a mounted device is refused" case_mounted
run_case "flash: the running system's disk is refused (root=, /, running slot)" case_running_disk
run_case "flash: usage mistakes" case_usage
if [ "$(id -u)" -ne 0 ]; then
	echo "ok - flash: onto a loop device # SKIP not root"
elif ! losetup -f >/dev/null 2>&1; then
	echo "ok - flash: onto a loop device # SKIP no free loop device"
else
	run_case "flash: onto a loop device; refused while it is mounted" case_block_device
fi
t_done
