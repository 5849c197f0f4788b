/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The .swu member stream: CPIO newc (070701) or crc (070702) read through
 * libarchive, once, in order, never seeking.
 *
 * libarchive parses the crc format but neither verifies nor exposes the
 * header's check field (the 32-bit sum of the member's data bytes), so the
 * raw header bytes are recovered from the buffers our read callback handed
 * to libarchive:
 *
 *  - The callback fills fixed-size buffers completely (looping on short
 *    reads) from a ring of SWU_RING buffers and records where each buffer
 *    starts in the raw stream.
 *  - libarchive's cpio reader only pulls client blocks on demand: every
 *    access goes through __archive_read_ahead(a, N), which calls the client
 *    only while fewer than N bytes are buffered. Reading a header asks for
 *    the 110 fixed bytes, then the name plus its padding; reading data asks
 *    for 1 byte and takes what the current block holds. Skipping the previous
 *    member happens before archive_read_next_header() records
 *    header_position, so that position is exactly the header's first byte
 *    (libarchive's resync after garbage is refused: it reports ARCHIVE_WARN).
 *    With no filter registered, positions are raw stream offsets.
 *  - Hence, once archive_read_next_header() returns, the blocks fetched
 *    since the header began are only those covering the header and name, so
 *    the header is within the last few blocks as long as the name is shorter
 *    than (SWU_RING - 1) buffers. Should it no longer be there (a giant name,
 *    tiny buffers), the member is refused: the check is never skipped.
 *  - The recovered header is cross-checked against libarchive's parse
 *    (size, name length) so a bookkeeping error cannot go unnoticed.
 *
 * The data sum is accumulated as the caller reads (or as swi_swu_next()
 * drains a member) and compared when libarchive reports the member's end.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "swu.h"

#define SWU_RING 3
#define SWU_BUF_SIZE (64 * 1024)

#define HDR_SIZE 110
#define HDR_FILESIZE_AT 54
#define HDR_NAMESIZE_AT 94
#define HDR_CHECK_AT 102

struct ring_slot {
	uint64_t offset; /* position of the slot's first byte in the raw stream */
	size_t len;      /* bytes held; 0 when never filled */
};

struct swi_swu {
	swi_ctx_t *ctx;
	swi_read_fn fn;
	void *user;
	struct archive *a;

	unsigned char *ring;           /* SWU_RING buffers of bufsize bytes */
	size_t bufsize;
	struct ring_slot slots[SWU_RING];
	unsigned next_slot;
	uint64_t raw_pos;              /* bytes read from the source so far */
	bool source_eof;
	int source_errno;              /* non-zero once the source failed */

	char *name;                    /* current member; NULL before the first */
	bool in_member;                /* data of the current member remains */
	bool has_sum;                  /* 070702: check the data sum */
	uint32_t expected_sum;
	uint32_t sum;
	uint64_t size;                 /* of the current member */
	int status;                    /* sticky error, or SWI_END */
};

/* Reads until buf is full or the source ends; short reads are normal for
 * pipes and sockets. Returns bytes read, or -1 with errno set. */
static ssize_t fill(swi_read_fn fn, void *user, unsigned char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		ssize_t n = fn(user, buf + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static la_ssize_t read_cb(struct archive *a, void *data, const void **out)
{
	struct swi_swu *r = data;
	(void)a;
	if (r->source_eof || r->source_errno)
		return r->source_errno ? -1 : 0;
	unsigned slot = r->next_slot;
	unsigned char *buf = r->ring + (size_t)slot * r->bufsize;
	ssize_t n = fill(r->fn, r->user, buf, r->bufsize);
	if (n < 0) {
		r->source_errno = errno ? errno : EIO;
		return -1;
	}
	if (n == 0) {
		/* Keep the slot: it still holds bytes a header lookup may need. */
		r->source_eof = true;
		return 0;
	}
	r->slots[slot].offset = r->raw_pos;
	r->slots[slot].len = (size_t)n;
	r->raw_pos += (uint64_t)n;
	r->next_slot = (slot + 1) % SWU_RING;
	*out = buf;
	return n;
}

/* Copies raw stream bytes [pos, pos+len) out of the ring; false when some
 * of them are no longer (or not yet) buffered. */
static bool ring_copy(const struct swi_swu *r, uint64_t pos, unsigned char *dst, size_t len)
{
	size_t copied = 0;
	for (unsigned i = 0; i < SWU_RING; i++) {
		const struct ring_slot *s = &r->slots[i];
		uint64_t lo = pos > s->offset ? pos : s->offset;
		uint64_t hi_slot = s->offset + s->len, hi_want = pos + len;
		uint64_t hi = hi_slot < hi_want ? hi_slot : hi_want;
		if (s->len == 0 || lo >= hi)
			continue;
		memcpy(dst + (lo - pos), r->ring + (size_t)i * r->bufsize + (lo - s->offset),
		       (size_t)(hi - lo));
		copied += (size_t)(hi - lo);
	}
	return copied == len;
}

static bool parse_hex8(const unsigned char *p, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 8; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

static const char *where(const struct swi_swu *r)
{
	return r->name ? r->name : "cpio archive";
}

static int fail_sticky(struct swi_swu *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_sticky(struct swi_swu *r, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	r->status = swi_vfail(r->ctx, status, fmt, ap);
	va_end(ap);
	return r->status;
}

/* Turns a libarchive failure into our error: the source's own failure,
 * the stream ending early, or libarchive's description of the problem. */
static int archive_failure(struct swi_swu *r, bool in_data)
{
	if (r->source_errno)
		return fail_sticky(r, SWI_EIO, "%s: reading the image failed: %s", where(r),
				   strerror(r->source_errno));
	if (r->source_eof && in_data)
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: truncated: the image ends inside its data", r->name);
	if (r->source_eof && r->raw_pos == 0)
		return fail_sticky(r, SWI_EFORMAT, "cpio archive: the image is empty");
	if (r->source_eof && r->name)
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: truncated: the image ends before the next member's header "
				   "or the trailer", r->name);
	if (r->source_eof)
		return fail_sticky(r, SWI_EFORMAT,
				   "cpio archive: truncated in the first member's header");
	const char *why = archive_error_string(r->a);
	if (!why)
		why = "unknown libarchive error";
	if (r->name && !in_data)
		return fail_sticky(r, SWI_EFORMAT,
				   "cpio archive: invalid header after member '%s' (%s)", r->name,
				   why);
	return fail_sticky(r, SWI_EFORMAT, "%s: not a valid cpio archive (%s)", where(r), why);
}

static int open_sized(swi_ctx_t *ctx, swi_read_fn fn, void *user, size_t bufsize,
		      struct swi_swu **out)
{
	struct swi_swu *r = calloc(1, sizeof(*r));
	if (!r || !(r->ring = malloc(SWU_RING * bufsize))) {
		free(r);
		return swi_fail(ctx, SWI_ENOMEM, "cpio archive: out of memory");
	}
	r->ctx = ctx;
	r->fn = fn;
	r->user = user;
	r->bufsize = bufsize;
	r->a = archive_read_new();
	if (!r->a) {
		swi_swu_close(r);
		return swi_fail(ctx, SWI_ENOMEM, "cpio archive: out of memory");
	}
	/* Only cpio and no filters: a .swu is never compressed as a whole, and
	 * positions must stay raw stream offsets for the header lookup. No skip
	 * or seek callback: the source is read straight through. */
	if (archive_read_support_format_cpio(r->a) != ARCHIVE_OK ||
	    archive_read_open(r->a, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
		int rc = archive_failure(r, false);
		swi_swu_close(r);
		return rc;
	}
	*out = r;
	return SWI_OK;
}

int swi_swu_open(swi_ctx_t *ctx, swi_read_fn fn, void *user, struct swi_swu **out)
{
	return swi_swu_open_sized(ctx, fn, user, SWU_BUF_SIZE, out);
}

int swi_swu_open_sized(swi_ctx_t *ctx, swi_read_fn fn, void *user, size_t bufsize,
		       struct swi_swu **out)
{
	if (!ctx || !fn || !out || bufsize == 0 || bufsize > SIZE_MAX / SWU_RING)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "cpio archive: invalid arguments")
			   : SWI_EINVAL;
	*out = NULL;
	return open_sized(ctx, fn, user, bufsize, out);
}

/* A member name must be a plain file name: it is matched against
 * sw-description's filenames and may end up as a path component. */
static int check_name(struct swi_swu *r, const char *name)
{
	if (!name || !*name)
		return fail_sticky(r, SWI_EFORMAT, "cpio archive: member name is empty");
	if (strchr(name, '/'))
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: member name contains '/' (only plain names are allowed)",
				   name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: member name is a '.' or '..' directory reference", name);
	return SWI_OK;
}

/* Reads the raw header of the member libarchive just parsed and takes its
 * magic and check field; see the comment at the top of this file. */
static int check_raw_header(struct swi_swu *r, struct archive_entry *e)
{
	unsigned char hdr[HDR_SIZE];
	uint64_t pos = (uint64_t)archive_read_header_position(r->a);
	if (!ring_copy(r, pos, hdr, sizeof(hdr)))
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: cpio header is no longer buffered, its checksum cannot "
				   "be checked (member name too long?)", r->name);
	bool crc = !memcmp(hdr, "070702", 6);
	if (!crc && memcmp(hdr, "070701", 6))
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: not a newc (070701) or crc (070702) cpio header", r->name);
	uint32_t size, namesize, check;
	if (!parse_hex8(hdr + HDR_FILESIZE_AT, &size) ||
	    !parse_hex8(hdr + HDR_NAMESIZE_AT, &namesize) ||
	    !parse_hex8(hdr + HDR_CHECK_AT, &check))
		return fail_sticky(r, SWI_EFORMAT, "%s: cpio header has non-hex fields", r->name);
	if (size != (uint64_t)archive_entry_size(e))
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: cpio header does not match what libarchive parsed", r->name);
	/* libarchive stops the name at the first NUL; a name with another NUL
	 * inside could be read two ways, so refuse it. */
	if (namesize != strlen(r->name) + 1)
		return fail_sticky(r, SWI_EFORMAT, "%s: member name contains a NUL byte", r->name);
	r->has_sum = crc;
	r->expected_sum = check;
	r->sum = 0;
	return SWI_OK;
}

static int start_member(struct swi_swu *r, struct archive_entry *e, struct swi_member *m)
{
	const char *name = archive_entry_pathname(e);
	int rc = check_name(r, name);
	if (rc)
		return rc;
	free(r->name);
	if (!(r->name = strdup(name)))
		return fail_sticky(r, SWI_ENOMEM, "cpio archive: out of memory");
	if (archive_entry_filetype(e) != AE_IFREG)
		return fail_sticky(r, SWI_EFORMAT, "%s: member is not a regular file", r->name);
	rc = check_raw_header(r, e);
	if (rc)
		return rc;
	r->in_member = true;
	r->size = (uint64_t)archive_entry_size(e);
	m->name = r->name;
	m->size = r->size;
	return SWI_OK;
}

int swi_swu_next(struct swi_swu *r, struct swi_member *m)
{
	if (r->status)
		return r->status;
	while (r->in_member) {
		const void *buf;
		size_t len;
		int rc = swi_swu_read(r, &buf, &len);
		if (rc)
			return rc;
	}
	struct archive_entry *e;
	int ar = archive_read_next_header(r->a, &e);
	if (ar == ARCHIVE_EOF)
		return r->status = SWI_END;
	if (ar != ARCHIVE_OK)
		return archive_failure(r, false);
	return start_member(r, e, m);
}

/* The 32-bit sum of the bytes, added eight at a time in four 16-bit lanes
 * (each step adds at most 2 * 255 to a lane, so 128 steps cannot overflow
 * it): several times faster than a byte loop, which matters at GiB sizes. */
static uint32_t byte_sum(const unsigned char *p, size_t len)
{
	const uint64_t lanes = 0x00ff00ff00ff00ffULL;
	uint32_t sum = 0;
	while (len >= 8) {
		size_t steps = len / 8 < 128 ? len / 8 : 128;
		uint64_t acc = 0;
		for (size_t i = 0; i < steps; i++, p += 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			acc += (w & lanes) + ((w >> 8) & lanes);
		}
		acc = (acc & 0x0000ffff0000ffffULL) + ((acc >> 16) & 0x0000ffff0000ffffULL);
		sum += (uint32_t)(acc + (acc >> 32));
		len -= steps * 8;
	}
	while (len--)
		sum += *p++;
	return sum;
}

static int end_member(struct swi_swu *r)
{
	r->in_member = false;
	if (r->has_sum && r->sum != r->expected_sum)
		return fail_sticky(r, SWI_EHASH,
				   "%s: cpio checksum mismatch (expected %08x, got %08x)", r->name,
				   (unsigned)r->expected_sum, (unsigned)r->sum);
	return SWI_OK;
}

int swi_swu_read(struct swi_swu *r, const void **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	if (r->status < 0)
		return r->status;
	if (!r->in_member)
		return SWI_OK;
	la_int64_t offset;
	int ar = archive_read_data_block(r->a, buf, len, &offset);
	if (ar == ARCHIVE_EOF) {
		*len = 0;
		return end_member(r);
	}
	if (ar != ARCHIVE_OK) {
		*len = 0;
		return archive_failure(r, true);
	}
	if (r->has_sum)
		r->sum += byte_sum(*buf, *len);
	return SWI_OK;
}

int swi_swu_read_all(struct swi_swu *r, size_t max, char **out, size_t *outlen)
{
	*out = NULL;
	*outlen = 0;
	if (r->status < 0)
		return r->status;
	if (!r->in_member)
		return swi_fail(r->ctx, SWI_EINVAL, "cpio archive: no member to read");
	if (r->size > max)
		return swi_fail(r->ctx, SWI_EFORMAT,
				"%s: %llu bytes is more than the limit of %zu bytes", r->name,
				(unsigned long long)r->size, max);
	char *data = malloc((size_t)r->size + 1);
	if (!data)
		return swi_fail(r->ctx, SWI_ENOMEM, "%s: out of memory", r->name);
	size_t used = 0;
	for (;;) {
		const void *buf;
		size_t len;
		int rc = swi_swu_read(r, &buf, &len);
		if (rc) {
			free(data);
			return rc;
		}
		if (len == 0)
			break;
		if (len > r->size - used) {
			free(data);
			return fail_sticky(r, SWI_EFORMAT, "%s: more data than its header says",
					   r->name);
		}
		memcpy(data + used, buf, len);
		used += len;
	}
	data[used] = '\0';
	*out = data;
	*outlen = used;
	return SWI_OK;
}

void swi_swu_close(struct swi_swu *r)
{
	if (!r)
		return;
	if (r->a)
		archive_read_free(r->a);
	free(r->ring);
	free(r->name);
	free(r);
}
