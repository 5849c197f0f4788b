/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration through the API (swi_set_option, swi_add_slot,
 * swi_add_extra_target, swi_set_env_var, swi_clear_list): a context built
 * only with calls behaves like one read from the equivalent configuration
 * file, on a simulated A/B device (slot files, a GRUB environment block made
 * with grub-editenv, a kernel command line file); and the calls refuse what
 * the file parser refuses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "swinstall.h"
#include "testutil.h"

struct fixture {
	char dir[64];
	swi_ctx_t *from_file; /* swi_load_config() */
	swi_ctx_t *from_api;  /* only API calls */
};

static void sh(const struct fixture *f, const char *fmt, const char *arg)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, f->dir, arg ? arg : "");
	assert_int_equal(system(cmd), 0);
}

/* grub-editenv on the fixture's environment block with args; what it
 * printed (malloc'd). */
static char *grub_editenv(const struct fixture *f, const char *args)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s/grubenv %s", f->dir, args);
	return command_output(cmd);
}

/* The environment's variables, sorted, on one line (malloc'd). */
static char *env_list(const struct fixture *f)
{
	return grub_editenv(f, "list | sort | tr '\\n' ' '");
}

static void set_env(const struct fixture *f, const char *assignments)
{
	char set[256];
	snprintf(set, sizeof(set), "set %s", assignments);
	free(grub_editenv(f, set));
}

/* The scalar options both contexts get; "%s" is the fixture's directory. */
static const char *const scalar_options[][2] = {
	{ "bootloader", "grub" },
	{ "grubenv", "%s/grubenv" },
	{ "cmdline-file", "%s/cmdline" },
	{ "mountinfo-file", "%s/mountinfo" },
	{ "sw-versions-file", "%s/sw-versions" },
	{ "hwrevision-file", "%s/hwrevision" },
	{ "lock-file", "%s/lock" },
	{ "state-dir", "%s/state" },
	{ "insecure", "true" },
};

static void option_value(const struct fixture *f, size_t i, char *buf, size_t size)
{
	snprintf(buf, size, scalar_options[i][1], f->dir);
}

/* The configuration file: the scalar options, two slots, one extra target
 * and both groups of variables. */
static void write_config(const struct fixture *f, const char *path)
{
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	for (size_t i = 0; i < sizeof(scalar_options) / sizeof(scalar_options[0]); i++) {
		char value[160];
		option_value(f, i, value, sizeof(value));
		/* insecure is a boolean in the file, the rest strings. */
		fprintf(fp, strcmp(value, "true") ? "%s = \"%s\";\n" : "%s = %s;\n",
			scalar_options[i][0], value);
	}
	fprintf(fp,
		"slots = (\n"
		" { name = \"A\"; device = \"%1$s/slotA\"; select = \"stable,copy1\";\n"
		"   bootenv = { rootpart = \"2\"; }; },\n"
		" { name = \"B\"; device = \"%1$s/slotB\"; select = \"stable,copy2\";\n"
		"   bootenv = { rootpart = 3; }; }\n"
		");\n"
		"extra-targets = [ \"%1$s/boot0\" ];\n"
		"mark-good-env = { ustate = \"0\"; boot_try = \"0\"; };\n"
		"rollback-env = { ustate = \"3\"; rollback_reason = \"health\"; };\n",
		f->dir);
	assert_int_equal(fclose(fp), 0);
}

/* The same settings as write_config(), by calls. */
static void configure_by_api(const struct fixture *f, swi_ctx_t *ctx)
{
	for (size_t i = 0; i < sizeof(scalar_options) / sizeof(scalar_options[0]); i++) {
		char value[160];
		option_value(f, i, value, sizeof(value));
		assert_int_equal(swi_set_option(ctx, scalar_options[i][0], value), SWI_OK);
	}
	char a[128], b[128], boot0[128];
	snprintf(a, sizeof(a), "%s/slotA", f->dir);
	snprintf(b, sizeof(b), "%s/slotB", f->dir);
	snprintf(boot0, sizeof(boot0), "%s/boot0", f->dir);
	const char *const a_env[] = { "rootpart", "2", NULL };
	const char *const b_env[] = { "rootpart", "3", NULL };
	assert_int_equal(swi_add_slot(ctx, "A", a, "stable,copy1", a_env), SWI_OK);
	assert_int_equal(swi_add_slot(ctx, "B", b, "stable,copy2", b_env), SWI_OK);
	assert_int_equal(swi_add_extra_target(ctx, boot0), SWI_OK);
	assert_int_equal(swi_set_env_var(ctx, "mark-good-env", "ustate", "0"), SWI_OK);
	assert_int_equal(swi_set_env_var(ctx, "mark-good-env", "boot_try", "0"), SWI_OK);
	assert_int_equal(swi_set_env_var(ctx, "rollback-env", "ustate", "3"), SWI_OK);
	assert_int_equal(swi_set_env_var(ctx, "rollback-env", "rollback_reason", "health"),
			 SWI_OK);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-api-config-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	sh(f, "cd %s && touch slotA slotB boot0 other && grub-editenv grubenv create", NULL);
	set_env(f, "rootpart=2 ustate=0");
	write_text_file(f->dir, "sw-versions", "rootfs 1.0\n");
	write_text_file(f->dir, "hwrevision", "myboard 1.0\n");
	write_text_file(f->dir, "mountinfo", "");
	write_text_file(f->dir, "cmdline", "quiet swinstall.slot=A\n");
	char conf[128];
	snprintf(conf, sizeof(conf), "%s/swinstall.conf", f->dir);
	write_config(f, conf);
	assert_int_equal(swi_ctx_new(&f->from_file), SWI_OK);
	assert_int_equal(swi_load_config(f->from_file, conf), SWI_OK);
	assert_int_equal(swi_ctx_new(&f->from_api), SWI_OK);
	configure_by_api(f, f->from_api);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = remove_tree(f->dir);
	swi_ctx_free(f->from_file);
	swi_ctx_free(f->from_api);
	free(f);
	return rc == 0 ? 0 : -1;
}

