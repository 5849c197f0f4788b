/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sw-description as a tree: the nodes both readers build, and the choice of
 * the reader by the text's content. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tree_reader.h"

struct swi_node {
	enum swi_node_kind kind;
	char *name;
	struct swi_node *parent;
	struct swi_node **children;
	size_t count;
	size_t cap;
	/* A group's members by name: a hash table of indexes + 1 (0 is an
	 * empty slot) with nindex slots, built at the first lookup after a
	 * member was added (indexed members). */
	size_t *index;
	size_t nindex;
	size_t indexed;
	char *string;
	long long integer;
	double real;
	bool boolean;
	unsigned line;
	unsigned column;
	void *mark;
};

struct swi_tree {
	struct swi_node *root;
};

/* ---------------------------------------------------------------------- */
/* Building                                                                 */

static struct swi_node *node_new(const char *name, enum swi_node_kind kind, unsigned line,
				 unsigned column)
{
	struct swi_node *n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	if (name && !(n->name = strdup(name))) {
		free(n);
		return NULL;
	}
	n->kind = kind;
	n->line = line;
	n->column = column;
	return n;
}

/* Frees node and everything below it (the depth is bounded by
 * SWI_TREE_MAX_DEPTH, so the recursion is too). */
static void node_free(struct swi_node *n)
{
	for (size_t i = 0; i < n->count; i++)
		node_free(n->children[i]);
	free(n->children);
	free(n->index);
	free(n->name);
	free(n->string);
	free(n);
}

struct swi_tree *swi_tree_new(void)
{
	struct swi_tree *t = calloc(1, sizeof(*t));
	if (t && !(t->root = node_new(NULL, SWI_NODE_GROUP, 0, 0))) {
		free(t);
		return NULL;
	}
	return t;
}

void swi_tree_free(struct swi_tree *tree)
{
	if (!tree)
		return;
	node_free(tree->root);
	free(tree);
}

struct swi_node *swi_tree_add(struct swi_node *parent, const char *name,
			      enum swi_node_kind kind, unsigned line, unsigned column)
{
	if (parent->count == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		struct swi_node **grown = realloc(parent->children, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		parent->children = grown;
		parent->cap = cap;
	}
	struct swi_node *n = node_new(name, kind, line, column);
	if (!n)
		return NULL;
	n->parent = parent;
	parent->children[parent->count++] = n;
	return n;
}

int swi_node_set_string(struct swi_node *node, const char *s)
{
	char *copy = strdup(s);
	if (!copy)
		return SWI_ENOMEM;
	free(node->string);
	node->string = copy;
	return SWI_OK;
}

void swi_node_set_integer(struct swi_node *node, long long v)
{
	node->integer = v;
}

void swi_node_set_float(struct swi_node *node, double v)
{
	node->real = v;
}

void swi_node_set_bool(struct swi_node *node, bool v)
{
	node->boolean = v;
}

void swi_text_position(const char *text, size_t offset, unsigned *line, unsigned *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			++*line;
			*column = 1;
		} else {
			++*column;
		}
	}
}

/* ---------------------------------------------------------------------- */
/* Choosing the reader                                                      */

/* Length of the blanks and comments (any of the three styles) at text[i]. */
static size_t blank_len(const char *t, size_t len, size_t i)
{
	size_t j = i;
	while (j < len) {
		if (isspace((unsigned char)t[j])) {
			j++;
		} else if (t[j] == '#' || (t[j] == '/' && j + 1 < len && t[j + 1] == '/')) {
			while (j < len && t[j] != '\n')
				j++;
		} else if (t[j] == '/' && j + 1 < len && t[j + 1] == '*') {
			const char *end = NULL;
			for (size_t k = j + 2; k + 1 < len && !end; k++)
				if (t[k] == '*' && t[k + 1] == '/')
					end = t + k + 2;
			j = end ? (size_t)(end - t) : len;
		} else {
			break;
		}
	}
	return j - i;
}

bool swi_tree_is_json(const char *text, size_t len)
{
	size_t i = blank_len(text, len, 0);
	return i < len && (text[i] == '{' || text[i] == '[');
}

int swi_tree_parse(swi_ctx_t *ctx, const char *text, size_t len, struct swi_tree **tree)
{
	*tree = NULL;
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		unsigned line, column;
		swi_text_position(text, (size_t)(nul - text), &line, &column);
		return swi_fail(ctx, SWI_EFORMAT,
				"sw-description: line %u, column %u: contains a NUL byte", line, column);
	}
	if (swi_tree_is_json(text, len))
		return swi_tree_read_json(ctx, text, len, tree);
	return swi_tree_read_libconfig(ctx, text, len, tree);
}

/* ---------------------------------------------------------------------- */
/* Reading                                                                  */

struct swi_node *swi_tree_root(const struct swi_tree *tree)
{
	return tree->root;
}

