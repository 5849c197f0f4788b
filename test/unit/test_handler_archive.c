/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The archive handler, driven as the core drives a pull handler (open, a
 * pull stream running extract, finish, close or abort) over tarballs made
 * here with libarchive's writer: what it extracts, and every way out of
 * the destination it refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include "handler.h"

struct fixture {
	char dir[64];
	char dest[96];        /* where the archive goes */
	char outside[96];     /* a sentinel next to it: must stay empty */
	swi_ctx_t *ctx;
	struct swi_entry entry;
	struct swi_target target;
};

/* One archive entry: type 'f' file (text: its data), 'd' directory,
 * 's' symbolic link and 'h' hard link (text: the target), 'c' character
 * device. */
struct ent {
	char type;
	const char *name;
	const char *text;
	unsigned mode;        /* 0: 0644 for files, 0755 for directories */
};

struct tarball {
	void *p;
	size_t len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-archive-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->dest, sizeof(f->dest), "%s/dest", f->dir);
	snprintf(f->outside, sizeof(f->outside), "%s/outside", f->dir);
	assert_int_equal(mkdir(f->dest, 0755), 0);
	assert_int_equal(mkdir(f->outside, 0755), 0);
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	f->entry.filename = "files.tar";
	f->entry.collection = "files";
	f->target.ctx = f->ctx;
	f->target.entry = &f->entry;
	umask(022);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	swi_target_unbind_attrs(&f->target);
	swi_target_free_state(&f->target);
	free(f->target.path);
	swi_attrs_free(&f->entry.attrs);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* The entry: an archive entry with path = dest and the extra attributes
 * given as name, value pairs. */
static struct swi_target *target(struct fixture *f, const struct swi_handler *h, ...)
{
	f->target.handler = h;
	free(f->target.path); /* what swi_target_path() made of the last path */
	f->target.path = NULL;
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", f->dest), SWI_OK);
	va_list ap;
	va_start(ap, h);
	for (const char *name; (name = va_arg(ap, const char *));)
		assert_int_equal(swi_attrs_set(&f->entry.attrs, name, va_arg(ap, const char *)),
				 SWI_OK);
	va_end(ap);
	assert_int_equal(swi_target_bind_attrs(&f->target), SWI_OK);
	assert_int_equal(swi_target_alloc_state(&f->target), SWI_OK);
	return &f->target;
}

/* A tarball (pax) of the entries, compressed with filter (an
 * ARCHIVE_FILTER_* code, ARCHIVE_FILTER_NONE for none). */
static struct tarball make_tar(const struct ent *ents, size_t n, int filter, int64_t uid,
			       const char *xattr)
{
	struct tarball t = { malloc(1 << 20), 0 };
	assert_non_null(t.p);
	struct archive *a = archive_write_new();
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_true(archive_write_add_filter(a, filter) >= ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, t.p, 1 << 20, &t.len), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		const struct ent *e = &ents[i];
		struct archive_entry *ae = archive_entry_new();
		archive_entry_set_pathname(ae, e->name);
		archive_entry_set_uid(ae, uid);
		archive_entry_set_gid(ae, uid);
		archive_entry_set_mtime(ae, 1000000000, 0);
		unsigned mode = e->mode ? e->mode : e->type == 'd' ? 0755 : 0644;
		switch (e->type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_size(ae, (la_int64_t)strlen(e->text));
			if (xattr)
				archive_entry_xattr_add_entry(ae, xattr, "v", 1);
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			break;
		case 's':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_symlink(ae, e->text);
			mode = 0777;
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_hardlink(ae, e->text);
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_rdev(ae, makedev(1, 3));
			break;
		}
		archive_entry_set_perm(ae, mode);
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
		if (e->type == 'f')
			assert_int_equal(archive_write_data(a, e->text, strlen(e->text)),
					 (la_ssize_t)strlen(e->text));
		archive_entry_free(ae);
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	return t;
}

static int run_extract(void *user)
{
	struct swi_target *t = user;
	return t->handler->extract(t);
}

/* The core's sequence for a pull handler: open, the stream (which runs
 * extract) fed in pieces, finish, then close, or abort after freeing the
 * stream. compressed: the entry's `compressed`, or NULL. */
static int install(struct swi_target *t, struct tarball tar, const char *compressed)
{
	struct swi_stream_spec spec = { .compressed = compressed };
	int rc = t->handler->open(t);
	struct swi_stream *s = NULL;
	if (rc == SWI_OK)
		rc = swi_stream_new_pull(t->ctx, "files.tar", &spec, run_extract, t, &s);
	t->pull = s;
	for (size_t at = 0; rc == SWI_OK && at < tar.len; at += 1000)
		rc = swi_stream_feed(s, (char *)tar.p + at, tar.len - at < 1000 ? tar.len - at : 1000);
	if (rc == SWI_OK)
		rc = swi_stream_finish(s);
	if (rc == SWI_OK)
		rc = t->handler->close(t);
	swi_stream_free(s);
	t->pull = NULL;
	if (rc)
		t->handler->abort(t);
	free(tar.p);
	return rc;
}

