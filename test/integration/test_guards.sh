#!/bin/sh
# The device's own rules about what it accepts: a pinned signature scheme
# (--signature-scheme, signature-scheme) and the version guards
# (-N/--no-downgrading, -R/--no-reinstalling, --max-version and their
# configuration keys). A refused image exits 3 (signature) or 4 (version)
# and leaves the slots and the environment byte for byte as they were.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_guards.sh
. "$(dirname "$0")/lib.sh"
t_init

# sign_pss DIR: RSA-PSS over SHA-256 with the longest salt, as SWUpdate's
# documentation signs.
sign_pss() {
	openssl dgst -sha256 -sign "$KEYS/rsa.key" -sigopt rsa_padding_mode:pss \
		-sigopt rsa_pss_saltlen:-2 -out "$1/sw-description.sig" "$1/sw-description"
}

# signed_ab_image OUT cms|rsa|pss: the A/B image of lib.sh (version 2.0.0).
signed_ab_image() {
	ab_image "$1" none crc || return 1
	case "$2" in
	cms) sign_cms w ;;
	rsa) sign_rsa w ;;
	pss) sign_pss w ;;
	esac || return 1
	mk_cpio "$1" crc w sw-description sw-description.sig rootfs.img
}

# versioned_image OUT VERSION: the CMS-signed A/B image with software.version
# VERSION ("" for an image without a version).
versioned_image() {
	ab_image "$1" none crc || return 1
	if [ -n "$2" ]; then
		sed -i "s/version = \"2.0.0\";/version = \"$2\";/" w/sw-description
	else
		sed -i '/version = "2.0.0";/d' w/sw-description
	fi
	if [ -z "$2" ] && grep -q "version" w/sw-description; then
		return 1
	fi
	mk_swu "$1" cms crc w rootfs.img
}

# add_setting DEV TEXT: one more line in the device's configuration.
add_setting() {
	echo "$2" >>"$1/swinstall.conf"
}

expect_refused() { # RC MESSAGE
	expect_rc "$1"
	expect_err "$2"
	expect_device_untouched "$DEV"
}

# ---------------------------------------------------------- signature scheme

case_pss_with_rsa_pss_flag() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	signed_ab_image u.swu pss
	swi "$DEV" --signature-scheme rsa-pss -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_pss_with_rsa_pss_key() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	add_setting "$DEV" 'signature-scheme = "rsa-pss";'
	signed_ab_image u.swu pss
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_pkcs1_refused_by_rsa_pss_flag() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	signed_ab_image u.swu rsa
	swi "$DEV" --signature-scheme rsa-pss -e stable,copy2 -i u.swu
	expect_refused 3 "signature-scheme rsa-pss takes only RSA-PSS"
}

case_pkcs1_refused_by_rsa_pss_key() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	add_setting "$DEV" 'signature-scheme = "rsa-pss";'
	signed_ab_image u.swu rsa
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_refused 3 "signature-scheme rsa-pss takes only RSA-PSS"
	# -c and -n verify the same way
	swi "$DEV" -c -e stable,copy2 -i u.swu
	expect_refused 3 "signature-scheme rsa-pss takes only RSA-PSS"
	swi "$DEV" -n -e stable,copy2 -i u.swu
	expect_refused 3 "signature-scheme rsa-pss takes only RSA-PSS"
}

case_rsa_scheme() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	add_setting "$DEV" 'signature-scheme = "rsa";'
	signed_ab_image pss.swu pss
	swi "$DEV" -e stable,copy2 -i pss.swu
	expect_refused 3 "signature-scheme rsa takes only RSA PKCS#1 v1.5"
	signed_ab_image u.swu rsa
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# The flag overrides the configuration file.
case_flag_overrides_scheme_key() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	add_setting "$DEV" 'signature-scheme = "rsa-pss";'
	signed_ab_image u.swu rsa
	swi "$DEV" --signature-scheme rsa -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_cms_scheme() {
	DEV=$CASE/dev
	make_device "$DEV"
	add_setting "$DEV" 'signature-scheme = "cms";'
	signed_ab_image u.swu cms
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_cms_scheme_with_public_key() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	signed_ab_image u.swu rsa
	swi "$DEV" --signature-scheme cms -e stable,copy2 -i u.swu
	expect_refused 2 "signature-scheme cms needs certificates (PEM) as public-key"
}

