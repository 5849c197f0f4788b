/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "raw": writes an image's bytes to `device` (a block device or an
 * existing regular file) starting at `offset`. The target is never created
 * nor truncated, and nothing is written past its end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <swinstall/handler.h>

/* AES-CBC with PKCS#7 adds 1 to 16 bytes: the decoded size of an encrypted
 * entry is at least its stored size minus this. */
#define CIPHER_PADDING_MAX 16

struct raw_state {
	int fd;
	const char *device;
	uint64_t offset;
	uint64_t size;     /* of the target */
	uint64_t end;      /* where writing stops: size, or where a region in use starts */
	uint64_t written;  /* bytes written so far, from offset on */
	uint64_t flushed;  /* of those, bytes whose writeback was started */
	int *claims;       /* partitions held with O_EXCL while a busy disk is written */
	size_t nclaims;
};

/* Writeback is started every FLUSH_WINDOW bytes, so the disk works while
 * the image streams and the final fdatasync() has little left to wait for.
 * Measured on a virtio disk busy with earlier writes, 1 GiB: 2 MiB windows
 * install in 0.68-0.73 s, 8 MiB ones in 0.75-0.98 s, 32 MiB ones in about
 * 1 s; 1 MiB and 512 KiB ones are no faster than 2 MiB. */
#define FLUSH_WINDOW (2u << 20)

/* The device (required, so the core made sure it is there) and the
 * offset (0 unless given). */
static int read_attributes(struct swi_target *t, const char **device, uint64_t *offset)
{
	*device = swi_target_attr(t, "device");
	*offset = 0;
	return swi_target_attr_size(t, "offset", offset);
}

/* The size of the open target: a block device's from the kernel, a regular
 * file's from its length (it is never extended). */
static int target_size(struct swi_target *t, int fd, const char *device, uint64_t *size)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return swi_target_error(t, SWI_EIO, "%s: %s", device, strerror(errno));
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
		return SWI_OK;
	}
	if (!S_ISBLK(st.st_mode))
		return swi_target_error(t, SWI_EIO, "%s is neither a block device nor a regular file",
					device);
	if (ioctl(fd, BLKGETSIZE64, size) < 0)
		return swi_target_error(t, SWI_EIO, "%s: cannot get its size: %s", device,
					strerror(errno));
	return SWI_OK;
}

/* Where writing must stop: the end of the target, or earlier where the
 * core protects what follows (the running slot on the same disk). */
static uint64_t writable_end(struct swi_target *t, uint64_t offset, uint64_t size)
{
	uint64_t limit = swi_target_write_limit(t);
	return offset <= size && limit < size - offset ? offset + limit : size;
}

/* Whether device is a whole disk (a block device that is no partition). */
static bool is_whole_disk(const char *device)
{
	struct stat st;
	char path[96];
	if (stat(device, &st) < 0 || !S_ISBLK(st.st_mode))
		return false;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/partition", major(st.st_rdev),
		 minor(st.st_rdev));
	return access(path, F_OK) < 0;
}

/*
 * A block device is opened for writing with O_EXCL: the kernel then
 * refuses it while it is mounted or otherwise claimed. A whole disk is
 * claimed as soon as one of its partitions is mounted, and writing a
 * bootloader area of a disk whose system runs is common; for a whole
 * disk that is busy the open is retried shared (*shared is set): the core
 * has limited the write to the part no slot or mount it knows of uses
 * (swi_target_write_limit()), and claim_partitions() then keeps off the
 * partitions the kernel holds for anyone else.
 */
static int open_for_writing(const char *device, bool *shared)
{
	int fd = open(device, O_WRONLY | O_EXCL | O_CLOEXEC);
	*shared = false;
	if (fd < 0 && errno == EBUSY && is_whole_disk(device)) {
		fd = open(device, O_WRONLY | O_CLOEXEC);
		*shared = fd >= 0;
	}
	return fd;
}

static int open_target(struct swi_target *t, const char *device, int flags, int *fd,
		       uint64_t *size, bool *shared)
{
	/* O_EXCL without O_CREAT means "exclusive" only for block devices;
	 * for a regular file it is left out. */
	struct stat st;
	bool block = stat(device, &st) == 0 && S_ISBLK(st.st_mode);
	*shared = false;
	*fd = block && flags == O_WRONLY ? open_for_writing(device, shared)
					 : open(device, flags | O_CLOEXEC);
	if (*fd < 0 && errno == EBUSY)
		return swi_target_error(t, SWI_EIO, "%s is in use (mounted, or claimed by the "
					"system): refused", device);
	if (*fd < 0 && errno == ENOENT)
		return swi_target_missing(t, "%s: %s", device, strerror(errno));
	if (*fd < 0)
		return swi_target_error(t, SWI_EIO, "%s: %s", device, strerror(errno));
	int rc = target_size(t, *fd, device, size);
	if (rc) {
		close(*fd);
		*fd = -1;
	}
	return rc;
}

