/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the handler unit tests (test_handler_*.c, test_handlers_all.c).
 * Include it after <cmocka.h>; it brings lib/handler.h and the public
 * handler API with it.
 *
 * One entry ("member.img", images[2]) in a fresh context, the target it is
 * installed through, and a temporary directory f->dir for whatever the
 * handler writes. The handler is driven directly, as the core drives it,
 * without an image: the test sets the attributes, calls check and the
 * drive_*() steps, and looks at f->dir afterwards. Where the core itself
 * must take part (hashes, the order of the calls, bootloader variables
 * written at the commit), image_of() and install_image() build a small
 * image in f->work and install it with swi_install_file().
 *
 * A test:
 *
 *     static void rawfile_writes_a_new_file(void **state)
 *     {
 *         struct fixture *f = *state;
 *         char path[128];
 *         in_dir(f, "new.bin", path, sizeof(path));
 *         struct swi_target *t = target(f, &swi_handler_rawfile, 10, NULL,
 *                                       "path", path, NULL);
 *         assert_int_equal(t->handler->check(t), SWI_OK);
 *         assert_int_equal(install(t, 10, 4), SWI_OK);   // 10 NEW_BYTEs, 4 a write
 *         assert_released(f, t);
 *     }
 *     ...
 *     T(rawfile_writes_a_new_file)    // in the CMUnitTest table: with setup, teardown
 *
 * The names are those test_handlers.c had before it was split (fixture,
 * setup, teardown, T, target, set_attr, in_dir, fill_file, slurp,
 * assert_bytes, assert_error_mentions, assert_released, install, feed,
 * open_fds, FILE_SIZE, OLD_BYTE, NEW_BYTE): a test written against those
 * keeps working with its own copies deleted. Changed on the way: install()
 * and feed() drive any kind of handler (and run a script handler's
 * phases); its image helpers take the member's bytes, image_of(f, desc,
 * bytes, len) and payload_sha(bytes, len, good, sha), and build in f->work;
 * its spy log is calls_seen() and record_call(); its snapshot() is
 * tree_snapshot(), which also compares file contents.
 *
 * Driving a handler of any kind (include/swinstall/handler.h):
 *   drive_check()  check, when the handler has one (the core: at planning);
 *   drive_open()   open; for a pull handler also the stream its extract
 *                  reads from, started on a worker thread as the core does;
 *   drive_feed()   the member's bytes: to write (push), into that stream
 *                  (pull); a data-less handler takes none;
 *   drive_close()  a pull handler's extract has ended (its status first),
 *                  then close;
 *   drive_run()    run in one phase, when the handler names it;
 *   drive_commit() commit, when the handler has one;
 *   drive_abort()  the stream stopped, then abort (also after close).
 *   drive_install() strings them as a successful install does: open, feed,
 *                  close, run before, run after, commit; abort on failure.
 *
 * The state: the core owns it when the handler says state_size (target()
 * allocates it as planning does); f->staged collects what the handler stages
 * for the bootloader; the install's private directory (swi_target_tmpdir())
 * is made under f->dir (option tmpdir), so tree_snapshot(f->dir, ...) sees a
 * script left there.
 */
#ifndef SWI_HANDLER_FIXTURE_H
#define SWI_HANDLER_FIXTURE_H

#include <dirent.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "handler.h"
#include "lua_host.h"
#include "manifest.h"
#include "scratch.h"
#include "stream.h"
#include "testutil.h"

/* The size of a file install() and the raw tests write into, and what its
 * old bytes and the new ones are. */
#define FILE_SIZE (64 * 1024)
#define OLD_BYTE 0xAA
#define NEW_BYTE 0x55

struct fixture {
	int fds;                     /* descriptors open after setup */
	char dir[64];                /* where the handler writes: its targets */
	char work[64];               /* image_of()'s image, the state, lock and options */
	swi_ctx_t *ctx;
	struct swi_entry entry;      /* the entry: member.img, images[2] */
	struct swi_attrs staged;     /* the bootloader variables the handler staged */
	struct swi_target target;    /* the entry's target: f->target, always */
	struct swi_scratch scratch;  /* the install's private directory, under dir */
	struct swi_lua_env lua_env;  /* what Lua run for the entry reaches, as in an install */
	struct swi_stream *stream;   /* a pull handler's, between drive_open and drive_close */
	unsigned char *payload;      /* set_payload()'s bytes, for tests that need one */
	size_t payload_len;
};

