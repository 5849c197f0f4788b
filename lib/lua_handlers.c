/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Lua handlers (see lua_handlers.h).
 *
 * A Lua handler is a pull handler: its entry's extract calls fn(image) on
 * the stream's worker thread, and image:copy2file(path), image:read(cb)
 * and swupdate.call_handler(name, image) pull the entry's decoded bytes
 * with swi_target_read(). The bytes are verified (sha256) once the entry
 * ends, after fn returned, as for every handler that writes while the
 * member streams: a mismatch then fails the install.
 *
 * Threading: one Lua state per context, used by one entry at a time. Only
 * one install runs on a context at a time, and within it open (on the
 * caller's thread) refuses a second entry of a Lua handler while one is
 * open, so the state is never used by two threads at once: fn runs on the
 * worker of its own entry only, between that entry's open and close.
 *
 * call_handler(name, image) runs one of the C handlers on the rest of the
 * entry's bytes, with the attributes of the image table. It passes the
 * same checks as an entry written in sw-description: the attributes are
 * checked against the handler's declarations, the device against the
 * running slot, the mounts and the configuration's slots and
 * extra-targets (through the install, t->check_device), and the
 * handler's own check. The chained handler is closed with the Lua entry,
 * after the sha256 verified, and committed or aborted with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>
#include "handler.h"
#include "lua_handlers.h"
#include "lua_host.h"
#include "mount.h"
#include "staging.h"

#define MODULE_NAME "swupdate_handlers"
/* SWUpdate's HANDLER_MASK: the collections, then NO_DATA_HANDLER. */
#define MASK_COLLECTIONS 31
#define MASK_ANY 63

/* One swupdate.register_handler(). */
struct lua_handler {
	struct swi_handler handler;
	char *name;
	int fn_ref;                       /* fn, in the state's registry */
	struct lua_handler *next;
};

struct swi_lua_handlers {
	swi_ctx_t *ctx;
	/* What the module reaches: the context alone, and the install's
	 * directories and staged variables while an entry is open. */
	struct swi_lua_env env;
	struct swi_lua *lua;
	struct lua_handler *handlers;
	bool loading;                     /* register_handler is allowed */
	int load_status;                  /* of the one load, repeated to later calls */
	char load_error[sizeof(((swi_ctx_t *)0)->errmsg)];
	const struct swi_target *open;    /* the entry of a Lua handler that is open */
	struct swi_target *running;       /* the entry whose fn runs (its worker thread) */
};

/* A C handler run by call_handler, with an entry of its own. */
struct chained {
	struct swi_target target;
	struct swi_entry entry;
	bool opened;                      /* abort is owed */
	struct chained *next;
};

/* The core-owned state of a Lua handler's entry. */
struct lua_entry {
	struct chained *chain;            /* in the order called */
	int failed;                       /* a read or a chained handler failed */
};

static struct swi_lua_handlers *handlers_of(lua_State *L)
{
	return swi_lua_env_of(L)->ctx->lua_handlers;
}

static const struct lua_handler *lua_handler_of(const struct swi_handler *h)
{
	return (const struct lua_handler *)((const char *)h - offsetof(struct lua_handler, handler));
}

/* ---- the image table ---------------------------------------------------- */

/* Lua sees attribute names with '_' where sw-description has '-'. */
static void lua_key(const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s", name);
	for (char *c = out; *c; c++)
		if (*c == '-')
			*c = '_';
}

static void push_attr_value(lua_State *L, const struct swi_attr *a)
{
	if (a->kind == SWI_ATTR_LIST) {
		lua_createtable(L, (int)a->nlist, 0);
		for (size_t i = 0; i < a->nlist; i++) {
			lua_pushstring(L, a->list[i]);
			lua_rawseti(L, -2, (lua_Integer)i + 1);
		}
	} else if (a->kind == SWI_ATTR_BOOL) {
		lua_pushboolean(L, strcmp(a->value, "true") == 0);
	} else if (a->kind == SWI_ATTR_NUMBER && lua_stringtonumber(L, a->value)) {
		/* pushed by lua_stringtonumber */
	} else {
		lua_pushstring(L, a->value);
	}
}

/* The fields SWUpdate always gives, with their values when not set. */
static void set_defaults(lua_State *L)
{
	static const char *const strings[] = { "name", "version", "filename", "volume", "type",
					       "device", "path", "mtdname", "data", "filesystem",
					       "ivt", "sha256" };
	static const char *const booleans[] = { "installed_directly", "install_if_different",
						"install_if_higher", "encrypted", "partition",
						"script", "compressed" };
	static const char *const numbers[] = { "offset", "size", "checksum", "skip" };
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		lua_pushliteral(L, "");
		lua_setfield(L, -2, strings[i]);
	}
	for (size_t i = 0; i < sizeof(booleans) / sizeof(booleans[0]); i++) {
		lua_pushboolean(L, 0);
		lua_setfield(L, -2, booleans[i]);
	}
	for (size_t i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		lua_pushinteger(L, 0);
		lua_setfield(L, -2, numbers[i]);
	}
}

