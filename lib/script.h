/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the script handlers (shellscript, preinstall, postinstall) share:
 * the member written into the install's private directory, mode 0700, and
 * run from there as SWUpdate runs it. Private.
 */
#ifndef SWI_SCRIPT_H
#define SWI_SCRIPT_H

#include <limits.h>
#include <stdbool.h>
#include "handler.h"

/* A script handler's per-entry state (its state_size). */
struct swi_script {
	int fd;                 /* the file being written; -1 once closed */
	char path[PATH_MAX];    /* where it is, "" before open */
};

/* open, write, close and abort of every script handler. */
int swi_script_open(struct swi_target *t);
int swi_script_write(struct swi_target *t, const void *buf, size_t len);
int swi_script_close(struct swi_target *t);
void swi_script_abort(struct swi_target *t);

/*
 * Runs the script in phase, as SWUpdate does, without a shell:
 * "SCRIPT preinst|postinst|postfailure DATA..." when with_phase (the
 * shellscript handler), "SCRIPT DATA..." otherwise; DATA are the words of
 * the entry's "data" attribute, split at blanks. Its environment adds
 * TMPDIR, the configured tmpdir. A phase the handler does not declare is
 * refused (SWI_EINVAL); a script that fails is SWI_EHANDLER, "HANDLER
 * MEMBER (PHASE): exited with status N".
 */
int swi_script_run(struct swi_target *t, enum swi_phase phase, bool with_phase);

/* "preinst", "postinst", "postfailure": SWUpdate's name of a phase. */
const char *swi_script_phase_name(enum swi_phase phase);
/* Whether t may run in phase: the handler names it and the script was
 * written (closed); *phase_text is the phase's name. SWI_EINVAL otherwise. */
int swi_script_ready(struct swi_target *t, enum swi_phase phase, const char **phase_text);

/* The attributes of every script handler: "data". */
extern const struct swi_handler_attr swi_script_attributes[];

/* A script handler's struct: name, the SWI_PHASE_* bits it runs in, and
 * its run (which calls swi_script_run()). */
#define SWI_SCRIPT_HANDLER(handler_name, handler_phases, run_fn) { \
	.size = SWI_HANDLER_SIZE, \
	.name = handler_name, \
	.kinds = SWI_HANDLER_SCRIPT, \
	.attributes = swi_script_attributes, \
	.open = swi_script_open, \
	.write = swi_script_write, \
	.close = swi_script_close, \
	.abort = swi_script_abort, \
	.state_size = sizeof(struct swi_script), \
	.phases = handler_phases, \
	.run = run_fn, \
}

#endif
