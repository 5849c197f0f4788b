/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of lib/aeskey.c: the AES key file, an entry's ivt, and an
 * encrypted sw-description. Files are written to a mkdtemp directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include "aeskey.h"
#include "testutil.h"

#define KEY128 "000102030405060708090a0b0c0d0e0f"
#define KEY192 KEY128 "1011121314151617"
#define KEY256 KEY128 "101112131415161718191a1b1c1d1e1f"
#define IV "f0e0d0c0b0a090807060504030201000"

static int setup(void **state)
{
	return dir_fixture_setup(state, "test_aeskey", "aes.key");
}

static int teardown(void **state)
{
	return dir_fixture_teardown(state);
}

static int load_text(struct dir_fixture *fx, const char *text, size_t len, struct swi_aes_key *k)
{
	FILE *f = fopen(fx->path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	return swi_aes_key_load(fx->ctx, fx->path, k);
}

static int load(struct dir_fixture *fx, const char *text, struct swi_aes_key *k)
{
	return load_text(fx, text, strlen(text), k);
}

/* The error names the key file and says reason; it never shows the key. */
static void expect_refused(struct dir_fixture *fx, const char *text, const char *reason)
{
	struct swi_aes_key k;
	assert_int_equal(load(fx, text, &k), SWI_ECONFIG);
	char want[512];
	snprintf(want, sizeof(want), "%s: %s", fx->path, reason);
	assert_string_equal(swi_errmsg(fx->ctx), want);
	assert_null(strstr(swi_errmsg(fx->ctx), "0102030405"));
	assert_int_equal(k.key_len, 0);
}

static void key_sizes(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key k;
	const char *texts[] = { KEY128 " " IV "\n", KEY192 " " IV "\n", KEY256 " " IV "\n" };
	const size_t lens[] = { 16, 24, 32 };
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(load(fx, texts[i], &k), SWI_OK);
		assert_int_equal(k.key_len, lens[i]);
		for (size_t b = 0; b < lens[i]; b++)
			assert_int_equal(k.key[b], b);
		assert_int_equal(k.iv[0], 0xf0);
		assert_int_equal(k.iv[14], 0x10);
		assert_int_equal(k.iv[15], 0x00);
	}
}

/* Any white space between and around the fields, upper-case hex, no
 * final newline: as SWUpdate reads it (two fields, white space apart). */
static void layout(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key k;
	assert_int_equal(load(fx, "  " KEY128 "\t\n" IV, &k), SWI_OK);
	assert_int_equal(k.key_len, 16);
	assert_int_equal(load(fx, "000102030405060708090A0B0C0D0E0F F0E0D0C0B0A090807060504030201000\r\n\n",
			      &k), SWI_OK);
	assert_int_equal(k.key[15], 0x0f);
	assert_int_equal(k.iv[0], 0xf0);
}

/* Older SWUpdate key files carry a third field, a 64-bit salt, which
 * never changed what was decrypted: accepted and left unused. */
static void old_salt_field(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key with_salt, without;
	assert_int_equal(load(fx, KEY256 " " IV " 0011223344556677\n", &with_salt), SWI_OK);
	assert_int_equal(load(fx, KEY256 " " IV "\n", &without), SWI_OK);
	assert_memory_equal(&with_salt, &without, sizeof(without));
	expect_refused(fx, KEY256 " " IV " 0011\n",
		       "unexpected third field after the IV (only an old 16-hex-digit salt may follow)");
	expect_refused(fx, KEY256 " " IV " 001122334455667g\n",
		       "unexpected third field after the IV (only an old 16-hex-digit salt may follow)");
	expect_refused(fx, KEY256 " " IV " 0011223344556677 extra\n",
		       "unexpected text after the salt");
}

static void malformed(void **state)
{
	struct dir_fixture *fx = *state;
	expect_refused(fx, "", "the key file is empty; it holds the AES key and the IV in hex, "
		       "separated by a space");
	expect_refused(fx, " \n\n", "the key file is empty; it holds the AES key and the IV in hex, "
		       "separated by a space");
	expect_refused(fx, KEY128 "\n", "the key file holds no IV after the key (KEY IV, both in hex)");
	expect_refused(fx, "000102030405060708090a0b0c0d0e0f10 " IV,
		       "the key has 34 hex digits; AES keys have 32, 48 or 64 (128, 192 or 256 bits)");
	expect_refused(fx, KEY256 "00 " IV,
		       "the key has 66 hex digits; AES keys have 32, 48 or 64 (128, 192 or 256 bits)");
	expect_refused(fx, "000102030405060708090a0b0c0d0e0x " IV, "the key is not in hex");
	expect_refused(fx, "key=" KEY128 "\niv=" IV "\n", "the key is not in hex");
	expect_refused(fx, KEY128 " f0e0d0c0b0a0908070605040302010", "the IV is not 32 hex digits");
	expect_refused(fx, KEY128 " " IV "00", "the IV is not 32 hex digits");
	expect_refused(fx, KEY128 " f0e0d0c0b0a09080706050403020100z", "the IV is not 32 hex digits");
}

