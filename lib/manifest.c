/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sw-description -> plain C structs.
 *
 * Three steps: a hand-written pass makes the text acceptable to libconfig 1.5
 * (normalize_text), libconfig parses it, and a walk over the tree picks the
 * fields and collections of the chosen board and selection, following links.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "manifest.h"

/* ---------------------------------------------------------------------- */
/* Text normalization                                                       */
/* ---------------------------------------------------------------------- */

/*
 * Why this pass exists and is written by hand: Debian 12 ships libconfig 1.5,
 * and no library on it parses the libconfig 1.7 syntax that current SWUpdate
 * builds accept and real sw-descriptions use. What 1.5 does differently, as
 * tried in test/unit/test_manifest.c:
 *  - a trailing comma before ')' or ']' is a syntax error in 1.5: the comma
 *    is replaced by a space (so line numbers and columns stay the same);
 *  - an integer beyond 32 bits without an 'L' suffix is silently truncated
 *    by 1.5 (1.7 makes it 64-bit): such a literal gets its 'L' appended, so
 *    an offset of 5000000000 stays 5000000000;
 *  - "@include" would make libconfig read another file from the device:
 *    SWUpdate forbids it, and so does this pass.
 * Everything else that real files do (missing or ',' terminators, "};"
 * after the root, sibling groups, comments between list elements, "ref:",
 * multi-line strings, non-ASCII comments) 1.5 accepts.
 * The pass knows strings (with \" escapes) and the three comment styles, so
 * nothing inside them is touched.
 */

struct text_out {
	char *buf;
	size_t len;
	size_t cap;
};

static int out_put(struct text_out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t cap = (o->len + n + 1) * 2;
		char *b = realloc(o->buf, cap);
		if (!b)
			return SWI_ENOMEM;
		o->buf = b;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return SWI_OK;
}

/* Length of the comment starting at t[i], or 0 when there is none. */
static size_t comment_len(const char *t, size_t len, size_t i)
{
	size_t j;
	if (t[i] == '#' || (t[i] == '/' && i + 1 < len && t[i + 1] == '/')) {
		for (j = i; j < len && t[j] != '\n'; j++)
			;
		return j - i;
	}
	if (t[i] == '/' && i + 1 < len && t[i + 1] == '*') {
		for (j = i + 2; j + 1 < len; j++)
			if (t[j] == '*' && t[j + 1] == '/')
				return j + 2 - i;
		return len - i;
	}
	return 0;
}

/* Length of the string literal starting at the quote t[i]. */
static size_t string_len(const char *t, size_t len, size_t i)
{
	size_t j;
	for (j = i + 1; j < len && t[j] != '"'; j++)
		if (t[j] == '\\' && j + 1 < len)
			j++;
	return (j < len ? j + 1 : len) - i;
}

/* True when the comma at t[i] is followed (past blanks and comments) by a
 * closing ')' or ']'. */
static bool is_trailing_comma(const char *t, size_t len, size_t i)
{
	size_t j = i + 1;
	while (j < len) {
		size_t c = comment_len(t, len, j);
		if (c)
			j += c;
		else if (isspace((unsigned char)t[j]))
			j++;
		else
			return t[j] == ')' || t[j] == ']';
	}
	return false;
}

/* A number may start after these characters only (not inside a name such as
 * "copy1", nor in the fraction or exponent of a float). */
static bool number_may_start_after(char c)
{
	return isspace((unsigned char)c) || (c && strchr("=:,([{;/", c));
}

/* Length of the integer literal at t[i] (sign, decimal or 0x hex digits), or
 * 0 when t[i] starts no integer or starts a float. */
static size_t integer_len(const char *t, size_t len, size_t i)
{
	size_t j = i;
	if (j < len && (t[j] == '-' || t[j] == '+'))
		j++;
	if (j >= len || !isdigit((unsigned char)t[j]))
		return 0;
	if (t[j] == '0' && j + 1 < len && (t[j + 1] == 'x' || t[j + 1] == 'X')) {
		for (j += 2; j < len && isxdigit((unsigned char)t[j]); j++)
			;
		return j - i;
	}
	while (j < len && isdigit((unsigned char)t[j]))
		j++;
	if (j < len && (t[j] == '.' || t[j] == 'e' || t[j] == 'E'))
		return 0;
	return j - i;
}