/* The process's open descriptors (and the one counting them). */
static inline int open_fds(void)
{
	int fds = 0;
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	while (readdir(d))
		fds++;
	closedir(d);
	return fds;
}

/* A fresh fixture in *state: context, entry, target, empty directories. */
static inline int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	strcpy(f->dir, "/tmp/swi-handlers-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	strcpy(f->work, "/tmp/swi-handlers-work-XXXXXX");
	assert_non_null(mkdtemp(f->work));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "tmpdir", f->dir), SWI_OK);
	f->entry.filename = "member.img";
	f->entry.collection = "images";
	f->entry.index = 2;
	f->scratch.ctx = f->ctx;
	f->target.ctx = f->ctx;
	f->target.entry = &f->entry;
	f->target.staged_bootenv = &f->staged;
	f->target.scratch = &f->scratch;
	f->lua_env = (struct swi_lua_env){ .ctx = f->ctx, .scratch = &f->scratch,
					   .staged_bootenv = &f->staged };
	f->target.lua_env = &f->lua_env;
	f->fds = open_fds();
	*state = f;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *f = *state;
	swi_stream_free(f->stream);
	swi_scratch_remove(&f->scratch);
	assert_int_equal(remove_tree(f->dir), 0);
	assert_int_equal(remove_tree(f->work), 0);
	swi_target_unbind_attrs(&f->target);
	swi_target_free_state(&f->target);
	free(f->target.path);
	swi_attrs_free(&f->entry.attrs);
	swi_attrs_free(&f->staged);
	swi_ctx_free(f->ctx);
	free(f->payload);
	free(f);
	return 0;
}

/* The fixture a target of target() belongs to. */
static inline struct fixture *fixture_of(struct swi_target *t)
{
	return (struct fixture *)((char *)t - offsetof(struct fixture, target));
}

/* Points the target at handler, with attributes given as name, value
 * pairs (added to those set before); unless they are refused, they are
 * checked and typed as the plan does (a test of a refusal calls
 * swi_target_bind_attrs() itself and looks at its status). The handler
 * gets fresh state from the core, as at planning. compressed: NULL, or a
 * method ("zlib") the handler is told the bytes came through. */
static inline struct swi_target *target(struct fixture *f, const struct swi_handler *handler,
					uint64_t stored_size, const char *compressed, ...)
{
	f->target.handler = handler;
	f->target.stored_size = stored_size;
	f->entry.compressed = compressed;
	va_list ap;
	va_start(ap, compressed);
	for (const char *name; (name = va_arg(ap, const char *));)
		assert_int_equal(swi_attrs_set(&f->entry.attrs, name, va_arg(ap, const char *)),
				 SWI_OK);
	va_end(ap);
	swi_target_bind_attrs(&f->target);
	assert_int_equal(swi_target_alloc_state(&f->target), SWI_OK);
	return &f->target;
}

/* Sets an attribute of the entry before target() binds them all. */
static inline void entry_attr(struct fixture *f, const char *name, const char *value)
{
	assert_int_equal(swi_attrs_set(&f->entry.attrs, name, value), SWI_OK);
}

/* Changes an attribute of the entry after target(), checked again as the
 * plan would (it must be accepted). */
static inline void set_attr(struct fixture *f, const char *name, const char *value)
{
	entry_attr(f, name, value);
	assert_int_equal(swi_target_bind_attrs(&f->target), SWI_OK);
}

/* The member's bytes for a test that keeps them in the fixture (copied). */
static inline void set_payload(struct fixture *f, const void *bytes, size_t len)
{
	free(f->payload);
	f->payload = malloc(len ? len : 1);
	assert_non_null(f->payload);
	memcpy(f->payload, bytes, len);
	f->payload_len = len;
}

static inline void set_payload_text(struct fixture *f, const char *text)
{
	set_payload(f, text, strlen(text));
}

/* out = f->dir/name */
static inline void in_dir(const struct fixture *f, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", f->dir, name);
}

/* Writes size bytes of byte to path (created or truncated). */
static inline void fill_file(const char *path, int byte, size_t size)
{
	unsigned char *buf = malloc(size ? size : 1);
	assert_non_null(buf);
	memset(buf, byte, size);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(buf, 1, size, fp), size);
	assert_int_equal(fclose(fp), 0);
	free(buf);
}

