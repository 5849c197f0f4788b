/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The transaction (lib/install.c), driven with a handler that records what
 * it is asked to do, on images built at test time with the cpio tool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <openssl/evp.h>
#include "swinstall.h"
#include "swinstall/handler.h"

/* What the recording handler saw. */
struct record {
	int opens, closes, aborts;
	char device[256];       /* the last opened entry's device */
	int writes_after_abort; /* a write that came after abort: a use after free */
	unsigned write_delay_us;
	char data[4096];
	size_t len;
	int fail_writes;        /* write fails with SWI_EIO (a full disk) */
	swi_ctx_t *cancel_on_write; /* the first write cancels the install */
	char events[256];       /* the staging handler's calls, in order */
};

static struct record rec;
/* What the log callback saw, one message a line, with its level. */
static char logged[4096];

static int rec_open(struct swi_target *t)
{
	const char *device = swi_target_attr(t, "device");
	snprintf(rec.device, sizeof(rec.device), "%s", device ? device : "");
	rec.opens++;
	return SWI_OK;
}

static int rec_write(struct swi_target *t, const void *buf, size_t len)
{
	if (rec.write_delay_us)
		usleep(rec.write_delay_us);
	if (rec.aborts) /* the handler's state would be gone by now */
		rec.writes_after_abort++;
	if (rec.cancel_on_write)
		swi_cancel(rec.cancel_on_write);
	if (rec.fail_writes)
		return swi_target_error(t, SWI_EIO, "no space left on the target");
	if (rec.len + len > sizeof(rec.data))
		return SWI_OK; /* large images are only streamed, not kept */
	memcpy(rec.data + rec.len, buf, len);
	rec.len += len;
	return SWI_OK;
}

static int rec_close(struct swi_target *t)
{
	(void)t;
	rec.closes++;
	return SWI_OK;
}

static void rec_abort(struct swi_target *t)
{
	(void)t;
	rec.aborts++;
}

static const struct swi_handler_attr rec_attrs[] = {
	{ "device", SWI_TYPE_STRING, 0 },
	{ "offset", SWI_TYPE_SIZE, 0 },
	{ NULL, 0, 0 },
};
static const struct swi_handler recorder = {
	.size = SWI_HANDLER_SIZE, .name = "recorder", .kinds = SWI_HANDLER_IMAGE | SWI_HANDLER_FILE,
	.attributes = rec_attrs,
	.open = rec_open, .write = rec_write, .close = rec_close, .abort = rec_abort,
};

/* A handler that stages like rawfile: it logs its calls by member. */
static void event(const struct swi_target *t, const char *what)
{
	size_t used = strlen(rec.events);
	snprintf(rec.events + used, sizeof(rec.events) - used, "%s%s:%s", used ? " " : "", what,
		 swi_target_member(t));
}

static int stage_open(struct swi_target *t) { event(t, "open"); return SWI_OK; }
static int stage_write(struct swi_target *t, const void *buf, size_t len)
{
	(void)t; (void)buf; (void)len;
	return SWI_OK;
}
static int stage_close(struct swi_target *t) { event(t, "close"); return SWI_OK; }
static void stage_abort(struct swi_target *t) { event(t, "abort"); }
static int stage_commit(struct swi_target *t) { event(t, "commit"); return SWI_OK; }

static const struct swi_handler stager = {
	.size = SWI_HANDLER_SIZE, .name = "stager", .kinds = SWI_HANDLER_IMAGE,
	.open = stage_open, .write = stage_write, .close = stage_close, .abort = stage_abort,
	.commit = stage_commit,
};

struct fixture {
	char dir[64];
	swi_ctx_t *ctx;
};

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	assert_true(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL));
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* Builds DIR/image.swu from the files named (in that order) with cpio. */
static void build_image(const char *dir, const char *format, const char *members)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
		 "cd %s && printf '%%s\\n' %s | cpio -o -H %s --quiet > image.swu",
		 dir, members, format);
	assert_int_equal(system(cmd), 0);
}

