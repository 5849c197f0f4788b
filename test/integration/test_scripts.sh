#!/bin/sh
# Scripts of the image (shellscript, preinstall, postinstall) and the
# device's own commands (-P, -p) on the simulated A/B device: when they run
# relative to the image being written and to the commit, what they get, and
# what their failure leaves. Every script appends a line to $CASE/record.
# shellcheck disable=SC2016 # the scripts' bodies are single-quoted on purpose
. "$(dirname "$0")/lib.sh"

t_init

# ---------------------------------------------------------------- helpers

# script FILE BODY: FILE, a /bin/sh script running BODY. $REC is the record,
# $SLOT the standby slot, $NEW the image's bytes, $ENVCFG the fw_env.config.
script() {
	{
		echo '#!/bin/sh'
		echo "REC='$CASE/record' SLOT='$DEV/slotB.img' NEW='$CASE/w/rootfs.img'"
		echo "ENVCFG='$DEV/fw_env.config'"
		# "new" when the standby slot holds the image's bytes already
		echo 'slot() { if cmp -s -n "$(wc -c <"$NEW")" "$SLOT" "$NEW"; then echo new; else echo old; fi; }'
		echo 'rootpart() { fw_printenv -n -c "$ENVCFG" rootpart; }'
		printf '%s\n' "$2"
	} >"$1"
	chmod 0755 "$1"
}

# recording_script FILE [BODY]: a script that records "ARG1 SLOT [ARGS]"
# (the phase for a shellscript, the slot's state, its other arguments);
# BODY (default exit 0) follows.
recording_script() {
	script "$1" 'rest=$(shift; echo "$*"); echo "$1 $(slot)${rest:+ $rest}" >>"$REC"'"
${2:-exit 0}"
}

# scripts_image OUT MEMBER-ORDER SCRIPT-ENTRIES: $CASE/w/rootfs.img to
# $DEV/slotB.img with rootpart=3, plus the scripts (libconfig entries of
# "scripts"), signed; MEMBER-ORDER the members after the signature.
scripts_image() {
	w="$CASE/w"
	h=$(sha "$w/rootfs.img")
	{
		cat <<EOF
software =
{
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = (
		{ filename = "rootfs.img"; type = "raw"; device = "$DEV/slotB.img"; sha256 = "$h"; }
	);
	scripts = (
$3
	);
	bootenv = ( { name = "rootpart"; value = "3"; } );
}
EOF
	} >"$w/sw-description"
	# shellcheck disable=SC2086 # the member order, word by word
	mk_swu "$1" cms newc "$w" $2
}

# script_entry MEMBER TYPE [ATTRS]: one entry of "scripts" for $CASE/w/MEMBER.
script_entry() {
	echo "		{ filename = \"$1\"; type = \"$2\"; sha256 = \"$(sha "$CASE/w/$1")\"; ${3:-} },"
}

# A standard image: setup.sh (shellscript, recording) before rootfs.img.
shellscript_image() {
	recording_script "$CASE/w/setup.sh" "${1:-exit 0}"
	scripts_image "$CASE/image.swu" "setup.sh rootfs.img" "$(script_entry setup.sh shellscript)"
}

expect_log() {
	grep -qF -- "$1" "$CASE/err" || fail "the log does not say '$1': $(head -c 800 "$CASE/err")"
}

# ------------------------------------------------------------------ cases

# preinst before the first byte, postinst after the last and before the
# commit (rootpart still 2).
case_order() {
	new_case
	shellscript_image 'echo "rootpart $(rootpart)" >>"$REC"'
	swi "$DEV" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	expect_record "preinst old
rootpart 2
postinst new
rootpart 2"
}

# The script's output reaches the log, prefixed with what runs it.
case_output_logged() {
	new_case
	shellscript_image 'echo "hello from $1"; echo "to stderr" >&2; echo "a warning" >&4'
	swi "$DEV" -v "$CASE/image.swu"
	expect_rc 0
	expect_log "shellscript setup.sh (preinst): hello from preinst"
	expect_log "shellscript setup.sh (postinst): to stderr"
	expect_log "shellscript setup.sh (postinst): a warning"
}

case_failing_preinst() {
	new_case
	shellscript_image '[ "$1" = preinst ] && exit 3; exit 0'
	swi "$DEV" "$CASE/image.swu"
	expect_rc 1
	expect_err "shellscript setup.sh (preinst): exited with status 3"
	expect_device_untouched "$DEV"
	expect_record "preinst old
postfailure old"
}

case_failing_postinst() {
	new_case
	shellscript_image '[ "$1" = postinst ] && exit 4; exit 0'
	swi "$DEV" "$CASE/image.swu"
	expect_rc 1
	expect_err "shellscript setup.sh (postinst): exited with status 4"
	expect_failed_state "$DEV"
	expect_record "preinst old
postinst new
postfailure new"
}

