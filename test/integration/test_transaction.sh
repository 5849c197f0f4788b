#!/bin/sh
# The transaction's promise on the simulated A/B device: one lock for every
# command that writes, the boot selection never left on a slot being
# written, the commit selecting the slot it wrote, nothing-to-install
# refused, rollback only to something, rawfile's files staged until the
# commit, signals turned into a clean failure, the exit code naming the
# image when the image was the cause, and the command line's smaller
# promises. Each case names the point of the promise it shows.
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

# slotted_device DIR: make_device plus slots (A running, per the kernel
# command line) and an empty mount table.
slotted_device() {
	make_device "$1" || return 1
	echo "quiet swinstall.slot=A" >"$1/cmdline"
	: >"$1/mountinfo"
	slot_settings "$1" >>"$1/swinstall.conf"
	snapshot "$1"
}

# slow_feed FILE: FILE on standard output, 64 KiB every 0.05 s (a slow
# download: an install reading it takes a while).
slow_feed() {
	size=$(wc -c <"$1")
	pos=0
	while [ "$pos" -lt "$size" ]; do
		dd if="$1" bs=65536 iflag=skip_bytes,count_bytes skip="$pos" count=65536 2>/dev/null ||
			return 0
		sleep 0.05
		pos=$((pos + 65536))
	done
}

# slow_install DEV IMAGE [ARGS]: starts an install of IMAGE fed slowly in
# the background; SLOW_PID is swinstall's pid, its output in $CASE/slow.*.
slow_install() {
	dev=$1 img=$2
	shift 2
	rm -f "$CASE/slow.fifo"
	mkfifo "$CASE/slow.fifo"
	slow_feed "$img" >"$CASE/slow.fifo" &
	"$SWINSTALL" -f "$dev/swinstall.conf" "$@" -i - <"$CASE/slow.fifo" >"$CASE/slow.out" 2>"$CASE/slow.err" &
	SLOW_PID=$!
}

# slow_wait: waits for the slow install; SLOW_RC is its exit status.
slow_wait() {
	wait "$SLOW_PID"
	SLOW_RC=$?
	sed 's/^/  slow install: /' "$CASE/slow.err"
}

# wait_for COMMAND...: until COMMAND succeeds (at most 20 s).
wait_for() {
	n=0
	until "$@"; do
		n=$((n + 1))
		[ "$n" -lt 200 ] || return 1
		sleep 0.1
	done
}

# hold_lock FILE: another process holds the flock lock on FILE until
# release_lock (the locking process is the holder itself: killing it frees
# the lock).
hold_lock() {
	(flock 9 && exec sleep 60) 9>"$1" &
	HOLDER=$!
	wait_for flock_held "$1" || fail "the lock could not be taken"
}

flock_held() {
	! flock -n "$1" true
}

release_lock() {
	kill "$HOLDER" 2>/dev/null
	wait "$HOLDER" 2>/dev/null || :
}

in_progress() {
	[ "$(env_get "$1" recovery_status)" = in_progress ]
}

# big_image OUT: an A/B image whose slot B payload (3 MiB) takes a slow
# feed about 2.5 s.
big_image() {
	ab_image "$1" cms crc 3M
}

# ---------------------------------------------------------- 1. the lock

# Two installs 2 s apart into slot B: the second is refused at once (exit
# 5, naming the holder), the first installs its own bytes.
case_lock_second_install_refused() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	big_image u.swu
	slow_install "$DEV" u.swu
	wait_for in_progress "$DEV" || fail "the first install never started"
	mkdir w2
	mk_data w2/rootfs.img 3M other
	swdesc_ab w2 rootfs.img
	mk_swu u2.swu cms crc w2 rootfs.img
	start=$(date +%s)
	swi "$DEV" -i u2.swu
	expect_rc 5
	expect_err "holds the lock"
	expect_err "pid $SLOW_PID"
	[ $(($(date +%s) - start)) -le 2 ] || fail "the second install did not refuse at once"
	slow_wait
	[ "$SLOW_RC" -eq 0 ] || fail "the first install failed (exit $SLOW_RC)"
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_committed "$DEV" 3
}

# A rollback during an install is refused; the install commits.
case_lock_rollback_during_install() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	big_image u.swu
	slow_install "$DEV" u.swu
	wait_for in_progress "$DEV" || fail "the install never started"
	swi "$DEV" rollback
	expect_rc 5
	swi "$DEV" mark-good
	expect_rc 5
	slow_wait
	[ "$SLOW_RC" -eq 0 ] || fail "the install failed (exit $SLOW_RC)"
	expect_committed "$DEV" 3
}

