/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The JSON reader of lib/tree.h, with json-c.
 *
 * What is accepted is what json-c's tokener reads with its default flags,
 * which is also what SWUpdate's JSON parser reads: standard JSON plus
 * comments (slash-star and double slash), trailing commas, single-quoted
 * strings. The root must be an object (holding "software"). Objects become
 * groups and arrays lists; links are objects holding "ref", as in the
 * libconfig syntax. On top of json-c, this reader refuses:
 *  - anything but blanks after the root object (json-c would stop there);
 *  - \u0000 inside a string: json-c cuts a name there, and a value with a
 *    NUL inside would not be the text it looks like;
 *  - null, which has no libconfig counterpart;
 *  - integers beyond 64 bits (json-c would clamp them) and numbers that are
 *    not finite (1e999, NaN);
 *  - nesting deeper than SWI_TREE_MAX_DEPTH, like the libconfig reader.
 * A name written twice in one object keeps its last value (json-c's rule,
 * which SWUpdate shares). json-c knows no positions of values, so tree
 * nodes read from JSON have none and messages name them by path; syntax
 * errors come with the line and column of the byte json-c stopped at.
 */
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tree_reader.h"

/* Length of the comment at t[i] (json-c's two styles), or 0. */
static size_t comment_len(const char *t, size_t len, size_t i)
{
	if (t[i] != '/' || i + 1 >= len)
		return 0;
	const char *end = NULL;
	if (t[i + 1] == '/') {
		end = memchr(t + i, '\n', len - i);
	} else if (t[i + 1] == '*') {
		for (size_t k = i + 2; k + 1 < len && !end; k++)
			if (t[k] == '*' && t[k + 1] == '/')
				end = t + k + 1;
	} else {
		return 0;
	}
	return end ? (size_t)(end - t) + 1 - i : len - i;
}

/* Offset of the first \u0000 escape inside a string, or len. */
static size_t find_nul_escape(const char *t, size_t len)
{
	char quote = 0;
	for (size_t i = 0; i < len; i++) {
		if (quote && t[i] == '\\') {
			if (i + 5 < len && !memcmp(t + i + 1, "u0000", 5))
				return i;
			i++;
		} else if (quote) {
			quote = t[i] == quote ? 0 : quote;
		} else if (t[i] == '"' || t[i] == '\'') {
			quote = t[i];
		} else {
			size_t c = comment_len(t, len, i);
			i += c ? c - 1 : 0;
		}
	}
	return len;
}

/* Offset of the first byte after end that is neither blank nor comment. */
static size_t skip_blanks(const char *t, size_t len, size_t end)
{
	while (end < len) {
		size_t c = comment_len(t, len, end);
		if (c)
			end += c;
		else if (t[end] == ' ' || t[end] == '\t' || t[end] == '\n' || t[end] == '\r')
			end++;
		else
			break;
	}
	return end;
}

static int fail_at(swi_ctx_t *ctx, const char *text, size_t offset, const char *why)
{
	unsigned line, column;
	swi_text_position(text, offset, &line, &column);
	return swi_fail(ctx, SWI_EFORMAT, "sw-description: line %u, column %u: %s", line,
			column, why);
}

/* Parses text (NUL-terminated, len bytes before the NUL) with json-c. */
static int tokenize(swi_ctx_t *ctx, const char *text, size_t len, json_object **root)
{
	/* json-c counts an array's scalar elements as one more level */
	struct json_tokener *tok = json_tokener_new_ex(SWI_TREE_MAX_DEPTH + 1);
	if (!tok)
		return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	/* the terminating NUL tells json-c that the text ends there */
	*root = json_tokener_parse_ex(tok, text, (int)len + 1);
	size_t end = json_tokener_get_parse_end(tok);
	enum json_tokener_error err = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (end > len)
		end = len;
	if (!*root)
		return fail_at(ctx, text, end, json_tokener_error_desc(err));
	if ((end = skip_blanks(text, len, end)) < len) {
		json_object_put(*root);
		*root = NULL;
		return fail_at(ctx, text, end, "text after the end of the JSON object");
	}
	return SWI_OK;
}

static int fail_node(swi_ctx_t *ctx, const struct swi_node *parent, const char *name,
		     const char *why)
{
	char path[256];
	swi_node_path(parent, path, sizeof(path));
	if (name)
		return swi_fail(ctx, SWI_EFORMAT, "sw-description: %s%s%s: %s", path,
				*path ? "." : "", name, why);
	return swi_fail(ctx, SWI_EFORMAT, "sw-description: %s[%zu]: %s", path,
			swi_node_count(parent), why);
}

