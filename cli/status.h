/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SWINSTALL_CLI_STATUS_H
#define SWINSTALL_CLI_STATUS_H

#include <stdbool.h>
#include <swinstall.h>

/* Prints the device's slots and update state, as text or JSON, on stdout. */
int cli_status(swi_ctx_t *ctx, bool json);

/* Whether the version of image (or version, when image is NULL) is on the
 * device: prints the state and sets *state (enum swi_installed_state). */
int cli_is_installed(swi_ctx_t *ctx, const char *image, const char *version, bool json,
		     int *state);

#endif
