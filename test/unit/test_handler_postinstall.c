/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handler "postinstall", driven directly (script_fixture.h): the
 * member written privately and run once, after the image is written, as
 * SWUpdate runs it ("SCRIPT DATA...", no phase argument), without a shell;
 * in no other phase. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "script_fixture.h"

static void postinstall_runs_in_one_phase(void **state)
{
	assert_script_handler(*state, "postinstall", SWI_PHASE_AFTER);
}

static void postinstall_is_written_privately(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_postinstall, NULL, 0);
	assert_written_privately(f);
	assert_released(f, t);
}

/* The words of "data" only, as they are. */
static void postinstall_gets_the_data_words(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_postinstall, "--fast  'a b' $HOME", 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	assert_ran_with(f, (const char *const[]){ "--fast", "'a", "b'", "$HOME", NULL });
}

static void postinstall_without_data_gets_no_argument(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_postinstall, NULL, 0);
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	assert_ran_with(f, (const char *const[]){ NULL });
}

static void postinstall_refuses_other_phases(void **state)
{
	struct fixture *f = *state;
	received_script(f, &swi_handler_postinstall, NULL, 0);
	assert_refuses_phase(f, SWI_PHASE_BEFORE);
	assert_refuses_phase(f, SWI_PHASE_FAILURE);
}

static void postinstall_failure_names_script_and_status(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_script(f, &swi_handler_postinstall, NULL, 7);
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_EHANDLER);
	assert_string_equal(swi_errmsg(f->ctx), "postinstall member.img (postinst): exited with status 7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(postinstall_runs_in_one_phase),
		T(postinstall_is_written_privately),
		T(postinstall_gets_the_data_words),
		T(postinstall_without_data_gets_no_argument),
		T(postinstall_refuses_other_phases),
		T(postinstall_failure_names_script_and_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
