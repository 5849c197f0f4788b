/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handlers raw, rawfile and bootloader, driven directly through
 * a hand-made target, and the registry's shadowing of built-ins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "handler.h"
#include "manifest.h"

#define FILE_SIZE (64 * 1024)
#define OLD_BYTE 0xAA
#define NEW_BYTE 0x55

struct fixture {
	char dir[64];
	swi_ctx_t *ctx;
	struct swi_entry entry;
	struct swi_attrs staged;
	struct swi_target target;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-handlers-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	f->entry.filename = "member.img";
	f->target.ctx = f->ctx;
	f->target.entry = &f->entry;
	f->target.staged_bootenv = &f->staged;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	swi_attrs_free(&f->entry.attrs);
	swi_attrs_free(&f->staged);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* Points the target at handler, with attributes given as name, value pairs. */
static struct swi_target *target(struct fixture *f, const struct swi_handler *handler,
				 uint64_t stored_size, const char *compressed, ...)
{
	f->target.handler = handler;
	f->target.stored_size = stored_size;
	f->entry.compressed = compressed;
	va_list ap;
	va_start(ap, compressed);
	for (const char *name; (name = va_arg(ap, const char *));)
		assert_int_equal(swi_attrs_set(&f->entry.attrs, name, va_arg(ap, const char *)),
				 SWI_OK);
	va_end(ap);
	return &f->target;
}

static void in_dir(const struct fixture *f, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", f->dir, name);
}

static void fill_file(const char *path, int byte, size_t size)
{
	unsigned char *buf = malloc(size);
	assert_non_null(buf);
	memset(buf, byte, size);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, size, fp), size);
	assert_int_equal(fclose(fp), 0);
	free(buf);
}

/* The whole file, its length in *size. */
static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	unsigned char *buf = malloc(FILE_SIZE * 2);
	assert_non_null(buf);
	*size = fread(buf, 1, FILE_SIZE * 2, fp);
	fclose(fp);
	return buf;
}

static void assert_bytes(const unsigned char *buf, size_t from, size_t to, int byte)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != byte)
			fail_msg("byte %zu is %#x, expected %#x", i, buf[i], byte);
}

static void assert_error_mentions(const struct fixture *f, const char *needle)
{
	if (!strstr(swi_errmsg(f->ctx), needle))
		fail_msg("'%s' does not mention '%s'", swi_errmsg(f->ctx), needle);
}

/* open, write len bytes of NEW_BYTE in chunks of chunk, close, and commit
 * for a handler that stages (as the core does at the end of an install). */
static int install(struct swi_target *t, size_t len, size_t chunk)
{
	unsigned char *buf = malloc(chunk);
	assert_non_null(buf);
	memset(buf, NEW_BYTE, chunk);
	int rc = t->handler->open(t);
	for (size_t done = 0; !rc && done < len; done += chunk)
		rc = t->handler->write(t, buf, len - done < chunk ? len - done : chunk);
	free(buf);
	if (!rc)
		rc = t->handler->close(t);
	if (!rc && t->handler->commit)
		rc = t->handler->commit(t);
	if (rc)
		t->handler->abort(t);
	return rc;
}

/* ---- raw ---- */

static void raw_writes_at_offset(void **state, const char *offset, size_t at)
{
	struct fixture *f = *state;
	char dev[128];
	in_dir(f, "slot.img", dev, sizeof(dev));
	fill_file(dev, OLD_BYTE, FILE_SIZE);
	struct swi_target *t = target(f, &swi_handler_raw, 5000, NULL, "device", dev, NULL);
	if (offset)
		assert_int_equal(swi_attrs_set(&f->entry.attrs, "offset", offset), SWI_OK);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(install(t, 5000, 1024), SWI_OK);
	assert_null(t->state);
	size_t size;
	unsigned char *buf = slurp(dev, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 0, at, OLD_BYTE);
	assert_bytes(buf, at, at + 5000, NEW_BYTE);
	assert_bytes(buf, at + 5000, FILE_SIZE, OLD_BYTE);
	free(buf);
}

static void raw_at_offset_zero(void **state)
{
	raw_writes_at_offset(state, NULL, 0);
}

static void raw_at_offset_8k(void **state)
{
	raw_writes_at_offset(state, "8K", 8192);
}

static void raw_at_hex_offset(void **state)
{
	raw_writes_at_offset(state, "0x3000", 0x3000);
}

