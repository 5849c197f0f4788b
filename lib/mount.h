/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Entries that write into a filesystem (attributes "device" and
 * "filesystem", on rawfile and archive entries): the device is mounted on
 * a private directory with mount(2), no shell, before the handler opens,
 * and always unmounted when the entry is done with (closed, committed or
 * aborted). Private.
 *
 * As SWUpdate does, the device is passed to mount(2) as it is written (a
 * path: UUID= and LABEL= forms are refused, since the core could not
 * check such a device against the running slot and the mounts), with no
 * mount options; swinstall adds nosuid, nodev, noexec and noatime, which
 * only restrict what this private mount point allows.
 */
#ifndef SWI_MOUNT_H
#define SWI_MOUNT_H

#include <stdbool.h>
#include "handler.h"

/* Whether t's entry writes into a filesystem it mounts (it names one). */
bool swi_target_mounts(const struct swi_target *t);
/* At planning, changing nothing: t's entry names its device with the
 * filesystem, as a path, and the device exists (swi_target_missing()
 * otherwise, which a dry run only warns about). */
int swi_target_check_mount(struct swi_target *t);
/* Mounts t's device when the entry names a filesystem (t->mount_dir set);
 * nothing otherwise. */
int swi_target_mount(struct swi_target *t);
/* Syncs and unmounts what swi_target_mount() mounted, and removes the
 * directory; nothing when nothing is mounted. Safe to call again. Frees
 * t->mount_dir and t->path (a path inside the mount). */
void swi_target_unmount(struct swi_target *t);
/*
 * The same without an entry (the swupdate module's mount()): device
 * mounted as fstype on a new directory of scratch, *dir (malloc'd), after
 * the same refusal of a device someone else holds; the message names no
 * member. swi_unmount_dir() syncs, unmounts and removes dir, logging what
 * fails as "label: ...".
 */
int swi_mount_device(swi_ctx_t *ctx, struct swi_scratch *scratch, const char *device,
		     const char *fstype, char **dir);
void swi_unmount_dir(swi_ctx_t *ctx, const char *label, const char *dir);
/*
 * path (as the entry's "path" attribute writes it, relative to the mount
 * point, a leading "/" meaning its root) inside t's mounted filesystem, in
 * *out (malloc'd). Every component that exists must be no symbolic link:
 * a link inside the filesystem is not followed, wherever it points.
 * path must hold no ".." component (the caller refused it).
 */
int swi_target_mounted_path(struct swi_target *t, const char *path, char **out);

#endif
