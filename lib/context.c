/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context: options, callbacks and the last error. */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "context.h"
#include "lua_handlers.h"

int swi_ctx_new(swi_ctx_t **out)
{
	if (!out)
		return SWI_EINVAL;
	*out = calloc(1, sizeof(**out));
	if (!*out)
		return SWI_ENOMEM;
	pthread_mutex_init(&(*out)->lock, NULL);
	return SWI_OK;
}

static void free_options(struct swi_options *o)
{
	free(o->public_key);
	free(o->cert_purpose);
	free(o->forced_signer_name);
	free(o->signature_scheme);
	free(o->select);
	free(o->hwrevision);
	free(o->hwrevision_file);
	free(o->sw_versions_file);
	free(o->bootloader);
	free(o->uboot_env_config);
	free(o->grubenv);
	free(o->cmdline_file);
	free(o->mountinfo_file);
	free(o->lock_file);
	free(o->lock_wait);
	free(o->state_dir);
	free(o->min_free_space);
	free(o->no_downgrading);
	free(o->no_reinstalling);
	free(o->max_version);
	free(o->key_aes);
	free(o->tmpdir);
	free(o->script_timeout);
	free(o->url_ca_file);
	free(o->url_client_cert);
	free(o->url_client_key);
	free(o->url_retries);
	free(o->url_timeout);
	free(o->save_to);
	free(o->preupdate_cmd);
	free(o->postupdate_cmd);
	free(o->lua_handlers);
	for (size_t i = 0; i < o->nextra_targets; i++)
		free(o->extra_targets[i]);
	free(o->extra_targets);
	swi_slots_free(&o->slots);
	swi_attrs_free(&o->mark_good_env);
	swi_attrs_free(&o->rollback_env);
}

void swi_ctx_free(swi_ctx_t *ctx)
{
	if (!ctx)
		return;
	free_options(&ctx->opt);
	swi_lua_handlers_free(ctx->lua_handlers);
	free(ctx->handlers);
	swi_attrs_free(&ctx->state_text);
	free(ctx->state_versions);
	free(ctx->result_slot);
	free(ctx->result_version);
	free(ctx->state_slots);
	free(ctx->installed_version);
	free(ctx->installed_slot);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
}

const char *swi_errmsg(const swi_ctx_t *ctx)
{
	if (!ctx)
		return "no context";
	return ctx->errmsg[0] ? ctx->errmsg : swi_strerror(ctx->last_status);
}

const char *swi_strerror(int status)
{
	switch (status) {
	case SWI_OK: return "success";
	case SWI_EINVAL: return "invalid argument";
	case SWI_ECONFIG: return "configuration error";
	case SWI_ENOMEM: return "out of memory";
	case SWI_EIO: return "input/output error";
	case SWI_EFORMAT: return "malformed image";
	case SWI_ESIG: return "signature verification failed";
	case SWI_EHASH: return "checksum mismatch";
	case SWI_ECOMPAT: return "image not compatible with this device";
	case SWI_EHANDLER: return "handler failed";
	case SWI_EUNSUPPORTED: return "unsupported feature";
	case SWI_EBUSY: return "another install or life-cycle change is running";
	case SWI_ESTATE: return "not possible in the device's current update state";
	case SWI_ECANCELED: return "cancelled";
	default: return "unknown error";
	}
}

const char *swi_version(void)
{
	return SWI_VERSION_STRING;
}

/* Messages name members and paths taken from the image: a control
 * character in one (an escape sequence, a newline) is written as \xNN, so
 * no image can forge or hide lines on the terminal or in a log. text holds
 * size bytes; what no longer fits is cut. */
static void escape_controls(char *text, size_t size)
{
	char copy[1024];
	snprintf(copy, sizeof(copy), "%s", text);
	size_t out = 0;
	for (const unsigned char *in = (const unsigned char *)copy; *in && out + 5 < size; in++) {
		if (*in < 0x20 || *in == 0x7f)
			out += (size_t)snprintf(text + out, size - out, "\\x%02x", *in);
		else
			text[out++] = (char)*in;
	}
	text[out] = '\0';
}

