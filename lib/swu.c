/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The .swu member stream: CPIO newc (070701) or crc (070702) read through
 * libarchive, once, in order, never seeking.
 *
 * libarchive parses the crc format but neither verifies nor exposes the
 * header's check field (the 32-bit sum of the member's data bytes), and it
 * trusts the header's sizes: it would buffer a name of any size, and it
 * records every member with more than one link in a list it searches for
 * each next one. So each header's fixed 110 bytes are recovered from the
 * buffers our read callback hands to libarchive, and checked before
 * libarchive parses them:
 *
 *  - The callback fills fixed-size buffers completely (looping on short
 *    reads) from a ring of buffers and records where each buffer starts in
 *    the raw stream. From the buffer current when swi_swu_next() starts,
 *    every buffer taken while the header is read is kept (SWU_KEEP at
 *    most); while data is read, only the current one.
 *  - Where the next header starts is known: the first at 0, each next one
 *    after the previous header and name (padded together to 4 bytes) and
 *    its data (padded to 4 bytes). libarchive's cpio reader only pulls
 *    client blocks on demand: every access goes through
 *    __archive_read_ahead(a, N), which calls the client only while fewer
 *    than N bytes are buffered. So it cannot parse a header before its
 *    bytes were taken, and the header is checked either when
 *    swi_swu_next() starts (its bytes came with the previous member's
 *    data) or in the callback, when the buffer that completes it is taken
 *    and before it is handed on. A refused header fails the callback, and
 *    libarchive with it; our message stands.
 *  - Refused there: a magic other than newc's or crc's and non-hex digits
 *    (libarchive would scan the stream for another header), a name over
 *    SWI_SWU_NAME_MAX bytes (libarchive would buffer it whole), a regular
 *    file with more than one link, the member after the
 *    SWI_SWU_MAX_MEMBERS-th.
 *  - Second line of defence: while a header is read, the callback hands
 *    on no buffer that starts past the longest header libarchive may need,
 *    so whatever it buffers for a header stays bounded (a symbolic link's
 *    target, which it reads with the header, included).
 *  - Once archive_read_next_header() returns, what it parsed is cross-
 *    checked against the recovered header (position, size, mode, links,
 *    name length), so a bookkeeping error cannot go unnoticed. Skipping
 *    the previous member happens before it records header_position, so
 *    that position is exactly the header's first byte; with no filter
 *    registered, positions are raw stream offsets.
 *  - The 110 bytes must lie within the SWU_KEEP last buffers, which holds
 *    for buffers of 55 bytes or more; else the archive is refused: the
 *    check is never skipped.
 *
 * The data sum is accumulated as the caller reads (or as swi_swu_next()
 * drains a member) and compared when libarchive reports the member's end.
 * A block that is a whole buffer uses the buffer's sum, taken when it was
 * filled, while its bytes were in the filling thread's cache.
 *
 * The ring has SWU_SLOTS buffers, used strictly in ring order: buffer number
 * n may be filled again once buffer n - SWU_SLOTS is neither kept (above)
 * nor lent out.
 *
 * Lending (swi_swu_lend): a member's data block can be handed to a worker
 * thread where it lies, saving a copy of every byte; its buffer is not
 * refilled until the worker gives it back.
 *
 * Read-ahead: when the source may be read from another thread (a file or a
 * block device), a thread fills the free buffers while the caller's thread
 * parses and hashes, so the copy out of the page cache is not on the
 * caller's thread. The thread touches only buffers it may fill, the caller
 * only the ones it has taken; the counters between them are under one
 * mutex. Sources that can block (pipes, sockets, the caller's own read
 * function) are read on the caller's thread, so closing never has to wait
 * on a read that may not return.
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "swu.h"

#define SWU_KEEP 3   /* buffers kept at most for a header lookup */
#define SWU_SPARE 5  /* more buffers: filled ahead, or lent to a worker */
#define SWU_SLOTS (SWU_KEEP + SWU_SPARE)
#define SWU_REFILL 2 /* a waiting read-ahead thread is woken for this many */
#define SWU_BUF_SIZE (128 * 1024)

#define HDR_SIZE 110
#define HDR_MAGIC_LEN 6
/* The fields after the magic, in order: 8 hex digits each. */
enum { F_INO, F_MODE, F_UID, F_GID, F_NLINK, F_MTIME, F_FILESIZE, F_DEVMAJOR, F_DEVMINOR,
       F_RDEVMAJOR, F_RDEVMINOR, F_NAMESIZE, F_CHECK, HDR_FIELDS };
