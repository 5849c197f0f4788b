/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every built-in handler must do, run over each one swi_handler_at()
 * lists on a fresh context, so a handler added to lib/handler.c's table is
 * covered without a change here, but for its fixture:
 *  - its struct is sane (size, name, kinds, callbacks, phases, attributes);
 *  - check passes on a working entry and changes nothing;
 *  - open, some bytes, abort: the target is as before (no file left, no
 *    script in the private directory, nothing staged, no descriptor);
 *  - the same with abort after close (a later entry failed);
 *  - open, all bytes, close, run in its phases, commit: the result is there;
 *  - through the core, an image whose member fails its hash changes nothing
 *    and never closes; with the right hash it installs, closing after the
 *    last byte and committing a handler that stages.
 *
 * A new built-in handler joins with a fixture in handler_cases[] below:
 * a prepare function (the target before the install, the entry's
 * attributes, the member's bytes), an installed function (the result is
 * there), and one row. every_builtin_has_a_fixture fails until it has one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <archive.h>
#include <archive_entry.h>
#include "handler_fixture.h"

/* The attribute value of a file in the fixture's directory. */
static void entry_path_attr(struct fixture *f, const char *attribute, const char *name)
{
	char path[128];
	in_dir(f, name, path, sizeof(path));
	entry_attr(f, attribute, path);
}

/* ---- the fixtures: one per built-in handler ---------------------------- */

static const char slot_bytes[] = "a new slot image, written at its start\n";

/* raw: an inactive slot of old bytes (a regular file stands in for the
 * block device). */
static void raw_prepare(struct fixture *f)
{
	char path[128];
	in_dir(f, "slot.img", path, sizeof(path));
	fill_file(path, OLD_BYTE, FILE_SIZE);
	entry_path_attr(f, "device", "slot.img");
	set_payload_text(f, slot_bytes);
}

static void raw_installed(struct fixture *f)
{
	char path[128];
	size_t size, len = sizeof(slot_bytes) - 1;
	in_dir(f, "slot.img", path, sizeof(path));
	unsigned char *buf = slurp(path, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_memory_equal(buf, slot_bytes, len);
	assert_bytes(buf, len, FILE_SIZE, OLD_BYTE);
	free(buf);
}

static const char file_bytes[] = "new content of /etc/config.bin\n";

/* rawfile: an old file in place, replaced. */
static void rawfile_prepare(struct fixture *f)
{
	char path[128];
	in_dir(f, "config.bin", path, sizeof(path));
	fill_file(path, OLD_BYTE, 100);
	entry_path_attr(f, "path", "config.bin");
	set_payload_text(f, file_bytes);
}

static void rawfile_installed(struct fixture *f)
{
	char path[128];
	in_dir(f, "config.bin", path, sizeof(path));
	assert_file_holds(path, file_bytes, sizeof(file_bytes) - 1);
}

/* bootloader: a script of two variables, staged (f->staged also holds
 * what an install through the core wrote into the environment). */
static void bootloader_prepare(struct fixture *f)
{
	set_payload_text(f, "bootslot=b\nbootcmd=run boot_b\n");
}

static void bootloader_installed(struct fixture *f)
{
	const char *slot = swi_attrs_get(&f->staged, "bootslot");
	const char *cmd = swi_attrs_get(&f->staged, "bootcmd");
	if (!slot || !cmd || strcmp(slot, "b") || strcmp(cmd, "run boot_b"))
		fail_msg("bootloader variables not staged: bootslot=%s bootcmd=%s",
			 slot ? slot : "(none)", cmd ? cmd : "(none)");
}

/* Script handlers: a script that appends its arguments to f->dir/ran,
 * with "data" for arguments. */
static void script_prepare(struct fixture *f)
{
	char ran[128], script[256];
	in_dir(f, "ran", ran, sizeof(ran));
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$*\" >>'%s'\n", ran);
	set_payload_text(f, script);
	entry_attr(f, "data", "one two");
}

/* The script ran once per line of expected, with those arguments. */
static void assert_script_ran(struct fixture *f, const char *expected)
{
	char ran[128];
	in_dir(f, "ran", ran, sizeof(ran));
	assert_file_holds(ran, expected, strlen(expected));
}

