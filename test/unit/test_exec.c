/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Running programs (lib/exec.c): exit status, signals, timeout and cancel
 * (the whole process group killed), output into the log, environment,
 * descriptors, no shell; splitting a command into words. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "exec.h"
#include "testutil.h"

#define WHAT "test program"

struct fixture {
	struct dir_fixture *dir;
	char log[16384];           /* "LEVEL message" lines */
	size_t used;
	char file[160];            /* a file in the directory the programs write */
};

static void capture(void *user, int level, const char *message)
{
	struct fixture *f = user;
	int n = snprintf(f->log + f->used, sizeof(f->log) - f->used, "%d %s\n", level, message);
	if (n > 0 && (size_t)n < sizeof(f->log) - f->used)
		f->used += (size_t)n;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	void *dir_state = NULL;
	int rc = dir_fixture_setup(&dir_state, "swi-exec", "out");
	f->dir = dir_state;
	if (rc == 0) {
		swi_set_log(f->dir->ctx, capture, f);
		snprintf(f->file, sizeof(f->file), "%s", f->dir->path);
	}
	return rc;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	void *dir_state = f->dir;
	int rc = dir_fixture_teardown(&dir_state);
	free(f);
	return rc;
}

static int run(struct fixture *f, const char *const argv[], const char *const env[],
	       long timeout)
{
	return swi_run_program(f->dir->ctx, WHAT, argv, env, timeout);
}

static int run_sh(struct fixture *f, const char *script, long timeout)
{
	const char *argv[] = { "/bin/sh", "-c", script, "sh", f->file, NULL };
	return run(f, argv, NULL, timeout);
}

static void assert_error(const struct fixture *f, const char *expected)
{
	if (strcmp(swi_errmsg(f->dir->ctx), expected) != 0)
		fail_msg("error '%s', expected '%s'", swi_errmsg(f->dir->ctx), expected);
}

static void assert_logged(const struct fixture *f, int level, const char *message)
{
	char line[600];
	snprintf(line, sizeof(line), "%d %s: %s\n", level, WHAT, message);
	if (!strstr(f->log, line))
		fail_msg("the log lacks '%s'; it holds:\n%s", line, f->log);
}

/* The first line of the fixture's file ("" when there is none). */
static const char *file_line(const struct fixture *f, char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *fp = fopen(f->file, "r");
	if (fp) {
		if (fgets(buf, (int)size, fp))
			buf[strcspn(buf, "\n")] = '\0';
		fclose(fp);
	}
	return buf;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Whether process pid is gone (or a zombie, dead but not yet reaped by
 * whoever inherited it); waits up to two seconds for it. */
static int process_gone(pid_t pid)
{
	for (int i = 0; i < 200; i++) {
		char path[64], stat[256] = "";
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *fp = fopen(path, "r");
		if (!fp)
			return 1;
		size_t n = fread(stat, 1, sizeof(stat) - 1, fp);
		fclose(fp);
		stat[n] = '\0';
		const char *state = strrchr(stat, ')');
		if (state && state[1] == ' ' && state[2] == 'Z')
			return 1;
		usleep(10000);
	}
	return 0;
}

static void exit_zero_is_success(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "/bin/true", NULL };
	assert_int_equal(run(f, argv, NULL, 10), SWI_OK);
}

static void exit_status_is_reported(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run_sh(f, "exit 3", 10), SWI_EHANDLER);
	assert_error(f, WHAT ": exited with status 3");
}

static void death_by_signal_is_reported(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run_sh(f, "kill -USR1 $$", 10), SWI_EHANDLER);
	char expected[128];
	snprintf(expected, sizeof(expected), WHAT ": killed by signal %d (%s)", SIGUSR1,
		 strsignal(SIGUSR1));
	assert_error(f, expected);
}

/* The library's threads block every signal: the program must not inherit
 * that, or SIGTERM would not stop it. */
static void signals_are_not_blocked_in_the_program(void **state)
{
	struct fixture *f = *state;
	sigset_t usr1, old;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	int rc = run_sh(f, "kill -USR1 $$; exit 0", 10);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(rc, SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->dir->ctx), "killed by signal"));
}

/* The timeout kills the program's whole process group: the background
 * sleep it started too. */
static void timeout_kills_the_process_group(void **state)
{
	struct fixture *f = *state;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(run_sh(f, "sleep 30 & echo $! >\"$1\"; sleep 30", 1), SWI_EHANDLER);
	double took = seconds_since(&start);
	assert_error(f, WHAT ": did not finish within 1 s; killed");
	assert_true(took >= 1.0 && took < 4.0);
	char line[32];
	pid_t grandchild = (pid_t)atoi(file_line(f, line, sizeof(line)));
	assert_true(grandchild > 0);
	assert_true(process_gone(grandchild));
}

