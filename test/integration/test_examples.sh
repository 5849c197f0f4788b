#!/bin/sh
# The files in examples/ work: build-swu.sh builds images swinstall installs,
# the swugenerator template builds with README.md's swugenerator command (run
# as the README states it), swinstall.conf parses, demo.sh runs to the end.
# Usage: SWINSTALL=build/swinstall sh test/integration/test_examples.sh
. "$(dirname "$0")/lib.sh"
EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd)
t_init

# The examples name real devices; the simulated device has files.
to_device() {
	sed -e "s|/dev/mmcblk0p2|$DEV/slotA.img|; s|/dev/mmcblk0p3|$DEV/slotB.img|" \
		-e "s|/dev/mmcblk0boot0|$DEV/boot0.img|; s|/dev/mmcblk0p5|$DEV/firmware.img|" \
		-e "s|/data/app/|$DEV/data/app/|" "$1"
}

# build_swu_case SIGNING-ARGS CONF-KEY INSTALL-ARGS
build_swu_case() {
	DEV=$CASE/dev
	make_device "$DEV" "$2"
	mkdir w
	mk_data w/rootfs.ext4 500K rootfs
	gzip -n -c w/rootfs.ext4 >w/rootfs.ext4.gz
	to_device "$EXAMPLES/sw-description" >w/sw-description
	# shellcheck disable=SC2086
	sh "$EXAMPLES/build-swu.sh" $1 -o u.swu w || fail "build-swu.sh failed"
	[ "$(cpio -it <u.swu 2>/dev/null | head -n1)" = sw-description ] || fail "sw-description is not first"
	# shellcheck disable=SC2086
	swi "$DEV" -e stable,copy2 $3 -i u.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 w/rootfs.ext4
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
	expect_env "$DEV" upgrade_available 1
}
case_build_cms() { build_swu_case "-k $KEYS/signer.key -c $KEYS/signer.pem" "$KEYS/ca.pem" ""; }
case_build_newc() { build_swu_case "-F newc -k $KEYS/signer.key -c $KEYS/signer.pem" "$KEYS/ca.pem" ""; }
case_build_rsa() { build_swu_case "-r $KEYS/rsa.key" "$KEYS/rsa.pub" ""; }
case_build_unsigned() { build_swu_case "-u" "" "--insecure"; }

case_build_missing_artifact() {
	mkdir w
	cp "$EXAMPLES/sw-description" w/
	if sh "$EXAMPLES/build-swu.sh" -u -o u.swu w 2>err; then
		fail "build-swu.sh built an image without its artifact"
	fi
	grep -q rootfs.ext4.gz err || fail "build-swu.sh does not name the missing file: $(cat err)"
}

case_extras() {
	DEV=$CASE/dev
	make_device "$DEV"
	echo "firmware 4.2" >>"$DEV/sw-versions"
	yes "eMMC boot partition" | head -c 1M >"$DEV/boot0.img"
	cp "$DEV/boot0.img" boot0.orig
	yes "firmware 4.2" | head -c 64K >"$DEV/firmware.img"
	cp "$DEV/firmware.img" firmware.orig
	mkdir w
	mk_data w/u-boot.imx 100K uboot
	mk_data w/firmware.bin 32K firmware
	zstd -q -c w/firmware.bin >w/firmware.bin.zst
	printf 'bootdelay=3\nbootcount=\n' >w/uboot-vars.txt
	printf 'mode=production\n' >w/app.conf
	to_device "$EXAMPLES/sw-description-extras" >w/sw-description
	sh "$EXAMPLES/build-swu.sh" -k "$KEYS/signer.key" -c "$KEYS/signer.pem" -o u.swu w ||
		fail "build-swu.sh failed"
	swi "$DEV" -i u.swu
	expect_rc 0
	expect_bytes "$DEV/boot0.img" 8192 w/u-boot.imx
	expect_region_unchanged "$DEV/boot0.img" boot0.orig 0 8192
	cmp -s "$DEV/firmware.img" firmware.orig || fail "firmware.img written despite install-if-different"
	cmp -s "$DEV/data/app/app.conf" w/app.conf || fail "app.conf not installed"
	expect_env "$DEV" bootdelay 3
	expect_env_absent "$DEV" bootcount
	expect_env "$DEV" upgrade_available 1
	expect_env "$DEV" ustate 1
	expect_env "$DEV" rootpart 2
	expect_env_absent "$DEV" recovery_status
	expect_slots_untouched "$DEV"
}

