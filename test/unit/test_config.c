/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/config.c. Files are written to a mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "context.h"
#include "testutil.h"

static int setup(void **state)
{
	return dir_fixture_setup(state, "test_config", "swinstall.conf");
}

static int teardown(void **state)
{
	return dir_fixture_teardown(state);
}

static int load(struct dir_fixture *fx, const char *text)
{
	FILE *f = fopen(fx->path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return swi_load_config(fx->ctx, fx->path);
}

static void assert_message(struct dir_fixture *fx, const char *suffix)
{
	char want[512];
	snprintf(want, sizeof(want), "%s%s", fx->path, suffix);
	assert_string_equal(swi_errmsg(fx->ctx), want);
}

static void all_keys(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "# device configuration\n"
				  "public-key = \"/etc/swinstall/ca.pem\";\n"
				  "cert-purpose = \"codeSigning\";\n"
				  "forced-signer-name = \"updates\";\n"
				  "select: \"stable,copy2\"\n"
				  "hwrevision = \"board:1.0\";\n"
				  "hwrevision-file = \"/data/hwrevision\";\n"
				  "sw-versions-file = \"/data/sw-versions\";\n"
				  "bootloader = \"uboot\";\n"
				  "uboot-env-config = \"/data/fw_env.config\";\n"
				  "insecure = true;\n"
				  "key-aes = \"/etc/swinstall/aes.key\";\n"
				  "encrypted-sw-description = true;\n"),
			 SWI_OK);
	const struct swi_options *o = &fx->ctx->opt;
	assert_string_equal(o->public_key, "/etc/swinstall/ca.pem");
	assert_string_equal(o->cert_purpose, "codeSigning");
	assert_string_equal(o->forced_signer_name, "updates");
	assert_string_equal(o->select, "stable,copy2");
	assert_string_equal(o->hwrevision, "board:1.0");
	assert_string_equal(o->hwrevision_file, "/data/hwrevision");
	assert_string_equal(o->sw_versions_file, "/data/sw-versions");
	assert_string_equal(o->bootloader, "uboot");
	assert_string_equal(o->uboot_env_config, "/data/fw_env.config");
	assert_true(o->insecure);
	assert_string_equal(o->key_aes, "/etc/swinstall/aes.key");
	assert_true(o->encrypted_sw_description);
}

static void boolean_false_and_integer(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(swi_set_option(fx->ctx, "insecure", "1"), SWI_OK);
	assert_int_equal(load(fx, "insecure = false;\nforced-signer-name = 42;\n"), SWI_OK);
	assert_false(fx->ctx->opt.insecure);
	assert_string_equal(fx->ctx->opt.forced_signer_name, "42");
	assert_int_equal(load(fx, "insecure = 1;\n"), SWI_OK);
	assert_true(fx->ctx->opt.insecure);
}

static void empty_file(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "// nothing\n"), SWI_OK);
	assert_null(fx->ctx->opt.public_key);
}

static void slots_are_read(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "slots = ( { name = \"A\"; device = \"/dev/mmcblk0p2\"; "
				  "select = \"stable,copy1\"; bootenv = { rootpart = \"2\"; }; },\n"
				  "          { name = \"B\"; device = \"/dev/mmcblk0p3\"; "
				  "select = \"stable,copy2\"; bootenv = { rootpart = 3; }; } );\n"
				  "bootloader = \"none\";\n"),
			 SWI_OK);
	assert_int_equal(fx->ctx->opt.slots.count, 2);
	assert_string_equal(fx->ctx->opt.slots.items[1].device, "/dev/mmcblk0p3");
	assert_string_equal(swi_attrs_get(&fx->ctx->opt.slots.items[1].bootenv, "rootpart"), "3");
	assert_string_equal(fx->ctx->opt.bootloader, "none");
	assert_int_equal(load(fx, "slots = ( { name = \"A\"; select = \"stable,copy1\"; } );\n"),
			 SWI_ECONFIG);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "device"));
}

static void life_cycle_variables_are_read(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "mark-good-env = { ustate = \"0\"; bootcount = 0; };\n"
				  "rollback-env = { ustate = \"3\"; };\n"), SWI_OK);
	assert_string_equal(swi_attrs_get(&fx->ctx->opt.mark_good_env, "bootcount"), "0");
	assert_string_equal(swi_attrs_get(&fx->ctx->opt.rollback_env, "ustate"), "3");
	assert_int_equal(load(fx, "\nmark-good-env = ( \"ustate\" );\n"), SWI_ECONFIG);
	assert_message(fx, ":2: 'mark-good-env' must be a group of name = \"value\"");
}

static void slots_scalar_refused(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "slots = \"a,b\";\n"), SWI_ECONFIG);
	assert_message(fx, ":1: 'slots' must be a list ( { ... }, { ... } )");
}

static void wrong_value(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "public-key = \"k.pem\";\n\nbootloader = \"lilo\";\n"),
			 SWI_ECONFIG);
	assert_message(fx, ":3: bootloader: 'lilo' is not one of uboot, grub, none");
}

static void wrong_boolean(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "insecure = \"maybe\";\n"), SWI_ECONFIG);
	assert_message(fx, ":1: insecure: 'maybe' is not a boolean (true or false)");
}

