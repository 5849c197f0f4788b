/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/stream.c: data compressed at test time with the gzip,
 * zstd and xz CLIs (zlib format with the zlib library), and encrypted with
 * OpenSSL's AES-CBC. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include "stream.h"
#include "worker.h"
#include "testutil.h"

#define ORIGINAL_LEN (700 * 1024 + 17)
#define BIG_PIECE (1 << 20)

struct bytes {
	unsigned char *p;
	size_t len;
};

/* A member's chain: its sha256, then an AES key (or NULL), then a codec. */
#define SPEC(codec, sha, key) \
	(&(struct swi_stream_spec){ .sha256 = (sha), .aes = (key), .compressed = (codec) })

struct fixture {
	swi_ctx_t *ctx;
	char dir[64];
	struct bytes original;
	struct bytes gz, zst, xz, zlib; /* the original, compressed */
};

/* ---- helpers ---- */

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static struct bytes load(const char *path)
{
	struct bytes b = { 0 };
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	b.len = (size_t)ftell(fp);
	rewind(fp);
	b.p = malloc(b.len + 1);
	assert_non_null(b.p);
	assert_int_equal(fread(b.p, 1, b.len, fp), b.len);
	fclose(fp);
	return b;
}

static struct bytes concat(struct bytes a, const void *b, size_t blen)
{
	struct bytes r = { malloc(a.len + blen + 1), a.len + blen };
	assert_non_null(r.p);
	memcpy(r.p, a.p, a.len);
	memcpy(r.p + a.len, b, blen);
	return r;
}

/* Mostly compressible, partly random: long enough to need several output
 * buffers when decoded. */
static struct bytes make_original(void)
{
	struct bytes b = { malloc(ORIGINAL_LEN), ORIGINAL_LEN };
	assert_non_null(b.p);
	unsigned x = 42;
	for (size_t i = 0; i < b.len; i++) {
		x = x * 1103515245 + 12345;
		b.p[i] = (i / 4096) % 2 ? (unsigned char)(x >> 16) : (unsigned char)("swinstall"[i % 9]);
	}
	return b;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || swi_ctx_new(&f->ctx))
		return -1;
	strcpy(f->dir, "/tmp/test_stream.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	f->original = make_original();
	char path[128];
	snprintf(path, sizeof(path), "%s/data", f->dir);
	FILE *fp = fopen(path, "wb");
	if (!fp || fwrite(f->original.p, 1, f->original.len, fp) != f->original.len)
		return -1;
	fclose(fp);
	run("cd '%s' && gzip -c data > data.gz && zstd -q -c data > data.zst && "
	    "xz -c data > data.xz", f->dir);
	snprintf(path, sizeof(path), "%s/data.gz", f->dir);
	f->gz = load(path);
	snprintf(path, sizeof(path), "%s/data.zst", f->dir);
	f->zst = load(path);
	snprintf(path, sizeof(path), "%s/data.xz", f->dir);
	f->xz = load(path);

	uLongf zlen = compressBound(f->original.len);
	f->zlib.p = malloc(zlen);
	if (compress2(f->zlib.p, &zlen, f->original.p, f->original.len, 6) != Z_OK)
		return -1;
	f->zlib.len = zlen;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = remove_tree(f->dir);
	free(f->original.p);
	free(f->gz.p);
	free(f->zst.p);
	free(f->xz.p);
	free(f->zlib.p);
	swi_ctx_free(f->ctx);
	free(f);
	return rc;
}

/* ---- the sink ---- */

struct sink {
	swi_ctx_t *ctx;
	struct bytes out;
	size_t cap;
	size_t calls, largest;
	const void *last_buf;
	size_t fail_after;  /* fail once this many bytes arrived (0: never) */
};

static int collect(void *user, const void *buf, size_t len)
{
	struct sink *k = user;
	assert_true(len > 0);
	k->calls++;
	k->last_buf = buf;
	if (len > k->largest)
		k->largest = len;
	if (k->fail_after && k->out.len + len >= k->fail_after)
		return swi_fail(k->ctx, SWI_EIO, "target.img: disk full");
	if (k->out.len + len > k->cap) {
		k->cap = (k->out.len + len) * 2;
		k->out.p = realloc(k->out.p, k->cap);
		assert_non_null(k->out.p);
	}
	memcpy(k->out.p + k->out.len, buf, len);
	k->out.len += len;
	return 0;
}

/* Lent pieces given back; counted on the worker's thread, read after
 * swi_stream_free() has stopped it. */
static unsigned given_back;

static void give_back(void *token)
{
	(void)token;
	given_back++;
}

/* Feeds in to s in pieces of `piece` bytes, every other one lent rather
 * than copied, finishes and frees s; returns the first error. Every lent
 * piece must have come back, also after an error. */
static int feed_all(struct swi_stream *s, struct bytes in, size_t piece)
{
	int rc = SWI_OK;
	unsigned lent = 0;
	given_back = 0;
	for (size_t at = 0, i = 0; at < in.len && !rc; at += piece, i++) {
		size_t n = in.len - at < piece ? in.len - at : piece;
		if (i % 2) {
			lent++;
			rc = swi_stream_feed_lent(s, in.p + at, n, give_back, NULL);
		} else {
			rc = swi_stream_feed(s, in.p + at, n);
		}
	}
	if (!rc)
		rc = swi_stream_finish(s);
	swi_stream_free(s);
	assert_int_equal(given_back, lent);
	return rc;
}

