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

const struct swi_handler swi_handler_postinstall = {
	.size = SWI_HANDLER_SIZE,
	.name = "postinstall",
	.kinds = SWI_HANDLER_SCRIPT,
	.attributes = swi_script_attributes,
	.open = swi_script_open,
	.write = swi_script_write,
	.close = swi_script_close,
	.abort = swi_script_abort,
	.state_size = sizeof(struct swi_script),
	.phases = SWI_PHASE_AFTER,
	.run = postinstall_run,
};
