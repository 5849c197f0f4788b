#!/bin/sh
# The corpus (test/corpus/, see test_corpus.sh) against Debian's swupdate:
# every case with oracle=same or oracle=differs is built and installed by
# swupdate and by swinstall, each on an identical, fresh simulated device.
# One "ok -" line per image compared:
#   oracle=same     same exit class (success or failure); after a success
#                   every target's bytes (slots, boot partition, installed
#                   files) and every environment variable are the same
#                   (fw_printenv, not bytes: libubootenv keeps stale bytes);
#                   after a failure both left slot A and rootpart alone
#   oracle=differs  swupdate's result is the one the case documents (its
#                   why= says why swinstall differs) and swinstall's is
#                   the one the case expects
# How swupdate is run, and the lock shared with the other differential
# test and the bench: lib.sh, "the oracle". Skips (one "ok - # SKIP" line)
# when swupdate cannot run here or the lock stays held ORACLE_LOCK_WAIT s.
#
# Usage: SWINSTALL=build/swinstall [CORPUS_FEATURES=...] [CORPUS_CASES="A B"]
#        [ORACLE_LOCK_WAIT=SECONDS] sh test/integration/test_corpus_swupdate.sh
. "$(dirname "$0")/corpus.sh"
corpus_swupdate