/* What ignores SIGTERM gets SIGKILL after the grace period. */
static void timeout_kills_what_ignores_sigterm(void **state)
{
	struct fixture *f = *state;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(run_sh(f, "trap '' TERM; sleep 30 & echo $! >\"$1\"; wait", 1),
			 SWI_EHANDLER);
	double took = seconds_since(&start);
	assert_error(f, WHAT ": did not finish within 1 s; killed");
	assert_true(took >= 2.9 && took < 7.0);
	char line[32];
	assert_true(process_gone((pid_t)atoi(file_line(f, line, sizeof(line)))));
}

static void cancel_kills_the_program(void **state)
{
	struct fixture *f = *state;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	swi_cancel(f->dir->ctx);
	assert_int_equal(run_sh(f, "sleep 30", 60), SWI_ECANCELED);
	assert_true(seconds_since(&start) < 4.0);
	assert_logged(f, SWI_LOG_INFO, "killed: the install was cancelled");
}

/* A background process the program leaves behind may keep its output
 * open: the run ends once the program exited and the output went quiet. */
static void background_process_does_not_hold_up_the_run(void **state)
{
	struct fixture *f = *state;
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	assert_int_equal(run_sh(f, "sleep 10 & echo started", 10), SWI_OK);
	assert_true(seconds_since(&start) < 5.0);
	assert_logged(f, SWI_LOG_INFO, "started");
}

/* Standard output and error in order, a last line without a newline,
 * SWUpdate's descriptors 3 (information) and 4 (warnings). */
static void output_lines_reach_the_log(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run_sh(f, "echo one; echo two >&2; echo info >&\"$SWUPDATE_INFO_FD\"; "
				"echo warning >&\"$SWUPDATE_WARN_FD\"; printf 'no newline'", 10),
			 SWI_OK);
	assert_logged(f, SWI_LOG_INFO, "one");
	assert_logged(f, SWI_LOG_INFO, "two");
	assert_logged(f, SWI_LOG_INFO, "info");
	assert_logged(f, SWI_LOG_WARN, "warning");
	assert_logged(f, SWI_LOG_INFO, "no newline");
	assert_true(strstr(f->log, "one\n") < strstr(f->log, "two\n"));
}

/* The output of a failing program is logged before its failure. */
static void output_of_a_failing_program_is_logged(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run_sh(f, "echo why it failed >&2; exit 1", 10), SWI_EHANDLER);
	assert_logged(f, SWI_LOG_INFO, "why it failed");
}

static void environment_is_passed_and_extended(void **state)
{
	struct fixture *f = *state;
	setenv("SWI_TEST_INHERITED", "inherited", 1);
	setenv("SWI_TEST_REPLACED", "old", 1);
	const char *env[] = { "SWI_TEST_EXTRA=with blanks; $(x)", "SWI_TEST_REPLACED=new", NULL };
	const char *argv[] = { "/bin/sh", "-c",
			       "echo \"$SWI_TEST_INHERITED|$SWI_TEST_EXTRA|$SWI_TEST_REPLACED|"
			       "$SWUPDATE_INFO_FD|$SWUPDATE_WARN_FD\" >\"$0\"", f->file, NULL };
	assert_int_equal(run(f, argv, env, 10), SWI_OK);
	char line[256];
	assert_string_equal(file_line(f, line, sizeof(line)),
			    "inherited|with blanks; $(x)|new|3|4");
	unsetenv("SWI_TEST_INHERITED");
	unsetenv("SWI_TEST_REPLACED");
}

/* Arguments reach the program as they are: no shell splits or expands
 * them. printf is found in PATH. */
static void arguments_are_not_interpreted(void **state)
{
	struct fixture *f = *state;
	char touched[200], command[240];
	snprintf(touched, sizeof(touched), "%s/touched", f->dir->dir);
	snprintf(command, sizeof(command), "; touch %s", touched);
	char substitution[240];
	snprintf(substitution, sizeof(substitution), "$(touch %s)", touched);
	const char *argv[] = { "printf", "[%s]\\n", command, substitution, "*", NULL };
	assert_int_equal(run(f, argv, NULL, 10), SWI_OK);
	char line[300];
	snprintf(line, sizeof(line), "[%s]", command);
	assert_logged(f, SWI_LOG_INFO, line);
	snprintf(line, sizeof(line), "[%s]", substitution);
	assert_logged(f, SWI_LOG_INFO, line);
	assert_logged(f, SWI_LOG_INFO, "[*]");
	assert_int_equal(access(touched, F_OK), -1);
}

