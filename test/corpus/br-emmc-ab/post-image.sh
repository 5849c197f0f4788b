#!/bin/sh
# Buildroot post-image script (BR2_ROOTFS_POST_IMAGE_SCRIPT) of an eMMC
# board: writes sw-description for the A/B layout, signs it, packs the .swu.
set -e
cd "${BINARIES_DIR}"

ROOTFS_SHA256=$(sha256sum rootfs.ext2 | cut -d' ' -f1)

cat > sw-description <<SWDESC
software =
{
	version = "2023.02.9";
	hardware-compatibility: [ "1.0" ];

	stable: {
		copy1: {
			images: (
				{
					filename = "rootfs.ext2";
					device = "${SLOT_A}";
					type = "raw";
					sha256 = "${ROOTFS_SHA256}";
				}
			);
			uboot: ( { name = "rootpart"; value = "2"; } );
		};
		copy2: {
			images: (
				{
					filename = "rootfs.ext2";
					device = "${SLOT_B}";
					type = "raw";
					sha256 = "${ROOTFS_SHA256}";
				}
			);
			uboot: ( { name = "rootpart"; value = "3"; } );
		};
	};
}
SWDESC

openssl cms -sign -in sw-description -out sw-description.sig -signer "${SIGN_CERT}" \
	-inkey "${SIGN_KEY}" -outform DER -nosmimecap -binary

for f in sw-description sw-description.sig rootfs.ext2; do
	echo "$f"
done | cpio -ov -H crc > "${SWU_OUT}"
