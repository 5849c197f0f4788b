/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Links (ref = "#PATH") and the places fields are looked up at, over the
 * tree of lib/tree.h, for either syntax. Private. */
#ifndef SWI_LINKS_H
#define SWI_LINKS_H

#include "tree.h"

/*
 * Where fields are looked up, most specific first, as SWUpdate does:
 * software.BOARD.SET.MODE, software.SET.MODE, software.BOARD, software,
 * separately for every field and collection, following links on the way.
 */
struct swi_lookup {
	swi_ctx_t *ctx;
	const struct swi_tree *tree;
	const char *places[4][4];
	size_t place_len[4];
	size_t nplaces;
	size_t nselection_places; /* the first ones, which name SET.MODE */
	char *set;                /* select split at its comma (one allocation) */
	const char *mode;
	struct swi_node *active;  /* the top of the stack of active nodes */
};

/* Sets the places for board (NULL or "" for none) and select ("SET,MODE",
 * NULL or ""; anything else is SWI_EINVAL). */
int swi_lookup_init(struct swi_lookup *l, swi_ctx_t *ctx, const struct swi_tree *tree,
		    const char *board, const char *select);
void swi_lookup_free(struct swi_lookup *l);

/* Replaces *node (may be NULL) by what its links name, until it is no
 * link. A link is a group holding a string "ref": "#" and a path of names
 * separated by "/", from the root, or from the group holding the link when
 * the first name is "." or "..". A loop is SWI_EFORMAT, a chain that never
 * comes back is fine however long. */
int swi_lookup_follow(struct swi_lookup *l, struct swi_node **node);
/* The member name of group node (may be NULL) with its links followed, or NULL. */
int swi_lookup_member(struct swi_lookup *l, struct swi_node *node, const char *name,
		      struct swi_node **out);
/* The node at place i (0 <= i < nplaces), or NULL when it does not exist. */
int swi_lookup_place(struct swi_lookup *l, size_t i, struct swi_node **out);
/* At the most specific place that has one of names (NULL-terminated, the
 * first preferred at each place), that member; *out NULL when none has. */
int swi_lookup_fields(struct swi_lookup *l, const char *const *names, struct swi_node **out);
/* swi_lookup_fields for one name. */
int swi_lookup_field(struct swi_lookup *l, const char *name, struct swi_node **out);
/* With a selection, software.SET.MODE or software.BOARD.SET.MODE must
 * exist: SWI_ECOMPAT otherwise. */
int swi_lookup_check_selection(struct swi_lookup *l, const char *select);

/* A list's elements are read between these two: a link on an element that
 * leads back into a list being read is a loop. enter returns what leave
 * takes. */
struct swi_node *swi_lookup_enter_list(struct swi_lookup *l, struct swi_node *list);
void swi_lookup_leave_list(struct swi_lookup *l, struct swi_node *base);
/* Follows the links of a list's element (SWUpdate does so too). */
int swi_lookup_element(struct swi_lookup *l, struct swi_node **elem);

#endif