static void raw_fills_target_exactly(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	in_dir(f, "slot.img", dev, sizeof(dev));
	fill_file(dev, OLD_BYTE, FILE_SIZE);
	struct swi_target *t = target(f, &swi_handler_raw, FILE_SIZE - 8192, NULL, "device", dev,
				      "offset", "8K", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(install(t, FILE_SIZE - 8192, 4096), SWI_OK);
	size_t size;
	unsigned char *buf = slurp(dev, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 8192, FILE_SIZE, NEW_BYTE);
	free(buf);
}

static void raw_check_refuses_offset_past_end(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	in_dir(f, "slot.img", dev, sizeof(dev));
	fill_file(dev, OLD_BYTE, FILE_SIZE);
	struct swi_target *t = target(f, &swi_handler_raw, 1, "zlib", "device", dev,
				      "offset", "65K", NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "member.img: offset 66560 is past the end of");
	assert_int_equal(t->handler->open(t), SWI_EIO);
	assert_null(t->state);
}

static void raw_check_refuses_too_large(void **state)
{
	struct fixture *f = *state;
	char dev[128], expected[200];
	in_dir(f, "slot.img", dev, sizeof(dev));
	fill_file(dev, OLD_BYTE, FILE_SIZE);
	struct swi_target *t = target(f, &swi_handler_raw, FILE_SIZE - 8192 + 1, NULL,
				      "device", dev, "offset", "8K", NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	snprintf(expected, sizeof(expected), "would write past the end of %s (size %d)", dev,
		 FILE_SIZE);
	assert_error_mentions(f, expected);
}

/* Encrypted: the stored size holds up to 16 bytes of padding. */
static void raw_check_allows_cipher_padding(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	in_dir(f, "slot.img", dev, sizeof(dev));
	fill_file(dev, OLD_BYTE, FILE_SIZE);
	struct swi_target *t = target(f, &swi_handler_raw, FILE_SIZE + 16, NULL, "device", dev,
				      "encrypted", "true", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	t->stored_size = FILE_SIZE + 17;
	assert_int_equal(t->handler->check(t), SWI_EIO);
}

static void raw_write_refuses_past_end_when_compressed(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	in_dir(f, "slot.img", dev, sizeof(dev));
	fill_file(dev, OLD_BYTE, FILE_SIZE);
	struct swi_target *t = target(f, &swi_handler_raw, 100, "zlib", "device", dev,
				      "offset", "60K", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(install(t, 4096 + 1, 4096), SWI_EIO);
	assert_error_mentions(f, "would write past the end of");
	assert_null(t->state);
	size_t size;
	unsigned char *buf = slurp(dev, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 0, 60 * 1024, OLD_BYTE);
	free(buf);
}

static void raw_missing_device(void **state)
{
	struct fixture *f = *state;
	char dev[128];
	in_dir(f, "absent.img", dev, sizeof(dev));
	struct swi_target *t = target(f, &swi_handler_raw, 10, NULL, "device", dev, NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "No such file or directory");
	assert_error_mentions(f, dev);
	assert_int_equal(t->handler->open(t), SWI_EIO);
	assert_int_equal(access(dev, F_OK), -1); /* never created */
}

static void raw_bad_attributes(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_raw, 10, NULL, NULL);
	assert_int_equal(t->handler->check(t), SWI_EFORMAT);
	assert_error_mentions(f, "'device'");
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "device", "/dev/null"), SWI_OK);
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "offset", "12Q"), SWI_OK);
	assert_int_equal(t->handler->check(t), SWI_EFORMAT);
	assert_error_mentions(f, "offset '12Q' is not a size");
}

static void raw_refuses_other_file_types(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_raw, 10, NULL, "device", "/dev/null", NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "/dev/null is neither a block device nor a regular file");
	swi_attrs_set(&f->entry.attrs, "device", f->dir);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "neither a block device nor a regular file");
}

/* Attaches a loop device to path into dev; 0 when that is not possible
 * (not root, no loop support): the test is then skipped. */
static int attach_loop(const char *path, char *dev, size_t size)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s 2>/dev/null", path);
	FILE *p = popen(cmd, "r");
	if (!p)
		return 0;
	int ok = fgets(dev, (int)size, p) != NULL;
	if (pclose(p) != 0 || !ok)
		return 0;
	dev[strcspn(dev, "\n")] = '\0';
	return 1;
}

static void detach_loop(const char *dev)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "losetup -d %s", dev);
	assert_int_equal(system(cmd), 0);
}

