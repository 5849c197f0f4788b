/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sw-description -> plain C structs.
 *
 * The text becomes a tree (lib/tree.h: libconfig or JSON, told by the
 * content); this file walks the tree, through the lookup places and links
 * of lib/links.h, and maps the fields and collections of the chosen board
 * and selection to a struct swi_manifest. It never knows the syntax.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "links.h"
#include "manifest.h"

struct parser {
	swi_ctx_t *ctx;
	struct swi_lookup links;
	unsigned index; /* elements of the collection being read, so far */
	struct swi_manifest *m;
};

/* ---------------------------------------------------------------------- */
/* Boards and selections                                                    */
/* ---------------------------------------------------------------------- */

/* Whether a group holds something to install (a collection or bootenv). */
static bool holds_collection(struct parser *p, struct swi_node *group)
{
	static const char *const names[] = { "images", "files", "scripts", "partitions",
					     "bootenv", "uboot" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct swi_node *c = NULL;
		if (swi_lookup_member(&p->links, group, names[i], &c) == SWI_OK && c)
			return true;
	}
	return false;
}

static int add_selection(struct parser *p, const char *set, const char *mode)
{
	char **list = &p->m->selections;
	size_t old = *list ? strlen(*list) : 0;
	size_t len = old + strlen(set) + strlen(mode) + 3;
	char *grown = realloc(*list, len);
	if (!grown)
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	snprintf(grown + old, len - old, "%s%s,%s", old ? " " : "", set, mode);
	*list = grown;
	return SWI_OK;
}

/* The selections SET,MODE the groups under base offer, for messages about
 * an image installed without one. */
static int list_selections(struct parser *p, struct swi_node *base)
{
	for (size_t i = 0; swi_node_is_group(base) && i < swi_node_count(base); i++) {
		struct swi_node *set = swi_node_child(base, i);
		if (swi_lookup_follow(&p->links, &set) || !set || !swi_node_is_group(set))
			continue;
		for (size_t j = 0; j < swi_node_count(set); j++) {
			struct swi_node *mode = swi_node_child(set, j);
			const char *mode_name = swi_node_name(mode);
			if (swi_lookup_follow(&p->links, &mode) || !mode || !swi_node_is_group(mode) ||
			    !holds_collection(p, mode))
				continue;
			int rc = add_selection(p, swi_node_name(swi_node_child(base, i)),
					       mode_name);
			if (rc)
				return rc;
		}
	}
	return SWI_OK;
}

/* Whether some group two levels below group holds a collection: group
 * offers selections (software.BOARD.SET.MODE). */
static bool holds_selections(struct parser *p, struct swi_node *group)
{
	for (size_t i = 0; i < swi_node_count(group); i++) {
		struct swi_node *set = swi_node_child(group, i);
		if (swi_lookup_follow(&p->links, &set) || !set || !swi_node_is_group(set))
			continue;
		for (size_t j = 0; j < swi_node_count(set); j++) {
			struct swi_node *mode = swi_node_child(set, j);
			if (!swi_lookup_follow(&p->links, &mode) && mode && swi_node_is_group(mode) &&
			    holds_collection(p, mode))
				return true;
		}
	}
	return false;
}

/* The groups under software that are boards: they hold a collection
 * themselves (software.BOARD.images) or selections (software.BOARD.SET.MODE);
 * a group whose children hold collections is a selection set instead. */
static int list_boards(struct parser *p, struct swi_node *software)
{
	for (size_t i = 0; i < swi_node_count(software); i++) {
		struct swi_node *g = swi_node_child(software, i);
		const char *name = swi_node_name(g);
		if (swi_lookup_follow(&p->links, &g) || !g || !swi_node_is_group(g) ||
		    !(holds_collection(p, g) || holds_selections(p, g)))
			continue;
		char **list = &p->m->boards;
		size_t old = *list ? strlen(*list) : 0;
		char *grown = realloc(*list, old + strlen(name) + 2);
		if (!grown)
			return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
		sprintf(grown + old, "%s%s", old ? " " : "", name);
		*list = grown;
	}
	return SWI_OK;
}

