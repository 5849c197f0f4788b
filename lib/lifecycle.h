/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the install and the life-cycle commands share about the update
 * state kept in the bootloader environment. Private. */
#ifndef SWI_LIFECYCLE_H
#define SWI_LIFECYCLE_H

#include "attrs.h"
#include "bootenv.h"
#include "context.h"

/*
 * The variable listing the slots that hold a complete system: the running
 * slot when an install into another one starts, and the slot an install
 * committed; a slot leaves it when an install into it starts. A rollback
 * goes only to a slot in it (unless forced).
 */
#define SWI_COMPLETE_VAR "swinstall_complete"

/* Adds the variables of a slot that boots with nothing pending to out:
 * mark-good-env, or SWUpdate's ustate=0, upgrade_available=0, bootcount=0. */
int swi_life_settled_vars(const swi_ctx_t *ctx, struct swi_attrs *out);

/* Sets SWI_COMPLETE_VAR in out to its value in env without slot `drop`
 * and with slot `add` (either may be NULL). */
int swi_life_complete_change(swi_ctx_t *ctx, struct swi_bootenv *env, const char *drop,
			     const char *add, struct swi_attrs *out);

/* The software version of the image at path as an install here would read
 * it (hardware, selection, hooks; the signature when a key is set), from
 * sw-description alone, without the lock. *version is malloc'd. */
int swi_read_image_version(swi_ctx_t *ctx, const char *path, char **version);

#endif
