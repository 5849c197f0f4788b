/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bootloader environment: the front, backend "none" and backend "uboot"
 * against env files made with mkenvimage and checked with fw_printenv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bootenv.h"

#define ENV_SIZE 0x4000

struct fixture {
	char dir[64];
	char config[128];
	char env[128];
	char env2[128];
	swi_ctx_t *ctx;
	char log[2048];
};

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* mkenvimage of vars (one name=value a line) into path; redundant adds -r. */
static void make_env(struct fixture *f, const char *path, const char *vars, int redundant)
{
	char vars_path[160];
	snprintf(vars_path, sizeof(vars_path), "%s/vars.txt", f->dir);
	write_text(vars_path, vars);
	run("mkenvimage %s -s %#x -o %s %s", redundant ? "-r" : "", ENV_SIZE, path, vars_path);
}

static void make_config(struct fixture *f, int redundant)
{
	char text[400];
	if (redundant)
		snprintf(text, sizeof(text), "%s 0x0 %#x\n%s 0x0 %#x\n", f->env, ENV_SIZE, f->env2,
			 ENV_SIZE);
	else
		snprintf(text, sizeof(text), "# test env\n%s 0x0 %#x\n", f->env, ENV_SIZE);
	write_text(f->config, text);
}

/* fw_printenv -c CONFIG, all variables sorted, one a line. */
static char *printenv(const struct fixture *f)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "fw_printenv -c %s 2>&1", f->config);
	return command_output(cmd);
}

static void read_file_bytes(const char *path, unsigned char *buf, size_t len)
{
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(buf, 1, len, fp), len);
	fclose(fp);
}

static void collect_log(void *user, int level, const char *message)
{
	struct fixture *f = user;
	(void)level;
	size_t used = strlen(f->log);
	snprintf(f->log + used, sizeof(f->log) - used, "%s\n", message);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-bootenv-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->config, sizeof(f->config), "%s/fw_env.config", f->dir);
	snprintf(f->env, sizeof(f->env), "%s/env.bin", f->dir);
	snprintf(f->env2, sizeof(f->env2), "%s/env2.bin", f->dir);
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	swi_set_log(f->ctx, collect_log, f);
	assert_int_equal(swi_set_option(f->ctx, "bootloader", "uboot"), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "uboot-env-config", f->config), SWI_OK);
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

static const char initial_vars[] = "bootcmd=run boot_a\nbaz=old\nfoo=bar\n";

static struct fixture *plain_env(void **state)
{
	struct fixture *f = *state;
	make_env(f, f->env, initial_vars, 0);
	make_config(f, 0);
	return f;
}

static void apply_pairs(struct fixture *f, struct swi_bootenv *env, const char *const *pairs)
{
	struct swi_attrs vars = { 0 };
	for (; pairs[0]; pairs += 2)
		assert_int_equal(swi_attrs_set(&vars, pairs[0], pairs[1]), SWI_OK);
	int rc = swi_bootenv_apply(env, &vars);
	swi_attrs_free(&vars);
	if (rc)
		fail_msg("apply: %s", swi_errmsg(f->ctx));
}

static void assert_printenv(const struct fixture *f, const char *expected)
{
	char *out = printenv(f);
	assert_string_equal(out, expected);
	free(out);
}

static void uboot_get_reads_values(void **state)
{
	struct fixture *f = plain_env(state);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	char *value = NULL;
	assert_int_equal(swi_bootenv_get(env, "foo", &value), SWI_OK);
	assert_string_equal(value, "bar");
	free(value);
	assert_int_equal(swi_bootenv_get(env, "bootcmd", &value), SWI_OK);
	assert_string_equal(value, "run boot_a");
	free(value);
	assert_int_equal(swi_bootenv_get(env, "absent", &value), SWI_OK);
	assert_null(value);
	swi_bootenv_close(env);
}

static void uboot_apply_sets_and_removes(void **state)
{
	struct fixture *f = plain_env(state);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	apply_pairs(f, env, (const char *const[]){ "bootcmd", "run boot_b", "ustate", "1",
						   "new_var", "with spaces = and equals",
						   "baz", "", NULL });
	assert_printenv(f, "bootcmd=run boot_b\nfoo=bar\nnew_var=with spaces = and equals\nustate=1\n");
	char *value = NULL;
	assert_int_equal(swi_bootenv_get(env, "baz", &value), SWI_OK);
	assert_null(value);
	swi_bootenv_close(env);
}

/* The start marker then the commit: two writes through one open env, and a
 * fw_setenv by someone else in between is kept. */
