/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `swinstall info`: what is in an image, for people or for scripts. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>
#include "info.h"

/* ---- text --------------------------------------------------------------- */

/* The image's strings are not trusted: control characters (a terminal's
 * escape sequences among them) are written as \xNN, as in error messages. */
static void put_text(const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
}

/* put_text, padded with spaces to width columns. */
static void put_column(const char *s, int width)
{
	put_text(s);
	for (int n = (int)strlen(s); n < width; n++)
		putchar(' ');
}

static void put_words(const char *const *words, const char *none)
{
	if (!words || !words[0])
		fputs(none, stdout);
	for (; words && *words; words++) {
		put_text(*words);
		if (words[1])
			putchar(' ');
	}
}

static void put_field(const char *label, const char *value)
{
	printf("%-16s", label);
	put_text(value);
	putchar('\n');
}

static void size_text(uint64_t size, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB" };
	double v = (double)size;
	if (size < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", size);
		return;
	}
	size_t u = 0;
	for (v /= 1024; v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]); u++)
		v /= 1024;
	snprintf(buf, len, "%.1f %s", v, units[u]);
}

static const char *const sig_states[] = {
	[SWI_SIG_UNSIGNED] = "unsigned",
	[SWI_SIG_UNVERIFIED] = "unverified",
	[SWI_SIG_VERIFIED] = "verified",
	[SWI_SIG_FAILED] = "failed",
};

static void put_signature(const struct swi_info *info)
{
	printf("%-16s", "signature:");
	if (info->signature_kind) {
		fputs(info->signature_kind, stdout);
		if (info->signer) {
			fputs(", signer '", stdout);
			put_text(info->signer);
			putchar('\'');
		}
		fputs(", ", stdout);
	}
	switch (info->signature) {
	case SWI_SIG_UNSIGNED:
		puts("unsigned");
		return;
	case SWI_SIG_UNVERIFIED:
		puts("not verified: no key given");
		return;
	case SWI_SIG_VERIFIED:
		fputs("verified with ", stdout);
		break;
	default:
		fputs("FAILED to verify with ", stdout);
		break;
	}
	put_text(info->key);
	if (info->signature_error) {
		fputs(": ", stdout);
		put_text(info->signature_error);
	}
	putchar('\n');
}

/* Where an entry goes, in a few words. */
static void target_text(const struct swi_info_entry *e, char *buf, size_t len)
{
	if (e->path && e->device)
		snprintf(buf, len, "-> %s on %s%s%s%s", e->path, e->device,
			 e->filesystem ? " (" : "", e->filesystem ? e->filesystem : "",
			 e->filesystem ? ")" : "");
	else if (e->path)
		snprintf(buf, len, "-> %s", e->path);
	else if (e->device)
		snprintf(buf, len, "-> %s%s%s", e->device, e->offset ? " at " : "",
			 e->offset ? e->offset : "");
	else if (e->volume)
		snprintf(buf, len, "-> volume %s", e->volume);
	else if (e->mtdname)
		snprintf(buf, len, "-> mtd %s", e->mtdname);
	else
		snprintf(buf, len, "-");
}

enum { COL_LABEL, COL_TYPE, COL_MEMBER, COL_SIZE, COL_COMPRESSION, COL_TARGET, NCOLS };

struct row {
	char col[NCOLS][512];
};

static void fill_row(const struct swi_info_entry *e, struct row *r)
{
	snprintf(r->col[COL_LABEL], sizeof(r->col[0]), "%s[%u]", e->collection, e->index);
	snprintf(r->col[COL_TYPE], sizeof(r->col[0]), "%s", e->type);
	snprintf(r->col[COL_MEMBER], sizeof(r->col[0]), "%s", e->filename ? e->filename : "-");
	if (!e->filename)
		snprintf(r->col[COL_SIZE], sizeof(r->col[0]), "-");
	else if (e->member_present)
		size_text(e->size, r->col[COL_SIZE], sizeof(r->col[0]));
	else
		snprintf(r->col[COL_SIZE], sizeof(r->col[0]), "missing");
	snprintf(r->col[COL_COMPRESSION], sizeof(r->col[0]), "%s",
		 e->compressed ? e->compressed : "-");
	target_text(e, r->col[COL_TARGET], sizeof(r->col[0]));
}

