/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swi_flash(): a whole-disk (factory) image onto a block device or a file.
 *
 * The image is decoded on the fly by the chain installs use (lib/stream.c:
 * the caller's thread reads, a worker decodes, another writes), picked by
 * the file name's suffix. The writer also hashes the decoded bytes, which
 * are compared at the end with the sha256 given, or with IMAGE.sha256
 * (sha256sum format) beside the image. There is one pass and no room to
 * keep a copy, so a mismatch is only known once everything was written:
 * the message then says that the target holds bytes that must not be used.
 *
 * Refused before anything is opened for writing: a target that is mounted,
 * holds the running slot or the root= of the kernel command line, or shares
 * its disk with a mounted partition (a whole-disk image overwrites it).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "context.h"
#include "slots.h"
#include "source.h"
#include "stream.h"

#define SHA256_HEX_LEN 64
/* A worker's chunk: each read fills one, and memory stays as an install's. */
#define READ_SIZE SWI_WORKER_CHUNK

struct flash {
	swi_ctx_t *ctx;
	const char *device;
	int fd;
	bool regular_file;    /* not a device: cut to the image's size at the end */
	uint64_t written;     /* by the writer; read after the stream drained */
	EVP_MD_CTX *md;
	char expected[SHA256_HEX_LEN + 1]; /* "" when nothing is checked */
	char expected_from[4200];          /* where expected came from, for messages */
};

/* ---- what the image is --------------------------------------------------- */

/* The decompressor the image's name asks for: NULL for a raw image. */
static const char *compression_of(const char *image)
{
	static const struct {
		const char *suffix, *codec;
	} suffixes[] = { { ".xz", "xz" }, { ".gz", "zlib" }, { ".zst", "zstd" }, { ".zstd", "zstd" } };
	size_t len = strlen(image);
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t n = strlen(suffixes[i].suffix);
		if (len > n && strcasecmp(image + len - n, suffixes[i].suffix) == 0)
			return suffixes[i].codec;
	}
	return NULL;
}

