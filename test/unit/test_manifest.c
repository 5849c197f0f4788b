/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/manifest.c: sw-description parsing.
 *
 * One model, two readers: every semantic test runs twice, over its
 * libconfig text and over the JSON form of that text (json_form.h), and
 * asserts the same. Tests of one syntax's own rules run over that one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "json_form.h"
#include "manifest.h"

#define SHA_A "4925d2d4a2e887f938e428cb8c890c598b485c906ae241975c01be1dcc373c51"

struct fixture {
	swi_ctx_t *ctx;
	struct swi_manifest m;
	bool json; /* parse() reads the JSON form of the texts it is given */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f || swi_ctx_new(&f->ctx))
		return -1;
	*state = f;
	return 0;
}

static int setup_json(void **state)
{
	int rc = setup(state);
	if (!rc)
		((struct fixture *)*state)->json = true;
	return rc;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	swi_manifest_free(&f->m);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

/* Parses text, or its JSON form with a JSON fixture, into f->m (freeing
 * an earlier result first). */
static int parse(struct fixture *f, const char *text, const char *board, const char *select)
{
	swi_manifest_free(&f->m);
	if (!f->json)
		return swi_manifest_parse(f->ctx, text, strlen(text), board, select, &f->m);
	char *json = json_form(f->ctx, text);
	if (!json)
		fail_msg("no JSON form of the test's text: %s", swi_errmsg(f->ctx));
	assert_true(swi_tree_is_json(json, strlen(json)));
	int rc = swi_manifest_parse(f->ctx, json, strlen(json), board, select, &f->m);
	free(json);
	return rc;
}

static void parse_ok(struct fixture *f, const char *text, const char *board,
		     const char *select)
{
	int rc = parse(f, text, board, select);
	if (rc)
		fail_msg("parse failed: %d %s", rc, swi_errmsg(f->ctx));
}

/* Asserts the parse fails with status and a message containing needle. */
static void parse_fails(struct fixture *f, const char *text, const char *board,
			const char *select, int status, const char *needle)
{
	int rc = parse(f, text, board, select);
	if (rc != status)
		fail_msg("expected %d, got %d (%s)", status, rc, swi_errmsg(f->ctx));
	if (!strstr(swi_errmsg(f->ctx), needle))
		fail_msg("message '%s' lacks '%s'", swi_errmsg(f->ctx), needle);
	assert_int_equal(f->m.nentries, 0);
	assert_null(f->m.entries);
}

static const char *attr(const struct fixture *f, size_t i, const char *name)
{
	assert_true(i < f->m.nentries);
	return swi_attrs_get(&f->m.entries[i].attrs, name);
}

/* The filename of the only image, for the precedence tests. */
static const char *only_file(const struct fixture *f)
{
	assert_int_equal(f->m.nentries, 1);
	return f->m.entries[0].filename;
}

/* ---------------------------------------------------------------------- */

static void test_flat_images(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  version = \"2.1\";\n"
		 "  description = \"flat\";\n"
		 "  images: (\n"
		 "    { filename = \"rootfs.ext4\"; device = \"/dev/mmcblk0p2\"; sha256 = \"" SHA_A "\"; },\n"
		 "    { filename = \"rootfs.ubifs\"; volume = \"rootfs\"; },\n"
		 "    { filename = \"fpga.bit\"; type = \"fpga\"; },\n"
		 "    { filename = \"u-boot.env\"; type = \"uboot\"; },\n"
		 "    { device = \"/dev/null\"; }\n"
		 "  );\n"
		 "};\n", NULL, NULL);
	assert_string_equal(f->m.version, "2.1");
	assert_string_equal(f->m.description, "flat");
	assert_int_equal(f->m.nentries, 4);
	const struct swi_entry *e = f->m.entries;
	assert_int_equal(e[0].kind, SWI_ENTRY_IMAGE);
	assert_string_equal(e[0].filename, "rootfs.ext4");
	assert_string_equal(e[0].type, "raw");
	assert_string_equal(e[0].sha256, SHA_A);
	assert_null(e[0].compressed);
	assert_string_equal(attr(f, 0, "device"), "/dev/mmcblk0p2");
	assert_string_equal(e[1].type, "ubivol");
	assert_null(e[1].sha256);
	assert_string_equal(e[2].type, "fpga");
	assert_string_equal(e[3].type, "bootloader");
	assert_string_equal(attr(f, 3, "type"), "bootloader");
	assert_null(f->m.embedded_script);
	assert_int_equal(f->m.nhwcompat, 0);
}

/* Entries know where they were written, for messages such as
 * "images[2] (u-boot.sb): ..."; lists stay lists. */
