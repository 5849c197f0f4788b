/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler registry, and what handlers may ask of their target. */
#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include "exec.h"
#include "handler.h"
#include "lua_handlers.h"
#include "mount.h"

/* The one table of built-in handlers: a new handler is one line here. */
static const struct swi_handler *const builtin_handlers[] = {
	&swi_handler_raw,
	&swi_handler_rawfile,
	&swi_handler_bootloader,
	&swi_handler_shellscript,
	&swi_handler_preinstall,
	&swi_handler_postinstall,
	&swi_handler_lua,
	&swi_handler_archive,
	&swi_handler_tar,
};

/*
 * What the core knows of entry attributes, typed. Attributes it consumes
 * itself, whatever the handler (the manifest and the plan read them):
 */
static const struct swi_handler_attr generic_attributes[] = {
	{ "filename", SWI_TYPE_STRING, 0 },
	{ "type", SWI_TYPE_STRING, 0 },
	{ "sha256", SWI_TYPE_STRING, 0 },
	{ "compressed", SWI_TYPE_STRING, 0 },   /* true, or a method's name */
	{ "encrypted", SWI_TYPE_BOOL, 0 },
	{ "ivt", SWI_TYPE_STRING, 0 },
	{ "name", SWI_TYPE_STRING, 0 },
	{ "version", SWI_TYPE_STRING, 0 },
	{ "install-if-different", SWI_TYPE_BOOL, 0 },
	{ "install-if-higher", SWI_TYPE_BOOL, 0 },
	{ "installed-directly", SWI_TYPE_BOOL, 0 },
	{ "data", SWI_TYPE_STRING, 0 },
	{ "hook", SWI_TYPE_STRING, 0 },
	{ "ref", SWI_TYPE_STRING, 0 },
	{ NULL, 0, 0 },
};

/* Attributes SWUpdate gives an effect on the target: an entry that sets
 * one its handler does not declare is refused, as the handler would
 * silently do something else than the image asks. The mount first, then
 * the rest in the order a refusal names them: a feature (a mount, UBI)
 * tells more than the target it needs. */
static const struct swi_handler_attr mount_attributes[] = {
	{ "filesystem", SWI_TYPE_STRING, 0 },
	{ NULL, 0, 0 },
};

const struct swi_handler_attr swi_target_attributes[] = {
	{ "volume", SWI_TYPE_STRING, 0 },
	{ "mtdname", SWI_TYPE_STRING, 0 },
	{ "atomic-install", SWI_TYPE_BOOL, 0 },
	{ "preserve-attributes", SWI_TYPE_BOOL, 0 },
	{ "create-destination", SWI_TYPE_BOOL, 0 },
	{ "device", SWI_TYPE_STRING, 0 },
	{ "offset", SWI_TYPE_SIZE, 0 },
	{ "path", SWI_TYPE_STRING, 0 },
	{ NULL, 0, 0 },
};

/* "properties.NAME": free data for handlers, of any type unless the
 * handler declares it. */
#define PROPERTIES_PREFIX "properties."