static void uboot_second_apply_keeps_concurrent_change(void **state)
{
	struct fixture *f = plain_env(state);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	apply_pairs(f, env, (const char *const[]){ "recovery_status", "in_progress", NULL });
	run("fw_setenv -c %s other_tool 42", f->config);
	apply_pairs(f, env, (const char *const[]){ "recovery_status", NULL, "ustate", "1", NULL });
	assert_printenv(f, "baz=old\nbootcmd=run boot_a\nfoo=bar\nother_tool=42\nustate=1\n");
	swi_bootenv_close(env);
}

static void uboot_redundant_pair(void **state)
{
	struct fixture *f = *state;
	make_env(f, f->env, initial_vars, 1);
	make_env(f, f->env2, initial_vars, 1);
	make_config(f, 1);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	/* Three writes alternate the copies: each must become the current one. */
	apply_pairs(f, env, (const char *const[]){ "step", "1", NULL });
	assert_printenv(f, "baz=old\nbootcmd=run boot_a\nfoo=bar\nstep=1\n");
	apply_pairs(f, env, (const char *const[]){ "step", "2", "baz", NULL, NULL });
	assert_printenv(f, "bootcmd=run boot_a\nfoo=bar\nstep=2\n");
	apply_pairs(f, env, (const char *const[]){ "step", "3", NULL });
	assert_printenv(f, "bootcmd=run boot_a\nfoo=bar\nstep=3\n");
	char *value = NULL;
	assert_int_equal(swi_bootenv_get(env, "step", &value), SWI_OK);
	assert_string_equal(value, "3");
	free(value);
	swi_bootenv_close(env);
}

static void expect_open_error(struct fixture *f, int code, const char *needle)
{
	struct swi_bootenv *env = NULL;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), code);
	assert_null(env);
	if (!strstr(swi_errmsg(f->ctx), needle))
		fail_msg("'%s' does not mention '%s'", swi_errmsg(f->ctx), needle);
}

static void uboot_missing_config(void **state)
{
	struct fixture *f = *state;
	expect_open_error(f, SWI_ECONFIG, f->config);
	expect_open_error(f, SWI_ECONFIG, "No such file");
}

static void uboot_config_without_device_line(void **state)
{
	struct fixture *f = *state;
	write_text(f->config, "# nothing here\n\nnot-a-device-line\n/dev/null 0x0\n");
	expect_open_error(f, SWI_ECONFIG, "no 'DEVICE OFFSET SIZE' line");
}

static void uboot_missing_env_device(void **state)
{
	struct fixture *f = *state;
	make_config(f, 0);
	expect_open_error(f, SWI_ECONFIG, f->env);
	expect_open_error(f, SWI_ECONFIG, "device missing");
}

static void uboot_env_shorter_than_configured(void **state)
{
	struct fixture *f = *state;
	write_text(f->env, "too short");
	make_config(f, 0);
	expect_open_error(f, SWI_EIO, f->env);
	expect_open_error(f, SWI_EIO, "cannot read");
}

static void corrupt_byte(const char *path, long at)
{
	FILE *fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	int c = fgetc(fp);
	assert_int_equal(fseek(fp, at, SEEK_SET), 0);
	fputc(c ^ 0x01, fp);
	assert_int_equal(fclose(fp), 0);
}

static void uboot_corrupt_env_refused_at_open(void **state)
{
	struct fixture *f = plain_env(state);
	corrupt_byte(f->env, 6);
	unsigned char before[ENV_SIZE], after[ENV_SIZE];
	read_file_bytes(f->env, before, sizeof(before));
	expect_open_error(f, SWI_EIO, "bad CRC");
	expect_open_error(f, SWI_EIO, f->env);
	read_file_bytes(f->env, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
}

/* Corrupted after open: the apply re-reads, refuses, and writes nothing. */
static void uboot_corrupt_env_refused_at_apply(void **state)
{
	struct fixture *f = plain_env(state);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	corrupt_byte(f->env, 6);
	unsigned char before[ENV_SIZE], after[ENV_SIZE];
	read_file_bytes(f->env, before, sizeof(before));
	struct swi_attrs vars = { 0 };
	assert_int_equal(swi_attrs_set(&vars, "ustate", "1"), SWI_OK);
	assert_int_equal(swi_bootenv_apply(env, &vars), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(f->ctx), "bad CRC"));
	char *value = (char *)"unchanged";
	assert_int_equal(swi_bootenv_get(env, "foo", &value), SWI_EIO);
	assert_null(value);
	swi_attrs_free(&vars);
	swi_bootenv_close(env);
	read_file_bytes(f->env, after, sizeof(after));
	assert_memory_equal(before, after, sizeof(before));
}

