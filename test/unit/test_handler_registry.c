/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler registry and ABI: registration and its checks (size,
 * callbacks, declared attributes), lookup and shadowing, the attributes
 * handlers declare checked and typed at planning, and the state the core
 * owns. What every built-in handler must do is in test_handlers_all.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "handler_fixture.h"

static int dummy_open(struct swi_target *t) { (void)t; return SWI_OK; }
static int dummy_write(struct swi_target *t, const void *b, size_t n) { (void)t; (void)b; (void)n; return SWI_OK; }
static int dummy_close(struct swi_target *t) { (void)t; return SWI_OK; }
static void dummy_abort(struct swi_target *t) { (void)t; }

static void registered_handler_shadows_builtin(void **state)
{
	struct fixture *f = *state;
	static const struct swi_handler my_raw = {
		.size = SWI_HANDLER_SIZE, .name = "raw", .kinds = SWI_HANDLER_IMAGE, .open = dummy_open,
		.write = dummy_write, .close = dummy_close, .abort = dummy_abort,
	};
	assert_ptr_equal(swi_handler_find(f->ctx, "raw"), &swi_handler_raw);
	assert_int_equal(swi_register_handler(f->ctx, &my_raw), SWI_OK);
	assert_ptr_equal(swi_handler_find(f->ctx, "raw"), &my_raw);
	assert_ptr_equal(swi_handler_find(f->ctx, "rawfile"), &swi_handler_rawfile);
	assert_ptr_equal(swi_handler_find(f->ctx, "bootloader"), &swi_handler_bootloader);
	assert_null(swi_handler_find(f->ctx, "no-such-handler"));
	/* Another context still sees the built-in. */
	swi_ctx_t *other;
	assert_int_equal(swi_ctx_new(&other), SWI_OK);
	assert_ptr_equal(swi_handler_find(other, "raw"), &swi_handler_raw);
	swi_ctx_free(other);
	static const struct swi_handler incomplete = { .size = SWI_HANDLER_SIZE, .name = "x",
						       .open = dummy_open };
	assert_int_equal(swi_register_handler(f->ctx, &incomplete), SWI_EINVAL);
}

/* Registration checks a handler's declarations: a type, and the core's
 * type for an attribute the core knows. */
static void registration_checks_declarations(void **state)
{
	struct fixture *f = *state;
	static const struct swi_handler_attr no_type[] = { { "x", 0, 0 }, { NULL, 0, 0 } };
	static const struct swi_handler_attr offset_text[] = {
		{ "offset", SWI_TYPE_STRING, 0 }, { NULL, 0, 0 },
	};
	static const struct swi_handler_attr fine[] = {
		{ "offset", SWI_TYPE_SIZE, 0 }, { "mine", SWI_TYPE_LIST, 0 }, { NULL, 0, 0 },
	};
	struct swi_handler h = { .size = SWI_HANDLER_SIZE, .name = "decl", .kinds = SWI_HANDLER_IMAGE, .open = dummy_open,
				 .write = dummy_write, .close = dummy_close, .abort = dummy_abort };
	h.attributes = no_type;
	assert_int_equal(swi_register_handler(f->ctx, &h), SWI_EINVAL);
	assert_error_mentions(f, "attribute 'x' has no valid type");
	h.attributes = offset_text;
	assert_int_equal(swi_register_handler(f->ctx, &h), SWI_EINVAL);
	assert_error_mentions(f, "declares attribute 'offset' as a string; it is a size");
	h.attributes = fine;
	assert_int_equal(swi_register_handler(f->ctx, &h), SWI_OK);
}

/* The built-ins' declarations pass the same checks, and the registry
 * lists them, raw, rawfile and bootloader first (later built-ins follow),
 * a registered handler first and the built-in it shadows gone. */