static char *image_path(const struct fixture *f)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	return path;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/swi-install-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	assert_int_equal(swi_register_handler(f->ctx, &recorder), SWI_OK);
	assert_int_equal(swi_register_handler(f->ctx, &stager), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "insecure", "1"), SWI_OK);
	/* Keep the device's own files out of the test. */
	char path[128];
	snprintf(path, sizeof(path), "%s/hwrevision", f->dir);
	swi_set_option(f->ctx, "hwrevision-file", path);
	snprintf(path, sizeof(path), "%s/sw-versions", f->dir);
	swi_set_option(f->ctx, "sw-versions-file", path);
	snprintf(path, sizeof(path), "%s/lock", f->dir);
	swi_set_option(f->ctx, "lock-file", path);
	snprintf(path, sizeof(path), "%s/state", f->dir);
	swi_set_option(f->ctx, "state-dir", path);
	memset(&rec, 0, sizeof(rec));
	logged[0] = '\0';
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

static const char payload[] = "the new root filesystem, byte for byte";

/* sw-description naming payload.bin once or more with the given sha256. */
static void write_description(struct fixture *f, const char *sha, const char *extra)
{
	char desc[2048];
	snprintf(desc, sizeof(desc),
		 "software = { version = \"1.0\";\n"
		 "  images = ( { filename = \"payload.bin\"; type = \"recorder\";\n"
		 "               device = \"/dev/null\"; sha256 = \"%s\"; } %s );\n"
		 "};\n", sha, extra);
	write_file(f->dir, "sw-description", desc, strlen(desc));
}

static void make_good_image(struct fixture *f, const char *format)
{
	char sha[65];
	sha256_hex(payload, strlen(payload), sha);
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	write_description(f, sha, "");
	build_image(f->dir, format, "sw-description payload.bin");
}

static void installs_and_closes_after_the_hash(void **state)
{
	struct fixture *f = *state;
	make_good_image(f, "crc");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.opens, 1);
	assert_int_equal(rec.closes, 1);
	assert_int_equal(rec.aborts, 0);
	assert_int_equal(rec.len, strlen(payload));
	assert_memory_equal(rec.data, payload, rec.len);
}

static void newc_archives_install_too(void **state)
{
	struct fixture *f = *state;
	make_good_image(f, "newc");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.closes, 1);
}

/* A read callback that hands out three bytes at a time, like a slow pipe. */
struct trickle {
	int fd;
};

static ssize_t trickle_read(void *user, void *buf, size_t len)
{
	struct trickle *t = user;
	return read(t->fd, buf, len < 3 ? len : 3);
}

static void installs_from_a_read_callback(void **state)
{
	struct fixture *f = *state;
	make_good_image(f, "crc");
	struct trickle t = { open(image_path(f), O_RDONLY) };
	assert_true(t.fd >= 0);
	assert_int_equal(swi_install_read(f->ctx, trickle_read, &t), SWI_OK);
	close(t.fd);
	assert_memory_equal(rec.data, payload, strlen(payload));
}

static void tampered_artifact_is_aborted_not_closed(void **state)
{
	struct fixture *f = *state;
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	write_description(f, "0000000000000000000000000000000000000000000000000000000000000000", "");
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EHASH);
	assert_int_equal(rec.closes, 0);
	assert_int_equal(rec.aborts, 1);
	assert_non_null(strstr(swi_errmsg(f->ctx), "payload.bin"));
}

/* Writes a file into a pipe, then keeps the pipe open (neither more data
 * nor its end) until told to stop. */
struct pipe_feeder {
	const char *path;
	int fd;
	int stop_fd;
};

static void *feed_then_hold(void *arg)
{
	struct pipe_feeder *p = arg;
	FILE *fp = fopen(p->path, "rb");
	char buf[4096];
	size_t n;
	while (fp && (n = fread(buf, 1, sizeof(buf), fp)) > 0)
		if (write(p->fd, buf, n) != (ssize_t)n)
			break;
	if (fp)
		fclose(fp);
	/* Blocks until the test writes to (or closes) the stop pipe. */
	if (read(p->stop_fd, buf, 1) < 0)
		buf[0] = 0;
	close(p->fd);
	return NULL;
}

