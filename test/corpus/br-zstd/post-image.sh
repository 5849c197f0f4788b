#!/bin/sh
# Buildroot post-image script: the rootfs compressed with zstd by the script.
set -e
cd "${BINARIES_DIR}"
zstd -q -f -10 rootfs.ext4 -o rootfs.ext4.zst
cat > sw-description <<SWDESC
software =
{
	version = "2.4.0";
	hardware-compatibility: [ "1.0" ];
	images: (
		{
			filename = "rootfs.ext4.zst";
			device = "${SLOT_B}";
			type = "raw";
			compressed = "zstd";
			sha256 = "$(sha256sum rootfs.ext4.zst | cut -d' ' -f1)";
		}
	);
	bootenv: ( { name = "rootpart"; value = "3"; } );
}
SWDESC
openssl cms -sign -in sw-description -out sw-description.sig -signer "${SIGN_CERT}" \
	-inkey "${SIGN_KEY}" -outform DER -nosmimecap -binary
printf "%s\n" sw-description sw-description.sig rootfs.ext4.zst | cpio -o -H crc > "${SWU_OUT}"