/* The first line of the sysfs file dir/name, without its newline. */
static bool sysfs_line(const char *dir, const char *name, char *text, size_t size)
{
	char path[PATH_MAX + NAME_MAX + 16];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(text, (int)size, f) != NULL;
	fclose(f);
	if (ok)
		text[strcspn(text, "\n")] = '\0';
	return ok;
}

static bool sysfs_number(const char *dir, const char *name, unsigned long long *out)
{
	char text[64], *end;
	if (!sysfs_line(dir, name, text, sizeof(text)))
		return false;
	errno = 0;
	*out = strtoull(text, &end, 10);
	return !errno && end != text && !*end;
}

/* Holds the partition called name (sysfs directory dir) with O_EXCL until
 * the write ends: false when the kernel says it is in use, or when its
 * node (/dev/NAME, '!' in a sysfs name standing for '/') is not there to
 * ask. */
static bool claim(struct raw_state *s, const char *dir, const char *name)
{
	char node[NAME_MAX + 8], devnum[32], expected[32];
	struct stat st;
	snprintf(node, sizeof(node), "/dev/%s", name);
	for (char *c = node; *c; c++)
		if (*c == '!')
			*c = '/';
	if (!sysfs_line(dir, "dev", devnum, sizeof(devnum)) || stat(node, &st) < 0 ||
	    !S_ISBLK(st.st_mode))
		return false;
	snprintf(expected, sizeof(expected), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
	int *more = strcmp(devnum, expected) == 0
			    ? realloc(s->claims, (s->nclaims + 1) * sizeof(*s->claims)) : NULL;
	if (!more)
		return false;
	s->claims = more;
	int fd = open(node, O_RDONLY | O_EXCL | O_CLOEXEC);
	if (fd >= 0)
		s->claims[s->nclaims++] = fd;
	return fd >= 0;
}

/*
 * A busy whole disk, opened shared: the core knows the running slot and the
 * mounts of its mount table, not a partition mounted in another mount
 * namespace, an active swap partition or one a device mapper or md array
 * uses. So every partition of the disk the write reaches is claimed with
 * O_EXCL, held until the write ends (nothing can mount it meanwhile); one
 * the kernel refuses, or cannot be asked about, ends the write where it
 * begins, or refuses the write that would start inside it.
 */
static int claim_partitions(struct swi_target *t, struct raw_state *s)
{
	struct stat st;
	char link[64], disk_dir[PATH_MAX];
	if (fstat(s->fd, &st) < 0)
		return swi_target_error(t, SWI_EIO, "%s: %s", s->device, strerror(errno));
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(st.st_rdev),
		 minor(st.st_rdev));
	DIR *d = realpath(link, disk_dir) ? opendir(disk_dir) : NULL;
	if (!d)
		return swi_target_error(t, SWI_EIO, "%s is in use, and its partitions cannot be "
					"read from %s: refused", s->device, link);
	int rc = SWI_OK;
	for (struct dirent *e; rc == SWI_OK && (e = readdir(d));) {
		char dir[PATH_MAX + NAME_MAX + 2];
		unsigned long long partition, start, sectors;
		snprintf(dir, sizeof(dir), "%s/%s", disk_dir, e->d_name);
		if (e->d_name[0] == '.' || !sysfs_number(dir, "partition", &partition))
			continue;
		if (!sysfs_number(dir, "start", &start) || !sysfs_number(dir, "size", &sectors)) {
			rc = swi_target_error(t, SWI_EIO, "%s: cannot read where partition %s lies",
					      s->device, e->d_name);
			break;
		}
		/* sysfs counts 512-byte sectors, whatever the disk's sector size */
		uint64_t begin = start * 512, end = begin + sectors * 512;
		if (end <= s->offset || begin >= s->end || claim(s, dir, e->d_name))
			continue;
		if (begin <= s->offset)
			rc = swi_target_error(t, SWI_EIO, "%s at offset %" PRIu64 " would write into "
					      "partition %s, which is in use (mounted, or claimed by "
					      "the system): refused", s->device, s->offset, e->d_name);
		else
			s->end = begin;
	}
	closedir(d);
	return rc;
}

static void release_claims(struct raw_state *s)
{
	for (size_t i = 0; i < s->nclaims; i++)
		close(s->claims[i]);
	free(s->claims);
	s->claims = NULL;
	s->nclaims = 0;
}

static int past_end(struct swi_target *t, const char *device, uint64_t size, uint64_t end)
{
	if (end < size)
		return swi_target_error(t, SWI_EIO, "would write past byte %" PRIu64 " of %s, where "
					"a region in use (the running slot, or a partition mounted or "
					"claimed by the system) begins", end, device);
	return swi_target_error(t, SWI_EIO, "would write past the end of %s (size %" PRIu64 ")",
				device, size);
}

