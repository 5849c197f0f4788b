/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Filesystem mounts (see mount.h). CONTRACT PLACEHOLDER: replaced by the mounts work. */
#include "mount.h"

int swi_target_mount(struct swi_target *t)
{
	if (!swi_target_attr(t, "filesystem"))
		return SWI_OK;
	return swi_target_error(t, SWI_EUNSUPPORTED, "mounting filesystems is not built yet");
}

void swi_target_unmount(struct swi_target *t)
{
	(void)t;
}
