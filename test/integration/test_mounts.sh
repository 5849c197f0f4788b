#!/bin/sh
# Entries that write into a filesystem: rawfile (and archive) entries with
# device and filesystem, on an ext4 image attached to a loop device. The
# device is mounted on a private directory under the configured tmpdir,
# written, synced and unmounted, whether the install succeeds or fails;
# '..', symbolic links inside the filesystem, a device mounted elsewhere
# and a device that is not there are refused.
#
# The filesystem of a case (on_fs sets it up and takes it down after the
# case, also when it fails; the EXIT trap is the backstop):
#   fs.img     16 MiB ext4, made with mkfs.ext4 -d from a tree holding
#              /etc/old.conf and the symbolic links /escape -> / and
#              /etc/up -> ../..
#   $LOOP      `losetup -f --show fs.img`
#   dev/       lib.sh's make_device (no slots), with tmpdir = $CASE/tmp, so
#              that whatever swinstall mounts is under $CASE/tmp
#
# Needs root, losetup, mkfs.ext4 and debugfs; without them the script
# prints one "ok - # SKIP" line.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_mounts.sh
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# ------------------------------------------------------------ the filesystem

# detach IMAGE: detaches the loop devices backed by IMAGE (only those).
detach() {
	for l in $(losetup -j "$1" -n -O NAME 2>/dev/null); do
		losetup -d "$l" || echo "# could not detach $l" >&2
	done
}

# Unmounts whatever is still mounted under the test's directory, then
# detaches the images.
mounts_cleanup() {
	[ -n "$TMP" ] && [ -d "$TMP" ] || return 0
	grep -o " $TMP/[^ ]* " /proc/self/mountinfo 2>/dev/null | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m"
	done
	# every image a case attaches is listed there first
	[ -f "$TMP/.images" ] && while read -r img; do detach "$img"; done <"$TMP/.images"
}

# make_fs DIR: DIR/fs.img from DIR/tree (see the top); attached as $LOOP.
# On failure, SETUP_ERR says why.
make_fs() {
	SETUP_ERR='' LOOP=''
	mkdir -p "$1/tree/etc"
	echo "key = old" >"$1/tree/etc/old.conf"
	ln -s / "$1/tree/escape"
	ln -s ../.. "$1/tree/etc/up"
	mkfs.ext4 -q -F -d "$1/tree" "$1/fs.img" 16M >"$1/.mkfs" 2>&1 ||
		{ SETUP_ERR="mkfs.ext4 failed: $(head -c 200 "$1/.mkfs")"; return 1; }
	echo "$1/fs.img" >>"$TMP/.images"
	LOOP=$(losetup -f --show "$1/fs.img" 2>"$1/.losetup") ||
		{ SETUP_ERR="no usable loop device: $(cat "$1/.losetup")"; return 1; }
}

# on_fs FUNCTION: runs the case FUNCTION (in a subshell of its own) with a
# fresh filesystem and device D, checks that nothing of swinstall's stays
# mounted or in its tmpdir, and takes the filesystem down, whatever happened.
on_fs() {
	if ! make_fs "$CASE"; then
		detach "$CASE/fs.img"
		fail "setting up the filesystem failed: $SETUP_ERR"
	fi
	D="$CASE/dev"
	mkdir -p "$CASE/tmp"
	if make_device "$D"; then
		echo "tmpdir = \"$CASE/tmp\";" >>"$D/swinstall.conf"
		("$@")
		rc=$?
	else
		echo "make_device failed" >>"$T_REASON"
		rc=1
	fi
	if grep -qF " $CASE/tmp/" /proc/self/mountinfo; then
		echo "a mount of swinstall's is left: $(grep -F " $CASE/tmp/" /proc/self/mountinfo)" >>"$T_REASON"
		rc=1
	fi
	if [ -n "$(ls -A "$CASE/tmp")" ]; then
		echo "swinstall's tmpdir is not empty: $(find "$CASE/tmp" -mindepth 1 | head -n 5)" >>"$T_REASON"
		rc=1
	fi
	mounts_cleanup
	detach "$CASE/fs.img"
	return "$rc"
}

