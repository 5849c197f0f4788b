/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* embedded-script and hooks (see lua_hooks.h). CONTRACT PLACEHOLDER: replaced by the hooks work. */
#include "handler.h"
#include "lua_hooks.h"

int swi_lua_run_hooks(const struct swi_lua_env *env, struct swi_manifest *m,
		      struct swi_lua **state)
{
	*state = NULL;
	if (m->embedded_script)
		return swi_fail(env->ctx, SWI_EUNSUPPORTED,
				"sw-description: embedded-script needs Lua support, which this "
				"version of swinstall does not have yet");
	for (size_t i = 0; i < m->nentries; i++)
		if (swi_attrs_get(&m->entries[i].attrs, "hook")) {
			char place[SWI_PLACE_MAX];
			swi_entry_place(&m->entries[i], place, sizeof(place));
			return swi_fail(env->ctx, SWI_EUNSUPPORTED,
					"%s: \"hook\" needs Lua, which this build lacks", place);
		}
	return SWI_OK;
}
