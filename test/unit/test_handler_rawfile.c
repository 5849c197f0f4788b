/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handler "rawfile", driven directly through a hand-made
 * target (handler_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "handler_fixture.h"

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
	assert_released(f, t);
	assert_int_equal(count_temporaries(f->dir), 0);
	size_t size;
	unsigned char *buf = slurp(path, &size);
	assert_int_equal(size, 100);
	assert_bytes(buf, 0, 100, OLD_BYTE);
	free(buf);
}

/* A rawfile target over config.bin (100 old bytes, path in path[128]),
 * opened, with len new bytes written. */
static struct swi_target *writing_over_old_file(struct fixture *f, char *path, size_t len)
{
	in_dir(f, "config.bin", path, 128);
	fill_file(path, OLD_BYTE, 100);
	struct swi_target *t = target(f, &swi_handler_rawfile, len, NULL, "path", path, NULL);
	unsigned char *bytes = malloc(len);
	assert_non_null(bytes);
	memset(bytes, NEW_BYTE, len);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, bytes, len), SWI_OK);
	free(bytes);
	return t;
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
	assert_file_size(path, 100);
	/* Closed (verified), the new bytes stay staged until the commit. */
	assert_int_equal(t->handler->close(t), SWI_OK);
	assert_int_equal(count_temporaries(f->dir), 1);
	assert_file_size(path, 100);
	assert_int_equal(t->handler->commit(t), SWI_OK);
	assert_int_equal(count_temporaries(f->dir), 0);
	size_t size;
	unsigned char *buf = slurp(path, &size);
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
	struct swi_target *t = writing_over_old_file(f, path, 10);
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
	set_attr(f, "path", path);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_int_equal(install(t, 10, 10), SWI_EIO);
	assert_error_mentions(f, "symbolic link");
	assert_file_size(outside, 100);
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
	struct swi_target *t = writing_over_old_file(f, path, 1000);
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
	assert_file_size(path, 10);
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
	assert_int_equal(swi_target_bind_attrs(t), SWI_EFORMAT);
	assert_error_mentions(f, "handler 'rawfile' needs attribute 'path'");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_attr(f, "path", cases[i].path);
		assert_int_equal(t->handler->check(t), SWI_EFORMAT);
		assert_error_mentions(f, cases[i].message);
		assert_int_equal(t->handler->open(t), SWI_EFORMAT);
	}
	/* "..name" is a file name, not a parent reference. */
	char path[128];
	in_dir(f, "..hidden", path, sizeof(path));
	set_attr(f, "path", path);
	assert_int_equal(t->handler->check(t), SWI_OK);
}

static void rawfile_refuses_directory_target(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL, "path", f->dir, NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "is a directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