# ---------------------------------------------------------------- the image

# file_entry W MEMBER TYPE ATTRS: adds an entry for member W/MEMBER.
file_entry() {
	printf '{ filename = "%s"; type = "%s"; sha256 = "%s"; %s }\n' \
		"$2" "$3" "$(sha "$1/$2")" "$4" >>"$1/.entries"
}

# mount_attrs PATH [FS]: the attributes that write PATH into $LOOP's ext4.
mount_attrs() {
	printf 'device = "%s"; filesystem = "%s"; path = "%s";' "$LOOP" "${2:-ext4}" "$1"
}

# fs_image OUT W MEMBER...: a signed image with the files entries added so
# far, which sets rootpart=3; with FOR_SLOT_B=1, in the selection of slot B
# (stable,copy2).
fs_image() {
	out=$1 w=$2
	shift 2
	open='' close=''
	if [ "${FOR_SLOT_B:-0}" = 1 ]; then
		open='stable = { copy2 = {' close='}; };'
	fi
	{
		cat <<EOF
software =
{
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	$open
	files = (
EOF
		sed -e 's/^/\t\t/' -e '$!s/$/,/' "$w/.entries"
		cat <<EOF
	);
	bootenv = ( { name = "rootpart"; value = "3"; } );
	$close
}
EOF
	} >"$w/sw-description"
	rm -f "$w/.entries"
	mk_swu "$out" cms newc "$w" "$@"
}

# new_conf W: W/new.conf, 10 KiB of data.
new_conf() {
	mkdir -p "$1"
	mk_data "$1/new.conf" 10K "conf-$T_NUM"
}

# ------------------------------------------------------------------- checks

# expect_in_fs PATH FILE: the filesystem holds FILE's bytes at PATH.
expect_in_fs() {
	rm -f "$CASE/.got"
	debugfs -R "dump $1 $CASE/.got" "$LOOP" >/dev/null 2>&1
	[ -f "$CASE/.got" ] || fail "the filesystem has no $1"
	cmp -s "$CASE/.got" "$2" || fail "$1 in the filesystem does not hold $(basename "$2")"
}

# expect_not_in_fs PATH: the filesystem has nothing at PATH.
expect_not_in_fs() {
	if debugfs -R "stat $1" "$LOOP" 2>&1 | grep -q "^Inode:"; then
		fail "the filesystem has $1"
	fi
}

# expect_fs_as_before: the old file is there, and no staged file is left.
expect_fs_as_before() {
	echo "key = old" >"$CASE/.old"
	expect_in_fs /etc/old.conf "$CASE/.old"
	if debugfs -R "ls /etc" "$LOOP" 2>/dev/null | grep -q swinstall; then
		fail "a staged file is left in /etc: $(debugfs -R 'ls /etc' "$LOOP" 2>/dev/null)"
	fi
}

# Not one byte written, the environment unchanged (a refusal at planning,
# a check, a dry run).
expect_nothing_written() {
	expect_device_untouched "$D"
	expect_fs_as_before
}

# ------------------------------------------------------------------- cases

# A rawfile entry writes its file into the mounted filesystem, and the
# commit follows; the filesystem is unmounted afterwards (on_fs checks).
case_rawfile() {
	new_conf w
	file_entry w new.conf rawfile "$(mount_attrs /etc/new.conf)"
	fs_image u.swu w new.conf || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 0
	expect_in_fs /etc/new.conf w/new.conf
	expect_fs_as_before
	expect_committed "$D" 3
}

# A check (-c) and a dry run (-n) mount nothing and write nothing.
case_check_and_dry_run() {
	new_conf w
	file_entry w new.conf rawfile "$(mount_attrs /etc/new.conf)"
	fs_image u.swu w new.conf || fail "image not built"
	for opt in -c -n; do
		swi "$D" "$opt" -i u.swu
		expect_rc 0
		expect_nothing_written
		expect_not_in_fs /etc/new.conf
	done
}

