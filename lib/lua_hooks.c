/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * embedded-script and hooks (see lua_hooks.h).
 *
 * A hook gets the entry as the table SWUpdate builds: every string field
 * ("" when the entry lacks it), the flags as booleans, offset and size as
 * numbers, compressed as the method or false, properties as a table of
 * strings (lists as arrays). What it returns is written back field by
 * field: a field left as it was changes nothing (so an offset written
 * "1M" stays so), "" removes a string attribute, and the entry's derived
 * fields are computed again from the result, so the plan checks a
 * rewritten entry exactly like a written one.
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include "handler.h"
#include "lua_hooks.h"

#define CHUNK "embedded-script"
#define PROPERTIES "properties."

struct field {
	const char *key;          /* in the Lua table */
	const char *attr;         /* in sw-description */
	enum swi_attr_kind kind;  /* TEXT, BOOL or NUMBER */
};

static const struct field fields[] = {
	{ "name", "name", SWI_ATTR_TEXT },
	{ "version", "version", SWI_ATTR_TEXT },
	{ "filename", "filename", SWI_ATTR_TEXT },
	{ "volume", "volume", SWI_ATTR_TEXT },
	{ "type", "type", SWI_ATTR_TEXT },
	{ "device", "device", SWI_ATTR_TEXT },
	{ "path", "path", SWI_ATTR_TEXT },
	{ "mtdname", "mtdname", SWI_ATTR_TEXT },
	{ "data", "data", SWI_ATTR_TEXT },
	{ "filesystem", "filesystem", SWI_ATTR_TEXT },
	{ "ivt", "ivt", SWI_ATTR_TEXT },
	{ "sha256", "sha256", SWI_ATTR_TEXT },
	{ "installed_directly", "installed-directly", SWI_ATTR_BOOL },
	{ "install_if_different", "install-if-different", SWI_ATTR_BOOL },
	{ "install_if_higher", "install-if-higher", SWI_ATTR_BOOL },
	{ "encrypted", "encrypted", SWI_ATTR_BOOL },
	{ "offset", "offset", SWI_ATTR_NUMBER },
	{ "size", "size", SWI_ATTR_NUMBER },
};

#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

/* What a hook is called with and about, for its messages. */
struct hook_call {
	swi_ctx_t *ctx;
	lua_State *L;
	struct swi_entry *e;      /* the entry, or a bootenv variable as one */
	const char *fn;
	/* writes the table the hook returned (at idx) back */
	int (*take)(struct hook_call *h, int idx);
	struct swi_manifest *m;   /* a bootenv variable's: */
	const char *var;
	char place[SWI_PLACE_MAX];
	char changed[256];        /* the fields the hook changed, for the log */
};

static bool attr_true(const struct swi_entry *e, const char *name)
{
	const char *v = swi_attrs_get(&e->attrs, name);
	return v && !strcmp(v, "true");
}

/* ---- entry -> table ------------------------------------------------------ */

static void push_field(lua_State *L, const struct swi_entry *e, const struct field *f)
{
	const char *v = swi_attrs_get(&e->attrs, f->attr);
	uint64_t n = 0;
	if (f->kind == SWI_ATTR_BOOL)
		lua_pushboolean(L, attr_true(e, f->attr));
	else if (f->kind == SWI_ATTR_TEXT || (v && swi_parse_size(v, &n) != SWI_OK))
		lua_pushstring(L, v ? v : "");
	else
		lua_pushinteger(L, (lua_Integer)n);
}

static void push_properties(lua_State *L, const struct swi_entry *e)
{
	lua_newtable(L);
	for (size_t i = 0; i < e->attrs.count; i++) {
		const struct swi_attr *a = &e->attrs.items[i];
		if (strncmp(a->name, PROPERTIES, strlen(PROPERTIES)))
			continue;
		if (a->kind == SWI_ATTR_LIST) {
			lua_createtable(L, (int)a->nlist, 0);
			for (size_t j = 0; j < a->nlist; j++) {
				lua_pushstring(L, a->list[j]);
				lua_rawseti(L, -2, (lua_Integer)j + 1);
			}
		} else {
			lua_pushstring(L, a->value);
		}
		lua_setfield(L, -2, a->name + strlen(PROPERTIES));
	}
}