/* in through the chain of spec into the sink k (or none); the first error. */
static int decode_spec(swi_ctx_t *ctx, const struct swi_stream_spec *spec, struct bytes in,
		       size_t piece, struct sink *k)
{
	struct swi_stream *s;
	int rc = swi_stream_new(ctx, "rootfs.img", spec, k ? collect : NULL, k, &s);
	return rc ? rc : feed_all(s, in, piece);
}

static int decode(swi_ctx_t *ctx, const char *codec, const char *sha, struct bytes in,
		  size_t piece, struct sink *k)
{
	return decode_spec(ctx, SPEC(codec, sha, NULL), in, piece, k);
}

/* Sizes of the pieces fed: single bytes, odd sizes, more than a chunk;
 * around the AES block size for decryption (single bytes are left to the
 * shorter inputs, where they cost less time). */
static const size_t plain_pieces[] = { 1, 4099, BIG_PIECE, 0 };
static const size_t aes_pieces[] = { 1, 15, 16, 17, 4099, BIG_PIECE, 0 };
static const size_t chain_pieces[] = { 15, 16, 17, 4099, BIG_PIECE, 0 };

/* in, decrypted with key (NULL: not encrypted) and decompressed with
 * codec, is want, fed in pieces of each size of the 0-terminated list. */
static void expect_decodes_with(struct fixture *f, const char *codec,
				const struct swi_aes_key *key, struct bytes in,
				const struct bytes *want, const size_t *pieces)
{
	char sha[65];
	sha256_hex(in.p, in.len, sha);
	for (size_t i = 0; pieces[i]; i++) {
		struct sink k = { .ctx = f->ctx };
		int rc = decode_spec(f->ctx, SPEC(codec, sha, key), in, pieces[i], &k);
		if (rc)
			fail_msg("%s%s in pieces of %zu: %s", key ? "encrypted " : "",
				 codec ? codec : "plain", pieces[i], swi_errmsg(f->ctx));
		assert_int_equal(k.out.len, want->len);
		if (want->len)
			assert_memory_equal(k.out.p, want->p, want->len);
		/* Large blocks however small the pieces fed in. */
		if (want->len > SWI_WORKER_CHUNK)
			assert_int_equal(k.largest, SWI_WORKER_CHUNK);
		free(k.out.p);
	}
}

static void expect_decodes(struct fixture *f, const char *codec, struct bytes in,
			   const struct bytes *want)
{
	expect_decodes_with(f, codec, NULL, in, want, plain_pieces);
}

/* A key of key_len bytes and an IV, both made from seed. */
static struct swi_aes_key make_key(size_t key_len, unsigned seed)
{
	struct swi_aes_key k = { .key_len = key_len };
	for (size_t i = 0; i < sizeof(k.key); i++)
		k.key[i] = (unsigned char)(seed * 31 + i * 7 + 1);
	for (size_t i = 0; i < sizeof(k.iv); i++)
		k.iv[i] = (unsigned char)(seed * 17 + i * 13);
	return k;
}

/* AES-CBC with PKCS#7 padding, as `openssl enc` and swugenerator write
 * it, through OpenSSL's encryption side. */
static struct bytes encrypt(struct bytes plain, const struct swi_aes_key *k)
{
	const EVP_CIPHER *cipher = k->key_len == 16 ? EVP_aes_128_cbc()
				   : k->key_len == 24 ? EVP_aes_192_cbc() : EVP_aes_256_cbc();
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	struct bytes out = { malloc(plain.len + 32), 0 };
	int n1 = 0, n2 = 0;
	assert_non_null(c);
	assert_non_null(out.p);
	assert_int_equal(EVP_EncryptInit_ex(c, cipher, NULL, k->key, k->iv), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out.p, &n1, plain.p, (int)plain.len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out.p + n1, &n2), 1);
	EVP_CIPHER_CTX_free(c);
	out.len = (size_t)n1 + (size_t)n2;
	return out;
}

/* ---- tests ---- */

static void test_gzip(void **state)
{
	struct fixture *f = *state;
	expect_decodes(f, "zlib", f->gz, &f->original);
}

static void test_zlib_format(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(f->zlib.p[0], 0x78); /* a zlib header, not gzip's 1f 8b */
	expect_decodes(f, "zlib", f->zlib, &f->original);
	expect_decodes(f, "true", f->zlib, &f->original); /* compressed = true */
}

static void test_zstd(void **state)
{
	struct fixture *f = *state;
	expect_decodes(f, "zstd", f->zst, &f->original);
}

static void test_xz(void **state)
{
	struct fixture *f = *state;
	expect_decodes(f, "xz", f->xz, &f->original);
}

/* Concatenated gzip members, zstd frames and xz streams decode to the
 * concatenated data, as gzip -dc, zstd -d and xz -d do. */
static void test_concatenated(void **state)
{
	struct fixture *f = *state;
	struct bytes twice = concat(f->original, f->original.p, f->original.len);
	struct bytes in[] = { f->gz, f->zst, f->xz };
	const char *codecs[] = { "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 3; i++) {
		struct bytes doubled = concat(in[i], in[i].p, in[i].len);
		expect_decodes(f, codecs[i], doubled, &twice);
		free(doubled.p);
	}
	free(twice.p);
}

/* A few bytes in that expand to many output buffers: the decoder must be
 * drained after the input is used up, not only while input remains. */