# --wait waits for the holder, then runs.
case_lock_wait() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	big_image u.swu
	slow_install "$DEV" u.swu
	wait_for in_progress "$DEV" || fail "the install never started"
	swi "$DEV" --wait=60 rollback
	expect_rc 0
	slow_wait
	[ "$SLOW_RC" -eq 0 ] || fail "the install failed (exit $SLOW_RC)"
	# The rollback came after the commit: slot A boots again.
	expect_env "$DEV" rootpart 2
	expect_env "$DEV" ustate 3
	# A bounded wait that runs out says how long it waited.
	hold_lock "$DEV/swinstall.lock"
	swi "$DEV" --wait=1 rollback
	release_lock
	expect_rc 5
	expect_err "after 1 s"
}

# Read-only commands take no lock: status, -c and -n run while it is held.
case_lock_read_only_commands() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	ab_image u.swu cms crc
	hold_lock "$DEV/swinstall.lock"
	swi "$DEV" status
	expect_rc 0
	swi "$DEV" -c -i u.swu
	expect_rc 0
	swi "$DEV" -n -i u.swu
	expect_rc 0
	swi "$DEV" -i u.swu
	expect_rc 5
	release_lock
	expect_device_untouched "$DEV"
}

# A killed holder leaves no lock behind: the next install runs at once.
case_lock_killed_holder() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	big_image u.swu
	slow_install "$DEV" u.swu
	wait_for in_progress "$DEV" || fail "the install never started"
	kill -KILL "$SLOW_PID"
	slow_wait
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
}

# Without lock-file in the configuration, the lock is /run/swinstall.lock.
case_lock_default_path() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	sed -i '/^lock-file/d' "$DEV/swinstall.conf"
	[ -d /run ] || fail "no /run on this machine"
	hold_lock /run/swinstall.lock
	swi "$DEV" rollback
	release_lock
	expect_rc 5
	expect_err "/run/swinstall.lock"
}

# ---------------------------------------------- 2. a second update

# After a good install (B boots next, ustate=1), a second install into B
# that fails half-way leaves slot A selected, not the damaged B.
case_second_update_fails() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
	mkdir w2
	mk_data w2/rootfs.img 300K second
	swdesc_ab w2 rootfs.img
	mk_swu u2.swu cms crc w2 rootfs.img
	flip_data u2.swu rootfs.img 299000
	swi "$DEV" -i u2.swu
	expect_rc 3
	expect_env "$DEV" rootpart 2
	expect_env "$DEV" recovery_status failed
	expect_env "$DEV" ustate 3
	expect_slot_a_untouched "$DEV"
	swi "$DEV" status
	grep -q "^next boot: *A" "$CASE/out" || fail "status does not say A boots next: $(cat "$CASE/out")"
	# B holds a part of the second image: nothing to roll back to.
	swi "$DEV" rollback
	expect_rc 6
}

# The first environment write of an install also clears boot counting:
# a running slot on trial is not left counting towards a fallback into the
# slot being written.
case_first_write_clears_boot_counting() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	fw_setenv -c "$DEV/fw_env.config" ustate 2 || fail "fw_setenv failed"
	fw_setenv -c "$DEV/fw_env.config" upgrade_available 1 || fail "fw_setenv failed"
	fw_setenv -c "$DEV/fw_env.config" bootcount 2 || fail "fw_setenv failed"
	ab_image u.swu cms crc
	flip_data u.swu rootfs.img 299000
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_env "$DEV" rootpart 2
	expect_env "$DEV" upgrade_available 0
	expect_env "$DEV" bootcount 0
}

# ------------------------------------ 3. the commit selects the written slot

# Slots configured, an image without bootenv: the commit applies slot B's
# variables; mark-good after the reboot confirms B.
case_commit_selects_written_slot() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 300K plain
	swdesc_ab w rootfs.img
	sed -i '/bootenv: (/,/);/d' w/sw-description
	grep -q bootenv w/sw-description && fail "the test image still has bootenv"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
	swi "$DEV" status
	grep -q "^next boot: *B" "$CASE/out" || fail "status does not say B boots next"
	echo "quiet swinstall.slot=B" >"$DEV/cmdline"
	swi "$DEV" mark-good
	expect_rc 0
	expect_env "$DEV" rootpart 3
	expect_env "$DEV" ustate 0
}

