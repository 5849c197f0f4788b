/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The `swupdate` module that SWUpdate's Lua scripts, hooks and handlers
 * call: logging, constants, the bootloader environment, mounts, the
 * install's directories. Every function reaches the install through
 * swi_lua_env_of().
 */
#include <lauxlib.h>
#include "lua_handlers.h"
#include "lua_host.h"

/* swupdate.info(fmt, ...) and its kin: string.format's rules, as
 * SWUpdate's printf-style functions. */
static int log_at(lua_State *L, int level)
{
	int n = lua_gettop(L);
	lua_getglobal(L, "string");
	lua_getfield(L, -1, "format");
	lua_remove(L, -2);
	lua_insert(L, 1);
	lua_call(L, n, 1);
	swi_log(swi_lua_env_of(L)->ctx, level, "%s", lua_tostring(L, -1));
	return 0;
}

static int l_trace(lua_State *L) { return log_at(L, SWI_LOG_DEBUG); }
static int l_debug(lua_State *L) { return log_at(L, SWI_LOG_DEBUG); }
static int l_info(lua_State *L) { return log_at(L, SWI_LOG_INFO); }
static int l_warn(lua_State *L) { return log_at(L, SWI_LOG_WARN); }
static int l_error(lua_State *L) { return log_at(L, SWI_LOG_ERROR); }

static void set_constants(lua_State *L, const char *table, const char *const names[],
			  const lua_Integer values[], size_t n)
{
	lua_createtable(L, 0, (int)n);
	for (size_t i = 0; i < n; i++) {
		lua_pushinteger(L, values[i]);
		lua_setfield(L, -2, names[i]);
	}
	lua_setfield(L, -2, table);
}

int swi_lua_open_module(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{ "trace", l_trace }, { "debug", l_debug }, { "info", l_info },
		{ "warn", l_warn }, { "error", l_error }, { NULL, NULL },
	};
	static const char *const status_names[] = { "IDLE", "START", "RUN", "SUCCESS", "FAILURE",
						     "DOWNLOAD", "DONE", "SUBPROCESS", "PROGRESS" };
	static const lua_Integer status_values[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const char *const mask_names[] = { "IMAGE_HANDLER", "FILE_HANDLER",
						   "SCRIPT_HANDLER", "BOOTLOADER_HANDLER",
						   "PARTITION_HANDLER", "NO_DATA_HANDLER",
						   "ANY_HANDLER" };
	static const lua_Integer mask_values[] = { 1, 2, 4, 8, 16, 32, 63 };
	luaL_newlib(L, functions);
	set_constants(L, "RECOVERY_STATUS", status_names, status_values, 9);
	set_constants(L, "HANDLER_MASK", mask_names, mask_values, 7);
	swi_lua_handlers_add_functions(L, -1);
	return 1;
}
