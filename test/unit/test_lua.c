/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The owner of lua_States (lib/lua.c): errors named by chunk, function and
 * line, the memory cap, the cancel hook, the module's logging. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "lua_host.h"
#include "testutil.h"

static char logged[4096];

static void log_to_buffer(void *user, int level, const char *msg)
{
	(void)user; (void)level;
	size_t used = strlen(logged);
	snprintf(logged + used, sizeof(logged) - used, "%s\n", msg);
}

struct fx {
	swi_ctx_t *ctx;
	struct swi_lua_env env;
	struct swi_lua *l;
	char dir[64];                /* files a test needs; tmpdir */
	struct swi_scratch scratch;  /* the install's private directory, under dir */
	struct swi_attrs staged;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	swi_set_log(f->ctx, log_to_buffer, NULL);
	strcpy(f->dir, "/tmp/swi-lua-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(swi_set_option(f->ctx, "tmpdir", f->dir), SWI_OK);
	f->scratch.ctx = f->ctx;
	f->env.ctx = f->ctx;
	assert_int_equal(swi_lua_new(&f->env, "lua script t.lua", &f->l), SWI_OK);
	logged[0] = '\0';
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	swi_lua_free(f->l);
	swi_scratch_remove(&f->scratch);
	assert_int_equal(remove_tree(f->dir), 0);
	swi_attrs_free(&f->staged);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

static void run(struct fx *f, const char *code, int expect)
{
	assert_int_equal(swi_lua_run_buffer(f->l, "t.lua", code, strlen(code)), expect);
}

static void functions_are_called_with_arguments_and_results(void **state)
{
	struct fx *f = *state;
	run(f, "function preinst(data) return true, 'got ' .. data end", SWI_OK);
	lua_State *L = swi_lua_state(f->l);
	lua_pushstring(L, "x y");
	bool missing = true;
	assert_int_equal(swi_lua_call(f->l, "preinst", 1, 2, &missing), SWI_OK);
	assert_false(missing);
	assert_true(lua_toboolean(L, -2));
	assert_string_equal(lua_tostring(L, -1), "got x y");
	lua_pop(L, 2);
	lua_pushstring(L, "x");
	assert_int_equal(swi_lua_call(f->l, "postinst", 1, 1, &missing), SWI_OK);
	assert_true(missing);
	assert_int_equal(lua_gettop(L), 0);
}

static void errors_name_the_script_function_and_line(void **state)
{
	struct fx *f = *state;
	run(f, "local x = 1\nfunction preinst(data)\n  return nil + 1\nend", SWI_OK);
	assert_int_equal(swi_lua_call(f->l, "preinst", 0, 1, NULL), SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "lua script t.lua: preinst: t.lua:3: attempt to "
						   "perform arithmetic on a nil value"));
	run(f, "this is not lua", SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "lua script t.lua: t.lua:1:"));
	run(f, "error('refused by the script')", SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "t.lua:1: refused by the script"));
	assert_int_equal(lua_gettop(swi_lua_state(f->l)), 0);
}

static void bytecode_is_refused(void **state)
{
	struct fx *f = *state;
	static const char bytecode[] = "\x1bLua\x53\x00";
	assert_int_equal(swi_lua_run_buffer(f->l, "t.luac", bytecode, sizeof(bytecode) - 1),
			 SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "binary"));
}

static void memory_is_capped(void **state)
{
	struct fx *f = *state;
	run(f, "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
	    SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "out of memory (a Lua state may use 64 MiB)"));
	/* The state is still usable once the garbage went. */
	lua_gc(swi_lua_state(f->l), LUA_GCCOLLECT, 0);
	run(f, "x = 1", SWI_OK);
}

static void *cancel_soon(void *arg)
{
	usleep(100 * 1000);
	swi_cancel(arg);
	return NULL;
}

static void an_endless_loop_is_cancelled(void **state)
{
	struct fx *f = *state;
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, f->ctx), 0);
	run(f, "while true do end", SWI_ECANCELED);
	pthread_join(t, NULL);
}

static void the_module_logs_printf_style(void **state)
{
	struct fx *f = *state;
	swi_set_option(f->ctx, "dry-run", "0");
	run(f, "swupdate.info('%s has %d entries', 'image', 3)\n"
	       "assert(require('swupdate') == swupdate)\n"
	       "assert(swupdate.RECOVERY_STATUS.SUCCESS == 3)\n"
	       "assert(swupdate.HANDLER_MASK.ANY_HANDLER == 63)", SWI_OK);
	assert_non_null(strstr(logged, "image has 3 entries"));
}

