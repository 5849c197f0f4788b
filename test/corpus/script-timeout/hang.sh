#!/bin/sh
# A preinstall script that never ends (a child of its own included).
sleep 600 &
sleep 600