static void test_highly_compressible(void **state)
{
	struct fixture *f = *state;
	run("cd '%s' && head -c 9000001 /dev/zero > zeros && gzip -c zeros > zeros.gz && "
	    "zstd -q --no-check -c zeros > zeros.zst && xz -c zeros > zeros.xz", f->dir);
	struct bytes zeros = { calloc(1, 9000001), 9000001 };
	assert_non_null(zeros.p);
	const char *files[] = { "zeros.gz", "zeros.zst", "zeros.xz" };
	const char *codecs[] = { "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 3; i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
		struct bytes in = load(path);
		assert_true(in.len < 20000);
		expect_decodes(f, codecs[i], in, &zeros);
		free(in.p);
	}
	free(zeros.p);
}

/* A zstd frame whose decoded size is a whole number of the stream's output
 * buffers ends exactly as the buffer fills: still a complete stream. */
static void test_zstd_ending_on_a_full_output_buffer(void **state)
{
	(void)state;
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	const size_t len = 8 << 20;
	unsigned char *plain = calloc(1, len);
	assert_non_null(plain);
	size_t bound = ZSTD_compressBound(len);
	struct bytes z = { malloc(bound), 0 };
	z.len = ZSTD_compress(z.p, bound, plain, len, 3);
	assert_false(ZSTD_isError(z.len));
	struct sink k = { .ctx = ctx };
	assert_int_equal(decode(ctx, "zstd", NULL, z, 4096, &k), SWI_OK);
	assert_int_equal(k.out.len, len);
	free(k.out.p);
	free(z.p);
	free(plain);
	swi_ctx_free(ctx);
}

/* Uncompressed bytes fed in small pieces reach the sink in the worker's
 * large chunks, all of them, in order. */
static void test_passthrough_gathers_pieces(void **state)
{
	struct fixture *f = *state;
	char sha[65];
	sha256_hex(f->original.p, f->original.len, sha);
	struct sink k = { .ctx = f->ctx };
	struct swi_stream *s;
	assert_int_equal(swi_stream_new(f->ctx, "a", SPEC(NULL, sha, NULL), collect, &k, &s), SWI_OK);
	for (size_t at = 0; at < f->original.len; at += 1000) {
		size_t n = f->original.len - at < 1000 ? f->original.len - at : 1000;
		assert_int_equal(swi_stream_feed(s, f->original.p + at, n), SWI_OK);
	}
	assert_int_equal(swi_stream_finish(s), SWI_OK);
	assert_int_equal(k.calls, (f->original.len + SWI_WORKER_CHUNK - 1) / SWI_WORKER_CHUNK);
	assert_int_equal(k.largest, f->original.len < SWI_WORKER_CHUNK ? f->original.len
								      : SWI_WORKER_CHUNK);
	assert_int_equal(swi_stream_decoded_bytes(s), f->original.len);
	swi_stream_free(s);
	assert_memory_equal(k.out.p, f->original.p, f->original.len);
	free(k.out.p);

	/* An empty member hashes to the sha256 of nothing. */
	struct bytes empty = { (unsigned char *)"", 0 };
	assert_int_equal(decode(f->ctx, NULL,
				"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
				empty, 1, NULL),
			 SWI_OK);
}

static void test_sha256_mismatch(void **state)
{
	struct fixture *f = *state;
	char sha[65];
	sha256_hex(f->gz.p, f->gz.len, sha);
	sha[10] = sha[10] == '0' ? '1' : '0';
	char want[200];
	snprintf(want, sizeof(want), "rootfs.img: sha256 mismatch (expected %s, got ", sha);
	const char *codecs[] = { "zlib", NULL };
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(decode(f->ctx, codecs[i], sha, f->gz, 4096, NULL), SWI_EHASH);
		assert_non_null(strstr(swi_errmsg(f->ctx), want));
	}
}

static void test_sha256_upper_case(void **state)
{
	struct fixture *f = *state;
	char sha[65];
	sha256_hex(f->xz.p, f->xz.len, sha);
	for (char *p = sha; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 'a' + 'A');
	assert_int_equal(decode(f->ctx, "xz", sha, f->xz, BIG_PIECE, NULL), SWI_OK);
}

static void test_no_sha256_no_check(void **state)
{
	struct fixture *f = *state;
	struct sink k = { .ctx = f->ctx };
	assert_int_equal(decode(f->ctx, "zstd", NULL, f->zst, 777, &k), SWI_OK);
	assert_int_equal(k.out.len, f->original.len);
	free(k.out.p);
}

static void test_bad_sha256_text(void **state)
{
	struct fixture *f = *state;
	struct swi_stream *s;
	assert_int_equal(swi_stream_new(f->ctx, "m", SPEC(NULL, "abc", NULL), NULL, NULL, &s), SWI_EFORMAT);
	assert_null(s);
	assert_string_equal(swi_errmsg(f->ctx), "m: sha256 'abc' is not 64 hex digits");
	char bad[65];
	memset(bad, 'g', 64);
	bad[64] = '\0';
	assert_int_equal(swi_stream_new(f->ctx, "m", SPEC(NULL, bad, NULL), NULL, NULL, &s), SWI_EFORMAT);
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->gz, f->zlib, f->zst, f->xz };
	const char *codecs[] = { "zlib", "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 4; i++) {
		size_t cuts[] = { 0, 1, 10, in[i].len / 2, in[i].len - 1 };
		for (size_t c = 0; c < 5; c++) {
			struct bytes part = { in[i].p, cuts[c] };
			for (size_t piece = 1; piece <= BIG_PIECE; piece *= 1024) {
				int rc = decode(f->ctx, codecs[i], NULL, part, piece, NULL);
				if (rc != SWI_EFORMAT)
					fail_msg("%s cut at %zu: %d", codecs[i], cuts[c], rc);
				assert_non_null(strstr(swi_errmsg(f->ctx), "rootfs.img: "));
			}
		}
		/* Cut right before the end: the decoder has not seen it. */
		struct bytes part = { in[i].p, in[i].len - 1 };
		assert_int_equal(decode(f->ctx, codecs[i], NULL, part, BIG_PIECE, NULL),
				 SWI_EFORMAT);
		assert_string_equal(swi_errmsg(f->ctx),
				    "rootfs.img: compressed data is truncated");
	}
}

