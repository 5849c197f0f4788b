/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The life cycle after an install: status, mark-good, rollback. Each change
 * is one bootloader-environment write, so a power cut leaves either the old
 * or the new state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bootenv.h"
#include "context.h"
#include "slots.h"
#include "versions.h"

/* SWUpdate's update states, by ustate value: kept as they are for devices set up for SWUpdate. */
static const char *ustate_meaning(const char *value)
{
	static const char *const meanings[] = {
		"ok: no update pending", "installed: reboot pending",
		"testing: the new slot booted and waits for mark-good", "failed",
		"not available", "error", "waiting", "install in progress",
	};
	if (!value)
		return "ok: no update pending (unset)";
	char *end;
	long v = strtol(value, &end, 10);
	if (*end || end == value || v < 0 || v >= (long)(sizeof(meanings) / sizeof(*meanings)))
		return "unknown";
	return meanings[v];
}

static const char *recovery_meaning(const char *value)
{
	if (!value)
		return "none: the last install finished or none ran";
	if (strcmp(value, "in_progress") == 0)
		return "an install started and did not finish";
	if (strcmp(value, "failed") == 0)
		return "the last install failed; the boot selection was kept";
	return "unknown";
}

/* What the environment and the running system say about the slots. */
struct view {
	struct swi_bootenv *env;
	const struct swi_slot *running;
	const char *found_by;
	const struct swi_slot *next;
};

/* The current values of every variable any slot's bootenv names. */
static int read_slot_variables(struct swi_bootenv *env, const struct swi_slots *slots,
			       struct swi_attrs *out)
{
	for (size_t i = 0; i < slots->count; i++) {
		const struct swi_attrs *vars = &slots->items[i].bootenv;
		for (size_t j = 0; j < vars->count; j++) {
			char *value = NULL;
			int rc = swi_bootenv_get(env, vars->items[j].name, &value);
			if (rc == SWI_OK && value)
				rc = swi_attrs_set(out, vars->items[j].name, value) ? SWI_ENOMEM : SWI_OK;
			free(value);
			if (rc)
				return rc;
		}
	}
	return SWI_OK;
}

/* Opens the environment and finds the slots. A running slot that cannot be
 * found is left NULL (the message stays in ctx for callers that need it). */
static int look(swi_ctx_t *ctx, struct view *v)
{
	memset(v, 0, sizeof(*v));
	int rc = swi_bootenv_open(ctx, &v->env);
	if (rc || ctx->opt.slots.count == 0)
		return rc;
	struct swi_attrs current = { 0 };
	rc = read_slot_variables(v->env, &ctx->opt.slots, &current);
	if (rc == SWI_OK)
		v->next = swi_slots_booting_next(&ctx->opt.slots, &current);
	swi_attrs_free(&current);
	if (rc == SWI_OK &&
	    swi_slots_running(ctx, &ctx->opt.slots, swi_opt_cmdline_file(ctx),
			      swi_opt_mountinfo_file(ctx), &v->running, &v->found_by))
		v->running = NULL;
	return rc;
}

static void unlook(struct view *v)
{
	swi_bootenv_close(v->env);
}

/* ---- status -------------------------------------------------------------- */

static const char *keep(swi_ctx_t *ctx, const char *key, const char *value)
{
	if (!value || swi_attrs_set(&ctx->state_text, key, value))
		return NULL;
	return swi_attrs_get(&ctx->state_text, key);
}

static const char *keep_variable(swi_ctx_t *ctx, struct swi_bootenv *env, const char *name)
{
	char *value = NULL;
	swi_bootenv_get(env, name, &value);
	const char *kept = keep(ctx, name, value);
	free(value);
	return kept;
}

static int keep_versions(swi_ctx_t *ctx, struct swi_state *state)
{
	struct swi_attrs versions = { 0 };
	int rc = swi_sw_versions_load(ctx, swi_opt_sw_versions_file(ctx), &versions);
	const char **list = calloc(versions.count + 1, sizeof(*list));
	if (!list)
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	for (size_t i = 0; rc == SWI_OK && i < versions.count; i++) {
		char key[32], line[512];
		snprintf(key, sizeof(key), "sw-version %zu", i);
		snprintf(line, sizeof(line), "%s %s", versions.items[i].name,
			 versions.items[i].value);
		if (!(list[i] = keep(ctx, key, line)))
			rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	swi_attrs_free(&versions);
	free(ctx->state_versions);
	ctx->state_versions = list;
	state->versions = list;
	return rc;
}

int swi_get_state(swi_ctx_t *ctx, struct swi_state *state)
{
	if (!ctx || !state)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "no state to fill") : SWI_EINVAL;
	memset(state, 0, sizeof(*state));
	swi_attrs_free(&ctx->state_text);
	struct view v;
	int rc = look(ctx, &v);
	if (rc == SWI_OK) {
		const struct swi_slot *standby =
			v.running ? swi_slots_standby(&ctx->opt.slots, v.running) : NULL;
		state->running = v.running ? keep(ctx, "running", v.running->name) : NULL;
		state->running_found_by = keep(ctx, "found by", v.found_by);
		state->standby = standby ? keep(ctx, "standby", standby->name) : NULL;
		state->next = v.next ? keep(ctx, "next", v.next->name) : NULL;
		state->ustate = keep_variable(ctx, v.env, "ustate");
		state->ustate_meaning = ustate_meaning(state->ustate);
		state->recovery_status = keep_variable(ctx, v.env, "recovery_status");
		state->recovery_meaning = recovery_meaning(state->recovery_status);
		rc = keep_versions(ctx, state);
	}
	unlook(&v);
	return rc;
}