/* The whole file (at most 2 * FILE_SIZE bytes), its length in *size; the
 * caller frees it. */
static inline unsigned char *slurp(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot read %s", path);
	unsigned char *buf = malloc(FILE_SIZE * 2);
	assert_non_null(buf);
	*size = fread(buf, 1, FILE_SIZE * 2, fp);
	fclose(fp);
	return buf;
}

static inline void assert_file_size(const char *path, long long expected)
{
	struct stat st;
	if (stat(path, &st) < 0)
		fail_msg("cannot stat %s", path);
	if ((long long)st.st_size != expected)
		fail_msg("%s has %lld bytes, not %lld", path, (long long)st.st_size, expected);
}

/* Every byte of buf from from to to (excluded) is byte. */
static inline void assert_bytes(const unsigned char *buf, size_t from, size_t to, int byte)
{
	for (size_t i = from; i < to; i++)
		if (buf[i] != byte)
			fail_msg("byte %zu is %#x, expected %#x", i, buf[i], byte);
}

/* The file at path holds exactly len bytes, those of bytes. */
static inline void assert_file_holds(const char *path, const void *bytes, size_t len)
{
	size_t size;
	unsigned char *buf = slurp(path, &size);
	if (size != len || memcmp(buf, bytes, len) != 0)
		fail_msg("%s holds %zu bytes, not the %zu expected", path, size, len);
	free(buf);
}

static inline void assert_error_mentions(const struct fixture *f, const char *needle)
{
	if (!strstr(swi_errmsg(f->ctx), needle))
		fail_msg("'%s' does not mention '%s'", swi_errmsg(f->ctx), needle);
}

/* After close or abort: the handler let go of its target (no descriptor
 * left open) and kept the state the core gave it. */
static inline void assert_released(const struct fixture *f, const struct swi_target *t)
{
	assert_ptr_equal(t->state, t->owned_state);
	assert_int_equal(open_fds(), f->fds);
}

/* ---- driving a handler as the core does -------------------------------- */

static inline bool pulls(const struct swi_handler *h)
{
	return SWI_HANDLER_GET(h, extract, NULL) != NULL;
}

static inline bool takes_no_data(const struct swi_handler *h)
{
	return (SWI_HANDLER_GET(h, flags, 0u) & SWI_HANDLER_NO_DATA) != 0;
}

static inline int drive_check(struct fixture *f)
{
	struct swi_target *t = &f->target;
	return t->handler->check ? t->handler->check(t) : SWI_OK;
}

/* The pull stream's main function: the handler's extract. */
static inline int fixture_extract(void *user)
{
	struct swi_target *t = user;
	return t->handler->extract(t);
}

/* open; for a pull handler then its stream (no hash, no codec), whose
 * worker runs extract from the start, as in the core. */
static inline int drive_open(struct fixture *f)
{
	struct swi_target *t = &f->target;
	int rc = t->handler->open(t);
	if (rc == SWI_OK && pulls(t->handler)) {
		const struct swi_stream_spec plain = { 0 };
		rc = swi_stream_new_pull(f->ctx, swi_target_member(t), &plain, fixture_extract, t,
					 &f->stream);
		t->pull = f->stream;
	}
	return rc;
}

/* len bytes, chunk bytes at a time (the last one shorter). */
static inline int drive_feed(struct fixture *f, const void *bytes, size_t len, size_t chunk)
{
	struct swi_target *t = &f->target;
	const char *p = bytes;
	if (takes_no_data(t->handler) && len)
		fail_msg("handler '%s' takes no data, yet %zu bytes were fed", t->handler->name, len);
	int rc = SWI_OK;
	for (size_t done = 0; rc == SWI_OK && done < len; done += chunk) {
		size_t n = len - done < chunk ? len - done : chunk;
		rc = f->stream ? swi_stream_feed(f->stream, p + done, n)
			       : t->handler->write(t, p + done, n);
	}
	return rc;
}

/* The core's "verified": a pull handler's extract returned (its status
 * counts), then close. */
static inline int drive_close(struct fixture *f)
{
	struct swi_target *t = &f->target;
	if (f->stream) {
		int rc = swi_stream_finish(f->stream);
		if (rc)
			return rc;
		swi_stream_free(f->stream);
		f->stream = t->pull = NULL;
	}
	return t->handler->close(t);
}