static int l_copy2file(lua_State *L);
static int l_read(lua_State *L);

/* The entry as SWUpdate's image table: its attributes (properties in
 * their own table), what the core normalized, the member's size, and the
 * methods copy2file and read. */
static void push_image(lua_State *L, const struct swi_target *t)
{
	const struct swi_entry *e = t->entry;
	lua_newtable(L);
	set_defaults(L);
	lua_newtable(L); /* properties */
	for (size_t i = 0; i < e->attrs.count; i++) {
		const struct swi_attr *a = &e->attrs.items[i];
		bool property = strncmp(a->name, "properties.", 11) == 0;
		char key[128];
		lua_key(property ? a->name + 11 : a->name, key, sizeof(key));
		push_attr_value(L, a);
		lua_setfield(L, property ? -2 : -3, key);
	}
	lua_setfield(L, -2, "properties");
	const struct swi_value *offset = swi_target_value(t, "offset");
	lua_pushinteger(L, offset ? (lua_Integer)offset->size : 0);
	lua_setfield(L, -2, "offset");
	lua_pushinteger(L, (lua_Integer)t->stored_size);
	lua_setfield(L, -2, "size");
	lua_pushstring(L, t->handler->name);
	lua_setfield(L, -2, "type");
	if (e->compressed)
		lua_pushstring(L, e->compressed);
	else
		lua_pushboolean(L, 0);
	lua_setfield(L, -2, "compressed");
	lua_pushboolean(L, e->collection && strcmp(e->collection, "scripts") == 0);
	lua_setfield(L, -2, "script");
	lua_pushboolean(L, e->collection && strcmp(e->collection, "partitions") == 0);
	lua_setfield(L, -2, "partition");
	lua_pushcfunction(L, l_copy2file);
	lua_setfield(L, -2, "copy2file");
	lua_pushcfunction(L, l_read);
	lua_setfield(L, -2, "read");
}

/* ---- reading the entry's bytes from Lua --------------------------------- */

/* Whether L is (a coroutine of) the state of the handlers: scripts and
 * hooks have states of their own, with the same module. */
static bool in_handlers_state(lua_State *L, const struct swi_lua_handlers *h)
{
	return h && h->lua && swi_lua_of(L) == h->lua;
}

/* The entry whose fn runs; an error outside one. */
static struct swi_target *running_entry(lua_State *L, const char *what)
{
	struct swi_lua_handlers *h = handlers_of(L);
	if (!in_handlers_state(L, h) || !h->running)
		luaL_error(L, "%s: only inside a Lua handler's function", what);
	return h->running;
}

/* The next block; a failure is the entry's, whatever fn does next. */
static int read_block(struct swi_target *t, const void **buf, size_t *len)
{
	struct lua_entry *st = swi_target_state(t);
	int rc = swi_target_read(t, buf, len);
	if (rc && !st->failed)
		st->failed = rc;
	return rc;
}

/* SWUpdate's way to report a failure to Lua: -1 and a message. */
static int push_failure(lua_State *L, const char *msg)
{
	lua_pushinteger(L, -1);
	lua_pushstring(L, msg);
	return 2;
}

static int push_success(lua_State *L)
{
	lua_pushinteger(L, 0);
	lua_pushnil(L);
	return 2;
}

/* image:copy2file(path): the rest of the entry's bytes into the file path
 * (created or truncated). 0, or -1 and a message. */
static int l_copy2file(lua_State *L)
{
	struct swi_target *t = running_entry(L, "image:copy2file");
	const char *path = luaL_checkstring(L, 2);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return push_failure(L, lua_pushfstring(L, "%s: %s", path, strerror(errno)));
	const void *buf;
	size_t len;
	int rc = SWI_OK;
	bool write_failed = false;
	while (!write_failed && (rc = read_block(t, &buf, &len)) == SWI_OK && len > 0)
		write_failed = swi_write_all(fd, buf, len) < 0;
	int err = errno;
	if (close(fd) < 0 && !write_failed) {
		write_failed = true;
		err = errno;
	}
	if (write_failed)
		return push_failure(L, lua_pushfstring(L, "%s: %s", path, strerror(err)));
	return rc ? push_failure(L, swi_errmsg(t->ctx)) : push_success(L);
}

