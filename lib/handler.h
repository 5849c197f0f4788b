/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The handler registry and the target an entry is installed through. Private. */
#ifndef SWI_HANDLER_H
#define SWI_HANDLER_H

#include "attrs.h"
#include "context.h"
#include "manifest.h"
#include "scratch.h"
#include "staging.h"
#include "stream.h"

struct swi_lua_env;

/* An attribute the entry sets and its handler declares, checked against
 * the declaration and converted (swi_target_bind_attrs()). */
struct swi_value {
	const struct swi_attr *attr;      /* the entry's, with its text and list */
	enum swi_attr_type type;          /* as declared */
	uint64_t size;                    /* SWI_TYPE_SIZE */
	int boolean;                      /* SWI_TYPE_BOOL */
};

struct swi_target {
	swi_ctx_t *ctx;
	const struct swi_entry *entry;
	const struct swi_handler *handler;
	uint64_t stored_size;
	void *state;                      /* what swi_target_state() returns */
	void *owned_state;                /* the core's allocation of state_size bytes */
	struct swi_attrs *staged_bootenv; /* where swi_target_set_bootenv() stages */
	struct swi_journal *journal;      /* where staged files are recorded; NULL: nowhere */
	bool limited;                     /* a protected region follows the offset: */
	uint64_t limit;                   /* bytes writable from the offset on */
	struct swi_value *values;         /* the handler's attributes the entry sets */
	size_t nvalues;
	bool missing;                     /* the last error came from swi_target_missing() */
	struct swi_scratch *scratch;      /* the install's private directory (tmpdir) */
	struct swi_stream *pull;          /* a pull handler's stream, for swi_target_read() */
	char *mount_dir;                  /* where the entry's filesystem is mounted, or NULL */
	char *path;                       /* what swi_target_path() gave, or NULL */
	const struct swi_lua_env *lua_env; /* what Lua code run for the entry reaches */
	/* The install's checks of a device the plan did not see (a handler a
	 * Lua handler chains to): the running slot, the mounts, the slots and
	 * extra-targets, the window it may write. NULL outside an install. */
	int (*check_device)(struct swi_target *t);
	void *install;                    /* what check_device works on */
};

/* The sizes registration accepts: the first struct swi_handler ended
 * with abort; a larger size than any struct could grow to is a mistake. */
#define SWI_HANDLER_MIN_SIZE offsetof(struct swi_handler, commit)
#define SWI_HANDLER_MAX_SIZE 4096

/* Whether handler h, built against a struct swi_handler of h->size bytes,
 * has field; SWI_HANDLER_GET() reads it, or gives absent when h was built
 * before the field existed. Every read of a field added after the first
 * struct goes through them. */
#define SWI_HANDLER_HAS(h, field) \
	((h)->size >= offsetof(struct swi_handler, field) + sizeof((h)->field))
#define SWI_HANDLER_GET(h, field, absent) (SWI_HANDLER_HAS(h, field) ? (h)->field : (absent))

/* The state the core owns for t's handler: state_size zeroed bytes (none
 * for a handler that keeps its own), made current for swi_target_state().
 * Freed by swi_target_free_state(), also when called again. */
int swi_target_alloc_state(struct swi_target *t);
void swi_target_free_state(struct swi_target *t);

/* The attributes SWUpdate gives an effect on the target, the mount
 * ("filesystem") aside: device, offset, path, volume, ... */
extern const struct swi_handler_attr swi_target_attributes[];

/* The handler named name: run-time registered ones first, then built-ins. */
const struct swi_handler *swi_handler_find(const swi_ctx_t *ctx, const char *name);

/* "images[2] (u-boot.sb)": where an entry is in sw-description (its
 * collection, its index there, and its member or name), for messages. */
#define SWI_PLACE_MAX 320
const char *swi_entry_place(const struct swi_entry *e, char *buf, size_t size);

/*
 * Planning: checks every attribute of t->entry against t->handler's
 * declarations and the core's own, and keeps the converted values of the
 * handler's in t (freed by swi_target_unbind_attrs(), also when called
 * again). Refused, with a message naming the entry's place and the
 * attribute: a value of the wrong type (SWI_EFORMAT), a required attribute
 * missing (SWI_EFORMAT), an attribute with an effect the handler does not
 * declare (SWI_EUNSUPPORTED). Unknown keys are logged (debug) and ignored.
 */
int swi_target_bind_attrs(struct swi_target *t);
void swi_target_unbind_attrs(struct swi_target *t);
/* The converted value of name, when the entry sets it and the handler
 * declares it; else NULL. */
const struct swi_value *swi_target_value(const struct swi_target *t, const char *name);

/* The collections a handler of these SWI_HANDLER_* kinds takes, joined
 * with separator: "images, files", "images or files". */
void swi_handler_kinds_text(unsigned kinds, const char *separator, char *out, size_t size);

/* Built-in handlers (one file each under handlers/), listed in lib/handler.c's table. */
extern const struct swi_handler swi_handler_raw;
extern const struct swi_handler swi_handler_rawfile;
extern const struct swi_handler swi_handler_bootloader;
extern const struct swi_handler swi_handler_shellscript;
extern const struct swi_handler swi_handler_preinstall;
extern const struct swi_handler swi_handler_postinstall;
extern const struct swi_handler swi_handler_lua;
extern const struct swi_handler swi_handler_archive;
extern const struct swi_handler swi_handler_tar;

#endif