/* Runs protected (it allocates): the entry (a light userdata) as a table. */
static int push_entry(lua_State *L)
{
	const struct swi_entry *e = lua_touserdata(L, 1);
	lua_createtable(L, 0, NFIELDS + 2);
	for (size_t i = 0; i < NFIELDS; i++) {
		push_field(L, e, &fields[i]);
		lua_setfield(L, -2, fields[i].key);
	}
	if (e->compressed)
		lua_pushstring(L, e->compressed);
	else
		lua_pushboolean(L, 0);
	lua_setfield(L, -2, "compressed");
	push_properties(L, e);
	lua_setfield(L, -2, "properties");
	return 1;
}

/* ---- table -> entry ------------------------------------------------------ */

static int wrong_kind(struct hook_call *h, const char *key, int idx, const char *wanted)
{
	return swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s: field '%s' is a %s, not %s", h->place,
			h->fn, key, luaL_typename(h->L, idx), wanted);
}

static void note_change(struct hook_call *h, const char *key)
{
	size_t used = strlen(h->changed);
	if (used + strlen(key) + 3 <= sizeof(h->changed)) /* else the log line is long enough */
		sprintf(h->changed + used, "%s%s", used ? ", " : "", key);
}

static int set_attr(struct hook_call *h, const char *key, const char *attr, const char *value,
		    enum swi_attr_kind kind)
{
	note_change(h, key);
	if (!value) {
		swi_attrs_remove(&h->e->attrs, attr);
		return SWI_OK;
	}
	if (swi_attrs_set_kind(&h->e->attrs, attr, value, kind))
		return swi_fail(h->ctx, SWI_ENOMEM, "out of memory");
	return SWI_OK;
}

static int take_text(struct hook_call *h, const struct field *f, int idx)
{
	if (lua_type(h->L, idx) != LUA_TSTRING)
		return wrong_kind(h, f->key, idx, "a string");
	const char *now = lua_tostring(h->L, idx);
	const char *was = swi_attrs_get(&h->e->attrs, f->attr);
	if (was ? !strcmp(was, now) : !*now)
		return SWI_OK;
	return set_attr(h, f->key, f->attr, *now ? now : NULL, SWI_ATTR_TEXT);
}

static int take_bool(struct hook_call *h, const struct field *f, int idx)
{
	if (lua_type(h->L, idx) != LUA_TBOOLEAN)
		return wrong_kind(h, f->key, idx, "a boolean");
	bool now = lua_toboolean(h->L, idx);
	if (now == attr_true(h->e, f->attr))
		return SWI_OK;
	return set_attr(h, f->key, f->attr, now ? "true" : "false", SWI_ATTR_BOOL);
}

/* offset and size: a whole number of bytes, or a size as sw-description
 * writes it ("8K", "0x1000"). */
static int take_number(struct hook_call *h, const struct field *f, int idx)
{
	const char *was = swi_attrs_get(&h->e->attrs, f->attr);
	uint64_t before = 0, now;
	bool was_size = !was || swi_parse_size(was, &before) == SWI_OK;
	char text[32];
	if (lua_type(h->L, idx) == LUA_TNUMBER) {
		lua_Number v = lua_tonumber(h->L, idx);
		if (!(v >= 0 && v < 0x1p63 && v == floor(v)))
			return swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s: field '%s' is %s, not a "
					"whole number of bytes", h->place, h->fn, f->key,
					lua_tostring(h->L, idx));
		now = (uint64_t)v;
		snprintf(text, sizeof(text), "%" PRIu64, now);
		if (was_size && now == before)
			return SWI_OK;
		return set_attr(h, f->key, f->attr, text, SWI_ATTR_NUMBER);
	}
	if (lua_type(h->L, idx) != LUA_TSTRING)
		return wrong_kind(h, f->key, idx, "a number");
	const char *s = lua_tostring(h->L, idx);
	if (was && !strcmp(was, s))
		return SWI_OK;
	if (swi_parse_size(s, &now) != SWI_OK)
		return swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s: field '%s' is '%s', not a size",
				h->place, h->fn, f->key, s);
	return set_attr(h, f->key, f->attr, s, SWI_ATTR_TEXT);
}

/* compressed: a method ("zlib", "zstd", "xz"; checked by the refresh) or
 * a boolean (true: zlib). */
static int take_compressed(struct hook_call *h, int idx)
{
	const char *was = h->e->compressed;
	if (lua_type(h->L, idx) == LUA_TBOOLEAN) {
		bool now = lua_toboolean(h->L, idx);
		if (now == (was != NULL))
			return SWI_OK;
		return set_attr(h, "compressed", "compressed", now ? "true" : "false", SWI_ATTR_BOOL);
	}
	if (lua_type(h->L, idx) != LUA_TSTRING)
		return wrong_kind(h, "compressed", idx, "a string or a boolean");
	const char *now = lua_tostring(h->L, idx);
	if (was && !strcmp(was, now))
		return SWI_OK;
	return set_attr(h, "compressed", "compressed", now, SWI_ATTR_TEXT);
}