static void builtins_are_listed_and_declare_validly(void **state)
{
	struct fixture *f = *state;
	static const struct swi_handler my_raw = {
		.size = SWI_HANDLER_SIZE, .name = "raw", .kinds = SWI_HANDLER_IMAGE, .open = dummy_open,
		.write = dummy_write, .close = dummy_close, .abort = dummy_abort,
	};
	static const char first[] = "raw (images, files), rawfile (images, files), "
				    "bootloader (images, bootenv)";
	char names[1024];
	size_t n = 0;
	swi_ctx_t *other;
	assert_int_equal(swi_ctx_new(&other), SWI_OK);
	for (const struct swi_handler *h; (h = swi_handler_at(f->ctx, n)); n++)
		assert_int_equal(swi_register_handler(other, h), SWI_OK);
	assert_true(n >= 3);
	swi_ctx_free(other);
	assert_int_equal(swi_handler_names(f->ctx, names, sizeof(names)), SWI_OK);
	if (strncmp(names, first, strlen(first)) != 0)
		fail_msg("the built-ins are listed as \"%s\", not first \"%s\"", names, first);
	assert_int_equal(swi_ctx_new(&other), SWI_OK);
	assert_int_equal(swi_register_handler(other, &my_raw), SWI_OK);
	assert_ptr_equal(swi_handler_at(other, 0), &my_raw);
	assert_ptr_equal(swi_handler_at(other, 1), &swi_handler_rawfile);
	assert_ptr_equal(swi_handler_at(other, 2), &swi_handler_bootloader);
	/* the other built-ins as before, the list no longer */
	for (size_t i = 3; i < n; i++)
		assert_ptr_equal(swi_handler_at(other, i), swi_handler_at(f->ctx, i));
	assert_null(swi_handler_at(other, n));
	assert_int_equal(swi_handler_names(other, names, 10), SWI_EINVAL);
	assert_string_equal(names, "raw (imag");
	swi_ctx_free(other);
}

/* ---- typed attributes ---- */

static const struct swi_handler_attr typed_attrs[] = {
	{ "where", SWI_TYPE_STRING, 1 },
	{ "offset", SWI_TYPE_SIZE, 0 },
	{ "create-destination", SWI_TYPE_BOOL, 0 },
	{ "properties.parts", SWI_TYPE_LIST, 0 },
	{ NULL, 0, 0 },
};

static const struct swi_handler typed = {
	.size = SWI_HANDLER_SIZE, .name = "typed", .kinds = SWI_HANDLER_IMAGE, .attributes = typed_attrs,
	.open = dummy_open, .write = dummy_write, .close = dummy_close, .abort = dummy_abort,
};

/* A log callback that keeps the debug messages. */
static void keep_log(void *user, int level, const char *message)
{
	char *text = user;
	if (level == SWI_LOG_DEBUG)
		snprintf(text + strlen(text), 1024 - strlen(text), "%s\n", message);
}

/* Each type converted once, and handed out by its accessor. */
static void typed_attributes_are_converted(void **state)
{
	struct fixture *f = *state;
	static const char *const parts[] = { "boot", "rootfs", "data" };
	char log[1024] = "";
	swi_set_log(f->ctx, keep_log, log);
	struct swi_attrs *a = &f->entry.attrs;
	assert_int_equal(swi_attrs_set(a, "where", "/dev/x"), SWI_OK);
	assert_int_equal(swi_attrs_set_kind(a, "offset", "4096", SWI_ATTR_NUMBER), SWI_OK);
	assert_int_equal(swi_attrs_set_kind(a, "create-destination", "true", SWI_ATTR_BOOL), SWI_OK);
	assert_int_equal(swi_attrs_set_list(a, "properties.parts", parts, 3), SWI_OK);
	assert_int_equal(swi_attrs_set(a, "colour", "blue"), SWI_OK);
	assert_int_equal(swi_attrs_set(a, "properties.other", "x"), SWI_OK);
	assert_int_equal(swi_attrs_set(a, "install-if-different", "true"), SWI_OK);
	struct swi_target *t = target(f, &typed, 10, NULL, NULL);
	assert_int_equal(swi_target_bind_attrs(t), SWI_OK);
	/* the unknown key is ignored, with a note for debugging; properties are free data */
	assert_non_null(strstr(log, "images[2] (member.img): attribute 'colour' is unknown; ignored"));
	assert_null(strstr(log, "properties.other"));
	assert_string_equal(swi_target_attr(t, "where"), "/dev/x");
	uint64_t offset = 1;
	assert_int_equal(swi_target_attr_size(t, "offset", &offset), SWI_OK);
	assert_int_equal(offset, 4096);
	int create = 0;
	assert_int_equal(swi_target_attr_bool(t, "create-destination", &create), SWI_OK);
	assert_true(create);
	const char *const *items = NULL;
	size_t n = 0;
	assert_int_equal(swi_target_attr_list(t, "properties.parts", &items, &n), SWI_OK);
	assert_int_equal(n, 3);
	assert_string_equal(items[0], "boot");
	assert_string_equal(items[2], "data");
	/* A size written as text; absent ones keep the caller's default. */
	set_attr(f, "offset", "0x10K");
	assert_int_equal(swi_target_attr_size(t, "offset", &offset), SWI_OK);
	assert_int_equal(offset, 16 << 10);
	swi_attrs_free(a);
	set_attr(f, "where", "/dev/y");
	offset = 7;
	create = 1;
	assert_int_equal(swi_target_attr_size(t, "offset", &offset), SWI_OK);
	assert_int_equal(swi_target_attr_bool(t, "create-destination", &create), SWI_OK);
	assert_int_equal(swi_target_attr_list(t, "properties.parts", &items, &n), SWI_OK);
	assert_int_equal(offset, 7);
	assert_int_equal(create, 1);
	assert_int_equal(n, 0);
	assert_null(items);
	/* A handler reading what it did not declare (or as another type) errs. */
	assert_int_equal(swi_target_attr_size(t, "where", &offset), SWI_EINVAL);
	assert_error_mentions(f, "handler 'typed' reads attribute 'where' as a size");
	assert_int_equal(swi_target_attr_bool(t, "installed-directly", &create), SWI_EINVAL);
	swi_set_log(f->ctx, NULL, NULL);
}

