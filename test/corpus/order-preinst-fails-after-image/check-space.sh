#!/bin/sh
# A preinst that refuses the update (here always: "not enough space").
case "$1" in
preinst) echo "not enough space for the update" >&2; exit 1 ;;
esac
