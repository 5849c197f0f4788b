/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The life cycle after an install: status, mark-good, rollback. Each change
 * is one bootloader-environment write, so a power cut leaves either the old
 * or the new state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "apply.h"
#include "bootenv.h"
#include "context.h"
#include "lifecycle.h"
#include "lock.h"
#include "slots.h"
#include "staging.h"
#include "versions.h"

/* SWUpdate's update states, kept for compatibility: 0 ok, 1 installed,
 * 2 testing, 3 failed, 4 not available, 5 error, 6 waiting, 7 in progress. */
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

static int rollback_possible(swi_ctx_t *ctx, const struct view *v,
			     const struct swi_slot **target, const char **why);
static bool list_has(const char *list, const char *name);

/* The version the last install into slot recorded (slot NULL: the device
 * without slots); *value NULL when none did. */
static int recorded_version(swi_ctx_t *ctx, struct swi_bootenv *env, const char *slot,
			    char **value)
{
	char name[256];
	int rc = swi_version_var(ctx, slot, name, sizeof(name));
	return rc ? rc : swi_bootenv_get(env, name, value);
}

static int keep_slot(swi_ctx_t *ctx, const struct view *v, const struct swi_slot *slot,
		     const char *complete, const struct swi_staged *staged,
		     struct swi_slot_state *out)
{
	char *version = NULL, key[300];
	int rc = recorded_version(ctx, v->env, slot->name, &version);
	snprintf(key, sizeof(key), "version of slot %s", slot->name);
	*out = (struct swi_slot_state){
		.name = slot->name,
		.device = slot->device,
		.version = keep(ctx, key, version),
		.complete = list_has(complete, slot->name),
		.running = slot == v->running,
		.booting_next = slot == v->next,
		.staged = staged->present && strcmp(staged->slot, slot->name) == 0,
	};
	if (rc == SWI_OK && version && !out->version)
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	free(version);
	return rc;
}

static int keep_slots(swi_ctx_t *ctx, const struct view *v, struct swi_state *state)
{
	const struct swi_slots *slots = &ctx->opt.slots;
	struct swi_staged staged;
	char *complete = NULL;
	int rc = swi_staged_load(ctx, &staged);
	if (rc == SWI_OK)
		rc = swi_bootenv_get(v->env, SWI_COMPLETE_VAR, &complete);
	free(ctx->state_slots);
	ctx->state_slots = calloc(slots->count + 1, sizeof(*ctx->state_slots));
	if (rc == SWI_OK && !ctx->state_slots)
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	for (size_t i = 0; rc == SWI_OK && i < slots->count; i++)
		rc = keep_slot(ctx, v, &slots->items[i], complete, &staged, &ctx->state_slots[i]);
	if (rc == SWI_OK) {
		state->slots = ctx->state_slots;
		state->nslots = slots->count;
		state->staged = staged.present && *staged.slot ? keep(ctx, "staged", staged.slot)
							       : NULL;
	}
	free(complete);
	swi_staged_free(&staged);
	return rc;
}

static int keep_rollback(swi_ctx_t *ctx, const struct view *v, struct swi_state *state)
{
	if (ctx->opt.slots.count < 2) {
		state->rollback_meaning = "not possible: needs two slots in the configuration";
		return SWI_OK;
	}
	const struct swi_slot *target;
	const char *why;
	int rc = rollback_possible(ctx, v, &target, &why);
	if (rc != SWI_OK && rc != SWI_ESTATE)
		return rc;
	char text[512];
	snprintf(text, sizeof(text), "%s: %s", rc == SWI_OK ? "possible" : "not possible", why);
	state->rollback = rc == SWI_OK ? keep(ctx, "rollback", target->name) : NULL;
	state->rollback_meaning = keep(ctx, "rollback meaning", text);
	return SWI_OK;
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
		rc = keep_rollback(ctx, &v, state);
		if (rc == SWI_OK)
			rc = keep_versions(ctx, state);
		if (rc == SWI_OK)
			rc = keep_slots(ctx, &v, state);
	}
	unlook(&v);
	return rc;
}

/* ---- mark-good and rollback --------------------------------------------- */

/* Runs a change of the environment under the lock; a cancel (of the wait
 * for the lock) is used up by it. */
static int locked(swi_ctx_t *ctx, int (*change)(swi_ctx_t *ctx, struct view *v))
{
	int lock;
	int rc = swi_lock_take(ctx, &lock);
	if (rc == SWI_OK) {
		struct view v;
		rc = look(ctx, &v);
		if (rc == SWI_OK)
			rc = change(ctx, &v);
		unlook(&v);
		swi_lock_release(lock);
	}
	atomic_store(&ctx->cancel, 0);
	return rc;
}

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