/* image:read(callback): callback(chunk) for every block of the rest of the
 * entry's bytes. 0, or -1 and a message (an error in callback included,
 * with its line). */
static int l_read(lua_State *L)
{
	struct swi_target *t = running_entry(L, "image:read");
	luaL_checktype(L, 2, LUA_TFUNCTION);
	const void *buf;
	size_t len;
	int rc;
	while ((rc = read_block(t, &buf, &len)) == SWI_OK && len > 0) {
		lua_pushvalue(L, 2);
		lua_pushlstring(L, buf, len);
		if (lua_pcall(L, 1, 0, 0) != LUA_OK)
			return push_failure(L, lua_tostring(L, -1));
	}
	return rc ? push_failure(L, swi_errmsg(t->ctx)) : push_success(L);
}

/* ---- call_handler --------------------------------------------------------- */

/* Table fields that describe the member, which stays the Lua entry's, or
 * that only SWUpdate's table has: not attributes of the chained entry. */
static bool describes_member(const char *key)
{
	static const char *const keys[] = { "type", "filename", "sha256", "compressed",
					    "encrypted", "ivt", "size", "checksum", "skip",
					    "partition", "script", "properties", "copy2file",
					    "read" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

/* One field of the table as an attribute: names back with '-', an empty
 * string, false or a zero number as not set. */
static int field_to_attr(lua_State *L, struct swi_attrs *attrs, const char *prefix,
			 const char *key)
{
	char name[160];
	snprintf(name, sizeof(name), "%s%s", prefix, key);
	for (char *c = name + strlen(prefix); *c; c++)
		if (*c == '_')
			*c = '-';
	switch (lua_type(L, -1)) {
	case LUA_TSTRING:
		return lua_rawlen(L, -1) ? swi_attrs_set(attrs, name, lua_tostring(L, -1)) : SWI_OK;
	case LUA_TBOOLEAN:
		return lua_toboolean(L, -1) ? swi_attrs_set_kind(attrs, name, "true", SWI_ATTR_BOOL)
					    : SWI_OK;
	case LUA_TNUMBER:
		return lua_tonumber(L, -1) != 0
			? swi_attrs_set_kind(attrs, name, lua_tostring(L, -1), SWI_ATTR_NUMBER) : SWI_OK;
	default:
		return SWI_OK;
	}
}

/* A property: a value, or a list of values. */
static int property_to_attr(lua_State *L, struct swi_attrs *attrs, const char *key)
{
	if (lua_type(L, -1) != LUA_TTABLE)
		return field_to_attr(L, attrs, "properties.", key);
	size_t n = lua_rawlen(L, -1);
	const char **items = calloc(n ? n : 1, sizeof(*items));
	if (!items)
		return SWI_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		lua_rawgeti(L, -1, (lua_Integer)i + 1);
		items[i] = lua_tostring(L, -1); /* stays referenced by the table */
		lua_pop(L, 1);
	}
	char name[160];
	snprintf(name, sizeof(name), "properties.%s", key);
	int rc = swi_attrs_set_list(attrs, name, items, n);
	free(items);
	return rc;
}

/* The attributes of the table at index, for the chained entry. */
static int table_to_attrs(lua_State *L, int index, struct swi_attrs *attrs)
{
	int rc = SWI_OK;
	lua_pushnil(L);
	while (rc == SWI_OK && lua_next(L, index)) {
		const char *key = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : NULL;
		if (key && !describes_member(key))
			rc = field_to_attr(L, attrs, "", key);
		lua_pop(L, 1);
	}
	if (rc == SWI_OK && lua_getfield(L, index, "properties") == LUA_TTABLE) {
		int props = lua_gettop(L);
		lua_pushnil(L);
		while (rc == SWI_OK && lua_next(L, props)) {
			if (lua_type(L, -2) == LUA_TSTRING)
				rc = property_to_attr(L, attrs, lua_tostring(L, -2));
			lua_pop(L, 1);
		}
	}
	lua_pop(L, 1);
	return rc;
}

static void free_chained(struct chained *c)
{
	swi_target_unmount(&c->target);
	swi_target_unbind_attrs(&c->target);
	swi_target_free_state(&c->target);
	free(c->target.path);
	swi_attrs_free(&c->entry.attrs);
	free(c);
}

static void release_chain(struct lua_entry *st)
{
	while (st->chain) {
		struct chained *c = st->chain;
		st->chain = c->next;
		if (c->opened)
			c->target.handler->abort(&c->target);
		free_chained(c);
	}
}

static bool is_lua_handler(const struct swi_handler *h);

/* Why name cannot be chained, or NULL. */
static const char *unchainable(const struct swi_handler *h)
{
	if (!h)
		return "there is no such handler";
	if (is_lua_handler(h))
		return "it is a Lua handler; call_handler runs the handlers written in C";
	if (SWI_HANDLER_GET(h, phases, 0u))
		return "it is a script handler";
	if (SWI_HANDLER_GET(h, flags, 0u) & SWI_HANDLER_NO_DATA)
		return "its entries carry no data";
	return NULL;
}

/* The chained entry: the Lua entry's member with the table's attributes
 * and the named handler, checked as the plan checks an entry. Nothing is
 * written yet; a refusal is reported to Lua (1, message). */
static int prepare_chained(lua_State *L, struct swi_target *t, const struct swi_handler *h,
			   struct chained *c)
{
	c->entry = *t->entry;
	c->entry.attrs = (struct swi_attrs){ 0 };
	c->entry.type = h->name;
	c->target = (struct swi_target){
		.ctx = t->ctx, .entry = &c->entry, .handler = h, .stored_size = t->stored_size,
		.staged_bootenv = t->staged_bootenv, .journal = t->journal,
		.scratch = t->scratch, .pull = t->pull, .lua_env = t->lua_env,
		.check_device = t->check_device, .install = t->install,
	};
	if (table_to_attrs(L, 2, &c->entry.attrs))
		return swi_target_error(t, SWI_ENOMEM, "out of memory");
	int rc = swi_target_bind_attrs(&c->target);
	if (rc == SWI_OK && swi_target_mounts(&c->target))
		rc = swi_target_error(t, SWI_EUNSUPPORTED, "call_handler('%s'): an entry that mounts "
				      "a filesystem cannot be chained from Lua", h->name);
	if (rc == SWI_OK && !t->check_device)
		rc = swi_target_error(t, SWI_EINVAL, "call_handler('%s'): no install to check the "
				      "target against", h->name);
	/* A device the install may not write fails the entry, whatever fn
	 * does next: the image (or the handler) aimed at it. */
	if (rc == SWI_OK && (rc = t->check_device(&c->target))) {
		struct lua_entry *st = swi_target_state(t);
		if (!st->failed)
			st->failed = rc;
	}
	if (rc == SWI_OK)
		rc = swi_target_alloc_state(&c->target);
	if (rc == SWI_OK && SWI_HANDLER_GET(h, check, NULL))
		rc = h->check(&c->target);
	return rc;
}

/* The rest of the Lua entry's bytes through the chained handler. */
static int run_chained(struct swi_target *t, struct chained *c)
{
	const struct swi_handler *h = c->target.handler;
	int rc = h->open(&c->target);
	c->opened = true;
	if (rc)
		return rc;
	if (SWI_HANDLER_GET(h, extract, NULL))
		return h->extract(&c->target);
	const void *buf;
	size_t len;
	while ((rc = read_block(t, &buf, &len)) == SWI_OK && len > 0)
		if ((rc = h->write(&c->target, buf, len)))
			return rc;
	return rc;
}

/* swupdate.call_handler(name, image): 0, or 1 and a message. A handler
 * that fails once it opened fails the entry, whatever fn returns: it may
 * have written part of the bytes. */
static int l_call_handler(lua_State *L)
{
	struct swi_target *t = running_entry(L, "swupdate.call_handler");
	const char *name = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TTABLE);
	const struct swi_handler *h = swi_handler_find(t->ctx, name);
	const char *why = unchainable(h);
	if (why) {
		lua_pushinteger(L, 1);
		lua_pushfstring(L, "call_handler('%s'): %s", name, why);
		return 2;
	}
	struct lua_entry *st = swi_target_state(t);
	struct chained *c = calloc(1, sizeof(*c));
	if (!c)
		return luaL_error(L, "out of memory");
	int rc = prepare_chained(L, t, h, c);
	if (rc) {
		free_chained(c);
		lua_pushinteger(L, 1);
		lua_pushstring(L, swi_errmsg(t->ctx));
		return 2;
	}
	struct chained **end = &st->chain;
	while (*end)
		end = &(*end)->next;
	*end = c;
	rc = run_chained(t, c);
	if (rc && !st->failed)
		st->failed = rc;
	if (rc) {
		lua_pushinteger(L, 1);
		lua_pushstring(L, swi_errmsg(t->ctx));
		return 2;
	}
	lua_pushinteger(L, 0);
	lua_pushnil(L);
	return 2;
}

