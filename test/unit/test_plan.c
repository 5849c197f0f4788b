/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plan as data (lib/plan.c) and the order an install keeps with it:
 * data-less entries first, the "before" scripts before any target is
 * written (spooling what came earlier), the "after" scripts before the
 * commit, the "failure" scripts when it failed. Driven with handlers that
 * log what they are asked, on images built at test time with cpio.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "manifest.h"
#include "plan.h"
#include "testutil.h"

/* What the handlers were asked, in order: "open:a.img run-before:s.sh". */
static char events[1024];
/* A phase whose scripts fail (SWI_PHASE_* bits), and what the log said. */
static unsigned failing_phases;
/* The "before" scripts cancel the install (as a signal would). */
static swi_ctx_t *cancel_before;
static char logged[8192];

static void event(const struct swi_target *t, const char *what)
{
	size_t used = strlen(events);
	const char *member = swi_target_member(t);
	snprintf(events + used, sizeof(events) - used, "%s%s:%s", used ? " " : "", what,
		 member ? member : swi_target_attr(t, "name"));
}

static int ev_open(struct swi_target *t) { event(t, "open"); return SWI_OK; }
static int ev_write(struct swi_target *t, const void *buf, size_t len)
{
	(void)t; (void)buf; (void)len;
	return SWI_OK;
}
static int ev_close(struct swi_target *t) { event(t, "close"); return SWI_OK; }
static void ev_abort(struct swi_target *t) { event(t, "abort"); }
static int ev_commit(struct swi_target *t) { event(t, "commit"); return SWI_OK; }

static int ev_run(struct swi_target *t, enum swi_phase phase)
{
	static const char *const names[] = { [SWI_PHASE_BEFORE] = "run-before",
					     [SWI_PHASE_AFTER] = "run-after",
					     [SWI_PHASE_FAILURE] = "run-failure" };
	event(t, names[phase]);
	if (swi_cancelled(t->ctx))
		event(t, "cancelled");
	if (phase == SWI_PHASE_BEFORE && cancel_before) {
		swi_cancel(cancel_before);
		return SWI_ECANCELED;
	}
	if (failing_phases & phase)
		return swi_target_error(t, SWI_EHANDLER, "script failed in phase %d", phase);
	return SWI_OK;
}

static const struct swi_handler artifact = {
	.size = SWI_HANDLER_SIZE, .name = "artifact", .kinds = SWI_HANDLER_IMAGE,
	.open = ev_open, .write = ev_write, .close = ev_close, .abort = ev_abort,
	.commit = ev_commit,
};

static const struct swi_handler script = {
	.size = SWI_HANDLER_SIZE, .name = "script", .kinds = SWI_HANDLER_SCRIPT,
	.open = ev_open, .write = ev_write, .close = ev_close, .abort = ev_abort,
	.phases = SWI_PHASE_BEFORE | SWI_PHASE_AFTER | SWI_PHASE_FAILURE, .run = ev_run,
};

static const struct swi_handler late_script = {
	.size = SWI_HANDLER_SIZE, .name = "late", .kinds = SWI_HANDLER_SCRIPT,
	.open = ev_open, .write = ev_write, .close = ev_close, .abort = ev_abort,
	.phases = SWI_PHASE_AFTER, .run = ev_run,
};

static const struct swi_handler partitioner = {
	.size = SWI_HANDLER_SIZE, .name = "partitioner", .kinds = SWI_HANDLER_PARTITION,
	.open = ev_open, .close = ev_close, .abort = ev_abort, .flags = SWI_HANDLER_NO_DATA,
};

static void log_to_buffer(void *user, int level, const char *msg)
{
	(void)user; (void)level;
	size_t used = strlen(logged);
	snprintf(logged + used, sizeof(logged) - used, "%s\n", msg);
}

