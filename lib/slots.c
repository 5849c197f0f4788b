/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The A/B model: the configured slots, the running one (kernel command line,
 * then the mount table), the standby one, and whether a device is mounted. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include "bootenv.h"
#include "context.h"
#include "slots.h"

/* ---- configuration ------------------------------------------------------ */

static const char *const slot_keys[] = { "name", "device", "select", "bootenv" };

static bool is_slot_key(const char *name)
{
	for (size_t i = 0; i < sizeof(slot_keys) / sizeof(slot_keys[0]); i++)
		if (strcmp(slot_keys[i], name) == 0)
			return true;
	return false;
}

static void slot_free(struct swi_slot *slot)
{
	free(slot->name);
	free(slot->device);
	free(slot->select);
	swi_attrs_free(&slot->bootenv);
}

void swi_slots_free(struct swi_slots *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->count; i++)
		slot_free(&s->items[i]);
	free(s->items);
	s->items = NULL;
	s->count = 0;
}

/* The same rule as the select option: exactly one comma, text on both sides. */
static bool is_set_mode(const char *value)
{
	const char *comma = strchr(value, ',');
	return comma && comma != value && comma[1] && !strchr(comma + 1, ',');
}

/* The one set of rules a slot meets, whether it comes from the configuration
 * file or from swi_add_slot(): why slot cannot join s, written into why, with
 * *member the setting at fault (NULL: the slot as a whole); false when it can.
 * Two slots with one name or one device would make "the other slot"
 * ambiguous, or install over the running system. */
static bool slot_fault(const struct swi_slots *s, const struct swi_slot *slot, char *why,
		       size_t size, const char **member)
{
	*member = NULL;
	if (!slot->name || !slot->name[0]) {
		snprintf(why, size, "slot has no 'name'");
		return true;
	}
	const char *missing = !slot->device || !slot->device[0] ? "device"
			      : !slot->select || !slot->select[0] ? "select" : NULL;
	if (missing) {
		snprintf(why, size, "slot '%s' has no '%s'", slot->name, missing);
		return true;
	}
	if (!is_set_mode(slot->select)) {
		*member = "select";
		snprintf(why, size, "slot '%s': 'select' must be \"SET,MODE\", not '%s'", slot->name,
			 slot->select);
		return true;
	}
	for (size_t i = 0; i < s->count; i++) {
		if (strcmp(s->items[i].name, slot->name) == 0) {
			*member = "name";
			snprintf(why, size, "slot name '%s' is used twice", slot->name);
			return true;
		}
		if (strcmp(s->items[i].device, slot->device) == 0) {
			*member = "device";
			snprintf(why, size, "device '%s' belongs to slots '%s' and '%s'", slot->device,
				 s->items[i].name, slot->name);
			return true;
		}
	}
	for (size_t i = 0; i < slot->bootenv.count; i++) {
		if (!swi_bootenv_name_ok(slot->bootenv.items[i].name)) {
			*member = "bootenv";
			snprintf(why, size, "slot '%s': bootenv variable '%s' is refused: %s",
				 slot->name, slot->bootenv.items[i].name, SWI_BOOTENV_NAME_RULE);
			return true;
		}
	}
	return false;
}

int swi_slots_add(struct swi_slots *s, struct swi_slot *slot, char *why, size_t size,
		  const char **member)
{
	if (slot_fault(s, slot, why, size, member))
		return SWI_EINVAL;
	struct swi_slot *items = realloc(s->items, (s->count + 1) * sizeof(*items));
	if (!items) {
		snprintf(why, size, "out of memory");
		return SWI_ENOMEM;
	}
	items[s->count++] = *slot;
	s->items = items;
	*slot = (struct swi_slot){ 0 };
	return SWI_OK;
}

/* Where a configuration mistake is reported: the file and the setting. */
struct config_place {
	swi_ctx_t *ctx;
	const char *file;
};

static int config_error(const struct config_place *w, const config_setting_t *s, const char *what,
			const char *reason)
{
	return swi_fail(w->ctx, SWI_ECONFIG, "%s:%u: %s %s", w->file,
			config_setting_source_line(s), what, reason);
}

