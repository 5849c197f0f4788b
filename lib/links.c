/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Links and lookup places over the sw-description tree. */
#include <stdlib.h>
#include <string.h>
#include "links.h"

/*
 * Loop detection. The links being followed and the lists being expanded are
 * "active": meeting an active one again means the file loops, while a chain
 * of links that never comes back is fine however long it is. Every node met
 * gets a visit (its mark points at it); the active ones form a stack through
 * their visits, so the test costs the same for any chain length.
 *
 * A link's outcome does not depend on where it was reached from: its path
 * names the same node from anywhere, and a link that meets an active link
 * lies on a loop, which fails from anywhere too. So each link is resolved
 * once and its outcome kept in its visit: a file with many links that lead
 * through each other costs their number, not its square or cube.
 */
struct swi_visit {
	struct swi_visit *next;  /* every visit, to free them */
	struct swi_visit *below; /* the active visit pushed before this one */
	bool active;
	bool resolved;           /* a link whose outcome is known: */
	int rc;                  /* SWI_OK and target, or an error and its message */
	struct swi_node *target;
	char *error;
};

static bool is_active(const struct swi_node *node)
{
	const struct swi_visit *v = swi_node_mark(node);
	return v && v->active;
}

/* Makes node active; SWI_OK or SWI_ENOMEM. */
static int push_active(struct swi_lookup *l, struct swi_node *node)
{
	struct swi_visit *v = swi_node_mark(node);
	if (!v) {
		if (!(v = calloc(1, sizeof(*v))))
			return swi_fail(l->ctx, SWI_ENOMEM, "sw-description: out of memory");
		v->next = l->visits;
		l->visits = v;
		swi_node_set_mark(node, v);
	}
	v->active = true;
	v->below = l->active;
	l->active = v;
	return SWI_OK;
}

/* Pops the nodes pushed since the top was base. */
static void pop_active(struct swi_lookup *l, struct swi_visit *base)
{
	while (l->active != base) {
		l->active->active = false;
		l->active = l->active->below;
	}
}

/* Keeps the outcome of resolving the link whose visit is v. */
static void keep_outcome(struct swi_lookup *l, struct swi_visit *v, int rc,
			 struct swi_node *target)
{
	v->rc = rc;
	v->target = target;
	/* without memory for the message, the outcome is simply not kept */
	v->resolved = !rc || (v->error = strdup(swi_errmsg(l->ctx)));
}

/* The kept outcome of a link met again. */
static int replay_outcome(struct swi_lookup *l, const struct swi_visit *v,
			  struct swi_node **node)
{
	if (v->rc)
		return swi_fail(l->ctx, v->rc, "%s", v->error);
	*node = v->target;
	return SWI_OK;
}

static bool is_link(const struct swi_node *node, const char **ref)
{
	const struct swi_node *r = swi_node_member(node, "ref");
	*ref = r ? swi_node_string(r) : NULL;
	return *ref != NULL;
}

/* One step of a link's path from node: ".", ".." or a member name. */
static int path_step(struct swi_lookup *l, const char *ref, const char *name,
		     struct swi_node **node)
{
	if (!strcmp(name, "."))
		return SWI_OK;
	if (!strcmp(name, "..")) {
		*node = swi_node_parent(*node);
		if (!*node)
			return swi_fail(l->ctx, SWI_EFORMAT,
					"sw-description: link '%s' goes above the root", ref);
		return SWI_OK;
	}
	struct swi_node *next = swi_node_member(*node, name);
	if (!next)
		return swi_fail(l->ctx, SWI_EFORMAT,
				"sw-description: link '%s': '%s' not found", ref, name);
	*node = next;
	return swi_lookup_follow(l, node);
}

/*
 * Resolves the path of the link held in group `link`. Like a symlink in a
 * directory: a path whose first name is "." or ".." starts at the group that
 * holds the link (its parent), any other path at the root.
 */
static int resolve_ref(struct swi_lookup *l, struct swi_node *link, const char *ref,
		       struct swi_node **out)
{
	if (ref[0] != '#')
		return swi_fail(l->ctx, SWI_EFORMAT,
				"sw-description: link '%s' does not start with '#'", ref);
	if (l->nesting >= SWI_LINKS_MAX_NESTING)
		return swi_fail(l->ctx, SWI_EFORMAT,
				"sw-description: link '%s': links and the lists they lead to "
				"nest deeper than %d", ref, SWI_LINKS_MAX_NESTING);
	char *path = strdup(ref + 1);
	if (!path)
		return swi_fail(l->ctx, SWI_ENOMEM, "sw-description: out of memory");
	bool relative = !strncmp(path, "./", 2) || !strncmp(path, "../", 3) ||
			!strcmp(path, ".") || !strcmp(path, "..");
	struct swi_node *node = relative ? swi_node_parent(link) : swi_tree_root(l->tree);
	int rc = node ? SWI_OK : swi_fail(l->ctx, SWI_EFORMAT,
					  "sw-description: link '%s' goes above the root", ref);
	char *save = NULL;
	l->nesting++;
	for (char *name = strtok_r(path, "/", &save); !rc && name;
	     name = strtok_r(NULL, "/", &save))
		rc = path_step(l, ref, name, &node);
	l->nesting--;
	free(path);
	if (!rc)
		*out = node;
	return rc;
}

