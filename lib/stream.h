/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-artifact chain: sha256 of the stored bytes -> [decrypt] -> [decompress]
 * -> sink. Private. */
#ifndef SWI_STREAM_H
#define SWI_STREAM_H

#include <stdint.h>
#include "aeskey.h"
#include "context.h"
#include "worker.h"

typedef int (*swi_sink_fn)(void *user, const void *buf, size_t len);

struct swi_stream;

/* What a member's stored bytes are, in the order they are undone. */
struct swi_stream_spec {
	const char *sha256;             /* 64 hex digits of the stored bytes to compare
					 * at the end, or NULL (not checked) */
	const struct swi_aes_key *aes;  /* AES-CBC key and IV (copied), or NULL: not
					 * encrypted */
	const char *compressed;         /* NULL, "zlib" (gzip or zlib stream), "zstd" or
					 * "xz" ("true" means "zlib", "false" none) */
};

/* sink: receives decoded bytes; may be NULL (decode and discard). */
int swi_stream_new(swi_ctx_t *ctx, const char *member, const struct swi_stream_spec *spec,
		   swi_sink_fn sink, void *user, struct swi_stream **out);
/* A stream for a handler that pulls: main(user) runs once on the stream's
 * last worker thread and reads the decoded bytes with swi_stream_pull();
 * swi_stream_finish() waits for it to return and gives its status. */
typedef int (*swi_pull_main_fn)(void *user);
int swi_stream_new_pull(swi_ctx_t *ctx, const char *member, const struct swi_stream_spec *spec,
			swi_pull_main_fn main, void *user, struct swi_stream **out);
/* Called by main, on that thread: the next block of decoded bytes, valid
 * until the next call; *len 0 at the end of the member's data. */
int swi_stream_pull(struct swi_stream *s, const void **buf, size_t *len);
int swi_stream_feed(struct swi_stream *s, const void *buf, size_t len);
/* The same without a copy: buf stays valid until release(token), which
 * follows in every case (on another thread, or before this returns). */
int swi_stream_feed_lent(struct swi_stream *s, const void *buf, size_t len,
			 swi_release_fn release, void *token);
/* End of the member: every codec must have reached the end of its data
 * (else SWI_EFORMAT: truncated, bad padding) and the hash must match (else
 * SWI_EHASH). */
int swi_stream_finish(struct swi_stream *s);
/* After the sink failed: decoding and writing stop (dropping what they
 * hold) and later feeds are only hashed, so that swi_stream_finish() can
 * still tell whether the stored bytes were the expected ones: it then only
 * compares the hash. */
void swi_stream_hash_only(struct swi_stream *s);
/* Bytes decoded so far; read it after swi_stream_finish() (a worker counts). */
uint64_t swi_stream_decoded_bytes(const struct swi_stream *s);
void swi_stream_free(struct swi_stream *s);

/* Decodes len bytes held in memory through the chain of spec into
 * malloc'd memory, NUL-terminated; more than max decoded bytes are
 * SWI_EFORMAT. For members read whole, such as sw-description. */
int swi_stream_decode_buffer(swi_ctx_t *ctx, const char *member,
			     const struct swi_stream_spec *spec, const void *in, size_t len,
			     size_t max, char **out, size_t *out_len);

#endif
