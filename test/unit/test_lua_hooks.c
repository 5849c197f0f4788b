/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sw-description's embedded-script and hooks (lib/lua_hooks.c): entries
 * rewritten, skipped, rejected; errors named by entry, hook and line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "lua_hooks.h"
#include "testutil.h"

#define SHA_A "c69c55852339bdc4b93b818161f5b2656bcb13278d303de7c3d387f5e3fda294"
#define SHA_B "98EA6E4F216F2FB4B69FFF9B3A44842C38686CA685F3F55DC48C5D3FB1107BE4"

struct fx {
	swi_ctx_t *ctx;
	struct swi_lua_env env;
	struct swi_manifest m;
	struct swi_lua *state;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	f->env.ctx = f->ctx;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	swi_lua_free(f->state);
	swi_manifest_free(&f->m);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* Parses a sw-description of script (the embedded-script's text, or NULL
 * for none) and collections, and runs the hooks. */
static int run_hooks_on(struct fx *f, const char *script, const char *collections)
{
	char text[4096];
	int n = snprintf(text, sizeof(text), "software = {\n  version = \"1.0\";\n%s%s%s%s\n};\n",
			 script ? "  embedded-script = \"" : "", script ? script : "",
			 script ? "\";\n" : "", collections);
	assert_true(n > 0 && (size_t)n < sizeof(text));
	assert_int_equal(swi_manifest_parse(f->ctx, text, strlen(text), NULL, NULL, &f->m), SWI_OK);
	return swi_lua_run_hooks(&f->env, &f->m, &f->state);
}

/* The same with images entries. */
static int run_hooks(struct fx *f, const char *script, const char *images)
{
	char collections[2048];
	snprintf(collections, sizeof(collections), "  images = ( %s );", images);
	return run_hooks_on(f, script, collections);
}

static void assert_error(struct fx *f, int rc, int expect, const char *part)
{
	assert_int_equal(rc, expect);
	if (!strstr(swi_errmsg(f->ctx), part))
		fail_msg("message '%s' lacks '%s'", swi_errmsg(f->ctx), part);
}

static const struct swi_attr *attr(const struct swi_entry *e, const char *name)
{
	const struct swi_attr *a = swi_attrs_find(&e->attrs, name);
	if (!a)
		fail_msg("no attribute %s", name);
	return a;
}

static void assert_attr(const struct swi_entry *e, const char *name, const char *value,
			enum swi_attr_kind kind)
{
	const struct swi_attr *a = attr(e, name);
	assert_string_equal(a->value, value);
	assert_int_equal(a->kind, kind);
}

static void the_hook_sees_the_entry_as_swupdate_builds_it(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_hooks(f,
		"function look(e)\n"
		"  assert(e.filename == 'a.img' and e.device == '/dev/b' and e.type == 'raw')\n"
		"  assert(e.volume == '' and e.name == 'app' and e.version == '1.2')\n"
		"  assert(math.type(e.offset) == 'integer' and e.offset == 1024 and e.size == 0)\n"
		"  assert(e.compressed == 'zlib' and e.sha256 == '" SHA_A "')\n"
		"  assert(e.installed_directly and not e.encrypted and not e.install_if_higher)\n"
		"  assert(e.properties.k == 'v' and e.properties.l[2] == 'y')\n"
		"  return true, e\n"
		"end",
		"{ filename = \"a.img\"; device = \"/dev/b\"; offset = \"1K\"; hook = \"look\"; "
		"name = \"app\"; version = \"1.2\"; compressed = true; installed-directly = true; "
		"sha256 = \"" SHA_A "\"; properties = { k = \"v\"; l = [\"x\", \"y\"]; }; }"), SWI_OK);
	/* returned as it came, nothing changes: the offset keeps its form */
	assert_int_equal(f->m.nentries, 1);
	assert_attr(&f->m.entries[0], "offset", "1K", SWI_ATTR_TEXT);
	assert_string_equal(f->m.entries[0].compressed, "zlib");
	assert_non_null(f->state);
}

