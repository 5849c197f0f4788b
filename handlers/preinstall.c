/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "preinstall": a script of the image run once, before anything
 * is written, as "SCRIPT DATA..." (the words of the entry's "data"; no
 * phase argument, as in SWUpdate). Executed directly, not through a
 * shell. See lib/script.h.
 */
#include "script.h"

static int preinstall_run(struct swi_target *t, enum swi_phase phase)
{
	return swi_script_run(t, phase, false);
}

const struct swi_handler swi_handler_preinstall =
	SWI_SCRIPT_HANDLER("preinstall", SWI_PHASE_BEFORE, preinstall_run);