static void in_dest(const struct fixture *f, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", f->dest, name);
}

static void assert_file(const struct fixture *f, const char *name, const char *text)
{
	char path[256], buf[256] = "";
	in_dest(f, name, path, sizeof(path));
	FILE *fp = fopen(path, "r");
	if (!fp)
		fail_msg("%s: %s", path, strerror(errno));
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_string_equal(buf, text);
}

static struct stat lstat_of(const struct fixture *f, const char *name)
{
	char path[256];
	struct stat st;
	in_dest(f, name, path, sizeof(path));
	if (lstat(path, &st) < 0)
		fail_msg("%s: %s", path, strerror(errno));
	return st;
}

static void assert_outside_empty(const struct fixture *f)
{
	DIR *d = opendir(f->outside);
	assert_non_null(d);
	int entries = 0;
	for (struct dirent *de; (de = readdir(d));)
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(entries, 0);
	/* Nothing next to the destination either but what the test made. */
	char path[128];
	snprintf(path, sizeof(path), "%s/x", f->dir);
	assert_int_equal(access(path, F_OK), -1);
}

/* ---- what it extracts ---- */

static const struct ent tree[] = {
	{ 'd', "etc", NULL, 0 },
	{ 'f', "etc/hostname", "device\n", 0 },
	{ 'f', "etc/run.sh", "#!/bin/sh\n", 0755 },
	{ 'd', "usr/lib", NULL, 0700 },
	{ 'f', "usr/lib/libx.so.1", "ELF", 0 },
	{ 's', "usr/lib/libx.so", "libx.so.1", 0 },
	{ 's', "etc/lib", "../usr/lib", 0 },
	{ 'h', "etc/hostname.bak", "etc/hostname", 0 },
	{ 'f', "./dot/a", "a", 0 },
};
#define NTREE (sizeof(tree) / sizeof(tree[0]))

static void assert_tree(const struct fixture *f)
{
	assert_file(f, "etc/hostname", "device\n");
	assert_file(f, "etc/run.sh", "#!/bin/sh\n");
	assert_file(f, "usr/lib/libx.so", "ELF");
	assert_file(f, "etc/lib/libx.so.1", "ELF"); /* read through the link, after */
	assert_file(f, "dot/a", "a");
	assert_int_equal(lstat_of(f, "etc/run.sh").st_mode & 07777, 0755);
	assert_int_equal(lstat_of(f, "etc/hostname").st_mode & 07777, 0644);
	assert_true(S_ISLNK(lstat_of(f, "usr/lib/libx.so").st_mode));
	assert_int_equal(lstat_of(f, "etc/hostname.bak").st_ino,
			 lstat_of(f, "etc/hostname").st_ino);
}

static void extracts_files_dirs_and_links(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_archive, NULL);
	assert_int_equal(install(t, make_tar(tree, NTREE, ARCHIVE_FILTER_NONE, 0, NULL), NULL),
			 SWI_OK);
	assert_tree(f);
	assert_outside_empty(f);
}

/* The tarball's own compression (libarchive undoes it), and the entry's
 * (`compressed`, undone by the core before extract sees a byte). */
static void extracts_compressed_tarballs(void **state)
{
	struct fixture *f = *state;
	static const int filters[] = { ARCHIVE_FILTER_GZIP, ARCHIVE_FILTER_XZ, ARCHIVE_FILTER_ZSTD,
				       ARCHIVE_FILTER_BZIP2 };
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
		struct swi_target *t = target(f, &swi_handler_tar, NULL);
		assert_int_equal(install(t, make_tar(tree, NTREE, filters[i], 0, NULL), NULL), SWI_OK);
		assert_tree(f);
		swi_target_free_state(t);
	}
	struct swi_target *t = target(f, &swi_handler_archive, NULL);
	assert_int_equal(install(t, make_tar(tree, NTREE, ARCHIVE_FILTER_GZIP, 0, NULL), "zlib"),
			 SWI_OK);
	assert_tree(f);
}