# An image that comes before the script in the archive waits for it,
# spooled: the preinst still sees the old slot.
case_image_before_script_is_spooled() {
	new_case
	recording_script "$CASE/w/setup.sh"
	scripts_image "$CASE/image.swu" "rootfs.img setup.sh" "$(script_entry setup.sh shellscript)"
	swi "$DEV" -v "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	expect_log "spooled"
	expect_record "preinst old
postinst new"
}

case_preinstall_postinstall_and_data() {
	new_case
	recording_script "$CASE/w/pre.sh"
	recording_script "$CASE/w/post.sh"
	recording_script "$CASE/w/setup.sh"
	scripts_image "$CASE/image.swu" "pre.sh post.sh setup.sh rootfs.img" \
		"$(script_entry pre.sh preinstall 'data = "first second";')
$(script_entry post.sh postinstall 'data = "last";')
$(script_entry setup.sh shellscript 'data = "x $(y) ;z";')"
	swi "$DEV" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	# in the order of sw-description; no phase argument for preinstall
	# and postinstall, the data's words after it for shellscript
	expect_record "first old second
preinst old x \$(y) ;z
last new
postinst new x \$(y) ;z"
}

case_timeout() {
	new_case
	shellscript_image 'sleep 60'
	expect_script_stopped "$DEV" 2 "$CASE/image.swu" \
		"shellscript setup.sh (preinst): did not finish within 2 s; killed"
}

case_check_and_dry_run_run_no_script() {
	new_case
	shellscript_image
	for flag in -c -n; do
		swi "$DEV" "$flag" -P "$CASE/w/setup.sh -P" -p "$CASE/w/setup.sh -p" "$CASE/image.swu"
		expect_rc 0
	done
	expect_device_untouched "$DEV"
	[ ! -e "$CASE/record" ] || fail "a script ran: $(cat "$CASE/record")"
}

case_failing_preupdate() {
	new_case
	shellscript_image
	script "$CASE/pre" 'echo "preupdate $*" >>"$REC"; exit 5'
	swi "$DEV" -P "$CASE/pre a;b" "$CASE/image.swu"
	expect_rc 1
	expect_err "exited with status 5"
	expect_device_untouched "$DEV"
	# the image's preinst never ran; the argument reached it as it is
	expect_record "preupdate a;b"
}

# -P before the image's scripts, -p after the commit.
case_preupdate_and_postupdate() {
	new_case
	shellscript_image
	script "$CASE/pre" 'echo "preupdate $(slot) $(rootpart)" >>"$REC"'
	script "$CASE/post" 'echo "postupdate $(slot) $(rootpart) $*" >>"$REC"'
	swi "$DEV" -P "$CASE/pre" --postupdate "$CASE/post  one  two" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	expect_record "preupdate old 2
preinst old
postinst new
postupdate new 3 one two"
}

# A failing -p: reported, but the update stays committed.
case_failing_postupdate() {
	new_case
	shellscript_image
	swi "$DEV" -p /bin/false "$CASE/image.swu"
	expect_rc 1
	expect_err "installed and committed"
	expect_bytes "$DEV/slotB.img" 0 "$CASE/w/rootfs.img"
	expect_committed "$DEV" 3
}

# Scripts land in a private directory under --tmpdir, removed afterwards.
case_tmpdir() {
	new_case
	mkdir -p "$CASE/tmp"
	shellscript_image 'echo "dir $(dirname "$0") $(stat -c %a "$(dirname "$0")") $(stat -c %a "$0") $TMPDIR" >>"$REC"'
	swi "$DEV" --tmpdir "$CASE/tmp" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	line=$(sed -n 2p "$CASE/record")
	case "$line" in
	"dir $CASE/tmp/swinstall-"*" 700 700 $CASE/tmp") ;;
	*) fail "the script ran from/with: $line" ;;
	esac
	[ -z "$(ls -A "$CASE/tmp")" ] || fail "left in tmpdir: $(ls -A "$CASE/tmp")"
}

run_case "shellscript: preinst before the image is written, postinst after it, before the commit" case_order
run_case "a script's output is logged, prefixed with the script and phase" case_output_logged
run_case "a failing preinst: install refused, slot and environment unchanged, postfailure ran" case_failing_preinst
run_case "a failing postinst: nothing committed, the failure recorded, postfailure ran" case_failing_postinst
run_case "an image before its script in the archive is spooled; preinst still runs first" case_image_before_script_is_spooled
run_case "preinstall, postinstall and data: arguments and order as SWUpdate's" case_preinstall_postinstall_and_data
run_case "a hanging script is killed after --script-timeout; the install fails" case_timeout
run_case "-c and -n run no script and no -P/-p command" case_check_and_dry_run_run_no_script
run_case "a failing -P refuses the install with nothing changed" case_failing_preupdate
run_case "-P runs before the scripts, -p after the commit, with their words" case_preupdate_and_postupdate
run_case "a failing -p is reported; the update stays committed" case_failing_postupdate
run_case "scripts run from a 0700 directory under --tmpdir, removed afterwards" case_tmpdir

t_done
