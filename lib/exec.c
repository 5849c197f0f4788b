/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running programs (see exec.h). CONTRACT PLACEHOLDER: replaced by the scripts work. */
#include "exec.h"

int swi_run_program(swi_ctx_t *ctx, const char *what, const char *const argv[],
		    const char *const env[], long timeout)
{
	(void)argv; (void)env; (void)timeout;
	return swi_fail(ctx, SWI_EUNSUPPORTED, "%s: running programs is not built yet", what);
}

int swi_split_command(swi_ctx_t *ctx, const char *command, char ***argv)
{
	(void)command; (void)argv;
	return swi_fail(ctx, SWI_EUNSUPPORTED, "commands are not built yet");
}