static void test_corrupt(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->gz, f->zlib, f->zst, f->xz };
	const char *codecs[] = { "zlib", "zlib", "zstd", "xz" };
	const char *names[] = { "zlib/gzip", "zlib/gzip", "zstd", "xz" };
	for (size_t i = 0; i < 4; i++) {
		struct bytes bad = concat(in[i], "", 0);
		bad.p[bad.len / 2] ^= 0x55;
		char want[64];
		snprintf(want, sizeof(want), "rootfs.img: corrupt %s data (", names[i]);
		char sha[65];
		sha256_hex(bad.p, bad.len, sha); /* the stored bytes are what was hashed */
		for (size_t piece = 1; piece <= BIG_PIECE; piece *= 1024) {
			int rc = decode(f->ctx, codecs[i], sha, bad, piece, NULL);
			if (rc != SWI_EFORMAT || !strstr(swi_errmsg(f->ctx), want))
				fail_msg("%s: %d %s", codecs[i], rc, swi_errmsg(f->ctx));
		}
		free(bad.p);
	}
	/* Not compressed data at all. */
	struct bytes text = { (unsigned char *)"hello, this is plain text", 25 };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(decode(f->ctx, codecs[i], NULL, text, 4, NULL), SWI_EFORMAT);
}

static void test_trailing_garbage(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->gz, f->zlib, f->zst, f->xz };
	const char *codecs[] = { "zlib", "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 4; i++) {
		struct bytes bad = concat(in[i], "garbage!", 8);
		for (size_t piece = 1; piece <= BIG_PIECE; piece *= 1024) {
			int rc = decode(f->ctx, codecs[i], NULL, bad, piece, NULL);
			if (rc != SWI_EFORMAT)
				fail_msg("%s + garbage in pieces of %zu: %d", codecs[i], piece, rc);
		}
		free(bad.p);
	}
	struct bytes bad = concat(f->gz, "garbage!", 8);
	assert_int_equal(decode(f->ctx, "zlib", NULL, bad, 3, NULL), SWI_EFORMAT);
	assert_string_equal(swi_errmsg(f->ctx),
			    "rootfs.img: trailing garbage after the compressed data");
	free(bad.p);
}

static void test_sink_failure_propagates(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->original, f->gz, f->zst, f->xz };
	const char *codecs[] = { NULL, "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 4; i++) {
		struct sink k = { .ctx = f->ctx, .fail_after = 300 * 1024 };
		assert_int_equal(decode(f->ctx, codecs[i], NULL, in[i], 5000, &k), SWI_EIO);
		assert_string_equal(swi_errmsg(f->ctx), "target.img: disk full");
		free(k.out.p);
	}
	/* A failure at the last flush, in finish, counts too. */
	struct sink k = { .ctx = f->ctx, .fail_after = f->original.len };
	assert_int_equal(decode(f->ctx, "xz", NULL, f->xz, BIG_PIECE, &k), SWI_EIO);
	free(k.out.p);
}

/* After the sink failed, the rest is only hashed: finish then tells the
 * expected bytes (SWI_OK) from others (SWI_EHASH), for every codec, with
 * lent pieces given back. */
static int fail_then_hash(swi_ctx_t *ctx, const struct swi_stream_spec *spec, struct bytes in)
{
	struct sink k = { .ctx = ctx, .fail_after = 1 };
	struct swi_stream *s;
	assert_int_equal(swi_stream_new(ctx, "rootfs.img", spec, collect, &k, &s), SWI_OK);
	int rc = SWI_OK;
	size_t at = 0, piece = 4099;
	unsigned lent = 0;
	given_back = 0;
	for (; at < in.len && rc == SWI_OK; at += piece) /* until the failure shows */
		rc = swi_stream_feed(s, in.p + at, in.len - at < piece ? in.len - at : piece);
	if (rc == SWI_OK)
		rc = swi_stream_finish(s);
	assert_int_equal(rc, SWI_EIO);
	swi_stream_hash_only(s);
	for (; at < in.len; at += piece, lent++)
		assert_int_equal(swi_stream_feed_lent(s, in.p + at, in.len - at < piece ? in.len - at : piece,
						      give_back, NULL), SWI_OK);
	rc = swi_stream_finish(s);
	swi_stream_free(s);
	assert_int_equal(given_back, lent);
	free(k.out.p);
	return rc;
}

static void test_hash_only_after_a_sink_failure(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->original, f->gz, f->zst, f->xz };
	const char *codecs[] = { NULL, "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 4; i++) {
		char sha[65];
		sha256_hex(in[i].p, in[i].len, sha);
		assert_int_equal(fail_then_hash(f->ctx, SPEC(codecs[i], sha, NULL), in[i]), SWI_OK);
		sha[0] = sha[0] == '0' ? '1' : '0';
		assert_int_equal(fail_then_hash(f->ctx, SPEC(codecs[i], sha, NULL), in[i]), SWI_EHASH);
		assert_non_null(strstr(swi_errmsg(f->ctx), "sha256 mismatch"));
	}
}


