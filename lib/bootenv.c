/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bootloader environment front: picks the backend, forwards the calls. */
#include <stdlib.h>
#include <string.h>
#include "bootenv.h"

struct swi_bootenv {
	swi_ctx_t *ctx;
	const struct swi_bootenv_backend *backend;
	void *state;
};

/* The one table of backends: a new bootloader is one line here. */
static const struct swi_bootenv_backend *const backends[] = {
	&swi_bootenv_none,
	&swi_bootenv_uboot,
	&swi_bootenv_grub,
};

static const struct swi_bootenv_backend *find_backend(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

int swi_bootenv_open(swi_ctx_t *ctx, struct swi_bootenv **out)
{
	const char *name = swi_opt_bootloader(ctx);
	const struct swi_bootenv_backend *backend = find_backend(name);
	if (!backend)
		return swi_fail(ctx, SWI_ECONFIG, "bootloader: no backend for '%s' (known: none, uboot, grub)",
				name);
	struct swi_bootenv *env = calloc(1, sizeof(*env));
	if (!env)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	env->ctx = ctx;
	env->backend = backend;
	int rc = backend->open(ctx, &env->state);
	if (rc) {
		free(env);
		return rc;
	}
	*out = env;
	return SWI_OK;
}

int swi_bootenv_get(struct swi_bootenv *env, const char *name, char **value)
{
	*value = NULL;
	return env->backend->get(env->ctx, env->state, name, value);
}

int swi_bootenv_apply(struct swi_bootenv *env, const struct swi_attrs *vars)
{
	return env->backend->apply(env->ctx, env->state, vars);
}

void swi_bootenv_close(struct swi_bootenv *env)
{
	if (!env)
		return;
	env->backend->close(env->state);
	free(env);
}

/* U-Boot ends a name at '='; GRUB also at a line end and reads a leading
 * '#' as a comment; blanks would not survive fw_setenv's command line. */
bool swi_bootenv_name_ok(const char *name)
{
	if (!name || !name[0] || name[0] == '#')
		return false;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c == '=' || *c <= ' ' || *c == 0x7f)
			return false;
	return true;
}
