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
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include "handler_fixture.h"
#include "mount.h"

static const char new_content[] = "key = new\n";

/* The test's filesystem: the loop device it is attached to ("" when not),
 * or why this machine cannot have one. */
static char loop[64];
static const char *unusable;

/* The tree the filesystem is made from, in dir/tree: /etc/old.conf, and
 * symbolic links that lead out of it (absolute, relative) or to a file
 * outside. */
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
static const char *machine_unusable(void)
{
	if (geteuid() != 0)
		return "needs root (mount, loop devices)";
	if (access("/dev/loop-control", F_OK) != 0)
		return "no /dev/loop-control";
	if (system("command -v mkfs.ext4 >/dev/null && command -v losetup >/dev/null") != 0)
		return "needs mkfs.ext4 and losetup";
	return NULL;
}

/* The ext4 image made from the tree in dir, attached: loop. */
static bool attach_filesystem(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F -d %s/tree %s/fs.img 8M >/dev/null 2>&1",
		 dir, dir);
	if (system(cmd) != 0)
		return false;
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s/fs.img 2>/dev/null", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(loop, sizeof(loop), p))
		loop[0] = '\0';
	loop[strcspn(loop, "\n")] = '\0';
	return pclose(p) == 0 && loop[0];
}

/* handler_fixture.h's fixture (entry member.img, tmpdir its dir), and a
 * fresh filesystem made in its work directory. */
static int setup_fs(void **state)
{
	setup(state);
	struct fixture *f = *state;
	loop[0] = '\0';
	unusable = machine_unusable();
	if (!unusable) {
		make_tree(f->work);
		if (!attach_filesystem(f->work))
			unusable = "mkfs.ext4 or losetup failed";
	}
	f->fds = open_fds();
	return 0;
}

static int teardown_fs(void **state)
{
	struct fixture *f = *state;
	swi_target_unmount(&f->target);
	if (loop[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "losetup -d %s", loop);
		assert_int_equal(system(cmd), 0);
	}
	return teardown(state);
}

/* The fixture, or the test skipped, saying why. */
static struct fixture *ready(void **state)
{
	if (unusable) {
		print_message("skipped: %s\n", unusable);
		skip();
	}
	return *state;
}

/* The fixture's rawfile target mounting its filesystem as fs, writing path. */
static struct swi_target *mounting(struct fixture *f, const char *fs, const char *path)
{
	return target(f, &swi_handler_rawfile, 0, NULL, "device", loop, "filesystem", fs,
		      "path", path, NULL);
}

/* mounting(), mounted; its mount point (for after the unmount) in *dir. */
static struct swi_target *mounted(struct fixture *f, const char *path, char **dir)
{
	struct swi_target *t = mounting(f, "ext4", path);
	assert_int_equal(swi_target_mount(t), SWI_OK);
	*dir = strdup(t->mount_dir);
	assert_non_null(*dir);
	return t;
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
 * install's private directory, no descriptor open. */
static void assert_nothing_left(const struct fixture *f, char *mount_dir)
{
	assert_null(f->target.mount_dir);
	assert_false(is_mounted(mount_dir));
	struct stat st;
	assert_int_equal(lstat(mount_dir, &st), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(open_fds(), f->fds);
	free(mount_dir);
}

/* What debugfs says of the filesystem, read from the device: "cat PATH",
 * "ls DIR". */
static char *ask_debugfs(const char *request)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "debugfs -R '%s' %s 2>/dev/null", request, loop);
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
			 cases[i].link, loop);
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
	assert_int_equal(drive_check(f), SWI_OK);
	char *dir;
	assert_ptr_equal(mounted(f, "/etc/new.conf", &dir), t);
	assert_int_equal(feed(t, new_content, 4), SWI_OK);
	swi_target_unmount(t);
	assert_nothing_left(f, dir);
	char *got = ask_debugfs("cat /etc/new.conf");
	assert_string_equal(got, new_content);
	free(got);
}

/* An abort (a failure, a cancel) after the bytes were written: the
 * filesystem is unmounted and holds nothing new. */