int swi_lookup_follow(struct swi_lookup *l, struct swi_node **node)
{
	struct swi_visit *base = l->active;
	const char *ref;
	int rc = SWI_OK;
	while (!rc && *node && is_link(*node, &ref)) {
		/* a link met again in its own chain is a loop, whether its
		 * outcome is known or not */
		if (is_active(*node)) {
			rc = swi_fail(l->ctx, SWI_EFORMAT,
				      "sw-description: link loop: '%s' leads back to itself", ref);
		} else if (!(rc = push_active(l, *node))) {
			struct swi_visit *v = swi_node_mark(*node);
			struct swi_node *target = NULL;
			if (v->resolved) {
				rc = replay_outcome(l, v, node);
			} else {
				rc = resolve_ref(l, *node, ref, &target);
				keep_outcome(l, v, rc, target);
				if (!rc)
					*node = target;
			}
		}
	}
	pop_active(l, base);
	return rc;
}

int swi_lookup_member(struct swi_lookup *l, struct swi_node *node, const char *name,
		      struct swi_node **out)
{
	*out = node ? swi_node_member(node, name) : NULL;
	return swi_lookup_follow(l, out);
}

int swi_lookup_place(struct swi_lookup *l, size_t i, struct swi_node **out)
{
	struct swi_node *node = swi_tree_root(l->tree);
	for (size_t k = 0; node && k < l->place_len[i]; k++) {
		int rc = swi_lookup_member(l, node, l->places[i][k], &node);
		if (rc)
			return rc;
	}
	*out = node;
	return SWI_OK;
}

int swi_lookup_fields(struct swi_lookup *l, const char *const *names, struct swi_node **out)
{
	*out = NULL;
	for (size_t i = 0; i < l->nplaces && !*out; i++) {
		struct swi_node *base;
		int rc = swi_lookup_place(l, i, &base);
		for (size_t k = 0; !rc && base && !*out && names[k]; k++)
			rc = swi_lookup_member(l, base, names[k], out);
		if (rc)
			return rc;
	}
	return SWI_OK;
}

int swi_lookup_field(struct swi_lookup *l, const char *name, struct swi_node **out)
{
	const char *const names[] = { name, NULL };
	return swi_lookup_fields(l, names, out);
}

static void add_place(struct swi_lookup *l, const char *a, const char *b, const char *c)
{
	const char *names[4] = { "software", a, b, c };
	size_t n = 1;
	for (size_t i = 1; i < 4 && names[i]; i++)
		n++;
	memcpy(l->places[l->nplaces], names, sizeof(names));
	l->place_len[l->nplaces++] = n;
}

int swi_lookup_init(struct swi_lookup *l, swi_ctx_t *ctx, const struct swi_tree *tree,
		    const char *board, const char *select)
{
	memset(l, 0, sizeof(*l));
	l->ctx = ctx;
	l->tree = tree;
	if (board && !*board)
		board = NULL;
	if (select && *select) {
		const char *comma = strchr(select, ',');
		if (!comma || comma == select || !comma[1])
			return swi_fail(ctx, SWI_EINVAL, "select: '%s' is not SET,MODE", select);
		if (!(l->set = strdup(select)))
			return swi_fail(ctx, SWI_ENOMEM, "sw-description: out of memory");
		l->set[comma - select] = '\0';
		l->mode = l->set + (comma - select) + 1;
		if (board)
			add_place(l, board, l->set, l->mode);
		add_place(l, l->set, l->mode, NULL);
		l->nselection_places = l->nplaces;
	}
	if (board)
		add_place(l, board, NULL, NULL);
	add_place(l, NULL, NULL, NULL);
	return SWI_OK;
}

void swi_lookup_free(struct swi_lookup *l)
{
	while (l->visits) {
		struct swi_visit *v = l->visits;
		l->visits = v->next;
		free(v->error);
		free(v);
	}
	free(l->set);
	l->set = NULL;
	l->active = NULL;
}

int swi_lookup_check_selection(struct swi_lookup *l, const char *select)
{
	for (size_t i = 0; i < l->nselection_places; i++) {
		struct swi_node *node;
		int rc = swi_lookup_place(l, i, &node);
		if (rc || node)
			return rc;
	}
	if (!l->nselection_places)
		return SWI_OK;
	return swi_fail(l->ctx, SWI_ECOMPAT, "sw-description: selection '%s' not found", select);
}

int swi_lookup_enter_list(struct swi_lookup *l, struct swi_node *list,
			  struct swi_visit **base)
{
	*base = l->active;
	if (++l->nesting > SWI_LINKS_MAX_NESTING)
		return swi_fail(l->ctx, SWI_EFORMAT,
				"sw-description: links and the lists they lead to nest deeper "
				"than %d", SWI_LINKS_MAX_NESTING);
	return push_active(l, list);
}

void swi_lookup_leave_list(struct swi_lookup *l, struct swi_visit *base)
{
	l->nesting--;
	pop_active(l, base);
}

/* A list being expanded must not be met again: the link leads back into a
 * list that holds it. (Nothing but a link leads there, as a list's elements
 * have no names to walk to.) */
int swi_lookup_element(struct swi_lookup *l, struct swi_node **elem)
{
	const char *ref = NULL;
	bool linked = is_link(*elem, &ref);
	int rc = swi_lookup_follow(l, elem);
	if (!rc && linked && is_active(*elem))
		rc = swi_fail(l->ctx, SWI_EFORMAT,
			      "sw-description: link loop: '%s' leads back into a list that holds it",
			      ref);
	return rc;
}