/* One property: a string, number or boolean, or an array of them. An
 * unchanged value keeps its attribute (and its kind). */
static int take_property(struct hook_call *h, const char *key, int idx)
{
	char attr[256];
	snprintf(attr, sizeof(attr), PROPERTIES "%s", key);
	lua_State *L = h->L;
	const struct swi_attr *was = swi_attrs_find(&h->e->attrs, attr);
	int t = lua_type(L, idx), top = lua_gettop(L);
	if (t == LUA_TSTRING || t == LUA_TNUMBER || t == LUA_TBOOLEAN) {
		const char *now = t == LUA_TBOOLEAN ? (lua_toboolean(L, idx) ? "true" : "false")
						    : lua_tostring(L, idx);
		if (was && was->kind != SWI_ATTR_LIST && !strcmp(was->value, now))
			return SWI_OK;
		return set_attr(h, attr, attr, now,
				t == LUA_TBOOLEAN ? SWI_ATTR_BOOL : SWI_ATTR_TEXT);
	}
	if (t != LUA_TTABLE)
		return wrong_kind(h, attr, idx, "a string or a list");
	size_t n = lua_rawlen(L, idx);
	const char **items = calloc(n + 1, sizeof(*items));
	/* the elements stay on the stack until stored: a number's text lives there */
	if (!items || n > INT_MAX / 2 || !lua_checkstack(L, (int)n + 1)) {
		free(items);
		return swi_fail(h->ctx, SWI_ENOMEM, "%s: hook %s: out of memory", h->place, h->fn);
	}
	bool same = was && was->kind == SWI_ATTR_LIST && was->nlist == n;
	int rc = SWI_OK;
	for (size_t i = 0; rc == SWI_OK && i < n; i++) {
		int t_elem = lua_rawgeti(L, idx, (lua_Integer)i + 1);
		if (t_elem != LUA_TSTRING && t_elem != LUA_TNUMBER)
			rc = wrong_kind(h, attr, -1, "a string in a list");
		else
			items[i] = lua_tostring(L, -1);
		same = same && rc == SWI_OK && !strcmp(was->list[i], items[i]);
	}
	if (rc == SWI_OK && !same) {
		note_change(h, attr);
		if (swi_attrs_set_list(&h->e->attrs, attr, items, n))
			rc = swi_fail(h->ctx, SWI_ENOMEM, "out of memory");
	}
	lua_settop(L, top);
	free(items);
	return rc;
}

/* The properties table replaces the entry's properties. */
static int take_properties(struct hook_call *h, int idx)
{
	lua_State *L = h->L;
	if (lua_type(L, idx) != LUA_TTABLE)
		return wrong_kind(h, "properties", idx, "a table");
	struct swi_attrs *a = &h->e->attrs;
	for (size_t i = 0; i < a->count;) {
		const char *name = a->items[i].name;
		bool property = !strncmp(name, PROPERTIES, strlen(PROPERTIES));
		bool kept = !property || lua_getfield(L, idx, name + strlen(PROPERTIES)) != LUA_TNIL;
		if (property)
			lua_pop(L, 1);
		if (kept) {
			i++;
			continue;
		}
		note_change(h, name);
		swi_attrs_remove(a, name);
	}
	int rc = SWI_OK;
	lua_pushnil(L);
	while (rc == SWI_OK && lua_next(L, idx) != 0) {
		if (lua_type(L, -2) != LUA_TSTRING)
			rc = swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s: a property's name is a %s, "
				      "not a string", h->place, h->fn, luaL_typename(L, -2));
		else
			rc = take_property(h, lua_tostring(L, -2), lua_gettop(L));
		lua_pop(L, rc == SWI_OK ? 1 : 2);
	}
	return rc;
}

static int take_value(struct hook_call *h, const char *key, int idx)
{
	if (!strcmp(key, "compressed"))
		return take_compressed(h, idx);
	if (!strcmp(key, "properties"))
		return take_properties(h, idx);
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &fields[i];
		if (strcmp(f->key, key))
			continue;
		if (f->kind == SWI_ATTR_TEXT)
			return take_text(h, f, idx);
		return f->kind == SWI_ATTR_BOOL ? take_bool(h, f, idx) : take_number(h, f, idx);
	}
	return SWI_OK; /* a key SWUpdate does not read either */
}

