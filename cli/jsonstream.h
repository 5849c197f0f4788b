/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `swinstall --json` for an install, a check and a dry run: one JSON
 * object per line on standard output (progress, log, and the result). */
#ifndef SWINSTALL_CLI_JSONSTREAM_H
#define SWINSTALL_CLI_JSONSTREAM_H

#include <stdbool.h>
#include <stdio.h>
#include <swinstall.h>

void cli_json_log(FILE *out, int level, const char *message);
/* "verifying", "installing", "committing": enum swi_progress_phase in words. */
const char *cli_phase_name(int phase);
void cli_json_progress(FILE *out, const struct swi_progress *p);

/* The last line of the stream. class is one word for a program
 * ("installed", "untrusted", ...); error NULL when none; result NULL
 * when no install ran (a usage or configuration error). */
void cli_json_result(FILE *out, int exit_code, const char *class, const char *error,
		     const struct swi_result *result);

#endif
