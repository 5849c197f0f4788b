/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "usb.h"

static void add_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

static void print_json(const char *dir, const struct swi_scan *scan)
{
	json_object *o = json_object_new_object();
	add_string(o, "dir", dir);
	add_string(o, "installed", scan->installed);
	add_string(o, "best", scan->best);
	json_object *images = json_object_new_array();
	for (size_t i = 0; i < scan->nimages; i++) {
		const struct swi_scan_image *img = &scan->images[i];
		json_object *j = json_object_new_object();
		add_string(j, "path", img->path);
		add_string(j, "version", img->version);
		json_object_object_add(j, "fits", json_object_new_boolean(img->status == SWI_OK));
		json_object_object_add(j, "newer", json_object_new_boolean(img->newer));
		add_string(j, "reason", img->reason);
		json_object_array_add(images, j);
	}
	json_object_object_add(o, "images", images);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

/* One line per image that fits: its version, its path, and a mark on the
 * one install --from takes; the others on stderr with why. */
static void print_text(const struct swi_scan *scan, bool quiet)
{
	for (size_t i = 0; i < scan->nimages; i++) {
		const struct swi_scan_image *img = &scan->images[i];
		if (img->status == SWI_OK)
			printf("%-16s %s%s\n", img->version ? img->version : "-", img->path,
			       img->path == scan->best ? "  (to install)" :
			       img->newer ? "" : "  (not newer than installed)");
		else if (!quiet)
			fprintf(stderr, "swinstall: %s does not fit: %s\n", img->path, img->reason);
	}
}

int cli_scan(swi_ctx_t *ctx, const char *dir, bool json, bool quiet)
{
	struct swi_scan scan;
	int rc = swi_scan_dir(ctx, dir, &scan);
	if (rc == SWI_OK || rc == SWI_ECOMPAT) {
		if (json)
			print_json(dir, &scan);
		else
			print_text(&scan, quiet);
	}
	swi_scan_free(&scan);
	return rc;
}

int cli_install_from(swi_ctx_t *ctx, const char *dir, bool quiet)
{
	struct swi_scan scan;
	char path[PATH_MAX];
	int rc = swi_scan_dir(ctx, dir, &scan);
	if (rc == SWI_OK) {
		snprintf(path, sizeof(path), "%s", scan.best);
		if (!quiet)
			fprintf(stderr, "swinstall: installing %s (version %s; installed: %s)\n",
				path, scan.images[0].version ? scan.images[0].version : "none",
				scan.installed ? scan.installed : "unknown");
	}
	swi_scan_free(&scan);
	return rc == SWI_OK ? swi_install_file(ctx, path) : rc;
}
