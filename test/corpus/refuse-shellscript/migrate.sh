#!/bin/sh
case "$1" in preinst) echo migrating ;; esac
