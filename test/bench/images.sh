# shellcheck shell=sh
# Test images of the benchmark; sourced by test/bench/bench.sh, which sets
# $W (the work directory, absolute) and $CERT/$KEY (made by bench_keys).
#
# Everything is cached under $W between runs, keyed by size, and made anew
# when missing. Files appear under their final name only when complete
# (written as NAME.tmp, then renamed), so an interrupted run leaves no
# half-made image behind. An image directory holds:
#   payload (raw) / rootfs.ext4 (fs)  the decoded bytes
#   payload.sha256                    their sha256 (what a target must hash to)
#   target                            preallocated file the image installs into
#   scrub                             sparse file of BYTES: a 4 KiB mark every
#                                     64 KiB, holes between (see scrub_file)
#   u.swu                             the image (sw-description, .sig, payload)
#   made-for                          $W and the signing certificate's hash:
#                                     an image made for another directory or
#                                     key is signed anew

# Fixed seeds: the same bytes on every machine for the raw rows.
BENCH_AES_KEY=62656e63682d7377696e7374616c6c30
BENCH_AES_IV=00000000000000000000000000000000
# Fixed identity and time of the file system image (mkfs.ext4 -U / hash_seed,
# e2fsprogs' fake time for the superblock and inode times it sets itself).
BENCH_FS_UUID=5d1e7a2c-0b1f-4c3e-9a47-2f6b8c0d1e42
BENCH_EPOCH=1700000000

sha_of() {
	openssl dgst -sha256 -r "$1" | cut -d' ' -f1
}

# bench_keys: a self-signed signing certificate (emailProtection, which both
# swupdate and swinstall accept as their own trust anchor).
bench_keys() {
	KEY=$W/keys/signer.key
	CERT=$W/keys/signer.pem
	[ -s "$KEY" ] && [ -s "$CERT" ] && return 0
	mkdir -p "$W/keys"
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$KEY" -out "$CERT" -days 36500 \
		-subj "/CN=swinstall bench signer" \
		-addext 'keyUsage=critical,digitalSignature' \
		-addext 'extendedKeyUsage=emailProtection' 2>/dev/null
}

# random_bytes OUT BYTES: incompressible deterministic bytes (AES-CTR of zeros).
random_bytes() {
	openssl enc -aes-128-ctr -K "$BENCH_AES_KEY" -iv "$BENCH_AES_IV" -nosalt -in /dev/zero 2>/dev/null |
		head -c "$2" >"$1.tmp" && mv "$1.tmp" "$1"
}

# target_file DIR BYTES: DIR/target of exactly BYTES, its blocks allocated and
# written once (the raw handlers write into an existing file and never past
# its end; every run then overwrites blocks, as on a real partition).
target_file() {
	t=$1/target
	if [ -f "$t" ] && [ "$(stat -c %s "$t")" -eq "$2" ]; then
		return 0
	fi
	rm -f "$t"
	dd if=/dev/zero of="$t.tmp" bs=1M count=$((($2 + 1048575) / 1048576)) conv=fsync status=none &&
		truncate -s "$2" "$t.tmp" && mv "$t.tmp" "$t"
}

# scrub_file DIR BYTES: DIR/scrub, BYTES long, a 4 KiB block of 0xa5 at the
# start of every 64 KiB and holes in between. Copied over the target with
# dd conv=sparse, it spoils every 64 KiB of the last install at the cost of
# 4 KiB writes, and the target's blocks stay written (unlike zeroing it
# with fallocate, which makes the next write convert unwritten extents and
# costs every writer more than a real device would). Built by doubling a
# 64 KiB unit; dd conv=sparse keeps every step sparse on disk.
scrub_file() {
	sf=$1/scrub
	[ -f "$sf" ] && [ "$(stat -c %s "$sf")" -eq "$2" ] && return 0
	{ tr '\000' '\245' </dev/zero | head -c 4096; head -c 61440 /dev/zero; } >"$sf.tmp"
	size=65536
	while [ "$size" -lt "$2" ]; do
		cat "$sf.tmp" "$sf.tmp" | dd of="$sf.next" bs=4K conv=sparse iflag=fullblock status=none || return 1
		mv "$sf.next" "$sf.tmp"
		size=$((size * 2))
	done
	head -c "$2" "$sf.tmp" | dd of="$sf.next" bs=4K conv=sparse iflag=fullblock status=none || return 1
	rm -f "$sf.tmp"
	truncate -s "$2" "$sf.next" && mv "$sf.next" "$sf"
}