/* The fewest bytes the entry decodes to, when that is known. */
static int minimum_decoded_size(struct swi_target *t, uint64_t *min)
{
	if (swi_target_is_compressed(t))
		return 0;
	uint64_t stored = swi_target_stored_size(t);
	const char *encrypted = swi_target_attr(t, "encrypted");
	if (encrypted && !strcmp(encrypted, "true"))
		stored = stored > CIPHER_PADDING_MAX ? stored - CIPHER_PADDING_MAX : 0;
	*min = stored;
	return 1;
}

static int raw_check(struct swi_target *t)
{
	const char *device;
	uint64_t offset, size, min;
	int fd;
	int rc = read_attributes(t, &device, &offset);
	if (rc)
		return rc;
	bool shared;
	rc = open_target(t, device, O_RDONLY, &fd, &size, &shared);
	if (rc)
		return rc;
	close(fd);
	if (offset > size)
		return swi_target_error(t, SWI_EIO,
					"offset %" PRIu64 " is past the end of %s (size %" PRIu64 ")",
					offset, device, size);
	/* Compressed entries are only checked as they are written. */
	uint64_t end = writable_end(t, offset, size);
	if (minimum_decoded_size(t, &min) && min > end - offset)
		return past_end(t, device, size, end);
	return SWI_OK;
}

/* Lets go of the target; both close and abort leave nothing behind, so a
 * core that calls abort after a failed close (or open) does no harm. */
static void release(struct raw_state *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	release_claims(s);
}

static int raw_open(struct swi_target *t)
{
	struct raw_state *s = swi_target_state(t);
	s->fd = -1;
	bool shared = false;
	int rc = read_attributes(t, &s->device, &s->offset);
	if (!rc)
		/* No O_CREAT, no O_TRUNC: the target exists and keeps its size. */
		rc = open_target(t, s->device, O_WRONLY, &s->fd, &s->size, &shared);
	s->end = writable_end(t, s->offset, s->size);
	if (!rc && shared && s->offset < s->end)
		rc = claim_partitions(t, s);
	/* The stored size is known now (not at check time): refuse an image
	 * that cannot fit before its first byte is written. */
	uint64_t min;
	if (!rc && (s->offset > s->size ||
		    (minimum_decoded_size(t, &min) && min > s->end - s->offset)))
		rc = past_end(t, s->device, s->size, s->end);
	if (rc)
		release(s);
	return rc;
}

/* A hint only: where the target does not support it, fdatasync() at close
 * still does all the work. */
static void start_writeback(struct raw_state *s)
{
	if (s->written - s->flushed < FLUSH_WINDOW)
		return;
	sync_file_range(s->fd, (off_t)(s->offset + s->flushed),
			(off_t)(s->written - s->flushed), SYNC_FILE_RANGE_WRITE);
	s->flushed = s->written;
}

static int raw_write(struct swi_target *t, const void *buf, size_t len)
{
	struct raw_state *s = swi_target_state(t);
	if (len > s->end - s->offset - s->written)
		return past_end(t, s->device, s->size, s->end);
	const char *p = buf;
	while (len > 0) {
		ssize_t n = pwrite(s->fd, p, len, (off_t)(s->offset + s->written));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return swi_target_error(t, SWI_EIO, "%s: write at offset %" PRIu64 " failed: %s",
						s->device, s->offset + s->written,
						n < 0 ? strerror(errno) : "no space written");
		p += n;
		len -= (size_t)n;
		s->written += (uint64_t)n;
	}
	start_writeback(s);
	return SWI_OK;
}

static int raw_close(struct swi_target *t)
{
	struct raw_state *s = swi_target_state(t);
	int rc = SWI_OK;
	if (fdatasync(s->fd) < 0)
		rc = swi_target_error(t, SWI_EIO, "%s: sync failed: %s", s->device, strerror(errno));
	if (close(s->fd) < 0 && rc == SWI_OK)
		rc = swi_target_error(t, SWI_EIO, "%s: close failed: %s", s->device, strerror(errno));
	s->fd = -1;
	release(s);
	return rc;
}

static void raw_abort(struct swi_target *t)
{
	release(swi_target_state(t));
}

static const struct swi_handler_attr raw_attributes[] = {
	{ "device", SWI_TYPE_STRING, 1 },
	{ "offset", SWI_TYPE_SIZE, 0 },
	{ NULL, 0, 0 },
};

const struct swi_handler swi_handler_raw = {
	.size = SWI_HANDLER_SIZE,
	.name = "raw",
	.kinds = SWI_HANDLER_IMAGE | SWI_HANDLER_FILE,
	.attributes = raw_attributes,
	.check = raw_check,
	.open = raw_open,
	.write = raw_write,
	.close = raw_close,
	.abort = raw_abort,
	.state_size = sizeof(struct raw_state),
};
