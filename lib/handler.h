/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler registry and the target an entry is installed through. Private. */
#ifndef SWI_HANDLER_H
#define SWI_HANDLER_H

#include "attrs.h"
#include "context.h"
#include "manifest.h"
#include "staging.h"

struct swi_target {
	swi_ctx_t *ctx;
	const struct swi_entry *entry;
	const struct swi_handler *handler;
	uint64_t stored_size;
	void *state;
	struct swi_attrs *staged_bootenv; /* where swi_target_set_bootenv() stages */
	struct swi_journal *journal;      /* where staged files are recorded; NULL: nowhere */
	bool limited;                     /* a protected region follows the offset: */
	uint64_t limit;                   /* bytes writable from the offset on */
};

/* The handler named name: run-time registered ones first, then built-ins. */
const struct swi_handler *swi_handler_find(const swi_ctx_t *ctx, const char *name);

/* Attributes that change how an entry is installed: an entry that sets one
 * its handler does not list is refused. NULL-terminated. */
extern const char *const swi_effect_attributes[];

/* Built-in handlers (one file each under handlers/), listed in lib/handler.c's table. */
extern const struct swi_handler swi_handler_raw;
extern const struct swi_handler swi_handler_rawfile;
extern const struct swi_handler swi_handler_bootloader;

#endif
