/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The .swu member stream: CPIO newc/crc over libarchive, read once, in
 * order, never seeking; the 070702 checksum verified on the fly. Private. */
#ifndef SWI_SWU_H
#define SWI_SWU_H

#include <stdint.h>
#include "context.h"

#define SWI_END 1  /* swi_swu_next(): the trailer was reached */

/* Limits checked on every header before libarchive parses it, so that an
 * image nobody verified yet costs bounded memory and time. */
#define SWI_SWU_NAME_MAX 4096      /* bytes of a member name, its NUL included:
				    * PATH_MAX, for plain file names */
#define SWI_SWU_MAX_MEMBERS 10000  /* members of one archive, the trailer
				    * included: images hold a handful */

struct swi_swu;

struct swi_member {
	const char *name;  /* valid until the next swi_swu_next() */
	uint64_t size;
	uint64_t offset;   /* where its data starts, in bytes from the start of
			    * the stream (for progress by bytes) */
};

/* Which thread calls the source's read function. */
enum swi_swu_mode {
	SWI_SWU_INLINE,     /* the caller's, as it asks for data */
	SWI_SWU_READ_AHEAD, /* a thread of ours, ahead of the caller: only for
			     * sources whose reads always return soon (files,
			     * block devices) and may run on any thread */
};

int swi_swu_open(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_swu_mode mode,
		 struct swi_swu **out);
/* The same with read buffers of bufsize bytes (swi_swu_open() uses 128 KiB;
 * eight of them). Each header's 110 bytes must lie within three of them,
 * as they do from 55 bytes on; else the archive is refused (the header
 * could not be checked). For tests and memory-tight agents. */
int swi_swu_open_sized(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_swu_mode mode,
		       size_t bufsize, struct swi_swu **out);
/* Advances to the next member (draining and checking the current one).
 * SWI_OK, SWI_END at the trailer, or an error (SWI_EFORMAT for a malformed or
 * truncated archive, a member name with '/' or "..", a member that is not a
 * regular file or has more than one link, or beyond the limits above;
 * SWI_EHASH for a wrong 070702 sum, SWI_EIO when the source failed). */
int swi_swu_next(struct swi_swu *r, struct swi_member *m);
/* The next block of the current member's data, without copying; *len is 0
 * at the member's end, once its checksum was verified. */
int swi_swu_read(struct swi_swu *r, const void **buf, size_t *len);
/* The whole current member in malloc'd memory (NUL-terminated); members
 * larger than max are refused with SWI_EFORMAT. */
int swi_swu_read_all(struct swi_swu *r, size_t max, char **buf, size_t *len);
/* Lends the block [buf, buf+len) that swi_swu_read() returned to another
 * thread: its buffer is not refilled until swi_swu_give_back(slot), which
 * may be called on any thread. NULL when the block is not in one of our
 * buffers (libarchive had to copy it): copy it instead. */
struct swi_swu_slot;
struct swi_swu_slot *swi_swu_lend(struct swi_swu *r, const void *buf, size_t len);
void swi_swu_give_back(void *slot);
/* Every lent block must have been given back. */
void swi_swu_close(struct swi_swu *r);

#endif