/* ---------------------------------------------------------------------- */
/* Values                                                                   */
/* ---------------------------------------------------------------------- */

/* Shortest decimal text that reads back as the same double. */
static void format_float(double v, char *buf, size_t size)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* The text of a leaf into buf, or NULL for groups and lists. */
static const char *scalar_text(const struct swi_node *s, char *buf, size_t size)
{
	switch (swi_node_kind(s)) {
	case SWI_NODE_INTEGER:
		snprintf(buf, size, "%lld", swi_node_integer(s));
		return buf;
	case SWI_NODE_FLOAT:
		format_float(swi_node_float(s), buf, size);
		return buf;
	case SWI_NODE_BOOL:
		return swi_node_bool(s) ? "true" : "false";
	case SWI_NODE_STRING:
		return swi_node_string(s);
	default:
		return NULL;
	}
}

static int dup_scalar(struct parser *p, const char *field, char **out)
{
	struct swi_node *s;
	char buf[40];
	int rc = swi_lookup_field(&p->links, field, &s);
	if (rc || !s)
		return rc;
	const char *text = scalar_text(s, buf, sizeof(buf));
	if (!text)
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: %s is not a value", field);
	if (!(*out = strdup(text)))
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	return SWI_OK;
}

static int parse_hwcompat(struct parser *p)
{
	struct swi_node *s;
	int rc = swi_lookup_field(&p->links, "hardware-compatibility", &s);
	if (rc || !s)
		return rc;
	if (!swi_node_is_list(s))
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: hardware-compatibility is not an array");
	size_t n = swi_node_count(s);
	p->m->hwcompat = calloc(n + 1, sizeof(char *));
	if (!p->m->hwcompat)
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	for (size_t i = 0; i < n; i++) {
		const char *rev = swi_node_string(swi_node_child(s, i));
		if (!rev)
			return swi_fail(p->ctx, SWI_EFORMAT,
					"sw-description: hardware-compatibility element %zu is not a string",
					i + 1);
		if (!(p->m->hwcompat[p->m->nhwcompat] = strdup(rev)))
			return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
		p->m->nhwcompat++;
	}
	return SWI_OK;
}

/* ---------------------------------------------------------------------- */
/* Entries                                                                  */
/* ---------------------------------------------------------------------- */

struct collection {
	const char *name;
	enum swi_entry_kind kind;
	const char *noun;          /* for messages */
	const char *default_type;  /* NULL: images' rule (volume, device) */
};

static const struct collection collections[] = {
	{ "images", SWI_ENTRY_IMAGE, "image", NULL },
	{ "files", SWI_ENTRY_FILE, "file", "rawfile" },
	{ "scripts", SWI_ENTRY_SCRIPT, "script", "lua" },
	{ "partitions", SWI_ENTRY_PARTITION, "partition", "ubipartition" },
};

/* bootenv entries with a filename are bootloader files (SWUpdate's rule). */
static const struct collection bootenv_files = {
	"bootenv", SWI_ENTRY_IMAGE, "bootenv file", "bootloader"
};

static enum swi_attr_kind scalar_kind(const struct swi_node *s)
{
	switch (swi_node_kind(s)) {
	case SWI_NODE_BOOL: return SWI_ATTR_BOOL;
	case SWI_NODE_STRING: return SWI_ATTR_TEXT;
	default: return SWI_ATTR_NUMBER;
	}
}

