/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The plan of an install, as data (see plan.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "aeskey.h"
#include "plan.h"

static unsigned handler_kind(enum swi_entry_kind kind)
{
	switch (kind) {
	case SWI_ENTRY_IMAGE: return SWI_HANDLER_IMAGE;
	case SWI_ENTRY_FILE: return SWI_HANDLER_FILE;
	case SWI_ENTRY_SCRIPT: return SWI_HANDLER_SCRIPT;
	case SWI_ENTRY_PARTITION: return SWI_HANDLER_PARTITION;
	}
	return 0;
}

static const char *entry_label(const struct swi_entry *e)
{
	return e->filename ? e->filename : e->type;
}

/* SWUpdate handlers this version does not offer, named in the refusal so
 * that a device maker knows what the image needs. Each is refused before
 * anything is written, like any type without a handler. */
static const struct { const char *name, *what; } not_offered[] = {
	{ "diskpart", "partition table (GPT/MBR) tool" },
	{ "diskformat", "filesystem formatting tool" },
	{ "gptswap", "GPT partition swap tool" },
	{ "btrfs", "btrfs subvolume tool" },
	{ "ubivol", "UBI volume handler" },
	{ "ubipartition", "UBI partitioning tool" },
	{ "ubiswap", "UBI volume swap tool" },
	{ "flash", "MTD flash handler" },
	{ "rawcopy", "device-to-device copy handler" },
	{ "rdiff", "librsync delta handler" },
	{ "delta", "zchunk delta handler" },
	{ "remote", "remote handler" },
	{ "swuforward", "SWU forwarder" },
};

static int refuse_unknown_type(swi_ctx_t *ctx, const char *place, const char *type)
{
	for (size_t i = 0; i < sizeof(not_offered) / sizeof(not_offered[0]); i++)
		if (strcmp(not_offered[i].name, type) == 0)
			return swi_fail(ctx, SWI_EUNSUPPORTED, "%s: no handler \"%s\" in this build "
					"(SWUpdate's %s, which swinstall does not offer yet)", place,
					type, not_offered[i].what);
	return swi_fail(ctx, SWI_EUNSUPPORTED, "%s: no handler \"%s\" in this build", place, type);
}

/* The handler of e, which must take entries of e's collection. */
static int pick_handler(swi_ctx_t *ctx, const struct swi_entry *e, const struct swi_handler **out)
{
	char place[SWI_PLACE_MAX];
	swi_entry_place(e, place, sizeof(place));
	const struct swi_handler *h = swi_handler_find(ctx, e->type);
	if (!h)
		return refuse_unknown_type(ctx, place, e->type);
	if (!(h->kinds & handler_kind(e->kind))) {
		char where[64];
		swi_handler_kinds_text(h->kinds, " or ", where, sizeof(where));
		return swi_fail(ctx, SWI_EUNSUPPORTED,
				"%s: type '%s' does not belong here: its entries go under %s",
				place, h->name, where);
	}
	*out = h;
	return SWI_OK;
}

static bool takes_no_data(const struct swi_handler *h)
{
	return SWI_HANDLER_GET(h, flags, 0u) & SWI_HANDLER_NO_DATA;
}

static int check_entry_features(swi_ctx_t *ctx, const struct swi_entry *e,
				const struct swi_handler *h, bool signed_image)
{
	char place[SWI_PLACE_MAX];
	swi_entry_place(e, place, sizeof(place));
	const char *ivt = swi_attrs_get(&e->attrs, "ivt");
	if (e->encrypted && ivt && swi_aes_check_ivt(ctx, entry_label(e), ivt))
		return ctx->last_status;
	if (takes_no_data(h))
		return e->filename ? swi_fail(ctx, SWI_EFORMAT,
					      "%s: handler '%s' takes no data, but the entry "
					      "names a member", place, h->name)
				   : SWI_OK;
	if (!e->filename)
		return swi_fail(ctx, SWI_EUNSUPPORTED, "%s: handler '%s' needs the entry's data, and "
				"the entry names no member (filename)", place, h->name);
	if (signed_image && !e->sha256)
		return swi_fail(ctx, SWI_ESIG,
				"%s: no sha256 in a signed image, so its bytes cannot be verified",
				entry_label(e));
	return SWI_OK;
}

static int add_job(struct swi_plan *p, const struct swi_entry *e, const struct swi_handler *h,
		   const struct swi_target *proto)
{
	struct swi_job *jobs = realloc(p->jobs, (p->njobs + 1) * sizeof(*jobs));
	if (!jobs)
		return swi_fail(p->ctx, SWI_ENOMEM, "out of memory");
	p->jobs = jobs;
	struct swi_job *j = &p->jobs[p->njobs++];
	*j = (struct swi_job){ .target = *proto, .phases = SWI_HANDLER_GET(h, phases, 0u) };
	j->target.entry = e;
	j->target.handler = h;
	j->kind = takes_no_data(h) ? SWI_JOB_DATALESS : SWI_JOB_STREAMED;
	return SWI_OK;
}

/* The same member feeding a script of the "before" phase and an artifact
 * cannot keep the order: the artifact would have to wait for a script
 * that arrives with it. */
static int check_member_roles(struct swi_plan *p)
{
	for (size_t i = 0; i < p->njobs; i++) {
		const struct swi_job *s = &p->jobs[i];
		if (!(s->phases & SWI_PHASE_BEFORE))
			continue;
		for (size_t k = 0; k < p->njobs; k++) {
			const struct swi_job *a = &p->jobs[k];
			if (a->phases == 0 && a->kind != SWI_JOB_DATALESS &&
			    strcmp(a->target.entry->filename, s->target.entry->filename) == 0)
				return swi_fail(p->ctx, SWI_EUNSUPPORTED,
						"%s: the member is both a script that runs before the "
						"install and an artifact; the order cannot be kept",
						s->target.entry->filename);
		}
	}
	return SWI_OK;
}

int swi_plan_build(swi_ctx_t *ctx, const struct swi_manifest *m, const struct swi_target *proto,
		   bool signed_image, struct swi_plan *p)
{
	*p = (struct swi_plan){ .ctx = ctx };
	int rc = SWI_OK;
	for (size_t i = 0; rc == SWI_OK && i < m->nentries; i++) {
		const struct swi_entry *e = &m->entries[i];
		const struct swi_handler *h = NULL;
		rc = pick_handler(ctx, e, &h);
		if (rc == SWI_OK)
			rc = check_entry_features(ctx, e, h, signed_image);
		if (rc == SWI_OK)
			rc = add_job(p, e, h, proto);
		if (rc == SWI_OK)
			rc = swi_target_bind_attrs(&p->jobs[p->njobs - 1].target);
		if (rc == SWI_OK)
			rc = swi_target_alloc_state(&p->jobs[p->njobs - 1].target);
	}
	return rc == SWI_OK ? check_member_roles(p) : rc;
}

static void free_job(struct swi_job *j)
{
	swi_target_unbind_attrs(&j->target);
	swi_target_free_state(&j->target);
	free(j->target.path);
	j->target.path = NULL;
	free(j->target.mount_dir);
	j->target.mount_dir = NULL;
}

void swi_plan_drop(struct swi_plan *p, size_t i)
{
	free_job(&p->jobs[i]);
	memmove(&p->jobs[i], &p->jobs[i + 1], (p->njobs - i - 1) * sizeof(p->jobs[0]));
	p->njobs--;
}

void swi_plan_free(struct swi_plan *p)
{
	for (size_t i = 0; i < p->njobs; i++)
		free_job(&p->jobs[i]);
	free(p->jobs);
	*p = (struct swi_plan){ .ctx = p->ctx };
}

size_t swi_plan_count_phase(const struct swi_plan *p, unsigned phases)
{
	size_t n = 0;
	for (size_t i = 0; i < p->njobs; i++)
		n += (p->jobs[i].phases & phases) != 0;
	return n;
}

static bool feeds(const struct swi_job *j, const char *name)
{
	return j->kind != SWI_JOB_DATALESS && strcmp(j->target.entry->filename, name) == 0;
}

enum swi_arrival swi_plan_arrival(const struct swi_plan *p, const char *name)
{
	bool waiting = false, done = false, before_script = false;
	for (size_t i = 0; i < p->njobs; i++) {
		const struct swi_job *j = &p->jobs[i];
		if (!feeds(j, name))
			continue;
		if (j->done) {
			done = true;
			continue;
		}
		waiting = true;
		before_script |= (j->phases & SWI_PHASE_BEFORE) != 0;
	}
	if (!waiting)
		return done ? SWI_ARRIVAL_AGAIN : SWI_ARRIVAL_UNUSED;
	if (before_script || p->before_ran || swi_plan_before_ready(p))
		return SWI_ARRIVAL_STREAM;
	return SWI_ARRIVAL_SPOOL;
}

const struct swi_job *swi_plan_waiting_script(const struct swi_plan *p)
{
	for (size_t i = 0; i < p->njobs; i++)
		if ((p->jobs[i].phases & SWI_PHASE_BEFORE) && !p->jobs[i].done)
			return &p->jobs[i];
	return NULL;
}

bool swi_plan_before_ready(const struct swi_plan *p)
{
	return swi_plan_waiting_script(p) == NULL;
}

const char *swi_job_kind_name(enum swi_job_kind kind)
{
	switch (kind) {
	case SWI_JOB_STREAMED: return "streamed";
	case SWI_JOB_SPOOLED: return "spooled";
	case SWI_JOB_DATALESS: return "data-less";
	}
	return "?";
}

static void describe_phases(unsigned phases, char *buf, size_t size)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ SWI_PHASE_BEFORE, "before" }, { SWI_PHASE_AFTER, "after" },
		{ SWI_PHASE_FAILURE, "failure" },
	};
	size_t used = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && used < size; i++)
		if (phases & names[i].bit)
			used += (size_t)snprintf(buf + used, size - used, "%s%s", used ? "," : " ",
						 names[i].name);
}

int swi_plan_describe(const struct swi_plan *p, char **text)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	if (!f)
		return swi_fail(p->ctx, SWI_ENOMEM, "out of memory");
	for (size_t i = 0; i < p->njobs; i++) {
		const struct swi_job *j = &p->jobs[i];
		char place[SWI_PLACE_MAX], phases[40];
		describe_phases(j->phases, phases, sizeof(phases));
		fprintf(f, "%s %s %s%s\n", swi_entry_place(j->target.entry, place, sizeof(place)),
			j->target.handler->name, swi_job_kind_name(j->kind), phases);
	}
	if (fclose(f) != 0) {
		free(buf);
		return swi_fail(p->ctx, SWI_ENOMEM, "out of memory");
	}
	*text = buf;
	return SWI_OK;
}