/* Uncompressed, unencrypted bytes lent to the stream reach the sink where
 * they lie: the fast path copies nothing. */
static void test_plain_bytes_are_not_copied(void **state)
{
	struct fixture *f = *state;
	struct sink k = { .ctx = f->ctx };
	struct swi_stream *s;
	assert_int_equal(swi_stream_new(f->ctx, "a", SPEC(NULL, NULL, NULL), collect, &k, &s),
			 SWI_OK);
	given_back = 0;
	assert_int_equal(swi_stream_feed_lent(s, f->original.p, 4096, give_back, NULL), SWI_OK);
	assert_int_equal(swi_stream_finish(s), SWI_OK);
	swi_stream_free(s);
	assert_int_equal(given_back, 1);
	assert_ptr_equal(k.last_buf, f->original.p);
	free(k.out.p);
}

/* Every AES key size SWUpdate takes: 128, 192 and 256 bits. */
static void test_aes_key_sizes(void **state)
{
	struct fixture *f = *state;
	const size_t sizes[] = { 16, 24, 32 };
	for (size_t i = 0; i < 3; i++) {
		struct swi_aes_key key = make_key(sizes[i], (unsigned)i);
		struct bytes part = { f->original.p, SWI_WORKER_CHUNK + 4101 };
		struct bytes enc = encrypt(part, &key);
		assert_int_equal(enc.len, (part.len / 16 + 1) * 16);
		/* single bytes once: the block handling does not depend on the size */
		expect_decodes_with(f, NULL, &key, enc, &part, i == 2 ? aes_pieces : chain_pieces);
		free(enc.p);
	}
}

/* Compressed first, then encrypted at build time: decrypted, then
 * decompressed here, for every codec. */
static void test_aes_then_decompress(void **state)
{
	struct fixture *f = *state;
	struct swi_aes_key key = make_key(32, 3);
	struct bytes in[] = { f->gz, f->zlib, f->zst, f->xz };
	const char *codecs[] = { "zlib", "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 4; i++) {
		struct bytes enc = encrypt(in[i], &key);
		expect_decodes_with(f, codecs[i], &key, enc, &f->original, chain_pieces);
		free(enc.p);
	}
}

/* Plaintexts of a whole number of blocks end in a full block of padding;
 * an empty one is that block alone. */
static void test_aes_whole_blocks(void **state)
{
	struct fixture *f = *state;
	struct swi_aes_key key = make_key(16, 4);
	const size_t lens[] = { 0, 16, 4096, SWI_WORKER_CHUNK };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		struct bytes plain = { f->original.p, lens[i] };
		struct bytes enc = encrypt(plain, &key);
		assert_int_equal(enc.len, lens[i] + 16);
		expect_decodes_with(f, NULL, &key, enc, &plain, aes_pieces);
		free(enc.p);
	}
}

/* An entry's ivt replaces the key file's IV. With the wrong IV, CBC
 * garbles only the first block and the padding still checks out: the IV
 * must be the one the builder used, which is why the ivt matters. */
static void test_aes_ivt(void **state)
{
	struct fixture *f = *state;
	struct swi_aes_key file_key = make_key(32, 5), entry_key;
	assert_int_equal(swi_aes_entry_key(f->ctx, "rootfs.img", "00112233445566778899AABBCCDDEEFF",
					   &file_key, &entry_key), SWI_OK);
	assert_memory_equal(entry_key.key, file_key.key, 32);
	assert_int_equal(entry_key.key_len, 32);
	assert_int_equal(entry_key.iv[0], 0x00);
	assert_int_equal(entry_key.iv[15], 0xff);
	struct bytes enc = encrypt(f->original, &entry_key);
	expect_decodes_with(f, NULL, &entry_key, enc, &f->original, chain_pieces);

	struct sink k = { .ctx = f->ctx };
	assert_int_equal(decode_spec(f->ctx, SPEC(NULL, NULL, &file_key), enc, 4099, &k), SWI_OK);
	assert_int_equal(k.out.len, f->original.len);
	assert_memory_not_equal(k.out.p, f->original.p, 16);
	assert_memory_equal(k.out.p + 16, f->original.p + 16, f->original.len - 16);
	free(k.out.p);

	/* No ivt: the key file's key and IV as they are. */
	assert_int_equal(swi_aes_entry_key(f->ctx, "rootfs.img", NULL, &file_key, &entry_key),
			 SWI_OK);
	assert_memory_equal(&entry_key, &file_key, sizeof(file_key));
	free(enc.p);
}

/* A wrong key shows at the end, in the padding; with compression, in the
 * decompressor, whose message then points at the key too. */
