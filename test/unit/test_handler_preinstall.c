/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handler "preinstall", driven directly (script_fixture.h): the
 * member written privately and run once, before the image is written, as
 * SWUpdate runs it ("SCRIPT DATA...", no phase argument), without a shell;
 * in no other phase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "script_fixture.h"

static void preinstall_runs_in_one_phase(void **state)
{
	assert_script_handler(*state, "preinstall", SWI_PHASE_BEFORE);
}

static void preinstall_is_written_privately(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_preinstall, NULL, 0);
	assert_written_privately(f);
	assert_released(f, t);
}

/* The words of "data" only, as they are. */
static void preinstall_gets_the_data_words(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_preinstall, "--fast  'a b' $HOME", 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	assert_ran_with(f, (const char *const[]){ "--fast", "'a", "b'", "$HOME", NULL });
}

static void preinstall_without_data_gets_no_argument(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_preinstall, NULL, 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	assert_ran_with(f, (const char *const[]){ NULL });
}

static void preinstall_refuses_other_phases(void **state)
{
	struct fixture *f = *state;
	received_script(f, &swi_handler_preinstall, NULL, 0);
	assert_refuses_phase(f, SWI_PHASE_AFTER);
	assert_refuses_phase(f, SWI_PHASE_FAILURE);
}

static void preinstall_failure_names_script_and_status(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_preinstall, NULL, 7);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EHANDLER);
	assert_string_equal(swi_errmsg(f->ctx), "preinstall member.img (preinst): exited with status 7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(preinstall_runs_in_one_phase),
		T(preinstall_is_written_privately),
		T(preinstall_gets_the_data_words),
		T(preinstall_without_data_gets_no_argument),
		T(preinstall_refuses_other_phases),
		T(preinstall_failure_names_script_and_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