# Paths are relative to the mount point: without a leading '/' too; with
# create-destination, missing directories are made. Two entries into the
# same filesystem, and one replacing a file that is there.
case_two_entries() {
	new_conf w
	printf 'key = new\n' >w/old.conf
	file_entry w new.conf rawfile "$(mount_attrs srv/app/new.conf) create-destination = true;"
	file_entry w old.conf rawfile "$(mount_attrs /etc/old.conf)"
	fs_image u.swu w new.conf old.conf || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 0
	expect_in_fs /srv/app/new.conf w/new.conf
	expect_in_fs /etc/old.conf w/old.conf
	expect_committed "$D" 3
}

# A filesystem type that is not on the device: the mount fails at open,
# named with the device, the type and the reason; nothing is committed
# (the failure is recorded) and the filesystem holds nothing new.
case_wrong_filesystem() {
	new_conf w
	file_entry w new.conf rawfile "$(mount_attrs /etc/new.conf vfat)"
	fs_image u.swu w new.conf || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 1
	expect_err "new.conf: cannot mount $LOOP (vfat) on $CASE/tmp/"
	expect_failed_state "$D"
	expect_not_in_fs /etc/new.conf
	expect_fs_as_before
}

# A device that does not exist: refused at planning, nothing written.
case_missing_device() {
	new_conf w
	file_entry w new.conf rawfile \
		"device = \"/dev/swinstall-no-such-disk\"; filesystem = \"ext4\"; path = \"/etc/new.conf\";"
	fs_image u.swu w new.conf || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 1
	expect_err "new.conf: device /dev/swinstall-no-such-disk does not exist"
	expect_device_untouched "$D"
}

# install_while_mounted: installs an image writing /etc/new.conf while
# $LOOP is mounted on $CASE/elsewhere.
install_while_mounted() {
	mkdir -p "$CASE/elsewhere"
	mount -t ext4 "$LOOP" "$CASE/elsewhere" || fail "could not mount $LOOP"
	new_conf w
	file_entry w new.conf rawfile "$(mount_attrs /etc/new.conf)"
	fs_image u.swu w new.conf || fail "image not built"
	swi "$D" -i u.swu
	umount "$CASE/elsewhere"
}

# The device mounted elsewhere: refused at planning, nothing written.
case_mounted_elsewhere() {
	install_while_mounted
	expect_rc 4
	expect_err "target $LOOP is mounted on $CASE/elsewhere"
	expect_nothing_written
}

# Mounted where the configured mount table does not show it (as in
# another mount namespace): the kernel's claim refuses it at open.
case_mounted_unlisted() {
	: >"$D/mountinfo"
	echo "mountinfo-file = \"$D/mountinfo\";" >>"$D/swinstall.conf"
	install_while_mounted
	expect_rc 1
	expect_err "$LOOP is mounted on $CASE/elsewhere: refused"
	expect_failed_state "$D"
	expect_not_in_fs /etc/new.conf
	expect_fs_as_before
}

# '..' in path: refused at planning, nothing written.
case_dotdot() {
	new_conf w
	file_entry w new.conf rawfile "$(mount_attrs /etc/../../etc/new.conf)"
	fs_image u.swu w new.conf || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 3
	expect_err "path '/etc/../../etc/new.conf' contains a '..' component"
	expect_nothing_written
}

# A symbolic link inside the filesystem on the way, leading out of it
# (absolute or relative): refused once mounted, nothing written there or
# on the running system.
case_symlink_out() {
	for p in /escape/tmp/swinstall-escaped.conf /etc/up/up/tmp/swinstall-escaped.conf; do
		new_conf w
		file_entry w new.conf rawfile "$(mount_attrs "$p")"
		fs_image u.swu w new.conf || fail "image not built"
		swi "$D" -i u.swu
		expect_rc 1
		expect_err "is a symbolic link"
		[ -e /tmp/swinstall-escaped.conf ] && fail "$p was written on the running system"
		expect_failed_state "$D"
		expect_fs_as_before
		rm -rf w u.swu
	done
}

