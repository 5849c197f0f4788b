/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef SWINSTALL_CLI_ADU_MANIFEST_H
#define SWINSTALL_CLI_ADU_MANIFEST_H

/* `swinstall manifest FILE.swu --provider P --name N [--version V] --compat
 * K=V[,K=V...] [--file EXTRA]...`: prints an Azure Device Update import
 * manifest (version 5.0) for the image on stdout. argv[0] is "manifest".
 * Returns the exit status: 0, 1 (a file could not be read), 2 (an argument
 * breaks a Device Update limit) or 3 (FILE is not a .swu image). */
int cli_adu_manifest(int argc, char **argv);

#endif