int swi_vfail(swi_ctx_t *ctx, int status, const char *fmt, va_list ap)
{
	char message[sizeof(ctx->errmsg)];
	vsnprintf(message, sizeof(message), fmt, ap);
	escape_controls(message, sizeof(message));
	pthread_mutex_lock(&ctx->lock);
	ctx->last_status = status;
	memcpy(ctx->errmsg, message, sizeof(message));
	pthread_mutex_unlock(&ctx->lock);
	return status;
}

int swi_fail(swi_ctx_t *ctx, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	swi_vfail(ctx, status, fmt, ap);
	va_end(ap);
	return status;
}

void swi_vlog(swi_ctx_t *ctx, int level, const char *fmt, va_list ap)
{
	if (!ctx->log_fn)
		return;
	char line[1024];
	vsnprintf(line, sizeof(line), fmt, ap);
	escape_controls(line, sizeof(line));
	pthread_mutex_lock(&ctx->lock);
	ctx->log_fn(ctx->log_user, level, line);
	pthread_mutex_unlock(&ctx->lock);
}

void swi_log(swi_ctx_t *ctx, int level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	swi_vlog(ctx, level, fmt, ap);
	va_end(ap);
}

void swi_set_log(swi_ctx_t *ctx, swi_log_fn fn, void *user)
{
	ctx->log_fn = fn;
	ctx->log_user = user;
}

void swi_set_progress(swi_ctx_t *ctx, swi_progress_fn fn, void *user)
{
	ctx->progress_fn = fn;
	ctx->progress_user = user;
}

/* Options are looked up by name in one table, so the configuration file,
 * the CLI and an agent all use the same words. */
enum opt_kind { OPT_STRING, OPT_BOOL };

struct opt_def {
	const char *name;
	enum opt_kind kind;
	size_t offset;
};

#define STR_OPT(n, f) { n, OPT_STRING, offsetof(struct swi_options, f) }
#define BOOL_OPT(n, f) { n, OPT_BOOL, offsetof(struct swi_options, f) }

static const struct opt_def options[] = {
	STR_OPT("public-key", public_key),
	STR_OPT("cert-purpose", cert_purpose),
	STR_OPT("forced-signer-name", forced_signer_name),
	STR_OPT("signature-scheme", signature_scheme),
	STR_OPT("select", select),
	STR_OPT("hwrevision", hwrevision),
	STR_OPT("hwrevision-file", hwrevision_file),
	STR_OPT("sw-versions-file", sw_versions_file),
	STR_OPT("bootloader", bootloader),
	STR_OPT("uboot-env-config", uboot_env_config),
	STR_OPT("grubenv", grubenv),
	STR_OPT("cmdline-file", cmdline_file),
	STR_OPT("mountinfo-file", mountinfo_file),
	STR_OPT("lock-file", lock_file),
	STR_OPT("lock-wait", lock_wait),
	STR_OPT("state-dir", state_dir),
	STR_OPT("min-free-space", min_free_space),
	STR_OPT("no-downgrading", no_downgrading),
	STR_OPT("no-reinstalling", no_reinstalling),
	STR_OPT("max-version", max_version),
	STR_OPT("key-aes", key_aes),
	STR_OPT("tmpdir", tmpdir),
	STR_OPT("script-timeout", script_timeout),
	STR_OPT("preupdatecmd", preupdate_cmd),
	STR_OPT("postupdatecmd", postupdate_cmd),
	STR_OPT("lua-handlers", lua_handlers),
	STR_OPT("url-ca-file", url_ca_file),
	STR_OPT("url-client-cert", url_client_cert),
	STR_OPT("url-client-key", url_client_key),
	STR_OPT("url-retries", url_retries),
	STR_OPT("url-timeout", url_timeout),
	STR_OPT("save-to", save_to),
	BOOL_OPT("encrypted-sw-description", encrypted_sw_description),
	BOOL_OPT("insecure", insecure),
	BOOL_OPT("dry-run", dry_run),
	BOOL_OPT("check", check_only),
	BOOL_OPT("force", force),
};

