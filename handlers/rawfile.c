/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "rawfile": writes a file at `path`, atomically. The bytes go to a
 * temporary file beside it (".NAME.XXXXXX"), which close() syncs and renames
 * into place once the core verified the hash; abort() removes it, so the old
 * file stays as it was until the very end.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <swinstall/handler.h>

#define NEW_FILE_MODE 0644
#define NEW_DIR_MODE 0755

struct rawfile_state {
	int fd;
	char path[PATH_MAX];
	char dir[PATH_MAX];
	char temp[PATH_MAX];
};

static int has_dotdot_component(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return 1;
	return 0;
}

/* The path attribute, checked, split into its directory and file name. */
static int read_path(struct swi_target *t, struct rawfile_state *s, const char **name)
{
	const char *path = swi_target_attr(t, "path");
	if (!path || !*path)
		return swi_target_error(t, SWI_EFORMAT, "rawfile needs a 'path' attribute");
	if (path[0] != '/')
		return swi_target_error(t, SWI_EFORMAT, "path '%s' is not absolute", path);
	if (has_dotdot_component(path))
		return swi_target_error(t, SWI_EFORMAT, "path '%s' contains a '..' component", path);
	const char *slash = strrchr(path, '/');
	if (!slash[1])
		return swi_target_error(t, SWI_EFORMAT, "path '%s' names a directory, not a file", path);
	size_t dirlen = slash == path ? 1 : (size_t)(slash - path);
	if (strlen(path) >= sizeof(s->path))
		return swi_target_error(t, SWI_EFORMAT, "path '%s' is too long", path);
	strcpy(s->path, path);
	memcpy(s->dir, path, dirlen);
	s->dir[dirlen] = '\0';
	*name = slash + 1;
	return SWI_OK;
}

static int creates_destination(const struct swi_target *t)
{
	const char *v = swi_target_attr(t, "create-destination");
	return v && !strcmp(v, "true");
}

/* SWI_OK when the directory exists, 1 when it is missing and may be created. */
static int check_directory(struct swi_target *t, const char *dir)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode) ? SWI_OK
			: swi_target_error(t, SWI_EIO, "%s is not a directory", dir);
	if (errno != ENOENT)
		return swi_target_error(t, SWI_EIO, "%s: %s", dir, strerror(errno));
	if (!creates_destination(t))
		return swi_target_error(t, SWI_EIO,
					"directory %s does not exist (set create-destination = true to create it)",
					dir);
	return 1;
}

static int check_not_directory(struct swi_target *t, const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return swi_target_error(t, SWI_EIO, "%s is a directory", path);
	return SWI_OK;
}

static int rawfile_check(struct swi_target *t)
{
	struct rawfile_state s;
	const char *name;
	int rc = read_path(t, &s, &name);
	if (rc)
		return rc;
	rc = check_directory(t, s.dir);
	if (rc < 0)
		return rc;
	return check_not_directory(t, s.path);
}

/* mkdir -p: libc has no call for it. dir is absolute and has no "..". */
static int make_directories(struct swi_target *t, const char *dir)
{
	char partial[PATH_MAX];
	strcpy(partial, dir);
	for (char *p = partial + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char end = *p;
		*p = '\0';
		if (mkdir(partial, NEW_DIR_MODE) < 0 && errno != EEXIST)
			return swi_target_error(t, SWI_EIO, "cannot create directory %s: %s", partial,
						strerror(errno));
		if (!end)
			return SWI_OK;
		*p = end;
	}
}

/* The old file's permission bits if there is one, else NEW_FILE_MODE. */
static mode_t destination_mode(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		return st.st_mode & 07777;
	return NEW_FILE_MODE;
}

static int create_temporary(struct swi_target *t, struct rawfile_state *s, const char *name)
{
	int len = snprintf(s->temp, sizeof(s->temp), "%s/.%s.XXXXXX",
			   strcmp(s->dir, "/") ? s->dir : "", name);
	if (len < 0 || (size_t)len >= sizeof(s->temp))
		return swi_target_error(t, SWI_EHANDLER, "path '%s' is too long", s->path);
	s->fd = mkostemp(s->temp, O_CLOEXEC);
	if (s->fd < 0)
		return swi_target_error(t, SWI_EIO, "cannot create a temporary file in %s: %s", s->dir,
					strerror(errno));
	if (fchmod(s->fd, destination_mode(s->path)) < 0) {
		int rc = swi_target_error(t, SWI_EIO, "%s: %s", s->temp, strerror(errno));
		close(s->fd);
		unlink(s->temp);
		return rc;
	}
	return SWI_OK;
}

static int rawfile_open(struct swi_target *t)
{
	struct rawfile_state *s = calloc(1, sizeof(*s));
	if (!s)
		return swi_target_error(t, SWI_ENOMEM, "out of memory");
	const char *name;
	int rc = read_path(t, s, &name);
	if (!rc)
		rc = check_directory(t, s->dir);
	if (rc == 1)
		rc = make_directories(t, s->dir);
	if (!rc)
		rc = check_not_directory(t, s->path);
	if (!rc)
		rc = create_temporary(t, s, name);
	if (rc) {
		free(s);
		return rc;
	}
	swi_target_set_state(t, s);
	return SWI_OK;
}

static int rawfile_write(struct swi_target *t, const void *buf, size_t len)
{
	struct rawfile_state *s = swi_target_state(t);
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(s->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return swi_target_error(t, SWI_EIO, "%s: write failed: %s", s->temp,
						n < 0 ? strerror(errno) : "no space written");
		p += n;
		len -= (size_t)n;
	}
	return SWI_OK;
}

/* A rename is durable only once the directory holding it is synced. */
static int sync_directory(struct swi_target *t, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) < 0) {
		int rc = swi_target_error(t, SWI_EIO, "%s: sync failed: %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	return SWI_OK;
}

static void release(struct swi_target *t, struct rawfile_state *s)
{
	free(s);
	swi_target_set_state(t, NULL);
}

static int rawfile_close(struct swi_target *t)
{
	struct rawfile_state *s = swi_target_state(t);
	if (!s)
		return SWI_OK;
	int rc = SWI_OK;
	if (fsync(s->fd) < 0)
		rc = swi_target_error(t, SWI_EIO, "%s: sync failed: %s", s->temp, strerror(errno));
	if (close(s->fd) < 0 && !rc)
		rc = swi_target_error(t, SWI_EIO, "%s: close failed: %s", s->temp, strerror(errno));
	if (!rc && rename(s->temp, s->path) < 0)
		rc = swi_target_error(t, SWI_EIO, "cannot rename %s to %s: %s", s->temp, s->path,
				      strerror(errno));
	if (rc)
		unlink(s->temp);
	else
		rc = sync_directory(t, s->dir);
	release(t, s);
	return rc;
}

static void rawfile_abort(struct swi_target *t)
{
	struct rawfile_state *s = swi_target_state(t);
	if (!s)
		return;
	close(s->fd);
	unlink(s->temp);
	release(t, s);
}

static const char *const rawfile_attributes[] = { "path", "create-destination", NULL };

const struct swi_handler swi_handler_rawfile = {
	.name = "rawfile",
	.kinds = SWI_HANDLER_FILE | SWI_HANDLER_IMAGE,
	.attributes = rawfile_attributes,
	.check = rawfile_check,
	.open = rawfile_open,
	.write = rawfile_write,
	.close = rawfile_close,
	.abort = rawfile_abort,
};