/* A list of scalars as a list attribute. */
static int store_list(const struct swi_node *s, const char *name, struct swi_attrs *attrs)
{
	size_t n = swi_node_count(s);
	const char **items = calloc(n + 1, sizeof(*items));
	char (*bufs)[40] = calloc(n + 1, sizeof(*bufs));
	int rc = items && bufs ? SWI_OK : SWI_ENOMEM;
	for (size_t i = 0; rc == SWI_OK && i < n; i++) {
		const char *v = scalar_text(swi_node_child(s, i), bufs[i], sizeof(bufs[i]));
		items[i] = v ? v : "";
	}
	if (rc == SWI_OK)
		rc = swi_attrs_set_list(attrs, name, items, n);
	free(items);
	free(bufs);
	return rc;
}

static int add_properties(const struct swi_node *props, struct swi_attrs *attrs)
{
	for (size_t i = 0; i < swi_node_count(props); i++) {
		const struct swi_node *s = swi_node_child(props, i);
		char key[256], buf[40];
		snprintf(key, sizeof(key), "properties.%s", swi_node_name(s));
		if (swi_node_is_group(s))
			continue;
		if (swi_node_is_list(s)) {
			int rc = store_list(s, key, attrs);
			if (rc)
				return rc;
		} else if (swi_attrs_set_kind(attrs, key, scalar_text(s, buf, sizeof(buf)),
					      scalar_kind(s))) {
			return SWI_ENOMEM;
		}
	}
	return SWI_OK;
}

/* Every scalar member with its kind, lists of scalars as lists, and the
 * properties group flattened. Other groups are unknown keys: ignored. */
static int store_attrs(const struct swi_node *group, struct swi_attrs *attrs)
{
	for (size_t i = 0; i < swi_node_count(group); i++) {
		const struct swi_node *s = swi_node_child(group, i);
		const char *name = swi_node_name(s);
		char buf[40];
		const char *text = scalar_text(s, buf, sizeof(buf));
		int rc = SWI_OK;
		if (text)
			rc = swi_attrs_set_kind(attrs, name, text, scalar_kind(s));
		else if (!strcmp(name, "properties") && swi_node_is_group(s))
			rc = add_properties(s, attrs);
		else if (swi_node_is_list(s))
			rc = store_list(s, name, attrs);
		if (rc)
			return rc;
	}
	return SWI_OK;
}

/* How an entry is named in messages: its filename, else its name. */
static const char *entry_label(const struct swi_entry *e)
{
	const char *label = swi_attrs_get(&e->attrs, "filename");
	if (!label)
		label = swi_attrs_get(&e->attrs, "name");
	return label ? label : "(unnamed)";
}

static int set_type(swi_ctx_t *ctx, const struct collection *c, struct swi_entry *e)
{
	const char *type = swi_attrs_get(&e->attrs, "type");
	if (type && !*type)
		type = NULL;
	if (!type && c->default_type)
		type = c->default_type;
	else if (!type && swi_attrs_get(&e->attrs, "volume"))
		type = "ubivol";
	else if (!type && swi_attrs_get(&e->attrs, "device"))
		type = "raw";
	else if (!type)
		/* SWUpdate leaves the type empty here and fails later with "no
		 * handler"; say it now. */
		return swi_fail(ctx, SWI_EFORMAT,
				"sw-description: %s '%s' has no type, device or volume",
				c->noun, entry_label(e));
	if (!strcmp(type, "uboot"))
		type = "bootloader";
	/* type may be the value that swi_attrs_set is about to replace */
	char *copy = strdup(type);
	int rc = copy ? swi_attrs_set(&e->attrs, "type", copy) : SWI_ENOMEM;
	free(copy);
	return rc ? swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory") : SWI_OK;
}

static int check_sha256(swi_ctx_t *ctx, const struct collection *c, struct swi_entry *e)
{
	const char *hash = swi_attrs_get(&e->attrs, "sha256");
	if (!hash)
		return SWI_OK;
	char lower[65];
	size_t n = strlen(hash);
	for (size_t i = 0; i < n && i < 64; i++)
		lower[i] = (char)tolower((unsigned char)hash[i]);
	if (n != 64 || strspn(hash, "0123456789abcdefABCDEF") != 64)
		return swi_fail(ctx, SWI_EFORMAT,
				"sw-description: %s '%s': sha256 is not 64 hex digits",
				c->noun, entry_label(e));
	lower[64] = '\0';
	if (swi_attrs_set(&e->attrs, "sha256", lower))
		return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	return SWI_OK;
}

