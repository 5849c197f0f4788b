/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What is in an image (lib/info.c), on images built at test time with the
 * cpio and openssl tools. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include "swinstall.h"
#include "swinstall/handler.h"
#include "testutil.h"

struct fixture {
	char dir[64];
	swi_ctx_t *ctx;
	struct swi_info info;
};

/* Keys of every test: a self-signed CMS signer and an RSA key pair. */
static const char make_keys[] =
	"set -e\n"
	"openssl req -x509 -newkey rsa:2048 -nodes -keyout signer.key -out signer.pem "
	"-subj '/O=Acme/CN=Info Test Signer' -days 30 2>/dev/null\n"
	"openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key 2>/dev/null\n"
	"openssl pkey -in rsa.key -pubout -out rsa.pub\n";

static char keys[64];

static int run(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static int group_setup(void **state)
{
	(void)state;
	strcpy(keys, "/tmp/swi-info-keys-XXXXXX");
	if (!mkdtemp(keys))
		return -1;
	char path[128];
	snprintf(path, sizeof(path), "%s/make-keys.sh", keys);
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(make_keys, f);
	fclose(f);
	return run("cd %s && sh make-keys.sh", keys) == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	return remove_tree(keys) == 0 ? 0 : -1;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/swi-info-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(swi_ctx_new(&f->ctx), SWI_OK);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	swi_info_free(&f->info);
	assert_int_equal(remove_tree(f->dir), 0);
	swi_ctx_free(f->ctx);
	free(f);
	return 0;
}

static void write_file(const struct fixture *f, const char *name, const char *data)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, strlen(data), fp), strlen(data));
	fclose(fp);
}

/* DIR/image.swu from the members named, in that order. */
static void build_image(const struct fixture *f, const char *members)
{
	assert_int_equal(run("cd %s && printf '%%s\\n' %s | cpio -o -H crc --quiet > image.swu",
			     f->dir, members), 0);
}

static const char *image(const struct fixture *f)
{
	static char path[128];
	snprintf(path, sizeof(path), "%s/image.swu", f->dir);
	return path;
}

static void sign_cms(const struct fixture *f, const char *extra)
{
	assert_int_equal(run("cd %s && openssl cms -sign -in sw-description -out sw-description.sig "
			     "-signer %s/signer.pem -inkey %s/signer.key -outform DER -nosmimecap "
			     "-binary %s", f->dir, keys, keys, extra), 0);
}

static void sign_rsa(const struct fixture *f)
{
	assert_int_equal(run("cd %s && openssl dgst -sha256 -sign %s/rsa.key "
			     "-out sw-description.sig sw-description", f->dir, keys), 0);
}

static void use_key(struct fixture *f, const char *name)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", keys, name);
	assert_int_equal(swi_set_option(f->ctx, "public-key", path), SWI_OK);
}

/* An image with something everywhere: the root, two selections, a board
 * with its own hardware and a script, a member no entry names. */
static const char everywhere[] =
	"software = {\n"
	"  version = \"2.0.1\"; description = \"everywhere\";\n"
	"  hardware-compatibility = [ \"rev-A\", \"rev-B\" ];\n"
	"  files = ( { filename = \"app.conf\"; path = \"/etc/app.conf\"; } );\n"
	"  stable = {\n"
	"    copy1 = { images = ( { filename = \"rootfs.img\"; device = \"/dev/p2\"; } );\n"
	"              bootenv = ( { name = \"rootpart\"; value = \"2\"; } ); };\n"
	"    copy2 = { images = ( { filename = \"rootfs.img\"; device = \"/dev/p3\";\n"
	"                           offset = \"1M\"; compressed = \"zstd\"; } ); };\n"
	"  };\n"
	"  imx8mm = {\n"
	"    hardware-compatibility = [ \"1.0\" ];\n"
	"    version = \"2.0.1-imx\";\n"
	"    scripts = ( { filename = \"check.lua\"; } );\n"
	"    stable = { copy2 = { images = ( { filename = \"rootfs.img\"; device = \"/dev/imx3\"; } ); }; };\n"
	"  };\n"
	"};\n";

static void make_everywhere(struct fixture *f)
{
	write_file(f, "sw-description", everywhere);
	write_file(f, "rootfs.img", "the root file system");
	write_file(f, "app.conf", "a=1\n");
	write_file(f, "check.lua", "return true\n");
	write_file(f, "notes.txt", "not installed\n");
	build_image(f, "sw-description rootfs.img app.conf check.lua notes.txt");
}