static void test_entry_places_and_lists(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  images = ( { device = \"/dev/null\"; },\n"
		 "             { filename = \"a\"; device = \"/dev/a\"; parts = [\"x\", \"y\"]; n = 7; b = true; } );\n"
		 "  files = ( { filename = \"f\"; path = \"/f\"; properties = { k = (1, 2); }; } );\n"
		 "  bootenv = ( { name = \"v\"; value = \"1\"; }, { filename = \"env.txt\"; } );\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nentries, 3);
	const struct swi_entry *e = f->m.entries;
	assert_string_equal(e[0].collection, "images");
	assert_int_equal(e[0].index, 1);
	assert_string_equal(e[1].collection, "files");
	assert_int_equal(e[1].index, 0);
	assert_string_equal(e[2].collection, "bootenv");
	assert_int_equal(e[2].index, 1);
	const struct swi_attr *parts = swi_attrs_find(&e[0].attrs, "parts");
	assert_non_null(parts);
	assert_int_equal(parts->kind, SWI_ATTR_LIST);
	assert_int_equal(parts->nlist, 2);
	assert_string_equal(parts->list[1], "y");
	assert_int_equal(swi_attrs_find(&e[0].attrs, "n")->kind, SWI_ATTR_NUMBER);
	assert_int_equal(swi_attrs_find(&e[0].attrs, "b")->kind, SWI_ATTR_BOOL);
	assert_int_equal(swi_attrs_find(&e[0].attrs, "device")->kind, SWI_ATTR_TEXT);
	assert_string_equal(attr(f, 1, "properties.k"), "1,2");
	assert_int_equal(swi_attrs_find(&e[1].attrs, "properties.k")->nlist, 2);
}

/* Boards are groups under software that hold collections or selections;
 * selection sets are not boards. */
static void test_boards_listed(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  version = \"1\";\n"
		 "  imx8 = { images = ( { filename = \"a\"; device = \"/dev/a\"; } ); };\n"
		 "  stable = { copy1 = { images = ( { filename = \"b\"; device = \"/dev/b\"; } ); }; };\n"
		 "  rpi4 = { hardware-compatibility = [\"1.0\"];\n"
		 "           stable = { copy2 = { files = ( { filename = \"c\"; path = \"/c\"; } ); }; }; };\n"
		 "  other = { note = \"x\"; };\n"
		 "};\n", NULL, NULL);
	assert_string_equal(f->m.boards, "imx8 rpi4");
	assert_string_equal(f->m.selections, "stable,copy1");
	parse_ok(f, "software = { images = ( ); };\n", NULL, NULL);
	assert_null(f->m.boards);
}

static void test_kinds_and_defaults(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  files = ( { filename = \"cfg\"; path = \"/etc/cfg\"; }, { path = \"/skipped\"; } );\n"
		 "  scripts = ( { filename = \"pre.sh\"; type = \"shellscript\"; }, { filename = \"s.lua\"; } );\n"
		 "  partitions = ( { name = \"rootfs\"; device = \"mtd4\"; size = 104896512; } );\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nentries, 4);
	const struct swi_entry *e = f->m.entries;
	assert_int_equal(e[0].kind, SWI_ENTRY_FILE);
	assert_string_equal(e[0].type, "rawfile");
	assert_string_equal(attr(f, 0, "path"), "/etc/cfg");
	assert_int_equal(e[1].kind, SWI_ENTRY_SCRIPT);
	assert_string_equal(e[1].type, "shellscript");
	assert_string_equal(e[2].type, "lua");
	assert_int_equal(e[3].kind, SWI_ENTRY_PARTITION);
	assert_null(e[3].filename);
	assert_string_equal(e[3].type, "ubipartition");
	assert_string_equal(e[3].name, "rootfs");
	assert_string_equal(attr(f, 3, "size"), "104896512");
}

static void test_attribute_values(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = { images = ( {\n"
		 "  filename = \"a\"; device = \"/dev/x\";\n"
		 "  name = \"kernel\"; version = \"5.10\";\n"
		 "  encrypted = true; install-if-different = true; install-if-higher = false;\n"
		 "  installed-directly = true; seek = 0x10; ratio = 1.5; neg = -3;\n"
		 "  sha256 = \"4925D2D4A2E887F938E428CB8C890C598B485C906AE241975C01BE1DCC373C51\";\n"
		 "  compressed = true;\n"
		 "  properties = { mode = \"fast\"; list = [ \"a\", \"b\" ]; n = 7; };\n"
		 "  nested = { ignored = 1; };\n"
		 "} ); };\n", NULL, NULL);
	const struct swi_entry *e = f->m.entries;
	assert_int_equal(f->m.nentries, 1);
	assert_string_equal(e->name, "kernel");
	assert_string_equal(e->version, "5.10");
	assert_true(e->encrypted);
	assert_true(e->install_if_different);
	assert_false(e->install_if_higher);
	assert_string_equal(attr(f, 0, "installed-directly"), "true");
	assert_string_equal(attr(f, 0, "install-if-higher"), "false");
	assert_string_equal(attr(f, 0, "seek"), "16");
	assert_string_equal(attr(f, 0, "ratio"), "1.5");
	assert_string_equal(attr(f, 0, "neg"), "-3");
	assert_string_equal(e->sha256, SHA_A);
	assert_string_equal(e->compressed, "zlib");
	assert_string_equal(attr(f, 0, "compressed"), "zlib");
	assert_string_equal(attr(f, 0, "properties.mode"), "fast");
	assert_string_equal(attr(f, 0, "properties.list"), "a,b");
	assert_string_equal(attr(f, 0, "properties.n"), "7");
	assert_null(attr(f, 0, "nested"));
	assert_null(attr(f, 0, "nested.ignored"));
}

static void test_compressed_values(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = { images = (\n"
		 "  { filename = \"a\"; device = \"d\"; compressed = false; },\n"
		 "  { filename = \"b\"; device = \"d\"; compressed = \"zstd\"; },\n"
		 "  { filename = \"c\"; device = \"d\"; compressed = \"xz\"; },\n"
		 "  { filename = \"d\"; device = \"d\"; compressed = \"zlib\"; }\n"
		 "); };\n", NULL, NULL);
	assert_int_equal(f->m.nentries, 4);
	assert_null(f->m.entries[0].compressed);
	assert_string_equal(f->m.entries[1].compressed, "zstd");
	assert_string_equal(f->m.entries[2].compressed, "xz");
	assert_string_equal(f->m.entries[3].compressed, "zlib");
}

static void test_header_fields(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  version = \"1\";\n"
		 "  hardware-compatibility = [ \"1.0\", \"1.2\", \"#RE:^2\\\\.[0-9]$\" ];\n"
		 "  embedded-script = \"function hook(e)\n  return true, e\nend\";\n"
		 "  bootenv = ( { name = \"rootpart\"; value = \"2\"; }, { name = \"gone\"; value = \"\"; },\n"
		 "              { name = \"noval\"; }, { value = \"no name\"; }, { name = \"n\"; value = 3; },\n"
		 "              { filename = \"env.txt\"; } );\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nhwcompat, 3);
	assert_string_equal(f->m.hwcompat[0], "1.0");
	assert_string_equal(f->m.hwcompat[2], "#RE:^2\\.[0-9]$");
	assert_string_equal(f->m.embedded_script, "function hook(e)\n  return true, e\nend");
	assert_int_equal(f->m.bootenv.count, 4);
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "rootpart"), "2");
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "gone"), "");
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "noval"), "");
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "n"), "3");
	assert_int_equal(f->m.nentries, 1);
	assert_string_equal(f->m.entries[0].filename, "env.txt");
	assert_string_equal(f->m.entries[0].type, "bootloader");
}

static void test_uboot_old_name(void **state)
{
	struct fixture *f = *state;
	parse_ok(f, "software = { uboot = ( { name = \"a\"; value = \"1\"; } ); };", NULL, NULL);
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "a"), "1");
	/* at one place bootenv is preferred; a more specific uboot still wins */
	parse_ok(f,
		 "software = { bootenv = ( { name = \"a\"; value = \"root\"; } );\n"
		 "  b = { uboot = ( { name = \"a\"; value = \"board\"; } ); }; };", "b", NULL);
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "a"), "board");
}

/* ---------------------------------------------------------------------- */
/* Board and selection                                                      */

/* What swugenerator 0.2 wrote from a template (= and ; everywhere). */
static const char swugenerator_output[] =
	"software =\n"
	"{\n"
	"    version = \"1.0\";\n"
	"    description = \"demo\";\n"
	"    hardware-compatibility =\n"
	"    [\n"
	"        \"1.0\",\n"
	"        \"1.2\"\n"
	"    ];\n"
	"    myboard =\n"
	"    {\n"
	"        stable =\n"
	"        {\n"
	"            copy1 =\n"
	"            {\n"
	"                images =\n"
	"                (\n"
	"                    {\n"
	"                        filename = \"rootfs.img.zlib\";\n"
	"                        device = \"/dev/mmcblk0p2\";\n"
	"                        compressed = \"zlib\";\n"
	"                        offset = \"8K\";\n"
	"                        sha256 = \"" SHA_A "\";\n"
	"                    }\n"
	"                );\n"
	"                bootenv =\n"
	"                (\n"
	"                    {\n"
	"                        name = \"rootpart\";\n"
	"                        value = \"2\";\n"
	"                    }\n"
	"                );\n"
	"            };\n"
	"        };\n"
	"    };\n"
	"};\n";

