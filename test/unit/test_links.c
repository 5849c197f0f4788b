/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/links.c: lookup places and links over the tree, each
 * test over a libconfig text and over its JSON form (json_form.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json_form.h"
#include "links.h"

struct fixture {
	swi_ctx_t *ctx;
	struct swi_tree *tree;
	struct swi_lookup l;
	bool json;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || swi_ctx_new(&f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int setup_json(void **state)
{
	int rc = setup(state);
	if (!rc)
		((struct fixture *)*state)->json = true;
	return rc;
}

static void done(struct fixture *f)
{
	swi_lookup_free(&f->l);
	swi_tree_free(f->tree);
	f->tree = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	done(f);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* Reads text (or its JSON form) and sets up the lookup for board and select. */
static void start(struct fixture *f, const char *text, const char *board, const char *select)
{
	done(f);
	char *json = f->json ? json_form(f->ctx, text) : NULL;
	const char *t = f->json ? json : text;
	if (!t)
		fail_msg("no JSON form: %s", swi_errmsg(f->ctx));
	if (swi_tree_parse(f->ctx, t, strlen(t), &f->tree))
		fail_msg("parse failed: %s", swi_errmsg(f->ctx));
	free(json);
	assert_int_equal(swi_lookup_init(&f->l, f->ctx, f->tree, board, select), SWI_OK);
}

/* The string the field holds at the most specific place, or NULL. */
static const char *field(struct fixture *f, const char *name)
{
	struct swi_node *n;
	if (swi_lookup_field(&f->l, name, &n))
		fail_msg("lookup of %s failed: %s", name, swi_errmsg(f->ctx));
	return n ? swi_node_string(n) : NULL;
}

static void expect_error(struct fixture *f, int rc, const char *needle)
{
	assert_int_equal(rc, SWI_EFORMAT);
	if (!strstr(swi_errmsg(f->ctx), needle))
		fail_msg("message '%s' lacks '%s'", swi_errmsg(f->ctx), needle);
}

/* ---------------------------------------------------------------------- */

static const char places[] =
	"software = {\n"
	"  a = \"root\"; b = \"root\"; c = \"root\"; d = \"root\";\n"
	"  s = { m = { a = \"set\"; b = \"set\"; }; };\n"
	"  pc = { a = \"board\"; b = \"board\"; c = \"board\";\n"
	"         s = { m = { a = \"board-set\"; }; }; };\n"
	"};\n";

static void test_places_most_specific_first(void **state)
{
	struct fixture *f = *state;
	start(f, places, "pc", "s,m");
	assert_int_equal(f->l.nplaces, 4);
	assert_int_equal(f->l.nselection_places, 2);
	assert_string_equal(field(f, "a"), "board-set");
	assert_string_equal(field(f, "b"), "set");
	assert_string_equal(field(f, "c"), "board");
	assert_string_equal(field(f, "d"), "root");
	assert_null(field(f, "e"));
	assert_int_equal(swi_lookup_check_selection(&f->l, "s,m"), SWI_OK);
	/* without the board */
	start(f, places, NULL, "s,m");
	assert_int_equal(f->l.nplaces, 2);
	assert_string_equal(field(f, "a"), "set");
	assert_string_equal(field(f, "c"), "root");
	/* a selection that is nowhere */
	start(f, places, "pc", "s,x");
	assert_int_equal(swi_lookup_check_selection(&f->l, "s,x"), SWI_ECOMPAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "selection 's,x' not found"));
	/* one of several names, the first preferred at each place */
	start(f, places, "pc", NULL);
	static const char *const names[] = { "x", "c", "a", NULL };
	struct swi_node *n;
	assert_int_equal(swi_lookup_fields(&f->l, names, &n), SWI_OK);
	assert_string_equal(swi_node_string(n), "board");
	assert_string_equal(swi_node_name(n), "c");
}

static void test_select_must_be_set_and_mode(void **state)
{
	struct fixture *f = *state;
	start(f, places, NULL, NULL);
	swi_lookup_free(&f->l);
	static const char *const bad[] = { "s", ",m", "s,", "," };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(swi_lookup_init(&f->l, f->ctx, f->tree, NULL, bad[i]), SWI_EINVAL);
		assert_non_null(strstr(swi_errmsg(f->ctx), "is not SET,MODE"));
		swi_lookup_free(&f->l);
	}
	assert_int_equal(swi_lookup_init(&f->l, f->ctx, f->tree, "", ""), SWI_OK);
	assert_int_equal(f->l.nplaces, 1);
}

/* "." and ".." start at the group holding the link, anything else at the
 * root; a link inside a path is followed like a directory symlink. */
static void test_relative_and_absolute(void **state)
{
	struct fixture *f = *state;
	start(f,
	      "software = {\n"
	      "  x = \"top\";\n"
	      "  g = { x = \"in g\";\n"
	      "        here = { ref = \"#./x\"; };\n"
	      "        up = { ref = \"#./../x\"; };\n"
	      "        abs = { ref = \"#/software/g/x\"; };\n"
	      "        dot = { ref = \"#.\"; };\n"
	      "        via = { ref = \"#/software/alias/x\"; }; };\n"
	      "  alias = { ref = \"#./g\"; };\n"
	      "};\n", NULL, NULL);
	struct swi_node *g;
	assert_int_equal(swi_lookup_field(&f->l, "g", &g), SWI_OK);
	static const struct {
		const char *link;
		const char *value;
	} cases[] = {
		{ "here", "in g" }, { "up", "top" }, { "abs", "in g" }, { "via", "in g" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct swi_node *n;
		assert_int_equal(swi_lookup_member(&f->l, g, cases[i].link, &n), SWI_OK);
		assert_string_equal(swi_node_string(n), cases[i].value);
	}
	struct swi_node *dot;
	assert_int_equal(swi_lookup_member(&f->l, g, "dot", &dot), SWI_OK);
	assert_ptr_equal(dot, g);
}

/* A link met again gives the same node, or the same error. */
static void test_outcome_kept(void **state)
{
	struct fixture *f = *state;
	start(f,
	      "software = {\n"
	      "  good = { ref = \"#/software/t\"; }; t = \"target\";\n"
	      "  bad = { ref = \"#/software/none\"; };\n"
	      "  a = { ref = \"#./b\"; }; b = { ref = \"#./a\"; };\n"
	      "};\n", NULL, NULL);
	for (int round = 0; round < 2; round++) {
		assert_string_equal(field(f, "good"), "target");
		struct swi_node *n = NULL;
		expect_error(f, swi_lookup_field(&f->l, "bad", &n),
			     "sw-description: link '#/software/none': 'none' not found");
		expect_error(f, swi_lookup_field(&f->l, "a", &n), "link loop: '#./b' leads back");
		expect_error(f, swi_lookup_field(&f->l, "b", &n), "link loop: '#./");
	}
	/* nothing stays active after a failure */
	assert_null(f->l.active);
}

/* A list being read is active: an element's link back into it is a loop. */
static void test_lists_being_read(void **state)
{
	struct fixture *f = *state;
	start(f,
	      "software = {\n"
	      "  l = ( { ref = \"#/software/l\"; }, { ref = \"#/software/e\"; } );\n"
	      "  e = { x = 1; };\n"
	      "};\n", NULL, NULL);
	struct swi_node *list;
	assert_int_equal(swi_lookup_field(&f->l, "l", &list), SWI_OK);
	struct swi_visit *base;
	assert_int_equal(swi_lookup_enter_list(&f->l, list, &base), SWI_OK);
	assert_null(base);
	struct swi_node *elem = swi_node_child(list, 0);
	expect_error(f, swi_lookup_element(&f->l, &elem),
		     "link loop: '#/software/l' leads back into a list that holds it");
	elem = swi_node_child(list, 1);
	assert_int_equal(swi_lookup_element(&f->l, &elem), SWI_OK);
	assert_non_null(swi_node_member(elem, "x"));
	swi_lookup_leave_list(&f->l, base);
	assert_null(f->l.active);
	/* outside the list, the same link leads to the list, no loop */
	elem = swi_node_child(list, 0);
	assert_int_equal(swi_lookup_element(&f->l, &elem), SWI_OK);
	assert_ptr_equal(elem, list);
}

static void test_link_errors(void **state)
{
	struct fixture *f = *state;
	start(f,
	      "software = {\n"
	      "  above = { ref = \"#./../../x\"; };\n"
	      "  nohash = { ref = \"/software/x\"; };\n"
	      "  into_leaf = { ref = \"#/software/leaf/x\"; }; leaf = 1;\n"
	      "  notstring = { ref = 1; };\n"
	      "};\n", NULL, NULL);
	struct swi_node *n;
	expect_error(f, swi_lookup_field(&f->l, "above", &n), "goes above the root");
	expect_error(f, swi_lookup_field(&f->l, "nohash", &n), "does not start with '#'");
	expect_error(f, swi_lookup_field(&f->l, "into_leaf", &n), "'x' not found");
	/* a group whose ref is no string is no link */
	assert_int_equal(swi_lookup_field(&f->l, "notstring", &n), SWI_OK);
	assert_true(swi_node_is_group(n));
}

/* A test over its libconfig text and over the JSON form of it. */
#define BOTH(t) { #t, t, setup, teardown, NULL }, { #t " (JSON)", t, setup_json, teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_places_most_specific_first),
		BOTH(test_select_must_be_set_and_mode),
		BOTH(test_relative_and_absolute),
		BOTH(test_outcome_kept),
		BOTH(test_lists_being_read),
		BOTH(test_link_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