/* compressed: true means "zlib", false none; strings name the method. */
static int check_compressed(swi_ctx_t *ctx, const struct collection *c, struct swi_entry *e)
{
	const struct swi_attr *a = swi_attrs_find(&e->attrs, "compressed");
	if (!a || a->kind == SWI_ATTR_BOOL) {
		if (a && !strcmp(a->value, "true") && swi_attrs_set(&e->attrs, "compressed", "zlib"))
			return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
		return SWI_OK;
	}
	if (a->kind != SWI_ATTR_TEXT)
		return swi_fail(ctx, SWI_EFORMAT,
				"sw-description: %s '%s': compressed is neither a boolean nor a string",
				c->noun, entry_label(e));
	if (strcmp(a->value, "zlib") && strcmp(a->value, "zstd") && strcmp(a->value, "xz"))
		return swi_fail(ctx, SWI_EUNSUPPORTED,
				"sw-description: %s '%s': compression '%s' is not supported",
				c->noun, entry_label(e), a->value);
	return SWI_OK;
}

static bool attr_is_true(const struct swi_entry *e, const char *name)
{
	const char *v = swi_attrs_get(&e->attrs, name);
	return v && !strcmp(v, "true");
}

/* Points the convenience fields into the attribute values (set last: a
 * later swi_attrs_set of the same name would free the value). */
static void set_pointers(struct swi_entry *e)
{
	const struct swi_attr *comp = swi_attrs_find(&e->attrs, "compressed");
	e->filename = swi_attrs_get(&e->attrs, "filename");
	e->type = swi_attrs_get(&e->attrs, "type");
	e->sha256 = swi_attrs_get(&e->attrs, "sha256");
	e->compressed = comp && comp->kind != SWI_ATTR_BOOL ? comp->value : NULL;
	e->name = swi_attrs_get(&e->attrs, "name");
	e->version = swi_attrs_get(&e->attrs, "version");
	e->encrypted = attr_is_true(e, "encrypted");
	e->install_if_different = attr_is_true(e, "install-if-different");
	e->install_if_higher = attr_is_true(e, "install-if-higher");
}

/* The fields of e derived from its attributes, SWUpdate's defaults applied. */
static int derive_fields(swi_ctx_t *ctx, const struct collection *c, struct swi_entry *e)
{
	int rc;
	if ((rc = set_type(ctx, c, e)) || (rc = check_sha256(ctx, c, e)) ||
	    (rc = check_compressed(ctx, c, e)))
		return rc;
	set_pointers(e);
	return SWI_OK;
}

static int build_entry(struct parser *p, const struct collection *c,
		       const struct swi_node *group, struct swi_entry *e)
{
	e->kind = c->kind;
	int rc = store_attrs(group, &e->attrs);
	if (rc)
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	return derive_fields(p->ctx, c, e);
}

int swi_entry_refresh(swi_ctx_t *ctx, struct swi_entry *e)
{
	const struct collection *c = &bootenv_files;
	for (size_t i = 0; i < sizeof(collections) / sizeof(collections[0]); i++)
		if (!strcmp(collections[i].name, e->collection))
			c = &collections[i];
	int rc = derive_fields(ctx, c, e);
	if (rc == SWI_OK && !e->filename && e->kind != SWI_ENTRY_PARTITION)
		rc = swi_fail(ctx, SWI_EFORMAT, "sw-description: %s '%s' has no filename any more",
			      c->noun, entry_label(e));
	return rc;
}

