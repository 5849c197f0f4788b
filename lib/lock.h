/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The lock of the commands that write a target or the bootloader
 * environment. Private. */
#ifndef SWI_LOCK_H
#define SWI_LOCK_H

#include "context.h"

/* Takes the exclusive lock of option lock-file, waiting as option lock-wait
 * says. *fd holds it until swi_lock_release(). SWI_EBUSY (naming the
 * holder's pid) when another process holds it; SWI_ECANCELED when
 * swi_cancel() ended the wait. Once it holds the lock, it removes the files
 * an interrupted holder left staged (see staging.h). */
int swi_lock_take(swi_ctx_t *ctx, int *fd);
void swi_lock_release(int fd);

#endif