enum int_size { INT_32, INT_64, INT_TOO_BIG };

/* Whether the integer literal fits libconfig's int, needs its 64-bit 'L'
 * suffix, or fits neither. */
static enum int_size integer_size(const char *t, size_t n)
{
	char lit[32];
	if (n >= sizeof(lit))
		return INT_TOO_BIG;
	memcpy(lit, t, n);
	lit[n] = '\0';
	bool hex = strchr(lit, 'x') || strchr(lit, 'X');
	errno = 0;
	long long v = strtoll(lit, NULL, hex ? 16 : 10);
	if (errno == ERANGE)
		return INT_TOO_BIG;
	return v > INT32_MAX || v < INT32_MIN ? INT_64 : INT_32;
}

static unsigned line_of(const char *t, size_t i)
{
	unsigned line = 1;
	for (size_t j = 0; j < i; j++)
		line += t[j] == '\n';
	return line;
}

/* out_put, with the error recorded in ctx. */
static int put(swi_ctx_t *ctx, struct text_out *o, const char *s, size_t n)
{
	if (out_put(o, s, n))
		return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
	return SWI_OK;
}

/* Copies the integer literal at t[i] (n bytes), adding 'L' when needed. */
static int put_integer(swi_ctx_t *ctx, struct text_out *o, const char *t, size_t len,
		       size_t i, size_t n)
{
	enum int_size size = integer_size(t + i, n);
	if (size == INT_TOO_BIG)
		return swi_fail(ctx, SWI_EFORMAT,
				"sw-description: line %u: integer %.*s is out of range",
				line_of(t, i), (int)(n < 40 ? n : 40), t + i);
	int rc = put(ctx, o, t + i, n);
	bool has_l = i + n < len && t[i + n] == 'L';
	if (!rc && !has_l && size == INT_64)
		rc = put(ctx, o, "L", 1);
	return rc;
}

/* Copies the piece of text at t[i] (a comment, a string, an integer or one
 * character) to o, normalized; *used is how many bytes of t it took. */
static int normalize_piece(swi_ctx_t *ctx, struct text_out *o, const char *t, size_t len,
			   size_t i, size_t *used)
{
	size_t n = comment_len(t, len, i);
	if (!n && t[i] == '"')
		n = string_len(t, len, i);
	if (n) {
		*used = n;
		return put(ctx, o, t + i, n);
	}
	*used = 1;
	if (t[i] == ',' && is_trailing_comma(t, len, i))
		return put(ctx, o, " ", 1);
	if (t[i] == '@')
		return swi_fail(ctx, SWI_EFORMAT,
				"sw-description: line %u: @include is not allowed", line_of(t, i));
	if ((i == 0 || number_may_start_after(t[i - 1])) && (n = integer_len(t, len, i))) {
		*used = n;
		return put_integer(ctx, o, t, len, i, n);
	}
	return put(ctx, o, t + i, 1);
}

static int normalize_text(swi_ctx_t *ctx, const char *t, size_t len, char **result)
{
	struct text_out o = { 0 };
	int rc = put(ctx, &o, "", 0);
	for (size_t i = 0, used = 0; !rc && i < len; i += used)
		rc = normalize_piece(ctx, &o, t, len, i, &used);
	if (rc) {
		free(o.buf);
		return rc;
	}
	*result = o.buf;
	return SWI_OK;
}

/* ---------------------------------------------------------------------- */
/* Tree walk: places, links                                                 */
/* ---------------------------------------------------------------------- */

