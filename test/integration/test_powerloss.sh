#!/bin/sh
# Power loss during an install: swinstall is killed with SIGKILL at a random
# moment, many times, each time on a fresh copy of the simulated device, and
# afterwards the device must be in a state the bootloader can boot safely:
#   - slot A (running) byte-identical;
#   - the environment parses with the bootloader's own tool;
#   - it selects slot A (rootpart=2: the commit was not reached), or slot B
#     (rootpart=3, ustate=1, no recovery_status) with slot B holding exactly
#     the image's bytes: never rootpart=3 with slot B incomplete.
# Each run is classified by the phase it reached: "before" (environment
# byte-identical), "in_progress" (recovery_status=in_progress, slot A
# selected), "committed". The counts are printed at the end. After a run
# that did not commit, the same install is run again without a kill (the
# device came back up on slot A): it must commit.
#
# The image: a 16 MiB raw artifact at 1 MiB into slot B and a gzip-compressed
# 24 MiB artifact at 20 MiB, fed through a pipe in 512 KiB steps with a pause
# after each, and two longer pauses: one with the first artifact complete and
# the second not begun, one with both written and the commit not yet done;
# so that kills land during the write, between the artifacts and at the
# commit. Kill delays are spread evenly (with jitter) over 1.25 times the
# install's duration (the longer of two measured first): about one run in
# five ends before the kill; the last run is killed at three times it.
#
# A second series installs a second image over a first one whose install
# committed and waits for its reboot (slot B selected), and kills that: the
# device must never be left selecting slot B while it holds a part of the
# second image.
#
# Environment: POWERLOSS_RUNS (default 60), POWERLOSS_SECOND_RUNS (default
# 15, the second series), POWERLOSS_SEED (default: from
# the clock; printed, to repeat a run), POWERLOSS_STEP_SLEEP (default 0.01 s).
# Backends: even runs a single U-Boot environment, odd runs alternately a
# redundant U-Boot pair and a GRUB environment block.
# shellcheck disable=SC2031 # CASE is set by run_case, for each case's subshell
# shellcheck source=test/integration/lib.sh
. "$(dirname "$0")/lib.sh"

RUNS=${POWERLOSS_RUNS:-60}
SECOND_RUNS=${POWERLOSS_SECOND_RUNS:-15}
SEED=${POWERLOSS_SEED:-$(date +%s)}
STEP_SLEEP=${POWERLOSS_STEP_SLEEP:-0.01}
# Longer pauses at three points of the stream (see feed).
START_PAUSE=0.04
BETWEEN_PAUSE=0.06
COMMIT_PAUSE=0.08
STEP=524288
# swinstall reads its input in 128 KiB buffers it fills completely (lib/swu.c)
READ_BUF=131072
SLOT_B_SIZE=50331648 # 48 MiB
ENV_BYTES=0x4000

# Shared by the cases (run_case removes only each case's own directory).
PL=
RESULTS=
IMG=pl  # the image installed: $PL/$IMG.swu, expected in slot B: $PL/$IMG-slotB.img

# ------------------------------------------------------------- the image