static int setup(void **state)
{
	if (dir_fixture_setup(state, "swi-plan", "image.swu"))
		return -1;
	struct dir_fixture *fx = *state;
	swi_ctx_t *ctx = fx->ctx;
	const struct swi_handler *handlers[] = { &artifact, &script, &late_script, &partitioner };
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(swi_register_handler(ctx, handlers[i]), SWI_OK);
	assert_int_equal(swi_set_option(ctx, "insecure", "1"), SWI_OK);
	static const char *const files[][2] = {
		{ "hwrevision-file", "hwrevision" }, { "sw-versions-file", "sw-versions" },
		{ "lock-file", "lock" }, { "state-dir", "state" }, { "tmpdir", "tmp" },
	};
	for (size_t i = 0; i < 5; i++) {
		char path[128];
		snprintf(path, sizeof(path), "%s/%s", fx->dir, files[i][1]);
		assert_int_equal(swi_set_option(ctx, files[i][0], path), SWI_OK);
	}
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s/tmp", fx->dir);
	assert_int_equal(mkdir(tmp, 0755), 0);
	swi_set_log(ctx, log_to_buffer, NULL);
	events[0] = logged[0] = '\0';
	failing_phases = 0;
	cancel_before = NULL;
	return 0;
}

static int teardown(void **state)
{
	return dir_fixture_teardown(state);
}

static void write_member(const struct dir_fixture *fx, const char *name, const char *text)
{
	char path[192];
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* image.swu: sw-description with the given entries, then the members
 * (each file holds its own name), in the order given. */
static void build(const struct dir_fixture *fx, const char *entries, const char *members)
{
	char desc[2048], cmd[1024];
	snprintf(desc, sizeof(desc), "software = { version = \"1.0\";\n%s\n};\n", entries);
	write_member(fx, "sw-description", desc);
	char list[256], *save = NULL;
	snprintf(list, sizeof(list), "%s", members);
	for (char *m = strtok_r(list, " ", &save); m; m = strtok_r(NULL, " ", &save))
		write_member(fx, m, m);
	snprintf(cmd, sizeof(cmd), "cd %s && printf '%%s\\n' sw-description %s | "
		 "cpio -o -H crc --quiet > image.swu", fx->dir, members);
	assert_int_equal(system(cmd), 0);
}

#define IMAGE_AND_SCRIPT \
	"images = ( { filename = \"a.img\"; type = \"artifact\"; } );\n" \
	"scripts = ( { filename = \"s.sh\"; type = \"script\"; } );"

/* The tmpdir holds nothing once an install is over. */
static void assert_tmpdir_empty(const struct dir_fixture *fx)
{
	char tmp[128];
	snprintf(tmp, sizeof(tmp), "%s/tmp", fx->dir);
	DIR *d = opendir(tmp);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			fail_msg("left in tmpdir: %s", de->d_name);
	closedir(d);
}

/* ---- the plan as data ------------------------------------------------- */

static void parse_and_plan(struct dir_fixture *fx, const char *entries, struct swi_manifest *m,
			   struct swi_plan *p, int expect)
{
	char desc[2048];
	snprintf(desc, sizeof(desc), "software = { version = \"1.0\";\n%s\n};\n", entries);
	assert_int_equal(swi_manifest_parse(fx->ctx, desc, strlen(desc), NULL, NULL, m), SWI_OK);
	struct swi_target proto = { .ctx = fx->ctx };
	assert_int_equal(swi_plan_build(fx->ctx, m, &proto, false, p), expect);
}

static void jobs_have_kinds_and_phases(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_manifest m = { 0 };
	struct swi_plan p;
	parse_and_plan(fx, IMAGE_AND_SCRIPT "\npartitions = ( { type = \"partitioner\"; "
		       "name = \"data\"; } );\n", &m, &p, SWI_OK);
	char *text = NULL;
	assert_int_equal(swi_plan_describe(&p, &text), SWI_OK);
	assert_string_equal(text, "images[0] (a.img) artifact streamed\n"
				  "scripts[0] (s.sh) script streamed before,after,failure\n"
				  "partitions[0] (data) partitioner data-less\n");
	free(text);
	assert_int_equal(swi_plan_count_phase(&p, SWI_PHASE_BEFORE), 1);
	assert_int_equal(swi_plan_count_phase(&p, SWI_PHASE_AFTER | SWI_PHASE_FAILURE), 1);
	swi_plan_free(&p);
	swi_manifest_free(&m);
}

static void arrivals_follow_the_before_scripts(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_manifest m = { 0 };
	struct swi_plan p;
	parse_and_plan(fx, IMAGE_AND_SCRIPT, &m, &p, SWI_OK);
	assert_int_equal(swi_plan_arrival(&p, "a.img"), SWI_ARRIVAL_SPOOL);
	assert_int_equal(swi_plan_arrival(&p, "s.sh"), SWI_ARRIVAL_STREAM);
	assert_int_equal(swi_plan_arrival(&p, "other"), SWI_ARRIVAL_UNUSED);
	assert_false(swi_plan_before_ready(&p));
	assert_string_equal(swi_plan_waiting_script(&p)->target.entry->filename, "s.sh");
	p.jobs[1].done = true;
	assert_true(swi_plan_before_ready(&p));
	assert_int_equal(swi_plan_arrival(&p, "a.img"), SWI_ARRIVAL_STREAM);
	assert_int_equal(swi_plan_arrival(&p, "s.sh"), SWI_ARRIVAL_AGAIN);
	swi_plan_free(&p);
	swi_manifest_free(&m);
}

/* Only "before" scripts hold artifacts back. */
static void after_scripts_hold_nothing_back(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_manifest m = { 0 };
	struct swi_plan p;
	parse_and_plan(fx, "images = ( { filename = \"a.img\"; type = \"artifact\"; } );\n"
		       "scripts = ( { filename = \"s.sh\"; type = \"late\"; } );", &m, &p, SWI_OK);
	assert_true(swi_plan_before_ready(&p));
	assert_int_equal(swi_plan_arrival(&p, "a.img"), SWI_ARRIVAL_STREAM);
	swi_plan_free(&p);
	swi_manifest_free(&m);
}

static void a_member_cannot_be_script_and_artifact(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_manifest m = { 0 };
	struct swi_plan p;
	parse_and_plan(fx, "images = ( { filename = \"s.sh\"; type = \"artifact\"; } );\n"
		       "scripts = ( { filename = \"s.sh\"; type = \"script\"; } );", &m, &p,
		       SWI_EUNSUPPORTED);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "s.sh: the member is both a script"));
	swi_plan_free(&p);
	swi_manifest_free(&m);
}

