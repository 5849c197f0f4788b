/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lua handlers, as SWUpdate loads them: require("swupdate_handlers") (Lua's
 * search path and LUA_PATH apply) and the file the option lua-handlers
 * names; each swupdate.register_handler(name, fn, mask) becomes a handler
 * of the context's registry like any other (listed by -v), whose entries
 * call fn(image). Private.
 */
#ifndef SWI_LUA_HANDLERS_H
#define SWI_LUA_HANDLERS_H

#include "context.h"

struct lua_State;
struct swi_lua_handlers;

/* Loads the Lua handlers into ctx's registry, once per context (later
 * calls do nothing, or fail again as the first did). No swupdate_handlers
 * module and no lua-handlers option is not an error; a file that fails to
 * load is (SWI_EHANDLER). */
int swi_lua_handlers_load(swi_ctx_t *ctx);
/* The context's Lua state and the handlers registered in it; with the context. */
void swi_lua_handlers_free(struct swi_lua_handlers *h);

/* Adds register_handler and call_handler to the swupdate module table at
 * index module (lib/lua_module.c). */
void swi_lua_handlers_add_functions(struct lua_State *L, int module);

#endif
