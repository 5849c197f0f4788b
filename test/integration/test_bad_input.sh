#!/bin/sh
# Bad images, bad configuration, bad usage: each must give the documented
# exit code, say on stderr what failed, and leave the device safe:
#  - failed before the first write: slots and env byte-identical;
#  - failed after writes started: env has recovery_status=failed, ustate=3
#    and the old boot selection (rootpart=2); the active slot A untouched.
# Exit codes: 1 install failed, 2 usage/config, 3 not trustworthy or not well
# formed, 4 not for this device.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_bad_input.sh
. "$(dirname "$0")/lib.sh"
t_init

# Any failure ends stderr with a "swinstall: <what>: <reason>" line.
expect_some_err() {
	grep '^swinstall: ' "$CASE/err" | tail -n 1 | grep -q '^swinstall: .*: ' ||
		fail "no 'swinstall: <what>: <reason>' line on stderr: $(head -c 400 "$CASE/err")"
}

# ------------------------------------------------------------- artifacts

# newc has no checksum: only sha256 can catch this.
case_tampered_artifact() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms newc
	flip_data u.swu rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err rootfs.img
	expect_failed_state "$DEV"
}

# After a failed install the next good one commits normally.
case_retry_after_failure() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms newc
	cp u.swu bad.swu
	flip_data bad.swu rootfs.img 100
	swi "$DEV" -e stable,copy2 -i bad.swu
	expect_rc 3
	expect_failed_state "$DEV"
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# rawfile: a tampered file never appears at its path, no temp file is left.
case_tampered_rawfile() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w "$DEV/rootfs"
	mk_data w/app.bin 50K app
	desc_images w files app.bin "path = \"$DEV/rootfs/app.bin\";"
	mk_swu u.swu cms newc w app.bin
	flip_data u.swu app.bin
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err app.bin
	[ -z "$(ls -A "$DEV/rootfs")" ] || fail "left in rootfs/: $(ls -A "$DEV/rootfs" | tr '\n' ' ')"
	expect_failed_state "$DEV"
}

# A tampered bootloader-type file: its variables are not applied.
case_tampered_bootloader_file() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	printf 'rootpart=3\nbootdelay=5\n' >w/vars.txt
	desc_images w images vars.txt 'type = "bootloader";' ""
	mk_swu u.swu cms newc w vars.txt
	flip_data u.swu vars.txt 0
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err vars.txt
	expect_env_absent "$DEV" bootdelay
	expect_safe_failure "$DEV"
}

# desc_rootfs_and_extra: w/sw-description naming w/rootfs.img at the start
# of slot B and w/extra.bin at 1M in it.
desc_rootfs_and_extra() {
	cat >w/sw-description <<EOF
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = (
		{ filename = "rootfs.img"; device = "$DEV/slotB.img"; sha256 = "$(sha w/rootfs.img)"; },
		{ filename = "extra.bin"; device = "$DEV/slotB.img"; offset = "1M"; sha256 = "$(sha w/extra.bin)"; }
	);
	bootenv = ( { name = "rootpart"; value = "3"; } );
}
EOF
}

# Two artifacts, the second one tampered: the first was written, the boot
# selection still is not switched.
case_second_artifact_tampered() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 200K rootfs
	mk_data w/extra.bin 20K extra
	desc_rootfs_and_extra
	mk_swu u.swu cms newc w rootfs.img extra.bin
	flip_data u.swu extra.bin
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err extra.bin
	expect_failed_state "$DEV"
}

# Declared in sw-description, absent from the archive.
case_missing_artifact() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	mk_data w/extra.bin 10K extra
	desc_rootfs_and_extra
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err extra.bin
	expect_failed_state "$DEV"
}

case_no_sha256_signed() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\";"
	sed -i '/sha256 = /d' w/sw-description
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err rootfs.img
	expect_device_untouched "$DEV"
}

case_bad_sha256_text() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\";"
	sed -i 's/sha256 = "\(.*\)..";/sha256 = "\1zz";/' w/sw-description
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

# ------------------------------------------------------- sw-description

case_tampered_swdesc() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms newc
	# "A/B test image" -> "A/C test image": still valid libconfig
	# shellcheck disable=SC2046 # split into offsets on purpose
	set -- $(cpio_member u.swu sw-description)
	off=$(grep -boa 'A/B test image' u.swu | head -n1 | cut -d: -f1)
	[ -n "$off" ] && [ "$off" -gt "$2" ] || fail "description text not found"
	put_bytes u.swu $((off + 2)) C
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
}