/* A value of the wrong type is refused at planning, naming the entry, the
 * attribute and what was expected; so is a required one missing, and an
 * attribute with an effect the handler does not declare. */
static void typed_attributes_refused(void **state)
{
	struct fixture *f = *state;
	static const char *const two[] = { "a", "b" };
	static const struct {
		const char *name, *value;
		enum swi_attr_kind kind;
		int status;
		const char *message;
	} cases[] = {
		{ "offset", "4X", SWI_ATTR_TEXT, SWI_EFORMAT,
		  "images[2] (member.img): attribute 'offset' is \"4X\"; expected a size" },
		{ "offset", "-1", SWI_ATTR_NUMBER, SWI_EFORMAT, "expected a size" },
		{ "offset", "1.5", SWI_ATTR_NUMBER, SWI_EFORMAT, "expected a size" },
		{ "offset", "true", SWI_ATTR_BOOL, SWI_EFORMAT, "expected a size" },
		{ "create-destination", "yes", SWI_ATTR_TEXT, SWI_EFORMAT,
		  "attribute 'create-destination' is \"yes\"; expected true or false" },
		{ "create-destination", "1", SWI_ATTR_NUMBER, SWI_EFORMAT, "expected true or false" },
		{ "properties.parts", "one", SWI_ATTR_TEXT, SWI_EFORMAT,
		  "attribute 'properties.parts' is \"one\"; expected a list" },
		{ "where", NULL, SWI_ATTR_LIST, SWI_EFORMAT,
		  "attribute 'where' is a list; expected one value" },
		{ "install-if-higher", "maybe", SWI_ATTR_TEXT, SWI_EFORMAT,
		  "attribute 'install-if-higher' is \"maybe\"; expected true or false" },
		{ "device", "/dev/sda", SWI_ATTR_TEXT, SWI_EUNSUPPORTED,
		  "images[2] (member.img): handler 'typed' cannot honour attribute 'device'" },
		{ "filesystem", "ext4", SWI_ATTR_TEXT, SWI_EUNSUPPORTED,
		  "handler 'typed' cannot honour attribute 'filesystem'" },
	};
	struct swi_target *t = target(f, &typed, 10, NULL, NULL);
	assert_int_equal(swi_target_bind_attrs(t), SWI_EFORMAT);
	assert_error_mentions(f, "images[2] (member.img): handler 'typed' needs attribute 'where'");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		swi_attrs_free(&f->entry.attrs);
		if (strcmp(cases[i].name, "where") != 0)
			assert_int_equal(swi_attrs_set(&f->entry.attrs, "where", "/dev/x"), SWI_OK);
		if (cases[i].kind == SWI_ATTR_LIST)
			assert_int_equal(swi_attrs_set_list(&f->entry.attrs, cases[i].name, two, 2),
					 SWI_OK);
		else
			assert_int_equal(swi_attrs_set_kind(&f->entry.attrs, cases[i].name,
							    cases[i].value, cases[i].kind), SWI_OK);
		assert_int_equal(swi_target_bind_attrs(t), cases[i].status);
		assert_error_mentions(f, cases[i].message);
	}
}