static const struct swi_info_place *place(const struct swi_info *info, const char *board,
					  const char *selection)
{
	for (size_t i = 0; i < info->nplaces; i++) {
		const struct swi_info_place *p = &info->places[i];
		if ((board ? p->board && !strcmp(p->board, board) : !p->board) &&
		    (selection ? p->selection && !strcmp(p->selection, selection) : !p->selection))
			return p;
	}
	fail_msg("no place board=%s selection=%s", board ? board : "-",
		 selection ? selection : "-");
	return NULL;
}

static const struct swi_info_entry *entry(const struct swi_info_place *p, const char *collection)
{
	for (size_t i = 0; i < p->nentries; i++)
		if (!strcmp(p->entries[i].collection, collection))
			return &p->entries[i];
	fail_msg("no %s entry", collection);
	return NULL;
}

static void assert_words(const char *const *words, const char *expected)
{
	char joined[256] = "";
	for (; *words; words++)
		snprintf(joined + strlen(joined), sizeof(joined) - strlen(joined), "%s%s",
			 joined[0] ? " " : "", *words);
	assert_string_equal(joined, expected);
}

static void lists_every_place_the_image_offers(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	const struct swi_info *info = &f->info;
	assert_string_equal(info->version, "2.0.1");
	assert_string_equal(info->description, "everywhere");
	assert_int_equal(info->description_size, strlen(everywhere));
	assert_words(info->hardware, "rev-A rev-B");
	assert_words(info->boards, "imx8mm");
	assert_words(info->selections, "stable,copy1 stable,copy2");
	/* root, two selections, the board alone, the board with each selection */
	assert_int_equal(info->nplaces, 6);
	assert_string_equal(place(info, NULL, NULL)->entries[0].filename, "app.conf");
	assert_int_equal(place(info, NULL, NULL)->nentries, 1);
	const struct swi_info_place *copy1 = place(info, NULL, "stable,copy1");
	assert_int_equal(copy1->nentries, 2);
	assert_words(copy1->bootenv, "rootpart=2");
	const struct swi_info_place *board = place(info, "imx8mm", NULL);
	assert_string_equal(board->version, "2.0.1-imx");
	assert_words(board->hardware, "1.0");
	assert_string_equal(entry(board, "scripts")->type, "lua");
	assert_int_equal(place(info, "imx8mm", "stable,copy1")->nentries, 3);
}

/* Each place holds what an install there gets: the most specific wins. */
static void places_show_what_an_install_there_gets(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	const struct swi_info_entry *e = entry(place(&f->info, NULL, "stable,copy2"), "images");
	assert_string_equal(e->device, "/dev/p3");
	assert_string_equal(e->offset, "1M");
	assert_string_equal(e->compressed, "zstd");
	assert_string_equal(e->type, "raw");
	e = entry(place(&f->info, "imx8mm", "stable,copy2"), "images");
	assert_string_equal(e->device, "/dev/imx3");
	assert_null(e->offset);
	assert_string_equal(entry(place(&f->info, "imx8mm", "stable,copy2"), "files")->path,
			    "/etc/app.conf");
}

static void members_have_their_sizes_and_unused_ones_show(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	const struct swi_info *info = &f->info;
	assert_int_equal(info->nmembers, 4);
	assert_string_equal(info->members[0].name, "rootfs.img");
	assert_int_equal(info->members[0].size, strlen("the root file system"));
	assert_true(info->members[0].used);
	assert_string_equal(info->members[3].name, "notes.txt");
	assert_false(info->members[3].used);
	const struct swi_info_entry *e = entry(place(info, NULL, "stable,copy1"), "images");
	assert_true(e->member_present);
	assert_int_equal(e->size, strlen("the root file system"));
	assert_null(e->sha256);
}

static void an_image_of_selections_only_has_no_root_place(void **state)
{
	struct fixture *f = *state;
	write_file(f, "sw-description",
		   "software = { version = \"1\"; a = { b = { images = ( { filename = \"x\"; "
		   "device = \"/dev/x\"; } ); }; }; };");
	write_file(f, "x", "x");
	build_image(f, "sw-description x");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_int_equal(f->info.nplaces, 1);
	assert_string_equal(f->info.places[0].selection, "a,b");
	assert_words(f->info.boards, "");
	assert_words(f->info.hardware, "");
}

static const char one_entry[] =
	"software = { version = \"1\";\n"
	"  images = ( { filename = \"payload\"; type = \"%s\"; device = \"/dev/x\";\n"
	"               sha256 = \"%s\"; encrypted = true; } ); };\n";

static void write_one_entry(struct fixture *f, const char *type)
{
	char desc[512];
	snprintf(desc, sizeof(desc), one_entry, type,
		 "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF");
	write_file(f, "sw-description", desc);
	write_file(f, "payload", "payload bytes");
}