/* The most raw bytes libarchive may need to parse a header, counted from
 * where reading it began: what is left of the previous member's padding,
 * the header, the longest name allowed and its padding. */
#define HDR_READ_MAX (3 + HDR_SIZE + SWI_SWU_NAME_MAX + 3)

struct swi_swu_slot {
	struct swi_swu *owner;
	uint64_t offset;   /* position of the buffer's first byte in the raw stream */
	size_t len;        /* bytes held */
	uint32_t sum;      /* of those bytes, taken while they are in the cache */
	unsigned lent;     /* pieces of it lent out (swi_swu_lend), under lock */
};

/* The read-ahead thread's side. */
struct read_ahead {
	pthread_t thread;
	uint64_t filled;   /* buffers filled */
	uint64_t pos;      /* bytes read from the source */
	bool eof;          /* no buffer after the filled ones */
	int err;           /* errno of the read that failed, after them */
	bool stopping;
};

struct swi_swu {
	swi_ctx_t *ctx;
	swi_read_fn fn;
	void *user;
	struct archive *a;

	unsigned char *ring;           /* SWU_SLOTS buffers of bufsize bytes */
	size_t bufsize;
	struct swi_swu_slot slots[SWU_SLOTS];
	uint64_t taken;                /* buffers handed to libarchive */
	uint64_t keep_from;            /* the first one libarchive or a header lookup
				        * may still read */
	bool in_header;                /* between members: a header is being read */
	uint64_t header_began;         /* raw_pos when reading it began */
	uint64_t next_header;          /* where it starts in the raw stream */
	bool header_taken;             /* its fields were recovered and checked */
	bool header_crc;               /* its magic is 070702 */
	uint32_t header[HDR_FIELDS];
	unsigned headers;              /* read so far, the trailer's included */
	uint64_t raw_pos;              /* end of the last of them in the raw stream */
	bool source_eof;
	int source_errno;              /* non-zero once the source failed */
	struct read_ahead *ahead;      /* NULL: the caller's thread reads */
	/* Shared with the read-ahead thread and with the workers that return
	 * lent buffers: taken and keep_from (written under it), ahead's
	 * fields, slots' lent. */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool filler_waits;
	bool taker_waits;

	char *name;                    /* current member; NULL before the first */
	bool in_member;                /* data of the current member remains */
	bool has_sum;                  /* 070702: check the data sum */
	uint32_t expected_sum;
	uint32_t sum;
	uint64_t size;                 /* of the current member */
	uint64_t data_offset;          /* where its data starts in the raw stream */
	int status;                    /* sticky error, or SWI_END */
};

/* Reads until buf is full or the source ends; short reads are normal for
 * pipes and sockets. Returns bytes read, or -1 with errno set. A cancel
 * stops the reading at once: the source is not asked for more (what it
 * gave is kept; with nothing, the read fails with ECANCELED). */
