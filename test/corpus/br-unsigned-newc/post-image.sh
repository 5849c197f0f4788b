#!/bin/sh
# Buildroot post-image script of a development board: no signing, newc.
set -e
cd "${BINARIES_DIR}"
cat > sw-description <<SWDESC
software = {
	version = "0.1.0-dev";
	hardware-compatibility = [ "1.0" ];
	images = ( {
		filename = "rootfs.ext4";
		device = "${SLOT_B}";
		type = "raw";
		sha256 = "$(sha256sum rootfs.ext4 | cut -d' ' -f1)";
	} );
	bootenv = ( { name = "rootpart"; value = "3"; } );
};
SWDESC
printf 'sw-description\nrootfs.ext4\n' | cpio -o -H newc > "${SWU_OUT}"
