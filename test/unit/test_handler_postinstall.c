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
	check_written_privately(*state, &swi_handler_postinstall);
}

static void postinstall_gets_the_data_words_only(void **state)
{
	check_runs_with_data_words(*state, &swi_handler_postinstall, SWI_PHASE_AFTER);
}

static void postinstall_refuses_other_phases(void **state)
{
	check_runs_in_no_other_phase(*state, &swi_handler_postinstall);
}

static void postinstall_failure_names_script_and_status(void **state)
{
	check_failure_message(*state, &swi_handler_postinstall, SWI_PHASE_AFTER,
			      "postinstall member.img (postinst): exited with status 7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(postinstall_runs_in_one_phase),
		T(postinstall_is_written_privately),
		T(postinstall_gets_the_data_words_only),
		T(postinstall_refuses_other_phases),
		T(postinstall_failure_names_script_and_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
