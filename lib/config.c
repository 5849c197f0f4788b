/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration file (/etc/swinstall.conf): libconfig syntax, one
 * top-level setting per option, named like the option. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libconfig.h>
#include "context.h"

enum key_type { KEY_STRING, KEY_BOOLEAN, KEY_SLOTS, KEY_ENV, KEY_DEVICES };

/* The settings a configuration file may have: the options, named like them,
 * the A/B slots and the variables of mark-good and rollback. dry-run and
 * check are choices of one run, not of the device, so they are not among
 * them. */
static const struct config_key {
	const char *name;
	enum key_type type;
} config_keys[] = {
	{ "public-key", KEY_STRING },
	{ "cert-purpose", KEY_STRING },
	{ "forced-signer-name", KEY_STRING },
	{ "signature-scheme", KEY_STRING },
	{ "select", KEY_STRING },
	{ "hwrevision", KEY_STRING },
	{ "hwrevision-file", KEY_STRING },
	{ "sw-versions-file", KEY_STRING },
	{ "bootloader", KEY_STRING },
	{ "uboot-env-config", KEY_STRING },
	{ "insecure", KEY_BOOLEAN },
	{ "grubenv", KEY_STRING },
	{ "cmdline-file", KEY_STRING },
	{ "mountinfo-file", KEY_STRING },
	{ "lock-file", KEY_STRING },
	{ "lock-wait", KEY_STRING },
	{ "state-dir", KEY_STRING },
	{ "min-free-space", KEY_STRING },
	{ "no-downgrading", KEY_STRING },
	{ "no-reinstalling", KEY_STRING },
	{ "max-version", KEY_STRING },
	{ "key-aes", KEY_STRING },
	{ "tmpdir", KEY_STRING },
	{ "script-timeout", KEY_STRING },
	{ "preupdatecmd", KEY_STRING },
	{ "postupdatecmd", KEY_STRING },
	{ "lua-handlers", KEY_STRING },
	{ "url-ca-file", KEY_STRING },
	{ "url-client-cert", KEY_STRING },
	{ "url-client-key", KEY_STRING },
	{ "url-retries", KEY_STRING },
	{ "url-timeout", KEY_STRING },
	{ "encrypted-sw-description", KEY_BOOLEAN },
	{ "slots", KEY_SLOTS },
	{ "extra-targets", KEY_DEVICES },
	{ "mark-good-env", KEY_ENV },
	{ "rollback-env", KEY_ENV },
};

static const struct config_key *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(config_keys) / sizeof(config_keys[0]); i++)
		if (strcmp(config_keys[i].name, name) == 0)
			return &config_keys[i];
	return NULL;
}

/* The setting's value as option text: strings as they are, booleans
 * "true"/"false", integers in decimal. NULL for other types. */
static const char *value_text(const config_setting_t *s, char *buf, size_t size)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return config_setting_get_string(s);
	case CONFIG_TYPE_BOOL:
		return config_setting_get_bool(s) ? "true" : "false";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, size, "%lld", config_setting_get_int64(s));
		return buf;
	default:
		return NULL;
	}
}

/* A group of bootloader variables, e.g. mark-good-env = { ustate = "0"; }. */
static int read_env_group(swi_ctx_t *ctx, const char *path, const config_setting_t *s,
			  struct swi_attrs *out)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return swi_fail(ctx, SWI_ECONFIG, "%s:%u: '%s' must be a group of name = \"value\"",
				path, config_setting_source_line(s), config_setting_name(s));
	swi_attrs_free(out);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *var = config_setting_get_elem(s, (unsigned)i);
		char number[32];
		const char *value = value_text(var, number, sizeof(number));
		if (!value)
			return swi_fail(ctx, SWI_ECONFIG, "%s:%u: '%s' must be a string or an integer",
					path, config_setting_source_line(var),
					config_setting_name(var));
		if (swi_attrs_set(out, config_setting_name(var), value))
			return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	return SWI_OK;
}

/* extra-targets = [ "/dev/mmcblk0boot0", ... ]: devices besides the slots
 * an image may write. */