static const struct swi_handler_attr *declaration(const struct swi_handler_attr *decls,
						  const char *name)
{
	for (const struct swi_handler_attr *d = decls; d && d->name; d++)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

static const struct swi_handler_attr *const effect_attributes[] = {
	mount_attributes, swi_target_attributes,
};

static const struct swi_handler_attr *core_declaration(const char *name)
{
	for (size_t i = 0; i < sizeof(effect_attributes) / sizeof(effect_attributes[0]); i++) {
		const struct swi_handler_attr *d = declaration(effect_attributes[i], name);
		if (d)
			return d;
	}
	return declaration(generic_attributes, name);
}

static const char *type_name(enum swi_attr_type type)
{
	switch (type) {
	case SWI_TYPE_STRING: return "string";
	case SWI_TYPE_SIZE: return "size";
	case SWI_TYPE_BOOL: return "boolean";
	case SWI_TYPE_LIST: return "list";
	}
	return "?";
}

/* A handler's declarations: valid types, and the core's type for the
 * attributes the core knows (it reads device and offset itself). */
static int check_declarations(swi_ctx_t *ctx, const struct swi_handler *h)
{
	for (const struct swi_handler_attr *d = h->attributes; d && d->name; d++) {
		if (d->type < SWI_TYPE_STRING || d->type > SWI_TYPE_LIST)
			return swi_fail(ctx, SWI_EINVAL, "handler '%s': attribute '%s' has no valid type",
					h->name, d->name);
		const struct swi_handler_attr *core = core_declaration(d->name);
		if (core && core->type != d->type)
			return swi_fail(ctx, SWI_EINVAL,
					"handler '%s' declares attribute '%s' as a %s; it is a %s",
					h->name, d->name, type_name(d->type), type_name(core->type));
	}
	return SWI_OK;
}

/* A handler built against a newer struct is taken only when it leaves the
 * fields this version does not know zero: ignoring a callback it sets
 * would install differently from what it was written for. */
static bool sets_unknown_fields(const struct swi_handler *h)
{
	const unsigned char *bytes = (const unsigned char *)h;
	for (size_t i = sizeof(*h); i < h->size; i++)
		if (bytes[i])
			return true;
	return false;
}

/* The size comes first and is checked before any other field is read. */
static int check_size(swi_ctx_t *ctx, const struct swi_handler *h)
{
	if (h->size < SWI_HANDLER_MIN_SIZE)
		return swi_fail(ctx, SWI_EINVAL,
				"handler registration: size %zu is smaller than the first struct "
				"swi_handler (%zu bytes); set .size = SWI_HANDLER_SIZE",
				h->size, (size_t)SWI_HANDLER_MIN_SIZE);
	if (h->size > SWI_HANDLER_MAX_SIZE)
		return swi_fail(ctx, SWI_EINVAL,
				"handler '%s': size %zu is no struct swi_handler's (at most %d bytes); "
				"set .size = SWI_HANDLER_SIZE", h->name ? h->name : "?", h->size,
				SWI_HANDLER_MAX_SIZE);
	if (sets_unknown_fields(h))
		return swi_fail(ctx, SWI_EINVAL,
				"handler '%s' was built for a newer swinstall (size %zu): it sets "
				"fields this version (size %zu) does not know", h->name ? h->name : "?",
				h->size, sizeof(*h));
	return SWI_OK;
}

int swi_register_handler(swi_ctx_t *ctx, const struct swi_handler *h)
{
	if (!ctx)
		return SWI_EINVAL;
	if (!h)
		return swi_fail(ctx, SWI_EINVAL, "handler registration needs a handler");
	int rc = check_size(ctx, h);
	if (rc)
		return rc;
	if (!h->name || !h->open || !h->close || !h->abort)
		return swi_fail(ctx, SWI_EINVAL,
				"handler registration needs a name and open, close and abort callbacks");
	if (!h->write && !SWI_HANDLER_GET(h, extract, NULL) &&
	    !(SWI_HANDLER_GET(h, flags, 0u) & SWI_HANDLER_NO_DATA))
		return swi_fail(ctx, SWI_EINVAL,
				"handler '%s' needs write or extract (or the flag SWI_HANDLER_NO_DATA)",
				h->name);
	if (SWI_HANDLER_GET(h, phases, 0u) && !SWI_HANDLER_GET(h, run, NULL))
		return swi_fail(ctx, SWI_EINVAL, "handler '%s' names phases but has no run callback",
				h->name);
	rc = check_declarations(ctx, h);
	if (rc)
		return rc;
	const struct swi_handler **list =
		realloc(ctx->handlers, (ctx->nhandlers + 1) * sizeof(*list));
	if (!list)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	list[ctx->nhandlers++] = h;
	ctx->handlers = list;
	return SWI_OK;
}

#define NBUILTINS (sizeof(builtin_handlers) / sizeof(builtin_handlers[0]))

/* The i-th handler in lookup order (registered ones newest first, then the
 * built-ins), shadowed ones included; NULL past the end. */
static const struct swi_handler *in_lookup_order(const swi_ctx_t *ctx, size_t i)
{
	if (i < ctx->nhandlers)
		return ctx->handlers[ctx->nhandlers - 1 - i];
	i -= ctx->nhandlers;
	return i < NBUILTINS ? builtin_handlers[i] : NULL;
}

const struct swi_handler *swi_handler_at(const swi_ctx_t *ctx, size_t index)
{
	if (!ctx)
		return NULL;
	const struct swi_handler *h;
	for (size_t i = 0; (h = in_lookup_order(ctx, i)); i++) {
		if (swi_handler_find(ctx, h->name) != h)
			continue; /* shadowed */
		if (index-- == 0)
			return h;
	}
	return NULL;
}

void swi_handler_kinds_text(unsigned kinds, const char *separator, char *out, size_t size)
{
	static const struct { unsigned kind; const char *collection; } places[] = {
		{ SWI_HANDLER_IMAGE, "images" }, { SWI_HANDLER_FILE, "files" },
		{ SWI_HANDLER_SCRIPT, "scripts" }, { SWI_HANDLER_BOOTLOADER, "bootenv" },
		{ SWI_HANDLER_PARTITION, "partitions" },
	};
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]) && used < size; i++)
		if (kinds & places[i].kind)
			used += (size_t)snprintf(out + used, size - used, "%s%s",
						 used ? separator : "", places[i].collection);
}

