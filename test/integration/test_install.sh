#!/bin/sh
# Good installs into a simulated A/B device: every case must exit 0 and
# leave exactly the expected bytes and environment behind.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_install.sh
. "$(dirname "$0")/lib.sh"
t_init

# The standard case: CMS-signed crc image, selection stable,copy2 -> slot B.
case_cms_crc() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	# raw never truncates: the rest of slot B keeps its old bytes
	expect_region_unchanged "$DEV/slotB.img" "$DEV/slotB.orig" 307200 $((SLOT_SIZE - 307200))
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
	expect_env "$DEV" bootlimit 3
}

case_newc() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms newc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

# An artifact hard-linked where the image is built (a build system's
# deploy directory): cpio stores its link count; the image installs.
case_hard_linked_artifact() {
	DEV=$CASE/dev
	make_device "$DEV"
	w="$CASE/w"
	mkdir -p "$w" "$CASE/deploy"
	mk_data "$CASE/deploy/rootfs.img" 300K "rootfs-$T_NUM"
	ln "$CASE/deploy/rootfs.img" "$w/rootfs.img"
	swdesc_ab "$w" rootfs.img
	mk_swu u.swu cms newc "$w" rootfs.img
	cpio -itv <u.swu 2>/dev/null | grep -q ' 2 .*rootfs.img$' || fail "the link count was not archived"
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_committed "$DEV" 3
}

case_install_subcommand() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 install u.swu
	expect_installed_in_b "$DEV"
}

case_rsa() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	ab_image u.swu rsa crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

case_rsa_pss() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	ab_image u.swu none crc
	openssl dgst -sha256 -sign "$KEYS/rsa.key" -sigopt rsa_padding_mode:pss \
		-sigopt rsa_pss_saltlen:-2 -out w/sw-description.sig w/sw-description
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# The key given with -k overrides the configuration's public-key.
case_key_option() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	ab_image u.swu cms crc
	swi "$DEV" -k "$KEYS/ca.pem" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_committed "$DEV" 3
}

case_code_signing() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu none crc
	sign_cms w code-signer
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" --cert-purpose codeSigning --forced-signer-name code-signer -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# compressed VALUE TOOL-COMMAND SUFFIX  (VALUE as written in sw-description)
compressed_case() {
	DEV=$CASE/dev
	make_device "$DEV" ""
	mkdir w
	# half text (compresses), half noise (does not)
	yes "compressible line of the root filesystem" | head -c 200K >w/rootfs.img
	mk_data w/noise 100K noise
	cat w/noise >>w/rootfs.img
	$2 <w/rootfs.img >"w/rootfs.img.$3"
	desc_images w images "rootfs.img.$3" "type = \"raw\"; device = \"$DEV/slotB.img\"; compressed = $1;"
	mk_swu u.swu cms crc w "rootfs.img.$3"
	swi "$DEV" -k "$KEYS/ca.pem" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_region_unchanged "$DEV/slotB.img" "$DEV/slotB.orig" 307200 4096
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}
case_gzip() { compressed_case '"zlib"' "gzip -9 -n" gz; }
case_zlib_true() { compressed_case true "gzip -n" gz; }
case_zstd() { compressed_case '"zstd"' "zstd -q -19" zst; }
case_xz() { compressed_case '"xz"' "xz -6" xz; }

case_raw_offset() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/boot.bin 100K boot
	desc_images w images boot.bin "type = \"raw\"; device = \"$DEV/slotB.img\"; offset = \"8K\";"
	mk_swu u.swu cms crc w boot.bin
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 8192 w/boot.bin
	expect_region_unchanged "$DEV/slotB.img" "$DEV/slotB.orig" 0 8192
	expect_region_unchanged "$DEV/slotB.img" "$DEV/slotB.orig" $((8192 + 102400)) 8192
	[ "$(wc -c <"$DEV/slotB.img")" -eq "$SLOT_SIZE" ] || fail "slotB.img changed size"
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

# One member named by two entries (hex and plain-number offsets); the last
# entry's data ends exactly at the end of the target.
case_member_twice() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/blob 64K blob
	h=$(sha w/blob)
	cat >w/sw-description <<EOF
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = (
		{ filename = "blob"; type = "raw"; device = "$DEV/slotB.img"; offset = "0x4F000"; sha256 = "$h"; },
		{ filename = "blob"; type = "raw"; device = "$DEV/slotB.img"; offset = "$((SLOT_SIZE - 65536))"; sha256 = "$h"; }
	);
	bootenv = ( { name = "rootpart"; value = "3"; } );
}
EOF
	mk_swu u.swu cms crc w blob
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" $((0x4F000)) w/blob
	expect_bytes "$DEV/slotB.img" $((SLOT_SIZE - 65536)) w/blob
	expect_region_unchanged "$DEV/slotB.img" "$DEV/slotB.orig" 0 $((0x4F000))
	[ "$(wc -c <"$DEV/slotB.img")" -eq "$SLOT_SIZE" ] || fail "slotB.img changed size"
	expect_committed "$DEV" 3
}

# A payload exactly the size of the target is not "past the end".
case_full_slot() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc 4M
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	cmp -s "$DEV/slotB.img" w/rootfs.img || fail "slotB.img differs from the image"
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

case_rawfile() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	printf 'mode=production\nserver=https://updates.example.com\n' >w/app.conf
	desc_images w files app.conf "path = \"$DEV/rootfs/etc/app/app.conf\"; create-destination = true;"
	mk_swu u.swu cms crc w app.conf
	swi "$DEV" -i u.swu
	expect_rc 0
	cmp -s "$DEV/rootfs/etc/app/app.conf" w/app.conf || fail "app.conf not installed"
	[ "$(ls -A "$DEV/rootfs/etc/app")" = app.conf ] ||
		fail "left-over files next to app.conf: $(ls -A "$DEV/rootfs/etc/app" | tr '\n' ' ')"
	expect_slots_untouched "$DEV"
	expect_committed "$DEV" 3
}

# rawfile replaces an existing file (temp file + rename), mode/size new.
case_rawfile_replace() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w "$DEV/rootfs"
	yes "old contents that are much longer than the new ones" | head -c 10000 >"$DEV/rootfs/motd"
	printf 'welcome to 2.0\n' >w/motd
	desc_images w files motd "type = \"rawfile\"; path = \"$DEV/rootfs/motd\";"
	mk_swu u.swu cms newc w motd
	swi "$DEV" -i u.swu
	expect_rc 0
	cmp -s "$DEV/rootfs/motd" w/motd || fail "motd not replaced exactly (old bytes left?)"
	[ "$(ls -A "$DEV/rootfs")" = motd ] || fail "left-over files: $(ls -A "$DEV/rootfs" | tr '\n' ' ')"
	expect_committed "$DEV" 3
}

case_bootloader_script() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	printf '# variables for the new system\nrootpart=3\nbootdelay=5\nbootargs=console=ttyS0,115200 quiet\nbootcount=\n' >w/bootvars.txt
	desc_images w images bootvars.txt 'type = "bootloader";' ""
	mk_swu u.swu cms crc w bootvars.txt
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_env "$DEV" rootpart 3
	expect_env "$DEV" bootdelay 5
	expect_env "$DEV" bootargs "console=ttyS0,115200 quiet"
	expect_env_absent "$DEV" bootcount
	expect_env "$DEV" bootlimit 3
	expect_committed "$DEV" 3
	expect_slots_untouched "$DEV"
}

# Image, file, bootloader script and bootenv in one; an extra member that
# no entry names is skipped.
case_everything() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 500K rootfs
	printf 'v=2\n' >w/version.txt
	printf 'bootdelay=1\n' >w/vars.txt
	mk_data w/unused.bin 10K unused
	cat >w/sw-description <<EOF
software = {
	version = "2.0.0";
	description = "everything at once";
	hardware-compatibility = [ "0.9", "1.0" ];
	images = (
		{ filename = "rootfs.img"; device = "$DEV/slotB.img"; sha256 = "$(sha w/rootfs.img)"; installed-directly = true; },
		{ filename = "vars.txt"; type = "bootloader"; sha256 = "$(sha w/vars.txt)"; }
	);
	files = (
		{ filename = "version.txt"; path = "$DEV/version.txt"; sha256 = "$(sha w/version.txt)"; }
	);
	bootenv = (
		{ name = "rootpart"; value = "3"; },
		{ name = "upgrade_available"; value = "1"; },
		{ name = "bootcount"; value = ""; }
	);
}
EOF
	mk_swu u.swu cms crc w vars.txt unused.bin rootfs.img version.txt
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	cmp -s "$DEV/version.txt" w/version.txt || fail "version.txt not installed"
	expect_env "$DEV" bootdelay 1
	expect_env "$DEV" upgrade_available 1
	expect_env_absent "$DEV" bootcount
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

case_stdin() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc 1M
	swi_pipe u.swu "$DEV" -e stable,copy2 -i -
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

case_dry_run() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -n -e stable,copy2 -i u.swu
	expect_rc 0
	expect_device_untouched "$DEV"
	swi "$DEV" --dry-run -e stable,copy2 -i u.swu
	expect_rc 0
	expect_device_untouched "$DEV"
}

# A dry run reads and hashes every artifact: a tampered one is found.
case_dry_run_hashes() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	flip_data u.swu rootfs.img
	swi "$DEV" -n -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err rootfs.img
	expect_device_untouched "$DEV"
}

case_check() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -c -e stable,copy2 -i u.swu
	expect_rc 0
	expect_device_untouched "$DEV"
	swi "$DEV" --check -e stable,copy2 -i u.swu
	expect_rc 0
	expect_device_untouched "$DEV"
	# --check verifies compatibility and selection too
	swi "$DEV" -c -H myboard:2.0 -e stable,copy2 -i u.swu
	expect_rc 4
	swi "$DEV" -c -e stable,copy9 -i u.swu
	expect_rc 4
	expect_device_untouched "$DEV"
}

