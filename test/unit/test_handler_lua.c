/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The built-in handler "lua", driven directly (script_fixture.h): the
 * member written privately, its global preinst/postinst/postfailure called
 * with the entry's "data" in a fresh state each time, true as success, a
 * false or missing true as failure with the script's message, a missing
 * function as success, errors named by script, function and line; os.execute
 * as Lua 5.3 has it; set_bootenv staged; script-timeout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "script_fixture.h"

/* Hands the Lua code to the handler as the core does; data unless NULL. */
static struct swi_target *received_lua(struct fixture *f, const char *code, const char *data)
{
	if (data)
		entry_attr(f, "data", data);
	struct swi_target *t = target(f, &swi_handler_lua, 0, NULL, NULL);
	set_payload_text(f, code);
	assert_int_equal(drive_open(f), SWI_OK);
	assert_int_equal(drive_feed(f, f->payload, f->payload_len, 7), SWI_OK);
	assert_int_equal(drive_close(f), SWI_OK);
	return t;
}

/* Lua that records "PHASE:DATA" lines in f->dir/record (script_record()). */
static const char *recording_lua(const struct fixture *f)
{
	static char code[1024];
	char record[128];
	in_dir(f, "record", record, sizeof(record));
	snprintf(code, sizeof(code),
		 "local function record(what)\n"
		 "  local f = assert(io.open('%s', 'a'))\n"
		 "  f:write(what .. '\\n')\n"
		 "  f:close()\n"
		 "end\n"
		 "function preinst(data) record('preinst:' .. data) return true end\n"
		 "function postinst(data) record('postinst:' .. data) return true, 'all done' end\n"
		 "function postfailure(data) record('postfailure:' .. data) return true end\n",
		 record);
	return code;
}

static void assert_recorded(const struct fixture *f, const char *expected)
{
	char got[1024];
	assert_string_equal(script_record(f, got, sizeof(got)), expected);
}

static void lua_runs_in_three_phases(void **state)
{
	assert_script_handler(*state, "lua", SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE);
}

static void lua_is_written_privately(void **state)
{
	check_written_privately(*state, &swi_handler_lua);
}

/* Each phase calls its function with data, as one string. */
static void lua_functions_get_data(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_lua(f, recording_lua(f), " one  two $(x) ");
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	assert_recorded(f, "preinst: one  two $(x) \n");
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	assert_recorded(f, "postinst: one  two $(x) \n");
	assert_int_equal(t->handler->run(t, SWI_PHASE_FAILURE), SWI_OK);
	assert_recorded(f, "postfailure: one  two $(x) \n");
}

static void lua_without_data_gets_an_empty_string(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_lua(f, recording_lua(f), NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	assert_recorded(f, "preinst:\n");
}

/* Globals of one call are gone in the next: the script is loaded anew
 * (its top level runs again) in a fresh state. */
static void lua_each_call_gets_a_fresh_state(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_lua(f,
		"loads = (loads or 0) + 1\n"
		"function preinst() seen = true return loads == 1 end\n"
		"function postinst() return loads == 1 and seen == nil end\n", NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
}

static void lua_missing_function_succeeds(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_lua(f, "function postinst() return false end\n", NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
	assert_int_equal(t->handler->run(t, SWI_PHASE_FAILURE), SWI_OK);
}

/* What the function returned, and the failure it makes (NULL: success). */
static void check_result(struct fixture *f, const char *body, const char *expected)
{
	char code[256];
	snprintf(code, sizeof(code), "function preinst(data)\n  %s\nend\n", body);
	swi_attrs_free(&f->entry.attrs);
	struct swi_target *t = received_lua(f, code, NULL);
	int rc = t->handler->run(t, SWI_PHASE_BEFORE);
	if (!expected) {
		assert_int_equal(rc, SWI_OK);
		return;
	}
	assert_int_equal(rc, SWI_EHANDLER);
	assert_string_equal(swi_errmsg(f->ctx), expected);
}

static void lua_results_decide(void **state)
{
	struct fixture *f = *state;
	check_result(f, "return true", NULL);
	check_result(f, "return true, 'a message'", NULL);
	check_result(f, "return false, 'disk too small'",
		     "lua script member.img (preinst): disk too small");
	check_result(f, "return false", "lua script member.img (preinst): returned false");
	check_result(f, "return nil, 'why'", "lua script member.img (preinst): why");
	check_result(f, "return 0", "lua script member.img (preinst): did not return true");
	check_result(f, "", "lua script member.img (preinst): did not return true");
}

static void lua_errors_name_script_function_and_line(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_lua(f, "\nfunction postinst(data)\n  return data.x.y\nend\n",
					    NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_EHANDLER);
	assert_error_mentions(f, "lua script member.img: postinst: member.img:3: attempt to index");
	swi_attrs_free(&f->entry.attrs);
	t = received_lua(f, "function preinst(\n", NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EHANDLER);
	assert_error_mentions(f, "lua script member.img: member.img:2:");
}

/* os.execute as Lua 5.3 has it: true|nil, "exit"|"signal", the code. */
static void lua_os_execute_follows_lua_5_3(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_lua(f,
		"function preinst()\n"
		"  local ok, how, code = os.execute('exit 3')\n"
		"  assert(ok == nil and how == 'exit' and code == 3, tostring(ok))\n"
		"  ok, how, code = os.execute('true')\n"
		"  assert(ok == true and how == 'exit' and code == 0)\n"
		"  ok, how, code = os.execute('kill -TERM $$')\n"
		"  assert(ok == nil and how == 'signal' and code == 15)\n"
		"  return os.execute()\n"
		"end\n", NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_OK);
}

static void lua_set_bootenv_is_staged(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = received_lua(f,
		"function postinst(data)\n"
		"  swupdate.set_bootenv('from_lua', data)\n"
		"  swupdate.set_bootenv('removed', '')\n"
		"  return true\n"
		"end\n", "b");
	assert_int_equal(t->handler->run(t, SWI_PHASE_AFTER), SWI_OK);
	assert_string_equal(swi_attrs_get(&f->staged, "from_lua"), "b");
	assert_string_equal(swi_attrs_get(&f->staged, "removed"), "");
}

static void lua_endless_loop_stops_at_script_timeout(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_set_option(f->ctx, "script-timeout", "1"), SWI_OK);
	struct swi_target *t = received_lua(f, "function preinst() while true do end end\n", NULL);
	time_t start = time(NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EHANDLER);
	assert_true(time(NULL) - start <= 3);
	assert_string_equal(swi_errmsg(f->ctx), "lua script member.img: preinst: stopped after "
			    "1 s (option script-timeout)");
}

static void lua_never_written_is_not_run(void **state)
{
	struct fixture *f = *state;
	struct swi_target *t = target(f, &swi_handler_lua, 0, NULL, NULL);
	assert_int_equal(t->handler->run(t, SWI_PHASE_BEFORE), SWI_EINVAL);
	assert_error_mentions(f, "not written");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(lua_runs_in_three_phases),
		T(lua_is_written_privately),
		T(lua_functions_get_data),
		T(lua_without_data_gets_an_empty_string),
		T(lua_each_call_gets_a_fresh_state),
		T(lua_missing_function_succeeds),
		T(lua_results_decide),
		T(lua_errors_name_script_function_and_line),
		T(lua_os_execute_follows_lua_5_3),
		T(lua_set_bootenv_is_staged),
		T(lua_endless_loop_stops_at_script_timeout),
		T(lua_never_written_is_not_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
