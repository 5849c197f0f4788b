/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/versions.c. Files are written to a mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "versions.h"
#include "testutil.h"

struct fixture {
	char dir[64];
	char path[128];
	swi_ctx_t *ctx;
	char *board, *revision;
	struct swi_attrs versions;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	*state = fx;
	strcpy(fx->dir, "/tmp/test_versions.XXXXXX");
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/file", fx->dir);
	return swi_ctx_new(&fx->ctx);
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc = remove_tree(fx->dir);
	swi_ctx_free(fx->ctx);
	free(fx->board);
	free(fx->revision);
	swi_attrs_free(&fx->versions);
	free(fx);
	return rc == 0 ? 0 : -1;
}

/* Writes text to the fixture's file; returns its path. */
static const char *write_file(struct fixture *fx, const char *text)
{
	FILE *f = fopen(fx->path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return fx->path;
}

static void assert_message_has(struct fixture *fx, const char *part)
{
	if (!strstr(swi_errmsg(fx->ctx), part))
		fail_msg("message '%s' lacks '%s'", swi_errmsg(fx->ctx), part);
}

static int get_hwrevision_from(struct fixture *fx, const char *text)
{
	assert_int_equal(swi_set_option(fx->ctx, "hwrevision-file", write_file(fx, text)), SWI_OK);
	return swi_hwrevision_get(fx->ctx, &fx->board, &fx->revision);
}

/* ---- hwrevision ---- */

static void hwrevision_from_file(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(get_hwrevision_from(fx, "myboard 1.0\n"), SWI_OK);
	assert_string_equal(fx->board, "myboard");
	assert_string_equal(fx->revision, "1.0");
}

static void hwrevision_file_tabs_crlf_no_newline(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(get_hwrevision_from(fx, "\tmyboard \t rev-2\r\n"), SWI_OK);
	assert_string_equal(fx->board, "myboard");
	assert_string_equal(fx->revision, "rev-2");
	free(fx->board);
	free(fx->revision);
	assert_int_equal(get_hwrevision_from(fx, "b r"), SWI_OK);
	assert_string_equal(fx->revision, "r");
}

static void hwrevision_option_wins(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "hwrevision", "optboard:2.0:x"), SWI_OK);
	assert_int_equal(get_hwrevision_from(fx, "fileboard 1.0\n"), SWI_OK);
	assert_string_equal(fx->board, "optboard");
	assert_string_equal(fx->revision, "2.0:x");
}

static void hwrevision_option_without_revision(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "hwrevision", "board:"), SWI_OK);
	assert_int_equal(swi_hwrevision_get(fx->ctx, &fx->board, &fx->revision), SWI_EINVAL);
	assert_null(fx->board);
	assert_null(fx->revision);
}

static void hwrevision_missing_file(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "hwrevision-file", fx->path), SWI_OK);
	fx->board = fx->revision = (char *)"stale";
	assert_int_equal(swi_hwrevision_get(fx->ctx, &fx->board, &fx->revision), SWI_OK);
	assert_null(fx->board);
	assert_null(fx->revision);
}

static void hwrevision_malformed(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "", "\n", "onlyboard\n", "board rev extra\n",
					   "\nboard rev\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(get_hwrevision_from(fx, bad[i]), SWI_ECONFIG);
		assert_null(fx->board);
		assert_message_has(fx, fx->path);
	}
}

static void hwrevision_unreadable(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "hwrevision-file", fx->dir), SWI_OK);
	assert_int_equal(swi_hwrevision_get(fx->ctx, &fx->board, &fx->revision), SWI_ECONFIG);
	assert_message_has(fx, fx->dir);
}

/* ---- hardware compatibility ---- */

static void hw_exact_match(void **state)
{
	(void)state;
	char *list[] = { "1.0", "1.1" };
	assert_true(swi_hw_compatible("1.1", list, 2));
	assert_false(swi_hw_compatible("1.2", list, 2));
	assert_false(swi_hw_compatible("1.", list, 2));
	assert_false(swi_hw_compatible("1.1", list, 1));
	assert_false(swi_hw_compatible("1.1", NULL, 0));
	assert_false(swi_hw_compatible(NULL, list, 2));
}