# swu_current DIR: DIR/u.swu exists and was made for this $W and key.
swu_current() {
	[ -s "$1/u.swu" ] && [ "$(cat "$1/made-for" 2>/dev/null)" = "$W $(sha_of "$CERT")" ]
}

# make_swu DIR MEMBER COMPRESSED TARGET: DIR/u.swu installing DIR/MEMBER into
# TARGET; COMPRESSED is "" (raw) or the sw-description's compressed value.
make_swu() {
	s_dir=$1 s_mem=$2 s_comp=$3 s_tgt=$4
	swu_current "$s_dir" && return 0
	s_compressed=
	[ -n "$s_comp" ] && s_compressed="compressed = \"$s_comp\";"
	cat >"$s_dir/sw-description" <<EOF
software =
{
	version = "1.0.0";
	description = "swinstall benchmark image";
	hardware-compatibility = [ "1.0" ];
	images = (
		{
			filename = "$s_mem";
			type = "raw";
			device = "$s_tgt";
			installed-directly = true;
			$s_compressed
			sha256 = "$(sha_of "$s_dir/$s_mem")";
		}
	);
}
EOF
	openssl cms -sign -in "$s_dir/sw-description" -out "$s_dir/sw-description.sig" \
		-signer "$CERT" -inkey "$KEY" -outform DER -nosmimecap -binary -noattr || return 1
	(cd "$s_dir" && printf '%s\n' sw-description sw-description.sig "$s_mem" |
		cpio -o -H crc --quiet >u.swu.tmp) || return 1
	# cpio leaves out a member it cannot store (4 GiB or more) and exits 0
	if [ "$(stat -c %s "$s_dir/u.swu.tmp")" -le "$(stat -c %s "$s_dir/$s_mem")" ]; then
		echo "bench: cpio left $s_mem out of the image" >&2
		return 1
	fi
	mv "$s_dir/u.swu.tmp" "$s_dir/u.swu" && echo "$W $(sha_of "$CERT")" >"$s_dir/made-for"
}

# raw_image NAME BYTES KEEP: $W/NAME, an image of BYTES incompressible bytes.
# KEEP=0 removes the payload once the image is made (only its hash is needed
# when no limit command reads it).
raw_image() {
	d=$W/$1
	mkdir -p "$d"
	need_payload=$3
	swu_current "$d" || need_payload=1
	[ -s "$d/payload.sha256" ] || need_payload=1
	if [ "$need_payload" = 1 ] && [ ! -s "$d/payload" ]; then
		rm -f "$d/u.swu" "$d/payload.sha256"
		random_bytes "$d/payload" "$2" || return 1
	fi
	if [ ! -s "$d/payload.sha256" ]; then
		rm -f "$d/u.swu"
		sha_of "$d/payload" >"$d/payload.sha256"
	fi
	make_swu "$d" payload "" "$d/target" || return 1
	[ "$3" = 1 ] || rm -f "$d/payload"
	target_file "$d" "$2" && scrub_file "$d" "$2"
}

# pick_usr_files BUDGET: "PASS PATH" lines (paths relative to /usr) of
# regular files adding up to about BUDGET bytes (sizes rounded up to 4 KiB
# blocks): every k-th file in path order, so the pick is a cross-section of
# /usr (programs, libraries, text, data) rather than its first directories.
# A /usr smaller than the budget is taken again (PASS 1, 2, ...) until full.
pick_usr_files() {
	(cd /usr && find . -xdev -type f -printf '%s %p\n') | LC_ALL=C sort -k2 |
		awk -v budget="$1" '
		{ n++; size[n] = int(($1 + 4095) / 4096) * 4096; path[n] = substr($0, index($0, " ") + 1); total += size[n] }
		END {
			k = int(total / budget); if (k < 1) k = 1
			acc = 0
			for (pass = 0; acc < budget * 0.98 && pass < 64; pass++) {
				before = acc
				for (i = 1; i <= n; i++) {
					if ((i + pass) % k != 0 || acc + size[i] > budget) continue
					acc += size[i]; print pass, path[i]
				}
				if (acc == before) break
			}
		}'
}