static void abort_unmounts_and_leaves_nothing(void **state)
{
	struct fixture *f = ready(state);
	char *dir;
	struct swi_target *t = mounted(f, "/etc/old.conf", &dir);
	assert_int_equal(drive_open(f), SWI_OK);
	assert_int_equal(drive_feed(f, new_content, strlen(new_content), 4), SWI_OK);
	assert_int_equal(drive_close(f), SWI_OK);
	drive_abort(f);
	swi_target_unmount(t);
	assert_nothing_left(f, dir);
	char *got = ask_debugfs("cat /etc/old.conf");
	assert_string_equal(got, "key = old\n");
	free(got);
	got = ask_debugfs("ls /etc");
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
	snprintf(text, sizeof(text), "member.img: cannot mount %s (nosuchfs) on ", loop);
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
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", f->work);
	assert_int_equal(mkdir(elsewhere, 0700), 0);
	assert_int_equal(mount(loop, elsewhere, "ext4", MS_RDONLY, NULL), 0);
	struct swi_target *t = mounting(f, "ext4", "/etc/new.conf");
	int rc = swi_target_mount(t);
	assert_int_equal(umount(elsewhere), 0);
	assert_int_equal(rc, SWI_EIO);
	char text[256];
	snprintf(text, sizeof(text), "%s is mounted on %s: refused", loop, elsewhere);
	assert_error_mentions(f, text);
	assert_null(t->mount_dir);
	/* Held by the kernel for someone this process's mount table does not
	 * show (a mount in another namespace): O_EXCL tells. */
	int held = open(loop, O_RDONLY | O_EXCL);
	assert_true(held >= 0);
	rc = swi_target_mount(t);
	close(held);
	assert_int_equal(rc, SWI_EIO);
	snprintf(text, sizeof(text), "%s is in use (mounted, or claimed by the system)", loop);
	assert_error_mentions(f, text);
	assert_null(t->mount_dir);
}

/* Two entries of one install writing into the same filesystem: the second
 * mounts the device this install holds already. */
static void two_entries_share_the_device(void **state)
{
	struct fixture *f = ready(state);
	char *dir;
	struct swi_target *t = mounted(f, "/etc/new.conf", &dir);
	struct swi_entry other_entry = { .filename = "other.conf", .collection = "files" };
	assert_int_equal(swi_attrs_set(&other_entry.attrs, "device", loop), SWI_OK);
	assert_int_equal(swi_attrs_set(&other_entry.attrs, "filesystem", "ext4"), SWI_OK);
	struct swi_target other = { .ctx = f->ctx, .entry = &other_entry,
				    .handler = &swi_handler_rawfile, .scratch = &f->scratch };
	assert_int_equal(swi_target_mount(&other), SWI_OK);
	assert_string_not_equal(dir, other.mount_dir);
	char *other_dir = strdup(other.mount_dir);
	assert_non_null(other_dir);
	swi_target_unmount(&other);
	assert_false(is_mounted(other_dir));
	assert_true(is_mounted(dir));
	free(other_dir);
	swi_attrs_free(&other_entry.attrs);
	swi_target_unmount(t);
	assert_nothing_left(f, dir);
}

/* What an entry must say to be mounted, checked at planning (no root
 * needed: nothing is mounted). */
static void mount_attributes_checked(void **state)
{
	struct fixture *f = *state;
	const char *path;
	struct swi_target *t = target(f, &swi_handler_rawfile, 0, NULL, "filesystem", "ext4",
				      "path", "/etc/new.conf", NULL);
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
	struct swi_target *t = target(f, &swi_handler_rawfile, 0, NULL, "device", loop, "path",
				      "/etc/new.conf", NULL);
	assert_int_equal(t->handler->check(t), SWI_EFORMAT);
	assert_error_mentions(f, "without a filesystem");
}

/* A filesystem still in use when its entry ends is detached lazily: gone
 * from the mount table and its directory removed all the same. */
static void busy_filesystem_detached(void **state)
{
	struct fixture *f = ready(state);
	char *dir;
	struct swi_target *t = mounted(f, "/etc/old.conf", &dir);
	char inside[512];
	snprintf(inside, sizeof(inside), "%s/etc/old.conf", dir);
	int fd = open(inside, O_RDONLY);
	assert_true(fd >= 0);
	swi_target_unmount(t);
	char buf[16] = "";
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0); /* still readable until let go */
	assert_string_equal(buf, "key = old\n");
	close(fd);
	assert_nothing_left(f, dir);
}

int main(void)
{
#define ON_FS(fn) cmocka_unit_test_setup_teardown(fn, setup_fs, teardown_fs)
	const struct CMUnitTest tests[] = {
		ON_FS(mounts_and_resolves_paths),
		ON_FS(dotdot_refused),
		ON_FS(symbolic_links_inside_refused),
		ON_FS(rawfile_writes_into_the_filesystem),
		ON_FS(abort_unmounts_and_leaves_nothing),
		ON_FS(failed_mount_is_explained),
		ON_FS(device_mounted_elsewhere_refused),
		ON_FS(two_entries_share_the_device),
		ON_FS(mount_attributes_checked),
		ON_FS(device_without_filesystem_refused),
		ON_FS(busy_filesystem_detached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
