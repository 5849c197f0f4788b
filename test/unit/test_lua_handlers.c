/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lua handlers (lib/lua_handlers.c): loading, register_handler and its
 * mask, the image table's copy2file and read, results, errors, and
 * call_handler into a C handler, through whole installs of small images. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include "handler_fixture.h"
#include "lua_handlers.h"
#include "lua_host.h"

#define PAYLOAD "the artifact's bytes, as installed\n"

/* Writes the Lua handlers file code in f->work and names it with the
 * option lua-handlers; the status of loading it. */
static int load_handlers(struct fixture *f, const char *code)
{
	char path[160];
	write_work_file(f, "handlers.lua", code, strlen(code));
	snprintf(path, sizeof(path), "%s/handlers.lua", f->work);
	assert_int_equal(swi_set_option(f->ctx, "lua-handlers", path), SWI_OK);
	return swi_lua_handlers_load(f->ctx);
}

/* An image of one entry of collection, type type, with PAYLOAD as its
 * member and extra attributes (sw-description text, may be ""). */
static void image_with(struct fixture *f, const char *collection, const char *type,
		       const char *extra)
{
	char desc[1024], sha[65];
	payload_sha(PAYLOAD, strlen(PAYLOAD), true, sha);
	snprintf(desc, sizeof(desc), "software = { %s = ( { type = \"%s\"; filename = "
		 "\"payload.txt\"; sha256 = \"%s\"; %s } ); };", collection, type, sha, extra);
	image_of(f, desc, PAYLOAD, strlen(PAYLOAD));
}

/* image_with() an entry whose data names the file name in f->dir, whose
 * path is in dest (PATH_MAX bytes). */
static void image_into(struct fixture *f, const char *collection, const char *type,
		       const char *name, char *dest)
{
	char extra[PATH_MAX + 16];
	in_dir(f, name, dest, PATH_MAX);
	snprintf(extra, sizeof(extra), "data = \"%s\";", dest);
	image_with(f, collection, type, extra);
}

static void names_of(struct fixture *f, char *names, size_t size)
{
	assert_int_equal(swi_handler_names(f->ctx, names, size), SWI_OK);
}

static void registered_handlers_are_listed_with_their_collections(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f,
		"local function h(image) return 0 end\n"
		"swupdate.register_handler('imgfile', h,\n"
		"  swupdate.HANDLER_MASK.IMAGE_HANDLER | swupdate.HANDLER_MASK.FILE_HANDLER)\n"
		"swupdate.register_handler('scr', h, swupdate.HANDLER_MASK.SCRIPT_HANDLER)\n"
		"swupdate.register_handler('any', h)\n"), SWI_OK);
	char names[2048];
	names_of(f, names, sizeof(names));
	assert_non_null(strstr(names, "imgfile (images, files)"));
	assert_non_null(strstr(names, "scr (scripts)"));
	assert_non_null(strstr(names, "any (images, files, scripts, bootenv, partitions)"));
	assert_non_null(strstr(names, "raw (images, files)"));
	/* Loaded once: a second load registers nothing twice. */
	assert_int_equal(swi_lua_handlers_load(f->ctx), SWI_OK);
	char again[2048];
	names_of(f, again, sizeof(again));
	assert_string_equal(names, again);
}

static void the_mask_puts_an_entry_in_its_collection(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "swupdate.register_handler('onlyfiles', "
				       "function(image) return 0 end, "
				       "swupdate.HANDLER_MASK.FILE_HANDLER)\n"), SWI_OK);
	image_with(f, "images", "onlyfiles", "");
	assert_int_equal(install_image(f), SWI_EUNSUPPORTED);
	assert_error_mentions(f, "type 'onlyfiles' does not belong here: its entries go under files");
}

static void a_mask_without_a_collection_is_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "local x = 1\n"
				       "swupdate.register_handler('none', function() end, 32)\n"),
			 SWI_EHANDLER);
	assert_error_mentions(f, "handlers.lua:2: register_handler('none'): mask 32 names no "
			      "collection");
	/* The failure stays the context's: an install does not go on without. */
	assert_int_equal(swi_lua_handlers_load(f->ctx), SWI_EHANDLER);
	assert_error_mentions(f, "mask 32 names no collection");
}

static void a_mask_with_unknown_bits_is_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "swupdate.register_handler('odd', function() end, 65)\n"),
			 SWI_EHANDLER);
	assert_error_mentions(f, "handlers.lua:1: register_handler('odd'): mask 65 holds bits "
			      "that are no swupdate.HANDLER_MASK value");
}

