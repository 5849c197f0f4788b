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

const struct swi_handler swi_handler_shellscript = {
	.size = SWI_HANDLER_SIZE,
	.name = "shellscript",
	.kinds = SWI_HANDLER_SCRIPT,
	.attributes = swi_script_attributes,
	.open = swi_script_open,
	.write = swi_script_write,
	.close = swi_script_close,
	.abort = swi_script_abort,
	.state_size = sizeof(struct swi_script),
	.phases = SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE,
	.run = shellscript_run,
};