static bool is_sha256_hex(const char *text, size_t len)
{
	if (len != SHA256_HEX_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefABCDEF", text[i]))
			return false;
	return true;
}

/* The first word of IMAGE.sha256 (sha256sum writes "HEX  NAME"). A missing
 * file is no error: there is then nothing to check against. */
static int read_sha256_file(struct flash *f, const char *image)
{
	snprintf(f->expected_from, sizeof(f->expected_from), "%s.sha256", image);
	FILE *in = fopen(f->expected_from, "re");
	if (!in) {
		if (errno == ENOENT)
			return SWI_OK;
		return swi_fail(f->ctx, SWI_EIO, "%s: %s", f->expected_from, strerror(errno));
	}
	char line[512];
	bool read = fgets(line, sizeof(line), in) != NULL;
	fclose(in);
	size_t len = read ? strcspn(line, " \t\r\n") : 0;
	if (!is_sha256_hex(line, len))
		return swi_fail(f->ctx, SWI_EINVAL,
				"%s: does not start with a sha256 (64 hex digits, as sha256sum "
				"writes it)", f->expected_from);
	memcpy(f->expected, line, SHA256_HEX_LEN);
	f->expected[SHA256_HEX_LEN] = '\0';
	return SWI_OK;
}

static int expected_hash(struct flash *f, const char *image, const char *sha256)
{
	if (!sha256)
		return read_sha256_file(f, image);
	if (!is_sha256_hex(sha256, strlen(sha256)))
		return swi_fail(f->ctx, SWI_EINVAL, "sha256 '%s' is not 64 hex digits", sha256);
	memcpy(f->expected, sha256, SHA256_HEX_LEN + 1);
	snprintf(f->expected_from, sizeof(f->expected_from), "the sha256 given");
	return SWI_OK;
}

/* ---- what the target is ------------------------------------------------ */

static int refuse_mounted(swi_ctx_t *ctx, const char *device)
{
	char *where = NULL;
	int rc = swi_device_mounted(ctx, device, swi_opt_mountinfo_file(ctx), &where);
	if (rc == 1)
		rc = swi_fail(ctx, SWI_ECOMPAT, "%s is mounted on %s%s; refused to flash it", device,
			      where, strcmp(where, "/") == 0 ? " (the running system)" : "");
	free(where);
	return rc;
}

static int refuse_running_root(swi_ctx_t *ctx, const char *device)
{
	char *root = NULL;
	int rc = swi_root_on_device(ctx, swi_opt_cmdline_file(ctx), device, &root);
	if (rc == 1)
		rc = swi_fail(ctx, SWI_ECOMPAT,
			      "%s holds the running system (root=%s on %s); refused to flash it",
			      device, root, swi_opt_cmdline_file(ctx));
	free(root);
	return rc;
}

/* The running slot, when slots are configured and one is found. */
static const struct swi_slot *running_slot(swi_ctx_t *ctx)
{
	const struct swi_slot *running = NULL;
	const char *how;
	if (ctx->opt.slots.count == 0 ||
	    swi_slots_running(ctx, &ctx->opt.slots, swi_opt_cmdline_file(ctx),
			      swi_opt_mountinfo_file(ctx), &running, &how) != SWI_OK)
		return NULL;
	return running;
}

/* What a slip of the keyboard would make: a plain file in /dev where a
 * disk was meant, or the image written over itself. */
static int refuse_mistakes(swi_ctx_t *ctx, const char *image, const char *device)
{
	if (strncmp(device, "/dev/", 5) == 0 && access(device, F_OK) != 0)
		return swi_fail(ctx, SWI_EINVAL, "%s: no such device", device);
	if (swi_same_device(image, device))
		return swi_fail(ctx, SWI_EINVAL, "%s and %s are the same file", image, device);
	return SWI_OK;
}

static int refuse_in_use(swi_ctx_t *ctx, const char *device)
{
	int rc = refuse_mounted(ctx, device);
	if (rc == SWI_OK)
		rc = refuse_running_root(ctx, device);
	const struct swi_slot *running = rc == SWI_OK ? running_slot(ctx) : NULL;
	if (running && swi_same_device(running->device, device))
		return swi_fail(ctx, SWI_ECOMPAT, "%s is the running slot %s; refused to flash it",
				device, running->name);
	uint64_t limit = UINT64_MAX;
	if (rc == SWI_OK)
		rc = swi_target_window(ctx, "flash", device, 0, running,
				       swi_opt_mountinfo_file(ctx), &limit);
	if (rc == SWI_OK && limit != UINT64_MAX)
		rc = swi_fail(ctx, SWI_ECOMPAT,
			      "%s: a partition %" PRIu64 " bytes into this disk is mounted or runs "
			      "the system, and a whole-disk image would overwrite it; refused",
			      device, limit);
	return rc;
}

/* A block device is opened exclusively: the kernel refuses it while a file
 * system or another exclusive user holds it. A file is cut to the image's
 * size at the end (truncating it now would lose it to a failure before
 * the first write). */
static int open_target(struct flash *f)
{
	struct stat st;
	bool block = stat(f->device, &st) == 0 && S_ISBLK(st.st_mode);
	f->regular_file = !block && (stat(f->device, &st) != 0 || S_ISREG(st.st_mode));
	int flags = O_WRONLY | O_CLOEXEC | (block ? O_EXCL : O_CREAT);
	f->fd = open(f->device, flags, 0644);
	if (f->fd < 0)
		return swi_fail(f->ctx, errno == EBUSY ? SWI_ECOMPAT : SWI_EIO, "%s: %s%s",
				f->device, strerror(errno),
				errno == EBUSY ? " (in use by the system); refused to flash it" : "");
	return SWI_OK;
}

/* ---- writing ----------------------------------------------------------- */

/* The writer's sink: the decoded bytes onto the target, and into the hash. */
static int write_decoded(void *user, const void *buf, size_t len)
{
	struct flash *f = user;
	if (f->md && !EVP_DigestUpdate(f->md, buf, len))
		return swi_fail(f->ctx, SWI_ENOMEM, "%s: sha256 update failed", f->device);
	for (const char *p = buf; len > 0;) {
		ssize_t n = write(f->fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return swi_fail(f->ctx, SWI_EIO, "%s: write failed after %" PRIu64 " bytes: %s",
					f->device, f->written,
					n < 0 ? strerror(errno) : "no space left on the device");
		p += n;
		len -= (size_t)n;
		f->written += (uint64_t)n;
	}
	return SWI_OK;
}

static void report(swi_ctx_t *ctx, const char *image, uint64_t done, uint64_t total)
{
	if (!ctx->progress_fn)
		return;
	unsigned percent = total ? (unsigned)(done * 100 / total) : 0;
	struct swi_progress p = { .member = image, .done = done, .total = total, .index = 1,
				  .count = 1, .phase = SWI_PROGRESS_INSTALLING,
				  .percent = percent > 100 ? 100 : percent };
	ctx->progress_fn(ctx->progress_user, &p);
}

/* Reads the image into the stream, reporting progress by bytes read. */
static int feed_image(struct flash *f, const char *image, int in, struct swi_stream *s)
{
	struct stat st;
	uint64_t total = fstat(in, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	char *buf = malloc(READ_SIZE);
	if (!buf)
		return swi_fail(f->ctx, SWI_ENOMEM, "out of memory");
	uint64_t done = 0;
	int rc = SWI_OK;
	report(f->ctx, image, 0, total);
	while (rc == SWI_OK) {
		if (swi_cancelled(f->ctx)) {
			rc = swi_fail_cancelled(f->ctx);
			break;
		}
		ssize_t n = read(in, buf, READ_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			rc = swi_fail(f->ctx, SWI_EIO, "%s: read failed: %s", image, strerror(errno));
		if (n <= 0)
			break;
		rc = swi_stream_feed(s, buf, (size_t)n);
		done += (uint64_t)n;
		report(f->ctx, image, done, total > done ? total : done);
	}
	free(buf);
	return rc;
}

static int compare_hash(struct flash *f, const char *image)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[SHA256_HEX_LEN + 1];
	if (!EVP_DigestFinal_ex(f->md, digest, &n))
		return swi_fail(f->ctx, SWI_ENOMEM, "%s: sha256 failed", image);
	for (unsigned i = 0; i < n && i < SHA256_HEX_LEN / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	if (strcasecmp(hex, f->expected) == 0)
		return SWI_OK;
	return swi_fail(f->ctx, SWI_EHASH,
			"%s: sha256 mismatch: the decoded image is %s, %s says %s; %s was "
			"overwritten with these %" PRIu64 " bytes and must not be used: flash a good "
			"image onto it", image, hex, f->expected_from, f->expected, f->device,
			f->written);
}

/* Decodes the image into the target; then fsync and the hash. */
static int write_image(struct flash *f, const char *image, int in)
{
	struct swi_stream_spec spec = { .compressed = compression_of(image) };
	struct swi_stream *s;
	int rc = swi_stream_new(f->ctx, image, &spec, write_decoded, f, &s);
	if (rc)
		return rc;
	rc = feed_image(f, image, in, s);
	int finished = swi_stream_finish(s);
	swi_stream_free(s);
	rc = rc ? rc : finished;
	if (rc == SWI_OK && f->regular_file && ftruncate(f->fd, (off_t)f->written) != 0)
		rc = swi_fail(f->ctx, SWI_EIO, "%s: cannot cut it to %" PRIu64 " bytes: %s",
			      f->device, f->written, strerror(errno));
	if (rc == SWI_OK && fsync(f->fd) != 0)
		rc = swi_fail(f->ctx, SWI_EIO, "%s: fsync: %s", f->device, strerror(errno));
	if (rc == SWI_OK && f->md)
		return compare_hash(f, image);
	if (rc != SWI_OK && f->written > 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s", swi_errmsg(f->ctx));
		swi_fail(f->ctx, rc, "%s; %s was partially overwritten (%" PRIu64 " bytes "
			 "written) and must not be used: flash a good image onto it", why,
			 f->device, f->written);
	}
	return rc;
}

static int flash(struct flash *f, const char *image, const char *sha256)
{
	int rc = expected_hash(f, image, sha256);
	if (rc == SWI_OK && !f->expected[0])
		swi_log(f->ctx, SWI_LOG_WARN, "%s: no sha256 given and no %s: the written bytes "
			"are not checked", image, f->expected_from);
	if (rc == SWI_OK && f->expected[0]) {
		f->md = EVP_MD_CTX_new();
		if (!f->md || !EVP_DigestInit_ex(f->md, EVP_sha256(), NULL))
			rc = swi_fail(f->ctx, SWI_ENOMEM, "%s: cannot set up sha256", image);
	}
	int in = -1;
	if (rc == SWI_OK)
		rc = swi_open_image(f->ctx, image, &in);
	if (rc == SWI_OK)
		rc = refuse_mistakes(f->ctx, image, f->device);
	if (rc == SWI_OK)
		rc = refuse_in_use(f->ctx, f->device);
	if (rc == SWI_OK)
		rc = open_target(f);
	if (rc == SWI_OK)
		rc = write_image(f, image, in);
	if (in >= 0)
		close(in);
	if (rc == SWI_OK)
		swi_log(f->ctx, SWI_LOG_INFO, "%s: %" PRIu64 " bytes written to %s%s", image,
			f->written, f->device, f->md ? ", sha256 verified" : "");
	return rc;
}

int swi_flash(swi_ctx_t *ctx, const char *image, const char *device, const char *sha256)
{
	if (!ctx || !image || !device)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "flash: needs an image and a device")
			   : SWI_EINVAL;
	struct flash f = { .ctx = ctx, .device = device, .fd = -1 };
	int rc = flash(&f, image, sha256);
	if (f.fd >= 0 && close(f.fd) != 0 && rc == SWI_OK)
		rc = swi_fail(ctx, SWI_EIO, "%s: close: %s", device, strerror(errno));
	EVP_MD_CTX_free(f.md);
	atomic_store(&ctx->cancel, 0);
	return rc;
}
