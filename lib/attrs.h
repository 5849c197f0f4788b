/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small ordered list of name=value strings, used for entry attributes,
 * bootloader variables and sw-versions. Private. */
#ifndef SWI_ATTRS_H
#define SWI_ATTRS_H

#include <stddef.h>

struct swi_attr {
	char *name;
	char *value;
};

struct swi_attrs {
	struct swi_attr *items;
	size_t count;
};

/* Sets name to value (replacing an earlier value); SWI_OK or SWI_ENOMEM. */
int swi_attrs_set(struct swi_attrs *a, const char *name, const char *value);
/* The value of name, or NULL. */
const char *swi_attrs_get(const struct swi_attrs *a, const char *name);
void swi_attrs_free(struct swi_attrs *a);

#endif