/* A string member of a slot, copied into *out; an absent one is left NULL
 * for slot_fault() to name. */
static int read_string(const struct config_place *w, const config_setting_t *slot, const char *key,
		       char **out)
{
	const config_setting_t *s = config_setting_get_member(slot, key);
	if (!s)
		return SWI_OK;
	const char *value = config_setting_get_string(s);
	if (!value || !value[0])
		return swi_fail(w->ctx, SWI_ECONFIG, "%s:%u: slot's '%s' must be a non-empty string",
				w->file, config_setting_source_line(s), key);
	*out = strdup(value);
	return *out ? SWI_OK : swi_fail(w->ctx, SWI_ENOMEM, "out of memory");
}

static int read_bootenv(const struct config_place *w, const config_setting_t *group,
			struct swi_attrs *out)
{
	if (config_setting_type(group) != CONFIG_TYPE_GROUP)
		return config_error(w, group, "slot's 'bootenv'",
				    "must be a group of name = \"value\"");
	for (int i = 0; i < config_setting_length(group); i++) {
		const config_setting_t *var = config_setting_get_elem(group, (unsigned)i);
		char number[32];
		const char *value = NULL;
		if (config_setting_type(var) == CONFIG_TYPE_STRING) {
			value = config_setting_get_string(var);
		} else if (config_setting_type(var) == CONFIG_TYPE_INT ||
			   config_setting_type(var) == CONFIG_TYPE_INT64) {
			snprintf(number, sizeof(number), "%lld", config_setting_get_int64(var));
			value = number;
		}
		if (!value)
			return swi_fail(w->ctx, SWI_ECONFIG,
					"%s:%u: bootenv variable '%s' must be a string or an integer",
					w->file, config_setting_source_line(var),
					config_setting_name(var));
		if (swi_attrs_set(out, config_setting_name(var), value))
			return swi_fail(w->ctx, SWI_ENOMEM, "out of memory");
	}
	return SWI_OK;
}

static int read_slot(const struct config_place *w, const config_setting_t *s, struct swi_slot *slot)
{
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return config_error(w, s, "a slot", "must be a group { name = ...; device = ...; }");
	/* Refusing unknown members catches typos that would silently drop a
	 * setting ("boot_env", "dev"). */
	for (int i = 0; i < config_setting_length(s); i++) {
		const config_setting_t *member = config_setting_get_elem(s, (unsigned)i);
		if (!is_slot_key(config_setting_name(member)))
			return swi_fail(w->ctx, SWI_ECONFIG, "%s:%u: unknown slot setting '%s'",
					w->file, config_setting_source_line(member),
					config_setting_name(member));
	}
	int rc = read_string(w, s, "name", &slot->name);
	if (rc == SWI_OK)
		rc = read_string(w, s, "device", &slot->device);
	if (rc == SWI_OK)
		rc = read_string(w, s, "select", &slot->select);
	const config_setting_t *bootenv = config_setting_get_member(s, "bootenv");
	if (rc == SWI_OK && bootenv)
		rc = read_bootenv(w, bootenv, &slot->bootenv);
	return rc;
}

/* Adds a slot read from setting s to parsed, reporting a broken rule at
 * the line of the member at fault. */
static int add_read_slot(const struct config_place *w, const config_setting_t *s,
			 struct swi_slots *parsed, struct swi_slot *slot)
{
	char why[sizeof(w->ctx->errmsg)];
	const char *member;
	int rc = swi_slots_add(parsed, slot, why, sizeof(why), &member);
	if (rc == SWI_OK)
		return SWI_OK;
	const config_setting_t *at = member ? config_setting_get_member(s, member) : NULL;
	return swi_fail(w->ctx, rc == SWI_EINVAL ? SWI_ECONFIG : rc, "%s:%u: %s", w->file,
			config_setting_source_line(at ? at : s), why);
}