/* ---- the handler ABI: its size, and the state the core owns ---- */

/* The member of the images below. */
static const char script[] = "a=1\n";

/* A handler that records its calls; its state counts what open saw. */
struct counted {
	int opens;
	size_t bytes;
	bool zero_at_check;
};

static void *checked_state[2];
static size_t nchecked;

static int rec_check(struct swi_target *t)
{
	struct counted *c = swi_target_state(t);
	c->zero_at_check = c->opens == 0 && c->bytes == 0 && !c->zero_at_check;
	if (nchecked < 2)
		checked_state[nchecked] = c;
	nchecked++;
	record_call("check");
	return SWI_OK;
}
static int rec_open(struct swi_target *t)
{
	struct counted *c = swi_target_state(t);
	record_call("open");
	if (c)
		c->opens++;
	return SWI_OK;
}
static int rec_write(struct swi_target *t, const void *buf, size_t len)
{
	struct counted *c = swi_target_state(t);
	(void)buf;
	record_call("write");
	if (c)
		c->bytes += len;
	return SWI_OK;
}
static int rec_close(struct swi_target *t)
{
	struct counted *c = swi_target_state(t);
	record_call("close");
	/* The state is the one check saw, counted once. */
	if (c && (!c->zero_at_check || c->opens != 1 || c->bytes != sizeof(script) - 1))
		return swi_target_error(t, SWI_EHANDLER, "state not as check left it");
	return SWI_OK;
}
static void rec_abort(struct swi_target *t) { (void)t; record_call("abort"); }
static int rec_commit(struct swi_target *t) { (void)t; record_call("commit"); return SWI_OK; }

static const struct swi_handler recorder = {
	.size = SWI_HANDLER_SIZE, .name = "recorder", .kinds = SWI_HANDLER_IMAGE,
	.check = rec_check, .open = rec_open, .write = rec_write, .close = rec_close,
	.abort = rec_abort, .commit = rec_commit, .state_size = sizeof(struct counted),
};

/* An image of one entry of type "recorder", or two fed by the same member. */
static void recorder_image(struct fixture *f, int entries)
{
	char sha[65], entry[256], desc[1024];
	payload_sha(script, sizeof(script) - 1, true, sha);
	snprintf(entry, sizeof(entry), "{ filename = \"payload.txt\"; type = \"recorder\"; "
		 "sha256 = \"%s\"; }", sha);
	snprintf(desc, sizeof(desc), "software = { images = ( %s%s%s ); };", entry,
		 entries > 1 ? ", " : "", entries > 1 ? entry : "");
	image_of(f, desc, script, sizeof(script) - 1);
}

/* A handler built before commit and state_size existed: its struct ends
 * where commit starts, and whatever lies behind it in memory is not its.
 * Junk there is never read: no commit call, no state. */
static void handler_of_an_older_struct_goes_without_later_fields(void **state)
{
	struct fixture *f = *state;
	struct swi_handler old = recorder;
	old.size = offsetof(struct swi_handler, commit);
	old.check = NULL;
	unsigned char *mem = malloc(sizeof(struct swi_handler) + 64);
	assert_non_null(mem);
	memset(mem, 0xA5, sizeof(struct swi_handler) + 64);
	memcpy(mem, &old, old.size);
	assert_int_equal(swi_register_handler(f->ctx, (const struct swi_handler *)mem), SWI_OK);
	recorder_image(f, 1);
	assert_int_equal(install_image(f), SWI_OK);
	assert_string_equal(calls_seen(), "open write close");
	swi_ctx_free(f->ctx);
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	free(mem);
}

/* The size is checked before anything else: smaller than the first struct,
 * larger than any struct could be, or newer with fields this version does
 * not know set, the handler is refused; newer with those zero, taken. */