static void a_missing_member_and_handler_are_shown_not_refused(void **state)
{
	struct fixture *f = *state;
	write_one_entry(f, "nosuchhandler");
	build_image(f, "sw-description");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	const struct swi_info_entry *e = &f->info.places[0].entries[0];
	assert_string_equal(e->type, "nosuchhandler");
	assert_false(e->handler_available);
	assert_false(e->member_present);
	assert_int_equal(e->size, 0);
	assert_true(e->encrypted);
	assert_string_equal(e->sha256,
			    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	assert_int_equal(f->info.nmembers, 0);
}

static int nop_open(struct swi_target *t) { (void)t; return SWI_OK; }
static int nop_write(struct swi_target *t, const void *b, size_t n)
{
	(void)t; (void)b; (void)n;
	return SWI_OK;
}
static int nop_close(struct swi_target *t) { (void)t; return SWI_OK; }
static void nop_abort(struct swi_target *t) { (void)t; }
static const struct swi_handler agent_handler = {
	.size = SWI_HANDLER_SIZE, .name = "agent", .kinds = SWI_HANDLER_IMAGE,
	.open = nop_open, .write = nop_write, .close = nop_close, .abort = nop_abort,
};

static void a_handler_the_agent_registered_is_available(void **state)
{
	struct fixture *f = *state;
	write_one_entry(f, "agent");
	build_image(f, "sw-description payload");
	assert_int_equal(swi_register_handler(f->ctx, &agent_handler), SWI_OK);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_true(f->info.places[0].entries[0].handler_available);
	assert_true(f->info.places[0].entries[0].member_present);
}

static void an_unsigned_image_says_so(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_int_equal(f->info.signature, SWI_SIG_UNSIGNED);
	assert_null(f->info.signature_kind);
	assert_null(f->info.signer);
	assert_null(f->info.key);
}

static void make_signed(struct fixture *f, const char *how)
{
	write_one_entry(f, "raw");
	if (!strcmp(how, "rsa"))
		sign_rsa(f);
	else
		sign_cms(f, how);
	build_image(f, "sw-description sw-description.sig payload");
}

static void a_cms_signer_is_named_without_a_key(void **state)
{
	struct fixture *f = *state;
	make_signed(f, "-noattr");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_int_equal(f->info.signature, SWI_SIG_UNVERIFIED);
	assert_string_equal(f->info.signature_kind, "CMS");
	assert_string_equal(f->info.signer, "Info Test Signer");
	/* the signature is no member of the payload */
	assert_int_equal(f->info.nmembers, 1);
}

static void a_signer_the_signature_does_not_carry_is_unknown(void **state)
{
	struct fixture *f = *state;
	make_signed(f, "-nocerts");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_string_equal(f->info.signature_kind, "CMS");
	assert_null(f->info.signer);
}

static void a_cms_signature_verifies_with_a_key(void **state)
{
	struct fixture *f = *state;
	make_signed(f, "");
	use_key(f, "signer.pem");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_int_equal(f->info.signature, SWI_SIG_VERIFIED);
	assert_non_null(strstr(f->info.key, "signer.pem"));
	assert_null(f->info.signature_error);
}

static void an_rsa_signature_is_described_and_verified(void **state)
{
	struct fixture *f = *state;
	make_signed(f, "rsa");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_string_equal(f->info.signature_kind, "RSA");
	assert_int_equal(f->info.signature, SWI_SIG_UNVERIFIED);
	swi_info_free(&f->info);
	use_key(f, "rsa.pub");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_int_equal(f->info.signature, SWI_SIG_VERIFIED);
}

/* A signature that does not verify fails, and everything else is shown. */
static void a_tampered_image_fails_and_is_still_described(void **state)
{
	struct fixture *f = *state;
	make_signed(f, "");
	write_file(f, "sw-description", "software = { version = \"evil\"; };\n");
	build_image(f, "sw-description sw-description.sig payload");
	use_key(f, "signer.pem");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_ESIG);
	assert_non_null(strstr(swi_errmsg(f->ctx), "does not match"));
	assert_int_equal(f->info.signature, SWI_SIG_FAILED);
	assert_string_equal(f->info.signature_error, swi_errmsg(f->ctx));
	assert_string_equal(f->info.version, "evil");
	assert_int_equal(f->info.nmembers, 1);
}

static void an_unsigned_image_fails_when_a_key_is_given(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	use_key(f, "signer.pem");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_ESIG);
	assert_int_equal(f->info.signature, SWI_SIG_FAILED);
	assert_non_null(strstr(f->info.signature_error, "not signed"));
	assert_int_equal(f->info.nplaces, 6);
}