static void assert_same_text(const char *a, const char *b)
{
	if (a || b) {
		assert_non_null(a);
		assert_non_null(b);
		assert_string_equal(a, b);
	}
}

/* The running and standby slots ctx sees (NULL: none). */
static void assert_slots(swi_ctx_t *ctx, const char *running, const char *standby)
{
	struct swi_state s;
	assert_int_equal(swi_get_state(ctx, &s), SWI_OK);
	assert_same_text(s.running, running);
	assert_same_text(s.standby, standby);
}

/* Both contexts' swi_get_state(), field by field. Only the strings are
 * compared while both states are alive: each lives in its own context. */
static void assert_same_state(struct fixture *f)
{
	struct swi_state file, api;
	assert_int_equal(swi_get_state(f->from_file, &file), SWI_OK);
	assert_int_equal(swi_get_state(f->from_api, &api), SWI_OK);
	assert_same_text(file.running, api.running);
	assert_same_text(file.running_found_by, api.running_found_by);
	assert_same_text(file.standby, api.standby);
	assert_same_text(file.next, api.next);
	assert_same_text(file.ustate, api.ustate);
	assert_same_text(file.rollback, api.rollback);
	assert_same_text(file.rollback_meaning, api.rollback_meaning);
}

static void the_state_is_the_same(void **state)
{
	struct fixture *f = *state;
	set_env(f, "rootpart=3 ustate=1");
	assert_same_state(f);
	struct swi_state s;
	assert_int_equal(swi_get_state(f->from_api, &s), SWI_OK);
	assert_string_equal(s.running, "A");
	assert_string_equal(s.standby, "B");
	assert_string_equal(s.next, "B"); /* rootpart=3 is slot B's bootenv */
	/* Slot B running, A booting next. */
	write_text_file(f->dir, "cmdline", "swinstall.slot=B\n");
	set_env(f, "rootpart=2 ustate=0");
	assert_same_state(f);
	assert_int_equal(swi_get_state(f->from_api, &s), SWI_OK);
	assert_string_equal(s.running, "B");
	assert_string_equal(s.next, "A");
}

static void the_options_read_back_the_same(void **state)
{
	struct fixture *f = *state;
	for (size_t i = 0; i < sizeof(scalar_options) / sizeof(scalar_options[0]); i++) {
		const char *name = scalar_options[i][0];
		assert_same_text(swi_get_option(f->from_file, name),
				 swi_get_option(f->from_api, name));
		assert_non_null(swi_get_option(f->from_api, name));
	}
}

/* A life-cycle call (mark-good, rollback) on ctx from the environment
 * `before`, with the variables a configured group may add unset first;
 * the environment it leaves, sorted (malloc'd). */
static char *life_cycle_result(struct fixture *f, swi_ctx_t *ctx, const char *before,
			       int (*change)(swi_ctx_t *))
{
	set_env(f, before);
	free(grub_editenv(f, "unset boot_try rollback_reason bootcount upgrade_available"));
	assert_int_equal(change(ctx), SWI_OK);
	return env_list(f);
}

/* What the change leaves with the API's context, the same as with the
 * file's (malloc'd). */
static char *same_life_cycle_result(struct fixture *f, const char *before,
				    int (*change)(swi_ctx_t *))
{
	char *file = life_cycle_result(f, f->from_file, before, change);
	char *api = life_cycle_result(f, f->from_api, before, change);
	assert_string_equal(api, file);
	free(file);
	return api;
}

