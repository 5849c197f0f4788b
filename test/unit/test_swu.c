/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/swu.c: archives are made at test time with the cpio CLI
 * (newc and crc) or crafted byte by byte for what cpio will not write. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "swu.h"
#include "testutil.h"

/* Every test runs twice: reading on the caller's thread, then with the
 * read-ahead thread (main() sets this between the two runs). */
static enum swi_swu_mode mode = SWI_SWU_INLINE;

/* ---- helpers: temp dir, files, cpio ---- */

struct fixture {
	swi_ctx_t *ctx;
	char dir[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || swi_ctx_new(&f->ctx))
		return -1;
	strcpy(f->dir, "/tmp/test_swu.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = remove_tree(f->dir);
	swi_ctx_free(f->ctx);
	free(f);
	return rc;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

/* Archives the listed names (relative to cwd_dir) into out with `cpio -o`. */
static void make_cpio(const char *cwd_dir, const char *format, const char *names,
		      const char *out)
{
	run("cd '%s' && printf '%s' | cpio -o --quiet -H %s > '%s'", cwd_dir, names, format,
	    out);
}

struct bytes {
	unsigned char *p;
	size_t len;
};

static struct bytes load(const char *path)
{
	struct bytes b = { 0 };
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	b.len = (size_t)ftell(fp);
	rewind(fp);
	b.p = malloc(b.len ? b.len : 1);
	assert_non_null(b.p);
	assert_int_equal(fread(b.p, 1, b.len, fp), b.len);
	fclose(fp);
	return b;
}

static size_t find(const struct bytes *b, const char *needle)
{
	void *at = memmem(b->p, b->len, needle, strlen(needle));
	assert_non_null(at);
	return (size_t)((unsigned char *)at - b->p);
}

/* ---- sources ---- */

/* A memory source: whole requests, or 1..7 bytes at a time like a pipe,
 * optionally failing with EIO once fail_at bytes were delivered. */
struct mem_src {
	const unsigned char *data;
	size_t len, pos;
	int short_reads;
	unsigned step;
	size_t fail_at;
};

static ssize_t mem_read(void *user, void *buf, size_t len)
{
	struct mem_src *s = user;
	if (s->fail_at && s->pos >= s->fail_at) {
		errno = EIO;
		return -1;
	}
	size_t n = s->len - s->pos;
	if (n > len)
		n = len;
	if (s->short_reads && n > 1 + s->step % 7)
		n = 1 + s->step % 7;
	s->step++;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	return (ssize_t)n;
}

static ssize_t fd_read(void *user, void *buf, size_t len)
{
	return read(*(int *)user, buf, len);
}

/* ---- reading a whole archive ---- */

#define MAX_MEMBERS 8

struct got {
	size_t count;
	char *names[MAX_MEMBERS];
	struct bytes data[MAX_MEMBERS];
};

static void got_free(struct got *g)
{
	for (size_t i = 0; i < g->count; i++) {
		free(g->names[i]);
		free(g->data[i].p);
	}
	memset(g, 0, sizeof(*g));
}

/* Reads every member to the end; returns the first error, or SWI_OK once
 * SWI_END was reached. */
static int read_archive(swi_ctx_t *ctx, swi_read_fn fn, void *user, size_t bufsize,
			struct got *g)
{
	struct swi_swu *r;
	memset(g, 0, sizeof(*g));
	int rc = bufsize ? swi_swu_open_sized(ctx, fn, user, mode, bufsize, &r)
			 : swi_swu_open(ctx, fn, user, mode, &r);
	if (rc)
		return rc;
	struct swi_member m;
	while ((rc = swi_swu_next(r, &m)) == SWI_OK) {
		assert_true(g->count < MAX_MEMBERS);
		struct bytes *d = &g->data[g->count];
		g->names[g->count++] = strdup(m.name);
		d->p = malloc(m.size + 1);
		const void *buf;
		size_t len;
		while ((rc = swi_swu_read(r, &buf, &len)) == SWI_OK && len) {
			assert_true(d->len + len <= m.size);
			memcpy(d->p + d->len, buf, len);
			d->len += len;
		}
		if (rc)
			break;
		assert_int_equal(d->len, m.size);
	}
	/* Once ended or failed, the reader stays so. */
	assert_int_equal(swi_swu_next(r, &m), rc);
	swi_swu_close(r);
	return rc == SWI_END ? SWI_OK : rc;
}

static int read_bytes(swi_ctx_t *ctx, const struct bytes *b, int short_reads, size_t bufsize,
		      struct got *g)
{
	struct mem_src src = { .data = b->p, .len = b->len, .short_reads = short_reads };
	return read_archive(ctx, mem_read, &src, bufsize, g);
}

/* ---- the standard test image ---- */

static const char sw_description[] = "software = { version = \"1.0\"; };\n";

#define PAYLOAD_LEN 100003
static unsigned char payload[PAYLOAD_LEN];

static void make_payload(void)
{
	unsigned x = 12345;
	for (size_t i = 0; i < PAYLOAD_LEN; i++) {
		x = x * 1103515245 + 12345;
		payload[i] = (unsigned char)(x >> 16);
	}
	memcpy(payload + 5000, "MARKER", 6);
}

/* sw-description, rootfs.img (100003 bytes), empty, odd.txt: in that order. */
static void make_image(const struct fixture *f, const char *format, const char *out)
{
	char in[128];
	snprintf(in, sizeof(in), "%s/in", f->dir);
	mkdir(in, 0700);
	make_payload();
	write_file(in, "sw-description", sw_description, strlen(sw_description));
	write_file(in, "rootfs.img", payload, PAYLOAD_LEN);
	write_file(in, "empty", "", 0);
	write_file(in, "odd.txt", "abc", 3);
	make_cpio(in, format, "sw-description\\nrootfs.img\\nempty\\nodd.txt\\n", out);
}

static void check_image_members(const struct got *g)
{
	assert_int_equal(g->count, 4);
	assert_string_equal(g->names[0], "sw-description");
	assert_string_equal(g->names[1], "rootfs.img");
	assert_string_equal(g->names[2], "empty");
	assert_string_equal(g->names[3], "odd.txt");
	assert_int_equal(g->data[0].len, strlen(sw_description));
	assert_memory_equal(g->data[0].p, sw_description, strlen(sw_description));
	assert_int_equal(g->data[1].len, PAYLOAD_LEN);
	assert_memory_equal(g->data[1].p, payload, PAYLOAD_LEN);
	assert_int_equal(g->data[2].len, 0);
	assert_int_equal(g->data[3].len, 3);
	assert_memory_equal(g->data[3].p, "abc", 3);
}

static void check_format_reads(void **state, const char *format)
{
	struct fixture *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	make_image(f, format, path);

	struct got g;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(read_archive(f->ctx, fd_read, &fd, 0, &g), SWI_OK);
	close(fd);
	check_image_members(&g);
	got_free(&g);

	struct bytes b = load(path);
	assert_int_equal(read_bytes(f->ctx, &b, 1, 0, &g), SWI_OK);
	check_image_members(&g);
	got_free(&g);
	/* Small buffers: headers straddle buffers more often. */
	assert_int_equal(read_bytes(f->ctx, &b, 1, 256, &g), SWI_OK);
	check_image_members(&g);
	got_free(&g);
	free(b.p);
}

static void test_newc_members(void **state)
{
	check_format_reads(state, "newc");
}

static void test_crc_members(void **state)
{
	check_format_reads(state, "crc");
}

/* swi_swu_next() without reading a member drains it, checking its sum. */
static void check_skip_members(void **state, const char *format, int expected)
{
	struct fixture *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	make_image(f, format, path);
	struct bytes b = load(path);
	if (expected != SWI_OK)
		b.p[find(&b, "MARKER")] ^= 0x01;
	struct mem_src src = { .data = b.p, .len = b.len, .short_reads = 1 };
	struct swi_swu *r;
	struct swi_member m;
	assert_int_equal(swi_swu_open(f->ctx, mem_read, &src, mode, &r), SWI_OK);
	int rc;
	unsigned n = 0;
	while ((rc = swi_swu_next(r, &m)) == SWI_OK)
		n++;
	swi_swu_close(r);
	if (expected == SWI_OK) {
		assert_int_equal(rc, SWI_END);
		assert_int_equal(n, 4);
	} else {
		assert_int_equal(rc, expected);
		assert_non_null(strstr(swi_errmsg(f->ctx), "rootfs.img: cpio checksum mismatch"));
	}
	free(b.p);
}

static void test_skip_members(void **state)
{
	check_skip_members(state, "crc", SWI_OK);
	check_skip_members(state, "newc", SWI_OK);
	check_skip_members(state, "crc", SWI_EHASH);
}

static void test_crc_corrupt_data(void **state)
{
	struct fixture *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	make_image(f, "crc", path);
	struct bytes b = load(path);
	b.p[find(&b, "MARKER")] ^= 0x40;
	struct got g;
	for (int short_reads = 0; short_reads <= 1; short_reads++) {
		assert_int_equal(read_bytes(f->ctx, &b, short_reads, 0, &g), SWI_EHASH);
		assert_int_equal(g.count, 2); /* failed at rootfs.img's end */
		assert_non_null(strstr(swi_errmsg(f->ctx),
				       "rootfs.img: cpio checksum mismatch (expected "));
		got_free(&g);
	}
	free(b.p);
}

/* newc has no sum: a flipped byte passes here (the sha256 catches it). */
static void test_newc_corrupt_data_passes(void **state)
{
	struct fixture *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	make_image(f, "newc", path);
	struct bytes b = load(path);
	b.p[find(&b, "MARKER")] ^= 0x40;
	struct got g;
	assert_int_equal(read_bytes(f->ctx, &b, 0, 0, &g), SWI_OK);
	assert_int_equal(g.count, 4);
	assert_int_equal(g.data[1].p[5000], 'M' ^ 0x40);
	got_free(&g);
	free(b.p);
}

/* Every cut before the end of the trailer's header fails as malformed;
 * cutting right after it, or adding padding, is accepted. */
static void check_truncations(void **state, const char *format)
{
	struct fixture *f = *state;
	char in[128], path[128];
	snprintf(in, sizeof(in), "%s/small", f->dir);
	snprintf(path, sizeof(path), "%s/small.swu", f->dir);
	mkdir(in, 0700);
	write_file(in, "sw-description", "abcdefghij", 10);
	write_file(in, "b", "xy", 2);
	make_cpio(in, format, "sw-description\\nb\\n", path);
	struct bytes b = load(path);
	/* The trailer's header and name: 110 + "TRAILER!!!\0" padded to 124. */
	size_t trailer_end = find(&b, "TRAILER!!!") - 110 + 124;
	size_t data_start = find(&b, "abcdefghij");
	struct got g;
	for (size_t cut = 0; cut < trailer_end; cut++) {
		for (int short_reads = 0; short_reads <= 1; short_reads++) {
			struct bytes part = { b.p, cut };
			int rc = read_bytes(f->ctx, &part, short_reads, 0, &g);
			if (rc != SWI_EFORMAT)
				fail_msg("cut at %zu: %d (%s)", cut, rc, swi_errmsg(f->ctx));
			if (cut > data_start && cut < data_start + 10)
				assert_non_null(strstr(swi_errmsg(f->ctx),
						       "sw-description: truncated"));
			got_free(&g);
		}
	}
	struct bytes exact = { b.p, trailer_end };
	assert_int_equal(read_bytes(f->ctx, &exact, 0, 0, &g), SWI_OK);
	assert_int_equal(g.count, 2);
	got_free(&g);
	assert_true(b.len > trailer_end); /* cpio pads to 512 bytes */
	assert_int_equal(read_bytes(f->ctx, &b, 1, 0, &g), SWI_OK);
	got_free(&g);
	free(b.p);
}

static void test_truncated(void **state)
{
	check_truncations(state, "newc");
	check_truncations(state, "crc");
}

static void expect_format_error(swi_ctx_t *ctx, const void *data, size_t len,
				const char *message_part)
{
	struct bytes b = { (unsigned char *)data, len };
	struct got g;
	assert_int_equal(read_bytes(ctx, &b, 0, 0, &g), SWI_EFORMAT);
	if (message_part && !strstr(swi_errmsg(ctx), message_part))
		fail_msg("'%s' does not contain '%s'", swi_errmsg(ctx), message_part);
	got_free(&g);
}

static void test_garbage_and_empty(void **state)
{
	struct fixture *f = *state;
	expect_format_error(f->ctx, "", 0, "empty");
	static const char garbage[] = "this is not a cpio archive at all, not even close........";
	expect_format_error(f->ctx, garbage, sizeof(garbage), "not a valid cpio archive");
	unsigned char noise[4096];
	for (size_t i = 0; i < sizeof(noise); i++)
		noise[i] = (unsigned char)(i * 7 + 3);
	expect_format_error(f->ctx, noise, sizeof(noise), NULL);
}

/* odc and binary cpio parse in libarchive but are not .swu formats. */
static void test_other_cpio_formats(void **state)
{
	struct fixture *f = *state;
	char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	const char *formats[] = { "odc", "bin" };
	for (size_t i = 0; i < 2; i++) {
		make_image(f, formats[i], path);
		struct bytes b = load(path);
		expect_format_error(f->ctx, b.p, b.len, "not a newc (070701) or crc (070702)");
		free(b.p);
	}
}

static void test_bad_names_from_cpio(void **state)
{
	struct fixture *f = *state;
	char in[128], path[128];
	snprintf(in, sizeof(in), "%s/n/sub/a", f->dir);
	run("mkdir -p '%s'", in);
	snprintf(in, sizeof(in), "%s/n/sub", f->dir);
	write_file(in, "a/b", "1", 1);
	write_file(in, "x", "2", 1);
	snprintf(path, sizeof(path), "%s/names.swu", f->dir);

	make_cpio(in, "newc", "a/b\\n", path);
	struct bytes b = load(path);
	expect_format_error(f->ctx, b.p, b.len, "a/b: member name contains '/'");
	free(b.p);

	make_cpio(in, "crc", "../sub/x\\n", path);
	b = load(path);
	expect_format_error(f->ctx, b.p, b.len, "../sub/x: member name");
	free(b.p);

	make_cpio(in, "newc", "a\\n", path);
	b = load(path);
	expect_format_error(f->ctx, b.p, b.len, "a: member is not a regular file");
	free(b.p);
}

/* ---- crafted archives ---- */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void pad4(struct buf *b)
{
	while (b->len % 4)
		put(b, "", 1);
}

static uint32_t sum_of(const void *data, size_t len)
{
	uint32_t s = 0;
	for (size_t i = 0; i < len; i++)
		s += ((const unsigned char *)data)[i];
	return s;
}

/* A header alone, its fields as given, whatever they say. */
static void put_header(struct buf *b, const char *magic, unsigned mode, unsigned nlink,
		       unsigned filesize, unsigned namesize, uint32_t check)
{
	char hdr[111];
	snprintf(hdr, sizeof(hdr), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		 magic, 1u, mode, 0u, 0u, nlink, 0u, filesize, 0u, 0u, 0u, 0u, namesize,
		 (unsigned)check);
	put(b, hdr, 110);
}

/* One newc/crc member; namelen counts the name's bytes without the final
 * NUL, so names with NULs inside can be made. */
static void put_member(struct buf *b, int crc, const char *name, size_t namelen,
		       unsigned mode, const void *data, size_t len, uint32_t check)
{
	put_header(b, crc ? "070702" : "070701", mode, 1, (unsigned)len, (unsigned)namelen + 1,
		   crc ? check : 0u);
	put(b, name, namelen);
	put(b, "", 1);
	pad4(b);
	put(b, data, len);
	pad4(b);
}

static void put_file(struct buf *b, int crc, const char *name, const void *data, size_t len)
{
	put_member(b, crc, name, strlen(name), 0100644, data, len, sum_of(data, len));
}

static void put_trailer(struct buf *b, int crc)
{
	put_member(b, crc, "TRAILER!!!", 10, 0, "", 0, 0);
}

static void test_crafted_archive_reads(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	put_file(&b, 1, "sw-description", "hello", 5);
	put_file(&b, 1, "a..b", "\xff\xff\xff", 3); /* ".." inside a name is fine */
	/* All-0xff data: the largest sums, where a summing shortcut overflows. */
	static unsigned char ones[300001];
	memset(ones, 0xff, sizeof(ones));
	put_file(&b, 1, "ones", ones, sizeof(ones));
	put_trailer(&b, 1);
	struct bytes bytes = { b.p, b.len };
	struct got g;
	assert_int_equal(read_bytes(f->ctx, &bytes, 0, 0, &g), SWI_OK);
	assert_int_equal(g.count, 3);
	assert_string_equal(g.names[1], "a..b");
	got_free(&g);
	assert_int_equal(read_bytes(f->ctx, &bytes, 1, 0, &g), SWI_OK);
	assert_int_equal(g.count, 3);
	got_free(&g);

	/* A wrong check field is caught: the field itself is really read. */
	b.len = 0;
	put_member(&b, 1, "sw-description", 14, 0100644, "hello", 5, sum_of("hello", 5) + 1);
	put_trailer(&b, 1);
	bytes = (struct bytes){ b.p, b.len };
	assert_int_equal(read_bytes(f->ctx, &bytes, 0, 0, &g), SWI_EHASH);
	assert_string_equal(swi_errmsg(f->ctx),
			    "sw-description: cpio checksum mismatch (expected 00000215, got 00000214)");
	got_free(&g);
	free(b.p);
}

/* Each member tells where its data starts in the stream (progress by
 * bytes counts on it), also when the source gives a few bytes at a time. */
static void test_member_data_offsets(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "sw-description", "a", "odd-length.bin" };
	static unsigned char data[70001];
	struct buf b = { 0 };
	uint64_t offsets[3];
	for (int i = 0; i < 3; i++) {
		offsets[i] = (b.len + 110 + strlen(names[i]) + 1 + 3) & ~(size_t)3;
		put_file(&b, 1, names[i], data, (size_t)(i * 35000 + 1));
	}
	put_trailer(&b, 1);
	for (int short_reads = 0; short_reads < 2; short_reads++) {
		struct mem_src src = { .data = b.p, .len = b.len, .short_reads = short_reads };
		struct swi_swu *r;
		assert_int_equal(swi_swu_open_sized(f->ctx, mem_read, &src, mode, 4096, &r), SWI_OK);
		struct swi_member m;
		for (int i = 0; i < 3; i++) {
			assert_int_equal(swi_swu_next(r, &m), SWI_OK);
			assert_string_equal(m.name, names[i]);
			assert_int_equal(m.offset, offsets[i]);
		}
		assert_int_equal(swi_swu_next(r, &m), SWI_END);
		swi_swu_close(r);
	}
	free(b.p);
}

/* Junk where the next header belongs: refused before libarchive would
 * look for a header further on. */
static void test_crafted_garbage_between_members(void **state)
{
	struct fixture *f = *state;
	const char *junk[] = { "xxxxxx", "garbage!" };
	for (size_t i = 0; i < 2; i++) {
		struct buf b = { 0 };
		put_file(&b, 1, "sw-description", "x", 1);
		put(&b, junk[i], strlen(junk[i]));
		put_file(&b, 1, "image", "y", 1);
		put_trailer(&b, 1);
		expect_format_error(f->ctx, b.p, b.len,
				    "cpio archive: invalid header after member 'sw-description' "
				    "(not a newc (070701) or crc (070702) cpio header)");
		free(b.p);
	}
}

static void expect_crafted_name_error(swi_ctx_t *ctx, const char *name, size_t namelen,
				      const char *message)
{
	struct buf b = { 0 };
	put_file(&b, 0, "sw-description", "x", 1);
	put_member(&b, 0, name, namelen, 0100644, "data", 4, 0);
	put_trailer(&b, 0);
	expect_format_error(ctx, b.p, b.len, message);
	free(b.p);
}

static void test_crafted_bad_names(void **state)
{
	struct fixture *f = *state;
	expect_crafted_name_error(f->ctx, "..", 2, "..: member name is a '.' or '..'");
	expect_crafted_name_error(f->ctx, ".", 1, ".: member name is a '.' or '..'");
	expect_crafted_name_error(f->ctx, "", 0, "cpio archive: member name is empty");
	expect_crafted_name_error(f->ctx, "../x", 4, "../x: member name contains '/'");
	expect_crafted_name_error(f->ctx, "/abs", 4, "/abs: member name contains '/'");
	expect_crafted_name_error(f->ctx, "ok\0../../evil", 13, "ok: member name contains a NUL");
}

static void test_crafted_symlink_refused(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	put_member(&b, 1, "link", 4, 0120777, "/etc/passwd", 11, sum_of("/etc/passwd", 11));
	put_trailer(&b, 1);
	expect_format_error(f->ctx, b.p, b.len, "link: member is not a regular file");
	free(b.p);
}

/* ---- bounds: what an image costs before anyone verified it ---- */

/* A source: the bytes given, then zeros up to len bytes in all; counts the
 * bytes it served. */
struct zero_src {
	const unsigned char *data;
	size_t data_len;
	uint64_t len, served;
};

static ssize_t zero_read(void *user, void *buf, size_t len)
{
	struct zero_src *s = user;
	if (len > s->len - s->served)
		len = (size_t)(s->len - s->served);
	size_t from_data = s->served < s->data_len ? s->data_len - (size_t)s->served : 0;
	if (from_data > len)
		from_data = len;
	memcpy(buf, s->data + s->served, from_data);
	memset((unsigned char *)buf + from_data, 0, len - from_data);
	s->served += len;
	return (ssize_t)len;
}

/* The start of an archive, then 64 MiB of zeros: refused with message_part
 * having read less than 2 MiB (eight 128 KiB buffers read ahead, and some). */
static void expect_refused_early(swi_ctx_t *ctx, const struct buf *b, const char *message_part)
{
	struct zero_src src = { .data = b->p, .data_len = b->len, .len = b->len + (64u << 20) };
	struct got g;
	assert_int_equal(read_archive(ctx, zero_read, &src, 0, &g), SWI_EFORMAT);
	if (!strstr(swi_errmsg(ctx), message_part))
		fail_msg("'%s' does not contain '%s'", swi_errmsg(ctx), message_part);
	if (src.served >= 2u << 20)
		fail_msg("%llu bytes read before failing", (unsigned long long)src.served);
	got_free(&g);
}

/* A first header claiming a 2 GiB name: libarchive would buffer it all. */
static void test_huge_name_refused_early(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	put_header(&b, "070701", 0100644, 1, 0, 0x80000000u, 0);
	expect_refused_early(f->ctx, &b,
			     "cpio archive: invalid first header (member name of 2147483648 "
			     "bytes, more than the limit of 4096)");
	free(b.p);
}

/* libarchive reads a symbolic link's target with its header (recent
 * versions refuse targets over 1 MiB): reading a header stops at the
 * longest one a regular file can have. */
static void test_long_symlink_refused_early(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	put_file(&b, 0, "sw-description", "x", 1);
	put_header(&b, "070701", 0120777, 1, 1000000, 5, 0);
	put(&b, "link", 5);
	pad4(&b);
	expect_refused_early(f->ctx, &b,
			     "cpio archive: invalid header after member 'sw-description' (more "
			     "than ");
	free(b.p);
}

/* libarchive would look for a header in the zeros that follow. */
static void test_bad_later_header_refused_early(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	put_file(&b, 1, "sw-description", "x", 1);
	size_t at = b.len;
	put_header(&b, "070707", 0100644, 1, 0, 6, 0);
	expect_refused_early(f->ctx, &b,
			     "cpio archive: invalid header after member 'sw-description' (not a "
			     "newc (070701) or crc (070702) cpio header)");
	memcpy(b.p + at, "070702", 6);
	b.p[at + 22] = 'g'; /* in the uid field */
	expect_refused_early(f->ctx, &b,
			     "cpio archive: invalid header after member 'sw-description' (cpio "
			     "header has non-hex fields)");
	free(b.p);
}

/* The longest name is read, also through buffers holding a quarter of it;
 * one byte more is refused before libarchive reads the name. */
static void test_name_size_limit(void **state)
{
	struct fixture *f = *state;
	static char name[SWI_SWU_NAME_MAX + 1];
	memset(name, 'n', SWI_SWU_NAME_MAX - 1);
	name[SWI_SWU_NAME_MAX - 1] = '\0';
	struct buf b = { 0 };
	put_file(&b, 1, "sw-description", "x", 1);
	put_file(&b, 1, name, "y", 1);
	put_trailer(&b, 1);
	struct bytes bytes = { b.p, b.len };
	size_t bufsizes[] = { 0, 1024 };
	for (size_t i = 0; i < 2; i++) {
		struct got g;
		if (read_bytes(f->ctx, &bytes, 1, bufsizes[i], &g))
			fail_msg("buffers of %zu bytes: %s", bufsizes[i], swi_errmsg(f->ctx));
		assert_int_equal(g.count, 2);
		assert_string_equal(g.names[1], name);
		got_free(&g);
	}
	name[SWI_SWU_NAME_MAX - 1] = 'n';
	b.len = 0;
	put_file(&b, 1, "sw-description", "x", 1);
	put_file(&b, 1, name, "y", 1);
	put_trailer(&b, 1);
	char message[160];
	snprintf(message, sizeof(message),
		 "cpio archive: invalid header after member 'sw-description' (member name of "
		 "%d bytes, more than the limit of %d)", SWI_SWU_NAME_MAX + 1, SWI_SWU_NAME_MAX);
	expect_format_error(f->ctx, b.p, b.len, message);
	free(b.p);
}

/* Reads every member's header: how many there were, or the error. */
static int count_members(swi_ctx_t *ctx, const struct buf *b)
{
	struct mem_src src = { .data = b->p, .len = b->len };
	struct swi_swu *r;
	struct swi_member m;
	int rc = swi_swu_open(ctx, mem_read, &src, mode, &r);
	if (rc)
		return rc;
	int n = 0;
	while ((rc = swi_swu_next(r, &m)) == SWI_OK)
		n++;
	swi_swu_close(r);
	return rc == SWI_END ? n : rc;
}

/* A regular file with two links (cpio -o of a hard-linked file) is an
 * ordinary member while it carries its data; a link without data, whose
 * data another member carries, is refused, first or later. */
static void test_hard_link_needs_its_data(void **state)
{
	struct fixture *f = *state;
	const char *expected[] = {
		"cpio archive: invalid first header (2 links and no data: a hard link whose data "
		"another member carries",
		"cpio archive: invalid header after member 'sw-description' (2 links and no data: "
		"a hard link whose data another member carries",
	};
	for (size_t linked = 0; linked < 2; linked++) {
		for (int empty = 0; empty < 2; empty++) {
			struct buf b = { 0 };
			size_t at[2];
			at[0] = b.len;
			put_file(&b, 1, "sw-description", "x", empty && linked == 0 ? 0 : 1);
			at[1] = b.len;
			put_file(&b, 1, "image", "y", empty && linked == 1 ? 0 : 1);
			put_trailer(&b, 1);
			memcpy(b.p + at[linked] + 38, "00000002", 8); /* the nlink field */
			if (empty)
				expect_format_error(f->ctx, b.p, b.len, expected[linked]);
			else
				assert_int_equal(count_members(f->ctx, &b), 2);
			free(b.p);
		}
	}
}

/* As many members as allowed, the trailer included, are read; one more is
 * refused. */
static void test_member_cap(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	for (int i = 0; i < SWI_SWU_MAX_MEMBERS - 1; i++)
		put_file(&b, 0, "m", "", 0);
	size_t trailer_at = b.len;
	put_trailer(&b, 0);
	assert_int_equal(count_members(f->ctx, &b), SWI_SWU_MAX_MEMBERS - 1);
	b.len = trailer_at;
	put_file(&b, 0, "m", "", 0);
	put_trailer(&b, 0);
	assert_int_equal(count_members(f->ctx, &b), SWI_EFORMAT);
	char message[80];
	snprintf(message, sizeof(message), "cpio archive: too many members (more than %d)",
		 SWI_SWU_MAX_MEMBERS);
	assert_string_equal(swi_errmsg(f->ctx), message);
	free(b.p);
}

/* A 20 MiB sparse member with a few non-zero bytes streams through 4 KiB
 * buffers; every block handed out is within one buffer. A flipped byte in
 * the middle is caught by the crc sum. */
static void test_large_member(void **state)
{
	struct fixture *f = *state;
	char in[128], path[128];
	snprintf(in, sizeof(in), "%s/big", f->dir);
	snprintf(path, sizeof(path), "%s/big.swu", f->dir);
	mkdir(in, 0700);
	run("cd '%s' && truncate -s 20M big.img && printf 'ABC' | dd of=big.img bs=1 seek=12345678 "
	    "conv=notrunc status=none && printf 'Z' | dd of=big.img bs=1 seek=20971519 "
	    "conv=notrunc status=none && printf 'x' > after",
	    in);
	make_cpio(in, "crc", "big.img\\nafter\\n", path);

	int fd = open(path, O_RDWR);
	assert_true(fd >= 0);
	struct swi_swu *r;
	struct swi_member m;
	assert_int_equal(swi_swu_open_sized(f->ctx, fd_read, &fd, mode, 4096, &r), SWI_OK);
	assert_int_equal(swi_swu_next(r, &m), SWI_OK);
	assert_string_equal(m.name, "big.img");
	assert_int_equal(m.size, 20u << 20);
	uint64_t total = 0, nonzero = 0;
	const void *buf;
	size_t len;
	while (swi_swu_read(r, &buf, &len) == SWI_OK && len) {
		assert_true(len <= 4096);
		for (size_t i = 0; i < len; i++)
			nonzero += ((const unsigned char *)buf)[i] != 0;
		total += len;
	}
	assert_int_equal(total, 20u << 20);
	assert_int_equal(nonzero, 4);
	assert_int_equal(swi_swu_next(r, &m), SWI_OK);
	assert_string_equal(m.name, "after");
	assert_int_equal(swi_swu_next(r, &m), SWI_END);
	swi_swu_close(r);

	/* Flip a zero byte deep inside the member: 110 + "big.img\0" padded = 120. */
	assert_int_equal(pwrite(fd, "\x01", 1, 120 + 17000000), 1);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(swi_swu_open_sized(f->ctx, fd_read, &fd, mode, 4096, &r), SWI_OK);
	assert_int_equal(swi_swu_next(r, &m), SWI_OK);
	assert_int_equal(swi_swu_next(r, &m), SWI_EHASH);
	assert_string_equal(swi_errmsg(f->ctx),
			    "big.img: cpio checksum mismatch (expected 00000120, got 00000121)");
	swi_swu_close(r);
	close(fd);
}

static void test_read_all_cap(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	char text[1000];
	memset(text, 'a', sizeof(text));
	put_file(&b, 1, "sw-description", text, sizeof(text));
	put_file(&b, 1, "next", "n", 1);
	put_trailer(&b, 1);

	struct mem_src src = { .data = b.p, .len = b.len, .short_reads = 1 };
	struct swi_swu *r;
	struct swi_member m;
	char *all;
	size_t len;
	assert_int_equal(swi_swu_open(f->ctx, mem_read, &src, mode, &r), SWI_OK);
	assert_int_equal(swi_swu_next(r, &m), SWI_OK);
	assert_int_equal(swi_swu_read_all(r, 999, &all, &len), SWI_EFORMAT);
	assert_null(all);
	assert_string_equal(swi_errmsg(f->ctx),
			    "sw-description: 1000 bytes is more than the limit of 999 bytes");
	assert_int_equal(swi_swu_read_all(r, 1000, &all, &len), SWI_OK);
	assert_int_equal(len, 1000);
	assert_int_equal(all[1000], '\0');
	assert_memory_equal(all, text, 1000);
	free(all);
	assert_int_equal(swi_swu_next(r, &m), SWI_OK);
	assert_string_equal(m.name, "next");
	assert_int_equal(swi_swu_read_all(r, 1 << 20, &all, &len), SWI_OK);
	assert_string_equal(all, "n");
	free(all);
	assert_int_equal(swi_swu_next(r, &m), SWI_END);
	/* After the trailer there is nothing to read, and that is no error. */
	const void *buf;
	assert_int_equal(swi_swu_read(r, &buf, &len), SWI_OK);
	assert_int_equal(len, 0);
	swi_swu_close(r);
	free(b.p);
}

static void test_read_error_is_eio(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	char text[3000];
	memset(text, 'q', sizeof(text));
	put_file(&b, 1, "sw-description", text, sizeof(text));
	put_trailer(&b, 1);
	size_t fail_points[] = { 1, 50, 200, 2000 };
	for (size_t i = 0; i < 4; i++) {
		struct mem_src src = { .data = b.p, .len = b.len, .fail_at = fail_points[i],
				       .short_reads = 1 };
		struct got g;
		assert_int_equal(read_archive(f->ctx, mem_read, &src, 0, &g), SWI_EIO);
		assert_non_null(strstr(swi_errmsg(f->ctx), "reading the image failed"));
		got_free(&g);
	}
	free(b.p);
}

/* Buffers too small to still hold a header: refused, never unchecked. */
static void test_header_not_buffered_fails_safe(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	put_file(&b, 0, "sw-description", "x", 1);
	put_trailer(&b, 0);
	struct bytes bytes = { b.p, b.len };
	struct got g;
	assert_int_equal(read_bytes(f->ctx, &bytes, 0, 32, &g), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "no longer buffered"));
	got_free(&g);
	free(b.p);
}