# readme_block WORD: the ```sh block of README.md's "Building an image"
# section that holds WORD, as it stands there.
readme_block() {
	awk -v word="$1" '
		/^## / { section = ($0 == "## Building an image") }
		section && /^```/ {
			if (inblock && index(block, word)) printf "%s", block
			inblock = !inblock
			block = ""
			next
		}
		inblock { block = block $0 "\n" }
	' "$EXAMPLES/../README.md"
}

# README.md's swugenerator command, run exactly as written in the layout the
# README names (sw-description.in, key.pem, cert.pem and artifacts/ in the
# working directory), with the template of examples/swugenerator/.
case_swugenerator_readme() {
	DEV=$CASE/dev
	make_device "$DEV"
	readme_block swugenerator >build.sh
	grep -q swugenerator build.sh || fail "README.md's 'Building an image' has no swugenerator block"
	mkdir artifacts
	yes "root filesystem" | head -c 300K >artifacts/rootfs.ext4
	printf 'mode=production\n' >artifacts/app.conf
	to_device "$EXAMPLES/swugenerator/sw-description.in" >sw-description.in
	cp "$KEYS/signer.key" key.pem
	cp "$KEYS/signer.pem" cert.pem
	sh -e build.sh || fail "README.md's swugenerator command failed: $(cat build.sh)"
	swi "$DEV" -e stable,copy2 -i update.swu
	expect_rc 0
	expect_bytes "$DEV/slotB.img" 0 artifacts/rootfs.ext4
	cmp -s "$DEV/data/app/app.conf" artifacts/app.conf || fail "app.conf not installed"
	expect_slot_a_untouched "$DEV"
	expect_committed "$DEV" 3
}

# examples/swinstall.conf, its paths moved to the simulated device.
case_example_conf() {
	DEV=$CASE/dev
	make_device "$DEV"
	sed -e "s|/etc/swinstall/ca.pem|$KEYS/ca.pem|; s|/etc/fw_env.config|$DEV/fw_env.config|" \
		-e "s|/etc/hwrevision|$DEV/hwrevision|; s|/etc/sw-versions|$DEV/sw-versions|" \
		-e "s|/dev/mmcblk0p2|$DEV/slotA.img|; s|/dev/mmcblk0p3|$DEV/slotB.img|" \
		-e "s|# cmdline-file = \"/proc/cmdline\"|cmdline-file = \"$DEV/cmdline\"|" \
		"$EXAMPLES/swinstall.conf" >"$DEV/swinstall.conf"
	echo "root=$DEV/slotA.img rw" >"$DEV/cmdline"
	ab_image u.swu cms crc
	# no -e: the configured slots make slot B the standby one
	swi "$DEV" -i u.swu
	expect_installed_in_b "$DEV"
}

case_demo() {
	mkdir b
	ln -s "$SWINSTALL" b/swinstall
	sh "$EXAMPLES/demo.sh" b >demo.out 2>&1 || fail "demo.sh exited $?: $(tail -n 5 demo.out)"
	grep -q '+ rootpart=3' demo.out || fail "demo does not show the switch to rootpart=3"
	grep -q 'slot B: "system 2.0' demo.out || fail "demo's slot B does not hold update 2.0"
	grep -q 'ustate=2: testing' demo.out || fail "demo does not show the testing state after the reboot"
	grep -q 'slot B confirmed' demo.out || fail "demo's mark-good did not confirm slot B"
	grep -q 'rollback: slot B boots next' demo.out || fail "demo's rollback did not go back to slot B"
	# After the reboot into B, status shows B's versions, not the factory's.
	tail -n 12 demo.out | grep -q 'installed: *rootfs 2.0.0' ||
		fail "demo's last status does not show the running slot's version 2.0.0"
	grep -q 'rollback: *possible' demo.out || fail "demo's status does not say a rollback is possible"
	# fresh each run
	sh "$EXAMPLES/demo.sh" b >demo.out 2>&1 || fail "second demo.sh run exited $?"
	grep -q 'next boot:       A' demo.out || fail "second run did not start from a fresh device"
}

run_case "build-swu.sh, CMS, installs" case_build_cms
run_case "build-swu.sh, newc" case_build_newc
run_case "build-swu.sh, RSA" case_build_rsa
run_case "build-swu.sh, unsigned + --insecure" case_build_unsigned
run_case "build-swu.sh refuses a missing artifact" case_build_missing_artifact
run_case "examples/sw-description-extras installs" case_extras
run_case "README's swugenerator command builds examples/swugenerator/sw-description.in; it installs" case_swugenerator_readme
run_case "examples/swinstall.conf" case_example_conf
run_case "examples/demo.sh runs, fresh each time" case_demo
t_done
