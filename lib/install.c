/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The transaction: the only file that orders the steps of an install.
 *
 *   0. take the lock; remove what an interrupted install left staged
 *   1. read sw-description (and sw-description.sig) from the stream; with
 *      encrypted-sw-description, decrypt it (with the key-aes key)
 *   2. verify the signature (over the decrypted text)
 *   3. parse the manifest for this board and selection
 *   4. plan (lib/plan.c): handler, attributes, hashes, versions, targets
 *      checked; an image with nothing for this device is refused here
 *      -- up to here nothing on the device has changed --
 *   5. the pre-update command (-P)
 *   6. right before the first byte goes to a target: mark the transaction
 *      in the bootloader environment; in the same write, point the boot
 *      selection away from the slot about to be written
 *   7. data-less entries; then the "before" phase: the scripts that run
 *      before the install, as soon as their members arrived; artifacts
 *      that came before them were spooled and are written now
 *   8. stream each member through its entries' chains (hash, decrypt,
 *      decompress) into their handlers
 *   9. after the trailer, every entry arrived: the "after" phase's
 *      scripts, then staged files are put in place, then one environment
 *      write commits (the written slot's variables, then the image's);
 *      then the post-update command (-p). A staging (swi_stage_*()) keeps
 *      that write in state-dir for swi_apply() (lib/apply.c) instead
 *  10. any failure or cancel: abort what is open or staged, mark the
 *      failure (when marked), keep the boot selection, run the "failure"
 *      phase's scripts
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "aeskey.h"
#include "apply.h"
#include "bootenv.h"
#include "exec.h"
#include "context.h"
#include "handler.h"
#include "lifecycle.h"
#include "lock.h"
#include "lua_handlers.h"
#include "lua_hooks.h"
#include "manifest.h"
#include "mount.h"
#include "plan.h"
#include "scratch.h"
#include "slots.h"
#include "source.h"
#include "spool.h"
#include "staging.h"
#include "stream.h"
#include "swu.h"
#include "verify.h"
#include "versions.h"

#define SW_DESCRIPTION "sw-description"
#define SW_DESCRIPTION_SIG "sw-description.sig"
#define MAX_DESCRIPTION_SIZE (1024 * 1024)
#define MAX_SIGNATURE_SIZE (64 * 1024)
#define REPLAY_BLOCK (128 * 1024)

struct txn {
	swi_ctx_t *ctx;
	struct swi_swu *swu;
	struct swi_member member;   /* the member the reader stands on */
	bool at_end;                /* the reader passed the trailer */
	char *description;
	size_t description_len;
	char *signature;
	size_t signature_len;
	struct swi_manifest manifest;
	struct swi_plan plan;
	unsigned installed;         /* artifacts streamed so far */
	unsigned skipped;           /* entries installed already (versions) */
	uint64_t image_size;        /* bytes of the image when known (a file), else 0 */
	unsigned percent;           /* the last progress reported, 0..100 */
	struct swi_attrs staged;    /* bootloader variables applied at the commit */
	struct swi_bootenv *env;
	bool marked;                /* recovery_status=in_progress was written */
	bool committed;
	bool staged_commit;         /* the commit is kept for swi_apply() */
	int lock_fd;                /* -1: no lock held */
	struct swi_journal journal; /* of staged files; fd -1 when none are */
	const struct swi_slot *running; /* NULL: no slots configured, or unknown */
	const struct swi_slot *slot;    /* the slot whose selection is installed, or NULL */
	bool slot_written;          /* a job writes that slot's device */
	struct swi_scratch scratch; /* private directory under tmpdir */
	struct swi_lua_env lua_env; /* what Lua reaches of the install */
	struct swi_lua *embedded;   /* the embedded-script's state, or NULL */
	struct swi_spool spool;     /* members held back for the "before" phase */
	int replay_fd;              /* reading a spooled member back; -1: the image */
	unsigned char *replay_buf;
	struct swi_aes_key aes;     /* of encrypted entries (key-aes) */
	bool have_aes;
};

/* A check, a dry run and swi_verify_*() write nothing. */
static bool writes_nothing(const swi_ctx_t *ctx)
{
	return ctx->opt.dry_run || ctx->opt.check_only || ctx->install_mode == SWI_MODE_VERIFY;
}

/* ---- 1. sw-description and its signature ---------------------------- */

static int next_member(struct txn *t)
{
	int rc = swi_swu_next(t->swu, &t->member);
	t->at_end = rc == SWI_END;
	return rc;
}

static int read_description(struct txn *t)
{
	int rc = next_member(t);
	if (rc == SWI_END)
		return swi_fail(t->ctx, SWI_EFORMAT, "image: the archive is empty");
	if (rc)
		return rc;
	if (strcmp(t->member.name, SW_DESCRIPTION) != 0)
		return swi_fail(t->ctx, SWI_EFORMAT,
				"image: first member is '%s', not " SW_DESCRIPTION, t->member.name);
	rc = swi_swu_read_all(t->swu, MAX_DESCRIPTION_SIZE, &t->description,
			      &t->description_len);
	if (rc)
		return rc;
	rc = next_member(t);
	if (rc)
		return rc == SWI_END ? SWI_OK : rc;
	if (strcmp(t->member.name, SW_DESCRIPTION_SIG) != 0)
		return SWI_OK;
	rc = swi_swu_read_all(t->swu, MAX_SIGNATURE_SIZE, &t->signature, &t->signature_len);
	if (rc)
		return rc;
	rc = next_member(t);
	return rc == SWI_END ? SWI_OK : rc;
}

/* ---- 1b. encryption -------------------------------------------------- */

static int load_aes_key(struct txn *t)
{
	swi_ctx_t *ctx = t->ctx;
	if (!ctx->opt.key_aes)
		return ctx->opt.encrypted_sw_description
			? swi_fail(ctx, SWI_ECONFIG, "encrypted-sw-description is set but no AES key "
				   "is configured (give the key file with -K FILE or key-aes)")
			: SWI_OK;
	int rc = swi_aes_key_load(ctx, ctx->opt.key_aes, &t->aes);
	t->have_aes = rc == SWI_OK;
	return rc;
}

/* ---- 2. signature ---------------------------------------------------- */

static int check_signature(struct txn *t)
{
	swi_ctx_t *ctx = t->ctx;
	if (!ctx->opt.public_key) {
		if (!ctx->opt.insecure)
			return swi_fail(ctx, SWI_ESIG,
					SW_DESCRIPTION ": no public key is configured to verify the image "
					"(give one with -k, or allow unverified images with --insecure)");
		swi_log(ctx, SWI_LOG_WARN,
			"INSECURE: no public key configured; sw-description is NOT verified");
		return SWI_OK;
	}
	if (!t->signature)
		return swi_fail(ctx, SWI_ESIG,
				SW_DESCRIPTION_SIG ": missing; a key is configured, so the image must be signed");
	return swi_verify_signature(ctx, t->description, t->description_len,
				    t->signature, t->signature_len);
}

/* ---- 3. manifest and hardware ---------------------------------------- */

static int check_hardware(struct txn *t, const char *board, const char *revision)
{
	const struct swi_manifest *m = &t->manifest;
	if (m->nhwcompat == 0)
		return SWI_OK;
	if (!revision)
		return swi_fail(t->ctx, SWI_ECOMPAT,
				SW_DESCRIPTION ": the image lists hardware-compatibility but this "
				"device's revision is unknown (no %s; give -H BOARD:REV)",
				swi_opt_hwrevision_file(t->ctx));
	if (!swi_hw_compatible(revision, m->hwcompat, m->nhwcompat))
		return swi_fail(t->ctx, SWI_ECOMPAT,
				SW_DESCRIPTION ": hardware revision '%s' of board '%s' is not in "
				"the image's hardware-compatibility list",
				revision, board ? board : "?");
	return SWI_OK;
}