int swi_slots_parse(swi_ctx_t *ctx, const config_setting_t *list, const char *file,
		    struct swi_slots *out)
{
	if (!ctx || !list || !out)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "slots: nothing to parse") : SWI_EINVAL;
	const struct config_place w = { ctx, file ? file : "configuration" };
	*out = (struct swi_slots){ 0 };
	if (config_setting_type(list) != CONFIG_TYPE_LIST)
		return config_error(&w, list, "'slots'", "must be a list ( { ... }, { ... } )");
	struct swi_slots parsed = { 0 };
	int rc = SWI_OK;
	for (int i = 0; rc == SWI_OK && i < config_setting_length(list); i++) {
		const config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
		struct swi_slot slot = { 0 };
		rc = read_slot(&w, s, &slot);
		if (rc == SWI_OK)
			rc = add_read_slot(&w, s, &parsed, &slot);
		slot_free(&slot);
	}
	if (rc != SWI_OK)
		swi_slots_free(&parsed);
	else
		*out = parsed;
	return rc;
}

/* bootenv: NAME, VALUE pairs up to a NULL name. */
static int copy_bootenv_pairs(swi_ctx_t *ctx, const char *slot, const char *const *pairs,
			      struct swi_attrs *out)
{
	for (size_t i = 0; pairs && pairs[i]; i += 2) {
		if (!pairs[i + 1])
			return swi_fail(ctx, SWI_EINVAL,
					"slot '%s': bootenv variable '%s' has no value (the list "
					"holds NAME, VALUE pairs)", slot ? slot : "", pairs[i]);
		if (swi_attrs_set(out, pairs[i], pairs[i + 1]))
			return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	return SWI_OK;
}

/* A copy of an optional string: NULL stays NULL. */
static int copy_field(swi_ctx_t *ctx, const char *value, char **out)
{
	if (value && !(*out = strdup(value)))
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	return SWI_OK;
}

int swi_add_slot(swi_ctx_t *ctx, const char *name, const char *device, const char *select,
		 const char *const *bootenv)
{
	if (!ctx)
		return SWI_EINVAL;
	struct swi_slot slot = { 0 };
	int rc = copy_field(ctx, name, &slot.name);
	if (rc == SWI_OK)
		rc = copy_field(ctx, device, &slot.device);
	if (rc == SWI_OK)
		rc = copy_field(ctx, select, &slot.select);
	if (rc == SWI_OK)
		rc = copy_bootenv_pairs(ctx, name, bootenv, &slot.bootenv);
	if (rc == SWI_OK) {
		char why[sizeof(ctx->errmsg)];
		const char *member;
		rc = swi_slots_add(&ctx->opt.slots, &slot, why, sizeof(why), &member);
		if (rc != SWI_OK)
			swi_fail(ctx, rc, "%s", why);
	}
	slot_free(&slot);
	return rc;
}

const struct swi_slot *swi_slots_find(const struct swi_slots *s, const char *name)
{
	for (size_t i = 0; s && name && i < s->count; i++)
		if (strcmp(s->items[i].name, name) == 0)
			return &s->items[i];
	return NULL;
}

const struct swi_slot *swi_slots_standby(const struct swi_slots *s,
					 const struct swi_slot *running)
{
	for (size_t i = 0; s && running && i < s->count; i++)
		if (&s->items[i] != running)
			return &s->items[i];
	return NULL;
}

const struct swi_slot *swi_slots_booting_next(const struct swi_slots *s,
					      const struct swi_attrs *env)
{
	for (size_t i = 0; s && env && i < s->count; i++) {
		const struct swi_attrs *vars = &s->items[i].bootenv;
		/* A slot without variables cannot be told from any other. */
		bool all = vars->count > 0;
		for (size_t j = 0; all && j < vars->count; j++) {
			const char *value = swi_attrs_get(env, vars->items[j].name);
			all = value && strcmp(value, vars->items[j].value) == 0;
		}
		if (all)
			return &s->items[i];
	}
	return NULL;
}

/* ---- devices ------------------------------------------------------------ */

static bool is_device_node(const struct stat *st)
{
	return S_ISBLK(st->st_mode) || S_ISCHR(st->st_mode);
}

bool swi_same_device(const char *a, const char *b)
{
	if (!a || !b)
		return false;
	struct stat sa, sb;
	/* stat() follows symlinks, so /dev/disk/by-partuuid/... and its target
	 * compare equal without building the resolved path. */
	if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
		return strcmp(a, b) == 0; /* nodes absent here: only the name is left */
	if (is_device_node(&sa) || is_device_node(&sb))
		return (sa.st_mode & S_IFMT) == (sb.st_mode & S_IFMT) && sa.st_rdev == sb.st_rdev;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* True when path is a block device whose number is devnum. */
static bool is_block_device_number(const char *path, dev_t devnum)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_rdev == devnum;
}

/* "MAJOR:MINOR" as a device number. */
static bool parse_devnum(const char *text, dev_t *out)
{
	char *end;
	errno = 0;
	unsigned long major = strtoul(text, &end, 10);
	if (end == text || *end != ':' || !isdigit((unsigned char)end[1]))
		return false;
	const char *minor_text = end + 1;
	unsigned long minor = strtoul(minor_text, &end, 10);
	if (*end || errno)
		return false;
	*out = makedev(major, minor);
	return true;
}

/* ---- mountinfo ---------------------------------------------------------- */

struct mount {
	dev_t devnum;      /* the MAJOR:MINOR field */
	char *mount_point; /* unescaped, in the line's buffer */
	char *source;      /* unescaped, in the line's buffer */
};

/* The kernel writes space, tab, newline and backslash in paths as \ooo. */
static void unescape_octal(char *s)
{
	char *out = s;
	for (const char *in = s; *in; out++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' &&
		    in[2] <= '7' && in[3] >= '0' && in[3] <= '7') {
			*out = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 4;
		} else {
			*out = *in++;
		}
	}
	*out = '\0';
}

