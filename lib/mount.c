/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filesystem mounts (see mount.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "mount.h"
#include "slots.h"

/* Only what this private mount point allows: what is written is the same. */
#define MOUNT_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME)
/* A busy filesystem (a process of someone else's that wandered in) gets
 * this many tries, this far apart, before it is detached lazily. */
#define UNMOUNT_TRIES 5
#define UNMOUNT_PAUSE_NS 200000000L
/* Where this process's mounts are, whatever the configuration says
 * (mountinfo-file describes the device's, for the slots). */
#define PROC_MOUNTINFO "/proc/self/mountinfo"

bool swi_target_mounts(const struct swi_target *t)
{
	return swi_target_attr(t, "filesystem") != NULL;
}

int swi_target_check_mount(struct swi_target *t)
{
	const char *fs = swi_target_attr(t, "filesystem");
	const char *device = swi_target_attr(t, "device");
	if (!fs[0])
		return swi_target_error(t, SWI_EFORMAT, "attribute 'filesystem' is empty");
	if (!device || !device[0])
		return swi_target_error(t, SWI_EFORMAT,
					"filesystem '%s' is given without the device to mount it "
					"from (attribute 'device')", fs);
	/* Only a path can be compared with the running slot and the mount table. */
	if (device[0] != '/')
		return swi_target_error(t, SWI_EFORMAT,
					"device '%s' is not a path: name the device node (a "
					"/dev/disk/by-uuid/ or by-label/ link for a UUID or a label)",
					device);
	struct stat st;
	if (stat(device, &st) < 0 && errno == ENOENT)
		return swi_target_missing(t, "device %s does not exist", device);
	return SWI_OK;
}

/* Whether where (a mount point) is one of this install's: in its private
 * directory, whose path the mount table shows resolved. */
static bool is_ours(struct swi_scratch *scratch, const char *where)
{
	const char *dir;
	if (swi_scratch_dir(scratch, &dir))
		return false;
	char *real = realpath(dir, NULL);
	size_t n = real ? strlen(real) : 0;
	bool ours = real && strncmp(where, real, n) == 0 && strncmp(where + n, "/mount-", 7) == 0;
	free(real);
	return ours;
}

/*
 * Mounting needs a block device no one else holds: a filesystem mounted
 * anywhere (in another mount namespace too) claims its device, and the
 * kernel would share that mount's filesystem with ours. A device this
 * install mounted already, for another entry, is shared.
 */
static int refuse_claimed(swi_ctx_t *ctx, struct swi_scratch *scratch, const char *device)
{
	struct stat st;
	if (stat(device, &st) < 0 || !S_ISBLK(st.st_mode))
		return SWI_OK; /* mount(2) says what is wrong with it */
	char *where = NULL;
	int rc = swi_device_mounted(ctx, device, PROC_MOUNTINFO, &where);
	if (rc < 0)
		return rc;
	if (rc > 0) {
		bool ours = is_ours(scratch, where);
		rc = ours ? SWI_OK : swi_fail(ctx, SWI_EIO, "%s is mounted on %s: refused", device,
					      where);
		free(where);
		return rc;
	}
	int fd = open(device, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd < 0 && errno == EBUSY)
		return swi_fail(ctx, SWI_EIO, "%s is in use (mounted, or claimed by the system): "
				"refused", device);
	if (fd >= 0)
		close(fd);
	return SWI_OK;
}

static const char *mount_hint(int err)
{
	switch (err) {
	case EPERM:
		return " (mounting needs root, or CAP_SYS_ADMIN)";
	case ENODEV:
		return " (the kernel does not know this filesystem type)";
	case ENOTBLK:
		return " (not a block device: mount(2) does not set up loop devices)";
	case EINVAL:
		return " (no such filesystem on the device?)";
	default:
		return "";
	}
}

/* A new directory, mode 0700, in the install's private directory, its
 * path free of symbolic links (the handler walks it without following any). */
static int make_mount_point(swi_ctx_t *ctx, struct swi_scratch *scratch, char **dir)
{
	const char *parent;
	int rc = swi_scratch_dir(scratch, &parent);
	if (rc)
		return rc;
	char *name = NULL;
	if (asprintf(&name, "%s/mount-XXXXXX", parent) < 0)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	if (!mkdtemp(name)) {
		rc = swi_fail(ctx, SWI_EIO, "cannot make a mount point in %s: %s", parent,
			      strerror(errno));
		free(name);
		return rc;
	}
	*dir = realpath(name, NULL);
	if (!*dir) {
		rc = swi_fail(ctx, SWI_EIO, "%s: %s", name, strerror(errno));
		rmdir(name);
	}
	free(name);
	return rc;
}

int swi_mount_device(swi_ctx_t *ctx, struct swi_scratch *scratch, const char *device,
		     const char *fstype, char **dir)
{
	if (!scratch)
		return swi_fail(ctx, SWI_EINVAL, "no private directory in this install");
	int rc = refuse_claimed(ctx, scratch, device);
	if (rc == SWI_OK)
		rc = make_mount_point(ctx, scratch, dir);
	if (rc)
		return rc;
	if (mount(device, *dir, fstype, MOUNT_FLAGS, NULL) < 0) {
		int err = errno;
		rc = swi_fail(ctx, SWI_EIO, "cannot mount %s (%s) on %s: %s%s", device, fstype, *dir,
			      strerror(err), mount_hint(err));
		rmdir(*dir);
		free(*dir);
		*dir = NULL;
	}
	return rc;
}

int swi_target_mount(struct swi_target *t)
{
	if (!swi_target_mounts(t) || t->mount_dir)
		return SWI_OK;
	int rc = swi_target_check_mount(t);
	if (rc)
		return rc;
	const char *device = swi_target_attr(t, "device");
	const char *fs = swi_target_attr(t, "filesystem");
	char *dir = NULL;
	rc = swi_mount_device(t->ctx, t->scratch, device, fs, &dir);
	if (rc)
		return swi_target_error(t, rc, "%s", swi_errmsg(t->ctx));
	t->mount_dir = dir;
	swi_target_log(t, SWI_LOG_INFO, "mounted %s (%s) on %s", device, fs, dir);
	return SWI_OK;
}

/* What is written is on the device before the unmount, which reports no
 * write-back error of its own. */
static void sync_filesystem(swi_ctx_t *ctx, const char *label, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0)
		swi_log(ctx, SWI_LOG_WARN, "%s: cannot sync the filesystem on %s: %s", label, dir,
			strerror(errno));
	if (fd >= 0)
		close(fd);
}

