#!/bin/sh
# Buildroot post-image script: SPL and U-Boot into the eMMC boot partition
# at their offsets, the root filesystem into the standby copy.
set -e
cd "${BINARIES_DIR}"

sum() { sha256sum "$1" | awk '{print $1}'; }

cat > sw-description <<SWDESC
software =
{
	version = "1.2.0";
	hardware-compatibility = [ "1.0" ];
	images = (
		{
			filename = "SPL";
			device = "${BOOT0}";
			offset = "1024";
			sha256 = "$(sum SPL)";
		},
		{
			filename = "u-boot.img";
			device = "${BOOT0}";
			offset = "0x4F00";
			sha256 = "$(sum u-boot.img)";
		},
		{
			filename = "rootfs.ext4";
			device = "${SLOT_B}";
			sha256 = "$(sum rootfs.ext4)";
		}
	);
	bootenv = ( { name = "rootpart"; value = "3"; } );
}
SWDESC

openssl cms -sign -in sw-description -out sw-description.sig -signer "${SIGN_CERT}" \
	-inkey "${SIGN_KEY}" -outform DER -nosmimecap -binary
printf '%s\n' sw-description sw-description.sig SPL u-boot.img rootfs.ext4 |
	cpio -o -H crc > "${SWU_OUT}"