/* From a pipe that stays open, a failed install still returns: pipes are
 * read on the caller's thread, which stops reading at the failure, never
 * by a read-ahead thread that would sit in read() and hold up the
 * clean-up. The bad artifact is followed by 200 KiB more: the failure
 * shows in the first buffer read, and the rest leaves a read-ahead thread
 * room to read on into the silence. (A hang ends in the alarm: failed.) */
static void failure_on_an_open_pipe_returns(void **state)
{
	struct fixture *f = *state;
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	static char filler[200 * 1024];
	write_file(f->dir, "filler.bin", filler, sizeof(filler));
	write_description(f, "0000000000000000000000000000000000000000000000000000000000000000",
			  ", { filename = \"filler.bin\"; type = \"recorder\"; }");
	build_image(f->dir, "crc", "sw-description payload.bin filler.bin");
	int p[2], stop[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(stop), 0);
	signal(SIGPIPE, SIG_IGN); /* the feeder may still be writing when we close */
	struct pipe_feeder feeder = { image_path(f), p[1], stop[0] };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, feed_then_hold, &feeder), 0);
	alarm(30);
	assert_int_equal(swi_install_fd(f->ctx, p[0]), SWI_EHASH);
	alarm(0);
	assert_non_null(strstr(swi_errmsg(f->ctx), "payload.bin: sha256 mismatch"));
	close(p[0]);
	close(stop[1]);
	assert_int_equal(pthread_join(t, NULL), 0);
	close(stop[0]);
}

static void unsigned_image_refused_without_insecure(void **state)
{
	struct fixture *f = *state;
	make_good_image(f, "crc");
	swi_set_option(f->ctx, "insecure", NULL);
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_ESIG);
	assert_int_equal(rec.opens, 0);
	assert_non_null(strstr(swi_errmsg(f->ctx), "--insecure"));
}

static void missing_artifact_fails(void **state)
{
	struct fixture *f = *state;
	char sha[65];
	sha256_hex(payload, strlen(payload), sha);
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	write_description(f, sha, ", { filename = \"absent.bin\"; type = \"recorder\"; }");
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "absent.bin"));
}

static void one_member_feeds_every_entry_naming_it(void **state)
{
	struct fixture *f = *state;
	char sha[65], extra[256];
	sha256_hex(payload, strlen(payload), sha);
	snprintf(extra, sizeof(extra),
		 ", { filename = \"payload.bin\"; type = \"recorder\"; sha256 = \"%s\"; }", sha);
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	write_description(f, sha, extra);
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.closes, 2);
	assert_int_equal(rec.len, 2 * strlen(payload));
}

static void first_member_must_be_sw_description(void **state)
{
	struct fixture *f = *state;
	make_good_image(f, "crc");
	build_image(f->dir, "crc", "payload.bin sw-description");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EFORMAT);
	assert_int_equal(rec.opens, 0);
}

static void unknown_handler_is_refused_before_writing(void **state)
{
	struct fixture *f = *state;
	const char desc[] = "software = { images = ( { filename = \"payload.bin\"; "
			    "type = \"teleport\"; } ); };";
	write_file(f->dir, "sw-description", desc, strlen(desc));
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EUNSUPPORTED);
	assert_non_null(strstr(swi_errmsg(f->ctx), "teleport"));
	assert_int_equal(rec.opens, 0);
}

static void attribute_the_handler_cannot_honour_is_refused(void **state)
{
	struct fixture *f = *state;
	char sha[65], desc[512];
	sha256_hex(payload, strlen(payload), sha);
	snprintf(desc, sizeof(desc),
		 "software = { images = ( { filename = \"payload.bin\"; type = \"recorder\"; "
		 "filesystem = \"ext4\"; sha256 = \"%s\"; } ); };", sha);
	write_file(f->dir, "sw-description", desc, strlen(desc));
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EUNSUPPORTED);
	assert_non_null(strstr(swi_errmsg(f->ctx), "filesystem"));
	assert_int_equal(rec.opens, 0);
}