struct parser {
	swi_ctx_t *ctx;
	config_t cfg;
	/* Where fields are looked up, most specific first, as SWUpdate does:
	 * software.BOARD.SET.MODE, software.SET.MODE, software.BOARD, software,
	 * separately for every field and collection, following links on the way,
	 * and also a link that is a collection's element. */
	const char *places[4][4];
	size_t place_len[4];
	size_t nplaces;
	size_t nselection_places; /* the first ones, which name SET.MODE */
	char *set;   /* select split at its comma (one allocation) */
	const char *mode;
	unsigned index; /* elements of the collection being read, so far */
	struct swi_manifest *m;
	config_setting_t *active; /* the top of the stack of active nodes */
};

/*
 * Loop detection. The links being followed and the lists being expanded are
 * "active": meeting an active one again means the file loops, while a chain
 * of links that never comes back is fine however long it is. The active nodes
 * form a stack threaded through their libconfig hooks: each one's hook points
 * at the node pushed before it (the bottom one's at the parser), so a node is
 * active exactly when its hook is set. The test costs the same for any chain
 * length and nothing is allocated.
 */
static bool is_active(const config_setting_t *node)
{
	return config_setting_get_hook(node) != NULL;
}

static void push_active(struct parser *p, config_setting_t *node)
{
	config_setting_set_hook(node, p->active ? (void *)p->active : (void *)p);
	p->active = node;
}

/* Pops the nodes pushed since the top was `base`. */
static void pop_active(struct parser *p, config_setting_t *base)
{
	while (p->active != base) {
		void *below = config_setting_get_hook(p->active);
		config_setting_set_hook(p->active, NULL);
		p->active = below == (void *)p ? NULL : below;
	}
}

static bool is_link(const config_setting_t *node, const char **ref)
{
	if (!node || !config_setting_is_group(node))
		return false;
	const config_setting_t *r = config_setting_get_member(node, "ref");
	if (!r || config_setting_type(r) != CONFIG_TYPE_STRING)
		return false;
	*ref = config_setting_get_string(r);
	return true;
}

static int follow_links(struct parser *p, config_setting_t **node);

/* One step of a link's path from node: ".", ".." or a member name. */
static int path_step(struct parser *p, const char *ref, const char *name,
		     config_setting_t **node)
{
	if (!strcmp(name, "."))
		return SWI_OK;
	if (!strcmp(name, "..")) {
		*node = config_setting_parent(*node);
		if (!*node)
			return swi_fail(p->ctx, SWI_EFORMAT,
					"sw-description: link '%s' goes above the root", ref);
		return SWI_OK;
	}
	config_setting_t *next = config_setting_is_group(*node) ?
		config_setting_get_member(*node, name) : NULL;
	if (!next)
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: link '%s': '%s' not found", ref, name);
	*node = next;
	return follow_links(p, node);
}

/*
 * Resolves the path of the link held in group `link`. Like a symlink in a
 * directory: a path whose first name is "." or ".." starts at the group that
 * holds the link (its parent), any other path at the root.
 */
static int resolve_ref(struct parser *p, config_setting_t *link, const char *ref,
		       config_setting_t **out)
{
	if (ref[0] != '#')
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: link '%s' does not start with '#'", ref);
	char *path = strdup(ref + 1);
	if (!path)
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	bool relative = !strncmp(path, "./", 2) || !strncmp(path, "../", 3) ||
			!strcmp(path, ".") || !strcmp(path, "..");
	config_setting_t *node = relative ? config_setting_parent(link)
					  : config_root_setting(&p->cfg);
	int rc = node ? SWI_OK : swi_fail(p->ctx, SWI_EFORMAT,
					  "sw-description: link '%s' goes above the root", ref);
	char *save = NULL;
	for (char *name = strtok_r(path, "/", &save); !rc && name;
	     name = strtok_r(NULL, "/", &save))
		rc = path_step(p, ref, name, &node);
	free(path);
	if (!rc)
		*out = node;
	return rc;
}

