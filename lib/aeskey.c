/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The AES key of encrypted images. Its file holds, in hex, the key and
 * the IV, separated by white space (SWUpdate's format, so one key file
 * serves both). The key's length picks the cipher: 16, 24 or 32 bytes
 * for AES-128, -192 or -256 in CBC mode. An entry's ivt replaces the IV.
 *
 * Messages name the file or entry and say what is wrong with a field,
 * never what the field holds: the file is a secret.
 *
 * sw-description may be encrypted too (encrypted-sw-description): with the
 * key file's key and IV, signed before it was encrypted.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aeskey.h"
#include "stream.h"

#define KEY_FILE_MAX 4096  /* a key file is one short line; more is not one */
#define SALT_HEX_LEN 16    /* the optional third field of older key files */

/* The length of the field at *text, which ends at white space; *text
 * moves past it and the white space after it. */
static size_t next_field(const char **text, const char **field)
{
	const char *p = *text;
	p += strspn(p, " \t\r\n\f\v");
	*field = p;
	size_t len = strcspn(p, " \t\r\n\f\v");
	p += len;
	*text = p + strspn(p, " \t\r\n\f\v");
	return len;
}

static bool is_hex(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!p[i] || !strchr("0123456789abcdefABCDEF", p[i]))
			return false;
	return true;
}

static unsigned hex_value(char c)
{
	return c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/* len hex digits (checked) into len / 2 bytes. */
static void hex_to_bytes(const char *hex, size_t len, unsigned char *out)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		out[i / 2] = (unsigned char)(hex_value(hex[i]) << 4 | hex_value(hex[i + 1]));
}

static int parse_key_field(swi_ctx_t *ctx, const char *path, const char *hex, size_t len,
			   struct swi_aes_key *out)
{
	if (len == 0)
		return swi_fail(ctx, SWI_ECONFIG, "%s: the key file is empty; it holds the AES key "
				"and the IV in hex, separated by a space", path);
	if (!is_hex(hex, len))
		return swi_fail(ctx, SWI_ECONFIG, "%s: the key is not in hex", path);
	if (len != 32 && len != 48 && len != 64)
		return swi_fail(ctx, SWI_ECONFIG, "%s: the key has %zu hex digits; AES keys have "
				"32, 48 or 64 (128, 192 or 256 bits)", path, len);
	out->key_len = len / 2;
	hex_to_bytes(hex, len, out->key);
	return SWI_OK;
}

static int parse_iv_field(swi_ctx_t *ctx, const char *path, const char *hex, size_t len,
			  struct swi_aes_key *out)
{
	if (len == 0)
		return swi_fail(ctx, SWI_ECONFIG, "%s: the key file holds no IV after the key "
				"(KEY IV, both in hex)", path);
	if (len != 2 * SWI_AES_BLOCK || !is_hex(hex, len))
		return swi_fail(ctx, SWI_ECONFIG, "%s: the IV is not 32 hex digits", path);
	hex_to_bytes(hex, len, out->iv);
	return SWI_OK;
}

int swi_aes_key_parse(swi_ctx_t *ctx, const char *path, const char *text,
		      struct swi_aes_key *out)
{
	const char *field;
	*out = (struct swi_aes_key){ 0 };
	size_t len = next_field(&text, &field);
	int rc = parse_key_field(ctx, path, field, len, out);
	if (rc == SWI_OK) {
		len = next_field(&text, &field);
		rc = parse_iv_field(ctx, path, field, len, out);
	}
	if (rc == SWI_OK && *text) {
		/* Older SWUpdate key files may carry a salt, which never changed
		 * what was decrypted: accepted and left unused. */
		len = next_field(&text, &field);
		if (len != SALT_HEX_LEN || !is_hex(field, len))
			rc = swi_fail(ctx, SWI_ECONFIG, "%s: unexpected third field after the IV "
				      "(only an old 16-hex-digit salt may follow)", path);
		else if (*text)
			rc = swi_fail(ctx, SWI_ECONFIG, "%s: unexpected text after the salt", path);
		else
			swi_log(ctx, SWI_LOG_DEBUG, "%s: the salt field is not used", path);
	}
	if (rc)
		swi_aes_key_clear(out);
	return rc;
}

