#!/bin/sh
# demo.sh BUILD_DIR — swinstall on a simulated A/B device, start to end.
# Run by `make demo`. Everything lives in BUILD_DIR/demo, made anew each run:
# keys, a device of plain files (two 4 MiB slots, a U-Boot environment, a
# kernel command line), signed images built from examples/sw-description,
# and the whole life cycle: status, install into the standby slot, a
# simulated reboot into it, mark-good; then a second update and a rollback.
set -eu

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
swinstall="$build/swinstall"
demo="$build/demo"
[ -x "$swinstall" ] || { echo "demo: $swinstall not found (run make)" >&2; exit 2; }

rm -rf "$demo"
mkdir -p "$demo/keys" "$demo/device" "$demo/artifacts"
dev="$demo/device"
keys="$demo/keys"

if [ -t 1 ]; then bold=$(printf '\033[1m') plain=$(printf '\033[0m'); else bold='' plain=''; fi
step() { printf '\n%s== %s%s\n' "$bold" "$*" "$plain"; }
first_words() { head -c 40 "$1" | head -n1 | cut -c1-32; }
sha() { openssl dgst -sha256 -r "$1" | cut -c1-16; }
envp() { fw_printenv -c "$dev/fw_env.config" "$@"; }
quiet() { "$@" >/dev/null 2>&1 || { echo "demo: failed: $*" >&2; exit 1; }; }

step "Making a CA and a signing certificate (openssl)"
quiet openssl req -x509 -newkey rsa:2048 -nodes -keyout "$keys/ca.key" -out "$keys/ca.pem" \
	-days 365 -subj "/CN=Demo CA" -addext basicConstraints=critical,CA:TRUE \
	-addext keyUsage=critical,keyCertSign,cRLSign
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n' >"$keys/signer.ext"
quiet openssl req -newkey rsa:2048 -nodes -keyout "$keys/signer.key" -out "$keys/signer.csr" \
	-subj "/CN=Demo release signer"
quiet openssl x509 -req -in "$keys/signer.csr" -CA "$keys/ca.pem" -CAkey "$keys/ca.key" \
	-set_serial 1 -days 365 -extfile "$keys/signer.ext" -out "$keys/signer.pem"
echo "  $keys/ca.pem (the device trusts this), signer.pem/signer.key (the build signs with these)"

step "Making the simulated device in $dev"
yes "system 1.0 running in slot A " | head -c 4M >"$dev/slotA.img"
yes "system 1.0 (old copy) in slot B " | head -c 4M >"$dev/slotB.img"
printf 'bootcmd=run boot_slot\nbootcount=0\nbootlimit=3\nrootpart=2\nupgrade_available=0\nustate=0\n' >"$dev/env.txt"
quiet mkenvimage -s 0x4000 -o "$dev/env.img" "$dev/env.txt"
echo "$dev/env.img 0x0 0x4000" >"$dev/fw_env.config"
echo "myboard 1.0" >"$dev/hwrevision"
echo "rootfs 1.0.0" >"$dev/sw-versions"
cp "$dev/sw-versions" "$dev/sw-versions.A"
cp "$dev/sw-versions" "$dev/sw-versions.B"
echo "console=ttyS0 root=$dev/slotA.img rootwait" >"$dev/cmdline"
: >"$dev/mountinfo"
cat >"$dev/swinstall.conf" <<EOF
public-key = "$keys/ca.pem";
lock-file = "$dev/swinstall.lock";    # /run/swinstall.lock on a real device
state-dir = "$dev/state";             # /var/lib/swinstall on a real device
bootloader = "uboot";
uboot-env-config = "$dev/fw_env.config";
hwrevision-file = "$dev/hwrevision";
sw-versions-file = "$dev/sw-versions";
cmdline-file = "$dev/cmdline";        # /proc/cmdline on a real device
mountinfo-file = "$dev/mountinfo";    # /proc/self/mountinfo on a real device
slots = (
  { name = "A"; device = "$dev/slotA.img"; select = "stable,copy1"; bootenv = { rootpart = "2"; }; },
  { name = "B"; device = "$dev/slotB.img"; select = "stable,copy2"; bootenv = { rootpart = "3"; }; }
);
EOF
echo "  slotA.img, slotB.img  the two root filesystems (/dev/mmcblk0p2, p3 on a real board)"
echo "  env.img               U-Boot environment (fw_env.config points at it)"
echo "  cmdline               the kernel command line: root= says slot A runs"
echo "  swinstall.conf        key, environment, slots, hwrevision and sw-versions"

conf="$dev/swinstall.conf"
swi() {
	echo "  \$ swinstall $*"
	"$swinstall" -f "$conf" "$@" 2>&1 | sed 's/^/    /'
}
slots() {
	echo "  slot A: \"$(first_words "$dev/slotA.img")\"  slot B: \"$(first_words "$dev/slotB.img")\""
}
# The bootloader's part, as examples/boot/boot.cmd does it: the first boot
# of a new slot turns ustate 1 into 2 (testing) and counts boots.
reboot_into() {
	echo "  (reboot: U-Boot boots rootpart=$(envp -n rootpart), the kernel gets root=$dev/slot$1.img)"
	if [ "$(envp -n ustate)" = 1 ]; then
		quiet fw_setenv -c "$dev/fw_env.config" ustate 2
		quiet fw_setenv -c "$dev/fw_env.config" upgrade_available 1
		quiet fw_setenv -c "$dev/fw_env.config" bootcount 1
	fi
	echo "console=ttyS0 root=$dev/slot$1.img rootwait" >"$dev/cmdline"
	# /etc/sw-versions belongs to the system that runs: now slot $1's.
	cp "$dev/sw-versions.$1" "$dev/sw-versions"
}
# build_update VERSION: a signed image from examples/sw-description
build_update() {
	art="$demo/artifacts-$1"
	mkdir -p "$art"
	{
		yes "system $1, freshly installed " | head -c 2M
		openssl rand 1048576
	} >"$art/rootfs.ext4"
	gzip -9 -n -c "$art/rootfs.ext4" >"$art/rootfs.ext4.gz"
	# the example names real partitions; here the slots are files
	sed -e "s|/dev/mmcblk0p2|$dev/slotA.img|; s|/dev/mmcblk0p3|$dev/slotB.img|" \
		"$root/examples/sw-description" >"$art/sw-description"
	sh "$root/examples/build-swu.sh" -k "$keys/signer.key" -c "$keys/signer.pem" \
		-o "$demo/update-$1.swu" "$art" | sed 's/^/  /'
}

step "1. Status of the running device"
swi status
slots

step "2. Building update 2.0 (signed) and installing it: swinstall finds the standby slot itself"
build_update 2.0
envp >"$demo/env.before"
swi -i "$demo/update-2.0.swu"
# The new root filesystem carries its own /etc/sw-versions.
echo "rootfs 2.0.0" >"$dev/sw-versions.B"
slots
echo "  environment (fw_printenv, - before / + after the install):"
envp >"$demo/env.after"
diff "$demo/env.before" "$demo/env.after" | sed -n 's/^</    -/p; s/^>/    +/p'

step "3. Status: the update waits for a reboot"
swi status

step "4. Reboot into slot B, then confirm it"
reboot_into B
swi status
swi mark-good
swi status

step "5. Update 3.0 goes to slot A (now standby); then the agent's health check fails: rollback"
build_update 3.0
swi -i "$demo/update-3.0.swu"
echo "rootfs 3.0.0" >"$dev/sw-versions.A"
slots
swi rollback
swi status
echo
echo "Slot B keeps running and boots next; slot A holds 3.0 but the bootloader no longer selects it."
