/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libconfig reader of lib/tree.h: the compatibility pass, libconfig's
 * parser, then a copy of its settings into the tree. */
#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include "libconfig_compat.h"
#include "tree_reader.h"

static enum swi_node_kind kind_of(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_GROUP: return SWI_NODE_GROUP;
	case CONFIG_TYPE_LIST:
	case CONFIG_TYPE_ARRAY: return SWI_NODE_LIST;
	case CONFIG_TYPE_FLOAT: return SWI_NODE_FLOAT;
	case CONFIG_TYPE_STRING: return SWI_NODE_STRING;
	case CONFIG_TYPE_BOOL: return SWI_NODE_BOOL;
	default: return SWI_NODE_INTEGER;
	}
}

static int copy_children(swi_ctx_t *ctx, const config_setting_t *from, struct swi_node *to,
			 unsigned depth);

/* Copies setting s as a new child of parent; depth is the level s is at. */
static int copy_setting(swi_ctx_t *ctx, const config_setting_t *s, struct swi_node *parent,
			unsigned depth)
{
	enum swi_node_kind kind = kind_of(s);
	unsigned line = (unsigned)config_setting_source_line(s);
	struct swi_node *n = swi_tree_add(parent, config_setting_name(s), kind, line, 0);
	if (!n)
		return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	switch (kind) {
	case SWI_NODE_GROUP:
	case SWI_NODE_LIST:
		if (depth > SWI_TREE_MAX_DEPTH)
			return swi_fail(ctx, SWI_EFORMAT,
					"sw-description: line %u: nested deeper than %d levels", line,
					SWI_TREE_MAX_DEPTH);
		return copy_children(ctx, s, n, depth);
	case SWI_NODE_STRING:
		if (swi_node_set_string(n, config_setting_get_string(s)))
			return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
		return SWI_OK;
	case SWI_NODE_FLOAT:
		if (!isfinite(config_setting_get_float(s)))
			return swi_fail(ctx, SWI_EFORMAT,
					"sw-description: line %u: number out of range", line);
		swi_node_set_float(n, config_setting_get_float(s));
		return SWI_OK;
	case SWI_NODE_BOOL:
		swi_node_set_bool(n, config_setting_get_bool(s));
		return SWI_OK;
	case SWI_NODE_INTEGER:
		swi_node_set_integer(n, config_setting_get_int64(s));
		return SWI_OK;
	}
	return SWI_OK;
}

static int copy_children(swi_ctx_t *ctx, const config_setting_t *from, struct swi_node *to,
			 unsigned depth)
{
	int rc = SWI_OK;
	for (int i = 0; !rc && i < config_setting_length(from); i++)
		rc = copy_setting(ctx, config_setting_get_elem(from, (unsigned)i), to, depth + 1);
	return rc;
}

int swi_tree_read_libconfig(swi_ctx_t *ctx, const char *text, size_t len,
			    struct swi_tree **tree)
{
	char *clean = NULL;
	int rc = swi_libconfig_compat(ctx, text, len, &clean);
	if (rc)
		return rc;
	config_t cfg;
	config_init(&cfg);
	if (config_read_string(&cfg, clean) != CONFIG_TRUE) {
		const char *why = config_error_text(&cfg);
		rc = swi_fail(ctx, SWI_EFORMAT, "sw-description: line %d: %s",
			      config_error_line(&cfg), why ? why : "syntax error");
	}
	free(clean);
	struct swi_tree *t = NULL;
	if (!rc && !(t = swi_tree_new()))
		rc = swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	if (!rc)
		rc = copy_children(ctx, config_root_setting(&cfg), swi_tree_root(t), 1);
	config_destroy(&cfg);
	if (rc) {
		swi_tree_free(t);
		return rc;
	}
	*tree = t;
	return SWI_OK;
}