static void check_and_dry_run_write_nothing(void **state)
{
	struct fixture *f = *state;
	make_good_image(f, "crc");
	swi_set_option(f->ctx, "check", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	swi_set_option(f->ctx, "check", NULL);
	swi_set_option(f->ctx, "dry-run", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.opens, 0);
	assert_int_equal(rec.len, 0);
}

static void dry_run_still_checks_hashes(void **state)
{
	struct fixture *f = *state;
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	write_description(f, "1111111111111111111111111111111111111111111111111111111111111111", "");
	build_image(f->dir, "crc", "sw-description payload.bin");
	swi_set_option(f->ctx, "dry-run", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EHASH);
}

static void install_if_different_skips_installed_version(void **state)
{
	struct fixture *f = *state;
	char sha[65], desc[512];
	sha256_hex(payload, strlen(payload), sha);
	snprintf(desc, sizeof(desc),
		 "software = { images = ( { filename = \"payload.bin\"; type = \"recorder\"; "
		 "name = \"rootfs\"; version = \"2.0\"; install-if-different = true; "
		 "sha256 = \"%s\"; } ); };", sha);
	write_file(f->dir, "sw-description", desc, strlen(desc));
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	write_file(f->dir, "sw-versions", "rootfs 2.0\n", 11);
	build_image(f->dir, "crc", "sw-description payload.bin");
	struct swi_result r;
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.opens, 0);
	assert_int_equal(swi_get_result(f->ctx, &r), SWI_OK);
	assert_true(r.nothing_to_do);
	assert_false(r.committed);
	assert_int_equal(r.skipped, 1);
	assert_int_equal(r.planned, 0);
	write_file(f->dir, "sw-versions", "rootfs 1.0\n", 11);
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.closes, 1);
	assert_int_equal(swi_get_result(f->ctx, &r), SWI_OK);
	assert_false(r.nothing_to_do);
	assert_true(r.committed);
	assert_int_equal(r.installed, 1);
}

/* Selections only, none chosen: nothing for this device, refused before
 * anything is opened, naming what the image offers; by -c too. */
static void an_image_with_nothing_for_the_device_is_refused(void **state)
{
	struct fixture *f = *state;
	char sha[65], desc[512];
	sha256_hex(payload, strlen(payload), sha);
	snprintf(desc, sizeof(desc),
		 "software = { stable = {\n"
		 " copy1 = { images = ( { filename = \"payload.bin\"; type = \"recorder\"; sha256 = \"%1$s\"; } ); };\n"
		 " copy2 = { images = ( { filename = \"payload.bin\"; type = \"recorder\"; sha256 = \"%1$s\"; } ); };\n"
		 "}; };", sha);
	write_file(f->dir, "sw-description", desc, strlen(desc));
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_ECOMPAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "offers stable,copy1 stable,copy2"));
	swi_set_option(f->ctx, "check", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_ECOMPAT);
	swi_set_option(f->ctx, "check", NULL);
	assert_int_equal(rec.opens, 0);
	swi_set_option(f->ctx, "select", "stable,copy2");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.closes, 1);
}

static void a_bad_bootenv_name_is_refused_before_writing(void **state)
{
	struct fixture *f = *state;
	char sha[65];
	sha256_hex(payload, strlen(payload), sha);
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	write_description(f, sha, "); bootenv = ( { name = \"boot=part\"; value = \"3\"; }");
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "boot=part"));
	assert_int_equal(rec.opens, 0);
}

/* swi_cancel() during the stream, even of the last bytes: ECANCELED,
 * nothing committed. */
static void a_cancel_stops_the_install(void **state)
{
	struct fixture *f = *state;
	struct swi_result r;
	make_good_image(f, "crc");
	rec.cancel_on_write = f->ctx;
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_ECANCELED);
	assert_non_null(strstr(swi_errmsg(f->ctx), "cancelled"));
	assert_int_equal(swi_get_result(f->ctx, &r), SWI_OK);
	assert_false(r.committed);
	/* The cancel was used up: the next install runs. */
	rec.cancel_on_write = NULL;
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
}

/* A target that fails (a full disk): the rest of the member is hashed to
 * tell an image made to fail it (exit 3) from a target that failed. */
