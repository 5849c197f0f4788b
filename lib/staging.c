/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Staged files and their journal (see staging.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "staging.h"

#define JOURNAL_NAME "staged-files"
#define STAGED_MARK ".swinstall-"
#define SUFFIX_LEN 6
/* Room for the rest of a staged name within NAME_MAX (255). */
#define NAME_PART_MAX 200

/* ---- directories, walked without following symbolic links --------------- */

static int not_a_directory(swi_ctx_t *ctx, int parent, const char *name, const char *sofar)
{
	struct stat st;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return swi_fail(ctx, SWI_EIO, "%s is a symbolic link; swinstall does not follow "
				"links on the way to a file it writes", sofar);
	return swi_fail(ctx, SWI_EIO, "%s is not a directory", sofar);
}

/* Opens (making it first, with create) the directory name in parent. */
static int open_step(swi_ctx_t *ctx, int parent, const char *name, bool create,
		     const char *sofar, int *out)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(parent, name, flags);
	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
			return swi_fail(ctx, SWI_EIO, "cannot create directory %s: %s", sofar,
					strerror(errno));
		/* The new entry is durable once its parent is synced. */
		if (fsync(parent) < 0)
			return swi_fail(ctx, SWI_EIO, "%s: sync failed: %s", sofar, strerror(errno));
		fd = openat(parent, name, flags);
	}
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return not_a_directory(ctx, parent, name, sofar);
	if (fd < 0)
		return swi_fail(ctx, SWI_EIO, "%s: %s", sofar, strerror(errno));
	*out = fd;
	return SWI_OK;
}

int swi_open_dir_nofollow(swi_ctx_t *ctx, const char *path, bool create, int *dirfd)
{
	*dirfd = -1;
	if (path[0] != '/')
		return swi_fail(ctx, SWI_EINVAL, "%s is not an absolute path", path);
	size_t len = strlen(path);
	char *sofar = malloc(len + 1);
	if (!sofar)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? swi_fail(ctx, SWI_EIO, "/: %s", strerror(errno)) : SWI_OK;
	size_t at = 1;
	while (rc == SWI_OK && at < len) {
		size_t n = strcspn(path + at, "/");
		memcpy(sofar, path, at + n);
		sofar[at + n] = '\0';
		const char *name = sofar + at;
		if (n > 0 && strcmp(name, ".") != 0) {
			int next = -1;
			if (strcmp(name, "..") == 0)
				rc = swi_fail(ctx, SWI_EINVAL, "%s: '..' is not allowed", path);
			else
				rc = open_step(ctx, fd, name, create, sofar, &next);
			close(fd);
			fd = next;
		}
		at += n + 1;
	}
	free(sofar);
	if (rc && fd >= 0)
		close(fd);
	*dirfd = rc ? -1 : fd;
	return rc;
}

/* ---- the journal ----------------------------------------------------------- */

int swi_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

char *swi_state_file(swi_ctx_t *ctx, const char *name)
{
	const char *dir = swi_opt_state_dir(ctx);
	size_t size = strlen(dir) + strlen(name) + 2;
	char *path = malloc(size);
	if (path)
		snprintf(path, size, "%s/%s", dir, name);
	return path;
}

static char *journal_path(swi_ctx_t *ctx)
{
	return swi_state_file(ctx, JOURNAL_NAME);
}

int swi_journal_open(swi_ctx_t *ctx, struct swi_journal *j)
{
	*j = (struct swi_journal){ .ctx = ctx, .fd = -1 };
	int dirfd;
	int rc = swi_open_dir_nofollow(ctx, swi_opt_state_dir(ctx), true, &dirfd);
	if (rc)
		return swi_fail(ctx, SWI_ECONFIG, "state-dir: %s", swi_errmsg(ctx));
	j->fd = openat(dirfd, JOURNAL_NAME, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		       0600);
	int err = errno;
	if (j->fd >= 0 && fsync(dirfd) < 0)
		err = errno;
	close(dirfd);
	if (!(j->path = journal_path(ctx)))
		err = ENOMEM;
	if (j->fd < 0 || !j->path) {
		swi_journal_close(j);
		return swi_fail(ctx, SWI_ECONFIG, "state-dir %s: cannot write its journal: %s",
				swi_opt_state_dir(ctx), strerror(err));
	}
	return SWI_OK;
}

/* Records are NUL-terminated: a path may hold any other byte. A journal
 * not opened yet is opened now. */