/* Replaces *node by what its links name, until it is no link. */
static int follow_links(struct parser *p, config_setting_t **node)
{
	config_setting_t *base = p->active;
	const char *ref;
	int rc = SWI_OK;
	while (!rc && is_link(*node, &ref)) {
		if (is_active(*node)) {
			rc = swi_fail(p->ctx, SWI_EFORMAT,
				      "sw-description: link loop: '%s' leads back to itself", ref);
		} else {
			push_active(p, *node);
			rc = resolve_ref(p, *node, ref, node);
		}
	}
	pop_active(p, base);
	return rc;
}

/* The member `name` of group `node` with its links followed, or NULL. */
static int get_member(struct parser *p, config_setting_t *node, const char *name,
		      config_setting_t **out)
{
	*out = node && config_setting_is_group(node) ?
		config_setting_get_member(node, name) : NULL;
	return follow_links(p, out);
}

/* The node at a place (names from the root), or NULL when it does not exist. */
static int walk_place(struct parser *p, size_t place, config_setting_t **out)
{
	config_setting_t *node = config_root_setting(&p->cfg);
	for (size_t i = 0; node && i < p->place_len[place]; i++) {
		int rc = get_member(p, node, p->places[place][i], &node);
		if (rc)
			return rc;
	}
	*out = node;
	return SWI_OK;
}

/* The field at the most specific place that has it, or NULL. */
static int lookup(struct parser *p, const char *field, config_setting_t **out)
{
	*out = NULL;
	for (size_t i = 0; i < p->nplaces && !*out; i++) {
		config_setting_t *base;
		int rc = walk_place(p, i, &base);
		if (!rc && base)
			rc = get_member(p, base, field, out);
		if (rc)
			return rc;
	}
	return SWI_OK;
}

static void add_place(struct parser *p, const char *a, const char *b, const char *c)
{
	const char *names[4] = { "software", a, b, c };
	size_t n = 1;
	for (size_t i = 1; i < 4 && names[i]; i++)
		n++;
	memcpy(p->places[p->nplaces], names, sizeof(names));
	p->place_len[p->nplaces++] = n;
}

static int set_places(struct parser *p, const char *board, const char *select)
{
	if (board && !*board)
		board = NULL;
	if (select && *select) {
		const char *comma = strchr(select, ',');
		if (!comma || comma == select || !comma[1])
			return swi_fail(p->ctx, SWI_EINVAL,
					"select: '%s' is not SET,MODE", select);
		if (!(p->set = strdup(select)))
			return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
		p->set[comma - select] = '\0';
		p->mode = p->set + (comma - select) + 1;
		if (board)
			add_place(p, board, p->set, p->mode);
		add_place(p, p->set, p->mode, NULL);
		p->nselection_places = p->nplaces;
	}
	if (board)
		add_place(p, board, NULL, NULL);
	add_place(p, NULL, NULL, NULL);
	return SWI_OK;
}

/* With a selection, software.SET.MODE or software.BOARD.SET.MODE must exist. */
static int check_selection(struct parser *p, const char *select)
{
	for (size_t i = 0; i < p->nselection_places; i++) {
		config_setting_t *node;
		int rc = walk_place(p, i, &node);
		if (rc || node)
			return rc;
	}
	if (!p->nselection_places)
		return SWI_OK;
	return swi_fail(p->ctx, SWI_ECOMPAT, "sw-description: selection '%s' not found",
			select);
}

