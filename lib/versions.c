/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device's hardware revision, its installed software versions, and the
 * order of version strings. */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "versions.h"

#define REGEX_PREFIX "#RE:"
#define BLANKS " \t\r\n"

/* ---- hwrevision ---------------------------------------------------------- */

/* Copies the pair out; both or neither. */
static int store_pair(swi_ctx_t *ctx, const char *b, size_t blen, const char *r,
		      char **board, char **revision)
{
	*board = strndup(b, blen);
	*revision = strdup(r);
	if (*board && *revision)
		return SWI_OK;
	free(*board);
	free(*revision);
	*board = *revision = NULL;
	return swi_fail(ctx, SWI_ENOMEM, "hwrevision: out of memory");
}

static int split_option(swi_ctx_t *ctx, const char *value, char **board, char **revision)
{
	const char *colon = strchr(value, ':');
	if (!colon || colon == value || !colon[1])
		return swi_fail(ctx, SWI_EINVAL, "hwrevision: '%s' is not BOARD:REVISION", value);
	return store_pair(ctx, value, (size_t)(colon - value), colon + 1, board, revision);
}

/* Splits line into exactly two blank-separated words, or returns false. */
static bool two_words(char *line, char **first, char **second)
{
	char *save = NULL;
	*first = strtok_r(line, BLANKS, &save);
	*second = *first ? strtok_r(NULL, BLANKS, &save) : NULL;
	return *second && !strtok_r(NULL, BLANKS, &save);
}

/* Only the first line of the file counts, as in SWUpdate. */
static int read_hwrevision_file(swi_ctx_t *ctx, const char *path, char **board,
				char **revision)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? SWI_OK :
		       swi_fail(ctx, SWI_ECONFIG, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	char *b, *r;
	int rc = SWI_OK;
	if (getline(&line, &cap, f) < 0)
		rc = ferror(f) ? swi_fail(ctx, SWI_ECONFIG, "%s: %s", path, strerror(errno)) :
				 swi_fail(ctx, SWI_ECONFIG, "%s: file is empty", path);
	else if (!two_words(line, &b, &r))
		rc = swi_fail(ctx, SWI_ECONFIG, "%s: first line is not 'BOARD REVISION'", path);
	else
		rc = store_pair(ctx, b, strlen(b), r, board, revision);
	free(line);
	fclose(f);
	return rc;
}

int swi_hwrevision_get(swi_ctx_t *ctx, char **board, char **revision)
{
	*board = NULL;
	*revision = NULL;
	if (ctx->opt.hwrevision)
		return split_option(ctx, ctx->opt.hwrevision, board, revision);
	return read_hwrevision_file(ctx, swi_opt_hwrevision_file(ctx), board, revision);
}

/* ---- hardware compatibility --------------------------------------------- */

/* True when the extended regex matches the whole revision. POSIX regexec
 * returns the longest match at the leftmost position, so a whole-string
 * match, when there is one, is the one reported. An invalid regex matches
 * nothing. */
static bool regex_matches_all(const char *pattern, const char *revision)
{
	regex_t re;
	if (regcomp(&re, pattern, REG_EXTENDED) != 0)
		return false;
	regmatch_t m;
	bool all = regexec(&re, revision, 1, &m, 0) == 0 && m.rm_so == 0 &&
		   (size_t)m.rm_eo == strlen(revision);
	regfree(&re);
	return all;
}

int swi_hw_compatible(const char *revision, char *const *list, size_t n)
{
	if (!revision)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const char *entry = list[i];
		if (!entry)
			continue;
		if (strncmp(entry, REGEX_PREFIX, strlen(REGEX_PREFIX)) == 0) {
			if (regex_matches_all(entry + strlen(REGEX_PREFIX), revision))
				return 1;
		} else if (strcmp(entry, revision) == 0) {
			return 1;
		}
	}
	return 0;
}

/* ---- sw-versions ---------------------------------------------------------- */

static bool is_blank_or_comment(const char *line)
{
	line += strspn(line, BLANKS);
	return *line == '\0' || *line == '#';
}

static int parse_versions(swi_ctx_t *ctx, const char *path, FILE *f, struct swi_attrs *out)
{
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	int rc = SWI_OK;
	while (rc == SWI_OK && getline(&line, &cap, f) >= 0) {
		lineno++;
		char *name, *version;
		if (is_blank_or_comment(line))
			continue;
		if (!two_words(line, &name, &version))
			rc = swi_fail(ctx, SWI_ECONFIG, "%s:%u: expected 'NAME VERSION'", path, lineno);
		else if (swi_attrs_set(out, name, version) != SWI_OK)
			rc = swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", path);
	}
	if (rc == SWI_OK && ferror(f))
		rc = swi_fail(ctx, SWI_ECONFIG, "%s: %s", path, strerror(errno));
	free(line);
	return rc;
}