/* The configured slot whose selection is select, or NULL. */
static const struct swi_slot *slot_of_selection(const struct swi_slots *slots, const char *select)
{
	for (size_t i = 0; select && i < slots->count; i++)
		if (strcmp(slots->items[i].select, select) == 0)
			return &slots->items[i];
	return NULL;
}

/*
 * The selection to install: -e, or else the standby slot's. With slots
 * configured the running slot must be known, except that an explicit -e
 * still works without it (the target checks of the plan still apply).
 */
static int choose_selection(struct txn *t, const char **select)
{
	swi_ctx_t *ctx = t->ctx;
	*select = ctx->opt.select;
	if (ctx->opt.slots.count == 0)
		return SWI_OK;
	const char *found_by;
	int rc = swi_slots_running(ctx, &ctx->opt.slots, swi_opt_cmdline_file(ctx),
				   swi_opt_mountinfo_file(ctx), &t->running, &found_by);
	if (rc) {
		t->running = NULL;
		if (!*select)
			return rc;
		swi_log(ctx, SWI_LOG_WARN, "%s; installing the selection given", swi_errmsg(ctx));
		t->slot = slot_of_selection(&ctx->opt.slots, *select);
		return SWI_OK;
	}
	const struct swi_slot *standby = swi_slots_standby(&ctx->opt.slots, t->running);
	if (*select && strcmp(*select, t->running->select) == 0)
		return swi_fail(ctx, SWI_ECOMPAT,
				"selection '%s' is the running slot %s's; install into the standby "
				"slot instead", *select, t->running->name);
	if (!*select) {
		if (!standby)
			return swi_fail(ctx, SWI_ECONFIG, "slot %s is running and there is no other slot",
					t->running->name);
		*select = standby->select;
	}
	t->slot = slot_of_selection(&ctx->opt.slots, *select);
	swi_log(ctx, SWI_LOG_INFO, "slot %s is running (from %s); installing '%s'",
		t->running->name, found_by, *select);
	return SWI_OK;
}

/* embedded-script and hooks rewrite, skip or reject entries before the
 * plan looks at them (a rewritten device is checked like a written one). */
static int run_hooks(struct txn *t, const char *select)
{
	t->lua_env = (struct swi_lua_env){ .ctx = t->ctx, .scratch = &t->scratch,
					   .staged_bootenv = &t->staged, .selection = select,
					   .version = t->manifest.version };
	return swi_lua_run_hooks(&t->lua_env, &t->manifest, &t->embedded);
}

static void log_version(struct txn *t)
{
	if (t->manifest.version)
		swi_log(t->ctx, SWI_LOG_INFO, SW_DESCRIPTION ": software version %s",
			t->manifest.version);
	else
		swi_log(t->ctx, SWI_LOG_INFO, SW_DESCRIPTION ": no software version");
}

static int parse_manifest(struct txn *t, const char **select)
{
	char *board = NULL, *revision = NULL;
	int rc = swi_hwrevision_get(t->ctx, &board, &revision);
	if (rc == SWI_OK)
		rc = choose_selection(t, select);
	if (rc == SWI_OK)
		rc = swi_manifest_parse(t->ctx, t->description, t->description_len, board,
					*select, &t->manifest);
	if (rc == SWI_OK)
		log_version(t);
	if (rc == SWI_OK)
		rc = check_hardware(t, board, revision);
	if (rc == SWI_OK)
		rc = run_hooks(t, *select);
	free(board);
	free(revision);
	return rc;
}

/* The device's version guards (no-downgrading, max-version,
 * no-reinstalling) against the image's version: refused before anything is
 * written, by checks and dry runs alike. */
static int check_version_guards(struct txn *t)
{
	return swi_version_guards(t->ctx, t->manifest.version);
}

/* ---- 4. plan ----------------------------------------------------------- */
/*
 * In two passes. The first asks only what the image needs of this build:
 * a handler for every entry, the attributes it declares (checked and
 * converted here, once), the features it uses. Nothing on this machine is
 * looked at, so a check, a dry run and an install refuse an image this
 * version cannot install in the same words, also on a build host. The
 * second looks at the device: versions installed, where each target lies,
 * whether its handler can reach it.
 */

static const char *entry_label(const struct swi_entry *e)
{
	return e->filename ? e->filename : e->type;
}

/* The handlers this build offers, for the log of an install. */
static void log_handlers(swi_ctx_t *ctx)
{
	char names[1024];
	swi_handler_names(ctx, names, sizeof(names));
	swi_log(ctx, SWI_LOG_INFO, "swinstall %s; handlers: %s", swi_version(), names);
}

static bool is_extra_target(const swi_ctx_t *ctx, const char *device)
{
	for (size_t i = 0; i < ctx->opt.nextra_targets; i++)
		if (swi_same_device(device, ctx->opt.extra_targets[i]))
			return true;
	return false;
}

/* With slots configured, a device an image writes is the slot being
 * installed or one the configuration lists in extra-targets: an image
 * cannot name the running slot through another path, or any other disk. */
static int check_target_allowed(struct txn *t, const struct swi_entry *e, const char *device)
{
	if (t->ctx->opt.slots.count == 0 || is_extra_target(t->ctx, device))
		return SWI_OK;
	if (t->slot && swi_same_device(device, t->slot->device)) {
		t->slot_written = true;
		return SWI_OK;
	}
	if (t->slot)
		return swi_fail(t->ctx, SWI_ECOMPAT,
				"%s: target %s is neither slot %s's device (%s) nor listed in the "
				"configuration's extra-targets; refused", entry_label(e), device,
				t->slot->name, t->slot->device);
	return swi_fail(t->ctx, SWI_ECOMPAT,
			"%s: target %s is not listed in the configuration's extra-targets, and the "
			"selection installs no slot; refused", entry_label(e), device);
}

/* Whatever the manifest says, the running slot and mounted devices are
 * never written, nor the part of a disk where they lie. Comparing paths
 * needs no target to exist: a missing one is just not in use. */
static int refuse_busy_target(struct txn *t, struct swi_target *target)
{
	const struct swi_entry *e = target->entry;
	const struct swi_value *device = swi_target_value(target, "device");
	const struct swi_value *offset = swi_target_value(target, "offset");
	if (!device)
		return SWI_OK;
	const char *path = device->attr->value;
	if (t->running && swi_same_device(path, t->running->device))
		return swi_fail(t->ctx, SWI_ECOMPAT, "%s: target %s is the running slot %s",
				entry_label(e), path, t->running->name);
	char *where = NULL;
	int rc = swi_device_mounted(t->ctx, path, swi_opt_mountinfo_file(t->ctx), &where);
	if (rc > 0)
		rc = swi_fail(t->ctx, SWI_ECOMPAT, "%s: target %s is mounted on %s",
			      entry_label(e), path, where);
	free(where);
	if (rc == SWI_OK)
		rc = check_target_allowed(t, e, path);
	/* The extents need the device itself: not with --check, which may run
	 * on a build host. */
	if (rc == SWI_OK && !t->ctx->opt.check_only) {
		rc = swi_target_window(t->ctx, entry_label(e), path, offset ? offset->size : 0,
				       t->running, swi_opt_mountinfo_file(t->ctx), &target->limit);
		target->limited = target->limit != UINT64_MAX;
	}
	return rc;
}

/* The handler's own look at its target. Not with --check, which may run on
 * a build host to vet an image; a dry run, which may too, only warns
 * about a target that is not on this machine. */
static int check_target(struct txn *t, struct swi_job *j)
{
	struct swi_target *target = &j->target;
	int (*check)(struct swi_target *) = SWI_HANDLER_GET(target->handler, check, NULL);
	if (!check || t->ctx->opt.check_only)
		return SWI_OK;
	int rc = check(target);
	if (rc && target->missing && t->ctx->opt.dry_run) {
		swi_log(t->ctx, SWI_LOG_WARN, "%s (not on this machine: not checked by the dry run)",
			swi_errmsg(t->ctx));
		t->ctx->errmsg[0] = '\0';
		t->ctx->last_status = SWI_OK;
		rc = SWI_OK;
	}
	return rc;
}