/*
 * One line of mountinfo, cut in place:
 *   ID PARENT MAJOR:MINOR ROOT MOUNT-POINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
 * Fields never hold a space (the kernel escapes them), so splitting on
 * spaces is exact.
 */
static bool parse_mount_line(char *line, struct mount *m)
{
	char *fields[6], *save = NULL, *field = strtok_r(line, " \n", &save);
	for (int i = 0; i < 6; i++, field = strtok_r(NULL, " \n", &save)) {
		if (!field)
			return false;
		fields[i] = field;
	}
	while (field && strcmp(field, "-") != 0) /* optional fields */
		field = strtok_r(NULL, " \n", &save);
	char *fstype = field ? strtok_r(NULL, " \n", &save) : NULL;
	char *source = fstype ? strtok_r(NULL, " \n", &save) : NULL;
	if (!source || !parse_devnum(fields[2], &m->devnum))
		return false;
	unescape_octal(fields[4]);
	unescape_octal(source);
	m->mount_point = fields[4];
	m->source = source;
	return true;
}

typedef int (*mount_fn)(void *user, const struct mount *m);

/* Calls fn for each line of the mount table until it returns non-zero
 * (a status or 1 for "found"), which is returned. */
static int each_mount(swi_ctx_t *ctx, const char *file, mount_fn fn, void *user)
{
	FILE *f = fopen(file, "r");
	if (!f)
		return swi_fail(ctx, SWI_EIO, "%s: %s", file, strerror(errno));
	char *line = NULL;
	size_t size = 0;
	int rc = 0;
	for (unsigned n = 1; rc == 0 && getline(&line, &size, f) >= 0; n++) {
		struct mount m;
		if (line[strspn(line, " \n")] == '\0')
			continue; /* a blank line says nothing */
		if (!parse_mount_line(line, &m))
			rc = swi_fail(ctx, SWI_ECONFIG, "%s:%u: not a mountinfo line", file, n);
		else
			rc = fn(user, &m);
	}
	if (rc == 0 && ferror(f))
		rc = swi_fail(ctx, SWI_EIO, "%s: read error", file);
	free(line);
	fclose(f);
	return rc;
}

/* Whether a mount table entry is device: by path, or by block device number.
 * Only absolute sources are paths ("proc", "tmpfs" are not); the number is
 * compared only with a block device, never with a regular file's st_dev
 * (that is the file system holding the file, not the file). */
