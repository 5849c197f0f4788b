#!/bin/sh
# Vetting images where the device's targets do not exist (a build server):
# -c opens no target, -n warns about a target that is not on this machine
# and still decodes and hashes everything, an install fails before writing.
# What this build lacks is refused the same way by -c, -n and an install.
# --version and -v alone list the handlers.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_buildhost.sh
. "$(dirname "$0")/lib.sh"
t_init

# An image for a device this machine is not: a raw image for a device node,
# a rawfile file in a directory and one in a filesystem on a device to
# mount, that do not exist here.
build_host_image() {
	mkdir -p w
	mk_data w/rootfs.img 300K rootfs
	printf 'key=value\n' >w/app.conf
	h1=$(sha w/rootfs.img)
	h2=$(sha w/app.conf)
	cat >w/sw-description <<EOF2
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = ( { filename = "rootfs.img"; type = "raw"; device = "$CASE/no-such-disk/p3";
		     offset = "1M"; sha256 = "$h1"; } );
	files = ( { filename = "app.conf"; path = "$CASE/no-such-dir/etc/app.conf"; sha256 = "$h2"; },
		  { filename = "app.conf"; path = "/etc/app.conf"; device = "$CASE/no-such-disk/p4";
		    filesystem = "ext4"; sha256 = "$h2"; } );
};
EOF2
	mk_swu "$1" cms "${2:-crc}" w rootfs.img app.conf
}

# refused_alike STATUS MESSAGE: -c, -n and an install of u.swu all exit
# STATUS with MESSAGE, and the device is left as it was.
refused_alike() {
	for mode in -c -n ""; do
		swi "$DEV" $mode -i u.swu
		expect_rc "$1"
		expect_err "$2"
	done
	expect_device_untouched "$DEV"
}

case_check_opens_no_target() {
	DEV=$CASE/dev
	make_device "$DEV"
	build_host_image u.swu
	swi "$DEV" -c -i u.swu
	expect_rc 0
	grep -q "warning" "$CASE/err" && fail "-c looked at the targets: $(cat "$CASE/err")"
	expect_device_untouched "$DEV"
}

case_dry_run_warns() {
	DEV=$CASE/dev
	make_device "$DEV"
	build_host_image u.swu
	swi "$DEV" -n -i u.swu
	expect_rc 0
	grep -q "warning: rootfs.img: $CASE/no-such-disk/p3: No such file or directory (not on this machine" \
		"$CASE/err" || fail "no warning naming the missing device"
	grep -q "warning: app.conf: directory $CASE/no-such-dir/etc does not exist" "$CASE/err" ||
		fail "no warning naming the missing directory"
	grep -q "warning: app.conf: device $CASE/no-such-disk/p4 does not exist (not on this machine" \
		"$CASE/err" || fail "no warning naming the missing device to mount"
	grep -q "nothing written (--dry-run)" "$CASE/out" || fail "no dry-run result"
	[ -e "$CASE/no-such-disk" ] || [ -e "$CASE/no-such-dir" ] && fail "a dry run created a target"
	expect_device_untouched "$DEV"
}

# The dry run still hashes every artifact: a tampered one fails it.
case_dry_run_still_hashes() {
	DEV=$CASE/dev
	make_device "$DEV"
	build_host_image u.swu newc
	flip_data u.swu rootfs.img 1000
	swi "$DEV" -n -i u.swu
	expect_rc 3
	expect_err "rootfs.img: sha256 mismatch"
}

case_install_fails_cleanly() {
	DEV=$CASE/dev
	make_device "$DEV"
	build_host_image u.swu
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_err "$CASE/no-such-disk/p3: No such file or directory"
	[ -e "$CASE/no-such-disk" ] || [ -e "$CASE/no-such-dir" ] && fail "an install created a target"
	expect_device_untouched "$DEV"
}

# unsupported ATTRS MESSAGE [COLLECTION]: an image with a good raw image,
# then an entry of COLLECTION (images) with ATTRS, is refused with exit 4
# and MESSAGE by -c, -n and an install alike, and nothing is written.
unsupported() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w
	mk_data w/rootfs.img 300K rootfs
	mk_data w/u-boot.sb 20K uboot
	h1=$(sha w/rootfs.img)
	h2=$(sha w/u-boot.sb)
	second="{ filename = \"u-boot.sb\"; sha256 = \"$h2\"; $1 }"
	if [ "${3:-scripts}" = images ]; then
		images=",
		$second" rest=
	else
		images= rest="$3 = ( $second );"
	fi
	cat >w/sw-description <<EOF2
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = (
		{ filename = "rootfs.img"; type = "raw"; device = "$DEV/slotB.img"; sha256 = "$h1"; }$images
	);
	$rest
};
EOF2
	mk_swu u.swu cms crc w rootfs.img u-boot.sb
	refused_alike 4 "$2"
}

case_unknown_handler() {
	unsupported 'type = "flash";' 'swinstall: images[1] (u-boot.sb): no handler "flash" in this build' \
		images
}

