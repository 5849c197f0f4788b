#!/bin/sh
# swinstall info: what is in an image, without installing it; needs no
# configuration, takes no lock, writes nothing.
. "$(dirname "$0")/lib.sh"

t_init

# info ARGS...: runs swinstall with ARGS and no configuration file; sets
# SWI_RC, keeps stdout/stderr in $CASE/out and $CASE/err.
info() {
	"$SWINSTALL" "$@" >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	echo "\$ swinstall $* -> exit $SWI_RC"
	sed 's/^/  stdout: /' "$CASE/out"
	sed 's/^/  stderr: /' "$CASE/err"
}

# expect_line TEXT: a line of stdout holds TEXT.
expect_line() {
	grep -qF -- "$1" "$CASE/out" || fail "stdout has no line with '$1'"
}

# json_check PYTHON-EXPRESSION: true for d, the JSON document on stdout.
json_check() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if eval(sys.argv[2]) else 1)' "$CASE/out" "$1" || fail "JSON: not true: $1"
}

# An image with a root entry, two selections, a board with its own hardware
# and a Lua script, and a member nothing names.
# Signed with CMS unless $1 is given (cms, rsa, none).
rich_image() {
	w="$CASE/w"
	mkdir -p "$w"
	mk_data "$w/rootfs.img" 300K "rootfs-$T_NUM"
	zstd -qf "$w/rootfs.img" -o "$w/rootfs.img.zst" || return 1
	echo "setting=1" >"$w/app.conf"
	echo "return true" >"$w/check.lua"
	echo "release notes" >"$w/notes.txt"
	h=$(sha "$w/rootfs.img.zst")
	cat >"$w/sw-description" <<EOF
software = {
	version = "2.0.1";
	description = "rich test image";
	hardware-compatibility = [ "rev-A", "rev-B" ];
	files = ( { filename = "app.conf"; path = "/etc/app.conf"; sha256 = "$(sha "$w/app.conf")"; } );
	stable = {
		copy1 = { images = ( { filename = "rootfs.img.zst"; type = "raw"; compressed = "zstd";
				       device = "/dev/mmcblk0p2"; sha256 = "$h"; } );
			  bootenv = ( { name = "rootpart"; value = "2"; } ); };
		copy2 = { images = ( { filename = "rootfs.img.zst"; type = "raw"; compressed = "zstd";
				       device = "/dev/mmcblk0p3"; sha256 = "$h"; } );
			  bootenv = ( { name = "rootpart"; value = "3"; } ); };
	};
	imx8mm = {
		hardware-compatibility = [ "1.0" ];
		scripts = ( { filename = "check.lua"; type = "lua"; sha256 = "$(sha "$w/check.lua")"; } );
	};
};
EOF
	mk_swu "$CASE/rich.swu" "${1:-cms}" crc "$w" rootfs.img.zst app.conf check.lua notes.txt
}

case_signed_cms_human() {
	rich_image || fail "image not built"
	info -k "$KEYS/ca.pem" info "$CASE/rich.swu"
	expect_rc 0
	expect_line "version:        2.0.1"
	expect_line "description:    rich test image"
	expect_line "signature:      CMS, signer 'signer', verified with $KEYS/ca.pem"
	expect_line "hardware:       rev-A rev-B"
	expect_line "boards:         imx8mm"
	expect_line "selections:     stable,copy1 stable,copy2"
	expect_line "no board, no selection:"
	expect_line "board imx8mm, selection stable,copy2:"
	expect_line "unused members: notes.txt"
	grep -q '^  images\[0\] .* raw .* rootfs\.img\.zst .* 300\.[0-9] KiB .* zstd .* -> /dev/mmcblk0p3 .* sha256$' \
		"$CASE/out" || fail "no aligned images[0] line for copy2"
	grep -q '^  scripts\[0\] .* lua .* check\.lua' "$CASE/out" || fail "no line for the Lua script"
	! grep -q 'NO HANDLER' "$CASE/out" || fail "the Lua script is said to have no handler"
	# six places: root, two selections, the board, the board with each selection
	[ "$(grep -c ':$' "$CASE/out")" -eq 6 ] || fail "not six places"
}

