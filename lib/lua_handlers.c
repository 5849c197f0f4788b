/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Lua handlers (see lua_handlers.h). CONTRACT PLACEHOLDER: replaced by the Lua handlers work. */
#include "lua_handlers.h"

int swi_lua_handlers_load(swi_ctx_t *ctx)
{
	(void)ctx;
	return SWI_OK;
}