/* A block device's size comes from the kernel (BLKGETSIZE64). */
static void raw_block_device(void **state)
{
	struct fixture *f = *state;
	char backing[128], dev[64];
	in_dir(f, "disk.img", backing, sizeof(backing));
	fill_file(backing, OLD_BYTE, FILE_SIZE);
	if (!attach_loop(backing, dev, sizeof(dev)))
		skip();
	struct swi_target *t = target(f, &swi_handler_raw, 4097, NULL, "device", dev,
				      "offset", "60K", NULL);
	int too_large = t->handler->check(t);
	t->stored_size = 4096;
	int fits = t->handler->check(t);
	int installed = fits ? fits : install(t, 4096, 4096);
	detach_loop(dev);
	assert_int_equal(too_large, SWI_EIO);
	assert_int_equal(fits, SWI_OK);
	assert_int_equal(installed, SWI_OK);
	size_t size;
	unsigned char *buf = slurp(backing, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(buf, 0, 60 * 1024, OLD_BYTE);
	assert_bytes(buf, 60 * 1024, FILE_SIZE, NEW_BYTE);
	free(buf);
}

/* ---- rawfile ---- */

static int count_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static mode_t file_mode(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

/* After an abort: no state, no temporary file, and path still holds the
 * 100 old bytes. */
static void assert_old_file_kept(const struct fixture *f, const struct swi_target *t,
				 const char *path)
{
	assert_null(t->state);
	assert_int_equal(count_temporaries(f->dir), 0);
	size_t size;
	unsigned char *buf = slurp(path, &size);
	assert_int_equal(size, 100);
	assert_bytes(buf, 0, 100, OLD_BYTE);
	free(buf);
}

static void rawfile_replaces_atomically(void **state)
{
	struct fixture *f = *state;
	char path[128];
	in_dir(f, "config.bin", path, sizeof(path));
	fill_file(path, OLD_BYTE, 100);
	assert_int_equal(chmod(path, 0600), 0);
	struct swi_target *t = target(f, &swi_handler_rawfile, 3000, NULL, "path", path, NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(t->handler->open(t), SWI_OK);
	unsigned char chunk[1000];
	memset(chunk, NEW_BYTE, sizeof(chunk));
	for (int i = 0; i < 3; i++)
		assert_int_equal(t->handler->write(t, chunk, sizeof(chunk)), SWI_OK);
	/* Until close, the old file is untouched and the new bytes are aside. */
	assert_int_equal(count_temporaries(f->dir), 1);
	size_t size;
	unsigned char *buf = slurp(path, &size);
	assert_int_equal(size, 100);
	free(buf);
	/* Closed (verified), the new bytes stay staged until the commit. */
	assert_int_equal(t->handler->close(t), SWI_OK);
	assert_int_equal(count_temporaries(f->dir), 1);
	buf = slurp(path, &size);
	assert_int_equal(size, 100);
	free(buf);
	assert_int_equal(t->handler->commit(t), SWI_OK);
	assert_int_equal(count_temporaries(f->dir), 0);
	buf = slurp(path, &size);
	assert_int_equal(size, 3000);
	assert_bytes(buf, 0, 3000, NEW_BYTE);
	free(buf);
	assert_int_equal(file_mode(path), 0600);
}

/* The one staged file in f->dir (a name of the form .NAME.swinstall-XXXXXX). */
static void staged_path(const struct fixture *f, const char *name, char *out, size_t size)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	char prefix[128];
	snprintf(prefix, sizeof(prefix), ".%s.swinstall-", name);
	out[0] = '\0';
	for (struct dirent *e; (e = readdir(d));)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(out, size, "%s/%s", f->dir, e->d_name);
	closedir(d);
	assert_true(out[0] != '\0');
}

/* A setuid file replaced by unverified bytes: until they are verified the
 * staged file is 0600 and owned by the installer; then it gets the old
 * file's owner, group and mode, set-user-ID included. */
static void rawfile_metadata_only_after_verification(void **state)
{
	struct fixture *f = *state;
	char path[128], staged[512];
	in_dir(f, "tool", path, sizeof(path));
	fill_file(path, OLD_BYTE, 100);
	assert_int_equal(chown(path, 1234, 5678), 0);
	assert_int_equal(chmod(path, 04755), 0);
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", path, NULL);
	assert_int_equal(t->handler->open(t), SWI_OK);
	unsigned char chunk[10];
	memset(chunk, NEW_BYTE, sizeof(chunk));
	assert_int_equal(t->handler->write(t, chunk, sizeof(chunk)), SWI_OK);
	staged_path(f, "tool", staged, sizeof(staged));
	struct stat st;
	assert_int_equal(stat(staged, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, getuid());
	assert_int_equal(t->handler->close(t), SWI_OK);
	assert_int_equal(stat(staged, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_gid, 5678);
	assert_int_equal(t->handler->commit(t), SWI_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 04755);
	assert_int_equal(st.st_uid, 1234);
	assert_int_equal(st.st_size, 10);
}

/* An abort after close (a later entry failed) leaves the old file. */
static void rawfile_abort_after_close_keeps_old_file(void **state)
{
	struct fixture *f = *state;
	char path[128];
	in_dir(f, "config.bin", path, sizeof(path));
	fill_file(path, OLD_BYTE, 100);
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", path, NULL);
	assert_int_equal(t->handler->open(t), SWI_OK);
	unsigned char chunk[10];
	memset(chunk, NEW_BYTE, sizeof(chunk));
	assert_int_equal(t->handler->write(t, chunk, sizeof(chunk)), SWI_OK);
	assert_int_equal(t->handler->close(t), SWI_OK);
	t->handler->abort(t);
	assert_old_file_kept(f, t, path);
}

/* No symbolic link is followed on the way: not a directory of the path,
 * not the file itself. */
static void rawfile_follows_no_symlink(void **state)
{
	struct fixture *f = *state;
	char real[128], link[128], path[160], outside[128];
	in_dir(f, "real", real, sizeof(real));
	in_dir(f, "link", link, sizeof(link));
	in_dir(f, "outside", outside, sizeof(outside));
	assert_int_equal(mkdir(real, 0755), 0);
	assert_int_equal(symlink(real, link), 0);
	snprintf(path, sizeof(path), "%s/file", link);
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", path, NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "symbolic link");
	assert_int_equal(install(t, 10, 10), SWI_EIO);
	assert_error_mentions(f, "symbolic link");
	assert_int_equal(count_temporaries(real), 0);
	/* The file itself a link to a file elsewhere: refused, the target kept. */
	fill_file(outside, OLD_BYTE, 100);
	snprintf(path, sizeof(path), "%s/file", real);
	assert_int_equal(symlink(outside, path), 0);
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", path), SWI_OK);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_int_equal(install(t, 10, 10), SWI_EIO);
	assert_error_mentions(f, "symbolic link");
	size_t size;
	unsigned char *buf = slurp(outside, &size);
	assert_int_equal(size, 100);
	free(buf);
}

/* A file system keeps its reserve: a write that would eat into it fails
 * before it is made, and the old file stays. */
static void rawfile_keeps_the_free_space_reserve(void **state)
{
	struct fixture *f = *state;
	char path[128];
	in_dir(f, "big.bin", path, sizeof(path));
	fill_file(path, OLD_BYTE, 100);
	assert_int_equal(swi_set_option(f->ctx, "min-free-space", "100%"), SWI_OK);
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", path, NULL);
	assert_int_equal(install(t, 10, 10), SWI_EIO);
	assert_error_mentions(f, "min-free-space");
	assert_int_equal(count_temporaries(f->dir), 0);
	assert_int_equal(swi_set_option(f->ctx, "min-free-space", "1M"), SWI_OK);
	assert_int_equal(install(t, 10, 10), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "min-free-space", "12x"), SWI_EINVAL);
}

static void rawfile_new_file_mode(void **state)
{
	struct fixture *f = *state;
	char path[128];
	in_dir(f, "new.bin", path, sizeof(path));
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", path, NULL);
	assert_int_equal(install(t, 10, 10), SWI_OK);
	assert_int_equal(file_mode(path), 0644);
}

static void rawfile_abort_keeps_old_file(void **state)
{
	struct fixture *f = *state;
	char path[128];
	in_dir(f, "config.bin", path, sizeof(path));
	fill_file(path, OLD_BYTE, 100);
	struct swi_target *t = target(f, &swi_handler_rawfile, 3000, NULL, "path", path, NULL);
	assert_int_equal(t->handler->open(t), SWI_OK);
	unsigned char chunk[1000];
	memset(chunk, NEW_BYTE, sizeof(chunk));
	assert_int_equal(t->handler->write(t, chunk, sizeof(chunk)), SWI_OK);
	t->handler->abort(t);
	assert_old_file_kept(f, t, path);
}

static void rawfile_missing_directory_refused(void **state)
{
	struct fixture *f = *state;
	char path[128], dir[128];
	in_dir(f, "a/b/file.txt", path, sizeof(path));
	in_dir(f, "a", dir, sizeof(dir));
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", path,
				      "create-destination", "false", NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "does not exist (set create-destination = true");
	assert_int_equal(t->handler->open(t), SWI_EIO);
	assert_int_equal(access(dir, F_OK), -1);
}

static void rawfile_creates_destination(void **state)
{
	struct fixture *f = *state;
	char path[128], dir[128];
	in_dir(f, "a/b/file.txt", path, sizeof(path));
	in_dir(f, "a/b", dir, sizeof(dir));
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", path,
				      "create-destination", "true", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(access(dir, F_OK), -1); /* check changes nothing */
	assert_int_equal(install(t, 10, 10), SWI_OK);
	assert_int_equal(file_mode(dir), 0755);
	size_t size;
	unsigned char *buf = slurp(path, &size);
	assert_int_equal(size, 10);
	free(buf);
}

static void rawfile_bad_paths(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *path; const char *message; } cases[] = {
		{ "relative/file", "is not absolute" },
		{ "/tmp/../etc/passwd", "contains a '..' component" },
		{ "/tmp/..", "contains a '..' component" },
		{ "/tmp/dir/", "names a directory" },
	};
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, NULL);
	assert_int_equal(t->handler->check(t), SWI_EFORMAT);
	assert_error_mentions(f, "'path'");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", cases[i].path), SWI_OK);
		assert_int_equal(t->handler->check(t), SWI_EFORMAT);
		assert_error_mentions(f, cases[i].message);
		assert_int_equal(t->handler->open(t), SWI_EFORMAT);
	}
	/* "..name" is a file name, not a parent reference. */
	char path[128];
	in_dir(f, "..hidden", path, sizeof(path));
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", path), SWI_OK);
	assert_int_equal(t->handler->check(t), SWI_OK);
}

