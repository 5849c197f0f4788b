#!/bin/sh
# Fetches Debian's cloud kernel for the VM tests into a cache and unpacks it.
#
# Usage: sh test/vm/kernel.sh CACHE-DIR
# Prints the directory the package is unpacked in (CACHE-DIR/kernel, with
# boot/vmlinuz-* and lib/modules/*); exit status 1 with a reason on stderr
# when no kernel can be had (no apt-get, no network, no such package).
# The .deb is downloaded once (apt-get download, no root needed) and kept.
set -u
cache=$1
mkdir -p "$cache" || exit 1
cd "$cache" || exit 1
# newest_deb: the kernel package in the cache, if any.
newest_deb() {
	for f in linux-image-*-cloud-amd64_*.deb; do
		[ -f "$f" ] && deb=$f
	done
}
deb=
newest_deb
if [ -z "$deb" ]; then
	command -v apt-get >/dev/null 2>&1 || { echo "no apt-get to fetch a kernel" >&2; exit 1; }
	# The meta package names the current kernel package.
	pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ { print $2; exit }')
	[ -n "$pkg" ] || { echo "apt knows no linux-image-cloud-amd64 (apt-get update?)" >&2; exit 1; }
	apt-get download "$pkg" >download.log 2>&1 || {
		echo "apt-get download $pkg failed: $(tail -n 1 download.log)" >&2
		exit 1
	}
	newest_deb
	[ -n "$deb" ] || { echo "apt-get download $pkg left no .deb" >&2; exit 1; }
fi
# kernel/.unpacked names the package unpacked there.
if [ "$(cat kernel/.unpacked 2>/dev/null)" != "$deb" ]; then
	rm -rf kernel
	dpkg-deb -x "$deb" kernel || { echo "dpkg-deb -x $deb failed" >&2; exit 1; }
	echo "$deb" >kernel/.unpacked
fi
ls kernel/boot/vmlinuz-* >/dev/null 2>&1 || { echo "$deb holds no boot/vmlinuz-*" >&2; exit 1; }
echo "$cache/kernel"