static void a_write_error_is_blamed_on_a_tampered_image(void **state)
{
	struct fixture *f = *state;
	make_good_image(f, "crc");
	rec.fail_writes = 1;
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(f->ctx), "no space left on the target"));
	write_description(f, "0000000000000000000000000000000000000000000000000000000000000000", "");
	build_image(f->dir, "crc", "sw-description payload.bin");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EHASH);
	assert_non_null(strstr(swi_errmsg(f->ctx), "sha256 mismatch"));
	assert_non_null(strstr(swi_errmsg(f->ctx), "writing it had failed: payload.bin: no space"));
}

/* stager_image: two members for the staging handler; the second with sha. */
static void stager_image(struct fixture *f, const char *second_sha)
{
	char sha[65], desc[1024];
	sha256_hex(payload, strlen(payload), sha);
	snprintf(desc, sizeof(desc),
		 "software = { images = (\n"
		 " { filename = \"one.bin\"; type = \"stager\"; sha256 = \"%s\"; },\n"
		 " { filename = \"two.bin\"; type = \"stager\"; sha256 = \"%s\"; } ); };",
		 sha, second_sha ? second_sha : sha);
	write_file(f->dir, "sw-description", desc, strlen(desc));
	write_file(f->dir, "one.bin", payload, strlen(payload));
	write_file(f->dir, "two.bin", payload, strlen(payload));
	build_image(f->dir, "crc", "sw-description one.bin two.bin");
}

/* A staging handler's results are published together, after every entry
 * closed; a later failure aborts the ones closed before it. */
static void staged_results_are_committed_together(void **state)
{
	struct fixture *f = *state;
	stager_image(f, NULL);
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_string_equal(rec.events,
			    "open:one.bin close:one.bin open:two.bin close:two.bin "
			    "commit:one.bin commit:two.bin");
	rec.events[0] = '\0';
	stager_image(f, "0000000000000000000000000000000000000000000000000000000000000000");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EHASH);
	assert_string_equal(rec.events,
			    "open:one.bin close:one.bin open:two.bin abort:two.bin abort:one.bin");
	/* A dry run stages nothing. */
	rec.events[0] = '\0';
	stager_image(f, NULL);
	swi_set_option(f->ctx, "dry-run", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_string_equal(rec.events, "");
}

/* Another holder of the lock: an install is refused, a check or a dry run
 * takes no lock. */
static void an_install_takes_the_lock(void **state)
{
	struct fixture *f = *state;
	char lock[128];
	make_good_image(f, "crc");
	snprintf(lock, sizeof(lock), "%s/lock", f->dir);
	int fd = open(lock, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EBUSY);
	assert_int_equal(rec.opens, 0);
	swi_set_option(f->ctx, "dry-run", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	swi_set_option(f->ctx, "dry-run", NULL);
	swi_set_option(f->ctx, "check", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	swi_set_option(f->ctx, "check", NULL);
	close(fd);
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.closes, 1);
}

static void hardware_mismatch_is_refused(void **state)
{
	struct fixture *f = *state;
	char sha[65], desc[512];
	sha256_hex(payload, strlen(payload), sha);
	snprintf(desc, sizeof(desc),
		 "software = { hardware-compatibility = [ \"1.0\", \"1.1\" ];"
		 " images = ( { filename = \"payload.bin\"; type = \"recorder\"; "
		 "sha256 = \"%s\"; } ); };", sha);
	write_file(f->dir, "sw-description", desc, strlen(desc));
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	build_image(f->dir, "crc", "sw-description payload.bin");
	swi_set_option(f->ctx, "hwrevision", "myboard:2.0");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_ECOMPAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "2.0"));
	swi_set_option(f->ctx, "hwrevision", "myboard:1.1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
}

static void missing_image_file_is_a_usage_error(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_install_file(f->ctx, "/nonexistent/x.swu"), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(f->ctx), "/nonexistent/x.swu"));
}

/* An A/B device of two files with slot A running, and an image with both
 * selections, each naming its slot's file as device. */
