/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "shellscript": a script of the image run before anything is
 * written ("SCRIPT preinst DATA..."), once everything is written and
 * verified, before the commit ("SCRIPT postinst DATA..."), and when the
 * install failed ("SCRIPT postfailure DATA...", its result only logged),
 * as SWUpdate runs it; DATA are the words of the entry's "data". The
 * script is executed directly, not through a shell: it needs its "#!"
 * line. See lib/script.h.
 */
#include "script.h"

static int shellscript_run(struct swi_target *t, enum swi_phase phase)
{
	return swi_script_run(t, phase, true);
}

const struct swi_handler swi_handler_shellscript =
	SWI_SCRIPT_HANDLER("shellscript", SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE,
			   shellscript_run);
