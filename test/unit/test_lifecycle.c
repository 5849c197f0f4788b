/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status, mark-good and rollback (lib/lifecycle.c) on a GRUB environment
 * block made with grub-editenv, checked with grub-editenv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include "grub_slots.h"
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "swinstall.h"

static int setup(void **state)
{
	struct fixture *f = grub_slots_setup("");
	sh("cd %s && touch slotA slotB", f->dir, NULL);
	set_env(f, "rootpart=2 ustate=0");
	write_in(f, "sw-versions", "rootfs 1.0\nkernel 6.1\n");
	*state = f;
	return 0;
}

static void status_names_the_slots_and_the_state(void **state)
{
	struct fixture *f = *state;
	struct swi_state s;
	set_env(f, "rootpart=3 ustate=1");
	assert_int_equal(swi_get_state(f->ctx, &s), SWI_OK);
	assert_string_equal(s.running, "A");
	assert_non_null(strstr(s.running_found_by, "swinstall.slot"));
	assert_string_equal(s.standby, "B");
	assert_string_equal(s.next, "B");
	assert_string_equal(s.ustate, "1");
	assert_non_null(strstr(s.ustate_meaning, "reboot pending"));
	assert_null(s.recovery_status);
	assert_string_equal(s.versions[0], "rootfs 1.0");
	assert_string_equal(s.versions[1], "kernel 6.1");
	assert_null(s.versions[2]);
}

static void status_without_a_matching_slot(void **state)
{
	struct fixture *f = *state;
	struct swi_state s;
	set_env(f, "rootpart=9 recovery_status=failed");
	running(f, "B");
	assert_int_equal(swi_get_state(f->ctx, &s), SWI_OK);
	assert_null(s.next);
	assert_string_equal(s.running, "B");
	assert_string_equal(s.standby, "A");
	assert_non_null(strstr(s.recovery_meaning, "failed"));
}

static void mark_good_is_refused_before_the_reboot(void **state)
{
	struct fixture *f = *state;
	set_env(f, "rootpart=3 ustate=1");
	char before[1024];
	strcpy(before, env_list(f));
	assert_int_equal(swi_mark_good(f->ctx), SWI_ESTATE);
	assert_non_null(strstr(swi_errmsg(f->ctx), "reboot"));
	assert_string_equal(env_list(f), before);
}

static void mark_good_needs_to_know_what_runs_and_boots(void **state)
{
	struct fixture *f = *state;
	char before[1024];
	/* The running slot is unknown. */
	set_env(f, "rootpart=3 ustate=1");
	write_in(f, "cmdline", "console=ttyS0\n");
	strcpy(before, env_list(f));
	assert_int_equal(swi_mark_good(f->ctx), SWI_ESTATE);
	assert_non_null(strstr(swi_errmsg(f->ctx), "running slot is unknown"));
	assert_string_equal(env_list(f), before);
	/* The environment selects no slot. */
	set_env(f, "rootpart=7 ustate=1");
	running(f, "A");
	strcpy(before, env_list(f));
	assert_int_equal(swi_mark_good(f->ctx), SWI_ESTATE);
	assert_non_null(strstr(swi_errmsg(f->ctx), "selects none"));
	assert_string_equal(env_list(f), before);
}

static void mark_good_confirms_the_new_slot(void **state)
{
	struct fixture *f = *state;
	set_env(f, "rootpart=3 ustate=2 bootcount=2 upgrade_available=1");
	running(f, "B");
	assert_int_equal(swi_mark_good(f->ctx), SWI_OK);
	assert_string_equal(env_list(f), "bootcount=0 rootpart=3 upgrade_available=0 ustate=0 ");
}

static void mark_good_with_nothing_to_confirm_changes_nothing(void **state)
{
	struct fixture *f = *state;
	char before[1024];
	strcpy(before, env_list(f));
	assert_int_equal(swi_mark_good(f->ctx), SWI_OK);
	assert_string_equal(env_list(f), before);
}

static void mark_good_writes_the_configured_variables(void **state)
{
	struct fixture *f = *state;
	write_in(f, "extra.conf", "mark-good-env = { ustate = \"0\"; boot_try = \"0\"; };\n");
	assert_int_equal(swi_load_config(f->ctx, f->path), SWI_OK);
	set_env(f, "rootpart=2 ustate=1");
	assert_int_equal(swi_mark_good(f->ctx), SWI_OK);
	assert_string_equal(env_list(f), "boot_try=0 rootpart=2 ustate=0 ");
}

static void rollback_boots_the_other_slot(void **state)
{
	struct fixture *f = *state;
	/* Installed into B, not rebooted yet: back to A. */
	set_env(f, "rootpart=3 ustate=1");
	assert_int_equal(swi_rollback(f->ctx), SWI_OK);
	assert_string_equal(env_list(f), "bootcount=0 rootpart=2 upgrade_available=0 ustate=3 ");
	/* Booted B, its health check failed: back to A as well. */
	set_env(f, "rootpart=3 ustate=2");
	running(f, "B");
	assert_int_equal(swi_rollback(f->ctx), SWI_OK);
	assert_non_null(strstr(env_list(f), "rootpart=2 "));
}