static const struct opt_def *find_option(const char *name)
{
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(options[i].name, name) == 0)
			return &options[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	if (!v || !strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no")) {
		*out = false;
		return 0;
	}
	if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*out = true;
		return 0;
	}
	return -1;
}

static bool is_version_guard(const char *name)
{
	return !strcmp(name, "no-downgrading") || !strcmp(name, "no-reinstalling") ||
	       !strcmp(name, "max-version");
}

static int check_value(swi_ctx_t *ctx, const char *name, const char *value)
{
	long seconds;
	if (!value)
		return SWI_OK;
	if (!strcmp(name, "cert-purpose") && strcmp(value, "emailProtection") &&
	    strcmp(value, "codeSigning"))
		return swi_fail(ctx, SWI_EINVAL,
				"cert-purpose: '%s' is not emailProtection or codeSigning", value);
	if (!strcmp(name, "signature-scheme") && strcmp(value, "cms") && strcmp(value, "rsa") &&
	    strcmp(value, "rsa-pss"))
		return swi_fail(ctx, SWI_EINVAL,
				"signature-scheme: '%s' is not one of cms, rsa, rsa-pss", value);
	if (is_version_guard(name) && !*value)
		return swi_fail(ctx, SWI_EINVAL, "%s: the version is empty", name);
	if (!strcmp(name, "bootloader") && strcmp(value, "uboot") && strcmp(value, "grub") &&
	    strcmp(value, "none"))
		return swi_fail(ctx, SWI_EINVAL,
				"bootloader: '%s' is not one of uboot, grub, none", value);
	if (!strcmp(name, "hwrevision") && (!strchr(value, ':') || value[0] == ':'))
		return swi_fail(ctx, SWI_EINVAL,
				"hwrevision: '%s' is not BOARD:REVISION", value);
	if (!strcmp(name, "lock-wait") && swi_parse_wait(value, NULL))
		return swi_fail(ctx, SWI_EINVAL,
				"lock-wait: '%s' is not a number of seconds or \"forever\"", value);
	if (!strcmp(name, "min-free-space") && swi_parse_reserve(value, NULL, NULL))
		return swi_fail(ctx, SWI_EINVAL,
				"min-free-space: '%s' is not a size (16M) or a percentage (5%%)", value);
	if (!strcmp(name, "script-timeout") && (swi_parse_wait(value, &seconds) || seconds <= 0))
		return swi_fail(ctx, SWI_EINVAL,
				"script-timeout: '%s' is not a positive number of seconds", value);
	if (!strcmp(name, "url-timeout") && (swi_parse_wait(value, &seconds) || seconds <= 0))
		return swi_fail(ctx, SWI_EINVAL,
				"url-timeout: '%s' is not a positive number of seconds", value);
	if (!strcmp(name, "url-retries") && (swi_parse_wait(value, &seconds) || seconds < 0))
		return swi_fail(ctx, SWI_EINVAL,
				"url-retries: '%s' is not a number of attempts", value);
	if ((!strcmp(name, "lock-file") || !strcmp(name, "state-dir") ||
	     !strcmp(name, "tmpdir")) && value[0] != '/')
		return swi_fail(ctx, SWI_EINVAL, "%s: '%s' is not an absolute path", name, value);
	if (!strcmp(name, "select")) {
		const char *comma = strchr(value, ',');
		if (!comma || comma == value || !comma[1] || strchr(comma + 1, ','))
			return swi_fail(ctx, SWI_EINVAL, "select: '%s' is not SET,MODE", value);
	}
	return SWI_OK;
}

int swi_set_option(swi_ctx_t *ctx, const char *name, const char *value)
{
	if (!ctx || !name)
		return SWI_EINVAL;
	const struct opt_def *def = find_option(name);
	if (!def)
		return swi_fail(ctx, SWI_EINVAL, "unknown option '%s'", name);
	int rc = check_value(ctx, name, value);
	if (rc)
		return rc;
	void *field = (char *)&ctx->opt + def->offset;
	if (def->kind == OPT_BOOL) {
		if (parse_bool(value, field) < 0)
			return swi_fail(ctx, SWI_EINVAL,
					"%s: '%s' is not a boolean (true or false)", name, value);
		return SWI_OK;
	}
	char *copy = NULL;
	if (value && !(copy = strdup(value)))
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	char **slot = field;
	free(*slot);
	*slot = copy;
	return SWI_OK;
}

