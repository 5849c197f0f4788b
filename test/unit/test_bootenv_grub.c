/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bootloader environment backend "grub", against blocks made, changed and
 * listed with Debian's grub-editenv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "bootenv.h"

#define BLOCK 1024

struct fixture {
	char dir[64];
	char env[128];
	swi_ctx_t *ctx;
};

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* Output of `grub-editenv FILE list`; the caller frees it. */
static char *editenv_list(const struct fixture *f)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s list 2>&1", f->env);
	return command_output(cmd);
}

static void assert_list(const struct fixture *f, const char *expected)
{
	char *out = editenv_list(f);
	assert_string_equal(out, expected);
	free(out);
}

/* The whole file into a malloc'd buffer; *len gets its size. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	unsigned char *buf = malloc(4096);
	assert_non_null(buf);
	*len = fread(buf, 1, 4096, fp);
	fclose(fp);
	return buf;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void assert_file_equals(const char *path, const unsigned char *bytes, size_t len)
{
	size_t now_len;
	unsigned char *now = slurp(path, &now_len);
	assert_int_equal(now_len, len);
	assert_memory_equal(now, bytes, len);
	free(now);
}

static size_t file_size(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return (size_t)st.st_size;
}

/* Entries of the test directory other than . and .. */
static int dir_entries(const struct fixture *f)
{
	DIR *d = opendir(f->dir);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-grubenv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->env, sizeof(f->env), "%s/grubenv", f->dir);
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "bootloader", "grub"), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "grubenv", f->env), SWI_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	run("rm -rf %s", f->dir);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* grub-editenv FILE create, then set a=1 b=2. */
static struct fixture *editenv_block(void **state)
{
	struct fixture *f = *state;
	run("grub-editenv %s create && grub-editenv %s set a=1 b=2", f->env, f->env);
	return f;
}

static struct swi_bootenv *open_env(struct fixture *f)
{
	struct swi_bootenv *env = NULL;
	if (swi_bootenv_open(f->ctx, &env))
		fail_msg("open: %s", swi_errmsg(f->ctx));
	return env;
}

static int apply_pairs(struct fixture *f, struct swi_bootenv *env, const char *const *pairs)
{
	struct swi_attrs vars = { 0 };
	for (; pairs[0]; pairs += 2)
		assert_int_equal(swi_attrs_set(&vars, pairs[0], pairs[1]), SWI_OK);
	int rc = swi_bootenv_apply(env, &vars);
	swi_attrs_free(&vars);
	(void)f;
	return rc;
}

static void apply_ok(struct fixture *f, struct swi_bootenv *env, const char *const *pairs)
{
	if (apply_pairs(f, env, pairs))
		fail_msg("apply: %s", swi_errmsg(f->ctx));
}

static void assert_get(struct swi_bootenv *env, const char *name, const char *expected)
{
	char *value = (char *)"unchanged";
	assert_int_equal(swi_bootenv_get(env, name, &value), SWI_OK);
	if (expected) {
		assert_non_null(value);
		assert_string_equal(value, expected);
	} else {
		assert_null(value);
	}
	free(value);
}

static void get_reads_editenv_values(void **state)
{
	struct fixture *f = editenv_block(state);
	struct swi_bootenv *env = open_env(f);
	assert_get(env, "a", "1");
	assert_get(env, "b", "2");
	assert_get(env, "absent", NULL);
	/* A change by grub-editenv after open is seen. */
	run("grub-editenv %s set a=changed", f->env);
	assert_get(env, "a", "changed");
	swi_bootenv_close(env);
}

static void apply_sets_and_removes(void **state)
{
	struct fixture *f = editenv_block(state);
	struct swi_bootenv *env = open_env(f);
	apply_ok(f, env, (const char *const[]){ "b", "20", "c", "with spaces = and equals", "a", "",
						"never_set", NULL, NULL });
	assert_list(f, "b=20\nc=with spaces = and equals\n");
	assert_int_equal(file_size(f->env), BLOCK);
	assert_get(env, "a", NULL);
	assert_get(env, "c", "with spaces = and equals");
	apply_ok(f, env, (const char *const[]){ "c", NULL, NULL });
	assert_list(f, "b=20\n");
	swi_bootenv_close(env);
}

/* The same changes through grub-editenv and through the backend give the
 * same bytes: order kept, new variables appended, the WARNING line kept. */
