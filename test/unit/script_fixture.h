/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The fixture of the script handlers' tests (include after <cmocka.h>): a
 * hand-made target for the member "setup.sh" of scripts[0], the install's
 * private directory under the fixture's own tmpdir, and a script that
 * records its arguments and TMPDIR, one per line, in "record".
 */
#ifndef SWI_SCRIPT_FIXTURE_H
#define SWI_SCRIPT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "handler.h"
#include "script.h"
#include "testutil.h"

#define SCRIPT_MEMBER "setup.sh"

struct script_fixture {
	struct dir_fixture *dir;     /* dir->path: the record the script writes */
	struct swi_entry entry;
	struct swi_scratch scratch;
	struct swi_target target;
	char script[512];
};

static inline int script_setup(void **state)
{
	struct script_fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	void *dir_state = NULL;
	int rc = dir_fixture_setup(&dir_state, "swi-script", "record");
	f->dir = dir_state;
	if (rc)
		return rc;
	swi_ctx_t *ctx = f->dir->ctx;
	if (swi_set_option(ctx, "tmpdir", f->dir->dir))
		return -1;
	f->entry.filename = SCRIPT_MEMBER;
	f->entry.collection = "scripts";
	f->scratch.ctx = ctx;
	f->target.ctx = ctx;
	f->target.entry = &f->entry;
	f->target.scratch = &f->scratch;
	return 0;
}

static inline int script_teardown(void **state)
{
	struct script_fixture *f = *state;
	swi_scratch_remove(&f->scratch);
	swi_target_unbind_attrs(&f->target);
	swi_target_free_state(&f->target);
	swi_attrs_free(&f->entry.attrs);
	void *dir_state = f->dir;
	int rc = dir_fixture_teardown(&dir_state);
	free(f);
	return rc;
}

/* Points the target at handler, the entry's "data" set to data (NULL:
 * none), checked as at planning, with fresh state. */
static inline struct swi_target *script_target(struct script_fixture *f,
					       const struct swi_handler *handler, const char *data)
{
	f->target.handler = handler;
	if (data)
		assert_int_equal(swi_attrs_set(&f->entry.attrs, "data", data), SWI_OK);
	assert_int_equal(swi_target_bind_attrs(&f->target), SWI_OK);
	assert_int_equal(swi_target_alloc_state(&f->target), SWI_OK);
	return &f->target;
}

/* Hands the handler, through open, write and close, a script that
 * appends "arg=..." for $0 and each argument and "TMPDIR=..." to the
 * record, then exits with status. */
static inline void script_receive(struct script_fixture *f, int status)
{
	int n = snprintf(f->script, sizeof(f->script),
			 "#!/bin/sh\n"
			 "for a in \"$0\" \"$@\"; do echo \"arg=$a\"; done >>'%s'\n"
			 "echo \"TMPDIR=$TMPDIR\" >>'%s'\n"
			 "echo \"script output\"\n"
			 "exit %d\n", f->dir->path, f->dir->path, status);
	assert_true(n > 0 && (size_t)n < sizeof(f->script));
	const struct swi_handler *h = f->target.handler;
	assert_int_equal(h->open(&f->target), SWI_OK);
	/* in two pieces, as the core may hand it over */
	assert_int_equal(h->write(&f->target, f->script, 10), SWI_OK);
	assert_int_equal(h->write(&f->target, f->script + 10, (size_t)n - 10), SWI_OK);
	assert_int_equal(h->close(&f->target), SWI_OK);
}

/* The private file the handler wrote the script into. */
static inline const char *script_path(const struct script_fixture *f)
{
	const struct swi_script *s = swi_target_state(&f->target);
	return s->path;
}

/* The record, "" when the script did not run; truncated for the next run. */
static inline const char *script_record(struct script_fixture *f, char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *fp = fopen(f->dir->path, "r");
	if (fp) {
		size_t n = fread(buf, 1, size - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		unlink(f->dir->path);
	}
	return buf;
}

/* What the record must hold for arguments args (after $0, the script's
 * path) and TMPDIR, the fixture's tmpdir. */
static inline void script_assert_ran_with(struct script_fixture *f, const char *const args[])
{
	char expected[1024], got[1024];
	int n = snprintf(expected, sizeof(expected), "arg=%s\n", script_path(f));
	for (size_t i = 0; args[i]; i++)
		n += snprintf(expected + n, sizeof(expected) - (size_t)n, "arg=%s\n", args[i]);
	snprintf(expected + n, sizeof(expected) - (size_t)n, "TMPDIR=%s\n", f->dir->dir);
	assert_string_equal(script_record(f, got, sizeof(got)), expected);
}

static inline void script_assert_did_not_run(struct script_fixture *f)
{
	char got[1024];
	assert_string_equal(script_record(f, got, sizeof(got)), "");
}

/* The script sits in the install's private directory under tmpdir, as
 * SETUP.sh, mode 0700, with the member's bytes. */
static inline void script_assert_written(struct script_fixture *f)
{
	const char *path = script_path(f);
	char dir[160];
	snprintf(dir, sizeof(dir), "%s/swinstall-", f->dir->dir);
	assert_int_equal(strncmp(path, dir, strlen(dir)), 0);
	const char *base = strrchr(path, '/');
	assert_string_equal(base + 1, SCRIPT_MEMBER);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	char parent[160];
	snprintf(parent, sizeof(parent), "%.*s", (int)(base - path), path);
	assert_int_equal(stat(parent, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	char content[sizeof(f->script)];
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	size_t n = fread(content, 1, sizeof(content) - 1, fp);
	fclose(fp);
	content[n] = '\0';
	assert_string_equal(content, f->script);
}

/* The handler's registration: a built-in for scripts, run in phases. */
static inline void script_assert_handler(struct script_fixture *f, const char *name,
					 unsigned phases)
{
	const struct swi_handler *h = swi_handler_find(f->dir->ctx, name);
	assert_non_null(h);
	assert_int_equal(h->kinds, SWI_HANDLER_SCRIPT);
	assert_int_equal(h->phases, phases);
	assert_non_null(h->run);
}

/* A phase the handler does not run in is refused, and runs nothing. */
static inline void script_assert_refuses_phase(struct script_fixture *f, enum swi_phase phase)
{
	assert_int_equal(f->target.handler->run(&f->target, phase), SWI_EINVAL);
	assert_non_null(strstr(swi_errmsg(f->dir->ctx), "does not run in"));
	script_assert_did_not_run(f);
}

static inline void script_assert_error(const struct script_fixture *f, const char *expected)
{
	assert_string_equal(swi_errmsg(f->dir->ctx), expected);
}

#endif