static inline int drive_run(struct fixture *f, enum swi_phase phase)
{
	struct swi_target *t = &f->target;
	if (!(SWI_HANDLER_GET(t->handler, phases, 0u) & (unsigned)phase))
		return SWI_OK;
	return t->handler->run(t, phase);
}

static inline int drive_commit(struct fixture *f)
{
	struct swi_target *t = &f->target;
	int (*commit)(struct swi_target *) = SWI_HANDLER_GET(t->handler, commit, NULL);
	return commit ? commit(t) : SWI_OK;
}

/* The stream first: its worker may still be in extract. */
static inline void drive_abort(struct fixture *f)
{
	struct swi_target *t = &f->target;
	swi_stream_free(f->stream);
	f->stream = t->pull = NULL;
	t->handler->abort(t);
}

/* A whole install of one entry: open, feed, close, run (before, after),
 * commit; abort when a step fails (its status is returned). */
static inline int drive_install(struct fixture *f, const void *bytes, size_t len, size_t chunk)
{
	int rc = drive_open(f);
	if (rc == SWI_OK)
		rc = drive_feed(f, bytes, len, chunk);
	if (rc == SWI_OK)
		rc = drive_close(f);
	if (rc == SWI_OK)
		rc = drive_run(f, SWI_PHASE_BEFORE);
	if (rc == SWI_OK)
		rc = drive_run(f, SWI_PHASE_AFTER);
	if (rc == SWI_OK)
		rc = drive_commit(f);
	if (rc)
		drive_abort(f);
	return rc;
}

/* drive_install() of len bytes of NEW_BYTE, chunk bytes a write. */
static inline int install(struct swi_target *t, size_t len, size_t chunk)
{
	unsigned char *buf = malloc(len ? len : 1);
	assert_non_null(buf);
	memset(buf, NEW_BYTE, len);
	int rc = drive_install(fixture_of(t), buf, len, chunk);
	free(buf);
	return rc;
}

/* drive_install() of text (without its NUL), chunk bytes a write. */
static inline int feed(struct swi_target *t, const char *text, size_t chunk)
{
	return drive_install(fixture_of(t), text, strlen(text), chunk);
}

/* ---- what a handler left: a directory tree, compared ------------------- */

/* The sha256 of the file at path, in hex. */
static inline void file_sha256(const char *path, char hex[65])
{
	unsigned char md[32], buf[16384];
	unsigned mdlen = 0;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot read %s", path);
	EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();
	assert_non_null(md_ctx);
	assert_true(EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL));
	for (size_t n; (n = fread(buf, 1, sizeof(buf), fp)) > 0;)
		assert_true(EVP_DigestUpdate(md_ctx, buf, n));
	assert_true(EVP_DigestFinal_ex(md_ctx, md, &mdlen));
	EVP_MD_CTX_free(md_ctx);
	fclose(fp);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

static inline void describe_tree(FILE *out, const char *root, const char *rel,
				 const char *in_place)
{
	char dir[PATH_MAX];
	struct dirent **names;
	snprintf(dir, sizeof(dir), "%s%s%s", root, rel[0] ? "/" : "", rel);
	int n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot list %s", dir);
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char relpath[PATH_MAX], path[PATH_MAX * 2], content[PATH_MAX] = "-";
		struct stat st;
		if (strcmp(name, ".") && strcmp(name, "..")) {
			snprintf(relpath, sizeof(relpath), "%s%s%s", rel, rel[0] ? "/" : "", name);
			snprintf(path, sizeof(path), "%s/%s", root, relpath);
			assert_int_equal(lstat(path, &st), 0);
			if (S_ISREG(st.st_mode) && !(in_place && strcmp(relpath, in_place) == 0))
				file_sha256(path, content);
			if (S_ISLNK(st.st_mode)) {
				ssize_t n = readlink(path, content, sizeof(content) - 1);
				assert_true(n >= 0);
				content[n] = '\0';
			}
			fprintf(out, "%s mode %06o owner %u:%u size %lld %s\n", relpath,
				(unsigned)st.st_mode, (unsigned)st.st_uid, (unsigned)st.st_gid,
				(long long)(S_ISDIR(st.st_mode) ? 0 : st.st_size), content);
			if (S_ISDIR(st.st_mode) && !(in_place && strcmp(relpath, in_place) == 0))
				describe_tree(out, root, relpath, in_place);
		}
		free(names[i]);
	}
	free(names);
}