case_signed_cms_json() {
	rich_image || fail "image not built"
	info -k "$KEYS/ca.pem" info --json "$CASE/rich.swu"
	expect_rc 0
	json_check 'd["version"] == "2.0.1" and d["description"] == "rich test image"'
	json_check 'd["signature"] == {"status": "verified", "kind": "CMS", "signer": "signer",
		"key": "'"$KEYS"'/ca.pem", "error": None}'
	json_check 'd["boards"] == ["imx8mm"] and d["selections"] == ["stable,copy1", "stable,copy2"]'
	json_check 'd["hardware_compatibility"] == ["rev-A", "rev-B"]'
	json_check 'd["unused_members"] == ["notes.txt"]'
	json_check '[m["name"] for m in d["members"]] == ["rootfs.img.zst", "app.conf", "check.lua", "notes.txt"]'
	size=$(wc -c <"$CASE/w/rootfs.img.zst")
	json_check '[(p["board"], p["selection"]) for p in d["places"]] == [(None, None),
		(None, "stable,copy1"), (None, "stable,copy2"), ("imx8mm", None),
		("imx8mm", "stable,copy1"), ("imx8mm", "stable,copy2")]'
	json_check '[e for e in d["places"][2]["entries"] if e["collection"] == "images"] == [{
		"collection": "images", "index": 0, "filename": "rootfs.img.zst", "type": "raw",
		"handler_available": True, "member_present": True, "size": '"$size"',
		"compressed": "zstd", "encrypted": False, "sha256": "'"$(sha "$CASE/w/rootfs.img.zst")"'",
		"device": "/dev/mmcblk0p3", "offset": None, "path": None, "filesystem": None,
		"volume": None, "mtdname": None, "name": None, "version": None}]'
	json_check 'd["places"][2]["bootenv"] == {"rootpart": "3"}'
	json_check 'd["places"][3]["hardware_compatibility"] == ["1.0"]'
	json_check '[e["handler_available"] for e in d["places"][3]["entries"]
		if e["type"] == "lua"] == [True]'
}

case_stdin() {
	rich_image || fail "image not built"
	info info "$CASE/rich.swu"
	expect_rc 0
	mv "$CASE/out" "$CASE/from-file"
	cat "$CASE/rich.swu" | "$SWINSTALL" info - >"$CASE/out" 2>"$CASE/err"
	[ $? -eq 0 ] || fail "info - failed: $(cat "$CASE/err")"
	cmp -s "$CASE/out" "$CASE/from-file" || fail "standard input gave another description"
	expect_line "signature:      CMS, signer 'signer', not verified: no key given"
}

case_unsigned() {
	rich_image none || fail "image not built"
	info info "$CASE/rich.swu"
	expect_rc 0
	expect_line "signature:      unsigned"
	info info --json "$CASE/rich.swu"
	json_check 'd["signature"]["status"] == "unsigned" and d["signature"]["kind"] is None'
}

case_rsa() {
	rich_image rsa || fail "image not built"
	info -k "$KEYS/rsa.pub" info "$CASE/rich.swu"
	expect_rc 0
	expect_line "signature:      RSA, verified with $KEYS/rsa.pub"
}

case_tampered_signature() {
	rich_image || fail "image not built"
	sed -i 's/rich test image/rich test image, changed/' "$CASE/w/sw-description"
	mk_cpio "$CASE/bad.swu" crc "$CASE/w" sw-description sw-description.sig rootfs.img.zst \
		app.conf check.lua notes.txt
	info -k "$KEYS/ca.pem" info "$CASE/bad.swu"
	expect_rc 3
	expect_err "sw-description.sig: signature does not match sw-description"
	expect_line "signature:      CMS, signer 'signer', FAILED to verify with $KEYS/ca.pem"
	expect_line "description:    rich test image, changed"
	info -k "$KEYS/ca.pem" info --json "$CASE/bad.swu"
	expect_rc 3
	json_check 'd["signature"]["status"] == "failed" and "does not match" in d["signature"]["error"]'
	# the untrusted signer's certificate chains to no key given
	rich_image || fail "image not built"
	info -k "$KEYS/rogue-ca.pem" info "$CASE/rich.swu"
	expect_rc 3
	expect_err "is not trusted by"
}

