/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The progress an install reports (struct swi_progress): its phases, the
 * artifacts, and the percent of the whole, by bytes of a file or by
 * artifacts of a stream. Images are built at test time with cpio and
 * written by the raw handler into files of the test's directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "swinstall.h"
#include "testutil.h"

#define SMALL_LEN 10
#define BIG_LEN (256 * 1024)
#define MAX_EVENTS 4096

struct event {
	int phase;
	char member[32];      /* "" for NULL */
	uint64_t done, total;
	unsigned index, count, percent;
};

struct recording {
	struct event events[MAX_EVENTS];
	size_t n;
};

static struct recording rec;

static void record(void *user, const struct swi_progress *p)
{
	(void)user;
	assert_true(rec.n < MAX_EVENTS);
	struct event *e = &rec.events[rec.n++];
	*e = (struct event){ .phase = p->phase, .done = p->done, .total = p->total,
			     .index = p->index, .count = p->count, .percent = p->percent };
	snprintf(e->member, sizeof(e->member), "%s", p->member ? p->member : "");
}

/* The sha256 of DIR/NAME, as sha256sum gives it (malloc'd). */
static char *sha256_of(const char *dir, const char *name)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sha256sum %s/%s", dir, name);
	char *out = command_output(cmd);
	assert_true(strlen(out) > 64);
	out[64] = '\0';
	return out;
}

/*
 * DIR/image.swu: a small artifact first, then a big one, each into a file
 * of DIR. By artifacts the small one is half the install; by bytes almost
 * nothing. bad_hash: sw-description has a wrong sha256 for the big one.
 */
static void make_image(const char *dir, bool bad_hash)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cd %s && printf 0123456789 >small.bin && "
		 "head -c %d /dev/urandom >big.bin && truncate -s %d small.img big.img",
		 dir, BIG_LEN, 2 * BIG_LEN);
	assert_int_equal(system(cmd), 0);
	char *small_sha = sha256_of(dir, "small.bin"), *big_sha = sha256_of(dir, "big.bin");
	if (bad_hash)
		memset(big_sha, '0', 64);
	char path[128];
	snprintf(path, sizeof(path), "%s/sw-description", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "software = { version = \"3.1\";\n"
		"  images = ( { filename = \"small.bin\"; type = \"raw\"; device = \"%s/small.img\";\n"
		"               sha256 = \"%s\"; },\n"
		"             { filename = \"big.bin\"; type = \"raw\"; device = \"%s/big.img\";\n"
		"               sha256 = \"%s\"; } );\n"
		"};\n", dir, small_sha, dir, big_sha);
	assert_int_equal(fclose(f), 0);
	free(small_sha);
	free(big_sha);
	snprintf(cmd, sizeof(cmd), "cd %s && printf '%%s\\n' sw-description small.bin big.bin | "
		 "cpio -o -H crc --quiet > image.swu", dir);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	if (dir_fixture_setup(state, "swi-progress", "image.swu"))
		return -1;
	struct dir_fixture *fx = *state;
	char path[128];
	swi_set_option(fx->ctx, "insecure", "1");
	static const char *const files[][2] = {
		{ "hwrevision-file", "hwrevision" }, { "sw-versions-file", "sw-versions" },
		{ "lock-file", "lock" }, { "state-dir", "state" },
	};
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", fx->dir, files[i][1]);
		if (swi_set_option(fx->ctx, files[i][0], path))
			return -1;
	}
	swi_set_progress(fx->ctx, record, NULL);
	memset(&rec, 0, sizeof(rec));
	return 0;
}

/* What every run that reads artifacts reports: phases in order, percent
 * never going back, artifacts from 0 to their size with the right index
 * and count, and nothing outside INSTALLING naming a member. */
static void check_sequence(void)
{
	assert_true(rec.n > 0);
	const struct event *first = &rec.events[0];
	assert_int_equal(first->phase, SWI_PROGRESS_VERIFYING);
	assert_int_equal(first->percent, 0);
	assert_int_equal(first->count, 0);
	assert_int_equal(first->index, 0);
	for (size_t i = 0; i < rec.n; i++) {
		const struct event *e = &rec.events[i];
		if (i > 0) {
			assert_true(e->phase >= rec.events[i - 1].phase);
			assert_true(e->percent >= rec.events[i - 1].percent);
		}
		assert_true(e->percent <= 100);
		if (e->member[0] == '\0') {
			assert_int_equal(e->done, 0);
			continue;
		}
		assert_int_equal(e->phase, SWI_PROGRESS_INSTALLING);
		assert_int_equal(e->count, 2);
		bool small = strcmp(e->member, "small.bin") == 0;
		assert_true(small || strcmp(e->member, "big.bin") == 0);
		assert_int_equal(e->index, small ? 1 : 2);
		assert_int_equal(e->total, small ? SMALL_LEN : BIG_LEN);
		assert_true(e->done <= e->total);
		const struct event *before = &rec.events[i - 1];
		if (strcmp(before->member, e->member) != 0)
			assert_int_equal(e->done, 0);
		else
			assert_true(e->done >= before->done);
	}
}

/* The last report of a member (done == total). */
static const struct event *member_end(const char *member)
{
	const struct event *last = NULL;
	for (size_t i = 0; i < rec.n; i++)
		if (strcmp(rec.events[i].member, member) == 0)
			last = &rec.events[i];
	assert_non_null(last);
	assert_int_equal(last->done, last->total);
	return last;
}

