/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What is in an image, without installing it (swi_info_*).
 *
 * One pass over the stream, as an install makes it: sw-description and its
 * signature first, then every member's header; member data is skipped
 * (only the 070702 sum is taken, as lib/swu.c does for every byte it
 * passes). Then sw-description is parsed once per place the image offers,
 * through the same parser an install uses, so every place shows what an
 * install there would get. Nothing here reads the configuration's device
 * files, takes the lock or writes anything.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "aeskey.h"
#include "context.h"
#include "handler.h"
#include "manifest.h"
#include "source.h"
#include "swu.h"
#include "verify.h"

#define SW_DESCRIPTION "sw-description"
#define SW_DESCRIPTION_SIG "sw-description.sig"
/* The limits of an install (lib/install.c), so info accepts what it does. */
#define MAX_DESCRIPTION_SIZE (1024 * 1024)
#define MAX_SIGNATURE_SIZE (64 * 1024)

/* Everything the strings and arrays of a struct swi_info live in. */
struct swi_info_store {
	struct swi_manifest **manifests; /* of each place parsed */
	size_t nmanifests;
	void **blocks;                  /* every other allocation */
	size_t nblocks;
};

/* The pass over the stream and what it found. */
struct reading {
	swi_ctx_t *ctx;
	struct swi_swu *swu;
	struct swi_member member;
	char *description;
	size_t description_len;
	char *signature;
	size_t signature_len;
};

struct builder {
	swi_ctx_t *ctx;
	struct swi_info *info;
	struct swi_info_store *store;
	const struct reading *rd;
	struct swi_info_place *places;
	struct swi_info_member *members;
	const char **selections;        /* every selection offered, NULL-terminated */
	size_t nselections;
};

/* ---- storage ------------------------------------------------------------ */

static const char *const no_words[] = { NULL };

static int keep_block(struct builder *b, void *block)
{
	void **blocks = block ? realloc(b->store->blocks,
					(b->store->nblocks + 1) * sizeof(*blocks)) : NULL;
	if (!blocks) {
		free(block);
		return swi_fail(b->ctx, SWI_ENOMEM, "out of memory");
	}
	b->store->blocks = blocks;
	b->store->blocks[b->store->nblocks++] = block;
	return SWI_OK;
}

/* n zeroed elements of size bytes, owned by the store. */
static int store_alloc(struct builder *b, size_t n, size_t size, void *out)
{
	void *p = calloc(n ? n : 1, size);
	int rc = keep_block(b, p);
	*(void **)out = rc ? NULL : p;
	return rc;
}

static int store_strdup(struct builder *b, const char *s, const char **out)
{
	char *copy = strdup(s);
	int rc = keep_block(b, copy);
	*out = copy;
	return rc;
}

/* The words of a space-separated list (NULL: none), NULL-terminated. */
static int split_words(struct builder *b, const char *text, const char *const **out)
{
	size_t n = 0;
	for (const char *p = text; p && *p; p++)
		n += (p == text || p[-1] == ' ') && *p != ' ';
	char **words;
	char *copy = NULL;
	int rc = store_alloc(b, n + 1, sizeof(*words), &words);
	if (rc == SWI_OK && text)
		rc = store_strdup(b, text, (const char **)&copy);
	size_t i = 0;
	char *save = NULL;
	for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; rc == SWI_OK && w;
	     w = strtok_r(NULL, " ", &save))
		words[i++] = w;
	*out = rc ? NULL : (const char *const *)words;
	return rc;
}

/* A manifest kept for the whole life of the info (its strings are used). */
static int keep_manifest(struct builder *b, struct swi_manifest *m, struct swi_manifest **kept)
{
	struct swi_info_store *s = b->store;
	struct swi_manifest **grown = realloc(s->manifests, (s->nmanifests + 1) * sizeof(*grown));
	if (grown)
		s->manifests = grown;
	*kept = grown ? malloc(sizeof(**kept)) : NULL;
	if (!*kept) {
		swi_manifest_free(m);
		return swi_fail(b->ctx, SWI_ENOMEM, "out of memory");
	}
	**kept = *m;
	s->manifests[s->nmanifests++] = *kept;
	return SWI_OK;
}