static void test_swugenerator_output_with_board_selection(void **state)
{
	struct fixture *f = *state;
	parse_ok(f, swugenerator_output, "myboard", "stable,copy1");
	assert_string_equal(f->m.version, "1.0");
	assert_int_equal(f->m.nhwcompat, 2);
	assert_string_equal(only_file(f), "rootfs.img.zlib");
	assert_string_equal(f->m.entries[0].compressed, "zlib");
	assert_string_equal(attr(f, 0, "offset"), "8K");
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "rootpart"), "2");
	/* another board has nothing of the selection */
	parse_fails(f, swugenerator_output, "other", "stable,copy1", SWI_ECOMPAT,
		    "sw-description: selection 'stable,copy1' not found");
	parse_fails(f, swugenerator_output, "myboard", "stable,copy3", SWI_ECOMPAT,
		    "selection 'stable,copy3' not found");
}

static const char precedence[] =
	"software = {\n"
	"  images = ( { filename = \"root\"; device = \"d\"; } );\n"
	"  scripts = ( { filename = \"root.lua\"; } );\n"
	"  partitions = ( { name = \"root-part\"; device = \"mtd0\"; } );\n"
	"  version = \"root\";\n"
	"  stable = { copy1 = {\n"
	"    images = ( { filename = \"sel\"; device = \"d\"; } );\n"
	"    files = ( { filename = \"sel.file\"; } );\n"
	"  }; };\n"
	"  myboard = {\n"
	"    images = ( { filename = \"board\"; device = \"d\"; } );\n"
	"    partitions = ( { name = \"board-part\"; device = \"mtd0\"; } );\n"
	"    version = \"board\";\n"
	"    stable = { copy1 = {\n"
	"      images = ( { filename = \"board-sel\"; device = \"d\"; } );\n"
	"    }; };\n"
	"  };\n"
	"};\n";

/* Finds the entry of kind k, or fails. */
static const struct swi_entry *entry_of(const struct fixture *f, enum swi_entry_kind k)
{
	for (size_t i = 0; i < f->m.nentries; i++)
		if (f->m.entries[i].kind == k)
			return &f->m.entries[i];
	fail_msg("no entry of kind %d", k);
	return NULL;
}

static void test_precedence(void **state)
{
	struct fixture *f = *state;
	parse_ok(f, precedence, "myboard", "stable,copy1");
	assert_int_equal(f->m.nentries, 4);
	assert_string_equal(entry_of(f, SWI_ENTRY_IMAGE)->filename, "board-sel");
	assert_string_equal(entry_of(f, SWI_ENTRY_FILE)->filename, "sel.file");
	assert_string_equal(entry_of(f, SWI_ENTRY_PARTITION)->name, "board-part");
	assert_string_equal(entry_of(f, SWI_ENTRY_SCRIPT)->filename, "root.lua");
	assert_string_equal(f->m.version, "board");

	parse_ok(f, precedence, "otherboard", "stable,copy1");
	assert_string_equal(entry_of(f, SWI_ENTRY_IMAGE)->filename, "sel");
	assert_string_equal(entry_of(f, SWI_ENTRY_PARTITION)->name, "root-part");
	assert_string_equal(f->m.version, "root");

	parse_ok(f, precedence, NULL, "stable,copy1");
	assert_string_equal(entry_of(f, SWI_ENTRY_IMAGE)->filename, "sel");

	parse_ok(f, precedence, "myboard", NULL);
	assert_int_equal(f->m.nentries, 3);
	assert_string_equal(entry_of(f, SWI_ENTRY_IMAGE)->filename, "board");

	parse_ok(f, precedence, NULL, NULL);
	assert_string_equal(entry_of(f, SWI_ENTRY_IMAGE)->filename, "root");
	parse_ok(f, precedence, "", "");
	assert_string_equal(entry_of(f, SWI_ENTRY_IMAGE)->filename, "root");

	parse_fails(f, precedence, "myboard", "stable,copy2", SWI_ECOMPAT,
		    "selection 'stable,copy2' not found");
	parse_fails(f, precedence, NULL, "stable", SWI_EINVAL, "not SET,MODE");
}

/* ---------------------------------------------------------------------- */
/* Links                                                                    */