/* On failure out is emptied, so a half-read file is never used. A name
 * listed twice keeps its last version. */
int swi_sw_versions_load(swi_ctx_t *ctx, const char *path, struct swi_attrs *out)
{
	if (!path)
		path = swi_opt_sw_versions_file(ctx);
	FILE *f = fopen(path, "r");
	if (!f)
		return errno == ENOENT ? SWI_OK :
		       swi_fail(ctx, SWI_ECONFIG, "%s: %s", path, strerror(errno));
	int rc = parse_versions(ctx, path, f, out);
	fclose(f);
	if (rc != SWI_OK)
		swi_attrs_free(out);
	return rc;
}

/* ---- version order -------------------------------------------------------
 *
 * Versions are ordered as SWUpdate orders them (install-if-higher and the
 * guards no-downgrading and max-version), by the first of three rules that
 * fits both versions:
 *
 *   1. Dotted numbers: only digits and dots, and each of the first four
 *      numbers below 65536. The first four numbers are compared in turn, a
 *      missing one counting as 0; empty fields ("1..2") are skipped and
 *      numbers after the fourth are ignored. So "1.2" == "1.2.0.0",
 *      "1..2" == "1.2" and "1.2.3.4.5" == "1.2.3.4.9".
 *   2. Semantic versions: letters, digits, '.', '-' and '+' only. What follows
 *      the first '+' (build metadata) is ignored; a pre-release follows the
 *      first '-'. Each of the first four dot-separated fields of the rest
 *      must be a number (an empty field is 0); the first three are compared
 *      (major, minor, patch, missing ones 0), a fourth is not. With equal
 *      numbers, a version without pre-release is higher than one with; two
 *      pre-releases compare identifier by identifier (split at '.'): numbers
 *      (an empty identifier is 0) by value and lower than words, words
 *      bytewise, and when all shared ones are equal, fewer is lower.
 *   3. Anything else: the two strings bytewise (strcmp), so "2.0.beta" is
 *      higher than "10.0".
 *
 * Where SWUpdate's arithmetic gives up, this order stays an order: numbers
 * of rule 2 compare by value at any length (SWUpdate's wrap from 2^31 on),
 * and rule 2 takes versions of any length (SWUpdate's up to 255
 * characters). A missing (NULL) version is the empty one, which is the
 * dotted number 0.
 */

#define DOTTED_FIELDS 4
#define DOTTED_FIELD_MAX 65535u

struct span {
	const char *p;
	size_t len;
};

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Rule 1: the first four numbers as one 64-bit value, 16 bits each. */
static bool dotted_number(const char *v, uint64_t *value)
{
	if (v[strspn(v, "0123456789.")] != '\0')
		return false;
	uint64_t out = 0;
	unsigned fields = 0;
	for (const char *p = v; *p && fields < DOTTED_FIELDS;) {
		if (*p == '.') {
			p++;
			continue;
		}
		unsigned long n = 0;
		for (; isdigit((unsigned char)*p); p++)
			if (n <= DOTTED_FIELD_MAX)
				n = n * 10 + (unsigned long)(*p - '0');
		if (n > DOTTED_FIELD_MAX)
			return false;
		out = out << 16 | n;
		fields++;
	}
	for (; fields < DOTTED_FIELDS; fields++)
		out <<= 16;
	*value = out;
	return true;
}

/* The dot-separated fields of a span, an empty one included: "a." has two. */
struct fields {
	const char *p, *end;
	bool done;
};

static bool next_field(struct fields *f, struct span *out)
{
	if (f->done)
		return false;
	const char *dot = memchr(f->p, '.', (size_t)(f->end - f->p));
	*out = (struct span){ f->p, (size_t)((dot ? dot : f->end) - f->p) };
	if (dot)
		f->p = dot + 1;
	else
		f->done = true;
	return true;
}

static struct fields fields_of(struct span s)
{
	return (struct fields){ s.p, s.p + s.len, false };
}

/* Digits only; the empty span too (it counts as 0). */
static bool is_number(struct span s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!isdigit((unsigned char)s.p[i]))
			return false;
	return true;
}

/* Two numbers of any length by value: leading zeros skipped, then the
 * longer is greater. */
static int compare_numbers(struct span a, struct span b)
{
	while (a.len > 0 && *a.p == '0')
		a.p++, a.len--;
	while (b.len > 0 && *b.p == '0')
		b.p++, b.len--;
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return a.len ? sign(memcmp(a.p, b.p, a.len)) : 0;
}

static int compare_bytes(struct span a, struct span b)
{
	size_t n = a.len < b.len ? a.len : b.len;
	int c = n ? memcmp(a.p, b.p, n) : 0;
	return c ? sign(c) : (a.len > b.len) - (a.len < b.len);
}

#define SEMVER_NUMBERS 3