/* Whether a group holds something to install (a collection or bootenv). */
static bool holds_collection(struct parser *p, config_setting_t *group)
{
	static const char *const names[] = { "images", "files", "scripts", "partitions",
					     "bootenv", "uboot" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		config_setting_t *c = NULL;
		if (get_member(p, group, names[i], &c) == SWI_OK && c)
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
static int list_selections(struct parser *p, config_setting_t *base)
{
	for (int i = 0; base && config_setting_is_group(base) && i < config_setting_length(base);
	     i++) {
		config_setting_t *set = config_setting_get_elem(base, (unsigned)i);
		if (follow_links(p, &set) || !set || !config_setting_is_group(set))
			continue;
		for (int j = 0; j < config_setting_length(set); j++) {
			config_setting_t *mode = config_setting_get_elem(set, (unsigned)j);
			const char *mode_name = config_setting_name(mode);
			if (follow_links(p, &mode) || !mode || !config_setting_is_group(mode) ||
			    !holds_collection(p, mode))
				continue;
			int rc = add_selection(p, config_setting_name(config_setting_get_elem(base, (unsigned)i)),
					       mode_name);
			if (rc)
				return rc;
		}
	}
	return SWI_OK;
}

/* Whether some group two levels below group holds a collection: group
 * offers selections (software.BOARD.SET.MODE). */
static bool holds_selections(struct parser *p, config_setting_t *group)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		config_setting_t *set = config_setting_get_elem(group, (unsigned)i);
		if (follow_links(p, &set) || !set || !config_setting_is_group(set))
			continue;
		for (int j = 0; j < config_setting_length(set); j++) {
			config_setting_t *mode = config_setting_get_elem(set, (unsigned)j);
			if (!follow_links(p, &mode) && mode && config_setting_is_group(mode) &&
			    holds_collection(p, mode))
				return true;
		}
	}
	return false;
}

/* The groups under software that are boards: they hold a collection
 * themselves (software.BOARD.images) or selections (software.BOARD.SET.MODE);
 * a group whose children hold collections is a selection set instead. */
