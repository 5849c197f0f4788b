/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The shellscript handler: the member written privately, run as SWUpdate
 * runs it ("SCRIPT preinst|postinst|postfailure DATA...") in its three
 * phases, without a shell; a failing script names itself and its status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "script_fixture.h"

static void registered_for_three_phases(void **state)
{
	script_assert_handler(*state, "shellscript",
			      SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE);
}

static void written_privately(void **state)
{
	struct script_fixture *f = *state;
	script_target(f, &swi_handler_shellscript, NULL);
	script_receive(f, 0);
	script_assert_written(f);
}

static void runs_with_the_phase_as_first_argument(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_shellscript, NULL);
	script_receive(f, 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	script_assert_ran_with(f, (const char *const[]){ "preinst", NULL });
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	script_assert_ran_with(f, (const char *const[]){ "postinst", NULL });
	assert_int_equal(t->handler->run(t, SWI_PHASE_FAILURE), SWI_OK);
	script_assert_ran_with(f, (const char *const[]){ "postfailure", NULL });
}

/* "data" follows the phase, split at blanks; nothing in it is expanded. */
static void data_words_follow_the_phase(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_shellscript, " one  two;x\t$(three) ");
	script_receive(f, 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	script_assert_ran_with(f, (const char *const[]){ "postinst", "one", "two;x", "$(three)",
							 NULL });
}

static void failure_names_script_phase_and_status(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_shellscript, NULL);
	script_receive(f, 3);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EHANDLER);
	script_assert_error(f, "shellscript setup.sh (preinst): exited with status 3");
	assert_int_equal(t->handler->run(t, SWI_PHASE_FAILURE), SWI_EHANDLER);
	script_assert_error(f, "shellscript setup.sh (postfailure): exited with status 3");
}

static void a_script_never_written_is_not_run(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_shellscript, NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EINVAL);
	script_assert_did_not_run(f);
}

/* abort removes the file, also half-written. */
static void abort_removes_the_script(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_shellscript, NULL);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, "#!/bin/sh\n", 10), SWI_OK);
	char path[sizeof(((struct swi_script *)0)->path)];
	snprintf(path, sizeof(path), "%s", script_path(f));
	assert_int_equal(access(path, F_OK), 0);
	t->handler->abort(t);
	assert_int_equal(access(path, F_OK), -1);
}

/* Two entries of the same member get a file each. */
static void same_member_twice_gets_two_files(void **state)
{
	struct script_fixture *f = *state;
	script_target(f, &swi_handler_shellscript, NULL);
	script_receive(f, 0);
	char first[sizeof(((struct swi_script *)0)->path)];
	snprintf(first, sizeof(first), "%s", script_path(f));
	assert_int_equal(swi_target_alloc_state(&f->target), SWI_OK);
	script_receive(f, 0);
	assert_string_not_equal(script_path(f), first);
	assert_int_equal(access(first, X_OK), 0);
	assert_int_equal(access(script_path(f), X_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(registered_for_three_phases, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(written_privately, script_setup, script_teardown),
		cmocka_unit_test_setup_teardown(runs_with_the_phase_as_first_argument, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(data_words_follow_the_phase, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(failure_names_script_phase_and_status, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(a_script_never_written_is_not_run, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(abort_removes_the_script, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(same_member_twice_gets_two_files, script_setup,
						script_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