/* Unmounts dir; a filesystem still busy after the tries is detached, so
 * that the install can end: the kernel unmounts it once it is let go. */
static void unmount_dir(swi_ctx_t *ctx, const char *label, const char *dir)
{
	const struct timespec pause = { 0, UNMOUNT_PAUSE_NS };
	int err = EBUSY;
	for (int i = 0; i < UNMOUNT_TRIES && err == EBUSY; i++) {
		if (i > 0)
			nanosleep(&pause, NULL);
		err = umount2(dir, UMOUNT_NOFOLLOW) == 0 ? 0 : errno;
	}
	if (err == EBUSY) {
		err = umount2(dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0 ? 0 : errno;
		if (err == 0)
			swi_log(ctx, SWI_LOG_WARN, "%s: %s is still busy: detached lazily (the "
				"kernel unmounts it when its last user lets go)", label, dir);
	}
	if (err)
		swi_log(ctx, SWI_LOG_WARN, "%s: cannot unmount %s: %s", label, dir, strerror(err));
}

void swi_unmount_dir(swi_ctx_t *ctx, const char *label, const char *dir)
{
	sync_filesystem(ctx, label, dir);
	unmount_dir(ctx, label, dir);
	if (rmdir(dir) < 0)
		swi_log(ctx, SWI_LOG_WARN, "%s: cannot remove the mount point %s: %s", label, dir,
			strerror(errno));
	else
		swi_log(ctx, SWI_LOG_DEBUG, "%s: unmounted %s", label, dir);
}

void swi_target_unmount(struct swi_target *t)
{
	if (!t->mount_dir)
		return;
	swi_unmount_dir(t->ctx, t->entry->filename, t->mount_dir);
	free(t->mount_dir);
	t->mount_dir = NULL;
	free(t->path); /* it named a place inside the mount */
	t->path = NULL;
}

/* Refuses a symbolic link at any component of rel (relative to the mount
 * point) that exists; the walk ends at the first one missing (the handler
 * may make the rest) or that is not a directory (the handler says so). */
static int refuse_links(struct swi_target *t, const char *rel)
{
	int fd = open(t->mount_dir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return swi_target_error(t, SWI_EIO, "%s: %s", t->mount_dir, strerror(errno));
	char *names = strdup(rel);
	char sofar[PATH_MAX] = "";
	size_t used = 0;
	int rc = names ? SWI_OK : swi_target_error(t, SWI_ENOMEM, "out of memory");
	char *save = NULL;
	for (char *name = names ? strtok_r(names, "/", &save) : NULL; rc == SWI_OK && name;
	     name = strtok_r(NULL, "/", &save)) {
		used += (size_t)snprintf(sofar + used, sizeof(sofar) - used, "/%s", name);
		struct stat st;
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = swi_target_error(t, SWI_EIO, "%s%s: %s", t->mount_dir, sofar,
						      strerror(errno));
			break;
		}
		if (S_ISLNK(st.st_mode)) {
			char to[PATH_MAX];
			ssize_t n = readlinkat(fd, name, to, sizeof(to) - 1);
			to[n < 0 ? 0 : n] = '\0';
			rc = swi_target_error(t, SWI_EIO,
					      "%s in the filesystem of %s is a symbolic link (to %s); "
					      "links inside a mounted filesystem are not followed",
					      sofar, swi_target_attr(t, "device"), to);
			break;
		}
		if (!S_ISDIR(st.st_mode))
			break;
		int next = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
		if (fd < 0)
			rc = swi_target_error(t, SWI_EIO, "%s%s: %s", t->mount_dir, sofar,
					      strerror(errno));
	}
	if (fd >= 0)
		close(fd);
	free(names);
	return rc;
}

int swi_target_mounted_path(struct swi_target *t, const char *path, char **out)
{
	while (*path == '/')
		path++;
	if (strlen(t->mount_dir) + 1 + strlen(path) >= PATH_MAX)
		return swi_target_error(t, SWI_EFORMAT, "path '%s' is too long", path);
	int rc = refuse_links(t, path);
	if (rc == SWI_OK && asprintf(out, "%s%s%s", t->mount_dir, *path ? "/" : "", path) < 0)
		rc = swi_target_error(t, SWI_ENOMEM, "out of memory");
	return rc;
}
