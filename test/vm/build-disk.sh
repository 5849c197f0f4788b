#!/bin/sh
# Builds the disk of the VM tests: an A/B device that boots with GRUB and the
# project's own examples/boot/grub.cfg, without root or loop devices.
#
# Usage: sh test/vm/build-disk.sh SWINSTALL KERNEL-DIR OUT-DIR
#   SWINSTALL   the swinstall program to put into both slots (with the
#               shared libraries ldd lists)
#   KERNEL-DIR  Debian's cloud kernel package unpacked (test/vm/kernel.sh)
#   OUT-DIR     gets disk.img, layout (the partitions' offsets, sourced by
#               test/vm/lib.sh), keys/, the update images in payload/ and
#               usb.img, a USB stick (ext4; virtio-blk, /dev/vda in the guest:
#               a second SCSI disk could take the name sda, sd probes
#               asynchronously) with an image for other hardware,
#               an older one and the one to install
#
# The disk (GPT, attached through virtio-scsi so the guest sees /dev/sda, the
# name examples/boot/grub.cfg boots with):
#   1 boot  vfat  /grub/grub.cfg (examples/boot/grub.cfg as is), /grub/grubenv
#                 (rootpart=2); GRUB's core.img lies before the partition
#   2 A     ext4  release 1.0.0: busybox, swinstall, /boot/vmlinuz, initrd
#   3 B     ext4  empty (never installed)
#   4 data  ext4  the update images (the host adds /step before each boot)
#   5 firmware vfat  empty; an image may write into it (extra-targets)
# and, before the first partition, a redundant U-Boot environment pair (16 KiB
# copies at 512 KiB and 528 KiB, as on an eMMC) for /etc/swinstall-uboot.conf;
# OUT-DIR also gets vmlinuz and initrd.img for QEMU's direct kernel boot.
set -eu

SWI_BIN=$1
KERNEL=$2
OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)

MIB=1048576
BOOT_MIB=16
SLOT_MIB=40
DATA_MIB=128
FW_MIB=8
# core.img goes after the GPT's partition entries (sectors 2-33); boot.img
# is told where (see install_grub).
CORE_SECTOR=64
UBOOT_ENV1=0x80000
UBOOT_ENV2=0x84000
UBOOT_ENV_SIZE=0x4000
# Loaded by the initramfs, in this order (dependencies first).
MODULES="drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci drivers/scsi/scsi_common
drivers/scsi/scsi_mod drivers/scsi/virtio_scsi drivers/scsi/sd_mod drivers/block/virtio_blk fs/fat/fat fs/fat/vfat
fs/nls/nls_cp437 fs/nls/nls_ascii"

rm -rf "$OUT"
mkdir -p "$OUT/work" "$OUT/payload"
WORK="$OUT/work"