static void a_truncated_image_is_malformed_and_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	assert_int_equal(run("cd %s && head -c 700 image.swu > cut.swu && mv cut.swu image.swu",
			     f->dir), 0);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "truncated"));
	assert_int_equal(f->info.nplaces, 0);
	assert_null(f->info.store);
	assert_null(f->info.version);
}

static void a_malformed_description_is_refused(void **state)
{
	struct fixture *f = *state;
	write_file(f, "sw-description", "software = { images = ( ; };\n");
	build_image(f, "sw-description");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(f->ctx), "sw-description: line 1"));
}

static void an_encrypted_description_is_named_as_such(void **state)
{
	struct fixture *f = *state;
	write_file(f, "plain", everywhere);
	assert_int_equal(run("cd %s && openssl enc -aes-256-cbc -K %064d -iv %032d -in plain "
			     "-out sw-description", f->dir, 1, 2), 0);
	build_image(f, "sw-description");
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_EUNSUPPORTED);
	assert_non_null(strstr(swi_errmsg(f->ctx), "it looks encrypted (give the key with -K FILE"));
	/* With the settings an install uses, it is decrypted and shown. */
	assert_int_equal(run("cd %s && printf '%%064d %%032d\\n' 1 2 > aes.key", f->dir), 0);
	char key[600];
	snprintf(key, sizeof(key), "%s/aes.key", f->dir);
	assert_int_equal(swi_set_option(f->ctx, "key-aes", key), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "encrypted-sw-description", "1"), SWI_OK);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	assert_true(f->info.nplaces > 0);
}

/* Three bytes at a time, like a slow pipe. */
static ssize_t trickle(void *user, void *buf, size_t len)
{
	return read(*(int *)user, buf, len < 3 ? len : 3);
}

static void reads_from_a_callback_and_a_pipe(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	int fd = open(image(f), O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(swi_info_read(f->ctx, trickle, &fd, &f->info), SWI_OK);
	close(fd);
	assert_int_equal(f->info.nplaces, 6);
	assert_int_equal(f->info.nmembers, 4);
	swi_info_free(&f->info);
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "cat %s", image(f));
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(swi_info_fd(f->ctx, fileno(p), &f->info), SWI_OK);
	assert_int_equal(pclose(p), 0);
	assert_int_equal(f->info.nmembers, 4);
	assert_false(f->info.members[3].used);
}

/* No lock, no configuration, nothing written: a held lock and a bootloader
 * that does not exist change nothing. */
static void needs_no_lock_and_no_device(void **state)
{
	struct fixture *f = *state;
	make_everywhere(f);
	char lock[128];
	snprintf(lock, sizeof(lock), "%s/lock", f->dir);
	int fd = open(lock, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(swi_set_option(f->ctx, "lock-file", lock), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "bootloader", "uboot"), SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "uboot-env-config", "/nonexistent/fw_env.config"),
			 SWI_OK);
	assert_int_equal(swi_set_option(f->ctx, "state-dir", "/nonexistent/state"), SWI_OK);
	assert_int_equal(swi_info_file(f->ctx, image(f), &f->info), SWI_OK);
	close(fd);
	assert_int_equal(f->info.nplaces, 6);
}

static void bad_arguments_are_refused(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(swi_info_file(f->ctx, "/nonexistent.swu", &f->info), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(f->ctx), "/nonexistent.swu"));
	assert_int_equal(swi_info_fd(f->ctx, -1, &f->info), SWI_EINVAL);
	assert_int_equal(swi_info_read(f->ctx, NULL, NULL, &f->info), SWI_EINVAL);
	assert_int_equal(swi_info_file(NULL, image(f), &f->info), SWI_EINVAL);
	/* freeing an empty info, twice, is fine */
	swi_info_free(&f->info);
	swi_info_free(&f->info);
	swi_info_free(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(lists_every_place_the_image_offers),
		T(places_show_what_an_install_there_gets),
		T(members_have_their_sizes_and_unused_ones_show),
		T(an_image_of_selections_only_has_no_root_place),
		T(a_missing_member_and_handler_are_shown_not_refused),
		T(a_handler_the_agent_registered_is_available),
		T(an_unsigned_image_says_so),
		T(a_cms_signer_is_named_without_a_key),
		T(a_signer_the_signature_does_not_carry_is_unknown),
		T(a_cms_signature_verifies_with_a_key),
		T(an_rsa_signature_is_described_and_verified),
		T(a_tampered_image_fails_and_is_still_described),
		T(an_unsigned_image_fails_when_a_key_is_given),
		T(a_truncated_image_is_malformed_and_leaves_nothing),
		T(a_malformed_description_is_refused),
		T(an_encrypted_description_is_named_as_such),
		T(reads_from_a_callback_and_a_pipe),
		T(needs_no_lock_and_no_device),
		T(bad_arguments_are_refused),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