static void test_aes_wrong_key(void **state)
{
	struct fixture *f = *state;
	struct swi_aes_key key = make_key(32, 6), wrong = make_key(32, 7), short_key = make_key(16, 6);
	struct bytes part = { f->original.p, 40000 };
	struct bytes enc = encrypt(part, &key);
	char sha[65];
	sha256_hex(enc.p, enc.len, sha);
	const struct swi_aes_key *bad[] = { &wrong, &short_key };
	for (size_t b = 0; b < 2; b++)
		for (size_t piece = 1; piece <= BIG_PIECE; piece *= 1024) {
			struct sink k = { .ctx = f->ctx };
			assert_int_equal(decode_spec(f->ctx, SPEC(NULL, sha, bad[b]), enc, piece, &k),
					 SWI_EFORMAT);
			assert_string_equal(swi_errmsg(f->ctx),
					    "rootfs.img: decryption failed: bad padding (wrong key?)");
			free(k.out.p);
		}
	free(enc.p);

	struct bytes in[] = { f->gz, f->zst, f->xz };
	const char *codecs[] = { "zlib", "zstd", "xz" };
	for (size_t i = 0; i < 3; i++) {
		enc = encrypt(in[i], &key);
		for (size_t piece = 1024; piece <= BIG_PIECE; piece *= 1024) {
			int rc = decode_spec(f->ctx, SPEC(codecs[i], NULL, &wrong), enc, piece, NULL);
			if (rc != SWI_EFORMAT ||
			    !strstr(swi_errmsg(f->ctx), "; the data was decrypted first (wrong key?)"))
				fail_msg("%s with a wrong key: %d %s", codecs[i], rc, swi_errmsg(f->ctx));
		}
		free(enc.p);
	}
}

/* Ciphertext that is not a whole number of blocks, none at all, or one
 * block short. */
static void test_aes_truncated(void **state)
{
	struct fixture *f = *state;
	struct swi_aes_key key = make_key(24, 8);
	struct bytes plain = { f->original.p, 40000 };
	struct bytes enc = encrypt(plain, &key);
	const size_t cuts[] = { 1, 15, 17, enc.len - 15, enc.len - 1 };
	for (size_t c = 0; c < sizeof(cuts) / sizeof(cuts[0]); c++) {
		struct bytes part = { enc.p, cuts[c] };
		char want[160];
		snprintf(want, sizeof(want), "rootfs.img: decryption failed: %zu bytes are not a whole "
			 "number of 16-byte AES blocks (truncated?)", cuts[c]);
		for (size_t piece = 1; piece <= BIG_PIECE; piece *= 1024) {
			assert_int_equal(decode_spec(f->ctx, SPEC(NULL, NULL, &key), part, piece, NULL),
					 SWI_EFORMAT);
			assert_string_equal(swi_errmsg(f->ctx), want);
		}
	}
	struct bytes none = { enc.p, 0 };
	assert_int_equal(decode_spec(f->ctx, SPEC(NULL, NULL, &key), none, 1, NULL), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx),
			       "rootfs.img: decryption failed: the encrypted data is empty"));
	/* A block short: the last block left is data, not padding. */
	struct bytes short_by_a_block = { enc.p, enc.len - 16 };
	assert_int_equal(decode_spec(f->ctx, SPEC(NULL, NULL, &key), short_by_a_block, 4099, NULL),
			 SWI_EFORMAT);
	assert_string_equal(swi_errmsg(f->ctx),
			    "rootfs.img: decryption failed: bad padding (wrong key?)");
	/* With the sha256 of the whole: the stored bytes are not the ones
	 * signed, which says more than the padding. */
	char sha[65];
	sha256_hex(enc.p, enc.len, sha);
	struct bytes part = { enc.p, enc.len - 1 };
	assert_int_equal(decode_spec(f->ctx, SPEC(NULL, sha, &key), part, 4099, NULL), SWI_EHASH);
	assert_non_null(strstr(swi_errmsg(f->ctx), "rootfs.img: sha256 mismatch"));
	free(enc.p);
}

/* The sha256 covers the bytes as stored: the encrypted ones. */
static void test_aes_hash_covers_stored_bytes(void **state)
{
	struct fixture *f = *state;
	struct swi_aes_key key = make_key(32, 9);
	struct bytes enc = encrypt(f->zst, &key);
	char sha[65];
	sha256_hex(enc.p, enc.len, sha);
	assert_int_equal(decode_spec(f->ctx, SPEC("zstd", sha, &key), enc, 4099, NULL), SWI_OK);
	sha256_hex(f->zst.p, f->zst.len, sha);
	assert_int_equal(decode_spec(f->ctx, SPEC("zstd", sha, &key), enc, 4099, NULL), SWI_EHASH);
	sha256_hex(f->original.p, f->original.len, sha);
	assert_int_equal(decode_spec(f->ctx, SPEC("zstd", sha, &key), enc, 4099, NULL), SWI_EHASH);
	free(enc.p);
}

/* A sink failure stops decryption too, and the rest is still hashed. */
static void test_aes_sink_failure(void **state)
{
	struct fixture *f = *state;
	struct swi_aes_key key = make_key(32, 10);
	struct bytes in[] = { f->original, f->xz };
	const char *codecs[] = { NULL, "xz" };
	for (size_t i = 0; i < 2; i++) {
		struct bytes enc = encrypt(in[i], &key);
		struct sink k = { .ctx = f->ctx, .fail_after = 300 * 1024 };
		assert_int_equal(decode_spec(f->ctx, SPEC(codecs[i], NULL, &key), enc, 5000, &k),
				 SWI_EIO);
		assert_string_equal(swi_errmsg(f->ctx), "target.img: disk full");
		free(k.out.p);
		char sha[65];
		sha256_hex(enc.p, enc.len, sha);
		assert_int_equal(fail_then_hash(f->ctx, SPEC(codecs[i], sha, &key), enc), SWI_OK);
		sha[0] = sha[0] == '0' ? '1' : '0';
		assert_int_equal(fail_then_hash(f->ctx, SPEC(codecs[i], sha, &key), enc), SWI_EHASH);
		free(enc.p);
	}
}

