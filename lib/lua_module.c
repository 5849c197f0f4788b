/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The `swupdate` module that SWUpdate's Lua scripts, hooks and handlers
 * call: logging, constants, the bootloader environment, mounts, the
 * install's directories. Every function reaches the install through
 * swi_lua_env_of(). Return shapes follow SWUpdate's: a failing query gives
 * nil (and the reason in the log), not an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <lauxlib.h>
#include "bootenv.h"
#include "lua_handlers.h"
#include "lua_host.h"
#include "mount.h"
#include "versions.h"

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

/* RECOVERY_STATUS.FAILURE */
#define STATUS_FAILURE 4

/* swupdate.notify(status, error, msg): a status message, logged (an error
 * at FAILURE). */
static int l_notify(lua_State *L)
{
	lua_Integer status = luaL_checkinteger(L, 1);
	luaL_checknumber(L, 2);
	const char *msg = luaL_checkstring(L, 3);
	if (msg[0])
		swi_log(swi_lua_env_of(L)->ctx, status == STATUS_FAILURE ? SWI_LOG_ERROR : SWI_LOG_INFO, "%s", msg);
	return 0;
}

/* swupdate.progress(msg): a progress message, logged. */
static int l_progress(lua_State *L)
{
	swi_log(swi_lua_env_of(L)->ctx, SWI_LOG_INFO, "progress: %s", luaL_checkstring(L, 1));
	return 0;
}

/* swupdate.progress_update(percent): logged. */
static int l_progress_update(lua_State *L)
{
	swi_log(swi_lua_env_of(L)->ctx, SWI_LOG_DEBUG, "progress: %d%%",
		(int)luaL_checknumber(L, 1));
	return 0;
}

/* swupdate.get_bootenv(name): the variable's value in the environment as
 * the bootloader sees it now (what the install staged is not in it yet);
 * nil when it is unset or cannot be read. */
static int l_get_bootenv(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	swi_ctx_t *ctx = swi_lua_env_of(L)->ctx;
	struct swi_bootenv *env = NULL;
	char *value = NULL;
	int rc = name[0] ? swi_bootenv_open(ctx, &env) : SWI_OK;
	if (rc == SWI_OK && env)
		rc = swi_bootenv_get(env, name, &value);
	swi_bootenv_close(env);
	if (rc)
		swi_log(ctx, SWI_LOG_WARN, "swupdate.get_bootenv(%s): %s", name, swi_errmsg(ctx));
	lua_pushstring(L, value);
	free(value);
	return 1;
}

/* swupdate.set_bootenv(name, value): staged, written with the rest of the
 * install's variables at the commit; a nil or empty value removes it. */
static int l_set_bootenv(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *value = luaL_optstring(L, 2, "");
	const struct swi_lua_env *env = swi_lua_env_of(L);
	if (!env->staged_bootenv)
		return luaL_error(L, "swupdate.set_bootenv: no install to stage '%s' in here", name);
	if (!name[0])
		return luaL_error(L, "swupdate.set_bootenv: the variable has no name");
	if (swi_attrs_set(env->staged_bootenv, name, value))
		return luaL_error(L, "swupdate.set_bootenv: out of memory");
	return 0;
}

/* ---- mounts: each one unmounted at the latest when the state goes ----- */

#define LUA_MOUNTS_MAX 16

struct lua_mounts {
	swi_ctx_t *ctx;
	char *dirs[LUA_MOUNTS_MAX];
};

static const char mounts_key = 'm';

static int mounts_gc(lua_State *L)
{
	struct lua_mounts *m = lua_touserdata(L, 1);
	for (size_t i = 0; i < LUA_MOUNTS_MAX; i++)
		if (m->dirs[i]) {
			swi_log(m->ctx, SWI_LOG_WARN, "swupdate.mount: %s was left mounted by the script: "
				"unmounted", m->dirs[i]);
			swi_unmount_dir(m->ctx, "swupdate.mount", m->dirs[i]);
			free(m->dirs[i]);
			m->dirs[i] = NULL;
		}
	return 0;
}