case_rsa_scheme_with_certificate() {
	DEV=$CASE/dev
	make_device "$DEV"
	signed_ab_image u.swu cms
	swi "$DEV" --signature-scheme rsa -e stable,copy2 -i u.swu
	expect_refused 2 "signature-scheme rsa needs an RSA public key (PEM) as public-key"
}

case_bad_scheme() {
	DEV=$CASE/dev
	make_device "$DEV" "$KEYS/rsa.pub"
	signed_ab_image u.swu rsa
	swi "$DEV" --signature-scheme gpg -e stable,copy2 -i u.swu
	expect_refused 2 "signature-scheme: 'gpg' is not one of cms, rsa, rsa-pss"
	add_setting "$DEV" 'signature-scheme = "pss";'
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_refused 2 "signature-scheme: 'pss' is not one of cms, rsa, rsa-pss"
}

# ------------------------------------------------------------ version guards
# The image of lib.sh has version 2.0.0.

case_no_downgrading_flag() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -N 2.1.0 -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is lower than 2.1.0 (no-downgrading)"
	swi "$DEV" --no-downgrading 2.0.0-rc1 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_no_downgrading_equal_installs() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -N 2.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# A repeated option counts with its last value, however often it is given.
case_repeated_flag_last_wins() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	many=
	for _ in $(seq 30); do many="$many -N 1.0"; done
	# shellcheck disable=SC2086 # split into options on purpose
	swi "$DEV" $many -N 3.0 -c -e stable,copy2 -i u.swu
	expect_refused 4 "lower than 3.0 (no-downgrading)"
	swi "$DEV" -N 3.0 --no-downgrading 1.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_no_downgrading_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	add_setting "$DEV" 'no-downgrading = "2.0.1";'
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is lower than 2.0.1 (no-downgrading)"
	# the flag overrides the file
	swi "$DEV" -N 1.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# -c and -n give the same verdict, and write nothing either way.
case_no_downgrading_check_and_dry_run() {
	DEV=$CASE/dev
	make_device "$DEV"
	add_setting "$DEV" 'no-downgrading = "10.0";'
	ab_image u.swu cms crc
	swi "$DEV" -c -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is lower than 10.0 (no-downgrading)"
	swi "$DEV" -n -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is lower than 10.0 (no-downgrading)"
	swi "$DEV" -N 1.10 -c -e stable,copy2 -i u.swu
	expect_rc 0
	swi "$DEV" -N 1.10 -n -e stable,copy2 -i u.swu
	expect_rc 0
	expect_device_untouched "$DEV"
}

