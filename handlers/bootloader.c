/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Handler "bootloader": an image holding bootloader variables in the format
 * of `fw_setenv -s FILE`, staged for the commit (nothing is written here).
 *
 * The format as libubootenv 0.3.2's fw_setenv -s reads it (tried): one
 * "name=value" a line, split at the first '=' and the rest kept verbatim
 * (spaces and further '=' included); a trailing "\r" or "\n" dropped; an
 * empty value removes the variable; lines starting with '#' in the first
 * column and empty lines are skipped. "name value" (a space instead of '=') is
 * NOT accepted: fw_setenv silently skips such a line, as it does any line
 * without '='.
 * Stricter here, because fw_setenv's leniency corrupts environments: a line
 * without '=', an empty name ("=value", which 0.3.2 stores and U-Boot then
 * rejects) or a name with white space ("name = value" would become the
 * variable "name ") is an error naming the line. A line of only white space
 * counts as empty.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <swinstall/handler.h>

/* An environment script is small; anything larger is not one. */
#define SCRIPT_MAX (1024 * 1024)

struct script {
	char *text;
	size_t len;
	size_t cap;
};

static int bootloader_write(struct swi_target *t, const void *buf, size_t len)
{
	struct script *s = swi_target_state(t);
	if (len > SCRIPT_MAX - s->len)
		return swi_target_error(t, SWI_EHANDLER,
					"larger than %d bytes: not a bootloader environment script",
					SCRIPT_MAX);
	if (s->len + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap : 4096;
		while (cap < s->len + len + 1)
			cap *= 2;
		char *text = realloc(s->text, cap);
		if (!text)
			return swi_target_error(t, SWI_ENOMEM, "out of memory");
		s->text = text;
		s->cap = cap;
	}
	memcpy(s->text + s->len, buf, len);
	s->len += len;
	return SWI_OK;
}

static int is_blank(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)line[i]))
			return 0;
	return 1;
}

/* Checks one line of len bytes and, when stage is set, stages it (cutting
 * the text at the line's end and at its '='); lineno for messages. */
static int handle_line(struct swi_target *t, char *line, size_t len, unsigned lineno, int stage)
{
	if (line[0] == '#' || is_blank(line, len))
		return SWI_OK;
	char *eq = memchr(line, '=', len);
	if (!eq)
		return swi_target_error(t, SWI_EFORMAT, "line %u: no '=' (expected name=value)",
					lineno);
	if (eq == line)
		return swi_target_error(t, SWI_EFORMAT, "line %u: empty variable name", lineno);
	for (const char *c = line; c < eq; c++)
		if (isspace((unsigned char)*c))
			return swi_target_error(t, SWI_EFORMAT,
						"line %u: variable name '%.*s' contains white space",
						lineno, (int)(eq - line), line);
	if (!stage)
		return SWI_OK;
	line[len] = '\0';
	*eq = '\0';
	return swi_target_set_bootenv(t, line, eq + 1);
}

static int for_each_line(struct swi_target *t, struct script *s, int stage)
{
	unsigned lineno = 1;
	for (char *line = s->text; *line; lineno++) {
		size_t len = strcspn(line, "\n");
		char *next = line[len] ? line + len + 1 : line + len;
		if (len && line[len - 1] == '\r')
			len--;
		int rc = handle_line(t, line, len, lineno, stage);
		if (rc)
			return rc;
		line = next;
	}
	return SWI_OK;
}

/* Checks every line before staging any, so a bad script stages nothing. */
static int stage_script(struct swi_target *t, struct script *s)
{
	if (s->len && memchr(s->text, '\0', s->len))
		return swi_target_error(t, SWI_EFORMAT, "contains a NUL byte: not a text file");
	if (!s->text)
		return SWI_OK;
	s->text[s->len] = '\0';
	int rc = for_each_line(t, s, 0);
	return rc ? rc : for_each_line(t, s, 1);
}

/* The state starts zeroed: an empty script. */
static int bootloader_open(struct swi_target *t)
{
	(void)t;
	return SWI_OK;
}

/* Both close and abort end here, abort also after a failed close. */
static void release(struct script *s)
{
	free(s->text);
	*s = (struct script){ 0 };
}

static int bootloader_close(struct swi_target *t)
{
	struct script *s = swi_target_state(t);
	int rc = stage_script(t, s);
	release(s);
	return rc;
}

static void bootloader_abort(struct swi_target *t)
{
	release(swi_target_state(t));
}

/* It honours no attribute: its entries say nothing but their file. */
const struct swi_handler swi_handler_bootloader = {
	.size = SWI_HANDLER_SIZE,
	.name = "bootloader",
	.kinds = SWI_HANDLER_IMAGE | SWI_HANDLER_BOOTLOADER,
	.attributes = NULL,
	.open = bootloader_open,
	.write = bootloader_write,
	.close = bootloader_close,
	.abort = bootloader_abort,
	.state_size = sizeof(struct script),
};
