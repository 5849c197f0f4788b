/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `swinstall status`: what the library reports, for people or for scripts. */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "status.h"

static const char *or_unknown(const char *s)
{
	return s ? s : "unknown";
}

static void print_text(const struct swi_state *s)
{
	printf("running slot:    %s", or_unknown(s->running));
	if (s->running_found_by)
		printf(" (from %s)", s->running_found_by);
	printf("\nstandby slot:    %s\n", or_unknown(s->standby));
	printf("next boot:       %s\n", s->next ? s->next : "unknown (no slot's variables match)");
	printf("update state:    ustate=%s: %s\n", s->ustate ? s->ustate : "unset",
	       s->ustate_meaning);
	printf("recovery status: %s: %s\n", s->recovery_status ? s->recovery_status : "unset",
	       s->recovery_meaning);
	if (s->rollback_meaning)
		printf("rollback:        %s%s%s\n", s->rollback_meaning,
		       s->rollback ? "; it would boot " : "", s->rollback ? s->rollback : "");
	printf("installed:      ");
	if (!s->versions || !s->versions[0])
		printf(" (no sw-versions)");
	for (const char *const *v = s->versions; v && *v; v++)
		printf(" %s%s", *v, v[1] ? "," : "");
	printf("\n");
}

static void add_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, value ? json_object_new_string(value) : NULL);
}

static void print_json(const struct swi_state *s)
{
	json_object *o = json_object_new_object();
	add_string(o, "running", s->running);
	add_string(o, "running_found_by", s->running_found_by);
	add_string(o, "standby", s->standby);
	add_string(o, "next", s->next);
	add_string(o, "ustate", s->ustate);
	add_string(o, "ustate_meaning", s->ustate_meaning);
	add_string(o, "recovery_status", s->recovery_status);
	add_string(o, "recovery_meaning", s->recovery_meaning);
	add_string(o, "rollback", s->rollback);
	add_string(o, "rollback_meaning", s->rollback_meaning);
	json_object *versions = json_object_new_object();
	for (const char *const *v = s->versions; v && *v; v++) {
		const char *space = strchr(*v, ' ');
		if (!space)
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(space - *v), *v);
		json_object_object_add(versions, name, json_object_new_string(space + 1));
	}
	json_object_object_add(o, "versions", versions);
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	json_object_put(o);
}

int cli_status(swi_ctx_t *ctx, bool json)
{
	struct swi_state state;
	int rc = swi_get_state(ctx, &state);
	if (rc != SWI_OK)
		return rc;
	if (json)
		print_json(&state);
	else
		print_text(&state);
	return SWI_OK;
}