int swi_handler_names(const swi_ctx_t *ctx, char *buf, size_t size)
{
	if (!ctx || !buf || size == 0)
		return SWI_EINVAL;
	/* The device's Lua handlers are among those it offers: loaded on
	 * first use, into the context (the caller's own, made by
	 * swi_ctx_new(): only the interface takes it as const). A file that
	 * fails to load leaves the others listed, and its error reported. */
	int loaded = swi_lua_handlers_load((swi_ctx_t *)ctx);
	size_t used = 0;
	buf[0] = '\0';
	const struct swi_handler *h;
	for (size_t i = 0; (h = swi_handler_at(ctx, i)) && used < size; i++) {
		char kinds[80];
		swi_handler_kinds_text(h->kinds, ", ", kinds, sizeof(kinds));
		used += (size_t)snprintf(buf + used, size - used, "%s%s (%s)", i ? ", " : "",
					 h->name, kinds);
	}
	if (used >= size)
		return SWI_EINVAL;
	return loaded;
}

const struct swi_handler *swi_handler_find(const swi_ctx_t *ctx, const char *name)
{
	/* Newest registration first, so a caller can shadow a built-in. */
	for (size_t i = ctx->nhandlers; i-- > 0;)
		if (strcmp(ctx->handlers[i]->name, name) == 0)
			return ctx->handlers[i];
	for (size_t i = 0; i < sizeof(builtin_handlers) / sizeof(builtin_handlers[0]); i++)
		if (strcmp(builtin_handlers[i]->name, name) == 0)
			return builtin_handlers[i];
	return NULL;
}

const char *swi_target_attr(const struct swi_target *t, const char *name)
{
	return swi_attrs_get(&t->entry->attrs, name);
}

/* ---- entry attributes, checked and typed at planning ------------------ */