static void file_problems(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key k;
	char missing[160];
	snprintf(missing, sizeof(missing), "%s/none", fx->dir);
	assert_int_equal(swi_aes_key_load(fx->ctx, missing, &k), SWI_ECONFIG);
	char want[300];
	snprintf(want, sizeof(want), "%s: cannot open the AES key file: No such file or directory",
		 missing);
	assert_string_equal(swi_errmsg(fx->ctx), want);

	assert_int_equal(load_text(fx, KEY128 "\0 " IV, sizeof(KEY128 "\0 " IV) - 1, &k),
			 SWI_ECONFIG);
	snprintf(want, sizeof(want), "%s: the key file is not text", fx->path);
	assert_string_equal(swi_errmsg(fx->ctx), want);

	char *big = malloc(5000);
	assert_non_null(big);
	memset(big, ' ', 5000);
	memcpy(big, KEY128 " " IV, strlen(KEY128 " " IV));
	assert_int_equal(load_text(fx, big, 5000, &k), SWI_ECONFIG);
	free(big);
	snprintf(want, sizeof(want), "%s: too large for an AES key file (one line: KEY IV)", fx->path);
	assert_string_equal(swi_errmsg(fx->ctx), want);
}

static void ivt(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key file_key, entry_key;
	assert_int_equal(swi_aes_key_parse(fx->ctx, "k", KEY192 " " IV, &file_key), SWI_OK);
	assert_int_equal(swi_aes_check_ivt(fx->ctx, "rootfs.ext4", "0123456789abcdefABCDEF0123456789"),
			 SWI_OK);
	assert_int_equal(swi_aes_entry_key(fx->ctx, "rootfs.ext4", "0123456789abcdefABCDEF0123456789",
					   &file_key, &entry_key), SWI_OK);
	assert_int_equal(entry_key.key_len, 24);
	assert_memory_equal(entry_key.key, file_key.key, 24);
	assert_int_equal(entry_key.iv[0], 0x01);
	assert_int_equal(entry_key.iv[7], 0xef);
	assert_int_equal(entry_key.iv[8], 0xab);

	const char *bad[] = { "", "0123", "0123456789abcdefABCDEF01234567890",
			      "0123456789abcdefABCDEF012345678g", "0x23456789abcdefABCDEF0123456789" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(swi_aes_check_ivt(fx->ctx, "rootfs.ext4", bad[i]), SWI_EFORMAT);
		char want[128];
		snprintf(want, sizeof(want), "rootfs.ext4: ivt '%s' is not 32 hex digits", bad[i]);
		assert_string_equal(swi_errmsg(fx->ctx), want);
		assert_int_equal(swi_aes_entry_key(fx->ctx, "rootfs.ext4", bad[i], &file_key,
						   &entry_key), SWI_EFORMAT);
		assert_int_equal(entry_key.key_len, 0); /* wiped */
	}
}

static void clear_wipes(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key k, zero = { 0 };
	assert_int_equal(swi_aes_key_parse(fx->ctx, "k", KEY256 " " IV, &k), SWI_OK);
	swi_aes_key_clear(&k);
	assert_memory_equal(&k, &zero, sizeof(k));
}

/* text encrypted with k as `openssl enc -aes-256-cbc` would, in malloc'd
 * memory. */
static char *encrypt_text(const char *text, const struct swi_aes_key *k, size_t *len)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	unsigned char *out = malloc(strlen(text) + 32);
	int n1 = 0, n2 = 0;
	assert_non_null(c);
	assert_non_null(out);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_cbc(), NULL, k->key, k->iv), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &n1, (const unsigned char *)text,
					   (int)strlen(text)), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + n1, &n2), 1);
	EVP_CIPHER_CTX_free(c);
	*len = (size_t)n1 + (size_t)n2;
	return (char *)out;
}

