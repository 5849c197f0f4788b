/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* hwrevision, sw-versions and version order. Private. */
#ifndef SWI_VERSIONS_H
#define SWI_VERSIONS_H

#include <stddef.h>
#include "attrs.h"
#include "context.h"

/* The device's board and revision: from the "hwrevision" option
 * ("BOARD:REV") or else the hwrevision file ("BOARD REV" on one line).
 * A missing file leaves both NULL and returns SWI_OK. */
int swi_hwrevision_get(swi_ctx_t *ctx, char **board, char **revision);
/* True when revision is in list (entries "#RE:..." are POSIX extended regexes). */
int swi_hw_compatible(const char *revision, char *const *list, size_t n);
/* Reads "NAME VERSION" lines; a missing file is an empty list. */
int swi_sw_versions_load(swi_ctx_t *ctx, const char *path, struct swi_attrs *out);
/* -1, 0, 1 as a is lower than, equal to or higher than b, in SWUpdate's
 * order (dotted numbers, else semantic versions, else bytewise); NULL is "". */
int swi_version_compare(const char *a, const char *b);
/* The options no-downgrading, max-version and no-reinstalling against the
 * image's version: SWI_ECOMPAT naming both versions and the guard when one
 * refuses, and when a guard is set but the image has no version (NULL or
 * ""). */
int swi_version_guards(swi_ctx_t *ctx, const char *image_version);

#endif