static bool mount_is_device(const char *source, dev_t devnum, const char *device,
			    const struct stat *st)
{
	if (source[0] == '/' && swi_same_device(source, device))
		return true;
	return st && S_ISBLK(st->st_mode) && devnum == st->st_rdev;
}

struct mounted_search {
	swi_ctx_t *ctx;
	const char *device;
	const struct stat *st;
	char **where;
};

static int check_mounted(void *user, const struct mount *m)
{
	struct mounted_search *q = user;
	if (!mount_is_device(m->source, m->devnum, q->device, q->st))
		return 0;
	if (q->where && !(*q->where = strdup(m->mount_point)))
		return swi_fail(q->ctx, SWI_ENOMEM, "out of memory");
	return 1;
}

int swi_device_mounted(swi_ctx_t *ctx, const char *device, const char *mountinfo_file,
		       char **where)
{
	if (where)
		*where = NULL;
	if (!ctx || !device || !mountinfo_file)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "mounted: no device or mount table")
			   : SWI_EINVAL;
	struct stat st;
	struct mounted_search q = { ctx, device, stat(device, &st) == 0 ? &st : NULL, where };
	return each_mount(ctx, mountinfo_file, check_mounted, &q);
}

/* The last mount of "/" (later mounts shadow earlier ones), copied. */
struct root_mount {
	swi_ctx_t *ctx;
	bool found;
	dev_t devnum;
	char *source;
};

static int remember_root(void *user, const struct mount *m)
{
	struct root_mount *r = user;
	if (strcmp(m->mount_point, "/") != 0)
		return 0;
	free(r->source);
	r->source = strdup(m->source);
	if (!r->source)
		return swi_fail(r->ctx, SWI_ENOMEM, "out of memory");
	r->devnum = m->devnum;
	r->found = true;
	return 0;
}

static const struct swi_slot *slot_of_mount(const struct swi_slots *s, const char *source,
					     dev_t devnum)
{
	for (size_t i = 0; i < s->count; i++) {
		struct stat st;
		const char *device = s->items[i].device;
		if (mount_is_device(source, devnum, device, stat(device, &st) == 0 ? &st : NULL))
			return &s->items[i];
	}
	return NULL;
}

/* ---- kernel command line ------------------------------------------------ */

/* What the command line says about the running slot (pointers into it). */
struct cmdline_facts {
	const char *swinstall_slot;
	const char *rauc_slot;
	const char *root;
};

/*
 * Cuts the parameter at p in place, the way the kernel splits its command
 * line: parameters end at an unquoted space; double quotes group; a quote
 * opening the whole parameter or its value is dropped with its closing
 * quote. Returns where the next parameter starts.
 */
static char *cut_param(char *p, char **name, char **value)
{
	bool quoted = *p == '"', in_quote = quoted;
	if (quoted)
		p++;
	char *equals = NULL, *end = p;
	for (; *end && (in_quote || !isspace((unsigned char)*end)); end++) {
		if (*end == '=' && !equals)
			equals = end;
		if (*end == '"')
			in_quote = !in_quote;
	}
	char *next = *end ? end + 1 : end;
	*end = '\0';
	*name = p;
	*value = NULL;
	if (equals) {
		*equals = '\0';
		*value = equals + 1;
		if (**value == '"') {
			(*value)++;
			quoted = true;
		}
	}
	char *last = end > p ? end - 1 : NULL;
	if (quoted && last && *last == '"' && last >= (*value ? *value : p))
		*last = '\0';
	return next;
}

static void read_cmdline_facts(char *text, struct cmdline_facts *facts)
{
	char *p = text;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		char *name, *value;
		p = cut_param(p, &name, &value);
		if (!value && strcmp(name, "--") == 0)
			break; /* the rest belongs to init */
		if (!value)
			continue;
		/* Like the kernel, a later parameter overrides an earlier one. */
		if (strcmp(name, "swinstall.slot") == 0)
			facts->swinstall_slot = value;
		else if (strcmp(name, "rauc.slot") == 0)
			facts->rauc_slot = value;
		else if (strcmp(name, "root") == 0)
			facts->root = value;
	}
}