static void rawfile_refuses_directory_target(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", f->dir, NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "is a directory");
}

/* ---- bootloader ---- */

static int feed(struct swi_target *t, const char *text, size_t chunk)
{
	int rc = t->handler->open(t);
	for (size_t done = 0, len = strlen(text); !rc && done < len; done += chunk)
		rc = t->handler->write(t, text + done, len - done < chunk ? len - done : chunk);
	if (!rc)
		rc = t->handler->close(t);
	if (!rc && t->handler->commit)
		rc = t->handler->commit(t);
	if (rc)
		t->handler->abort(t);
	return rc;
}

static void bootloader_parses_script(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	const char *script = "# choose slot B\n"
			     "\n"
			     "   \n"
			     "bootslot=b\n"
			     "bootcmd=run boot_${bootslot}; echo a=b\r\n"
			     "removed=\n"
			     "spaced= kept as is \n"
			     "last=no newline";
	assert_int_equal(feed(t, script, 7), SWI_OK);
	assert_int_equal(f->staged.count, 5);
	assert_string_equal(swi_attrs_get(&f->staged, "bootslot"), "b");
	assert_string_equal(swi_attrs_get(&f->staged, "bootcmd"), "run boot_${bootslot}; echo a=b");
	assert_string_equal(swi_attrs_get(&f->staged, "removed"), "");
	assert_string_equal(swi_attrs_get(&f->staged, "spaced"), " kept as is ");
	assert_string_equal(swi_attrs_get(&f->staged, "last"), "no newline");
	assert_null(t->state);
}