/* A fresh device: slot B was never installed, nothing is pending. */
static void rollback_with_nothing_to_go_back_to_is_refused(void **state)
{
	struct fixture *f = *state;
	struct swi_state s;
	char before[1024];
	strcpy(before, env_list(f));
	assert_int_equal(swi_get_state(f->ctx, &s), SWI_OK);
	assert_null(s.rollback);
	assert_non_null(strstr(s.rollback_meaning, "not possible"));
	assert_int_equal(swi_rollback(f->ctx), SWI_ESTATE);
	assert_non_null(strstr(swi_errmsg(f->ctx), "nothing to roll back to"));
	assert_string_equal(env_list(f), before);
	/* After a failed install into B: B is no complete system either. */
	set_env(f, "ustate=3 swinstall_complete=A");
	strcpy(before, env_list(f));
	assert_int_equal(swi_rollback(f->ctx), SWI_ESTATE);
	assert_string_equal(env_list(f), before);
	/* --force switches anyway. */
	assert_int_equal(swi_set_option(f->ctx, "force", "1"), SWI_OK);
	assert_int_equal(swi_rollback(f->ctx), SWI_OK);
	assert_non_null(strstr(env_list(f), "rootpart=3 "));
}

/* Confirmed and running B, A holds the system B replaced: back to it. */
static void rollback_to_a_complete_slot(void **state)
{
	struct fixture *f = *state;
	struct swi_state s;
	set_env(f, "rootpart=3 ustate=0 swinstall_complete='A B'");
	running(f, "B");
	assert_int_equal(swi_get_state(f->ctx, &s), SWI_OK);
	assert_string_equal(s.rollback, "A");
	assert_non_null(strstr(s.rollback_meaning, "possible: the other slot holds a complete"));
	assert_int_equal(swi_rollback(f->ctx), SWI_OK);
	assert_non_null(strstr(env_list(f), "rootpart=2 "));
}

/* Another process holds the lock: refused at once, or after the wait. */
static void life_cycle_commands_take_the_lock(void **state)
{
	struct fixture *f = *state;
	char lock[128], before[1024];
	snprintf(lock, sizeof(lock), "%s/lock", f->dir);
	set_env(f, "rootpart=3 ustate=1");
	strcpy(before, env_list(f));
	/* flock() locks of two open files conflict within one process too. */
	int fd = open(lock, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(swi_rollback(f->ctx), SWI_EBUSY);
	assert_non_null(strstr(swi_errmsg(f->ctx), "holds the lock"));
	assert_int_equal(swi_mark_good(f->ctx), SWI_EBUSY);
	assert_int_equal(swi_set_option(f->ctx, "lock-wait", "1"), SWI_OK);
	assert_int_equal(swi_rollback(f->ctx), SWI_EBUSY);
	assert_non_null(strstr(swi_errmsg(f->ctx), "after 1 s"));
	assert_string_equal(env_list(f), before);
	/* A cancel ends a wait that would last forever. */
	assert_int_equal(swi_set_option(f->ctx, "lock-wait", "forever"), SWI_OK);
	assert_int_equal(swi_cancel(f->ctx), SWI_OK);
	assert_int_equal(swi_rollback(f->ctx), SWI_ECANCELED);
	close(fd);
	assert_int_equal(swi_rollback(f->ctx), SWI_OK);
	assert_non_null(strstr(env_list(f), "rootpart=2 "));
}

static void rollback_needs_slots(void **state)
{
	struct fixture *f = *state;
	swi_ctx_t *bare;
	assert_int_equal(swi_ctx_new(&bare), SWI_OK);
	assert_int_equal(swi_rollback(bare), SWI_ECONFIG);
	assert_non_null(strstr(swi_errmsg(bare), "slots"));
	swi_ctx_free(bare);
	(void)f;
}

static void a_broken_environment_is_reported(void **state)
{
	struct fixture *f = *state;
	struct swi_state s;
	sh("truncate -s 100 %s/grubenv", f->dir, NULL);
	assert_int_not_equal(swi_get_state(f->ctx, &s), SWI_OK);
	assert_non_null(strstr(swi_errmsg(f->ctx), "grubenv"));
	assert_int_not_equal(swi_rollback(f->ctx), SWI_OK);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, grub_slots_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(status_names_the_slots_and_the_state),
		T(status_without_a_matching_slot),
		T(mark_good_is_refused_before_the_reboot),
		T(mark_good_needs_to_know_what_runs_and_boots),
		T(mark_good_confirms_the_new_slot),
		T(mark_good_with_nothing_to_confirm_changes_nothing),
		T(mark_good_writes_the_configured_variables),
		T(rollback_boots_the_other_slot),
		T(rollback_with_nothing_to_go_back_to_is_refused),
		T(rollback_to_a_complete_slot),
		T(life_cycle_commands_take_the_lock),
		T(rollback_needs_slots),
		T(a_broken_environment_is_reported),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
