#!/bin/sh
# Encrypted images: artifacts encrypted with `openssl enc` (AES-CBC with
# PKCS#7 padding, 128, 192 and 256-bit keys, the key file's IV or an
# entry's ivt, compressed before they were encrypted) and with swugenerator
# -K; an encrypted sw-description. Installed into the simulated device with
# -K (or key-aes), the bytes compared; a wrong key, a missing key and bad
# key files refused with the documented exit codes, the device left as the
# contract says.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_encryption.sh
. "$(dirname "$0")/lib.sh"
t_init

# mk_key FILE BITS: a key file as SWUpdate reads it: "KEY IV", in hex.
mk_key() {
	echo "$(openssl rand -hex $(($2 / 8))) $(openssl rand -hex 16)" >"$1"
}

# aes_enc IN OUT KEY-FILE [IV]: IN encrypted with the key file's key (its
# length picks AES-128, -192 or -256) and its IV, or IV.
aes_enc() {
	read -r k_hex iv_hex <"$3"
	openssl enc -aes-$((${#k_hex} * 4))-cbc -K "$k_hex" -iv "${4:-$iv_hex}" -nosalt \
		-in "$1" -out "$2"
}

# enc_image DEVICE-DIR KEY-FILE [ATTRS]: w/rootfs.img (300K) encrypted into
# w/rootfs.img.enc, in u.swu as a raw image for slot B, plus ATTRS.
enc_image() {
	mkdir -p w
	mk_data w/rootfs.img 300K "rootfs-$T_NUM"
	aes_enc w/rootfs.img w/rootfs.img.enc "$2"
	desc_images w images rootfs.img.enc \
		"type = \"raw\"; device = \"$1/slotB.img\"; encrypted = true; ${3:-}"
	mk_swu u.swu cms crc w rootfs.img.enc
}

# expect_installed DEVICE-DIR: w/rootfs.img, and not a byte more (no
# padding), in slot B, which boots next.
expect_installed() {
	expect_rc 0
	expect_bytes "$1/slotB.img" 0 w/rootfs.img
	expect_region_unchanged "$1/slotB.img" "$1/slotB.orig" 307200 4096
	expect_slot_a_untouched "$1"
	expect_committed "$1" 3
}

case_aes256() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	enc_image "$DEV" aes.key
	swi "$DEV" -K aes.key -i u.swu
	expect_installed "$DEV"
}

case_key_sizes() {
	for bits in 128 192 256; do
		DEV=$CASE/dev$bits
		make_device "$DEV"
		mk_key aes$bits.key $bits
		enc_image "$DEV" aes$bits.key
		swi "$DEV" --key-aes aes$bits.key -i u.swu
		expect_installed "$DEV"
	done
}

# The entry's ivt, not the key file's IV, is the IV of its bytes.
case_ivt() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	ivt=$(openssl rand -hex 16)
	mkdir -p w
	mk_data w/rootfs.img 300K rootfs
	aes_enc w/rootfs.img w/rootfs.img.enc aes.key "$ivt"
	desc_images w images rootfs.img.enc \
		"type = \"raw\"; device = \"$DEV/slotB.img\"; encrypted = true; ivt = \"$ivt\";"
	mk_swu u.swu cms crc w rootfs.img.enc
	swi "$DEV" -K aes.key -i u.swu
	expect_installed "$DEV"
}

# Compressed at build time, then encrypted: decrypted, then decompressed.
case_compressed() {
	mk_key aes.key 192
	for c in zlib:gzip zstd:zstd xz:xz; do
		name=${c%%:*} tool=${c#*:}
		DEV=$CASE/dev-$name
		make_device "$DEV"
		rm -rf w
		mkdir w
		yes "compressible root filesystem" | head -c 200K >w/rootfs.img
		mk_data w/tail 100K tail
		cat w/tail >>w/rootfs.img
		"$tool" -c w/rootfs.img >w/rootfs.img.c
		aes_enc w/rootfs.img.c w/rootfs.img.enc aes.key
		desc_images w images rootfs.img.enc "type = \"raw\"; device = \"$DEV/slotB.img\"; \
			encrypted = true; compressed = \"$name\";"
		mk_swu u.swu cms crc w rootfs.img.enc
		swi "$DEV" -K aes.key -i u.swu
		expect_installed "$DEV"
	done
}

# An encrypted file; the key named in the configuration instead of -K.
case_file_and_config_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p "$DEV/rootfs/etc" w
	mk_key aes.key 128
	echo "key-aes = \"$CASE/aes.key\";" >>"$DEV/swinstall.conf"
	printf 'mode=production\nserver=https://updates.example.com\n' >w/app.conf
	aes_enc w/app.conf w/app.conf.enc aes.key
	desc_images w files app.conf.enc "path = \"$DEV/rootfs/etc/app.conf\"; encrypted = true;"
	mk_swu u.swu cms crc w app.conf.enc
	swi "$DEV" -i u.swu
	expect_rc 0
	cmp -s "$DEV/rootfs/etc/app.conf" w/app.conf || fail "app.conf is not the decrypted file"
	expect_slots_untouched "$DEV"
}

# Read from a pipe, on the caller's thread.
case_pipe() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	enc_image "$DEV" aes.key
	swi_pipe u.swu "$DEV" -K aes.key -i -
	expect_installed "$DEV"
}

