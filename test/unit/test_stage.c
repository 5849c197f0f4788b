/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The agent's steps (lib/install.c's modes, lib/apply.c, swi_is_installed()
 * and the slots of swi_get_state() in lib/lifecycle.c) on two file slots
 * and a GRUB environment block, read back with grub-editenv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "grub_slots.h"
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "swinstall.h"

static const char *image(struct fixture *f)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	return path;
}

/* image.swu of sw-description and rootfs. */
static void pack_image(struct fixture *f)
{
	sh("cd %s && printf '%%s\\n' sw-description rootfs | cpio -o -H newc --quiet > image.swu",
	   f->dir, NULL);
}

/* image.swu, version 2.0: copy1 writes slotA (rootpart=2), copy2 slotB
 * (rootpart=3). */
static void make_image(struct fixture *f)
{
	write_in(f, "rootfs", "the new root filesystem\n");
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "sha256sum %s/rootfs | cut -c1-64 | tr -d '\\n'", f->dir);
	char *sha = command_output(cmd);
	char desc[2048];
	snprintf(desc, sizeof(desc),
		 "software = { version = \"2.0\"; stable: {\n"
		 " copy1: { images: ( { filename = \"rootfs\"; type = \"raw\"; device = \"%1$s/slotA\";"
		 " sha256 = \"%2$s\"; } ); bootenv: ( { name = \"rootpart\"; value = \"2\"; } ); };\n"
		 " copy2: { images: ( { filename = \"rootfs\"; type = \"raw\"; device = \"%1$s/slotB\";"
		 " sha256 = \"%2$s\"; } ); bootenv: ( { name = \"rootpart\"; value = \"3\"; } ); };\n"
		 "}; };\n", f->dir, sha);
	free(sha);
	write_in(f, "sw-description", desc);
	pack_image(f);
}

static int setup(void **state)
{
	struct fixture *f = grub_slots_setup("insecure = true;");
	sh("cd %s && echo old-A > slotA && echo old-B > slotB && truncate -s 4096 slotA slotB "
	   "&& cp slotB slotB.orig", f->dir, NULL);
	set_env(f, "rootpart=2 ustate=0");
	write_in(f, "hwrevision", "board 1.0\n");
	write_in(f, "sw-versions", "");
	make_image(f);
	*state = f;
	return 0;
}

static void expect_installed(struct fixture *f, const char *version, int want, const char *slot)
{
	struct swi_installed out;
	assert_int_equal(swi_is_installed(f->ctx, version, &out), SWI_OK);
	assert_int_equal(out.state, want);
	assert_string_equal(out.version, version);
	if (slot)
		assert_string_equal(out.slot, slot);
	else
		assert_null(out.slot);
}

static bool exists(struct fixture *f, const char *name)
{
	char path[192];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	return stat(path, &st) == 0;
}

static void stage_keeps_the_running_slot_booting(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_OK);
	struct swi_result r;
	assert_int_equal(swi_get_result(f->ctx, &r), SWI_OK);
	assert_true(r.staged);
	assert_false(r.committed);
	assert_string_equal(r.slot, "B");
	assert_string_equal(r.version, "2.0");
	assert_string_equal(env_list(f), "bootcount=0 rootpart=2 swinstall_complete=A "
			    "swinstall_version_B=2.0 upgrade_available=0 ustate=0 ");
	assert_true(exists(f, "state/staged-commit"));

	struct swi_state s;
	assert_int_equal(swi_get_state(f->ctx, &s), SWI_OK);
	assert_string_equal(s.staged, "B");
	assert_int_equal(s.nslots, 2);
	assert_string_equal(s.slots[0].name, "A");
	assert_null(s.slots[0].version);
	assert_true(s.slots[0].running && s.slots[0].booting_next && s.slots[0].complete);
	assert_false(s.slots[0].staged);
	assert_string_equal(s.slots[1].version, "2.0");
	assert_true(s.slots[1].staged);
	assert_false(s.slots[1].running || s.slots[1].booting_next || s.slots[1].complete);
}

