/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Entries that mount a filesystem (lib/mount.c) and the paths inside it
 * (swi_target_path()), on an ext4 image attached to a loop device. Each
 * test needs root, losetup and mkfs.ext4; without them it says why and is
 * skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include "handler.h"
#include "mount.h"
#include "scratch.h"
#include "testutil.h"

static const char new_content[] = "key = new\n";

struct fixture {
	const char *unusable;   /* why the test cannot run here, or NULL */
	char dir[64];
	char loop[64];          /* "" until attached */
	swi_ctx_t *ctx;
	struct swi_scratch scratch;
	struct swi_entry entry;
	struct swi_target target;
};

/* The tree the filesystem is made from: /etc/old.conf, and symbolic links
 * that lead out of it (absolute, relative) or to a file outside. */
static void make_tree(const char *dir)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/tree", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/tree/etc", dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/tree/etc/old.conf", dir);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("key = old\n", fp);
	assert_int_equal(fclose(fp), 0);
	static const struct { const char *name, *to; } links[] = {
		{ "out", "/" }, { "up", "../../.." }, { "etc/passwd-link", "/etc/passwd" },
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/tree/%s", dir, links[i].name);
		assert_int_equal(symlink(links[i].to, path), 0);
	}
}

/* Why this machine cannot run the test, or NULL. */
static const char *unusable(void)
{
	if (geteuid() != 0)
		return "needs root (mount, loop devices)";
	if (access("/dev/loop-control", F_OK) != 0)
		return "no /dev/loop-control";
	if (system("command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null") != 0)
		return "needs mkfs.ext4 and losetup";
	return NULL;
}

/* The ext4 image made from the tree, attached: f->loop. */
static bool attach_filesystem(struct fixture *f)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F -d %s/tree %s/fs.img 8M >/dev/null 2>&1",
		 f->dir, f->dir);
	if (system(cmd) != 0)
		return false;
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s/fs.img 2>/dev/null", f->dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(f->loop, sizeof(f->loop), p))
		f->loop[0] = '\0';
	f->loop[strcspn(f->loop, "\n")] = '\0';
	return pclose(p) == 0 && f->loop[0];
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	*state = f;
	strcpy(f->dir, "/tmp/swi-mount-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	f->scratch.ctx = f->ctx;
	f->entry.filename = "new.conf";
	f->entry.collection = "files";
	f->target.ctx = f->ctx;
	f->target.entry = &f->entry;
	f->target.scratch = &f->scratch;
	f->unusable = unusable();
	if (!f->unusable) {
		make_tree(f->dir);
		if (!attach_filesystem(f))
			f->unusable = "mkfs.ext4 or losetup failed";
	}
	return 0;
}