# A wrong key: exit 3, the entry named, nothing committed: the boot
# selection and the running slot are as they were.
case_wrong_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	mk_key other.key 256
	enc_image "$DEV" aes.key
	swi "$DEV" -K other.key -i u.swu
	expect_rc 3
	expect_err "rootfs.img.enc: decryption failed: bad padding (wrong key?)"
	expect_failed_state "$DEV"
	expect_env_absent "$DEV" swinstall_complete
}

# With compression, the decompressor sees the garbage first and says the
# key may be wrong.
case_wrong_key_compressed() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	mk_key other.key 256
	mkdir w
	mk_data w/rootfs.img 300K rootfs
	gzip -c w/rootfs.img >w/rootfs.img.gz
	aes_enc w/rootfs.img.gz w/rootfs.img.enc aes.key
	desc_images w images rootfs.img.enc \
		"type = \"raw\"; device = \"$DEV/slotB.img\"; encrypted = true; compressed = \"zlib\";"
	mk_swu u.swu cms crc w rootfs.img.enc
	swi "$DEV" -K other.key -i u.swu
	expect_rc 3
	expect_err "rootfs.img.enc: corrupt zlib/gzip data"
	expect_err "the data was decrypted first (wrong key?)"
	expect_failed_state "$DEV"
}

# No key: an install is refused before anything is written (exit 2, as a
# configuration error); -c needs no key; -n hashes the stored bytes and
# warns that it could not decode them.
case_no_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	enc_image "$DEV" aes.key
	swi "$DEV" -i u.swu
	expect_rc 2
	expect_err "rootfs.img.enc: the artifact is encrypted and no AES key is configured (give the key file with -K FILE"
	expect_device_untouched "$DEV"
	[ ! -e "$DEV/state" ] || [ -z "$(ls -A "$DEV/state")" ] || fail "the state directory was written"
	swi "$DEV" -c -i u.swu
	expect_rc 0
	expect_device_untouched "$DEV"
	swi "$DEV" -n -i u.swu
	expect_rc 0
	grep -q "rootfs.img.enc: encrypted, and no AES key is configured (-K): the dry run checks its sha256 but cannot decrypt" "$CASE/err" ||
		fail "-n without a key did not warn"
	expect_device_untouched "$DEV"
	# -n still checks the stored bytes (newc: no cpio sum to catch it first)
	mk_swu u.swu cms newc w rootfs.img.enc
	flip_data u.swu rootfs.img.enc
	swi "$DEV" -n -i u.swu
	expect_rc 3
	expect_err "rootfs.img.enc: sha256 mismatch"
}

# -n with a key decodes everything: a wrong key fails it.
case_dry_run_with_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	mk_key other.key 256
	enc_image "$DEV" aes.key
	swi "$DEV" -n -K aes.key -i u.swu
	expect_rc 0
	swi "$DEV" -n -K other.key -i u.swu
	expect_rc 3
	expect_err "bad padding (wrong key?)"
	expect_device_untouched "$DEV"
}