# fs_image NAME BYTES: $W/NAME/rootfs.ext4, an ext4 file system of BYTES
# filled to about 75% with a cross-section of this machine's /usr: it
# compresses like a real root file system (binaries, text, empty blocks).
# Small images, where the file system's own overhead is larger, get less.
fs_image() {
	d=$W/$1
	[ -s "$d/rootfs.ext4" ] && [ -s "$d/payload.sha256" ] && return 0
	mkdir -p "$d"
	rm -f "$d/rootfs.ext4" "$d"/rootfs.ext4.* "$d"/*/u.swu
	for percent in 75 60 45 30; do
		if populated_fs "$d" "$2" $(($2 * percent / 100)); then
			sha_of "$d/rootfs.ext4.tmp" >"$d/payload.sha256"
			mv "$d/rootfs.ext4.tmp" "$d/rootfs.ext4"
			return 0
		fi
	done
	return 1
}

# populated_fs DIR BYTES BUDGET: DIR/rootfs.ext4.tmp of BYTES holding about
# BUDGET bytes of files from /usr (list in DIR/files); fails when they do
# not fit.
populated_fs() {
	stage=$1/stage
	rm -rf "$stage" "$1/rootfs.ext4.tmp"
	mkdir -p "$stage"
	pick_usr_files "$3" >"$1/files"
	for pass in $(cut -d' ' -f1 "$1/files" | uniq); do
		mkdir -p "$stage/usr$pass"
		sed -n "s/^$pass //p" "$1/files" | (cd /usr && cpio -pdm --quiet "$stage/usr$pass" 2>/dev/null)
	done
	# Small images run out of inodes before bytes: ask for enough (files and
	# directories of every pass, and a margin).
	entries=$(awk -F/ '{ n++; p = ""; for (i = 1; i < NF; i++) { p = p "/" $i; if (!(p in seen)) { seen[p] = 1; n++ } } } END { print n }' "$1/files")
	inodes=$((entries + entries / 4 + 64))
	inode_opt=
	[ "$inodes" -gt $(($2 / 16384)) ] && inode_opt="-N $inodes"
	# and a journal would take half of an image of a few MiB
	[ "$2" -lt 33554432 ] && inode_opt="$inode_opt -O ^has_journal"
	truncate -s "$2" "$1/rootfs.ext4.tmp"
	# shellcheck disable=SC2086 # inode_opt is empty or options to split
	E2FSPROGS_FAKE_TIME=$BENCH_EPOCH SOURCE_DATE_EPOCH=$BENCH_EPOCH \
		mkfs.ext4 -q -F -T default $inode_opt -U "$BENCH_FS_UUID" \
		-E "root_owner=0:0,hash_seed=$BENCH_FS_UUID" -d "$stage" "$1/rootfs.ext4.tmp" 2>"$1/mkfs.log"
	mkfs_rc=$?
	rm -rf "$stage"
	return $mkfs_rc
}

# fs_compressed NAME BYTES: the three compressed copies of $W/NAME/rootfs.ext4
# and an image for each in $W/NAME/{gzip,zstd,xz}/. xz (slow to make) runs
# beside the others; -T1 keeps it one block, so decoding is single-threaded
# as on a device.
fs_compressed() {
	d=$W/$1
	f=$d/rootfs.ext4
	[ -s "$f.xz" ] || { xz -6 -T1 -c "$f" >"$f.xz.tmp" && mv "$f.xz.tmp" "$f.xz"; } &
	xz_pid=$!
	[ -s "$f.gz" ] || { gzip -6 -n -c "$f" >"$f.gz.tmp" && mv "$f.gz.tmp" "$f.gz"; }
	[ -s "$f.zst" ] || { zstd -3 -q -c "$f" >"$f.zst.tmp" && mv "$f.zst.tmp" "$f.zst"; }
	wait "$xz_pid"
	for v in gzip:gz:zlib zstd:zst:zstd xz:xz:xz; do
		IFS=: read -r name ext comp <<EOF
$v
EOF
		[ -s "$f.$ext" ] || return 1
		mkdir -p "$d/$name"
		ln -f "$f.$ext" "$d/$name/rootfs.ext4.$ext"
		make_swu "$d/$name" "rootfs.ext4.$ext" "$comp" "$d/target" || return 1
	done
	target_file "$d" "$2" && scrub_file "$d" "$2"
}