# ---------------------------------------------- 4. nothing to install

# No slots, no -e, an image with only stable.copy1/copy2: refused with exit
# 4 by install, -c and -n alike, naming the selections; nothing written.
case_nothing_without_selection() {
	DEV=$CASE/dev
	make_device "$DEV"
	ab_image u.swu cms crc
	for how in "" -c -n; do
		# shellcheck disable=SC2086 # an empty $how is no argument
		swi "$DEV" $how -i u.swu
		expect_rc 4
		expect_err "nothing to install"
		expect_err "stable,copy1 stable,copy2"
	done
	expect_device_untouched "$DEV"
}

# An image for another board only: refused with exit 4.
case_nothing_for_this_board() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K board
	cat >w/sw-description <<EOF
software = {
	version = "2.0";
	otherboard = {
		images = ( { filename = "rootfs.img"; device = "$DEV/slotB.img";
			     sha256 = "$(sha w/rootfs.img)"; } );
	};
};
EOF
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 4
	expect_err "nothing to install"
	expect_device_untouched "$DEV"
}

# Everything installed already (install-if-different): exit 0, says so,
# and writes nothing (no ustate=1).
case_nothing_left_to_do() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	mk_data w/rootfs.img 100K same
	desc_images w images rootfs.img "device = \"$DEV/slotB.img\"; name = \"rootfs\"; version = \"1.0.0\"; install-if-different = true;"
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 0
	grep -q "nothing to do" "$CASE/out" || fail "it does not say there was nothing to do: $(cat "$CASE/out")"
	expect_device_untouched "$DEV"
}

# ------------------------------------------------------ 5. rollback

# A fresh device: nothing to roll back to (exit 6), status says so,
# --force switches anyway.
case_rollback_fresh_device() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	swi "$DEV" status
	grep -q "^rollback: *not possible" "$CASE/out" || fail "status: $(cat "$CASE/out")"
	swi "$DEV" rollback
	expect_rc 6
	expect_err "nothing to roll back to"
	expect_device_untouched "$DEV"
	swi "$DEV" --force rollback
	expect_rc 0
	expect_env "$DEV" rootpart 3
}

# After an install: pending, so a rollback goes back to A; after mark-good
# on B, A still holds the complete system B replaced.
case_rollback_after_install() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
	swi "$DEV" status
	grep -q "^rollback: *possible" "$CASE/out" || fail "status: $(cat "$CASE/out")"
	echo "quiet swinstall.slot=B" >"$DEV/cmdline"
	swi "$DEV" mark-good
	expect_rc 0
	swi "$DEV" rollback
	expect_rc 0
	expect_env "$DEV" rootpart 2
}

# -------------------------------------------- 6. where a target may be

# With slots, a device that is neither the slot installed nor listed in
# extra-targets is refused by name; listed, it is written.
case_target_not_listed() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	yes "boot partition " | head -c 1M >"$DEV/boot.img"
	cp "$DEV/boot.img" boot.orig
	mkdir w
	mk_data w/rootfs.img 100K root
	mk_data w/boot.bin 10K boot
	cat >w/sw-description <<EOF
software = {
	version = "2.0";
	hardware-compatibility = [ "1.0" ];
	stable = { copy2 = { images = (
		{ filename = "rootfs.img"; device = "$DEV/slotB.img"; sha256 = "$(sha w/rootfs.img)"; },
		{ filename = "boot.bin"; device = "$DEV/boot.img"; sha256 = "$(sha w/boot.bin)"; }
	); }; };
};
EOF
	mk_swu u.swu cms crc w rootfs.img boot.bin
	swi "$DEV" -i u.swu
	expect_rc 4
	expect_err "$DEV/boot.img"
	expect_err "extra-targets"
	expect_device_untouched "$DEV"
	cmp -s "$DEV/boot.img" boot.orig || fail "boot.img was written"
	echo "extra-targets = [ \"$DEV/boot.img\" ];" >>"$DEV/swinstall.conf"
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/boot.img" 0 w/boot.bin
	expect_committed "$DEV" 3
}

# ------------------------------- 7. rawfile stages, the commit publishes

