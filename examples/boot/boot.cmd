# U-Boot boot script: A/B slots with boot counting, for swinstall.
#
# Build the script image U-Boot loads (e.g. from the boot partition):
#   mkimage -A arm64 -O linux -T script -C none -n "swinstall A/B boot" -d boot.cmd boot.scr
#
# Environment variables (see README.md):
#   rootpart           partition of the slot to boot: 2 = slot A, 3 = slot B
#   ustate             0 ok, 1 installed (first boot pending), 2 testing, 3 failed/rolled back
#   upgrade_available  1 while a new slot is on trial: boots are counted
#   bootcount          boots counted since the new slot was first started
#   bootlimit          boots allowed before falling back (default 3)
#
# This script counts boots itself. If U-Boot is built with
# CONFIG_BOOTCOUNT_LIMIT and CONFIG_BOOTCOUNT_ENV, U-Boot increments bootcount
# on its own while upgrade_available=1: drop the setexpr line below then, or
# every boot is counted twice.

# Defaults for an environment that lacks the variables.
if test -z "${rootpart}"; then setenv rootpart 2; fi
if test -z "${bootlimit}"; then setenv bootlimit 3; fi
if test -z "${bootcount}"; then setenv bootcount 0; fi
if test -z "${ustate}"; then setenv ustate 0; fi
if test -z "${upgrade_available}"; then setenv upgrade_available 0; fi
if test -z "${devtype}"; then setenv devtype mmc; fi
if test -z "${devnum}"; then setenv devnum 0; fi

# First boot of a freshly installed slot (swinstall committed ustate=1):
# put it on trial.
if test "${ustate}" = "1"; then
	setenv ustate 2
	setenv upgrade_available 1
	setenv bootcount 0
fi

# A slot on trial: count this boot; past the limit, go back to the other slot.
# (setexpr computes in hexadecimal; with small limits that makes no difference.)
if test "${upgrade_available}" = "1"; then
	setexpr bootcount ${bootcount} + 1
	if test ${bootcount} -gt ${bootlimit}; then
		echo "slot on partition ${rootpart} was not confirmed after ${bootlimit} boots: falling back"
		if test "${rootpart}" = "2"; then
			setenv rootpart 3
		else
			setenv rootpart 2
		fi
		setenv ustate 3
		setenv upgrade_available 0
		setenv bootcount 0
	fi
	saveenv
fi

# The slot's name goes on the kernel command line: swinstall finds the
# running slot by it (swinstall.slot=).
if test "${rootpart}" = "3"; then
	setenv slot B
else
	setenv slot A
fi
echo "booting slot ${slot} (${devtype} ${devnum}:${rootpart}, ustate=${ustate}, bootcount=${bootcount})"

setenv bootargs "${console_args} root=/dev/mmcblk${devnum}p${rootpart} rootwait ro swinstall.slot=${slot}"
if load ${devtype} ${devnum}:${rootpart} ${kernel_addr_r} /boot/Image; then
	if load ${devtype} ${devnum}:${rootpart} ${fdt_addr_r} /boot/board.dtb; then
		booti ${kernel_addr_r} - ${fdt_addr_r}
	fi
fi

# Nothing booted. A slot on trial has had this attempt counted, so resetting
# retries it until the limit sends us back to the other slot.
echo "slot ${slot}: kernel or device tree could not be loaded"
if test "${upgrade_available}" = "1"; then
	reset
fi