/* A known key with a value of the wrong type is named with the type it
 * needs, never as an unknown setting. */
static void wrong_type(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "select = 1.5;\n"), SWI_ECONFIG);
	assert_message(fx, ":1: 'select' must be a string");
	assert_int_equal(load(fx, "\npublic-key = { path = \"x\"; };\n"), SWI_ECONFIG);
	assert_message(fx, ":2: 'public-key' must be a string");
	assert_int_equal(load(fx, "public-key = ( \"a\" );\n"), SWI_ECONFIG);
	assert_message(fx, ":1: 'public-key' must be a string");
	assert_int_equal(load(fx, "insecure = [ true ];\n"), SWI_ECONFIG);
	assert_message(fx, ":1: 'insecure' must be a boolean (true or false)");
	assert_int_equal(load(fx, "\n\nmark-good-env = \"x\";\n"), SWI_ECONFIG);
	assert_message(fx, ":3: 'mark-good-env' must be a group of name = \"value\"");
	assert_int_equal(load(fx, "rollback-env = 3;\n"), SWI_ECONFIG);
	assert_message(fx, ":1: 'rollback-env' must be a group of name = \"value\"");
	assert_int_equal(load(fx, "slots = { name = \"A\"; };\n"), SWI_ECONFIG);
	assert_message(fx, ":1: 'slots' must be a list ( { ... }, { ... } )");
}

static void signature_scheme_and_version_guards(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "signature-scheme = \"rsa-pss\";\n"
				  "no-downgrading = \"1.3.0\";\n"
				  "no-reinstalling = \"1.4.0\";\n"
				  "max-version = 2;\n"),
			 SWI_OK);
	const struct swi_options *o = &fx->ctx->opt;
	assert_string_equal(o->signature_scheme, "rsa-pss");
	assert_string_equal(o->no_downgrading, "1.3.0");
	assert_string_equal(o->no_reinstalling, "1.4.0");
	assert_string_equal(o->max_version, "2");
	assert_int_equal(load(fx, "\nsignature-scheme = \"gpg\";\n"), SWI_ECONFIG);
	assert_message(fx, ":2: signature-scheme: 'gpg' is not one of cms, rsa, rsa-pss");
	assert_int_equal(load(fx, "no-downgrading = \"\";\n"), SWI_ECONFIG);
	assert_message(fx, ":1: no-downgrading: the version is empty");
	/* 1.3 would be a float, not the text "1.3": a version must be a string */
	assert_int_equal(load(fx, "max-version = 1.3;\n"), SWI_ECONFIG);
	assert_message(fx, ":1: 'max-version' must be a string");
}

static void syntax_error(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "bootloader = \"uboot\";\npublic-key = ;\n"), SWI_ECONFIG);
	assert_message(fx, ":2: syntax error");
	assert_int_equal(load(fx, "bootloader = \"uboot\";\nbootloader = \"none\";\n"),
			 SWI_ECONFIG);
	assert_non_null(strstr(swi_errmsg(fx->ctx), ":2: "));
}

static void missing_file(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(swi_load_config(fx->ctx, fx->path), SWI_ECONFIG);
	assert_message(fx, ": No such file or directory");
}

static void unknown_key(void **state)
{
	struct dir_fixture *fx = *state;
	assert_int_equal(load(fx, "public_key = \"k.pem\";\n"), SWI_ECONFIG);
	assert_message(fx, ":1: unknown setting 'public_key'");
	assert_int_equal(load(fx, "bootloader = \"none\";\n\ndry-run = true;\n"), SWI_ECONFIG);
	assert_message(fx, ":3: unknown setting 'dry-run'");
	assert_int_equal(load(fx, "\nslot = ( );\n"), SWI_ECONFIG);
	assert_message(fx, ":2: unknown setting 'slot'");
}

/* Whatever is wrong in a file that was read, the message starts "FILE:LINE: ". */
static void every_error_names_its_line(void **state)
{
	static const char *const bad[] = {
		"public-key = ;\n", "hw-revision = \"b:1\";\n", "bootloader = \"lilo\";\n",
		"insecure = \"maybe\";\n", "select = 1.5;\n", "slots = \"x\";\n",
		"slots = ( { name = \"A\"; } );\n", "mark-good-env = \"x\";\n",
		"rollback-env = { ustate = 1.5; };\n", "public-key = ( \"a\" );\n",
	};
	struct dir_fixture *fx = *state;
	char prefix[200];
	int n = snprintf(prefix, sizeof(prefix), "%s:1: ", fx->path);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(load(fx, bad[i]), SWI_ECONFIG);
		if (strncmp(swi_errmsg(fx->ctx), prefix, (size_t)n) != 0)
			fail_msg("'%s' gave '%s', without '%s'", bad[i], swi_errmsg(fx->ctx),
				 prefix);
	}
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(all_keys), T(boolean_false_and_integer), T(empty_file),
		T(slots_are_read), T(life_cycle_variables_are_read), T(slots_scalar_refused), T(wrong_value),
		T(wrong_boolean), T(wrong_type), T(signature_scheme_and_version_guards), T(syntax_error), T(missing_file), T(unknown_key),
		T(every_error_names_its_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
