/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context: options, messages, handler registry, size parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "swinstall.h"
#include "swinstall/handler.h"

static int ctx_setup(void **state)
{
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	*state = ctx;
	return 0;
}

static int ctx_teardown(void **state)
{
	swi_ctx_free(*state);
	return 0;
}

static void options_set_get_and_reset(void **state)
{
	swi_ctx_t *ctx = *state;
	assert_null(swi_get_option(ctx, "public-key"));
	assert_int_equal(swi_set_option(ctx, "public-key", "/k.pem"), SWI_OK);
	assert_string_equal(swi_get_option(ctx, "public-key"), "/k.pem");
	assert_int_equal(swi_set_option(ctx, "public-key", "/other.pem"), SWI_OK);
	assert_string_equal(swi_get_option(ctx, "public-key"), "/other.pem");
	assert_int_equal(swi_set_option(ctx, "public-key", NULL), SWI_OK);
	assert_null(swi_get_option(ctx, "public-key"));
	assert_int_equal(swi_set_option(ctx, "insecure", "true"), SWI_OK);
	assert_non_null(swi_get_option(ctx, "insecure"));
	assert_int_equal(swi_set_option(ctx, "insecure", "0"), SWI_OK);
	assert_null(swi_get_option(ctx, "insecure"));
}

static void bad_option_values_are_refused_by_name(void **state)
{
	swi_ctx_t *ctx = *state;
	assert_int_equal(swi_set_option(ctx, "no-such-option", "1"), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(ctx), "no-such-option"));
	assert_int_equal(swi_set_option(ctx, "bootloader", "lilo"), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(ctx), "lilo"));
	assert_int_equal(swi_set_option(ctx, "cert-purpose", "serverAuth"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "select", "stable"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "select", "stable,copy1,x"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "select", ",copy1"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "select", "stable,copy1"), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "hwrevision", "board"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "hwrevision", "board:1.0"), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "insecure", "maybe"), SWI_EINVAL);
	assert_int_equal(swi_set_option(NULL, "insecure", "1"), SWI_EINVAL);
}

/* Names from an image may hold control characters; messages never do. */
static void control_characters_are_escaped_in_messages(void **state)
{
	swi_ctx_t *ctx = *state;
	assert_int_equal(swi_set_option(ctx, "select", "a\033[2J\nb"), SWI_EINVAL);
	const char *m = swi_errmsg(ctx);
	assert_non_null(strstr(m, "a\\x1b[2J\\x0ab"));
	for (const char *c = m; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
}

static void new_options_are_checked(void **state)
{
	swi_ctx_t *ctx = *state;
	assert_int_equal(swi_set_option(ctx, "lock-wait", "forever"), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "lock-wait", "30"), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "lock-wait", "-1"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "lock-wait", "soon"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "min-free-space", "5%"), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "min-free-space", "16M"), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "min-free-space", "101%"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "min-free-space", "%"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "lock-file", "run/x.lock"), SWI_EINVAL);
	assert_int_equal(swi_set_option(ctx, "state-dir", "/var/lib/x"), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "force", "1"), SWI_OK);
	assert_int_equal(swi_cancel(NULL), SWI_EINVAL);
	struct swi_result r;
	assert_int_equal(swi_get_result(ctx, &r), SWI_OK);
	assert_int_equal(r.installed, 0);
	assert_null(r.slot);
}

static void every_status_has_a_description(void **state)
{
	(void)state;
	for (int s = SWI_OK; s >= SWI_ECANCELED; s--)
		assert_string_not_equal(swi_strerror(s), "unknown error");
	assert_string_equal(swi_strerror(-999), "unknown error");
	assert_string_equal(swi_version(), SWI_VERSION_STRING);
}

static int noop_open(struct swi_target *t) { (void)t; return 0; }
static int noop_write(struct swi_target *t, const void *b, size_t n) { (void)t; (void)b; (void)n; return 0; }
static void noop_abort(struct swi_target *t) { (void)t; }

static void handler_registration_needs_all_callbacks(void **state)
{
	swi_ctx_t *ctx = *state;
	struct swi_handler h = { .size = SWI_HANDLER_SIZE, .name = "x", .open = noop_open, .write = noop_write,
				 .abort = noop_abort };
	assert_int_equal(swi_register_handler(ctx, &h), SWI_EINVAL);
	h.close = noop_open;
	assert_int_equal(swi_register_handler(ctx, &h), SWI_OK);
	assert_int_equal(swi_register_handler(ctx, NULL), SWI_EINVAL);
}

static void sizes_parse_with_suffixes(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(swi_parse_size("1024", &v), SWI_OK);
	assert_int_equal(v, 1024);
	assert_int_equal(swi_parse_size("8K", &v), SWI_OK);
	assert_int_equal(v, 8192);
	assert_int_equal(swi_parse_size("16M", &v), SWI_OK);
	assert_int_equal(v, 16u << 20);
	assert_int_equal(swi_parse_size("2G", &v), SWI_OK);
	assert_int_equal(v, 2ull << 30);
	assert_int_equal(swi_parse_size("0x4F000", &v), SWI_OK);
	assert_int_equal(v, 0x4F000);
	assert_int_equal(swi_parse_size("", &v), SWI_EINVAL);
	assert_int_equal(swi_parse_size("-1", &v), SWI_EINVAL);
	assert_int_equal(swi_parse_size("12Q", &v), SWI_EINVAL);
	assert_int_equal(swi_parse_size("K", &v), SWI_EINVAL);
	assert_int_equal(swi_parse_size("99999999999999999999", &v), SWI_EINVAL);
	assert_int_equal(swi_parse_size("17179869184G", &v), SWI_EINVAL);
	assert_int_equal(swi_parse_size(NULL, &v), SWI_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(options_set_get_and_reset, ctx_setup, ctx_teardown),
		cmocka_unit_test_setup_teardown(bad_option_values_are_refused_by_name, ctx_setup, ctx_teardown),
		cmocka_unit_test_setup_teardown(control_characters_are_escaped_in_messages, ctx_setup, ctx_teardown),
		cmocka_unit_test_setup_teardown(new_options_are_checked, ctx_setup, ctx_teardown),
		cmocka_unit_test(every_status_has_a_description),
		cmocka_unit_test_setup_teardown(handler_registration_needs_all_callbacks, ctx_setup, ctx_teardown),
		cmocka_unit_test(sizes_parse_with_suffixes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
