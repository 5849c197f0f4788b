/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sw-description text as real files write it (libconfig 1.7) made readable
 * by the libconfig 1.5 that Debian 12 ships. */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "libconfig_compat.h"

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

int swi_libconfig_compat(swi_ctx_t *ctx, const char *t, size_t len, char **result)
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