static int copy_value(swi_ctx_t *ctx, json_object *v, struct swi_node *parent,
		      const char *name, unsigned depth);

static int copy_object(swi_ctx_t *ctx, json_object *o, struct swi_node *group, unsigned depth)
{
	int rc = SWI_OK;
	json_object_object_foreach(o, key, v) {
		if ((rc = copy_value(ctx, v, group, key, depth + 1)))
			break;
	}
	return rc;
}

static int copy_array(swi_ctx_t *ctx, json_object *a, struct swi_node *list, unsigned depth)
{
	int rc = SWI_OK;
	for (size_t i = 0; !rc && i < json_object_array_length(a); i++)
		rc = copy_value(ctx, json_object_array_get_idx(a, i), list, NULL, depth + 1);
	return rc;
}

/* The checks json-c does not make, before v becomes a node. */
static int check_value(swi_ctx_t *ctx, json_object *v, struct swi_node *parent,
		       const char *name, unsigned depth)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return fail_node(ctx, parent, name, "null is not a value");
	case json_type_object:
	case json_type_array:
		if (depth > SWI_TREE_MAX_DEPTH) {
			char why[48];
			snprintf(why, sizeof(why), "nested deeper than %d levels",
				 SWI_TREE_MAX_DEPTH);
			return fail_node(ctx, parent, name, why);
		}
		return SWI_OK;
	case json_type_int:
		/* beyond INT64_MAX json-c keeps an unsigned value; below
		 * INT64_MIN it clamps to INT64_MIN */
		if (json_object_get_uint64(v) > INT64_MAX || json_object_get_int64(v) == INT64_MIN)
			return fail_node(ctx, parent, name, "integer out of range");
		return SWI_OK;
	case json_type_double:
		if (!isfinite(json_object_get_double(v)))
			return fail_node(ctx, parent, name, "number out of range");
		return SWI_OK;
	default:
		return SWI_OK;
	}
}

static int copy_value(swi_ctx_t *ctx, json_object *v, struct swi_node *parent,
		      const char *name, unsigned depth)
{
	static const enum swi_node_kind kinds[] = {
		[json_type_boolean] = SWI_NODE_BOOL, [json_type_double] = SWI_NODE_FLOAT,
		[json_type_int] = SWI_NODE_INTEGER, [json_type_object] = SWI_NODE_GROUP,
		[json_type_array] = SWI_NODE_LIST, [json_type_string] = SWI_NODE_STRING,
	};
	int rc = check_value(ctx, v, parent, name, depth);
	if (rc)
		return rc;
	enum json_type type = json_object_get_type(v);
	struct swi_node *n = swi_tree_add(parent, name, kinds[type], 0, 0);
	if (!n)
		return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	switch (type) {
	case json_type_object:
		return copy_object(ctx, v, n, depth);
	case json_type_array:
		return copy_array(ctx, v, n, depth);
	case json_type_string:
		if (swi_node_set_string(n, json_object_get_string(v)))
			return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
		return SWI_OK;
	case json_type_int:
		swi_node_set_integer(n, json_object_get_int64(v));
		return SWI_OK;
	case json_type_double:
		swi_node_set_float(n, json_object_get_double(v));
		return SWI_OK;
	default:
		swi_node_set_bool(n, json_object_get_boolean(v));
		return SWI_OK;
	}
}

int swi_tree_read_json(swi_ctx_t *ctx, const char *text, size_t len, struct swi_tree **tree)
{
	if (len >= INT_MAX)
		return swi_fail(ctx, SWI_EFORMAT, "sw-description: too large");
	size_t nul = find_nul_escape(text, len);
	if (nul < len)
		return fail_at(ctx, text, nul, "\\u0000 (a NUL character) is not allowed");
	char *copy = malloc(len + 1);
	if (!copy)
		return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	memcpy(copy, text, len);
	copy[len] = '\0';
	json_object *root = NULL;
	int rc = tokenize(ctx, copy, len, &root);
	free(copy);
	if (rc)
		return rc;
	struct swi_tree *t = NULL;
	if (!json_object_is_type(root, json_type_object))
		rc = swi_fail(ctx, SWI_EFORMAT, "sw-description: the JSON root is not an object");
	else if (!(t = swi_tree_new()))
		rc = swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	else
		rc = copy_object(ctx, root, swi_tree_root(t), 1);
	json_object_put(root);
	if (rc) {
		swi_tree_free(t);
		return rc;
	}
	*tree = t;
	return SWI_OK;
}
