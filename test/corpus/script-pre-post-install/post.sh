#!/bin/sh
# postinstall: $1 is the file to write (its data)
echo ran >"$1"
