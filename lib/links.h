/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Links (ref = "#PATH") and the places fields are looked up at, over the
 * tree of lib/tree.h, for either syntax. Private. */
#ifndef SWI_LINKS_H
#define SWI_LINKS_H

#include "tree.h"

struct swi_visit;

/* Links resolved inside the path of another link, and lists expanded
 * inside a list through its elements' links, nest at most this deep
 * together: each level costs stack. Chains of links, one leading to the
 * next, and lists of many links are not limited. */
#define SWI_LINKS_MAX_NESTING 256

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
	struct swi_visit *active; /* the top of the stack of active nodes */
	struct swi_visit *visits; /* every node met, to free */
	unsigned nesting;         /* links being resolved + lists being read */
};

/* Sets the places for board (NULL or "" for none) and select ("SET,MODE",
 * NULL or ""; anything else is SWI_EINVAL). The lookup marks the tree's
 * nodes: one lookup per tree at a time, and swi_lookup_free before the
 * tree is freed. */
int swi_lookup_init(struct swi_lookup *l, swi_ctx_t *ctx, const struct swi_tree *tree,
		    const char *board, const char *select);
void swi_lookup_free(struct swi_lookup *l);

/* Replaces *node (may be NULL) by what its links name, until it is no
 * link. A link is a group holding a string "ref": "#" and a path of names
 * separated by "/", from the root, or from the group holding the link when
 * the first name is "." or "..". A loop is SWI_EFORMAT, a chain that never
 * comes back is fine however long. Each link is resolved once; meeting it
 * again gives the same node or the same error. */
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
 * leads back into a list being read is a loop. enter sets *base to what
 * leave takes (SWI_OK, SWI_ENOMEM, or SWI_EFORMAT when lists nest deeper
 * than SWI_LINKS_MAX_NESTING); leave is called after either. */
int swi_lookup_enter_list(struct swi_lookup *l, struct swi_node *list,
			  struct swi_visit **base);
void swi_lookup_leave_list(struct swi_lookup *l, struct swi_visit *base);
/* Follows the links of a list's element (SWUpdate does so too). */
int swi_lookup_element(struct swi_lookup *l, struct swi_node **elem);

#endif
