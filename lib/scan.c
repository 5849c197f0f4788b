/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swi_scan_dir(): the .swu images of a directory (a USB stick) that fit
 * this device, newest first, and the one `install --from` takes.
 *
 * Each image gets the checks of a check-only install (signature, hardware,
 * version guards, selection, handlers), which read sw-description only and
 * write nothing, so the verdict is the one an install would reach.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "context.h"
#include "versions.h"

struct scan_list {
	struct swi_scan_image *items;
	size_t count, size;
};

static bool is_swu_name(const char *name)
{
	size_t len = strlen(name);
	return name[0] != '.' && len > 4 && strcasecmp(name + len - 4, ".swu") == 0;
}

static int add_path(swi_ctx_t *ctx, struct scan_list *l, const char *dir, const char *name)
{
	if (l->count == l->size) {
		size_t size = l->size ? 2 * l->size : 8;
		struct swi_scan_image *items = realloc(l->items, size * sizeof(*items));
		if (!items)
			return swi_fail(ctx, SWI_ENOMEM, "out of memory");
		l->items = items;
		l->size = size;
	}
	struct swi_scan_image *img = &l->items[l->count];
	memset(img, 0, sizeof(*img));
	size_t dir_len = strlen(dir);
	bool slash = dir_len > 0 && dir[dir_len - 1] == '/';
	if (asprintf((char **)&img->path, "%s%s%s", dir, slash ? "" : "/", name) < 0) {
		img->path = NULL;
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	}
	l->count++;
	return SWI_OK;
}

/* The regular files DIR/ *.swu (hidden ones left out). */
static int list_images(swi_ctx_t *ctx, const char *dir, struct scan_list *l)
{
	DIR *d = opendir(dir);
	if (!d)
		return swi_fail(ctx, SWI_EIO, "%s: %s", dir, strerror(errno));
	int rc = SWI_OK;
	struct dirent *e;
	while (rc == SWI_OK && (e = readdir(d))) {
		if (!is_swu_name(e->d_name))
			continue;
		rc = add_path(ctx, l, dir, e->d_name);
		struct stat st;
		if (rc == SWI_OK && (stat(l->items[l->count - 1].path, &st) != 0 ||
				     !S_ISREG(st.st_mode)))
			free((char *)l->items[--l->count].path);
	}
	closedir(d);
	return rc;
}

/* The version of the image as a whole (as info reads it), copied. */
static int image_version(swi_ctx_t *ctx, struct swi_scan_image *img)
{
	struct swi_info info;
	int rc = swi_info_file(ctx, img->path, &info);
	if (info.version && !(img->version = strdup(info.version)))
		rc = swi_fail(ctx, SWI_ENOMEM, "out of memory");
	swi_info_free(&info);
	return rc;
}

/* The verdict of a check-only install of img, without its progress. */
static int check_image(swi_ctx_t *ctx, struct swi_scan_image *img)
{
	img->status = image_version(ctx, img);
	if (img->status == SWI_OK || img->status == SWI_ESIG) {
		swi_progress_fn progress = ctx->progress_fn;
		bool check_only = ctx->opt.check_only, dry_run = ctx->opt.dry_run;
		ctx->progress_fn = NULL;
		ctx->opt.check_only = true;
		ctx->opt.dry_run = false;
		img->status = swi_install_file(ctx, img->path);
		ctx->progress_fn = progress;
		ctx->opt.check_only = check_only;
		ctx->opt.dry_run = dry_run;
	}
	if (img->status == SWI_ENOMEM || img->status == SWI_ECANCELED)
		return img->status;
	if (img->status != SWI_OK && !(img->reason = strdup(swi_errmsg(ctx))))
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	swi_log(ctx, SWI_LOG_DEBUG, "%s: %s", img->path, img->reason ? img->reason : "fits");
	return SWI_OK;
}

/* The highest version recorded by the last install into the running slot
 * or into the slot that boots next (an install waiting for its reboot),
 * else the one no-downgrading names; NULL when neither is known. */
