/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the unit tests (include after <cmocka.h>). */
#ifndef SWI_TESTUTIL_H
#define SWI_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <openssl/evp.h>
#include <swinstall.h>

/* What a shell command printed (malloc'd, the caller frees it); the
 * command must succeed. Used to read state back with the real tools
 * (fw_printenv, grub-editenv). */
static inline char *command_output(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	const size_t cap = 4096;
	char *out = calloc(1, cap);
	assert_non_null(out);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

/* Writes text into DIR/NAME, replacing what was there. */
static inline void write_text_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The sha256 of data as 64 lower-case hex digits, computed independently
 * of lib/stream.c's incremental use of the same library. */
static inline void sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	assert_int_equal(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
}

/* A file's bytes (malloc'd, one byte more for a NUL the caller may put
 * there; the caller frees them); the file must exist. */
static inline char *file_contents(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot read %s", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	*len = (size_t)ftell(fp);
	rewind(fp);
	char *data = malloc(*len + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, *len, fp), *len);
	fclose(fp);
	return data;
}

/* Removes a test's temporary directory and all in it; system()'s status. */
static inline int remove_tree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

/* A context and a new temporary directory, with the path of one file in
 * it: the fixture of tests that write a file and read it back. */
struct dir_fixture {
	char dir[64];
	char path[128];
	swi_ctx_t *ctx;
};

/* Sets *state to a dir_fixture whose directory is /tmp/PREFIX.XXXXXX. */
static inline int dir_fixture_setup(void **state, const char *prefix, const char *file)
{
	struct dir_fixture *fx = calloc(1, sizeof(*fx));
	if (!fx)
		return -1;
	*state = fx;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/%s.XXXXXX", prefix);
	if (!mkdtemp(fx->dir))
		return -1;
	snprintf(fx->path, sizeof(fx->path), "%s/%s", fx->dir, file);
	return swi_ctx_new(&fx->ctx);
}

static inline int dir_fixture_teardown(void **state)
{
	struct dir_fixture *fx = *state;
	int rc = remove_tree(fx->dir);
	swi_ctx_free(fx->ctx);
	free(fx);
	return rc == 0 ? 0 : -1;
}

#endif