static const char description[] = "software = {\n\tversion = \"1.0\";\n};\n";

/* sw-description decrypted in place with the key file's key and IV. */
static void encrypted_description(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key key, other;
	assert_int_equal(swi_aes_key_parse(fx->ctx, "k", KEY256 " " IV, &key), SWI_OK);
	assert_int_equal(swi_aes_key_parse(fx->ctx, "k", KEY128 KEY128 " " IV, &other), SWI_OK);
	size_t len;
	char *text = encrypt_text(description, &key, &len);
	assert_int_equal(swi_aes_decrypt_description(fx->ctx, &key, &text, &len, 1 << 20), SWI_OK);
	assert_int_equal(len, strlen(description));
	assert_string_equal(text, description);
	free(text);

	text = encrypt_text(description, &key, &len);
	assert_int_equal(swi_aes_decrypt_description(fx->ctx, &other, &text, &len, 1 << 20),
			 SWI_EFORMAT);
	assert_string_equal(swi_errmsg(fx->ctx),
			    "sw-description: decryption failed: bad padding (wrong key?)");
	free(text);

	/* A plain description with the option set: the message says so. */
	text = strdup(description);
	len = strlen(description);
	assert_int_equal(swi_aes_decrypt_description(fx->ctx, &key, &text, &len, 1 << 20),
			 SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "sw-description: decryption failed: "));
	assert_non_null(strstr(swi_errmsg(fx->ctx), "; the stored sw-description reads as plain "
				"text: is it encrypted? (encrypted-sw-description is set)"));
	assert_string_equal(text, description); /* left as it was */
	free(text);
}

/* A failure over a binary sw-description hints at encryption; over text,
 * or with no text, the message stays. */
static void binary_description_hint(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_aes_key key;
	assert_int_equal(swi_aes_key_parse(fx->ctx, "k", KEY256 " " IV, &key), SWI_OK);
	size_t len;
	char *text = encrypt_text(description, &key, &len);
	swi_fail(fx->ctx, SWI_ESIG, "sw-description.sig: signature does not match");
	assert_int_equal(swi_aes_hint_description(fx->ctx, SWI_ESIG, text, len), SWI_ESIG);
	assert_string_equal(swi_errmsg(fx->ctx), "sw-description.sig: signature does not match "
			    "(sw-description looks binary: if it is encrypted, set "
			    "encrypted-sw-description and give the AES key with -K)");
	free(text);

	swi_fail(fx->ctx, SWI_EFORMAT, "sw-description: line 2: syntax error");
	assert_int_equal(swi_aes_hint_description(fx->ctx, SWI_EFORMAT, description,
						  strlen(description)), SWI_EFORMAT);
	assert_string_equal(swi_errmsg(fx->ctx), "sw-description: line 2: syntax error");
	assert_int_equal(swi_aes_hint_description(fx->ctx, SWI_EFORMAT, NULL, 0), SWI_EFORMAT);
	assert_int_equal(swi_aes_hint_description(fx->ctx, SWI_OK, "\x01\x02", 2), SWI_OK);
	/* One NUL is enough; a stray control character in text is not. */
	swi_fail(fx->ctx, SWI_EFORMAT, "x");
	assert_int_equal(swi_aes_hint_description(fx->ctx, SWI_EFORMAT, "abc\0def", 7), SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "looks binary"));
	swi_fail(fx->ctx, SWI_EFORMAT, "x");
	assert_int_equal(swi_aes_hint_description(fx->ctx, SWI_EFORMAT, description + 0,
						  strlen(description)), SWI_EFORMAT);
	char escape[64];
	snprintf(escape, sizeof(escape), "description = \"\x1b[1mbold\x1b[0m text here\";\n");
	assert_int_equal(swi_aes_hint_description(fx->ctx, SWI_EFORMAT, escape, strlen(escape)),
			 SWI_EFORMAT);
	assert_string_equal(swi_errmsg(fx->ctx), "x");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(key_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(layout, setup, teardown),
		cmocka_unit_test_setup_teardown(old_salt_field, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(file_problems, setup, teardown),
		cmocka_unit_test_setup_teardown(ivt, setup, teardown),
		cmocka_unit_test_setup_teardown(clear_wipes, setup, teardown),
		cmocka_unit_test_setup_teardown(encrypted_description, setup, teardown),
		cmocka_unit_test_setup_teardown(binary_description_hint, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
