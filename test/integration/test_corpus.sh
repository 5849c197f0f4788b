#!/bin/sh
# The corpus: every test/corpus/NAME/ is one sw-description in the style of
# a real project, with a `case` file saying how to build it and what
# swinstall must answer (test/corpus/README.md has the format). For each
# case this script builds the image (swugenerator, the case's own post-image
# script, or cpio and openssl), then checks, one "ok -" line each:
#   NAME: build      the image was made
#   NAME: info       `swinstall info` (and its --json, which must parse)
#   NAME: check      -c
#   NAME: dry run    -n (on real device paths it warns and succeeds)
#   NAME: install    a real install into the simulated device's files,
#                    then the case's checks of slots, files and environment
# An expected refusal is checked by its exit code and its message.
# test_corpus_swupdate.sh installs the same images with Debian's swupdate.
#
# Cases name feature groups they depend on (needs=). While a feature is not
# in this build yet, CORPUS_FEATURES="base info ..." lists the groups to
# expect; the steps of the others are listed as "# skip" lines (not counted).
# By default every group is expected, so a missing feature fails loudly.
# Groups: base, info (the info command), json (JSON sw-descriptions), crypt
# (-K decryption), buildhost (-n without the targets, handlers missing from
# this build refused alike by -c, -n and install), guards (version guards).
#
# Usage: SWINSTALL=build/swinstall [CORPUS_FEATURES=...] [CORPUS_CASES="A B"]
#        sh test/integration/test_corpus.sh
. "$(dirname "$0")/corpus.sh"
corpus_local
