/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the unit tests (include after <cmocka.h>). */
#ifndef SWI_TESTUTIL_H
#define SWI_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>

/* What a shell command printed (malloc'd, the caller frees it); the
 * command must succeed. Used to read state back with the real tools
 * (fw_printenv, grub-editenv). */
static inline char *command_output(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	const size_t cap = 4096;
	char *out = calloc(1, cap);
	assert_non_null(out);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	return out;
}

/* Removes a test's temporary directory and all in it; system()'s status. */
static inline int remove_tree(const char *dir)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

#endif