static void every_field_kind_is_written_back(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_hooks(f,
		"function fix(e)\n"
		"  e.device = '/dev/mmcblk0p3'; e.type = 'uboot'; e.version = '2.0'; e.name = ''\n"
		"  e.installed_directly = true; e.encrypted = false; e.install_if_different = true\n"
		"  e.offset = 4096; e.size = 512; e.compressed = false\n"
		"  e.sha256 = '" SHA_B "'\n"
		"  e.properties = { k = 'w', n = 3, l = { 'c', 'd' } }\n"
		"  return true, e\n"
		"end",
		"{ filename = \"a.img\"; device = \"/dev/b\"; hook = \"fix\"; name = \"app\"; "
		"compressed = \"zstd\"; version = \"1.0\"; encrypted = true; "
		"properties = { k = \"v\"; gone = \"x\"; }; }"), SWI_OK);
	const struct swi_entry *e = &f->m.entries[0];
	assert_attr(e, "device", "/dev/mmcblk0p3", SWI_ATTR_TEXT);
	assert_string_equal(e->type, "bootloader");
	assert_string_equal(e->version, "2.0");
	assert_null(e->name);
	assert_null(swi_attrs_find(&e->attrs, "name"));
	assert_attr(e, "installed-directly", "true", SWI_ATTR_BOOL);
	assert_false(e->encrypted);
	assert_true(e->install_if_different);
	assert_attr(e, "offset", "4096", SWI_ATTR_NUMBER);
	assert_attr(e, "size", "512", SWI_ATTR_NUMBER);
	assert_null(e->compressed);
	assert_string_equal(e->sha256, "98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4");
	assert_attr(e, "properties.k", "w", SWI_ATTR_TEXT);
	assert_attr(e, "properties.n", "3", SWI_ATTR_TEXT);
	const struct swi_attr *l = attr(e, "properties.l");
	assert_int_equal(l->kind, SWI_ATTR_LIST);
	assert_int_equal(l->nlist, 2);
	assert_string_equal(l->list[1], "d");
	assert_null(swi_attrs_find(&e->attrs, "properties.gone"));
}

static void a_new_table_changes_only_its_fields(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_hooks(f,
		"function fix(e) return true, { offset = '8K', compressed = true } end",
		"{ filename = \"a.img\"; device = \"/dev/b\"; hook = \"fix\"; }"), SWI_OK);
	const struct swi_entry *e = &f->m.entries[0];
	assert_attr(e, "offset", "8K", SWI_ATTR_TEXT);
	assert_string_equal(e->compressed, "zlib");
	assert_string_equal(e->type, "raw");
	assert_attr(e, "device", "/dev/b", SWI_ATTR_TEXT);
}

static void true_alone_skips_the_entry(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_hooks(f,
		"function skip(e) return true end\n"
		"function drop(e) return true, nil end",
		"{ filename = \"a.img\"; device = \"/dev/a\"; hook = \"skip\"; },"
		"{ filename = \"b.img\"; device = \"/dev/b\"; },"
		"{ filename = \"c.img\"; device = \"/dev/c\"; hook = \"drop\"; }"), SWI_OK);
	assert_int_equal(f->m.nentries, 1);
	assert_string_equal(f->m.entries[0].filename, "b.img");
}

static void false_rejects_the_image(void **state)
{
	struct fx *f = *state;
	assert_error(f, run_hooks(f, "function no(e) return false end",
				  "{ filename = \"a.img\"; device = \"/dev/a\"; hook = \"no\"; }"),
		     SWI_ECOMPAT, "images[0] (a.img): hook no refused the image (returned false)");
}

static void an_error_names_entry_hook_and_line(void **state)
{
	struct fx *f = *state;
	assert_error(f, run_hooks(f, "local x = 1\nfunction bad(e)\n  return e.nothing.deeper\nend",
				  "{ filename = \"a.img\"; device = \"/dev/a\"; hook = \"bad\"; }"),
		     SWI_EHANDLER, "images[0] (a.img): hook bad: embedded-script: bad: "
				   "embedded-script:3: attempt to index a nil value");
}

static void a_script_that_does_not_load_is_refused(void **state)
{
	struct fx *f = *state;
	assert_error(f, run_hooks(f, "function broken(e)\n  return true,\n",
				  "{ filename = \"a.img\"; device = \"/dev/a\"; }"),
		     SWI_EHANDLER, "embedded-script: embedded-script:3:");
	assert_null(f->state);
}

static void a_missing_hook_function_is_an_error(void **state)
{
	struct fx *f = *state;
	assert_error(f, run_hooks(f, "function other(e) return true, e end",
				  "{ filename = \"a.img\"; device = \"/dev/a\"; hook = \"nosuch\"; }"),
		     SWI_EHANDLER, "images[0] (a.img): hook nosuch: the embedded-script has no "
				   "function nosuch");
}