/* f->dir/name holding text. */
static void dir_file(struct fx *f, const char *name, const char *text, char *path, size_t size)
{
	snprintf(path, size, "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void the_module_reports_status_and_progress(void **state)
{
	struct fx *f = *state;
	run(f, "swupdate.notify(swupdate.RECOVERY_STATUS.RUN, 0, 'half way')\n"
	       "swupdate.notify(swupdate.RECOVERY_STATUS.FAILURE, 1, 'went wrong')\n"
	       "swupdate.notify(swupdate.RECOVERY_STATUS.RUN, 0, '')\n"
	       "swupdate.progress('copying')\n"
	       "swupdate.progress_update(42)", SWI_OK);
	assert_string_equal(logged, "half way\nwent wrong\nprogress: copying\nprogress: 42%\n");
	run(f, "swupdate.notify('x')", SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "bad argument #1 to 'notify'"));
}

/* get_bootenv reads the environment as it is (a GRUB block here). */
static void get_bootenv_reads_the_live_environment(void **state)
{
	struct fx *f = *state;
	char block[1024], path[128];
	int n = snprintf(block, sizeof(block), "# GRUB Environment Block\nbootslot=b\n");
	memset(block + n, '#', sizeof(block) - (size_t)n);
	snprintf(path, sizeof(path), "%s/grubenv", f->dir);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(block, 1, sizeof(block), fp), sizeof(block));
	assert_int_equal(fclose(fp), 0);
	swi_set_option(f->ctx, "bootloader", "grub");
	swi_set_option(f->ctx, "grubenv", path);
	run(f, "assert(swupdate.get_bootenv('bootslot') == 'b')\n"
	       "assert(swupdate.get_bootenv('unset') == nil)\n"
	       "assert(swupdate.get_bootenv('') == nil)", SWI_OK);
	/* an environment that cannot be read is nil, and a warning */
	swi_set_option(f->ctx, "grubenv", "/nonexistent/grubenv");
	run(f, "assert(swupdate.get_bootenv('bootslot') == nil)", SWI_OK);
	assert_non_null(strstr(logged, "swupdate.get_bootenv(bootslot): "));
}

static void set_bootenv_stages_or_is_refused(void **state)
{
	struct fx *f = *state;
	run(f, "swupdate.set_bootenv('a', '1')", SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->ctx), "set_bootenv: no install to stage 'a' in here"));
	f->env.staged_bootenv = &f->staged;
	run(f, "swupdate.set_bootenv('a', '1')\n"
	       "swupdate.set_bootenv('b', '')\n"
	       "swupdate.set_bootenv('c')", SWI_OK);
	assert_string_equal(swi_attrs_get(&f->staged, "a"), "1");
	assert_string_equal(swi_attrs_get(&f->staged, "b"), "");
	assert_string_equal(swi_attrs_get(&f->staged, "c"), "");
	run(f, "swupdate.set_bootenv('', 'x')", SWI_EHANDLER);
}

/* Directories end with "/", as SWUpdate's do. */
static void the_directories_end_with_a_slash(void **state)
{
	struct fx *f = *state;
	char code[256];
	snprintf(code, sizeof(code), "assert(swupdate.tmpdir() == '%s/')\n"
		 "assert(swupdate.tmpdirscripts() == nil)", f->dir);
	run(f, code, SWI_OK);
	f->env.scratch = &f->scratch;
	const char *scratch;
	assert_int_equal(swi_scratch_dir(&f->scratch, &scratch), SWI_OK);
	snprintf(code, sizeof(code), "assert(swupdate.tmpdirscripts() == '%s/')", scratch);
	run(f, code, SWI_OK);
	swi_set_option(f->ctx, "tmpdir", "/var/tmp/");
	run(f, "assert(swupdate.tmpdir() == '/var/tmp/')", SWI_OK);
}

static void selection_and_dry_run(void **state)
{
	struct fx *f = *state;
	run(f, "local set, mode = swupdate.get_selection()\n"
	       "assert(set == '' and mode == '')\n"
	       "assert(swupdate.is_dryrun() == false)", SWI_OK);
	f->env.selection = "stable,copy2";
	swi_set_option(f->ctx, "dry-run", "1");
	run(f, "local set, mode = swupdate.get_selection()\n"
	       "assert(set == 'stable' and mode == 'copy2')\n"
	       "assert(swupdate.is_dryrun() == true)", SWI_OK);
}

static void get_hw_and_getversion(void **state)
{
	struct fx *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/none", f->dir);
	swi_set_option(f->ctx, "hwrevision-file", path);
	run(f, "assert(swupdate.get_hw() == nil)", SWI_OK);
	dir_file(f, "hwrevision", "myboard 1.2\n", path, sizeof(path));
	swi_set_option(f->ctx, "hwrevision-file", path);
	run(f, "local hw = swupdate.get_hw()\n"
	       "assert(hw.boardname == 'myboard' and hw.revision == '1.2')", SWI_OK);
	unsigned v[3];
	assert_int_equal(sscanf(SWI_VERSION_STRING, "%u.%u.%u", &v[0], &v[1], &v[2]), 3);
	char code[256];
	snprintf(code, sizeof(code), "local v = swupdate.getversion()\n"
		 "assert(v[1] == %u and v[2] == %u and v[3] == %u)\n"
		 "assert(v.version == %u and v.patchlevel == %u and v.sublevel == %u)",
		 v[0], v[1], v[2], v[0], v[1], v[2]);
	run(f, code, SWI_OK);
}