static void apply_writes_what_editenv_writes(void **state)
{
	struct fixture *f = editenv_block(state);
	char theirs[160];
	snprintf(theirs, sizeof(theirs), "%s/theirs", f->dir);
	run("grub-editenv %s create && grub-editenv %s set a=1 b=2 && "
	    "grub-editenv %s set c=3 a=9 && grub-editenv %s unset b",
	    theirs, theirs, theirs, theirs);
	struct swi_bootenv *env = open_env(f);
	apply_ok(f, env, (const char *const[]){ "c", "3", "a", "9", "b", NULL, NULL });
	swi_bootenv_close(env);
	size_t len;
	unsigned char *expected = slurp(theirs, &len);
	assert_int_equal(len, BLOCK);
	assert_file_equals(f->env, expected, len);
	free(expected);
}

static void escapes_read_from_editenv(void **state)
{
	struct fixture *f = editenv_block(state);
	run("grub-editenv %s set 'v=back\\slash\nnew line\\'", f->env);
	struct swi_bootenv *env = open_env(f);
	assert_get(env, "v", "back\\slash\nnew line\\");
	assert_get(env, "b", "2");
	swi_bootenv_close(env);
}

static void escapes_written_for_editenv(void **state)
{
	struct fixture *f = editenv_block(state);
	struct swi_bootenv *env = open_env(f);
	apply_ok(f, env, (const char *const[]){ "v", "back\\slash\nnew line\\", "w", "\\n", NULL });
	swi_bootenv_close(env);
	assert_list(f, "a=1\nb=2\nv=back\\slash\nnew line\\\nw=\\n\n");
	/* Byte for byte what grub-editenv writes for the same values. */
	char theirs[160];
	snprintf(theirs, sizeof(theirs), "%s/theirs", f->dir);
	run("grub-editenv %s create && grub-editenv %s set a=1 b=2 "
	    "'v=back\\slash\nnew line\\' 'w=\\n'", theirs, theirs);
	size_t len;
	unsigned char *expected = slurp(theirs, &len);
	assert_file_equals(f->env, expected, len);
	free(expected);
}

/* 1024 bytes exactly is accepted (no '#' fill left), one more is refused
 * with nothing written. */
static void block_must_hold_the_variables(void **state)
{
	struct fixture *f = *state;
	run("grub-editenv %s create", f->env);
	size_t len;
	unsigned char *created = slurp(f->env, &len);
	/* The header lines end at the last line end, the fill follows. */
	size_t used = 0;
	for (size_t i = 0; i < len; i++)
		if (created[i] == '\n')
			used = i + 1;
	free(created);
	size_t fit = BLOCK - used - strlen("v=\n");
	char *value = malloc(fit + 2);
	assert_non_null(value);
	memset(value, 'x', fit + 1);
	value[fit + 1] = '\0';

	struct swi_bootenv *env = open_env(f);
	unsigned char *before = slurp(f->env, &len);
	assert_int_equal(apply_pairs(f, env, (const char *const[]){ "v", value, NULL }), SWI_EIO);
	char msg[256];
	snprintf(msg, sizeof(msg), "%s: variables need %zu bytes, the block holds 1024", f->env,
		 (size_t)BLOCK + 1);
	assert_string_equal(swi_errmsg(f->ctx), msg);
	assert_file_equals(f->env, before, len);
	assert_int_equal(dir_entries(f), 1);
	free(before);

	value[fit] = '\0';
	apply_ok(f, env, (const char *const[]){ "v", value, NULL });
	assert_int_equal(file_size(f->env), BLOCK);
	char *out = editenv_list(f);
	assert_int_equal(strlen(out), fit + strlen("v=\n"));
	free(out);
	assert_get(env, "v", value);
	swi_bootenv_close(env);
	free(value);
}

/* Escapes count: 600 backslashes need 1200 bytes. */
static void escaped_overflow_refused(void **state)
{
	struct fixture *f = editenv_block(state);
	char value[601];
	memset(value, '\\', 600);
	value[600] = '\0';
	size_t len;
	unsigned char *before = slurp(f->env, &len);
	struct swi_bootenv *env = open_env(f);
	assert_int_equal(apply_pairs(f, env, (const char *const[]){ "v", value, NULL }), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(f->ctx), "the block holds 1024"));
	swi_bootenv_close(env);
	assert_file_equals(f->env, before, len);
	free(before);
}