static int append_entry(struct parser *p, const struct collection *c,
			const struct swi_node *group)
{
	struct swi_manifest *m = p->m;
	struct swi_entry *entries = realloc(m->entries, (m->nentries + 1) * sizeof(*entries));
	if (!entries)
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	m->entries = entries;
	struct swi_entry *e = &entries[m->nentries];
	memset(e, 0, sizeof(*e));
	e->collection = c->name;
	e->index = p->index - 1;
	int rc = build_entry(p, c, group, e);
	if (rc) {
		swi_attrs_free(&e->attrs);
		return rc;
	}
	m->nentries++;
	return SWI_OK;
}

static bool has_filename(const struct swi_node *group)
{
	return swi_node_member(group, "filename") != NULL;
}

static int parse_elements(struct parser *p, const struct collection *c,
			  struct swi_node *list);

/* One element of a collection: an entry, or a link to an entry or to a list
 * of them (SWUpdate follows links on elements as well). */
static int parse_element(struct parser *p, const struct collection *c,
			 struct swi_node *elem)
{
	int rc = swi_lookup_element(&p->links, &elem);
	if (rc)
		return rc;
	char where[256];
	if (swi_node_is_list(elem))
		return parse_elements(p, c, elem);
	if (!swi_node_is_group(elem))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: %s: %s entry is not a group",
				swi_node_where(elem, where, sizeof(where)), c->noun);
	p->index++;
	if (c->kind != SWI_ENTRY_PARTITION && !has_filename(elem))
		return SWI_OK;
	return append_entry(p, c, elem);
}

static int parse_elements(struct parser *p, const struct collection *c,
			  struct swi_node *list)
{
	struct swi_visit *base;
	int rc = swi_lookup_enter_list(&p->links, list, &base);
	for (size_t i = 0; !rc && i < swi_node_count(list); i++)
		rc = parse_element(p, c, swi_node_child(list, i));
	swi_lookup_leave_list(&p->links, base);
	return rc;
}

static int parse_collection(struct parser *p, const struct collection *c)
{
	struct swi_node *list;
	int rc = swi_lookup_field(&p->links, c->name, &list);
	if (rc || !list)
		return rc;
	if (!swi_node_is_list(list))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: %s is not a list", c->name);
	p->index = 0;
	return parse_elements(p, c, list);
}

/* ---------------------------------------------------------------------- */
/* bootenv                                                                  */
/* ---------------------------------------------------------------------- */

static int add_bootenv_var(struct parser *p, const struct swi_node *group)
{
	const struct swi_node *name = swi_node_member(group, "name");
	const struct swi_node *value = swi_node_member(group, "value");
	char buf[40];
	const char *v = value ? scalar_text(value, buf, sizeof(buf)) : "";
	if (!name || !swi_node_string(name))
		return SWI_OK; /* like SWUpdate: an entry without a name is skipped */
	if (!v)
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: bootenv '%s': value is not a value",
				swi_node_string(name));
	const struct swi_node *hook_node = swi_node_member(group, "hook");
	char hook_buf[40];
	const char *hook = hook_node ? scalar_text(hook_node, hook_buf, sizeof(hook_buf)) : NULL;
	const char *var = swi_node_string(name);
	/* a later entry of the same variable replaces its hook too */
	swi_attrs_remove(&p->m->bootenv_hooks, var);
	if (swi_attrs_set(&p->m->bootenv, var, v) ||
	    (hook && swi_attrs_set(&p->m->bootenv_hooks, var, hook)))
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	return SWI_OK;
}

static int parse_bootenv_element(struct parser *p, struct swi_node *elem);

static int parse_bootenv_elements(struct parser *p, struct swi_node *list)
{
	struct swi_visit *base;
	int rc = swi_lookup_enter_list(&p->links, list, &base);
	for (size_t i = 0; !rc && i < swi_node_count(list); i++)
		rc = parse_bootenv_element(p, swi_node_child(list, i));
	swi_lookup_leave_list(&p->links, base);
	return rc;
}