/* getroot(): the device mounted at /, else root= of the command line by
 * its kind. */
static void getroot_names_the_running_root(void **state)
{
	struct fx *f = *state;
	char cmdline[128], mountinfo[128];
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	char line[256];
	/* MAJOR:MINOR of no device: the mount source */
	dir_file(f, "mountinfo", "22 1 4095:4095 / / rw,relatime shared:1 - ext4 /dev/zero rw\n",
		 mountinfo, sizeof(mountinfo));
	swi_set_option(f->ctx, "mountinfo-file", mountinfo);
	dir_file(f, "cmdline", "console=ttyS0 root=PARTUUID=1234-02 rootwait\n", cmdline,
		 sizeof(cmdline));
	swi_set_option(f->ctx, "cmdline-file", cmdline);
	run(f, "local r = swupdate.getroot()\n"
	       "assert(r.type == swupdate.ROOT_DEVICE.PATH and r.value == '/dev/zero')\n"
	       "assert(r.path == '/dev/zero')", SWI_OK);
	/* nothing mounted at / in the table: the command line */
	dir_file(f, "mountinfo", "", mountinfo, sizeof(mountinfo));
	run(f, "local r = swupdate.getroot()\n"
	       "assert(r.type == swupdate.ROOT_DEVICE.PARTUUID and r.value == '1234-02')\n"
	       "assert(r.path == nil)", SWI_OK);
	dir_file(f, "cmdline", "root=/dev/null ro\n", cmdline, sizeof(cmdline));
	run(f, "local r = swupdate.getroot()\n"
	       "assert(r.type == swupdate.ROOT_DEVICE.PATH and r.value == '/dev/null')\n"
	       "assert(r.path == '/dev/null')", SWI_OK);
	dir_file(f, "cmdline", "quiet\n", cmdline, sizeof(cmdline));
	run(f, "local r = swupdate.getroot()\n"
	       "assert(r.type == swupdate.ROOT_DEVICE.PARTUNKNOWN and r.value == '')", SWI_OK);
	/* the block device of MAJOR:MINOR wins over the mount source */
	if (stat("/dev/loop0", &st) == 0 && S_ISBLK(st.st_mode)) {
		snprintf(line, sizeof(line), "22 1 %u:%u / / rw - ext4 /dev/root rw\n",
			 major(st.st_rdev), minor(st.st_rdev));
		dir_file(f, "mountinfo", line, mountinfo, sizeof(mountinfo));
		run(f, "local r = swupdate.getroot()\n"
		       "assert(r.type == swupdate.ROOT_DEVICE.PATH and r.value == '/dev/loop0')",
		    SWI_OK);
	}
}

static void stat_gives_a_table_or_nil(void **state)
{
	struct fx *f = *state;
	char path[128], code[1024];
	dir_file(f, "file", "12345", path, sizeof(path));
	assert_int_equal(chmod(path, 0640), 0);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	snprintf(code, sizeof(code), "local s = swupdate.stat('%s')\n"
		 "assert(s.mode == 'regular file' and s.size == 5 and s.permissions == 'rw-r-----')\n"
		 "assert(s.ino == %lld and s.nlink == 1 and s.uid == %u and s.gid == %u)\n"
		 "assert(type(s.dev.major) == 'number' and type(s.rdev.minor) == 'number')\n"
		 "assert(s.modification:match('^%%a+ %%a+ +%%d+ %%d+:%%d+:%%d+ %%d+\\n$'))\n"
		 "assert(swupdate.stat('%s').mode == 'directory')\n"
		 "assert(swupdate.stat('%s/none') == nil)", path, (long long)st.st_ino,
		 (unsigned)st.st_uid, (unsigned)st.st_gid, f->dir, f->dir);
	run(f, code, SWI_OK);
}

static void handler_and_constants(void **state)
{
	struct fx *f = *state;
	run(f, "assert(swupdate.handler.raw == 1 and swupdate.handler.lua == 1)\n"
	       "assert(swupdate.handler.shellscript == 1 and swupdate.handler.nosuch == nil)\n"
	       "assert(swupdate.ROOT_DEVICE.PATH == 0 and swupdate.ROOT_DEVICE.UUID == 1)\n"
	       "assert(swupdate.ROOT_DEVICE.PARTLABEL == 3)\n"
	       "assert(swupdate.RECOVERY_STATUS.PROGRESS == 8)\n"
	       "-- floats, as SWUpdate's: scripts that print them see the same text\n"
	       "assert(tostring(swupdate.RECOVERY_STATUS.SUCCESS) == '3.0')\n"
	       "assert(math.type(swupdate.getversion().version) == 'float')", SWI_OK);
}