/* install-if-different / install-if-higher against sw-versions. */
static bool already_installed(const struct swi_entry *e, const struct swi_attrs *versions)
{
	if (!e->name || !e->version || !(e->install_if_different || e->install_if_higher))
		return false;
	const char *have = swi_attrs_get(versions, e->name);
	if (!have)
		return false;
	if (e->install_if_higher)
		return swi_version_compare(e->version, have) <= 0;
	return strcmp(e->version, have) == 0;
}

/* An encrypted entry is installed with the AES key; -c needs none, and -n
 * without one hashes its stored bytes only. */
static int check_decryptable(struct txn *t, const struct swi_entry *e)
{
	if (!e->encrypted || t->have_aes || t->ctx->opt.check_only)
		return SWI_OK;
	if (t->ctx->opt.dry_run) {
		swi_log(t->ctx, SWI_LOG_WARN, "%s: encrypted, and no AES key is configured (-K): "
			"the dry run %s but cannot decrypt or decompress it", entry_label(e),
			e->sha256 ? "checks its sha256" : "reads it");
		return SWI_OK;
	}
	return swi_fail(t->ctx, SWI_ECONFIG, "%s: the artifact is encrypted and no AES key is "
			"configured (give the key file with -K FILE, or key-aes in the "
			"configuration)", entry_label(e));
}

/* Second pass: entries installed already leave the plan; the others'
 * targets are checked. */
static int plan_targets(struct txn *t)
{
	struct swi_attrs versions = { 0 };
	int rc = swi_sw_versions_load(t->ctx, swi_opt_sw_versions_file(t->ctx), &versions);
	for (size_t i = 0; rc == SWI_OK && i < t->plan.njobs;) {
		const struct swi_entry *e = t->plan.jobs[i].target.entry;
		if (!already_installed(e, &versions)) {
			i++;
			continue;
		}
		swi_log(t->ctx, SWI_LOG_INFO, "%s: %s %s is installed already; skipped",
			entry_label(e), e->name, e->version);
		swi_plan_drop(&t->plan, i);
		t->skipped++;
	}
	swi_attrs_free(&versions);
	if (rc)
		return rc;
	for (size_t i = 0; rc == SWI_OK && i < t->plan.njobs; i++) {
		rc = check_decryptable(t, t->plan.jobs[i].target.entry);
		if (rc == SWI_OK)
			rc = refuse_busy_target(t, &t->plan.jobs[i].target);
		if (rc == SWI_OK)
			rc = check_target(t, &t->plan.jobs[i]);
	}
	return rc;
}

/* Names a bootloader reads back as they were written: U-Boot ends a name
 * at '=', GRUB a line at a newline; spaces and control characters make
 * names no boot script can use. */
static bool valid_env_name(const char *name)
{
	if (!name[0] || name[0] == '#')
		return false;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c == '=' || *c <= ' ' || *c == 0x7f)
			return false;
	return true;
}

static int stage_bootenv(struct txn *t)
{
	const struct swi_attrs *vars = &t->manifest.bootenv;
	for (size_t i = 0; i < vars->count; i++) {
		if (!valid_env_name(vars->items[i].name))
			return swi_fail(t->ctx, SWI_EFORMAT,
					SW_DESCRIPTION ": bootenv name '%s' is not a valid variable "
					"name (no '=', white space or control characters)",
					vars->items[i].name);
		if (swi_attrs_set(&t->staged, vars->items[i].name, vars->items[i].value))
			return swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	}
	return SWI_OK;
}

/* An image must have something for this device; what it has may all be
 * installed already, which is not an error but leaves nothing to do. */
static int check_something_to_do(struct txn *t, const char *select)
{
	if (t->plan.njobs > 0 || t->skipped > 0 || t->manifest.bootenv.count > 0)
		return SWI_OK;
	const char *offered = t->manifest.selections;
	if (!select && offered)
		return swi_fail(t->ctx, SWI_ECOMPAT,
				SW_DESCRIPTION ": nothing to install without a selection; the image "
				"offers %s (choose one with -e, or configure slots)", offered);
	return swi_fail(t->ctx, SWI_ECOMPAT,
			SW_DESCRIPTION ": nothing to install for this device (selection %s): no "
			"images, files, scripts or bootenv apply to it", select ? select : "none");
}

/* Staged files are journalled, so that an interrupted install's leftovers
 * are found: the journal must be writable before anything is staged. */
static int open_journal_if_staging(struct txn *t)
{
	for (size_t i = 0; i < t->plan.njobs; i++)
		if (SWI_HANDLER_GET(t->plan.jobs[i].target.handler, commit, NULL))
			return swi_journal_open(t->ctx, &t->journal);
	return SWI_OK;
}

/* The plan, in the log: what each entry becomes. */
static void log_plan(struct txn *t)
{
	char *text = NULL, *save = NULL;
	if (swi_plan_describe(&t->plan, &text) != SWI_OK)
		return;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		swi_log(t->ctx, SWI_LOG_DEBUG, "plan: %s", line);
	free(text);
}

static int check_late_device(struct swi_target *target);

static int plan(struct txn *t, const char *select)
{
	struct swi_target proto = { .ctx = t->ctx, .staged_bootenv = &t->staged,
				    .journal = &t->journal, .scratch = &t->scratch,
				    .lua_env = &t->lua_env, .check_device = check_late_device,
				    .install = t };
	int rc = swi_lua_handlers_load(t->ctx);
	log_handlers(t->ctx);
	if (rc == SWI_OK)
		rc = swi_plan_build(t->ctx, &t->manifest, &proto, t->ctx->opt.public_key != NULL,
				    &t->plan);
	if (rc == SWI_OK)
		rc = plan_targets(t);
	if (rc == SWI_OK)
		rc = stage_bootenv(t);
	if (rc == SWI_OK)
		rc = check_something_to_do(t, select);
	if (rc == SWI_OK && !writes_nothing(t->ctx))
		rc = open_journal_if_staging(t);
	if (rc == SWI_OK)
		log_plan(t);
	return rc;
}

/* Every entry with data is installed already: nothing is written, and
 * the boot selection stays (switching to an unwritten slot would be wrong). */
static bool nothing_left(const struct txn *t)
{
	return t->plan.njobs == 0 && t->skipped > 0;
}

/* ---- 5. and 7. the bootloader environment ------------------------------ */

static int write_env(struct txn *t, const char *const *pairs)
{
	struct swi_attrs vars = { 0 };
	int rc = SWI_OK;
	for (size_t i = 0; pairs[i] && rc == SWI_OK; i += 2)
		if (swi_attrs_set(&vars, pairs[i], pairs[i + 1]))
			rc = swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	if (rc == SWI_OK)
		rc = swi_bootenv_apply(t->env, &vars);
	swi_attrs_free(&vars);
	return rc;
}

static int add_all(swi_ctx_t *ctx, struct swi_attrs *to, const struct swi_attrs *from)
{
	for (size_t i = 0; i < from->count; i++)
		if (swi_attrs_set(to, from->items[i].name, from->items[i].value))
			return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	return SWI_OK;
}

/* The variable recording the version of what this install writes: the
 * written slot's, or the device's without slots; "" when it writes no slot. */
static int version_var(struct txn *t, char *name, size_t size)
{
	name[0] = '\0';
	if (t->slot_written)
		return swi_version_var(t->ctx, t->slot->name, name, size);
	return t->ctx->opt.slots.count == 0 ? swi_version_var(t->ctx, NULL, name, size) : SWI_OK;
}