static void shellscript_installed(struct fixture *f)
{
	assert_script_ran(f, "preinst one two\npostinst one two\n");
}

/* lua: a script whose preinst and postinst append their phase and data to
 * f->dir/ran, as the shell script above does. */
static void lua_prepare(struct fixture *f)
{
	char ran[128], script[512];
	in_dir(f, "ran", ran, sizeof(ran));
	snprintf(script, sizeof(script),
		 "local function record(phase, data)\n"
		 "  local f = assert(io.open('%s', 'a'))\n"
		 "  f:write(phase .. ' ' .. data .. '\\n')\n"
		 "  f:close()\n"
		 "  return true\n"
		 "end\n"
		 "function preinst(data) return record('preinst', data) end\n"
		 "function postinst(data) return record('postinst', data) end\n", ran);
	set_payload_text(f, script);
	entry_attr(f, "data", "one two");
}

/* preinstall and postinstall: once, without a phase argument. */
static void script_ran_once(struct fixture *f)
{
	assert_script_ran(f, "one two\n");
}

/* archive and tar: a tarball extracted into the directory "dest", in
 * place (an install that fails is not committed; what it extracted stays). */
static const char tar_file_bytes[] = "extracted from the tarball\n";

static void archive_prepare(struct fixture *f)
{
	static unsigned char tarball[16 * 1024];
	size_t len = 0;
	char dest[128];
	in_dir(f, "dest", dest, sizeof(dest));
	assert_int_equal(mkdir(dest, 0755), 0);
	entry_path_attr(f, "path", "dest");
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, tarball, sizeof(tarball), &len), ARCHIVE_OK);
	archive_entry_set_pathname(e, "app/file.txt");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, sizeof(tar_file_bytes) - 1);
	assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, tar_file_bytes, sizeof(tar_file_bytes) - 1),
			 (la_ssize_t)sizeof(tar_file_bytes) - 1);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_entry_free(e);
	archive_write_free(a);
	set_payload(f, tarball, len);
}

static void archive_installed(struct fixture *f)
{
	char path[128];
	in_dir(f, "dest/app/file.txt", path, sizeof(path));
	assert_file_holds(path, tar_file_bytes, sizeof(tar_file_bytes) - 1);
}

/*
 * What it takes to install an entry of one handler, in the fixture's
 * directory f->dir (the handler's whole world: its target files, and the
 * install's private directory for scripts):
 *   prepare    makes the target as it is before the install, sets the
 *              entry's attributes (entry_attr(), entry_path_attr()) and the
 *              member's bytes (set_payload(), set_payload_text(); none for a
 *              data-less handler);
 *   installed  asserts the install's result is there: files in f->dir,
 *              variables in f->staged, what a script left;
 *   in_place   a file (relative to f->dir) the handler writes in place, an
 *              inactive slot: a failed install may leave it half-written, so
 *              only its size, mode and owner must stay; NULL: none;
 *   collection the sw-description collection of its entry through the
 *              core; NULL: "images", "files", "scripts" or "partitions",
 *              the first its kinds take.
 * A script handler's fixture: its script (the payload) does something
 * installed() sees, e.g. appends its argument to a file in f->dir; a pull
 * handler's: bytes its extract understands (e.g. an archive made with tar
 * in prepare, read back and given to set_payload()).
 */
struct handler_case {
	const char *name;
	void (*prepare)(struct fixture *f);
	void (*installed)(struct fixture *f);
	const char *in_place;
	const char *collection;
};

static const struct handler_case handler_cases[] = {
	{ "raw", raw_prepare, raw_installed, "slot.img", NULL },
	{ "rawfile", rawfile_prepare, rawfile_installed, NULL, NULL },
	{ "bootloader", bootloader_prepare, bootloader_installed, NULL, NULL },
	{ "shellscript", script_prepare, shellscript_installed, NULL, NULL },
	{ "preinstall", script_prepare, script_ran_once, NULL, NULL },
	{ "postinstall", script_prepare, script_ran_once, NULL, NULL },
	{ "lua", lua_prepare, shellscript_installed, NULL, NULL },
	{ "archive", archive_prepare, archive_installed, "dest", NULL },
	{ "tar", archive_prepare, archive_installed, "dest", NULL },
};

