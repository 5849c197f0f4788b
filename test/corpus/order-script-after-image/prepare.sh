#!/bin/sh
# $1: the phase; $2: the standby slot; $3: the root file system.
# preinst records whether the slot still holds what it held before the
# install (the simulated standby slot starts with "slot B: old standby").
case "$1" in
preinst)
	if [ "$(head -c 19 "$2")" = "slot B: old standby" ]; then
		echo untouched >"$3/etc/slot-before-preinst"
	else
		echo written >"$3/etc/slot-before-preinst"
	fi ;;
esac
