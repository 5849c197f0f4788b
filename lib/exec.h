/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Running a program (a script of the image, the pre- and post-update
 * commands): fork and exec, never a shell in between; its standard output
 * and error read line by line into the log; killed (its whole process
 * group) once the timeout passed. Private.
 */
#ifndef SWI_EXEC_H
#define SWI_EXEC_H

#include "context.h"

/*
 * Runs argv[0] (a path; not searched in PATH unless it has no '/') with
 * argv, the installer's environment plus env (NULL-terminated "NAME=VALUE",
 * or NULL; they win over the installer's), standard input from /dev/null,
 * in a process group of its own, for at most timeout seconds (0 or less:
 * no limit). Standard output and error are logged as information, line by
 * line, prefixed with what; as in SWUpdate, descriptor 3
 * ($SWUPDATE_INFO_FD=3) is logged as information too and descriptor 4
 * ($SWUPDATE_WARN_FD=4) as warnings. No other descriptor is inherited.
 * what names it in messages ("shellscript setup.sh (preinst)"). SWI_OK when
 * it exited with status 0; else SWI_EHANDLER: "what: exited with status N",
 * "what: killed by signal N (NAME)", "what: did not finish within N s;
 * killed" (SIGTERM to its process group, SIGKILL 2 s later), or "what:
 * cannot run: PROGRAM: reason". A cancel (swi_cancel()) kills it too
 * (SWI_ECANCELED). Safe while the library's other threads run: the child
 * calls only async-signal-safe functions before execve().
 */
int swi_run_program(swi_ctx_t *ctx, const char *what, const char *const argv[],
		    const char *const env[], long timeout);

/*
 * Splits a command line (-P / -p, preupdatecmd / postupdatecmd) into words
 * at blanks, with no shell: no quoting, globbing or variables. *argv is one
 * allocation (words and array) to free(); SWI_EINVAL when it has no word.
 */
int swi_split_command(swi_ctx_t *ctx, const char *command, char ***argv);

#endif