#define NCASES (sizeof(handler_cases) / sizeof(handler_cases[0]))

static const struct handler_case *case_of(const struct swi_handler *h)
{
	for (size_t i = 0; i < NCASES; i++)
		if (strcmp(handler_cases[i].name, h->name) == 0)
			return &handler_cases[i];
	fail_msg("built-in handler '%s' has no fixture: whoever adds a handler adds one to "
		 "handler_cases[] in test/unit/test_handlers_all.c (see the comment above it)",
		 h->name);
	return NULL;
}

/* The built-in handlers, one by one, as a fresh context lists them. */
static const struct swi_handler *builtin_at(size_t i)
{
	swi_ctx_t *ctx;
	assert_int_equal(swi_ctx_new(&ctx), SWI_OK);
	const struct swi_handler *h = swi_handler_at(ctx, i);
	swi_ctx_free(ctx);
	return h;
}

/* Runs check(f, h, its case) for every built-in handler, each in a fixture
 * of its own, prepared and with its target bound. */
static void for_each_builtin(void **state, void (*check)(struct fixture *f,
							  const struct swi_handler *h,
							  const struct handler_case *c))
{
	const struct swi_handler *h;
	for (size_t i = 0; (h = builtin_at(i)); i++) {
		const struct handler_case *c = case_of(h);
		if (i > 0) {
			teardown(state);
			setup(state);
		}
		struct fixture *f = *state;
		c->prepare(f);
		struct swi_target *t = target(f, h, f->payload_len, NULL, NULL);
		if (swi_target_bind_attrs(t) != SWI_OK)
			fail_msg("%s: the fixture's entry is refused: %s", h->name, swi_errmsg(f->ctx));
		check(f, h, c);
	}
}

/* ---- the struct ------------------------------------------------------- */

#define KNOWN_KINDS (SWI_HANDLER_IMAGE | SWI_HANDLER_FILE | SWI_HANDLER_SCRIPT | \
		     SWI_HANDLER_BOOTLOADER | SWI_HANDLER_PARTITION)
#define KNOWN_PHASES (SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE)

static void assert_declarations_sane(const struct swi_handler *h)
{
	for (const struct swi_handler_attr *d = h->attributes; d && d->name; d++) {
		if (!d->name[0] || d->type < SWI_TYPE_STRING || d->type > SWI_TYPE_LIST)
			fail_msg("%s: attribute '%s' has no name or no valid type", h->name, d->name);
		for (const struct swi_handler_attr *e = d + 1; e->name; e++)
			if (strcmp(d->name, e->name) == 0)
				fail_msg("%s declares attribute '%s' twice", h->name, d->name);
	}
}

static void assert_struct_sane(const struct swi_handler *h)
{
	if (h->size != SWI_HANDLER_SIZE)
		fail_msg("%s: size %zu; set .size = SWI_HANDLER_SIZE", h->name, h->size);
	if (!h->name || !h->name[0] || !h->kinds || (h->kinds & ~KNOWN_KINDS))
		fail_msg("%s: no name, or kinds 0 or unknown (%#x)", h->name ? h->name : "?",
			 h->kinds);
	if (!h->open || !h->close || !h->abort)
		fail_msg("%s: open, close and abort are needed", h->name);
	if (!h->write && !h->extract && !takes_no_data(h))
		fail_msg("%s: neither write, extract nor SWI_HANDLER_NO_DATA", h->name);
	if (takes_no_data(h) && (h->write || h->extract))
		fail_msg("%s takes no data, yet has write or extract", h->name);
	if (h->flags & ~(unsigned)SWI_HANDLER_NO_DATA)
		fail_msg("%s: unknown flags %#x", h->name, h->flags);
	if ((h->phases & ~KNOWN_PHASES) || !h->phases != !h->run)
		fail_msg("%s: phases %#x and run go together (phases of enum swi_phase)", h->name,
			 h->phases);
	assert_declarations_sane(h);
}

/* Each built-in is well formed, and registration takes it as it is (the
 * declarations agree with the core's types). */