# A hook that refuses the image runs (and refuses) in -c and -n as well.
case_hook() {
	refused_beside_rootfs 4 'files[0] (rootfs.img): hook not_here refused the image (returned false)' \
		'embedded-script = "function not_here(e) return false end";
		 files = ( { filename = "rootfs.img"; path = "/etc/x"; hook = "not_here"; } );'
}

case_attribute_not_honoured() {
	unsupported 'type = "raw"; path = "/boot/u-boot.sb";' \
		"images[1] (u-boot.sb): handler 'raw' cannot honour attribute 'path'" images
}

case_script_without_handler() {
	unsupported 'type = "python";' 'scripts[0] (u-boot.sb): no handler "python" in this build' scripts
}

# A wrong type is malformed (exit 3), the same way in every mode too.
case_wrong_type() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w
	mk_data w/rootfs.img 300K rootfs
	desc_images w images rootfs.img "type = \"raw\"; device = \"$DEV/slotB.img\"; offset = \"4X\";"
	mk_swu u.swu cms crc w rootfs.img
	refused_alike 3 "images[0] (rootfs.img): attribute 'offset' is \"4X\"; expected a size"
}

# refused_beside_rootfs EXIT MESSAGE SETTINGS: an image of one raw rootfs
# entry plus SETTINGS (more top-level settings of software) is refused alike.
refused_beside_rootfs() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w
	mk_data w/rootfs.img 300K rootfs
	h=$(sha w/rootfs.img)
	cat >w/sw-description <<EOF2
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = ( { filename = "rootfs.img"; type = "raw"; device = "$DEV/slotB.img"; sha256 = "$h"; } );
	$3
};
EOF2
	mk_swu u.swu cms crc w rootfs.img
	refused_alike "$1" "$2"
}

# A hook with no embedded-script to find it in is malformed (SWUpdate
# ignores the hook), refused alike.
case_hook_without_script() {
	refused_beside_rootfs 3 'files[0] (rootfs.img): hook fix, but sw-description has no embedded-script' \
		'files = ( { filename = "rootfs.img"; path = "/etc/x"; hook = "fix"; } );'
}

case_partitions() {
	refused_beside_rootfs 4 'partitions[0] (rootfs): no handler "ubipartition" in this build' \
		'partitions = ( { name = "rootfs"; device = "mtd4"; size = 104896512; } );'
}

# Partition tools are refused by name, before anything is written.
case_partition_tool() {
	refused_beside_rootfs 4 \
		'partitions[0]: no handler "diskpart" in this build (SWUpdate'"'"'s partition table (GPT/MBR) tool' \
		'partitions = ( { type = "diskpart"; device = "/dev/mmcblk0";
			 properties = { labeltype = "gpt"; partition-1 = [ "size=1M", "start=2048", "name=a" ]; }; } );'
}

# An unknown key is ignored (real files have them); -vv says so.
case_unknown_key_ignored() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w
	mk_data w/rootfs.img 300K rootfs
	desc_images w images rootfs.img "type = \"raw\"; device = \"$DEV/slotB.img\"; colour = \"blue\";"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -vv -i u.swu
	expect_rc 0
	grep -q "images\[0\] (rootfs.img): attribute 'colour' is unknown; ignored" "$CASE/err" ||
		fail "the unknown key is not mentioned with -vv"
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
}

case_version_lists_handlers() {
	for args in --version -v; do
		"$SWINSTALL" $args >"$CASE/out" 2>"$CASE/err" || fail "swinstall $args: exit $?"
		head -n 1 "$CASE/out" | grep -q '^swinstall [0-9]' || fail "$args: no version"
		for h in "raw (images, files)" "rawfile (images, files)" "bootloader (images, bootenv)"; do
			grep -qF "$h" "$CASE/out" || fail "$args does not list $h: $(cat "$CASE/out")"
		done
	done
	# -v with an install logs them
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -v -e stable,copy2 -i u.swu
	expect_rc 0
	grep -q "handlers: raw (images, files), rawfile" "$CASE/err" || fail "-v install: no handlers"
}

run_case "-c on a build host opens no target" case_check_opens_no_target
run_case "-n on a build host warns about missing targets, exits 0" case_dry_run_warns
run_case "-n on a build host still hashes every artifact" case_dry_run_still_hashes
run_case "an install with missing targets fails before writing" case_install_fails_cleanly
run_case "no handler: exit 4 from -c, -n and install, entry named" case_unknown_handler
run_case "partition tool diskpart: refused by name, exit 4, nothing written" case_partition_tool
run_case "a hook that refuses: exit 4 from -c, -n and install, entry named" case_hook
run_case "attribute the handler cannot honour: exit 4 alike" case_attribute_not_honoured
run_case "script without a handler: exit 4 alike" case_script_without_handler
run_case "a value of the wrong type: exit 3 alike" case_wrong_type
run_case "a hook without embedded-script: exit 3 alike" case_hook_without_script
run_case "partitions: exit 4 alike" case_partitions
run_case "an unknown key is ignored" case_unknown_key_ignored
run_case "--version and -v list the handlers" case_version_lists_handlers
t_done