static void put_flags(const struct swi_info_entry *e)
{
	if (e->filename)
		fputs(e->sha256 ? "sha256" : "no sha256", stdout);
	if (e->encrypted)
		fputs(", encrypted", stdout);
	if (e->filename && !e->member_present)
		fputs(", NOT IN THE ARCHIVE", stdout);
	if (!e->handler_available)
		fputs(", NO HANDLER in this build", stdout);
}

static bool same_words(const char *const *a, const char *const *b)
{
	for (; *a && *b; a++, b++)
		if (strcmp(*a, *b) != 0)
			return false;
	return !*a && !*b;
}

static void put_place_heading(const struct swi_info_place *p)
{
	putchar('\n');
	if (p->board) {
		fputs("board ", stdout);
		put_text(p->board);
	}
	if (p->board && p->selection)
		fputs(", ", stdout);
	if (p->selection) {
		fputs("selection ", stdout);
		put_text(p->selection);
	}
	if (!p->board && !p->selection)
		fputs("no board, no selection", stdout);
	puts(":");
}

/* A place's entries in aligned columns, and what it differs in. */
static void put_place(const struct swi_info *info, const struct swi_info_place *p)
{
	put_place_heading(p);
	if (p->version && (!info->version || strcmp(p->version, info->version) != 0)) {
		fputs("  version:  ", stdout);
		put_text(p->version);
		putchar('\n');
	}
	if (!same_words(p->hardware, info->hardware)) {
		fputs("  hardware: ", stdout);
		put_words(p->hardware, "any");
		putchar('\n');
	}
	int width[NCOLS] = { 0 };
	struct row r;
	for (size_t i = 0; i < p->nentries; i++) {
		fill_row(&p->entries[i], &r);
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(r.col[c]) > width[c])
				width[c] = (int)strlen(r.col[c]);
	}
	for (size_t i = 0; i < p->nentries; i++) {
		fill_row(&p->entries[i], &r);
		fputs("  ", stdout);
		for (int c = 0; c < NCOLS; c++) {
			put_column(r.col[c], width[c]);
			fputs("  ", stdout);
		}
		put_flags(&p->entries[i]);
		putchar('\n');
	}
	if (p->bootenv[0]) {
		fputs("  bootenv:  ", stdout);
		put_words(p->bootenv, "");
		putchar('\n');
	}
}

static void print_text(const struct swi_info *info)
{
	char size[32];
	put_field("version:", info->version ? info->version : "(none)");
	if (info->description)
		put_field("description:", info->description);
	printf("%-16s%zu bytes\n", "sw-description:", info->description_size);
	put_signature(info);
	printf("%-16s", "hardware:");
	put_words(info->hardware, "any");
	printf("\n%-16s", "boards:");
	put_words(info->boards, "none");
	printf("\n%-16s", "selections:");
	put_words(info->selections, "none");
	uint64_t total = 0;
	for (size_t i = 0; i < info->nmembers; i++)
		total += info->members[i].size;
	size_text(total, size, sizeof(size));
	printf("\n%-16s%zu (%s)\n", "members:", info->nmembers, size);
	for (size_t i = 0; i < info->nplaces; i++)
		put_place(info, &info->places[i]);
	if (info->nplaces == 0)
		puts("\nno place of the image installs anything");
	bool any = false;
	for (size_t i = 0; i < info->nmembers; i++) {
		if (info->members[i].used)
			continue;
		fputs(any ? " " : "\nunused members: ", stdout);
		put_text(info->members[i].name);
		any = true;
	}
	if (any)
		putchar('\n');
}

/* ---- JSON --------------------------------------------------------------- */

static json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *string_array(const char *const *words)
{
	json_object *a = json_object_new_array();
	for (; words && *words; words++)
		json_object_array_add(a, json_object_new_string(*words));
	return a;
}

static json_object *signature_json(const struct swi_info *info)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string(sig_states[info->signature]));
	json_object_object_add(o, "kind", string_or_null(info->signature_kind));
	json_object_object_add(o, "signer", string_or_null(info->signer));
	json_object_object_add(o, "key", string_or_null(info->key));
	json_object_object_add(o, "error", string_or_null(info->signature_error));
	return o;
}