static void missing_file(void **state)
{
	struct fixture *f = *state;
	struct swi_bootenv *env = NULL;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_ECONFIG);
	assert_null(env);
	assert_non_null(strstr(swi_errmsg(f->ctx), f->env));
	assert_non_null(strstr(swi_errmsg(f->ctx), "missing"));
	assert_int_equal(dir_entries(f), 0);
}

/* Opening a corrupt block is refused with reason, the file untouched. */
static void assert_refused(struct fixture *f, const unsigned char *bytes, size_t len,
			   const char *reason)
{
	write_bytes(f->env, bytes, len);
	struct swi_bootenv *env = NULL;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_EIO);
	char expected[256];
	snprintf(expected, sizeof(expected), "%s: not a GRUB environment block (%s)", f->env, reason);
	assert_string_equal(swi_errmsg(f->ctx), expected);
	assert_file_equals(f->env, bytes, len);
}

/* A copy of block (BLOCK bytes) with the first find replaced by the bytes
 * of replace (a string literal, NULs included). */
#define block_with(block, find, replace) \
	block_with_bytes(block, find, replace, sizeof(replace) - 1)
static unsigned char *block_with_bytes(const unsigned char *block, const char *find,
				       const char *replace, size_t replace_len)
{
	unsigned char *bytes = malloc(BLOCK);
	assert_non_null(bytes);
	memcpy(bytes, block, BLOCK);
	unsigned char *at = memmem(bytes, BLOCK, find, strlen(find));
	assert_non_null(at);
	memcpy(at, replace, replace_len);
	return bytes;
}

/* The grub-editenv block of the fixture, BLOCK bytes. */
static unsigned char *editenv_bytes(void **state)
{
	struct fixture *f = editenv_block(state);
	size_t len;
	unsigned char *bytes = slurp(f->env, &len);
	assert_int_equal(len, BLOCK);
	return bytes;
}

static void corrupt_size_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char *bytes = editenv_bytes(state);
	assert_refused(f, bytes, 512, "512 bytes, not 1024");
	unsigned char longer[BLOCK + 1];
	memcpy(longer, bytes, BLOCK);
	longer[BLOCK] = '#';
	assert_refused(f, longer, sizeof(longer), "1025 bytes, not 1024");
	assert_refused(f, bytes, 0, "0 bytes, not 1024");
	free(bytes);
}

static void corrupt_header_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char *good = editenv_bytes(state);
	unsigned char *bytes = block_with(good, "# GRUB Environment", "# GRUB environment");
	assert_refused(f, bytes, BLOCK, "no '# GRUB Environment Block' header");
	free(bytes);
	free(good);
	unsigned char zeros[BLOCK] = { 0 };
	assert_refused(f, zeros, BLOCK, "no '# GRUB Environment Block' header");
}

static void corrupt_lines_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char *good = editenv_bytes(state);
	unsigned char *bytes = block_with(good, "a=1\n", "a-1\n");
	assert_refused(f, bytes, BLOCK, "line 3 has no '='");
	free(bytes);
	bytes = block_with(good, "b=2\n", "=2\n#");
	assert_refused(f, bytes, BLOCK, "line 4 has an empty name");
	free(bytes);
	/* The last line cut off by the fill. */
	bytes = block_with(good, "b=2\n", "b=2#");
	assert_refused(f, bytes, BLOCK, "line 4 has no line end before the '#' fill (truncated?)");
	free(bytes);
	/* Its line end escaped. */
	bytes = block_with(good, "b=2\n", "b=2\\\n");
	assert_refused(f, bytes, BLOCK, "line 4 has no line end (truncated?)");
	free(bytes);
	bytes = block_with(good, "b=2\n", "b=\0002\n");
	assert_refused(f, bytes, BLOCK, "line 4 holds a NUL byte");
	free(bytes);
	free(good);
}