/*
 * What a handler could leave behind, as text to compare (the caller frees
 * it): every file, directory and link under dir (its path, type and mode,
 * owner, size, a regular file's sha256, a link's target), then the
 * bootloader variables staged in staged (NULL: not looked at) and the
 * number of open descriptors. in_place names a file (relative to dir)
 * written in place, an inactive slot: a failed install may leave its bytes
 * half-written, so only its size, mode and owner count; or a directory an
 * archive is extracted into in place: only its own mode and owner count.
 */
static inline char *tree_snapshot(const char *dir, const char *in_place,
				  const struct swi_attrs *staged)
{
	char *text = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&text, &size);
	assert_non_null(out);
	describe_tree(out, dir, "", in_place);
	for (size_t i = 0; staged && i < staged->count; i++)
		fprintf(out, "staged %s=%s\n", staged->items[i].name, staged->items[i].value);
	fprintf(out, "descriptors %d\n", open_fds());
	assert_int_equal(fclose(out), 0);
	return text;
}

/* Fails, naming what (a handler, a step), when after differs from before;
 * frees both. */
static inline void assert_same_snapshot(char *before, char *after, const char *what)
{
	if (strcmp(before, after) != 0)
		fail_msg("%s changed the target.\n--- before:\n%s--- after:\n%s", what, before, after);
	free(before);
	free(after);
}

/* ---- through the core: a small image ---------------------------------- */

/* The calls a spy or recorder handler saw, one word each ("open write
 * close"); a run of writes is one "write". Cleared by install_image(). */
static inline char *calls_seen(void)
{
	static char calls[256];
	return calls;
}

static inline void record_call(const char *what)
{
	char *calls = calls_seen();
	size_t used = strlen(calls);
	if (strcmp(what, "write") || used < 5 || strcmp(calls + used - 5, "write"))
		snprintf(calls + used, 256 - used, "%s%s", used ? " " : "", what);
}

/* The sha256 of len bytes, in hex; all zeroes unless good (an image
 * whose member then fails its hash). */
static inline void payload_sha(const void *bytes, size_t len, bool good, char sha[65])
{
	unsigned char md[32];
	unsigned mdlen = 0;
	assert_true(EVP_Digest(bytes, len, md, &mdlen, EVP_sha256(), NULL));
	for (int i = 0; i < 32; i++)
		sprintf(sha + 2 * i, "%02x", good ? md[i] : 0);
}

static inline void write_work_file(const struct fixture *f, const char *name, const void *bytes,
				   size_t len)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", f->work, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(bytes, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

/*
 * f->work/image.swu: sw-description desc and, when bytes is not NULL, the
 * member "payload.txt" of len bytes (desc's entries name it). Sets the
 * options that keep an install inside f->work: no hardware revision nor
 * versions file, the lock and the state there, no signature.
 */
static inline void image_of(struct fixture *f, const char *desc, const void *bytes, size_t len)
{
	char cmd[512], opt[160];
	write_work_file(f, "sw-description", desc, strlen(desc));
	if (bytes)
		write_work_file(f, "payload.txt", bytes, len);
	snprintf(cmd, sizeof(cmd), "cd %s && printf '%%s\\n' sw-description %s | "
		 "cpio -o -H crc --quiet > image.swu", f->work, bytes ? "payload.txt" : "");
	assert_int_equal(system(cmd), 0);
	snprintf(opt, sizeof(opt), "%s/none", f->work);
	assert_int_equal(swi_set_option(f->ctx, "hwrevision-file", opt), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "sw-versions-file", opt), SWI_OK);
	snprintf(opt, sizeof(opt), "%s/lock", f->work);
	assert_int_equal(swi_set_option(f->ctx, "lock-file", opt), SWI_OK);
	snprintf(opt, sizeof(opt), "%s/state", f->work);
	assert_int_equal(swi_set_option(f->ctx, "state-dir", opt), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "insecure", "1"), SWI_OK);
}

/* Installs f->work/image.swu on f->ctx, the calls seen cleared first. */
static inline int install_image(struct fixture *f)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/image.swu", f->work);
	calls_seen()[0] = '\0';
	return swi_install_file(f->ctx, path);
}

/* A test with this fixture, for the CMUnitTest table. */
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif
