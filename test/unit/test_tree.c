/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/tree.c and its readers (tree_libconfig.c, tree_json.c):
 * the syntax told by content, one tree shape from both, positions, paths,
 * marks, the nesting limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "tree.h"

struct fixture {
	swi_ctx_t *ctx;
	struct swi_tree *tree;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || swi_ctx_new(&f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	swi_tree_free(f->tree);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

static int parse(struct fixture *f, const char *text)
{
	swi_tree_free(f->tree);
	f->tree = NULL;
	return swi_tree_parse(f->ctx, text, strlen(text), &f->tree);
}

static struct swi_node *parse_ok(struct fixture *f, const char *text)
{
	int rc = parse(f, text);
	if (rc)
		fail_msg("parse failed: %d %s", rc, swi_errmsg(f->ctx));
	return swi_tree_root(f->tree);
}

static void parse_fails(struct fixture *f, const char *text, const char *needle)
{
	int rc = parse(f, text);
	if (rc != SWI_EFORMAT)
		fail_msg("expected SWI_EFORMAT, got %d (%s)", rc, swi_errmsg(f->ctx));
	assert_null(f->tree);
	if (!strstr(swi_errmsg(f->ctx), needle))
		fail_msg("message '%s' lacks '%s'", swi_errmsg(f->ctx), needle);
}

/* The node at a path of member names (NULL-terminated). */
static struct swi_node *at(struct swi_node *node, const char *const *names)
{
	for (; *names; names++) {
		node = swi_node_member(node, *names);
		assert_non_null(node);
	}
	return node;
}

/* ---------------------------------------------------------------------- */

static void test_syntax_told_by_content(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		bool json;
	} cases[] = {
		{ "{ \"software\": {} }", true },
		{ " \n\t[ 1 ]", true },
		{ "/* header */ // more\n{ }", true },
		{ "# a comment\n{ }", true },
		{ "software = { };", false },
		{ "/* { */ software : { };", false },
		{ "// {\nsoftware = { };", false },
		{ "\"software\": {}", false },
		{ "", false },
		{ "   ", false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (swi_tree_is_json(cases[i].text, strlen(cases[i].text)) != cases[i].json)
			fail_msg("'%s' is %s", cases[i].text, cases[i].json ? "JSON" : "libconfig");
}

/* One description in both syntaxes: the same tree, node by node. */
static const char same_libconfig[] =
	"software = {\n"
	"  version = \"1.0\";\n"
	"  images = ( { filename = \"a\"; size = 5000000000; ratio = 0.5; on = true;\n"
	"               parts = [ \"x\", \"y\" ]; } );\n"
	"  link = { ref = \"#./images\"; };\n"
	"};\n";
static const char same_json[] =
	"{ \"software\": {\n"
	"  \"version\": \"1.0\",\n"
	"  \"images\": [ { \"filename\": \"a\", \"size\": 5000000000, \"ratio\": 0.5, \"on\": true,\n"
	"                \"parts\": [ \"x\", \"y\" ] } ],\n"
	"  \"link\": { \"ref\": \"#./images\" }\n"
	"} }\n";

static void assert_same_node(const struct swi_node *a, const struct swi_node *b)
{
	assert_int_equal(swi_node_kind(a), swi_node_kind(b));
	if (swi_node_name(a) || swi_node_name(b))
		assert_string_equal(swi_node_name(a), swi_node_name(b));
	assert_int_equal(swi_node_count(a), swi_node_count(b));
	switch (swi_node_kind(a)) {
	case SWI_NODE_STRING:
		assert_string_equal(swi_node_string(a), swi_node_string(b));
		break;
	case SWI_NODE_INTEGER:
		assert_true(swi_node_integer(a) == swi_node_integer(b));
		break;
	case SWI_NODE_FLOAT:
		assert_true(swi_node_float(a) == swi_node_float(b));
		break;
	case SWI_NODE_BOOL:
		assert_int_equal(swi_node_bool(a), swi_node_bool(b));
		break;
	default:
		for (size_t i = 0; i < swi_node_count(a); i++)
			assert_same_node(swi_node_child(a, i), swi_node_child(b, i));
	}
}

static void test_both_syntaxes_same_tree(void **state)
{
	struct fixture *f = *state;
	struct swi_tree *from_libconfig;
	assert_int_equal(swi_tree_parse(f->ctx, same_libconfig, strlen(same_libconfig),
					&from_libconfig), SWI_OK);
	struct swi_node *json = parse_ok(f, same_json);
	assert_same_node(swi_tree_root(from_libconfig), json);
	/* and the shape is what it says */
	static const char *const images[] = { "software", "images", NULL };
	struct swi_node *list = at(json, images);
	assert_true(swi_node_is_list(list));
	struct swi_node *entry = swi_node_child(list, 0);
	assert_true(swi_node_is_group(entry));
	assert_null(swi_node_name(entry));
	assert_ptr_equal(swi_node_parent(entry), list);
	assert_null(swi_node_child(list, 1));
	assert_true(swi_node_integer(swi_node_member(entry, "size")) == 5000000000LL);
	assert_int_equal(swi_node_kind(swi_node_member(entry, "parts")), SWI_NODE_LIST);
	assert_null(swi_node_string(swi_node_member(entry, "size")));
	assert_null(swi_node_member(list, "filename"));
	assert_null(swi_node_parent(json));
	swi_tree_free(from_libconfig);
}

static void test_positions_and_paths(void **state)
{
	struct fixture *f = *state;
	static const char *const device[] = { "software", "images", NULL };
	char buf[64];
	/* libconfig knows lines */
	struct swi_node *list = at(parse_ok(f, same_libconfig), device);
	struct swi_node *parts = swi_node_member(swi_node_child(list, 0), "parts");
	assert_int_equal(swi_node_line(parts), 4);
	assert_int_equal(swi_node_column(parts), 0);
	assert_string_equal(swi_node_where(parts, buf, sizeof(buf)), "line 4");
	assert_string_equal(swi_node_path(swi_node_child(parts, 1), buf, sizeof(buf)),
			    "software.images[0].parts[1]");
	/* json-c knows none: messages name the path */
	list = at(parse_ok(f, same_json), device);
	parts = swi_node_member(swi_node_child(list, 0), "parts");
	assert_int_equal(swi_node_line(parts), 0);
	assert_string_equal(swi_node_where(parts, buf, sizeof(buf)), "software.images[0].parts");
	/* a path longer than the buffer is cut, not overrun */
	char small[10];
	assert_string_equal(swi_node_path(parts, small, sizeof(small)), "software.");
	assert_string_equal(swi_node_path(swi_tree_root(f->tree), buf, sizeof(buf)), "");
}

static void test_marks(void **state)
{
	struct fixture *f = *state;
	struct swi_node *root = parse_ok(f, same_json);
	static const char *const version[] = { "software", "version", NULL };
	struct swi_node *v = at(root, version);
	assert_null(swi_node_mark(v));
	swi_node_set_mark(v, f);
	assert_ptr_equal(swi_node_mark(at(root, version)), f);
	assert_null(swi_node_mark(root));
}

/* k lists nested under the member "a" of the root: "a" is at level 2. */
static char *nested(bool json, size_t k)
{
	size_t size = 2 * k + 32;
	char *t = malloc(size);
	assert_non_null(t);
	size_t n = (size_t)snprintf(t, size, json ? "{ \"a\": " : "a = ");
	memset(t + n, json ? '[' : '(', k);
	n += k;
	n += (size_t)snprintf(t + n, size - n, "1");
	memset(t + n, json ? ']' : ')', k);
	n += k;
	snprintf(t + n, size - n, json ? " }" : ";");
	return t;
}

/* Both readers take the same depth: the root and 63 levels below it. */
static void test_nesting_limit(void **state)
{
	struct fixture *f = *state;
	for (int json = 0; json <= 1; json++) {
		char *ok = nested(json, SWI_TREE_MAX_DEPTH - 1);
		char *deep = nested(json, SWI_TREE_MAX_DEPTH);
		parse_ok(f, ok);
		parse_fails(f, deep, "deep");
		free(ok);
		free(deep);
	}
	/* json-c counts a scalar in a list as one level more; without one,
	 * the reader's own check refuses the 64th list */
	char *empty = nested(true, SWI_TREE_MAX_DEPTH);
	*strchr(empty, '1') = ' ';
	parse_fails(f, empty, ": nested deeper than 64 levels");
	free(empty);
	char *deep = nested(false, 100);
	parse_fails(f, deep, "line 1: nested deeper than 64 levels");
	free(deep);
}

static void test_libconfig_kinds(void **state)
{
	struct fixture *f = *state;
	struct swi_node *root = parse_ok(f, "a = 1; b = 0x10; c = 2L; d = 1.5e3; e = false;\n"
					    "f = [ 1, 2 ]; g = ( \"x\", { } ); h = { };\n");
	static const enum swi_node_kind kinds[] = {
		SWI_NODE_INTEGER, SWI_NODE_INTEGER, SWI_NODE_INTEGER, SWI_NODE_FLOAT,
		SWI_NODE_BOOL, SWI_NODE_LIST, SWI_NODE_LIST, SWI_NODE_GROUP,
	};
	assert_int_equal(swi_node_count(root), 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(swi_node_kind(swi_node_child(root, i)), kinds[i]);
	assert_true(swi_node_integer(swi_node_member(root, "b")) == 16);
	assert_true(swi_node_float(swi_node_member(root, "d")) == 1500.0);
	assert_false(swi_node_bool(swi_node_member(root, "e")));
	parse_fails(f, "a = 1e999;", "line 1: number out of range");
}

static void test_nul_byte_either_syntax(void **state)
{
	struct fixture *f = *state;
	static const char libconfig[] = "a = 1;\nb = \"x\0\";";
	static const char json[] = "{\n \"a\": \"x\0\" }";
	assert_int_equal(swi_tree_parse(f->ctx, libconfig, sizeof(libconfig) - 1, &f->tree),
			 SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "line 2, column 7: contains a NUL byte"));
	assert_null(f->tree);
	assert_int_equal(swi_tree_parse(f->ctx, json, sizeof(json) - 1, &f->tree), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "line 2, column 9: contains a NUL byte"));
}

/* Pseudo-random bytes after a '{': JSON errors, never a crash. */
static void test_json_garbage(void **state)
{
	struct fixture *f = *state;
	size_t n = 256 * 1024;
	char *text = malloc(n + 1);
	assert_non_null(text);
	uint32_t x = 4711;
	for (int round = 0; round < 4; round++) {
		text[0] = '{';
		for (size_t i = 1; i < n; i++) {
			x = x * 1103515245u + 12345u;
			text[i] = round < 2 ? (char)((x >> 16) % 255 + 1) : "{}[]\",:1 "[(x >> 16) % 9];
		}
		text[n] = '\0';
		parse_fails(f, text, "sw-description: line ");
	}
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_syntax_told_by_content, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_syntaxes_same_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_positions_and_paths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nesting_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_libconfig_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nul_byte_either_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_garbage, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