# Key files SWUpdate would not take either: refused (exit 2), naming the
# file and never showing the key, before anything is written; an old
# key file's salt is accepted.
case_key_files() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	enc_image "$DEV" aes.key
	read -r k_hex iv_hex <aes.key
	echo "$(openssl rand -hex 20) $iv_hex" >bad-length.key
	echo "$k_hex" >no-iv.key
	echo "$k_hex ${iv_hex}00" >long-iv.key
	printf 'key=%s\niv=%s\n' "$k_hex" "$iv_hex" >swugenerator-format.key
	for f in bad-length no-iv long-iv swugenerator-format missing; do
		swi "$DEV" -K "$f.key" -i u.swu
		expect_rc 2
		expect_err "$f.key: "
		! grep -q "$k_hex" "$CASE/err" || fail "the key was shown in the message"
		expect_device_untouched "$DEV"
	done
	echo "$k_hex $iv_hex 0123456789abcdef" >salted.key
	swi "$DEV" -K salted.key -i u.swu
	expect_installed "$DEV"
}

# A malformed ivt is the image's fault: exit 3 before anything is written.
case_bad_ivt() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	enc_image "$DEV" aes.key 'ivt = "0123456789abcdef";'
	swi "$DEV" -K aes.key -i u.swu
	expect_rc 3
	expect_err "rootfs.img.enc: ivt '0123456789abcdef' is not 32 hex digits"
	expect_device_untouched "$DEV"
}

# Ciphertext cut short (its sha256 matching the cut bytes): not a whole
# number of blocks.
case_truncated_ciphertext() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 128
	mkdir w
	mk_data w/rootfs.img 300K rootfs
	aes_enc w/rootfs.img w/full.enc aes.key
	head -c $((307216 - 5)) w/full.enc >w/rootfs.img.enc
	desc_images w images rootfs.img.enc "type = \"raw\"; device = \"$DEV/slotB.img\"; encrypted = true;"
	mk_swu u.swu cms crc w rootfs.img.enc
	swi "$DEV" -K aes.key -i u.swu
	expect_rc 3
	expect_err "rootfs.img.enc: decryption failed: 307211 bytes are not a whole number of 16-byte AES blocks"
	expect_failed_state "$DEV"
}

# swugenerator -K encrypts entries marked encrypted (AES-256, a fresh ivt
# each, compressed first where asked). Its key file has lines key=... and
# iv=...; swinstall reads SWUpdate's "KEY IV".
swugenerator_image() {
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
	images: ( {
		filename = "rootfs.img";
		type = "raw";
		device = "$DEV/slotB.img";
		compressed = "zlib";
		encrypted = true;
	} );
	files: ( {
		filename = "app.conf";
		path = "$DEV/rootfs/app.conf";
		encrypted = true;
	} );
	bootenv: ( { name = "rootpart"; value = "3"; } );
}
EOF
	read -r k_hex iv_hex <aes.key
	printf 'key=%s\niv=%s\n' "$k_hex" "$iv_hex" >swugenerator.key
	(cd w && swugenerator -s sw-description.in -o ../u.swu -a . -K ../swugenerator.key \
		-k "CMS,$KEYS/signer.key,$KEYS/signer.pem" "$@" create) || fail "swugenerator failed"
}

case_swugenerator() {
	command -v swugenerator >/dev/null 2>&1 || { echo "swugenerator not installed: skipped"; return 0; }
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	swugenerator_image
	swi "$DEV" -K aes.key -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	cmp -s "$DEV/rootfs/app.conf" w/app.conf || fail "app.conf is not the decrypted file"
	expect_committed "$DEV" 3
}

# swugenerator -t encrypts sw-description too (signed before it is
# encrypted, with the key file's IV).
case_swugenerator_encrypted_description() {
	command -v swugenerator >/dev/null 2>&1 || { echo "swugenerator not installed: skipped"; return 0; }
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	swugenerator_image -t
	swi "$DEV" -K aes.key -i u.swu
	expect_rc 3
	expect_err "set encrypted-sw-description and give the AES key with -K"
	expect_device_untouched "$DEV"
	swi "$DEV" -K aes.key --encrypted-sw-description -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	cmp -s "$DEV/rootfs/app.conf" w/app.conf || fail "app.conf is not the decrypted file"
}

