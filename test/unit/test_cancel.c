/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swi_cancel() at any moment of an install: a signed image with a script,
 * a raw slot image, a rawfile and a bootloader variable, installed on a
 * simulated A/B device (slot files, a GRUB environment block) with the
 * built-in handlers. Every cancel must end the install as a failure does:
 * the running slot untouched, the boot selection kept, nothing staged put
 * in place; and the library must stop reading the image.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "testutil.h"
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "swinstall.h"

#define SLOT_SIZE (32 * 1024)
#define ROOTFS_SIZE (24 * 1024)
#define READ_CAP 1000       /* the most a read callback hands out at once */
#define OFFSET_STEP 307     /* cancel points through the image, besides its boundaries */
#define MAX_POINTS 1024

/* A file's bytes, kept to compare or restore it. */
struct blob {
	char *data;
	size_t len;
};

/* An image in memory, for swi_install_read, and where its parts are. */
struct swu_image {
	struct blob bytes;
	size_t boundaries[32];   /* where each cpio header and member's data begins and ends */
	size_t nboundaries;
	size_t artifacts_begin;  /* the first member after sw-description.sig */
};

struct fixture {
	char dir[64];
	swi_ctx_t *ctx;
	struct swu_image streamed;  /* setup.sh first: each artifact streams to its target */
	struct swu_image spooled;   /* rootfs.img before setup.sh: spooled until it ran */
	struct blob env_before;  /* the GRUB environment block before any install */
	struct blob env_failed;  /* ... as a failed install leaves it */
	struct blob slot_a, slot_b, app_conf, sw_versions;
};

/* ---- files ---------------------------------------------------------------- */

static void path_in(const struct fixture *f, const char *name, char out[256])
{
	snprintf(out, 256, "%s/%s", f->dir, name);
}

static struct blob read_blob(const struct fixture *f, const char *name)
{
	char path[256];
	path_in(f, name, path);
	struct blob b = { 0 };
	b.data = file_contents(path, &b.len);
	return b;
}

static void write_blob(const struct fixture *f, const char *name, const void *data, size_t len)
{
	char path[256];
	path_in(f, name, path);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void write_text(const struct fixture *f, const char *name, const char *text)
{
	write_blob(f, name, text, strlen(text));
}

static bool same_as(const struct fixture *f, const char *name, const struct blob *want)
{
	struct blob now = read_blob(f, name);
	bool same = now.len == want->len && memcmp(now.data, want->data, now.len) == 0;
	free(now.data);
	return same;
}

/* Runs a shell command; fmt names the test directory as %1$s. */
static void sh(const struct fixture *f, const char *fmt)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), fmt, f->dir);
	assert_int_equal(system(cmd), 0);
}

/* ---- the device and the image ----------------------------------------------- */

static void make_device(struct fixture *f)
{
	static char slot[SLOT_SIZE];
	char text[2048];
	sh(f, "mkdir -p %1$s/etc %1$s/w && cd %1$s && grub-editenv grubenv create && "
	      "grub-editenv grubenv set rootpart=2 ustate=0");
	memset(slot, 'A', SLOT_SIZE);
	write_blob(f, "slotA", slot, SLOT_SIZE);
	memset(slot, 'b', SLOT_SIZE);
	write_blob(f, "slotB", slot, SLOT_SIZE);
	write_text(f, "etc/app.conf", "mode=old\n");
	write_text(f, "sw-versions", "rootfs 1.0\n");
	write_text(f, "cmdline", "quiet swinstall.slot=A\n");
	write_text(f, "mountinfo", "");
	snprintf(text, sizeof(text),
		 "bootloader = \"grub\"; grubenv = \"%1$s/grubenv\";\n"
		 "public-key = \"%1$s/rsa.pub\";\n"
		 "cmdline-file = \"%1$s/cmdline\"; mountinfo-file = \"%1$s/mountinfo\";\n"
		 "sw-versions-file = \"%1$s/sw-versions\"; hwrevision-file = \"%1$s/hwrevision\";\n"
		 "lock-file = \"%1$s/lock\"; state-dir = \"%1$s/state\";\n"
		 "slots = (\n"
		 " { name = \"A\"; device = \"%1$s/slotA\"; select = \"stable,copy1\";"
		 " bootenv = { rootpart = \"2\"; }; },\n"
		 " { name = \"B\"; device = \"%1$s/slotB\"; select = \"stable,copy2\";"
		 " bootenv = { rootpart = \"3\"; }; }\n"
		 ");\n", f->dir);
	write_text(f, "swinstall.conf", text);
}