static void missing_program_cannot_run(void **state)
{
	struct fixture *f = *state;
	const char *path[] = { "/nonexistent/program", NULL };
	assert_int_equal(run(f, path, NULL, 10), SWI_EHANDLER);
	assert_error(f, WHAT ": cannot run: /nonexistent/program: No such file or directory");
	const char *name[] = { "swi-no-such-program", NULL };
	assert_int_equal(run(f, name, NULL, 10), SWI_EHANDLER);
	assert_error(f, WHAT ": cannot run: swi-no-such-program: No such file or directory "
		     "(searched in PATH)");
}

static void file_without_execute_permission_cannot_run(void **state)
{
	struct fixture *f = *state;
	FILE *fp = fopen(f->file, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\nexit 0\n", fp);
	fclose(fp);
	assert_int_equal(chmod(f->file, 0600), 0);
	const char *argv[] = { f->file, NULL };
	/* root too: execve() wants at least one execute bit */
	assert_int_equal(run(f, argv, NULL, 10), SWI_EHANDLER);
	assert_non_null(strstr(swi_errmsg(f->dir->ctx), "cannot run: "));
	assert_non_null(strstr(swi_errmsg(f->dir->ctx), "Permission denied"));
}

/* Standard input is /dev/null; descriptors the installer has open (even
 * without close-on-exec) do not reach the program. */
static void descriptors_are_not_inherited(void **state)
{
	struct fixture *f = *state;
	/* no close-on-exec, on purpose; above 3 and 4, which the program gets */
	int null = open("/dev/null", O_RDONLY);
	assert_true(null >= 0);
	int leaked = fcntl(null, F_DUPFD, 10);
	close(null);
	assert_true(leaked >= 10);
	char script[256];
	snprintf(script, sizeof(script),
		 "[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ] && [ ! -e /proc/$$/fd/%d ]", leaked);
	int rc = run_sh(f, script, 10);
	close(leaked);
	assert_int_equal(rc, SWI_OK);
}

/* An installer started without standard input: its descriptor 0 is then
 * one of those made for the program, and must still land right. */
static void runs_from_an_installer_without_stdin(void **state)
{
	struct fixture *f = *state;
	int saved = dup(STDIN_FILENO);
	assert_true(saved >= 0);
	close(STDIN_FILENO);
	int rc = run_sh(f, "[ \"$(readlink /proc/$$/fd/0)\" = /dev/null ] && echo fine", 10);
	dup2(saved, STDIN_FILENO);
	close(saved);
	assert_int_equal(rc, SWI_OK);
	assert_logged(f, SWI_LOG_INFO, "fine");
}

/* An application that ignores SIGCHLD has its children reaped by the
 * kernel: the status is lost, which is a failure, and nothing hangs. */
static void lost_exit_status_is_a_failure(void **state)
{
	struct fixture *f = *state;
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old;
	sigaction(SIGCHLD, &ignore, &old);
	int rc = run_sh(f, "exit 0", 10);
	sigaction(SIGCHLD, &old, NULL);
	assert_int_equal(rc, SWI_EHANDLER);
	assert_error(f, WHAT ": its exit status is lost (the application reaped it, or ignores "
		     "SIGCHLD)");
}

static void split_command_at_blanks(void **state)
{
	struct fixture *f = *state;
	char **argv;
	assert_int_equal(swi_split_command(f->dir->ctx, "  /usr/bin/prog  a\tb;c  $(d) 'e f'  ",
					   &argv), SWI_OK);
	const char *expected[] = { "/usr/bin/prog", "a", "b;c", "$(d)", "'e", "f'" };
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		assert_string_equal(argv[i], expected[i]);
	assert_null(argv[6]);
	free(argv);
	assert_int_equal(swi_split_command(f->dir->ctx, "one", &argv), SWI_OK);
	assert_string_equal(argv[0], "one");
	assert_null(argv[1]);
	free(argv);
}

static void split_command_without_words_is_refused(void **state)
{
	struct fixture *f = *state;
	char **argv = NULL;
	assert_int_equal(swi_split_command(f->dir->ctx, " \t ", &argv), SWI_EINVAL);
	assert_null(argv);
	assert_int_equal(swi_split_command(f->dir->ctx, "", &argv), SWI_EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(exit_zero_is_success),
		T(exit_status_is_reported),
		T(death_by_signal_is_reported),
		T(signals_are_not_blocked_in_the_program),
		T(timeout_kills_the_process_group),
		T(timeout_kills_what_ignores_sigterm),
		T(cancel_kills_the_program),
		T(background_process_does_not_hold_up_the_run),
		T(output_lines_reach_the_log),
		T(output_of_a_failing_program_is_logged),
		T(environment_is_passed_and_extended),
		T(arguments_are_not_interpreted),
		T(missing_program_cannot_run),
		T(file_without_execute_permission_cannot_run),
		T(descriptors_are_not_inherited),
		T(runs_from_an_installer_without_stdin),
		T(lost_exit_status_is_a_failure),
		T(split_command_at_blanks),
		T(split_command_without_words_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
