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

static void remove_keeps_the_others_in_order(void **state)
{
	(void)state;
	struct swi_attrs a = { 0 };
	const char *const list[] = { "x", "y" };
	assert_int_equal(swi_attrs_set(&a, "a", "1"), SWI_OK);
	assert_int_equal(swi_attrs_set_list(&a, "b", list, 2), SWI_OK);
	assert_int_equal(swi_attrs_set(&a, "c", "3"), SWI_OK);
	swi_attrs_remove(&a, "b");
	swi_attrs_remove(&a, "nothing");
	assert_int_equal(a.count, 2);
	assert_string_equal(a.items[0].name, "a");
	assert_string_equal(a.items[1].name, "c");
	assert_null(swi_attrs_get(&a, "b"));
	swi_attrs_remove(&a, "c");
	swi_attrs_remove(&a, "a");
	assert_int_equal(a.count, 0);
	swi_attrs_free(&a);
}

static void kinds_and_lists(void **state)
{
	(void)state;
	struct swi_attrs a = { 0 };
	const char *const parts[] = { "rootfs", "kernel", "dtb" };
	assert_int_equal(swi_attrs_set_kind(&a, "encrypted", "true", SWI_ATTR_BOOL), SWI_OK);
	assert_int_equal(swi_attrs_set_list(&a, "parts", parts, 3), SWI_OK);
	assert_int_equal(swi_attrs_set_list(&a, "none", NULL, 0), SWI_OK);
	const struct swi_attr *it = swi_attrs_find(&a, "parts");
	assert_non_null(it);
	assert_int_equal(it->kind, SWI_ATTR_LIST);
	assert_int_equal(it->nlist, 3);
	assert_string_equal(it->list[1], "kernel");
	assert_string_equal(it->value, "rootfs,kernel,dtb");
	assert_string_equal(swi_attrs_get(&a, "none"), "");
	assert_int_equal(swi_attrs_find(&a, "encrypted")->kind, SWI_ATTR_BOOL);
	/* Replacing a list by text drops its elements. */
	assert_int_equal(swi_attrs_set(&a, "parts", "x"), SWI_OK);
	it = swi_attrs_find(&a, "parts");
	assert_int_equal(it->kind, SWI_ATTR_TEXT);
	assert_int_equal(it->nlist, 0);
	assert_null(it->list);
	swi_attrs_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_get_replace_keep_order),
		cmocka_unit_test(null_value_is_stored_as_empty),
		cmocka_unit_test(kinds_and_lists),
		cmocka_unit_test(remove_keeps_the_others_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
