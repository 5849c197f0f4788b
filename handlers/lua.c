/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "lua" (also the type of a script entry that names none): a Lua
 * script of the image whose global functions preinst(data), postinst(data)
 * and postfailure(data) are called in the phases of the same names, each
 * in a fresh Lua state with the script loaded anew (lib/lua_host.c: memory
 * cap, cancel, script-timeout), data being the entry's "data" or "". A
 * first result true is success; anything else fails, with the second
 * result as the message when it is a string. A function the script does
 * not define succeeds. The script lands in the install's private directory
 * as the other script handlers' do (lib/script.h).
 */
#include <stdio.h>
#include <lua.h>
#include "lua_host.h"
#include "script.h"

/* The results of fn: true, or a failure with its message. */
static int check_results(struct swi_target *t, struct swi_lua *l, const char *what,
			 const char *fn)
{
	lua_State *L = swi_lua_state(l);
	bool ok = lua_type(L, -2) == LUA_TBOOLEAN && lua_toboolean(L, -2);
	const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
	int rc = SWI_OK;
	if (!ok)
		rc = swi_fail(t->ctx, SWI_EHANDLER, "%s (%s): %s", what, fn,
			      msg ? msg : lua_type(L, -2) == LUA_TBOOLEAN ? "returned false"
			      : "did not return true");
	else if (msg)
		swi_log(t->ctx, SWI_LOG_INFO, "%s (%s): %s", what, fn, msg);
	lua_pop(L, 2);
	return rc;
}

static int lua_script_run(struct swi_target *t, enum swi_phase phase)
{
	const char *fn;
	int rc = swi_script_ready(t, phase, &fn);
	if (rc)
		return rc;
	if (!t->lua_env)
		return swi_target_error(t, SWI_EINVAL, "no Lua environment in this install");
	const struct swi_script *s = swi_target_state(t);
	const char *data = swi_target_attr(t, "data");
	char what[SWI_PLACE_MAX];
	snprintf(what, sizeof(what), "lua script %s", swi_target_member(t));
	struct swi_lua *l;
	rc = swi_lua_new(t->lua_env, what, &l);
	if (rc)
		return rc;
	swi_lua_limit_time(l, swi_opt_script_timeout(t->ctx));
	swi_log(t->ctx, SWI_LOG_INFO, "running %s: %s(\"%s\")", what, fn, data ? data : "");
	rc = swi_lua_run_file(l, s->path, swi_target_member(t));
	bool missing = false;
	if (rc == SWI_OK) {
		lua_pushstring(swi_lua_state(l), data ? data : "");
		rc = swi_lua_call(l, fn, 1, 2, &missing);
	}
	if (rc == SWI_OK && missing)
		swi_log(t->ctx, SWI_LOG_DEBUG, "%s has no function %s: nothing to do", what, fn);
	else if (rc == SWI_OK)
		rc = check_results(t, l, what, fn);
	swi_lua_free(l);
	return rc;
}

const struct swi_handler swi_handler_lua =
	SWI_SCRIPT_HANDLER("lua", SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE,
			   lua_script_run);