static void modes_without_and_with_preserve_attributes(void **state)
{
	struct fixture *f = *state;
	static const struct ent suid[] = { { 'f', "su", "x", 04755 }, { 'f', "ro", "y", 0600 } };
	struct swi_target *t = target(f, &swi_handler_archive, NULL);
	assert_int_equal(install(t, make_tar(suid, 2, ARCHIVE_FILTER_NONE, 1234, NULL), NULL),
			 SWI_OK);
	/* Without: no set-user-ID, the installer's umask, its own owner. */
	assert_int_equal(lstat_of(f, "su").st_mode & 07777, 0755);
	assert_int_equal(lstat_of(f, "ro").st_mode & 07777, 0600);
	assert_int_equal(lstat_of(f, "su").st_uid, geteuid());
	assert_true(lstat_of(f, "su").st_mtime != 1000000000);

	swi_target_free_state(t);
	t = target(f, &swi_handler_archive, "preserve-attributes", "true", NULL);
	const char *xattr = "user.swinstall";
	static const struct ent one[] = { { 'f', "su", "x", 04755 } };
	assert_int_equal(install(t, make_tar(one, 1, ARCHIVE_FILTER_NONE,
					     geteuid() == 0 ? 1234 : geteuid(), xattr), NULL), SWI_OK);
	assert_int_equal(lstat_of(f, "su").st_mtime, 1000000000);
	if (geteuid() == 0) {
		assert_int_equal(lstat_of(f, "su").st_mode & 07777, 04755);
		assert_int_equal(lstat_of(f, "su").st_uid, 1234);
	} else {
		print_message("not root: owner and set-user-ID not checked\n");
	}
	char path[256], value[8];
	in_dest(f, "su", path, sizeof(path));
	ssize_t n = getxattr(path, xattr, value, sizeof(value));
	if (n < 0 && (errno == ENOTSUP || errno == ENODATA))
		print_message("%s: no user xattrs on this filesystem: xattr not checked\n", path);
	else
		assert_memory_equal(value, "v", (size_t)n);
}

static void a_missing_destination_is_created_or_missing(void **state)
{
	struct fixture *f = *state;
	strcat(f->dest, "/new/deeper");
	struct swi_target *t = target(f, &swi_handler_archive, NULL);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_true(t->missing);
	swi_target_free_state(t);
	t = target(f, &swi_handler_archive, "properties.create-destination", "true", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(install(t, make_tar(tree, NTREE, ARCHIVE_FILTER_NONE, 0, NULL), NULL),
			 SWI_OK);
	assert_tree(f);
	char parent[128];
	snprintf(parent, sizeof(parent), "%s/dest/new", f->dir);
	struct stat st;
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
}

/* SWUpdate's clean-destination is refused at planning, not ignored. */
static void clean_destination_is_refused(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_archive, "properties.clean-destination", "true",
				      NULL);
	assert_int_equal(t->handler->check(t), SWI_EUNSUPPORTED);
	assert_non_null(strstr(swi_errmsg(f->ctx), "files.tar: clean-destination"));
	swi_target_free_state(t);
	t = target(f, &swi_handler_archive, "properties.clean-destination", "false", NULL);
	assert_int_equal(t->handler->check(t), SWI_OK);
}

/* An absolute link target inside the destination is fine. */
static void absolute_link_inside_is_kept(void **state)
{
	struct fixture *f = *state;
	char inside[128];
	snprintf(inside, sizeof(inside), "%s/etc", f->dest);
	struct ent ents[] = { { 'd', "etc", NULL, 0 }, { 's', "cfg", inside, 0 } };
	struct swi_target *t = target(f, &swi_handler_archive, NULL);
	assert_int_equal(install(t, make_tar(ents, 2, ARCHIVE_FILTER_NONE, 0, NULL), NULL), SWI_OK);
	assert_true(S_ISLNK(lstat_of(f, "cfg").st_mode));
}

/* ---- the ways out, every one refused ---- */

/* ents refused at entry `culprit`, with SWI_EFORMAT and a message naming
 * it and the member; nothing appeared outside. */
static void expect_refused(struct fixture *f, const struct ent *ents, size_t n,
			   const char *culprit, const char *reason)
{
	struct swi_target *t = target(f, &swi_handler_archive, NULL);
	int rc = install(t, make_tar(ents, n, ARCHIVE_FILTER_NONE, 0, NULL), NULL);
	if (rc != SWI_EFORMAT)
		fail_msg("entry '%s' not refused (%d): %s", culprit, rc, swi_errmsg(f->ctx));
	char want[256];
	snprintf(want, sizeof(want), "files.tar: entry '%s' %s", culprit, reason);
	if (!strstr(swi_errmsg(f->ctx), want))
		fail_msg("'%s' does not say '%s'", swi_errmsg(f->ctx), want);
	assert_outside_empty(f);
	swi_target_free_state(t);
}