/* The fixture, or the test skipped, saying why. */
static struct fixture *ready(void **state)
{
	struct fixture *f = *state;
	if (f->unusable) {
		print_message("skipped: %s\n", f->unusable);
		skip();
	}
	return f;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	swi_target_unmount(&f->target);
	free(f->target.path);
	swi_target_unbind_attrs(&f->target);
	swi_target_free_state(&f->target);
	swi_scratch_remove(&f->scratch);
	swi_attrs_free(&f->entry.attrs);
	swi_ctx_free(f->ctx);
	if (f->loop[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "losetup -d %s", f->loop);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(remove_tree(f->dir), 0);
	free(f);
	return 0;
}

/* The fixture's target for handler (rawfile), with the attributes given as
 * name, value pairs, checked and typed as the plan does. */
static struct swi_target *target(struct fixture *f, ...)
{
	f->target.handler = &swi_handler_rawfile;
	va_list ap;
	va_start(ap, f);
	for (const char *name; (name = va_arg(ap, const char *));)
		assert_int_equal(swi_attrs_set(&f->entry.attrs, name, va_arg(ap, const char *)),
				 SWI_OK);
	va_end(ap);
	assert_int_equal(swi_target_bind_attrs(&f->target), SWI_OK);
	assert_int_equal(swi_target_alloc_state(&f->target), SWI_OK);
	return &f->target;
}

/* A target mounting the fixture's filesystem, writing path. */
static struct swi_target *mounting(struct fixture *f, const char *fs, const char *path)
{
	return target(f, "device", f->loop, "filesystem", fs, "path", path, NULL);
}

static void assert_error_mentions(const struct fixture *f, const char *text)
{
	if (!strstr(swi_errmsg(f->ctx), text))
		fail_msg("error '%s' does not mention '%s'", swi_errmsg(f->ctx), text);
}

/* Whether dir is a mount point of this process (its mountinfo line). */
static bool is_mounted(const char *dir)
{
	FILE *fp = fopen("/proc/self/mountinfo", "r");
	assert_non_null(fp);
	char line[4096];
	bool found = false;
	size_t n = strlen(dir);
	while (!found && fgets(line, sizeof(line), fp)) {
		/* ID PARENT MAJ:MIN ROOT MOUNT-POINT ... */
		char *p = line;
		for (int field = 0; field < 4 && p; field++)
			p = strchr(p + 1, ' ');
		found = p && strncmp(p + 1, dir, n) == 0 && p[1 + n] == ' ';
	}
	fclose(fp);
	return found;
}

/* Nothing is left of a mount: not in the mount table, no directory in the
 * install's private directory. */
static void assert_nothing_left(const struct fixture *f, const char *mount_dir)
{
	assert_null(f->target.mount_dir);
	assert_false(is_mounted(mount_dir));
	struct stat st;
	assert_int_equal(lstat(mount_dir, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* What the filesystem holds at path, read with debugfs from the device. */
static char *read_from_device(const struct fixture *f, const char *path)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat %s' %s 2>/dev/null", path, f->loop);
	return command_output(cmd);
}

static void mounts_and_resolves_paths(void **state)
{
	struct fixture *f = ready(state);
	const char *path = "unset";
	struct swi_target *t = mounting(f, "ext4", "/etc/new.conf");
	/* Planning: checked, nothing mounted yet. */
	assert_int_equal(swi_target_path(t, &path), SWI_OK);
	assert_null(path);
	assert_int_equal(swi_target_mount(t), SWI_OK);
	assert_non_null(t->mount_dir);
	assert_true(is_mounted(t->mount_dir));
	const char *scratch;
	assert_int_equal(swi_scratch_dir(&f->scratch, &scratch), SWI_OK);
	assert_int_equal(strncmp(t->mount_dir, scratch, strlen(scratch)), 0);
	char want[512];
	snprintf(want, sizeof(want), "%s/etc/new.conf", t->mount_dir);
	assert_int_equal(swi_target_path(t, &path), SWI_OK);
	assert_string_equal(path, want);
	/* Without the leading slash, the same place; "/" is the mount root. */
	static const struct { const char *written, *inside; } forms[] = {
		{ "etc/new.conf", "/etc/new.conf" }, { "//etc//new.conf", "/etc//new.conf" },
		{ "/", "" }, { "/etc/..hidden", "/etc/..hidden" },
	};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		free(t->path);
		t->path = NULL;
		assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", forms[i].written), SWI_OK);
		snprintf(want, sizeof(want), "%s%s", t->mount_dir, forms[i].inside);
		assert_int_equal(swi_target_path(t, &path), SWI_OK);
		assert_string_equal(path, want);
	}
	char *dir = strdup(t->mount_dir);
	assert_non_null(dir);
	swi_target_unmount(t);
	assert_null(t->path);
	assert_nothing_left(f, dir);
	free(dir);
	swi_target_unmount(t); /* again: nothing */
}

static void dotdot_refused(void **state)
{
	struct fixture *f = ready(state);
	const char *path;
	struct swi_target *t = mounting(f, "ext4", "/etc/../../etc/passwd");
	assert_int_equal(swi_target_path(t, &path), SWI_EFORMAT);
	assert_error_mentions(f, "path '/etc/../../etc/passwd' contains a '..' component");
	assert_int_equal(swi_target_mount(t), SWI_OK);
	assert_int_equal(swi_target_path(t, &path), SWI_EFORMAT);
	assert_null(path);
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", ".."), SWI_OK);
	assert_int_equal(swi_target_path(t, &path), SWI_EFORMAT);
	assert_error_mentions(f, "'..'");
}

/* A link inside the filesystem is not followed, wherever it points: out
 * of the mount (absolute or relative), or at the file written. */
static void symbolic_links_inside_refused(void **state)
{
	struct fixture *f = ready(state);
	static const struct { const char *path, *link; } cases[] = {
		{ "/out/etc/new.conf", "/out" },
		{ "up/tmp/new.conf", "/up" },
		{ "/etc/passwd-link", "/etc/passwd-link" },
	};
	struct swi_target *t = mounting(f, "ext4", cases[0].path);
	assert_int_equal(swi_target_mount(t), SWI_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = "unset";
		assert_int_equal(swi_attrs_set(&f->entry.attrs, "path", cases[i].path), SWI_OK);
		assert_int_equal(swi_target_path(t, &path), SWI_EIO);
		assert_null(path);
		char text[128];
		snprintf(text, sizeof(text), "%s in the filesystem of %s is a symbolic link",
			 cases[i].link, f->loop);
		assert_error_mentions(f, text);
		assert_int_equal(t->handler->open(t), SWI_EIO);
	}
}

/* The whole run of a rawfile entry: checked at planning, mounted, written,
 * committed, unmounted; the file is on the device. */
static void rawfile_writes_into_the_filesystem(void **state)
{
	struct fixture *f = ready(state);
	struct swi_target *t = mounting(f, "ext4", "/etc/new.conf");
	assert_int_equal(t->handler->check(t), SWI_OK);
	assert_int_equal(swi_target_mount(t), SWI_OK);
	char *dir = strdup(t->mount_dir);
	assert_non_null(dir);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, new_content, strlen(new_content)), SWI_OK);
	assert_int_equal(t->handler->close(t), SWI_OK);
	assert_int_equal(t->handler->commit(t), SWI_OK);
	swi_target_unmount(t);
	assert_nothing_left(f, dir);
	free(dir);
	char *got = read_from_device(f, "/etc/new.conf");
	assert_string_equal(got, new_content);
	free(got);
}

/* An abort (a failure, a cancel) after the bytes were written: the
 * filesystem is unmounted and holds nothing new. */
static void abort_unmounts_and_leaves_nothing(void **state)
{
	struct fixture *f = ready(state);
	struct swi_target *t = mounting(f, "ext4", "/etc/old.conf");
	assert_int_equal(swi_target_mount(t), SWI_OK);
	char *dir = strdup(t->mount_dir);
	assert_non_null(dir);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, new_content, strlen(new_content)), SWI_OK);
	assert_int_equal(t->handler->close(t), SWI_OK);
	t->handler->abort(t);
	swi_target_unmount(t);
	assert_nothing_left(f, dir);
	free(dir);
	char *got = read_from_device(f, "/etc/old.conf");
	assert_string_equal(got, "key = old\n");
	free(got);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "debugfs -R 'ls /etc' %s 2>/dev/null", f->loop);
	got = command_output(cmd);
	if (strstr(got, "swinstall"))
		fail_msg("a staged file is left in /etc: %s", got);
	free(got);
}

/* A mount that fails names the device, the filesystem and the reason, and
 * leaves no directory. */
static void failed_mount_is_explained(void **state)
{
	struct fixture *f = ready(state);
	struct swi_target *t = mounting(f, "nosuchfs", "/etc/new.conf");
	assert_int_equal(swi_target_mount(t), SWI_EIO);
	char text[128];
	snprintf(text, sizeof(text), "new.conf: cannot mount %s (nosuchfs) on ", f->loop);
	assert_error_mentions(f, text);
	assert_error_mentions(f, "the kernel does not know this filesystem type");
	assert_null(t->mount_dir);
	const char *scratch;
	assert_int_equal(swi_scratch_dir(&f->scratch, &scratch), SWI_OK);
	DIR *d = opendir(scratch);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		if (strncmp(de->d_name, "mount-", 6) == 0)
			fail_msg("mount point %s/%s is left", scratch, de->d_name);
	closedir(d);
}

/* A device mounted elsewhere is not mounted again (the kernel would share
 * that mount's filesystem). */
static void device_mounted_elsewhere_refused(void **state)
{
	struct fixture *f = ready(state);
	char elsewhere[96];
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", f->dir);
	assert_int_equal(mkdir(elsewhere, 0700), 0);
	assert_int_equal(mount(f->loop, elsewhere, "ext4", MS_RDONLY, NULL), 0);
	struct swi_target *t = mounting(f, "ext4", "/etc/new.conf");
	int rc = swi_target_mount(t);
	assert_int_equal(umount(elsewhere), 0);
	assert_int_equal(rc, SWI_EIO);
	char text[256];
	snprintf(text, sizeof(text), "%s is mounted on %s: refused", f->loop, elsewhere);
	assert_error_mentions(f, text);
	assert_null(t->mount_dir);
	/* Held by the kernel for someone this process's mount table does not
	 * show (a mount in another namespace): O_EXCL tells. */
	int held = open(f->loop, O_RDONLY | O_EXCL);
	assert_true(held >= 0);
	rc = swi_target_mount(t);
	close(held);
	assert_int_equal(rc, SWI_EIO);
	snprintf(text, sizeof(text), "%s is in use (mounted, or claimed by the system)", f->loop);
	assert_error_mentions(f, text);
	assert_null(t->mount_dir);
}

/* Two entries of one install writing into the same filesystem: the second
 * mounts the device this install holds already. */
static void two_entries_share_the_device(void **state)
{
	struct fixture *f = ready(state);
	struct swi_target *t = mounting(f, "ext4", "/etc/new.conf");
	struct swi_entry other_entry = { .filename = "other.conf", .collection = "files" };
	assert_int_equal(swi_attrs_set(&other_entry.attrs, "device", f->loop), SWI_OK);
	assert_int_equal(swi_attrs_set(&other_entry.attrs, "filesystem", "ext4"), SWI_OK);
	struct swi_target other = { .ctx = f->ctx, .entry = &other_entry,
				    .handler = &swi_handler_rawfile, .scratch = &f->scratch };
	assert_int_equal(swi_target_mount(t), SWI_OK);
	assert_int_equal(swi_target_mount(&other), SWI_OK);
	assert_string_not_equal(t->mount_dir, other.mount_dir);
	char *dir = strdup(other.mount_dir);
	assert_non_null(dir);
	swi_target_unmount(&other);
	assert_false(is_mounted(dir));
	assert_true(is_mounted(t->mount_dir));
	free(dir);
	swi_attrs_free(&other_entry.attrs);
}

/* What an entry must say to be mounted, checked at planning (no root
 * needed: nothing is mounted). */
static void mount_attributes_checked(void **state)
{
	struct fixture *f = *state;
	const char *path;
	struct swi_target *t = target(f, "filesystem", "ext4", "path", "/etc/new.conf", NULL);
	assert_int_equal(swi_target_path(t, &path), SWI_EFORMAT);
	assert_error_mentions(f, "without the device to mount it from");
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "device", "UUID=1234-5678"), SWI_OK);
	assert_int_equal(swi_target_path(t, &path), SWI_EFORMAT);
	assert_error_mentions(f, "device 'UUID=1234-5678' is not a path");
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "device", "/dev/no-such-disk"), SWI_OK);
	assert_int_equal(t->handler->check(t), SWI_EIO);
	assert_error_mentions(f, "device /dev/no-such-disk does not exist");
	assert_int_equal(swi_attrs_set(&f->entry.attrs, "filesystem", ""), SWI_OK);
	assert_int_equal(swi_target_path(t, &path), SWI_EFORMAT);
	assert_error_mentions(f, "'filesystem' is empty");
	assert_null(t->mount_dir);
}

/* A device without a filesystem: SWUpdate would write path on the running
 * system; refused. */
static void device_without_filesystem_refused(void **state)
{
	struct fixture *f = ready(state);
	struct swi_target *t = target(f, "device", f->loop, "path", "/etc/new.conf", NULL);
	assert_int_equal(t->handler->check(t), SWI_EFORMAT);
	assert_error_mentions(f, "without a filesystem");
}

/* A filesystem still in use when its entry ends is detached lazily: gone
 * from the mount table and its directory removed all the same. */
static void busy_filesystem_detached(void **state)
{
	struct fixture *f = ready(state);
	struct swi_target *t = mounting(f, "ext4", "/etc/old.conf");
	assert_int_equal(swi_target_mount(t), SWI_OK);
	char *dir = strdup(t->mount_dir);
	assert_non_null(dir);
	char inside[512];
	snprintf(inside, sizeof(inside), "%s/etc/old.conf", dir);
	int fd = open(inside, O_RDONLY);
	assert_true(fd >= 0);
	swi_target_unmount(t);
	assert_nothing_left(f, dir);
	char buf[16] = "";
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0); /* still readable until let go */
	assert_string_equal(buf, "key = old\n");
	close(fd);
	free(dir);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(mounts_and_resolves_paths),
		T(dotdot_refused),
		T(symbolic_links_inside_refused),
		T(rawfile_writes_into_the_filesystem),
		T(abort_unmounts_and_leaves_nothing),
		T(failed_mount_is_explained),
		T(device_mounted_elsewhere_refused),
		T(two_entries_share_the_device),
		T(mount_attributes_checked),
		T(device_without_filesystem_refused),
		T(busy_filesystem_detached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
