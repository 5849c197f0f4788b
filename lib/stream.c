/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-artifact chain: the sha256 of the bytes as stored in the archive,
 * then the codecs that undo what the image's builder did, in the reverse
 * order: decryption (AES-CBC), then decompression; then the sink.
 *
 * The caller's thread hashes; decoding runs on a worker thread (worker.h),
 * and so does the sink (the handler's writes): on the same worker for
 * stored bytes that need no decoding, on a second one after the codecs, so
 * the slowest stage sets the speed, not the sum of the stages. The stages
 * share nothing but the workers' rings: the codecs' state is touched by
 * their worker alone until swi_stream_finish() has drained it.
 *
 * Input reaches the worker copied into its chunks (swi_stream_feed) or lent
 * where it lies (swi_stream_feed_lent: the image's read buffers, so the
 * bytes of a raw artifact are never copied in user space: with no codec,
 * the sink reads them where they are).
 *
 * Each codec is one entry of a table (name, init, feed, end, free) and one
 * stage of the chain. A stage writes where stage_window() points: into the
 * next stage's input buffer, or, for the last stage, into one OUT_SIZE
 * buffer that goes to the sink when full (and at the end), so a handler
 * sees large writes however small the pieces fed in; with a writer, that
 * buffer is one of the writer's chunks: the last codec writes where the
 * writer reads. Adding a codec is one table entry.
 *
 * Memory is bounded: the workers' chunks, one OUT_SIZE buffer between two
 * codecs, and the codecs' state (AES: a block OpenSSL holds back until the
 * end, where its padding is checked; zlib: 32 KiB window; zstd: its default
 * window limit of 128 MiB; xz: the XZ_MEMLIMIT below, which covers every
 * preset of `xz -9`).
 */
#include <inttypes.h>
#include <lzma.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
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
#define MAX_STAGES 2 /* decryption, decompression */

struct stage;

/*
 * A codec. feed() takes all of its input (or fails) and writes its output
 * through stage_window() and stage_produced(); end() follows the last
 * input: it writes what the codec still holds and fails (SWI_EFORMAT)
 * unless its data ended as it must. free() undoes whatever init() did,
 * also when init() failed half way.
 */
struct codec {
	const char *name;
	int (*init)(struct stage *st, const struct swi_stream_spec *spec);
	int (*feed)(struct stage *st, const unsigned char *in, size_t len);
	int (*end)(struct stage *st);
	void (*free)(struct stage *st);
};

struct stage {
	const struct codec *codec;
	struct swi_stream *s;
	struct stage *next;         /* NULL: the last stage, writing for the sink */
	unsigned char *buf;         /* with next: output gathered for it */
	size_t used;
	bool ended;                 /* the codec saw the end of its data */
	bool after_decryption;      /* its input was decrypted: a wrong key shows here too */
	union {
		struct {
			z_stream z;
			bool ready;
			bool started;       /* the first byte was seen */
			bool gzip;          /* gzip (members may follow each other) */
		} zlib;
		ZSTD_DCtx *zstd;
		struct {
			lzma_stream strm;
			bool ready;
		} xz;
		struct {
			EVP_CIPHER *cipher;
			EVP_CIPHER_CTX *evp;
			uint64_t in_bytes;
		} aes;
	} u;
};

struct swi_stream {
	swi_ctx_t *ctx;
	char *member;
	swi_sink_fn sink;
	void *user;
	uint64_t decoded;           /* bytes given to the sink */
	int status;                 /* the decoding side's: once failed, stays failed */
	int reader_status;          /* the feeding side's, likewise */
	struct swi_worker *worker;  /* decodes (and writes, without codecs); NULL: nothing to do */
	struct swi_worker *writer;  /* writes decoded bytes; NULL: no codecs or no sink */

	char expected[SHA256_HEX_LEN + 1]; /* empty: no hash check */
	EVP_MD *sha256;
	EVP_MD_CTX *md;

	struct stage stages[MAX_STAGES];
	size_t nstages;

