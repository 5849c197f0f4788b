/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image sources: a file or a file descriptor as a stream of bytes for
 * lib/swu.c. Shared by installs and by swi_info_*(). Private. */
#ifndef SWI_SOURCE_H
#define SWI_SOURCE_H

#include <stdint.h>
#include <sys/types.h>
#include "context.h"
#include "swu.h"

struct swi_fd_source {
	swi_ctx_t *ctx;
	int fd;
};

/* swi_read_fn over src->fd (a struct swi_fd_source). A signal interrupts a
 * read that waits on a pipe: when it asked for a cancel, the read fails
 * with ECANCELED instead of waiting on. */
ssize_t swi_fd_read(void *src, void *buf, size_t len);

/* Files and block devices are read ahead on a thread of ours (their reads
 * always return soon); pipes and sockets on the caller's, so that stopping
 * never waits for a read that may not return. */
enum swi_swu_mode swi_fd_mode(int fd);

/* The bytes a source will give, when they are known: for swi_fd_read() on a
 * regular file, what lies from the file's position on. 0 when unknown: a
 * pipe or a socket, the caller's own function, and a block device too (an
 * image ends where its archive does, well before the device may). */
uint64_t swi_source_size(swi_read_fn fn, const void *user);

/* Opens an image file for one sequential read; SWI_EINVAL naming the path
 * when it cannot be opened. */
int swi_open_image(swi_ctx_t *ctx, const char *path, int *fd);

/* The save-to copy: the image an install reads, written to FILE.part as
 * it is read, renamed FILE when the install succeeded. */
struct swi_tee {
	swi_ctx_t *ctx;
	swi_read_fn fn;   /* the source read through */
	void *user;
	char *part;       /* FILE.part; NULL: no copy is made */
	int fd;
	int write_errno;  /* of the write that failed, 0 */
};

/* With save-to set, creates FILE.part and makes *fn and *user read through
 * tee, copying what they read; without, leaves them as they are. */
int swi_tee_open(swi_ctx_t *ctx, struct swi_tee *tee, swi_read_fn *fn, void **user);
/* Ends the copy. After an install that returned SWI_OK (rc), reads the
 * rest of the source (what follows the archive's trailer), syncs the copy
 * and renames it FILE; otherwise removes FILE.part. Returns rc, or
 * SWI_EIO naming the file when the copy failed. */
int swi_tee_close(struct swi_tee *tee, int rc);

#endif