static void make_ab_device(struct fixture *f, const char *mountinfo)
{
	char text[2048], sha[65];
	sha256_hex(payload, strlen(payload), sha);
	write_file(f->dir, "slotA", "", 0);
	write_file(f->dir, "slotB", "", 0);
	write_file(f->dir, "cmdline", "quiet swinstall.slot=A\n", 23);
	write_file(f->dir, "mountinfo", mountinfo, strlen(mountinfo));
	snprintf(text, sizeof(text),
		 "cmdline-file = \"%1$s/cmdline\"; mountinfo-file = \"%1$s/mountinfo\";\n"
		 "slots = (\n"
		 " { name = \"A\"; device = \"%1$s/slotA\"; select = \"stable,copy1\"; },\n"
		 " { name = \"B\"; device = \"%1$s/slotB\"; select = \"stable,copy2\"; } );\n",
		 f->dir);
	write_file(f->dir, "swinstall.conf", text, strlen(text));
	snprintf(text, sizeof(text),
		 "software = { stable = {\n"
		 " copy1 = { images = ( { filename = \"payload.bin\"; type = \"recorder\";"
		 " device = \"%1$s/slotA\"; sha256 = \"%2$s\"; } ); };\n"
		 " copy2 = { images = ( { filename = \"payload.bin\"; type = \"recorder\";"
		 " device = \"%1$s/slotB\"; sha256 = \"%2$s\"; } ); };\n"
		 "}; };\n", f->dir, sha);
	write_file(f->dir, "sw-description", text, strlen(text));
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	build_image(f->dir, "crc", "sw-description payload.bin");
	snprintf(text, sizeof(text), "%s/swinstall.conf", f->dir);
	assert_int_equal(swi_load_config(f->ctx, text), SWI_OK);
}

static void installs_into_the_standby_slot_by_itself(void **state)
{
	struct fixture *f = *state;
	char want[128];
	make_ab_device(f, "");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	snprintf(want, sizeof(want), "%s/slotB", f->dir);
	assert_string_equal(rec.device, want);
	assert_int_equal(rec.closes, 1);
}

static void the_running_slot_is_never_selected(void **state)
{
	struct fixture *f = *state;
	make_ab_device(f, "");
	swi_set_option(f->ctx, "select", "stable,copy1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_ECOMPAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "running slot A"));
	assert_int_equal(rec.opens, 0);
}

static void a_mounted_target_is_refused(void **state)
{
	struct fixture *f = *state;
	char mountinfo[512];
	snprintf(mountinfo, sizeof(mountinfo),
		 "36 25 0:32 / /mnt/data rw,relatime - ext4 %s/slotB rw\n", f->dir);
	make_ab_device(f, mountinfo);
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_ECOMPAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "mounted on /mnt/data"));
	assert_int_equal(rec.opens, 0);
}

/* A stream cut off while the worker is still writing: abort comes only
 * once the worker stopped writing through the handler. */
static void abort_waits_for_the_writer(void **state)
{
	struct fixture *f = *state;
	size_t len = 2 << 20;
	char *big = malloc(len), sha[65], desc[512], cmd[256];
	memset(big, 'x', len);
	sha256_hex(big, len, sha);
	write_file(f->dir, "payload.bin", big, len);
	snprintf(desc, sizeof(desc),
		 "software = { images = ( { filename = \"payload.bin\"; type = \"recorder\"; "
		 "sha256 = \"%s\"; } ); };", sha);
	write_file(f->dir, "sw-description", desc, strlen(desc));
	build_image(f->dir, "crc", "sw-description payload.bin");
	snprintf(cmd, sizeof(cmd), "truncate -s 1500000 %s", image_path(f));
	assert_int_equal(system(cmd), 0);
	rec.write_delay_us = 2000;
	assert_int_not_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.aborts, 1);
	assert_int_equal(rec.writes_after_abort, 0);
	free(big);
}

static void keep_log(void *user, int level, const char *message)
{
	(void)user;
	size_t used = strlen(logged);
	snprintf(logged + used, sizeof(logged) - used, "%d %s\n", level, message);
}

/* An image with settings (more of software, before the collection) and
 * one entry of attributes attrs (a collection's element after filename and
 * sha256) for payload.bin, in collection collection. */