static void apply_writes_the_staged_commit_once(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_apply(f->ctx), SWI_ESTATE);
	assert_non_null(strstr(swi_errmsg(f->ctx), "nothing is staged"));
	assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_OK);
	assert_int_equal(swi_apply(f->ctx), SWI_OK);
	assert_string_equal(env_list(f), "bootcount=0 rootpart=3 swinstall_complete=A B "
			    "swinstall_version_B=2.0 upgrade_available=0 ustate=1 ");
	assert_false(exists(f, "state/staged-commit"));
	assert_int_equal(swi_apply(f->ctx), SWI_ESTATE);
}

static void apply_needs_the_slot_that_ran_at_staging(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_OK);
	char before[1024];
	strcpy(before, env_list(f));
	running(f, "B");
	assert_int_equal(swi_apply(f->ctx), SWI_ESTATE);
	assert_non_null(strstr(swi_errmsg(f->ctx), "slot B runs now"));
	assert_string_equal(env_list(f), before);
}

static void an_install_discards_what_was_staged(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_OK);
	assert_int_equal(swi_install_file(f->ctx, image(f)), SWI_OK);
	assert_false(exists(f, "state/staged-commit"));
	assert_int_equal(swi_apply(f->ctx), SWI_ESTATE);
	struct swi_result r;
	assert_int_equal(swi_get_result(f->ctx, &r), SWI_OK);
	assert_true(r.committed);
	assert_false(r.staged);
}

static void a_rollback_discards_what_was_staged(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "force", "1"), SWI_OK);
	assert_int_equal(swi_rollback(f->ctx), SWI_OK);
	assert_false(exists(f, "state/staged-commit"));
	assert_int_equal(swi_apply(f->ctx), SWI_ESTATE);
}

static void is_installed_follows_the_life_cycle(void **state)
{
	struct fixture *f = *state;
	expect_installed(f, "2.0", SWI_NOT_INSTALLED, NULL);
	assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_OK);
	expect_installed(f, "2.0", SWI_INSTALLED_STAGED, "B");
	expect_installed(f, "1.0", SWI_NOT_INSTALLED, NULL);
	assert_int_equal(swi_apply(f->ctx), SWI_OK);
	expect_installed(f, "2.0", SWI_INSTALLED_PENDING, "B");
	running(f, "B");
	expect_installed(f, "2.0", SWI_INSTALLED_RUNNING, "B");
	/* A rolled back: B holds it, nothing boots it. */
	running(f, "A");
	set_env(f, "rootpart=2 ustate=3");
	expect_installed(f, "2.0", SWI_INSTALLED_IDLE, "B");
}

static void is_installed_file_reads_the_image_version(void **state)
{
	struct fixture *f = *state;
	struct swi_installed out;
	assert_int_equal(swi_is_installed_file(f->ctx, image(f), &out), SWI_OK);
	assert_int_equal(out.state, SWI_NOT_INSTALLED);
	assert_string_equal(out.version, "2.0");
	assert_int_equal(swi_install_file(f->ctx, image(f)), SWI_OK);
	assert_int_equal(swi_is_installed_file(f->ctx, image(f), &out), SWI_OK);
	assert_int_equal(out.state, SWI_INSTALLED_PENDING);
	assert_string_equal(out.slot, "B");
	/* An image that is no image is refused, not called uninstalled. */
	assert_int_equal(swi_is_installed_file(f->ctx, f->path, &out), SWI_EFORMAT);
}

static void an_install_forgets_the_version_first(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_install_file(f->ctx, image(f)), SWI_OK);
	assert_non_null(strstr(env_list(f), "swinstall_version_B=2.0"));
	/* The same image with another payload: its hash no longer matches. */
	write_in(f, "rootfs", "tampered root filesystem\n");
	pack_image(f);
	assert_int_equal(swi_install_file(f->ctx, image(f)), SWI_EHASH);
	assert_null(strstr(env_list(f), "swinstall_version_B"));
}

