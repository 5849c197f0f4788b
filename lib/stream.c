/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-artifact chain: the sha256 of the bytes as stored in the archive,
 * then decompression, then the sink.
 *
 * The caller's thread hashes; decoding runs on a worker thread (worker.h),
 * and so does the sink (the handler's writes): on the same worker for
 * uncompressed data, on a second one after a decoder, so the slowest stage
 * sets the speed, not the sum of the stages. The stages share nothing but
 * the workers' rings: the decoder's state is touched by its worker alone
 * until swi_stream_finish() has drained it.
 *
 * Input reaches the worker copied into its chunks (swi_stream_feed) or lent
 * where it lies (swi_stream_feed_lent: the image's read buffers, so the
 * bytes of a raw artifact are never copied in user space). Decoded bytes
 * are gathered in one OUT_SIZE buffer and handed to the sink when it is
 * full (and at the end), so a handler sees large writes however small the
 * pieces fed in; with a writer, that buffer is one of the writer's chunks:
 * the decoder writes where the writer reads. Memory is bounded: the
 * workers' chunks and the decoder's state (zlib: 32 KiB window; zstd: its
 * default window limit of 128 MiB; xz: the XZ_MEMLIMIT below, which covers
 * every preset of `xz -9`).
 */
#include <lzma.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include "stream.h"
#include "worker.h"

#define OUT_SIZE SWI_WORKER_CHUNK
#define XZ_MEMLIMIT (256ULL << 20)
#define SHA256_HEX_LEN 64

enum codec { CODEC_NONE, CODEC_ZLIB, CODEC_ZSTD, CODEC_XZ };

struct swi_stream {
	swi_ctx_t *ctx;
	char *member;
	enum codec codec;
	swi_sink_fn sink;
	void *user;
	uint64_t decoded;           /* bytes given to the sink */
	int status;                 /* the decoding side's: once failed, stays failed */
	int reader_status;          /* the feeding side's, likewise */
	struct swi_worker *worker;  /* decodes (and writes, uncompressed); NULL: nothing to do */
	struct swi_worker *writer;  /* writes decoded bytes; NULL: uncompressed or no sink */

	char expected[SHA256_HEX_LEN + 1]; /* empty: no hash check */
	EVP_MD *sha256;
	EVP_MD_CTX *md;

	unsigned char *out;         /* decoded bytes not yet given to the sink; with a
				     * writer, its chunk (NULL: none taken yet) */
	size_t out_used;
	bool ended;                 /* the decoder saw the end of its stream */
	bool hash_only;             /* the sink failed: the rest is only hashed */
	bool hash_checked;          /* check_hash() ran; its result: */
	int hash_status;

	z_stream z;
	bool z_ready;
	bool z_started;             /* the first byte was seen */
	bool z_gzip;                /* gzip (members may follow each other) */
	ZSTD_DCtx *zstd;
	lzma_stream xz;
	bool xz_ready;
};

static int fail(struct swi_stream *s, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int decode_chunk(void *user, const void *buf, size_t len);
static int write_chunk(void *user, const void *buf, size_t len);

static int fail(struct swi_stream *s, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	s->status = swi_vfail(s->ctx, status, fmt, ap);
	va_end(ap);
	return s->status;
}

static int parse_codec(const char *name, enum codec *out)
{
	/* sw-description's `compressed = true` is the old spelling of "zlib". */
	if (!name || !strcmp(name, "false"))
		*out = CODEC_NONE;
	else if (!strcmp(name, "zlib") || !strcmp(name, "true"))
		*out = CODEC_ZLIB;
	else if (!strcmp(name, "zstd"))
		*out = CODEC_ZSTD;
	else if (!strcmp(name, "xz"))
		*out = CODEC_XZ;
	else
		return -1;
	return 0;
}

static bool is_sha256_hex(const char *hex)
{
	if (strlen(hex) != SHA256_HEX_LEN)
		return false;
	for (const char *p = hex; *p; p++)
		if (!strchr("0123456789abcdefABCDEF", *p))
			return false;
	return true;
}

static int init_hash(struct swi_stream *s, const char *sha256)
{
	if (!sha256)
		return SWI_OK;
	if (!is_sha256_hex(sha256))
		return fail(s, SWI_EFORMAT, "%s: sha256 '%s' is not 64 hex digits", s->member,
			    sha256);
	memcpy(s->expected, sha256, SHA256_HEX_LEN + 1);
	s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	s->md = EVP_MD_CTX_new();
	if (!s->sha256 || !s->md || !EVP_DigestInit_ex(s->md, s->sha256, NULL))
		return fail(s, SWI_ENOMEM, "%s: cannot set up sha256", s->member);
	return SWI_OK;
}

static int init_decoder(struct swi_stream *s)
{
	if (s->codec == CODEC_NONE)
		return SWI_OK;
	/* Without a writer, decoded bytes gather in a buffer of our own. */
	if (!s->writer && !(s->out = malloc(OUT_SIZE)))
		return fail(s, SWI_ENOMEM, "%s: out of memory", s->member);
	switch (s->codec) {
	case CODEC_ZLIB:
		/* windowBits 15 + 32: accept a zlib or a gzip header. */
		if (inflateInit2(&s->z, 15 + 32) != Z_OK)
			return fail(s, SWI_ENOMEM, "%s: cannot set up zlib", s->member);
		s->z_ready = true;
		return SWI_OK;
	case CODEC_ZSTD:
		if (!(s->zstd = ZSTD_createDCtx()))
			return fail(s, SWI_ENOMEM, "%s: cannot set up zstd", s->member);
		return SWI_OK;
	case CODEC_XZ:
		if (lzma_stream_decoder(&s->xz, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK)
			return fail(s, SWI_ENOMEM, "%s: cannot set up xz", s->member);
		s->xz_ready = true;
		return SWI_OK;
	case CODEC_NONE:
		break;
	}
	return SWI_OK;
}

int swi_stream_new(swi_ctx_t *ctx, const char *member, const char *compressed,
		   const char *sha256, swi_sink_fn sink, void *user, struct swi_stream **out)
{
	if (!ctx || !member || !out)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "stream: invalid arguments") : SWI_EINVAL;
	*out = NULL;
	enum codec codec;
	if (parse_codec(compressed, &codec) < 0)
		return swi_fail(ctx, SWI_EUNSUPPORTED,
				"%s: unknown compression '%s' (zlib, zstd or xz)", member,
				compressed);
	struct swi_stream *s = calloc(1, sizeof(*s));
	if (!s || !(s->member = strdup(member))) {
		free(s);
		return swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", member);
	}
	s->ctx = ctx;
	s->codec = codec;
	s->sink = sink;
	s->user = user;
	int rc = init_hash(s, sha256);
	if (!rc && sink && codec != CODEC_NONE)
		rc = swi_worker_start(ctx, write_chunk, s, &s->writer);
	if (!rc)
		rc = init_decoder(s);
	if (!rc && (sink || codec != CODEC_NONE))
		rc = swi_worker_start(ctx, decode_chunk, s, &s->worker);
	if (rc) {
		swi_stream_free(s);
		return rc;
	}
	*out = s;
	return SWI_OK;
}

/* The writer's function: decoded bytes to the sink. */
static int write_chunk(void *user, const void *buf, size_t len)
{
	struct swi_stream *s = user;
	return s->sink(s->user, buf, len);
}

/* Gives the sink len bytes; a sink's error was already recorded by it. */
static int emit(struct swi_stream *s, const void *buf, size_t len)
{
	s->decoded += len;
	if (!s->sink || len == 0)
		return SWI_OK;
	int rc = s->sink(s->user, buf, len);
	if (rc)
		s->status = rc;
	return rc;
}

/* Makes sure the decoder has an output buffer: with a writer, a chunk of
 * it (waiting for one to be free). */
static int out_ready(struct swi_stream *s)
{
	if (s->out)
		return SWI_OK;
	int rc = swi_worker_acquire(s->writer, &s->out);
	if (rc)
		s->status = rc;
	return rc;
}

static int flush_out(struct swi_stream *s)
{
	size_t len = s->out_used;
	s->out_used = 0;
	if (!s->writer || len == 0)
		return emit(s, s->out, len);
	s->decoded += len;
	swi_worker_commit(s->writer, len);
	s->out = NULL;
	return SWI_OK;
}

static int flush_if_full(struct swi_stream *s)
{
	return s->out_used == OUT_SIZE ? flush_out(s) : SWI_OK;
}

static int trailing_garbage(struct swi_stream *s)
{
	return fail(s, SWI_EFORMAT, "%s: trailing garbage after the compressed data", s->member);
}

/* gzip -dc decodes gzip members one after the other; a zlib stream is one
 * stream. A gzip member starts with 0x1f, which is never a valid zlib
 * header byte, so checking it is enough to refuse anything else. */
static int zlib_next_member(struct swi_stream *s)
{
	if (!s->z_gzip || s->z.next_in[0] != 0x1f)
		return trailing_garbage(s);
	if (inflateReset(&s->z) != Z_OK)
		return fail(s, SWI_EFORMAT, "%s: zlib reset failed", s->member);
	s->ended = false;
	return SWI_OK;
}

static int feed_zlib(struct swi_stream *s, const unsigned char *buf, size_t len)
{
	if (!s->z_started && len) {
		s->z_started = true;
		s->z_gzip = buf[0] == 0x1f;
	}
	s->z.next_in = (unsigned char *)buf;
	s->z.avail_in = (uInt)len; /* at most one worker chunk */
	for (;;) {
		if (s->ended && s->z.avail_in) {
			int rc = zlib_next_member(s);
			if (rc)
				return rc;
		}
		int rc = out_ready(s);
		if (rc)
			return rc;
		s->z.next_out = s->out + s->out_used;
		s->z.avail_out = (uInt)(OUT_SIZE - s->out_used);
		int zr = inflate(&s->z, Z_NO_FLUSH);
		s->out_used = OUT_SIZE - s->z.avail_out;
		bool out_full = s->z.avail_out == 0;
		rc = flush_if_full(s);
		if (rc)
			return rc;
		if (zr == Z_STREAM_END)
			s->ended = true;
		else if (zr == Z_NEED_DICT)
			return fail(s, SWI_EFORMAT, "%s: zlib data needs a preset dictionary",
				    s->member);
		else if (zr == Z_MEM_ERROR)
			return fail(s, SWI_ENOMEM, "%s: out of memory in zlib", s->member);
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return fail(s, SWI_EFORMAT, "%s: corrupt zlib/gzip data (%s)", s->member,
				    s->z.msg ? s->z.msg : zError(zr));
		/* Done when the input is used up and inflate had room to spare,
		 * i.e. nothing is left waiting inside it. */
		if (s->z.avail_in == 0 && !out_full)
			return SWI_OK;
	}
}

static int feed_zstd(struct swi_stream *s, const unsigned char *buf, size_t len)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	for (;;) {
		int rc = out_ready(s);
		if (rc)
			return rc;
		ZSTD_outBuffer out = { s->out, OUT_SIZE, s->out_used };
		size_t in_before = in.pos;
		size_t zr = ZSTD_decompressStream(s->zstd, &out, &in);
		bool progress = in.pos != in_before || out.pos != s->out_used;
		s->out_used = out.pos;
		if (ZSTD_isError(zr))
			return fail(s, SWI_EFORMAT, "%s: corrupt zstd data (%s)", s->member,
				    ZSTD_getErrorName(zr));
		bool out_full = out.pos == out.size;
		rc = flush_if_full(s);
		if (rc)
			return rc;
		/* 0: a frame ended and is fully flushed; more input starts the
		 * next frame (concatenated frames are one stream, as for zstd -d).
		 * A call that did nothing (the frame ended exactly as the output
		 * buffer filled) says nothing about the end: keep what we knew. */
		if (progress)
			s->ended = zr == 0;
		if (in.pos == in.size && !out_full)
			return SWI_OK;
	}
}

static const char *lzma_reason(lzma_ret r)
{
	switch (r) {
	case LZMA_MEM_ERROR: return "out of memory";
	case LZMA_MEMLIMIT_ERROR: return "needs more than 256 MiB of memory";
	case LZMA_FORMAT_ERROR: return "not in the .xz format";
	case LZMA_OPTIONS_ERROR: return "unsupported options";
	case LZMA_DATA_ERROR: return "data is corrupt";
	case LZMA_BUF_ERROR: return "data is truncated";
	default: return "unexpected decoder error";
	}
}

/* One lzma_code() pass over the pending input; action LZMA_FINISH at the
 * end, since with LZMA_CONCATENATED only then can liblzma tell the end. */
static int run_xz(struct swi_stream *s, lzma_action action)
{
	for (;;) {
		int rc = out_ready(s);
		if (rc)
			return rc;
		s->xz.next_out = s->out + s->out_used;
		s->xz.avail_out = OUT_SIZE - s->out_used;
		lzma_ret lr = lzma_code(&s->xz, action);
		s->out_used = OUT_SIZE - s->xz.avail_out;
		bool out_full = s->xz.avail_out == 0;
		rc = flush_if_full(s);
		if (rc)
			return rc;
		if (lr == LZMA_STREAM_END) {
			s->ended = true;
			return SWI_OK;
		}
		/* No progress possible: in LZMA_RUN, all input is used; at the
		 * end, the stream stops short of its end. */
		if (lr == LZMA_BUF_ERROR && action == LZMA_FINISH)
			return fail(s, SWI_EFORMAT, "%s: compressed data is truncated", s->member);
		if (lr == LZMA_BUF_ERROR)
			return SWI_OK;
		if (lr != LZMA_OK)
			return fail(s, lr == LZMA_MEM_ERROR ? SWI_ENOMEM : SWI_EFORMAT,
				    "%s: corrupt xz data (%s)", s->member, lzma_reason(lr));
		if (action == LZMA_RUN && s->xz.avail_in == 0 && !out_full)
			return SWI_OK;
	}
}

static int feed_xz(struct swi_stream *s, const unsigned char *buf, size_t len)
{
	s->xz.next_in = buf;
	s->xz.avail_in = len;
	return run_xz(s, LZMA_RUN);
}

static int decode(struct swi_stream *s, const unsigned char *buf, size_t len)
{
	switch (s->codec) {
	case CODEC_NONE:
		return emit(s, buf, len);
	case CODEC_ZLIB:
		return feed_zlib(s, buf, len);
	case CODEC_ZSTD:
		return feed_zstd(s, buf, len);
	case CODEC_XZ:
		return feed_xz(s, buf, len);
	}
	return SWI_OK;
}

/* The worker's function: one chunk through the decoder into the sink. */
static int decode_chunk(void *user, const void *buf, size_t len)
{
	struct swi_stream *s = user;
	return s->status ? s->status : decode(s, buf, len);
}

static int hash(struct swi_stream *s, const void *buf, size_t len)
{
	if (s->md && !EVP_DigestUpdate(s->md, buf, len))
		return s->reader_status = swi_fail(s->ctx, SWI_EINVAL, "%s: sha256 update failed",
						   s->member);
	return SWI_OK;
}

int swi_stream_feed(struct swi_stream *s, const void *buf, size_t len)
{
	if (s->reader_status || hash(s, buf, len))
		return s->reader_status;
	if (s->worker)
		s->reader_status = swi_worker_put(s->worker, buf, len);
	return s->reader_status;
}

int swi_stream_feed_lent(struct swi_stream *s, const void *buf, size_t len,
			 swi_release_fn release, void *token)
{
	if (s->reader_status || hash(s, buf, len) || !s->worker) {
		release(token);
		return s->reader_status;
	}
	return s->reader_status = swi_worker_lend(s->worker, buf, len, release, token);
}

/* Compares the digest with the expected one; once: a digest can be
 * finished only once, and finish may be asked again (hash-only, after a
 * handler failed to close). */
static int check_hash(struct swi_stream *s)
{
	if (s->hash_checked)
		return s->hash_status;
	s->hash_checked = true;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (!EVP_DigestFinal_ex(s->md, digest, &dlen) || dlen * 2 != SHA256_HEX_LEN)
		return s->hash_status = fail(s, SWI_EINVAL, "%s: sha256 computation failed", s->member);
	char got[SHA256_HEX_LEN + 1];
	for (unsigned i = 0; i < dlen; i++)
		snprintf(got + 2 * i, 3, "%02x", digest[i]);
	if (strcasecmp(got, s->expected))
		return s->hash_status = fail(s, SWI_EHASH, "%s: sha256 mismatch (expected %s, got %s)",
					     s->member, s->expected, got);
	return s->hash_status = SWI_OK;
}

void swi_stream_hash_only(struct swi_stream *s)
{
	/* With a writer, out is one of its chunks, gone with it. */
	if (s->writer)
		s->out = NULL;
	swi_worker_stop(s->worker);
	swi_worker_stop(s->writer);
	s->worker = s->writer = NULL;
	s->reader_status = SWI_OK;
	s->hash_only = true;
}

int swi_stream_finish(struct swi_stream *s)
{
	if (s->reader_status)
		return s->reader_status;
	if (s->hash_only)
		return s->md ? check_hash(s) : SWI_OK;
	int rc = s->worker ? swi_worker_drain(s->worker) : SWI_OK;
	if (rc)
		return s->reader_status = rc;
	if (s->status)
		return s->status;
	if (s->codec == CODEC_XZ) {
		s->xz.next_in = NULL;
		s->xz.avail_in = 0;
		int rc = run_xz(s, LZMA_FINISH);
		if (rc)
			return rc;
	}
	if (s->codec != CODEC_NONE && !s->ended)
		return fail(s, SWI_EFORMAT, "%s: compressed data is truncated", s->member);
	if (s->codec != CODEC_NONE) {
		int rc = flush_out(s);
		if (rc == SWI_OK && s->writer)
			rc = swi_worker_drain(s->writer);
		if (rc)
			return s->status = rc;
	}
	return s->md ? check_hash(s) : SWI_OK;
}

uint64_t swi_stream_decoded_bytes(const struct swi_stream *s)
{
	return s->decoded + s->out_used;
}

void swi_stream_free(struct swi_stream *s)
{
	if (!s)
		return;
	bool own_out = !s->writer;
	swi_worker_stop(s->worker);
	swi_worker_stop(s->writer);
	if (s->z_ready)
		inflateEnd(&s->z);
	ZSTD_freeDCtx(s->zstd);
	if (s->xz_ready)
		lzma_end(&s->xz);
	EVP_MD_CTX_free(s->md);
	EVP_MD_free(s->sha256);
	if (own_out)
		free(s->out);
	free(s->member);
	free(s);
}