/* Bytes that do not compress, the same every time. */
static void fill_rootfs(char *buf, size_t len)
{
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (char)x;
	}
}

/* The sha256 of w/name. */
static void member_sha(const struct fixture *f, const char *name, char sha[65])
{
	char path[64];
	snprintf(path, sizeof(path), "w/%s", name);
	struct blob b = read_blob(f, path);
	sha256_hex(b.data, b.len, sha);
	free(b.data);
}

/* w/sw-description for the members in w/, signed with rsa.key. */
static void write_description(struct fixture *f)
{
	char desc[4096], rootfs[65], conf[65], shell[65], lua[65];
	member_sha(f, "rootfs.img", rootfs);
	member_sha(f, "app.conf", conf);
	member_sha(f, "setup.sh", shell);
	member_sha(f, "setup.lua", lua);
	snprintf(desc, sizeof(desc),
		 "software = { version = \"2.0\"; stable = { copy2 = {\n"
		 " images = ( { filename = \"rootfs.img\"; type = \"raw\";"
		 " device = \"%1$s/slotB\"; sha256 = \"%2$s\"; } );\n"
		 " files = ( { filename = \"app.conf\"; type = \"rawfile\";"
		 " path = \"%1$s/etc/app.conf\"; sha256 = \"%3$s\"; } );\n"
		 " scripts = ( { filename = \"setup.sh\"; type = \"shellscript\"; sha256 = \"%4$s\"; },\n"
		 "  { filename = \"setup.lua\"; type = \"lua\"; sha256 = \"%5$s\"; } );\n"
		 " bootenv = ( { name = \"kernelargs\"; value = \"quiet new\"; } );\n"
		 "}; }; };\n", f->dir, rootfs, conf, shell, lua);
	write_text(f, "w/sw-description", desc);
	sh(f, "cd %1$s/w && openssl dgst -sha256 -sign ../rsa.key -out sw-description.sig "
	      "sw-description");
}

/* The member orders of the images, as the cpio tool gets them. */
#define STREAMED "sw-description sw-description.sig setup.sh setup.lua rootfs.img app.conf"
#define SPOOLED "sw-description sw-description.sig rootfs.img setup.sh setup.lua app.conf"

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

/* Where each member's header and data begin and end, from the cpio
 * headers ("070702", then 13 eight-digit hex fields). */
static void find_boundaries(struct swu_image *img)
{
	size_t at = 0;
	for (;;) {
		assert_true(at + 110 <= img->bytes.len);
		assert_memory_equal(img->bytes.data + at, "070702", 6);
		char field[9] = { 0 };
		memcpy(field, img->bytes.data + at + 6 + 6 * 8, 8);
		size_t size = strtoul(field, NULL, 16);
		memcpy(field, img->bytes.data + at + 6 + 11 * 8, 8);
		size_t namesize = strtoul(field, NULL, 16);
		const char *name = img->bytes.data + at + 110;
		size_t data = align4(at + 110 + namesize);
		assert_true(img->nboundaries + 3 <= sizeof(img->boundaries) / sizeof(img->boundaries[0]));
		img->boundaries[img->nboundaries++] = at;
		img->boundaries[img->nboundaries++] = data;
		img->boundaries[img->nboundaries++] = data + size;
		if (strcmp(name, "sw-description.sig") == 0)
			img->artifacts_begin = align4(data + size);
		if (strcmp(name, "TRAILER!!!") == 0)
			break;
		at = align4(data + size);
	}
	assert_int_not_equal(img->artifacts_begin, 0);
}

/* DIR/name of the members of w/, in that order, read into img. */
static void pack(struct fixture *f, const char *name, const char *members, struct swu_image *img)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "cd %s/w && printf '%%s\\n' %s | cpio -o -H crc --quiet >../%s",
		 f->dir, members, name);
	assert_int_equal(system(cmd), 0);
	img->bytes = read_blob(f, name);
	find_boundaries(img);
}