static void verify_writes_nothing(void **state)
{
	struct fixture *f = *state;
	char before[1024];
	strcpy(before, env_list(f));
	assert_int_equal(swi_verify_file(f->ctx, image(f)), SWI_OK);
	assert_string_equal(env_list(f), before);
	sh("cmp -s %1$s/slotB %1$s/slotB.orig", f->dir, NULL);
	assert_false(exists(f, "state"));
	assert_false(exists(f, "lock"));
	/* A verify is strict where a dry run is lenient: a target that is not
	 * there fails it. */
	sh("rm %s/slotB", f->dir, NULL);
	assert_int_not_equal(swi_verify_file(f->ctx, image(f)), SWI_OK);
}

/* Cancels the install on ctx (the progress callback's user) when the
 * phase it waits for starts. */
struct cancel_at {
	swi_ctx_t *ctx;
	int phase;
};

static void cancel_in_phase(void *user, const struct swi_progress *p)
{
	struct cancel_at *at = user;
	if (p->phase == at->phase && !p->member)
		swi_cancel(at->ctx);
}

/* A cancel ends staging and verifying like any failure: nothing is kept
 * for swi_apply(), no version is recorded, the running slot still boots. */
static void a_cancel_stages_nothing(void **state)
{
	struct fixture *f = *state;
	static const int phases[] = { SWI_PROGRESS_VERIFYING, SWI_PROGRESS_INSTALLING,
				      SWI_PROGRESS_COMMITTING };
	for (size_t i = 0; i < sizeof(phases) / sizeof(phases[0]); i++) {
		struct cancel_at at = { f->ctx, phases[i] };
		swi_set_progress(f->ctx, cancel_in_phase, &at);
		assert_int_equal(swi_verify_file(f->ctx, image(f)), SWI_ECANCELED);
		assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_ECANCELED);
		assert_false(exists(f, "state/staged-commit"));
		assert_null(strstr(env_list(f), "swinstall_version_B"));
		assert_non_null(strstr(env_list(f), "rootpart=2 "));
		assert_int_equal(swi_apply(f->ctx), SWI_ESTATE);
		expect_installed(f, "2.0", SWI_NOT_INSTALLED, NULL);
	}
	/* The cancel is spent: staging again works. */
	swi_set_progress(f->ctx, NULL, NULL);
	assert_int_equal(swi_stage_file(f->ctx, image(f)), SWI_OK);
	expect_installed(f, "2.0", SWI_INSTALLED_STAGED, "B");
}

static void without_slots_the_device_is_one_slot(void **state)
{
	struct fixture *f = *state;
	char conf[512];
	snprintf(conf, sizeof(conf), "bootloader = \"grub\"; grubenv = \"%1$s/grubenv\";\n"
		 "state-dir = \"%1$s/state\";\n", f->dir);
	write_in(f, "noslots.conf", conf);
	swi_ctx_free(f->ctx);
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	assert_int_equal(swi_load_config(f->ctx, f->path), SWI_OK);
	set_env(f, "swinstall_version=3.1");
	expect_installed(f, "3.1", SWI_INSTALLED_RUNNING, NULL);
	set_env(f, "ustate=1");
	expect_installed(f, "3.1", SWI_INSTALLED_PENDING, NULL);
	expect_installed(f, "3.0", SWI_NOT_INSTALLED, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stage_keeps_the_running_slot_booting, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(apply_writes_the_staged_commit_once, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(apply_needs_the_slot_that_ran_at_staging, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(an_install_discards_what_was_staged, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(a_rollback_discards_what_was_staged, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(is_installed_follows_the_life_cycle, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(is_installed_file_reads_the_image_version, setup,
						grub_slots_teardown),
		cmocka_unit_test_setup_teardown(an_install_forgets_the_version_first, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(verify_writes_nothing, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(without_slots_the_device_is_one_slot, setup, grub_slots_teardown),
		cmocka_unit_test_setup_teardown(a_cancel_stages_nothing, setup, grub_slots_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