static void copy2file_writes_the_decoded_bytes(void **state)
{
	struct fixture *f = *state;
	char dest[PATH_MAX];
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('tofile', function(image)\n"
		"  local err, msg = image:copy2file(image.data)\n"
		"  assert(err == 0 and msg == nil, msg)\n"
		"  return 0\n"
		"end, swupdate.HANDLER_MASK.IMAGE_HANDLER)\n"), SWI_OK);
	image_into(f, "images", "tofile", "copied.bin", dest);
	assert_int_equal(install_image(f), SWI_OK);
	assert_file_holds(dest, PAYLOAD, strlen(PAYLOAD));
}

static void copy2file_reports_a_file_it_cannot_open(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('tofile', function(image)\n"
		"  local err, msg = image:copy2file('/nonexistent/dir/x')\n"
		"  assert(err == -1 and msg:find('/nonexistent/dir/x: No such file'), msg)\n"
		"  return 0\n"
		"end)\n"), SWI_OK);
	image_with(f, "images", "tofile", "");
	assert_int_equal(install_image(f), SWI_OK);
}

static void read_hands_every_block_to_the_callback(void **state)
{
	struct fixture *f = *state;
	char dest[PATH_MAX];
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('reader', function(image)\n"
		"  local parts = {}\n"
		"  local err = image:read(function(chunk) parts[#parts + 1] = chunk end)\n"
		"  assert(err == 0)\n"
		"  local out = assert(io.open(image.data, 'w'))\n"
		"  out:write(string.upper(table.concat(parts)))\n"
		"  out:close()\n"
		"  return 0\n"
		"end)\n"), SWI_OK);
	image_into(f, "images", "reader", "read.txt", dest);
	assert_int_equal(install_image(f), SWI_OK);
	assert_file_holds(dest, "THE ARTIFACT'S BYTES, AS INSTALLED\n", strlen(PAYLOAD));
}

static void the_image_table_has_swupdates_fields(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('fields', function(image)\n"
		"  assert(image.type == 'fields' and image.filename == 'payload.txt')\n"
		"  assert(image.offset == 8192 and image.size == 35)\n"
		"  assert(image.installed_directly == true and image.encrypted == false)\n"
		"  assert(image.compressed == false and image.device == '' and image.path == '')\n"
		"  assert(image.properties.color == 'blue' and image.properties.list[2] == 'b')\n"
		"  assert(#image.sha256 == 64 and image.script == false)\n"
		"  return 0\n"
		"end)\n"), SWI_OK);
	image_with(f, "images", "fields", "offset = \"8K\"; installed-directly = true; "
		   "properties = { color = \"blue\"; list = [ \"a\", \"b\" ]; };");
	assert_int_equal(strlen(PAYLOAD), 35);
	assert_int_equal(install_image(f), SWI_OK);
}

static void a_result_other_than_zero_fails_the_install(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "swupdate.register_handler('refuses', "
				       "function(image) return 3 end)\n"
				       "swupdate.register_handler('silent', "
				       "function(image) end)\n"), SWI_OK);
	image_with(f, "images", "refuses", "");
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "payload.txt: Lua handler 'refuses' failed: it returned 3");
	image_with(f, "images", "silent", "");
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "Lua handler 'silent' returned nil, not a number");
}

static void unread_bytes_are_still_verified(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "swupdate.register_handler('ignores', "
				       "function(image) return 0 end)\n"), SWI_OK);
	image_with(f, "images", "ignores", "");
	assert_int_equal(install_image(f), SWI_OK);
	char desc[512], sha[65];
	payload_sha(PAYLOAD, strlen(PAYLOAD), false, sha);
	snprintf(desc, sizeof(desc), "software = { images = ( { type = \"ignores\"; filename = "
		 "\"payload.txt\"; sha256 = \"%s\"; } ); };", sha);
	image_of(f, desc, PAYLOAD, strlen(PAYLOAD));
	assert_int_equal(install_image(f), SWI_EHASH);
}

static void an_error_names_the_handler_and_the_line(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('broken', function(image)\n"
		"  local x = nil\n"
		"  return x.field\n"
		"end)\n"), SWI_OK);
	image_with(f, "images", "broken", "");
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "payload.txt: Lua handlers: handler 'broken': ");
	assert_error_mentions(f, "handlers.lua:3: attempt to index a nil value");
}

static void *cancel_soon(void *ctx)
{
	usleep(200 * 1000);
	swi_cancel(ctx);
	return NULL;
}

static void an_endless_handler_is_cancelled(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "swupdate.register_handler('spins', "
				       "function(image) while true do end end)\n"), SWI_OK);
	image_with(f, "images", "spins", "");
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, cancel_soon, f->ctx), 0);
	assert_int_equal(install_image(f), SWI_ECANCELED);
	pthread_join(t, NULL);
}

