/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Members held back until the "before" phase ran (see spool.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "spool.h"
#include "staging.h"

/* The member fits in dir's file system with the reserve left over. */
static int check_room(swi_ctx_t *ctx, const char *dir, const struct swi_member *m,
		      const char *waits_for)
{
	struct statvfs fs;
	uint64_t bytes;
	unsigned percent;
	swi_parse_reserve(ctx->opt.min_free_space, &bytes, &percent);
	if (statvfs(dir, &fs) < 0)
		return swi_fail(ctx, SWI_EIO, "%s: %s", dir, strerror(errno));
	uint64_t avail = (uint64_t)fs.f_bavail * fs.f_frsize;
	uint64_t reserve = percent ? (uint64_t)fs.f_blocks * fs.f_frsize / 100 * percent : bytes;
	if (avail >= reserve && avail - reserve >= m->size)
		return SWI_OK;
	return swi_fail(ctx, SWI_EIO,
			"%s: comes before the script %s in the image and must wait in %s until "
			"that script ran, but it does not fit: %" PRIu64 " bytes, %" PRIu64
			" free there (keeping min-free-space: %" PRIu64 " bytes); set tmpdir to a "
			"larger file system, or build the image with its scripts first",
			m->name, waits_for, dir, m->size, avail, reserve);
}

static int copy_member(swi_ctx_t *ctx, struct swi_swu *r, int fd, const char *path)
{
	for (;;) {
		if (swi_cancelled(ctx))
			return swi_fail_cancelled(ctx);
		const void *buf;
		size_t len;
		int rc = swi_swu_read(r, &buf, &len);
		if (rc || len == 0)
			return rc;
		if (swi_write_all(fd, buf, len) < 0)
			return swi_fail(ctx, SWI_EIO, "%s: %s", path, strerror(errno));
	}
}

static int add_item(struct swi_spool *sp, const struct swi_member *m, char *path)
{
	struct swi_spooled *items = realloc(sp->items, (sp->count + 1) * sizeof(*items));
	char *name = strdup(m->name);
	if (!items || !name) {
		free(name);
		if (items)
			sp->items = items;
		return swi_fail(sp->ctx, SWI_ENOMEM, "out of memory");
	}
	sp->items = items;
	sp->items[sp->count++] = (struct swi_spooled){ .name = name, .path = path, .size = m->size };
	return SWI_OK;
}

int swi_spool_member(struct swi_spool *sp, struct swi_scratch *scratch, struct swi_swu *r,
		     const struct swi_member *m, const char *waits_for)
{
	const char *dir;
	char *path = NULL;
	int rc = swi_scratch_dir(scratch, &dir);
	if (rc == SWI_OK)
		rc = check_room(sp->ctx, dir, m, waits_for);
	if (rc == SWI_OK && asprintf(&path, "%s/spooled-%zu", dir, sp->count) < 0) {
		path = NULL;
		rc = swi_fail(sp->ctx, SWI_ENOMEM, "out of memory");
	}
	if (rc)
		return rc;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = swi_fail(sp->ctx, SWI_EIO, "%s: %s", path, strerror(errno));
		free(path);
		return rc;
	}
	swi_log(sp->ctx, SWI_LOG_INFO, "%s: spooled to %s (%" PRIu64 " bytes): it came before "
		"the script %s, which must run before anything is written", m->name, path,
		m->size, waits_for);
	rc = copy_member(sp->ctx, r, fd, path);
	if (close(fd) < 0 && rc == SWI_OK)
		rc = swi_fail(sp->ctx, SWI_EIO, "%s: %s", path, strerror(errno));
	if (rc == SWI_OK)
		rc = add_item(sp, m, path);
	if (rc == SWI_OK)
		return SWI_OK;
	unlink(path);
	free(path);
	return rc;
}

void swi_spool_release(struct swi_spool *sp, size_t i)
{
	if (sp->items[i].path)
		unlink(sp->items[i].path);
	free(sp->items[i].path);
	sp->items[i].path = NULL;
}

void swi_spool_free(struct swi_spool *sp)
{
	for (size_t i = 0; i < sp->count; i++) {
		swi_spool_release(sp, i);
		free(sp->items[i].name);
	}
	free(sp->items);
	sp->items = NULL;
	sp->count = 0;
}
