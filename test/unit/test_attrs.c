/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The ordered name=value list (lib/attrs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "attrs.h"
#include "swinstall.h"

static void set_get_replace_keep_order(void **state)
{
	(void)state;
	struct swi_attrs a = { 0 };
	assert_null(swi_attrs_get(&a, "x"));
	assert_int_equal(swi_attrs_set(&a, "rootpart", "2"), SWI_OK);
	assert_int_equal(swi_attrs_set(&a, "ustate", "1"), SWI_OK);
	assert_int_equal(swi_attrs_set(&a, "rootpart", "3"), SWI_OK);
	assert_int_equal(a.count, 2);
	assert_string_equal(a.items[0].name, "rootpart");
	assert_string_equal(swi_attrs_get(&a, "rootpart"), "3");
	assert_string_equal(swi_attrs_get(&a, "ustate"), "1");
	swi_attrs_free(&a);
	assert_int_equal(a.count, 0);
	assert_null(a.items);
}

static void null_value_is_stored_as_empty(void **state)
{
	(void)state;
	struct swi_attrs a = { 0 };
	assert_int_equal(swi_attrs_set(&a, "recovery_status", NULL), SWI_OK);
	assert_string_equal(swi_attrs_get(&a, "recovery_status"), "");
	swi_attrs_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_get_replace_keep_order),
		cmocka_unit_test(null_value_is_stored_as_empty),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