# sw-description signed, then encrypted with the key file's IV, built by
# hand: installed with encrypted-sw-description (here from the
# configuration); refused with a hint without it; a plain sw-description
# with the option set is refused with the opposite hint; the option
# without a key is a configuration error.
case_encrypted_description() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 192
	mkdir w
	mk_data w/rootfs.img 300K rootfs
	aes_enc w/rootfs.img w/rootfs.img.enc aes.key
	desc_images w images rootfs.img.enc "type = \"raw\"; device = \"$DEV/slotB.img\"; encrypted = true;"
	sign_cms w
	cp w/sw-description w/sw-description.plain
	aes_enc w/sw-description.plain w/sw-description aes.key
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img.enc
	mkdir p
	cp w/sw-description.plain p/sw-description
	cp w/sw-description.sig w/rootfs.img.enc p/
	mk_cpio plain.swu crc p sw-description sw-description.sig rootfs.img.enc

	swi "$DEV" -K aes.key -i u.swu
	expect_rc 3
	expect_err "sw-description looks binary: if it is encrypted, set encrypted-sw-description"
	expect_device_untouched "$DEV"

	swi "$DEV" --encrypted-sw-description -i u.swu
	expect_rc 2
	expect_err "encrypted-sw-description is set but no AES key is configured"
	expect_device_untouched "$DEV"

	swi "$DEV" -K aes.key --encrypted-sw-description -i plain.swu
	expect_rc 3
	expect_err "the stored sw-description reads as plain text: is it encrypted?"
	expect_device_untouched "$DEV"

	swi "$DEV" -K aes.key --encrypted-sw-description -c -i u.swu
	expect_rc 0
	# info shows it decrypted with the same settings, and hints without them
	swi "$DEV" info u.swu
	expect_rc 4
	expect_err "it looks encrypted (give the key with -K FILE and set --encrypted-sw-description"
	swi "$DEV" -K aes.key --encrypted-sw-description info u.swu
	expect_rc 0
	grep -q 'rootfs.img.enc' "$CASE/out" || fail "info does not list the decrypted entry"
	echo "encrypted-sw-description = true;" >>"$DEV/swinstall.conf"
	swi "$DEV" -K aes.key -i u.swu
	expect_installed "$DEV"
}

# The signature is over the decrypted text: one made over the encrypted
# bytes does not verify.
case_signature_over_plain_text() {
	DEV=$CASE/dev
	make_device "$DEV"
	mk_key aes.key 256
	mkdir w
	mk_data w/rootfs.img 300K rootfs
	desc_images w images rootfs.img "type = \"raw\"; device = \"$DEV/slotB.img\";"
	mv w/sw-description w/plain
	aes_enc w/plain w/sw-description aes.key
	sign_cms w
	mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	swi "$DEV" -K aes.key --encrypted-sw-description -i u.swu
	expect_rc 3
	expect_device_untouched "$DEV"
}

run_case "AES-256 raw image, the key file's IV" case_aes256
run_case "AES-128, -192 and -256 keys" case_key_sizes
run_case "an entry's ivt replaces the key file's IV" case_ivt
run_case "compressed (zlib, zstd, xz), then encrypted" case_compressed
run_case "encrypted file; key-aes from the configuration" case_file_and_config_key
run_case "encrypted image from a pipe" case_pipe
run_case "wrong key: exit 3, bad padding, nothing committed" case_wrong_key
run_case "wrong key with compression: exit 3, the key suspected" case_wrong_key_compressed
run_case "no key: install refused before writing (exit 2); -c passes; -n hashes and warns" case_no_key
run_case "-n with a key decodes; a wrong key fails it" case_dry_run_with_key
run_case "bad key files refused (exit 2) without showing the key; an old salt accepted" case_key_files
run_case "malformed ivt: exit 3 before anything is written" case_bad_ivt
run_case "ciphertext not a whole number of blocks: exit 3" case_truncated_ciphertext
run_case "swugenerator -K image" case_swugenerator
run_case "swugenerator -K -t: encrypted sw-description" case_swugenerator_encrypted_description
run_case "encrypted sw-description: decrypted, then verified; hints both ways" case_encrypted_description
run_case "the signature of an encrypted sw-description is over its text" case_signature_over_plain_text
t_done
