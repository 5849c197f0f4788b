#!/bin/sh
# $1: the phase; $2: the data of its entry, here the root file system
case "$1" in
preinst) echo "migrating $2" ;;
postinst) echo migrated >"$2/etc/migrated" ;;
esac