# rawfile_image OUT: a 2 MiB file for $DEV/etc/app.bin, then slot B.
rawfile_image() {
	mkdir -p w
	mk_data w/app.bin 2M app
	mk_data w/rootfs.img 300K root
	cat >w/sw-description <<EOF
software = {
	version = "2.0";
	hardware-compatibility = [ "1.0" ];
	stable = { copy2 = {
		files = ( { filename = "app.bin"; path = "$DEV/etc/app.bin"; sha256 = "$(sha w/app.bin)"; } );
		images = ( { filename = "rootfs.img"; device = "$DEV/slotB.img"; sha256 = "$(sha w/rootfs.img)"; } );
	}; };
};
EOF
	mk_swu "$1" cms crc w app.bin rootfs.img
}

old_app() {
	mkdir -p "$DEV/etc"
	yes "old app " | head -c 1000 >"$DEV/etc/app.bin"
	cp "$DEV/etc/app.bin" app.orig
	chown 1234:5678 "$DEV/etc/app.bin"
	chmod 4755 "$DEV/etc/app.bin"
}

staged_files() {
	find "$DEV/etc" -name '.app.bin.swinstall-*'
}

has_staged_file() {
	[ -n "$(staged_files)" ]
}

# A failure after the file's own hash verified (a later artifact is
# tampered) leaves the file as it was: content, owner, mode.
case_rawfile_kept_on_failure() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	old_app
	rawfile_image u.swu
	flip_data u.swu rootfs.img 1000
	swi "$DEV" -i u.swu
	expect_rc 3
	cmp -s "$DEV/etc/app.bin" app.orig || fail "app.bin was replaced by a failed install"
	[ "$(stat -c '%a %u %g' "$DEV/etc/app.bin")" = "4755 1234 5678" ] || fail "app.bin's metadata changed"
	[ -z "$(staged_files)" ] || fail "staged files left: $(staged_files)"
	expect_env "$DEV" rootpart 2
}

# While the bytes stream they sit in a 0600 file of the installer's; the
# old file's owner and set-user-ID mode come only with the verified file.
case_rawfile_staged_mode() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	old_app
	rawfile_image u.swu
	slow_install "$DEV" u.swu
	wait_for has_staged_file || fail "no staged file appeared"
	staged=$(staged_files)
	mode=$(stat -c '%a %u' "$staged")
	[ "$mode" = "600 0" ] || fail "the staged file is '$mode' while unverified"
	cmp -s "$DEV/etc/app.bin" app.orig || fail "app.bin was replaced before the commit"
	slow_wait
	[ "$SLOW_RC" -eq 0 ] || fail "the install failed (exit $SLOW_RC)"
	cmp -s "$DEV/etc/app.bin" w/app.bin || fail "app.bin does not hold the new bytes"
	[ "$(stat -c '%a %u %g' "$DEV/etc/app.bin")" = "4755 1234 5678" ] ||
		fail "app.bin got $(stat -c '%a %u %g' "$DEV/etc/app.bin")"
	[ -z "$(staged_files)" ] || fail "staged files left"
	expect_committed "$DEV" 3
}

# No symbolic link is followed on the way to a file.
case_rawfile_no_symlinks() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	mkdir -p "$CASE/elsewhere"
	ln -s "$CASE/elsewhere" "$DEV/etc"
	rawfile_image u.swu
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_err "symbolic link"
	[ -z "$(ls -A "$CASE/elsewhere")" ] || fail "a file was written through the link"
	expect_device_untouched "$DEV"
}

# --------------------------------------------------------- 8. signals

# SIGINT, SIGTERM and SIGHUP: the install stops, says so, exits 1, records
# the failure, removes its staged file and frees the lock.
signal_case() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	old_app
	rawfile_image u.swu
	slow_install "$DEV" u.swu
	wait_for has_staged_file || fail "no staged file appeared"
	kill "-$1" "$SLOW_PID"
	slow_wait
	[ "$SLOW_RC" -eq 1 ] || fail "exit $SLOW_RC after SIG$1"
	grep -q "interrupted by SIG$1" "$CASE/slow.err" || fail "it does not say it was interrupted"
	expect_env "$DEV" recovery_status failed
	expect_env "$DEV" ustate 3
	expect_env "$DEV" rootpart 2
	expect_slot_a_untouched "$DEV"
	[ -z "$(staged_files)" ] || fail "staged files left: $(staged_files)"
	cmp -s "$DEV/etc/app.bin" app.orig || fail "app.bin changed"
	swi "$DEV" -i u.swu
	expect_rc 0
}
case_sigterm() { signal_case TERM; }
case_sigint() { signal_case INT; }
case_sighup() { signal_case HUP; }

