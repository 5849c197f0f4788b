/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The owner of lua_States (lib/lua.c): errors named by chunk, function and
 * line, the memory cap, the cancel hook, the module's logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "lua_host.h"
#include "testutil.h"

static char logged[4096];

static void log_to_buffer(void *user, int level, const char *msg)
{
	(void)user; (void)level;
	size_t used = strlen(logged);
	snprintf(logged + used, sizeof(logged) - used, "%s\n", msg);
}

struct fx {
	swi_ctx_t *ctx;
	struct swi_lua_env env;
	struct swi_lua *l;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	swi_set_log(f->ctx, log_to_buffer, NULL);
	f->env.ctx = f->ctx;
	assert_int_equal(swi_lua_new(&f->env, "lua script t.lua", &f->l), SWI_OK);
	logged[0] = '\0';
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	swi_lua_free(f->l);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

static void run(struct fx *f, const char *code, int expect)
{
	assert_int_equal(swi_lua_run_buffer(f->l, "t.lua", code, strlen(code)), expect);
}

static void functions_are_called_with_arguments_and_results(void **state)
{
	struct fx *f = *state;
	run(f, "function preinst(data) return true, 'got ' .. data end", SWI_OK);
	lua_State *L = swi_lua_state(f->l);
	lua_pushstring(L, "x y");
	bool missing = true;
	assert_int_equal(swi_lua_call(f->l, "preinst", 1, 2, &missing), SWI_OK);
	assert_false(missing);
	assert_true(lua_toboolean(L, -2));
	assert_string_equal(lua_tostring(L, -1), "got x y");
	lua_pop(L, 2);
	lua_pushstring(L, "x");
	assert_int_equal(swi_lua_call(f->l, "postinst", 1, 1, &missing), SWI_OK);
	assert_true(missing);
	assert_int_equal(lua_gettop(L), 0);
}

static void errors_name_the_script_function_and_line(void **state)
{
	struct fx *f = *state;
	run(f, "local x = 1\nfunction preinst(data)\n  return nil + 1\nend", SWI_OK);
	assert_int_equal(swi_lua_call(f->l, "preinst", 0, 1, NULL), SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "lua script t.lua: preinst: t.lua:3: attempt to "
						   "perform arithmetic on a nil value"));
	run(f, "this is not lua", SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "lua script t.lua: t.lua:1:"));
	run(f, "error('refused by the script')", SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "t.lua:1: refused by the script"));
	assert_int_equal(lua_gettop(swi_lua_state(f->l)), 0);
}

static void bytecode_is_refused(void **state)
{
	struct fx *f = *state;
	static const char bytecode[] = "\x1bLua\x53\x00";
	assert_int_equal(swi_lua_run_buffer(f->l, "t.luac", bytecode, sizeof(bytecode) - 1),
			 SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "binary"));
}

static void memory_is_capped(void **state)
{
	struct fx *f = *state;
	run(f, "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
	    SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "out of memory (a Lua state may use 64 MiB)"));
	/* The state is still usable once the garbage went. */
	lua_gc(swi_lua_state(f->l), LUA_GCCOLLECT, 0);
	run(f, "x = 1", SWI_OK);
}

static void *cancel_soon(void *arg)
{
	usleep(100 * 1000);
	swi_cancel(arg);
	return NULL;
}

static void an_endless_loop_is_cancelled(void **state)
{
	struct fx *f = *state;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, f->ctx), 0);
	run(f, "while true do end", SWI_ECANCELED);
	pthread_join(t, NULL);
}

static void the_module_logs_printf_style(void **state)
{
	struct fx *f = *state;
	swi_set_option(f->ctx, "dry-run", "0");
	run(f, "swupdate.info('%s has %d entries', 'image', 3)\n"
	       "assert(require('swupdate') == swupdate)\n"
	       "assert(swupdate.RECOVERY_STATUS.SUCCESS == 3)\n"
	       "assert(swupdate.HANDLER_MASK.ANY_HANDLER == 63)", SWI_OK);
	assert_non_null(strstr(logged, "image has 3 entries"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(functions_are_called_with_arguments_and_results),
		T(errors_name_the_script_function_and_line),
		T(bytecode_is_refused),
		T(memory_is_capped),
		T(an_endless_loop_is_cancelled),
		T(the_module_logs_printf_style),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