static void test_ref_absolute(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  pc = { common = ( { filename = \"shared\"; device = \"d\"; } ); };\n"
		 "  stable = { copy1 = { images = { ref = \"#/software/pc/common\"; }; }; };\n"
		 "};\n", NULL, "stable,copy1");
	assert_string_equal(only_file(f), "shared");
}

static void test_ref_relative_spec_example(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  stable: {\n"
		 "    common: { images = { ref = \"#./../trythis\"; }; };\n"
		 "    trythis: ( { filename = \"tried\"; device = \"d\"; } );\n"
		 "  };\n"
		 "  trythis: ( { filename = \"wrong\"; device = \"d\"; } );\n"
		 "};\n", NULL, "stable,common");
	assert_string_equal(only_file(f), "tried");
}

static void test_ref_chained_and_colon(void **state)
{
	struct fixture *f = *state;
	/* images -> a -> b (a group that is itself a link) -> the list; a
	 * link inside the path (via) is followed like a directory symlink */
	parse_ok(f,
		 "software = {\n"
		 "  images: { ref: \"#./a\"; };\n"
		 "  a: { ref: \"#/software/via/b\"; };\n"
		 "  via: { ref = \"#/software/real\"; };\n"
		 "  real: { b = ( { filename = \"chained\"; device = \"d\"; } ); };\n"
		 "};\n", NULL, NULL);
	assert_string_equal(only_file(f), "chained");
	/* a link to a board group: software.myboard is software.pc */
	parse_ok(f,
		 "software = {\n"
		 "  myboard = { ref = \"#/software/pc\"; };\n"
		 "  pc = { images = ( { filename = \"pc.img\"; device = \"d\"; } ); };\n"
		 "};\n", "myboard", NULL);
	assert_string_equal(only_file(f), "pc.img");
}

static void test_ref_on_elements(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  images = ( { ref = \"#./../common\"; }, { filename = \"own\"; device = \"d\"; } );\n"
		 "  common = ( { filename = \"c1\"; device = \"d\"; }, { filename = \"c2\"; device = \"d\"; } );\n"
		 "  one = { filename = \"single\"; volume = \"v\"; };\n"
		 "  files = ( { ref = \"#/software/one\"; } );\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nentries, 4);
	assert_string_equal(f->m.entries[0].filename, "c1");
	assert_string_equal(f->m.entries[1].filename, "c2");
	assert_string_equal(f->m.entries[2].filename, "own");
	assert_string_equal(f->m.entries[3].filename, "single");
	assert_int_equal(f->m.entries[3].kind, SWI_ENTRY_FILE);
}

/* images -> l1 -> l2 ... -> the list: nlinks links in all. */
static void chain_of_links(char *text, size_t size, int nlinks)
{
	size_t n = (size_t)snprintf(text, size,
				    "software = { images = { ref = \"#/software/l1\"; };\n");
	for (int i = 1; i < nlinks; i++)
		n += (size_t)snprintf(text + n, size - n,
				      "l%d = { ref = \"#/software/l%d\"; };\n", i, i + 1);
	snprintf(text + n, size - n,
		 "l%d = ( { filename = \"deep\"; device = \"d\"; } ); };\n", nlinks);
}

/* images = ( { ref = "#/software/e1"; }, ... ): nlinks elements, each a
 * link to an entry of its own. */
static void collection_of_links(char *text, size_t size, int nlinks)
{
	size_t n = (size_t)snprintf(text, size, "software = {\n images = (\n");
	for (int i = 1; i <= nlinks; i++)
		n += (size_t)snprintf(text + n, size - n, "  { ref = \"#/software/e%d\"; }%s\n", i,
				      i < nlinks ? "," : "");
	n += (size_t)snprintf(text + n, size - n, " );\n");
	for (int i = 1; i <= nlinks; i++)
		n += (size_t)snprintf(text + n, size - n,
				      " e%d = { filename = \"f%d\"; device = \"d\"; };\n", i, i);
	snprintf(text + n, size - n, "};\n");
}

static void test_ref_long_chains(void **state)
{
	struct fixture *f = *state;
	static char text[16384];
	/* a chain is bounded by nothing but the file: 40 and 100 links */
	chain_of_links(text, sizeof(text), 40);
	parse_ok(f, text, NULL, NULL);
	assert_string_equal(only_file(f), "deep");
	chain_of_links(text, sizeof(text), 100);
	parse_ok(f, text, NULL, NULL);
	assert_string_equal(only_file(f), "deep");
	/* nor is a collection of many links */
	collection_of_links(text, sizeof(text), 100);
	parse_ok(f, text, NULL, NULL);
	assert_int_equal(f->m.nentries, 100);
	assert_string_equal(f->m.entries[99].filename, "f100");
	/* the same link followed again and again is no loop */
	parse_ok(f,
		 "software = {\n"
		 "  images = ( { ref = \"#/software/via/a\"; }, { ref = \"#/software/via/b\"; } );\n"
		 "  via = { ref = \"#/software/real\"; };\n"
		 "  real = { a = { filename = \"a\"; device = \"d\"; };\n"
		 "           b = { filename = \"b\"; device = \"d\"; }; };\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nentries, 2);
}

/* images -> l1.x -> l2.x ... -> the list: each link's path leads through
 * the next link, so they nest inside each other. */
static void nested_links(char *text, size_t size, int nlinks)
{
	size_t n = (size_t)snprintf(text, size,
				    "software = { images = { ref = \"#/software/l1/x\"; };\n");
	for (int i = 1; i < nlinks; i++)
		n += (size_t)snprintf(text + n, size - n,
				      "l%d = { x = { ref = \"#/software/l%d/x\"; }; };\n", i, i + 1);
	snprintf(text + n, size - n,
		 "l%d = { x = ( { filename = \"deep\"; device = \"d\"; } ); }; };\n", nlinks);
}

/* images = ( link to l1 ); l1 = ( link to l2 ); ...: lists within lists. */
static void nested_lists(char *text, size_t size, int nlists)
{
	size_t n = (size_t)snprintf(text, size,
				    "software = { images = ( { ref = \"#/software/l1\"; } );\n");
	for (int i = 1; i < nlists; i++)
		n += (size_t)snprintf(text + n, size - n,
				      "l%d = ( { ref = \"#/software/l%d\"; } );\n", i, i + 1);
	snprintf(text + n, size - n,
		 "l%d = ( { filename = \"deep\"; device = \"d\"; } ); };\n", nlists);
}

/* Nesting costs stack, so it is bounded (chains are not: see above). */
static void test_ref_nesting_limits(void **state)
{
	struct fixture *f = *state;
	static char text[32768];
	nested_links(text, sizeof(text), 200);
	parse_ok(f, text, NULL, NULL);
	assert_string_equal(only_file(f), "deep");
	nested_links(text, sizeof(text), 300);
	parse_fails(f, text, NULL, NULL, SWI_EFORMAT, "links and the lists they lead to nest deeper than 256");
	nested_lists(text, sizeof(text), 200);
	parse_ok(f, text, NULL, NULL);
	assert_string_equal(only_file(f), "deep");
	assert_int_equal(f->m.entries[0].index, 0);
	nested_lists(text, sizeof(text), 300);
	parse_fails(f, text, NULL, NULL, SWI_EFORMAT, "links and the lists they lead to nest deeper than 256");
}

static void test_ref_loops(void **state)
{
	struct fixture *f = *state;
	/* two links naming each other */
	parse_fails(f,
		    "software = { images = { ref = \"#./a\"; }; a = { ref = \"#./images\"; }; };",
		    NULL, NULL, SWI_EFORMAT, "link loop: '#./a'");
	/* a link naming itself */
	parse_fails(f, "software = { images = { ref = \"#./images\"; }; };",
		    NULL, NULL, SWI_EFORMAT, "link loop: '#./images'");
	/* a link whose path passes through itself */
	parse_fails(f, "software = { images = { ref = \"#/software/images/x\"; }; };",
		    NULL, NULL, SWI_EFORMAT, "link loop: '#/software/images/x'");
	/* a collection's element that links back to the collection */
	parse_fails(f, "software = { images = ( { ref = \"#/software/images\"; } ); };",
		    NULL, NULL, SWI_EFORMAT, "link loop: '#/software/images' leads back");
	parse_fails(f,
		    "software = { bootenv = ( { ref = \"#/software/more\"; } );\n"
		    "  more = ( { name = \"a\"; value = \"1\"; }, { ref = \"#/software/bootenv\"; } ); };",
		    NULL, NULL, SWI_EFORMAT, "link loop: '#/software/bootenv' leads back");
}

static void test_ref_errors(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "software = { images = { ref = \"#/software/nothere\"; }; };",
		    NULL, NULL, SWI_EFORMAT, "link '#/software/nothere': 'nothere' not found");
	parse_fails(f, "software = { images = { ref = \"#./../../../x\"; }; };",
		    NULL, NULL, SWI_EFORMAT, "goes above the root");
	parse_fails(f, "software = { images = { ref = \"other-file\"; }; };",
		    NULL, NULL, SWI_EFORMAT, "does not start with '#'");
}

/* ---------------------------------------------------------------------- */
/* What real files look like                                                */

static void test_trailing_commas(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  hardware-compatibility = [ \"1.0\", \"2.0\", ];\n"
		 "  images = (\n"
		 "    { filename = \"a\"; device = \"d\"; },\n"
		 "    { filename = \"b\"; device = \"d\"; properties = { l = [ 1, 2, ]; }; }, /* last */\n"
		 "    // nothing more\n"
		 "    # really\n"
		 "  );\n"
		 "  files = ( { filename = \"c\"; }, ) ;\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nhwcompat, 2);
	assert_int_equal(f->m.nentries, 3);
	assert_string_equal(attr(f, 1, "properties.l"), "1,2");
}

static void test_commas_in_strings_and_comments_kept(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  description = \"a, ) and b,]\";\n"
		 "  version = \"q \\\",) \\\\\";\n"
		 "  images = ( /* , ) */ { filename = \"x,)\"; device = \"d\"; data = \"1, ]\"; } # , )\n"
		 "  , { filename = \"y\"; device = \"d\"; } // , ]\n"
		 "  );\n"
		 "};\n", NULL, NULL);
	assert_string_equal(f->m.description, "a, ) and b,]");
	assert_string_equal(f->m.version, "q \",) \\");
	assert_int_equal(f->m.nentries, 2);
	assert_string_equal(f->m.entries[0].filename, "x,)");
	assert_string_equal(attr(f, 0, "data"), "1, ]");
}

static void test_terminator_quirks(void **state)
{
	struct fixture *f = *state;
	/* no terminators, ',' terminators, sibling groups without separator */
	parse_ok(f,
		 "software = {\n"
		 "  version = \"1\"\n"
		 "  description = \"d\",\n"
		 "  b1 = { images = ( { filename = \"b1\" device = \"d\" } ) }\n"
		 "  b2 = { images = ( { filename = \"b2\", device = \"d\", } ) }\n"
		 "}\n", "b2", NULL);
	assert_string_equal(f->m.version, "1");
	assert_string_equal(f->m.description, "d");
	assert_string_equal(only_file(f), "b2");
	/* "};" after the root group, and the root written with ':' */
	parse_ok(f, "software : { version = \"3\"; };\n", NULL, NULL);
	assert_string_equal(f->m.version, "3");
}

static void test_comments_between_elements(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "/* header */\n"
		 "software = {\n"
		 "  images = (\n"
		 "    # first\n"
		 "    { filename = \"a\"; device = \"d\"; }, // after a\n"
		 "    /* between */\n"
		 "    { filename = \"b\"; device = \"d\"; }\n"
		 "    # end\n"
		 "  );\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nentries, 2);
}

static void test_multiline_string_and_non_ascii(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "# Ger\xc3\xa4t f\xc3\xbcr \xff\xfe\n"
		 "software = {\n"
		 "  /* \xe2\x82\xac latin1: \xe9 */\n"
		 "  embedded-script = \"\n"
		 "function hook(e)\n"
		 "  print(\\\"hi\\\")\n"
		 "  return true, e\n"
		 "end\n"
		 "\";\n"
		 "  // \xc3\xa9t\xc3\xa9\n"
		 "  description = \"caf\xc3\xa9\";\n"
		 "};\n", NULL, NULL);
	assert_string_equal(f->m.embedded_script,
			    "\nfunction hook(e)\n  print(\"hi\")\n  return true, e\nend\n");
	assert_string_equal(f->m.description, "caf\xc3\xa9");
}

static void test_unknown_keys_and_offsets(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software = {\n"
		 "  reboot = false; bootloader_transaction_marker = false; x-vendor = { a = 1; };\n"
		 "  images = (\n"
		 "    { filename = \"a\"; device = \"d\"; offset = \"0x4F000\"; vendor-key = \"v\"; },\n"
		 "    { filename = \"b\"; device = \"d\"; offset = \"8K\"; },\n"
		 "    { filename = \"c\"; device = \"d\"; offset = \"1024\"; },\n"
		 "    { filename = \"e\"; device = \"d\"; offset = 1024; },\n"
		 "    { filename = \"f\"; device = \"d\"; offset = 0x4F000; },\n"
		 "    { filename = \"g\"; device = \"d\"; offset = 5000000000; },\n"
		 "    { filename = \"h\"; device = \"d\"; offset = 5000000000L; },\n"
		 "    { filename = \"i\"; device = \"d\"; offset = 0x100000000; big = -3000000000; }\n"
		 "  );\n"
		 "};\n", NULL, NULL);
	assert_int_equal(f->m.nentries, 8);
	assert_string_equal(attr(f, 0, "offset"), "0x4F000");
	assert_string_equal(attr(f, 0, "vendor-key"), "v");
	assert_string_equal(attr(f, 1, "offset"), "8K");
	assert_string_equal(attr(f, 2, "offset"), "1024");
	assert_string_equal(attr(f, 3, "offset"), "1024");
	assert_string_equal(attr(f, 4, "offset"), "323584");
	/* libconfig 1.5 alone would truncate this to 705032704 */
	assert_string_equal(attr(f, 5, "offset"), "5000000000");
	assert_string_equal(attr(f, 6, "offset"), "5000000000");
	assert_string_equal(attr(f, 7, "offset"), "4294967296");
	assert_string_equal(attr(f, 7, "big"), "-3000000000");
}

static void test_real_world_file(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "software =\n"
		 "{\n"
		 "\tversion = \"2024.03.1\";\n"
		 "\tdescription = \"Firmware update for the gateway\";\n"
		 "\thardware-compatibility: [ \"1.0\", \"1.1\", ];\n"
		 "\tgateway: {\n"
		 "\t\tstable: {\n"
		 "\t\t\tcopy1: {\n"
		 "\t\t\t\timages: (\n"
		 "\t\t\t\t\t{\n"
		 "\t\t\t\t\t\tfilename = \"rootfs.ext4.gz\";\n"
		 "\t\t\t\t\t\tdevice = \"/dev/mmcblk0p2\";\n"
		 "\t\t\t\t\t\ttype = \"raw\";\n"
		 "\t\t\t\t\t\tcompressed = true;\n"
		 "\t\t\t\t\t\tinstalled-directly = true;\n"
		 "\t\t\t\t\t\tsha256 = \"" SHA_A "\";\n"
		 "\t\t\t\t\t},\n"
		 "\t\t\t\t\t{\n"
		 "\t\t\t\t\t\tfilename = \"u-boot.imx\";\n"
		 "\t\t\t\t\t\tdevice = \"/dev/mmcblk0boot0\";\n"
		 "\t\t\t\t\t\toffset = \"8K\";\n"
		 "\t\t\t\t\t\tname = \"bootloader\";\n"
		 "\t\t\t\t\t\tversion = \"2023.10\";\n"
		 "\t\t\t\t\t\tinstall-if-different = true;\n"
		 "\t\t\t\t\t},\n"
		 "\t\t\t\t);\n"
		 "\t\t\t\tfiles: (\n"
		 "\t\t\t\t\t{\n"
		 "\t\t\t\t\t\tfilename = \"app.conf\";\n"
		 "\t\t\t\t\t\tpath = \"/etc/app/app.conf\";\n"
		 "\t\t\t\t\t\tcreate-destination = true;\n"
		 "\t\t\t\t\t}\n"
		 "\t\t\t\t);\n"
		 "\t\t\t\tscripts: (\n"
		 "\t\t\t\t\t{ filename = \"update.sh\"; type = \"shellscript\"; },\n"
		 "\t\t\t\t);\n"
		 "\t\t\t\tbootenv: (\n"
		 "\t\t\t\t\t{ name = \"rootpart\"; value = \"2\"; },\n"
		 "\t\t\t\t\t{ name = \"upgrade_available\"; value = \"1\"; },\n"
		 "\t\t\t\t);\n"
		 "\t\t\t};\n"
		 "\t\t};\n"
		 "\t};\n"
		 "};\n", "gateway", "stable,copy1");
	assert_string_equal(f->m.version, "2024.03.1");
	assert_int_equal(f->m.nhwcompat, 2);
	assert_string_equal(f->m.hwcompat[1], "1.1");
	assert_int_equal(f->m.nentries, 4);
	const struct swi_entry *e = f->m.entries;
	assert_string_equal(e[0].compressed, "zlib");
	assert_string_equal(e[0].sha256, SHA_A);
	assert_string_equal(attr(f, 1, "offset"), "8K");
	assert_true(e[1].install_if_different);
	assert_string_equal(e[1].name, "bootloader");
	assert_string_equal(e[1].version, "2023.10");
	assert_string_equal(e[2].type, "rawfile");
	assert_string_equal(attr(f, 2, "path"), "/etc/app/app.conf");
	assert_string_equal(attr(f, 2, "create-destination"), "true");
	assert_string_equal(e[3].type, "shellscript");
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "rootpart"), "2");
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "upgrade_available"), "1");
}

