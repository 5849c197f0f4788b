/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "postinstall": a script of the image run once everything is
 * written and verified, before the commit, as "SCRIPT DATA..." (the words
 * of the entry's "data"; no phase argument, as in SWUpdate). Executed
 * directly, not through a shell. See lib/script.h.
 */
#include "script.h"

static int postinstall_run(struct swi_target *t, enum swi_phase phase)
{
	return swi_script_run(t, phase, false);
}

const struct swi_handler swi_handler_postinstall =
	SWI_SCRIPT_HANDLER("postinstall", SWI_PHASE_AFTER, postinstall_run);
