#!/bin/sh
# The archive handler through real signed images: tarballs (plain, or
# compressed by themselves or through sw-description's `compressed`)
# unpacked into a directory of the simulated device, compared with the
# tree they were made from; tarballs that try to write outside the
# destination refused (exit 3: the image is malformed), nothing written
# outside, the boot selection unchanged. Against Debian's swupdate where
# it can run (lib.sh, "the oracle"): the same tree for a good tarball; for
# a tarball with a '..' entry, swupdate writes outside, swinstall refuses.
#
# Usage: SWINSTALL=build/swinstall sh test/integration/test_archive.sh
. "$(dirname "$0")/lib.sh"

t_init

# src_tree DIR: a small tree: files, a directory, an executable, a
# relative symbolic link and a hard link.
src_tree() {
	mkdir -p "$1/etc/app" "$1/usr/bin"
	printf 'mode=production\n' >"$1/etc/app/app.conf"
	printf '#!/bin/sh\necho hello\n' >"$1/usr/bin/hello"
	chmod 755 "$1/usr/bin/hello"
	mk_data "$1/usr/bin/blob" 200K blob
	ln -s ../etc/app/app.conf "$1/usr/app.conf"
	ln "$1/usr/bin/blob" "$1/usr/bin/blob.hard"
}

# listing DIR: every path below DIR with its type and mode, sorted.
listing() {
	(cd "$1" && find . -printf '%p %y %m %l\n' | sort)
}

# expect_same_tree SRC DEST: the same names, types, modes, link targets
# and contents.
expect_same_tree() {
	listing "$1" >"$CASE/src.list"
	listing "$2" >"$CASE/dest.list"
	diff "$CASE/src.list" "$CASE/dest.list" >"$CASE/list.diff" ||
		fail "the trees differ (< source, > installed): $(head -n 6 "$CASE/list.diff")"
	diff -r --no-dereference "$1" "$2" >/dev/null || fail "contents differ: $(diff -rq "$1" "$2" | head -n 3)"
}

# archive_image TARBALL [EXTRA-ATTRS] [TYPE]: u.swu with one files entry
# unpacking w/TARBALL into $DEV/rootfs/opt (created).
archive_image() {
	desc_images w files "$1" "type = \"${3:-archive}\"; path = \"$DEV/rootfs/opt\"; create-destination = true; ${2:-}"
	mk_swu u.swu cms crc w "$1"
}

# installs TARBALL-MAKER SUFFIX [EXTRA-ATTRS] [TYPE]: a tarball of the tree
# made with the command TARBALL-MAKER (tar's output on stdout) installs.
installs() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	src_tree src
	(cd src && tar -cf - .) | $1 >"w/tree.$2"
	archive_image "tree.$2" "${3:-}" "${4:-archive}"
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_same_tree src "$DEV/rootfs/opt"
	expect_slots_untouched "$DEV"
	expect_committed "$DEV" 3
}

case_tar() { installs cat tar; }
case_tar_alias() { installs cat tar "" tar; }
case_tar_gz() { installs "gzip -n" tar.gz; }
case_tar_xz() { installs xz tar.xz; }
case_tar_zst() { installs "zstd -q" tar.zst; }
case_tar_bz2() { installs bzip2 tar.bz2; }
case_compressed_zlib() { installs "gzip -n" tar.gz 'compressed = "zlib";'; }
case_compressed_zstd() { installs "zstd -q" tar.zst 'compressed = "zstd";'; }

case_preserve_attributes() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	src_tree src
	chmod 4750 src/usr/bin/hello
	touch -d '2001-09-09 01:46:40' src/etc/app/app.conf
	(cd src && tar --numeric-owner --owner=4242 --group=4243 -cf - .) >w/tree.tar
	archive_image tree.tar "preserve-attributes = true;"
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_same_tree src "$DEV/rootfs/opt"
	[ "$(stat -c %Y "$DEV/rootfs/opt/etc/app/app.conf")" = 1000000000 ] || fail "time not kept"
	if [ "$(id -u)" -eq 0 ]; then
		[ "$(stat -c %u:%g "$DEV/rootfs/opt/usr/bin/hello")" = 4242:4243 ] ||
			fail "owner not kept: $(stat -c %u:%g "$DEV/rootfs/opt/usr/bin/hello")"
	else
		echo "not root: owners not checked"
	fi
	expect_committed "$DEV" 3
}

