#!/bin/sh
# Buildroot post-image script: one splash image written to both copies of a
# logo partition (two entries name the same member).
set -e
cd "${BINARIES_DIR}"
SPLASH_SHA=$(sha256sum splash.bmp | cut -d' ' -f1)
cat > sw-description <<SWDESC
software =
{
	version = "1.0.3";
	hardware-compatibility: [ "1.0" ];
	images: (
		{ filename = "splash.bmp"; device = "${BOOT0}"; offset = "8K"; sha256 = "${SPLASH_SHA}"; },
		{ filename = "splash.bmp"; device = "${BOOT0}"; offset = "32K"; sha256 = "${SPLASH_SHA}"; },
		{ filename = "splash.bmp"; device = "${SLOT_B}"; sha256 = "${SPLASH_SHA}"; }
	);
}
SWDESC
openssl cms -sign -in sw-description -out sw-description.sig -signer "${SIGN_CERT}" \
	-inkey "${SIGN_KEY}" -outform DER -nosmimecap -binary
printf 'sw-description\nsw-description.sig\nsplash.bmp\n' | cpio -o -H crc > "${SWU_OUT}"
