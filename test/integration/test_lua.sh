#!/bin/sh
# Lua scripts of the image (type "lua", also the type of a script without
# one) on the simulated A/B device, signed: preinst/postinst/postfailure
# with the entry's data, their results, errors, the limits of a script
# (cancel, script-timeout, memory), the swupdate module's bootloader
# environment, the order against an image that comes first in the archive;
# then the same images installed by Debian's swupdate, which must leave the
# same device (skipped when it cannot run: lib.sh, "the oracle").
# Every script appends lines to $CASE/record.
# shellcheck disable=SC2016 # Lua bodies and expected lines are single-quoted on purpose
. "$(dirname "$0")/lib.sh"

t_init

# ---------------------------------------------------------------- helpers

# lua_script FILE BODY: FILE, Lua with record(...) (appends its arguments,
# joined by blanks, as a line to $CASE/record) and slot() ("new" when the
# standby slot holds the image's bytes already, else "old"), then BODY.
lua_script() {
	cat >"$1" <<EOF
local REC, SLOT, NEW = "$CASE/record", "$DEV/slotB.img", "$CASE/w/rootfs.img"
function record(...)
	local words = {}
	for i = 1, select("#", ...) do words[#words + 1] = tostring((select(i, ...))) end
	local f = assert(io.open(REC, "a"))
	f:write(table.concat(words, " "), "\n")
	f:close()
end
function slot()
	local a, b = assert(io.open(SLOT, "rb")), assert(io.open(NEW, "rb"))
	local same = a:read(4096) == b:read(4096)
	a:close() b:close()
	return same and "new" or "old"
end
$2
EOF
}

# lua_image OUT MEMBER-ORDER ENTRY-ATTRS [IMAGE-ATTRS]: $CASE/w/rootfs.img
# to $DEV/slotB.img (rootpart=3) and the script $CASE/w/setup.lua with
# ENTRY-ATTRS (its type among them, or none), signed; MEMBER-ORDER the
# members after the signature.
lua_image() {
	w="$CASE/w"
	cat >"$w/sw-description" <<EOF
software =
{
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	images = (
		{ filename = "rootfs.img"; type = "raw"; device = "$DEV/slotB.img";
		  sha256 = "$(sha "$w/rootfs.img")"; ${4:-} }
	);
	scripts = (
		{ filename = "setup.lua"; sha256 = "$(sha "$w/setup.lua")"; $3 }
	);
	bootenv = ( { name = "rootpart"; value = "3"; } );
}
EOF
	# shellcheck disable=SC2086 # the member order, word by word
	mk_swu "$1" cms newc "$w" $2
}

# script_case BODY [ENTRY-ATTRS]: a new case whose image has setup.lua
# (BODY; type "lua" unless ENTRY-ATTRS says otherwise) before rootfs.img.
script_case() {
	new_case
	lua_script "$CASE/w/setup.lua" "$1"
	lua_image "$CASE/image.swu" "setup.lua rootfs.img" "${2:-type = \"lua\";}"
}

# ------------------------------------------------------------------ cases

# preinst before the first byte, postinst after the last, both before the
# commit (the live environment still says rootpart 2); each gets data as
# one string; a script without type is Lua.
case_phases_and_data() {
	script_case '
function preinst(data) record("preinst", slot(), data, swupdate.get_bootenv("rootpart")) return true end
function postinst(data) record("postinst", slot(), data, swupdate.get_bootenv("rootpart")) return true, "done" end
function postfailure(data) record("postfailure") return true end' \
		'data = "one  two $(x)";'
	swi "$DEV" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	expect_record 'preinst old one  two $(x) 2
postinst new one  two $(x) 2'
}

# os.execute's results are Lua 5.3's: true|nil, "exit"|"signal", the code.
case_os_execute() {
	script_case '
function preinst()
	record(os.execute("exit 3"))
	record(os.execute("true"))
	record(os.execute("kill -TERM $$"))
	return true
end'
	swi "$DEV" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	expect_record 'nil exit 3
true exit 0
nil signal 15'
}

# false with a message: refused before anything is written; postfailure ran.
case_false_with_message() {
	script_case '
function preinst() return false, "needs 2 GiB free" end
function postfailure() record("postfailure", slot()) return true end'
	swi "$DEV" "$CASE/image.swu"
	expect_rc 1
	expect_err "lua script setup.lua (preinst): needs 2 GiB free"
	expect_device_untouched "$DEV"
	expect_record "postfailure old"
}

case_false_in_postinst() {
	script_case 'function postinst() return false end'
	swi "$DEV" "$CASE/image.swu"
	expect_rc 1
	expect_err "lua script setup.lua (postinst): returned false"
	expect_failed_state "$DEV"
}

# A script without the phase's function has nothing to do there.
case_missing_functions() {
	script_case 'function postfailure() record("postfailure") return false end'
	swi "$DEV" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	[ ! -e "$CASE/record" ] || fail "postfailure ran: $(cat "$CASE/record")"
}

case_error_names_script_function_and_line() {
	script_case '
function postinst(data)
	local t = nil
	return t.field
end'
	swi "$DEV" "$CASE/image.swu"
	expect_rc 1
	expect_err "lua script setup.lua: postinst: setup.lua:18: attempt to index a nil value (local 't')"
	expect_failed_state "$DEV"
}

# A script that never ends: SIGTERM to swinstall stops it (the count hook
# sees the cancel); nothing was written.
case_endless_loop_cancelled() {
	script_case 'function preinst() record("started") while true do end end'
	"$SWINSTALL" -f "$DEV/swinstall.conf" "$CASE/image.swu" >"$CASE/out" 2>"$CASE/err" &
	pid=$!
	n=0
	while [ ! -e "$CASE/record" ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	SWI_RC=$?
	sed 's/^/  stderr: /' "$CASE/err"
	expect_rc 1
	grep -q "interrupted by SIGTERM" "$CASE/err" || fail "not reported as cancelled: $(cat "$CASE/err")"
	expect_device_untouched "$DEV"
}

case_endless_loop_times_out() {
	script_case 'function preinst() while true do end end'
	expect_script_stopped "$DEV" 2 "$CASE/image.swu" \
		"lua script setup.lua: preinst: stopped after 2 s (option script-timeout)"
}

case_memory_capped() {
	script_case 'function preinst() local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i end end'
	swi "$DEV" "$CASE/image.swu"
	expect_rc 1
	expect_err "lua script setup.lua: preinst: out of memory (a Lua state may use 64 MiB)"
	expect_device_untouched "$DEV"
}

# set_bootenv is staged: not in the live environment during the install,
# written with the commit; a failed install writes none of it.
case_set_bootenv_committed() {
	script_case '
function preinst(data)
	swupdate.set_bootenv("from_lua", data)
	record("live", tostring(swupdate.get_bootenv("from_lua")))
	return true
end' 'type = "lua"; data = "yes";'
	swi "$DEV" "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	expect_env "$DEV" from_lua yes
	expect_record "live nil"
}

case_set_bootenv_dropped_on_failure() {
	script_case '
function preinst() swupdate.set_bootenv("from_lua", "yes") return true end
function postinst() return false, "refused late" end'
	swi "$DEV" "$CASE/image.swu"
	expect_rc 1
	expect_failed_state "$DEV"
	expect_env_absent "$DEV" from_lua
}

# An installed-directly image before the script in the archive is spooled:
# preinst still sees the old slot.
case_image_first_is_spooled() {
	new_case
	lua_script "$CASE/w/setup.lua" '
function preinst() record("preinst", slot()) return true end
function postinst() record("postinst", slot()) return true end'
	lua_image "$CASE/image.swu" "rootfs.img setup.lua" 'type = "lua";' 'installed-directly = true;'
	swi "$DEV" -v "$CASE/image.swu"
	expect_installed_in_b "$DEV"
	grep -q "spooled" "$CASE/err" || fail "the image was not spooled"
	expect_record "preinst old
postinst new"
}

case_check_and_dry_run_run_none() {
	script_case 'function preinst() record("preinst") return true end'
	for flag in -c -n; do
		swi "$DEV" "$flag" "$CASE/image.swu"
		expect_rc 0
	done
	expect_device_untouched "$DEV"
	[ ! -e "$CASE/record" ] || fail "a script ran: $(cat "$CASE/record")"
}

run_case "lua: preinst before the image, postinst after it, before the commit, with data" case_phases_and_data
run_case "lua: os.execute returns what Lua 5.3 returns" case_os_execute
run_case "lua: false with a message refuses the install, nothing written, postfailure ran" case_false_with_message
run_case "lua: postinst returning false: nothing committed" case_false_in_postinst
run_case "lua: a function the script lacks succeeds" case_missing_functions
run_case "lua: an error names the script, function and line" case_error_names_script_function_and_line
run_case "lua: an endless loop is stopped by SIGTERM to swinstall" case_endless_loop_cancelled
run_case "lua: an endless loop is stopped after --script-timeout" case_endless_loop_times_out
run_case "lua: a script allocating without end fails cleanly" case_memory_capped
run_case "lua: set_bootenv is staged and committed with the install" case_set_bootenv_committed
run_case "lua: set_bootenv of a failed install is not written" case_set_bootenv_dropped_on_failure
run_case "lua: an installed-directly image before the script is spooled; preinst first" case_image_first_is_spooled
run_case "lua: -c and -n run no script" case_check_and_dry_run_run_none

# --------------------------------------------------- against swupdate

# The device anew, with a rootfs/ directory the scripts write into (the
# state compared, lib.sh's device_state).
fresh_device() {
	rm -rf "$DEV"
	make_device "$DEV"
	mkdir -p "$DEV/rootfs"
}

# both IMAGE: installs IMAGE with swupdate and with swinstall, each on a
# fresh device; sets ORACLE_RC and SWI_RC, saves both states.
both() {
	EXPECT_ORACLE_FAIL=1 oracle_install fresh_device "$1" -k "$KEYS/ca.pem" -H myboard:1.0 -B uboot
	device_state "$DEV" "$CASE/result-swupdate"
	fresh_device
	swi "$DEV" "$1"
	device_state "$DEV" "$CASE/result-swinstall"
}

# both_alike IMAGE: both install IMAGE and leave the same device.
both_alike() {
	both "$1"
	[ "$ORACLE_RC" -eq 0 ] || fail "oracle swupdate failed: $(grep ERROR "$CASE/swupdate.log" | head -n3)"
	expect_rc 0
	expect_same_state "$CASE/result-swupdate" "$CASE/result-swinstall"
}

# oracle_case BODY [ENTRY-ATTRS]: the image of script_case, with the
# scripts writing into $DEV/rootfs (the variable ROOT in BODY).
oracle_case() {
	DEV="$CASE/dev"
	fresh_device
	mkdir -p "$CASE/w"
	mk_data "$CASE/w/rootfs.img" 300K "rootfs-$T_NUM"
	lua_script "$CASE/w/setup.lua" "ROOT = \"$DEV/rootfs\"
function put(name, ...)
	local f = assert(io.open(ROOT .. \"/\" .. name, \"a\"))
	f:write(table.concat({ ... }, \" \"), \"\\n\")
	f:close()
end
$1"
	lua_image "$CASE/image.swu" "setup.lua rootfs.img" "${2:-type = \"lua\";}"
}

# Data, results and os.execute as swupdate gives them: the same files.
case_oracle_data_and_os_execute() {
	oracle_case '
function preinst(data) put("pre", data, tostring(data == "")) return true end
function postinst(data)
	local ok, how, code = os.execute("exit 3")
	put("post", data, tostring(ok), how, tostring(code))
	ok, how, code = os.execute("true")
	put("post", tostring(ok), how, tostring(code))
	return true, "done"
end' 'type = "lua"; data = "a  b";'
	both_alike "$CASE/image.swu"
	grep -qx "a  b nil exit 3" "$CASE/result-swinstall/rootfs/post" || fail "os.execute results"
}

# A script without type, and without the functions of the phases: both
# install; the default data is "".
case_oracle_missing_functions() {
	oracle_case 'put("loaded", tostring(preinst))
function postinst(data) put("post", "[" .. data .. "]") return true end' ' '
	both_alike "$CASE/image.swu"
	grep -qx "\[\]" "$CASE/result-swinstall/rootfs/post" || fail "data was not ''"
}

# The module's queries both have in a script: the root device (the one at
# /), the hardware, stat(); RECOVERY_STATUS's numbers are floats in both.
case_oracle_module_queries() {
	oracle_case '
function postinst()
	local r, hw = swupdate.getroot(), swupdate.get_hw()
	put("root", tostring(r.type), r.value)
	put("hw", hw.boardname, hw.revision)
	local s = swupdate.stat("/usr/bin/env")
	put("stat", s.mode, s.permissions, tostring(s.size), tostring(s.uid), s.modification,
	    tostring(s.dev.major), tostring(s.ino))
	put("stat", tostring(swupdate.stat("/nonexistent")))
	put("status", tostring(swupdate.RECOVERY_STATUS.FAILURE))
	put("mount", tostring(swupdate.mount("/nonexistent", "ext4")))
	return true
end'
	both_alike "$CASE/image.swu"
	grep -qx "myboard 1.0" "$CASE/result-swinstall/rootfs/hw" || fail "get_hw"
}

# false in postinst: both refuse, neither switches the boot selection
# (their failure markers differ by design, lib.sh and README).
case_oracle_false() {
	oracle_case 'function postinst() put("post") return false, "no" end'
	both "$CASE/image.swu"
	[ "$ORACLE_RC" -ne 0 ] || fail "oracle swupdate accepted the image"
	[ "$SWI_RC" -ne 0 ] || fail "swinstall accepted the image"
	for r in swupdate swinstall; do
		grep -qx rootpart=2 "$CASE/result-$r/env" || fail "$r switched the boot selection"
		[ -e "$CASE/result-$r/rootfs/post" ] || fail "$r did not run postinst"
	done
}

# A difference by design: with installed-directly and the image first in
# the archive, swupdate writes the image before preinst runs; swinstall
# spools it and runs preinst first (preinst sees the old slot).
case_oracle_installed_directly_order() {
	DEV="$CASE/dev"
	fresh_device
	mkdir -p "$CASE/w"
	mk_data "$CASE/w/rootfs.img" 300K "rootfs-$T_NUM"
	lua_script "$CASE/w/setup.lua" "function preinst()
	local f = assert(io.open(\"$DEV/rootfs/pre\", \"w\")) f:write(slot(), \"\\n\") f:close()
	return true
end"
	lua_image "$CASE/image.swu" "rootfs.img setup.lua" 'type = "lua";' 'installed-directly = true;'
	both "$CASE/image.swu"
	[ "$ORACLE_RC" -eq 0 ] || fail "oracle swupdate failed: $(grep ERROR "$CASE/swupdate.log" | head -n3)"
	expect_rc 0
	grep -qx new "$CASE/result-swupdate/rootfs/pre" || fail "swupdate now runs preinst first"
	grep -qx old "$CASE/result-swinstall/rootfs/pre" || fail "swinstall's preinst saw the new slot"
	cmp -s "$CASE/result-swupdate/slotB.img" "$CASE/result-swinstall/slotB.img" ||
		fail "slot B differs"
}

if why=$(oracle_unusable); then
	echo "ok - lua against swupdate # SKIP $why"
elif ! oracle_begin "${ORACLE_LOCK_WAIT:-120}"; then
	echo "ok - lua against swupdate # SKIP another run still holds $ORACLE_LOCK"
else
	run_case "lua vs swupdate: data, results and os.execute leave the same device" case_oracle_data_and_os_execute
	run_case "lua vs swupdate: no type, missing functions, data '' alike" case_oracle_missing_functions
	run_case "lua vs swupdate: getroot, get_hw, stat, constants, a failing mount alike" case_oracle_module_queries
	run_case "lua vs swupdate: postinst false refused by both, no switch" case_oracle_false
	run_case "lua vs swupdate: installed-directly image first: swupdate writes before preinst, swinstall spools" case_oracle_installed_directly_order
	oracle_end
fi

t_done
