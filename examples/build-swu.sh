#!/bin/sh
# build-swu.sh — build a signed .swu image with nothing but cpio and openssl.
#
# usage: build-swu.sh [-s SW-DESCRIPTION] [-k KEY -c CERT | -r KEY | -u]
#                     [-F crc|newc] -o OUT.swu DIR
#   DIR      holds the artifacts (and sw-description, unless -s names one)
#   -s FILE  the sw-description template (default DIR/sw-description)
#   -k KEY -c CERT   sign with CMS (PEM key and its certificate)
#   -r KEY   sign with RSA, PKCS#1 v1.5 over SHA-256 (verify with the public key)
#   -u       leave it unsigned (install with --insecure)
#   -F       cpio format: crc (070702, with checksums; default) or newc
#
# Every "$swupdate_get_sha256(FILE)" in the template becomes the sha256 of
# DIR/FILE, as swugenerator does, so one template serves both tools. This
# script does not compress: name the compressed file (rootfs.ext4.gz) and
# mark the entry compressed = "zlib" (or "zstd", "xz").
# The archive holds sw-description, sw-description.sig, then every file
# named by a filename = "..." in the order of first appearance.
set -eu

usage() {
	sed -n '3,11s/^# \{0,1\}//p' "$0" >&2
	exit 2
}

template='' key='' cert='' rsa='' unsigned='' format=crc out=''
while getopts 's:k:c:r:uF:o:h' opt; do
	case "$opt" in
	s) template=$OPTARG ;;
	k) key=$OPTARG ;;
	c) cert=$OPTARG ;;
	r) rsa=$OPTARG ;;
	u) unsigned=1 ;;
	F) format=$OPTARG ;;
	o) out=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] && [ -n "$out" ] || usage
dir=$1
template=${template:-$dir/sw-description}
case "$format" in crc | newc) ;; *) echo "build-swu.sh: format must be crc or newc" >&2; exit 2 ;; esac
if [ -z "$unsigned" ] && [ -z "$rsa" ] && { [ -z "$key" ] || [ -z "$cert" ]; }; then
	echo "build-swu.sh: give -k KEY -c CERT (CMS), -r KEY (RSA) or -u (unsigned)" >&2
	exit 2
fi

die() {
	echo "build-swu.sh: $*" >&2
	exit 1
}

sha256() {
	openssl dgst -sha256 -r "$1" | cut -d' ' -f1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/build-swu.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. sw-description with the hashes filled in
cp "$template" "$work/sw-description"
for name in $(grep -o '\$swupdate_get_sha256([^)]*)' "$template" | sed 's/.*(\(.*\))/\1/' | sort -u); do
	[ -f "$dir/$name" ] || die "$dir/$name: no such artifact (named by \$swupdate_get_sha256)"
	hash=$(sha256 "$dir/$name")
	sed -i "s|\\\$swupdate_get_sha256($name)|$hash|g" "$work/sw-description"
done

# 2. the signature, over the exact bytes of sw-description
members=sw-description
if [ -n "$rsa" ]; then
	openssl dgst -sha256 -sign "$rsa" -out "$work/sw-description.sig" "$work/sw-description"
	members="$members sw-description.sig"
elif [ -z "$unsigned" ]; then
	openssl cms -sign -in "$work/sw-description" -out "$work/sw-description.sig" \
		-signer "$cert" -inkey "$key" -outform DER -nosmimecap -binary
	members="$members sw-description.sig"
fi

# 3. the artifacts, in the order sw-description names them (once each)
artifacts=$(sed -n 's/.*filename[[:space:]]*[=:][[:space:]]*"\([^"]*\)".*/\1/p' "$work/sw-description" |
	awk '!seen[$0]++')
for name in $artifacts; do
	case "$name" in */* | .*) die "$name: artifact names must be plain file names" ;; esac
	[ -f "$dir/$name" ] || die "$dir/$name: no such artifact (named in sw-description)"
	ln -s "$(cd "$dir" && pwd)/$name" "$work/$name"
	members="$members $name"
done

# 4. the archive: cpio follows the links (-L) and keeps the order given
case "$out" in /*) ;; *) out="$(pwd)/$out" ;; esac
(cd "$work" && printf '%s\n' $members | cpio -o -L -H "$format" --quiet >"$out")
echo "build-swu.sh: wrote $out ($(echo $members | wc -w) members: $members)"