static void build_images(struct fixture *f)
{
	char *rootfs = malloc(ROOTFS_SIZE);
	assert_non_null(rootfs);
	fill_rootfs(rootfs, ROOTFS_SIZE);
	write_blob(f, "w/rootfs.img", rootfs, ROOTFS_SIZE);
	free(rootfs);
	write_text(f, "w/app.conf", "mode=new\nserver=https://updates.example.com\n");
	/* Each script records its phases, one a line, in record. */
	char script[512];
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$1\" >>%s/record\n", f->dir);
	write_text(f, "w/setup.sh", script);
	snprintf(script, sizeof(script),
		 "local function record(what)\n"
		 " local out = assert(io.open(\"%s/record\", \"a\"))\n"
		 " out:write(what, \"\\n\")\n"
		 " out:close()\n"
		 " return true\n"
		 "end\n"
		 "function preinst() return record(\"lua preinst\") end\n"
		 "function postinst() return record(\"lua postinst\") end\n"
		 "function postfailure() return record(\"lua postfailure\") end\n", f->dir);
	write_text(f, "w/setup.lua", script);
	write_description(f);
	pack(f, "image.swu", STREAMED, &f->streamed);
	pack(f, "spooled.swu", SPOOLED, &f->spooled);
}

/* Puts back what an install may change. */
static void restore_device(struct fixture *f)
{
	write_blob(f, "grubenv", f->env_before.data, f->env_before.len);
	write_blob(f, "slotB", f->slot_b.data, f->slot_b.len);
	write_blob(f, "etc/app.conf", f->app_conf.data, f->app_conf.len);
	write_blob(f, "sw-versions", f->sw_versions.data, f->sw_versions.len);
	char record[256];
	path_in(f, "record", record);
	assert_true(unlink(record) == 0 || errno == ENOENT);
}

/* What a failure does to the environment: an image whose last artifact
 * does not match its hash, installed once. */
static void learn_failed_env(struct fixture *f)
{
	sh(f, "cd %1$s && cp image.swu bad.swu && "
	      "sed -i 's/server=https/server=httpX/' bad.swu");
	char bad[256];
	path_in(f, "bad.swu", bad);
	int rc = swi_install_file(f->ctx, bad);
	if (rc != SWI_EHASH)
		fail_msg("the tampered image: %s: %s", swi_strerror(rc), swi_errmsg(f->ctx));
	f->env_failed = read_blob(f, "grubenv");
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s/grubenv list | sort | tr '\\n' ' '", f->dir);
	char *vars = command_output(cmd);
	assert_non_null(strstr(vars, "recovery_status=failed "));
	assert_non_null(strstr(vars, "rootpart=2 "));
	free(vars);
	restore_device(f);
}

static int group_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	*state = f;
	strcpy(f->dir, "/tmp/swi-cancel-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	make_device(f);
	sh(f, "cd %1$s && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 "
	      "-out rsa.key 2>/dev/null && openssl pkey -in rsa.key -pubout -out rsa.pub");
	build_images(f);
	f->env_before = read_blob(f, "grubenv");
	f->slot_a = read_blob(f, "slotA");
	f->slot_b = read_blob(f, "slotB");
	f->app_conf = read_blob(f, "etc/app.conf");
	f->sw_versions = read_blob(f, "sw-versions");
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	char conf[256];
	path_in(f, "swinstall.conf", conf);
	assert_int_equal(swi_load_config(f->ctx, conf), SWI_OK);
	learn_failed_env(f);
	return 0;
}

static int group_teardown(void **state)
{
	struct fixture *f = *state;
	int rc = remove_tree(f->dir);
	swi_ctx_free(f->ctx);
	struct blob *blobs[] = { &f->streamed.bytes, &f->spooled.bytes, &f->env_before, &f->env_failed, &f->slot_a,
				 &f->slot_b, &f->app_conf, &f->sw_versions };
	for (size_t i = 0; i < sizeof(blobs) / sizeof(blobs[0]); i++)
		free(blobs[i]->data);
	free(f);
	return rc == 0 ? 0 : -1;
}

