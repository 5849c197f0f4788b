/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AES keys of encrypted images: the key file (key-aes) and an entry's ivt.
 * Private. */
#ifndef SWI_AESKEY_H
#define SWI_AESKEY_H

#include <stddef.h>
#include "context.h"

#define SWI_AES_BLOCK 16    /* bytes of an AES block, and of an IV */
#define SWI_AES_KEY_MAX 32  /* bytes of an AES-256 key */

struct swi_aes_key {
	unsigned char key[SWI_AES_KEY_MAX];
	size_t key_len;                 /* 16, 24 or 32: AES-128, -192 or -256 */
	unsigned char iv[SWI_AES_BLOCK];
};

/*
 * Reads the key file at path: the key in hex (32, 48 or 64 digits, which
 * pick AES-128, -192 or -256), white space, the IV in hex (32 digits).
 * A third field of 16 hex digits (the "salt" of older SWUpdate key files,
 * which never took part in decryption) is accepted and ignored. Anything
 * else is SWI_ECONFIG, with a message naming the file (never the key).
 */
int swi_aes_key_load(swi_ctx_t *ctx, const char *path, struct swi_aes_key *out);
/* The same for the file's text, already read (path names it in messages). */
int swi_aes_key_parse(swi_ctx_t *ctx, const char *path, const char *text,
		      struct swi_aes_key *out);
/* Checks an entry's ivt: 32 hex digits, else SWI_EFORMAT naming the entry. */
int swi_aes_check_ivt(swi_ctx_t *ctx, const char *entry, const char *ivt);
/* The key an entry is decrypted with: key, its IV replaced by the entry's
 * ivt when it has one (NULL: none). */
int swi_aes_entry_key(swi_ctx_t *ctx, const char *entry, const char *ivt,
		      const struct swi_aes_key *key, struct swi_aes_key *out);
/*
 * sw-description encrypted with key (its IV: an entry's ivt cannot apply
 * to it): *text (malloc'd, len bytes) is replaced by the decrypted text.
 * When it does not decrypt but reads as plain text, the message says so.
 */
int swi_aes_decrypt_description(swi_ctx_t *ctx, const struct swi_aes_key *key, char **text,
				size_t *len, size_t max);
/* After sw-description failed to verify or parse with status rc: when
 * text looks binary, it is most likely encrypted, and the message gets a
 * hint to say so (rc is returned either way). text may be NULL. */
int swi_aes_hint_description(swi_ctx_t *ctx, int rc, const char *text, size_t len);
/* Wipes key material from memory. */
void swi_aes_key_clear(struct swi_aes_key *key);

#endif