static ssize_t fill(struct swi_swu *r, unsigned char *buf, size_t len)
{
	size_t got = 0;
	while (got < len) {
		if (swi_cancelled(r->ctx)) {
			if (got)
				break;
			errno = ECANCELED;
			return -1;
		}
		ssize_t n = r->fn(r->user, buf + got, len - got);
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

#if defined(__SSE2__)
/* The 32-bit sum of the bytes. SSE2 (every x86-64 has it): psadbw adds
 * eight bytes into a 64-bit lane in one step, four accumulators keep the
 * adds independent; 64-bit lanes cannot overflow at any member size. */
static uint32_t byte_sum(const unsigned char *p, size_t len)
{
	const __m128i zero = _mm_setzero_si128();
	__m128i acc[4] = { zero, zero, zero, zero };
	for (; len >= 64; p += 64, len -= 64)
		for (int i = 0; i < 4; i++) {
			__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
			acc[i] = _mm_add_epi64(acc[i], _mm_sad_epu8(v, zero));
		}
	__m128i all = _mm_add_epi64(_mm_add_epi64(acc[0], acc[1]), _mm_add_epi64(acc[2], acc[3]));
	uint64_t lanes[2];
	_mm_storeu_si128((__m128i *)(void *)lanes, all);
	uint32_t sum = (uint32_t)(lanes[0] + lanes[1]);
	while (len--)
		sum += *p++;
	return sum;
}
#else
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
#endif

static struct swi_swu_slot *slot_of(struct swi_swu *r, uint64_t n)
{
	return &r->slots[n % SWU_SLOTS];
}

static unsigned char *slot_buf(const struct swi_swu *r, uint64_t n)
{
	return r->ring + (size_t)(n % SWU_SLOTS) * r->bufsize;
}

/* Buffers below this number are needed neither by libarchive (which reads
 * only the last one) nor by a header lookup (which reads those taken since
 * the header began, SWU_KEEP at most). */
static uint64_t released(const struct swi_swu *r)
{
	uint64_t oldest_kept = r->taken > SWU_KEEP ? r->taken - SWU_KEEP : 0;
	return r->keep_from > oldest_kept ? r->keep_from : oldest_kept;
}

/* Whether buffer number n may be filled: its slot is out of libarchive's
 * and the header lookup's reach and no worker still reads it. Under lock. */
static bool may_fill(const struct swi_swu *r, uint64_t n)
{
	return n < released(r) + SWU_SLOTS && r->slots[n % SWU_SLOTS].lent == 0;
}

/* A buffer was taken (under lock): while a member's data is read, only it
 * stays needed. */
static void took_one(struct swi_swu *r)
{
	r->taken++;
	if (!r->in_header)
		r->keep_from = r->taken - 1;
}

/* Between members, keep every buffer from the current one on (up to
 * SWU_KEEP) for the header lookup; once the header is checked, only the
 * current one. */
static void set_in_header(struct swi_swu *r, bool in_header)
{
	pthread_mutex_lock(&r->lock);
	r->in_header = in_header;
	if (r->taken > 0)
		r->keep_from = r->taken - 1;
	if (r->filler_waits)
		pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
}

/* Inline reading: fills the next buffer on the caller's thread, once no
 * worker reads it any more. Returns its length, 0 at the end of the
 * source, -1 when the source failed. */
static ssize_t take_inline(struct swi_swu *r)
{
	struct swi_swu_slot *s = slot_of(r, r->taken);
	pthread_mutex_lock(&r->lock);
	while (s->lent) {
		r->taker_waits = true;
		pthread_cond_wait(&r->changed, &r->lock);
	}
	r->taker_waits = false;
	pthread_mutex_unlock(&r->lock);
	ssize_t n = fill(r, slot_buf(r, r->taken), r->bufsize);
	if (n < 0) {
		r->source_errno = errno ? errno : EIO;
		return -1;
	}
	if (n == 0) {
		/* Keep the buffers: they still hold bytes a header lookup may need. */
		r->source_eof = true;
		return 0;
	}
	s->offset = r->raw_pos;
	s->len = (size_t)n;
	s->sum = byte_sum(slot_buf(r, r->taken), (size_t)n);
	pthread_mutex_lock(&r->lock);
	took_one(r);
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Read-ahead: waits for the thread to have filled the next buffer, then
 * takes it, and wakes the thread when enough buffers are free again. */
static ssize_t take_filled(struct swi_swu *r)
{
	struct read_ahead *ra = r->ahead;
	pthread_mutex_lock(&r->lock);
	while (ra->filled == r->taken && !ra->eof && !ra->err) {
		r->taker_waits = true;
		pthread_cond_wait(&r->changed, &r->lock);
	}
	r->taker_waits = false;
	ssize_t n = 0;
	if (ra->filled > r->taken) {
		n = (ssize_t)slot_of(r, r->taken)->len;
		took_one(r);
		if (r->filler_waits && may_fill(r, ra->filled) &&
		    may_fill(r, ra->filled + SWU_REFILL - 1))
			pthread_cond_broadcast(&r->changed);
	} else if (ra->err) {
		r->source_errno = ra->err;
		n = -1;
	} else {
		r->source_eof = true;
	}
	pthread_mutex_unlock(&r->lock);
	return n;
}

/* Waits until the read-ahead thread may fill its next buffer; when it may
 * not, until SWU_REFILL buffers are free, not one: every wake-up costs,
 * one per buffer would be many. false when stopping. Under lock. */
static bool wait_to_fill(struct swi_swu *r)
{
	struct read_ahead *ra = r->ahead;
	if (!may_fill(r, ra->filled))
		while (!ra->stopping &&
		       !(may_fill(r, ra->filled) && may_fill(r, ra->filled + SWU_REFILL - 1))) {
			r->filler_waits = true;
			pthread_cond_wait(&r->changed, &r->lock);
		}
	r->filler_waits = false;
	return !ra->stopping;
}

/* The read-ahead thread: fills buffers in ring order while they are free,
 * until the source ends or fails or the reader is closed. */
static void *read_ahead_main(void *arg)
{
	struct swi_swu *r = arg;
	struct read_ahead *ra = r->ahead;
	pthread_mutex_lock(&r->lock);
	while (wait_to_fill(r)) {
		uint64_t n = ra->filled;
		pthread_mutex_unlock(&r->lock);
		/* Buffer n is free: the caller's thread does not touch it. */
		ssize_t got = fill(r, slot_buf(r, n), r->bufsize);
		int err = got < 0 ? (errno ? errno : EIO) : 0;
		uint32_t sum = got > 0 ? byte_sum(slot_buf(r, n), (size_t)got) : 0;
		pthread_mutex_lock(&r->lock);
		if (got > 0) {
			slot_of(r, n)->sum = sum;
			slot_of(r, n)->offset = ra->pos;
			slot_of(r, n)->len = (size_t)got;
			ra->pos += (uint64_t)got;
			ra->filled++;
		} else {
			ra->err = err;
			ra->eof = !err;
		}
		if (r->taker_waits)
			pthread_cond_broadcast(&r->changed);
		if (got <= 0)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Copies raw stream bytes [pos, pos+len) out of the buffers the header
 * lookup may use; false when some of them are no longer (or not yet)
 * there. */
static bool ring_copy(struct swi_swu *r, uint64_t pos, unsigned char *dst, size_t len)
{
	size_t copied = 0;
	for (uint64_t n = released(r); n < r->taken; n++) {
		const struct swi_swu_slot *s = slot_of(r, n);
		uint64_t lo = pos > s->offset ? pos : s->offset;
		uint64_t hi_slot = s->offset + s->len, hi_want = pos + len;
		uint64_t hi = hi_slot < hi_want ? hi_slot : hi_want;
		if (lo >= hi)
			continue;
		memcpy(dst + (lo - pos), slot_buf(r, n) + (lo - s->offset), (size_t)(hi - lo));
		copied += (size_t)(hi - lo);
	}
	return copied == len;
}

/* The number of the ring buffer holding all of [p, p+len), or -1. */
static int buffer_holding(const struct swi_swu *r, const void *p, size_t len)
{
	/* As integers: comparing pointers into different objects is undefined. */
	uintptr_t start = (uintptr_t)r->ring, at = (uintptr_t)p;
	if (len == 0 || at < start || at - start >= SWU_SLOTS * r->bufsize)
		return -1;
	size_t first = (at - start) / r->bufsize, last = (at - start + len - 1) / r->bufsize;
	return first == last ? (int)first : -1;
}

struct swi_swu_slot *swi_swu_lend(struct swi_swu *r, const void *buf, size_t len)
{
	int i = buffer_holding(r, buf, len);
	if (i < 0)
		return NULL;
	struct swi_swu_slot *s = &r->slots[i];
	pthread_mutex_lock(&r->lock);
	s->lent++;
	pthread_mutex_unlock(&r->lock);
	return s;
}

void swi_swu_give_back(void *slot)
{
	struct swi_swu_slot *s = slot;
	struct swi_swu *r = s->owner;
	pthread_mutex_lock(&r->lock);
	if (--s->lent == 0 && (r->filler_waits || r->taker_waits))
		pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
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

/* Refuses the header being read. It is named by the member before it:
 * libarchive has not parsed its name, which may not even be buffered. */
static int refuse_header(struct swi_swu *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int refuse_header(struct swi_swu *r, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (r->name)
		return fail_sticky(r, SWI_EFORMAT,
				   "cpio archive: invalid header after member '%s' (%s)", r->name, why);
	return fail_sticky(r, SWI_EFORMAT, "cpio archive: invalid first header (%s)", why);
}

/* Every field of a newc/crc header, as libarchive requires before it takes
 * a header for one (else it scans the stream for another). */
static bool parse_fields(const unsigned char *raw, uint32_t *fields)
{
	for (int i = 0; i < HDR_FIELDS; i++)
		if (!parse_hex8(raw + HDR_MAGIC_LEN + 8 * i, &fields[i]))
			return false;
	return true;
}

/* Once the next header's fixed part was taken, recovers it and checks it
 * before libarchive parses it; see the comment at the top of this file.
 * SWI_OK also while its bytes are not all there yet. */
static int take_header(struct swi_swu *r)
{
	if (r->header_taken || r->raw_pos < r->next_header + HDR_SIZE)
		return SWI_OK;
	r->header_taken = true;
	unsigned char raw[HDR_SIZE];
	if (!ring_copy(r, r->next_header, raw, sizeof(raw)))
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: the next cpio header is no longer buffered, it cannot be "
				   "checked (read buffers of %zu bytes are too small)",
				   where(r), r->bufsize);
	if (++r->headers > SWI_SWU_MAX_MEMBERS)
		return fail_sticky(r, SWI_EFORMAT, "cpio archive: too many members (more than %d)",
				   SWI_SWU_MAX_MEMBERS);
	r->header_crc = !memcmp(raw, "070702", HDR_MAGIC_LEN);
	if (!r->header_crc && memcmp(raw, "070701", HDR_MAGIC_LEN))
		return refuse_header(r, "not a newc (070701) or crc (070702) cpio header");
	uint32_t *f = r->header;
	if (!parse_fields(raw, f))
		return refuse_header(r, "cpio header has non-hex fields");
	if (f[F_NAMESIZE] > SWI_SWU_NAME_MAX)
		return refuse_header(r, "member name of %lu bytes, more than the limit of %d",
				     (unsigned long)f[F_NAMESIZE], SWI_SWU_NAME_MAX);
	/* Other types are refused by name once libarchive parsed them. A
	 * file that had other links where the image was built carries its
	 * link count along (cpio -o of a hard-linked file): with its data it
	 * is an ordinary member. Without, its data travels with another link
	 * (GNU cpio stores it with the last one), so this name would read
	 * as empty. */
	if ((f[F_MODE] & AE_IFMT) == AE_IFREG && f[F_NLINK] > 1 && f[F_FILESIZE] == 0)
		return refuse_header(r, "%lu links and no data: a hard link whose data another "
				     "member carries (build the image from copies)",
				     (unsigned long)f[F_NLINK]);
	return SWI_OK;
}

static la_ssize_t read_cb(struct archive *a, void *data, const void **out)
{
	struct swi_swu *r = data;
	(void)a;
	if (r->source_eof || r->source_errno)
		return r->source_errno ? -1 : 0;
	/* Second line of defence: no header that take_header() lets through
	 * needs this buffer. */
	if (r->in_header && r->raw_pos >= r->header_began + HDR_READ_MAX) {
		refuse_header(r, "more than %d bytes read with it", HDR_READ_MAX);
		return -1;
	}
	ssize_t n = r->ahead ? take_filled(r) : take_inline(r);
	if (n <= 0)
		return n;
	uint64_t last = r->taken - 1;
	r->raw_pos = slot_of(r, last)->offset + (uint64_t)n;
	if (r->in_header && take_header(r))
		return -1;
	*out = slot_buf(r, last);
	return n;
}

/* Turns a libarchive failure into our error: the source's own failure,
 * the stream ending early, or libarchive's description of the problem. */
static int archive_failure(struct swi_swu *r, bool in_data)
{
	if (r->status < 0) /* our read callback refused the stream */
		return r->status;
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

static int start_read_ahead(struct swi_swu *r)
{
	if (!(r->ahead = calloc(1, sizeof(*r->ahead))))
		return swi_fail(r->ctx, SWI_ENOMEM, "cpio archive: out of memory");
	int err = swi_thread_start(&r->ahead->thread, read_ahead_main, r);
	if (err) {
		free(r->ahead);
		r->ahead = NULL;
		return swi_fail(r->ctx, SWI_ENOMEM, "cannot start the read-ahead thread: %s",
				strerror(err));
	}
	return SWI_OK;
}

static void stop_read_ahead(struct swi_swu *r)
{
	if (!r->ahead)
		return;
	pthread_mutex_lock(&r->lock);
	r->ahead->stopping = true;
	pthread_cond_broadcast(&r->changed);
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->ahead->thread, NULL);
	free(r->ahead);
	r->ahead = NULL;
}

static int open_sized(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_swu_mode mode,
		      size_t bufsize, struct swi_swu **out)
{
	struct swi_swu *r = calloc(1, sizeof(*r));
	if (!r || !(r->ring = malloc(SWU_SLOTS * bufsize))) {
		free(r);
		return swi_fail(ctx, SWI_ENOMEM, "cpio archive: out of memory");
	}
	r->ctx = ctx;
	r->fn = fn;
	r->user = user;
	r->bufsize = bufsize;
	for (unsigned i = 0; i < SWU_SLOTS; i++)
		r->slots[i].owner = r;
	r->in_header = true; /* archive_read_open() reads the first header's block */
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->changed, NULL);
	r->a = archive_read_new();
	if (!r->a) {
		swi_swu_close(r);
		return swi_fail(ctx, SWI_ENOMEM, "cpio archive: out of memory");
	}
	/* Started before archive_read_open(), which reads the first block. */
	int rc = mode == SWI_SWU_READ_AHEAD ? start_read_ahead(r) : SWI_OK;
	if (rc) {
		swi_swu_close(r);
		return rc;
	}
	/* Only cpio and no filters: a .swu is never compressed as a whole, and
	 * positions must stay raw stream offsets for the header lookup. No skip
	 * or seek callback: the source is read straight through. */
	if (archive_read_support_format_cpio(r->a) != ARCHIVE_OK ||
	    archive_read_open(r->a, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
		rc = archive_failure(r, false);
		swi_swu_close(r);
		return rc;
	}
	*out = r;
	return SWI_OK;
}

int swi_swu_open(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_swu_mode mode,
		 struct swi_swu **out)
{
	return swi_swu_open_sized(ctx, fn, user, mode, SWU_BUF_SIZE, out);
}

int swi_swu_open_sized(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_swu_mode mode,
		       size_t bufsize, struct swi_swu **out)
{
	if (!ctx || !fn || !out || bufsize == 0 || bufsize > SIZE_MAX / SWU_SLOTS ||
	    (mode != SWI_SWU_INLINE && mode != SWI_SWU_READ_AHEAD))
		return ctx ? swi_fail(ctx, SWI_EINVAL, "cpio archive: invalid arguments")
			   : SWI_EINVAL;
	*out = NULL;
	return open_sized(ctx, fn, user, mode, bufsize, out);
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

static uint64_t align4(uint64_t n)
{
	return (n + 3) & ~(uint64_t)3;
}

/* Cross-checks the member libarchive just parsed against its header as
 * take_header() recovered it, takes its check field and where the next
 * header starts. */
static int check_raw_header(struct swi_swu *r, struct archive_entry *e)
{
	const uint32_t *f = r->header;
	if (!r->header_taken ||
	    (uint64_t)archive_read_header_position(r->a) != r->next_header ||
	    f[F_FILESIZE] != (uint64_t)archive_entry_size(e) ||
	    f[F_MODE] != (uint32_t)archive_entry_mode(e) ||
	    f[F_NLINK] != archive_entry_nlink(e))
		return fail_sticky(r, SWI_EFORMAT,
				   "%s: cpio header does not match what libarchive parsed", r->name);
	/* libarchive stops the name at the first NUL; a name with another NUL
	 * inside could be read two ways, so refuse it. */
	if (f[F_NAMESIZE] != strlen(r->name) + 1)
		return fail_sticky(r, SWI_EFORMAT, "%s: member name contains a NUL byte", r->name);
	r->has_sum = r->header_crc;
	r->expected_sum = f[F_CHECK];
	r->sum = 0;
	r->data_offset = r->next_header + align4(HDR_SIZE + f[F_NAMESIZE]);
	r->next_header = r->data_offset + align4(f[F_FILESIZE]);
	r->header_taken = false;
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
	m->offset = r->data_offset;
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
	set_in_header(r, true);
	r->header_began = r->raw_pos;
	/* The header may have come whole with the previous member's data:
	 * libarchive would then parse it without calling read_cb(). */
	int rc = take_header(r);
	if (!rc) {
		struct archive_entry *e;
		int ar = archive_read_next_header(r->a, &e);
		rc = ar == ARCHIVE_EOF ? (r->status = SWI_END)
		     : ar != ARCHIVE_OK ? archive_failure(r, false)
					: start_member(r, e, m);
	}
	set_in_header(r, false);
	return rc;
}

/* The sum of a data block: a whole buffer's was taken when it was filled
 * (on the read-ahead thread, the bytes are not touched here at all). */
static uint32_t block_sum(struct swi_swu *r, const unsigned char *p, size_t len)
{
	int i = buffer_holding(r, p, len);
	if (i >= 0 && p == r->ring + (size_t)i * r->bufsize && len == r->slots[i].len)
		return r->slots[i].sum;
	return byte_sum(p, len);
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
		r->sum += block_sum(r, *buf, *len);
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
	/* The thread first: it may be filling a buffer of the ring. */
	stop_read_ahead(r);
	if (r->a)
		archive_read_free(r->a);
	pthread_cond_destroy(&r->changed);
	pthread_mutex_destroy(&r->lock);
	free(r->ring);
	free(r->name);
	free(r);
}