static void free_store(struct swi_info_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nmanifests; i++) {
		swi_manifest_free(s->manifests[i]);
		free(s->manifests[i]);
	}
	free(s->manifests);
	for (size_t i = 0; i < s->nblocks; i++)
		free(s->blocks[i]);
	free(s->blocks);
	free(s);
}

/* ---- the stream --------------------------------------------------------- */

static int read_signature_and_next(struct reading *rd)
{
	int rc = swi_swu_next(rd->swu, &rd->member);
	if (rc || strcmp(rd->member.name, SW_DESCRIPTION_SIG) != 0)
		return rc;
	rc = swi_swu_read_all(rd->swu, MAX_SIGNATURE_SIZE, &rd->signature, &rd->signature_len);
	return rc ? rc : swi_swu_next(rd->swu, &rd->member);
}

/* sw-description and sw-description.sig; leaves the reader on the first
 * artifact. SWI_END when there is none. */
static int read_head(struct reading *rd)
{
	int rc = swi_swu_next(rd->swu, &rd->member);
	if (rc == SWI_END)
		return swi_fail(rd->ctx, SWI_EFORMAT, "image: the archive is empty");
	if (rc)
		return rc;
	if (strcmp(rd->member.name, SW_DESCRIPTION) != 0)
		return swi_fail(rd->ctx, SWI_EFORMAT,
				"image: first member is '%s', not " SW_DESCRIPTION, rd->member.name);
	rc = swi_swu_read_all(rd->swu, MAX_DESCRIPTION_SIZE, &rd->description,
			      &rd->description_len);
	return rc ? rc : read_signature_and_next(rd);
}

static int add_member(struct builder *b, const struct swi_member *m)
{
	struct swi_info *info = b->info;
	struct swi_info_member *grown = realloc(b->members,
						(info->nmembers + 1) * sizeof(*grown));
	if (!grown)
		return swi_fail(b->ctx, SWI_ENOMEM, "out of memory");
	b->members = grown;
	struct swi_info_member *it = &b->members[info->nmembers];
	*it = (struct swi_info_member){ .size = m->size };
	int rc = store_strdup(b, m->name, &it->name);
	info->nmembers += rc == SWI_OK;
	info->members = b->members;
	return rc;
}

/* Every member after the head: its name and its size from the header. */
static int read_members(struct builder *b, struct reading *rd, int rc)
{
	while (rc == SWI_OK) {
		if (swi_cancelled(b->ctx))
			return swi_fail(b->ctx, SWI_ECANCELED, "cancelled while reading the image");
		rc = add_member(b, &rd->member);
		if (rc == SWI_OK)
			rc = swi_swu_next(rd->swu, &rd->member);
	}
	return rc == SWI_END ? SWI_OK : rc;
}

/* ---- the signature ------------------------------------------------------ */

/* Describes the signature, and verifies it when a key is configured.
 * SWI_ESIG when that fails; the rest of the info is still filled. */
static int check_signature(struct builder *b)
{
	struct swi_info *info = b->info;
	const struct reading *rd = b->rd;
	const char *key = b->ctx->opt.public_key;
	char *signer = NULL;
	int rc = SWI_OK;
	if (rd->signature) {
		rc = swi_signature_describe(b->ctx, rd->signature, rd->signature_len,
					    &info->signature_kind, &signer);
		if (rc == SWI_OK && signer)
			rc = keep_block(b, signer);
		info->signer = signer;
		info->signature = SWI_SIG_UNVERIFIED;
	}
	if (rc || !key || (rc = store_strdup(b, key, &info->key)))
		return rc;
	if (!rd->signature)
		rc = swi_fail(b->ctx, SWI_ESIG, SW_DESCRIPTION_SIG ": missing: the image is "
			      "not signed, so the key cannot verify it");
	else
		rc = swi_verify_signature(b->ctx, rd->description, rd->description_len,
					  rd->signature, rd->signature_len);
	info->signature = rc == SWI_OK ? SWI_SIG_VERIFIED : SWI_SIG_FAILED;
	if (rc == SWI_ESIG && store_strdup(b, swi_errmsg(b->ctx), &info->signature_error))
		return SWI_ENOMEM;
	return rc;
}