static void image_with_settings_and_entry(struct fixture *f, const char *settings,
					  const char *collection, const char *attrs)
{
	char sha[65], desc[1024];
	sha256_hex(payload, strlen(payload), sha);
	snprintf(desc, sizeof(desc),
		 "software = { %s %s = ( { filename = \"payload.bin\"; sha256 = \"%s\"; %s } ); };",
		 settings, collection, sha, attrs);
	write_file(f->dir, "sw-description", desc, strlen(desc));
	write_file(f->dir, "payload.bin", payload, strlen(payload));
	build_image(f->dir, "crc", "sw-description payload.bin");
}

static void image_with_entry(struct fixture *f, const char *collection, const char *attrs)
{
	image_with_settings_and_entry(f, "", collection, attrs);
}

/* The status and message of a check, a dry run and an install of the
 * image: all three must be the same. */
static int same_verdict_in_every_mode(struct fixture *f, const char *message)
{
	static const char *const modes[] = { "check", "dry-run", NULL };
	int first = 0;
	for (size_t i = 0; i < 3; i++) {
		if (modes[i])
			swi_set_option(f->ctx, modes[i], "1");
		int rc = swi_install_file(f->ctx, image_path(f));
		if (modes[i])
			swi_set_option(f->ctx, modes[i], NULL);
		if (!strstr(swi_errmsg(f->ctx), message))
			fail_msg("%s: '%s' does not mention '%s'", modes[i] ? modes[i] : "install",
				 swi_errmsg(f->ctx), message);
		if (i > 0 && rc != first)
			fail_msg("%s: status %d, not %d", modes[i] ? modes[i] : "install", rc, first);
		first = rc;
	}
	assert_int_equal(rec.opens, 0);
	return first;
}

/* Hooks are part of reading sw-description, as in SWUpdate: a check and
 * a dry run run them too, and refuse what they refuse. */
static void hooks_run_in_every_mode(void **state)
{
	struct fixture *f = *state;
	image_with_settings_and_entry(f, "embedded-script = \"function no(e) return false end\";",
				      "images", "type = \"recorder\"; hook = \"no\";");
	assert_int_equal(same_verdict_in_every_mode(f, "images[0] (payload.bin): hook no refused "
						   "the image (returned false)"), SWI_ECOMPAT);
}

/* What this build lacks is refused before any target is looked at, the
 * same way by -c, -n and an install, naming the entry's place. */
static void missing_features_refused_alike(void **state)
{
	struct fixture *f = *state;
	image_with_entry(f, "images", "type = \"teleport\";");
	assert_int_equal(same_verdict_in_every_mode(f, "images[0] (payload.bin): no handler "
						   "\"teleport\" in this build"), SWI_EUNSUPPORTED);
	image_with_entry(f, "files", "type = \"recorder\"; path = \"/etc/x\";");
	assert_int_equal(same_verdict_in_every_mode(f, "files[0] (payload.bin): handler 'recorder' "
						   "cannot honour attribute 'path'"), SWI_EUNSUPPORTED);
	/* Partitions carry no data: SWUpdate's default handler is missing, and
	 * a handler that wants data (not SWI_HANDLER_NO_DATA) cannot be fed. */
	static const struct swi_handler parter = {
		.size = SWI_HANDLER_SIZE, .name = "parter", .kinds = SWI_HANDLER_PARTITION, .open = rec_open,
		.write = rec_write, .close = rec_close, .abort = rec_abort,
	};
	assert_int_equal(swi_register_handler(f->ctx, &parter), SWI_OK);
	const char partitions[] = "software = { partitions = ( { name = \"rootfs\"; }, "
				  "{ type = \"parter\"; name = \"data\"; } ); };";
	write_file(f->dir, "sw-description", partitions, strlen(partitions));
	build_image(f->dir, "crc", "sw-description");
	assert_int_equal(same_verdict_in_every_mode(f, "partitions[0] (rootfs): no handler "
						   "\"ubipartition\""), SWI_EUNSUPPORTED);
	const char data_less[] = "software = { partitions = ( "
				 "{ type = \"parter\"; name = \"data\"; } ); };";
	write_file(f->dir, "sw-description", data_less, strlen(data_less));
	build_image(f->dir, "crc", "sw-description");
	assert_int_equal(same_verdict_in_every_mode(f, "partitions[0] (data): handler 'parter' "
						   "needs the entry's data"), SWI_EUNSUPPORTED);
}