	unsigned char *out;         /* decoded bytes not yet given to the sink; with a
				     * writer, its chunk (NULL: none taken yet) */
	size_t out_used;
	bool pulled;                /* a pull stream: main reads from the last worker */
	bool hash_only;             /* the sink failed: the rest is only hashed */
	bool hash_checked;          /* check_hash() ran; its result: */
	int hash_status;
};

static int fail(struct swi_stream *s, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int stage_fail(struct stage *st, int status, const char *fmt, ...)
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

/* A codec's failure, "member: reason". Garbage after decryption is what a
 * wrong key makes, so the message says so. */
static int stage_fail(struct stage *st, int status, const char *fmt, ...)
{
	char reason[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (st->after_decryption && status == SWI_EFORMAT)
		return fail(st->s, status, "%s: %s; the data was decrypted first (wrong key?)",
			    st->s->member, reason);
	return fail(st->s, status, "%s: %s", st->s->member, reason);
}

/* ---- where stages write ------------------------------------------------- */

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

/* Makes sure the last stage has an output buffer: with a writer, a chunk
 * of it (waiting for one to be free). */
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

/* The gathered output of st to the next stage. */
static int pass_on(struct stage *st)
{
	size_t len = st->used;
	st->used = 0;
	return len ? st->next->codec->feed(st->next, st->buf, len) : SWI_OK;
}

/* Where st writes next: *room (at least 1) bytes at *at. */
static int stage_window(struct stage *st, unsigned char **at, size_t *room)
{
	if (st->next) {
		*at = st->buf + st->used;
		*room = OUT_SIZE - st->used;
		return SWI_OK;
	}
	struct swi_stream *s = st->s;
	int rc = out_ready(s);
	*at = rc ? NULL : s->out + s->out_used;
	*room = OUT_SIZE - s->out_used;
	return rc;
}

/* st wrote n bytes at its window; a full buffer moves on. */
static int stage_produced(struct stage *st, size_t n)
{
	if (st->next) {
		st->used += n;
		return st->used == OUT_SIZE ? pass_on(st) : SWI_OK;
	}
	struct swi_stream *s = st->s;
	s->out_used += n;
	return s->out_used == OUT_SIZE ? flush_out(s) : SWI_OK;
}

/* Copies n bytes of output (small ones: a codec's last bytes). */
static int stage_put(struct stage *st, const unsigned char *p, size_t n)
{
	while (n > 0) {
		unsigned char *at;
		size_t room;
		int rc = stage_window(st, &at, &room);
		if (rc)
			return rc;
		size_t k = n < room ? n : room;
		memcpy(at, p, k);
		p += k;
		n -= k;
		if ((rc = stage_produced(st, k)))
			return rc;
	}
	return SWI_OK;
}

static int expect_ended(struct stage *st)
{
	return st->ended ? SWI_OK : stage_fail(st, SWI_EFORMAT, "compressed data is truncated");
}

/* ---- AES-CBC ----------------------------------------------------------- */

static const char *aes_cipher_name(size_t key_len)
{
	switch (key_len) {
	case 16: return "AES-128-CBC";
	case 24: return "AES-192-CBC";
	case 32: return "AES-256-CBC";
	default: return NULL;
	}
}

static int aes_init(struct stage *st, const struct swi_stream_spec *spec)
{
	const struct swi_aes_key *k = spec->aes;
	const char *name = aes_cipher_name(k->key_len);
	if (!name)
		return stage_fail(st, SWI_EINVAL, "an AES key has 16, 24 or 32 bytes, not %zu",
				  k->key_len);
	st->u.aes.cipher = EVP_CIPHER_fetch(NULL, name, NULL);
	st->u.aes.evp = EVP_CIPHER_CTX_new();
	/* PKCS#7 padding is EVP's default: the last block is checked at the end. */
	if (!st->u.aes.cipher || !st->u.aes.evp ||
	    !EVP_DecryptInit_ex2(st->u.aes.evp, st->u.aes.cipher, k->key, k->iv, NULL)) {
		ERR_clear_error();
		return stage_fail(st, SWI_ENOMEM, "cannot set up %s decryption", name);
	}
	return SWI_OK;
}

static int aes_update(struct stage *st, unsigned char *out, int *outl,
		      const unsigned char *in, size_t len)
{
	if (EVP_DecryptUpdate(st->u.aes.evp, out, outl, in, (int)len) == 1)
		return SWI_OK;
	ERR_clear_error();
	return stage_fail(st, SWI_EINVAL, "decryption failed inside OpenSSL");
}

/*
 * OpenSSL may write up to one block more than it is given (the block it
 * held back from the last call), so input goes straight into the window
 * while that leaves a block to spare; the window's last block, through a
 * small buffer.
 */
static int aes_feed(struct stage *st, const unsigned char *in, size_t len)
{
	st->u.aes.in_bytes += len;
	while (len > 0) {
		unsigned char *at, small[2 * SWI_AES_BLOCK];
		size_t room;
		int outl = 0;
		int rc = stage_window(st, &at, &room);
		if (rc)
			return rc;
		size_t n = room >= 2 * SWI_AES_BLOCK ? room - SWI_AES_BLOCK : SWI_AES_BLOCK;
		if (n > len)
			n = len;
		if (room >= 2 * SWI_AES_BLOCK) {
			rc = aes_update(st, at, &outl, in, n);
			if (rc == SWI_OK)
				rc = stage_produced(st, (size_t)outl);
		} else {
			rc = aes_update(st, small, &outl, in, n);
			if (rc == SWI_OK)
				rc = stage_put(st, small, (size_t)outl);
		}
		if (rc)
			return rc;
		in += n;
		len -= n;
	}
	return SWI_OK;
}

static int aes_end(struct stage *st)
{
	uint64_t stored = st->u.aes.in_bytes;
	if (stored == 0)
		return stage_fail(st, SWI_EFORMAT, "decryption failed: the encrypted data is empty "
				  "(AES-CBC with padding has at least one 16-byte block)");
	if (stored % SWI_AES_BLOCK)
		return stage_fail(st, SWI_EFORMAT, "decryption failed: %" PRIu64 " bytes are not a "
				  "whole number of 16-byte AES blocks (truncated?)", stored);
	unsigned char last[SWI_AES_BLOCK];
	int outl = 0;
	if (EVP_DecryptFinal_ex(st->u.aes.evp, last, &outl) != 1) {
		ERR_clear_error();
		return stage_fail(st, SWI_EFORMAT, "decryption failed: bad padding (wrong key?)");
	}
	return stage_put(st, last, (size_t)outl);
}

static void aes_free(struct stage *st)
{
	EVP_CIPHER_CTX_free(st->u.aes.evp);
	EVP_CIPHER_free(st->u.aes.cipher);
}

/* ---- zlib and gzip ------------------------------------------------------ */

static int zlib_init(struct stage *st, const struct swi_stream_spec *spec)
{
	(void)spec;
	/* windowBits 15 + 32: accept a zlib or a gzip header. */
	if (inflateInit2(&st->u.zlib.z, 15 + 32) != Z_OK)
		return stage_fail(st, SWI_ENOMEM, "cannot set up zlib");
	st->u.zlib.ready = true;
	return SWI_OK;
}

/* gzip -dc decodes gzip members one after the other; a zlib stream is one
 * stream. A gzip member starts with 0x1f, which is never a valid zlib
 * header byte, so checking it is enough to refuse anything else. */
static int zlib_next_member(struct stage *st)
{
	z_stream *z = &st->u.zlib.z;
	if (!st->u.zlib.gzip || z->next_in[0] != 0x1f)
		return stage_fail(st, SWI_EFORMAT, "trailing garbage after the compressed data");
	if (inflateReset(z) != Z_OK)
		return stage_fail(st, SWI_EFORMAT, "zlib reset failed");
	st->ended = false;
	return SWI_OK;
}

static int zlib_feed(struct stage *st, const unsigned char *in, size_t len)
{
	z_stream *z = &st->u.zlib.z;
	if (!st->u.zlib.started && len) {
		st->u.zlib.started = true;
		st->u.zlib.gzip = in[0] == 0x1f;
	}
	z->next_in = (unsigned char *)in;
	z->avail_in = (uInt)len; /* at most one chunk */
	for (;;) {
		if (st->ended && z->avail_in) {
			int rc = zlib_next_member(st);
			if (rc)
				return rc;
		}
		unsigned char *at;
		size_t room;
		int rc = stage_window(st, &at, &room);
		if (rc)
			return rc;
		z->next_out = at;
		z->avail_out = (uInt)room;
		int zr = inflate(z, Z_NO_FLUSH);
		bool out_full = z->avail_out == 0;
		rc = stage_produced(st, room - z->avail_out);
		if (rc)
			return rc;
		if (zr == Z_STREAM_END)
			st->ended = true;
		else if (zr == Z_NEED_DICT)
			return stage_fail(st, SWI_EFORMAT, "zlib data needs a preset dictionary");
		else if (zr == Z_MEM_ERROR)
			return stage_fail(st, SWI_ENOMEM, "out of memory in zlib");
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return stage_fail(st, SWI_EFORMAT, "corrupt zlib/gzip data (%s)",
					  z->msg ? z->msg : zError(zr));
		/* Done when the input is used up and inflate had room to spare,
		 * i.e. nothing is left waiting inside it. */
		if (z->avail_in == 0 && !out_full)
			return SWI_OK;
	}
}

static void zlib_free(struct stage *st)
{
	if (st->u.zlib.ready)
		inflateEnd(&st->u.zlib.z);
}

/* ---- zstd ---------------------------------------------------------------- */

static int zstd_init(struct stage *st, const struct swi_stream_spec *spec)
{
	(void)spec;
	if (!(st->u.zstd = ZSTD_createDCtx()))
		return stage_fail(st, SWI_ENOMEM, "cannot set up zstd");
	return SWI_OK;
}

static int zstd_feed(struct stage *st, const unsigned char *buf, size_t len)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	for (;;) {
		unsigned char *at;
		size_t room;
		int rc = stage_window(st, &at, &room);
		if (rc)
			return rc;
		ZSTD_outBuffer out = { at, room, 0 };
		size_t in_before = in.pos;
		size_t zr = ZSTD_decompressStream(st->u.zstd, &out, &in);
		if (ZSTD_isError(zr))
			return stage_fail(st, SWI_EFORMAT, "corrupt zstd data (%s)",
					  ZSTD_getErrorName(zr));
		bool progress = in.pos != in_before || out.pos != 0;
		bool out_full = out.pos == out.size;
		rc = stage_produced(st, out.pos);
		if (rc)
			return rc;
		/* 0: a frame ended and is fully flushed; more input starts the
		 * next frame (concatenated frames are one stream, as for zstd -d).
		 * A call that did nothing (the frame ended exactly as the output
		 * buffer filled) says nothing about the end: keep what we knew. */
		if (progress)
			st->ended = zr == 0;
		if (in.pos == in.size && !out_full)
			return SWI_OK;
	}
}

static void zstd_free(struct stage *st)
{
	ZSTD_freeDCtx(st->u.zstd);
}

/* ---- xz ------------------------------------------------------------------ */

static int xz_init(struct stage *st, const struct swi_stream_spec *spec)
{
	(void)spec;
	if (lzma_stream_decoder(&st->u.xz.strm, XZ_MEMLIMIT, LZMA_CONCATENATED) != LZMA_OK)
		return stage_fail(st, SWI_ENOMEM, "cannot set up xz");
	st->u.xz.ready = true;
	return SWI_OK;
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
static int xz_run(struct stage *st, lzma_action action)
{
	lzma_stream *x = &st->u.xz.strm;
	for (;;) {
		unsigned char *at;
		size_t room;
		int rc = stage_window(st, &at, &room);
		if (rc)
			return rc;
		x->next_out = at;
		x->avail_out = room;
		lzma_ret lr = lzma_code(x, action);
		bool out_full = x->avail_out == 0;
		rc = stage_produced(st, room - x->avail_out);
		if (rc)
			return rc;
		if (lr == LZMA_STREAM_END) {
			st->ended = true;
			return SWI_OK;
		}
		/* No progress possible: in LZMA_RUN, all input is used; at the
		 * end, the stream stops short of its end. */
		if (lr == LZMA_BUF_ERROR && action == LZMA_FINISH)
			return stage_fail(st, SWI_EFORMAT, "compressed data is truncated");
		if (lr == LZMA_BUF_ERROR)
			return SWI_OK;
		if (lr != LZMA_OK)
			return stage_fail(st, lr == LZMA_MEM_ERROR ? SWI_ENOMEM : SWI_EFORMAT,
					  "corrupt xz data (%s)", lzma_reason(lr));
		if (action == LZMA_RUN && x->avail_in == 0 && !out_full)
			return SWI_OK;
	}
}

static int xz_feed(struct stage *st, const unsigned char *in, size_t len)
{
	st->u.xz.strm.next_in = in;
	st->u.xz.strm.avail_in = len;
	return xz_run(st, LZMA_RUN);
}

static int xz_end(struct stage *st)
{
	st->u.xz.strm.next_in = NULL;
	st->u.xz.strm.avail_in = 0;
	int rc = xz_run(st, LZMA_FINISH);
	return rc ? rc : expect_ended(st);
}

static void xz_free(struct stage *st)
{
	if (st->u.xz.ready)
		lzma_end(&st->u.xz.strm);
}

/* ---- the codec tables ---------------------------------------------------- */

/* Decompressors, by the name sw-description's `compressed` gives. */
static const struct codec decompressors[] = {
	{ "zlib", zlib_init, zlib_feed, expect_ended, zlib_free },
	{ "zstd", zstd_init, zstd_feed, expect_ended, zstd_free },
	{ "xz", xz_init, xz_feed, xz_end, xz_free },
};
#define NDECOMPRESSORS (sizeof(decompressors) / sizeof(decompressors[0]))

/* Decryption, for entries with `encrypted = true`. */
static const struct codec aes_cbc = { "aes-cbc", aes_init, aes_feed, aes_end, aes_free };

/* sw-description's `compressed = true` is the old spelling of "zlib". */
static int find_decompressor(const char *name, const struct codec **out)
{
	*out = NULL;
	if (!name || !strcmp(name, "false"))
		return 0;
	if (!strcmp(name, "true"))
		name = "zlib";
	for (size_t i = 0; i < NDECOMPRESSORS; i++)
		if (!strcmp(decompressors[i].name, name)) {
			*out = &decompressors[i];
			return 0;
		}
	return -1;
}

/* "zlib, zstd or xz" */
static void decompressor_names(char *buf, size_t size)
{
	buf[0] = '\0';
	for (size_t i = 0; i < NDECOMPRESSORS; i++) {
		const char *sep = i == 0 ? "" : i + 1 == NDECOMPRESSORS ? " or " : ", ";
		size_t used = strlen(buf);
		snprintf(buf + used, size - used, "%s%s", sep, decompressors[i].name);
	}
}

/* Appends a stage running codec c; the stage before it now writes into
 * a buffer of its own, which c reads. */
static int add_stage(struct swi_stream *s, const struct codec *c,
		     const struct swi_stream_spec *spec)
{
	struct stage *st = &s->stages[s->nstages];
	*st = (struct stage){ .codec = c, .s = s };
	if (s->nstages > 0) {
		struct stage *prev = &s->stages[s->nstages - 1];
		if (!(prev->buf = malloc(OUT_SIZE)))
			return fail(s, SWI_ENOMEM, "%s: out of memory", s->member);
		prev->next = st;
		st->after_decryption = prev->after_decryption || prev->codec == &aes_cbc;
	}
	s->nstages++;
	return c->init(st, spec);
}

/* ---- the stream ----------------------------------------------------------- */

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

/* The stages, in the order they undo the builder's work. */
static int init_stages(struct swi_stream *s, const struct swi_stream_spec *spec,
		       const struct codec *decompressor)
{
	int rc = SWI_OK;
	if (spec->aes)
		rc = add_stage(s, &aes_cbc, spec);
	if (rc == SWI_OK && decompressor)
		rc = add_stage(s, decompressor, spec);
	return rc;
}

/* A push stream (sink, or neither: decode and drop) or a pull stream
 * (main): main runs on the last worker, the writer after the codecs or
 * the single worker without them. */
static int stream_new(swi_ctx_t *ctx, const char *member, const struct swi_stream_spec *spec,
		      swi_sink_fn sink, swi_pull_main_fn main, void *user,
		      struct swi_stream **out)
{
	if (!ctx || !member || !spec || !out)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "stream: invalid arguments") : SWI_EINVAL;
	*out = NULL;
	const struct codec *decompressor;
	if (find_decompressor(spec->compressed, &decompressor) < 0) {
		char names[64];
		decompressor_names(names, sizeof(names));
		return swi_fail(ctx, SWI_EUNSUPPORTED, "%s: unknown compression '%s' (%s)", member,
				spec->compressed, names);
	}
	struct swi_stream *s = calloc(1, sizeof(*s));
	if (!s || !(s->member = strdup(member))) {
		free(s);
		return swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", member);
	}
	s->ctx = ctx;
	s->sink = sink;
	s->user = user;
	s->pulled = main != NULL;
	int rc = init_hash(s, spec->sha256);
	if (!rc)
		rc = init_stages(s, spec, decompressor);
	bool decoding = s->nstages > 0;
	if (!rc && main && decoding)
		rc = swi_worker_start_pull(ctx, main, user, &s->writer);
	else if (!rc && sink && decoding)
		rc = swi_worker_start(ctx, write_chunk, s, &s->writer);
	/* Without a writer, decoded bytes gather in a buffer of our own. */
	if (!rc && decoding && !s->writer && !(s->out = malloc(OUT_SIZE)))
		rc = fail(s, SWI_ENOMEM, "%s: out of memory", member);
	if (!rc && main && !decoding)
		rc = swi_worker_start_pull(ctx, main, user, &s->worker);
	else if (!rc && (sink || decoding))
		rc = swi_worker_start(ctx, decode_chunk, s, &s->worker);
	if (rc) {
		swi_stream_free(s);
		return rc;
	}
	*out = s;
	return SWI_OK;
}

int swi_stream_new(swi_ctx_t *ctx, const char *member, const struct swi_stream_spec *spec,
		   swi_sink_fn sink, void *user, struct swi_stream **out)
{
	return stream_new(ctx, member, spec, sink, NULL, user, out);
}

int swi_stream_new_pull(swi_ctx_t *ctx, const char *member, const struct swi_stream_spec *spec,
			swi_pull_main_fn main, void *user, struct swi_stream **out)
{
	if (!main)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "stream: invalid arguments") : SWI_EINVAL;
	return stream_new(ctx, member, spec, NULL, main, user, out);
}

