/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entries that write into a filesystem (attributes "device" and
 * "filesystem", on rawfile and archive entries): the device is mounted on
 * a private directory with mount(2), no shell, before the handler opens,
 * and always unmounted when the entry is done with (closed, committed or
 * aborted). Private.
 */
#ifndef SWI_MOUNT_H
#define SWI_MOUNT_H

#include "handler.h"

/* Mounts t's device when the entry names a filesystem (t->mount_dir set);
 * nothing otherwise. */
int swi_target_mount(struct swi_target *t);
/* Syncs and unmounts what swi_target_mount() mounted, and removes the
 * directory; nothing when nothing is mounted. Safe to call again. */
void swi_target_unmount(struct swi_target *t);

#endif