# build_image DIR NAME: DIR/NAME.swu, DIR/NAME-slotB.img (what slot B holds
# after the install), the pause points DIR/NAME-between and DIR/NAME-commit,
# and DIR/slotA.img (the running system). Images of other NAMEs have other
# bytes in the same layout.
build_image() {
	w="$1/w-$2"
	mkdir -p "$w"
	mk_data "$w/rootfs.img" 16M "powerloss-rootfs-$2"
	mk_data "$1/app-random" 12M "powerloss-app-$2"
	{
		cat "$1/app-random"
		yes "application data block " | head -c 12582912
	} >"$1/app.img"
	rm -f "$1/app-random"
	gzip -9 -n -c "$1/app.img" >"$w/app.img.gz"
	mk_data "$w/spare-1.img" 256K "powerloss-spare-1"
	mk_data "$w/spare-2.img" 256K "powerloss-spare-2"
	h1=$(sha "$w/rootfs.img")
	h2=$(sha "$w/app.img.gz")
	# Installs here go to copy2. copy1 also writes the two spare members:
	# copy2 skips them, and the feed pauses inside them (see feed).
	cat >"$w/sw-description" <<EOF
software =
{
	version = "3.0.0";
	hardware-compatibility: [ "1.0" ];
	stable: {
		copy1: {
			images: (
				{ filename = "rootfs.img"; type = "raw"; device = "@DEV@/slotA.img";
				  offset = "1M"; sha256 = "$h1"; },
				{ filename = "app.img.gz"; type = "raw"; device = "@DEV@/slotA.img";
				  offset = "20M"; compressed = "zlib"; sha256 = "$h2"; },
				{ filename = "spare-1.img"; type = "raw"; device = "@DEV@/slotA.img";
				  offset = "45M"; sha256 = "$(sha "$w/spare-1.img")"; },
				{ filename = "spare-2.img"; type = "raw"; device = "@DEV@/slotA.img";
				  offset = "46M"; sha256 = "$(sha "$w/spare-2.img")"; }
			);
			bootenv: ( { name = "rootpart"; value = "2"; } );
		};
		copy2: {
			images: (
				{ filename = "rootfs.img"; type = "raw"; device = "@DEV@/slotB.img";
				  offset = "1M"; sha256 = "$h1"; },
				{ filename = "app.img.gz"; type = "raw"; device = "@DEV@/slotB.img";
				  offset = "20M"; compressed = "zlib"; sha256 = "$h2"; }
			);
			bootenv: ( { name = "rootpart"; value = "3"; } );
		};
	};
}
EOF
	# Every run's device lives in the same directory, $1/dev.
	sed -i "s|@DEV@|$1/dev|g" "$w/sw-description"
	sign_cms "$w" || return 1
	mk_cpio "$1/$2.swu" newc "$w" sw-description sw-description.sig rootfs.img spare-1.img \
		app.img.gz spare-2.img || return 1
	pause_point "$1/$2.swu" spare-1.img >"$1/$2-between" || return 1
	pause_point "$1/$2.swu" spare-2.img >"$1/$2-commit" || return 1

	truncate -s "$SLOT_B_SIZE" "$1/$2-slotB.img"
	dd if="$w/rootfs.img" of="$1/$2-slotB.img" bs=1M seek=1 conv=notrunc,sparse 2>/dev/null
	dd if="$1/app.img" of="$1/$2-slotB.img" bs=1M seek=20 conv=notrunc,sparse 2>/dev/null
	rm -f "$1/app.img"
	yes "slot A: running system 1.0 " | head -c 1048576 >"$1/slotA.img"
}