struct semver {
	struct span number[SEMVER_NUMBERS]; /* major, minor, patch; len 0: 0 */
	struct span prerelease;             /* p == NULL: none */
};

static const char semver_chars[] =
	"0123456789.-+abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* Rule 2: splits v into its numbers and pre-release, or returns false. */
static bool semantic_version(const char *v, struct semver *out)
{
	*out = (struct semver){ 0 };
	if (v[strspn(v, semver_chars)] != '\0')
		return false;
	size_t len = strcspn(v, "+");
	const char *dash = memchr(v, '-', len);
	if (dash)
		out->prerelease = (struct span){ dash + 1, len - (size_t)(dash + 1 - v) };
	struct fields f = fields_of((struct span){ v, dash ? (size_t)(dash - v) : len });
	struct span field;
	for (unsigned i = 0; i <= SEMVER_NUMBERS && next_field(&f, &field); i++) {
		if (!is_number(field))
			return false;
		if (i < SEMVER_NUMBERS)
			out->number[i] = field;
	}
	return true;
}

static int compare_identifiers(struct span a, struct span b)
{
	bool na = is_number(a), nb = is_number(b);
	if (na && nb)
		return compare_numbers(a, b);
	if (na != nb)
		return na ? -1 : 1;
	return compare_bytes(a, b);
}

static int compare_prereleases(struct span a, struct span b)
{
	if (!a.p || !b.p)
		return (!a.p) - (!b.p);
	struct fields fa = fields_of(a), fb = fields_of(b);
	struct span ia = { 0 }, ib = { 0 };
	for (;;) {
		bool more_a = next_field(&fa, &ia), more_b = next_field(&fb, &ib);
		if (!more_a || !more_b)
			return more_a - more_b;
		int c = compare_identifiers(ia, ib);
		if (c)
			return c;
	}
}

static int compare_semantic(const struct semver *a, const struct semver *b)
{
	for (unsigned i = 0; i < SEMVER_NUMBERS; i++) {
		int c = compare_numbers(a->number[i], b->number[i]);
		if (c)
			return c;
	}
	return compare_prereleases(a->prerelease, b->prerelease);
}

int swi_version_compare(const char *a, const char *b)
{
	a = a ? a : "";
	b = b ? b : "";
	uint64_t na, nb;
	if (dotted_number(a, &na) && dotted_number(b, &nb))
		return (na > nb) - (na < nb);
	struct semver sa, sb;
	if (semantic_version(a, &sa) && semantic_version(b, &sb))
		return compare_semantic(&sa, &sb);
	return sign(strcmp(a, b));
}

/* ---- version guards ------------------------------------------------------ */

/* The name of the first guard set, in the order they are checked, with its
 * version in *version; NULL when none is set. */
static const char *first_guard(const struct swi_options *o, const char **version)
{
	*version = o->no_downgrading ? o->no_downgrading
		   : o->max_version ? o->max_version : o->no_reinstalling;
	return o->no_downgrading ? "no-downgrading"
	       : o->max_version ? "max-version"
	       : o->no_reinstalling ? "no-reinstalling" : NULL;
}

static int refuse_version(swi_ctx_t *ctx, const char *version, const char *relation,
			  const char *limit, const char *guard)
{
	return swi_fail(ctx, SWI_ECOMPAT, "sw-description: image version %s is %s %s (%s)",
			version, relation, limit, guard);
}

/*
 * In SWUpdate's order. no-reinstalling compares the strings exactly, as
 * SWUpdate does ("1.2" is not a reinstall of "1.2.0"). SWUpdate refuses
 * every image without a version; swinstall installs one when no guard is
 * set, but a guard it cannot check refuses it: an image that does not say
 * what it is cannot be shown to be no downgrade, no reinstall, not too new.
 */
int swi_version_guards(swi_ctx_t *ctx, const char *image_version)
{
	const struct swi_options *o = &ctx->opt;
	const char *limit;
	const char *guard = first_guard(o, &limit);
	if (!guard)
		return SWI_OK;
	const char *v = image_version;
	if (!v || !*v)
		return swi_fail(ctx, SWI_ECOMPAT,
				"sw-description: the image has no version, so %s %s cannot be "
				"checked; refused", guard, limit);
	if (o->no_downgrading && swi_version_compare(v, o->no_downgrading) < 0)
		return refuse_version(ctx, v, "lower than", o->no_downgrading, "no-downgrading");
	if (o->max_version && swi_version_compare(v, o->max_version) > 0)
		return refuse_version(ctx, v, "higher than", o->max_version, "max-version");
	if (o->no_reinstalling && strcmp(v, o->no_reinstalling) == 0)
		return refuse_version(ctx, v, "the same as", o->no_reinstalling,
				      "no-reinstalling");
	swi_log(ctx, SWI_LOG_DEBUG, "image version %s passes the version guards", v);
	return SWI_OK;
}