/* The state's mount list, made on first use; lua_close() collects it. */
static struct lua_mounts *mounts_of(lua_State *L)
{
	if (lua_rawgetp(L, LUA_REGISTRYINDEX, &mounts_key) == LUA_TUSERDATA) {
		struct lua_mounts *m = lua_touserdata(L, -1);
		lua_pop(L, 1);
		return m;
	}
	lua_pop(L, 1);
	struct lua_mounts *m = lua_newuserdata(L, sizeof(*m));
	memset(m, 0, sizeof(*m));
	m->ctx = swi_lua_env_of(L)->ctx;
	lua_createtable(L, 0, 1);
	lua_pushcfunction(L, mounts_gc);
	lua_setfield(L, -2, "__gc");
	lua_setmetatable(L, -2);
	lua_rawsetp(L, LUA_REGISTRYINDEX, &mounts_key);
	return m;
}

/* swupdate.mount(device, fstype): the mount point, a new directory in the
 * install's private directory; nil when it cannot be mounted. */
static int l_mount(lua_State *L)
{
	const char *device = luaL_checkstring(L, 1);
	const char *fstype = luaL_checkstring(L, 2);
	const struct swi_lua_env *env = swi_lua_env_of(L);
	struct lua_mounts *m = mounts_of(L);
	size_t slot = 0;
	while (slot < LUA_MOUNTS_MAX && m->dirs[slot])
		slot++;
	int rc = SWI_OK;
	if (slot == LUA_MOUNTS_MAX)
		rc = swi_fail(env->ctx, SWI_EINVAL, "%d filesystems are mounted already",
			      LUA_MOUNTS_MAX);
	else if (!device[0] || !fstype[0])
		rc = swi_fail(env->ctx, SWI_EINVAL, "no device or no filesystem type");
	else
		rc = swi_mount_device(env->ctx, env->scratch, device, fstype, &m->dirs[slot]);
	if (rc) {
		swi_log(env->ctx, SWI_LOG_WARN, "swupdate.mount(%s, %s): %s", device, fstype,
			swi_errmsg(env->ctx));
		lua_pushnil(L);
		return 1;
	}
	swi_log(env->ctx, SWI_LOG_INFO, "swupdate.mount: mounted %s (%s) on %s", device, fstype,
		m->dirs[slot]);
	lua_pushstring(L, m->dirs[slot]);
	return 1;
}

/* swupdate.umount(dir): true; nil for a directory mount() did not give. */
static int l_umount(lua_State *L)
{
	const char *dir = luaL_checkstring(L, 1);
	struct lua_mounts *m = mounts_of(L);
	for (size_t i = 0; i < LUA_MOUNTS_MAX; i++)
		if (m->dirs[i] && strcmp(m->dirs[i], dir) == 0) {
			swi_unmount_dir(m->ctx, "swupdate.umount", m->dirs[i]);
			free(m->dirs[i]);
			m->dirs[i] = NULL;
			lua_pushboolean(L, 1);
			return 1;
		}
	swi_log(m->ctx, SWI_LOG_WARN, "swupdate.umount(%s): not mounted by swupdate.mount", dir);
	lua_pushnil(L);
	return 1;
}

/* ---- the install and the device --------------------------------------- */

/* s with a "/" at its end, as SWUpdate gives its directories. */
static void push_dir(lua_State *L, const char *s)
{
	size_t n = strlen(s);
	lua_pushstring(L, s);
	if (n == 0 || s[n - 1] != '/') {
		lua_pushliteral(L, "/");
		lua_concat(L, 2);
	}
}

/* swupdate.tmpdir(): the configured tmpdir, with a trailing "/". */
static int l_tmpdir(lua_State *L)
{
	push_dir(L, swi_opt_tmpdir(swi_lua_env_of(L)->ctx));
	return 1;
}

/* swupdate.tmpdirscripts(): the install's private directory, where its
 * scripts are, with a trailing "/"; nil outside an install. */
static int l_tmpdirscripts(lua_State *L)
{
	const struct swi_lua_env *env = swi_lua_env_of(L);
	const char *dir;
	if (!env->scratch || swi_scratch_dir(env->scratch, &dir))
		lua_pushnil(L);
	else
		push_dir(L, dir);
	return 1;
}