/* Writes the table at idx back into the entry and derives its fields again. */
static int take_entry(struct hook_call *h, int idx)
{
	static const char *const others[] = { "compressed", "properties" };
	int rc = SWI_OK;
	for (size_t i = 0; rc == SWI_OK && i < NFIELDS + 2; i++) {
		const char *key = i < NFIELDS ? fields[i].key : others[i - NFIELDS];
		if (lua_getfield(h->L, idx, key) != LUA_TNIL)
			rc = take_value(h, key, lua_gettop(h->L));
		lua_pop(h->L, 1);
	}
	if (rc == SWI_OK && (rc = swi_entry_refresh(h->ctx, h->e))) {
		char why[sizeof(h->ctx->errmsg)];
		snprintf(why, sizeof(why), "%s", swi_errmsg(h->ctx));
		return swi_fail(h->ctx, rc, "%s: after hook %s: %s", h->place, h->fn, why);
	}
	return rc;
}

/* A bootenv variable, which SWUpdate passes with its name as name and its
 * value as version: both may be changed. */
static int take_variable(struct hook_call *h, int idx)
{
	lua_State *L = h->L;
	const char *name = h->var, *value = swi_attrs_get(&h->m->bootenv, h->var);
	/* the strings stay referenced by the table while it is on the stack */
	if (lua_getfield(L, idx, "name") != LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
		return wrong_kind(h, "name", -1, "a string");
	if (lua_type(L, -1) == LUA_TSTRING)
		name = lua_tostring(L, -1);
	if (lua_getfield(L, idx, "version") != LUA_TNIL && lua_type(L, -1) != LUA_TSTRING)
		return wrong_kind(h, "version", -1, "a string");
	if (lua_type(L, -1) == LUA_TSTRING)
		value = lua_tostring(L, -1);
	if (!*name)
		return swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s: the variable's name is empty",
				h->place, h->fn);
	char *kept = strdup(value ? value : "");
	if (!kept)
		return swi_fail(h->ctx, SWI_ENOMEM, "out of memory");
	const char *was = swi_attrs_get(&h->m->bootenv, h->var);
	if (!was || strcmp(was, kept))
		note_change(h, "version");
	if (strcmp(name, h->var)) {
		note_change(h, "name");
		swi_attrs_remove(&h->m->bootenv, h->var);
	}
	int rc = swi_attrs_set(&h->m->bootenv, name, kept) ? SWI_ENOMEM : SWI_OK;
	free(kept);
	return rc ? swi_fail(h->ctx, rc, "out of memory") : SWI_OK;
}

/* ---- calling ------------------------------------------------------------- */

enum verdict { KEEP, SKIP };

/* What the hook's two results (on top of the stack) say. */
static int judge(struct hook_call *h, enum verdict *v)
{
	lua_State *L = h->L;
	if (lua_type(L, -2) != LUA_TBOOLEAN)
		return swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s returned a %s, not true or false",
				h->place, h->fn, luaL_typename(L, -2));
	if (!lua_toboolean(L, -2))
		return swi_fail(h->ctx, SWI_ECOMPAT, "%s: hook %s refused the image (returned false)",
				h->place, h->fn);
	/* SWUpdate's rule: true with nothing (nil or false) after it skips */
	if (!lua_toboolean(L, -1)) {
		*v = SKIP;
		return SWI_OK;
	}
	if (lua_type(L, -1) != LUA_TTABLE)
		return swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s returned true and a %s, not the "
				"entry's table or nil", h->place, h->fn, luaL_typename(L, -1));
	*v = KEEP;
	return h->take(h, lua_gettop(L));
}

/* An error of the call, named by the entry as well. */
static int name_entry(struct hook_call *h, int rc)
{
	if (rc == SWI_OK || rc == SWI_ECANCELED)
		return rc;
	char why[sizeof(h->ctx->errmsg)];
	snprintf(why, sizeof(why), "%s", swi_errmsg(h->ctx));
	return swi_fail(h->ctx, rc, "%s: hook %s: %s", h->place, h->fn, why);
}

