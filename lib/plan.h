/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The plan of an install, as data: one job per entry of the manifest, with
 * its handler and typed attributes, its kind and the phases it runs in.
 * lib/install.c runs it; tests look at it. Private.
 *
 * The run goes in this order:
 *   1. data-less jobs (partitioning): open, close;
 *   2. the "before" phase: scripts' run(SWI_PHASE_BEFORE), in the order of
 *      sw-description; it waits for every such script's member;
 *   3. artifacts: streamed as their members pass, or, for a member that
 *      came before a "before" script, spooled to the install's private
 *      directory and written once that phase ran;
 *   4. the "after" phase (SWI_PHASE_AFTER), once every artifact is
 *      written, verified and put in place;
 *   5. the commit. A failure anywhere runs the "failure" phase of the
 *      scripts that arrived.
 */
#ifndef SWI_PLAN_H
#define SWI_PLAN_H

#include <stdbool.h>
#include "handler.h"
#include "manifest.h"

enum swi_job_kind {
	SWI_JOB_STREAMED,  /* written while its member streams past */
	SWI_JOB_SPOOLED,   /* its member came before a "before" script: held in
			    * the private directory, written after that phase */
	SWI_JOB_DATALESS,  /* no member (SWI_HANDLER_NO_DATA) */
};

struct swi_job {
	struct swi_target target;
	enum swi_job_kind kind;
	unsigned phases;          /* a script's SWI_PHASE_* bits; 0 for artifacts */
	/* While the plan runs: */
	struct swi_stream *stream;
	bool opened;              /* abort is owed when it fails */
	bool done;                /* its data arrived, verified, and was closed */
};

struct swi_plan {
	swi_ctx_t *ctx;
	struct swi_job *jobs;
	size_t njobs;
	bool before_ran;          /* the "before" phase is over */
};

/* What to do with a member that arrives now (swi_plan_arrival()). */
enum swi_arrival {
	SWI_ARRIVAL_UNUSED,   /* no job of this selection takes it: skipped */
	SWI_ARRIVAL_STREAM,   /* its jobs take it as it passes */
	SWI_ARRIVAL_SPOOL,    /* its jobs must wait for the "before" phase */
	SWI_ARRIVAL_AGAIN,    /* it was installed before: a duplicate member */
};

/*
 * The first pass, over every entry of m: its handler (which must take the
 * entry's collection), the features it uses, the attributes its handler
 * declares (checked and converted once), its kind and phases. Nothing on
 * this machine is looked at. proto holds what every target shares (the
 * context, where bootloader variables and staged files go, the scratch
 * directory). On failure the plan holds the jobs made so far (free it).
 */
int swi_plan_build(swi_ctx_t *ctx, const struct swi_manifest *m, const struct swi_target *proto,
		   bool signed_image, struct swi_plan *p);
/* Drops job i (an entry installed already); the order of the rest stays. */
void swi_plan_drop(struct swi_plan *p, size_t i);
void swi_plan_free(struct swi_plan *p);

/* The jobs with any of the SWI_PHASE_* bits in phases. */
size_t swi_plan_count_phase(const struct swi_plan *p, unsigned phases);
/* What to do with the member named name, arriving now. */
enum swi_arrival swi_plan_arrival(const struct swi_plan *p, const char *name);
/* Every script with a "before" part has arrived: the phase may run. */
bool swi_plan_before_ready(const struct swi_plan *p);
/* The first "before" script that has not arrived (for messages), or NULL. */
const struct swi_job *swi_plan_waiting_script(const struct swi_plan *p);

const char *swi_job_kind_name(enum swi_job_kind kind);
/* One line per job, for the log and for tests:
 * "images[0] (rootfs.img) raw streamed", "scripts[0] (pre.sh) shellscript
 * streamed before,after,failure". The caller frees *text. */
int swi_plan_describe(const struct swi_plan *p, char **text);

#endif