/* ---- the handler every register_handler() makes ---------------------- */

static int entry_open(struct swi_target *t)
{
	struct swi_lua_handlers *h = t->ctx->lua_handlers;
	if (h->open)
		return swi_target_error(t, SWI_EUNSUPPORTED,
					"the Lua handler '%s' would run while the entry of '%s' (%s) "
					"is open: two entries of Lua handlers cannot take the same "
					"member", t->handler->name, h->open->handler->name,
					h->open->entry->filename);
	h->open = t;
	if (t->lua_env)
		h->env = *t->lua_env;
	return SWI_OK;
}

/* The entry is done with the state: the module reaches the context alone. */
static void let_go(struct swi_target *t)
{
	struct swi_lua_handlers *h = t->ctx->lua_handlers;
	if (h->open != t)
		return;
	h->open = NULL;
	h->env = (struct swi_lua_env){ .ctx = t->ctx };
}

/* The bytes fn left unread: read to the end, so that the stream ends
 * as the core expects. */
static int drain(struct swi_target *t)
{
	const void *buf;
	size_t len;
	int rc;
	while ((rc = read_block(t, &buf, &len)) == SWI_OK && len > 0)
		;
	return rc;
}

static int entry_extract(struct swi_target *t)
{
	struct swi_lua_handlers *h = t->ctx->lua_handlers;
	const struct lua_handler *lh = lua_handler_of(t->handler);
	struct lua_entry *st = swi_target_state(t);
	lua_State *L = swi_lua_state(h->lua);
	char what[160];
	snprintf(what, sizeof(what), "handler '%s'", lh->name);
	lua_rawgeti(L, LUA_REGISTRYINDEX, lh->fn_ref);
	push_image(L, t);
	h->running = t;
	int rc = swi_lua_pcall(h->lua, what, 1, 1);
	h->running = NULL;
	if (rc)
		return rc == SWI_ECANCELED ? rc : swi_target_error(t, rc, "%s", swi_errmsg(t->ctx));
	int isnum = 0;
	lua_Integer result = lua_tointegerx(L, -1, &isnum);
	const char *type = luaL_typename(L, -1);
	lua_pop(L, 1);
	if (st->failed)
		return st->failed;
	if (!isnum)
		return swi_target_error(t, SWI_EHANDLER, "Lua handler '%s' returned %s, not a number "
					"(0 for success)", lh->name, type);
	if (result != 0)
		return swi_target_error(t, SWI_EHANDLER, "Lua handler '%s' failed: it returned %lld",
					lh->name, (long long)result);
	return drain(t);
}