case_insecure() {
	DEV=$CASE/dev
	make_device "$DEV" ""
	ab_image u.swu none crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
	swi "$DEV" --insecure -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_insecure_config() {
	DEV=$CASE/dev
	make_device "$DEV" ""
	echo 'insecure = true;' >>"$DEV/swinstall.conf"
	ab_image u.swu none newc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# Options override the file: the file selects copy1, -e selects copy2.
case_select_config() {
	DEV=$CASE/dev
	make_device "$DEV"
	echo 'select = "stable,copy2";' >>"$DEV/swinstall.conf"
	ab_image u.swu cms crc
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
	# and the command line wins over the file
	sed -i 's/^select = .*/select = "stable,copy9";/' "$DEV/swinstall.conf"
	cp "$DEV/slotB.orig" "$DEV/slotB.img"
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
}

case_swugenerator() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w "$DEV/rootfs"
	yes "root filesystem text" | head -c 300K >w/rootfs.img
	mk_data w/tail 100K tail
	cat w/tail >>w/rootfs.img
	printf 'mode=production\n' >w/app.conf
	cat >w/sw-description.in <<EOF
software =
{
	version = "2.0.0";
	hardware-compatibility: [ "1.0" ];
	stable: {
		copy1: {
			images: ( {
				filename = "rootfs.img";
				type = "raw";
				device = "$DEV/slotA.img";
				compressed = "zlib";
				sha256 = "\$swupdate_get_sha256(rootfs.img)";
			} );
			bootenv: ( { name = "rootpart"; value = "2"; } );
		};
		copy2: {
			images: ( {
				filename = "rootfs.img";
				type = "raw";
				device = "$DEV/slotB.img";
				compressed = "zlib";
				sha256 = "\$swupdate_get_sha256(rootfs.img)";
			} );
			files: ( {
				filename = "app.conf";
				path = "$DEV/rootfs/app.conf";
				sha256 = "\$swupdate_get_sha256(app.conf)";
			} );
			bootenv: ( { name = "rootpart"; value = "3"; } );
		};
	};
}
EOF
	# swugenerator 0.2's $swupdate_get_sha256() opens the file relative to
	# the working directory (not the -a directory): run it inside w/.
	(cd w && swugenerator -s sw-description.in -o ../u.swu -a . \
		-k "CMS,$KEYS/signer.key,$KEYS/signer.pem" create) || fail "swugenerator failed"
	cpio -it <u.swu 2>/dev/null | grep -qx rootfs.img.zlib || fail "swugenerator did not compress"
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	cmp -s "$DEV/rootfs/app.conf" w/app.conf || fail "app.conf not installed"
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

# libconfig 1.7 syntax that Debian's libconfig 1.5 rejects.
case_trailing_commas() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 200K rootfs
	cat >w/sw-description <<EOF
software =
{
	version = "2.0.0";
	hardware-compatibility: [ "0.9", "1.0", ];
	images: (
		{
			filename = "rootfs.img";
			device = "$DEV/slotB.img";
			offset = "0";
			sha256 = "$(sha w/rootfs.img)";
		},
	);
	bootenv: (
		{ name = "rootpart"; value = "3"; },
		{ name = "upgrade_available"; value = "1"; },
	);
};
EOF
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_env "$DEV" upgrade_available 1
	expect_committed "$DEV" 3
}

# -H overrides the hwrevision file (which names a revision the image lacks).
case_hwrevision_option() {
	DEV=$CASE/dev
	make_device "$DEV"
	echo "myboard 2.0" >"$DEV/hwrevision"
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 4
	expect_device_untouched "$DEV"
	swi "$DEV" -H myboard:1.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_hwrevision_file() {
	DEV=$CASE/dev
	make_device "$DEV"
	echo "myboard 0.9" >"$DEV/hwrevision"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\";"
	sed -i 's/\[ "1.0" \]/[ "0.8", "0.9" ]/' w/sw-description
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
}

# Board groups: software.myboard.stable.copy2 is used for board myboard,
# software.otherboard never.
case_board_group() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	h=$(sha w/rootfs.img)
	cat >w/sw-description <<EOF
software = {
	version = "2.0.0";
	otherboard = {
		hardware-compatibility = [ "1.0" ];
		stable = { copy2 = {
			images = ( { filename = "rootfs.img"; device = "$DEV/slotA.img"; sha256 = "$h"; } );
			bootenv = ( { name = "rootpart"; value = "9"; } );
		}; };
	};
	myboard = {
		hardware-compatibility = [ "1.0" ];
		stable = { copy2 = {
			images = ( { filename = "rootfs.img"; device = "$DEV/slotB.img"; sha256 = "$h"; } );
			bootenv = ( { name = "rootpart"; value = "3"; } );
		}; };
	};
}
EOF
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

# install-if-different: sw-versions already has rootfs 1.0.0.
case_install_if_different() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\"; name = \"rootfs\"; version = \"1.0.0\"; install-if-different = true;"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_unchanged "$DEV" slotB.img
	expect_slot_a_untouched "$DEV"
	# a different version is installed
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\"; name = \"rootfs\"; version = \"1.0.1\"; install-if-different = true;"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
}

case_install_if_higher() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\"; name = \"rootfs\"; version = \"0.9.9\"; install-if-higher = true;"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_unchanged "$DEV" slotB.img
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\"; name = \"rootfs\"; version = \"1.0.10\"; install-if-higher = true;"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
}

case_quiet_verbose() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -q -e stable,copy2 -i u.swu
	expect_rc 0
	[ ! -s "$CASE/err" ] || fail "-q printed on stderr: $(head -c 300 "$CASE/err")"
	cp "$DEV/slotB.orig" "$DEV/slotB.img"
	swi "$DEV" -v -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
}