static int read_extra_targets(swi_ctx_t *ctx, const char *path, const config_setting_t *s)
{
	struct swi_options *o = &ctx->opt;
	int n = config_setting_length(s);
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return swi_fail(ctx, SWI_ECONFIG, "%s:%u: 'extra-targets' must be a list of device "
				"paths [ \"...\" ]", path, config_setting_source_line(s));
	char **list = calloc((size_t)n + 1, sizeof(*list));
	if (!list)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	int rc = SWI_OK;
	for (int i = 0; rc == SWI_OK && i < n; i++) {
		const char *device = config_setting_get_string_elem(s, i);
		if (!device || device[0] != '/')
			rc = swi_fail(ctx, SWI_ECONFIG, "%s:%u: extra-targets element %d must be an "
				      "absolute device path", path, config_setting_source_line(s), i + 1);
		else if (!(list[i] = strdup(device)))
			rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	if (rc) {
		for (int i = 0; i < n; i++)
			free(list[i]);
		free(list);
		return rc;
	}
	for (size_t i = 0; i < o->nextra_targets; i++)
		free(o->extra_targets[i]);
	free(o->extra_targets);
	o->extra_targets = list;
	o->nextra_targets = (size_t)n;
	return SWI_OK;
}

/* A string or boolean option, handed to swi_set_option() as text. */
static int apply_option(swi_ctx_t *ctx, const char *path, const config_setting_t *s,
			const struct config_key *key)
{
	unsigned line = config_setting_source_line(s);
	char number[32];
	const char *value = value_text(s, number, sizeof(number));
	if (!value)
		return swi_fail(ctx, SWI_ECONFIG, "%s:%u: '%s' must be %s", path, line, key->name,
				key->type == KEY_BOOLEAN ? "a boolean (true or false)" : "a string");
	if (swi_set_option(ctx, key->name, value) == SWI_OK)
		return SWI_OK;
	char reason[sizeof(ctx->errmsg)];
	snprintf(reason, sizeof(reason), "%s", swi_errmsg(ctx));
	return swi_fail(ctx, SWI_ECONFIG, "%s:%u: %s", path, line, reason);
}

static int apply_setting(swi_ctx_t *ctx, const char *path, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	const struct config_key *key = find_key(name);
	/* Refusing unknown keys catches typos ("public_key", "hw-revision")
	 * that would otherwise silently leave a default in place. */
	if (!key)
		return swi_fail(ctx, SWI_ECONFIG, "%s:%u: unknown setting '%s'", path,
				config_setting_source_line(s), name);
	switch (key->type) {
	case KEY_SLOTS:
		swi_slots_free(&ctx->opt.slots);
		return swi_slots_parse(ctx, s, path, &ctx->opt.slots);
	case KEY_DEVICES:
		return read_extra_targets(ctx, path, s);
	case KEY_ENV:
		return read_env_group(ctx, path, s,
				      strcmp(name, "mark-good-env") == 0 ? &ctx->opt.mark_good_env
									 : &ctx->opt.rollback_env);
	default:
		return apply_option(ctx, path, s, key);
	}
}

static int apply_settings(swi_ctx_t *ctx, const char *path, const config_t *cfg)
{
	const config_setting_t *root = config_root_setting(cfg);
	int rc = SWI_OK;
	for (int i = 0; rc == SWI_OK && i < config_setting_length(root); i++)
		rc = apply_setting(ctx, path, config_setting_get_elem(root, (unsigned)i));
	return rc;
}

int swi_load_config(swi_ctx_t *ctx, const char *path)
{
	if (!ctx || !path)
		return SWI_EINVAL;
	/* Opened here rather than by config_read_file() so a missing file is
	 * reported with errno's words, not as a parse error. */
	FILE *f = fopen(path, "r");
	if (!f)
		return swi_fail(ctx, SWI_ECONFIG, "%s: %s", path, strerror(errno));
	config_t cfg;
	config_init(&cfg);
	int rc;
	if (config_read(&cfg, f) != CONFIG_TRUE)
		rc = swi_fail(ctx, SWI_ECONFIG, "%s:%d: %s", path, config_error_line(&cfg),
			      config_error_text(&cfg));
	else
		rc = apply_settings(ctx, path, &cfg);
	config_destroy(&cfg);
	fclose(f);
	return rc;
}