static void hw_regex(void **state)
{
	(void)state;
	char *list[] = { "0.9", "#RE:^1\\.[0-9]+$" };
	assert_true(swi_hw_compatible("1.7", list, 2));
	assert_true(swi_hw_compatible("1.42", list, 2));
	assert_false(swi_hw_compatible("2.0", list, 2));
	assert_false(swi_hw_compatible("1.x", list, 2));
}

static void hw_regex_matches_whole_revision(void **state)
{
	(void)state;
	char *partial[] = { "#RE:1\\.[0-9]" };
	assert_true(swi_hw_compatible("1.5", partial, 1));
	assert_false(swi_hw_compatible("1.55", partial, 1));
	assert_false(swi_hw_compatible("21.5", partial, 1));
	char *alternatives[] = { "#RE:1\\.1|1\\.10" };
	assert_true(swi_hw_compatible("1.10", alternatives, 1));
}

static void hw_invalid_regex_matches_nothing(void **state)
{
	(void)state;
	char *list[] = { "#RE:(", "#RE:" };
	assert_false(swi_hw_compatible("(", list, 1));
	assert_false(swi_hw_compatible("1.0", list, 2));
	assert_true(swi_hw_compatible("", list, 2));
}

static void hw_regex_prefix_is_exact(void **state)
{
	(void)state;
	char *list[] = { "#re:1.*" };
	assert_false(swi_hw_compatible("1.0", list, 1));
	assert_true(swi_hw_compatible("#re:1.*", list, 1));
}

/* ---- sw-versions ---- */

static void sw_versions_good(void **state)
{
	struct fixture *fx = *state;
	const char *path = write_file(fx, "# installed\n"
				      "bootloader 2021.10\n"
				      "\n"
				      "   \t\n"
				      "  # indented comment\n"
				      "rootfs\t1.2.3\r\n"
				      "kernel 5.10\n"
				      "rootfs 1.2.4");
	assert_int_equal(swi_sw_versions_load(fx->ctx, path, &fx->versions), SWI_OK);
	assert_int_equal(fx->versions.count, 3);
	assert_string_equal(swi_attrs_get(&fx->versions, "bootloader"), "2021.10");
	assert_string_equal(swi_attrs_get(&fx->versions, "rootfs"), "1.2.4");
	assert_string_equal(swi_attrs_get(&fx->versions, "kernel"), "5.10");
	assert_null(swi_attrs_get(&fx->versions, "#"));
}

static void sw_versions_missing_file_is_empty(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_sw_versions_load(fx->ctx, fx->path, &fx->versions), SWI_OK);
	assert_int_equal(fx->versions.count, 0);
}

static void sw_versions_default_path_from_option(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "sw-versions-file", write_file(fx, "a 1\n")),
			 SWI_OK);
	assert_int_equal(swi_sw_versions_load(fx->ctx, NULL, &fx->versions), SWI_OK);
	assert_string_equal(swi_attrs_get(&fx->versions, "a"), "1");
}

static void sw_versions_malformed(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "a 1\n\nlonely\n", "a 1\nb 2\nc 3 4\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *path = write_file(fx, bad[i]);
		assert_int_equal(swi_sw_versions_load(fx->ctx, path, &fx->versions), SWI_ECONFIG);
		assert_int_equal(fx->versions.count, 0);
		char where[160];
		snprintf(where, sizeof(where), "%s:3: expected 'NAME VERSION'", path);
		assert_message_has(fx, where);
	}
}

static void sw_versions_unreadable(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_sw_versions_load(fx->ctx, fx->dir, &fx->versions), SWI_ECONFIG);
	assert_message_has(fx, fx->dir);
}

/* ---- version order ---- */

struct order {
	const char *a, *b;
	int expect; /* sign of compare(a, b) */
};