/* A whole member in memory (sw-description) through the same chain. */
static void test_decode_buffer(void **state)
{
	struct fixture *f = *state;
	static const char text[] = "software = { version = \"1.0\"; };\n";
	struct swi_aes_key key = make_key(32, 11), wrong = make_key(32, 12);
	struct bytes plain = { (unsigned char *)text, sizeof(text) - 1 };
	struct bytes enc = encrypt(plain, &key);
	char *out = NULL;
	size_t len = 0;
	assert_int_equal(swi_stream_decode_buffer(f->ctx, "sw-description", SPEC(NULL, NULL, &key),
						  enc.p, enc.len, 1 << 20, &out, &len), SWI_OK);
	assert_int_equal(len, plain.len);
	assert_string_equal(out, text);
	free(out);
	assert_int_equal(swi_stream_decode_buffer(f->ctx, "sw-description", SPEC(NULL, NULL, &key),
						  enc.p, enc.len, 10, &out, &len), SWI_EFORMAT);
	assert_string_equal(swi_errmsg(f->ctx), "sw-description: larger than 10 bytes once decoded");
	assert_int_equal(swi_stream_decode_buffer(f->ctx, "sw-description", SPEC(NULL, NULL, &wrong),
						  enc.p, enc.len, 1 << 20, &out, &len), SWI_EFORMAT);
	assert_string_equal(swi_errmsg(f->ctx),
			    "sw-description: decryption failed: bad padding (wrong key?)");
	free(enc.p);
	/* Nothing to decode: the bytes as they are. */
	assert_int_equal(swi_stream_decode_buffer(f->ctx, "m", SPEC(NULL, NULL, NULL), "", 0, 10,
						  &out, &len), SWI_OK);
	assert_int_equal(len, 0);
	assert_string_equal(out, "");
	free(out);
}

static void test_dry_run_counts(void **state)
{
	struct fixture *f = *state;
	struct swi_stream *s;
	assert_int_equal(swi_stream_new(f->ctx, "m", SPEC("zstd", NULL, NULL), NULL, NULL, &s), SWI_OK);
	assert_int_equal(swi_stream_feed(s, f->zst.p, f->zst.len), SWI_OK);
	assert_int_equal(swi_stream_finish(s), SWI_OK);
	assert_int_equal(swi_stream_decoded_bytes(s), f->original.len);
	swi_stream_free(s);

	struct swi_aes_key key = make_key(16, 13);
	struct bytes enc = encrypt(f->zst, &key);
	assert_int_equal(swi_stream_new(f->ctx, "m", SPEC("zstd", NULL, &key), NULL, NULL, &s),
			 SWI_OK);
	assert_int_equal(swi_stream_feed(s, enc.p, enc.len), SWI_OK);
	assert_int_equal(swi_stream_finish(s), SWI_OK);
	assert_int_equal(swi_stream_decoded_bytes(s), f->original.len);
	swi_stream_free(s);
	free(enc.p);
}

static void test_unknown_compression(void **state)
{
	struct fixture *f = *state;
	struct swi_stream *s;
	assert_int_equal(swi_stream_new(f->ctx, "m", SPEC("lz4", NULL, NULL), NULL, NULL, &s),
			 SWI_EUNSUPPORTED);
	assert_null(s);
	assert_string_equal(swi_errmsg(f->ctx), "m: unknown compression 'lz4' (zlib, zstd or xz)");
	assert_int_equal(swi_stream_new(f->ctx, "m", SPEC("", NULL, NULL), NULL, NULL, &s), SWI_EUNSUPPORTED);
	assert_int_equal(swi_stream_new(f->ctx, NULL, SPEC(NULL, NULL, NULL), NULL, NULL, &s), SWI_EINVAL);
	swi_stream_free(NULL);
}

/* ---- pull streams: main reads the decoded bytes itself ---- */

/* A reader on the stream's last worker, collecting into a sink; s is set
 * once the stream exists, before the first feed (as the core does). */
struct reader {
	struct swi_stream *s;
	struct sink k;
	size_t stop_after;   /* return SWI_OK once this many bytes came (0: to the end) */
	size_t fail_after;   /* return SWI_EFORMAT once this many bytes came (0: never) */
	int pull_rc;         /* the last swi_stream_pull()'s result */
	size_t blocks;
};

static int read_all(void *user)
{
	struct reader *r = user;
	for (;;) {
		const void *buf;
		size_t len;
		if ((r->pull_rc = swi_stream_pull(r->s, &buf, &len)))
			return r->pull_rc;
		if (len == 0)
			return SWI_OK;
		r->blocks++;
		int rc = collect(&r->k, buf, len);
		if (rc)
			return rc;
		if (r->stop_after && r->k.out.len >= r->stop_after)
			return SWI_OK;
		if (r->fail_after && r->k.out.len >= r->fail_after)
			return swi_fail(r->k.ctx, SWI_EFORMAT, "files.tar: entry '../x' leaves the "
					"destination");
	}
}

/* decode_spec() for a pull stream. */
static int pull_spec(swi_ctx_t *ctx, const struct swi_stream_spec *spec, struct bytes in,
		     size_t piece, struct reader *r)
{
	r->k.ctx = ctx;
	int rc = swi_stream_new_pull(ctx, "files.tar", spec, read_all, r, &r->s);
	return rc ? rc : feed_all(r->s, in, piece);
}