static int list_boards(struct parser *p, config_setting_t *software)
{
	for (int i = 0; i < config_setting_length(software); i++) {
		config_setting_t *g = config_setting_get_elem(software, (unsigned)i);
		const char *name = config_setting_name(g);
		if (follow_links(p, &g) || !g || !config_setting_is_group(g) ||
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

/* The text of a scalar setting into buf, or NULL for groups, lists, arrays. */
static const char *scalar_text(const config_setting_t *s, char *buf, size_t size)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
		snprintf(buf, size, "%d", config_setting_get_int(s));
		return buf;
	case CONFIG_TYPE_INT64:
		snprintf(buf, size, "%lld", config_setting_get_int64(s));
		return buf;
	case CONFIG_TYPE_FLOAT:
		format_float(config_setting_get_float(s), buf, size);
		return buf;
	case CONFIG_TYPE_BOOL:
		return config_setting_get_bool(s) ? "true" : "false";
	case CONFIG_TYPE_STRING:
		return config_setting_get_string(s);
	default:
		return NULL;
	}
}

static int dup_scalar(struct parser *p, const char *field, char **out)
{
	config_setting_t *s;
	char buf[40];
	int rc = lookup(p, field, &s);
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
	config_setting_t *s;
	int rc = lookup(p, "hardware-compatibility", &s);
	if (rc || !s)
		return rc;
	if (!config_setting_is_aggregate(s) || config_setting_is_group(s))
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: hardware-compatibility is not an array");
	int n = config_setting_length(s);
	p->m->hwcompat = calloc((size_t)n + 1, sizeof(char *));
	if (!p->m->hwcompat)
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	for (int i = 0; i < n; i++) {
		const char *rev = config_setting_get_string_elem(s, i);
		if (!rev)
			return swi_fail(p->ctx, SWI_EFORMAT,
					"sw-description: hardware-compatibility element %d is not a string",
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

static enum swi_attr_kind scalar_kind(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_BOOL: return SWI_ATTR_BOOL;
	case CONFIG_TYPE_STRING: return SWI_ATTR_TEXT;
	default: return SWI_ATTR_NUMBER;
	}
}

/* A list or array of scalars as a list attribute. */
static int store_list(const config_setting_t *s, const char *name, struct swi_attrs *attrs)
{
	int n = config_setting_length(s);
	const char **items = calloc((size_t)n + 1, sizeof(*items));
	char (*bufs)[40] = calloc((size_t)n + 1, sizeof(*bufs));
	int rc = items && bufs ? SWI_OK : SWI_ENOMEM;
	for (int i = 0; rc == SWI_OK && i < n; i++) {
		const char *v = scalar_text(config_setting_get_elem(s, (unsigned)i), bufs[i],
					    sizeof(bufs[i]));
		items[i] = v ? v : "";
	}
	if (rc == SWI_OK)
		rc = swi_attrs_set_list(attrs, name, items, (size_t)n);
	free(items);
	free(bufs);
	return rc;
}

static int add_properties(const config_setting_t *props, struct swi_attrs *attrs)
{
	for (int i = 0; i < config_setting_length(props); i++) {
		const config_setting_t *s = config_setting_get_elem(props, (unsigned)i);
		char key[256], buf[40];
		snprintf(key, sizeof(key), "properties.%s", config_setting_name(s));
		if (config_setting_is_group(s))
			continue;
		if (config_setting_is_aggregate(s)) {
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
static int store_attrs(const config_setting_t *group, struct swi_attrs *attrs)
{
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
		const char *name = config_setting_name(s);
		char buf[40];
		const char *text = scalar_text(s, buf, sizeof(buf));
		int rc = SWI_OK;
		if (text)
			rc = swi_attrs_set_kind(attrs, name, text, scalar_kind(s));
		else if (!strcmp(name, "properties") && config_setting_is_group(s))
			rc = add_properties(s, attrs);
		else if (config_setting_is_list(s) || config_setting_is_array(s))
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

static int set_type(struct parser *p, const struct collection *c, struct swi_entry *e)
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
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: %s '%s' has no type, device or volume",
				c->noun, entry_label(e));
	if (!strcmp(type, "uboot"))
		type = "bootloader";
	/* type may be the value that swi_attrs_set is about to replace */
	char *copy = strdup(type);
	int rc = copy ? swi_attrs_set(&e->attrs, "type", copy) : SWI_ENOMEM;
	free(copy);
	return rc ? swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory") : SWI_OK;
}

static int check_sha256(struct parser *p, const struct collection *c, struct swi_entry *e)
{
	const char *hash = swi_attrs_get(&e->attrs, "sha256");
	if (!hash)
		return SWI_OK;
	char lower[65];
	size_t n = strlen(hash);
	for (size_t i = 0; i < n && i < 64; i++)
		lower[i] = (char)tolower((unsigned char)hash[i]);
	if (n != 64 || strspn(hash, "0123456789abcdefABCDEF") != 64)
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: %s '%s': sha256 is not 64 hex digits",
				c->noun, entry_label(e));
	lower[64] = '\0';
	if (swi_attrs_set(&e->attrs, "sha256", lower))
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	return SWI_OK;
}

/* compressed: true means "zlib", false none; strings name the method. */
static int check_compressed(struct parser *p, const struct collection *c,
			    const config_setting_t *group, struct swi_entry *e)
{
	const config_setting_t *s = config_setting_get_member(group, "compressed");
	if (!s || config_setting_type(s) == CONFIG_TYPE_BOOL) {
		if (s && config_setting_get_bool(s) &&
		    swi_attrs_set(&e->attrs, "compressed", "zlib"))
			return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
		return SWI_OK;
	}
	const char *v = config_setting_get_string(s);
	if (!v)
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: %s '%s': compressed is neither a boolean nor a string",
				c->noun, entry_label(e));
	if (strcmp(v, "zlib") && strcmp(v, "zstd") && strcmp(v, "xz"))
		return swi_fail(p->ctx, SWI_EUNSUPPORTED,
				"sw-description: %s '%s': compression '%s' is not supported",
				c->noun, entry_label(e), v);
	return SWI_OK;
}

static bool attr_is_true(const struct swi_entry *e, const char *name)
{
	const char *v = swi_attrs_get(&e->attrs, name);
	return v && !strcmp(v, "true");
}

/* Points the convenience fields into the attribute values (set last: a
 * later swi_attrs_set of the same name would free the value). */
static void set_pointers(struct swi_entry *e, const config_setting_t *group)
{
	const config_setting_t *comp = config_setting_get_member(group, "compressed");
	e->filename = swi_attrs_get(&e->attrs, "filename");
	e->type = swi_attrs_get(&e->attrs, "type");
	e->sha256 = swi_attrs_get(&e->attrs, "sha256");
	e->compressed = comp && !(config_setting_type(comp) == CONFIG_TYPE_BOOL &&
				  !config_setting_get_bool(comp)) ?
		swi_attrs_get(&e->attrs, "compressed") : NULL;
	e->name = swi_attrs_get(&e->attrs, "name");
	e->version = swi_attrs_get(&e->attrs, "version");
	e->encrypted = attr_is_true(e, "encrypted");
	e->install_if_different = attr_is_true(e, "install-if-different");
	e->install_if_higher = attr_is_true(e, "install-if-higher");
}

static int build_entry(struct parser *p, const struct collection *c,
		       const config_setting_t *group, struct swi_entry *e)
{
	e->kind = c->kind;
	int rc = store_attrs(group, &e->attrs);
	if (rc)
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	if ((rc = set_type(p, c, e)) || (rc = check_sha256(p, c, e)) ||
	    (rc = check_compressed(p, c, group, e)))
		return rc;
	set_pointers(e, group);
	return SWI_OK;
}

static int append_entry(struct parser *p, const struct collection *c,
			const config_setting_t *group)
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

static bool has_filename(const config_setting_t *group)
{
	return config_setting_get_member(group, "filename") != NULL;
}

/* Follows the links of a collection's element. A list being expanded must
 * not be met again: the link leads back into a list that holds it. (Nothing
 * but a link leads there, as a list's elements have no names to walk to.) */
static int follow_element(struct parser *p, config_setting_t **elem)
{
	const char *ref = NULL;
	bool linked = is_link(*elem, &ref);
	int rc = follow_links(p, elem);
	if (!rc && linked && is_active(*elem))
		rc = swi_fail(p->ctx, SWI_EFORMAT,
			      "sw-description: link loop: '%s' leads back into a list that holds it",
			      ref);
	return rc;
}

static int parse_elements(struct parser *p, const struct collection *c,
			  config_setting_t *list);

/* One element of a collection: an entry, or a link to an entry or to a list
 * of them (SWUpdate follows links on elements as well). */
static int parse_element(struct parser *p, const struct collection *c,
			 config_setting_t *elem)
{
	int rc = follow_element(p, &elem);
	if (rc)
		return rc;
	if (config_setting_is_list(elem) || config_setting_is_array(elem))
		return parse_elements(p, c, elem);
	if (!config_setting_is_group(elem))
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: line %d: %s entry is not a group",
				config_setting_source_line(elem), c->noun);
	p->index++;
	if (c->kind != SWI_ENTRY_PARTITION && !has_filename(elem))
		return SWI_OK;
	return append_entry(p, c, elem);
}

static int parse_elements(struct parser *p, const struct collection *c,
			  config_setting_t *list)
{
	config_setting_t *base = p->active;
	int rc = SWI_OK;
	push_active(p, list);
	for (int i = 0; !rc && i < config_setting_length(list); i++)
		rc = parse_element(p, c, config_setting_get_elem(list, (unsigned)i));
	pop_active(p, base);
	return rc;
}

static int parse_collection(struct parser *p, const struct collection *c)
{
	config_setting_t *list;
	int rc = lookup(p, c->name, &list);
	if (rc || !list)
		return rc;
	if (!config_setting_is_list(list))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: %s is not a list ( )",
				c->name);
	p->index = 0;
	return parse_elements(p, c, list);
}

/* ---------------------------------------------------------------------- */
/* bootenv                                                                  */
/* ---------------------------------------------------------------------- */

static int add_bootenv_var(struct parser *p, const config_setting_t *group)
{
	const config_setting_t *name = config_setting_get_member(group, "name");
	const config_setting_t *value = config_setting_get_member(group, "value");
	char buf[40];
	const char *v = value ? scalar_text(value, buf, sizeof(buf)) : "";
	if (!name || config_setting_type(name) != CONFIG_TYPE_STRING)
		return SWI_OK; /* like SWUpdate: an entry without a name is skipped */
	if (!v)
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: bootenv '%s': value is not a value",
				config_setting_get_string(name));
	if (swi_attrs_set(&p->m->bootenv, config_setting_get_string(name), v))
		return swi_fail(p->ctx, SWI_ENOMEM, "sw-description: out of memory");
	return SWI_OK;
}

