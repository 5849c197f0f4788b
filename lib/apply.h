/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The commit a staged install keeps for swi_apply(): a file in the state
 * directory holding the environment write the install would have made, the
 * slot it wrote, the slot that ran then and the image's version. Private.
 */
#ifndef SWI_APPLY_H
#define SWI_APPLY_H

#include <stdbool.h>
#include "attrs.h"
#include "context.h"

#define SWI_STAGED_FILE "staged-commit"

struct swi_staged {
	bool present;
	char *slot;           /* "" when the install wrote no slot */
	char *running;        /* "" without slots */
	char *version;        /* "" when the image has none */
	struct swi_attrs vars; /* the commit's environment write */
};

/* Writes the file atomically (a temporary file, fsync, rename, fsync of
 * the directory); NULL strings are kept as "". */
int swi_staged_save(swi_ctx_t *ctx, const char *slot, const char *running,
		    const char *version, const struct swi_attrs *vars);
/* Reads the file; out->present is false when there is none. */
int swi_staged_load(swi_ctx_t *ctx, struct swi_staged *out);
void swi_staged_free(struct swi_staged *s);
/* Removes the file, durably; none is fine. why (or NULL: nothing) goes
 * into the log when there was one: what discarded it. */
int swi_staged_discard(swi_ctx_t *ctx, const char *why);

/* The variable holding the version installed in slot (NULL: the device
 * without slots): swinstall_version_NAME, or swinstall_version. */
int swi_version_var(swi_ctx_t *ctx, const char *slot, char *out, size_t size);

#endif