/* Wherever buffer boundaries fall (inside a header, its name, the data,
 * exactly at a member's end), every header is found and every sum checked,
 * whole-buffer sums (taken when a buffer is filled) included. */
static void test_every_buffer_boundary(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	static unsigned char data[5000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 31 + 7);
	put_file(&b, 1, "sw-description", "hello", 5);
	put_file(&b, 1, "rootfs.img", data, sizeof(data));
	put_file(&b, 1, "empty", "", 0);
	put_file(&b, 1, "boot.img", data, 1234);
	put_trailer(&b, 1);
	struct bytes bytes = { b.p, b.len };
	for (size_t bufsize = 128; bufsize <= 700; bufsize += 3) {
		struct got g;
		if (read_bytes(f->ctx, &bytes, 0, bufsize, &g))
			fail_msg("buffers of %zu bytes: %s", bufsize, swi_errmsg(f->ctx));
		assert_int_equal(g.count, 4);
		assert_memory_equal(g.data[1].p, data, sizeof(data));
		got_free(&g);
	}
	/* One byte changed: caught whatever the buffer size. */
	b.p[find(&bytes, "hello") + 200 + 110] ^= 0x10;
	for (size_t bufsize = 128; bufsize <= 700; bufsize += 31) {
		struct got g;
		assert_int_equal(read_bytes(f->ctx, &bytes, 0, bufsize, &g), SWI_EHASH);
		assert_non_null(strstr(swi_errmsg(f->ctx), "rootfs.img: cpio checksum mismatch"));
		got_free(&g);
	}
	free(b.p);
}