/* The whole file as a string (getdelim with '\0' reads to the end of a text
 * file; /proc files report size 0, so stat cannot size the buffer). */
static int read_text_file(swi_ctx_t *ctx, const char *file, char **out)
{
	*out = NULL;
	FILE *f = fopen(file, "r");
	if (!f)
		return swi_fail(ctx, SWI_EIO, "%s: %s", file, strerror(errno));
	char *text = NULL;
	size_t size = 0;
	int rc = SWI_OK;
	if (getdelim(&text, &size, '\0', f) < 0) {
		free(text);
		text = NULL;
		if (ferror(f))
			rc = swi_fail(ctx, SWI_EIO, "%s: read error", file);
		else if (!(text = strdup(""))) /* an empty file */
			rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	fclose(f);
	*out = text;
	return rc;
}

/* root=TAG=value as its udev link, e.g. PARTUUID=x -> /dev/disk/by-partuuid/x. */
static bool root_link(const char *root, bool lowercase, char *buf, size_t size)
{
	static const struct {
		const char *tag, *dir;
	} links[] = {
		{ "PARTUUID=", "by-partuuid" },
		{ "PARTLABEL=", "by-partlabel" },
		{ "UUID=", "by-uuid" },
		{ "LABEL=", "by-label" },
	};
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		size_t len = strlen(links[i].tag);
		if (strncmp(root, links[i].tag, len) != 0)
			continue;
		int n = snprintf(buf, size, "/dev/disk/%s/%s", links[i].dir, root + len);
		if (n < 0 || (size_t)n >= size)
			return false;
		/* The kernel compares PARTUUIDs ignoring case; udev names
		 * the links in lower case. */
		if (lowercase)
			for (char *c = buf + n - strlen(root + len); *c; c++)
				*c = (char)tolower((unsigned char)*c);
		return true;
	}
	return false;
}

static const struct swi_slot *slot_of_root(const struct swi_slots *s, const char *root)
{
	char path[4096];
	dev_t devnum;
	bool is_number = parse_devnum(root, &devnum);
	for (size_t i = 0; i < s->count; i++) {
		const char *device = s->items[i].device;
		if (is_number) {
			if (is_block_device_number(device, devnum))
				return &s->items[i];
		} else if (root_link(root, false, path, sizeof(path))) {
			if (swi_same_device(path, device) ||
			    (root_link(root, true, path, sizeof(path)) &&
			     swi_same_device(path, device)))
				return &s->items[i];
		} else if (swi_same_device(root, device)) {
			return &s->items[i];
		}
	}
	return NULL;
}

/* ---- the running slot --------------------------------------------------- */

static int named_slot(swi_ctx_t *ctx, const struct swi_slots *s, const char *cmdline_file,
		      const char *param, const char *name, const struct swi_slot **running)
{
	*running = swi_slots_find(s, name);
	if (!*running)
		return swi_fail(ctx, SWI_ECONFIG, "%s: %s=%s names no configured slot",
				cmdline_file, param, name);
	return SWI_OK;
}

/* The command line in *text (malloc'd), its facts pointing into it. */
static int read_cmdline(swi_ctx_t *ctx, const char *cmdline_file, char **text,
			struct cmdline_facts *facts)
{
	memset(facts, 0, sizeof(*facts));
	int rc = read_text_file(ctx, cmdline_file, text);
	if (rc == SWI_OK)
		read_cmdline_facts(*text, facts);
	return rc;
}

static int running_from_cmdline(swi_ctx_t *ctx, const struct swi_slots *s,
				const char *cmdline_file, const struct swi_slot **running,
				const char **how)
{
	char *text = NULL;
	struct cmdline_facts facts;
	int rc = read_cmdline(ctx, cmdline_file, &text, &facts);
	if (rc)
		return rc;
	if (facts.swinstall_slot) {
		rc = named_slot(ctx, s, cmdline_file, "swinstall.slot", facts.swinstall_slot,
				running);
		*how = "kernel command line swinstall.slot";
	} else if (facts.rauc_slot) {
		rc = named_slot(ctx, s, cmdline_file, "rauc.slot", facts.rauc_slot, running);
		*how = "kernel command line rauc.slot";
	} else if (facts.root && (*running = slot_of_root(s, facts.root))) {
		*how = "kernel command line root=";
	}
	free(text);
	return rc;
}