static void a_file_that_fails_to_load_names_its_line(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "local a = 1\nthis is not lua\n"), SWI_EHANDLER);
	assert_error_mentions(f, "handlers.lua:2:");
	char names[2048];
	assert_int_equal(swi_handler_names(f->ctx, names, sizeof(names)), SWI_EHANDLER);
	assert_non_null(strstr(names, "raw (images, files)"));
}

static void register_handler_only_while_loading(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('late', function(image)\n"
		"  swupdate.register_handler('later', function() return 0 end)\n"
		"  return 0\n"
		"end)\n"), SWI_OK);
	image_with(f, "images", "late", "");
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "register_handler('later'): only while swupdate_handlers loads");
}

/* A Lua handler that points the entry at the device named by its data
 * and chains to name. */
static const char chaining_handler[] =
	"swupdate.register_handler('chain', function(image)\n"
	"  image.device = image.data\n"
	"  local err, msg = swupdate.call_handler(image.properties.to, image)\n"
	"  if err ~= 0 then error(msg) end\n"
	"  return 0\n"
	"end, swupdate.HANDLER_MASK.IMAGE_HANDLER)\n";

static void call_handler_chains_to_raw(void **state)
{
	struct fixture *f = *state;
	char device[160], extra[256];
	in_dir(f, "device.img", device, sizeof(device));
	fill_file(device, OLD_BYTE, FILE_SIZE);
	assert_int_equal(load_handlers(f, chaining_handler), SWI_OK);
	snprintf(extra, sizeof(extra), "data = \"%s\"; offset = \"4K\"; "
		 "properties = { to = \"raw\"; };", device);
	image_with(f, "images", "chain", extra);
	assert_int_equal(install_image(f), SWI_OK);
	size_t size;
	unsigned char *bytes = slurp(device, &size);
	assert_int_equal(size, FILE_SIZE);
	assert_bytes(bytes, 0, 4096, OLD_BYTE);
	assert_memory_equal(bytes + 4096, PAYLOAD, strlen(PAYLOAD));
	assert_bytes(bytes, 4096 + strlen(PAYLOAD), FILE_SIZE, OLD_BYTE);
	free(bytes);
}

/* rawfile stages its file: in place only at the commit, after the close
 * that follows the sha256. */
static void call_handler_into_a_staging_handler_commits_with_the_install(void **state)
{
	struct fixture *f = *state;
	char dest[PATH_MAX];
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('tofile', function(image)\n"
		"  image.path = image.data\n"
		"  local err, msg = swupdate.call_handler('rawfile', image)\n"
		"  assert(err == 0, msg)\n"
		"  local placed = io.open(image.path)\n"
		"  assert(placed == nil, 'in place before the commit')\n"
		"  return 0\n"
		"end, swupdate.HANDLER_MASK.FILE_HANDLER)\n"), SWI_OK);
	image_into(f, "files", "tofile", "placed.txt", dest);
	assert_int_equal(install_image(f), SWI_OK);
	assert_file_holds(dest, PAYLOAD, strlen(PAYLOAD));
}

static void a_failure_after_call_handler_undoes_the_chained_handler(void **state)
{
	struct fixture *f = *state;
	char dest[PATH_MAX];
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('tofile', function(image)\n"
		"  image.path = image.data\n"
		"  assert(swupdate.call_handler('rawfile', image) == 0)\n"
		"  return 2\n"
		"end, swupdate.HANDLER_MASK.FILE_HANDLER)\n"), SWI_OK);
	image_into(f, "files", "tofile", "placed.txt", dest);
	char *before = tree_snapshot(f->dir, NULL, NULL);
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "Lua handler 'tofile' failed: it returned 2");
	assert_same_snapshot(before, tree_snapshot(f->dir, NULL, NULL), "the failed install");
}

static void call_handler_passes_the_handlers_checks(void **state)
{
	struct fixture *f = *state;
	char device[160], extra[256];
	in_dir(f, "missing.img", device, sizeof(device));
	assert_int_equal(load_handlers(f, chaining_handler), SWI_OK);
	snprintf(extra, sizeof(extra), "data = \"%s\"; properties = { to = \"raw\"; };", device);
	image_with(f, "images", "chain", extra);
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "missing.img");
	assert_int_equal(access(device, F_OK), -1);
}

