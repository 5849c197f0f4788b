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

/* Loads the Lua handlers into ctx's registry, once per context (later
 * calls do nothing). No swupdate_handlers module and no lua-handlers
 * option is not an error; a file that fails to load is (SWI_EHANDLER). */
int swi_lua_handlers_load(swi_ctx_t *ctx);

#endif