static json_object *entry_json(const struct swi_info_entry *e)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "collection", json_object_new_string(e->collection));
	json_object_object_add(o, "index", json_object_new_int64(e->index));
	json_object_object_add(o, "filename", string_or_null(e->filename));
	json_object_object_add(o, "type", json_object_new_string(e->type));
	json_object_object_add(o, "handler_available", json_object_new_boolean(e->handler_available));
	json_object_object_add(o, "member_present", json_object_new_boolean(e->member_present));
	json_object_object_add(o, "size", e->member_present ? json_object_new_int64((int64_t)e->size)
							     : NULL);
	json_object_object_add(o, "compressed", string_or_null(e->compressed));
	json_object_object_add(o, "encrypted", json_object_new_boolean(e->encrypted));
	json_object_object_add(o, "sha256", string_or_null(e->sha256));
	const char *const attrs[][2] = {
		{ "device", e->device }, { "offset", e->offset }, { "path", e->path },
		{ "filesystem", e->filesystem }, { "volume", e->volume },
		{ "mtdname", e->mtdname }, { "name", e->name }, { "version", e->version },
	};
	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		json_object_object_add(o, attrs[i][0], string_or_null(attrs[i][1]));
	return o;
}

static json_object *place_json(const struct swi_info_place *p)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "board", string_or_null(p->board));
	json_object_object_add(o, "selection", string_or_null(p->selection));
	json_object_object_add(o, "version", string_or_null(p->version));
	json_object_object_add(o, "hardware_compatibility", string_array(p->hardware));
	json_object *entries = json_object_new_array();
	for (size_t i = 0; i < p->nentries; i++)
		json_object_array_add(entries, entry_json(&p->entries[i]));
	json_object_object_add(o, "entries", entries);
	json_object *env = json_object_new_object();
	for (const char *const *v = p->bootenv; *v; v++) {
		const char *eq = strchr(*v, '=');
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - *v), *v);
		json_object_object_add(env, name, json_object_new_string(eq + 1));
	}
	json_object_object_add(o, "bootenv", env);
	return o;
}

static void print_json(const struct swi_info *info)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "version", string_or_null(info->version));
	json_object_object_add(o, "description", string_or_null(info->description));
	json_object_object_add(o, "sw_description_size",
			       json_object_new_int64((int64_t)info->description_size));
	json_object_object_add(o, "signature", signature_json(info));
	json_object_object_add(o, "hardware_compatibility", string_array(info->hardware));
	json_object_object_add(o, "boards", string_array(info->boards));
	json_object_object_add(o, "selections", string_array(info->selections));
	json_object *places = json_object_new_array();
	for (size_t i = 0; i < info->nplaces; i++)
		json_object_array_add(places, place_json(&info->places[i]));
	json_object_object_add(o, "places", places);
	json_object *members = json_object_new_array(), *unused = json_object_new_array();
	for (size_t i = 0; i < info->nmembers; i++) {
		const struct swi_info_member *m = &info->members[i];
		json_object *jm = json_object_new_object();
		json_object_object_add(jm, "name", json_object_new_string(m->name));
		json_object_object_add(jm, "size", json_object_new_int64((int64_t)m->size));
		json_object_object_add(jm, "used", json_object_new_boolean(m->used));
		json_object_array_add(members, jm);
		if (!m->used)
			json_object_array_add(unused, json_object_new_string(m->name));
	}
	json_object_object_add(o, "members", members);
	json_object_object_add(o, "unused_members", unused);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

bool cli_is_url(const char *image)
{
	return !strncasecmp(image, "http://", 7) || !strncasecmp(image, "https://", 8);
}

static int read_info(swi_ctx_t *ctx, const char *image, struct swi_info *info)
{
	if (strcmp(image, "-") == 0)
		return swi_info_fd(ctx, STDIN_FILENO, info);
	if (cli_is_url(image))
		return swi_info_url(ctx, image, info);
	return swi_info_file(ctx, image, info);
}

int cli_info(swi_ctx_t *ctx, const char *image, bool json)
{
	struct swi_info info;
	int rc = read_info(ctx, image, &info);
	/* A signature that did not verify is shown with the rest; the
	 * status still says it failed. */
	if (rc == SWI_OK || rc == SWI_ESIG) {
		if (json)
			print_json(&info);
		else
			print_text(&info);
	}
	swi_info_free(&info);
	return rc;
}