/* The slot being written no longer holds the version recorded for it. */
static int add_forget_version(struct txn *t, struct swi_attrs *vars)
{
	char name[256];
	int rc = version_var(t, name, sizeof(name));
	if (rc == SWI_OK && name[0] && swi_attrs_set(vars, name, ""))
		rc = swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	return rc;
}

/*
 * Before the first byte goes to a slot, that slot must not be the one that
 * boots next: a second install into a slot whose earlier install still
 * waits for its reboot would otherwise leave a half-written slot selected.
 * So the first write also selects the running slot (or, when it is not
 * known, the other one), with nothing pending and boot counting off, and
 * takes the slot off the list of complete ones.
 */
static int add_boot_away(struct txn *t, struct swi_attrs *vars)
{
	swi_ctx_t *ctx = t->ctx;
	if (!t->slot_written)
		return SWI_OK;
	const struct swi_slot *boot = t->running ? t->running
				      : swi_slots_standby(&ctx->opt.slots, t->slot);
	int rc = SWI_OK;
	if (boot && boot != t->slot) {
		rc = add_all(ctx, vars, &boot->bootenv);
		if (rc == SWI_OK && swi_life_settled_vars(ctx, vars))
			rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	if (rc == SWI_OK)
		rc = swi_life_complete_change(ctx, t->env, t->slot->name,
					      t->running ? t->running->name : NULL, vars);
	return rc;
}

/* A slot the plan did not know was written (a handler chained from Lua
 * found it while the install ran): pointed away from now, before its
 * first byte, as the first write would have. */
static int point_boot_away(struct txn *t)
{
	struct swi_attrs vars = { 0 };
	int rc = add_boot_away(t, &vars);
	if (rc == SWI_OK)
		rc = add_forget_version(t, &vars);
	if (rc == SWI_OK)
		rc = swi_bootenv_apply(t->env, &vars);
	swi_attrs_free(&vars);
	return rc;
}

/*
 * check_device of every target: a device known only while the install
 * runs (swupdate.call_handler() from a Lua handler) passes the plan's
 * refusals. It runs on the entry's worker thread while the caller's
 * thread feeds the member; the fields it changes (slot_written, the
 * environment) are not read by that thread until the entry is finished.
 */
static int check_late_device(struct swi_target *target)
{
	struct txn *t = target->install;
	bool slot_known = t->slot_written;
	int rc = refuse_busy_target(t, target);
	if (rc == SWI_OK && t->slot_written && !slot_known && t->marked)
		rc = point_boot_away(t);
	return rc;
}

/* A new install discards what an earlier one staged: its commit would
 * switch to a slot this install may overwrite. */
static int mark_in_progress(struct txn *t)
{
	struct swi_attrs vars = { 0 };
	int rc = swi_staged_discard(t->ctx, "a new install started");
	if (rc == SWI_OK)
		rc = swi_bootenv_open(t->ctx, &t->env);
	if (rc == SWI_OK && swi_attrs_set(&vars, "recovery_status", "in_progress"))
		rc = swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	if (rc == SWI_OK)
		rc = add_boot_away(t, &vars);
	if (rc == SWI_OK)
		rc = add_forget_version(t, &vars);
	if (rc == SWI_OK)
		rc = swi_bootenv_apply(t->env, &vars);
	swi_attrs_free(&vars);
	t->marked = rc == SWI_OK;
	return rc;
}

/* The environment is marked right before the first byte goes to a target
 * (or before the commit, when nothing does): a "before" script that fails
 * leaves it as it was. */
static int ensure_marked(struct txn *t)
{
	return t->marked || writes_nothing(t->ctx) ? SWI_OK : mark_in_progress(t);
}

/* Staged results (rawfile's new files) are put in place together, right
 * before the commit; a failure here still leaves the boot selection. */
static int publish_staged(struct txn *t)
{
	for (size_t i = 0; i < t->plan.njobs; i++) {
		struct swi_job *j = &t->plan.jobs[i];
		int (*publish)(struct swi_target *) = SWI_HANDLER_GET(j->target.handler, commit, NULL);
		if (!publish)
			continue;
		int rc = publish(&j->target);
		j->opened = false; /* commit lets go of the job, also when it fails */
		swi_target_unmount(&j->target);
		if (rc)
			return rc;
	}
	return SWI_OK;
}

/* Sets the variable recording the written slot's version to the image's. */
static int add_version(struct txn *t, struct swi_attrs *vars)
{
	char name[256];
	int rc = version_var(t, name, sizeof(name));
	const char *version = t->manifest.version ? t->manifest.version : "";
	if (rc == SWI_OK && name[0] && swi_attrs_set(vars, name, version))
		rc = swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	return rc;
}

/* The commit's variables: the written slot's, then the image's, ustate=1,
 * the marker's removal and the slot's version. */
static int commit_vars(struct txn *t, struct swi_attrs *vars)
{
	int rc = t->slot_written ? add_all(t->ctx, vars, &t->slot->bootenv) : SWI_OK;
	if (rc == SWI_OK)
		rc = add_all(t->ctx, vars, &t->staged);
	if (rc == SWI_OK && (swi_attrs_set(vars, "ustate", "1") ||
			     swi_attrs_set(vars, "recovery_status", "")))
		rc = swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	if (rc == SWI_OK && t->slot_written)
		rc = swi_life_complete_change(t->ctx, t->env, NULL, t->slot->name, vars);
	if (rc == SWI_OK)
		rc = add_version(t, vars);
	return rc;
}

/* The commit, in one environment write. Before it the device boots what
 * it booted. */
static int commit(struct txn *t)
{
	struct swi_attrs vars = { 0 };
	int rc = commit_vars(t, &vars);
	if (rc == SWI_OK)
		rc = swi_bootenv_apply(t->env, &vars);
	if (rc == SWI_OK) {
		t->committed = true;
		swi_log(t->ctx, SWI_LOG_INFO,
			"installed: bootloader environment committed (%zu variables)", vars.count);
	}
	swi_attrs_free(&vars);
	return rc;
}

/*
 * Staging: the commit's variables are kept in state-dir for swi_apply(),
 * then one environment write ends the transaction without the switch: the
 * marker goes, the written slot's version is recorded, the running slot
 * stays selected.
 */
static int stage_commit(struct txn *t)
{
	struct swi_attrs vars = { 0 }, done = { 0 };
	int rc = commit_vars(t, &vars);
	if (rc == SWI_OK)
		rc = swi_staged_save(t->ctx, t->slot_written ? t->slot->name : NULL,
				     t->running ? t->running->name : NULL, t->manifest.version,
				     &vars);
	if (rc == SWI_OK && swi_attrs_set(&done, "recovery_status", ""))
		rc = swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	if (rc == SWI_OK)
		rc = add_version(t, &done);
	if (rc == SWI_OK && (rc = swi_bootenv_apply(t->env, &done)) != SWI_OK)
		swi_staged_discard(t->ctx, "the environment write of the staging failed");
	if (rc == SWI_OK) {
		t->staged_commit = true;
		swi_log(t->ctx, SWI_LOG_INFO, "staged: the switch%s%s waits for apply",
			t->slot_written ? " to slot " : "", t->slot_written ? t->slot->name : "");
	}
	swi_attrs_free(&vars);
	swi_attrs_free(&done);
	return rc;
}

/* Records the failure without touching the boot selection; keeps the
 * message of the error that caused it. */
static void mark_failed(struct txn *t)
{
	char cause[sizeof(t->ctx->errmsg)];
	int status = t->ctx->last_status;
	memcpy(cause, t->ctx->errmsg, sizeof(cause));
	if (write_env(t, (const char *const[]){ "recovery_status", "failed", "ustate", "3", NULL }))
		swi_log(t->ctx, SWI_LOG_ERROR, "could not record the failure in the "
			"bootloader environment: %s", t->ctx->errmsg);
	memcpy(t->ctx->errmsg, cause, sizeof(cause));
	t->ctx->last_status = status;
}

/* ---- 6. streaming members into their entries -------------------------- */

static int sink_to_handler(void *user, const void *buf, size_t len)
{
	struct swi_target *target = user;
	return target->handler->write(target, buf, len);
}

/* How a job's stored bytes are undone: decrypted (the entry's ivt, when
 * it has one, replacing the key file's IV), then decompressed. Without a
 * key (a dry run) an encrypted entry is only hashed. */
static int job_spec(struct txn *t, const struct swi_entry *e, struct swi_aes_key *key,
		    struct swi_stream_spec *spec)
{
	*spec = (struct swi_stream_spec){ .sha256 = e->sha256, .compressed = e->compressed };
	if (!e->encrypted)
		return SWI_OK;
	if (!t->have_aes) {
		spec->compressed = NULL;
		return SWI_OK;
	}
	spec->aes = key;
	return swi_aes_entry_key(t->ctx, entry_label(e), swi_attrs_get(&e->attrs, "ivt"),
				 &t->aes, key);
}

static int run_extract(void *user)
{
	struct swi_target *target = user;
	return target->handler->extract(target);
}

/* The job's stream: into the handler's write, or, for a handler that
 * pulls, a stream its extract reads from; without a target (a dry run),
 * decoded and dropped. */
static int new_stream(struct txn *t, struct swi_job *j, const struct swi_stream_spec *spec,
		      bool to_target)
{
	const struct swi_entry *e = j->target.entry;
	if (to_target && SWI_HANDLER_GET(j->target.handler, extract, NULL)) {
		int rc = swi_stream_new_pull(t->ctx, e->filename, spec, run_extract, &j->target,
					     &j->stream);
		j->target.pull = j->stream;
		return rc;
	}
	return swi_stream_new(t->ctx, e->filename, spec, to_target ? sink_to_handler : NULL,
			      &j->target, &j->stream);
}

/* Mounts what the entry writes into, then opens the handler: before the
 * stream starts, since a pulling handler's extract runs from its start. */
static int open_target(struct swi_job *j)
{
	int rc = swi_target_mount(&j->target);
	j->opened = rc == SWI_OK;
	if (rc == SWI_OK)
		rc = j->target.handler->open(&j->target);
	return rc;
}

static int start_job(struct txn *t, struct swi_job *j)
{
	const struct swi_entry *e = j->target.entry;
	bool to_target = !writes_nothing(t->ctx);
	struct swi_aes_key key = { 0 };
	struct swi_stream_spec spec;
	j->target.stored_size = t->member.size;
	int rc = job_spec(t, e, &key, &spec);
	if (rc == SWI_OK && to_target && j->phases == 0)
		rc = ensure_marked(t);
	if (rc == SWI_OK && to_target)
		rc = open_target(j);
	if (rc == SWI_OK)
		rc = new_stream(t, j, &spec, to_target);
	swi_aes_key_clear(&key);
	return rc;
}

static void abort_job(struct swi_job *j)
{
	/* The stream first: its worker may still be writing through the
	 * handler, and must have stopped before the handler lets go. */
	swi_stream_free(j->stream);
	j->stream = NULL;
	j->target.pull = NULL;
	if (j->opened)
		j->target.handler->abort(&j->target);
	j->opened = false;
	swi_target_unmount(&j->target);
}

/* For -vv: where an artifact went, its size, and what its hash said. A
 * dry run decodes only what is compressed or encrypted, and writes
 * nothing. */
static void log_finished(const struct swi_job *j)
{
	const struct swi_target *target = &j->target;
	const struct swi_entry *e = target->entry;
	const char *device = swi_target_attr(target, "device");
	const char *path = target->path ? target->path : swi_target_attr(target, "path");
	unsigned long long decoded = swi_stream_decoded_bytes(j->stream);
	char place[SWI_PLACE_MAX], output[64];
	if (!writes_nothing(target->ctx))
		snprintf(output, sizeof(output), ", %llu written", decoded);
	else if (decoded)
		snprintf(output, sizeof(output), ", %llu decoded (dry run: not written)", decoded);
	else
		snprintf(output, sizeof(output), " (dry run: not written)");
	swi_log(target->ctx, SWI_LOG_DEBUG, "%s: done: handler %s%s%s%s%s; %llu bytes in the "
		"archive%s; %s%s", swi_entry_place(e, place, sizeof(place)), target->handler->name,
		device ? ", device " : "", device ? device : "", path ? ", path " : "",
		path ? path : "", (unsigned long long)target->stored_size, output,
		e->sha256 ? "sha256 ok " : "no sha256", e->sha256 ? e->sha256 : "");
}

static int finish_job(struct swi_job *j)
{
	int rc = swi_stream_finish(j->stream);
	if (rc == SWI_OK && j->opened) {
		rc = j->target.handler->close(&j->target);
		/* A staging handler holds its result until the commit; after a
		 * failed close, abort still cleans up. */
		j->opened = rc != SWI_OK || SWI_HANDLER_GET(j->target.handler, commit, NULL);
	}
	if (rc)
		return rc;
	log_finished(j);
	swi_stream_free(j->stream);
	j->stream = NULL;
	j->target.pull = NULL;
	if (!j->opened)
		swi_target_unmount(&j->target);
	j->done = true;
	return SWI_OK;
}

/* The jobs of kind that the current member feeds and that wait for it,
 * gathered in order. */
static size_t jobs_for_member(struct txn *t, enum swi_job_kind kind, struct swi_job **out)
{
	size_t n = 0;
	for (size_t i = 0; i < t->plan.njobs; i++) {
		struct swi_job *j = &t->plan.jobs[i];
		if (!j->done && j->kind == kind && strcmp(j->target.entry->filename, t->member.name) == 0)
			out[n++] = j;
	}
	return n;
}

/*
 * How far the install is while the image is read, 0..99 (100 is for the
 * end of the commit): by the bytes of the image consumed when its size is
 * known, else by the artifacts done, the current one by its bytes. A
 * spooled member written from its copy has no place in the image: by
 * bytes, the install stays where it was while it is written.
 */
static unsigned percent_read(const struct txn *t, uint64_t done)
{
	uint64_t part, whole;
	if (t->at_end) {
		part = whole = 1;
	} else if (t->image_size) {
		part = t->replay_fd >= 0 ? 0 : t->member.offset + done;
		whole = t->image_size;
	} else if (t->member.size) {
		part = t->installed * t->member.size + done;
		whole = t->plan.njobs * t->member.size;
	} else {
		part = t->installed;
		whole = t->plan.njobs;
	}
	uint64_t percent = whole ? part * 100 / whole : 0;
	return percent > 99 ? 99 : (unsigned)percent;
}

/* Reports progress at percent or, should that be less, where the last
 * report was: progress never goes back. */
static void report(struct txn *t, struct swi_progress *p, unsigned percent)
{
	if (percent > t->percent)
		t->percent = percent;
	if (!t->ctx->progress_fn)
		return;
	p->percent = t->percent;
	p->count = (unsigned)t->plan.njobs;
	t->ctx->progress_fn(t->ctx->progress_user, p);
}

/* A phase starts: no artifact is being installed. */
static void report_phase(struct txn *t, enum swi_progress_phase phase)
{
	struct swi_progress p = { .phase = phase, .index = t->installed };
	report(t, &p, percent_read(t, 0));
}

/* The last report of an install that succeeded. */
static void report_finished(struct txn *t)
{
	struct swi_progress p = { .phase = SWI_PROGRESS_COMMITTING, .index = t->installed };
	report(t, &p, 100);
}

static void report_progress(struct txn *t, uint64_t done)
{
	struct swi_progress p = {
		.member = t->member.name, .done = done, .total = t->member.size,
		.index = t->installed + 1, .phase = SWI_PROGRESS_INSTALLING,
	};
	report(t, &p, percent_read(t, done));
}

/* Hands a block to a job's stream: lent where it lies in the image's read
 * buffers (no copy), copied when libarchive had to assemble it. */
static int feed_block(struct txn *t, struct swi_stream *s, const void *buf, size_t len)
{
	struct swi_swu_slot *slot = swi_swu_lend(t->swu, buf, len);
	if (!slot)
		return swi_stream_feed(s, buf, len);
	return swi_stream_feed_lent(s, buf, len, swi_swu_give_back, slot);
}

/* The next block of the spooled member being written. */
static int read_spooled(struct txn *t, const void **buf, size_t *len)
{
	ssize_t n;
	do
		n = read(t->replay_fd, t->replay_buf, REPLAY_BLOCK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return swi_fail(t->ctx, SWI_EIO, "%s (spooled): %s", t->member.name, strerror(errno));
	*buf = t->replay_buf;
	*len = (size_t)n;
	return SWI_OK;
}

/* Feeds the rest of the current member to the jobs' streams. */
static int feed_member(struct txn *t, struct swi_job **jobs, size_t n, bool progress)
{
	uint64_t done = 0;
	if (progress)
		report_progress(t, 0);
	for (;;) {
		if (swi_cancelled(t->ctx))
			return swi_fail_cancelled(t->ctx);
		const void *buf;
		size_t len;
		int rc = t->replay_fd >= 0 ? read_spooled(t, &buf, &len)
					   : swi_swu_read(t->swu, &buf, &len);
		if (rc || len == 0)
			return rc;
		for (size_t i = 0; i < n; i++)
			if (jobs[i]->stream && (rc = feed_block(t, jobs[i]->stream, buf, len)))
				return rc;
		done += len;
		if (progress)
			report_progress(t, done);
	}
}

/* Errors that say the image itself is bad, or that nothing is to be done. */
static bool blames_image(int rc)
{
	return rc == SWI_EHASH || rc == SWI_EFORMAT || rc == SWI_ESIG || rc == SWI_ECANCELED;
}

/*
 * A target failed (a disk filled up, a write went past the end of a
 * device): was it the target, or an image made to fail it, such as a
 * compression bomb? The rest of the member is read through the hashes
 * alone; when a hash or the archive then fails, that is the cause
 * reported, else the target's error stands.
 */
static int find_real_cause(struct txn *t, struct swi_job **jobs, size_t n, int rc)
{
	if (blames_image(rc) || swi_cancelled(t->ctx))
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!jobs[i]->stream || !jobs[i]->target.entry->sha256)
			return rc; /* without every hash, nothing can be learnt */
	char cause[sizeof(t->ctx->errmsg)];
	memcpy(cause, t->ctx->errmsg, sizeof(cause));
	for (size_t i = 0; i < n; i++)
		swi_stream_hash_only(jobs[i]->stream);
	int image = feed_member(t, jobs, n, false);
	for (size_t i = 0; i < n && image == SWI_OK; i++)
		image = swi_stream_finish(jobs[i]->stream);
	if (blames_image(image))
		return swi_fail(t->ctx, image, "%s (writing it had failed: %s)", t->ctx->errmsg,
				cause);
	memcpy(t->ctx->errmsg, cause, sizeof(cause));
	t->ctx->last_status = rc;
	return rc;
}

static int install_member(struct txn *t, struct swi_job **jobs, size_t n)
{
	int rc = SWI_OK;
	for (size_t i = 0; i < n && rc == SWI_OK; i++)
		rc = start_job(t, jobs[i]);
	if (rc == SWI_OK)
		rc = feed_member(t, jobs, n, true);
	for (size_t i = 0; i < n && rc == SWI_OK; i++)
		rc = finish_job(jobs[i]);
	if (rc)
		rc = find_real_cause(t, jobs, n, rc);
	if (rc)
		for (size_t i = 0; i < n; i++)
			abort_job(jobs[i]);
	t->installed += rc == SWI_OK ? (unsigned)n : 0;
	return rc;
}

/* ---- phases: scripts, and what waits for them ------------------------- */

static const char *phase_name(enum swi_phase phase)
{
	switch (phase) {
	case SWI_PHASE_BEFORE: return "before";
	case SWI_PHASE_AFTER: return "after";
	case SWI_PHASE_FAILURE: return "failure";
	}
	return "?";
}

/* Runs the scripts of phase whose members arrived, in the order of
 * sw-description; the first failure ends the phase. Neither a check nor a
 * dry run runs any. */
static int run_phase(struct txn *t, enum swi_phase phase)
{
	if (writes_nothing(t->ctx) || swi_plan_count_phase(&t->plan, phase) == 0)
		return SWI_OK;
	swi_log(t->ctx, SWI_LOG_INFO, "running the scripts of the %s phase", phase_name(phase));
	for (size_t i = 0; i < t->plan.njobs; i++) {
		struct swi_job *j = &t->plan.jobs[i];
		if (!(j->phases & phase) || !j->done)
			continue;
		int rc = j->target.handler->run(&j->target, phase);
		if (rc)
			return rc;
	}
	return SWI_OK;
}

/* Writes the members held back for the "before" phase, in the order they
 * came. */
static int write_spooled(struct txn *t, struct swi_job **jobs)
{
	int rc = SWI_OK;
	for (size_t i = 0; rc == SWI_OK && i < t->spool.count; i++) {
		struct swi_spooled *sp = &t->spool.items[i];
		t->replay_fd = open(sp->path, O_RDONLY | O_CLOEXEC);
		if (t->replay_fd < 0)
			return swi_fail(t->ctx, SWI_EIO, "%s: %s", sp->path, strerror(errno));
		t->member = (struct swi_member){ .name = sp->name, .size = sp->size };
		swi_log(t->ctx, SWI_LOG_INFO, "%s: writing it from its spooled copy", sp->name);
		size_t n = jobs_for_member(t, SWI_JOB_SPOOLED, jobs);
		rc = install_member(t, jobs, n);
		close(t->replay_fd);
		t->replay_fd = -1;
		swi_spool_release(&t->spool, i);
	}
	return rc;
}

/* The "before" phase, once every script it needs arrived: the scripts,
 * then what waited for them. */
static int before_phase_when_ready(struct txn *t, struct swi_job **jobs)
{
	if (t->plan.before_ran || !swi_plan_before_ready(&t->plan))
		return SWI_OK;
	t->plan.before_ran = true;
	int rc = run_phase(t, SWI_PHASE_BEFORE);
	if (rc == SWI_OK && !t->replay_buf && t->spool.count &&
	    !(t->replay_buf = malloc(REPLAY_BLOCK)))
		rc = swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	if (rc == SWI_OK)
		rc = write_spooled(t, jobs);
	return rc;
}

/* A failed install runs the failure phase; what fails there is logged,
 * the install's own error stays the one reported. */
static void failure_phase(struct txn *t)
{
	/* What was written or staged is undone first: the scripts see the
	 * device as the failed install leaves it. */
	for (size_t i = 0; i < t->plan.njobs; i++)
		abort_job(&t->plan.jobs[i]);
	char cause[sizeof(t->ctx->errmsg)];
	int status = t->ctx->last_status;
	memcpy(cause, t->ctx->errmsg, sizeof(cause));
	/* A cancel ended the install; the failure scripts still run (another
	 * cancel while they do stops them). */
	int cancelled = atomic_exchange(&t->ctx->cancel, 0);
	if (run_phase(t, SWI_PHASE_FAILURE))
		swi_log(t->ctx, SWI_LOG_ERROR, "%s", t->ctx->errmsg);
	if (cancelled)
		atomic_store(&t->ctx->cancel, cancelled);
	memcpy(t->ctx->errmsg, cause, sizeof(cause));
	t->ctx->last_status = status;
}

/* An artifact that came before a "before" script it must wait for. A dry
 * run writes nothing, so it only says so and reads on. */
static int hold_back(struct txn *t, struct swi_job **jobs)
{
	const struct swi_job *script = swi_plan_waiting_script(&t->plan);
	const char *waits_for = script->target.entry->filename;
	size_t n = jobs_for_member(t, SWI_JOB_STREAMED, jobs);
	if (writes_nothing(t->ctx)) {
		swi_log(t->ctx, SWI_LOG_INFO, "%s: comes before the script %s; an install would "
			"spool it and write it after that script ran", t->member.name, waits_for);
		return install_member(t, jobs, n);
	}
	int rc = swi_spool_member(&t->spool, &t->scratch, t->swu, &t->member, waits_for);
	for (size_t i = 0; rc == SWI_OK && i < n; i++)
		jobs[i]->kind = SWI_JOB_SPOOLED;
	return rc;
}

static int take_member(struct txn *t, struct swi_job **jobs)
{
	switch (swi_plan_arrival(&t->plan, t->member.name)) {
	case SWI_ARRIVAL_STREAM:
		return install_member(t, jobs, jobs_for_member(t, SWI_JOB_STREAMED, jobs));
	case SWI_ARRIVAL_SPOOL:
		return hold_back(t, jobs);
	case SWI_ARRIVAL_AGAIN:
		return swi_fail(t->ctx, SWI_EFORMAT, "%s: the member appears twice in the image",
				t->member.name);
	case SWI_ARRIVAL_UNUSED:
		break;
	}
	swi_log(t->ctx, SWI_LOG_DEBUG, "%s: not used by this selection; skipped", t->member.name);
	return SWI_OK;
}

/* Entries without data (partitioning) go first, before any script. */
static int run_dataless(struct txn *t)
{
	for (size_t i = 0; i < t->plan.njobs; i++) {
		struct swi_job *j = &t->plan.jobs[i];
		if (j->kind != SWI_JOB_DATALESS)
			continue;
		int rc = writes_nothing(t->ctx) ? SWI_OK : ensure_marked(t);
		if (rc == SWI_OK && !writes_nothing(t->ctx))
			rc = open_target(j);
		if (rc == SWI_OK && j->opened)
			rc = j->target.handler->close(&j->target);
		if (rc)
			return rc;
		j->opened = SWI_HANDLER_GET(j->target.handler, commit, NULL) != NULL;
		j->done = true;
		t->installed++;
	}
	return SWI_OK;
}

static int stream_members(struct txn *t)
{
	struct swi_job **jobs = calloc(t->plan.njobs + 1, sizeof(*jobs));
	if (!jobs)
		return swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	int rc = run_dataless(t);
	if (rc == SWI_OK)
		rc = before_phase_when_ready(t, jobs);
	/* read_description() left the reader on the first artifact (or at the end). */
	while (rc == SWI_OK && !t->at_end) {
		if (swi_cancelled(t->ctx)) {
			rc = swi_fail_cancelled(t->ctx);
			break;
		}
		rc = take_member(t, jobs);
		if (rc == SWI_OK)
			rc = before_phase_when_ready(t, jobs);
		if (rc == SWI_OK)
			rc = next_member(t);
	}
	free(jobs);
	return rc == SWI_END ? SWI_OK : rc;
}

/* Every job's member arrived. A job spooled for a script that never came
 * is not the one to name: the script is. */
static int check_all_arrived(struct txn *t)
{
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < t->plan.njobs; i++) {
			const struct swi_job *j = &t->plan.jobs[i];
			if (!j->done && (pass == 1 || j->kind != SWI_JOB_SPOOLED))
				return swi_fail(t->ctx, SWI_EFORMAT,
						"%s: named in sw-description but missing from the image",
						j->target.entry->filename);
		}
	return SWI_OK;
}