# pause_point SWU MEMBER: a stream position inside MEMBER's data that is a
# multiple of READ_BUF: once the bytes before it have arrived, swinstall has
# processed every member before MEMBER, and waits for more.
pause_point() {
	# shellcheck disable=SC2046 # "HEADER DATA SIZE"
	set -- $(cpio_member "$1" "$2")
	[ $# -eq 3 ] || return 1
	at=$((($2 + READ_BUF - 1) / READ_BUF * READ_BUF + READ_BUF))
	[ "$at" -lt $(($2 + $3)) ] || return 1
	echo "$at"
}

# build_envs DIR: the pristine environments, one per backend, in DIR/env-*.
build_envs() {
	printf 'bootcount=0\nbootlimit=3\nrootpart=2\nupgrade_available=0\nustate=0\n' >"$1/env.txt"
	mkdir -p "$1/env-uboot" "$1/env-pair" "$1/env-grub"
	mkenvimage -s "$ENV_BYTES" -o "$1/env-uboot/env.img" "$1/env.txt" || return 1
	mkenvimage -r -s "$ENV_BYTES" -o "$1/env-pair/env1.img" "$1/env.txt" || return 1
	cp "$1/env-pair/env1.img" "$1/env-pair/env2.img"
	# copy 2 gets flag 0 (the CRC does not cover the flag): copy 1 is current
	printf '\000' | dd of="$1/env-pair/env2.img" bs=1 seek=4 conv=notrunc 2>/dev/null
	grub-editenv "$1/env-grub/grubenv" create || return 1
	grub-editenv "$1/env-grub/grubenv" set bootcount=0 bootlimit=3 rootpart=2 \
		upgrade_available=0 ustate=0
}

# fresh_device BACKEND: $PL/dev as before an install, for BACKEND.
fresh_device() {
	d="$PL/dev"
	rm -rf "$d"
	mkdir -p "$d"
	echo "$1" >"$d/backend"
	cp "$PL/slotA.img" "$d/slotA.img"
	truncate -s "$SLOT_B_SIZE" "$d/slotB.img"
	cp "$PL/env-$1"/* "$d/"
	case "$1" in
	uboot)
		echo "$d/env.img 0x0 $ENV_BYTES" >"$d/fw_env.config"
		boot="bootloader = \"uboot\"; uboot-env-config = \"$d/fw_env.config\";"
		;;
	pair)
		printf '%s\n' "$d/env1.img 0x0 $ENV_BYTES" "$d/env2.img 0x0 $ENV_BYTES" >"$d/fw_env.config"
		boot="bootloader = \"uboot\"; uboot-env-config = \"$d/fw_env.config\";"
		;;
	grub)
		boot="bootloader = \"grub\"; grubenv = \"$d/grubenv\";"
		;;
	esac
	echo "myboard 1.0" >"$d/hwrevision"
	echo "rootfs 1.0.0" >"$d/sw-versions"
	echo "console=ttyS0 root=$d/slotA.img ro" >"$d/cmdline"
	echo "22 1 254:1 / / rw - ext4 $d/slotA.img ro" >"$d/mountinfo"
	cat >"$d/swinstall.conf" <<EOF
public-key = "$KEYS/ca.pem";
$boot
EOF
	device_settings "$d" >>"$d/swinstall.conf"
	slot_settings "$d" >>"$d/swinstall.conf"
}

env_files_of() {
	case "$1" in
	uboot) echo env.img ;;
	pair) echo env1.img env2.img ;;
	grub) echo grubenv ;;
	esac
}

# tool_env: the environment of $PL/dev as the bootloader's tool prints it.
tool_env() {
	case "$(cat "$PL/dev/backend")" in
	uboot | pair) fw_printenv -c "$PL/dev/fw_env.config" ;;
	grub) grub-editenv "$PL/dev/grubenv" list ;;
	esac
}

# ----------------------------------------------------------- one install

# feed_range FROM TO: bytes [FROM, TO) of the image in STEP-byte pieces
# with a pause after each (a slow download: a kill can land anywhere).
feed_range() {
	pos=$1
	while [ "$pos" -lt "$2" ]; do
		len=$(($2 - pos))
		[ "$len" -gt "$STEP" ] && len=$STEP
		dd if="$PL/$IMG.swu" bs=65536 iflag=skip_bytes,count_bytes skip="$pos" count="$len" \
			2>/dev/null || return 1
		sleep "$STEP_SLEEP"
		pos=$((pos + len))
	done
}

# feed: the image, throttled, with three longer pauses: after the first
# 32 KiB (swinstall has not seen sw-description yet: nothing written), inside spare-1.img
# (rootfs.img complete, app.img.gz not begun: "between the artifacts") and
# inside spare-2.img (every artifact written, the commit not yet done: it
# comes after the archive's trailer).
feed() {
	between=$(cat "$PL/$IMG-between")
	commit=$(cat "$PL/$IMG-commit")
	feed_range 0 $((READ_BUF / 2)) || return 0
	sleep "$START_PAUSE"
	feed_range $((READ_BUF / 2)) "$between" || return 0
	sleep "$BETWEEN_PAUSE"
	feed_range "$between" "$commit" || return 0
	sleep "$COMMIT_PAUSE"
	feed_range "$commit" "$(wc -c <"$PL/$IMG.swu")" || return 0
}

# install_killed DELAY: an install from the throttled pipe, SIGKILLed after
# DELAY seconds (unless it ended before; "never": not killed). Sets
# INSTALL_RC (137: killed).
install_killed() {
	fifo="$CASE/fifo"
	rm -f "$fifo"
	mkfifo "$fifo" || return 1
	feed >"$fifo" &
	feeder=$!
	"$SWINSTALL" -f "$PL/dev/swinstall.conf" -q -i - <"$fifo" >"$CASE/out" 2>"$CASE/err" &
	installer=$!
	if [ "$1" != never ]; then
		sleep "$1"
		kill -KILL "$installer" 2>/dev/null
	fi
	wait "$installer" 2>/dev/null
	INSTALL_RC=$?
	# The feeder's next write fails once the reader is gone; stop it now.
	kill "$feeder" 2>/dev/null
	wait "$feeder" 2>/dev/null
	rm -f "$fifo"
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# ------------------------------------------------------------ the checks

# progress: how far slot B got, from the first byte where it differs from
# the expected slot B: "artifact1" (rootfs at 1 MiB, 16 MiB long, partly
# written), "between" (rootfs complete, nothing of the application at
# 20 MiB yet), "artifact2" (partly written), "data-complete" (every byte).
progress() {
	at=$(cmp "$PL/dev/slotB.img" "$PL/$IMG-slotB.img" 2>/dev/null |
		sed -n 's/.* differ: .*byte \([0-9]*\).*/\1/p')
	if [ -z "$at" ]; then
		echo data-complete
	elif [ $((at - 1)) -lt $((17 * 1048576)) ]; then
		echo artifact1
	elif [ $((at - 1)) -le $((20 * 1048576)) ]; then
		echo between
	else
		echo artifact2
	fi
}

# classify BACKEND: prints the phase the device shows and a detail:
# "before -", "in_progress PROGRESS", "committed -", or "VIOLATION reason".
# read_device BACKEND REFERENCE-DIR: checks slot A and reads the
# environment into rootpart, ustate and marker; same=yes when the
# environment's files are those in REFERENCE-DIR. Prints a VIOLATION line
# and fails when slot A changed or the environment cannot be read.
read_device() {
	d="$PL/dev"
	[ "$(sha "$d/slotA.img")" = "$(sha "$PL/slotA.img")" ] || { echo "VIOLATION slot A changed"; return 1; }
	if ! tool_env >"$CASE/env" 2>&1; then
		echo "VIOLATION the bootloader's tool cannot read the environment: $(head -c 200 "$CASE/env")"
		return 1
	fi
	rootpart=$(sed -n 's/^rootpart=//p' "$CASE/env")
	ustate=$(sed -n 's/^ustate=//p' "$CASE/env")
	marker=$(sed -n 's/^recovery_status=//p' "$CASE/env")
	same=yes
	for f in $(env_files_of "$1"); do
		cmp -s "$d/$f" "$2/$f" || same=no
	done
}

classify() {
	read_device "$1" "$PL/env-$1" || return
	case "$rootpart" in
	2)
		if [ "$same" = yes ]; then
			echo "before -"
		elif [ "$marker" = in_progress ] && [ "$ustate" = 0 ]; then
			echo "in_progress $(progress)"
		else
			echo "VIOLATION slot A selected in an unexpected state: ustate=$ustate recovery_status=$marker"
		fi
		;;
	3)
		if ! cmp -s "$d/slotB.img" "$PL/$IMG-slotB.img"; then
			echo "VIOLATION slot B selected but incomplete ($(progress))"
		elif [ "$ustate" != 1 ] || [ -n "$marker" ]; then
			echo "VIOLATION slot B selected with ustate=$ustate recovery_status=$marker"
		else
			echo "committed -"
		fi
		;;
	*) echo "VIOLATION rootpart='$rootpart'" ;;
	esac
}