int swi_life_settled_vars(const swi_ctx_t *ctx, struct swi_attrs *out)
{
	return add_life_cycle_vars(&ctx->opt.mark_good_env, "0", out);
}

/* Whether the space-separated list holds name. */
static bool list_has(const char *list, const char *name)
{
	size_t len = strlen(name);
	for (const char *p = list; p && *p; p += strcspn(p, " "), p += strspn(p, " "))
		if (strncmp(p, name, len) == 0 && (p[len] == ' ' || p[len] == '\0'))
			return true;
	return false;
}

int swi_life_complete_change(swi_ctx_t *ctx, struct swi_bootenv *env, const char *drop,
			     const char *add, struct swi_attrs *out)
{
	char *old = NULL;
	int rc = swi_bootenv_get(env, SWI_COMPLETE_VAR, &old);
	if (rc)
		return rc;
	size_t size = (old ? strlen(old) : 0) + (add ? strlen(add) : 0) + 2;
	char *list = calloc(1, size);
	if (!list) {
		free(old);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	for (char *save = NULL, *name = old ? strtok_r(old, " ", &save) : NULL; name;
	     name = strtok_r(NULL, " ", &save))
		if ((!drop || strcmp(name, drop)) && (!add || strcmp(name, add)) &&
		    swi_slots_find(&ctx->opt.slots, name))
			snprintf(list + strlen(list), size - strlen(list), "%s%s", *list ? " " : "", name);
	if (add)
		snprintf(list + strlen(list), size - strlen(list), "%s%s", *list ? " " : "", add);
	rc = swi_attrs_set(out, SWI_COMPLETE_VAR, list) ? swi_fail(ctx, SWI_ENOMEM, "out of memory")
							   : SWI_OK;
	free(list);
	free(old);
	return rc;
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
		return swi_fail(ctx, SWI_ESTATE,
				"mark-good: the running slot is unknown, so it cannot be confirmed");
	if (!v->next)
		return swi_fail(ctx, SWI_ESTATE,
				"mark-good: the bootloader environment selects none of the slots");
	if (v->running != v->next)
		return swi_fail(ctx, SWI_ESTATE,
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
	return locked(ctx, mark_good);
}

/* The slot to go back to: the other one than the slot booting next (or,
 * when the environment names none, than the running one). */
static const struct swi_slot *rollback_target(swi_ctx_t *ctx, const struct view *v)
{
	const struct swi_slot *from = v->next ? v->next : v->running;
	return from ? swi_slots_standby(&ctx->opt.slots, from) : NULL;
}

/*
 * Whether a rollback has something to go back to: an update that waits for
 * its reboot or for mark-good (the slot before it is the one to go back
 * to), or a target slot that holds a complete system. *why says which, or
 * why not. SWI_OK, SWI_ESTATE, or an error reading the environment.
 */
static int rollback_possible(swi_ctx_t *ctx, const struct view *v,
			     const struct swi_slot **target, const char **why)
{
	*target = rollback_target(ctx, v);
	if (!*target) {
		*why = "neither the running slot nor the slot booting next is known";
		return SWI_ESTATE;
	}
	char *ustate = NULL, *complete = NULL;
	int rc = swi_bootenv_get(v->env, "ustate", &ustate);
	if (rc == SWI_OK)
		rc = swi_bootenv_get(v->env, SWI_COMPLETE_VAR, &complete);
	if (rc == SWI_OK && update_waiting(ustate)) {
		*why = "an update is pending or not yet confirmed";
	} else if (rc == SWI_OK && list_has(complete, (*target)->name)) {
		*why = "the other slot holds a complete install";
	} else if (rc == SWI_OK) {
		*why = "no update is pending or unconfirmed, and the other slot holds no complete "
		       "install (never installed, or its last install did not finish)";
		rc = SWI_ESTATE;
	}
	free(ustate);
	free(complete);
	return rc;
}

static int rollback(swi_ctx_t *ctx, struct view *v)
{
	const struct swi_slot *target;
	const char *why;
	int rc = rollback_possible(ctx, v, &target, &why);
	if (rc == SWI_ESTATE && target && ctx->opt.force) {
		swi_log(ctx, SWI_LOG_WARN, "rollback forced: %s", why);
		rc = SWI_OK;
	}
	if (rc == SWI_ESTATE)
		return swi_fail(ctx, SWI_ESTATE, "rollback: nothing to roll back to: %s%s", why,
				target ? "; --force switches anyway" : "");
	/* A staged commit would switch away from the slot rolled back to. */
	if (rc == SWI_OK)
		rc = swi_staged_discard(ctx, "rollback");
	if (rc == SWI_OK)
		rc = apply_vars(ctx, v, &target->bootenv, &ctx->opt.rollback_env, "3");
	if (rc == SWI_OK)
		swi_log(ctx, SWI_LOG_INFO, "rollback: slot %s boots next", target->name);
	return rc;
}

int swi_rollback(swi_ctx_t *ctx)
{
	if (!ctx)
		return SWI_EINVAL;
	if (ctx->opt.slots.count < 2)
		return swi_fail(ctx, SWI_ECONFIG,
				"rollback: needs at least two slots in the configuration");
	return locked(ctx, rollback);
}

/* ---- is-installed --------------------------------------------------------- */

/* What holding the version means for slot; the running slot first. */
static int slot_holding(const struct view *v, const struct swi_slot *slot,
			const struct swi_staged *staged)
{
	if (slot == v->running)
		return SWI_INSTALLED_RUNNING;
	if (v->running && slot == v->next)
		return SWI_INSTALLED_PENDING;
	if (staged->present && strcmp(staged->slot, slot->name) == 0)
		return SWI_INSTALLED_STAGED;
	return SWI_INSTALLED_IDLE;
}

/* Without slots the device is one slot: what its last install left. */
static int device_holding(struct view *v, const struct swi_staged *staged, int *state)
{
	char *ustate = NULL;
	int rc = swi_bootenv_get(v->env, "ustate", &ustate);
	if (staged->present)
		*state = SWI_INSTALLED_STAGED;
	else if (ustate && strcmp(ustate, "1") == 0)
		*state = SWI_INSTALLED_PENDING;
	else
		*state = SWI_INSTALLED_RUNNING;
	free(ustate);
	return rc;
}

static int find_holder(swi_ctx_t *ctx, struct view *v, const struct swi_staged *staged,
		       const char *version, int *state, const struct swi_slot **holder)
{
	const struct swi_slots *slots = &ctx->opt.slots;
	*state = SWI_NOT_INSTALLED;
	*holder = NULL;
	int rc = SWI_OK;
	for (size_t i = 0; rc == SWI_OK && i < (slots->count ? slots->count : 1); i++) {
		const struct swi_slot *slot = slots->count ? &slots->items[i] : NULL;
		char *recorded = NULL;
		rc = recorded_version(ctx, v->env, slot ? slot->name : NULL, &recorded);
		int held = SWI_NOT_INSTALLED;
		if (rc == SWI_OK && recorded && strcmp(recorded, version) == 0) {
			held = slot ? slot_holding(v, slot, staged) : SWI_INSTALLED_RUNNING;
			if (!slot)
				rc = device_holding(v, staged, &held);
		}
		/* The states are numbered from the closest to running on. */
		if (held != SWI_NOT_INSTALLED && (*state == SWI_NOT_INSTALLED || held < *state)) {
			*state = held;
			*holder = slot;
		}
		free(recorded);
	}
	return rc;
}

int swi_is_installed(swi_ctx_t *ctx, const char *version, struct swi_installed *out)
{
	if (!ctx || !version || !out)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "is-installed: no version or no result given")
			   : SWI_EINVAL;
	struct view v;
	struct swi_staged staged = { 0 };
	int state = SWI_NOT_INSTALLED;
	const struct swi_slot *holder = NULL;
	int rc = look(ctx, &v);
	if (rc == SWI_OK)
		rc = swi_staged_load(ctx, &staged);
	if (rc == SWI_OK)
		rc = find_holder(ctx, &v, &staged, version, &state, &holder);
	unlook(&v);
	swi_staged_free(&staged);
	char *kept_version = strdup(version);
	char *kept_slot = holder ? strdup(holder->name) : NULL;
	if (rc == SWI_OK && (!kept_version || (holder && !kept_slot)))
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	free(ctx->installed_version);
	free(ctx->installed_slot);
	ctx->installed_version = kept_version;
	ctx->installed_slot = kept_slot;
	*out = (struct swi_installed){ .state = rc ? SWI_NOT_INSTALLED : state,
				       .version = kept_version, .slot = rc ? NULL : kept_slot };
	return rc;
}

int swi_is_installed_file(swi_ctx_t *ctx, const char *path, struct swi_installed *out)
{
	if (!ctx || !path || !out)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "is-installed: no image or no result given")
			   : SWI_EINVAL;
	char *version = NULL;
	int rc = swi_read_image_version(ctx, path, &version);
	if (rc == SWI_OK)
		rc = swi_is_installed(ctx, version, out);
	else
		*out = (struct swi_installed){ .state = SWI_NOT_INSTALLED };
	free(version);
	return rc;
}
