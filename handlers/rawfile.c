/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "rawfile": writes a file at `path`, staged until the commit.
 *
 * open   walks to the directory without following a symbolic link (making
 *        missing directories with create-destination) and creates a
 *        recognisable temporary file there, mode 0600, journalled by the core;
 * write  appends to it, keeping the file system's free-space reserve;
 * close  (the sha256 verified) syncs it and only then gives it its final
 *        owner, group and mode: the old file's, or 0644 for a new file;
 * commit (every entry of the install closed, right before the boot
 *        selection changes) renames it over `path` and syncs the directory;
 * abort  removes it, whenever it comes before the commit.
 * So a failed install leaves every file as it was, and nothing unverified
 * ever carries the old file's setuid bit.
 *
 * With `device` and `filesystem` the core mounts the device before open
 * and unmounts it after the commit or abort; `path` is then inside it
 * (swi_target_path()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <swinstall/handler.h>

#define NEW_FILE_MODE 0644

struct rawfile_state {
	int dirfd;
	int fd;                /* the staged file; -1 once closed */
	char dir[PATH_MAX];
	const char *name;      /* in what swi_target_path() gave */
	char temp[SWI_STAGED_NAME_MAX];
	bool keep_owner;       /* the old file's owner and mode carry over */
	struct stat old;
};

/* The destination, split into its directory and file name; or, in check,
 * NOT_MOUNTED_YET for a path in a filesystem the core mounts at open
 * (the path checked, nothing to look at yet). */
#define NOT_MOUNTED_YET 1
static int read_path(struct swi_target *t, char dir[PATH_MAX], const char **name)
{
	const char *written = swi_target_attr(t, "path"); /* required: the core checked */
	const char *path;
	int rc = swi_target_path(t, &path);
	if (rc)
		return rc;
	if (written[strlen(written) - 1] == '/')
		return swi_target_error(t, SWI_EFORMAT, "path '%s' names a directory, not a file",
					written);
	if (!path)
		return NOT_MOUNTED_YET;
	const char *slash = strrchr(path, '/');
	size_t dirlen = slash == path ? 1 : (size_t)(slash - path);
	if (strlen(path) >= PATH_MAX)
		return swi_target_error(t, SWI_EFORMAT, "path '%s' is too long", path);
	memcpy(dir, path, dirlen);
	dir[dirlen] = '\0';
	*name = slash + 1;
	return SWI_OK;
}

static bool creates_destination(const struct swi_target *t)
{
	int create = 0;
	swi_target_attr_bool(t, "create-destination", &create);
	return create;
}

/* What is at `path` now: nothing, or a regular file to replace (its
 * metadata in *old); anything else is refused. Returns 1 for a file. */
static int inspect_destination(struct swi_target *t, int dirfd, const char *name,
			       struct stat *old)
{
	const char *path = swi_target_attr(t, "path");
	if (fstatat(dirfd, name, old, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0
			: swi_target_error(t, SWI_EIO, "%s: %s", path, strerror(errno));
	if (S_ISREG(old->st_mode))
		return 1;
	if (S_ISDIR(old->st_mode))
		return swi_target_error(t, SWI_EIO, "%s is a directory", path);
	if (S_ISLNK(old->st_mode))
		return swi_target_error(t, SWI_EIO, "%s is a symbolic link; swinstall does not "
					"follow links on the way to a file it writes", path);
	return swi_target_error(t, SWI_EIO, "%s is not a regular file", path);
}

/* The directory, opened. A missing one is an error unless it may be
 * created; the check before the install creates nothing and returns 1. */
static int open_directory(struct swi_target *t, const char *dir, bool create, int *dirfd)
{
	int rc = swi_target_open_dir(t, dir, 0, dirfd);
	if (rc == SWI_OK || access(dir, F_OK) == 0 || errno != ENOENT)
		return rc;
	if (!creates_destination(t))
		return swi_target_missing(t, "directory %s does not exist (set "
					  "create-destination = true to create it)", dir);
	return create ? swi_target_open_dir(t, dir, 1, dirfd) : 1;
}

static int rawfile_check(struct swi_target *t)
{
	char dir[PATH_MAX];
	const char *name;
	int dirfd = -1;
	int rc = read_path(t, dir, &name);
	if (rc == NOT_MOUNTED_YET)
		return SWI_OK;
	if (rc == SWI_OK)
		rc = open_directory(t, dir, false, &dirfd);
	if (rc == 1) /* to be created: nothing there yet */
		return SWI_OK;
	if (rc == SWI_OK) {
		struct stat old;
		rc = inspect_destination(t, dirfd, name, &old);
		rc = rc > 0 ? SWI_OK : rc;
		close(dirfd);
	}
	return rc;
}

/* Closes what is open; after it, close, commit and abort have nothing to do. */
static void release(struct rawfile_state *s)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->fd = s->dirfd = -1;
}

static int rawfile_open(struct swi_target *t)
{
	struct rawfile_state *s = swi_target_state(t);
	s->dirfd = s->fd = -1;
	int rc = read_path(t, s->dir, &s->name);
	if (rc == NOT_MOUNTED_YET) /* the core mounts before open: its mistake */
		rc = swi_target_error(t, SWI_EINVAL, "opened before its filesystem was mounted");
	if (rc == SWI_OK)
		rc = open_directory(t, s->dir, true, &s->dirfd);
	if (rc == SWI_OK)
		rc = inspect_destination(t, s->dirfd, s->name, &s->old);
	if (rc >= 0) {
		s->keep_owner = rc == 1;
		rc = swi_target_create_staged(t, s->dirfd, s->dir, s->name, s->temp, &s->fd);
	}
	if (rc) {
		if (s->fd >= 0)
			unlinkat(s->dirfd, s->temp, 0);
		release(s);
	}
	return rc;
}

static int rawfile_write(struct swi_target *t, const void *buf, size_t len)
{
	struct rawfile_state *s = swi_target_state(t);
	int rc = swi_target_check_free_space(t, s->fd, swi_target_attr(t, "path"), len);
	const char *p = buf;
	while (rc == SWI_OK && len > 0) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return swi_target_error(t, SWI_EIO, "%s/%s: write failed: %s", s->dir, s->temp,
						n < 0 ? strerror(errno) : "no space written");
		p += n;
		len -= (size_t)n;
	}
	return rc;
}

/* Owner first: changing the owner clears set-user-ID and set-group-ID. */
static int apply_metadata(struct swi_target *t, struct rawfile_state *s)
{
	mode_t mode = s->keep_owner ? s->old.st_mode & 07777 : NEW_FILE_MODE;
	if (s->keep_owner && fchown(s->fd, s->old.st_uid, s->old.st_gid) < 0)
		return swi_target_error(t, SWI_EIO, "%s/%s: cannot set owner %u:%u: %s", s->dir,
					s->temp, (unsigned)s->old.st_uid, (unsigned)s->old.st_gid,
					strerror(errno));
	if (fchmod(s->fd, mode) < 0)
		return swi_target_error(t, SWI_EIO, "%s/%s: cannot set mode %04o: %s", s->dir,
					s->temp, (unsigned)mode, strerror(errno));
	return SWI_OK;
}

/* The bytes are verified: make them durable and give them their metadata.
 * The file stays staged until the commit. */
static int rawfile_close(struct swi_target *t)
{
	struct rawfile_state *s = swi_target_state(t);
	if (s->fd < 0)
		return SWI_OK;
	int rc = SWI_OK;
	if (fsync(s->fd) < 0)
		rc = swi_target_error(t, SWI_EIO, "%s/%s: sync failed: %s", s->dir, s->temp,
				      strerror(errno));
	if (rc == SWI_OK)
		rc = apply_metadata(t, s);
	if (close(s->fd) < 0 && rc == SWI_OK)
		rc = swi_target_error(t, SWI_EIO, "%s/%s: close failed: %s", s->dir, s->temp,
				      strerror(errno));
	s->fd = -1;
	return rc;
}

/* A rename is durable only once the directory holding it is synced. */
static int rawfile_commit(struct swi_target *t)
{
	struct rawfile_state *s = swi_target_state(t);
	if (s->dirfd < 0)
		return SWI_OK;
	int rc = SWI_OK;
	if (renameat(s->dirfd, s->temp, s->dirfd, s->name) < 0)
		rc = swi_target_error(t, SWI_EIO, "cannot rename %s/%s to %s: %s", s->dir, s->temp,
				      swi_target_attr(t, "path"), strerror(errno));
	else if (fsync(s->dirfd) < 0)
		rc = swi_target_error(t, SWI_EIO, "%s: sync failed: %s", s->dir, strerror(errno));
	if (rc)
		unlinkat(s->dirfd, s->temp, 0);
	release(s);
	return rc;
}

static void rawfile_abort(struct swi_target *t)
{
	struct rawfile_state *s = swi_target_state(t);
	if (s->dirfd < 0)
		return;
	unlinkat(s->dirfd, s->temp, 0);
	release(s);
}

static const struct swi_handler_attr rawfile_attributes[] = {
	{ "path", SWI_TYPE_STRING, 1 },
	{ "create-destination", SWI_TYPE_BOOL, 0 },
	{ "device", SWI_TYPE_STRING, 0 },      /* with filesystem: mounted by the core */
	{ "filesystem", SWI_TYPE_STRING, 0 },
	{ NULL, 0, 0 },
};

const struct swi_handler swi_handler_rawfile = {
	.size = SWI_HANDLER_SIZE,
	.name = "rawfile",
	.kinds = SWI_HANDLER_FILE | SWI_HANDLER_IMAGE,
	.attributes = rawfile_attributes,
	.check = rawfile_check,
	.open = rawfile_open,
	.write = rawfile_write,
	.close = rawfile_close,
	.abort = rawfile_abort,
	.commit = rawfile_commit,
	.state_size = sizeof(struct rawfile_state),
};