static int run_hook(struct swi_lua *l, struct hook_call *h, enum verdict *v)
{
	lua_State *L = h->L;
	lua_pushcfunction(L, push_entry);
	lua_pushlightuserdata(L, h->e);
	int rc = swi_lua_pcall(l, h->fn, 1, 1);
	bool missing = false;
	if (rc == SWI_OK)
		rc = swi_lua_call(l, h->fn, 1, 2, &missing);
	if (rc)
		return name_entry(h, rc);
	if (missing)
		return swi_fail(h->ctx, SWI_EHANDLER, "%s: hook %s: the embedded-script has no "
				"function %s", h->place, h->fn, h->fn);
	rc = judge(h, v);
	lua_pop(L, 2);
	return rc;
}

/* Runs h's hook in l (NULL: there is no embedded-script): its verdict in *v. */
static int call_hook(struct swi_lua *l, struct hook_call *h, enum verdict *v)
{
	if (!l)
		return swi_fail(h->ctx, SWI_EFORMAT, "%s: hook %s, but sw-description has no "
				"embedded-script", h->place, h->fn);
	h->L = swi_lua_state(l);
	int rc = run_hook(l, h, v);
	lua_settop(h->L, 0);
	return rc;
}

static void log_verdict(struct hook_call *h, enum verdict v)
{
	if (v == SKIP)
		swi_log(h->ctx, SWI_LOG_INFO, "%s: skipped by hook %s", h->place, h->fn);
	else if (h->changed[0])
		swi_log(h->ctx, SWI_LOG_INFO, "%s: hook %s changed %s", h->place, h->fn, h->changed);
}

static void remove_entry(struct swi_manifest *m, size_t i)
{
	swi_attrs_free(&m->entries[i].attrs);
	memmove(&m->entries[i], &m->entries[i + 1], (m->nentries - i - 1) * sizeof(*m->entries));
	m->nentries--;
}

static int run_entry_hooks(struct swi_lua *l, swi_ctx_t *ctx, struct swi_manifest *m)
{
	for (size_t i = 0; i < m->nentries;) {
		struct hook_call h = { .ctx = ctx, .e = &m->entries[i], .take = take_entry,
				       .fn = swi_attrs_get(&m->entries[i].attrs, "hook") };
		if (!h.fn) {
			i++;
			continue;
		}
		swi_entry_place(h.e, h.place, sizeof(h.place));
		enum verdict v = KEEP;
		int rc = call_hook(l, &h, &v);
		if (rc)
			return rc;
		log_verdict(&h, v);
		if (v == SKIP)
			remove_entry(m, i);
		else
			i++;
	}
	return SWI_OK;
}

/* The hooks of bootenv variables (after the entries', as they come after
 * them in sw-description's collections). */
static int run_variable_hooks(struct swi_lua *l, swi_ctx_t *ctx, struct swi_manifest *m)
{
	for (size_t i = 0; i < m->bootenv_hooks.count; i++) {
		const struct swi_attr *hook = &m->bootenv_hooks.items[i];
		struct swi_entry as_entry = { .collection = "bootenv" };
		struct hook_call h = { .ctx = ctx, .e = &as_entry, .take = take_variable,
				       .fn = hook->value, .m = m, .var = hook->name };
		snprintf(h.place, sizeof(h.place), "bootenv (%s)", hook->name);
		const char *value = swi_attrs_get(&m->bootenv, hook->name);
		enum verdict v = KEEP;
		int rc = swi_attrs_set(&as_entry.attrs, "name", hook->name) ||
			 swi_attrs_set(&as_entry.attrs, "version", value ? value : "")
			 ? swi_fail(ctx, SWI_ENOMEM, "out of memory") : call_hook(l, &h, &v);
		swi_attrs_free(&as_entry.attrs);
		if (rc)
			return rc;
		log_verdict(&h, v);
		if (v == SKIP)
			swi_attrs_remove(&m->bootenv, hook->name);
	}
	return SWI_OK;
}

int swi_lua_run_hooks(const struct swi_lua_env *env, struct swi_manifest *m,
		      struct swi_lua **state)
{
	*state = NULL;
	struct swi_lua *l = NULL;
	int rc = SWI_OK;
	if (m->embedded_script) {
		rc = swi_lua_new(env, CHUNK, &l);
		if (rc == SWI_OK)
			rc = swi_lua_run_buffer(l, CHUNK, m->embedded_script,
						strlen(m->embedded_script));
	}
	if (rc == SWI_OK)
		rc = run_entry_hooks(l, env->ctx, m);
	if (rc == SWI_OK)
		rc = run_variable_hooks(l, env->ctx, m);
	if (rc) {
		swi_lua_free(l);
		return rc;
	}
	*state = l;
	return SWI_OK;
}