# ------------------------------------------------------------------ cases

# The install's duration: the shorter of two complete installs (the first
# one also warms the page cache), each checked.
case_reference_install() {
	build_image "$PL" pl || fail "the image could not be built"
	build_image "$PL" pl2 || fail "the second image could not be built"
	build_envs "$PL" || fail "the environments could not be made"
	best= longest=
	for backend in uboot grub; do
		fresh_device "$backend"
		start=$(now_ms)
		install_killed never
		took=$(($(now_ms) - start))
		[ "$INSTALL_RC" -eq 0 ] || fail "the install without a kill failed (exit $INSTALL_RC): $(cat "$CASE/err")"
		phase=$(classify "$backend")
		[ "$phase" = "committed -" ] || fail "after a complete install ($backend): $phase"
		echo "install duration ($backend): $took ms"
		if [ -z "$best" ] || [ "$took" -lt "$best" ]; then best=$took; fi
		if [ -z "$longest" ] || [ "$took" -gt "$longest" ]; then longest=$took; fi
	done
	# Kills are spread over the longer install: on a machine that other
	# work slows down, the shorter one would leave no kill after the commit.
	echo "$longest" >"$PL/duration-ms"
	[ "$best" -ge 300 ] || fail "the throttled install took only $best ms: too fast to be killed at chosen moments"
}

