/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The libconfig 1.7 syntax of real sw-descriptions for libconfig 1.5. Private. */
#ifndef SWI_LIBCONFIG_COMPAT_H
#define SWI_LIBCONFIG_COMPAT_H

#include <stddef.h>
#include "context.h"

/*
 * Rewrites text (len bytes, no NUL) into *result (NUL-terminated, to free)
 * so that libconfig 1.5 reads it as libconfig 1.7 would: trailing commas
 * dropped, 64-bit integers marked, "@include" refused (SWI_EFORMAT with the
 * line). Every line stays where it was, so libconfig's line numbers hold.
 */
int swi_libconfig_compat(swi_ctx_t *ctx, const char *text, size_t len, char **result);

#endif