/* One copy of a redundant pair corrupt: the other one is used. */
static void uboot_redundant_survives_one_corrupt_copy(void **state)
{
	struct fixture *f = *state;
	make_env(f, f->env, initial_vars, 1);
	make_env(f, f->env2, initial_vars, 1);
	make_config(f, 1);
	corrupt_byte(f->env, 10);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	apply_pairs(f, env, (const char *const[]){ "ustate", "1", NULL });
	assert_printenv(f, "baz=old\nbootcmd=run boot_a\nfoo=bar\nustate=1\n");
	swi_bootenv_close(env);
}

static void uboot_bad_name_writes_nothing(void **state)
{
	struct fixture *f = plain_env(state);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	struct swi_attrs vars = { 0 };
	assert_int_equal(swi_attrs_set(&vars, "good", "1"), SWI_OK);
	assert_int_equal(swi_attrs_set(&vars, "bad=name", "1"), SWI_OK);
	assert_int_equal(swi_bootenv_apply(env, &vars), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(f->ctx), "'bad=name'"));
	swi_attrs_free(&vars);
	swi_bootenv_close(env);
	assert_printenv(f, "baz=old\nbootcmd=run boot_a\nfoo=bar\n");
}

/* Sets big to a value of len bytes; returns the apply's status. */
static int apply_big(struct swi_bootenv *env, size_t len)
{
	char *big = malloc(len + 1);
	assert_non_null(big);
	memset(big, 'x', len);
	big[len] = '\0';
	struct swi_attrs vars = { 0 };
	assert_int_equal(swi_attrs_set(&vars, "big", big), SWI_OK);
	int rc = swi_bootenv_apply(env, &vars);
	swi_attrs_free(&vars);
	free(big);
	return rc;
}

static void uboot_variables_must_fit(void **state)
{
	struct fixture *f = plain_env(state);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	/* 0x4000 - 4 CRC bytes = 16380: the three variables (35 bytes with
	 * their NULs), "big=" value NUL (5 + len), the final NUL (1). */
	assert_int_equal(apply_big(env, 16340), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(f->ctx), "need 16381 bytes, it holds 16380"));
	assert_printenv(f, "baz=old\nbootcmd=run boot_a\nfoo=bar\n");
	assert_int_equal(apply_big(env, 16339), SWI_OK);
	char *value = NULL;
	assert_int_equal(swi_bootenv_get(env, "big", &value), SWI_OK);
	assert_int_equal(strlen(value), 16339);
	free(value);
	swi_bootenv_close(env);
}

static void none_backend(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_set_option(f->ctx, "bootloader", "none"), SWI_OK);
	struct swi_bootenv *env;
	/* No fw_env.config exists: "none" never looks for one. */
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	char *value = (char *)"unchanged";
	assert_int_equal(swi_bootenv_get(env, "foo", &value), SWI_OK);
	assert_null(value);
	struct swi_attrs vars = { 0 };
	assert_int_equal(swi_attrs_set(&vars, "ustate", "1"), SWI_OK);
	assert_int_equal(swi_attrs_set(&vars, "gone", ""), SWI_OK);
	assert_int_equal(swi_bootenv_apply(env, &vars), SWI_OK);
	assert_non_null(strstr(f->log, "would set ustate=1"));
	assert_non_null(strstr(f->log, "would remove gone"));
	swi_attrs_free(&vars);
	swi_bootenv_close(env);
}

static void default_is_none(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_set_option(f->ctx, "bootloader", NULL), SWI_OK);
	struct swi_bootenv *env;
	assert_int_equal(swi_bootenv_open(f->ctx, &env), SWI_OK);
	char *value = (char *)"unchanged";
	assert_int_equal(swi_bootenv_get(env, "foo", &value), SWI_OK);
	assert_null(value);
	swi_bootenv_close(env);
}

static void unknown_bootloader(void **state)
{
	struct fixture *f = *state;
	/* swi_set_option refuses unknown names, so set the field directly as a
	 * configuration from a newer version could. */
	free(f->ctx->opt.bootloader);
	f->ctx->opt.bootloader = strdup("grub-legacy");
	assert_non_null(f->ctx->opt.bootloader);
	expect_open_error(f, SWI_ECONFIG, "'grub-legacy'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(uboot_get_reads_values, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_apply_sets_and_removes, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_second_apply_keeps_concurrent_change, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_redundant_pair, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_missing_config, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_config_without_device_line, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_missing_env_device, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_env_shorter_than_configured, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_corrupt_env_refused_at_open, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_corrupt_env_refused_at_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_redundant_survives_one_corrupt_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_bad_name_writes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(uboot_variables_must_fit, setup, teardown),
		cmocka_unit_test_setup_teardown(none_backend, setup, teardown),
		cmocka_unit_test_setup_teardown(default_is_none, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_bootloader, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
