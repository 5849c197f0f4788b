/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SWUpdate's Lua: the one module that owns lua_States. Every state runs
 * with a memory cap (its allocator refuses past SWI_LUA_MEMORY_MAX) and a
 * count hook that stops it once the install is cancelled (or a call ran
 * past its time, swi_lua_limit_time()), and carries the
 * `swupdate` module (lib/lua_module.c). The rest of the library sees only
 * these functions; lib/lua_*.c and handlers/lua*.c are the only files
 * that include <lua.h>. Private.
 */
#ifndef SWI_LUA_HOST_H
#define SWI_LUA_HOST_H

#include <stdbool.h>
#include <lua.h>
#include "context.h"
#include "scratch.h"

#define SWI_LUA_MEMORY_MAX (64u << 20)

/* What the `swupdate` module reaches of the install running it. */
struct swi_lua_env {
	swi_ctx_t *ctx;
	struct swi_scratch *scratch;      /* tmpdir(), tmpdirscripts(), mount points; may be NULL */
	struct swi_attrs *staged_bootenv; /* set_bootenv() stages here; NULL: refused */
	const char *selection;            /* get_selection(): "SET,MODE", or NULL */
	const char *version;              /* getversion(): the image's software version, or NULL */
};

struct swi_lua;

/* A new state with the standard libraries and the swupdate module (as the
 * global `swupdate` and in package.loaded). what names it in messages
 * ("lua script setup.lua", "embedded-script"). env must outlive it. */
int swi_lua_new(const struct swi_lua_env *env, const char *what, struct swi_lua **out);
void swi_lua_free(struct swi_lua *l);
lua_State *swi_lua_state(const struct swi_lua *l);
/* The env and the wrapper of the state L runs in (module functions use them). */
const struct swi_lua_env *swi_lua_env_of(lua_State *L);
struct swi_lua *swi_lua_of(lua_State *L);

/* Loads and runs a chunk (its top level). chunkname is what messages call
 * it ("setup.lua"). SWI_OK, or SWI_EHANDLER (SWI_ECANCELED, SWI_ENOMEM)
 * with "what: chunkname:LINE: message". */
int swi_lua_run_buffer(struct swi_lua *l, const char *chunkname, const char *code, size_t len);
int swi_lua_run_file(struct swi_lua *l, const char *path, const char *chunkname);

/*
 * Calls the global function fn with the nargs values on top of the stack,
 * keeping nresults results on the stack (LUA_MULTRET allowed). When fn is
 * not a function, *missing is set (when missing is not NULL), the
 * arguments are popped and SWI_OK returned. Errors as above, naming fn:
 * "lua script setup.lua: preinst: setup.lua:12: attempt to call a nil value".
 */
int swi_lua_call(struct swi_lua *l, const char *fn, int nargs, int nresults, bool *missing);
/* The same for the function value below the nargs arguments. */
int swi_lua_pcall(struct swi_lua *l, const char *fn, int nargs, int nresults);

/* From now on, each call (swi_lua_run_*(), swi_lua_call(), swi_lua_pcall())
 * is stopped once it ran seconds (0: no limit), failing with
 * "what: fn: stopped after N s (option script-timeout)". Only Lua code is
 * stopped: a call into C that blocks (os.execute) is waited for. */
void swi_lua_limit_time(struct swi_lua *l, long seconds);

/* The swupdate module (lib/lua_module.c): pushes the table. */
int swi_lua_open_module(lua_State *L);

#endif
