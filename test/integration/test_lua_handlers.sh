#!/bin/sh
# Lua handlers: a device's swupdate_handlers.lua (found through LUA_PATH) or
# the file of the option lua-handlers registers a handler that points the
# entry at the standby slot and chains to raw; a signed image of that type
# installs into the slot, `swinstall -v` lists the handler, and a chained
# write into the running slot is refused. Compared with Debian's swupdate
# (lib.sh, "the oracle"), which loads swupdate_handlers with require when it
# starts: the same image leaves the same device state.
#
# Usage: SWINSTALL=build/swinstall sh test/integration/test_lua_handlers.sh
. "$(dirname "$0")/lib.sh"

t_init

# lua_handlers FILE TARGET: a handler file registering "luaraw" (images),
# which writes its entry into TARGET through raw.
lua_handlers() {
	cat >"$1" <<EOF
swupdate.info("Lua handlers of the test device loaded")
function luaraw(image)
	image.device = "$2"
	local err, msg = swupdate.call_handler("raw", image)
	if err ~= 0 then
		swupdate.error("luaraw: " .. tostring(msg))
	end
	return err
end
swupdate.register_handler("luaraw", luaraw, swupdate.HANDLER_MASK.IMAGE_HANDLER)
EOF
}

# slotted_device DIR: the simulated device with its slots configured,
# slot A running.
slotted_device() {
	make_device "$1"
	echo "console=ttyS0 root=$1/slotA.img rootwait ro" >"$1/cmdline"
	echo "22 1 254:1 / / rw - ext4 /dev/unrelated-root rw" >"$1/mountinfo"
	slot_settings "$1" >>"$1/swinstall.conf"
}

# luaraw_image OUT [slots]: a signed image with one entry of type luaraw
# (no device of its own) and the boot selection of slot B; with "slots",
# in the selections of both slots (stable,copy1 and stable,copy2).
luaraw_image() {
	w="$CASE/w"
	mkdir -p "$w"
	mk_data "$w/rootfs.img" 300K "rootfs-$T_NUM"
	desc_images "$w" images rootfs.img 'type = "luaraw";'
	if [ "${2:-}" = slots ]; then
		h=$(sha "$w/rootfs.img")
		entry="images = ( { filename = \"rootfs.img\"; type = \"luaraw\"; sha256 = \"$h\"; } );"
		cat >"$w/sw-description" <<EOF
software = {
	version = "2.0.0";
	hardware-compatibility = [ "1.0" ];
	stable = {
		copy1 = { $entry };
		copy2 = { $entry };
	};
};
EOF
	fi
	mk_swu "$1" cms crc "$w" rootfs.img
}

case_lua_path() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	mkdir -p "$DEV/lua"
	lua_handlers "$DEV/lua/swupdate_handlers.lua" "$DEV/slotB.img"
	luaraw_image u.swu slots
	LUA_PATH="$DEV/lua/?.lua;;" swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
	expect_slot_a_untouched "$DEV"
}

case_option() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	lua_handlers "$DEV/handlers.lua" "$DEV/slotB.img"
	echo "lua-handlers = \"$DEV/handlers.lua\";" >>"$DEV/swinstall.conf"
	luaraw_image u.swu slots
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
	expect_slot_a_untouched "$DEV"
}

case_listed() {
	DEV=$CASE/dev
	make_device "$DEV"
	mkdir -p "$DEV/lua"
	lua_handlers "$DEV/lua/swupdate_handlers.lua" "$DEV/slotB.img"
	LUA_PATH="$DEV/lua/?.lua;;" swi "$DEV" -v
	expect_rc 0
	grep -q "handlers: luaraw (images), raw (images, files)" "$CASE/out" ||
		fail "-v does not list luaraw first: $(cat "$CASE/out")"
	swi "$DEV" -v
	expect_rc 0
	if grep -q luaraw "$CASE/out"; then fail "luaraw listed without LUA_PATH"; fi
}

case_running_slot_refused() {
	DEV=$CASE/dev
	slotted_device "$DEV"
	lua_handlers "$DEV/handlers.lua" "$DEV/slotA.img"
	echo "lua-handlers = \"$DEV/handlers.lua\";" >>"$DEV/swinstall.conf"
	luaraw_image u.swu slots
	swi "$DEV" -i u.swu
	expect_rc 4
	expect_err "is the running slot A"
	expect_slot_a_untouched "$DEV"
	expect_unchanged "$DEV" slotB.img
	expect_safe_failure "$DEV"
}

case_load_error() {
	DEV=$CASE/dev
	make_device "$DEV"
	printf 'local ok = 1\nswupdate.register_handler(\n' >"$DEV/handlers.lua"
	echo "lua-handlers = \"$DEV/handlers.lua\";" >>"$DEV/swinstall.conf"
	luaraw_image u.swu
	swi "$DEV" -i u.swu
	expect_rc 1
	expect_err "$DEV/handlers.lua:3:"
	expect_device_untouched "$DEV"
}

run_case "lua handlers: swupdate_handlers through LUA_PATH chains to raw into slot B" case_lua_path
run_case "lua handlers: the file of option lua-handlers" case_option
run_case "lua handlers: swinstall -v lists them" case_listed
run_case "lua handlers: call_handler into the running slot is refused" case_running_slot_refused
run_case "lua handlers: a file that does not load fails the install, nothing written" case_load_error

# ---------------------------------------------------------------- the oracle

# fresh_device: the device anew, with its handlers (no slots: swupdate has
# none; the image's bootenv switches).
fresh_device() {
	rm -rf "$DEV"
	make_device "$DEV"
	mkdir -p "$DEV/lua"
	lua_handlers "$DEV/lua/swupdate_handlers.lua" "$DEV/slotB.img"
}

case_same_as_swupdate() {
	DEV=$CASE/dev
	fresh_device
	luaraw_image u.swu
	LUA_PATH="$DEV/lua/?.lua;;"
	export LUA_PATH
	oracle_install fresh_device u.swu -k "$KEYS/ca.pem" -H myboard:1.0 -B uboot
	[ "$ORACLE_RC" -eq 0 ] ||
		fail "oracle swupdate failed: $(grep -E 'ERROR' "$CASE/swupdate.log" | head -n3)"
	grep -q "Lua handlers of the test device loaded" "$CASE/swupdate.log" ||
		fail "swupdate did not load swupdate_handlers at start"
	device_state "$DEV" "$CASE/result-swupdate"
	fresh_device
	swi "$DEV" -i u.swu
	expect_rc 0
	device_state "$DEV" "$CASE/result-swinstall"
	expect_same_state "$CASE/result-swupdate" "$CASE/result-swinstall"
	expect_bytes "$CASE/result-swinstall/slotB.img" 0 w/rootfs.img
}

if why=$(oracle_unusable); then
	echo "ok - lua handlers: same device state as swupdate # SKIP $why"
elif ! oracle_begin "${ORACLE_LOCK_WAIT:-120}"; then
	echo "ok - lua handlers: same device state as swupdate # SKIP the oracle's lock is held"
else
	run_case "lua handlers: a handler chaining to raw leaves the same state as swupdate" \
		case_same_as_swupdate
	oracle_end
fi

t_done