static void registration_checks_the_size(void **state)
{
	struct fixture *f = *state;
	unsigned char *mem = calloc(1, SWI_HANDLER_MAX_SIZE + 8);
	assert_non_null(mem);
	struct swi_handler h = recorder;
	h.size = 0;
	assert_int_equal(swi_register_handler(f->ctx, &h), SWI_EINVAL);
	assert_error_mentions(f, "size 0 is smaller than the first struct swi_handler");
	h.size = offsetof(struct swi_handler, commit) - 1;
	assert_int_equal(swi_register_handler(f->ctx, &h), SWI_EINVAL);
	assert_error_mentions(f, "set .size = SWI_HANDLER_SIZE");
	h.size = SWI_HANDLER_MAX_SIZE + 1;
	memcpy(mem, &h, sizeof(h));
	assert_int_equal(swi_register_handler(f->ctx, (const struct swi_handler *)mem), SWI_EINVAL);
	assert_error_mentions(f, "is no struct swi_handler's");
	h.size = sizeof(h) + 16;
	memcpy(mem, &h, sizeof(h));
	mem[sizeof(h) + 8] = 1;
	assert_int_equal(swi_register_handler(f->ctx, (const struct swi_handler *)mem), SWI_EINVAL);
	assert_error_mentions(f, "sets fields this version");
	assert_null(swi_handler_find(f->ctx, "recorder"));
	mem[sizeof(h) + 8] = 0;
	assert_int_equal(swi_register_handler(f->ctx, (const struct swi_handler *)mem), SWI_OK);
	assert_ptr_equal(swi_handler_find(f->ctx, "recorder"), mem);
	swi_ctx_free(f->ctx);
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	free(mem);
}

/* The calls seen but the writes, whose interleaving between two entries
 * fed by one member is the worker threads'. */
static void assert_calls_but_writes(const char *expected)
{
	char calls[256] = "";
	for (const char *w = calls_seen(); *w; w += strspn(w, " ")) {
		size_t len = strcspn(w, " ");
		if (len != 5 || strncmp(w, "write", 5) != 0)
			snprintf(calls + strlen(calls), sizeof(calls) - strlen(calls), "%s%.*s",
				 calls[0] ? " " : "", (int)len, w);
		w += len;
	}
	assert_string_equal(calls, expected);
}

/* state_size: zeroed state from check on, one per entry, the same through
 * check, open, write and close (rec_close fails otherwise); freed by the
 * core (the ASan build finds a leak). */
static void core_owned_state_is_zeroed_per_entry(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_register_handler(f->ctx, &recorder), SWI_OK);
	recorder_image(f, 2);
	nchecked = 0;
	assert_int_equal(install_image(f), SWI_OK);
	assert_calls_but_writes("check check open open close close commit commit");
	assert_int_equal(nchecked, 2);
	assert_non_null(checked_state[0]);
	assert_non_null(checked_state[1]);
	assert_ptr_not_equal(checked_state[0], checked_state[1]);
	/* A second install gets fresh state: zeroed again at check. */
	nchecked = 0;
	assert_int_equal(install_image(f), SWI_OK);
	assert_int_equal(nchecked, 2);
}

/* Without state_size, the state is the handler's: none unless it sets one. */
static void without_state_size_the_handler_owns_its_state(void **state)
{
	struct fixture *f = *state;
	struct swi_handler own = recorder;
	own.check = NULL;
	own.state_size = 0;
	struct swi_target *t = target(f, &own, 0, NULL, NULL);
	assert_null(swi_target_state(t));
	int mine = 0;
	swi_target_set_state(t, &mine);
	assert_ptr_equal(swi_target_state(t), &mine);
	swi_target_free_state(t);
	assert_ptr_equal(swi_target_state(t), &mine);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(registered_handler_shadows_builtin),
		T(registration_checks_declarations),
		T(builtins_are_listed_and_declare_validly),
		T(typed_attributes_are_converted),
		T(typed_attributes_refused),
		T(handler_of_an_older_struct_goes_without_later_fields),
		T(registration_checks_the_size),
		T(core_owned_state_is_zeroed_per_entry),
		T(without_state_size_the_handler_owns_its_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