static void call_handler_into_a_missing_handler(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, chaining_handler), SWI_OK);
	image_with(f, "images", "chain", "data = \"/dev/null\"; properties = { to = \"nosuch\"; };");
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "call_handler('nosuch'): there is no such handler");
	image_with(f, "images", "chain", "data = \"/dev/null\"; properties = { to = \"chain\"; };");
	assert_int_equal(install_image(f), SWI_EHANDLER);
	assert_error_mentions(f, "call_handler('chain'): it is a Lua handler");
}

static void call_handler_outside_a_handler_is_an_error(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "swupdate.call_handler('raw', {})\n"), SWI_EHANDLER);
	assert_error_mentions(f, "swupdate.call_handler: only inside a Lua handler's function");
}

static void two_lua_entries_of_one_member_are_refused(void **state)
{
	struct fixture *f = *state;
	char desc[1024], sha[65];
	assert_int_equal(load_handlers(f, "swupdate.register_handler('one', function(image) "
				       "return 0 end)\n"), SWI_OK);
	payload_sha(PAYLOAD, strlen(PAYLOAD), true, sha);
	snprintf(desc, sizeof(desc), "software = { images = ( "
		 "{ type = \"one\"; filename = \"payload.txt\"; sha256 = \"%s\"; }, "
		 "{ type = \"one\"; filename = \"payload.txt\"; sha256 = \"%s\"; } ); };", sha, sha);
	image_of(f, desc, PAYLOAD, strlen(PAYLOAD));
	assert_int_equal(install_image(f), SWI_EUNSUPPORTED);
	assert_error_mentions(f, "two entries of Lua handlers cannot take the same member");
}

static void a_coroutine_of_the_handler_reads_too(void **state)
{
	struct fixture *f = *state;
	char dest[PATH_MAX];
	assert_int_equal(load_handlers(f,
		"swupdate.register_handler('co', function(image)\n"
		"  return coroutine.wrap(function() return image:copy2file(image.data) end)()\n"
		"end)\n"), SWI_OK);
	image_into(f, "images", "co", "copied.bin", dest);
	assert_int_equal(install_image(f), SWI_OK);
	assert_file_holds(dest, PAYLOAD, strlen(PAYLOAD));
}

static void scripts_states_cannot_register_or_chain(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "swupdate.register_handler('h', "
				       "function(image) return 0 end)\n"), SWI_OK);
	struct swi_lua_env env = { .ctx = f->ctx };
	struct swi_lua *l;
	assert_int_equal(swi_lua_new(&env, "lua script s.lua", &l), SWI_OK);
	static const char reg[] = "swupdate.register_handler('x', function() return 0 end)";
	assert_int_equal(swi_lua_run_buffer(l, "s.lua", reg, sizeof(reg) - 1), SWI_EHANDLER);
	assert_error_mentions(f, "s.lua:1: register_handler('x'): only while swupdate_handlers loads");
	static const char chain[] = "swupdate.call_handler('raw', {})";
	assert_int_equal(swi_lua_run_buffer(l, "s.lua", chain, sizeof(chain) - 1), SWI_EHANDLER);
	assert_error_mentions(f, "s.lua:1: swupdate.call_handler: only inside a Lua handler");
	swi_lua_free(l);
}

static void the_module_lists_the_handlers(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(load_handlers(f, "assert(swupdate.handler.raw and swupdate.handler.archive)\n"
				       "assert(swupdate.handler.nosuch == nil)\n"), SWI_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(registered_handlers_are_listed_with_their_collections),
		T(the_mask_puts_an_entry_in_its_collection),
		T(a_mask_without_a_collection_is_refused),
		T(a_mask_with_unknown_bits_is_refused),
		T(copy2file_writes_the_decoded_bytes),
		T(copy2file_reports_a_file_it_cannot_open),
		T(read_hands_every_block_to_the_callback),
		T(the_image_table_has_swupdates_fields),
		T(a_result_other_than_zero_fails_the_install),
		T(unread_bytes_are_still_verified),
		T(an_error_names_the_handler_and_the_line),
		T(an_endless_handler_is_cancelled),
		T(a_file_that_fails_to_load_names_its_line),
		T(register_handler_only_while_loading),
		T(call_handler_chains_to_raw),
		T(call_handler_into_a_staging_handler_commits_with_the_install),
		T(a_failure_after_call_handler_undoes_the_chained_handler),
		T(call_handler_passes_the_handlers_checks),
		T(call_handler_into_a_missing_handler),
		T(call_handler_outside_a_handler_is_an_error),
		T(two_lua_entries_of_one_member_are_refused),
		T(a_coroutine_of_the_handler_reads_too),
		T(scripts_states_cannot_register_or_chain),
		T(the_module_lists_the_handlers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