const char *swi_get_option(const swi_ctx_t *ctx, const char *name)
{
	const struct opt_def *def = ctx && name ? find_option(name) : NULL;
	if (!def)
		return NULL;
	const void *field = (const char *)&ctx->opt + def->offset;
	if (def->kind == OPT_BOOL)
		return *(const bool *)field ? "true" : NULL;
	return *(char *const *)field;
}

static const char *or_default(const char *v, const char *def)
{
	return v ? v : def;
}

const char *swi_opt_hwrevision_file(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.hwrevision_file, "/etc/hwrevision");
}

const char *swi_opt_sw_versions_file(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.sw_versions_file, "/etc/sw-versions");
}

const char *swi_opt_bootloader(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.bootloader, "none");
}

const char *swi_opt_uboot_env_config(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.uboot_env_config, "/etc/fw_env.config");
}

const char *swi_opt_cert_purpose(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.cert_purpose, "emailProtection");
}

const char *swi_opt_grubenv(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.grubenv, "/boot/grub/grubenv");
}

const char *swi_opt_cmdline_file(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.cmdline_file, "/proc/cmdline");
}

const char *swi_opt_mountinfo_file(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.mountinfo_file, "/proc/self/mountinfo");
}

const char *swi_opt_lock_file(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.lock_file, "/run/swinstall.lock");
}

const char *swi_opt_tmpdir(const swi_ctx_t *ctx)
{
	const char *env = getenv("TMPDIR");
	return or_default(ctx->opt.tmpdir, env && env[0] == '/' ? env : "/tmp");
}

long swi_opt_script_timeout(const swi_ctx_t *ctx)
{
	long seconds = 900;
	if (ctx->opt.script_timeout)
		swi_parse_wait(ctx->opt.script_timeout, &seconds);
	return seconds;
}

const char *swi_opt_state_dir(const swi_ctx_t *ctx)
{
	return or_default(ctx->opt.state_dir, "/var/lib/swinstall");
}

int swi_parse_wait(const char *text, long *seconds)
{
	long v = -1;
	if (text && strcmp(text, "forever") != 0) {
		char *end;
		errno = 0;
		v = strtol(text, &end, 10);
		if (end == text || *end || errno || v < 0)
			return -1;
	}
	if (seconds)
		*seconds = text ? v : 0;
	return 0;
}

int swi_parse_reserve(const char *text, uint64_t *bytes, unsigned *percent)
{
	uint64_t b = 0;
	unsigned pct = 1;
	if (text) {
		size_t len = strlen(text);
		pct = 0;
		if (len > 1 && text[len - 1] == '%') {
			char *end;
			errno = 0;
			unsigned long v = strtoul(text, &end, 10);
			if (end != text + len - 1 || errno || v > 100 || text[0] == '-')
				return -1;
			pct = (unsigned)v;
		} else if (swi_parse_size(text, &b)) {
			return -1;
		}
	}
	if (bytes)
		*bytes = b;
	if (percent)
		*percent = pct;
	return 0;
}

int swi_cancel(swi_ctx_t *ctx)
{
	if (!ctx)
		return SWI_EINVAL;
	atomic_store(&ctx->cancel, 1);
	return SWI_OK;
}

bool swi_cancelled(swi_ctx_t *ctx)
{
	return atomic_load(&ctx->cancel) != 0;
}

int swi_fail_cancelled(swi_ctx_t *ctx)
{
	return swi_fail(ctx, SWI_ECANCELED,
			"cancelled: the install stopped before it finished and what it had "
			"started was undone; the device boots what it booted before");
}

int swi_get_result(const swi_ctx_t *ctx, struct swi_result *result)
{
	if (!ctx || !result)
		return SWI_EINVAL;
	*result = ctx->result;
	return SWI_OK;
}

int swi_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}
