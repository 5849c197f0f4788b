/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Members held back: an artifact whose member arrives before a script of
 * the "before" phase is copied, as stored in the image (still compressed,
 * still encrypted, hashed only when it is written later), into the
 * install's private directory, and written once that phase ran. Private.
 */
#ifndef SWI_SPOOL_H
#define SWI_SPOOL_H

#include <stdint.h>
#include "scratch.h"
#include "swu.h"

struct swi_spooled {
	char *name;       /* the member */
	char *path;       /* its copy */
	uint64_t size;
};

struct swi_spool {
	swi_ctx_t *ctx;
	struct swi_spooled *items;  /* in the order they arrived */
	size_t count;
};

/*
 * Copies the rest of the current member m of r into the scratch
 * directory. The space is checked from the member's size in its cpio
 * header first: a member that would leave the directory's file system
 * with less than the reserve (min-free-space) is refused (SWI_EIO) before
 * a byte is copied. waits_for names the script it waits for (messages).
 */
int swi_spool_member(struct swi_spool *sp, struct swi_scratch *scratch, struct swi_swu *r,
		     const struct swi_member *m, const char *waits_for);
/* Removes item i's copy (its bytes were written). */
void swi_spool_release(struct swi_spool *sp, size_t i);
void swi_spool_free(struct swi_spool *sp);

#endif