static const struct order orders[] = {
	{ "1.0", "1.0", 0 },
	{ "1.2", "1.2.0", 0 },
	{ "1.2.0.0", "1.2", 0 },
	{ "01.002", "1.2", 0 },
	{ "1.2", "1.10", -1 },
	{ "1.10", "1.9", 1 },
	{ "2", "1.99.99", 1 },
	{ "1.2.3.4", "1.2.3.5", -1 },
	{ "65535.1", "65536", -1 },
	{ "99999999999999999999999", "99999999999999999999998", 1 },
	{ "1.2.3-rc1", "1.2.3", -1 },
	{ "1.2.3-rc1", "1.2.3-rc2", -1 },
	{ "1.2.3-rc.2", "1.2.3-rc.10", -1 },
	{ "1.0.0-alpha", "1.0.0-alpha.1", -1 },
	{ "1.0.0-1", "1.0.0-alpha", -1 },
	{ "1.2.3+build5", "1.2.3+build7", 0 },
	{ "1.2.4-rc1", "1.2.3", 1 },
	{ "1.a", "1.b", -1 },
	{ "1.9", "1.a", -1 },
	{ "1.abc", "1.ab", 1 },
	{ "", "0", 0 },
	{ "", "0.1", -1 },
	{ NULL, "1", -1 },
	/* dotted numbers: four fields of 16 bits, empty fields skipped */
	{ "1.2.3.4.5", "1.2.3.4.9", 0 },
	{ "1..2", "1.2", 0 },
	{ ".5", "5", 0 },
	{ "1.2.3.4", "1.2.3.4.0.1", 0 },
	{ "65535", "65534.9", 1 },
	/* semantic versions: a fourth number is checked but not compared */
	{ "1.2.3.4-rc1", "1.2.3.5-rc1", 0 },
	{ "1.2-rc1", "1.2.0-rc1", 0 },
	{ "1.2.3.70000", "1.2.3.1", 0 },
	{ "1..2-rc1", "1.0.2-rc1", 0 },
	{ "1.0.0-rc", "1.0.0-rc.", -1 },
	{ "1.0.0-rc..1", "1.0.0-rc.0.1", 0 },
	{ "1.0.0-", "1.0.0", -1 },
	{ "1.0.0-beta.11", "1.0.0-beta.2", 1 },
	{ "1.0.0-rc.1+b2", "1.0.0-rc.1+b1", 0 },
	/* anything else: bytewise */
	{ "2.0.beta", "10.0", 1 },
	{ "v2", "v10", 1 },
	{ "1.2.3.x-rc1", "1.2.3.y-rc1", -1 },
	{ "1.0_1", "1.0", 1 },
	{ "1.0 ", "1.0", 1 },
};

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

static void version_order(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(orders) / sizeof(orders[0]); i++) {
		const struct order *o = &orders[i];
		int ab = sign(swi_version_compare(o->a, o->b));
		int ba = sign(swi_version_compare(o->b, o->a));
		if (ab != o->expect || ba != -o->expect)
			fail_msg("compare('%s', '%s') = %d, reverse %d, expected %d",
				 o->a ? o->a : "(null)", o->b, ab, ba, o->expect);
	}
}

/* compare() answers exactly -1, 0 or 1 */
static void version_order_is_normalized(void **state)
{
	(void)state;
	assert_int_equal(swi_version_compare("1.0", "9.0"), -1);
	assert_int_equal(swi_version_compare("b", "a"), 1);
	assert_int_equal(swi_version_compare("1.0.0-rc.1", "1.0.0-rc.9"), -1);
	assert_int_equal(swi_version_compare("1.0", "1"), 0);
}

/* ---- version guards ---- */

static void set_guard(struct fixture *fx, const char *name, const char *value)
{
	assert_int_equal(swi_set_option(fx->ctx, name, value), SWI_OK);
}

static void assert_refused(struct fixture *fx, const char *image_version, const char *message)
{
	assert_int_equal(swi_version_guards(fx->ctx, image_version), SWI_ECOMPAT);
	assert_message_has(fx, message);
}

static void guards_unset_allow_anything(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_version_guards(fx->ctx, "0.0.1"), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, NULL), SWI_OK);
}

static void guard_no_downgrading(void **state)
{
	struct fixture *fx = *state;
	set_guard(fx, "no-downgrading", "1.3.0");
	assert_refused(fx, "1.2.0", "image version 1.2.0 is lower than 1.3.0 (no-downgrading)");
	assert_refused(fx, "1.3.0-rc1", "1.3.0-rc1 is lower than 1.3.0");
	assert_int_equal(swi_version_guards(fx->ctx, "1.3.0"), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, "1.3"), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, "1.10"), SWI_OK);
}