int swi_aes_key_load(swi_ctx_t *ctx, const char *path, struct swi_aes_key *out)
{
	char text[KEY_FILE_MAX + 1];
	*out = (struct swi_aes_key){ 0 };
	FILE *fp = fopen(path, "re");
	if (!fp)
		return swi_fail(ctx, SWI_ECONFIG, "%s: cannot open the AES key file: %s", path,
				strerror(errno));
	size_t n = fread(text, 1, sizeof(text), fp);
	bool failed = ferror(fp);
	fclose(fp);
	int rc;
	if (failed)
		rc = swi_fail(ctx, SWI_ECONFIG, "%s: cannot read the AES key file", path);
	else if (n > KEY_FILE_MAX)
		rc = swi_fail(ctx, SWI_ECONFIG, "%s: too large for an AES key file (one line: "
			      "KEY IV)", path);
	else if (memchr(text, '\0', n))
		rc = swi_fail(ctx, SWI_ECONFIG, "%s: the key file is not text", path);
	else {
		text[n] = '\0';
		rc = swi_aes_key_parse(ctx, path, text, out);
	}
	OPENSSL_cleanse(text, sizeof(text));
	return rc;
}

int swi_aes_check_ivt(swi_ctx_t *ctx, const char *entry, const char *ivt)
{
	if (strlen(ivt) != 2 * SWI_AES_BLOCK || !is_hex(ivt, strlen(ivt)))
		return swi_fail(ctx, SWI_EFORMAT, "%s: ivt '%s' is not 32 hex digits", entry, ivt);
	return SWI_OK;
}

int swi_aes_entry_key(swi_ctx_t *ctx, const char *entry, const char *ivt,
		      const struct swi_aes_key *key, struct swi_aes_key *out)
{
	*out = *key;
	if (!ivt)
		return SWI_OK;
	int rc = swi_aes_check_ivt(ctx, entry, ivt);
	if (rc == SWI_OK)
		hex_to_bytes(ivt, 2 * SWI_AES_BLOCK, out->iv);
	else
		swi_aes_key_clear(out);
	return rc;
}

void swi_aes_key_clear(struct swi_aes_key *key)
{
	OPENSSL_cleanse(key, sizeof(*key));
}

/* Control characters (other than white space) in more than one byte in
 * twenty, or any NUL: not a text someone wrote. */
static bool looks_binary(const char *text, size_t len)
{
	size_t controls = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == 0)
			return true;
		controls += (c < 0x20 && !strchr("\t\n\r\f\v", c)) || c == 0x7f;
	}
	return controls * 20 > len;
}

int swi_aes_decrypt_description(swi_ctx_t *ctx, const struct swi_aes_key *key, char **text,
				size_t *len, size_t max)
{
	struct swi_stream_spec spec = { .aes = key };
	char *plain;
	size_t plain_len;
	int rc = swi_stream_decode_buffer(ctx, "sw-description", &spec, *text, *len, max, &plain,
					  &plain_len);
	if (rc && !looks_binary(*text, *len))
		return swi_fail(ctx, rc, "%s; the stored sw-description reads as plain text: is it "
				"encrypted? (encrypted-sw-description is set)", swi_errmsg(ctx));
	if (rc)
		return rc;
	free(*text);
	*text = plain;
	*len = plain_len;
	return SWI_OK;
}

int swi_aes_hint_description(swi_ctx_t *ctx, int rc, const char *text, size_t len)
{
	if (rc == SWI_OK || !text || !looks_binary(text, len))
		return rc;
	return swi_fail(ctx, rc, "%s (sw-description looks binary: if it is encrypted, set "
			"encrypted-sw-description and give the AES key with -K)", swi_errmsg(ctx));
}
