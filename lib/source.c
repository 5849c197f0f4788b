/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image sources: files and file descriptors; the save-to copy of any. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "source.h"

ssize_t swi_fd_read(void *user, void *buf, size_t len)
{
	struct swi_fd_source *src = user;
	ssize_t n;
	do
		n = read(src->fd, buf, len);
	while (n < 0 && errno == EINTR && !swi_cancelled(src->ctx));
	if (n < 0 && errno == EINTR)
		errno = ECANCELED;
	return n;
}

enum swi_swu_mode swi_fd_mode(int fd)
{
	struct stat st;
	bool ahead = fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode));
	return ahead ? SWI_SWU_READ_AHEAD : SWI_SWU_INLINE;
}

uint64_t swi_source_size(swi_read_fn fn, const void *user)
{
	if (fn != swi_fd_read)
		return 0;
	const struct swi_fd_source *src = user;
	struct stat st;
	off_t at = lseek(src->fd, 0, SEEK_CUR);
	if (at < 0 || fstat(src->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= at)
		return 0;
	return (uint64_t)(st.st_size - at);
}

int swi_open_image(swi_ctx_t *ctx, const char *path, int *fd)
{
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0)
		return swi_fail(ctx, SWI_EINVAL, "%s: %s", path, strerror(errno));
	posix_fadvise(*fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return SWI_OK;
}

static ssize_t tee_read(void *user, void *buf, size_t len)
{
	struct swi_tee *tee = user;
	ssize_t n = tee->fn(tee->user, buf, len);
	for (ssize_t done = 0, w; n > 0 && done < n; done += w) {
		w = write(tee->fd, (char *)buf + done, (size_t)(n - done));
		if (w < 0 && errno == EINTR) {
			w = 0;
		} else if (w < 0) {
			/* The install fails on it: a copy was asked for. */
			tee->write_errno = errno;
			return -1;
		}
	}
	return n;
}

int swi_tee_open(swi_ctx_t *ctx, struct swi_tee *tee, swi_read_fn *fn, void **user)
{
	const char *path = ctx->opt.save_to;
	*tee = (struct swi_tee){ .ctx = ctx, .fn = *fn, .user = *user, .fd = -1 };
	if (!path)
		return SWI_OK;
	if (asprintf(&tee->part, "%s.part", path) < 0) {
		tee->part = NULL;
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	tee->fd = open(tee->part, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (tee->fd < 0) {
		int rc = swi_fail(ctx, SWI_EIO, "save-to %s: %s", tee->part, strerror(errno));
		free(tee->part);
		tee->part = NULL;
		return rc;
	}
	*fn = tee_read;
	*user = tee;
	return SWI_OK;
}

/* Reads the source to its end through the copy. */
static int copy_rest(struct swi_tee *tee)
{
	char buf[65536];
	ssize_t n;
	while ((n = tee_read(tee, buf, sizeof(buf))) > 0)
		;
	if (n == 0)
		return SWI_OK;
	if (tee->write_errno)
		return SWI_EIO;
	return swi_fail(tee->ctx, SWI_EIO, "save-to %s: reading the rest of the image failed: %s",
			tee->ctx->opt.save_to, strerror(errno));
}

int swi_tee_close(struct swi_tee *tee, int rc)
{
	if (!tee->part)
		return rc;
	const char *path = tee->ctx->opt.save_to;
	if (rc == SWI_OK)
		rc = copy_rest(tee);
	if (rc == SWI_OK && fsync(tee->fd) < 0)
		tee->write_errno = errno;
	if (close(tee->fd) < 0 && !tee->write_errno)
		tee->write_errno = errno;
	if (tee->write_errno)
		rc = swi_fail(tee->ctx, SWI_EIO, "save-to %s: writing failed: %s", tee->part,
			      strerror(tee->write_errno));
	if (rc == SWI_OK && rename(tee->part, path) < 0)
		rc = swi_fail(tee->ctx, SWI_EIO, "save-to %s: %s", path, strerror(errno));
	if (rc)
		unlink(tee->part);
	free(tee->part);
	return rc;
}