# What a SIGKILL (or a power cut) leaves, the next command removes first.
case_sigkill_leftovers_removed() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	old_app
	rawfile_image u.swu
	slow_install "$DEV" u.swu
	wait_for has_staged_file || fail "no staged file appeared"
	kill -KILL "$SLOW_PID"
	slow_wait
	[ -n "$(staged_files)" ] || fail "the kill left no staged file: the case shows nothing"
	swi "$DEV" -v rollback
	grep -q "left by an interrupted install" "$CASE/err" || fail "it does not say what it removed"
	[ -z "$(staged_files)" ] || fail "the leftover is still there"
	[ ! -e "$DEV/state/staged-files" ] || fail "the journal is still there"
	cmp -s "$DEV/etc/app.bin" app.orig || fail "app.bin changed"
}

# ------------------------------------------- 9. the exit code names the cause

# bomb_image OUT SHA: a 64 MiB zstd bomb (a few KiB) for slot B (4 MiB),
# declared with sha256 SHA.
bomb_image() {
	mkdir -p w
	head -c 64M /dev/zero | zstd -q -19 -c >w/rootfs.img.zst
	cat >w/sw-description <<EOF
software = {
	version = "2.0";
	hardware-compatibility = [ "1.0" ];
	stable = { copy2 = { images = ( { filename = "rootfs.img.zst"; device = "$DEV/slotB.img";
		compressed = "zstd"; sha256 = "$2"; } ); }; };
};
EOF
	mk_swu "$1" cms crc w rootfs.img.zst
}

# The artifact swapped for a bomb: writing fails, but the image is the
# cause: exit 3, the hash mismatch named.
case_bomb_blames_image() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	bomb_image u.swu "$(printf 'the real artifact' | openssl dgst -sha256 -r | cut -d' ' -f1)"
	[ "$(wc -c <u.swu)" -lt 100000 ] || fail "the bomb image is not small"
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err "sha256 mismatch"
	expect_err "writing it had failed"
	expect_slot_a_untouched "$DEV"
	expect_env "$DEV" rootpart 2
}

# The same bytes, signed as they are: the image is authentic, the target
# too small: exit 1.
case_bomb_signed_blames_target() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	mkdir -p w
	head -c 64M /dev/zero | zstd -q -19 -c >w/rootfs.img.zst
	bomb_image u.swu "$(sha w/rootfs.img.zst)"
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_err "past the end"
	expect_env "$DEV" rootpart 2
}

# A bad bootenv name is refused in the plan, before slot B is written.
case_bad_bootenv_name() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	ab_image u.swu cms crc
	sed -i 's/{ name = "rootpart"; value = "3"; }/{ name = "root=part"; value = "3"; }/' w/sw-description
	mk_swu u.swu cms crc w rootfs.img
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err "root=part"
	expect_device_untouched "$DEV"
}

# A rawfile stops before its file system falls under the reserve: exit 1.
case_rawfile_reserve() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	old_app
	echo 'min-free-space = "100%";' >>"$DEV/swinstall.conf"
	rawfile_image u.swu
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_err "min-free-space"
	cmp -s "$DEV/etc/app.bin" app.orig || fail "app.bin changed"
	[ -z "$(staged_files)" ] || fail "staged files left"
}

# ---------------------------------------------- 11. the command line

# "swinstall FILE" installs, as "install FILE" does; "-" reads stdin.
case_bare_file_argument() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	ab_image u.swu cms crc
	swi "$DEV" u.swu
	expect_installed_in_b "$DEV"
	grep -q "update installed" "$CASE/out" || fail "no result line"
	DEV=$CASE/dev2
	slotted_device "$DEV"
	ab_image u2.swu cms crc
	"$SWINSTALL" -f "$DEV/swinstall.conf" - <u2.swu >"$CASE/out" 2>"$CASE/err"
	SWI_RC=$?
	expect_installed_in_b "$DEV"
	swi "$DEV" no-such-file.swu
	expect_rc 2
	expect_err "neither a command nor an image file"
}

# Option errors name the program "swinstall", not its path; -K takes a file.
case_option_messages() {
	"$SWINSTALL" --bogus >"$CASE/out" 2>"$CASE/err"
	[ $? -eq 2 ] || fail "unknown option: not exit 2"
	grep -q "^swinstall: unknown option --bogus" "$CASE/err" || fail "message: $(cat "$CASE/err")"
	grep -q "/swinstall" "$CASE/err" && fail "the message names the program's path"
	"$SWINSTALL" -f >"$CASE/out" 2>"$CASE/err"
	[ $? -eq 2 ] || fail "missing value: not exit 2"
	grep -q "^swinstall: option -f needs a value" "$CASE/err" || fail "message: $(cat "$CASE/err")"
	"$SWINSTALL" -K >"$CASE/out" 2>"$CASE/err"
	[ $? -eq 2 ] || fail "-K without a file: not exit 2"
	grep -q "^swinstall: option -K needs a value" "$CASE/err" || fail "message: $(cat "$CASE/err")"
}