static void refuses_absolute_and_dotdot_names(void **state)
{
	struct fixture *f = *state;
	char abs[128];
	snprintf(abs, sizeof(abs), "%s/x", f->outside);
	struct ent absolute[] = { { 'f', "ok", "1", 0 }, { 'f', abs, "2", 0 } };
	expect_refused(f, absolute, 2, abs, "has an absolute name");
	struct ent etc[] = { { 'f', "/etc/swinstall-test-x", "2", 0 } };
	expect_refused(f, etc, 1, "/etc/swinstall-test-x", "has an absolute name");
	assert_int_equal(access("/etc/swinstall-test-x", F_OK), -1);
	struct ent up[] = { { 'f', "../x", "2", 0 } };
	expect_refused(f, up, 1, "../x", "has a '..' component in its name");
	struct ent deep[] = { { 'd', "a", NULL, 0 }, { 'f', "a/../../x", "2", 0 } };
	expect_refused(f, deep, 2, "a/../../x", "has a '..' component in its name");
	struct ent harmless_looking[] = { { 'f', "a/../b", "2", 0 } };
	expect_refused(f, harmless_looking, 1, "a/../b", "has a '..' component");
}

static void refuses_symbolic_links_out(void **state)
{
	struct fixture *f = *state;
	struct ent to_etc[] = { { 's', "evil", "/etc", 0 }, { 'f', "evil/passwd", "root::0:0", 0 } };
	expect_refused(f, to_etc, 2, "evil", "is a symbolic link to '/etc', outside");
	struct ent to_outside[] = { { 's', "evil", f->outside, 0 }, { 'f', "evil/x", "1", 0 } };
	expect_refused(f, to_outside, 2, "evil", "is a symbolic link to");
	struct ent climbing[] = { { 's', "evil", "../../..", 0 } };
	expect_refused(f, climbing, 1, "evil", "is a symbolic link to '../../..', outside");
	struct ent from_below[] = { { 'd', "a", NULL, 0 }, { 's', "a/evil", "../../outside", 0 } };
	expect_refused(f, from_below, 2, "a/evil", "is a symbolic link to '../../outside'");
	/* Even a link that stays inside is no way for later entries. */
	struct ent through_inside[] = { { 'd', "sub", NULL, 0 }, { 's', "in", "sub", 0 },
					{ 'f', "in/f", "1", 0 } };
	expect_refused(f, through_inside, 3, "in/f", "goes through the symbolic link 'in'");
}

static void refuses_hard_links_out(void **state)
{
	struct fixture *f = *state;
	struct ent up[] = { { 'h', "h", "../outside/f", 0 } };
	expect_refused(f, up, 1, "h", "has a '..' component in its hard link target");
	struct ent passwd[] = { { 'h', "h", "/etc/passwd", 0 } };
	expect_refused(f, passwd, 1, "h", "has an absolute hard link target");
}

/* A link already in the destination, pointing out: no entry goes through. */
static void refuses_a_way_through_an_existing_link(void **state)
{
	struct fixture *f = *state;
	char link[128];
	snprintf(link, sizeof(link), "%s/pre", f->dest);
	assert_int_equal(symlink("../outside", link), 0);
	struct ent through[] = { { 'f', "pre/x", "1", 0 } };
	expect_refused(f, through, 1, "pre/x", "goes through the symbolic link 'pre'");
	struct ent deeper[] = { { 'f', "pre/a/b", "1", 0 } };
	expect_refused(f, deeper, 1, "pre/a/b", "goes through the symbolic link 'pre'");
	struct ent hard[] = { { 'h', "h", "pre/secret", 0 } };
	expect_refused(f, hard, 1, "h", "goes through the symbolic link 'pre'");
}

static void refuses_device_nodes_without_preserve_attributes(void **state)
{
	struct fixture *f = *state;
	struct ent dev[] = { { 'c', "null", NULL, 0666 } };
	expect_refused(f, dev, 1, "null", "is a device node");
}

/* Not an archive at all: the member is blamed. */
static void refuses_what_is_not_an_archive(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_archive, NULL);
	struct tarball junk = { strdup("this is not a tarball, not at all, no, not even close"), 0 };
	junk.len = strlen(junk.p);
	assert_int_equal(install(t, junk, NULL), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "files.tar: "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(extracts_files_dirs_and_links, setup, teardown),
		cmocka_unit_test_setup_teardown(extracts_compressed_tarballs, setup, teardown),
		cmocka_unit_test_setup_teardown(modes_without_and_with_preserve_attributes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(a_missing_destination_is_created_or_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(absolute_link_inside_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(clean_destination_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_absolute_and_dotdot_names, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_symbolic_links_out, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_hard_links_out, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_a_way_through_an_existing_link, setup,
						teardown),
		cmocka_unit_test_setup_teardown(refuses_device_nodes_without_preserve_attributes,
						setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_what_is_not_an_archive, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
