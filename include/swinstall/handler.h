/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a handler author needs. A handler is data: a const struct swi_handler
 * with a name and callbacks. It sees the decoded bytes of one entry and the
 * entry's attributes, never the archive, the signature or the environment.
 *
 * Call order for one entry: check (at planning, before anything on the device
 * changes), open, write..., then close once the core verified the entry's
 * sha256, or abort on any failure (also after open failed half-way).
 * A handler that stages its result (writes it somewhere it is not used yet)
 * also has commit: called once every entry of the install was closed, right
 * before the bootloader environment is switched, to put the result in place.
 * Until commit returned, abort may still come (after close too) and must
 * leave the device as it was.
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
	int (*close)(struct swi_target *t);   /* after the hash verified: flush, sync */
	void (*abort)(struct swi_target *t);  /* undo what can be undone; no error to report */
	int (*commit)(struct swi_target *t);  /* optional: publish what close staged */
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

/* How many bytes the entry may write from its offset on before it would
 * reach a region the core protects (the running slot, a mounted partition
 * of the same disk); UINT64_MAX when nothing limits it. */
uint64_t swi_target_write_limit(const struct swi_target *t);

/*
 * Opens the directory path (absolute) without following a symbolic link on
 * the way: every component must be a real directory. With create, missing
 * directories are made (mode 0755) and synced into their parents. *dirfd
 * is an O_DIRECTORY descriptor for the caller to close.
 */
int swi_target_open_dir(struct swi_target *t, const char *path, int create, int *dirfd);

#define SWI_STAGED_NAME_MAX 288
/*
 * Creates an empty file, mode 0600, in the directory dirfd (whose path is
 * dir), named after name so that it is recognisable (".NAME.swinstall-XXXXXX",
 * written into tmpname). Its path is journalled first: should the process
 * die before the file is renamed or removed, the next run removes it.
 */
int swi_target_create_staged(struct swi_target *t, int dirfd, const char *dir, const char *name,
			     char tmpname[SWI_STAGED_NAME_MAX], int *fd);

/* Refuses (SWI_EIO, with a message naming where) writing more bytes to the
 * file system of fd when that would leave it less free space than the
 * configured reserve (option min-free-space). */
int swi_target_check_free_space(struct swi_target *t, int fd, const char *where, uint64_t more);

#ifdef __cplusplus
}
#endif
#endif