static void every_builtin_is_well_formed(void **state)
{
	struct fixture *f = *state;
	const struct swi_handler *h;
	for (size_t i = 0; (h = swi_handler_at(f->ctx, i)); i++) {
		swi_ctx_t *other;
		assert_struct_sane(h);
		assert_int_equal(swi_ctx_new(&other), SWI_OK);
		if (swi_register_handler(other, h) != SWI_OK)
			fail_msg("%s: refused at registration: %s", h->name, swi_errmsg(other));
		swi_ctx_free(other);
	}
}

/* Every built-in has a fixture, and every fixture a built-in. */
static void every_builtin_has_a_fixture(void **state)
{
	struct fixture *f = *state;
	const struct swi_handler *h;
	for (size_t i = 0; (h = swi_handler_at(f->ctx, i)); i++)
		case_of(h);
	for (size_t i = 0; i < NCASES; i++)
		if (!swi_handler_find(f->ctx, handler_cases[i].name))
			fail_msg("handler_cases[] has a fixture for '%s', which is no built-in handler",
				 handler_cases[i].name);
}

/* ---- driven directly -------------------------------------------------- */

/* How many bytes a write: a few writes for every payload, however long. */
static size_t chunk_of(const struct fixture *f)
{
	return f->payload_len / 4 + 1;
}

/* What the handler could have changed: f->dir (its targets and the
 * install's private directory), what it staged, the open descriptors. */
static char *target_snapshot(const struct fixture *f, const struct handler_case *c)
{
	return tree_snapshot(f->dir, c->in_place, &f->staged);
}

static void check_changes_nothing(struct fixture *f, const struct swi_handler *h,
				  const struct handler_case *c)
{
	char *before = target_snapshot(f, c);
	if (drive_check(f) != SWI_OK)
		fail_msg("%s: check refuses the fixture's entry: %s", h->name, swi_errmsg(f->ctx));
	assert_same_snapshot(before, target_snapshot(f, c), h->name);
}

static void every_builtin_check_passes_and_changes_nothing(void **state)
{
	for_each_builtin(state, check_changes_nothing);
}

/* The install's private directory, made before the snapshot as an earlier
 * entry would have: a script left in it must show. */
static void make_private_dir(struct fixture *f)
{
	const char *dir;
	assert_int_equal(swi_scratch_dir(&f->scratch, &dir), SWI_OK);
}

static void abort_half_way(struct fixture *f, const struct swi_handler *h,
			   const struct handler_case *c)
{
	char what[96];
	make_private_dir(f);
	assert_int_equal(drive_check(f), SWI_OK);
	char *before = target_snapshot(f, c);
	if (drive_open(f) != SWI_OK)
		fail_msg("%s: open failed: %s", h->name, swi_errmsg(f->ctx));
	assert_int_equal(drive_feed(f, f->payload, f->payload_len / 2, chunk_of(f)), SWI_OK);
	drive_abort(f);
	snprintf(what, sizeof(what), "%s: open, %zu bytes, abort", h->name, f->payload_len / 2);
	assert_same_snapshot(before, target_snapshot(f, c), what);
	assert_ptr_equal(f->target.state, f->target.owned_state);
}

/* open, some bytes, abort: no file, no script, nothing staged, no
 * descriptor left, and no state of the handler's own (the core's is
 * freed with the install). */
static void every_builtin_abort_leaves_the_target_as_before(void **state)
{
	for_each_builtin(state, abort_half_way);
}

/* After close, what a handler staged for the bootloader is the core's to
 * drop when the install fails; the rest is the handler's to undo. */
static void abort_after_close(struct fixture *f, const struct swi_handler *h,
			      const struct handler_case *c)
{
	char what[96];
	make_private_dir(f);
	assert_int_equal(drive_check(f), SWI_OK);
	char *before = tree_snapshot(f->dir, c->in_place, NULL);
	assert_int_equal(drive_open(f), SWI_OK);
	assert_int_equal(drive_feed(f, f->payload, f->payload_len, chunk_of(f)), SWI_OK);
	if (drive_close(f) != SWI_OK)
		fail_msg("%s: close failed: %s", h->name, swi_errmsg(f->ctx));
	drive_abort(f);
	snprintf(what, sizeof(what), "%s: open, all bytes, close, abort", h->name);
	assert_same_snapshot(before, tree_snapshot(f->dir, c->in_place, NULL), what);
}