# --------------------------------------------------------------- initramfs
make_initramfs() {
	ir="$WORK/initramfs"
	mkdir -p "$ir/bin" "$ir/proc" "$ir/sys" "$ir/dev" "$ir/newroot" "$ir/modules"
	cp /bin/busybox "$ir/bin/busybox"
	for applet in sh mount umount insmod sleep cat switch_root poweroff; do
		ln -s busybox "$ir/bin/$applet"
	done
	cp "$HERE/initramfs-init" "$ir/init"
	chmod 755 "$ir/init"
	moddir=$(echo "$KERNEL"/lib/modules/*/kernel)
	: >"$ir/modules/order"
	for m in $MODULES; do
		name=$(basename "$m")
		cp "$moddir/$m.ko" "$ir/modules/$name.ko"
		echo "$name" >>"$ir/modules/order"
	done
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -n -9) >"$WORK/initrd.img"
}

# ------------------------------------------------------------------ slots

# make_rootfs DIR RELEASE: the root file system of a slot.
make_rootfs() {
	d=$1
	mkdir -p "$d/bin" "$d/usr/bin" "$d/sbin" "$d/etc/swinstall" "$d/boot/efi" "$d/data" \
		"$d/proc" "$d/sys" "$d/dev" "$d/run" "$d/tmp" "$d/var/tmp" "$d/var/lib/swinstall" \
		"$d/lib64" "$d/lib/x86_64-linux-gnu"
	cp /bin/busybox "$d/bin/busybox"
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -s busybox "$d/bin/$applet"
	done
	cp "$SWI_BIN" "$d/usr/bin/swinstall"
	# The libraries the program was linked with, where the loader looks.
	ldd "$SWI_BIN" | awk '/=> \// { print $3 } /^\t\/lib64\// { print $1 }' | while read -r lib; do
		case "$lib" in
		/lib64/*) cp -L "$lib" "$d/lib64/" ;;
		*) cp -L "$lib" "$d/lib/x86_64-linux-gnu/" ;;
		esac
	done
	cp "$HERE/guest-init" "$d/sbin/init"
	chmod 755 "$d/sbin/init"
	cp "$(echo "$KERNEL"/boot/vmlinuz-*)" "$d/boot/vmlinuz"
	cp "$WORK/initrd.img" "$d/boot/initrd.img"
	cp "$OUT/keys/ca.pem" "$d/etc/swinstall/ca.pem"
	echo "$2" >"$d/etc/slot-release"
	echo "vmboard 1.0" >"$d/etc/hwrevision"
	echo "rootfs $2" >"$d/etc/sw-versions"
	printf '/dev/sda %s %s\n/dev/sda %s %s\n' "$UBOOT_ENV1" "$UBOOT_ENV_SIZE" \
		"$UBOOT_ENV2" "$UBOOT_ENV_SIZE" >"$d/etc/fw_env.config"
	cat >"$d/etc/swinstall-uboot.conf" <<-'EOF'
		# The same device with the U-Boot environment pair on the disk.
		public-key = "/etc/swinstall/ca.pem";
		bootloader = "uboot";
		uboot-env-config = "/etc/fw_env.config";
		slots = (
			{ name = "A"; device = "/dev/sda2"; select = "stable,copy1"; bootenv = { rootpart = "2"; }; },
			{ name = "B"; device = "/dev/sda3"; select = "stable,copy2"; bootenv = { rootpart = "3"; }; }
		);
	EOF
	cat >"$d/etc/swinstall.conf" <<-'EOF'
		# The A/B device of the VM tests: GRUB with examples/boot/grub.cfg.
		public-key = "/etc/swinstall/ca.pem";
		bootloader = "grub";
		grubenv = "/boot/efi/grub/grubenv";
		extra-targets = [ "/dev/sda5" ];
		slots = (
			{ name = "A"; device = "/dev/sda2"; select = "stable,copy1"; bootenv = { rootpart = "2"; }; },
			{ name = "B"; device = "/dev/sda3"; select = "stable,copy2"; bootenv = { rootpart = "3"; }; }
		);
	EOF
}

# mk_ext4 IMAGE MIB DIR LABEL
mk_ext4() {
	rm -f "$1"
	mkfs.ext4 -q -F -L "$4" -d "$3" "$1" "$2M"
}

# ------------------------------------------------------------ boot chain

make_boot_partition() {
	img="$WORK/boot.vfat"
	rm -f "$img"
	mkfs.vfat -C -n BOOT "$img" $((BOOT_MIB * 1024)) >/dev/null
	grub-editenv "$WORK/grubenv" create
	grub-editenv "$WORK/grubenv" set rootpart=2 ustate=0 upgrade_available=0 bootcount=0
	mmd -i "$img" ::grub
	mcopy -i "$img" "$ROOT/examples/boot/grub.cfg" ::grub/grub.cfg
	mcopy -i "$img" "$WORK/grubenv" ::grub/grubenv
}

# le64 N: N as 8 little-endian bytes (printf escapes).
le64() {
	n=$1
	i=0
	while [ $i -lt 8 ]; do
		# shellcheck disable=SC2059 # an octal escape made on purpose
		printf "\\$(printf %03o $((n % 256)))"
		n=$((n / 256))
		i=$((i + 1))
	done
}

# install_grub DISK: GRUB for BIOS. grub-install needs a real device, so
# this does by hand what it does: boot.img in the MBR's code area (the
# protective MBR's partition table stays), core.img in the gap before the
# first partition, and both told where core.img lies.
install_grub() {
	grub-mkimage -O i386-pc -o "$WORK/core.img" -p '(hd0,gpt1)/grub' \
		biosdisk part_gpt fat ext2 normal linux configfile loadenv test echo
	sectors=$((($(stat -c %s "$WORK/core.img") + 511) / 512))
	[ $(((CORE_SECTOR + sectors) * 512)) -le $((UBOOT_ENV1)) ] || { echo "core.img is too big" >&2; exit 1; }
	dd if=/usr/lib/grub/i386-pc/boot.img of="$1" bs=440 count=1 conv=notrunc status=none
	# boot.img: the sector of core.img's first sector (GRUB_BOOT_MACHINE_KERNEL_SECTOR)
	le64 "$CORE_SECTOR" | dd of="$1" bs=1 seek=$((0x5c)) conv=notrunc status=none
	dd if="$WORK/core.img" of="$1" bs=512 seek="$CORE_SECTOR" conv=notrunc status=none
	# core.img's first sector loads the rest from the block list at its end:
	# start sector (8 bytes) at offset 500 of that sector.
	le64 $((CORE_SECTOR + 1)) | dd of="$1" bs=1 seek=$((CORE_SECTOR * 512 + 500)) conv=notrunc status=none
}

# ---------------------------------------------------------- update images

# make_update_images: payload/ gets the images the scenarios install.
make_update_images() {
	w="$WORK/swu"
	mkdir -p "$w"
	gzip -n -c "$WORK/slotB-2.ext4" >"$w/rootfs.ext4.gz"
	write_swdesc "$w" rootfs.ext4.gz 2.0.0 1.0
	mk_swu "$OUT/payload/update.swu" cms newc "$w" rootfs.ext4.gz
	write_swdesc "$w" rootfs.ext4.gz 2.0.0 9.9
	mk_swu "$OUT/payload/otherhw.swu" cms newc "$w" rootfs.ext4.gz
	# tampered: one byte of the payload changed after signing
	cp "$OUT/payload/update.swu" "$OUT/payload/tampered.swu"
	flip_data "$OUT/payload/tampered.swu" rootfs.ext4.gz
	# truncated half-way through the payload
	size=$(stat -c %s "$OUT/payload/update.swu")
	head -c $((size / 2)) "$OUT/payload/update.swu" >"$OUT/payload/truncated.swu"
	sha "$WORK/slotB-2.ext4" >"$OUT/payload/slot-2.sha256"
	# the system and a file into the vfat firmware partition
	echo "written into vfat by swinstall" >"$w/vm.txt"
	write_swdesc "$w" rootfs.ext4.gz 2.0.0 1.0 vm.txt
	mk_swu "$OUT/payload/update-vfat.swu" cms newc "$w" rootfs.ext4.gz vm.txt
	mkdir -p "$WORK/usb"
	cp "$OUT/payload/update.swu" "$WORK/usb/system-2.0.0.swu"
	cp "$OUT/payload/otherhw.swu" "$WORK/usb/otherboard-2.0.0.swu"
	write_swdesc "$w" rootfs.ext4.gz 0.9.0 1.0
	mk_swu "$WORK/usb/system-0.9.0.swu" cms newc "$w" rootfs.ext4.gz
	mk_ext4 "$OUT/usb.img" 64 "$WORK/usb" usb
}

# write_swdesc DIR FILE VERSION HW-REVISION [VFAT-FILE]: a sw-description
# for both slots; VFAT-FILE also goes into /overlays of the firmware partition.
write_swdesc() {
	h=$(sha "$1/$2")
	{
		echo "software = {"
		echo "	version = \"$3\";"
		echo "	description = \"VM test system $3\";"
		echo "	hardware-compatibility: [ \"$4\" ];"
		echo "	stable: {"
		for n in 1 2; do
			echo "		copy$n: { images: ( {"
			echo "			filename = \"$2\"; type = \"raw\"; device = \"/dev/sda$((n + 1))\";"
			echo "			compressed = \"zlib\"; sha256 = \"$h\";"
			echo "		} );"
			if [ -n "${5:-}" ]; then
				echo "		files: ( {"
				echo "			filename = \"$5\"; type = \"rawfile\"; path = \"/overlays/$5\";"
				echo "			device = \"/dev/sda5\"; filesystem = \"vfat\"; create-destination = true;"
				echo "			sha256 = \"$(sha "$1/$5")\";"
				echo "		} );"
			fi
			echo "		};"
		done
		echo "	};"
		echo "}"
	} >"$1/sw-description"
}

# ------------------------------------------------------------------ disk

# test/integration/lib.sh makes the keys, signs and archives (mk_swu) as the
# other tests do.
# shellcheck source=test/integration/lib.sh
. "$ROOT/test/integration/lib.sh"
KEYS="$OUT/keys"
make_keys "$KEYS"
make_initramfs
make_rootfs "$WORK/rootA" 1.0.0
make_rootfs "$WORK/rootB-2" 2.0.0
mk_ext4 "$WORK/slotA.ext4" "$SLOT_MIB" "$WORK/rootA" slotA
mk_ext4 "$WORK/slotB-2.ext4" "$SLOT_MIB" "$WORK/rootB-2" slotB
make_update_images
mkdir -p "$WORK/data"
cp "$OUT/payload/"*.swu "$WORK/data/"
mk_ext4 "$WORK/data.ext4" "$DATA_MIB" "$WORK/data" data
make_boot_partition

boot_start=1
a_start=$((boot_start + BOOT_MIB))
b_start=$((a_start + SLOT_MIB))
data_start=$((b_start + SLOT_MIB))
fw_start=$((data_start + DATA_MIB))
disk_mib=$((fw_start + FW_MIB + 1))
disk="$OUT/disk.img"
rm -f "$disk"
truncate -s "${disk_mib}M" "$disk"
sfdisk -q "$disk" <<EOF
label: gpt
start=$((boot_start * 2048)), size=$((BOOT_MIB * 2048)), type=uefi, name=boot
start=$((a_start * 2048)), size=$((SLOT_MIB * 2048)), type=linux, name=slotA
start=$((b_start * 2048)), size=$((SLOT_MIB * 2048)), type=linux, name=slotB
start=$((data_start * 2048)), size=$((DATA_MIB * 2048)), type=linux, name=data
start=$((fw_start * 2048)), size=$((FW_MIB * 2048)), type=linux, name=firmware
EOF
dd if="$WORK/boot.vfat" of="$disk" bs=1M seek="$boot_start" conv=notrunc,sparse status=none
dd if="$WORK/slotA.ext4" of="$disk" bs=1M seek="$a_start" conv=notrunc,sparse status=none
dd if="$WORK/data.ext4" of="$disk" bs=1M seek="$data_start" conv=notrunc,sparse status=none
rm -f "$WORK/fw.vfat"
mkfs.vfat -C -n FIRMWARE "$WORK/fw.vfat" $((FW_MIB * 1024)) >/dev/null
dd if="$WORK/fw.vfat" of="$disk" bs=1M seek="$fw_start" conv=notrunc,sparse status=none
install_grub "$disk"
printf 'bootcount=0\nbootlimit=3\nrootpart=2\nupgrade_available=0\nustate=0\n' >"$WORK/uboot-env.txt"
mkenvimage -r -s "$UBOOT_ENV_SIZE" -o "$WORK/uboot-env.bin" "$WORK/uboot-env.txt"
for at in "$UBOOT_ENV1" "$UBOOT_ENV2"; do
	dd if="$WORK/uboot-env.bin" of="$disk" bs=512 seek=$((at / 512)) conv=notrunc status=none
done
cp "$(echo "$KERNEL"/boot/vmlinuz-*)" "$OUT/vmlinuz"
cp "$WORK/initrd.img" "$OUT/initrd.img"
cat >"$OUT/layout" <<EOF
BOOT_OFFSET=$((boot_start * MIB))
A_OFFSET=$((a_start * MIB))
B_OFFSET=$((b_start * MIB))
DATA_OFFSET=$((data_start * MIB))
FW_OFFSET=$((fw_start * MIB))
FW_BYTES=$((FW_MIB * MIB))
SLOT_BYTES=$((SLOT_MIB * MIB))
UBOOT_ENV1=$UBOOT_ENV1
UBOOT_ENV2=$UBOOT_ENV2
UBOOT_ENV_SIZE=$UBOOT_ENV_SIZE
EOF
rm -rf "$WORK"
