/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The preinstall handler: the member written privately and run once, before
 * the image is written, as SWUpdate runs it ("SCRIPT DATA...", no phase
 * argument), without a shell; in no other phase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "script_fixture.h"

static void registered_for_one_phase(void **state)
{
	script_assert_handler(*state, "preinstall", SWI_PHASE_BEFORE);
}

static void written_privately(void **state)
{
	struct script_fixture *f = *state;
	script_target(f, &swi_handler_preinstall, NULL);
	script_receive(f, 0);
	script_assert_written(f);
}

static void runs_with_the_data_words_only(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_preinstall, "--fast  'a b' $HOME");
	script_receive(f, 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	script_assert_ran_with(f, (const char *const[]){ "--fast", "'a", "b'", "$HOME", NULL });
}

static void runs_without_arguments_without_data(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_preinstall, NULL);
	script_receive(f, 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	script_assert_ran_with(f, (const char *const[]){ NULL });
}

static void other_phases_are_refused(void **state)
{
	struct script_fixture *f = *state;
	script_target(f, &swi_handler_preinstall, NULL);
	script_receive(f, 0);
	script_assert_refuses_phase(f, SWI_PHASE_AFTER);
	script_assert_refuses_phase(f, SWI_PHASE_FAILURE);
}

static void failure_names_script_and_status(void **state)
{
	struct script_fixture *f = *state;
	struct swi_target *t = script_target(f, &swi_handler_preinstall, NULL);
	script_receive(f, 7);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EHANDLER);
	script_assert_error(f, "preinstall setup.sh (preinst): exited with status 7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(registered_for_one_phase, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(written_privately, script_setup, script_teardown),
		cmocka_unit_test_setup_teardown(runs_with_the_data_words_only, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(runs_without_arguments_without_data, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(other_phases_are_refused, script_setup,
						script_teardown),
		cmocka_unit_test_setup_teardown(failure_names_script_and_status, script_setup,
						script_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