/* A value of the wrong type is refused at planning by all three modes too;
 * a key nobody knows is ignored. */
static void attribute_types_checked_at_planning(void **state)
{
	struct fixture *f = *state;
	image_with_entry(f, "images", "type = \"recorder\"; offset = \"4X\";");
	assert_int_equal(same_verdict_in_every_mode(f, "images[0] (payload.bin): attribute "
						   "'offset' is \"4X\"; expected a size"), SWI_EFORMAT);
	image_with_entry(f, "images", "type = \"recorder\"; install-if-different = \"yes\";");
	assert_int_equal(same_verdict_in_every_mode(f, "'install-if-different' is \"yes\"; "
						   "expected true or false"), SWI_EFORMAT);
	image_with_entry(f, "images", "type = \"recorder\"; offset = 8192; colour = \"blue\";");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	assert_int_equal(rec.closes, 1);
}

/* A build host has none of the device's targets: a check never looks, a
 * dry run warns and succeeds, an install fails. The log of an install
 * lists the handlers. */
static void a_build_host_vets_images(void **state)
{
	struct fixture *f = *state;
	char attrs[256];
	snprintf(attrs, sizeof(attrs), "type = \"raw\"; device = \"%s/absent.img\";", f->dir);
	image_with_entry(f, "images", attrs);
	swi_set_log(f->ctx, keep_log, NULL);
	swi_set_option(f->ctx, "check", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	swi_set_option(f->ctx, "check", NULL);
	assert_non_null(strstr(logged, "handlers: stager (images), recorder (images, files), "
				       "raw (images, files), rawfile"));
	assert_null(strstr(logged, "absent.img"));
	swi_set_option(f->ctx, "dry-run", "1");
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_OK);
	swi_set_option(f->ctx, "dry-run", NULL);
	assert_non_null(strstr(logged, "1 payload.bin: "));
	assert_non_null(strstr(logged, "absent.img: No such file or directory (not on this "
				       "machine"));
	assert_int_equal(swi_install_file(f->ctx, image_path(f)), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(f->ctx), "absent.img: No such file or directory"));
	char path[128];
	snprintf(path, sizeof(path), "%s/absent.img", f->dir);
	assert_int_equal(access(path, F_OK), -1);
	swi_set_log(f->ctx, NULL, NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(installs_and_closes_after_the_hash),
		T(newc_archives_install_too),
		T(installs_from_a_read_callback),
		T(tampered_artifact_is_aborted_not_closed),
		T(failure_on_an_open_pipe_returns),
		T(unsigned_image_refused_without_insecure),
		T(missing_artifact_fails),
		T(one_member_feeds_every_entry_naming_it),
		T(first_member_must_be_sw_description),
		T(unknown_handler_is_refused_before_writing),
		T(attribute_the_handler_cannot_honour_is_refused),
		T(check_and_dry_run_write_nothing),
		T(dry_run_still_checks_hashes),
		T(install_if_different_skips_installed_version),
		T(hardware_mismatch_is_refused),
		T(missing_image_file_is_a_usage_error),
		T(installs_into_the_standby_slot_by_itself),
		T(the_running_slot_is_never_selected),
		T(a_mounted_target_is_refused),
		T(abort_waits_for_the_writer),
		T(an_image_with_nothing_for_the_device_is_refused),
		T(a_bad_bootenv_name_is_refused_before_writing),
		T(a_cancel_stops_the_install),
		T(a_write_error_is_blamed_on_a_tampered_image),
		T(staged_results_are_committed_together),
		T(an_install_takes_the_lock),
		T(missing_features_refused_alike),
		T(hooks_run_in_every_mode),
		T(attribute_types_checked_at_planning),
		T(a_build_host_vets_images),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
