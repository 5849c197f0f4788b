/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Staged files and their journal (lib/staging.c): directories walked
 * without symbolic links, recognisable 0600 files, and the removal of what
 * an interrupted install left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "staging.h"

struct fixture {
	char dir[64];
	char path[256];
	swi_ctx_t *ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-staging-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	snprintf(f->path, sizeof(f->path), "%s/state", f->dir);
	assert_int_equal(swi_set_option(f->ctx, "state-dir", f->path), SWI_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(remove_tree(f->dir), 0);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

static const char *in_dir(struct fixture *f, const char *name)
{
	snprintf(f->path, sizeof(f->path), "%s/%s", f->dir, name);
	return f->path;
}

static void directories_are_walked_without_links(void **state)
{
	struct fixture *f = *state;
	int fd;
	assert_int_equal(swi_open_dir_nofollow(f->ctx, in_dir(f, "a/b/c"), false, &fd), SWI_EIO);
	assert_int_equal(swi_open_dir_nofollow(f->ctx, in_dir(f, "a/b/c"), true, &fd), SWI_OK);
	close(fd);
	struct stat st;
	assert_int_equal(stat(in_dir(f, "a/b/c"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	char target[256];
	snprintf(target, sizeof(target), "%s", in_dir(f, "a"));
	assert_int_equal(symlink(target, in_dir(f, "link")), 0);
	assert_int_equal(swi_open_dir_nofollow(f->ctx, in_dir(f, "link/b"), false, &fd), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(f->ctx), "symbolic link"));
	assert_int_equal(swi_open_dir_nofollow(f->ctx, in_dir(f, "link/new"), true, &fd), SWI_EIO);
	assert_int_equal(access(in_dir(f, "a/new"), F_OK), -1);
	assert_int_equal(swi_open_dir_nofollow(f->ctx, "relative/dir", false, &fd), SWI_EINVAL);
	assert_int_equal(swi_open_dir_nofollow(f->ctx, "/", false, &fd), SWI_OK);
	close(fd);
}

/* A staged file is 0600, named after its file, journalled; a journal an
 * install left (it was killed) makes the next recovery remove exactly
 * the staged files it lists. */
static void leftovers_of_an_interrupted_install_are_removed(void **state)
{
	struct fixture *f = *state;
	struct swi_journal j;
	char name[SWI_STAGED_NAME_MAX], staged[1024], dir[256];
	int dirfd, fd;
	snprintf(dir, sizeof(dir), "%s", in_dir(f, "etc"));
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(swi_open_dir_nofollow(f->ctx, dir, false, &dirfd), SWI_OK);
	assert_int_equal(swi_journal_open(f->ctx, &j), SWI_OK);
	assert_int_equal(swi_create_staged(f->ctx, &j, dirfd, dir, "app.conf", name, sizeof(name), &fd),
			 SWI_OK);
	close(fd);
	assert_int_equal(strncmp(name, ".app.conf.swinstall-", 20), 0);
	snprintf(staged, sizeof(staged), "%s/%s", dir, name);
	struct stat st;
	assert_int_equal(stat(staged, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	/* A file of the same directory that is no staged file stays, even if
	 * a journal names it. */
	int other = openat(dirfd, "keep.conf", O_CREAT | O_WRONLY, 0644);
	assert_true(other >= 0);
	close(other);
	assert_int_equal(swi_journal_record(&j, dir, "keep.conf"), SWI_OK);
	/* The process dies here: the journal stays. */
	close(j.fd);
	free(j.path);
	close(dirfd);
	assert_int_equal(swi_journal_recover(f->ctx), SWI_OK);
	assert_int_equal(access(staged, F_OK), -1);
	assert_int_equal(access(in_dir(f, "etc/keep.conf"), F_OK), 0);
	assert_int_equal(access(in_dir(f, "state/staged-files"), F_OK), -1);
	/* Nothing to recover: fine. */
	assert_int_equal(swi_journal_recover(f->ctx), SWI_OK);
}

/* An install that ends removes its journal. */
static void a_finished_journal_goes(void **state)
{
	struct fixture *f = *state;
	struct swi_journal j;
	assert_int_equal(swi_journal_open(f->ctx, &j), SWI_OK);
	assert_int_equal(access(in_dir(f, "state/staged-files"), F_OK), 0);
	swi_journal_close(&j);
	assert_int_equal(access(in_dir(f, "state/staged-files"), F_OK), -1);
	/* A state directory that cannot be made is a configuration error. */
	assert_int_equal(swi_set_option(f->ctx, "state-dir", "/proc/no/such/dir"), SWI_OK);
	assert_int_equal(swi_journal_open(f->ctx, &j), SWI_ECONFIG);
	assert_non_null(strstr(swi_errmsg(f->ctx), "state-dir"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(directories_are_walked_without_links),
		T(leftovers_of_an_interrupted_install_are_removed),
		T(a_finished_journal_goes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
