#!/bin/sh
# Buildroot post-image script: the rootfs compressed with xz (swinstall's
# addition to the compressions).
set -e
cd "${BINARIES_DIR}"
xz -k -f rootfs.ext4
cat > sw-description <<SWDESC
software =
{
	version = "2.4.1";
	hardware-compatibility: [ "1.0" ];
	images: (
		{
			filename = "rootfs.ext4.xz";
			device = "${SLOT_B}";
			compressed = "xz";
			sha256 = "$(sha256sum rootfs.ext4.xz | cut -d' ' -f1)";
		}
	);
	bootenv: ( { name = "rootpart"; value = "3"; } );
}
SWDESC
openssl cms -sign -in sw-description -out sw-description.sig -signer "${SIGN_CERT}" \
	-inkey "${SIGN_KEY}" -outform DER -nosmimecap -binary
printf "%s\n" sw-description sw-description.sig rootfs.ext4.xz | cpio -o -H crc > "${SWU_OUT}"