case_no_reinstalling_flag() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -R 2.0.0 -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is the same as 2.0.0 (no-reinstalling)"
	swi "$DEV" -R 2.0.0 -c -e stable,copy2 -i u.swu
	expect_refused 4 "(no-reinstalling)"
	# the very same string only, as in SWUpdate
	swi "$DEV" --no-reinstalling 2.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_no_reinstalling_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	add_setting "$DEV" 'no-reinstalling = "2.0.0";'
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is the same as 2.0.0 (no-reinstalling)"
	swi "$DEV" -n -e stable,copy2 -i u.swu
	expect_refused 4 "(no-reinstalling)"
	swi "$DEV" -R 1.0.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_max_version_flag() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" --max-version 1.9.9 -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is higher than 1.9.9 (max-version)"
	swi "$DEV" --max-version 2.0.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_max_version_key() {
	DEV=$CASE/dev
	make_device "$DEV"
	add_setting "$DEV" 'max-version = "2.0.0-rc1";'
	ab_image u.swu cms crc
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_refused 4 "image version 2.0.0 is higher than 2.0.0-rc1 (max-version)"
	swi "$DEV" -c -e stable,copy2 -i u.swu
	expect_refused 4 "(max-version)"
	swi "$DEV" --max-version 3 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# All three at once, checked in SWUpdate's order; the first that refuses
# is the one named.
case_guards_order() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -N 3.0 --max-version 1.0 -R 2.0.0 -e stable,copy2 -i u.swu
	expect_refused 4 "(no-downgrading)"
	swi "$DEV" -N 1.0 --max-version 1.0 -R 2.0.0 -e stable,copy2 -i u.swu
	expect_refused 4 "(max-version)"
	swi "$DEV" -N 1.0 --max-version 2.0 -R 2.0.0 -e stable,copy2 -i u.swu
	expect_refused 4 "(no-reinstalling)"
	swi "$DEV" -N 1.0 --max-version 2.0 -R 1.0 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# Versions are ordered as SWUpdate orders them: dotted numbers by value.
case_dotted_numbers_by_value() {
	DEV=$CASE/dev
	make_device "$DEV"
	versioned_image u.swu 1.10.0
	swi "$DEV" -N 1.9.0 --max-version 1.10 -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

# An image without a version installs when no guard is set, and is refused
# by any guard, which cannot check it (SWUpdate refuses it in any case).
case_image_without_version() {
	DEV=$CASE/dev
	make_device "$DEV"
	versioned_image u.swu ""
	swi "$DEV" -N 0 -e stable,copy2 -i u.swu
	expect_refused 4 "the image has no version, so no-downgrading 0 cannot be checked; refused"
	swi "$DEV" --max-version 9 -c -e stable,copy2 -i u.swu
	expect_refused 4 "the image has no version, so max-version 9 cannot be checked"
	add_setting "$DEV" 'no-reinstalling = "1.0";'
	swi "$DEV" -n -e stable,copy2 -i u.swu
	expect_refused 4 "the image has no version, so no-reinstalling 1.0 cannot be checked"
	sed -i '/no-reinstalling/d' "$DEV/swinstall.conf"
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_installed_in_b "$DEV"
}

case_bad_guard_values() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -N "" -e stable,copy2 -i u.swu
	expect_refused 2 "no-downgrading: the version is empty"
	add_setting "$DEV" 'no-reinstalling = 2.0;'
	swi "$DEV" -e stable,copy2 -i u.swu
	expect_refused 2 "'no-reinstalling' must be a string"
}

run_case "RSA-PSS image installs with --signature-scheme rsa-pss" case_pss_with_rsa_pss_flag
run_case "RSA-PSS image installs with signature-scheme = rsa-pss" case_pss_with_rsa_pss_key
run_case "PKCS#1 v1.5 image refused by --signature-scheme rsa-pss -> 3" case_pkcs1_refused_by_rsa_pss_flag
run_case "PKCS#1 v1.5 image refused by signature-scheme = rsa-pss (also -c, -n) -> 3" \
	case_pkcs1_refused_by_rsa_pss_key
run_case "signature-scheme rsa: PSS refused, PKCS#1 v1.5 installs" case_rsa_scheme
run_case "--signature-scheme overrides the configuration" case_flag_overrides_scheme_key
run_case "signature-scheme cms installs a CMS image" case_cms_scheme
run_case "signature-scheme cms with an RSA public key -> 2" case_cms_scheme_with_public_key
run_case "signature-scheme rsa with a certificate -> 2" case_rsa_scheme_with_certificate
run_case "unknown signature-scheme -> 2" case_bad_scheme
run_case "-N refuses a lower image -> 4, allows an equal-or-higher one" case_no_downgrading_flag
run_case "-N with the image's own version installs" case_no_downgrading_equal_installs
run_case "a repeated -N counts with its last value" case_repeated_flag_last_wins
run_case "no-downgrading key refuses -> 4; -N overrides it" case_no_downgrading_key
run_case "no-downgrading with -c and -n: same verdict, nothing written" \
	case_no_downgrading_check_and_dry_run
run_case "-R refuses the same version -> 4, exact string only" case_no_reinstalling_flag
run_case "no-reinstalling key refuses -> 4; -R overrides it" case_no_reinstalling_key
run_case "--max-version refuses a higher image -> 4" case_max_version_flag
run_case "max-version key refuses -> 4; --max-version overrides it" case_max_version_key
run_case "guards checked in order: no-downgrading, max-version, no-reinstalling" case_guards_order
run_case "dotted versions compare by value (1.10 > 1.9)" case_dotted_numbers_by_value
run_case "image without a version: installs without guards, refused by each guard -> 4" \
	case_image_without_version
run_case "empty or non-string guard versions -> 2" case_bad_guard_values
t_done