int swi_journal_record(struct swi_journal *j, const char *dir, const char *name)
{
	if (j->fd < 0) {
		int rc = swi_journal_open(j->ctx, j);
		if (rc)
			return rc;
	}
	size_t dlen = strlen(dir), nlen = strlen(name), len = dlen + 1 + nlen + 1;
	char *record = malloc(len);
	if (!record)
		return swi_fail(j->ctx, SWI_ENOMEM, "out of memory");
	snprintf(record, len, "%s/%s", strcmp(dir, "/") ? dir : "", name);
	len = strlen(record) + 1;
	ssize_t n = write(j->fd, record, len);
	free(record);
	if (n != (ssize_t)len || fdatasync(j->fd) < 0)
		return swi_fail(j->ctx, SWI_EIO, "%s: cannot record a staged file: %s", j->path,
				n < 0 || n == (ssize_t)len ? strerror(errno) : "short write");
	return SWI_OK;
}

void swi_journal_close(struct swi_journal *j)
{
	if (j->fd >= 0) {
		close(j->fd);
		if (unlink(j->path) == 0)
			swi_sync_dir(swi_opt_state_dir(j->ctx));
	}
	free(j->path);
	*j = (struct swi_journal){ .fd = -1 };
}

/* Only names this file creates are ever removed: ".NAME.swinstall-XXXXXX". */
static bool is_staged_name(const char *name)
{
	size_t len = strlen(name), mark = strlen(STAGED_MARK);
	return name[0] == '.' && len > mark + SUFFIX_LEN + 1 &&
	       strncmp(name + len - SUFFIX_LEN - mark, STAGED_MARK, mark) == 0 &&
	       !strchr(name, '/');
}

static void remove_leftover(swi_ctx_t *ctx, char *path)
{
	char *slash = strrchr(path, '/');
	if (path[0] != '/' || !slash || !is_staged_name(slash + 1))
		return;
	*slash = '\0';
	int dirfd;
	if (swi_open_dir_nofollow(ctx, path[0] ? path : "/", false, &dirfd) == SWI_OK) {
		if (unlinkat(dirfd, slash + 1, 0) == 0) {
			fsync(dirfd);
			swi_log(ctx, SWI_LOG_INFO, "removed %s/%s, left by an interrupted install", path,
				slash + 1);
		}
		close(dirfd);
	}
	*slash = '/';
}

int swi_journal_recover(swi_ctx_t *ctx)
{
	char *path = journal_path(ctx);
	if (!path)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	FILE *f = fopen(path, "re");
	if (!f) {
		int err = errno;
		free(path);
		return err == ENOENT ? SWI_OK
			: swi_fail(ctx, SWI_EIO, "%s: %s", swi_opt_state_dir(ctx), strerror(err));
	}
	char *record = NULL;
	size_t size = 0;
	while (getdelim(&record, &size, '\0', f) > 0)
		remove_leftover(ctx, record);
	free(record);
	fclose(f);
	/* The state before any error above is kept (a directory that went away
	 * has nothing left in it to remove). */
	if (unlink(path) == 0)
		swi_sync_dir(swi_opt_state_dir(ctx));
	free(path);
	return SWI_OK;
}

/* ---- staged files ------------------------------------------------------------ */

static void random_suffix(char *out)
{
	static const char chars[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char bytes[SUFFIX_LEN];
	if (getrandom(bytes, sizeof(bytes), 0) != (ssize_t)sizeof(bytes))
		for (size_t i = 0; i < sizeof(bytes); i++) /* O_EXCL still guards */
			bytes[i] = (unsigned char)(rand() ^ (int)getpid());
	for (size_t i = 0; i < SUFFIX_LEN; i++)
		out[i] = chars[bytes[i] % (sizeof(chars) - 1)];
	out[SUFFIX_LEN] = '\0';
}

int swi_create_staged(swi_ctx_t *ctx, struct swi_journal *j, int dirfd, const char *dir,
		      const char *name, char *tmpname, size_t size, int *fd)
{
	*fd = -1;
	for (int attempt = 0; attempt < 100; attempt++) {
		char suffix[SUFFIX_LEN + 1];
		random_suffix(suffix);
		int n = snprintf(tmpname, size, ".%.*s" STAGED_MARK "%s", NAME_PART_MAX, name, suffix);
		if (n < 0 || (size_t)n >= size)
			return swi_fail(ctx, SWI_EINVAL, "%s: name too long to stage", name);
		int rc = j ? swi_journal_record(j, dir, tmpname) : SWI_OK;
		if (rc)
			return rc;
		*fd = openat(dirfd, tmpname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			     0600);
		if (*fd >= 0)
			return SWI_OK;
		if (errno != EEXIST)
			return swi_fail(ctx, SWI_EIO, "cannot create a temporary file in %s: %s", dir,
					strerror(errno));
	}
	return swi_fail(ctx, SWI_EIO, "cannot create a temporary file in %s: every name tried exists",
			dir);
}

int swi_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