static void data_less_entries_need_a_data_less_handler(void **state)
{
	struct dir_fixture *fx = *state;
	struct swi_manifest m = { 0 };
	struct swi_plan p;
	parse_and_plan(fx, "images = ( { filename = \"a.img\"; type = \"partitioner\"; } );", &m,
		       &p, SWI_EUNSUPPORTED);
	swi_plan_free(&p);
	swi_manifest_free(&m);
	parse_and_plan(fx, "partitions = ( { type = \"partitioner\"; filename = \"a.img\"; } );",
		       &m, &p, SWI_EFORMAT);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "takes no data"));
	swi_plan_free(&p);
	swi_manifest_free(&m);
}

/* ---- the order an install keeps ----------------------------------------- */

static void scripts_first_stream_without_a_copy(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "s.sh a.img");
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	assert_string_equal(events, "open:s.sh close:s.sh run-before:s.sh open:a.img close:a.img "
				    "run-after:s.sh commit:a.img");
	assert_null(strstr(logged, "spooled"));
	assert_tmpdir_empty(fx);
}

static void an_artifact_before_its_script_is_spooled(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "a.img s.sh");
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	assert_string_equal(events, "open:s.sh close:s.sh run-before:s.sh open:a.img close:a.img "
				    "run-after:s.sh commit:a.img");
	assert_non_null(strstr(logged, "a.img: spooled to "));
	assert_non_null(strstr(logged, "it came before the script s.sh"));
	assert_tmpdir_empty(fx);
}

