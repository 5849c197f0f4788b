#!/bin/sh
# demo.sh BUILD_DIR — swinstall on a simulated A/B device, start to end.
# Run by `make demo`. Everything lives in BUILD_DIR/demo, made anew each run:
# keys, a device of plain files (two 4 MiB slots and a U-Boot environment),
# a signed image built from examples/sw-description, then one install into
# the standby slot and what it changed.
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
cat >"$dev/swinstall.conf" <<EOF
public-key = "$keys/ca.pem";
bootloader = "uboot";
uboot-env-config = "$dev/fw_env.config";
hwrevision-file = "$dev/hwrevision";
sw-versions-file = "$dev/sw-versions";
EOF
echo "  slotA.img, slotB.img  the two root filesystems (/dev/mmcblk0p2, p3 on a real board)"
echo "  env.img               U-Boot environment (fw_env.config points at it)"
echo "  swinstall.conf        key, environment, hwrevision and sw-versions of this device"

status() {
	rootpart=$(envp -n rootpart 2>/dev/null || echo "?")
	case "$rootpart" in 2) boots="slot A" ;; 3) boots="slot B" ;; *) boots="?" ;; esac
	echo "  U-Boot boots:  $boots (rootpart=$rootpart, ustate=$(envp -n ustate 2>/dev/null))"
	echo "  slot A sha256: $(sha "$dev/slotA.img")…  \"$(first_words "$dev/slotA.img")\""
	echo "  slot B sha256: $(sha "$dev/slotB.img")…  \"$(first_words "$dev/slotB.img")\""
}
step "Device status before the update"
status
envp >"$demo/env.before"
cp "$dev/slotB.img" "$demo/slotB.before"

step "Building a signed image from examples/sw-description"
art="$demo/artifacts"
{
	yes "system 2.0, freshly installed " | head -c 2M
	openssl rand 1048576
} >"$art/rootfs.ext4"
gzip -9 -n -c "$art/rootfs.ext4" >"$art/rootfs.ext4.gz"
# the example names real partitions; here the slots are files
sed -e "s|/dev/mmcblk0p2|$dev/slotA.img|; s|/dev/mmcblk0p3|$dev/slotB.img|" \
	"$root/examples/sw-description" >"$art/sw-description"
sh "$root/examples/build-swu.sh" -k "$keys/signer.key" -c "$keys/signer.pem" \
	-o "$demo/update.swu" "$art" | sed 's/^/  /'
echo "  rootfs.ext4: $(wc -c <"$art/rootfs.ext4") bytes, gzip-compressed in the image"

step "Installing into the standby slot B"
echo "  \$ swinstall -f $dev/swinstall.conf -e stable,copy2 -i $demo/update.swu"
set +e
"$swinstall" -f "$dev/swinstall.conf" -e stable,copy2 -i "$demo/update.swu"
rc=$?
set -e
echo "  exit status $rc"

step "What changed"
status
if cmp -s "$dev/slotB.img" "$demo/slotB.before"; then
	echo "  slot B: unchanged"
else
	echo "  slot B: $(sha "$demo/slotB.before")… -> $(sha "$dev/slotB.img")…"
fi
size=$(wc -c <"$art/rootfs.ext4")
if head -c "$size" "$dev/slotB.img" | cmp -s - "$art/rootfs.ext4"; then
	echo "  slot B now starts with the image's rootfs.ext4 (all $size bytes match)"
fi
echo "  environment (fw_printenv, - before / + after):"
envp >"$demo/env.after"
diff "$demo/env.before" "$demo/env.after" | sed -n 's/^</    -/p; s/^>/    +/p'
if [ "$rc" -eq 0 ]; then
	echo
	echo "The next boot starts slot B; slot A, the running system, was never written."
else
	echo
	echo "The install failed (exit $rc); the boot selection was not switched."
fi
exit "$rc"