/* ---------------------------------------------------------------------- */
/* Bad input                                                                */

static void test_syntax_error_line(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "software = {\n  version = \"1\";\n  images = ( { filename = ; } );\n};\n",
		    NULL, NULL, SWI_EFORMAT, "sw-description: line 3: ");
	parse_fails(f, "software = {\n\n\n  version = \"unterminated;\n};\n",
		    NULL, NULL, SWI_EFORMAT, "sw-description: line ");
	parse_fails(f, "software = { a = ( 1,, ); };", NULL, NULL, SWI_EFORMAT, "line 1: ");
	parse_fails(f, "", NULL, NULL, SWI_EFORMAT, "no 'software' group");
}

static void test_missing_software(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "softwar = { version = \"1\"; };", NULL, NULL, SWI_EFORMAT,
		    "sw-description: no 'software' group");
	parse_fails(f, "software = \"text\";", NULL, NULL, SWI_EFORMAT, "no 'software' group");
	parse_fails(f, "software = ( 1, 2 );", NULL, NULL, SWI_EFORMAT, "no 'software' group");
}

static void test_bad_sha256(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "software = { images = ( { filename = \"root.img\"; device = \"d\"; sha256 = \"abc\"; } ); };",
		    NULL, NULL, SWI_EFORMAT, "image 'root.img': sha256 is not 64 hex digits");
	parse_fails(f, "software = { files = ( { filename = \"f\"; sha256 = \"" SHA_A "0\"; } ); };",
		    NULL, NULL, SWI_EFORMAT, "file 'f': sha256");
	parse_fails(f, "software = { scripts = ( { filename = \"s\"; sha256 = \"$swupdate_get_sha256(s)\"; } ); };",
		    NULL, NULL, SWI_EFORMAT, "script 's': sha256");
	char bad[] = "software = { images = ( { filename = \"g\"; device = \"d\"; sha256 = \"" SHA_A "\"; } ); };";
	*strstr(bad, "4925") = 'g';
	parse_fails(f, bad, NULL, NULL, SWI_EFORMAT, "image 'g': sha256");
}