static void every_builtin_abort_after_close_leaves_the_target_as_before(void **state)
{
	for_each_builtin(state, abort_after_close);
}

static void install_directly(struct fixture *f, const struct swi_handler *h,
			     const struct handler_case *c)
{
	assert_int_equal(drive_check(f), SWI_OK);
	if (drive_install(f, f->payload, f->payload_len, chunk_of(f)) != SWI_OK)
		fail_msg("%s: install failed: %s", h->name, swi_errmsg(f->ctx));
	assert_released(f, &f->target);
	c->installed(f);
}

/* open, all bytes (in a few writes), close, run in the phases it names, commit:
 * the result is there, and the handler let go of everything. */
static void every_builtin_installs(void **state)
{
	for_each_builtin(state, install_directly);
}

/* ---- through the core ------------------------------------------------- */

/* A spy in front of a built-in: records the calls the core makes. */
static const struct swi_handler *spied;

static int spy_open(struct swi_target *t) { record_call("open"); return spied->open(t); }
static int spy_write(struct swi_target *t, const void *buf, size_t len)
{
	record_call("write");
	return spied->write(t, buf, len);
}
static int spy_extract(struct swi_target *t) { record_call("extract"); return spied->extract(t); }
static int spy_close(struct swi_target *t) { record_call("close"); return spied->close(t); }
static void spy_abort(struct swi_target *t) { record_call("abort"); spied->abort(t); }
static int spy_commit(struct swi_target *t) { record_call("commit"); return spied->commit(t); }
static int spy_run(struct swi_target *t, enum swi_phase phase)
{
	record_call("run");
	return spied->run(t, phase);
}

/* The spy for h, registered on f->ctx where it shadows h. */
static void spy_on(struct fixture *f, const struct swi_handler *h)
{
	static struct swi_handler spy;
	spied = h;
	spy = *h;
	spy.open = spy_open;
	spy.write = h->write ? spy_write : NULL;
	spy.extract = h->extract ? spy_extract : NULL;
	spy.close = spy_close;
	spy.abort = spy_abort;
	spy.commit = h->commit ? spy_commit : NULL;
	spy.run = h->run ? spy_run : NULL;
	assert_int_equal(swi_register_handler(f->ctx, &spy), SWI_OK);
}

static bool called(const char *what)
{
	char padded[32], calls[272];
	snprintf(padded, sizeof(padded), " %s ", what);
	snprintf(calls, sizeof(calls), " %s ", calls_seen());
	return strstr(calls, padded) != NULL;
}

static const char *collection_of(const struct swi_handler *h, const struct handler_case *c)
{
	static const struct { unsigned kind; const char *collection; } collections[] = {
		{ SWI_HANDLER_IMAGE, "images" }, { SWI_HANDLER_FILE, "files" },
		{ SWI_HANDLER_SCRIPT, "scripts" }, { SWI_HANDLER_PARTITION, "partitions" },
	};
	if (c->collection)
		return c->collection;
	for (size_t i = 0; i < sizeof(collections) / sizeof(collections[0]); i++)
		if (h->kinds & collections[i].kind)
			return collections[i].collection;
	fail_msg("%s: no collection for kinds %#x: give the fixture one", h->name, h->kinds);
	return NULL;
}

/* The entry's attributes as libconfig settings. */
static void print_attrs(FILE *out, const struct swi_attrs *attrs)
{
	for (size_t i = 0; i < attrs->count; i++) {
		const struct swi_attr *a = &attrs->items[i];
		if (strchr(a->name, '.') || strpbrk(a->value, "\"\\"))
			fail_msg("attribute %s: properties and quotes are not written here", a->name);
		if (a->kind == SWI_ATTR_TEXT) {
			fprintf(out, " %s = \"%s\";", a->name, a->value);
		} else if (a->kind == SWI_ATTR_LIST) {
			fprintf(out, " %s = [", a->name);
			for (size_t j = 0; j < a->nlist; j++)
				fprintf(out, "%s \"%s\"", j ? "," : "", a->list[j]);
			fprintf(out, " ];");
		} else {
			fprintf(out, " %s = %s;", a->name, a->value);
		}
	}
}

