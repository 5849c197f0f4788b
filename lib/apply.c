/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A staged install's commit: kept in a file of the state directory until
 * swi_apply() writes it to the bootloader environment. The file holds
 * NUL-terminated fields (a value may hold any other byte): a header, the
 * slot written, the slot that ran, the image's version, then NAME, VALUE
 * pairs of the environment write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "apply.h"
#include "bootenv.h"
#include "exec.h"
#include "lock.h"
#include "slots.h"
#include "staging.h"

#define HEADER "swinstall staged commit 1"
#define TMP_NAME "." SWI_STAGED_FILE ".tmp"
#define MAX_FILE_SIZE (1024 * 1024)

int swi_version_var(swi_ctx_t *ctx, const char *slot, char *out, size_t size)
{
	int n = slot ? snprintf(out, size, "swinstall_version_%s", slot)
		     : snprintf(out, size, "swinstall_version");
	if (n < 0 || (size_t)n >= size)
		return swi_fail(ctx, SWI_EINVAL, "slot name '%s' is too long for a variable name",
				slot);
	return SWI_OK;
}

/* ---- saving ---------------------------------------------------------------- */

static int add_field(FILE *f, const char *text)
{
	const char *s = text ? text : "";
	return fwrite(s, 1, strlen(s) + 1, f) == strlen(s) + 1 ? 0 : -1;
}

static int serialize(const char *slot, const char *running, const char *version,
		     const struct swi_attrs *vars, char **buf, size_t *len)
{
	FILE *f = open_memstream(buf, len);
	if (!f)
		return -1;
	int rc = add_field(f, HEADER) | add_field(f, slot) | add_field(f, running) |
		 add_field(f, version);
	for (size_t i = 0; i < vars->count; i++)
		rc |= add_field(f, vars->items[i].name) | add_field(f, vars->items[i].value);
	return fclose(f) || rc ? -1 : 0;
}

static int write_durably(swi_ctx_t *ctx, int dirfd, const char *buf, size_t len)
{
	const char *dir = swi_opt_state_dir(ctx);
	int fd = openat(dirfd, TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			0600);
	if (fd < 0)
		return swi_fail(ctx, SWI_EIO, "%s/%s: %s", dir, TMP_NAME, strerror(errno));
	int err = swi_write_all(fd, buf, len) < 0 || fsync(fd) < 0 ? errno : 0;
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && renameat(dirfd, TMP_NAME, dirfd, SWI_STAGED_FILE) < 0)
		err = errno;
	if (!err && fsync(dirfd) < 0)
		err = errno;
	if (err) {
		unlinkat(dirfd, TMP_NAME, 0);
		return swi_fail(ctx, SWI_EIO, "%s/%s: cannot keep the staged commit: %s", dir,
				SWI_STAGED_FILE, strerror(err));
	}
	return SWI_OK;
}