static void mark_good_writes_the_variables_set_by_call(void **state)
{
	char *api = same_life_cycle_result(*state, "rootpart=2 ustate=1", swi_mark_good);
	assert_string_equal(api, "boot_try=0 rootpart=2 ustate=0 ");
	free(api);
}

static void rollback_writes_the_variables_set_by_call(void **state)
{
	/* Back to A (its bootenv) with rollback-env's variables. */
	char *api = same_life_cycle_result(*state, "rootpart=3 ustate=1", swi_rollback);
	assert_string_equal(api, "rollback_reason=health rootpart=2 ustate=3 ");
	free(api);
}

static void a_variable_set_to_null_is_removed(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_set_env_var(f->from_api, "mark-good-env", "boot_try", NULL), SWI_OK);
	char *api = life_cycle_result(f, f->from_api, "rootpart=2 ustate=1", swi_mark_good);
	assert_string_equal(api, "rootpart=2 ustate=0 ");
	free(api);
}

/* An image writing payload.bin (raw) to DIR/NAME, for the standby slot
 * B's selection stable,copy2: DIR/image.swu. */
static void build_image(const struct fixture *f, const char *name)
{
	static const char payload[] = "bootloader bytes";
	unsigned char md[32];
	unsigned int mdlen = 0;
	assert_true(EVP_Digest(payload, strlen(payload), md, &mdlen, EVP_sha256(), NULL));
	char sha[65];
	for (int i = 0; i < 32; i++)
		sprintf(sha + 2 * i, "%02x", md[i]);
	write_text_file(f->dir, "payload.bin", payload);
	char desc[1024];
	snprintf(desc, sizeof(desc),
		 "software = { version = \"2.0\"; stable = { copy2 = {\n"
		 "  images = ( { filename = \"payload.bin\"; type = \"raw\";\n"
		 "               device = \"%s/%s\"; sha256 = \"%s\"; } );\n"
		 "}; }; };\n",
		 f->dir, name, sha);
	write_text_file(f->dir, "sw-description", desc);
	sh(f, "cd %s && printf '%%s\\n' sw-description payload.bin | "
	      "cpio -o -H crc --quiet > image.swu", NULL);
}

/* The check of an image writing DIR/NAME on ctx (nothing is written). */
static int check_image(struct fixture *f, swi_ctx_t *ctx, const char *name)
{
	build_image(f, name);
	char image[128];
	snprintf(image, sizeof(image), "%s/image.swu", f->dir);
	assert_int_equal(swi_set_option(ctx, "check", "1"), SWI_OK);
	return swi_install_file(ctx, image);
}

static void only_the_extra_target_is_allowed(void **state)
{
	struct fixture *f = *state;
	swi_ctx_t *both[] = { f->from_file, f->from_api };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(check_image(f, both[i], "boot0"), SWI_OK);
		assert_int_equal(check_image(f, both[i], "other"), SWI_ECOMPAT);
		assert_non_null(strstr(swi_errmsg(both[i]), "extra-targets; refused"));
	}
	/* Without the extra target, boot0 is refused as well. */
	assert_int_equal(swi_clear_list(f->from_api, "extra-targets"), SWI_OK);
	assert_int_equal(check_image(f, f->from_api, "boot0"), SWI_ECOMPAT);
}

static void cleared_lists_are_empty(void **state)
{
	struct fixture *f = *state;
	/* An emptied group leaves mark-good to its defaults. */
	assert_int_equal(swi_clear_list(f->from_api, "mark-good-env"), SWI_OK);
	assert_int_equal(swi_clear_list(f->from_api, "rollback-env"), SWI_OK);
	char *api = life_cycle_result(f, f->from_api, "rootpart=2 ustate=1", swi_mark_good);
	assert_string_equal(api, "bootcount=0 rootpart=2 upgrade_available=0 ustate=0 ");
	free(api);
	assert_int_equal(swi_clear_list(f->from_api, "slots"), SWI_OK);
	assert_slots(f->from_api, NULL, NULL);
	/* The list can be built again, with the names used before: A alone. */
	char a[128];
	snprintf(a, sizeof(a), "%s/slotA", f->dir);
	assert_int_equal(swi_add_slot(f->from_api, "A", a, "stable,copy1", NULL), SWI_OK);
	assert_slots(f->from_api, "A", NULL);
}

/* A call that fails with SWI_EINVAL and a message holding want. */
static void assert_refused(swi_ctx_t *ctx, int rc, const char *want)
{
	assert_int_equal(rc, SWI_EINVAL);
	if (!strstr(swi_errmsg(ctx), want))
		fail_msg("message '%s' lacks '%s'", swi_errmsg(ctx), want);
}