static void bootloader_bad_lines(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *script; const char *message; } cases[] = {
		{ "a=1\n# ok\nname value\n", "line 3: no '='" },
		{ "=value\n", "line 1: empty variable name" },
		{ "a=1\nname = value\n", "line 2: variable name 'name ' contains white space" },
		{ " indented=1\n", "line 1: variable name ' indented' contains white space" },
	};
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(feed(t, cases[i].script, 64), SWI_EFORMAT);
		assert_error_mentions(f, "member.img: ");
		assert_error_mentions(f, cases[i].message);
		assert_int_equal(f->staged.count, 0); /* nothing staged from a bad script */
	}
}

static void bootloader_refuses_binary(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, "a=1\0b=2\n", 8), SWI_OK);
	assert_int_equal(t->handler->close(t), SWI_EFORMAT);
	assert_error_mentions(f, "NUL byte");
	assert_int_equal(f->staged.count, 0);
}

static void bootloader_empty_script(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	assert_int_equal(feed(t, "", 1), SWI_OK);
	assert_int_equal(f->staged.count, 0);
}

static void bootloader_size_cap(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	size_t mib = 1024 * 1024;
	char *big = malloc(mib);
	assert_non_null(big);
	memset(big, '#', mib);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, big, mib), SWI_OK);
	assert_int_equal(t->handler->write(t, "#", 1), SWI_EHANDLER);
	assert_error_mentions(f, "not a bootloader environment script");
	t->handler->abort(t);
	assert_null(t->state);
	free(big);
}