# -vv: the image's version, and for each artifact when it is done its
# target, its size in the archive and written, and its sha256 result.
case_very_verbose() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -vv -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	grep -qxF "swinstall: sw-description: software version 2.0.0" "$CASE/err" ||
		fail "-vv does not name the image's version"
	grep -qxF "swinstall: images[0] (rootfs.img): done: handler raw, device $DEV/slotB.img; \
307200 bytes in the archive, 307200 written; sha256 ok $(sha w/rootfs.img)" "$CASE/err" ||
		fail "-vv does not describe rootfs.img as written"
	# An unsigned image may leave the hash out; a dry run writes nothing.
	make_device "$DEV" ""
	mkdir -p w2
	printf 'mode=production\n' >w2/app.conf
	cat >w2/sw-description <<EOF
software = { version = "2.1"; files = ( { filename = "app.conf"; path = "$DEV/app.conf"; } ); };
EOF
	mk_swu u2.swu none crc w2 app.conf
	swi "$DEV" -vv --insecure -n -i u2.swu
	expect_rc 0
	grep -qxF "swinstall: files[0] (app.conf): done: handler rawfile, path $DEV/app.conf; \
16 bytes in the archive (dry run: not written); no sha256" "$CASE/err" ||
		fail "-vv -n does not describe app.conf as unhashed and not written"
	grep -qxF "swinstall: sw-description: software version 2.1" "$CASE/err" ||
		fail "-vv does not name the second image's version"
	# Without -vv, none of it.
	swi "$DEV" -v --insecure -n -i u2.swu
	grep -q "done: handler" "$CASE/err" && fail "-v shows the debugging lines"
	return 0
}

case_help_version() {
	"$SWINSTALL" --help >out 2>&1 || fail "--help exited $?"
	grep -q -- '--dry-run' out || fail "--help does not list --dry-run"
	"$SWINSTALL" --version >out 2>&1 || fail "--version exited $?"
	grep -q '[0-9]\.[0-9]' out || fail "--version prints no version: $(cat out)"
}

# Links: the selection's images are a ref to a list elsewhere (a group
# holding ref = "#PATH" stands for what PATH names; "#./" and "#../" paths
# start at the group that holds the link, like a symlink in a directory).
case_ref_links() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	h=$(sha w/rootfs.img)
	cat >w/sw-description <<EOF
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	stable = {
		copy2 = {
			images = { ref = "#./../slot_b_images"; };
			bootenv: { ref: "#/software/common/bootenv_b"; };
		};
		slot_b_images = (
			{ filename = "rootfs.img"; device = "$DEV/slotB.img"; sha256 = "$h"; }
		);
	};
	common = {
		bootenv_b = ( { name = "rootpart"; value = "3"; } );
	};
}
EOF
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# Syntax seen in real sw-descriptions: no terminators, "," terminators,
# comments between list elements, non-ASCII bytes in comments, unknown keys,
# a multi-line string with \" inside, "};" after the root group, the older
# collection name "uboot" and image type "uboot".
case_real_world_syntax() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	printf 'bootdelay=2\n' >w/vars.txt
	cat >w/sw-description <<EOF
// written by hand — Größe egal
software =
{
	version = "2.0.0"
	description = "a \"quoted\" word and "
		"a second line",
	vendor-specific-key = 42;
	hardware-compatibility: [ "1.0" ]
	images: (
		# the root filesystem
		{
			filename = "rootfs.img"
			device = "$DEV/slotB.img",
			offset = "1024";
			sha256 = "$(sha w/rootfs.img)"
		},
		/* U-Boot variables, the older type name */
		{
			filename = "vars.txt";
			type = "uboot";
			sha256 = "$(sha w/vars.txt)";
		}
	)
	uboot: (
		{ name = "rootpart"; value = "3"; }
	)
};
EOF
	mk_swu u.swu cms crc w rootfs.img vars.txt
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 1024 w/rootfs.img
	expect_env "$DEV" bootdelay 2
	expect_committed "$DEV" 3
}