/* swupdate.get_selection(): the selection's set and mode ("" when none). */
static int l_get_selection(lua_State *L)
{
	const char *sel = swi_lua_env_of(L)->selection;
	const char *comma = sel ? strchr(sel, ',') : NULL;
	if (!sel)
		sel = "";
	lua_pushlstring(L, sel, comma ? (size_t)(comma - sel) : strlen(sel));
	lua_pushstring(L, comma ? comma + 1 : "");
	return 2;
}

static int l_is_dryrun(lua_State *L)
{
	const swi_ctx_t *ctx = swi_lua_env_of(L)->ctx;
	lua_pushboolean(L, ctx->opt.dry_run || ctx->install_mode == SWI_MODE_VERIFY);
	return 1;
}

/* swupdate.get_hw(): { boardname =, revision = } of the device, or nil. */
static int l_get_hw(lua_State *L)
{
	char *board = NULL, *revision = NULL;
	int rc = swi_hwrevision_get(swi_lua_env_of(L)->ctx, &board, &revision);
	if (rc || !board) {
		lua_pushnil(L);
	} else {
		lua_createtable(L, 0, 2);
		lua_pushstring(L, board);
		lua_setfield(L, -2, "boardname");
		lua_pushstring(L, revision ? revision : "");
		lua_setfield(L, -2, "revision");
	}
	free(board);
	free(revision);
	return 1;
}

/* swupdate.getversion(): swinstall's version numbers, as { 0, 1, 0,
 * version = 0, patchlevel = 1, sublevel = 0 }, floats as SWUpdate's. */
static int l_getversion(lua_State *L)
{
	static const char *const names[] = { "version", "patchlevel", "sublevel" };
	unsigned numbers[3] = { 0, 0, 0 };
	sscanf(SWI_VERSION_STRING, "%u.%u.%u", &numbers[0], &numbers[1], &numbers[2]);
	lua_createtable(L, 3, 3);
	for (int i = 0; i < 3; i++) {
		lua_pushnumber(L, numbers[i]);
		lua_rawseti(L, -2, i + 1);
		lua_pushnumber(L, numbers[i]);
		lua_setfield(L, -2, names[i]);
	}
	return 1;
}

/* The kind of root= on the kernel command line: SWUpdate's ROOT_DEVICE. */
enum root_kind { ROOT_PATH, ROOT_UUID, ROOT_PARTUUID, ROOT_PARTLABEL, ROOT_UNKNOWN };

/* root= of the command line (malloc'd), or NULL. */
static char *cmdline_root(swi_ctx_t *ctx)
{
	FILE *f = fopen(swi_opt_cmdline_file(ctx), "r");
	char line[4096], *root = NULL;
	if (!f)
		return NULL;
	if (fgets(line, sizeof(line), f)) {
		char *save = NULL;
		for (char *w = strtok_r(line, " \t\n", &save); w && !root;
		     w = strtok_r(NULL, " \t\n", &save))
			if (strncmp(w, "root=", 5) == 0)
				root = strdup(w + 5);
	}
	fclose(f);
	return root;
}

/* The node in /dev of block device MAJOR:MINOR (numbers), from sysfs, or
 * NULL. */
static char *block_node(const char *numbers)
{
	char path[320], line[256], *node = NULL;
	snprintf(path, sizeof(path), "/sys/dev/block/%s/uevent", numbers);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	while (!node && fgets(line, sizeof(line), f))
		if (strncmp(line, "DEVNAME=", 8) == 0) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, sizeof(path), "/dev/%s", line + 8);
			node = realpath(path, NULL);
		}
	fclose(f);
	return node;
}

/* The device mounted at "/" in the mount table, or NULL: the block device
 * of its MAJOR:MINOR when the system has its node, else its mount source
 * when that is a path. */
