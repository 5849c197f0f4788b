/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handler "shellscript", driven directly (script_fixture.h):
 * the member written privately and run as SWUpdate runs it ("SCRIPT
 * preinst|postinst|postfailure DATA...") in its three phases, without a
 * shell; a failing script names itself, its phase and its status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "script_fixture.h"

static void shellscript_runs_in_three_phases(void **state)
{
	assert_script_handler(*state, "shellscript",
			      SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE);
}

static void shellscript_is_written_privately(void **state)
{
	check_written_privately(*state, &swi_handler_shellscript);
}

static void shellscript_gets_the_phase_as_first_argument(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_shellscript, NULL, 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	assert_ran_with(f, (const char *const[]){ "preinst", NULL });
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	assert_ran_with(f, (const char *const[]){ "postinst", NULL });
	assert_int_equal(t->handler->run(t, SWI_PHASE_FAILURE), SWI_OK);
	assert_ran_with(f, (const char *const[]){ "postfailure", NULL });
}

/* "data" follows the phase, split at blanks; nothing in it is expanded. */
static void shellscript_data_words_follow_the_phase(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_shellscript,
					       " one  two;x\t$(three) ", 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	assert_ran_with(f, (const char *const[]){ "postinst", "one", "two;x", "$(three)", NULL });
}

static void shellscript_failure_names_script_phase_and_status(void **state)
{
	check_failure_message(*state, &swi_handler_shellscript, SWI_PHASE_BEFORE,
			      "shellscript member.img (preinst): exited with status 7");
	check_failure_message(*state, &swi_handler_shellscript, SWI_PHASE_FAILURE,
			      "shellscript member.img (postfailure): exited with status 7");
}

static void shellscript_never_written_is_not_run(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_shellscript, 0, NULL, NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EINVAL);
	assert_did_not_run(f);
}

/* Two entries of the same member get a file each. */
static void shellscript_same_member_twice_gets_two_files(void **state)
{
	struct fixture *f = *state;
	received_script(f, &swi_handler_shellscript, NULL, 0);
	char first[PATH_MAX];
	snprintf(first, sizeof(first), "%s", script_path(f));
	received_script(f, &swi_handler_shellscript, NULL, 0);
	assert_string_not_equal(script_path(f), first);
	assert_int_equal(access(first, X_OK), 0);
	assert_int_equal(access(script_path(f), X_OK), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(shellscript_runs_in_three_phases),
		T(shellscript_is_written_privately),
		T(shellscript_gets_the_phase_as_first_argument),
		T(shellscript_data_words_follow_the_phase),
		T(shellscript_failure_names_script_phase_and_status),
		T(shellscript_never_written_is_not_run),
		T(shellscript_same_member_twice_gets_two_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
