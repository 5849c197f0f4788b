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

static void free_list(struct swi_attr *it)
{
	for (size_t i = 0; i < it->nlist; i++)
		free(it->list[i]);
	free(it->list);
	it->list = NULL;
	it->nlist = 0;
}

/* Stores value (taken over) and list (taken over, may be NULL) under name. */
static int store(struct swi_attrs *a, const char *name, char *value,
		 enum swi_attr_kind kind, char **list, size_t nlist)
{
	struct swi_attr *it = find(a, name);
	if (!it) {
		struct swi_attr *items = realloc(a->items, (a->count + 1) * sizeof(*items));
		char *name_copy = strdup(name);
		if (items)
			a->items = items;
		if (!items || !name_copy) {
			free(name_copy);
			return SWI_ENOMEM;
		}
		it = &a->items[a->count++];
		*it = (struct swi_attr){ .name = name_copy };
	}
	free(it->value);
	free_list(it);
	*it = (struct swi_attr){ it->name, value, kind, list, nlist };
	return SWI_OK;
}

int swi_attrs_set_kind(struct swi_attrs *a, const char *name, const char *value,
		       enum swi_attr_kind kind)
{
	char *copy = strdup(value ? value : "");
	if (!copy)
		return SWI_ENOMEM;
	int rc = store(a, name, copy, kind, NULL, 0);
	if (rc)
		free(copy);
	return rc;
}

int swi_attrs_set(struct swi_attrs *a, const char *name, const char *value)
{
	return swi_attrs_set_kind(a, name, value, SWI_ATTR_TEXT);
}

int swi_attrs_set_list(struct swi_attrs *a, const char *name, const char *const *items,
		       size_t n)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(items[i]) + 1;
	char *joined = malloc(len);
	char **list = calloc(n ? n : 1, sizeof(*list));
	int rc = joined && list ? SWI_OK : SWI_ENOMEM;
	char *end = joined;
	for (size_t i = 0; rc == SWI_OK && i < n; i++) {
		if (!(list[i] = strdup(items[i])))
			rc = SWI_ENOMEM;
		else
			end = stpcpy(stpcpy(end, i ? "," : ""), items[i]);
	}
	if (end)
		*end = '\0';
	if (rc == SWI_OK)
		rc = store(a, name, joined, SWI_ATTR_LIST, list, n);
	if (rc) {
		for (size_t i = 0; list && i < n; i++)
			free(list[i]);
		free(list);
		free(joined);
	}
	return rc;
}

void swi_attrs_remove(struct swi_attrs *a, const char *name)
{
	struct swi_attr *it = find(a, name);
	if (!it)
		return;
	free(it->name);
	free(it->value);
	free_list(it);
	size_t at = (size_t)(it - a->items);
	memmove(it, it + 1, (a->count - at - 1) * sizeof(*it));
	a->count--;
}

const struct swi_attr *swi_attrs_find(const struct swi_attrs *a, const char *name)
{
	return find(a, name);
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
		free_list(&a->items[i]);
	}
	free(a->items);
	a->items = NULL;
	a->count = 0;
}