/* ---- the device's own commands: -P, -p ---------------------------------- */

static int run_command(struct txn *t, const char *what, const char *command)
{
	char **argv = NULL;
	int rc = swi_split_command(t->ctx, command, &argv);
	if (rc == SWI_OK)
		rc = swi_run_program(t->ctx, what, (const char *const *)argv, NULL,
				     swi_opt_script_timeout(t->ctx));
	free(argv);
	return rc;
}

/* preupdatecmd: before anything is written; its failure refuses the
 * install with nothing changed. */
static int run_preupdate(struct txn *t)
{
	const char *cmd = t->ctx->opt.preupdate_cmd;
	return cmd && !writes_nothing(t->ctx) ? run_command(t, "pre-update command", cmd) : SWI_OK;
}

/* postupdatecmd: after the commit. Its failure is reported, but the
 * update stays installed and committed. */
static int run_postupdate(struct txn *t)
{
	const char *cmd = t->ctx->opt.postupdate_cmd;
	if (!cmd || !t->committed)
		return SWI_OK;
	int rc = run_command(t, "post-update command", cmd);
	if (rc)
		rc = swi_fail(t->ctx, rc, "the update is installed and committed, but %s",
			      t->ctx->errmsg);
	return rc;
}

/* ---- the whole ---------------------------------------------------------- */

