/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the readers of lib/tree.h (tree_libconfig.c, tree_json.c) build
 * trees with. Private. */
#ifndef SWI_TREE_READER_H
#define SWI_TREE_READER_H

#include "tree.h"

/* An empty tree: a root group without members; NULL without memory. */
struct swi_tree *swi_tree_new(void);
/* Appends a node of kind to parent (a group: name given; a list: name
 * NULL). Returns it, or NULL without memory. */
struct swi_node *swi_tree_add(struct swi_node *parent, const char *name,
			      enum swi_node_kind kind, unsigned line, unsigned column);
/* Sets a leaf's value; the string is copied (SWI_OK or SWI_ENOMEM). */
int swi_node_set_string(struct swi_node *node, const char *s);
void swi_node_set_integer(struct swi_node *node, long long v);
void swi_node_set_float(struct swi_node *node, double v);
void swi_node_set_bool(struct swi_node *node, bool v);

/* Line and column (from 1, in bytes) of text[offset]. */
void swi_text_position(const char *text, size_t offset, unsigned *line, unsigned *column);

/* The readers; text holds no NUL byte. */
int swi_tree_read_libconfig(swi_ctx_t *ctx, const char *text, size_t len,
			    struct swi_tree **tree);
int swi_tree_read_json(swi_ctx_t *ctx, const char *text, size_t len, struct swi_tree **tree);

#endif