case_malformed_swdesc() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 10K rootfs
	printf 'software = {\n\tversion = "2.0.0"\n\timages = ( { filename = "rootfs.img"; \n' >w/sw-description
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
}

case_untrusted_signer() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu none crc
	sign_cms w untrusted
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
}

case_wrong_purpose() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu none crc
	sign_cms w code-signer
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
	swi "$DEV" --cert-purpose codeSigning --forced-signer-name someone-else -e stable,copy2 -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

case_rsa_wrong_key() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	ab_image u.swu none crc
	sign_rsa w rsa-other
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
}

case_missing_signature() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu none crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
	# --insecure does not lift the need for a signature when a key is set
	swi "$DEV" --insecure -e stable,copy2 -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

# The signature is not the second member: the image counts as unsigned.
case_signature_late() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	mk_cpio u.swu crc w sw-description rootfs.img sw-description.sig
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_safe_failure "$DEV"
}

case_swdesc_not_first() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	mk_cpio u.swu crc w rootfs.img sw-description sw-description.sig
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

case_no_key_no_insecure() {
	DEV=$CASE/dev
	make_device "$DEV" ""
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_some_err
	expect_device_untouched "$DEV"
	ab_image u.swu none crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

# --------------------------------------------------------- the archive

# truncate_case file|pipe: the image cut at points inside every member.
# Kind of each cut: 1 = inside sw-description or its signature (nothing may
# be written), 0 = between signature and artifact (either safe outcome),
# 2 = inside or after the artifact (written: must end in the failed state).
truncate_case() {
	mode=$1
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	# shellcheck disable=SC2046 # split into offsets on purpose
	set -- $(cpio_member u.swu sw-description.sig)
	sig_data=$2 sig_size=$3
	# shellcheck disable=SC2046 # split into offsets on purpose
	set -- $(cpio_member u.swu rootfs.img)
	art_hdr=$1 art_data=$2 art_size=$3
	trailer=$(((art_data + art_size + 3) / 4 * 4))
	for spec in 50:1 300:1 $((sig_data + 100)):1 $((sig_data + sig_size)):0 \
		$((art_hdr + 60)):0 $((art_data + 1000)):2 $((art_data + art_size - 1)):2 \
		$((trailer)):2 $((trailer + 50)):2; do
		at=${spec%:*} kind=${spec#*:}
		cp "$DEV/slotB.orig" "$DEV/slotB.img"
		mkenvimage -s "$ENV_SIZE" -o "$DEV/env.img" "$DEV/env.txt"
		head -c "$at" u.swu >cut.swu
		if [ "$mode" = pipe ]; then
			swi_pipe cut.swu "$DEV" -e stable,copy2 -i -
		else
			swi "$DEV" -e stable,copy2 -i cut.swu
		fi
		[ "$SWI_RC" -eq 3 ] || fail "cut at byte $at: expected exit 3, got $SWI_RC: $(head -c 300 "$CASE/err")"
		expect_some_err
		case $kind in
		1) expect_device_untouched "$DEV" ;;
		0) expect_safe_failure "$DEV" ;;
		2) expect_failed_state "$DEV" ;;
		esac
	done
}
case_truncated() { truncate_case file; }
case_truncated_pipe() { truncate_case pipe; }

case_crc_check_field() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	# sha256 still matches: only the cpio sum can notice this
	set_check u.swu rootfs.img 0000abcd
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err rootfs.img
	expect_failed_state "$DEV"
}

case_crc_swdesc() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	set_check u.swu sw-description 00000001
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
}

case_crc_data_byte() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	flip_data u.swu rootfs.img 7
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err rootfs.img
	expect_failed_state "$DEV"
}

# Unsigned, no sha256: the crc sum is the only check left.
case_crc_unsigned() {
	DEV=$CASE/dev
	make_device "$DEV" ""
	mkdir w
	mk_data w/rootfs.img 100K rootfs
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\";"
	sed -i '/sha256 = /d' w/sw-description
	mk_swu u.swu none crc w rootfs.img
	flip_data u.swu rootfs.img
	swi "$DEV" --insecure -i u.swu
	expect_rc 3
	expect_err rootfs.img
	expect_failed_state "$DEV"
}

case_not_cpio() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_data junk.swu 64K junk
	swi "$DEV" -i junk.swu
	expect_rc 3
	expect_some_err
	expect_device_untouched "$DEV"
	: >empty.swu
	swi "$DEV" -i empty.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

