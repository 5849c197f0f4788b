/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small ordered list of name=value strings, used for entry attributes,
 * bootloader variables and sw-versions. Private. */
#ifndef SWI_ATTRS_H
#define SWI_ATTRS_H

#include <stddef.h>

/* What an attribute was written as in sw-description. Every attribute
 * also has a text form in value (booleans "true"/"false", numbers in
 * decimal, a list's elements joined with ","), so that plain lookups work
 * whatever the kind; a list keeps its elements in list as well. */
enum swi_attr_kind {
	SWI_ATTR_TEXT,
	SWI_ATTR_BOOL,
	SWI_ATTR_NUMBER,
	SWI_ATTR_LIST,
};

struct swi_attr {
	char *name;
	char *value;
	enum swi_attr_kind kind;
	char **list;       /* SWI_ATTR_LIST only: nlist elements, as text */
	size_t nlist;
};

struct swi_attrs {
	struct swi_attr *items;
	size_t count;
};

/* Sets name to value (replacing an earlier value); SWI_OK or SWI_ENOMEM. */
int swi_attrs_set(struct swi_attrs *a, const char *name, const char *value);
/* Sets name with its kind (SWI_ATTR_TEXT, _BOOL or _NUMBER). */
int swi_attrs_set_kind(struct swi_attrs *a, const char *name, const char *value,
		       enum swi_attr_kind kind);
/* Sets name to a list (kind SWI_ATTR_LIST; value is the elements joined with ","). */
int swi_attrs_set_list(struct swi_attrs *a, const char *name, const char *const *items,
		       size_t n);
/* Removes name, when it is there. */
void swi_attrs_remove(struct swi_attrs *a, const char *name);
/* The attribute called name, or NULL. */
const struct swi_attr *swi_attrs_find(const struct swi_attrs *a, const char *name);
/* The value of name, or NULL. */
const char *swi_attrs_get(const struct swi_attrs *a, const char *name);
void swi_attrs_free(struct swi_attrs *a);

#endif