/* ---- places ------------------------------------------------------------- */

/* An AES-encrypted sw-description is binary, in 16-byte blocks: text has
 * neither NUL bytes nor most control characters. */
static bool looks_encrypted(const char *text, size_t len)
{
	if (len == 0 || len % 16 != 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c < 0x20 && !isspace(c))
			return true;
	}
	return false;
}

static int parse_place(struct builder *b, const char *board, const char *select,
		       struct swi_manifest **kept)
{
	struct swi_manifest m;
	const struct reading *rd = b->rd;
	int rc = swi_manifest_parse(b->ctx, rd->description, rd->description_len, board, select,
				    &m);
	if (rc == SWI_EFORMAT && !b->ctx->opt.encrypted_sw_description &&
	    looks_encrypted(rd->description, rd->description_len))
		return swi_fail(b->ctx, SWI_EUNSUPPORTED, SW_DESCRIPTION ": not text; it looks "
				"encrypted (give the key with -K FILE and set "
				"--encrypted-sw-description to show it)");
	return rc ? rc : keep_manifest(b, &m, kept);
}

static int find_member(const struct builder *b, const char *name)
{
	for (size_t i = 0; name && i < b->info->nmembers; i++)
		if (strcmp(b->members[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void describe_entry(struct builder *b, const struct swi_entry *e,
			   struct swi_info_entry *out)
{
	const struct swi_attrs *a = &e->attrs;
	int member = find_member(b, e->filename);
	*out = (struct swi_info_entry){
		.collection = e->collection, .index = e->index, .filename = e->filename,
		.type = e->type, .handler_available = swi_handler_find(b->ctx, e->type) != NULL,
		.member_present = member >= 0, .size = member >= 0 ? b->members[member].size : 0,
		.compressed = e->compressed, .encrypted = e->encrypted, .sha256 = e->sha256,
		.device = swi_attrs_get(a, "device"), .offset = swi_attrs_get(a, "offset"),
		.path = swi_attrs_get(a, "path"), .filesystem = swi_attrs_get(a, "filesystem"),
		.volume = swi_attrs_get(a, "volume"), .mtdname = swi_attrs_get(a, "mtdname"),
		.name = e->name, .version = e->version,
	};
	if (member >= 0)
		b->members[member].used = 1;
}

/* "NAME=VALUE" of the bootenv variables, NULL-terminated. */
static int describe_bootenv(struct builder *b, const struct swi_attrs *vars,
			    const char *const **out)
{
	const char **list;
	int rc = store_alloc(b, vars->count + 1, sizeof(*list), &list);
	for (size_t i = 0; rc == SWI_OK && i < vars->count; i++) {
		char *text;
		const struct swi_attr *v = &vars->items[i];
		rc = store_alloc(b, strlen(v->name) + strlen(v->value) + 2, 1, &text);
		if (rc == SWI_OK)
			sprintf(text, "%s=%s", v->name, v->value);
		list[i] = text;
	}
	*out = list;
	return rc;
}

static int add_place(struct builder *b, const char *board, const char *select,
		     const struct swi_manifest *m)
{
	struct swi_info *info = b->info;
	if (m->nentries == 0 && m->bootenv.count == 0)
		return SWI_OK; /* nothing would be installed there */
	struct swi_info_place *grown = realloc(b->places, (info->nplaces + 1) * sizeof(*grown));
	if (!grown)
		return swi_fail(b->ctx, SWI_ENOMEM, "out of memory");
	b->places = grown;
	info->places = b->places;
	struct swi_info_place *p = &b->places[info->nplaces];
	struct swi_info_entry *entries;
	*p = (struct swi_info_place){ .board = board, .selection = select,
				      .version = m->version, .nentries = m->nentries };
	int rc = store_alloc(b, m->nentries, sizeof(*entries), &entries);
	for (size_t i = 0; rc == SWI_OK && i < m->nentries; i++)
		describe_entry(b, &m->entries[i], &entries[i]);
	p->entries = entries;
	if (rc == SWI_OK)
		rc = describe_bootenv(b, &m->bootenv, &p->bootenv);
	if (rc == SWI_OK)
		p->hardware = m->nhwcompat ? (const char *const *)m->hwcompat : no_words;
	info->nplaces += rc == SWI_OK;
	return rc;
}

static int parse_and_add(struct builder *b, const char *board, const char *select,
			 struct swi_manifest **kept)
{
	int rc = parse_place(b, board, select, kept);
	return rc ? rc : add_place(b, board, select, *kept);
}

static bool listed(const char *const *list, const char *word)
{
	for (; list && *list; list++)
		if (strcmp(*list, word) == 0)
			return true;
	return false;
}

static bool listed_before(const char *const *list, size_t i)
{
	for (size_t j = 0; j < i; j++)
		if (strcmp(list[j], list[i]) == 0)
			return true;
	return false;
}

/* Adds the selections of a board's (or the root's) parse to the image's. */
static int gather_selections(struct builder *b, const char *const *offered)
{
	for (; *offered; offered++) {
		if (listed(b->selections, *offered))
			continue;
		const char **grown = realloc(b->selections,
					     (b->nselections + 2) * sizeof(*grown));
		if (!grown)
			return swi_fail(b->ctx, SWI_ENOMEM, "out of memory");
		b->selections = grown;
		b->selections[b->nselections++] = *offered;
		b->selections[b->nselections] = NULL;
		b->info->selections = b->selections;
	}
	return SWI_OK;
}

/* The places under one board (or none): alone, then with each selection. */
static int add_places(struct builder *b, const char *board, const struct swi_manifest *alone)
{
	const char *const *offered;
	struct swi_manifest *m;
	int rc = split_words(b, alone->selections, &offered);
	if (rc == SWI_OK)
		rc = gather_selections(b, offered);
	if (rc == SWI_OK && board)
		rc = add_place(b, board, NULL, alone);
	/* A selection both under the board and at the root is one place. */
	for (size_t i = 0; rc == SWI_OK && offered[i]; i++)
		if (!listed_before(offered, i))
			rc = parse_and_add(b, board, offered[i], &m);
	return rc;
}

static int describe_image(struct builder *b)
{
	struct swi_info *info = b->info;
	struct swi_manifest *root, *m;
	int rc = parse_place(b, NULL, NULL, &root);
	if (rc)
		return rc;
	info->version = root->version;
	info->description = root->description;
	info->description_size = b->rd->description_len;
	info->selections = no_words;
	info->hardware = root->nhwcompat ? (const char *const *)root->hwcompat : no_words;
	rc = split_words(b, root->boards, &info->boards);
	if (rc == SWI_OK)
		rc = add_place(b, NULL, NULL, root);
	if (rc == SWI_OK)
		rc = add_places(b, NULL, root);
	for (size_t i = 0; rc == SWI_OK && info->boards[i]; i++) {
		rc = parse_place(b, info->boards[i], NULL, &m);
		if (rc == SWI_OK)
			rc = add_places(b, info->boards[i], m);
	}
	return rc;
}

/* ---- the whole ---------------------------------------------------------- */

/* The arrays that grew while the info was built become the store's. */
/* With encrypted-sw-description (and its key-aes key), the text is
 * decrypted first, as an install does: the signature covers the plain text. */
static int decrypt_description(struct reading *rd)
{
	swi_ctx_t *ctx = rd->ctx;
	if (!ctx->opt.encrypted_sw_description)
		return SWI_OK;
	if (!ctx->opt.key_aes)
		return swi_fail(ctx, SWI_ECONFIG, "encrypted-sw-description is set but no AES "
				"key is configured (give the key file with -K FILE or key-aes)");
	struct swi_aes_key key = { 0 };
	int rc = swi_aes_key_load(ctx, ctx->opt.key_aes, &key);
	if (rc == SWI_OK)
		rc = swi_aes_decrypt_description(ctx, &key, &rd->description,
						 &rd->description_len, MAX_DESCRIPTION_SIZE);
	swi_aes_key_clear(&key);
	return rc;
}

static int settle(struct builder *b, int rc)
{
	void *grown[] = { b->places, b->members, b->selections };
	for (size_t i = 0; i < sizeof(grown) / sizeof(grown[0]); i++) {
		if (!grown[i])
			continue;
		int kept = keep_block(b, grown[i]);
		rc = kept ? kept : rc;
	}
	return rc;
}

static int run(struct builder *b, struct reading *rd, swi_read_fn fn, void *user,
	       enum swi_swu_mode mode)
{
	int rc = swi_swu_open(b->ctx, fn, user, mode, &rd->swu);
	if (rc == SWI_OK)
		rc = read_members(b, rd, read_head(rd));
	if (rc == SWI_OK)
		rc = decrypt_description(rd);
	int sig = rc ? rc : check_signature(b);
	if (sig && sig != SWI_ESIG)
		return sig;
	rc = describe_image(b);
	return rc ? rc : sig;
}

static int info_from(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_swu_mode mode,
		     struct swi_info *info)
{
	ctx->errmsg[0] = '\0';
	ctx->last_status = SWI_OK;
	*info = (struct swi_info){ 0 };
	struct reading rd = { .ctx = ctx };
	struct builder b = { .ctx = ctx, .info = info, .rd = &rd,
			     .store = calloc(1, sizeof(*b.store)) };
	int rc = b.store ? run(&b, &rd, fn, user, mode)
			 : swi_fail(ctx, SWI_ENOMEM, "out of memory");
	if (b.store)
		rc = settle(&b, rc);
	swi_swu_close(rd.swu);
	free(rd.description);
	free(rd.signature);
	info->store = b.store;
	if (rc && rc != SWI_ESIG)
		swi_info_free(info);
	atomic_store(&ctx->cancel, 0);
	return rc;
}

int swi_info_read(swi_ctx_t *ctx, swi_read_fn fn, void *user, struct swi_info *info)
{
	if (!ctx || !info)
		return SWI_EINVAL;
	*info = (struct swi_info){ 0 };
	if (!fn)
		return swi_fail(ctx, SWI_EINVAL, "no image source given");
	return info_from(ctx, fn, user, SWI_SWU_INLINE, info);
}

int swi_info_fd(swi_ctx_t *ctx, int fd, struct swi_info *info)
{
	if (!ctx || !info)
		return SWI_EINVAL;
	*info = (struct swi_info){ 0 };
	if (fd < 0)
		return swi_fail(ctx, SWI_EINVAL, "no valid file descriptor given");
	struct swi_fd_source src = { ctx, fd };
	return info_from(ctx, swi_fd_read, &src, swi_fd_mode(fd), info);
}

int swi_info_file(swi_ctx_t *ctx, const char *path, struct swi_info *info)
{
	if (!ctx || !info)
		return SWI_EINVAL;
	*info = (struct swi_info){ 0 };
	if (!path)
		return swi_fail(ctx, SWI_EINVAL, "no image path given");
	int fd;
	int rc = swi_open_image(ctx, path, &fd);
	if (rc)
		return rc;
	rc = swi_info_fd(ctx, fd, info);
	close(fd);
	return rc;
}

void swi_info_free(struct swi_info *info)
{
	if (!info)
		return;
	free_store(info->store);
	*info = (struct swi_info){ 0 };
}