# run_kills BACKEND...: runs 0..RUNS-1 whose backend is one of these.
run_kills() {
	[ -s "$PL/duration-ms" ] || fail "no reference install"
	dur=$(cat "$PL/duration-ms")
	# The kill delay of run i: in the i-th of RUNS equal parts of 1.25 times
	# the duration, at a random point of it. The last run is killed at three
	# times the duration: after the commit unless the machine slowed the
	# install threefold since it was measured.
	awk -v seed="$SEED" -v n="$RUNS" -v d="$dur" 'BEGIN {
		srand(seed)
		for (i = 0; i < n; i++)
			printf "%d %.3f\n", i, (i < n - 1 ? (i + rand()) / n * 1.25 : 3) * d / 1000
	}' >"$CASE/delays"
	violations=0
	while read -r run delay; do
		case $((run % 4)) in
		0 | 2) backend=uboot ;;
		1) backend=pair ;;
		3) backend=grub ;;
		esac
		case " $* " in *" $backend "*) ;; *) continue ;; esac
		fresh_device "$backend"
		install_killed "$delay"
		phase=$(classify "$backend")
		case "$INSTALL_RC" in
		0) how="finished" ;;
		137) how="killed" ;;
		*)
			how="exit $INSTALL_RC"
			phase="VIOLATION the install failed by itself: $(head -c 300 "$CASE/err")"
			;;
		esac
		# Temporary GRUB blocks a kill left behind (not a safety problem:
		# GRUB reads only grubenv).
		leftover=$(find "$PL/dev" -name 'grubenv.*' | wc -l)
		case "$phase" in
		before* | in_progress*)
			# Slot A boots again; the same install, now without a
			# kill, must succeed over what the killed one left.
			"$SWINSTALL" -f "$PL/dev/swinstall.conf" -q -i "$PL/$IMG.swu" >"$CASE/out" 2>"$CASE/err"
			again=$?
			after=$(classify "$backend")
			if [ "$again" -ne 0 ] || [ "$after" != "committed -" ]; then
				phase="VIOLATION the install after the power loss (exit $again) left: $after; $(head -c 200 "$CASE/err")"
			fi
			;;
		esac
		echo "run $run ($backend): kill after $delay s: $how, $phase, leftover temp files: $leftover"
		echo "$run $backend $how $leftover $phase" >>"$RESULTS"
		case "$phase" in
		VIOLATION*)
			violations=$((violations + 1))
			printf 'run %s (%s, kill after %s s, seed %s): %s\n' "$run" "$backend" "$delay" "$SEED" "$phase" >>"$T_REASON"
			;;
		esac
	done <"$CASE/delays"
	[ "$violations" -eq 0 ] || exit 1
}

