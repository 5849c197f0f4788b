/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The install's private scratch directory (see scratch.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "scratch.h"

int swi_scratch_dir(struct swi_scratch *s, const char **dir)
{
	if (!s->dir) {
		const char *tmp = swi_opt_tmpdir(s->ctx);
		char *name = NULL;
		if (asprintf(&name, "%s/swinstall-XXXXXX", tmp) < 0)
			return swi_fail(s->ctx, SWI_ENOMEM, "out of memory");
		/* mkdtemp() makes it 0700: scripts in it cannot be replaced by
		 * anyone else before they run. */
		if (!mkdtemp(name)) {
			int err = errno;
			free(name);
			return swi_fail(s->ctx, SWI_EIO, "tmpdir %s: cannot make a private directory: %s",
					tmp, strerror(err));
		}
		s->dir = name;
	}
	*dir = s->dir;
	return SWI_OK;
}

void swi_scratch_remove(struct swi_scratch *s)
{
	if (!s->dir)
		return;
	DIR *d = opendir(s->dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	if (rmdir(s->dir) < 0)
		swi_log(s->ctx, SWI_LOG_WARN, "could not remove %s: %s", s->dir, strerror(errno));
	free(s->dir);
	s->dir = NULL;
}