/* Steps 1 to 3. Only an install needs a signature without a key
 * (swi_read_image_version() verifies one when a key is set). */
static int read_manifest(struct txn *t, const char **select, bool signature_required)
{
	int rc = load_aes_key(t);
	if (rc == SWI_OK)
		rc = read_description(t);
	if (rc == SWI_OK && t->ctx->opt.encrypted_sw_description)
		rc = swi_aes_decrypt_description(t->ctx, &t->aes, &t->description,
						 &t->description_len, MAX_DESCRIPTION_SIZE);
	if (rc == SWI_OK && (signature_required || t->ctx->opt.public_key))
		rc = check_signature(t);
	if (rc == SWI_OK)
		rc = parse_manifest(t, select);
	if (rc && !t->ctx->opt.encrypted_sw_description)
		rc = swi_aes_hint_description(t->ctx, rc, t->description, t->description_len);
	return rc;
}

/* A staged commit is applied only while the slot that ran at staging
 * still runs: that slot must be known. */
static int check_stageable(struct txn *t)
{
	if (t->ctx->install_mode != SWI_MODE_STAGE || t->ctx->opt.slots.count == 0 || t->running)
		return SWI_OK;
	return swi_fail(t->ctx, SWI_ESTATE, "stage: the running slot is unknown, so a staged "
			"commit could not be checked against it at apply; install instead");
}