/* mount() of what cannot be mounted is nil, with the reason logged;
 * umount() of a directory it did not give is nil. */
static void mount_failures_are_nil(void **state)
{
	struct fx *f = *state;
	f->env.scratch = &f->scratch;
	char code[256];
	snprintf(code, sizeof(code), "assert(swupdate.mount('%s/none', 'ext4') == nil)\n"
		 "assert(swupdate.mount('', 'ext4') == nil)\n"
		 "assert(swupdate.umount('%s') == nil)", f->dir, f->dir);
	run(f, code, SWI_OK);
	assert_non_null(strstr(logged, "swupdate.mount("));
	assert_non_null(strstr(logged, "not mounted by swupdate.mount"));
}

/* Whether dir is a mount point of this process. */
static bool is_mounted(const char *dir)
{
	char line[4096], point[1024];
	bool found = false;
	FILE *fp = fopen("/proc/self/mountinfo", "r");
	assert_non_null(fp);
	while (!found && fgets(line, sizeof(line), fp))
		found = sscanf(line, "%*s %*s %*s %*s %1023s", point) == 1 && !strcmp(point, dir);
	fclose(fp);
	return found;
}

/* A loop device holding a fresh ext4 in f->dir, or NULL (and why). */
static const char *attach_ext4(struct fx *f, char *loop, size_t size)
{
	if (geteuid() != 0 || access("/dev/loop-control", F_OK) != 0)
		return "needs root and loop devices";
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "mkfs.ext4 -q -F %s/fs.img 4M >/dev/null 2>&1 && "
		 "losetup -f --show %s/fs.img 2>/dev/null", f->dir, f->dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	if (!fgets(loop, (int)size, p))
		loop[0] = '\0';
	loop[strcspn(loop, "\n")] = '\0';
	return pclose(p) == 0 && loop[0] ? NULL : "mkfs.ext4 or losetup failed";
}

/* mount() gives a directory in the private directory; umount() lets it
 * go; a mount the script left is undone when its state is freed. */
static void mounts_are_undone_at_the_latest_with_the_state(void **state)
{
	struct fx *f = *state;
	char loop[64], code[512];
	const char *unusable = attach_ext4(f, loop, sizeof(loop));
	if (unusable) {
		print_message("skipped: %s\n", unusable);
		skip();
	}
	f->env.scratch = &f->scratch;
	const char *scratch;
	assert_int_equal(swi_scratch_dir(&f->scratch, &scratch), SWI_OK);
	snprintf(code, sizeof(code),
		 "local dir = swupdate.mount('%s', 'ext4')\n"
		 "assert(dir:sub(1, %zu) == '%s/mount-', dir)\n"
		 "assert(swupdate.stat(dir .. '/lost+found').mode == 'directory')\n"
		 "assert(swupdate.umount(dir) == true)\n"
		 "assert(swupdate.stat(dir) == nil)\n"
		 "left = swupdate.mount('%s', 'ext4')", loop, strlen(scratch) + 7, scratch, loop);
	run(f, code, SWI_OK);
	lua_State *L = swi_lua_state(f->l);
	lua_getglobal(L, "left");
	char *left = strdup(lua_tostring(L, -1));
	lua_pop(L, 1);
	assert_true(is_mounted(left));
	swi_lua_free(f->l);
	f->l = NULL;
	assert_false(is_mounted(left));
	struct stat st;
	assert_int_equal(stat(left, &st), -1);
	assert_non_null(strstr(logged, "was left mounted by the script: unmounted"));
	free(left);
	snprintf(code, sizeof(code), "losetup -d %s", loop);
	assert_int_equal(system(code), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(functions_are_called_with_arguments_and_results),
		T(errors_name_the_script_function_and_line),
		T(bytecode_is_refused),
		T(memory_is_capped),
		T(an_endless_loop_is_cancelled),
		T(the_module_logs_printf_style),
		T(the_module_reports_status_and_progress),
		T(get_bootenv_reads_the_live_environment),
		T(set_bootenv_stages_or_is_refused),
		T(the_directories_end_with_a_slash),
		T(selection_and_dry_run),
		T(get_hw_and_getversion),
		T(getroot_names_the_running_root),
		T(stat_gives_a_table_or_nil),
		T(handler_and_constants),
		T(mount_failures_are_nil),
		T(mounts_are_undone_at_the_latest_with_the_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
