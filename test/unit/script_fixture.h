/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the script handlers' tests (test_handler_shellscript.c,
 * test_handler_preinstall.c, test_handler_postinstall.c) add to
 * handler_fixture.h (include this one instead, after <cmocka.h>): a script
 * that records $0, its arguments and TMPDIR, one per line, in f->dir/record,
 * handed to the handler as the core does, and checks of what it recorded.
 */
#ifndef SWI_SCRIPT_FIXTURE_H
#define SWI_SCRIPT_FIXTURE_H

#include "handler_fixture.h"
#include "script.h"

/* The member's bytes: the recording script, exiting with status. */
static inline void recording_script(struct fixture *f, int status)
{
	char record[128], script[512];
	in_dir(f, "record", record, sizeof(record));
	snprintf(script, sizeof(script),
		 "#!/bin/sh\n"
		 "for a in \"$0\" \"$@\"; do echo \"arg=$a\"; done >>'%s'\n"
		 "echo \"TMPDIR=$TMPDIR\" >>'%s'\n"
		 "echo \"script output\"\n"
		 "exit %d\n", record, record, status);
	set_payload_text(f, script);
}

/* Points the target at handler ("data" set to data unless NULL) and hands
 * it the recording script through open, a few writes and close. */
static inline struct swi_target *received_script(struct fixture *f,
						 const struct swi_handler *handler,
						 const char *data, int status)
{
	if (data)
		entry_attr(f, "data", data);
	struct swi_target *t = target(f, handler, 0, NULL, NULL);
	recording_script(f, status);
	assert_int_equal(drive_open(f), SWI_OK);
	assert_int_equal(drive_feed(f, f->payload, f->payload_len, 10), SWI_OK);
	assert_int_equal(drive_close(f), SWI_OK);
	return t;
}

/* The private file the handler wrote the script into. */
static inline const char *script_path(const struct fixture *f)
{
	const struct swi_script *s = swi_target_state(&f->target);
	return s->path;
}

/* What the script recorded ("" when it did not run), removed for the next run. */
static inline const char *script_record(const struct fixture *f, char *buf, size_t size)
{
	char record[128];
	in_dir(f, "record", record, sizeof(record));
	buf[0] = '\0';
	FILE *fp = fopen(record, "r");
	if (fp) {
		size_t n = fread(buf, 1, size - 1, fp);
		buf[n] = '\0';
		fclose(fp);
		unlink(record);
	}
	return buf;
}

/* The script ran with the arguments args (after $0, its own path) and
 * TMPDIR, the fixture's tmpdir (f->dir). */
static inline void assert_ran_with(const struct fixture *f, const char *const args[])
{
	char expected[1024], got[1024];
	int n = snprintf(expected, sizeof(expected), "arg=%s\n", script_path(f));
	for (size_t i = 0; args[i]; i++)
		n += snprintf(expected + n, sizeof(expected) - (size_t)n, "arg=%s\n", args[i]);
	snprintf(expected + n, sizeof(expected) - (size_t)n, "TMPDIR=%s\n", f->dir);
	assert_string_equal(script_record(f, got, sizeof(got)), expected);
}

static inline void assert_did_not_run(const struct fixture *f)
{
	char got[1024];
	assert_string_equal(script_record(f, got, sizeof(got)), "");
}

/* The script sits, with the member's bytes, as the member's name in the
 * install's private directory under tmpdir; both mode 0700. */
static inline void assert_written_privately(const struct fixture *f)
{
	const char *path = script_path(f);
	char prefix[128], dir[PATH_MAX];
	snprintf(prefix, sizeof(prefix), "%s/swinstall-", f->dir);
	assert_int_equal(strncmp(path, prefix, strlen(prefix)), 0);
	const char *base = strrchr(path, '/');
	assert_string_equal(base + 1, swi_target_member(&f->target));
	snprintf(dir, sizeof(dir), "%.*s", (int)(base - path), path);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_file_holds(path, f->payload, f->payload_len);
}

/* The built-in name takes scripts and runs in phases, nothing else. */
static inline void assert_script_handler(const struct fixture *f, const char *name,
					 unsigned phases)
{
	const struct swi_handler *h = swi_handler_find(f->ctx, name);
	assert_non_null(h);
	assert_int_equal(h->kinds, SWI_HANDLER_SCRIPT);
	assert_int_equal(h->phases, phases);
	assert_non_null(h->run);
}

/* run in a phase the handler does not name is refused and runs nothing. */
static inline void assert_refuses_phase(struct fixture *f, enum swi_phase phase)
{
	assert_int_equal(f->target.handler->run(&f->target, phase), SWI_EINVAL);
	assert_error_mentions(f, "does not run in");
	assert_did_not_run(f);
}

/* ---- what each script handler's tests check --------------------------- */

static inline void check_written_privately(struct fixture *f, const struct swi_handler *h)
{
	struct swi_target *t = received_script(f, h, NULL, 0);
	assert_written_privately(f);
	assert_released(f, t);
}

/* preinstall and postinstall: run in phase with the words of "data" only,
 * as they are (no phase argument). */
static inline void check_runs_with_data_words(struct fixture *f, const struct swi_handler *h,
					      enum swi_phase phase)
{
	struct swi_target *t = received_script(f, h, "--fast  'a b' $HOME", 0);
	assert_int_equal(t->handler->run(t, phase), SWI_OK);
	assert_ran_with(f, (const char *const[]){ "--fast", "'a", "b'", "$HOME", NULL });
	/* without data, no argument at all */
	swi_attrs_free(&f->entry.attrs);
	t = received_script(f, h, NULL, 0);
	assert_int_equal(t->handler->run(t, phase), SWI_OK);
	assert_ran_with(f, (const char *const[]){ NULL });
}

/* A handler of one phase refuses the other two. */
static inline void check_runs_in_no_other_phase(struct fixture *f, const struct swi_handler *h)
{
	received_script(f, h, NULL, 0);
	for (unsigned phase = SWI_PHASE_BEFORE; phase <= SWI_PHASE_FAILURE; phase <<= 1)
		if (!(h->phases & phase))
			assert_refuses_phase(f, (enum swi_phase)phase);
}

/* A script exiting with status 7 in phase: "HANDLER member.img (PHASE): ...". */
static inline void check_failure_message(struct fixture *f, const struct swi_handler *h,
					 enum swi_phase phase, const char *expected)
{
	struct swi_target *t = received_script(f, h, NULL, 7);
	assert_int_equal(t->handler->run(t, phase), SWI_EHANDLER);
	assert_string_equal(swi_errmsg(f->ctx), expected);
}

#endif