/* ---- registry ---- */

static int dummy_open(struct swi_target *t) { (void)t; return SWI_OK; }
static int dummy_write(struct swi_target *t, const void *b, size_t n) { (void)t; (void)b; (void)n; return SWI_OK; }
static int dummy_close(struct swi_target *t) { (void)t; return SWI_OK; }
static void dummy_abort(struct swi_target *t) { (void)t; }

static void registered_handler_shadows_builtin(void **state)
{
	struct fixture *f = *state;
	static const struct swi_handler my_raw = {
		.name = "raw", .kinds = SWI_HANDLER_IMAGE, .open = dummy_open,
		.write = dummy_write, .close = dummy_close, .abort = dummy_abort,
	};
	assert_ptr_equal(swi_handler_find(f->ctx, "raw"), &swi_handler_raw);
	assert_int_equal(swi_register_handler(f->ctx, &my_raw), SWI_OK);
	assert_ptr_equal(swi_handler_find(f->ctx, "raw"), &my_raw);
	assert_ptr_equal(swi_handler_find(f->ctx, "rawfile"), &swi_handler_rawfile);
	assert_ptr_equal(swi_handler_find(f->ctx, "bootloader"), &swi_handler_bootloader);
	assert_null(swi_handler_find(f->ctx, "no-such-handler"));
	/* Another context still sees the built-in. */
	swi_ctx_t *other;
	assert_int_equal(swi_ctx_new(&other), SWI_OK);
	assert_ptr_equal(swi_handler_find(other, "raw"), &swi_handler_raw);
	swi_ctx_free(other);
	static const struct swi_handler incomplete = { .name = "x", .open = dummy_open };
	assert_int_equal(swi_register_handler(f->ctx, &incomplete), SWI_EINVAL);
}

/* Every attribute a built-in honours is one the core knows as an effect. */
static void builtin_attributes_are_effect_attributes(void **state)
{
	(void)state;
	const struct swi_handler *builtins[] = { &swi_handler_raw, &swi_handler_rawfile,
						 &swi_handler_bootloader };
	for (size_t i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		for (const char *const *a = builtins[i]->attributes; *a; a++) {
			const char *const *e = swi_effect_attributes;
			while (*e && strcmp(*e, *a))
				e++;
			if (!*e)
				fail_msg("%s: '%s' is not in swi_effect_attributes",
					 builtins[i]->name, *a);
		}
	assert_null(swi_handler_bootloader.attributes[0]);
	assert_int_equal(swi_handler_bootloader.kinds, SWI_HANDLER_IMAGE | SWI_HANDLER_BOOTLOADER);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(raw_at_offset_zero),
		T(raw_at_offset_8k),
		T(raw_at_hex_offset),
		T(raw_fills_target_exactly),
		T(raw_check_refuses_offset_past_end),
		T(raw_check_refuses_too_large),
		T(raw_check_allows_cipher_padding),
		T(raw_write_refuses_past_end_when_compressed),
		T(raw_missing_device),
		T(raw_bad_attributes),
		T(raw_refuses_other_file_types),
		T(raw_block_device),
		T(rawfile_replaces_atomically),
		T(rawfile_new_file_mode),
		T(rawfile_abort_keeps_old_file),
		T(rawfile_missing_directory_refused),
		T(rawfile_creates_destination),
		T(rawfile_bad_paths),
		T(rawfile_refuses_directory_target),
		T(rawfile_metadata_only_after_verification),
		T(rawfile_abort_after_close_keeps_old_file),
		T(rawfile_follows_no_symlink),
		T(rawfile_keeps_the_free_space_reserve),
		T(bootloader_parses_script),
		T(bootloader_bad_lines),
		T(bootloader_refuses_binary),
		T(bootloader_empty_script),
		T(bootloader_size_cap),
		T(registered_handler_shadows_builtin),
		T(builtin_attributes_are_effect_attributes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