static int installed_version(swi_ctx_t *ctx, char **out)
{
	*out = NULL;
	const char *highest = NULL;
	struct swi_state state;
	if (swi_get_state(ctx, &state) == SWI_OK)
		for (size_t i = 0; i < state.nslots; i++) {
			const struct swi_slot_state *slot = &state.slots[i];
			if ((slot->running || slot->booting_next) && slot->version &&
			    (!highest || swi_version_compare(slot->version, highest) > 0))
				highest = slot->version;
		}
	if (!highest)
		highest = ctx->opt.no_downgrading;
	if (highest && !(*out = strdup(highest)))
		return swi_fail(ctx, SWI_ENOMEM, "out of memory");
	return SWI_OK;
}

/* Images that fit first, newest first; then the others; ties by path. */
static int by_fit_and_version(const void *pa, const void *pb)
{
	const struct swi_scan_image *a = pa, *b = pb;
	if ((a->status == SWI_OK) != (b->status == SWI_OK))
		return a->status == SWI_OK ? -1 : 1;
	int order = a->status == SWI_OK ? swi_version_compare(b->version, a->version) : 0;
	return order ? order : strcmp(a->path, b->path);
}

/* Why no image is to be installed, as the error of the scan. */
static int nothing_to_install(swi_ctx_t *ctx, const struct swi_scan *scan, const char *dir)
{
	const struct swi_scan_image *newest = scan->nfitting ? &scan->images[0] : NULL;
	if (scan->nimages == 0)
		return swi_fail(ctx, SWI_ECOMPAT, "%s: no .swu image in it", dir);
	if (!newest)
		return swi_fail(ctx, SWI_ECOMPAT, "%s: none of its %zu .swu images fits this "
				"device (%s: %s)", dir, scan->nimages, scan->images[0].path,
				scan->images[0].reason);
	return swi_fail(ctx, SWI_ECOMPAT, "%s: the newest image that fits, %s (version %s), is "
			"not newer than the installed version %s; nothing installed (--force "
			"installs it)", dir, newest->path, newest->version ? newest->version : "none",
			scan->installed);
}

static int choose(swi_ctx_t *ctx, struct swi_scan *scan, struct scan_list *l)
{
	for (size_t i = 0; i < l->count; i++) {
		struct swi_scan_image *img = &l->items[i];
		scan->nfitting += img->status == SWI_OK;
		img->newer = img->status == SWI_OK &&
			     (!scan->installed ||
			      swi_version_compare(img->version, scan->installed) > 0);
	}
	if (l->count > 1)
		qsort(l->items, l->count, sizeof(*l->items), by_fit_and_version);
	scan->images = l->items;
	scan->nimages = l->count;
	if (scan->nfitting && (l->items[0].newer || ctx->opt.force))
		scan->best = l->items[0].path;
	return SWI_OK;
}

int swi_scan_dir(swi_ctx_t *ctx, const char *dir, struct swi_scan *scan)
{
	if (scan)
		memset(scan, 0, sizeof(*scan));
	if (!ctx || !dir || !scan)
		return ctx ? swi_fail(ctx, SWI_EINVAL, "scan: needs a directory") : SWI_EINVAL;
	struct scan_list l = { 0 };
	int rc = list_images(ctx, dir, &l);
	for (size_t i = 0; rc == SWI_OK && i < l.count; i++)
		rc = check_image(ctx, &l.items[i]);
	char *installed = NULL;
	if (rc == SWI_OK)
		rc = installed_version(ctx, &installed);
	scan->installed = installed;
	scan->images = l.items;
	scan->nimages = l.count;
	if (rc == SWI_OK)
		rc = choose(ctx, scan, &l);
	if (rc == SWI_OK && !scan->best)
		return nothing_to_install(ctx, scan, dir);
	if (rc != SWI_OK)
		swi_scan_free(scan);
	return rc;
}

void swi_scan_free(struct swi_scan *scan)
{
	if (!scan)
		return;
	for (size_t i = 0; i < scan->nimages; i++) {
		free((char *)scan->images[i].path);
		free((char *)scan->images[i].version);
		free((char *)scan->images[i].reason);
	}
	free((void *)scan->images);
	free((char *)scan->installed);
	memset(scan, 0, sizeof(*scan));
}