# type = "bootloader" under files says where it belongs.
case_bootloader_under_files() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	printf 'a=1\n' >w/env.txt
	desc_images w files env.txt 'type = "bootloader";'
	mk_swu u.swu cms crc w env.txt
	swi "$DEV" -i u.swu
	expect_rc 4
	expect_err "images"
	expect_device_untouched "$DEV"
}

# Control characters of a member name are escaped in messages.
case_control_characters_escaped() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir w
	name=$(printf 'evil\033[2Jname')
	mk_data "w/$name" 10K evil
	cat >w/sw-description <<EOF
software = {
	version = "2.0";
	hardware-compatibility = [ "1.0" ];
	images = ( { filename = "evil\\x1b[2Jname"; device = "$DEV/slotB.img";
		     sha256 = "0000000000000000000000000000000000000000000000000000000000000000"; } );
};
EOF
	mk_swu u.swu cms crc w "$name"
	swi "$DEV" -i u.swu
	expect_rc 3
	expect_err 'evil\x1b[2Jname'
	if grep -q "$(printf '\033')" "$CASE/err"; then
		fail "an escape character reached the terminal"
	fi
}

t_init
for tool in flock mkfifo zstd fw_setenv; do
	command -v "$tool" >/dev/null 2>&1 || t_skip_all "$tool is not installed"
done
run_case "1. lock: a second install is refused at once (5), the first installs its bytes" case_lock_second_install_refused
run_case "1. lock: rollback and mark-good during an install refused (5)" case_lock_rollback_during_install
run_case "1. lock: --wait waits for the holder; a bounded wait says how long" case_lock_wait
run_case "1. lock: status, -c and -n take no lock" case_lock_read_only_commands
run_case "1. lock: a killed holder leaves no lock" case_lock_killed_holder
run_case "1. lock: /run/swinstall.lock by default" case_lock_default_path
run_case "2. a second install into B failing half-way leaves A selected" case_second_update_fails
run_case "2. the first write clears boot counting of the running slot" case_first_write_clears_boot_counting
run_case "3. the commit selects the slot written, without bootenv in the image" case_commit_selects_written_slot
run_case "4. no selection, no slots: nothing to install (4) for install, -c and -n" case_nothing_without_selection
run_case "4. an image for another board: nothing to install (4)" case_nothing_for_this_board
run_case "4. everything installed already: exit 0, nothing written" case_nothing_left_to_do
run_case "5. rollback on a fresh device refused (6); --force switches" case_rollback_fresh_device
run_case "5. rollback after an install, and after mark-good" case_rollback_after_install
run_case "6. a target neither the slot nor in extra-targets refused (4)" case_target_not_listed
run_case "7. rawfile: a failed install leaves the file as it was" case_rawfile_kept_on_failure
run_case "7. rawfile: staged 0600 while unverified; owner and setuid mode after" case_rawfile_staged_mode
run_case "7. rawfile: no symbolic link followed" case_rawfile_no_symlinks
run_case "8. SIGTERM: exit 1, failure recorded, staged file removed" case_sigterm
run_case "8. SIGINT: exit 1, failure recorded, staged file removed" case_sigint
run_case "8. SIGHUP: exit 1, failure recorded, staged file removed" case_sighup
run_case "8. SIGKILL's leftovers removed by the next command" case_sigkill_leftovers_removed
run_case "9. a zstd bomb in place of the artifact: exit 3, not 1" case_bomb_blames_image
run_case "9. the same bomb, signed as it is: exit 1" case_bomb_signed_blames_target
run_case "9. a bad bootenv name refused in the plan (3), nothing written" case_bad_bootenv_name
run_case "9. rawfile keeps the file system's free-space reserve (1)" case_rawfile_reserve
run_case "11. swinstall FILE and swinstall - install" case_bare_file_argument
run_case "11. option errors name swinstall; -K needs a file" case_option_messages
run_case "11. type bootloader under files: says it belongs under images" case_bootloader_under_files
run_case "11. control characters in a member name are escaped" case_control_characters_escaped
t_done
