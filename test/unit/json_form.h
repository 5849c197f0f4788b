/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test helper: the JSON form of a libconfig sw-description, so that the same
 * semantic tests run over both readers. The libconfig text is read into a
 * tree (lib/tree.h) and written out as JSON text, one member per line, which
 * the tests then parse like any other sw-description.
 */
#ifndef SWI_TEST_JSON_FORM_H
#define SWI_TEST_JSON_FORM_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tree.h"

static void json_form_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* A float's shortest exact text, kept a float (JSON "1" would be an integer). */
static void json_form_float(FILE *out, double v)
{
	char buf[40];
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	fprintf(out, "%s%s", buf, strpbrk(buf, ".e") ? "" : ".0");
}

static void json_form_node(FILE *out, const struct swi_node *n, int indent)
{
	size_t count = swi_node_count(n);
	switch (swi_node_kind(n)) {
	case SWI_NODE_GROUP:
	case SWI_NODE_LIST:
		fputs(swi_node_is_group(n) ? "{\n" : "[\n", out);
		for (size_t i = 0; i < count; i++) {
			const struct swi_node *c = swi_node_child(n, i);
			fprintf(out, "%*s", indent + 2, "");
			if (swi_node_is_group(n)) {
				json_form_string(out, swi_node_name(c));
				fputs(": ", out);
			}
			json_form_node(out, c, indent + 2);
			fputs(i + 1 < count ? ",\n" : "\n", out);
		}
		fprintf(out, "%*s%s", indent, "", swi_node_is_group(n) ? "}" : "]");
		break;
	case SWI_NODE_STRING:
		json_form_string(out, swi_node_string(n));
		break;
	case SWI_NODE_INTEGER:
		fprintf(out, "%lld", swi_node_integer(n));
		break;
	case SWI_NODE_FLOAT:
		json_form_float(out, swi_node_float(n));
		break;
	case SWI_NODE_BOOL:
		fputs(swi_node_bool(n) ? "true" : "false", out);
		break;
	}
}

/* The JSON form of libconfig text (to free), or NULL when the text is no
 * libconfig the reader takes; the reason is then in ctx. */
static char *json_form(swi_ctx_t *ctx, const char *libconfig_text)
{
	struct swi_tree *tree;
	if (swi_tree_is_json(libconfig_text, strlen(libconfig_text)) ||
	    swi_tree_parse(ctx, libconfig_text, strlen(libconfig_text), &tree))
		return NULL;
	char *json = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&json, &size);
	if (out) {
		json_form_node(out, swi_tree_root(tree), 0);
		fputc('\n', out);
		fclose(out);
	}
	swi_tree_free(tree);
	return json;
}

#endif
