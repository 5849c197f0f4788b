/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <json-c/json.h>
#include "jsonstream.h"

/* One object, one line: json-c escapes quotes, backslashes and control
 * characters (a newline in a member name stays on its line). The log
 * callback may run on a library thread while progress runs on the
 * caller's: the line goes out in one stdio call, which holds the stream's
 * lock, so lines never mix. */
static void emit(FILE *out, json_object *event)
{
	fprintf(out, "%s\n", json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE));
	fflush(out);
	json_object_put(event);
}

static json_object *new_event(const char *name)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "event", json_object_new_string(name));
	return o;
}

static const char *level_name(int level)
{
	switch (level) {
	case SWI_LOG_ERROR: return "error";
	case SWI_LOG_WARN: return "warning";
	case SWI_LOG_INFO: return "info";
	default: return "debug";
	}
}

void cli_json_log(FILE *out, int level, const char *message)
{
	json_object *o = new_event("log");
	json_object_object_add(o, "level", json_object_new_string(level_name(level)));
	json_object_object_add(o, "message", json_object_new_string(message));
	emit(out, o);
}

const char *cli_phase_name(int phase)
{
	switch (phase) {
	case SWI_PROGRESS_VERIFYING: return "verifying";
	case SWI_PROGRESS_INSTALLING: return "installing";
	case SWI_PROGRESS_COMMITTING: return "committing";
	}
	return "?";
}

void cli_json_progress(FILE *out, const struct swi_progress *p)
{
	json_object *o = new_event("progress");
	json_object_object_add(o, "phase", json_object_new_string(cli_phase_name(p->phase)));
	json_object_object_add(o, "member", p->member ? json_object_new_string(p->member) : NULL);
	json_object_object_add(o, "done", json_object_new_int64((int64_t)p->done));
	json_object_object_add(o, "total", json_object_new_int64((int64_t)p->total));
	json_object_object_add(o, "index", json_object_new_int64(p->index));
	json_object_object_add(o, "count", json_object_new_int64(p->count));
	json_object_object_add(o, "percent", json_object_new_int64(p->percent));
	emit(out, o);
}

void cli_json_result(FILE *out, int exit_code, const char *class, const char *error,
		     const struct swi_result *result)
{
	static const struct swi_result none = { 0 };
	const struct swi_result *r = result ? result : &none;
	json_object *o = new_event("result");
	json_object_object_add(o, "status", json_object_new_string(exit_code ? "failed" : "ok"));
	json_object_object_add(o, "exit", json_object_new_int(exit_code));
	json_object_object_add(o, "class", json_object_new_string(class));
	json_object_object_add(o, "error", error ? json_object_new_string(error) : NULL);
	json_object_object_add(o, "committed", json_object_new_boolean(r->committed != 0));
	json_object_object_add(o, "slot", r->slot ? json_object_new_string(r->slot) : NULL);
	json_object_object_add(o, "staged", json_object_new_boolean(r->staged != 0));
	json_object_object_add(o, "version", r->version ? json_object_new_string(r->version) : NULL);
	json_object_object_add(o, "planned", json_object_new_int64(r->planned));
	json_object_object_add(o, "installed", json_object_new_int64(r->installed));
	json_object_object_add(o, "skipped", json_object_new_int64(r->skipped));
	emit(out, o);
}