static void a_failing_before_script_writes_nothing(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "a.img s.sh");
	failing_phases = SWI_PHASE_BEFORE;
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_EHANDLER);
	assert_string_equal(swi_errmsg(fx->ctx), "s.sh: script failed in phase 1");
	assert_string_equal(events, "open:s.sh close:s.sh run-before:s.sh run-failure:s.sh");
	assert_tmpdir_empty(fx);
}

static void a_failing_after_script_commits_nothing(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "s.sh a.img");
	failing_phases = SWI_PHASE_AFTER;
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_EHANDLER);
	assert_string_equal(events, "open:s.sh close:s.sh run-before:s.sh open:a.img close:a.img "
				    "run-after:s.sh abort:a.img run-failure:s.sh");
	struct swi_result result;
	assert_int_equal(swi_get_result(fx->ctx, &result), SWI_OK);
	assert_false(result.committed);
}

/* A cancel ends the install, yet the failure scripts run uncancelled. */
static void failure_scripts_run_after_a_cancel(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "s.sh a.img");
	cancel_before = fx->ctx;
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_ECANCELED);
	assert_string_equal(events, "open:s.sh close:s.sh run-before:s.sh run-failure:s.sh");
}

static void a_missing_script_is_named(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "a.img");
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_EFORMAT);
	assert_string_equal(swi_errmsg(fx->ctx),
			    "s.sh: named in sw-description but missing from the image");
	assert_string_equal(events, "");
	assert_tmpdir_empty(fx);
}

static void data_less_entries_go_first(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT "\npartitions = ( { type = \"partitioner\"; name = \"data\"; } );",
	      "s.sh a.img");
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	assert_string_equal(events, "open:data close:data open:s.sh close:s.sh run-before:s.sh "
				    "open:a.img close:a.img run-after:s.sh commit:a.img");
}

static void checks_and_dry_runs_run_no_script(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "a.img s.sh");
	assert_int_equal(swi_set_option(fx->ctx, "dry-run", "1"), SWI_OK);
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	assert_non_null(strstr(logged, "a.img: comes before the script s.sh; an install would "
				       "spool it"));
	assert_int_equal(swi_set_option(fx->ctx, "dry-run", "0"), SWI_OK);
	assert_int_equal(swi_set_option(fx->ctx, "check", "1"), SWI_OK);
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_OK);
	assert_string_equal(events, "");
	assert_tmpdir_empty(fx);
}

/* The space is checked from the cpio header before a byte is copied. */
static void a_spool_that_does_not_fit_is_refused(void **state)
{
	struct dir_fixture *fx = *state;
	build(fx, IMAGE_AND_SCRIPT, "a.img s.sh");
	assert_int_equal(swi_set_option(fx->ctx, "min-free-space", "100%"), SWI_OK);
	assert_int_equal(swi_install_file(fx->ctx, fx->path), SWI_EIO);
	assert_non_null(strstr(swi_errmsg(fx->ctx), "a.img: comes before the script s.sh in the "
						   "image and must wait in "));
	assert_non_null(strstr(swi_errmsg(fx->ctx), "but it does not fit: 5 bytes"));
	assert_string_equal(events, "");
	assert_tmpdir_empty(fx);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(jobs_have_kinds_and_phases),
		T(arrivals_follow_the_before_scripts),
		T(after_scripts_hold_nothing_back),
		T(a_member_cannot_be_script_and_artifact),
		T(data_less_entries_need_a_data_less_handler),
		T(scripts_first_stream_without_a_copy),
		T(an_artifact_before_its_script_is_spooled),
		T(a_failing_before_script_writes_nothing),
		T(a_failing_after_script_commits_nothing),
		T(failure_scripts_run_after_a_cancel),
		T(a_missing_script_is_named),
		T(data_less_entries_go_first),
		T(checks_and_dry_runs_run_no_script),
		T(a_spool_that_does_not_fit_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