const char *swi_entry_place(const struct swi_entry *e, char *buf, size_t size)
{
	const char *label = e->filename ? e->filename : swi_attrs_get(&e->attrs, "name");
	int n = snprintf(buf, size, "%s[%u]", e->collection ? e->collection : "entry", e->index);
	if (label && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (%s)", label);
	return buf;
}

/* Whether attr fits a declaration of type; the converted value in *v. */
static bool convert(const struct swi_attr *attr, enum swi_attr_type type, struct swi_value *v)
{
	*v = (struct swi_value){ .attr = attr, .type = type };
	bool list = attr->kind == SWI_ATTR_LIST;
	switch (type) {
	case SWI_TYPE_STRING:
		return !list;
	case SWI_TYPE_SIZE:
		return !list && attr->kind != SWI_ATTR_BOOL && swi_parse_size(attr->value, &v->size) == SWI_OK;
	case SWI_TYPE_BOOL:
		v->boolean = strcmp(attr->value, "true") == 0;
		return !list && (v->boolean || strcmp(attr->value, "false") == 0);
	case SWI_TYPE_LIST:
		return list;
	}
	return false;
}

static int refuse_type(struct swi_target *t, const char *place, const struct swi_attr *attr,
		       enum swi_attr_type type)
{
	static const char *const expected[] = {
		[SWI_TYPE_STRING] = "one value, not a list",
		[SWI_TYPE_SIZE] = "a size (such as 4096, 0x1000, 8K, 16M)",
		[SWI_TYPE_BOOL] = "true or false",
		[SWI_TYPE_LIST] = "a list, such as [ \"a\", \"b\" ]",
	};
	if (attr->kind == SWI_ATTR_LIST)
		return swi_fail(t->ctx, SWI_EFORMAT, "%s: attribute '%s' is a list; expected %s",
				place, attr->name, expected[type]);
	return swi_fail(t->ctx, SWI_EFORMAT, "%s: attribute '%s' is \"%s\"; expected %s", place,
			attr->name, attr->value, expected[type]);
}

/* A required attribute is set, and a string one not empty. */
static bool is_set(const struct swi_entry *e, const struct swi_handler_attr *d)
{
	const struct swi_attr *a = swi_attrs_find(&e->attrs, d->name);
	return a && (d->type != SWI_TYPE_STRING || a->value[0]);
}

/* One attribute of the entry: the handler's declaration first, then the
 * core's (an attribute with an effect that the handler does not declare
 * was refused before); what nobody declares is ignored. */
static int bind_one(struct swi_target *t, const char *place, const struct swi_attr *attr)
{
	const struct swi_handler_attr *d = declaration(t->handler->attributes, attr->name);
	struct swi_value v;
	if (d) {
		if (!convert(attr, d->type, &v))
			return refuse_type(t, place, attr, d->type);
		t->values[t->nvalues++] = v;
		return SWI_OK;
	}
	d = core_declaration(attr->name);
	if (d && !convert(attr, d->type, &v))
		return refuse_type(t, place, attr, d->type);
	if (!d && strncmp(attr->name, PROPERTIES_PREFIX, strlen(PROPERTIES_PREFIX)) != 0)
		swi_log(t->ctx, SWI_LOG_DEBUG, "%s: attribute '%s' is unknown; ignored", place,
			attr->name);
	return SWI_OK;
}

/* An attribute with an effect that the handler does not declare. */
static int refuse_unhonoured(struct swi_target *t, const char *place)
{
	for (size_t i = 0; i < sizeof(effect_attributes) / sizeof(effect_attributes[0]); i++)
		for (const struct swi_handler_attr *d = effect_attributes[i]; d->name; d++)
			if (swi_attrs_find(&t->entry->attrs, d->name) &&
			    !declaration(t->handler->attributes, d->name))
				return swi_fail(t->ctx, SWI_EUNSUPPORTED,
						"%s: handler '%s' cannot honour attribute '%s'", place,
						t->handler->name, d->name);
	return SWI_OK;
}

int swi_target_bind_attrs(struct swi_target *t)
{
	const struct swi_entry *e = t->entry;
	char place[SWI_PLACE_MAX];
	swi_entry_place(e, place, sizeof(place));
	swi_target_unbind_attrs(t);
	int rc = refuse_unhonoured(t, place);
	if (rc)
		return rc;
	t->values = calloc(e->attrs.count ? e->attrs.count : 1, sizeof(*t->values));
	if (!t->values)
		return swi_fail(t->ctx, SWI_ENOMEM, "out of memory");
	for (size_t i = 0; rc == SWI_OK && i < e->attrs.count; i++)
		rc = bind_one(t, place, &e->attrs.items[i]);
	if (rc)
		return rc;
	for (const struct swi_handler_attr *d = t->handler->attributes; d && d->name; d++)
		if (d->required && !is_set(e, d))
			return swi_fail(t->ctx, SWI_EFORMAT, "%s: handler '%s' needs attribute '%s'",
					place, t->handler->name, d->name);
	return SWI_OK;
}

void swi_target_unbind_attrs(struct swi_target *t)
{
	free(t->values);
	t->values = NULL;
	t->nvalues = 0;
}

const struct swi_value *swi_target_value(const struct swi_target *t, const char *name)
{
	for (size_t i = 0; i < t->nvalues; i++)
		if (strcmp(t->values[i].attr->name, name) == 0)
			return &t->values[i];
	return NULL;
}

/* The value of name for an accessor of type: the handler must have
 * declared it so. *v is NULL when the entry does not set it. */
static int typed_value(const struct swi_target *t, const char *name, enum swi_attr_type type,
		       const struct swi_value **v)
{
	const struct swi_handler_attr *d = declaration(t->handler->attributes, name);
	if (!d || d->type != type)
		return swi_fail(t->ctx, SWI_EINVAL,
				"%s: handler '%s' reads attribute '%s' as a %s but does not declare "
				"it so", t->entry->filename, t->handler->name, name, type_name(type));
	*v = swi_target_value(t, name);
	return SWI_OK;
}

int swi_target_attr_size(const struct swi_target *t, const char *name, uint64_t *out)
{
	const struct swi_value *v;
	int rc = typed_value(t, name, SWI_TYPE_SIZE, &v);
	if (rc == SWI_OK && v)
		*out = v->size;
	return rc;
}

int swi_target_attr_bool(const struct swi_target *t, const char *name, int *out)
{
	const struct swi_value *v;
	int rc = typed_value(t, name, SWI_TYPE_BOOL, &v);
	if (rc == SWI_OK && v)
		*out = v->boolean;
	return rc;
}

int swi_target_attr_list(const struct swi_target *t, const char *name,
			 const char *const **items, size_t *n)
{
	const struct swi_value *v;
	int rc = typed_value(t, name, SWI_TYPE_LIST, &v);
	if (rc == SWI_OK) {
		*items = v ? (const char *const *)v->attr->list : NULL;
		*n = v ? v->attr->nlist : 0;
	}
	return rc;
}

const char *swi_target_member(const struct swi_target *t)
{
	return t->entry->filename;
}

uint64_t swi_target_stored_size(const struct swi_target *t)
{
	return t->stored_size;
}

int swi_target_is_compressed(const struct swi_target *t)
{
	return t->entry->compressed != NULL;
}

int swi_target_alloc_state(struct swi_target *t)
{
	swi_target_free_state(t);
	size_t size = SWI_HANDLER_GET(t->handler, state_size, 0);
	if (size == 0)
		return SWI_OK;
	t->owned_state = calloc(1, size);
	if (!t->owned_state)
		return swi_target_error(t, SWI_ENOMEM, "out of memory for the %s handler's state",
					t->handler->name);
	t->state = t->owned_state;
	return SWI_OK;
}

void swi_target_free_state(struct swi_target *t)
{
	if (t->state == t->owned_state)
		t->state = NULL;
	free(t->owned_state);
	t->owned_state = NULL;
}

void swi_target_set_state(struct swi_target *t, void *state)
{
	t->state = state;
}

void *swi_target_state(const struct swi_target *t)
{
	return t->state;
}

int swi_target_error(struct swi_target *t, int code, const char *fmt, ...)
{
	char reason[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	t->missing = false;
	return swi_fail(t->ctx, code, "%s: %s", t->entry->filename, reason);
}

int swi_target_missing(struct swi_target *t, const char *fmt, ...)
{
	char reason[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	int rc = swi_target_error(t, SWI_EIO, "%s", reason);
	t->missing = true;
	return rc;
}

void swi_target_log(struct swi_target *t, int level, const char *fmt, ...)
{
	char text[900];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	swi_log(t->ctx, level, "%s: %s", t->entry->filename, text);
}

int swi_target_set_bootenv(struct swi_target *t, const char *name, const char *value)
{
	if (!t->staged_bootenv)
		return swi_target_error(t, SWI_EINVAL, "no bootloader environment to stage '%s' in", name);
	if (swi_attrs_set(t->staged_bootenv, name, value))
		return swi_target_error(t, SWI_ENOMEM, "out of memory");
	return SWI_OK;
}

int swi_parse_size(const char *text, uint64_t *out)
{
	if (!text || !out)
		return SWI_EINVAL;
	while (isspace((unsigned char)*text))
		text++;
	if (!isdigit((unsigned char)*text))
		return SWI_EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(text, &end, 0);
	if (errno || end == text)
		return SWI_EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case 'K': shift = 10; end++; break;
	case 'M': shift = 20; end++; break;
	case 'G': shift = 30; end++; break;
	default: break;
	}
	while (isspace((unsigned char)*end))
		end++;
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return SWI_EINVAL;
	*out = (uint64_t)v << shift;
	return SWI_OK;
}

uint64_t swi_target_write_limit(const struct swi_target *t)
{
	return t->limited ? t->limit : UINT64_MAX;
}

int swi_target_open_dir(struct swi_target *t, const char *path, int create, int *dirfd)
{
	int rc = swi_open_dir_nofollow(t->ctx, path, create != 0, dirfd);
	return rc ? swi_target_error(t, rc, "%s", swi_errmsg(t->ctx)) : SWI_OK;
}

int swi_target_create_staged(struct swi_target *t, int dirfd, const char *dir, const char *name,
			     char tmpname[SWI_STAGED_NAME_MAX], int *fd)
{
	int rc = swi_create_staged(t->ctx, t->journal, dirfd, dir, name, tmpname,
				   SWI_STAGED_NAME_MAX, fd);
	return rc ? swi_target_error(t, rc, "%s", swi_errmsg(t->ctx)) : SWI_OK;
}

int swi_target_check_free_space(struct swi_target *t, int fd, const char *where, uint64_t more)
{
	uint64_t bytes;
	unsigned percent;
	struct statvfs fs;
	swi_parse_reserve(t->ctx->opt.min_free_space, &bytes, &percent);
	if (fstatvfs(fd, &fs) < 0)
		return swi_target_error(t, SWI_EIO, "%s: %s", where, strerror(errno));
	uint64_t avail = (uint64_t)fs.f_bavail * fs.f_frsize;
	uint64_t reserve = percent ? (uint64_t)fs.f_blocks * fs.f_frsize / 100 * percent : bytes;
	if (avail >= reserve && avail - reserve >= more)
		return SWI_OK;
	return swi_target_error(t, SWI_EIO,
				"%s: its file system would fall under the free space it keeps "
				"(min-free-space: %llu bytes); %llu bytes are free",
				where, (unsigned long long)reserve, (unsigned long long)avail);
}

int swi_target_read(struct swi_target *t, const void **buf, size_t *len)
{
	if (!t->pull)
		return swi_target_error(t, SWI_EINVAL, "swi_target_read() outside extract");
	return swi_stream_pull(t->pull, buf, len);
}

/* Whether path holds a ".." component ("..name" is a file name). */
static bool has_dotdot_component(const char *path)
{
	for (const char *p = path; (p = strstr(p, "..")); p += 2)
		if ((p == path || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return true;
	return false;
}

int swi_target_path(struct swi_target *t, const char **out)
{
	const char *path = swi_target_attr(t, "path");
	const char *device = swi_target_attr(t, "device");
	bool mounts = swi_target_mounts(t);
	*out = NULL;
	if (t->path) {
		*out = t->path;
		return SWI_OK;
	}
	if (!path || !path[0])
		return swi_target_error(t, SWI_EFORMAT, "no \"path\" given");
	/* SWUpdate would ignore the device and write path on the running
	 * system: whichever was meant, one of the two is not done. */
	if (!mounts && device)
		return swi_target_error(t, SWI_EFORMAT,
					"device '%s' is given without a filesystem to mount it as "
					"(attribute 'filesystem'); path '%s' would be written on the "
					"running system, not on the device", device, path);
	if (!mounts && path[0] != '/')
		return swi_target_error(t, SWI_EFORMAT,
					"path '%s' is not absolute (and no filesystem is mounted)", path);
	if (has_dotdot_component(path))
		return swi_target_error(t, SWI_EFORMAT, "path '%s' contains a '..' component", path);
	if (!mounts) {
		*out = path;
		return SWI_OK;
	}
	if (!t->mount_dir) /* planning: nothing is mounted yet */
		return swi_target_check_mount(t);
	int rc = swi_target_mounted_path(t, path, &t->path);
	*out = t->path;
	return rc;
}

int swi_target_tmpdir(struct swi_target *t, const char **dir)
{
	if (!t->scratch)
		return swi_target_error(t, SWI_EINVAL, "no private directory in this install");
	int rc = swi_scratch_dir(t->scratch, dir);
	return rc ? swi_target_error(t, rc, "%s", swi_errmsg(t->ctx)) : SWI_OK;
}

int swi_target_run(struct swi_target *t, const char *what, const char *const argv[],
		   const char *const env[])
{
	/* Not started once cancelled: a short program would exit before the
	 * supervision looks at the cancel, and have run whole. */
	if (swi_cancelled(t->ctx))
		return swi_fail_cancelled(t->ctx);
	return swi_run_program(t->ctx, what, argv, env, swi_opt_script_timeout(t->ctx));
}
