/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Progress bar and log lines of the swinstall program. */
#ifndef SWINSTALL_CLI_PROGRESS_H
#define SWINSTALL_CLI_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>
#include <swinstall.h>

struct cli_output {
	FILE *out;          /* stderr */
	int max_level;      /* highest swi_log_level shown */
	bool bar;           /* draw a progress bar (a terminal, not --quiet) */
	bool json;          /* --json: JSON lines on stdout instead of text */
	bool bar_open;      /* a bar line is on screen, without its newline */
	int bar_width;      /* the characters it holds */
	unsigned bar_artifact; /* the index of the artifact it shows, 0: a phase */
	double started;     /* when that member started, seconds */
	double last_draw;
};

void cli_output_init(struct cli_output *o, FILE *out, int max_level, bool bar);
/* Switches o to the JSON stream of --json (cli/jsonstream.h), on a copy of
 * stdout; descriptor 1 then goes to stderr. */
void cli_output_json(struct cli_output *o);
void cli_log(void *user, int level, const char *message);
void cli_progress(void *user, const struct swi_progress *p);
/* Ends a bar line left open (before an error message, at exit). */
void cli_output_finish(struct cli_output *o);

#endif
