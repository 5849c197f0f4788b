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
/* <0, 0, >0 like strcmp: dotted numeric components compared as numbers. */
int swi_version_compare(const char *a, const char *b);

#endif