case_hw_regex() {
	DEV=$CASE/dev
	make_device "$DEV"
	echo "myboard 1.7" >"$DEV/hwrevision"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\";"
	sed -i 's/\[ "1.0" \]/[ "0.9", "#RE:^1\\\\.[0-9]$" ]/' w/sw-description
	grep -q '#RE:' w/sw-description || fail "could not write the regex"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	swi "$DEV" -H myboard:2.0 -i u.swu
	expect_rc 4
}

# A redundant environment pair (two fw_env.config lines).
case_redundant_env() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkenvimage -r -s "$ENV_SIZE" -o "$DEV/envA.img" "$DEV/env.txt" || fail "mkenvimage -r"
	cp "$DEV/envA.img" "$DEV/envB.img"
	printf '%s 0x0 %s\n%s 0x0 %s\n' "$DEV/envA.img" "$ENV_SIZE" "$DEV/envB.img" "$ENV_SIZE" >"$DEV/fw_env.config"
	env_get "$DEV" rootpart | grep -qx 2 || fail "redundant env not readable: $(env_list "$DEV")"
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

run_case "CMS-signed crc image into slot B (stable,copy2)" case_cms_crc
run_case "newc archive" case_newc
run_case "an artifact hard-linked where the image was built installs" case_hard_linked_artifact
run_case "'install FILE' form" case_install_subcommand
run_case "RSA PKCS#1 v1.5 signature" case_rsa
run_case "RSA-PSS signature" case_rsa_pss
run_case "-k overrides the configured public-key" case_key_option
run_case "codeSigning certificate with --cert-purpose and --forced-signer-name" case_code_signing
run_case "gzip-compressed artifact (compressed = \"zlib\")" case_gzip
run_case "compressed = true means zlib" case_zlib_true
run_case "zstd-compressed artifact" case_zstd
run_case "xz-compressed artifact" case_xz
run_case "raw with offset \"8K\"" case_raw_offset
run_case "one member written by two entries at two offsets" case_member_twice
run_case "payload exactly the size of the slot" case_full_slot
run_case "rawfile into a new directory (create-destination)" case_rawfile
run_case "rawfile replaces an existing file" case_rawfile_replace
run_case "bootloader-type variables file" case_bootloader_script
run_case "image + file + bootloader + bootenv, unused member skipped" case_everything
run_case "image from standard input (-i -)" case_stdin
run_case "--dry-run writes nothing" case_dry_run
run_case "--dry-run hashes the artifacts" case_dry_run_hashes
run_case "--check writes nothing and checks compatibility" case_check
run_case "unsigned image needs --insecure" case_insecure
run_case "insecure = true in the configuration" case_insecure_config
run_case "select from the configuration, -e overrides it" case_select_config
run_case "swugenerator-built image (zlib, CMS)" case_swugenerator
run_case "sw-description with trailing commas (libconfig 1.7)" case_trailing_commas
run_case "-H overrides the hwrevision file" case_hwrevision_option
run_case "hwrevision from the file" case_hwrevision_file
run_case "board group software.myboard.stable.copy2" case_board_group
run_case "install-if-different skips the same version" case_install_if_different
run_case "install-if-higher skips a lower version" case_install_if_higher
run_case "-q is silent, -v works" case_quiet_verbose
run_case "-vv: version, and each artifact's target, sizes and sha256" case_very_verbose
run_case "--help and --version" case_help_version
run_case "ref links (relative and absolute, ref: and ref =)" case_ref_links
run_case "real-world sw-description syntax, uboot names" case_real_world_syntax
run_case "hardware-compatibility #RE: regex" case_hw_regex
run_case "redundant U-Boot environment pair" case_redundant_env
t_done