static int test_setup(void **state)
{
	struct fixture *f = *state;
	restore_device(f);
	swi_set_log(f->ctx, NULL, NULL);
	swi_set_progress(f->ctx, NULL, NULL);
	return 0;
}

/* ---- what a cancelled install leaves ----------------------------------------- */

/* How many "after" scripts ran (recorded their postinst). */
static unsigned after_scripts_run(const struct fixture *f)
{
	char path[256];
	path_in(f, "record", path);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return 0;
	char line[64];
	unsigned n = 0;
	while (fgets(line, sizeof(line), fp))
		n += strcmp(line, "postinst\n") == 0 || strcmp(line, "lua postinst\n") == 0;
	fclose(fp);
	return n;
}

/* How many files are in a directory of the test's. */
static unsigned files_in(const struct fixture *f, const char *name)
{
	char path[256];
	path_in(f, name, path);
	DIR *d = opendir(path);
	assert_non_null(d);
	unsigned n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

/*
 * A cancelled install as any failed one: the running slot's bytes and the
 * boot selection as they were (the environment untouched, or marked
 * failed exactly as a failure marks it), the rawfile not replaced and no
 * file of it left, no "after" script started after the cancel (after_ran
 * had run before it), nothing committed. untouched: the cancel came before
 * anything was written.
 */
static void expect_nothing_switched(struct fixture *f, bool untouched, unsigned after_ran,
				    const char *when)
{
	struct swi_result r;
	assert_true(same_as(f, "slotA", &f->slot_a));
	bool env_before = same_as(f, "grubenv", &f->env_before);
	if (!env_before && !same_as(f, "grubenv", &f->env_failed))
		fail_msg("%s: the environment is neither as before nor as a failure leaves it", when);
	if (untouched && (!env_before || !same_as(f, "slotB", &f->slot_b)))
		fail_msg("%s: the device changed before anything was to be written", when);
	assert_true(same_as(f, "etc/app.conf", &f->app_conf));
	if (files_in(f, "etc") != 1)
		fail_msg("%s: files left next to etc/app.conf", when);
	if (after_scripts_run(f) > after_ran)
		fail_msg("%s: an \"after\" script ran", when);
	assert_int_equal(swi_get_result(f->ctx, &r), SWI_OK);
	assert_false(r.committed);
}

/* The whole image installed: B selected, its variables set. */
static void expect_installed(struct fixture *f)
{
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s/grubenv list | sort | tr '\\n' ' '", f->dir);
	char *vars = command_output(cmd);
	assert_non_null(strstr(vars, "rootpart=3 "));
	assert_non_null(strstr(vars, "kernelargs=quiet new "));
	assert_non_null(strstr(vars, "ustate=1 "));
	free(vars);
	assert_true(same_as(f, "slotA", &f->slot_a));
	struct blob conf = read_blob(f, "w/app.conf");
	assert_true(same_as(f, "etc/app.conf", &conf));
	free(conf.data);
	assert_int_equal(after_scripts_run(f), 2);
	restore_device(f);
}

/* ---- a read callback that cancels after N bytes -------------------------------- */

struct feed {
	const struct fixture *f;
	const struct swu_image *img;
	size_t pos;
	size_t cancel_at;        /* SIZE_MAX: never */
	bool cancelled;
	unsigned calls_after;    /* calls that came after the cancel */
	/* From another thread: the callback waits there, at cancel_at, until
	 * that thread cancelled, then returns: -1 with ECANCELED, or the bytes. */
	bool wait_for_other;
	bool fail_when_woken;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool waiting;
};

static void feed_init(struct feed *fd, const struct fixture *f, const struct swu_image *img,
		      size_t cancel_at)
{
	*fd = (struct feed){ .f = f, .img = img, .cancel_at = cancel_at };
	pthread_mutex_init(&fd->lock, NULL);
	pthread_cond_init(&fd->changed, NULL);
}

static void feed_done(struct feed *fd)
{
	pthread_mutex_destroy(&fd->lock);
	pthread_cond_destroy(&fd->changed);
}

/* Blocks the caller's thread until the other thread cancelled. */
static void wait_for_cancel(struct feed *fd)
{
	pthread_mutex_lock(&fd->lock);
	fd->waiting = true;
	pthread_cond_broadcast(&fd->changed);
	while (!fd->cancelled)
		pthread_cond_wait(&fd->changed, &fd->lock);
	pthread_mutex_unlock(&fd->lock);
}

static void cancel_here(struct feed *fd)
{
	swi_cancel(fd->f->ctx);
	fd->cancelled = true;
}

static ssize_t feed_read(void *user, void *buf, size_t len)
{
	struct feed *fd = user;
	if (fd->cancelled) {
		fd->calls_after++;
	} else if (fd->pos == fd->cancel_at && !fd->wait_for_other) {
		cancel_here(fd); /* at 0: before the first byte */
	} else if (fd->pos == fd->cancel_at) {
		wait_for_cancel(fd);
		if (fd->fail_when_woken) {
			errno = ECANCELED;
			return -1;
		}
	}
	size_t n = fd->img->bytes.len - fd->pos;
	n = n < len ? n : len;
	n = n < READ_CAP ? n : READ_CAP;
	if (!fd->cancelled && fd->pos < fd->cancel_at && fd->cancel_at - fd->pos < n)
		n = fd->cancel_at - fd->pos;
	memcpy(buf, fd->img->bytes.data + fd->pos, n);
	fd->pos += n;
	if (!fd->cancelled && fd->pos == fd->cancel_at && !fd->wait_for_other && n > 0)
		cancel_here(fd);
	return (ssize_t)n;
}

/* The points to cancel at: every OFFSET_STEP bytes, each boundary of a
 * cpio header or member and the bytes around it, the end. */
static size_t cancel_points(const struct swu_image *img, size_t *out)
{
	size_t n = 0;
	for (size_t at = 0; at < img->bytes.len; at += OFFSET_STEP)
		out[n++] = at;
	for (size_t i = 0; i < img->nboundaries; i++)
		for (size_t d = 0; d < 3; d++)
			if (img->boundaries[i] + d >= 1 && img->boundaries[i] + d - 1 <= img->bytes.len)
				out[n++] = img->boundaries[i] + d - 1;
	out[n++] = img->bytes.len;
	assert_true(n <= MAX_POINTS);
	return n;
}

/* Installs img from a read callback that cancels after N bytes, for N
 * through the whole image: each install ends cancelled, with nothing
 * switched, and reads no more after the cancel; up to the end of
 * sw-description.sig, nothing is touched. The reader reaches the end of
 * the image before the last moment a cancel takes effect (run() in
 * lib/install.c: after the "after" scripts), so no point of the stream is
 * too late. Then, the cancel cleared, the same context installs. */
static void cancel_at_each_point(struct fixture *f, const struct swu_image *img)
{
	size_t points[MAX_POINTS];
	size_t n = cancel_points(img, points);
	for (size_t i = 0; i < n; i++) {
		struct feed fd;
		char when[64];
		snprintf(when, sizeof(when), "cancel after %zu of %zu bytes", points[i],
			 img->bytes.len);
		feed_init(&fd, f, img, points[i]);
		int rc = swi_install_read(f->ctx, feed_read, &fd);
		if (rc != SWI_ECANCELED)
			fail_msg("%s: %s (%d): %s", when, swi_strerror(rc), rc, swi_errmsg(f->ctx));
		assert_true(fd.cancelled);
		if (fd.calls_after)
			fail_msg("%s: the image was read %u more times", when, fd.calls_after);
		expect_nothing_switched(f, points[i] < img->artifacts_begin, 0, when);
		feed_done(&fd);
		restore_device(f);
	}
	struct feed fd;
	feed_init(&fd, f, img, SIZE_MAX);
	assert_int_equal(swi_install_read(f->ctx, feed_read, &fd), SWI_OK);
	assert_int_equal(fd.pos, img->bytes.len);
	feed_done(&fd);
	expect_installed(f);
}

static void a_cancel_at_any_byte_ends_the_install(void **state)
{
	struct fixture *f = *state;
	cancel_at_each_point(f, &f->streamed);
}

/* rootfs.img comes before the script that must run first: it is read into
 * the spool, then written from there. */
static void a_cancel_at_any_byte_with_an_artifact_spooled(void **state)
{
	struct fixture *f = *state;
	cancel_at_each_point(f, &f->spooled);
}

/* ---- cancels from the progress and log callbacks ------------------------------- */

struct counter {
	struct fixture *f;
	unsigned calls;
	unsigned cancel_at;      /* the call that cancels; UINT32_MAX: none */
	bool committed_at_cancel; /* the environment boots the new slot already */
	unsigned after_ran;       /* "after" scripts that had run by then */
};

/* Whether the environment on disk is committed (ustate=1): from then on,
 * a cancel comes too late. */
static bool env_committed(const struct fixture *f)
{
	struct blob env = read_blob(f, "grubenv");
	env.data[env.len] = '\0';
	bool committed = strstr(env.data, "\nustate=1\n") != NULL;
	free(env.data);
	return committed;
}

static void count_and_cancel(struct counter *c)
{
	if (c->calls++ != c->cancel_at)
		return;
	c->committed_at_cancel = env_committed(c->f);
	c->after_ran = after_scripts_run(c->f);
	swi_cancel(c->f->ctx);
}

static void cancelling_progress(void *user, const struct swi_progress *p)
{
	(void)p;
	count_and_cancel(user);
}

static void cancelling_log(void *user, int level, const char *message)
{
	(void)level;
	(void)message;
	count_and_cancel(user);
}

static int install_from_memory(struct fixture *f)
{
	struct feed fd;
	feed_init(&fd, f, &f->streamed, SIZE_MAX);
	int rc = swi_install_read(f->ctx, feed_read, &fd);
	feed_done(&fd);
	return rc;
}

/* How many times a whole install calls the callback. */
static unsigned count_calls(struct fixture *f, struct counter *c)
{
	*c = (struct counter){ .f = f, .cancel_at = UINT32_MAX };
	assert_int_equal(install_from_memory(f), SWI_OK);
	expect_installed(f);
	return c->calls;
}

/* Cancels at each call of a callback (set with c as its user data) in
 * turn: a cancel before the environment is committed ends the install;
 * one after comes too late, and the install completes. Returns how many
 * came too late. */
static unsigned cancel_at_each_call(struct fixture *f, struct counter *c, const char *callback)
{
	unsigned calls = count_calls(f, c);
	assert_true(calls > 2);
	unsigned too_late = 0;
	for (unsigned k = 0; k < calls; k++) {
		char when[96];
		snprintf(when, sizeof(when), "cancel at %s call %u of %u", callback, k, calls);
		*c = (struct counter){ .f = f, .cancel_at = k };
		int rc = install_from_memory(f);
		if (c->calls <= k) {
			restore_device(f); /* this run called it fewer times */
			continue;
		}
		if (c->committed_at_cancel) {
			if (rc != SWI_OK)
				fail_msg("%s, after the commit: %s", when, swi_strerror(rc));
			expect_installed(f);
			too_late++;
			continue;
		}
		if (rc != SWI_ECANCELED)
			fail_msg("%s: %s: %s", when, swi_strerror(rc), swi_errmsg(f->ctx));
		expect_nothing_switched(f, false, c->after_ran, when);
		restore_device(f);
	}
	*c = (struct counter){ .f = f, .cancel_at = UINT32_MAX };
	assert_int_equal(install_from_memory(f), SWI_OK);
	expect_installed(f);
	return too_late;
}

static void a_cancel_from_the_progress_callback(void **state)
{
	struct fixture *f = *state;
	struct counter c;
	swi_set_progress(f->ctx, cancelling_progress, &c);
	cancel_at_each_call(f, &c, "progress");
}

/* The commit's own message is logged after it: a cancel there is too late. */
static void a_cancel_from_the_log_callback(void **state)
{
	struct fixture *f = *state;
	struct counter c;
	swi_set_log(f->ctx, cancelling_log, &c);
	assert_int_not_equal(cancel_at_each_call(f, &c, "log"), 0);
}

/* ---- cancels from another thread ------------------------------------------------ */

/* The other thread: waits for the caller's read to block, then cancels. */
static void *cancel_when_blocked(void *arg)
{
	struct feed *fd = arg;
	pthread_mutex_lock(&fd->lock);
	while (!fd->waiting)
		pthread_cond_wait(&fd->changed, &fd->lock);
	pthread_mutex_unlock(&fd->lock);
	usleep(20 * 1000); /* the read stays blocked a while */
	pthread_mutex_lock(&fd->lock);
	cancel_here(fd);
	pthread_cond_broadcast(&fd->changed);
	pthread_mutex_unlock(&fd->lock);
	return NULL;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A read blocked, waiting for data, when another thread cancels: once it
 * returns (with its bytes, or failing as a cancelled read does), the
 * install ends cancelled without reading on, for a read blocked in
 * sw-description, its signature, each artifact and the trailer. */
static void a_cancel_from_another_thread_during_a_slow_read(void **state)
{
	struct fixture *f = *state;
	const struct swu_image *img = &f->streamed;
	/* The data of each member, half-way through. */
	for (size_t i = 1; i + 1 < img->nboundaries; i += 3)
		for (int fails = 0; fails < 2; fails++) {
			size_t at = (img->boundaries[i] + img->boundaries[i + 1]) / 2;
			char when[96];
			snprintf(when, sizeof(when), "read blocked at byte %zu of %zu%s", at,
				 img->bytes.len, fails ? ", then failing" : "");
			struct feed fd;
			feed_init(&fd, f, img, at);
			fd.wait_for_other = true;
			fd.fail_when_woken = fails;
			pthread_t other;
			assert_int_equal(pthread_create(&other, NULL, cancel_when_blocked, &fd), 0);
			struct timespec t0;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			int rc = swi_install_read(f->ctx, feed_read, &fd);
			double took = seconds_since(&t0);
			assert_int_equal(pthread_join(other, NULL), 0);
			if (rc != SWI_ECANCELED)
				fail_msg("%s: %s: %s", when, swi_strerror(rc), swi_errmsg(f->ctx));
			if (fd.calls_after)
				fail_msg("%s: the image was read %u more times", when, fd.calls_after);
			if (took > 2.0)
				fail_msg("%s: the install took %.1f s", when, took);
			expect_nothing_switched(f, at < img->artifacts_begin, 0, when);
			feed_done(&fd);
			restore_device(f);
		}
	assert_int_equal(install_from_memory(f), SWI_OK);
	expect_installed(f);
}

/* A progress callback that, in the middle of rootfs.img, waits for
 * another thread to cancel (the file is read ahead on a thread of the
 * library meanwhile). */
struct blocking_progress {
	struct feed sync;        /* only its lock, condition and flags */
	bool blocked_once;
};

static void block_mid_member(void *user, const struct swi_progress *p)
{
	struct blocking_progress *b = user;
	if (b->blocked_once || p->done == 0 || strcmp(p->member, "rootfs.img") != 0)
		return;
	b->blocked_once = true;
	wait_for_cancel(&b->sync);
}

static void a_cancel_from_another_thread_while_a_file_installs(void **state)
{
	struct fixture *f = *state;
	char image[256];
	path_in(f, "image.swu", image);
	struct blocking_progress b = { 0 };
	feed_init(&b.sync, f, &f->streamed, SIZE_MAX);
	swi_set_progress(f->ctx, block_mid_member, &b);
	pthread_t other;
	assert_int_equal(pthread_create(&other, NULL, cancel_when_blocked, &b.sync), 0);
	int rc = swi_install_file(f->ctx, image);
	assert_int_equal(pthread_join(other, NULL), 0);
	if (rc != SWI_ECANCELED)
		fail_msg("%s: %s", swi_strerror(rc), swi_errmsg(f->ctx));
	assert_true(b.blocked_once);
	expect_nothing_switched(f, false, 0, "file install cancelled in rootfs.img");
	feed_done(&b.sync);
	restore_device(f);
	swi_set_progress(f->ctx, NULL, NULL);
	assert_int_equal(swi_install_file(f->ctx, image), SWI_OK);
	expect_installed(f);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup(fn, test_setup)
	const struct CMUnitTest tests[] = {
		T(a_cancel_at_any_byte_ends_the_install),
		T(a_cancel_at_any_byte_with_an_artifact_spooled),
		T(a_cancel_from_the_progress_callback),
		T(a_cancel_from_the_log_callback),
		T(a_cancel_from_another_thread_during_a_slow_read),
		T(a_cancel_from_another_thread_while_a_file_installs),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