static void expect_pulls(struct fixture *f, const char *codec, const struct swi_aes_key *key,
			 struct bytes in)
{
	static const size_t pieces[] = { 17, 4099, BIG_PIECE };
	char sha[65];
	sha256_hex(in.p, in.len, sha);
	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		struct reader r = { 0 };
		int rc = pull_spec(f->ctx, SPEC(codec, sha, key), in, pieces[i], &r);
		if (rc)
			fail_msg("pulling %s%s in pieces of %zu: %s", key ? "encrypted " : "",
				 codec ? codec : "plain", pieces[i], swi_errmsg(f->ctx));
		assert_int_equal(r.k.out.len, f->original.len);
		assert_memory_equal(r.k.out.p, f->original.p, f->original.len);
		free(r.k.out.p);
	}
}

static void test_pull_every_chain(void **state)
{
	struct fixture *f = *state;
	expect_pulls(f, NULL, NULL, f->original);
	expect_pulls(f, "zlib", NULL, f->gz);
	expect_pulls(f, "zstd", NULL, f->zst);
	expect_pulls(f, "xz", NULL, f->xz);
	struct swi_aes_key key = make_key(32, 5);
	struct bytes enc = encrypt(f->original, &key);
	expect_pulls(f, NULL, &key, enc);
	free(enc.p);
	enc = encrypt(f->xz, &key);
	expect_pulls(f, "xz", &key, enc);
	free(enc.p);
}

/* Single bytes lent one by one arrive as many small blocks, in order. */
static void test_pull_many_small_blocks(void **state)
{
	struct fixture *f = *state;
	struct bytes in = { f->original.p, 5000 };
	struct reader r = { 0 };
	assert_int_equal(pull_spec(f->ctx, SPEC(NULL, NULL, NULL), in, 1, &r), SWI_OK);
	assert_int_equal(r.k.out.len, in.len);
	assert_memory_equal(r.k.out.p, in.p, in.len);
	assert_true(r.blocks > 2500); /* the lent bytes, one block each */
	free(r.k.out.p);
}

/* Pulls each input of in (decoded with codecs[i]) with a reader like
 * proto, the hash right or (wrong_hash) not; each gives want. */
static void pull_each(struct fixture *f, const struct bytes *in, const char *const *codecs,
		      size_t n, struct reader proto, bool wrong_hash, int want)
{
	for (size_t i = 0; i < n; i++) {
		char sha[65];
		sha256_hex(in[i].p, in[i].len, sha);
		if (wrong_hash)
			sha[0] = sha[0] == '0' ? '1' : '0';
		struct reader r = proto;
		assert_int_equal(pull_spec(f->ctx, SPEC(codecs[i], sha, NULL), in[i], 4099, &r), want);
		assert_true(r.k.out.len < f->original.len);
		free(r.k.out.p);
	}
}

/* main may stop reading before the end: the rest is still hashed, so a
 * wrong member fails all the same. */
static void test_pull_early_return(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->original, f->zst };
	const char *const codecs[] = { NULL, "zstd" };
	pull_each(f, in, codecs, 2, (struct reader){ .stop_after = 1 }, false, SWI_OK);
	pull_each(f, in, codecs, 2, (struct reader){ .stop_after = 1 }, true, SWI_EHASH);
	assert_non_null(strstr(swi_errmsg(f->ctx), "sha256 mismatch"));
}

/* main's error is what feeding or finishing returns, with its message. */
static void test_pull_error_in_main(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->original, f->gz, f->xz };
	const char *const codecs[] = { NULL, "zlib", "xz" };
	pull_each(f, in, codecs, 3, (struct reader){ .fail_after = 1 }, false, SWI_EFORMAT);
	assert_string_equal(swi_errmsg(f->ctx), "files.tar: entry '../x' leaves the destination");
}

/* Freed while main waits for more (the install failed elsewhere): main
 * wakes with an error, and the stream's worker threads end. */
static void test_pull_abort_while_main_waits(void **state)
{
	struct fixture *f = *state;
	struct bytes in[] = { f->original, f->zst };
	const char *codecs[] = { NULL, "zstd" };
	for (size_t i = 0; i < 2; i++) {
		struct reader r = { .k.ctx = f->ctx };
		assert_int_equal(swi_stream_new_pull(f->ctx, "files.tar", SPEC(codecs[i], NULL, NULL),
						     read_all, &r, &r.s), SWI_OK);
		/* Half the member, then nothing more comes. */
		assert_int_equal(swi_stream_feed(r.s, in[i].p, in[i].len / 2), SWI_OK);
		for (int n = 0; n < 300 && r.k.out.len == 0; n++)
			usleep(10 * 1000);
		assert_true(r.k.out.len > 0);
		swi_stream_free(r.s);
		assert_int_equal(r.pull_rc, SWI_ECANCELED);
		free(r.k.out.p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zlib_format, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zstd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_xz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concatenated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_highly_compressible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passthrough_gathers_pieces, setup, teardown),
		cmocka_unit_test(test_zstd_ending_on_a_full_output_buffer),
		cmocka_unit_test_setup_teardown(test_sha256_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sha256_upper_case, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_sha256_no_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_sha256_text, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trailing_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sink_failure_propagates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_only_after_a_sink_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_bytes_are_not_copied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_key_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_then_decompress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_whole_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_ivt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_hash_covers_stored_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aes_sink_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decode_buffer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_compression, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_every_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_many_small_blocks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_early_return, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_error_in_main, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pull_abort_while_main_waits, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