static void test_bad_compression(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "software = { images = ( { filename = \"a.lz4\"; device = \"d\"; compressed = \"lz4\"; } ); };",
		    NULL, NULL, SWI_EUNSUPPORTED, "image 'a.lz4': compression 'lz4' is not supported");
	parse_fails(f, "software = { images = ( { filename = \"a\"; device = \"d\"; compressed = 1; } ); };",
		    NULL, NULL, SWI_EFORMAT, "compressed is neither");
}

static void test_bad_structure(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "software = { images = ( { filename = \"lonely\"; } ); };",
		    NULL, NULL, SWI_EFORMAT, "image 'lonely' has no type, device or volume");
	parse_fails(f, "software = { images = { filename = \"a\"; }; };",
		    NULL, NULL, SWI_EFORMAT, "images is not a list");
	parse_fails(f, "software = { images = ( \"a\" ); };",
		    NULL, NULL, SWI_EFORMAT, "image entry is not a group");
	parse_fails(f, "software = { hardware-compatibility = \"1.0\"; };",
		    NULL, NULL, SWI_EFORMAT, "hardware-compatibility is not an array");
	parse_fails(f, "software = { hardware-compatibility = [ 1, 2 ]; };",
		    NULL, NULL, SWI_EFORMAT, "element 1 is not a string");
	parse_fails(f, "software = { version = ( 1 ); };",
		    NULL, NULL, SWI_EFORMAT, "version is not a value");
}

/* What the libconfig syntax itself refuses. */
static void test_libconfig_refusals(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "@include \"/etc/passwd\"\nsoftware = { };",
		    NULL, NULL, SWI_EFORMAT, "line 1: @include is not allowed");
	const char nul[] = "software = { version = \"1\"; };\0garbage";
	swi_manifest_free(&f->m);
	assert_int_equal(swi_manifest_parse(f->ctx, nul, sizeof(nul) - 1, NULL, NULL, &f->m),
			 SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "NUL byte"));
}

static void test_garbage_does_not_crash(void **state)
{
	struct fixture *f = *state;
	size_t n = 2 * 1024 * 1024;
	char *text = malloc(n + 1);
	assert_non_null(text);
	/* deep nesting */
	memcpy(text, "software = ", 11);
	memset(text + 11, '(', n - 11);
	text[n] = '\0';
	assert_int_equal(parse(f, text, NULL, NULL), SWI_EFORMAT);
	/* pseudo-random bytes, no NUL */
	uint32_t x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		text[i] = (char)((x >> 16) % 255 + 1);
	}
	assert_int_equal(parse(f, text, NULL, NULL), SWI_EFORMAT);
	/* many commas and comments */
	for (size_t i = 0; i < n; i++)
		text[i] = ",/*)"[i % 4];
	assert_int_equal(parse(f, text, NULL, NULL), SWI_EFORMAT);
	free(text);
	/* an unterminated comment and string at the end */
	assert_int_equal(parse(f, "software = { a = 1, /* ", NULL, NULL), SWI_EFORMAT);
	assert_int_equal(parse(f, "software = { a = \"1, ]\\", NULL, NULL), SWI_EFORMAT);
	parse_fails(f, "software = {\n a = 99999999999999999999999; };", NULL, NULL,
		    SWI_EFORMAT, "line 2: integer 99999999999999999999999 is out of range");
}