static int running_from_mountinfo(swi_ctx_t *ctx, const struct swi_slots *s,
				  const char *mountinfo_file, const struct swi_slot **running,
				  const char **how)
{
	struct root_mount r = { .ctx = ctx };
	int rc = each_mount(ctx, mountinfo_file, remember_root, &r);
	if (rc == SWI_OK && r.found) {
		if ((*running = slot_of_mount(s, r.source, r.devnum)))
			*how = "mountinfo";
	}
	if (rc == SWI_OK && !*running)
		rc = swi_fail(ctx, SWI_ECOMPAT,
			      "running slot unknown: neither the kernel command line nor %s "
			      "(/ mounted from %s) names a configured slot's device",
			      mountinfo_file, r.found ? r.source : "nothing");
	free(r.source);
	return rc;
}

int swi_slots_running(swi_ctx_t *ctx, const struct swi_slots *s,
		      const char *cmdline_file, const char *mountinfo_file,
		      const struct swi_slot **running, const char **how)
{
	if (!ctx || !s || !cmdline_file || !mountinfo_file || !running || !how)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "running slot: missing argument")
			   : SWI_EINVAL;
	*running = NULL;
	*how = NULL;
	if (s->count == 0)
		return swi_fail(ctx, SWI_ECONFIG, "running slot: no slots are configured");
	const struct swi_slot *found = NULL;
	const char *found_how = NULL;
	int rc = running_from_cmdline(ctx, s, cmdline_file, &found, &found_how);
	if (rc == SWI_OK && !found)
		rc = running_from_mountinfo(ctx, s, mountinfo_file, &found, &found_how);
	if (rc == SWI_OK) {
		*running = found;
		*how = found_how;
	}
	return rc;
}

/* ---- extents: where a block device lies on its disk ------------------- */

/* A block device as a byte range of the disk that holds it. */
struct extent {
	dev_t disk;
	uint64_t start;
	uint64_t size;
};

/* A number from a one-line sysfs file. */
static bool read_sysfs_number(const char *dir, const char *name, uint64_t *out)
{
	char path[PATH_MAX + 16], text[64];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(text, sizeof(text), f) != NULL;
	fclose(f);
	char *end;
	errno = 0;
	unsigned long long v = ok ? strtoull(text, &end, 10) : 0;
	if (!ok || errno || end == text)
		return false;
	*out = v;
	return true;
}

static bool read_sysfs_devnum(const char *dir, dev_t *out)
{
	char path[PATH_MAX + 16], text[64];
	snprintf(path, sizeof(path), "%s/dev", dir);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool ok = fgets(text, sizeof(text), f) != NULL;
	fclose(f);
	if (ok)
		text[strcspn(text, "\n")] = '\0';
	return ok && parse_devnum(text, out);
}

/* The extent of block device number devnum, from sysfs: a partition knows
 * its start and size (in 512-byte sectors, whatever the disk's sector
 * size) and lies in its disk's directory; a whole disk starts at 0. */
static bool extent_of_devnum(dev_t devnum, struct extent *e)
{
	char link[64], dir[PATH_MAX];
	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(devnum), minor(devnum));
	if (!realpath(link, dir))
		return false;
	uint64_t start = 0, sectors;
	if (!read_sysfs_number(dir, "size", &sectors))
		return false;
	e->disk = devnum;
	if (read_sysfs_number(dir, "partition", &(uint64_t){ 0 })) {
		if (!read_sysfs_number(dir, "start", &start))
			return false;
		char *slash = strrchr(dir, '/');
		if (!slash)
			return false;
		*slash = '\0';
		if (!read_sysfs_devnum(dir, &e->disk))
			return false;
	}
	e->start = start * 512;
	e->size = sectors * 512;
	return true;
}

static bool extent_of_path(const char *path, struct extent *e)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISBLK(st.st_mode) && extent_of_devnum(st.st_rdev, e);
}

