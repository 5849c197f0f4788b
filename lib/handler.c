/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler registry, and what handlers may ask of their target. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include "handler.h"

/* The one table of built-in handlers: a new handler is one line here. */
static const struct swi_handler *const builtin_handlers[] = {
	&swi_handler_raw,
	&swi_handler_rawfile,
	&swi_handler_bootloader,
};

const char *const swi_effect_attributes[] = {
	"device", "offset", "path", "filesystem", "create-destination",
	"volume", "mtdname", "preserve-attributes", "atomic-install",
	NULL,
};

int swi_register_handler(swi_ctx_t *ctx, const struct swi_handler *h)
{
	if (!ctx || !h || !h->name || !h->open || !h->write || !h->close || !h->abort)
		return ctx ? swi_fail(ctx, SWI_EINVAL,
				      "handler registration needs a name and open, write, close and abort callbacks")
			   : SWI_EINVAL;
	const struct swi_handler **list =
		realloc(ctx->handlers, (ctx->nhandlers + 1) * sizeof(*list));
	if (!list)
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	list[ctx->nhandlers++] = h;
	ctx->handlers = list;
	return SWI_OK;
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
	return swi_fail(t->ctx, code, "%s: %s", t->entry->filename, reason);
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