# The destination is $DEV/rootfs/opt; $DEV/rootfs/outside, next to it, is
# where the tarballs below try to write.
OUTSIDE_REL=../outside

# evil_tar OUT KIND: a tarball with one way out (python's tarfile writes
# what tar would not), after a harmless first entry.
evil_tar() {
	python3 - "$1" "$2" "$DEV/rootfs/outside" <<'EOF'
import io, sys, tarfile
out, kind, outside = sys.argv[1:]
def member(name, kind=tarfile.REGTYPE, data=b"", link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.size, ti.linkname, ti.mode = kind, len(data), link, 0o644
    return ti, io.BytesIO(data)
entries = [member("ok.txt", data=b"fine\n")]
if kind == "dotdot":
    entries.append(member("../outside/x", data=b"escaped\n"))
elif kind == "deep-dotdot":
    entries.append(member("a/../../outside/x", data=b"escaped\n"))
elif kind == "absolute":
    entries.append(member(outside + "/x", data=b"escaped\n"))
elif kind == "symlink":
    entries.append(member("evil", tarfile.SYMTYPE, link=outside))
    entries.append(member("evil/x", data=b"escaped\n"))
elif kind == "symlink-etc":
    entries.append(member("evil", tarfile.SYMTYPE, link="/etc"))
    entries.append(member("evil/swinstall-test-passwd", data=b"escaped\n"))
elif kind == "symlink-up":
    entries.append(member("evil", tarfile.SYMTYPE, link="../../.."))
elif kind == "hardlink":
    entries.append(member("h", tarfile.LNKTYPE, link="../outside/secret"))
elif kind == "hardlink-abs":
    entries.append(member("h", tarfile.LNKTYPE, link="/etc/passwd"))
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for ti, data in entries:
        t.addfile(ti, data)
EOF
}

# expect_nothing_outside: $DEV/rootfs holds only the destination and
# the sentinel, which holds only what it held.
expect_nothing_outside() {
	[ "$(ls -A "$DEV/rootfs" | tr '\n' ' ')" = "opt outside " ] ||
		fail "written next to the destination: $(ls -A "$DEV/rootfs" | tr '\n' ' ')"
	[ "$(ls -A "$DEV/rootfs/outside")" = secret ] ||
		fail "written outside: $(ls -A "$DEV/rootfs/outside" | tr '\n' ' ')"
	[ ! -e /etc/swinstall-test-passwd ] || fail "written into /etc"
}

# refused KIND ENTRY: the tarball of evil_tar KIND is refused at ENTRY.
refused() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w "$DEV/rootfs/outside"
	echo "keep" >"$DEV/rootfs/outside/secret"
	evil_tar w/evil.tar "$1" || fail "python3 could not make the tarball"
	archive_image evil.tar
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err "evil.tar: entry '$2'"
	expect_nothing_outside
	expect_safe_failure "$DEV"
}

case_refuse_dotdot() { refused dotdot $OUTSIDE_REL/x; }
case_refuse_deep_dotdot() { refused deep-dotdot a/../$OUTSIDE_REL/x; }
case_refuse_absolute() { refused absolute "$CASE/dev/rootfs/outside/x"; }
case_refuse_symlink() { refused symlink evil; }
case_refuse_symlink_etc() { refused symlink-etc evil; }
case_refuse_symlink_up() { refused symlink-up evil; }
case_refuse_hardlink() { refused hardlink h; }
case_refuse_hardlink_abs() { refused hardlink-abs h; }

# A link already in the destination, pointing out: no entry goes through
# it (a directory entry of the same name replaces the link instead).
# through_existing_link WHAT: an image of WHAT of the tree (tar's names)
# installed into a destination holding the link etc -> ../outside.
through_existing_link() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p w "$DEV/rootfs/outside" "$DEV/rootfs/opt"
	echo "keep" >"$DEV/rootfs/outside/secret"
	ln -s ../outside "$DEV/rootfs/opt/etc"
	src_tree src
	(cd src && tar -cf - "$1") >w/tree.tar
	archive_image tree.tar
	swi "$DEV" -i u.swu
}

case_refuse_existing_link() {
	through_existing_link ./etc/app/app.conf
	expect_rc 3
	expect_err "tree.tar: entry './etc/app/app.conf' goes through the symbolic link 'etc'"
	expect_nothing_outside
	expect_safe_failure "$DEV"
}