int swi_stream_pull(struct swi_stream *s, const void **buf, size_t *len)
{
	if (!s->pulled)
		return swi_fail(s->ctx, SWI_EINVAL, "%s: not a pull stream", s->member);
	/* A stream with codecs counts its output as it hands it to the writer. */
	int rc = swi_worker_take(s->writer ? s->writer : s->worker, buf, len);
	if (s->nstages == 0)
		s->decoded += *len;
	return rc;
}

/* The writer's function: decoded bytes to the sink. */
static int write_chunk(void *user, const void *buf, size_t len)
{
	struct swi_stream *s = user;
	return s->sink(s->user, buf, len);
}

/* The worker's function: one chunk through the codecs into the sink, or
 * straight to the sink when there is nothing to decode. */
static int decode_chunk(void *user, const void *buf, size_t len)
{
	struct swi_stream *s = user;
	if (s->status)
		return s->status;
	if (s->nstages == 0)
		return emit(s, buf, len);
	return s->stages[0].codec->feed(&s->stages[0], buf, len);
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

/* Every codec, in order, writes what it holds and checks that its data
 * ended properly; then the last output goes to the sink. */
static int end_stages(struct swi_stream *s)
{
	for (size_t i = 0; i < s->nstages; i++) {
		struct stage *st = &s->stages[i];
		int rc = st->codec->end(st);
		if (rc == SWI_OK && st->next)
			rc = pass_on(st);
		if (rc)
			return rc;
	}
	if (s->nstages == 0)
		return SWI_OK;
	int rc = flush_out(s);
	if (rc == SWI_OK && s->writer)
		rc = swi_worker_drain(s->writer);
	return rc;
}

/* Stored bytes that are not the expected ones explain a bad end
 * (truncated, bad padding, a pulling handler's refusal of what it read)
 * better than the end itself. */
static int explained(struct swi_stream *s, int rc)
{
	return rc == SWI_EFORMAT && s->md && check_hash(s) == SWI_EHASH ? SWI_EHASH : rc;
}

int swi_stream_finish(struct swi_stream *s)
{
	if (s->reader_status)
		return s->reader_status;
	if (s->hash_only)
		return s->md ? check_hash(s) : SWI_OK;
	int rc = s->worker ? swi_worker_drain(s->worker) : SWI_OK;
	if (rc)
		return s->reader_status = explained(s, rc);
	if (s->status)
		return s->status;
	rc = end_stages(s);
	if (rc)
		return s->status = explained(s, rc);
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
	for (size_t i = 0; i < s->nstages; i++) {
		s->stages[i].codec->free(&s->stages[i]);
		free(s->stages[i].buf);
	}
	EVP_MD_CTX_free(s->md);
	EVP_MD_free(s->sha256);
	if (own_out)
		free(s->out);
	free(s->member);
	free(s);
}

/* ---- whole members in memory ---------------------------------------------- */

struct memory_sink {
	swi_ctx_t *ctx;
	const char *member;
	size_t max;
	char *buf;
	size_t len;
	size_t cap;
};

static int to_memory(void *user, const void *buf, size_t len)
{
	struct memory_sink *m = user;
	if (len > m->max - m->len)
		return swi_fail(m->ctx, SWI_EFORMAT, "%s: larger than %zu bytes once decoded",
				m->member, m->max);
	if (m->len + len + 1 > m->cap) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap < m->len + len + 1)
			cap *= 2;
		char *grown = realloc(m->buf, cap);
		if (!grown)
			return swi_fail(m->ctx, SWI_ENOMEM, "%s: out of memory", m->member);
		m->buf = grown;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, buf, len);
	m->len += len;
	return SWI_OK;
}

int swi_stream_decode_buffer(swi_ctx_t *ctx, const char *member,
			     const struct swi_stream_spec *spec, const void *in, size_t len,
			     size_t max, char **out, size_t *out_len)
{
	struct memory_sink m = { .ctx = ctx, .member = member, .max = max };
	struct swi_stream *s;
	int rc = swi_stream_new(ctx, member, spec, to_memory, &m, &s);
	if (rc == SWI_OK) {
		rc = swi_stream_feed(s, in, len);
		if (rc == SWI_OK)
			rc = swi_stream_finish(s);
		swi_stream_free(s);
	}
	if (rc == SWI_OK && !m.buf && !(m.buf = malloc(1)))
		rc = swi_fail(ctx, SWI_ENOMEM, "%s: out of memory", member);
	if (rc) {
		free(m.buf);
		return rc;
	}
	m.buf[m.len] = '\0';
	*out = m.buf;
	*out_len = m.len;
	return SWI_OK;
}