enum swi_node_kind swi_node_kind(const struct swi_node *node)
{
	return node->kind;
}

bool swi_node_is_group(const struct swi_node *node)
{
	return node && node->kind == SWI_NODE_GROUP;
}

bool swi_node_is_list(const struct swi_node *node)
{
	return node && node->kind == SWI_NODE_LIST;
}

const char *swi_node_name(const struct swi_node *node)
{
	return node->name;
}

struct swi_node *swi_node_parent(const struct swi_node *node)
{
	return node->parent;
}

size_t swi_node_count(const struct swi_node *node)
{
	return node->count;
}

struct swi_node *swi_node_child(const struct swi_node *node, size_t i)
{
	return i < node->count ? node->children[i] : NULL;
}

/* FNV-1a: a file's member names are not chosen to collide, and a file
 * that did so would only cost time. */
static size_t name_hash(const char *name)
{
	size_t h = (size_t)14695981039346656037ULL;
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * (size_t)1099511628211ULL;
	return h;
}

/* The slot of name in node's index: where it is, or the empty slot where
 * it would go. */
static size_t index_slot(const struct swi_node *node, const char *name)
{
	size_t mask = node->nindex - 1;
	size_t i = name_hash(name) & mask;
	while (node->index[i] && strcmp(node->children[node->index[i] - 1]->name, name))
		i = (i + 1) & mask;
	return i;
}

/* (Re)builds node's index, at most half full; the first of equal names
 * wins, as with a search in order. false without memory. */
static bool build_index(struct swi_node *node)
{
	size_t n = 16;
	while (n < 2 * node->count)
		n *= 2;
	size_t *index = calloc(n, sizeof(*index));
	if (!index)
		return false;
	free(node->index);
	node->index = index;
	node->nindex = n;
	for (size_t i = 0; i < node->count; i++) {
		size_t slot = index_slot(node, node->children[i]->name);
		if (!node->index[slot])
			node->index[slot] = i + 1;
	}
	node->indexed = node->count;
	return true;
}

struct swi_node *swi_node_member(const struct swi_node *node, const char *name)
{
	if (!swi_node_is_group(node))
		return NULL;
	/* the index is a cache: building it changes nothing a reader sees */
	struct swi_node *group = (struct swi_node *)node;
	if (group->indexed != group->count || !group->index) {
		if (!build_index(group)) {
			for (size_t i = 0; i < node->count; i++)
				if (!strcmp(node->children[i]->name, name))
					return node->children[i];
			return NULL;
		}
	}
	size_t slot = index_slot(group, name);
	return group->index[slot] ? group->children[group->index[slot] - 1] : NULL;
}

const char *swi_node_string(const struct swi_node *node)
{
	return node->kind == SWI_NODE_STRING ? node->string : NULL;
}

long long swi_node_integer(const struct swi_node *node)
{
	return node->integer;
}

double swi_node_float(const struct swi_node *node)
{
	return node->real;
}

bool swi_node_bool(const struct swi_node *node)
{
	return node->boolean;
}

unsigned swi_node_line(const struct swi_node *node)
{
	return node->line;
}

unsigned swi_node_column(const struct swi_node *node)
{
	return node->column;
}

/* The index of node in its parent's children. */
static size_t index_in_parent(const struct swi_node *node)
{
	size_t i = 0;
	while (node->parent->children[i] != node)
		i++;
	return i;
}

/* Appends node's step to buf (which holds n bytes of text), returns the
 * new length (snprintf's, so it may exceed size: the text is cut). */
static size_t append_step(const struct swi_node *node, char *buf, size_t size, size_t n)
{
	if (!node->parent)
		return n;
	n = append_step(node->parent, buf, size, n);
	char *at = n < size ? buf + n : NULL;
	size_t room = n < size ? size - n : 0;
	int w;
	if (node->parent->kind == SWI_NODE_LIST)
		w = snprintf(at, room, "[%zu]", index_in_parent(node));
	else
		w = snprintf(at, room, "%s%s", node->parent->parent ? "." : "", node->name);
	return n + (w > 0 ? (size_t)w : 0);
}

const char *swi_node_path(const struct swi_node *node, char *buf, size_t size)
{
	if (!size)
		return buf;
	buf[0] = '\0';
	append_step(node, buf, size, 0);
	return buf;
}

const char *swi_node_where(const struct swi_node *node, char *buf, size_t size)
{
	if (!node->line)
		return swi_node_path(node, buf, size);
	if (node->column)
		snprintf(buf, size, "line %u, column %u", node->line, node->column);
	else
		snprintf(buf, size, "line %u", node->line);
	return buf;
}

void *swi_node_mark(const struct swi_node *node)
{
	return node->mark;
}

void swi_node_set_mark(struct swi_node *node, void *mark)
{
	node->mark = mark;
}
