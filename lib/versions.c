/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device's hardware revision, its installed software versions, and the
 * order of version strings. */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
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
 * SWUpdate (install-if-higher) reads a version as up to four dot-separated
 * numbers of 16 bits each and compares them as one number; a version that
 * does not fit that form is compared by semantic-versioning rules. One rule
 * here covers both:
 *
 *   1. Build metadata after '+' is ignored.
 *   2. The release part (before the first '-') is split at '.'; components
 *      are compared left to right, a missing component counts as 0 (so
 *      "1.2" == "1.2.0"). Two numeric components compare as numbers of any
 *      length; a numeric component is lower than a non-numeric one; two
 *      non-numeric components compare bytewise (strcmp).
 *   3. With equal release parts, a version with a pre-release ("-rc1") is
 *      lower than the same version without one; two pre-releases compare
 *      component by component with the same rule, and the one with fewer
 *      components is lower when all shared ones are equal (as semver says).
 */

struct span {
	const char *p;
	size_t len;
};

static bool all_digits(struct span s)
{
	for (size_t i = 0; i < s.len; i++)
		if (!isdigit((unsigned char)s.p[i]))
			return false;
	return s.len > 0;
}

static int sign(int v)
{
	return (v > 0) - (v < 0);
}

/* Numbers of any length: skip leading zeros, then the longer is greater. */
static int compare_numbers(struct span a, struct span b)
{
	while (a.len > 1 && *a.p == '0')
		a.p++, a.len--;
	while (b.len > 1 && *b.p == '0')
		b.p++, b.len--;
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return sign(memcmp(a.p, b.p, a.len));
}

static int compare_component(struct span a, struct span b)
{
	bool na = all_digits(a), nb = all_digits(b);
	if (na && nb)
		return compare_numbers(a, b);
	if (na != nb)
		return na ? -1 : 1;
	size_t n = a.len < b.len ? a.len : b.len;
	int c = memcmp(a.p, b.p, n);
	return c ? sign(c) : (a.len > b.len) - (a.len < b.len);
}

/* The next '.'-separated component of *rest (which ends at end). */
static struct span next_component(const char **rest, const char *end)
{
	struct span s = { *rest, 0 };
	const char *dot = memchr(*rest, '.', (size_t)(end - *rest));
	s.len = (size_t)((dot ? dot : end) - *rest);
	*rest = dot ? dot + 1 : end;
	return s;
}

/* Compares two dotted lists; missing_is_zero: pad the shorter with "0". */
static int compare_dotted(struct span a, struct span b, bool missing_is_zero)
{
	const char *pa = a.p, *ea = a.p + a.len, *pb = b.p, *eb = b.p + b.len;
	static const char zero[] = "0";
	while (pa < ea || pb < eb) {
		if (!missing_is_zero && (pa >= ea || pb >= eb))
			return pa < ea ? 1 : -1;
		struct span ca = pa < ea ? next_component(&pa, ea) : (struct span){ zero, 1 };
		struct span cb = pb < eb ? next_component(&pb, eb) : (struct span){ zero, 1 };
		int c = compare_component(ca, cb);
		if (c)
			return c;
	}
	return 0;
}

struct version {
	struct span release;
	struct span prerelease; /* p == NULL: none */
};

static struct version split_version(const char *v)
{
	size_t len = strcspn(v, "+");
	const char *dash = memchr(v, '-', len);
	struct version out = { { v, dash ? (size_t)(dash - v) : len }, { NULL, 0 } };
	if (dash)
		out.prerelease = (struct span){ dash + 1, len - (size_t)(dash + 1 - v) };
	return out;
}

int swi_version_compare(const char *a, const char *b)
{
	struct version va = split_version(a ? a : ""), vb = split_version(b ? b : "");
	int c = compare_dotted(va.release, vb.release, true);
	if (c)
		return c;
	if (!va.prerelease.p || !vb.prerelease.p)
		return (!va.prerelease.p) - (!vb.prerelease.p);
	return compare_dotted(va.prerelease, vb.prerelease, false);
}
