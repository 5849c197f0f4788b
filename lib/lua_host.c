/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The owner of every lua_State (see lua_host.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include <lualib.h>
#include "lua_host.h"

/* Instructions between two looks at the cancel flag and the clock: often
 * enough that a loop stops at once, rare enough to cost nothing measurable. */
#define CANCEL_LOOK_EVERY 10000

struct swi_lua {
	lua_State *L;
	const struct swi_lua_env *env;
	char *what;
	size_t used;          /* bytes the state holds */
	bool over_memory;     /* the cap refused an allocation */
	bool cancelled;       /* the count hook stopped it */
	long limit;           /* seconds a call may take (swi_lua_limit_time()); 0: none */
	struct timespec deadline; /* when the running call must have ended */
	bool timed_out;       /* the count hook stopped it at the deadline */
};

/* The registry key under which a state finds its wrapper. */
static const char wrapper_key = 'w';

/* lua_Alloc with a cap: a script that allocates without end gets Lua's
 * "not enough memory" error instead of the device's memory. */
static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
	struct swi_lua *l = ud;
	size_t old = ptr ? osize : 0;
	if (nsize == 0) {
		free(ptr);
		l->used -= old;
		return NULL;
	}
	if (nsize > old && l->used - old + nsize > SWI_LUA_MEMORY_MAX) {
		l->over_memory = true;
		return NULL;
	}
	void *p = realloc(ptr, nsize);
	if (p)
		l->used = l->used - old + nsize;
	return p;
}

static bool past(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void cancel_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	struct swi_lua *l = swi_lua_of(L);
	if (swi_cancelled(l->env->ctx)) {
		l->cancelled = true;
		luaL_error(L, "cancelled");
	}
	if (l->limit > 0 && past(&l->deadline)) {
		l->timed_out = true;
		luaL_error(L, "timed out");
	}
}

void swi_lua_limit_time(struct swi_lua *l, long seconds)
{
	l->limit = seconds;
}

struct swi_lua *swi_lua_of(lua_State *L)
{
	lua_rawgetp(L, LUA_REGISTRYINDEX, &wrapper_key);
	struct swi_lua *l = lua_touserdata(L, -1);
	lua_pop(L, 1);
	return l;
}

const struct swi_lua_env *swi_lua_env_of(lua_State *L)
{
	return swi_lua_of(L)->env;
}

lua_State *swi_lua_state(const struct swi_lua *l)
{
	return l->L;
}

/* Opens the libraries and the module; run protected (it allocates). */
static int open_all(lua_State *L)
{
	luaL_openlibs(L);
	luaL_requiref(L, "swupdate", swi_lua_open_module, 1);
	lua_pop(L, 1);
	return 0;
}

int swi_lua_new(const struct swi_lua_env *env, const char *what, struct swi_lua **out)
{
	struct swi_lua *l = calloc(1, sizeof(*l));
	if (!l || !(l->what = strdup(what))) {
		free(l);
		return swi_fail(env->ctx, SWI_ENOMEM, "out of memory");
	}
	l->env = env;
	l->L = lua_newstate(capped_alloc, l);
	if (!l->L) {
		swi_lua_free(l);
		return swi_fail(env->ctx, SWI_ENOMEM, "%s: cannot make a Lua state", what);
	}
	lua_pushlightuserdata(l->L, l);
	lua_rawsetp(l->L, LUA_REGISTRYINDEX, &wrapper_key);
	lua_sethook(l->L, cancel_hook, LUA_MASKCOUNT, CANCEL_LOOK_EVERY);
	lua_pushcfunction(l->L, open_all);
	int rc = swi_lua_pcall(l, "(setup)", 0, 0);
	if (rc) {
		swi_lua_free(l);
		return rc;
	}
	*out = l;
	return SWI_OK;
}

void swi_lua_free(struct swi_lua *l)
{
	if (!l)
		return;
	if (l->L)
		lua_close(l->L);
	free(l->what);
	free(l);
}

