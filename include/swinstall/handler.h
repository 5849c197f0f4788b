/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a handler author needs. A handler is data: a const struct swi_handler
 * with a name and callbacks. It sees the decoded bytes of one entry and the
 * entry's attributes, never the archive, the signature or the environment.
 *
 * Call order for one entry: check (at planning, before anything on the device
 * changes), open, write..., then close once the core verified the entry's
 * sha256, or abort on any failure (also after open failed half-way).
 */
#ifndef SWINSTALL_HANDLER_H
#define SWINSTALL_HANDLER_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <swinstall.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which sw-description collections a handler takes (SWUpdate's mask values). */
enum swi_handler_kind {
	SWI_HANDLER_IMAGE = 1,
	SWI_HANDLER_FILE = 2,
	SWI_HANDLER_SCRIPT = 4,
	SWI_HANDLER_BOOTLOADER = 8,
	SWI_HANDLER_PARTITION = 16,
};

/* One entry being installed; opaque. */
struct swi_target;

struct swi_handler {
	const char *name;              /* the entry's "type" */
	unsigned kinds;                /* SWI_HANDLER_* it accepts */
	/* Attributes with an effect that this handler honours (NULL-terminated).
	 * The core refuses an entry that sets one of them that is not listed. */
	const char *const *attributes;
	int (*check)(struct swi_target *t);   /* optional; must not change anything */
	int (*open)(struct swi_target *t);
	int (*write)(struct swi_target *t, const void *buf, size_t len);
	int (*close)(struct swi_target *t);   /* after the hash verified: flush, sync, rename */
	void (*abort)(struct swi_target *t);  /* undo what can be undone; no error to report */
};

/* Adds a handler to ctx; it shadows a built-in of the same name. */
int swi_register_handler(swi_ctx_t *ctx, const struct swi_handler *handler);

/* An attribute of the entry as written in sw-description (booleans "true" or
 * "false", numbers in decimal, properties as "properties.NAME"), or NULL. */
const char *swi_target_attr(const struct swi_target *t, const char *name);
/* The archive member feeding this entry (its "filename"). */
const char *swi_target_member(const struct swi_target *t);
/* The member's size in the archive (before decompression). */
uint64_t swi_target_stored_size(const struct swi_target *t);
/* True when the entry's bytes are compressed, so the decoded size is unknown. */
int swi_target_is_compressed(const struct swi_target *t);

void swi_target_set_state(struct swi_target *t, void *state);
void *swi_target_state(const struct swi_target *t);

/* Records the error as "<member>: <message>" and returns code. */
int swi_target_error(struct swi_target *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void swi_target_log(struct swi_target *t, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Stages a bootloader variable for the commit (value NULL or "" removes it). */
int swi_target_set_bootenv(struct swi_target *t, const char *name, const char *value);

/* Parses a size such as "4096", "0x4F000", "8K", "16M", "1G" (powers of 1024). */
int swi_parse_size(const char *text, uint64_t *out);

#ifdef __cplusplus
}
#endif
#endif