# With slots configured, the running slot is never mounted, and the loop
# device is written only when the configuration lists it in extra-targets.
case_extra_targets() {
	echo "console=ttyS0 root=$D/slotA.img swinstall.slot=A" >"$D/cmdline"
	: >"$D/mountinfo"
	slot_settings "$D" >>"$D/swinstall.conf"
	new_conf w
	file_entry w new.conf rawfile \
		"device = \"$D/slotA.img\"; filesystem = \"ext4\"; path = \"/etc/new.conf\";"
	FOR_SLOT_B=1 fs_image u.swu w new.conf || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 4
	expect_err "target $D/slotA.img is the running slot A"
	expect_nothing_written
	rm -rf w u.swu
	new_conf w
	file_entry w new.conf rawfile "$(mount_attrs /etc/new.conf)"
	FOR_SLOT_B=1 fs_image u.swu w new.conf || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 4
	expect_err "target $LOOP is neither slot B's device"
	expect_nothing_written
	echo "extra-targets = [ \"$LOOP\" ];" >>"$D/swinstall.conf"
	swi "$D" -i u.swu
	expect_rc 0
	expect_in_fs /etc/new.conf w/new.conf
}

# An archive entry extracts into a directory of the mounted filesystem.
case_archive() {
	mkdir -p w/data/sub
	echo "from the archive" >w/data/sub/hello.txt
	tar -C w/data -cf w/data.tar sub
	file_entry w data.tar archive "$(mount_attrs /srv) create-destination = true;"
	fs_image u.swu w data.tar || fail "image not built"
	swi "$D" -i u.swu
	expect_rc 0
	expect_in_fs /srv/sub/hello.txt w/data/sub/hello.txt
	expect_committed "$D" 3
}

# ------------------------------------------------------------------- run

[ "$(id -u)" -eq 0 ] || t_skip_all "needs root (loop devices, mount)"
for tool in losetup mkfs.ext4 debugfs mkenvimage fw_printenv tar; do
	command -v "$tool" >/dev/null 2>&1 || t_skip_all "$tool is not installed"
done
t_init
trap 'mounts_cleanup; t_cleanup' EXIT

# A probe: can an ext4 image be attached and mounted here?
mkdir -p "$TMP/probe/mnt"
if ! make_fs "$TMP/probe"; then
	detach "$TMP/probe/fs.img"
	t_skip_all "$SETUP_ERR"
fi
if ! mount -t ext4 "$LOOP" "$TMP/probe/mnt" >"$TMP/probe/.mount" 2>&1; then
	detach "$TMP/probe/fs.img"
	t_skip_all "mounting ext4 from $LOOP failed: $(head -c 200 "$TMP/probe/.mount")"
fi
umount "$TMP/probe/mnt"
detach "$TMP/probe/fs.img"
rm -rf "$TMP/probe"

run_case "mounts: rawfile into a mounted ext4, committed, unmounted" on_fs case_rawfile
run_case "mounts: -c and -n mount nothing, write nothing" on_fs case_check_and_dry_run
run_case "mounts: two entries into one filesystem, a relative path, create-destination" on_fs case_two_entries
run_case "mounts: the wrong filesystem type fails naming device, type and reason (1), nothing committed" \
	on_fs case_wrong_filesystem
run_case "mounts: a device that does not exist is refused at planning (1), nothing written" \
	on_fs case_missing_device
run_case "mounts: the device mounted elsewhere is refused (4), nothing written" \
	on_fs case_mounted_elsewhere
run_case "mounts: mounted where the configured mount table does not show it: refused (1)" \
	on_fs case_mounted_unlisted
run_case "mounts: a path with '..' is refused (3), nothing written" on_fs case_dotdot
run_case "mounts: a symbolic link inside the filesystem leading out is refused (1)" \
	on_fs case_symlink_out
run_case "mounts: with slots, the running slot is refused (4), another device must be in extra-targets" on_fs case_extra_targets
if "$SWINSTALL" -v 2>/dev/null | grep -q "archive"; then
	run_case "mounts: an archive extracted into a mounted ext4" on_fs case_archive
else
	T_NUM=$((T_NUM + 1))
	T_PASSED=$((T_PASSED + 1))
	echo "ok - # SKIP mounts: an archive into a mounted ext4: this swinstall has no archive handler"
fi
t_done