/* After the sha256 verified: the chained handlers close, in order. */
static int entry_close(struct swi_target *t)
{
	struct lua_entry *st = swi_target_state(t);
	let_go(t);
	for (struct chained *c = st->chain; c; c = c->next) {
		if (!c->opened)
			continue;
		const struct swi_handler *h = c->target.handler;
		int rc = h->close(&c->target);
		c->opened = rc != SWI_OK || SWI_HANDLER_GET(h, commit, NULL) != NULL;
		if (rc)
			return rc;
	}
	return SWI_OK;
}

/* The chained handlers that staged their result put it in place; after
 * a failure, the rest are aborted. */
static int entry_commit(struct swi_target *t)
{
	struct lua_entry *st = swi_target_state(t);
	int rc = SWI_OK;
	for (struct chained *c = st->chain; c && rc == SWI_OK; c = c->next) {
		int (*commit)(struct swi_target *) = SWI_HANDLER_GET(c->target.handler, commit, NULL);
		if (!c->opened || !commit)
			continue;
		rc = commit(&c->target);
		c->opened = false;
	}
	release_chain(st);
	return rc;
}

static void entry_abort(struct swi_target *t)
{
	let_go(t);
	struct lua_entry *st = swi_target_state(t);
	if (st)
		release_chain(st);
}

