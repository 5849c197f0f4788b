/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sw-description as a tree, whatever its syntax. Private.
 *
 * SWUpdate reads sw-description in libconfig syntax or as JSON. Both
 * readers build the same tree: groups (libconfig { }, JSON objects) hold
 * named members in the order written; lists (libconfig ( ) and [ ], JSON
 * arrays) hold unnamed elements; leaves are strings, integers, floats and
 * booleans. Code above this interface never knows which syntax was read.
 */
#ifndef SWI_TREE_H
#define SWI_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include "context.h"

/* Groups and lists nest at most this deep (the root group is level 1). */
#define SWI_TREE_MAX_DEPTH 64

enum swi_node_kind {
	SWI_NODE_GROUP,
	SWI_NODE_LIST,
	SWI_NODE_STRING,
	SWI_NODE_INTEGER,
	SWI_NODE_FLOAT,
	SWI_NODE_BOOL,
};

struct swi_tree;
struct swi_node;

/*
 * Reads text into a tree. The syntax is told by the content, as SWUpdate
 * accepts both: JSON when the first thing after blanks and comments is
 * '{' or '[', libconfig otherwise (a libconfig file starts with a setting's
 * name). Malformed text is SWI_EFORMAT with "line L" (and ", column C"
 * when the reader knows it) in the message, or, for a JSON value the
 * reader refuses (null, an integer beyond 64 bits), its path; on failure
 * *tree is NULL.
 */
int swi_tree_parse(swi_ctx_t *ctx, const char *text, size_t len, struct swi_tree **tree);
void swi_tree_free(struct swi_tree *tree);
/* Whether swi_tree_parse reads text as JSON. */
bool swi_tree_is_json(const char *text, size_t len);

/* The unnamed root group. */
struct swi_node *swi_tree_root(const struct swi_tree *tree);

enum swi_node_kind swi_node_kind(const struct swi_node *node);
bool swi_node_is_group(const struct swi_node *node);   /* false for NULL */
bool swi_node_is_list(const struct swi_node *node);    /* false for NULL */
/* A member's name; NULL for list elements and the root. */
const char *swi_node_name(const struct swi_node *node);
/* The group or list holding node; NULL for the root. */
struct swi_node *swi_node_parent(const struct swi_node *node);
/* Members of a group or elements of a list; 0 for leaves. */
size_t swi_node_count(const struct swi_node *node);
/* The i-th member or element, or NULL past the end. */
struct swi_node *swi_node_child(const struct swi_node *node, size_t i);
/* The member called name of a group, or NULL (also when node is no group). */
struct swi_node *swi_node_member(const struct swi_node *node, const char *name);

/* A string leaf's text, or NULL for any other node. */
const char *swi_node_string(const struct swi_node *node);
long long swi_node_integer(const struct swi_node *node);
double swi_node_float(const struct swi_node *node);
bool swi_node_bool(const struct swi_node *node);

/* Where the node was written: line and column from 1, 0 when the reader
 * does not know (libconfig knows lines only, json-c neither). */
unsigned swi_node_line(const struct swi_node *node);
unsigned swi_node_column(const struct swi_node *node);
/* The path of names and indexes from the root, "software.images[1]". */
const char *swi_node_path(const struct swi_node *node, char *buf, size_t size);
/* For messages: "line L" when the line is known, else the path. */
const char *swi_node_where(const struct swi_node *node, char *buf, size_t size);

/* One pointer per node for whoever walks the tree (links.c marks the
 * nodes it is following); NULL until set. */
void *swi_node_mark(const struct swi_node *node);
void swi_node_set_mark(struct swi_node *node, void *mark);

#endif