/* What writing from `from` on (bytes of the disk) must respect of a
 * protected extent p: SWI_OK, a lower *limit, or 1 when `from` lies in it. */
static int respect(const struct extent *p, uint64_t from, uint64_t *limit)
{
	if (from >= p->start + p->size)
		return SWI_OK;
	if (from >= p->start)
		return 1;
	if (p->start - from < *limit)
		*limit = p->start - from;
	return SWI_OK;
}

struct window_search {
	swi_ctx_t *ctx;
	const char *label;
	const char *device;
	uint64_t offset;
	const struct extent *target;
	uint64_t from;
	uint64_t *limit;
};

static int refuse_overlap(const struct window_search *w, const char *what)
{
	return swi_fail(w->ctx, SWI_ECOMPAT,
			"%s: target %s at offset %llu would overwrite %s, which lies there on the "
			"same disk; refused", w->label, w->device, (unsigned long long)w->offset, what);
}

static int check_mounted_extent(void *user, const struct mount *m)
{
	struct window_search *w = user;
	struct extent p;
	if (!extent_of_devnum(m->devnum, &p) || p.disk != w->target->disk)
		return 0;
	if (respect(&p, w->from, w->limit) == 0)
		return 0;
	char what[PATH_MAX + 64];
	snprintf(what, sizeof(what), "%s (mounted on %s)", m->source, m->mount_point);
	return refuse_overlap(w, what);
}

int swi_target_window(swi_ctx_t *ctx, const char *label, const char *device, uint64_t offset,
		      const struct swi_slot *running, const char *mountinfo_file,
		      uint64_t *limit)
{
	*limit = UINT64_MAX;
	struct extent target;
	if (!extent_of_path(device, &target))
		return SWI_OK; /* not a block device: identity checks are all there is */
	if (offset >= target.size)
		return SWI_OK; /* nothing can be written; the handler says so */
	struct window_search w = { ctx, label, device, offset, &target, target.start + offset,
				   limit };
	struct extent p;
	if (running && extent_of_path(running->device, &p) && p.disk == target.disk &&
	    respect(&p, w.from, limit)) {
		char what[PATH_MAX + 64];
		snprintf(what, sizeof(what), "the running slot %s (%s)", running->name,
			 running->device);
		return refuse_overlap(&w, what);
	}
	int rc = each_mount(ctx, mountinfo_file, check_mounted_extent, &w);
	return rc > 0 ? SWI_OK : rc;
}

/* ---- the disk the running system is on ---------------------------------- */

static bool extents_overlap(const struct extent *a, const struct extent *b)
{
	return a->disk == b->disk && a->start < b->start + b->size && b->start < a->start + a->size;
}

/* Whether root (a path, or MAJOR:MINOR) is device or shares disk space with
 * it: a partition of the disk device, or the disk of the partition device. */
static bool root_lies_on(const char *root, const char *device)
{
	struct extent r, d;
	dev_t devnum;
	if (parse_devnum(root, &devnum))
		return extent_of_devnum(devnum, &r) && extent_of_path(device, &d) &&
		       extents_overlap(&r, &d);
	if (swi_same_device(root, device))
		return true;
	return extent_of_path(root, &r) && extent_of_path(device, &d) && extents_overlap(&r, &d);
}

static bool root_tag_lies_on(const char *root, const char *device)
{
	char path[4096];
	if (!root_link(root, false, path, sizeof(path)))
		return root_lies_on(root, device);
	return root_lies_on(path, device) ||
	       (root_link(root, true, path, sizeof(path)) && root_lies_on(path, device));
}

int swi_root_on_device(swi_ctx_t *ctx, const char *cmdline_file, const char *device,
		       char **root)
{
	*root = NULL;
	char *text = NULL;
	struct cmdline_facts facts;
	int rc = read_cmdline(ctx, cmdline_file, &text, &facts);
	if (rc == SWI_OK && facts.root && root_tag_lies_on(facts.root, device))
		rc = (*root = strdup(facts.root)) ? 1 : swi_fail(ctx, SWI_ENOMEM, "out of memory");
	free(text);
	return rc;
}
