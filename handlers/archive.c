/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "archive" (alias "tar", as in SWUpdate): unpacks a tarball (or a
 * cpio archive), compressed or not, into the directory `path`, streaming:
 * libarchive reads the entry's decoded bytes with swi_target_read() and
 * writes every entry straight to disk.
 *
 * Nothing may land outside the destination. Every entry is checked before
 * it is written, and the install fails (SWI_EFORMAT, naming the entry)
 * at the first one that:
 *  - has an absolute name or a ".." component;
 *  - goes through a symbolic link (planted by an earlier entry, or already
 *    in the destination) on the way to where it is written;
 *  - is a hard link to an absolute name, to one with a ".." component, or
 *    through a symbolic link;
 *  - is a symbolic link whose target leaves the destination: a relative
 *    target is resolved from the link's directory, lexically; an absolute
 *    one is taken as it will be read on the device: from the root of the
 *    filesystem the entry mounts (attribute "filesystem"), which becomes a
 *    root, or else as is;
 *  - is a device node, unless preserve-attributes is set (a root
 *    filesystem's /dev/console, with its owner and mode).
 * libarchive's own checks (ARCHIVE_EXTRACT_SECURE_SYMLINKS and _NODOTDOT)
 * stay on as a second line. The names are made absolute here, by putting
 * the destination's real path in front once checked, rather than by
 * chdir(), which would move the whole process.
 *
 * preserve-attributes restores what the archive records (owner, mode with
 * its set-user-ID bits, times, ACLs, extended attributes, file flags);
 * without it, files belong to the installer, their modes pass through its
 * umask without the set-ID bits, and times are those of the extraction,
 * as with SWUpdate.
 *
 * Files are written as they come, not staged: a failed install leaves
 * what was extracted (the core then does not switch the boot selection);
 * close syncs the destination's filesystem.
 */
#include <archive.h>
#include <archive_entry.h>
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

/* Room for a path resolved inside the destination. */
#define RESOLVED_MAX (2 * PATH_MAX)

struct archive_state {
	struct swi_target *t;
	int destfd;                 /* the destination directory; -1 when closed */
	char dest[PATH_MAX];        /* its real path */
	bool preserve;              /* preserve-attributes */
	int read_status;            /* swi_target_read()'s error, already recorded */
};

/* ---- paths, lexically ---------------------------------------------------- */

static bool has_dotdot_component(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

/*
 * Resolves rel onto out (a path relative to a root, "" for the root itself,
 * components joined by '/'), lexically: "." and empty components are
 * skipped, ".." drops the last component. false when ".." climbs above
 * the root or the result does not fit.
 */
static bool resolve(char out[RESOLVED_MAX], const char *rel)
{
	size_t used = strlen(out);
	while (*rel) {
		size_t n = strcspn(rel, "/");
		if (n == 2 && rel[0] == '.' && rel[1] == '.') {
			if (used == 0)
				return false;
			char *slash = memrchr(out, '/', used);
			used = slash ? (size_t)(slash - out) : 0;
		} else if (n > 0 && !(n == 1 && rel[0] == '.')) {
			if (used + 1 + n >= RESOLVED_MAX)
				return false;
			if (used > 0)
				out[used++] = '/';
			memcpy(out + used, rel, n);
			used += n;
		}
		out[used] = '\0';
		rel += n + (rel[n] == '/');
	}
	out[used] = '\0';
	return true;
}

/* Whether the relative path p is dir or below it ("" is the root). */
static bool is_within(const char *p, const char *dir)
{
	size_t n = strlen(dir);
	return n == 0 || (strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/'));
}

/* An absolute path, lexically resolved, relative to "/"; false when it
 * does not fit. */
static bool from_root(char out[RESOLVED_MAX], const char *abs)
{
	out[0] = '\0';
	return resolve(out, abs + 1);
}

/* ---- the checks of an entry ---------------------------------------------- */

static int refuse(struct archive_state *s, const char *entry, const char *why)
{
	return swi_target_error(s->t, SWI_EFORMAT, "entry '%s' %s; refused (nothing may land "
				"outside %s)", entry, why, s->dest);
}

/* A name inside the archive (the entry's, or a hard link's target). */
static int check_name(struct archive_state *s, const char *entry, const char *name,
		      const char *what)
{
	char why[160];
	if (!name[0]) {
		snprintf(why, sizeof(why), "has an empty %s", what);
		return refuse(s, entry, why);
	}
	if (name[0] == '/') {
		snprintf(why, sizeof(why), "has an absolute %s", what);
		return refuse(s, entry, why);
	}
	if (has_dotdot_component(name)) {
		snprintf(why, sizeof(why), "has a '..' component in its %s", what);
		return refuse(s, entry, why);
	}
	return SWI_OK;
}

/*
 * Walks rel's directories in the destination as they are now: none may be
 * a symbolic link (an earlier entry's, or one that was there). The last
 * component is what the entry replaces: libarchive removes a link there
 * rather than following it.
 */
static int check_no_link_on_the_way(struct archive_state *s, const char *entry,
				    const char *rel)
{
	int dirfd = dup(s->destfd);
	if (dirfd < 0)
		return swi_target_error(s->t, SWI_EIO, "%s: %s", s->dest, strerror(errno));
	char part[NAME_MAX + 1];
	const char *p = rel;
	int rc = SWI_OK;
	for (size_t n; rc == SWI_OK && (n = strcspn(p, "/")) < strlen(p); p += n + 1) {
		if (n == 0 || n > NAME_MAX)
			continue;
		memcpy(part, p, n);
		part[n] = '\0';
		struct stat st;
		if (fstatat(dirfd, part, &st, AT_SYMLINK_NOFOLLOW) < 0)
			break; /* missing: libarchive makes it, a real directory */
		if (S_ISLNK(st.st_mode)) {
			char why[NAME_MAX + 80];
			snprintf(why, sizeof(why), "goes through the symbolic link '%.*s'",
				 (int)(p - rel + n), rel);
			rc = refuse(s, entry, why);
			break;
		}
		int next = openat(dirfd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			break; /* not a directory: libarchive's write fails with its reason */
		close(dirfd);
		dirfd = next;
	}
	close(dirfd);
	return rc;
}

/* Where an absolute link target lands, as the device will read it, and
 * whether that is inside the destination. */
static bool absolute_target_inside(struct archive_state *s, const char *target)
{
	char at[RESOLVED_MAX], dest[RESOLVED_MAX];
	if (!from_root(at, target))
		return false;
	/* A mounted filesystem is a future root: its "/" is its own top. */
	if (swi_target_attr(s->t, "filesystem")) {
		const char *path = swi_target_attr(s->t, "path");
		dest[0] = '\0';
		return resolve(dest, path) && is_within(at, dest);
	}
	/* Else the destination by its real path or as written. */
	if (from_root(dest, s->dest) && is_within(at, dest))
		return true;
	const char *path = swi_target_attr(s->t, "path");
	return from_root(dest, path) && is_within(at, dest);
}

static int check_symlink(struct archive_state *s, const char *entry, const char *rel,
			 const char *target)
{
	char why[PATH_MAX + 80];
	snprintf(why, sizeof(why), "is a symbolic link to '%s', outside the destination", target);
	if (!target[0])
		return refuse(s, entry, "is a symbolic link with an empty target");
	if (target[0] == '/')
		return absolute_target_inside(s, target) ? SWI_OK : refuse(s, entry, why);
	/* Relative: from the link's own directory. */
	char at[RESOLVED_MAX] = "";
	const char *slash = strrchr(rel, '/');
	if (slash) {
		memcpy(at, rel, (size_t)(slash - rel));
		at[slash - rel] = '\0';
	}
	return resolve(at, target) ? SWI_OK : refuse(s, entry, why);
}

/*
 * Every rule of the top comment for one entry; on success the entry's
 * name (and a hard link's target) are made absolute under the destination.
 */
static int vet_entry(struct archive_state *s, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);
	if (!name)
		return swi_target_error(s->t, SWI_EFORMAT, "an entry has no name libarchive can "
					"read in this locale; refused");
	char entry[PATH_MAX];
	if (strlen(name) >= sizeof(entry))
		return swi_target_error(s->t, SWI_EFORMAT, "entry '%.64s...' has a name longer than "
					"%d bytes; refused", name, PATH_MAX - 1);
	memcpy(entry, name, strlen(name) + 1);
	int rc = check_name(s, entry, entry, "name");
	char rel[RESOLVED_MAX] = "";
	if (rc == SWI_OK && !resolve(rel, entry))
		rc = refuse(s, entry, "has a name too long");
	if (rc == SWI_OK)
		rc = check_no_link_on_the_way(s, entry, rel);
	const char *hardlink = archive_entry_hardlink(e);
	char linked[RESOLVED_MAX] = "";
	if (rc == SWI_OK && hardlink) {
		rc = check_name(s, entry, hardlink, "hard link target");
		if (rc == SWI_OK && !resolve(linked, hardlink))
			rc = refuse(s, entry, "has a hard link target too long");
		if (rc == SWI_OK)
			rc = check_no_link_on_the_way(s, entry, linked);
	}
	const char *symlink = archive_entry_symlink(e);
	if (rc == SWI_OK && symlink && !hardlink)
		rc = check_symlink(s, entry, rel, symlink);
	mode_t type = archive_entry_filetype(e);
	if (rc == SWI_OK && (type == AE_IFBLK || type == AE_IFCHR) && !s->preserve)
		rc = refuse(s, entry, "is a device node (allowed with preserve-attributes only)");
	if (rc)
		return rc;
	char full[RESOLVED_MAX + PATH_MAX + 2];
	snprintf(full, sizeof(full), "%s/%s", s->dest, rel);
	archive_entry_set_pathname(e, full);
	if (hardlink) {
		snprintf(full, sizeof(full), "%s/%s", s->dest, linked);
		archive_entry_set_hardlink(e, full);
	}
	if (type == AE_IFREG && archive_entry_size_is_set(e))
		rc = swi_target_check_free_space(s->t, s->destfd, entry,
						 (uint64_t)archive_entry_size(e));
	return rc;
}

/* ---- reading and writing ------------------------------------------------- */

static la_ssize_t read_block(struct archive *a, void *user, const void **buf)
{
	struct archive_state *s = user;
	size_t len = 0;
	int rc = swi_target_read(s->t, buf, &len);
	if (rc) {
		s->read_status = rc;
		archive_set_error(a, EIO, "the member could not be read");
		return -1;
	}
	return (la_ssize_t)len;
}

/* libarchive's failure: the member's own if reading it failed (recorded
 * then), else the archive's format or the disk. */
static int archive_failed(struct archive_state *s, struct archive *a, int status,
			  const char *entry, const char *doing)
{
	if (s->read_status)
		return s->read_status;
	const char *why = archive_error_string(a);
	if (entry)
		return swi_target_error(s->t, status, "entry '%s': %s: %s", entry, doing,
					why ? why : "failed");
	return swi_target_error(s->t, status, "%s: %s", doing, why ? why : "failed");
}

static int copy_data(struct archive_state *s, struct archive *in, struct archive *out,
		     const char *entry)
{
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t offset;
		int r = archive_read_data_block(in, &buf, &len, &offset);
		if (r == ARCHIVE_EOF)
			return SWI_OK;
		if (r < ARCHIVE_WARN)
			return archive_failed(s, in, SWI_EFORMAT, entry, "reading its data");
		if (archive_write_data_block(out, buf, len, offset) < ARCHIVE_WARN)
			return archive_failed(s, out, SWI_EIO, entry, "writing it");
	}
}

/* libarchive's result of writing entry: a failure is the disk's; a
 * warning (an attribute the filesystem cannot hold) is logged. */
static int written(struct archive_state *s, struct archive *out, int r, const char *entry,
		   const char *doing)
{
	if (r < ARCHIVE_WARN)
		return archive_failed(s, out, SWI_EIO, entry, doing);
	if (r == ARCHIVE_WARN)
		swi_target_log(s->t, SWI_LOG_WARN, "entry '%s': %s: %s", entry, doing,
			       archive_error_string(out) ? archive_error_string(out) : "warning");
	return SWI_OK;
}

static int extract_entry(struct archive_state *s, struct archive *in, struct archive *out,
			 struct archive_entry *e)
{
	char entry[PATH_MAX];
	snprintf(entry, sizeof(entry), "%s", archive_entry_pathname(e) ? archive_entry_pathname(e)
		 : "?");
	int rc = vet_entry(s, e);
	if (rc == SWI_OK)
		rc = written(s, out, archive_write_header(out, e), entry, "creating it");
	if (rc == SWI_OK)
		rc = copy_data(s, in, out, entry);
	if (rc == SWI_OK)
		rc = written(s, out, archive_write_finish_entry(out), entry, "finishing it");
	return rc;
}

/* What SWUpdate asks libarchive for with preserve-attributes; the secure
 * flags always. */
static int disk_flags(bool preserve)
{
	int flags = ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT;
	if (preserve)
		flags |= ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
			 ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_XATTR;
	return flags;
}

/* tar in all its variants (ustar, pax, GNU, v7) and cpio; compressed with
 * anything libarchive decodes itself, without running a program. */
static void support_formats(struct archive *a)
{
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
}

static int unpack(struct archive_state *s, struct archive *in, struct archive *out)
{
	support_formats(in);
	/* Owners by number, as recorded: the names on the running system
	 * need not be those of the filesystem being written. */
	archive_write_disk_set_options(out, disk_flags(s->preserve));
	if (archive_read_open(in, s, NULL, read_block, NULL) != ARCHIVE_OK)
		return archive_failed(s, in, SWI_EFORMAT, NULL, "not a tar or cpio archive");
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(in, &e);
		if (r == ARCHIVE_EOF)
			return SWI_OK;
		if (r < ARCHIVE_WARN)
			return archive_failed(s, in, SWI_EFORMAT, NULL, "reading the archive");
		int rc = extract_entry(s, in, out, e);
		if (rc)
			return rc;
	}
}

static int archive_extract(struct swi_target *t)
{
	struct archive_state *s = swi_target_state(t);
	struct archive *in = archive_read_new();
	struct archive *out = archive_write_disk_new();
	int rc = in && out ? unpack(s, in, out)
		: swi_target_error(t, SWI_ENOMEM, "out of memory for libarchive");
	/* Closing the writer applies what it deferred (directory modes and
	 * times): a failure there is the disk's. */
	if (out && archive_write_close(out) < ARCHIVE_WARN && rc == SWI_OK)
		rc = archive_failed(s, out, SWI_EIO, NULL, "finishing the extraction");
	archive_write_free(out);
	archive_read_free(in);
	return rc;
}

/* ---- the destination ----------------------------------------------------- */

static bool creates_destination(const struct swi_target *t)
{
	int create = 0;
	swi_target_attr_bool(t, "create-destination", &create);
	swi_target_attr_bool(t, "properties.create-destination", &create);
	return create;
}

/* The destination directory: opened (made first with create-destination
 * when missing and create is set). 1: missing, to be made at install. */
static int open_destination(struct swi_target *t, bool create, const char **path, int *fd)
{
	int rc = swi_target_path(t, path);
	if (rc)
		return rc;
	*fd = open(*path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*fd >= 0)
		return SWI_OK;
	if (errno != ENOENT)
		return swi_target_error(t, SWI_EIO, "destination %s: %s", *path, strerror(errno));
	if (!creates_destination(t))
		return swi_target_missing(t, "destination directory %s does not exist (set "
					  "create-destination = true to create it)", *path);
	return create ? swi_target_open_dir(t, *path, 1, fd) : 1;
}

static int archive_check(struct swi_target *t)
{
	/* Newer SWUpdate versions empty the destination first when asked;
	 * unpacking over the old files instead would leave stale ones. */
	int clean = 0;
	swi_target_attr_bool(t, "properties.clean-destination", &clean);
	if (clean)
		return swi_target_error(t, SWI_EUNSUPPORTED, "clean-destination (emptying \"%s\" "
					"before unpacking) is not supported", swi_target_attr(t, "path"));
	/* A filesystem the entry mounts is only there at install time. */
	if (swi_target_attr(t, "filesystem"))
		return SWI_OK;
	const char *path;
	int fd = -1;
	int rc = open_destination(t, false, &path, &fd);
	if (fd >= 0)
		close(fd);
	return rc == 1 ? SWI_OK : rc;
}

static int archive_open(struct swi_target *t)
{
	struct archive_state *s = swi_target_state(t);
	s->t = t;
	s->destfd = -1;
	int preserve = 0;
	swi_target_attr_bool(t, "preserve-attributes", &preserve);
	s->preserve = preserve;
	const char *path;
	int rc = open_destination(t, true, &path, &s->destfd);
	if (rc == SWI_OK && !realpath(path, s->dest))
		rc = swi_target_error(t, SWI_EIO, "destination %s: %s", path, strerror(errno));
	if (rc == SWI_OK)
		swi_target_log(t, SWI_LOG_INFO, "unpacking into %s, %s attributes", s->dest,
			       s->preserve ? "preserving" : "not preserving");
	return rc;
}

static void release(struct archive_state *s)
{
	if (s->destfd >= 0)
		close(s->destfd);
	s->destfd = -1;
}

/* The entry verified: what was extracted is made durable. */
static int archive_close(struct swi_target *t)
{
	struct archive_state *s = swi_target_state(t);
	int rc = SWI_OK;
	if (s->destfd >= 0 && syncfs(s->destfd) < 0)
		rc = swi_target_error(t, SWI_EIO, "%s: sync failed: %s", s->dest, strerror(errno));
	release(s);
	return rc;
}

static void archive_abort(struct swi_target *t)
{
	release(swi_target_state(t));
}

static const struct swi_handler_attr archive_attributes[] = {
	{ "path", SWI_TYPE_STRING, 1 },
	{ "preserve-attributes", SWI_TYPE_BOOL, 0 },
	{ "create-destination", SWI_TYPE_BOOL, 0 },
	{ "properties.create-destination", SWI_TYPE_BOOL, 0 },
	{ "properties.clean-destination", SWI_TYPE_BOOL, 0 },
	{ "device", SWI_TYPE_STRING, 0 },
	{ "filesystem", SWI_TYPE_STRING, 0 },
	{ NULL, 0, 0 },
};

#define ARCHIVE_HANDLER(handler_name)                                   \
	{                                                               \
		.size = SWI_HANDLER_SIZE,                               \
		.name = handler_name,                                   \
		.kinds = SWI_HANDLER_IMAGE | SWI_HANDLER_FILE,          \
		.attributes = archive_attributes,                       \
		.check = archive_check,                                 \
		.open = archive_open,                                   \
		.close = archive_close,                                 \
		.abort = archive_abort,                                 \
		.state_size = sizeof(struct archive_state),             \
		.extract = archive_extract,                             \
	}

const struct swi_handler swi_handler_archive = ARCHIVE_HANDLER("archive");
/* SWUpdate's other name for it. */
const struct swi_handler swi_handler_tar = ARCHIVE_HANDLER("tar");