case_kills_uboot() { run_kills uboot; }
case_kills_pair_grub() { run_kills pair grub; }

# Across all runs, the kills reached the write, the gap between the
# artifacts, the moment before the commit, and some runs the commit:
# otherwise the runs prove little (e.g. the throttling failed). The pauses
# of the feed make each of these windows span several of the RUNS slots
# the kill delays are spread over.
case_phases_covered() {
	[ -s "$RESULTS" ] || fail "no results"
	n=$(wc -l <"$RESULTS")
	[ "$n" -eq "$RUNS" ] || fail "$n results for $RUNS runs"
	grep -q " in_progress artifact" "$RESULTS" || fail "no kill landed during the write"
	grep -q " committed -" "$RESULTS" || fail "no run reached the commit"
	# The pause windows are a few percent of the install each: with few
	# runs no slot need fall into them.
	[ "$RUNS" -ge 40 ] || return 0
	grep -q " in_progress between" "$RESULTS" || fail "no kill landed between the artifacts"
	grep -q " in_progress data-complete" "$RESULTS" || fail "no kill landed between the last byte and the commit"
}

# ------------------------------------------------- a second update

# classify_second BACKEND: like classify, for an install of pl2 over a
# committed install of pl that waits for its reboot (slot B selected,
# ustate=1). Safe: the environment as pl's install left it with slot B
# still holding pl ("before"); slot A selected with the marker
# ("in_progress": the install's first write pointed the boot selection
# back at the running slot); pl2 committed. Never slot B selected while
# it holds a part of pl2.
classify_second() {
	read_device "$1" "$PL/first" || return
	case "$rootpart" in
	3)
		if [ "$same" = yes ] && cmp -s "$d/slotB.img" "$PL/pl-slotB.img"; then
			echo "before -"
		elif cmp -s "$d/slotB.img" "$PL/pl2-slotB.img" && [ "$ustate" = 1 ] && [ -z "$marker" ]; then
			echo "committed -"
		else
			echo "VIOLATION slot B selected while it holds a part of the second image (ustate=$ustate recovery_status=$marker)"
		fi
		;;
	2)
		if [ "$marker" = in_progress ] && [ "$ustate" = 0 ]; then
			echo "in_progress -"
		else
			echo "VIOLATION slot A selected in an unexpected state: ustate=$ustate recovery_status=$marker"
		fi
		;;
	*) echo "VIOLATION rootpart='$rootpart'" ;;
	esac
}

# One run: pl installed (not rebooted), then pl2 killed after DELAY; what
# it left must be safe, and pl2 installed again must commit.
second_update_run() {
	backend=$1 delay=$2
	fresh_device "$backend"
	IMG=pl
	"$SWINSTALL" -f "$PL/dev/swinstall.conf" -q -i "$PL/pl.swu" >"$CASE/out" 2>"$CASE/err" ||
		{ echo "VIOLATION the first install failed: $(head -c 200 "$CASE/err")"; return; }
	rm -rf "$PL/first"
	mkdir -p "$PL/first"
	for f in $(env_files_of "$backend"); do cp "$PL/dev/$f" "$PL/first/"; done
	IMG=pl2
	install_killed "$delay"
	phase=$(classify_second "$backend")
	case "$INSTALL_RC" in
	0 | 137) ;;
	*) phase="VIOLATION the install failed by itself: $(head -c 300 "$CASE/err")" ;;
	esac
	case "$phase" in
	before* | in_progress*)
		"$SWINSTALL" -f "$PL/dev/swinstall.conf" -q -i "$PL/pl2.swu" >"$CASE/out" 2>"$CASE/err"
		again=$?
		after=$(classify "$backend")
		if [ "$again" -ne 0 ] || [ "$after" != "committed -" ]; then
			phase="VIOLATION the install after the power loss (exit $again) left: $after"
		fi
		;;
	esac
	IMG=pl
	echo "$phase"
}

