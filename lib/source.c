/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image sources: files and file descriptors. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
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