static int parse_bootenv_element(struct parser *p, struct swi_node *elem)
{
	int rc = swi_lookup_element(&p->links, &elem);
	if (rc)
		return rc;
	char where[256];
	if (swi_node_is_list(elem))
		return parse_bootenv_elements(p, elem);
	if (!swi_node_is_group(elem))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: %s: bootenv entry is not a group",
				swi_node_where(elem, where, sizeof(where)));
	p->index++;
	if (has_filename(elem))
		return append_entry(p, &bootenv_files, elem);
	return add_bootenv_var(p, elem);
}

/* "bootenv" and its older name "uboot" are one collection: at each place
 * "bootenv" is tried first, then "uboot". */
static int parse_bootenv(struct parser *p)
{
	static const char *const names[] = { "bootenv", "uboot", NULL };
	struct swi_node *list;
	int rc = swi_lookup_fields(&p->links, names, &list);
	if (rc || !list)
		return rc;
	if (!swi_node_is_list(list))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: bootenv is not a list");
	p->index = 0;
	return parse_bootenv_elements(p, list);
}

/* ---------------------------------------------------------------------- */
/* Entry point                                                              */
/* ---------------------------------------------------------------------- */

static int map_tree(struct parser *p, const char *select)
{
	struct swi_node *software;
	int rc = swi_lookup_member(&p->links, swi_tree_root(p->links.tree), "software", &software);
	if (rc)
		return rc;
	if (!software || !swi_node_is_group(software))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: no 'software' group");
	if ((rc = list_boards(p, software)))
		return rc;
	if (!p->links.nselection_places) {
		/* Without a selection, the places left are the board's and the
		 * root: the selections offered under them. */
		for (size_t i = 0; !rc && i < p->links.nplaces; i++) {
			struct swi_node *base;
			if (!(rc = swi_lookup_place(&p->links, i, &base)))
				rc = list_selections(p, base);
		}
		if (rc)
			return rc;
	}
	if ((rc = swi_lookup_check_selection(&p->links, select)) ||
	    (rc = dup_scalar(p, "version", &p->m->version)) ||
	    (rc = dup_scalar(p, "description", &p->m->description)) ||
	    (rc = dup_scalar(p, "embedded-script", &p->m->embedded_script)) ||
	    (rc = parse_hwcompat(p)))
		return rc;
	for (size_t i = 0; i < sizeof(collections) / sizeof(collections[0]); i++)
		if ((rc = parse_collection(p, &collections[i])))
			return rc;
	return parse_bootenv(p);
}

int swi_manifest_parse(swi_ctx_t *ctx, const char *text, size_t len,
		       const char *board, const char *select,
		       struct swi_manifest *m)
{
	if (!ctx || !text || !m)
		return SWI_EINVAL;
	memset(m, 0, sizeof(*m));
	struct parser p = { .ctx = ctx, .m = m };
	struct swi_tree *tree;
	int rc = swi_tree_parse(ctx, text, len, &tree);
	if (rc)
		return rc;
	rc = swi_lookup_init(&p.links, ctx, tree, board, select);
	if (!rc)
		rc = map_tree(&p, select);
	swi_lookup_free(&p.links);
	swi_tree_free(tree);
	if (rc)
		swi_manifest_free(m);
	return rc;
}

void swi_manifest_free(struct swi_manifest *m)
{
	if (!m)
		return;
	free(m->version);
	free(m->description);
	free(m->embedded_script);
	free(m->selections);
	free(m->boards);
	for (size_t i = 0; i < m->nhwcompat; i++)
		free(m->hwcompat[i]);
	free(m->hwcompat);
	for (size_t i = 0; i < m->nentries; i++)
		swi_attrs_free(&m->entries[i].attrs);
	free(m->entries);
	swi_attrs_free(&m->bootenv);
	swi_attrs_free(&m->bootenv_hooks);
	memset(m, 0, sizeof(*m));
}
