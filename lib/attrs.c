/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>
#include "attrs.h"
#include "swinstall.h"

static struct swi_attr *find(const struct swi_attrs *a, const char *name)
{
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i].name, name) == 0)
			return &a->items[i];
	return NULL;
}

int swi_attrs_set(struct swi_attrs *a, const char *name, const char *value)
{
	char *copy = strdup(value ? value : "");
	if (!copy)
		return SWI_ENOMEM;
	struct swi_attr *old = find(a, name);
	if (old) {
		free(old->value);
		old->value = copy;
		return SWI_OK;
	}
	struct swi_attr *items = realloc(a->items, (a->count + 1) * sizeof(*items));
	char *name_copy = strdup(name);
	if (!items || !name_copy) {
		if (items)
			a->items = items;
		free(copy);
		free(name_copy);
		return SWI_ENOMEM;
	}
	a->items = items;
	a->items[a->count++] = (struct swi_attr){ name_copy, copy };
	return SWI_OK;
}

const char *swi_attrs_get(const struct swi_attrs *a, const char *name)
{
	const struct swi_attr *it = find(a, name);
	return it ? it->value : NULL;
}

void swi_attrs_free(struct swi_attrs *a)
{
	for (size_t i = 0; i < a->count; i++) {
		free(a->items[i].name);
		free(a->items[i].value);
	}
	free(a->items);
	a->items = NULL;
	a->count = 0;
}
