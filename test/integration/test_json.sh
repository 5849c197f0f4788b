#!/bin/sh
# sw-description written as JSON (SWUpdate accepts both syntaxes; swinstall
# tells them by the content): a signed JSON image installs like its
# libconfig twin, a malformed one is refused with the line and column.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_json.sh
. "$(dirname "$0")/lib.sh"
t_init

# swdesc_ab_json DIR FILE: swdesc_ab's A/B description as JSON, with a link
# (copy2's bootenv comes from a list beside the selections).
swdesc_ab_json() {
	h=$(sha "$1/$2")
	cat >"$1/sw-description" <<EOF
{
  "software": {
    "version": "2.0.0",
    "description": "A/B test image as JSON",
    "hardware-compatibility": [ "1.0" ],
    "stable": {
      "copy1": {
        "images": [
          { "filename": "$2", "type": "raw", "device": "$DEV/slotA.img", "sha256": "$h" }
        ],
        "bootenv": [ { "name": "rootpart", "value": "2" } ]
      },
      "copy2": {
        "images": [
          { "filename": "$2", "type": "raw", "device": "$DEV/slotB.img", "sha256": "$h" }
        ],
        "bootenv": { "ref": "#./../../slot-b-env" }
      }
    },
    "slot-b-env": [ { "name": "rootpart", "value": "3" } ]
  }
}
EOF
}

json_image() {
	w="$CASE/w"
	mkdir -p "$w"
	mk_data "$w/rootfs.img" 300K "rootfs-$T_NUM"
	swdesc_ab_json "$w" rootfs.img
}

case_json_signed_install() {
	DEV=$CASE/dev
	make_device "$DEV"
	json_image
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_region_unchanged "$DEV/slotB.img" "$DEV/slotB.orig" 307200 $((SLOT_SIZE - 307200))
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

# The signature covers the JSON text's bytes as they are: one more blank
# after signing is a bad signature, though the JSON means the same.
case_json_signature_covers_bytes() {
	DEV=$CASE/dev
	make_device "$DEV"
	json_image
	sign_cms w
	printf ' ' >>w/sw-description
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

# A signed but malformed JSON text (a comma too many on line 5): exit 3,
# the message names line and column, nothing is written.
case_json_malformed() {
	DEV=$CASE/dev
	make_device "$DEV"
	json_image
	sed -i 's/"1.0" ]/"1.0",, ]/' w/sw-description
	grep -q '"1.0",, ]' w/sw-description || fail "the test's edit did not apply"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err "sw-description: line 5, column 39: unexpected character"
	expect_device_untouched "$DEV"
}

# A JSON text that parses but has the wrong shape: images as an object.
case_json_wrong_type() {
	DEV=$CASE/dev
	make_device "$DEV"
	json_image
	sed -i 's/^        "images": \[$/        "images": { "x": [/; s/^        \],$/        ] },/' w/sw-description
	grep -c '"images": { "x": \[' w/sw-description | grep -qx 2 || fail "the test's edit did not apply"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_rc 3
	expect_err "sw-description: images is not a list"
	expect_device_untouched "$DEV"
}

run_case "JSON sw-description, CMS-signed: installed into slot B" case_json_signed_install
run_case "JSON sw-description: the signature covers its bytes as they are" case_json_signature_covers_bytes
run_case "malformed JSON: exit 3 with line and column, nothing written" case_json_malformed
run_case "JSON of the wrong shape: exit 3, nothing written" case_json_wrong_type
t_done