static int parse_bootenv_element(struct parser *p, config_setting_t *elem);

static int parse_bootenv_elements(struct parser *p, config_setting_t *list)
{
	config_setting_t *base = p->active;
	int rc = SWI_OK;
	push_active(p, list);
	for (int i = 0; !rc && i < config_setting_length(list); i++)
		rc = parse_bootenv_element(p, config_setting_get_elem(list, (unsigned)i));
	pop_active(p, base);
	return rc;
}

static int parse_bootenv_element(struct parser *p, config_setting_t *elem)
{
	int rc = follow_element(p, &elem);
	if (rc)
		return rc;
	if (config_setting_is_list(elem))
		return parse_bootenv_elements(p, elem);
	if (!config_setting_is_group(elem))
		return swi_fail(p->ctx, SWI_EFORMAT,
				"sw-description: line %d: bootenv entry is not a group",
				config_setting_source_line(elem));
	p->index++;
	if (has_filename(elem))
		return append_entry(p, &bootenv_files, elem);
	return add_bootenv_var(p, elem);
}

/* "bootenv" and its older name "uboot" are one collection: at each place
 * "bootenv" is tried first, then "uboot". */
static int parse_bootenv(struct parser *p)
{
	config_setting_t *list = NULL;
	for (size_t i = 0; i < p->nplaces && !list; i++) {
		config_setting_t *base;
		int rc = walk_place(p, i, &base);
		if (!rc && base)
			rc = get_member(p, base, "bootenv", &list);
		if (!rc && base && !list)
			rc = get_member(p, base, "uboot", &list);
		if (rc)
			return rc;
	}
	if (!list)
		return SWI_OK;
	if (!config_setting_is_list(list))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: bootenv is not a list ( )");
	p->index = 0;
	return parse_bootenv_elements(p, list);
}