static int verify_and_plan(struct txn *t)
{
	const char *select = NULL;
	int rc = read_manifest(t, &select, true);
	if (rc == SWI_OK)
		rc = check_stageable(t);
	if (rc == SWI_OK)
		rc = check_version_guards(t);
	if (rc == SWI_OK)
		rc = plan(t, select);
	return rc;
}

/* Reading the image starts the verifying phase. */
static int open_image(struct txn *t, swi_read_fn fn, void *user, enum swi_swu_mode mode)
{
	t->image_size = swi_source_size(fn, user);
	report_phase(t, SWI_PROGRESS_VERIFYING);
	return swi_swu_open(t->ctx, fn, user, mode, &t->swu);
}

/* A failure a cancel caused (a read it cut short, a script it killed) is
 * reported as the cancel. */
static int cancel_wins(swi_ctx_t *ctx, int rc)
{
	return rc && rc != SWI_ECANCELED && swi_cancelled(ctx) ? swi_fail_cancelled(ctx) : rc;
}

static int run(struct txn *t, swi_read_fn fn, void *user, enum swi_swu_mode mode)
{
	swi_ctx_t *ctx = t->ctx;
	int rc = writes_nothing(ctx) ? SWI_OK : swi_lock_take(ctx, &t->lock_fd);
	if (rc == SWI_OK)
		rc = open_image(t, fn, user, mode);
	if (rc == SWI_OK)
		rc = verify_and_plan(t);
	if (rc || ctx->opt.check_only)
		return cancel_wins(ctx, rc);
	if (nothing_left(t)) {
		swi_log(ctx, SWI_LOG_INFO, "every entry of the image is installed already; "
			"nothing was written");
		report_finished(t);
		return SWI_OK;
	}
	rc = run_preupdate(t);
	if (rc == SWI_OK)
		report_phase(t, SWI_PROGRESS_INSTALLING);
	if (rc == SWI_OK)
		rc = stream_members(t);
	if (rc == SWI_OK)
		rc = check_all_arrived(t);
	if (rc == SWI_OK)
		report_phase(t, SWI_PROGRESS_COMMITTING);
	if (rc == SWI_OK)
		rc = run_phase(t, SWI_PHASE_AFTER);
	/* The last moment a cancel can take effect: from here on, the install
	 * completes. */
	if (rc == SWI_OK && swi_cancelled(ctx))
		rc = swi_fail_cancelled(ctx);
	if (rc == SWI_OK && !writes_nothing(ctx))
		rc = ensure_marked(t);
	if (rc == SWI_OK && !writes_nothing(ctx))
		rc = publish_staged(t);
	if (rc == SWI_OK && !writes_nothing(ctx))
		rc = ctx->install_mode == SWI_MODE_STAGE ? stage_commit(t) : commit(t);
	if (rc == SWI_OK)
		report_finished(t);
	rc = cancel_wins(ctx, rc);
	if (rc && t->marked)
		mark_failed(t);
	if (rc)
		failure_phase(t);
	return rc ? rc : run_postupdate(t);
}