/* An image of one entry for h, with the fixture's attributes and payload
 * (its sha256 right or wrong). */
static void image_for(struct fixture *f, const struct swi_handler *h,
		      const struct handler_case *c, bool good_hash)
{
	char *desc = NULL, sha[65];
	size_t size = 0;
	FILE *out = open_memstream(&desc, &size);
	assert_non_null(out);
	fprintf(out, "software = { %s = ( { type = \"%s\";", collection_of(h, c), h->name);
	if (!takes_no_data(h)) {
		payload_sha(f->payload, f->payload_len, good_hash, sha);
		fprintf(out, " filename = \"payload.txt\"; sha256 = \"%s\";", sha);
	}
	print_attrs(out, &f->entry.attrs);
	fprintf(out, " } ); };");
	assert_int_equal(fclose(out), 0);
	image_of(f, desc, takes_no_data(h) ? NULL : f->payload, f->payload_len);
	free(desc);
}

/* The bootloader: a GRUB environment block in f->work, outside the tree
 * compared (a failed install records its failure there). */
static void use_grub_environment(struct fixture *f, char *path, size_t size)
{
	char cmd[256];
	snprintf(path, size, "%s/grubenv", f->work);
	snprintf(cmd, sizeof(cmd), "grub-editenv %s create", path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(swi_set_option(f->ctx, "bootloader", "grub"), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "grubenv", path), SWI_OK);
}

/* f->staged := the variables of the GRUB environment at path. */
static void read_grub_environment(struct fixture *f, const char *path)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "grub-editenv %s list", path);
	char *text = command_output(cmd);
	swi_attrs_free(&f->staged);
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char *eq = strchr(line, '=');
		assert_non_null(eq);
		*eq = '\0';
		assert_int_equal(swi_attrs_set(&f->staged, line, eq + 1), SWI_OK);
	}
	free(text);
}

static void install_through_the_core(struct fixture *f, const struct swi_handler *h,
				     const struct handler_case *c)
{
	char grubenv[160], what[96];
	spy_on(f, h);
	use_grub_environment(f, grubenv, sizeof(grubenv));
	if (!takes_no_data(h)) {
		image_for(f, h, c, false);
		char *before = tree_snapshot(f->dir, c->in_place, NULL);
		assert_int_equal(install_image(f), SWI_EHASH);
		if (!called("abort") || called("close") || called("run") || called("commit"))
			fail_msg("%s: a member failing its hash: calls \"%s\"", h->name, calls_seen());
		snprintf(what, sizeof(what), "%s: an install failing the hash", h->name);
		assert_same_snapshot(before, tree_snapshot(f->dir, c->in_place, NULL), what);
	}
	image_for(f, h, c, true);
	if (install_image(f) != SWI_OK)
		fail_msg("%s: install through the core failed: %s", h->name, swi_errmsg(f->ctx));
	bool runs = (h->phases & (SWI_PHASE_BEFORE | SWI_PHASE_AFTER)) != 0;
	if (!called("close") || called("abort") || called("commit") != (h->commit != NULL) ||
	    called("run") != runs)
		fail_msg("%s: an install: calls \"%s\"", h->name, calls_seen());
	read_grub_environment(f, grubenv);
	c->installed(f);
}

/* Through the core: a member failing its hash is aborted, never closed,
 * and leaves the target as it was; with the right hash the install
 * succeeds, closes (then commits a staging handler and runs a script)
 * and the result is there. */
static void every_builtin_closes_only_after_the_hash(void **state)
{
	for_each_builtin(state, install_through_the_core);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(every_builtin_is_well_formed),
		T(every_builtin_has_a_fixture),
		T(every_builtin_check_passes_and_changes_nothing),
		T(every_builtin_abort_leaves_the_target_as_before),
		T(every_builtin_abort_after_close_leaves_the_target_as_before),
		T(every_builtin_installs),
		T(every_builtin_closes_only_after_the_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