/* ---- mark-good and rollback --------------------------------------------- */

/* The configured variables, or SWUpdate-compatible defaults: U-Boot's boot
 * counting looks at upgrade_available and bootcount. */
static int add_life_cycle_vars(const struct swi_attrs *configured, const char *ustate,
			       struct swi_attrs *out)
{
	if (configured->count == 0)
		return swi_attrs_set(out, "ustate", ustate) ||
		       swi_attrs_set(out, "upgrade_available", "0") ||
		       swi_attrs_set(out, "bootcount", "0") ? SWI_ENOMEM : SWI_OK;
	for (size_t i = 0; i < configured->count; i++)
		if (swi_attrs_set(out, configured->items[i].name, configured->items[i].value))
			return SWI_ENOMEM;
	return SWI_OK;
}

static int apply_vars(swi_ctx_t *ctx, struct view *v, const struct swi_attrs *base,
		      const struct swi_attrs *configured, const char *ustate)
{
	struct swi_attrs vars = { 0 };
	int rc = SWI_OK;
	for (size_t i = 0; base && i < base->count && rc == SWI_OK; i++)
		rc = swi_attrs_set(&vars, base->items[i].name, base->items[i].value)
			     ? SWI_ENOMEM : SWI_OK;
	if (rc == SWI_OK)
		rc = add_life_cycle_vars(configured, ustate, &vars);
	if (rc == SWI_ENOMEM)
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	if (rc == SWI_OK)
		rc = swi_bootenv_apply(v->env, &vars);
	swi_attrs_free(&vars);
	return rc;
}

static bool update_waiting(const char *ustate)
{
	return ustate && (strcmp(ustate, "1") == 0 || strcmp(ustate, "2") == 0);
}

/* Confirming is only right on the slot the bootloader chose: with slots
 * configured, the running one must be known and be the one booting next. */
static int check_booted_into_next(swi_ctx_t *ctx, const struct view *v)
{
	if (ctx->opt.slots.count == 0)
		return SWI_OK;
	if (!v->running)
		return swi_fail(ctx, SWI_ECOMPAT,
				"mark-good: the running slot is unknown, so it cannot be confirmed");
	if (!v->next)
		return swi_fail(ctx, SWI_ECOMPAT,
				"mark-good: the bootloader environment selects none of the slots");
	if (v->running != v->next)
		return swi_fail(ctx, SWI_ECOMPAT,
				"mark-good: slot %s is running but slot %s boots next; "
				"reboot into it before confirming it", v->running->name,
				v->next->name);
	return SWI_OK;
}

static int mark_good(swi_ctx_t *ctx, struct view *v)
{
	char *ustate = NULL;
	int rc = swi_bootenv_get(v->env, "ustate", &ustate);
	if (rc == SWI_OK && !update_waiting(ustate))
		swi_log(ctx, SWI_LOG_INFO, "mark-good: nothing to confirm (ustate is %s)",
			ustate ? ustate : "unset");
	else if (rc == SWI_OK && (rc = check_booted_into_next(ctx, v)) == SWI_OK &&
		 (rc = apply_vars(ctx, v, NULL, &ctx->opt.mark_good_env, "0")) == SWI_OK)
		swi_log(ctx, SWI_LOG_INFO, "mark-good: slot %s confirmed",
			v->running ? v->running->name : "(no slots configured)");
	free(ustate);
	return rc;
}

int swi_mark_good(swi_ctx_t *ctx)
{
	if (!ctx)
		return SWI_EINVAL;
	struct view v;
	int rc = look(ctx, &v);
	if (rc == SWI_OK)
		rc = mark_good(ctx, &v);
	unlook(&v);
	return rc;
}

/* The slot to go back to: the other one than the slot booting next (or,
 * when the environment names none, than the running one). */
static const struct swi_slot *rollback_target(swi_ctx_t *ctx, const struct view *v)
{
	const struct swi_slot *from = v->next ? v->next : v->running;
	return from ? swi_slots_standby(&ctx->opt.slots, from) : NULL;
}

int swi_rollback(swi_ctx_t *ctx)
{
	if (!ctx)
		return SWI_EINVAL;
	if (ctx->opt.slots.count < 2)
		return swi_fail(ctx, SWI_ECONFIG,
				"rollback: needs at least two slots in the configuration");
	struct view v;
	int rc = look(ctx, &v);
	const struct swi_slot *target = rc == SWI_OK ? rollback_target(ctx, &v) : NULL;
	if (rc == SWI_OK && !target)
		rc = swi_fail(ctx, SWI_ECOMPAT,
			      "rollback: neither the running slot nor the slot booting next is known");
	if (rc == SWI_OK)
		rc = apply_vars(ctx, &v, &target->bootenv, &ctx->opt.rollback_env, "3");
	if (rc == SWI_OK)
		swi_log(ctx, SWI_LOG_INFO, "rollback: slot %s boots next", target->name);
	unlook(&v);
	return rc;
}