static char *mounted_root(swi_ctx_t *ctx)
{
	FILE *f = fopen(swi_opt_mountinfo_file(ctx), "r");
	char line[4096], *root = NULL;
	if (!f)
		return NULL;
	while (!root && fgets(line, sizeof(line), f)) {
		char numbers[64], point[1024], source[1024];
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %63s %*s %1023s", numbers, point) != 2 ||
		    strcmp(point, "/") != 0)
			continue;
		root = block_node(numbers);
		if (!root && sscanf(sep + 3, "%*s %1023s", source) == 1 && source[0] == '/')
			root = strdup(source);
	}
	fclose(f);
	return root;
}

/* swupdate.getroot(): the running root device, { type = ROOT_DEVICE.*,
 * value = the device (after "UUID=" and the like), path = the device node
 * when it exists }, as SWUpdate finds it: the device mounted at / (option
 * mountinfo-file), else root= on the kernel command line (option
 * cmdline-file). */
static int l_getroot(lua_State *L)
{
	static const struct { const char *prefix, *dir; } forms[] = {
		[ROOT_UUID] = { "UUID=", "/dev/disk/by-uuid/" },
		[ROOT_PARTUUID] = { "PARTUUID=", "/dev/disk/by-partuuid/" },
		[ROOT_PARTLABEL] = { "PARTLABEL=", "/dev/disk/by-partlabel/" },
	};
	swi_ctx_t *ctx = swi_lua_env_of(L)->ctx;
	char *root = mounted_root(ctx);
	if (!root)
		root = cmdline_root(ctx);
	enum root_kind kind = root ? ROOT_PATH : ROOT_UNKNOWN;
	const char *value = root ? root : "";
	char node[1200];
	snprintf(node, sizeof(node), "%s", value);
	for (int k = ROOT_UUID; k <= ROOT_PARTLABEL; k++)
		if (root && strncmp(root, forms[k].prefix, strlen(forms[k].prefix)) == 0) {
			kind = (enum root_kind)k;
			value = root + strlen(forms[k].prefix);
			snprintf(node, sizeof(node), "%s%s", forms[k].dir, value);
		}
	char *path = root ? realpath(node, NULL) : NULL;
	lua_createtable(L, 0, 3);
	lua_pushinteger(L, kind);
	lua_setfield(L, -2, "type");
	lua_pushstring(L, value);
	lua_setfield(L, -2, "value");
	if (path) {
		lua_pushstring(L, path);
		lua_setfield(L, -2, "path");
	}
	free(path);
	free(root);
	return 1;
}

/* ---- stat -------------------------------------------------------------- */

static const char *file_kind(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR: return "directory";
	case S_IFIFO: return "named pipe";
	case S_IFLNK: return "link";
	case S_IFREG: return "regular file";
	case S_IFSOCK: return "socket";
	case S_IFBLK: return "block device";
	case S_IFCHR: return "char device";
	default: return "unknown";
	}
}

static void set_device_field(lua_State *L, const char *field, dev_t dev)
{
	lua_createtable(L, 0, 2);
	lua_pushinteger(L, major(dev));
	lua_setfield(L, -2, "major");
	lua_pushinteger(L, minor(dev));
	lua_setfield(L, -2, "minor");
	lua_setfield(L, -2, field);
}

/* A time as ctime() writes it (its newline too, as SWUpdate passes it on). */
static void set_time_field(lua_State *L, const char *field, time_t t)
{
	char text[64];
	lua_pushstring(L, ctime_r(&t, text) ? text : "");
	lua_setfield(L, -2, field);
}

static void set_integer_field(lua_State *L, const char *field, lua_Integer value)
{
	lua_pushinteger(L, value);
	lua_setfield(L, -2, field);
}

/* "rwxr-x---" */
static void set_permissions_field(lua_State *L, mode_t mode)
{
	static const char letters[] = "rwxrwxrwx";
	char text[10];
	for (int i = 0; i < 9; i++)
		text[i] = (mode & (0400u >> i)) ? letters[i] : '-';
	text[9] = '\0';
	lua_pushstring(L, text);
	lua_setfield(L, -2, "permissions");
}

