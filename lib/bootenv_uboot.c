/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Bootloader "uboot": the U-Boot environment through libubootenv, configured
 * by an fw_env.config file (option uboot-env-config).
 *
 * Each get and apply opens (reads and CRC-checks) the environment afresh and
 * closes it again, instead of keeping it loaded from swi_bootenv_open() on:
 * - libubootenv holds its lock file (flock) from libuboot_open() to
 *   libuboot_close(); keeping it would block fw_printenv/fw_setenv for the
 *   whole install. Holding it only around one read-modify-write also means a
 *   concurrent fw_setenv between our two writes (start marker, commit) is
 *   re-read rather than overwritten by our stale copy.
 * - libubootenv 0.3.2 does not update the in-memory flag of the copy it just
 *   wrote, so repeated libuboot_env_store() calls on one loaded redundant
 *   environment compute stale flags: tried here, the third store of one
 *   open context gets the same flag as the copy before it and is lost on
 *   the next read. Re-reading before each write avoids that.
 *
 * A bad CRC (in both copies of a redundant pair): libuboot_open() 0.3.2
 * returns -ENODATA and leaves the variable list empty, but the context stays
 * usable, so a following libuboot_env_store() would write a fresh environment
 * holding only our variables over the corrupt one (fw_setenv even loads a
 * default environment file first). We refuse instead: a corrupt environment
 * is an error here and its bytes are left alone.
 */
#include <errno.h>
#include <stddef.h> /* libuboot.h uses size_t without including it */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <libuboot.h>
#include "bootenv.h"

struct uboot_env {
	struct uboot_ctx *lib;
	char *config;
	char devices[2 * 260 + 8]; /* "DEV" or "DEV and DEV", for messages */
	char first_missing[260];   /* a listed device that does not exist, or "" */
	size_t env_size;           /* of one copy, from the first device line */
	unsigned ndevices;         /* 2: a redundant pair */
};

/*
 * libubootenv does not tell which device(s) the configuration names, nor the
 * size, so the lines are scanned here the way libuboot_read_config() does
 * ("#" in the first column is a comment; a line needs DEVICE OFFSET SIZE), to
 * name the devices in messages and to check the variables fit before a store.
 */
static void scan_devices(struct uboot_env *env)
{
	FILE *f = fopen(env->config, "r");
	if (!f)
		return;
	char line[1024];
	unsigned found = 0;
	while (found < 2 && fgets(line, sizeof(line), f)) {
		char dev[256];
		long long offset;
		size_t size;
		if (line[0] == '#' || sscanf(line, "%255s %lli %zx", dev, &offset, &size) < 3)
			continue;
		if (!found)
			env->env_size = size;
		struct stat st;
		if (!env->first_missing[0] && stat(dev, &st) < 0)
			snprintf(env->first_missing, sizeof(env->first_missing), "%s", dev);
		size_t used = strlen(env->devices);
		snprintf(env->devices + used, sizeof(env->devices) - used, "%s%s",
			 found ? " and " : "", dev);
		found++;
	}
	env->ndevices = found;
	fclose(f);
}

static int config_error(swi_ctx_t *ctx, const struct uboot_env *env, int rc)
{
	struct stat st;
	if (stat(env->config, &st) < 0)
		return swi_fail(ctx, SWI_ECONFIG, "%s: cannot read the U-Boot environment configuration: %s",
				env->config, strerror(errno));
	if (!env->devices[0])
		return swi_fail(ctx, SWI_ECONFIG, "%s: no 'DEVICE OFFSET SIZE' line for the U-Boot environment",
				env->config);
	if (env->first_missing[0])
		return swi_fail(ctx, SWI_ECONFIG, "%s (named in %s): U-Boot environment device missing",
				env->first_missing, env->config);
	return swi_fail(ctx, SWI_ECONFIG, "%s: U-Boot environment configuration refused: %s",
			env->config, strerror(-rc));
}

/* Reads and CRC-checks the environment and takes libubootenv's lock; on
 * success the caller ends with libuboot_close(). */
static int load(swi_ctx_t *ctx, struct uboot_env *env)
{
	int rc = libuboot_open(env->lib);
	if (rc == 0)
		return SWI_OK;
	libuboot_close(env->lib);
	if (rc == -ENODATA)
		return swi_fail(ctx, SWI_EIO,
				"%s: bad CRC, the U-Boot environment is corrupt (left as it is; repair it before installing)",
				env->devices);
	return swi_fail(ctx, SWI_EIO,
			"%s: cannot read the U-Boot environment (unreadable, or shorter than the offset and size in %s)",
			env->devices, env->config);
}