static void bad_slots_are_refused(void **state)
{
	struct fixture *f = *state;
	swi_ctx_t *ctx = f->from_api;
	const char *const env[] = { "rootpart", "4", NULL };
	const char *const odd[] = { "rootpart", "4", "kernel", NULL };
	const char *const bad_name[] = { "root part", "4", NULL };
	assert_refused(ctx, swi_add_slot(ctx, "A", "/dev/c", "stable,copy3", env),
		       "slot name 'A' is used twice");
	char a[128];
	snprintf(a, sizeof(a), "%s/slotA", f->dir);
	assert_refused(ctx, swi_add_slot(ctx, "C", a, "stable,copy3", env),
		       "belongs to slots 'A' and 'C'");
	assert_refused(ctx, swi_add_slot(ctx, NULL, "/dev/c", "stable,copy3", env),
		       "slot has no 'name'");
	assert_refused(ctx, swi_add_slot(ctx, "C", "", "stable,copy3", env),
		       "slot 'C' has no 'device'");
	assert_refused(ctx, swi_add_slot(ctx, "C", "/dev/c", NULL, env),
		       "slot 'C' has no 'select'");
	assert_refused(ctx, swi_add_slot(ctx, "C", "/dev/c", "copy3", env),
		       "slot 'C': 'select' must be \"SET,MODE\"");
	assert_refused(ctx, swi_add_slot(ctx, "C", "/dev/c", "stable,copy3", odd),
		       "slot 'C': bootenv variable 'kernel' has no value");
	assert_refused(ctx, swi_add_slot(ctx, "C", "/dev/c", "stable,copy3", bad_name),
		       "slot 'C': bootenv variable 'root part' is refused");
	/* None of the refused slots was kept: C is not a slot, A and B are. */
	write_text_file(f->dir, "cmdline", "swinstall.slot=C\n");
	assert_slots(ctx, NULL, NULL);
	write_text_file(f->dir, "cmdline", "swinstall.slot=B\n");
	assert_slots(ctx, "B", "A");
}

static void bad_groups_lists_and_targets_are_refused(void **state)
{
	struct fixture *f = *state;
	swi_ctx_t *ctx = f->from_api;
	assert_refused(ctx, swi_set_env_var(ctx, "install-env", "ustate", "1"),
		       "'install-env' is not a group of variables");
	assert_refused(ctx, swi_set_env_var(ctx, NULL, "ustate", "1"),
		       "is not a group of variables");
	const char *const bad_names[] = { "", "a=b", "two words", "#comment", "line\nend" };
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_refused(ctx, swi_set_env_var(ctx, "rollback-env", bad_names[i], "1"),
			       "rollback-env: variable '");
	assert_refused(ctx, swi_set_env_var(ctx, "rollback-env", NULL, "1"), "is refused");
	assert_refused(ctx, swi_clear_list(ctx, "slot"), "'slot' is not a list");
	assert_refused(ctx, swi_clear_list(ctx, NULL), "is not a list");
	assert_refused(ctx, swi_add_extra_target(ctx, "boot0"),
		       "extra-targets: 'boot0' is not an absolute device path");
	assert_refused(ctx, swi_add_extra_target(ctx, NULL), "not an absolute device path");
	assert_int_equal(swi_add_slot(NULL, "C", "/dev/c", "s,m", NULL), SWI_EINVAL);
	assert_int_equal(swi_add_extra_target(NULL, "/dev/c"), SWI_EINVAL);
	assert_int_equal(swi_set_env_var(NULL, "rollback-env", "a", "b"), SWI_EINVAL);
	assert_int_equal(swi_clear_list(NULL, "slots"), SWI_EINVAL);
}

/* A configuration file read after the calls replaces their lists. */
static void a_later_file_replaces_the_lists(void **state)
{
	struct fixture *f = *state;
	char conf[128];
	snprintf(conf, sizeof(conf), "%s/slots.conf", f->dir);
	write_text_file(f->dir, "slots.conf", "slots = ( { name = \"X\"; device = \"/dev/x\"; "
				  "select = \"s,x\"; } );\n");
	assert_int_equal(swi_load_config(f->from_api, conf), SWI_OK);
	write_text_file(f->dir, "cmdline", "swinstall.slot=X\n");
	assert_slots(f->from_api, "X", NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(the_state_is_the_same),
		T(the_options_read_back_the_same),
		T(mark_good_writes_the_variables_set_by_call),
		T(rollback_writes_the_variables_set_by_call),
		T(a_variable_set_to_null_is_removed),
		T(only_the_extra_target_is_allowed),
		T(cleared_lists_are_empty),
		T(bad_slots_are_refused),
		T(bad_groups_lists_and_targets_are_refused),
		T(a_later_file_replaces_the_lists),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