/* swupdate.stat(path): stat(2) as a table, or nil. */
static int l_stat(lua_State *L)
{
	struct stat st;
	if (stat(luaL_checkstring(L, 1), &st) < 0) {
		lua_pushnil(L);
		return 1;
	}
	lua_createtable(L, 0, 14);
	lua_pushstring(L, file_kind(st.st_mode));
	lua_setfield(L, -2, "mode");
	set_device_field(L, "dev", st.st_dev);
	set_device_field(L, "rdev", st.st_rdev);
	set_integer_field(L, "ino", (lua_Integer)st.st_ino);
	set_integer_field(L, "nlink", (lua_Integer)st.st_nlink);
	set_integer_field(L, "uid", st.st_uid);
	set_integer_field(L, "gid", st.st_gid);
	set_integer_field(L, "size", st.st_size);
	set_integer_field(L, "blocks", st.st_blocks);
	set_integer_field(L, "blksize", st.st_blksize);
	set_time_field(L, "access", st.st_atime);
	set_time_field(L, "modification", st.st_mtime);
	set_time_field(L, "change", st.st_ctime);
	set_permissions_field(L, st.st_mode);
	return 1;
}

/* swupdate.handler: { NAME = 1, ... } of every handler an install can use. */
static void set_handler_table(lua_State *L)
{
	swi_ctx_t *ctx = swi_lua_env_of(L)->ctx;
	const struct swi_handler *h;
	lua_newtable(L);
	for (size_t i = 0; (h = swi_handler_at(ctx, i)); i++) {
		lua_pushinteger(L, 1);
		lua_setfield(L, -2, h->name);
	}
	lua_setfield(L, -2, "handler");
}

static void set_constants(lua_State *L, const char *table, const char *const names[],
			  const lua_Integer values[], size_t n)
{
	lua_createtable(L, 0, (int)n);
	for (size_t i = 0; i < n; i++) {
		lua_pushnumber(L, (lua_Number)values[i]); /* floats (3.0), as SWUpdate's */
		lua_setfield(L, -2, names[i]);
	}
	lua_setfield(L, -2, table);
}

int swi_lua_open_module(lua_State *L)
{
	static const luaL_Reg functions[] = {
		{ "trace", l_trace }, { "debug", l_debug }, { "info", l_info },
		{ "warn", l_warn }, { "error", l_error }, { "notify", l_notify },
		{ "progress", l_progress }, { "progress_update", l_progress_update },
		{ "get_bootenv", l_get_bootenv }, { "set_bootenv", l_set_bootenv },
		{ "mount", l_mount }, { "umount", l_umount }, { "tmpdir", l_tmpdir },
		{ "tmpdirscripts", l_tmpdirscripts }, { "get_selection", l_get_selection },
		{ "is_dryrun", l_is_dryrun }, { "get_hw", l_get_hw }, { "getversion", l_getversion },
		{ "getroot", l_getroot }, { "stat", l_stat }, { NULL, NULL },
	};
	static const char *const status_names[] = { "IDLE", "START", "RUN", "SUCCESS", "FAILURE",
						     "DOWNLOAD", "DONE", "SUBPROCESS", "PROGRESS" };
	static const lua_Integer status_values[] = { 0, 1, 2, 3, 4, 5, 6, 7, 8 };
	static const char *const mask_names[] = { "IMAGE_HANDLER", "FILE_HANDLER",
						   "SCRIPT_HANDLER", "BOOTLOADER_HANDLER",
						   "PARTITION_HANDLER", "NO_DATA_HANDLER",
						   "ANY_HANDLER" };
	static const lua_Integer mask_values[] = { 1, 2, 4, 8, 16, 32, 63 };
	static const char *const root_names[] = { "PATH", "UUID", "PARTUUID", "PARTLABEL",
						   "PARTUNKNOWN" };
	static const lua_Integer root_values[] = { ROOT_PATH, ROOT_UUID, ROOT_PARTUUID,
						    ROOT_PARTLABEL, ROOT_UNKNOWN };
	luaL_newlib(L, functions);
	set_constants(L, "RECOVERY_STATUS", status_names, status_values, 9);
	set_constants(L, "HANDLER_MASK", mask_names, mask_values, 7);
	set_constants(L, "ROOT_DEVICE", root_names, root_values, 5);
	set_handler_table(L);
	swi_lua_handlers_add_functions(L, -1);
	return 1;
}