static void guard_max_version(void **state)
{
	struct fixture *fx = *state;
	set_guard(fx, "max-version", "2.0");
	assert_refused(fx, "2.0.1", "image version 2.0.1 is higher than 2.0 (max-version)");
	assert_int_equal(swi_version_guards(fx->ctx, "2.0.0"), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, "2.0.0-rc1"), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, "1.99"), SWI_OK);
}

/* As in SWUpdate, a reinstall is the very same string. */
static void guard_no_reinstalling(void **state)
{
	struct fixture *fx = *state;
	set_guard(fx, "no-reinstalling", "1.3.0");
	assert_refused(fx, "1.3.0", "image version 1.3.0 is the same as 1.3.0 (no-reinstalling)");
	assert_int_equal(swi_version_guards(fx->ctx, "1.3"), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, "1.2.0"), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, "1.4.0"), SWI_OK);
}

/* no-downgrading, then max-version, then no-reinstalling: the first that
 * refuses names itself. */
static void guards_checked_in_order(void **state)
{
	struct fixture *fx = *state;
	set_guard(fx, "no-downgrading", "3.0");
	set_guard(fx, "max-version", "1.0");
	set_guard(fx, "no-reinstalling", "2.0");
	assert_refused(fx, "2.0", "(no-downgrading)");
	set_guard(fx, "no-downgrading", NULL);
	assert_refused(fx, "2.0", "(max-version)");
	set_guard(fx, "max-version", NULL);
	assert_refused(fx, "2.0", "(no-reinstalling)");
	set_guard(fx, "no-reinstalling", NULL);
	assert_int_equal(swi_version_guards(fx->ctx, "2.0"), SWI_OK);
}

/* An image without a version passes when no guard is set (SWUpdate would
 * refuse it anyway) and is refused by any guard, which cannot check it. */
static void guards_image_without_version(void **state)
{
	struct fixture *fx = *state;
	assert_int_equal(swi_version_guards(fx->ctx, NULL), SWI_OK);
	assert_int_equal(swi_version_guards(fx->ctx, ""), SWI_OK);
	set_guard(fx, "no-reinstalling", "1.0");
	assert_refused(fx, NULL, "the image has no version, so no-reinstalling 1.0 cannot be "
		       "checked; refused");
	set_guard(fx, "max-version", "2.0");
	assert_refused(fx, "", "the image has no version, so max-version 2.0 cannot be checked");
	set_guard(fx, "no-downgrading", "0");
	assert_refused(fx, NULL, "the image has no version, so no-downgrading 0 cannot be checked");
}

static void guard_values_checked(void **state)
{
	struct fixture *fx = *state;
	static const char *const guards[] = { "no-downgrading", "no-reinstalling", "max-version" };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(swi_set_option(fx->ctx, guards[i], ""), SWI_EINVAL);
		assert_message_has(fx, guards[i]);
		assert_message_has(fx, "empty");
		assert_null(swi_get_option(fx->ctx, guards[i]));
		set_guard(fx, guards[i], "1.0");
		assert_string_equal(swi_get_option(fx->ctx, guards[i]), "1.0");
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(hwrevision_from_file), T(hwrevision_file_tabs_crlf_no_newline),
		T(hwrevision_option_wins), T(hwrevision_option_without_revision),
		T(hwrevision_missing_file), T(hwrevision_malformed), T(hwrevision_unreadable),
		T(hw_exact_match), T(hw_regex), T(hw_regex_matches_whole_revision),
		T(hw_invalid_regex_matches_nothing), T(hw_regex_prefix_is_exact),
		T(sw_versions_good), T(sw_versions_missing_file_is_empty),
		T(sw_versions_default_path_from_option), T(sw_versions_malformed),
		T(sw_versions_unreadable), T(version_order), T(version_order_is_normalized),
		T(guards_unset_allow_anything), T(guard_no_downgrading), T(guard_max_version),
		T(guard_no_reinstalling), T(guards_checked_in_order),
		T(guards_image_without_version), T(guard_values_checked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