/* ---------------------------------------------------------------------- */
/* Entry point                                                              */
/* ---------------------------------------------------------------------- */

static int read_config(struct parser *p, const char *text, size_t len)
{
	if (memchr(text, '\0', len))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: contains a NUL byte");
	char *clean = NULL;
	int rc = normalize_text(p->ctx, text, len, &clean);
	if (rc)
		return rc;
	if (config_read_string(&p->cfg, clean) != CONFIG_TRUE) {
		const char *why = config_error_text(&p->cfg);
		rc = swi_fail(p->ctx, SWI_EFORMAT, "sw-description: line %d: %s",
			      config_error_line(&p->cfg), why ? why : "syntax error");
	}
	free(clean);
	return rc;
}

static int parse_tree(struct parser *p, const char *select)
{
	config_setting_t *software;
	int rc = get_member(p, config_root_setting(&p->cfg), "software", &software);
	if (rc)
		return rc;
	if (!software || !config_setting_is_group(software))
		return swi_fail(p->ctx, SWI_EFORMAT, "sw-description: no 'software' group");
	if ((rc = list_boards(p, software)))
		return rc;
	if (!p->nselection_places) {
		/* Without a selection, the places left are the board's and the
		 * root: the selections offered under them. */
		for (size_t i = 0; !rc && i < p->nplaces; i++) {
			config_setting_t *base;
			if (!(rc = walk_place(p, i, &base)))
				rc = list_selections(p, base);
		}
		if (rc)
			return rc;
	}
	if ((rc = check_selection(p, select)) ||
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
	config_init(&p.cfg);
	int rc = set_places(&p, board, select);
	if (!rc)
		rc = read_config(&p, text, len);
	if (!rc)
		rc = parse_tree(&p, select);
	config_destroy(&p.cfg);
	free(p.set);
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
	memset(m, 0, sizeof(*m));
}