/* A lent block stays as it was until given back, however far the reader
 * goes on; its buffer is refilled only then. */
struct lent_check {
	const unsigned char *block;
	unsigned char copy[4096];
	size_t len;
	struct swi_swu_slot *slot;
	int unchanged;
};

static void *give_back_later(void *arg)
{
	struct lent_check *c = arg;
	usleep(100 * 1000);
	c->unchanged = !memcmp(c->block, c->copy, c->len);
	swi_swu_give_back(c->slot);
	return NULL;
}

static void test_lent_block_is_kept(void **state)
{
	struct fixture *f = *state;
	struct buf b = { 0 };
	size_t size = 64 * 4096;
	unsigned char *data = malloc(size);
	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)(i / 4096 + i);
	put_file(&b, 1, "sw-description", "x", 1);
	put_file(&b, 1, "rootfs.img", (const char *)data, size);
	put_trailer(&b, 1);
	struct mem_src src = { .data = b.p, .len = b.len };
	struct swi_swu *r;
	struct swi_member m;
	assert_int_equal(swi_swu_open_sized(f->ctx, mem_read, &src, mode, 4096, &r), SWI_OK);
	assert_int_equal(swi_swu_next(r, &m), SWI_OK);
	assert_int_equal(swi_swu_next(r, &m), SWI_OK);
	assert_string_equal(m.name, "rootfs.img");

	const void *buf;
	size_t len;
	assert_int_equal(swi_swu_read(r, &buf, &len), SWI_OK);
	assert_true(len > 0 && len <= 4096);
	struct lent_check c = { .block = buf, .len = len };
	memcpy(c.copy, buf, len);
	assert_non_null(c.slot = swi_swu_lend(r, buf, len));
	/* Not ours: refused, to be copied instead. */
	assert_null(swi_swu_lend(r, data, 16));
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, give_back_later, &c), 0);
	size_t total = len;
	while (swi_swu_read(r, &buf, &len) == SWI_OK && len) {
		assert_memory_equal(buf, data + total, len);
		total += len;
	}
	assert_int_equal(total, size);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(c.unchanged);
	assert_int_equal(swi_swu_next(r, &m), SWI_END);
	swi_swu_close(r);
	free(data);
	free(b.p);
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct swi_swu *r;
	assert_int_equal(swi_swu_open(NULL, mem_read, NULL, mode, &r), SWI_EINVAL);
	assert_int_equal(swi_swu_open(f->ctx, NULL, NULL, mode, &r), SWI_EINVAL);
	assert_int_equal(swi_swu_open_sized(f->ctx, mem_read, NULL, mode, 0, &r), SWI_EINVAL);
	assert_int_equal(swi_swu_open(f->ctx, mem_read, NULL, (enum swi_swu_mode)7, &r),
			 SWI_EINVAL);
	swi_swu_close(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_newc_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crc_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crc_corrupt_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newc_corrupt_data_passes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_cpio_formats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names_from_cpio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crafted_archive_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crafted_garbage_between_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_data_offsets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crafted_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crafted_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_name_refused_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_symlink_refused_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_later_header_refused_early, setup, teardown),
		cmocka_unit_test_setup_teardown(test_name_size_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hard_link_needs_its_data, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_member, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_all_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_error_is_eio, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_not_buffered_fails_safe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_buffer_boundary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lent_block_is_kept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
	};
	int failed = cmocka_run_group_tests_name("swu, reading inline", tests, NULL, NULL);
	mode = SWI_SWU_READ_AHEAD;
	return failed + cmocka_run_group_tests_name("swu, reading ahead", tests, NULL, NULL);
}