/* The message handler: the error with its "chunk:line:" as Lua gives it. */
static int message_handler(lua_State *L)
{
	const char *msg = lua_tostring(L, 1);
	if (!msg)
		msg = luaL_tolstring(L, 1, NULL);
	lua_pushstring(L, msg ? msg : "(an error object that is not a string)");
	return 1;
}

int swi_lua_pcall(struct swi_lua *l, const char *fn, int nargs, int nresults)
{
	lua_State *L = l->L;
	/* Not started once cancelled: the count hook would only look after
	 * CANCEL_LOOK_EVERY instructions, and a short function runs whole. */
	if (swi_cancelled(l->env->ctx)) {
		lua_pop(L, 1 + nargs);
		return swi_fail_cancelled(l->env->ctx);
	}
	int base = lua_gettop(L) - nargs;
	lua_pushcfunction(L, message_handler);
	lua_insert(L, base);
	l->over_memory = l->cancelled = l->timed_out = false;
	clock_gettime(CLOCK_MONOTONIC, &l->deadline);
	l->deadline.tv_sec += l->limit;
	int status = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (status == LUA_OK)
		return SWI_OK;
	const char *msg = lua_tostring(L, -1);
	swi_ctx_t *ctx = l->env->ctx;
	int rc;
	if (l->cancelled)
		rc = swi_fail_cancelled(ctx);
	else if (l->timed_out)
		rc = swi_fail(ctx, SWI_EHANDLER, "%s: %s: stopped after %ld s (option script-timeout)",
			      l->what, fn, l->limit);
	else if (status == LUA_ERRMEM || l->over_memory)
		rc = swi_fail(ctx, SWI_EHANDLER, "%s: %s: out of memory (a Lua state may use %u MiB)",
			      l->what, fn, SWI_LUA_MEMORY_MAX >> 20);
	else
		rc = swi_fail(ctx, SWI_EHANDLER, "%s: %s: %s", l->what, fn, msg ? msg : "error");
	lua_pop(L, 1);
	return rc;
}

int swi_lua_call(struct swi_lua *l, const char *fn, int nargs, int nresults, bool *missing)
{
	lua_State *L = l->L;
	if (lua_getglobal(L, fn) != LUA_TFUNCTION) {
		lua_pop(L, 1 + nargs);
		if (missing)
			*missing = true;
		return SWI_OK;
	}
	if (missing)
		*missing = false;
	lua_insert(L, -1 - nargs);
	return swi_lua_pcall(l, fn, nargs, nresults);
}

static int load_status(struct swi_lua *l, int status, const char *chunkname)
{
	if (status == LUA_OK)
		return swi_lua_pcall(l, chunkname, 0, 0);
	int rc = swi_fail(l->env->ctx, status == LUA_ERRMEM ? SWI_ENOMEM : SWI_EHANDLER, "%s: %s",
			  l->what, lua_tostring(l->L, -1));
	lua_pop(l->L, 1);
	return rc;
}

int swi_lua_run_buffer(struct swi_lua *l, const char *chunkname, const char *code, size_t len)
{
	char name[256];
	snprintf(name, sizeof(name), "=%s", chunkname);
	return load_status(l, luaL_loadbufferx(l->L, code, len, name, "t"), chunkname);
}

int swi_lua_run_file(struct swi_lua *l, const char *path, const char *chunkname)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return swi_fail(l->env->ctx, SWI_EIO, "%s: %s: %s", l->what, path, strerror(errno));
	char *code = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&code, &len);
	char buf[8192];
	size_t n;
	while (mem && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	bool failed = ferror(f) || !mem || fclose(mem) != 0;
	fclose(f);
	int rc = failed ? swi_fail(l->env->ctx, SWI_EIO, "%s: cannot read %s", l->what, path)
			: swi_lua_run_buffer(l, chunkname, code, len);
	free(code);
	return rc;
}