# A first header claiming a 2 GiB name, then 64 MiB of zeros on stdin:
# refused at the header. libarchive would buffer the name as it comes (the
# whole input here, GiBs for a longer one), so reading must stop long before
# the input ends: head is then cut off and all-written never appears.
case_huge_name_on_stdin() {
	DEV=$CASE/dev
	make_device "$DEV"
	# magic, ino, mode, uid, gid, nlink, mtime, filesize, dev/rdev major/minor,
	# namesize, check
	{
		printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
			1 33188 0 0 1 0 0 0 0 0 0 2147483648 0
		head -c 64M /dev/zero && : >all-written
	} | "$SWINSTALL" -f "$DEV/swinstall.conf" -i - >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	sed 's/^/  stderr: /' "$CASE/err"
	expect_rc 3
	expect_err "cpio archive: invalid first header (member name of 2147483648 bytes"
	[ ! -e all-written ] || fail "swinstall read all of the input before failing"
	expect_device_untouched "$DEV"
}

# A member name with ../, named by sw-description too.
case_dotdot_named() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w/in
	mk_data w/evil 4K evil
	h=$(sha w/evil)
	cat >w/in/sw-description <<EOF
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	files = ( { filename = "../evil"; path = "$DEV/evil.out"; sha256 = "$h"; } );
}
EOF
	sign_cms w/in
	mk_cpio u.swu crc w/in sw-description sw-description.sig ../evil
	cpio -it <u.swu 2>/dev/null | grep -qx '../evil' || fail "could not craft the ../ member"
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_some_err
	[ ! -e "$DEV/evil.out" ] || fail "evil.out was installed"
	[ ! -e "$CASE/evil.out" ] || fail "something was written outside"
	expect_safe_failure "$DEV"
}

# A ../ member nobody names, among good ones.
case_dotdot_unnamed() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w/in
	mk_data w/in/rootfs.img 50K rootfs
	mk_data w/evil 4K evil
	desc_images w/in images rootfs.img "device = \"$DEV/slotB.img\";"
	sign_cms w/in
	mk_cpio u.swu crc w/in sw-description sw-description.sig ../evil rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_some_err
	expect_safe_failure "$DEV"
}

# --------------------------------------------------------------- device

case_hw_mismatch() {
	DEV=$CASE/dev
	make_device "$DEV"
	echo "myboard 2.0" >"$DEV/hwrevision"
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 4
	expect_some_err
	expect_device_untouched "$DEV"
	swi "$DEV" -H myboard:1.1 -e stable,copy2 -i u.swu
	expect_rc 4
	expect_device_untouched "$DEV"
}

case_unknown_selection() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy9 -i u.swu
	expect_rc 4
	expect_some_err
	expect_device_untouched "$DEV"
	swi "$DEV" -e testing,copy2 -i u.swu
	expect_rc 4
	expect_device_untouched "$DEV"
}

# off_case OFFSET: 16 KiB that do not fit into the 4 MiB slot file.
off_case() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/blob 16K blob
	desc_images w images blob "device = \"$DEV/slotB.img\"; offset = \"$1\";"
	mk_swu u.swu cms crc w blob
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_some_err
	[ "$(wc -c <"$DEV/slotB.img")" -eq "$SLOT_SIZE" ] || fail "slotB.img grew to $(wc -c <"$DEV/slotB.img") bytes"
	expect_safe_failure "$DEV"
}
case_offset_past_end() { off_case 5M; }
case_offset_at_end() { off_case 4M; }
case_offset_overlaps_end() { off_case $((SLOT_SIZE - 4096)); }

case_missing_device() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/blob 16K blob
	desc_images w images blob "type = \"raw\"; device = \"$DEV/no-such-slot.img\";"
	mk_swu u.swu cms crc w blob
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_some_err
	[ ! -e "$DEV/no-such-slot.img" ] || fail "raw created the missing device as a file"
	expect_safe_failure "$DEV"
}

# ------------------------------------------------------ usage and config

case_bad_config() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	echo 'public-key = "unterminated;' >>"$DEV/swinstall.conf"
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 2
	expect_err swinstall.conf
	expect_device_untouched "$DEV"
}

case_config_unknown_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	echo 'public_key = "/nowhere";' >>"$DEV/swinstall.conf"
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 2
	expect_err swinstall.conf
	expect_device_untouched "$DEV"
}

case_config_missing() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	"$SWINSTALL" -f "$DEV/no-such.conf" -e stable,copy2 -i u.swu >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	expect_rc 2
	expect_err no-such.conf
	expect_device_untouched "$DEV"
}

