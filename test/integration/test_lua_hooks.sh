#!/bin/sh
# sw-description's embedded-script and hooks, through the CLI: no Lua runs
# before the signature verified; -c and -n run the hooks (they are part of
# reading sw-description); what a hook logs and changes is in the log.
# Comparisons with Debian's swupdate: the corpus cases hook-*.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_lua_hooks.sh
. "$(dirname "$0")/lib.sh"
t_init

# hook_image SIGNER: u.swu with one raw rootfs for slot A that the hook
# `move` sends to slot B; the embedded-script's top level and the hook each
# leave a marker file in $CASE.
hook_image() {
	mkdir -p w
	mk_data w/rootfs.img 300K rootfs
	desc_images w images rootfs.img "type = \"raw\"; device = \"$DEV/slotA.img\"; hook = \"move\";" 3 \
		"embedded-script = \"
		io.open('$CASE/loaded', 'w'):close()
		function move(e)
			io.open('$CASE/hooked', 'w'):close()
			swupdate.info('moving %s', e.filename)
			e.device = '$DEV/slotB.img'
			return true, e
		end\";"
	mk_swu u.swu cms crc w rootfs.img || exit 1
	if [ "$1" != signer ]; then
		# signed by a certificate of another CA: the device's key refuses it
		sign_cms w "$1"
		mk_cpio u.swu crc w sw-description sw-description.sig rootfs.img
	fi
}

case_bad_signature_runs_no_lua() {
	DEV=$CASE/dev
	make_device "$DEV"
	hook_image untrusted
	for mode in -c -n ""; do
		swi "$DEV" $mode -i u.swu
		expect_rc 3
		[ -e "$CASE/loaded" ] && fail "the embedded-script ran before the signature was verified"
		[ -e "$CASE/hooked" ] && fail "a hook ran before the signature was verified"
	done
	expect_device_untouched "$DEV"
}

case_check_and_dry_run_run_hooks() {
	DEV=$CASE/dev
	make_device "$DEV"
	hook_image signer
	for mode in -c -n; do
		rm -f "$CASE/loaded" "$CASE/hooked"
		swi "$DEV" $mode -i u.swu
		expect_rc 0
		[ -e "$CASE/loaded" ] && [ -e "$CASE/hooked" ] || fail "$mode did not run the hook"
	done
	expect_device_untouched "$DEV"
}

case_install_logs_what_the_hook_did() {
	DEV=$CASE/dev
	make_device "$DEV"
	hook_image signer
	swi "$DEV" -v -i u.swu
	expect_rc 0
	grep -q "moving rootfs.img" "$CASE/err" || fail "the hook's swupdate.info is not logged"
	grep -q "images\[0\] (rootfs.img): hook move changed device" "$CASE/err" ||
		fail "the change is not logged"
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.img
	expect_slot_a_untouched "$DEV"
}

run_case "bad signature: neither the embedded-script nor a hook runs (-c, -n, install)" \
	case_bad_signature_runs_no_lua
run_case "-c and -n run the embedded-script and the hooks" case_check_and_dry_run_run_hooks
run_case "an install logs what the hook logged and changed" case_install_logs_what_the_hook_did
t_done
