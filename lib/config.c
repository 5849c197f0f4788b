/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration file (/etc/swinstall.conf): libconfig syntax, one
 * top-level setting per option, named like the option. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libconfig.h>
#include "bootenv.h"
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

/* The group of bootloader variables called name, or NULL. */
static struct swi_attrs *env_group(swi_ctx_t *ctx, const char *name)
{
	if (strcmp(name, "mark-good-env") == 0)
		return &ctx->opt.mark_good_env;
	if (strcmp(name, "rollback-env") == 0)
		return &ctx->opt.rollback_env;
	return NULL;
}

/* NAME=VALUE into a group, the file's or the API's; a NULL value removes.
 * SWI_EINVAL with the reason in why for a name no bootloader can hold. */
static int env_group_set(struct swi_attrs *group, const char *group_name, const char *name,
			 const char *value, char *why, size_t size)
{
	if (!swi_bootenv_name_ok(name)) {
		snprintf(why, size, "%s: variable '%s' is refused: %s", group_name, name ? name : "",
			 SWI_BOOTENV_NAME_RULE);
		return SWI_EINVAL;
	}
	if (!value) {
		swi_attrs_remove(group, name);
		return SWI_OK;
	}
	if (swi_attrs_set(group, name, value)) {
		snprintf(why, size, "out of memory");
		return SWI_ENOMEM;
	}
	return SWI_OK;
}

/* A group of bootloader variables, e.g. mark-good-env = { ustate = "0"; }. */
static int read_env_group(swi_ctx_t *ctx, const char *path, const config_setting_t *s)
{
	const char *group_name = config_setting_name(s);
	struct swi_attrs *out = env_group(ctx, group_name);
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return swi_fail(ctx, SWI_ECONFIG, "%s:%u: '%s' must be a group of name = \"value\"",
				path, config_setting_source_line(s), group_name);
	swi_attrs_free(out);
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *var = config_setting_get_elem(s, (unsigned)i);
		char number[32], why[sizeof(ctx->errmsg)];
		const char *value = value_text(var, number, sizeof(number));
		if (!value)
			return swi_fail(ctx, SWI_ECONFIG, "%s:%u: '%s' must be a string or an integer",
					path, config_setting_source_line(var),
					config_setting_name(var));
		int rc = env_group_set(out, group_name, config_setting_name(var), value, why,
				       sizeof(why));
		if (rc)
			return swi_fail(ctx, rc == SWI_EINVAL ? SWI_ECONFIG : rc, "%s:%u: %s", path,
					config_setting_source_line(var), why);
	}
	return SWI_OK;
}

static void free_devices(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(list[i]);
	free(list);
}

/* Appends a copy of device to *list (n entries); SWI_ENOMEM or SWI_OK. */
static int append_device(char ***list, size_t *n, const char *device)
{
	char **grown = realloc(*list, (*n + 1) * sizeof(*grown));
	if (!grown)
		return SWI_ENOMEM;
	*list = grown;
	if (!(grown[*n] = strdup(device)))
		return SWI_ENOMEM;
	(*n)++;
	return SWI_OK;
}

/* Only an absolute path names a device the same way wherever the
 * installer runs from. */
static bool is_device_path(const char *device)
{
	return device && device[0] == '/';
}

/* extra-targets = [ "/dev/mmcblk0boot0", ... ]: devices besides the slots
 * an image may write. */
static int read_extra_targets(swi_ctx_t *ctx, const char *path, const config_setting_t *s)
{
	struct swi_options *o = &ctx->opt;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return swi_fail(ctx, SWI_ECONFIG, "%s:%u: 'extra-targets' must be a list of device "
				"paths [ \"...\" ]", path, config_setting_source_line(s));
	char **list = NULL;
	size_t n = 0;
	int rc = SWI_OK;
	for (int i = 0; rc == SWI_OK && i < config_setting_length(s); i++) {
		const char *device = config_setting_get_string_elem(s, i);
		if (!is_device_path(device))
			rc = swi_fail(ctx, SWI_ECONFIG, "%s:%u: extra-targets element %d must be an "
				      "absolute device path", path, config_setting_source_line(s), i + 1);
		else if (append_device(&list, &n, device))
			rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	if (rc) {
		free_devices(list, n);
		return rc;
	}
	free_devices(o->extra_targets, o->nextra_targets);
	o->extra_targets = list;
	o->nextra_targets = n;
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
		return read_env_group(ctx, path, s);
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

/* ---- the lists and groups through the API -------------------------------- */

int swi_add_extra_target(swi_ctx_t *ctx, const char *device)
{
	if (!ctx)
		return SWI_EINVAL;
	if (!is_device_path(device))
		return swi_fail(ctx, SWI_EINVAL, "extra-targets: '%s' is not an absolute device path",
				device ? device : "");
	if (append_device(&ctx->opt.extra_targets, &ctx->opt.nextra_targets, device))
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	return SWI_OK;
}

int swi_set_env_var(swi_ctx_t *ctx, const char *group, const char *name, const char *value)
{
	if (!ctx)
		return SWI_EINVAL;
	struct swi_attrs *vars = group ? env_group(ctx, group) : NULL;
	if (!vars)
		return swi_fail(ctx, SWI_EINVAL, "'%s' is not a group of variables: "
				"mark-good-env or rollback-env", group ? group : "");
	char why[sizeof(ctx->errmsg)];
	int rc = env_group_set(vars, group, name, value, why, sizeof(why));
	return rc ? swi_fail(ctx, rc, "%s", why) : SWI_OK;
}

int swi_clear_list(swi_ctx_t *ctx, const char *list)
{
	if (!ctx)
		return SWI_EINVAL;
	struct swi_attrs *vars = list ? env_group(ctx, list) : NULL;
	if (vars) {
		swi_attrs_free(vars);
	} else if (list && strcmp(list, "slots") == 0) {
		swi_slots_free(&ctx->opt.slots);
	} else if (list && strcmp(list, "extra-targets") == 0) {
		free_devices(ctx->opt.extra_targets, ctx->opt.nextra_targets);
		ctx->opt.extra_targets = NULL;
		ctx->opt.nextra_targets = 0;
	} else {
		return swi_fail(ctx, SWI_EINVAL, "'%s' is not a list: slots, extra-targets, "
				"mark-good-env or rollback-env", list ? list : "");
	}
	return SWI_OK;
}