int swi_staged_save(swi_ctx_t *ctx, const char *slot, const char *running,
		    const char *version, const struct swi_attrs *vars)
{
	char *buf = NULL;
	size_t len = 0;
	if (serialize(slot, running, version, vars, &buf, &len)) {
		free(buf);
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	int dirfd;
	int rc = swi_open_dir_nofollow(ctx, swi_opt_state_dir(ctx), true, &dirfd);
	if (rc)
		rc = swi_fail(ctx, SWI_ECONFIG, "state-dir: %s", swi_errmsg(ctx));
	if (rc == SWI_OK) {
		rc = write_durably(ctx, dirfd, buf, len);
		close(dirfd);
	}
	free(buf);
	return rc;
}

/* ---- loading --------------------------------------------------------------- */

static int read_file(swi_ctx_t *ctx, const char *path, char **buf, size_t *len)
{
	*buf = NULL;
	*len = 0;
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? SWI_OK : swi_fail(ctx, SWI_EIO, "%s: %s", path,
							   strerror(errno));
	char *data = malloc(MAX_FILE_SIZE + 1);
	size_t n = data ? fread(data, 1, MAX_FILE_SIZE + 1, f) : 0;
	int err = ferror(f);
	fclose(f);
	if (!data)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	if (err || n > MAX_FILE_SIZE) {
		free(data);
		return swi_fail(ctx, SWI_EIO, "%s: %s", path,
				err ? "read error" : "larger than a staged commit can be");
	}
	*buf = data;
	*len = n;
	return SWI_OK;
}

/* The next NUL-terminated field at *at, or NULL at the end (or when the
 * last one is cut short). */
static const char *next_field(const char *buf, size_t len, size_t *at)
{
	if (*at >= len || !memchr(buf + *at, '\0', len - *at))
		return NULL;
	const char *field = buf + *at;
	*at += strlen(field) + 1;
	return field;
}

static int parse(swi_ctx_t *ctx, const char *path, const char *buf, size_t len,
		 struct swi_staged *out)
{
	size_t at = 0;
	const char *header = next_field(buf, len, &at);
	const char *slot = next_field(buf, len, &at);
	const char *running = next_field(buf, len, &at);
	const char *version = next_field(buf, len, &at);
	if (!header || strcmp(header, HEADER) != 0 || !version)
		return swi_fail(ctx, SWI_EFORMAT, "%s: not a staged commit of this swinstall", path);
	out->slot = strdup(slot);
	out->running = strdup(running);
	out->version = strdup(version);
	if (!out->slot || !out->running || !out->version)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	for (const char *name; (name = next_field(buf, len, &at));) {
		const char *value = next_field(buf, len, &at);
		if (!value)
			return swi_fail(ctx, SWI_EFORMAT, "%s: variable %s has no value", path, name);
		if (swi_attrs_set(&out->vars, name, value))
			return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	if (at != len)
		return swi_fail(ctx, SWI_EFORMAT, "%s: cut short", path);
	out->present = true;
	return SWI_OK;
}

int swi_staged_load(swi_ctx_t *ctx, struct swi_staged *out)
{
	*out = (struct swi_staged){ 0 };
	char *path = swi_state_file(ctx, SWI_STAGED_FILE);
	if (!path)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	char *buf;
	size_t len;
	int rc = read_file(ctx, path, &buf, &len);
	if (rc == SWI_OK && buf)
		rc = parse(ctx, path, buf, len, out);
	if (rc)
		swi_staged_free(out);
	free(buf);
	free(path);
	return rc;
}

void swi_staged_free(struct swi_staged *s)
{
	free(s->slot);
	free(s->running);
	free(s->version);
	swi_attrs_free(&s->vars);
	*s = (struct swi_staged){ 0 };
}

int swi_staged_discard(swi_ctx_t *ctx, const char *why)
{
	char *path = swi_state_file(ctx, SWI_STAGED_FILE);
	if (!path)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	int rc = SWI_OK;
	if (unlink(path) == 0) {
		swi_sync_dir(swi_opt_state_dir(ctx));
		if (why)
			swi_log(ctx, SWI_LOG_INFO, "%s: the staged commit is discarded (%s)", path,
				why);
	} else if (errno != ENOENT) {
		rc = swi_fail(ctx, SWI_EIO, "%s: cannot discard the staged commit: %s", path,
			      strerror(errno));
	}
	free(path);
	return rc;
}

/* ---- swi_apply() ----------------------------------------------------------- */

/* The commit was made for the slots as they were: the device must still
 * run the slot it ran then. */
static int check_same_running(swi_ctx_t *ctx, const struct swi_staged *st)
{
	if (ctx->opt.slots.count == 0)
		return SWI_OK;
	const struct swi_slot *running;
	const char *found_by;
	if (swi_slots_running(ctx, &ctx->opt.slots, swi_opt_cmdline_file(ctx),
			      swi_opt_mountinfo_file(ctx), &running, &found_by))
		return swi_fail(ctx, SWI_ESTATE, "apply: %s; the commit was staged while slot %s "
				"ran", swi_errmsg(ctx), st->running);
	if (strcmp(running->name, st->running) != 0)
		return swi_fail(ctx, SWI_ESTATE, "apply: slot %s runs now, but the commit was staged "
				"while slot %s ran; install the image again", running->name,
				st->running);
	return SWI_OK;
}

static int run_postupdate(swi_ctx_t *ctx)
{
	const char *cmd = ctx->opt.postupdate_cmd;
	if (!cmd)
		return SWI_OK;
	char **argv = NULL;
	int rc = swi_split_command(ctx, cmd, &argv);
	if (rc == SWI_OK)
		rc = swi_run_program(ctx, "post-update command", (const char *const *)argv, NULL,
				     swi_opt_script_timeout(ctx));
	free(argv);
	if (rc)
		rc = swi_fail(ctx, rc, "the staged update is applied, but %s", swi_errmsg(ctx));
	return rc;
}

static int apply_staged(swi_ctx_t *ctx, const struct swi_staged *st)
{
	struct swi_bootenv *env = NULL;
	int rc = check_same_running(ctx, st);
	if (rc == SWI_OK)
		rc = swi_bootenv_open(ctx, &env);
	if (rc == SWI_OK)
		rc = swi_bootenv_apply(env, &st->vars);
	swi_bootenv_close(env);
	if (rc)
		return rc;
	swi_log(ctx, SWI_LOG_INFO, "apply: bootloader environment committed (%zu variables)%s%s",
		st->vars.count, *st->slot ? "; slot " : "", *st->slot ? st->slot : "");
	/* The environment boots the update now; a file left behind would only
	 * write the same variables again. */
	if (swi_staged_discard(ctx, NULL))
		swi_log(ctx, SWI_LOG_WARN, "%s", swi_errmsg(ctx));
	return SWI_OK;
}

int swi_apply(swi_ctx_t *ctx)
{
	if (!ctx)
		return SWI_EINVAL;
	int lock;
	int rc = swi_lock_take(ctx, &lock);
	if (rc == SWI_OK) {
		struct swi_staged st;
		rc = swi_staged_load(ctx, &st);
		if (rc == SWI_OK && !st.present)
			rc = swi_fail(ctx, SWI_ESTATE, "apply: nothing is staged (no %s in %s)",
				      SWI_STAGED_FILE, swi_opt_state_dir(ctx));
		if (rc == SWI_OK)
			rc = apply_staged(ctx, &st);
		/* As after an install's commit, still under the lock. */
		if (rc == SWI_OK)
			rc = run_postupdate(ctx);
		swi_staged_free(&st);
		swi_lock_release(lock);
	}
	atomic_store(&ctx->cancel, 0);
	return rc;
}
