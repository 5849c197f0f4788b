/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The install's private scratch directory: made on first use under the
 * configured tmpdir, mode 0700, named "swinstall-XXXXXX"; scripts are
 * written there before they run, and artifacts that must wait for a
 * "before" script are spooled there. Removed with everything in it when
 * the install ends, however it ends. Private.
 */
#ifndef SWI_SCRATCH_H
#define SWI_SCRATCH_H

#include "context.h"

struct swi_scratch {
	swi_ctx_t *ctx;
	char *dir;        /* NULL until made */
};

/* The directory, made when it is not yet. */
int swi_scratch_dir(struct swi_scratch *s, const char **dir);
/* Removes the files in it (it holds no subdirectories) and it. */
void swi_scratch_remove(struct swi_scratch *s);

#endif