static size_t count_phase(int phase)
{
	size_t n = 0;
	for (size_t i = 0; i < rec.n; i++)
		n += rec.events[i].phase == phase && rec.events[i].member[0] == '\0';
	return n;
}

/* A successful run: one start of each phase, then COMMITTING at 100 last
 * (and only there). */
static void check_success(void)
{
	check_sequence();
	assert_int_equal(count_phase(SWI_PROGRESS_VERIFYING), 1);
	assert_int_equal(count_phase(SWI_PROGRESS_INSTALLING), 1);
	const struct event *last = &rec.events[rec.n - 1];
	assert_int_equal(last->phase, SWI_PROGRESS_COMMITTING);
	assert_int_equal(last->percent, 100);
	assert_string_equal(last->member, "");
	assert_int_equal(last->count, 2);
	for (size_t i = 0; i + 1 < rec.n; i++)
		assert_true(rec.events[i].percent < 100);
	member_end("small.bin");
	member_end("big.bin");
}

static uint64_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

/* Whether big.img of the fixture holds big.bin's bytes. */
static bool big_written(const struct dir_fixture *fx)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "cmp -s -n %d %s/big.bin %s/big.img", BIG_LEN, fx->dir, fx->dir);
	return system(cmd) == 0;
}

/* From a file, percent follows the bytes of the image: the small artifact
 * is next to nothing, the big one nearly all of it. */
static void file_install_reports_by_bytes(void **state)
{
	struct dir_fixture *fx = *state;
	make_image(fx->dir, false);
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	check_success();
	assert_true(big_written(fx));
	uint64_t image = file_size(fx->path);
	/* Everything before big.bin's data is under 2 KiB of the image. */
	unsigned before_big = (unsigned)((image - BIG_LEN - 1) * 100 / image);
	assert_true(member_end("small.bin")->percent <= before_big);
	assert_int_equal(member_end("big.bin")->percent, 99);
	for (size_t i = 0; i < rec.n; i++) {
		const struct event *e = &rec.events[i];
		if (strcmp(e->member, "big.bin") != 0)
			continue;
		/* big.bin is all of the image but its first and last KiB */
		unsigned by_member = (unsigned)(e->done * 100 / e->total);
		unsigned low = by_member ? by_member - 1 : 0, high = by_member + 1;
		assert_in_range(e->percent, low > 99 ? 99 : low, high > 99 ? 99 : high);
	}
}

/* The same through swi_install_fd(): a descriptor of a file is a file. */
static void fd_of_a_file_reports_by_bytes(void **state)
{
	struct dir_fixture *fx = *state;
	make_image(fx->dir, false);
	int fd = open(fx->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(swi_install_fd(fx->ctx, fd), SWI_OK);
	close(fd);
	check_success();
	assert_true(member_end("small.bin")->percent <= 1);
}

static ssize_t read_fd(void *user, void *buf, size_t len)
{
	return read(*(int *)user, buf, len);
}

/* From the caller's function the size is unknown: percent goes by
 * artifacts, the current one by its bytes, and stops at 99 until the
 * commit is done. */
static void read_function_reports_by_artifacts(void **state)
{
	struct dir_fixture *fx = *state;
	make_image(fx->dir, false);
	int fd = open(fx->path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(swi_install_read(fx->ctx, read_fd, &fd), SWI_OK);
	close(fd);
	check_success();
	assert_int_equal(member_end("small.bin")->percent, 50);
	for (size_t i = 0; i < rec.n; i++) {
		const struct event *e = &rec.events[i];
		if (strcmp(e->member, "big.bin") != 0)
			continue;
		unsigned expected = (unsigned)(50 + e->done * 50 / e->total);
		assert_int_equal(e->percent, expected > 99 ? 99 : expected);
	}
	const struct event *committing = &rec.events[rec.n - 2];
	assert_int_equal(committing->phase, SWI_PROGRESS_COMMITTING);
	assert_int_equal(committing->percent, 99);
	assert_int_equal(committing->index, 2);
}

/* A dry run reads every artifact and reports as an install does. */
static void dry_run_reports_every_phase(void **state)
{
	struct dir_fixture *fx = *state;
	make_image(fx->dir, false);
	swi_set_option(fx->ctx, "dry-run", "1");
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	check_success();
	assert_false(big_written(fx));
}

/* A check reads sw-description only: it verifies, nothing more. */
static void check_reports_verifying_only(void **state)
{
	struct dir_fixture *fx = *state;
	make_image(fx->dir, false);
	swi_set_option(fx->ctx, "check", "1");
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	assert_int_equal(rec.n, 1);
	assert_int_equal(rec.events[0].phase, SWI_PROGRESS_VERIFYING);
	assert_int_equal(rec.events[0].percent, 0);
	assert_string_equal(rec.events[0].member, "");
}

/* A failed install never reports COMMITTING or 100. */
static void failure_never_reaches_committing(void **state)
{
	struct dir_fixture *fx = *state;
	make_image(fx->dir, true);
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_EHASH);
	check_sequence();
	assert_int_equal(count_phase(SWI_PROGRESS_COMMITTING), 0);
	assert_true(rec.events[rec.n - 1].percent < 100);
	member_end("big.bin");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, dir_fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(file_install_reports_by_bytes),
		T(fd_of_a_file_reports_by_bytes),
		T(read_function_reports_by_artifacts),
		T(dry_run_reports_every_phase),
		T(check_reports_verifying_only),
		T(failure_never_reaches_committing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