/* ---------------------------------------------------------------------- */
/* JSON as written                                                          */

/* The form of Debian's swupdate example: a board, "uboot", partitions. */
static const char json_example[] =
	"{\n"
	"  \"software\": {\n"
	"    \"myboard\": {\n"
	"      \"images\": [\n"
	"        { \"volume\": \"rootfs\", \"type\": \"ubivol\", \"filename\": \"rootfs.ubifs\" },\n"
	"        { \"version\": \"2016.01\", \"name\": \"bootloader\", \"device\": \"mtd1\",\n"
	"          \"install-if-different\": true, \"type\": \"flash\", \"filename\": \"u-boot.sb\" },\n"
	"        { \"type\": \"uboot\", \"filename\": \"uboot-env\" }\n"
	"      ],\n"
	"      \"hardware-compatibility\": [ \"1.0\", \"1.3\" ],\n"
	"      \"scripts\": [ { \"type\": \"shellscript\", \"filename\": \"test_shell.sh\" } ],\n"
	"      \"uboot\": [ { \"name\": \"myvar\", \"value\": \"4M\" } ],\n"
	"      \"partitions\": [ { \"device\": \"mtd10\", \"name\": \"rootfs\", \"size\": 104896512 } ]\n"
	"    },\n"
	"    \"version\": \"0.1.0\"\n"
	"  }\n"
	"}\n";

static void test_json_example(void **state)
{
	struct fixture *f = *state;
	parse_ok(f, json_example, "myboard", NULL);
	assert_string_equal(f->m.version, "0.1.0");
	assert_string_equal(f->m.boards, "myboard");
	assert_int_equal(f->m.nhwcompat, 2);
	assert_int_equal(f->m.nentries, 5);
	const struct swi_entry *e = f->m.entries;
	assert_string_equal(e[0].type, "ubivol");
	assert_string_equal(e[1].name, "bootloader");
	assert_true(e[1].install_if_different);
	assert_string_equal(e[2].type, "bootloader");
	assert_string_equal(e[2].collection, "images");
	assert_int_equal(e[2].index, 2);
	assert_int_equal(e[3].kind, SWI_ENTRY_SCRIPT);
	assert_int_equal(e[4].kind, SWI_ENTRY_PARTITION);
	assert_string_equal(attr(f, 4, "size"), "104896512");
	assert_int_equal(swi_attrs_find(&e[4].attrs, "size")->kind, SWI_ATTR_NUMBER);
	assert_string_equal(swi_attrs_get(&f->m.bootenv, "myvar"), "4M");
	/* another board gets what software itself holds: nothing here */
	parse_ok(f, json_example, "other", NULL);
	assert_int_equal(f->m.nentries, 0);
}

static void test_json_links(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "{ \"software\": {\n"
		 "  \"stable\": {\n"
		 "    \"common\": { \"images\": { \"ref\": \"#./../trythis\" } },\n"
		 "    \"copy1\": { \"ref\": \"#./common\" },\n"
		 "    \"trythis\": [ { \"filename\": \"tried\", \"device\": \"d\" },\n"
		 "                 { \"ref\": \"#/software/one\" } ]\n"
		 "  },\n"
		 "  \"one\": { \"filename\": \"single\", \"device\": \"d\" }\n"
		 "} }\n", NULL, "stable,copy1");
	assert_int_equal(f->m.nentries, 2);
	assert_string_equal(f->m.entries[0].filename, "tried");
	assert_string_equal(f->m.entries[1].filename, "single");
	parse_fails(f, "{ \"software\": { \"images\": { \"ref\": \"#./images\" } } }",
		    NULL, NULL, SWI_EFORMAT, "link loop: '#./images'");
}

/* What json-c reads by default, as SWUpdate does: comments, trailing
 * commas, single quotes; blanks and comments around the root object. */
static void test_json_relaxed_syntax(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "/* a JSON sw-description */\n"
		 "// told by its first '{'\n"
		 "{ 'software': {\n"
		 "  \"version\": \"1\", // trailing comment\n"
		 "  \"images\": [ { \"filename\": \"a\", \"device\": \"d\", }, ],\n"
		 "} }\n"
		 "/* the end */\n", NULL, NULL);
	assert_string_equal(f->m.version, "1");
	assert_string_equal(only_file(f), "a");
}

static void test_json_numbers(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "{ \"software\": { \"images\": [ { \"filename\": \"a\", \"device\": \"d\",\n"
		 "  \"offset\": 5000000000, \"neg\": -3000000000, \"ratio\": 1.5, \"one\": 1.0,\n"
		 "  \"max\": 9223372036854775807, \"list\": [ 1, \"two\", false ] } ] } }",
		 NULL, NULL);
	assert_string_equal(attr(f, 0, "offset"), "5000000000");
	assert_string_equal(attr(f, 0, "neg"), "-3000000000");
	assert_string_equal(attr(f, 0, "ratio"), "1.5");
	assert_string_equal(attr(f, 0, "one"), "1");
	assert_string_equal(attr(f, 0, "max"), "9223372036854775807");
	assert_string_equal(attr(f, 0, "list"), "1,two,false");
	parse_fails(f, "{ \"software\": { \"images\": [ { \"offset\": 9223372036854775808 } ] } }",
		    NULL, NULL, SWI_EFORMAT,
		    "sw-description: software.images[0].offset: integer out of range");
	parse_fails(f, "{ \"software\": { \"n\": -99999999999999999999 } }",
		    NULL, NULL, SWI_EFORMAT, "software.n: integer out of range");
	parse_fails(f, "{ \"software\": { \"x\": [ 1e999 ] } }",
		    NULL, NULL, SWI_EFORMAT, "software.x[0]: number out of range");
	parse_fails(f, "{ \"software\": { \"x\": NaN } }",
		    NULL, NULL, SWI_EFORMAT, "software.x: number out of range");
	parse_fails(f, "{ \"software\": { \"version\": null } }",
		    NULL, NULL, SWI_EFORMAT, "software.version: null is not a value");
}

/* A name written twice keeps its last value (json-c's rule). */
static void test_json_duplicate_names(void **state)
{
	struct fixture *f = *state;
	parse_ok(f,
		 "{ \"software\": { \"version\": \"1\", \"version\": \"2\",\n"
		 "  \"images\": [ { \"filename\": \"a\", \"device\": \"d\", \"device\": \"e\" } ] } }",
		 NULL, NULL);
	assert_string_equal(f->m.version, "2");
	assert_string_equal(attr(f, 0, "device"), "e");
	assert_int_equal(f->m.entries[0].attrs.count, 3);
}

