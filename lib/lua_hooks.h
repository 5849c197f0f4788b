/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sw-description's embedded-script and the entries' hooks: the script is
 * loaded once, after the signature verified, into a state that lives for
 * the install; an entry with `hook = "fn"` is passed to fn(entry), which
 * keeps it (its fields written back), skips it or rejects the image,
 * before the plan checks anything. Private.
 */
#ifndef SWI_LUA_HOOKS_H
#define SWI_LUA_HOOKS_H

#include "lua_host.h"
#include "manifest.h"

/*
 * Runs m's embedded-script (when it has one) in a new state left in
 * *state (NULL when none; the caller frees it with swi_lua_free() after
 * the install), then every entry's hook, in order: a kept entry's
 * attributes are rewritten from the table the hook returned, a skipped one
 * is removed from m. A false result refuses the image as not for this
 * device (SWI_ECOMPAT); a hook function that does not exist, an error or a
 * result of the wrong kind fails (SWI_EHANDLER), a hook without an
 * embedded-script is malformed (SWI_EFORMAT); each names the entry and the
 * function, an error also the line.
 */
int swi_lua_run_hooks(const struct swi_lua_env *env, struct swi_manifest *m,
		      struct swi_lua **state);

#endif