static void uboot_close(void *state)
{
	struct uboot_env *env = state;
	if (!env)
		return;
	libuboot_exit(env->lib);
	free(env->config);
	free(env);
}

static int uboot_open(swi_ctx_t *ctx, void **state)
{
	struct uboot_env *env = calloc(1, sizeof(*env));
	if (!env || !(env->config = strdup(swi_opt_uboot_env_config(ctx)))) {
		free(env);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	scan_devices(env);
	/* Checked here as libubootenv 0.3.2 leaks a string per such line. */
	if (!env->ndevices) {
		int rc = config_error(ctx, env, -EINVAL);
		uboot_close(env);
		return rc;
	}
	int rc = libuboot_initialize(&env->lib, NULL);
	if (rc < 0) {
		uboot_close(env);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	rc = libuboot_read_config(env->lib, env->config);
	if (rc < 0) {
		rc = config_error(ctx, env, rc);
		uboot_close(env);
		return rc;
	}
	/* Read once now, so a missing or corrupt environment is reported before
	 * anything on the device changes. */
	rc = load(ctx, env);
	if (rc) {
		uboot_close(env);
		return rc;
	}
	libuboot_close(env->lib);
	*state = env;
	return SWI_OK;
}

static int uboot_get(swi_ctx_t *ctx, void *state, const char *name, char **value)
{
	struct uboot_env *env = state;
	int rc = load(ctx, env);
	if (rc)
		return rc;
	*value = libuboot_get_env(env->lib, name);
	libuboot_close(env->lib);
	return SWI_OK;
}

static int set_all(swi_ctx_t *ctx, struct uboot_env *env, const struct swi_attrs *vars)
{
	for (size_t i = 0; i < vars->count; i++) {
		const struct swi_attr *v = &vars->items[i];
		const char *value = v->value && v->value[0] ? v->value : NULL;
		int rc = libuboot_set_env(env->lib, v->name, value);
		if (rc < 0)
			return swi_fail(ctx, SWI_EINVAL, "%s: cannot set U-Boot variable '%s': %s",
					env->devices, v->name, strerror(-rc));
	}
	return SWI_OK;
}

/*
 * libuboot_env_store() 0.3.2 leaks its buffer when the variables do not fit,
 * and says only -ENOMEM, so the size is checked here first: each variable is
 * "name=value\0", then one more NUL, after the CRC (and the redundant flag).
 * A ".flags" variable, which libubootenv appends for typed variables, is not
 * counted; libubootenv's own check still catches that rare case.
 */
static int check_fits(swi_ctx_t *ctx, struct uboot_env *env)
{
	size_t header = env->ndevices > 1 ? 5 : 4;
	size_t room = env->env_size > header ? env->env_size - header : 0;
	size_t need = 1;
	for (void *it = libuboot_iterator(env->lib, NULL); it; it = libuboot_iterator(env->lib, it))
		need += strlen(libuboot_getname(it)) + strlen(libuboot_getvalue(it)) + 2;
	if (need > room)
		return swi_fail(ctx, SWI_EIO,
				"%s: cannot write the U-Boot environment: the variables need %zu bytes, it holds %zu",
				env->devices, need, room);
	return SWI_OK;
}

static int uboot_apply(swi_ctx_t *ctx, void *state, const struct swi_attrs *vars)
{
	struct uboot_env *env = state;
	int rc = load(ctx, env);
	if (rc)
		return rc;
	rc = set_all(ctx, env, vars);
	if (rc == SWI_OK)
		rc = check_fits(ctx, env);
	if (rc == SWI_OK) {
		int store = libuboot_env_store(env->lib);
		/* A positive result is the byte count of a short write. */
		if (store != 0)
			rc = swi_fail(ctx, SWI_EIO, "%s: cannot write the U-Boot environment: %s",
				      env->devices,
				      store == -ENOMEM ? "the variables do not fit in its size"
				      : store > 0 ? "short write" : strerror(-store));
	}
	libuboot_close(env->lib);
	return rc;
}

const struct swi_bootenv_backend swi_bootenv_uboot = {
	.name = "uboot",
	.open = uboot_open,
	.get = uboot_get,
	.apply = uboot_apply,
	.close = uboot_close,
};
