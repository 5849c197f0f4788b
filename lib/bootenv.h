/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bootloader environment: one front, a backend per bootloader. Private. */
#ifndef SWI_BOOTENV_H
#define SWI_BOOTENV_H

#include <stdbool.h>
#include "attrs.h"
#include "context.h"

struct swi_bootenv_backend {
	const char *name;
	int (*open)(swi_ctx_t *ctx, void **state);
	/* *value is a malloc'd copy, or NULL when the variable is unset. */
	int (*get)(swi_ctx_t *ctx, void *state, const char *name, char **value);
	/* All of vars in one atomic write; a NULL or "" value removes. */
	int (*apply)(swi_ctx_t *ctx, void *state, const struct swi_attrs *vars);
	void (*close)(void *state);
};

struct swi_bootenv;

/* Opens the backend named by the "bootloader" option. */
int swi_bootenv_open(swi_ctx_t *ctx, struct swi_bootenv **out);
int swi_bootenv_get(struct swi_bootenv *env, const char *name, char **value);
int swi_bootenv_apply(struct swi_bootenv *env, const struct swi_attrs *vars);
void swi_bootenv_close(struct swi_bootenv *env);

/* Whether name can be a variable of every backend's environment (a slot's
 * bootenv, mark-good-env, rollback-env); SWI_BOOTENV_NAME_RULE says why not. */
bool swi_bootenv_name_ok(const char *name);
#define SWI_BOOTENV_NAME_RULE \
	"a name must be non-empty, not start with '#' and hold no '=', blank or control character"

/* The backends (lib/bootenv_*.c), listed in lib/bootenv.c's table. */
extern const struct swi_bootenv_backend swi_bootenv_none;
extern const struct swi_bootenv_backend swi_bootenv_uboot;
extern const struct swi_bootenv_backend swi_bootenv_grub;

#endif
