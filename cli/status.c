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

/* The flags of a slot, as words. */
static void slot_flags(const struct swi_slot_state *slot, char *out, size_t size)
{
	snprintf(out, size, "%s%s%s%s", slot->running ? "running " : "",
		 slot->booting_next ? "next " : "", slot->complete ? "complete " : "",
		 slot->staged ? "staged " : "");
	size_t len = strlen(out);
	if (len)
		out[len - 1] = '\0';
	else
		snprintf(out, size, "-");
}

/* One line per slot, like a partition table. */
static void print_slots(const struct swi_state *s)
{
	if (s->nslots == 0)
		return;
	int name_width = 4, device_width = 6, version_width = 7;
	for (size_t i = 0; i < s->nslots; i++) {
		const struct swi_slot_state *slot = &s->slots[i];
		int n = (int)strlen(slot->name), d = (int)strlen(slot->device);
		int v = slot->version ? (int)strlen(slot->version) : 1;
		name_width = n > name_width ? n : name_width;
		device_width = d > device_width ? d : device_width;
		version_width = v > version_width ? v : version_width;
	}
	printf("slots:\n  %-*s  %-*s  %-*s  %s\n", name_width, "SLOT", device_width, "DEVICE",
	       version_width, "VERSION", "STATE");
	for (size_t i = 0; i < s->nslots; i++) {
		const struct swi_slot_state *slot = &s->slots[i];
		char flags[64];
		slot_flags(slot, flags, sizeof(flags));
		printf("  %-*s  %-*s  %-*s  %s\n", name_width, slot->name, device_width, slot->device,
		       version_width, slot->version ? slot->version : "-", flags);
	}
}

static void print_text(const struct swi_state *s)
{
	print_slots(s);
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
	if (s->staged)
		printf("staged:          slot %s waits for 'swinstall apply'\n", s->staged);
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
	add_string(o, "staged", s->staged);
	json_object *slots = json_object_new_array();
	for (size_t i = 0; i < s->nslots; i++) {
		const struct swi_slot_state *slot = &s->slots[i];
		json_object *js = json_object_new_object();
		add_string(js, "name", slot->name);
		add_string(js, "device", slot->device);
		add_string(js, "version", slot->version);
		json_object_object_add(js, "complete", json_object_new_boolean(slot->complete));
		json_object_object_add(js, "running", json_object_new_boolean(slot->running));
		json_object_object_add(js, "booting_next",
				       json_object_new_boolean(slot->booting_next));
		json_object_object_add(js, "staged", json_object_new_boolean(slot->staged));
		json_object_array_add(slots, js);
	}
	json_object_object_add(o, "slots", slots);
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

static const char *installed_word(int state)
{
	switch (state) {
	case SWI_INSTALLED_RUNNING: return "running";
	case SWI_INSTALLED_PENDING: return "pending";
	case SWI_INSTALLED_STAGED: return "staged";
	case SWI_INSTALLED_IDLE: return "idle";
	}
	return "not-installed";
}

int cli_is_installed(swi_ctx_t *ctx, const char *image, const char *version, bool json,
		     int *state)
{
	struct swi_installed out;
	int rc = image ? swi_is_installed_file(ctx, image, &out)
		       : swi_is_installed(ctx, version, &out);
	if (rc != SWI_OK)
		return rc;
	*state = out.state;
	if (json) {
		json_object *o = json_object_new_object();
		add_string(o, "version", out.version);
		add_string(o, "state", installed_word(out.state));
		add_string(o, "slot", out.slot);
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
		json_object_put(o);
	} else if (out.slot) {
		printf("%s: %s (slot %s)\n", out.version, installed_word(out.state), out.slot);
	} else {
		printf("%s: %s\n", out.version, installed_word(out.state));
	}
	return SWI_OK;
}
