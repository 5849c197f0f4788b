#!/bin/sh
# Offline updates from a USB stick: `swinstall scan DIR` lists the images
# that verify and fit, newest first; `swinstall install --from DIR` installs
# the newest, never one that is not newer than the installed version unless
# --force; examples/usb/swinstall-usb does it from a stick's file system.
# The stick is played as a directory, and as an ext4 image on a loop device
# (needs root, a free loop device and mount; skipped otherwise).
#
# Usage: SWINSTALL=build/swinstall sh test/integration/test_usb.sh
. "$(dirname "$0")/lib.sh"
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)

# The A/B device in $CASE/dev running slot A; installs go to B.
usb_device() {
	DEV="$CASE/dev"
	make_device "$DEV" || fail "make_device"
	slot_settings "$DEV" >>"$DEV/swinstall.conf"
	echo "console=ttyS0 root=$DEV/slotA.img ro" >"$DEV/cmdline"
	: >"$DEV/mountinfo"
	mkdir -p "$CASE/stick"
}

# usb_image NAME VERSION [HARDWARE [SIGN]]: $CASE/stick/NAME, an A/B image of
# that version whose payload is $CASE/w-NAME/rootfs.img.
usb_image() {
	w="$CASE/w-$1"
	mkdir -p "$w"
	mk_data "$w/rootfs.img" 64K "$1-$2"
	swdesc_ab "$w" rootfs.img
	sed -i "s/version = \"2.0.0\"/version = \"$2\"/; s/\[ \"1.0\" \]/[ \"${3:-1.0}\" ]/" \
		"$w/sw-description"
	mk_swu "$CASE/stick/$1" "${4:-cms}" newc "$w" rootfs.img || fail "mk_swu $1"
}

# expect_slot_b NAME: slot B holds the payload of image NAME.
expect_slot_b() {
	size=$(wc -c <"$CASE/w-$1/rootfs.img")
	head -c "$size" "$DEV/slotB.img" | cmp -s - "$CASE/w-$1/rootfs.img" ||
		fail "slot B does not hold the payload of $1"
}

expect_slot_b_untouched() {
	cmp -s "$DEV/slotB.img" "$DEV/slotB.orig" || fail "slot B was written"
}

# A stick with images that fit (2.0.0, 2.10.0, 2.9.1) and some that do not.
usb_stick() {
	usb_device
	usb_image a.swu 2.0.0
	usb_image b.swu 2.10.0
	usb_image c.SWU 2.9.1
	usb_image other-board.swu 3.0.0 9.9
	usb_image unsigned.swu 4.0.0 1.0 none
	echo "not an image" >"$CASE/stick/notes.txt"
	mkdir "$CASE/stick/dir.swu"
}

case_scan_order() {
	usb_stick
	swi "$DEV" scan "$CASE/stick"
	expect_rc 0
	cut -c1-16 "$CASE/out" | tr -d ' ' >versions
	printf '2.10.0\n2.9.1\n2.0.0\n' | cmp -s - versions ||
		fail "scan lists $(tr '\n' ' ' <versions), expected 2.10.0 2.9.1 2.0.0"
	grep -q "b.swu  (to install)" "$CASE/out" || fail "the newest is not marked: $(cat "$CASE/out")"
	grep -q "other-board.swu does not fit: .*hardware" "$CASE/err" ||
		fail "the other board's image is not refused for its hardware"
	grep -q "unsigned.swu does not fit" "$CASE/err" || fail "the unsigned image is not refused"
	if grep -q "notes.txt\|dir.swu" "$CASE/out" "$CASE/err"; then
		fail "scan looked at something that is no .swu file"
	fi
	expect_slot_b_untouched
	[ "$(sha "$DEV/env.img")" = "$(snap_of "$DEV" 3)" ] || fail "scan changed the environment"
}

case_scan_json() {
	usb_stick
	swi "$DEV" scan --json -N 2.9.1 "$CASE/stick"
	expect_rc 0
	python3 - "$CASE/out" "$CASE/stick" <<'EOF' || fail "scan --json is not as expected"
import json, sys
doc = json.load(open(sys.argv[1]))
stick = sys.argv[2]
assert doc["dir"] == stick, doc
assert doc["installed"] == "2.9.1", doc
assert doc["best"] == stick + "/b.swu", doc
images = doc["images"]
fits = [(i["version"], i["newer"]) for i in images if i["fits"]]
# -N 2.9.1 refuses 2.0.0 (lower); 2.9.1 fits, but is not newer.
assert fits == [("2.10.0", True), ("2.9.1", False)], fits
refused = {i["path"].rsplit("/", 1)[1]: i["reason"] for i in images if not i["fits"]}
assert set(refused) == {"a.swu", "other-board.swu", "unsigned.swu"}, refused
assert all(refused.values()), refused
EOF
}

case_install_from() {
	usb_stick
	swi "$DEV" install --from "$CASE/stick"
	expect_rc 0
	expect_slot_b b.swu
	expect_committed "$DEV" 3
	grep -q "installing $CASE/stick/b.swu (version 2.10.0" "$CASE/err" ||
		fail "install --from does not say which image it installs"
}

