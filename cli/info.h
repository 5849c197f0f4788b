/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SWINSTALL_CLI_INFO_H
#define SWINSTALL_CLI_INFO_H

#include <stdbool.h>
#include <swinstall.h>

/* Prints what is in the image (a path, an http:// or https:// URL, or "-"
 * for standard input), as text or JSON, on stdout: also when its signature
 * did not verify (SWI_ESIG). */
int cli_info(swi_ctx_t *ctx, const char *image, bool json);

/* Whether an image argument is a URL (http:// or https://). */
bool cli_is_url(const char *image);

#endif