case_truncated() {
	rich_image || fail "image not built"
	head -c 200000 "$CASE/rich.swu" >"$CASE/cut.swu"
	info info "$CASE/cut.swu"
	expect_rc 3
	expect_err "rootfs.img.zst: truncated: the image ends inside its data"
	[ ! -s "$CASE/out" ] || fail "a truncated image was described"
	head -c 300 "$CASE/rich.swu" >"$CASE/cut.swu"
	info info --json "$CASE/cut.swu"
	expect_rc 3
	expect_err "sw-description: truncated"
}

# No configuration, no slots, no bootloader, no lock: a device's
# configuration whose lock is held and whose environment does not exist
# changes nothing, and nothing is written.
case_no_configuration() {
	rich_image || fail "image not built"
	[ -e /etc/swinstall.conf ] || {
		info info "$CASE/rich.swu"
		expect_rc 0
	}
	mkdir "$CASE/dev"
	cat >"$CASE/dev/swinstall.conf" <<EOF
bootloader = "uboot";
uboot-env-config = "$CASE/dev/missing/fw_env.config";
lock-file = "$CASE/dev/lock";
state-dir = "$CASE/dev/state";
EOF
	slot_settings "$CASE/dev" >>"$CASE/dev/swinstall.conf"
	: >"$CASE/dev/lock"
	ls -la "$CASE/dev" >"$CASE/before"
	flock "$CASE/dev/lock" sh -c '"$0" -f "$1" info "$2" >"$3" 2>&1' "$SWINSTALL" \
		"$CASE/dev/swinstall.conf" "$CASE/rich.swu" "$CASE/out" ||
		fail "info with a held lock failed: $(cat "$CASE/out")"
	expect_line "board imx8mm, selection stable,copy1:"
	ls -la "$CASE/dev" >"$CASE/after"
	cmp -s "$CASE/before" "$CASE/after" || fail "info wrote into the device's directory"
	# an explicit configuration file must exist, as for every command
	info -f "$CASE/nonexistent.conf" info "$CASE/rich.swu"
	expect_rc 2
}

case_usage() {
	info info
	expect_rc 2
	expect_err "info needs exactly one image"
	# with --json, the usage error is the result line on stdout
	info --json mark-good
	expect_rc 2
	expect_line '"class":"usage","error":"--json goes with install, verify, status, info, is-installed or scan"'
	info info "$CASE/nonexistent.swu"
	expect_rc 2
	expect_err "nonexistent.swu"
}

# The image's text is not trusted: control characters (escape sequences)
# do not reach the terminal.
case_control_characters() {
	w="$CASE/w"
	mkdir -p "$w"
	printf 'software = { version = "1"; description = "a\033[2Jb";\n' >"$w/sw-description"
	printf ' images = ( { filename = "x"; device = "/dev/x"; } ); };\n' >>"$w/sw-description"
	echo x >"$w/x"
	mk_swu "$CASE/ctl.swu" none crc "$w" x
	info info "$CASE/ctl.swu"
	expect_rc 0
	expect_line "description:    a\\x1b[2Jb"
	if grep -q "$(printf '\033')" "$CASE/out"; then fail "an escape character was printed"; fi
}

run_case "info: signed CMS image with boards, selections, an unused member" case_signed_cms_human
run_case "info --json: stable fields of the same image" case_signed_cms_json
run_case "info -: the image on standard input" case_stdin
run_case "info: unsigned image" case_unsigned
run_case "info -k: RSA signature verified" case_rsa
run_case "info -k: a tampered or untrusted signature fails (exit 3), still described" case_tampered_signature
run_case "info: truncated image, exit 3 with a clear message" case_truncated
run_case "info: no configuration, no lock, nothing written" case_no_configuration
run_case "info: usage errors" case_usage
run_case "info: control characters of the image are not printed" case_control_characters
t_done