case_second_update_kills() {
	[ -s "$PL/duration-ms" ] || fail "no reference install"
	dur=$(cat "$PL/duration-ms")
	awk -v seed="$SEED" -v n="$SECOND_RUNS" -v d="$dur" 'BEGIN {
		srand(seed + 1)
		for (i = 0; i < n; i++)
			printf "%d %.3f\n", i, (i + rand()) / n * d / 1000
	}' >"$CASE/delays"
	violations=0 in_progress=0
	while read -r run delay; do
		case $((run % 3)) in
		0) backend=uboot ;;
		1) backend=pair ;;
		2) backend=grub ;;
		esac
		phase=$(second_update_run "$backend" "$delay")
		echo "second update, run $run ($backend): kill after $delay s: $phase"
		case "$phase" in
		in_progress*) in_progress=$((in_progress + 1)) ;;
		VIOLATION*)
			violations=$((violations + 1))
			printf 'second update, run %s (%s, kill after %s s, seed %s): %s\n' "$run" \
				"$backend" "$delay" "$SEED" "$phase" >>"$T_REASON"
			;;
		esac
	done <"$CASE/delays"
	echo "# power-loss, second update: $SECOND_RUNS runs, $in_progress killed during the write, $violations violations"
	[ "$violations" -eq 0 ] || exit 1
	[ "$in_progress" -gt 0 ] || fail "no kill landed during the second install's write"
}

# ------------------------------------------------------------------- run

t_init
for tool in mkenvimage fw_printenv grub-editenv gzip mkfifo truncate awk; do
	command -v "$tool" >/dev/null 2>&1 || t_skip_all "$tool is not installed"
done
PL="$TMP/powerloss"
RESULTS="$PL/results"
mkdir -p "$PL"
: >"$RESULTS"
echo "# power-loss: $RUNS runs, seed $SEED (POWERLOSS_SEED=$SEED repeats the kill times)"

run_case "power-loss: an install without a kill commits the expected bytes" case_reference_install
run_case "power-loss: SIGKILL at random moments, single U-Boot environment: always a safe state" case_kills_uboot
run_case "power-loss: SIGKILL at random moments, redundant U-Boot pair and GRUB: always a safe state" case_kills_pair_grub
run_case "power-loss: the kills landed during the write, between the artifacts and before the commit" case_phases_covered
run_case "power-loss: a second update into the slot an earlier one committed, killed: never boots it half-written" case_second_update_kills

# Result lines: RUN BACKEND finished|killed|exit LEFTOVER PHASE DETAIL...
if [ -s "$RESULTS" ]; then
	awk '
		{ n++; phase = $5 == "VIOLATION" ? "violation" : $5
		  count[phase]++; detail[phase " " $6]++; per[$2 " " phase]++
		  if (phase == "committed") count[$3 == "finished" ? "finished" : "killed-after"]++
		  if ($4 > 0) leftover++ }
		END {
			printf "# power-loss: %d runs: %d before any write, %d during the write (in_progress), %d committed; %d violations\n",
				n, count["before"], count["in_progress"], count["committed"], count["violation"]
			printf "# power-loss: in_progress: %d in artifact 1, %d between the artifacts, %d in artifact 2, %d with all data written before the commit; committed: %d killed after the commit, %d not killed\n",
				detail["in_progress artifact1"], detail["in_progress between"],
				detail["in_progress artifact2"], detail["in_progress data-complete"],
				count["killed-after"], count["finished"]
			printf "# power-loss by backend (before/in_progress/committed):"
			split("uboot pair grub", b, " ")
			for (i = 1; i <= 3; i++)
				printf " %s %d/%d/%d%s", b[i], per[b[i] " before"], per[b[i] " in_progress"],
					per[b[i] " committed"], i < 3 ? "," : "\n"
			if (leftover) printf "# power-loss: %d runs left a temporary grubenv.* file behind\n", leftover
		}' "$RESULTS"
fi
t_done