case_key_missing() {
	DEV=$CASE/dev
	make_device "$DEV" "$CASE/no-such-key.pem"
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 2
	expect_err no-such-key.pem
	expect_device_untouched "$DEV"
}

case_unknown_option() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" --no-such-option -i u.swu
	expect_rc 2
	[ -s "$CASE/err" ] || fail "nothing on stderr"
	swi "$DEV" -Z -i u.swu
	expect_rc 2
	swi "$DEV"
	expect_rc 2
	swi "$DEV" -i
	expect_rc 2
	swi "$DEV" -e stable -i u.swu
	expect_rc 2
	swi "$DEV" -H myboard -i u.swu
	expect_rc 2
	swi "$DEV" --cert-purpose anything -i u.swu
	expect_rc 2
	expect_device_untouched "$DEV"
}

case_rawfile_no_dir() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	printf 'x=1\n' >w/app.conf
	desc_images w files app.conf "path = \"$DEV/no-such-dir/app.conf\";"
	mk_swu u.swu cms crc w app.conf
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_err app.conf
	[ ! -e "$DEV/no-such-dir" ] || fail "the directory was created without create-destination"
	expect_safe_failure "$DEV"
}

case_huge_swdesc() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	{
		echo 'software = { version = "2.0.0"; };'
		yes '# padding comment line to make sw-description very large' | head -c 3M
	} >w/sw-description
	mk_swu u.swu cms crc w
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
}

case_empty_signature() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	: >w/sw-description.sig
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err sw-description
	expect_device_untouched "$DEV"
}

run_case "tampered artifact (newc: sha256 only) -> 3" case_tampered_artifact
run_case "a good install after a failed one commits" case_retry_after_failure
run_case "tampered rawfile never appears -> 3" case_tampered_rawfile
run_case "tampered bootloader file is not applied -> 3" case_tampered_bootloader_file
run_case "second artifact tampered: no switch -> 3" case_second_artifact_tampered
run_case "artifact declared but absent -> 3" case_missing_artifact
run_case "signed image, artifact without sha256 -> 3" case_no_sha256_signed
run_case "sha256 that is not 64 hex digits -> 3" case_bad_sha256_text
run_case "tampered sw-description -> 3" case_tampered_swdesc
run_case "malformed sw-description -> 3" case_malformed_swdesc
run_case "untrusted CMS signer -> 3" case_untrusted_signer
run_case "codeSigning certificate without --cert-purpose, wrong signer name -> 3" case_wrong_purpose
run_case "RSA signature by another key -> 3" case_rsa_wrong_key
run_case "missing signature with a key -> 3" case_missing_signature
run_case "signature not the second member -> 3" case_signature_late
run_case "sw-description not the first member -> 3" case_swdesc_not_first
run_case "no key and no --insecure -> 3" case_no_key_no_insecure
run_case "truncated image file at 9 points -> 3" case_truncated
run_case "truncated stream on stdin at 9 points -> 3" case_truncated_pipe
run_case "wrong crc check field of an artifact -> 3" case_crc_check_field
run_case "wrong crc check field of sw-description -> 3" case_crc_swdesc
run_case "flipped data byte in a crc archive -> 3" case_crc_data_byte
run_case "unsigned crc image without sha256, flipped byte -> 3" case_crc_unsigned
run_case "not a cpio archive, empty input -> 3" case_not_cpio
run_case "first header claiming a 2 GiB name, zeros on stdin: stops early -> 3" case_huge_name_on_stdin
run_case "member named ../evil in sw-description -> 3" case_dotdot_named
run_case "unnamed ../evil member in the archive -> 3" case_dotdot_unnamed
run_case "hardware mismatch -> 4" case_hw_mismatch
run_case "unknown selection -> 4" case_unknown_selection
run_case "offset past the end of the target -> 1" case_offset_past_end
run_case "offset at the end of the target -> 1" case_offset_at_end
run_case "data overlapping the end of the target -> 1" case_offset_overlaps_end
run_case "raw device that does not exist -> 1" case_missing_device
run_case "rawfile into a missing directory, no create-destination -> 1" case_rawfile_no_dir
run_case "sw-description of 3 MiB -> 3" case_huge_swdesc
run_case "empty sw-description.sig -> 3" case_empty_signature
run_case "syntax error in the configuration -> 2" case_bad_config
run_case "unknown configuration key -> 2" case_config_unknown_key
run_case "configuration file that does not exist (-f) -> 2" case_config_missing
run_case "public-key file that does not exist -> 2" case_key_missing
run_case "unknown option and bad usage -> 2" case_unknown_option
t_done