/* Corrupted after open: apply and get refuse, nothing is written. */
static void corrupt_after_open_refused(void **state)
{
	struct fixture *f = *state;
	unsigned char *good = editenv_bytes(state);
	struct swi_bootenv *env = open_env(f);
	unsigned char *bytes = block_with(good, "a=1\n", "a 1\n");
	free(good);
	write_bytes(f->env, bytes, BLOCK);
	assert_int_equal(apply_pairs(f, env, (const char *const[]){ "c", "3", NULL }), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(f->ctx), "not a GRUB environment block"));
	char *value = NULL;
	assert_int_equal(swi_bootenv_get(env, "b", &value), SWI_EIO);
	assert_null(value);
	assert_file_equals(f->env, bytes, BLOCK);
	assert_int_equal(dir_entries(f), 1);
	free(bytes);
	swi_bootenv_close(env);
}

static void bad_name_writes_nothing(void **state)
{
	struct fixture *f = editenv_block(state);
	size_t len;
	unsigned char *before = slurp(f->env, &len);
	struct swi_bootenv *env = open_env(f);
	static const char *const bad[] = { "x=y", "#comment", "new\nline", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(apply_pairs(f, env, (const char *const[]){ "c", "3", bad[i], "v",
									 NULL }),
				 SWI_EINVAL);
		assert_non_null(strstr(swi_errmsg(f->ctx), "cannot set GRUB variable"));
		assert_file_equals(f->env, before, len);
	}
	swi_bootenv_close(env);
	free(before);
}

/* The start marker then the commit: a grub-editenv change in between is
 * kept, and no temporary file stays behind. */
static void concurrent_change_kept(void **state)
{
	struct fixture *f = editenv_block(state);
	struct swi_bootenv *env = open_env(f);
	apply_ok(f, env, (const char *const[]){ "recovery_status", "in_progress", NULL });
	run("grub-editenv %s set other_tool=42", f->env);
	apply_ok(f, env, (const char *const[]){ "recovery_status", NULL, "ustate", "1", NULL });
	assert_list(f, "a=1\nb=2\nother_tool=42\nustate=1\n");
	assert_int_equal(dir_entries(f), 1);
	swi_bootenv_close(env);
}

static void mode_kept(void **state)
{
	struct fixture *f = editenv_block(state);
	assert_int_equal(chmod(f->env, 0640), 0);
	struct swi_bootenv *env = open_env(f);
	apply_ok(f, env, (const char *const[]){ "c", "3", NULL });
	swi_bootenv_close(env);
	struct stat st;
	assert_int_equal(stat(f->env, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

/* A link to the block (as to one on an EFI partition) stays a link; its
 * target gets the new block. */
static void symlink_followed(void **state)
{
	struct fixture *f = *state;
	char target[160];
	snprintf(target, sizeof(target), "%s/real-grubenv", f->dir);
	run("grub-editenv %s create && ln -s real-grubenv %s", target, f->env);
	struct swi_bootenv *env = open_env(f);
	apply_ok(f, env, (const char *const[]){ "c", "3", NULL });
	swi_bootenv_close(env);
	struct stat st;
	assert_int_equal(lstat(f->env, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_list(f, "c=3\n");
	assert_int_equal(file_size(target), BLOCK);
	assert_int_equal(dir_entries(f), 2);
}

/* A write that fails half way (here: the file size limit, which holds for
 * root too) leaves the old block and no temporary file. */
static void failed_write_leaves_block(void **state)
{
	struct fixture *f = editenv_block(state);
	size_t len;
	unsigned char *before = slurp(f->env, &len);
	struct swi_bootenv *env = open_env(f);
	struct rlimit old;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	struct rlimit small = { BLOCK / 2, old.rlim_max };
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = apply_pairs(f, env, (const char *const[]){ "c", "3", NULL });
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(rc, SWI_EIO);
	char expected[256];
	snprintf(expected, sizeof(expected),
		 "%s: cannot write the new GRUB environment block: File too large", f->env);
	assert_string_equal(swi_errmsg(f->ctx), expected);
	assert_file_equals(f->env, before, len);
	assert_int_equal(dir_entries(f), 1);
	swi_bootenv_close(env);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(get_reads_editenv_values, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_sets_and_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(apply_writes_what_editenv_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(escapes_read_from_editenv, setup, teardown),
		cmocka_unit_test_setup_teardown(escapes_written_for_editenv, setup, teardown),
		cmocka_unit_test_setup_teardown(block_must_hold_the_variables, setup, teardown),
		cmocka_unit_test_setup_teardown(escaped_overflow_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_size_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_header_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_lines_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_after_open_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_name_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(concurrent_change_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(mode_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(symlink_followed, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_write_leaves_block, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
