/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handler "bootloader", driven directly through a hand-made
 * target (handler_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "handler_fixture.h"

static void bootloader_parses_script(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	const char *script = "# choose slot B\n"
			     "\n"
			     "   \n"
			     "bootslot=b\n"
			     "bootcmd=run boot_${bootslot}; echo a=b\r\n"
			     "removed=\n"
			     "spaced= kept as is \n"
			     "last=no newline";
	assert_int_equal(feed(t, script, 7), SWI_OK);
	assert_int_equal(f->staged.count, 5);
	assert_string_equal(swi_attrs_get(&f->staged, "bootslot"), "b");
	assert_string_equal(swi_attrs_get(&f->staged, "bootcmd"), "run boot_${bootslot}; echo a=b");
	assert_string_equal(swi_attrs_get(&f->staged, "removed"), "");
	assert_string_equal(swi_attrs_get(&f->staged, "spaced"), " kept as is ");
	assert_string_equal(swi_attrs_get(&f->staged, "last"), "no newline");
	assert_released(f, t);
}

static void bootloader_bad_lines(void **state)
{
	struct fixture *f = *state;
	static const struct { const char *script; const char *message; } cases[] = {
		{ "a=1\n# ok\nname value\n", "line 3: no '='" },
		{ "=value\n", "line 1: empty variable name" },
		{ "a=1\nname = value\n", "line 2: variable name 'name ' contains white space" },
		{ " indented=1\n", "line 1: variable name ' indented' contains white space" },
	};
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(feed(t, cases[i].script, 64), SWI_EFORMAT);
		assert_error_mentions(f, "member.img: ");
		assert_error_mentions(f, cases[i].message);
		assert_int_equal(f->staged.count, 0); /* nothing staged from a bad script */
	}
}

static void bootloader_refuses_binary(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, "a=1\0b=2\n", 8), SWI_OK);
	assert_int_equal(t->handler->close(t), SWI_EFORMAT);
	assert_error_mentions(f, "NUL byte");
	assert_int_equal(f->staged.count, 0);
}

static void bootloader_empty_script(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	assert_int_equal(feed(t, "", 1), SWI_OK);
	assert_int_equal(f->staged.count, 0);
}

static void bootloader_size_cap(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_bootloader, 0, NULL, NULL);
	size_t mib = 1024 * 1024;
	char *big = malloc(mib);
	assert_non_null(big);
	memset(big, '#', mib);
	assert_int_equal(t->handler->open(t), SWI_OK);
	assert_int_equal(t->handler->write(t, big, mib), SWI_OK);
	assert_int_equal(t->handler->write(t, "#", 1), SWI_EHANDLER);
	assert_error_mentions(f, "not a bootloader environment script");
	t->handler->abort(t);
	assert_released(f, t);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(bootloader_parses_script),
		T(bootloader_bad_lines),
		T(bootloader_refuses_binary),
		T(bootloader_empty_script),
		T(bootloader_size_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
