#!/bin/sh
# $1: the phase; $2: the root file system. postinst fails; postfailure
# leaves a mark that it ran.
case "$1" in
postinst) echo "cannot finish the update" >&2; exit 2 ;;
postfailure) echo ran >"$2/etc/postfailure-ran" ;;
esac
