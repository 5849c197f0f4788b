/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* swi_flash() through the library: progress, cancel, arguments; the root=
 * test behind its refusal (swi_root_on_device); swi_scan_dir()'s edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "testutil.h"
#include "slots.h"

#define IMAGE_SIZE (3 * 1024 * 1024 + 123)

static int setup(void **state)
{
	return dir_fixture_setup(state, "swi-flash", "target");
}

static int teardown(void **state)
{
	return dir_fixture_teardown(state);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* DIR/disk.img of IMAGE_SIZE bytes, and an empty simulated system. */
static void make_image(struct dir_fixture *fx, char *image, size_t size)
{
	snprintf(image, size, "%s/disk.img", fx->dir);
	FILE *f = fopen(image, "w");
	assert_non_null(f);
	for (unsigned i = 0; i < IMAGE_SIZE; i++)
		fputc((int)(i * 7 % 251), f);
	assert_int_equal(fclose(f), 0);
	char path[160];
	snprintf(path, sizeof(path), "%s/cmdline", fx->dir);
	write_file(path, "console=ttyS0 ro\n");
	assert_int_equal(swi_set_option(fx->ctx, "cmdline-file", path), SWI_OK);
	snprintf(path, sizeof(path), "%s/mountinfo", fx->dir);
	write_file(path, "");
	assert_int_equal(swi_set_option(fx->ctx, "mountinfo-file", path), SWI_OK);
}

struct reports {
	unsigned count;
	struct swi_progress last;
	uint64_t last_done;
	int went_down;
	swi_ctx_t *cancel; /* cancel at the first report */
};

static void on_progress(void *user, const struct swi_progress *p)
{
	struct reports *r = user;
	if (r->count > 0 && p->done < r->last_done)
		r->went_down = 1;
	r->count++;
	r->last = *p;
	r->last_done = p->done;
	if (r->cancel)
		swi_cancel(r->cancel);
}

static void progress_by_bytes_read(void **state)
{
	struct dir_fixture *fx = *state;
	char image[128];
	make_image(fx, image, sizeof(image));
	struct reports r = { 0 };
	swi_set_progress(fx->ctx, on_progress, &r);
	assert_int_equal(swi_flash(fx->ctx, image, fx->path, NULL), SWI_OK);
	assert_true(r.count >= 4); /* 0, then after each read */
	assert_false(r.went_down);
	assert_int_equal(r.last.done, IMAGE_SIZE);
	assert_int_equal(r.last.total, IMAGE_SIZE);
	assert_int_equal(r.last.percent, 100);
	assert_int_equal(r.last.index, 1);
	assert_int_equal(r.last.count, 1);
	assert_int_equal(r.last.phase, SWI_PROGRESS_INSTALLING);
	assert_string_equal(r.last.member, image);
	struct stat st;
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_size, IMAGE_SIZE);
}

static void cancel_stops_it(void **state)
{
	struct dir_fixture *fx = *state;
	char image[128];
	make_image(fx, image, sizeof(image));
	struct reports r = { .cancel = fx->ctx };
	swi_set_progress(fx->ctx, on_progress, &r);
	assert_int_equal(swi_flash(fx->ctx, image, fx->path, NULL), SWI_ECANCELED);
	/* The cancel is used up: the next flash runs. */
	swi_set_progress(fx->ctx, NULL, NULL);
	assert_int_equal(swi_flash(fx->ctx, image, fx->path, NULL), SWI_OK);
}

static void bad_arguments(void **state)
{
	struct dir_fixture *fx = *state;
	char image[128];
	make_image(fx, image, sizeof(image));
	assert_int_equal(swi_flash(NULL, image, fx->path, NULL), SWI_EINVAL);
	assert_int_equal(swi_flash(fx->ctx, NULL, fx->path, NULL), SWI_EINVAL);
	assert_int_equal(swi_flash(fx->ctx, image, NULL, NULL), SWI_EINVAL);
	assert_int_equal(swi_flash(fx->ctx, image, fx->path, "abc"), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "'abc' is not 64 hex digits"));
	/* Refused before the target is opened: it is not even made. */
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/none.img", fx->dir);
	assert_int_equal(swi_flash(fx->ctx, missing, fx->path, NULL), SWI_EINVAL);
	assert_int_not_equal(access(fx->path, F_OK), 0);
}

static void root_on_device(void **state)
{
	struct dir_fixture *fx = *state;
	char cmdline[160], text[256];
	char *root = NULL;
	snprintf(cmdline, sizeof(cmdline), "%s/cmdline", fx->dir);
	write_file(fx->path, "a disk");
	snprintf(text, sizeof(text), "console=ttyS0 root=%s rootwait", fx->path);
	write_file(cmdline, text);
	assert_int_equal(swi_root_on_device(fx->ctx, cmdline, fx->path, &root), 1);
	assert_string_equal(root, fx->path);
	free(root);
	/* Another file, a tag with no link here, no root= at all. */
	snprintf(text, sizeof(text), "%s/cmdline", fx->dir);
	assert_int_equal(swi_root_on_device(fx->ctx, cmdline, text, &root), 0);
	assert_null(root);
	write_file(cmdline, "root=PARTUUID=0badc0de-02 ro");
	assert_int_equal(swi_root_on_device(fx->ctx, cmdline, fx->path, &root), 0);
	write_file(cmdline, "quiet");
	assert_int_equal(swi_root_on_device(fx->ctx, cmdline, fx->path, &root), 0);
	snprintf(text, sizeof(text), "%s/no-cmdline", fx->dir);
	assert_int_equal(swi_root_on_device(fx->ctx, text, fx->path, &root), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "no-cmdline"));
}

static void scan_edges(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_scan scan;
	assert_int_equal(swi_scan_dir(fx->ctx, NULL, &scan), SWI_EINVAL);
	assert_int_equal(swi_scan_dir(fx->ctx, fx->dir, NULL), SWI_EINVAL);
	/* Nothing there: SWI_ECOMPAT with an empty, freeable scan. */
	assert_int_equal(swi_scan_dir(fx->ctx, fx->dir, &scan), SWI_ECOMPAT);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "no .swu image in it"));
	assert_int_equal(scan.nimages, 0);
	assert_null(scan.best);
	swi_scan_free(&scan);
	swi_scan_free(&scan);
	assert_int_equal(swi_scan_dir(fx->ctx, fx->path, &scan), SWI_EIO);
	assert_null(scan.images);
	swi_scan_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(progress_by_bytes_read, setup, teardown),
		cmocka_unit_test_setup_teardown(cancel_stops_it, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(root_on_device, setup, teardown),
		cmocka_unit_test_setup_teardown(scan_edges, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