case_directory_replaces_existing_link() {
	through_existing_link .
	expect_rc 0
	expect_nothing_outside
	expect_same_tree src "$DEV/rootfs/opt"
}

case_missing_destination() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	src_tree src
	(cd src && tar -cf - .) >w/tree.tar
	desc_images w files tree.tar "type = \"archive\"; path = \"$DEV/rootfs/none\";"
	mk_swu u.swu cms crc w tree.tar
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_err "destination directory $DEV/rootfs/none does not exist"
	expect_device_untouched "$DEV"
}

run_case "archive: plain tar" case_tar
run_case "archive: type \"tar\" is the same handler" case_tar_alias
run_case "archive: tar.gz" case_tar_gz
run_case "archive: tar.xz" case_tar_xz
run_case "archive: tar.zst" case_tar_zst
run_case "archive: tar.bz2" case_tar_bz2
run_case "archive: tar.gz with compressed = \"zlib\"" case_compressed_zlib
run_case "archive: tar.zst with compressed = \"zstd\"" case_compressed_zstd
run_case "archive: preserve-attributes keeps modes, times (and owners as root)" case_preserve_attributes
run_case "archive: '../' entry refused" case_refuse_dotdot
run_case "archive: 'a/../../' entry refused" case_refuse_deep_dotdot
run_case "archive: absolute entry refused" case_refuse_absolute
run_case "archive: symlink out, then a file through it, refused" case_refuse_symlink
run_case "archive: symlink to /etc refused" case_refuse_symlink_etc
run_case "archive: symlink climbing out refused" case_refuse_symlink_up
run_case "archive: hard link to ../ refused" case_refuse_hardlink
run_case "archive: hard link to /etc/passwd refused" case_refuse_hardlink_abs
run_case "archive: no entry through a link already in the destination" case_refuse_existing_link
run_case "archive: a directory entry replaces a link already there" case_directory_replaces_existing_link
run_case "archive: a missing destination without create-destination fails" case_missing_destination

# ------------------------------------------------- against Debian's swupdate

# oracle_device: the device anew for swupdate's run.
oracle_device() {
	rm -rf "$DEV"
	make_device "$DEV"
	mkdir -p "$DEV/rootfs/opt" "$DEV/rootfs/outside"
	echo "keep" >"$DEV/rootfs/outside/secret"
}

case_oracle_same_tree() {
	DEV=$CASE/dev
	mkdir w
	src_tree src
	(cd src && tar -cf - .) | gzip -n >w/tree.tar.gz
	archive_image tree.tar.gz
	oracle_install oracle_device u.swu -k "$KEYS/ca.pem" -H myboard:1.0 -B uboot
	[ "$ORACLE_RC" -eq 0 ] || fail "swupdate failed: $(grep ERROR "$CASE/swupdate.log" | head -n 3)"
	mv "$DEV/rootfs/opt" "$CASE/swupdate-tree"
	oracle_device
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_same_tree "$CASE/swupdate-tree" "$DEV/rootfs/opt"
}

# The deliberate difference: swupdate (2022.12) writes a '../' entry
# outside the destination; swinstall refuses the image.
case_oracle_dotdot() {
	DEV=$CASE/dev
	mkdir w
	evil_tar w/evil.tar dotdot || fail "python3 could not make the tarball"
	archive_image evil.tar
	EXPECT_ORACLE_FAIL=1 oracle_install oracle_device u.swu -k "$KEYS/ca.pem" -H myboard:1.0 -B uboot
	if [ -e "$DEV/rootfs/outside/x" ]; then
		echo "swupdate wrote $DEV/rootfs/outside/x (exit $ORACLE_RC): outside the destination"
	else
		echo "swupdate did not write outside (exit $ORACLE_RC)"
	fi
	oracle_device
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_nothing_outside
}

if why=$(oracle_unusable); then
	echo "ok - archive: against swupdate # SKIP $why"
elif oracle_begin "${ORACLE_LOCK_WAIT:-120}"; then
	run_case "archive: swupdate and swinstall unpack the same tree" case_oracle_same_tree
	run_case "archive: '../' entry: swupdate writes outside, swinstall refuses" case_oracle_dotdot
	oracle_end
else
	echo "ok - archive: against swupdate # SKIP $ORACLE_LOCK still held after ${ORACLE_LOCK_WAIT:-120} s"
fi

t_done