static void test_json_syntax_error_line_and_column(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "{\n  \"software\": {\n    \"version\": \"1\",,\n  }\n}\n",
		    NULL, NULL, SWI_EFORMAT, "sw-description: line 3, column 20: quoted object property name expected");
	parse_fails(f, "{ \"software\": { \"version\" \"1\" } }",
		    NULL, NULL, SWI_EFORMAT, "line 1, column 27: object property name separator ':' expected");
	/* the text ends inside a string, inside the root */
	parse_fails(f, "{\n \"software\": {\n  \"version\": \"1",
		    NULL, NULL, SWI_EFORMAT, "line 3, column 16: unexpected end of data");
	parse_fails(f, "{ \"software\": { } }\n\n  x", NULL, NULL, SWI_EFORMAT,
		    "line 3, column 3: text after the end of the JSON object");
	parse_fails(f, "{ \"software\": { } } { }", NULL, NULL, SWI_EFORMAT,
		    "line 1, column 21: text after the end");
	/* names must be quoted */
	parse_fails(f, "{ software: { } }", NULL, NULL, SWI_EFORMAT, "line 1, column 3: ");
}

static void test_json_wrong_types(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "{ \"software\": [ 1 ] }", NULL, NULL, SWI_EFORMAT,
		    "no 'software' group");
	parse_fails(f, "{ \"software\": { \"images\": { \"filename\": \"a\" } } }",
		    NULL, NULL, SWI_EFORMAT, "sw-description: images is not a list");
	parse_fails(f, "{ \"software\": { \"images\": [ \"a\" ] } }",
		    NULL, NULL, SWI_EFORMAT,
		    "sw-description: software.images[0]: image entry is not a group");
	parse_fails(f, "{ \"software\": { \"bootenv\": [ [ 7 ] ] } }",
		    NULL, NULL, SWI_EFORMAT, "software.bootenv[0][0]: bootenv entry is not a group");
	parse_fails(f, "{ \"software\": { \"version\": { \"major\": 1 } } }",
		    NULL, NULL, SWI_EFORMAT, "version is not a value");
	parse_fails(f, "{ \"software\": { \"hardware-compatibility\": \"1.0\" } }",
		    NULL, NULL, SWI_EFORMAT, "hardware-compatibility is not an array");
	parse_fails(f, "{ \"software\": { \"hardware-compatibility\": [ \"1.0\", 2 ] } }",
		    NULL, NULL, SWI_EFORMAT, "hardware-compatibility element 2 is not a string");
	parse_fails(f, "{ \"software\": { \"images\": [ { \"filename\": \"a\", \"device\": \"d\",\n"
		    "  \"compressed\": 1 } ] } }", NULL, NULL, SWI_EFORMAT, "compressed is neither");
	parse_fails(f, "{ \"software\": { \"images\": { \"ref\": 5 } } }",
		    NULL, NULL, SWI_EFORMAT, "images is not a list");
}

static void test_json_nul(void **state)
{
	struct fixture *f = *state;
	const char raw[] = "{ \"software\": {\n  \"version\": \"1\0\" } }";
	swi_manifest_free(&f->m);
	assert_int_equal(swi_manifest_parse(f->ctx, raw, sizeof(raw) - 1, NULL, NULL, &f->m),
			 SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "line 2, column 16: contains a NUL byte"));
	/* json-c would cut a name at \u0000 and keep the NUL inside a value */
	parse_fails(f, "{ \"software\": { \"version\": \"1\\u0000x\" } }", NULL, NULL,
		    SWI_EFORMAT, "line 1, column 30: \\u0000 (a NUL character) is not allowed");
	parse_fails(f, "{ \"software\": {\n \"filename\\u0000x\": 1 } }", NULL, NULL,
		    SWI_EFORMAT, "line 2, column 11: \\u0000");
	/* an escaped backslash before u0000 is text, and so is a comment */
	parse_ok(f, "{ \"software\": { \"version\": \"\\\\u0000\" /* \"\\u0000 */ } }", NULL, NULL);
	assert_string_equal(f->m.version, "\\u0000");
}

static void test_json_deep_nesting(void **state)
{
	struct fixture *f = *state;
	size_t n = 1024 * 1024;
	char *text = malloc(n + 1);
	assert_non_null(text);
	memset(text, '[', n);
	memcpy(text, "{\"software\":", 12);
	text[n] = '\0';
	parse_fails(f, text, NULL, NULL, SWI_EFORMAT, "nesting too deep");
	memset(text, '{', n);
	for (size_t i = 1; i + 5 < n; i += 5)
		memcpy(text + i, "\"a\":{", 5);
	parse_fails(f, text, NULL, NULL, SWI_EFORMAT, "line 1, column ");
	free(text);
}

static void test_json_root_not_an_object(void **state)
{
	struct fixture *f = *state;
	parse_fails(f, "[ { \"software\": { } } ]", NULL, NULL, SWI_EFORMAT,
		    "sw-description: the JSON root is not an object");
	parse_fails(f, "  [", NULL, NULL, SWI_EFORMAT, "line 1, column 4: unexpected end of data");
	parse_fails(f, "{}", NULL, NULL, SWI_EFORMAT, "no 'software' group");
}

/* A test over its texts as written, or over them and their JSON form. */
#define AS_WRITTEN(t) { #t, t, setup, teardown, NULL }
#define BOTH(t) AS_WRITTEN(t), { #t " (JSON)", t, setup_json, teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_flat_images),
		BOTH(test_entry_places_and_lists),
		BOTH(test_boards_listed),
		BOTH(test_kinds_and_defaults),
		BOTH(test_attribute_values),
		BOTH(test_compressed_values),
		BOTH(test_header_fields),
		BOTH(test_uboot_old_name),
		BOTH(test_swugenerator_output_with_board_selection),
		BOTH(test_precedence),
		BOTH(test_ref_absolute),
		BOTH(test_ref_relative_spec_example),
		BOTH(test_ref_chained_and_colon),
		BOTH(test_ref_on_elements),
		BOTH(test_ref_long_chains),
		BOTH(test_ref_nesting_limits),
		BOTH(test_ref_loops),
		BOTH(test_ref_errors),
		AS_WRITTEN(test_trailing_commas),
		BOTH(test_commas_in_strings_and_comments_kept),
		AS_WRITTEN(test_terminator_quirks),
		AS_WRITTEN(test_comments_between_elements),
		BOTH(test_multiline_string_and_non_ascii),
		BOTH(test_unknown_keys_and_offsets),
		BOTH(test_real_world_file),
		AS_WRITTEN(test_syntax_error_line),
		BOTH(test_missing_software),
		BOTH(test_bad_sha256),
		BOTH(test_bad_compression),
		BOTH(test_bad_structure),
		AS_WRITTEN(test_libconfig_refusals),
		AS_WRITTEN(test_garbage_does_not_crash),
		AS_WRITTEN(test_json_example),
		AS_WRITTEN(test_json_links),
		AS_WRITTEN(test_json_relaxed_syntax),
		AS_WRITTEN(test_json_numbers),
		AS_WRITTEN(test_json_duplicate_names),
		AS_WRITTEN(test_json_syntax_error_line_and_column),
		AS_WRITTEN(test_json_wrong_types),
		AS_WRITTEN(test_json_nul),
		AS_WRITTEN(test_json_deep_nesting),
		AS_WRITTEN(test_json_root_not_an_object),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