static void junk_results_are_errors(void **state)
{
	struct fx *f = *state;
	static const struct { const char *body; int rc; const char *message; } cases[] = {
		{ "return 5", SWI_EHANDLER, "hook h returned a number, not true or false" },
		{ "return 'yes'", SWI_EHANDLER, "hook h returned a string, not true or false" },
		{ "return true, 'x'", SWI_EHANDLER,
		  "hook h returned true and a string, not the entry's table" },
		{ "e.device = 5; return true, e", SWI_EHANDLER,
		  "hook h: field 'device' is a number, not a string" },
		{ "e.encrypted = 'no'; return true, e", SWI_EHANDLER,
		  "field 'encrypted' is a string, not a boolean" },
		{ "e.offset = -1; return true, e", SWI_EHANDLER,
		  "field 'offset' is -1, not a whole number" },
		{ "e.offset = '4X'; return true, e", SWI_EHANDLER, "field 'offset' is '4X', not a size" },
		{ "e.properties = 'p'; return true, e", SWI_EHANDLER,
		  "field 'properties' is a string, not a table" },
		{ "e.compressed = 'lz4'; return true, e", SWI_EUNSUPPORTED,
		  "after hook h: sw-description: image 'a.img': compression 'lz4' is not supported" },
		{ "e.filename = ''; return true, e", SWI_EFORMAT,
		  "after hook h: sw-description: image '(unnamed)' has no filename any more" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char script[256];
		snprintf(script, sizeof(script), "function h(e) %s end", cases[i].body);
		assert_error(f, run_hooks(f, script, "{ filename = \"a.img\"; device = \"/dev/a\"; "
						     "hook = \"h\"; }"),
			     cases[i].rc, cases[i].message);
		assert_non_null(strstr(swi_errmsg(f->ctx), "images[0] (a.img)"));
		swi_manifest_free(&f->m);
	}
}

static void a_hook_without_embedded_script_is_refused(void **state)
{
	struct fx *f = *state;
	assert_error(f, run_hooks(f, NULL, "{ filename = \"a.img\"; device = \"/dev/a\"; "
					   "hook = \"fix\"; }"),
		     SWI_EFORMAT, "images[0] (a.img): hook fix, but sw-description has no "
				  "embedded-script");
}

static void the_state_lives_for_the_install(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_hooks(f, "seen = 0\nfunction count(e) seen = seen + 1 return true, e end",
				   "{ filename = \"a.img\"; device = \"/dev/a\"; hook = \"count\"; },"
				   "{ filename = \"b.img\"; device = \"/dev/b\"; hook = \"count\"; }"),
			 SWI_OK);
	lua_State *L = swi_lua_state(f->state);
	lua_getglobal(L, "seen");
	assert_int_equal(lua_tointeger(L, -1), 2);
	lua_pop(L, 1);
}

static void no_script_no_state(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_hooks(f, NULL, "{ filename = \"a.img\"; device = \"/dev/a\"; }"), SWI_OK);
	assert_null(f->state);
}

/* bootenv variables get hooks too: the name as name, the value as version. */
static void bootenv_variables_are_rewritten_renamed_or_skipped(void **state)
{
	struct fx *f = *state;
	assert_int_equal(run_hooks_on(f,
		"function value(e) assert(e.name == 'a' and e.version == '1' and e.device == '')\n"
		"  e.version = '2' return true, e end\n"
		"function rename(e) e.name = 'c' return true, e end\n"
		"function skip(e) return true end",
		"  bootenv = ( { name = \"a\"; value = \"1\"; hook = \"value\"; },\n"
		"    { name = \"b\"; value = \"x\"; hook = \"rename\"; },\n"
		"    { name = \"d\"; value = \"y\"; hook = \"skip\"; },\n"
		"    { name = \"e\"; value = \"z\"; } );"), SWI_OK);
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "a"), "2");
	assert_null(swi_attrs_get(&f->m.bootenv, "b"));
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "c"), "x");
	assert_null(swi_attrs_get(&f->m.bootenv, "d"));
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "e"), "z");
}

static void a_bootenv_hook_refuses_like_an_entry_hook(void **state)
{
	struct fx *f = *state;
	assert_error(f, run_hooks_on(f, "function no(e) return false end",
				     "  bootenv = ( { name = \"a\"; value = \"1\"; hook = \"no\"; } );"),
		     SWI_ECOMPAT, "bootenv (a): hook no refused the image");
	swi_manifest_free(&f->m);
	assert_error(f, run_hooks_on(f, NULL, "  bootenv = ( { name = \"a\"; value = \"1\"; "
						"hook = \"no\"; } );"),
		     SWI_EFORMAT, "bootenv (a): hook no, but sw-description has no embedded-script");
}

static void *cancel_soon(void *arg)
{
	usleep(100 * 1000);
	swi_cancel(arg);
	return NULL;
}

static void an_endless_hook_is_stopped_by_cancel(void **state)
{
	struct fx *f = *state;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, f->ctx), 0);
	int rc = run_hooks(f, "function spin(e) while true do end end",
			   "{ filename = \"a.img\"; device = \"/dev/a\"; hook = \"spin\"; }");
	pthread_join(t, NULL);
	assert_int_equal(rc, SWI_ECANCELED);
	assert_null(f->state);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(the_hook_sees_the_entry_as_swupdate_builds_it),
		T(every_field_kind_is_written_back),
		T(a_new_table_changes_only_its_fields),
		T(true_alone_skips_the_entry),
		T(false_rejects_the_image),
		T(an_error_names_entry_hook_and_line),
		T(a_script_that_does_not_load_is_refused),
		T(a_missing_hook_function_is_an_error),
		T(junk_results_are_errors),
		T(a_hook_without_embedded_script_is_refused),
		T(the_state_lives_for_the_install),
		T(no_script_no_state),
		T(bootenv_variables_are_rewritten_renamed_or_skipped),
		T(a_bootenv_hook_refuses_like_an_entry_hook),
		T(an_endless_hook_is_stopped_by_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