static bool is_lua_handler(const struct swi_handler *h)
{
	return h->open == entry_open;
}

/* What a Lua handler honours: every attribute with an effect, since fn
 * sees them all (swi_target_attributes), "filesystem" aside, which would
 * make the core mount the device for an entry the Lua code may chain
 * elsewhere. */

/* ---- register_handler and loading ------------------------------------- */

/* swupdate.register_handler(name, fn [, mask]): mask is SWUpdate's
 * HANDLER_MASK (default ANY_HANDLER); its collections are the kinds. */
static int l_register_handler(lua_State *L)
{
	struct swi_lua_handlers *h = handlers_of(L);
	const char *name = luaL_checkstring(L, 1);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	lua_Integer mask = luaL_optinteger(L, 3, MASK_ANY);
	if (!in_handlers_state(L, h) || !h->loading)
		return luaL_error(L, "register_handler('%s'): only while %s loads", name,
				  MODULE_NAME);
	if (mask & ~(lua_Integer)MASK_ANY)
		return luaL_error(L, "register_handler('%s'): mask %I holds bits that are no "
				  "swupdate.HANDLER_MASK value", name, mask);
	if ((mask & MASK_COLLECTIONS) == 0)
		return luaL_error(L, "register_handler('%s'): mask %I names no collection",
				  name, mask);
	struct lua_handler *lh = calloc(1, sizeof(*lh));
	if (!lh || !(lh->name = strdup(name))) {
		free(lh);
		return luaL_error(L, "out of memory");
	}
	lua_pushvalue(L, 2);
	lh->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	lh->handler = (struct swi_handler){
		.size = SWI_HANDLER_SIZE, .name = lh->name,
		.kinds = (unsigned)(mask & MASK_COLLECTIONS), .attributes = swi_target_attributes,
		.open = entry_open, .extract = entry_extract, .close = entry_close,
		.abort = entry_abort, .commit = entry_commit, .state_size = sizeof(struct lua_entry),
	};
	lh->next = h->handlers;
	h->handlers = lh;
	if (swi_register_handler(h->ctx, &lh->handler))
		return luaL_error(L, "%s", swi_errmsg(h->ctx));
	return 0;
}

/* A missing module is no error: the device has no Lua handlers. */
static const char require_handlers[] =
	"local name = '" MODULE_NAME "'\n"
	"if package.preload[name] or package.searchpath(name, package.path)\n"
	"   or package.searchpath(name, package.cpath) then\n"
	"  require(name)\n"
	"else\n"
	"  swupdate.debug('no Lua handlers: no %s in %s', name, package.path)\n"
	"end\n";

static int load_all(struct swi_lua_handlers *h)
{
	int rc = swi_lua_new(&h->env, "Lua handlers", &h->lua);
	if (rc)
		return rc;
	h->loading = true;
	rc = swi_lua_run_buffer(h->lua, "require(\"" MODULE_NAME "\")", require_handlers,
				sizeof(require_handlers) - 1);
	const char *file = h->ctx->opt.lua_handlers;
	if (rc == SWI_OK && file)
		rc = swi_lua_run_file(h->lua, file, file);
	h->loading = false;
	return rc;
}

int swi_lua_handlers_load(swi_ctx_t *ctx)
{
	struct swi_lua_handlers *h = ctx->lua_handlers;
	if (h)
		return h->load_status ? swi_fail(ctx, h->load_status, "%s", h->load_error) : SWI_OK;
	h = calloc(1, sizeof(*h));
	if (!h)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	h->ctx = ctx;
	h->env.ctx = ctx;
	ctx->lua_handlers = h;
	h->load_status = load_all(h);
	if (h->load_status)
		snprintf(h->load_error, sizeof(h->load_error), "%s", swi_errmsg(ctx));
	return h->load_status;
}

void swi_lua_handlers_free(struct swi_lua_handlers *h)
{
	if (!h)
		return;
	swi_lua_free(h->lua);
	while (h->handlers) {
		struct lua_handler *lh = h->handlers;
		h->handlers = lh->next;
		free(lh->name);
		free(lh);
	}
	free(h);
}

void swi_lua_handlers_add_functions(lua_State *L, int module)
{
	static const luaL_Reg functions[] = {
		{ "register_handler", l_register_handler },
		{ "call_handler", l_call_handler },
		{ NULL, NULL },
	};
	module = lua_absindex(L, module);
	lua_pushvalue(L, module);
	luaL_setfuncs(L, functions, 0);
	lua_pop(L, 1);
}
