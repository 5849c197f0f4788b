/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Files an install stages before its commit (a rawfile's new content beside
 * the old file, later spooled artifacts), and the journal that makes sure
 * none of them outlives an interrupted install. Private.
 *
 * The journal is a file in the state directory (option state-dir) listing
 * the path of every staged file, written and synced before the file is
 * created. An install that ends, well or not, has renamed or removed each
 * of them and deletes the journal; one killed on the way (SIGKILL, a power
 * cut) leaves it, and the next command that takes the lock removes the
 * files it lists (only names of the staged form, never anything else).
 */
#ifndef SWI_STAGING_H
#define SWI_STAGING_H

#include <stdbool.h>
#include "context.h"

struct swi_journal {
	swi_ctx_t *ctx;
	int fd;          /* -1: not opened */
	char *path;
};

/* Creates the state directory and the journal; before anything is staged. */
int swi_journal_open(swi_ctx_t *ctx, struct swi_journal *j);
/* Records dir/name, synced, before the file is created (opening the
 * journal first when needed: j->ctx must be set). */
int swi_journal_record(struct swi_journal *j, const char *dir, const char *name);
/* Every staged file is in place or removed: the journal goes. */
void swi_journal_close(struct swi_journal *j);

/* Removes the staged files an interrupted install left, and its journal.
 * Called with the lock held. */
int swi_journal_recover(swi_ctx_t *ctx);

/* state-dir/name, malloc'd (NULL when out of memory). */
char *swi_state_file(swi_ctx_t *ctx, const char *name);

/* fsync() of the directory dir, which makes the entries made or renamed
 * in it durable; 0, or -1 with errno set. */
int swi_sync_dir(const char *dir);

/* Writes all len bytes of buf to fd (again after EINTR or a short
 * write); 0, or -1 with errno set. */
int swi_write_all(int fd, const void *buf, size_t len);

/* See swi_target_open_dir(); messages are recorded in ctx. */
int swi_open_dir_nofollow(swi_ctx_t *ctx, const char *path, bool create, int *dirfd);

/* Creates dirfd/".NAME.swinstall-XXXXXX" (O_EXCL, mode 0600), recorded in
 * j first when j is not NULL. */
int swi_create_staged(swi_ctx_t *ctx, struct swi_journal *j, int dirfd, const char *dir,
		      const char *name, char *tmpname, size_t size, int *fd);

#endif