case_not_newer() {
	usb_stick
	swi "$DEV" -N 2.10.0 install --from "$CASE/stick"
	expect_rc 4
	expect_err "is not newer than the installed version 2.10.0"
	expect_slot_b_untouched
	expect_env "$DEV" rootpart 2
	swi "$DEV" -N 2.10.0 install --force --from "$CASE/stick"
	expect_rc 0
	expect_slot_b b.swu
}

# Without -N, the installed version is what the installs recorded: the
# slot waiting for its reboot, then the running slot after the reboot.
case_recorded_version() {
	usb_stick
	swi "$DEV" install --from "$CASE/stick"
	expect_rc 0
	expect_env "$DEV" swinstall_version_B 2.10.0
	swi "$DEV" install --from "$CASE/stick"
	expect_rc 4
	expect_err "is not newer than the installed version 2.10.0"
	echo "console=ttyS0 root=$DEV/slotB.img ro" >"$DEV/cmdline"
	swi "$DEV" mark-good
	expect_rc 0
	swi "$DEV" scan --json "$CASE/stick"
	expect_rc 4
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); assert d["installed"] == "2.10.0" and d["best"] is None, d' \
		"$CASE/out" || fail "scan after the reboot: $(cat "$CASE/out")"
}

case_none_fits() {
	usb_device
	usb_image other-board.swu 3.0.0 9.9
	swi "$DEV" install --from "$CASE/stick"
	expect_rc 4
	expect_err "none of its 1 .swu images fits this device"
	expect_slot_b_untouched
	rm "$CASE/stick/other-board.swu"
	swi "$DEV" scan "$CASE/stick"
	expect_rc 4
	expect_err "no .swu image in it"
	swi "$DEV" scan "$CASE/no-such-dir"
	expect_rc 1
	expect_err "no-such-dir"
}

case_usage() {
	usb_device
	swi "$DEV" install --from "$CASE/stick" x.swu
	expect_rc 2
	swi "$DEV" --from "$CASE/stick" status
	expect_rc 2
	swi "$DEV" scan
	expect_rc 2
}

# The stick as an ext4 file system on a loop device, mounted read-only by
# examples/usb/swinstall-usb as its systemd unit would run it.
case_loop_stick() {
	usb_stick
	truncate -s 16M stick.img
	mkfs.ext4 -q -F -d "$CASE/stick" stick.img || fail "mkfs.ext4 -d"
	loop=$(losetup -f --show stick.img) || fail "losetup"
	mkdir -p mnt
	SWINSTALL_OPTIONS="-f $DEV/swinstall.conf" SWINSTALL_USB_MNT="$CASE/mnt" \
		sh "$EXAMPLES/usb/swinstall-usb" "$loop" >out 2>err
	rc=$?
	cat err
	losetup -d "$loop"
	[ "$rc" -eq 0 ] || fail "swinstall-usb exited $rc"
	expect_slot_b b.swu
	expect_committed "$DEV" 3
	grep -q "swinstall exited 0" err || fail "swinstall-usb does not log the outcome"
	[ -z "$(ls mnt)" ] || fail "the stick's mount point is left behind: $(ls mnt)"
	# Again: 2.10.0 is installed now (-N plays the running slot's record).
	loop=$(losetup -f --show stick.img) || fail "losetup"
	SWINSTALL_OPTIONS="-f $DEV/swinstall.conf -N 2.10.0" SWINSTALL_USB_MNT="$CASE/mnt" \
		sh "$EXAMPLES/usb/swinstall-usb" "$loop" >out 2>err
	rc=$?
	losetup -d "$loop"
	[ "$rc" -eq 4 ] || fail "a second insertion exited $rc, expected 4 (nothing newer)"
	grep -q "not newer than the installed version" err || fail "no reason logged: $(cat err)"
}

# Why the loop device case cannot run here, or nothing.
loop_unusable() {
	[ "$(id -u)" -eq 0 ] || { echo "not root"; return 0; }
	command -v mkfs.ext4 >/dev/null 2>&1 || { echo "mkfs.ext4 (e2fsprogs) not installed"; return 0; }
	probe=$(mktemp "$TMP/probe.XXXXXX")
	truncate -s 8M "$probe"
	mkfs.ext4 -q -F "$probe" 2>/dev/null || { echo "mkfs.ext4 fails"; return 0; }
	loop=$(losetup -f --show "$probe" 2>/dev/null) || { echo "no free loop device"; return 0; }
	mkdir -p "$TMP/probe-mnt"
	if ! mount -o ro "$loop" "$TMP/probe-mnt" 2>/dev/null; then
		losetup -d "$loop"
		echo "mounting a loop device is not allowed here"
		return 0
	fi
	umount "$TMP/probe-mnt"
	losetup -d "$loop"
	return 1
}

t_init
run_case "scan: fitting images newest first, the others refused with why" case_scan_order
run_case "scan --json: installed version, best, fits and newer" case_scan_json
run_case "install --from: the newest image that fits" case_install_from
run_case "install --from: nothing not newer than installed, unless --force" case_not_newer
run_case "install --from: the version recorded for the slot booting next, then the running one" case_recorded_version
run_case "install --from, scan: nothing fits, nothing there, no directory" case_none_fits
run_case "install --from, scan: usage mistakes" case_usage
if why=$(loop_unusable); then
	echo "ok - stick as ext4 on a loop device # SKIP $why"
else
	run_case "stick as ext4 on a loop device, through examples/usb/swinstall-usb" case_loop_stick
fi
t_done
