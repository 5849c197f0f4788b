/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bootloader "none": no environment. Reads find nothing, writes are logged. */
#include <stddef.h>
#include "bootenv.h"

static int none_open(swi_ctx_t *ctx, void **state)
{
	(void)ctx;
	*state = NULL;
	return SWI_OK;
}

static int none_get(swi_ctx_t *ctx, void *state, const char *name, char **value)
{
	(void)ctx;
	(void)state;
	(void)name;
	*value = NULL;
	return SWI_OK;
}

static int none_apply(swi_ctx_t *ctx, void *state, const struct swi_attrs *vars)
{
	(void)state;
	for (size_t i = 0; i < vars->count; i++) {
		const struct swi_attr *v = &vars->items[i];
		if (v->value && v->value[0])
			swi_log(ctx, SWI_LOG_DEBUG, "bootloader none: would set %s=%s",
				v->name, v->value);
		else
			swi_log(ctx, SWI_LOG_DEBUG, "bootloader none: would remove %s", v->name);
	}
	return SWI_OK;
}

static void none_close(void *state)
{
	(void)state;
}

const struct swi_bootenv_backend swi_bootenv_none = {
	.name = "none",
	.open = none_open,
	.get = none_get,
	.apply = none_apply,
	.close = none_close,
};
