/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `swinstall scan DIR` and `swinstall install --from DIR`: offline updates
 * from a directory, such as a USB stick. */
#ifndef SWINSTALL_CLI_USB_H
#define SWINSTALL_CLI_USB_H

#include <stdbool.h>
#include <swinstall.h>

/* Lists the images of dir, those that fit first, newest first: as text on
 * stdout (the others on stderr, with why, unless quiet) or as JSON.
 * SWI_OK when one is to be installed, SWI_ECOMPAT when none is. */
int cli_scan(swi_ctx_t *ctx, const char *dir, bool json, bool quiet);
/* Installs the image of dir the scan picks (see swi_scan_dir()). */
int cli_install_from(swi_ctx_t *ctx, const char *dir, bool quiet);

#endif