static void txn_free(struct txn *t)
{
	for (size_t i = 0; i < t->plan.njobs; i++)
		abort_job(&t->plan.jobs[i]);
	swi_plan_free(&t->plan);
	swi_lua_free(t->embedded);
	swi_spool_free(&t->spool);
	free(t->replay_buf);
	swi_scratch_remove(&t->scratch);
	/* Every staged file is in place or removed now. */
	swi_journal_close(&t->journal);
	swi_manifest_free(&t->manifest);
	swi_attrs_free(&t->staged);
	swi_bootenv_close(t->env);
	swi_swu_close(t->swu);
	free(t->description);
	free(t->signature);
	swi_aes_key_clear(&t->aes);
	swi_lock_release(t->lock_fd);
}

static void keep_result(swi_ctx_t *ctx, const struct txn *t)
{
	free(ctx->result_slot);
	ctx->result_slot = t->slot_written ? strdup(t->slot->name) : NULL;
	free(ctx->result_version);
	ctx->result_version = t->manifest.version ? strdup(t->manifest.version) : NULL;
	ctx->result = (struct swi_result){
		.planned = (unsigned)t->plan.njobs,
		.installed = t->installed,
		.skipped = t->skipped,
		.committed = t->committed,
		.nothing_to_do = nothing_left(t),
		.slot = ctx->result_slot,
		.staged = t->staged_commit,
		.version = ctx->result_version,
	};
}

#define TXN_INIT(ctx) { .ctx = ctx, .lock_fd = -1, .journal = { .ctx = ctx, .fd = -1 }, \
			.scratch = { .ctx = ctx }, .plan = { .ctx = ctx }, \
			.spool = { .ctx = ctx }, .replay_fd = -1 }

static int install(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_swu_mode mode,
		   enum swi_install_mode what)
{
	ctx->errmsg[0] = '\0';
	ctx->last_status = SWI_OK;
	ctx->install_mode = what;
	struct txn t = TXN_INIT(ctx);
	/* The copy is completed once the transaction let go of the source. */
	struct swi_tee tee;
	int rc = swi_tee_open(ctx, &tee, &fn, &user);
	if (rc == SWI_OK)
		rc = run(&t, fn, user, mode);
	keep_result(ctx, &t);
	txn_free(&t);
	rc = swi_tee_close(&tee, rc);
	ctx->install_mode = SWI_MODE_INSTALL;
	atomic_store(&ctx->cancel, 0);
	return rc;
}

/* The caller's function is only ever called on the caller's thread. */
static int install_read(swi_ctx_t *ctx, swi_read_fn fn, void *user, enum swi_install_mode what)
{
	if (!ctx || !fn)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "no image source given") : SWI_EINVAL;
	return install(ctx, fn, user, SWI_SWU_INLINE, what);
}

/* Files and block devices are read ahead, pipes and sockets on the
 * caller's thread (lib/source.c). */
static int install_fd(swi_ctx_t *ctx, int fd, enum swi_install_mode what)
{
	if (!ctx)
		return SWI_EINVAL;
	if (fd < 0)
		return swi_fail(ctx, SWI_EINVAL, "no valid file descriptor given");
	struct swi_fd_source src = { ctx, fd };
	return install(ctx, swi_fd_read, &src, swi_fd_mode(fd), what);
}

static int install_file(swi_ctx_t *ctx, const char *path, enum swi_install_mode what)
{
	if (!ctx || !path)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "no image path given") : SWI_EINVAL;
	int fd;
	int rc = swi_open_image(ctx, path, &fd);
	if (rc)
		return rc;
	rc = install_fd(ctx, fd, what);
	close(fd);
	return rc;
}

int swi_install_read(swi_ctx_t *ctx, swi_read_fn fn, void *user)
{
	return install_read(ctx, fn, user, SWI_MODE_INSTALL);
}

int swi_install_fd(swi_ctx_t *ctx, int fd)
{
	return install_fd(ctx, fd, SWI_MODE_INSTALL);
}

int swi_install_file(swi_ctx_t *ctx, const char *path)
{
	return install_file(ctx, path, SWI_MODE_INSTALL);
}

int swi_verify_read(swi_ctx_t *ctx, swi_read_fn fn, void *user)
{
	return install_read(ctx, fn, user, SWI_MODE_VERIFY);
}

int swi_verify_fd(swi_ctx_t *ctx, int fd)
{
	return install_fd(ctx, fd, SWI_MODE_VERIFY);
}

int swi_verify_file(swi_ctx_t *ctx, const char *path)
{
	return install_file(ctx, path, SWI_MODE_VERIFY);
}

int swi_stage_read(swi_ctx_t *ctx, swi_read_fn fn, void *user)
{
	return install_read(ctx, fn, user, SWI_MODE_STAGE);
}

int swi_stage_fd(swi_ctx_t *ctx, int fd)
{
	return install_fd(ctx, fd, SWI_MODE_STAGE);
}

int swi_stage_file(swi_ctx_t *ctx, const char *path)
{
	return install_file(ctx, path, SWI_MODE_STAGE);
}

/* Steps 1 to 3 of an install, without the lock: the image's version as
 * an install here would read it. */
int swi_read_image_version(swi_ctx_t *ctx, const char *path, char **version)
{
	*version = NULL;
	int fd;
	int rc = swi_open_image(ctx, path, &fd);
	if (rc)
		return rc;
	struct swi_fd_source src = { ctx, fd };
	struct txn t = TXN_INIT(ctx);
	const char *select = NULL;
	ctx->install_mode = SWI_MODE_VERIFY;
	rc = swi_swu_open(ctx, swi_fd_read, &src, swi_fd_mode(fd), &t.swu);
	if (rc == SWI_OK)
		rc = read_manifest(&t, &select, false);
	if (rc == SWI_OK && !t.manifest.version)
		rc = swi_fail(ctx, SWI_EFORMAT, "%s: " SW_DESCRIPTION " gives no software version",
			      path);
	if (rc == SWI_OK && !(*version = strdup(t.manifest.version)))
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	txn_free(&t);
	ctx->install_mode = SWI_MODE_INSTALL;
	close(fd);
	return rc;
}
