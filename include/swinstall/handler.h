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
 *
 * The struct can grow without breaking a handler built elsewhere: it starts
 * with its size, which a handler sets to sizeof(struct swi_handler) of its
 * own build (.size = SWI_HANDLER_SIZE). New fields are only ever added at
 * the end, and the core reads a field only when the handler's size covers
 * it, so a handler built against an older, shorter struct keeps working
 * with its later fields absent (a callback not called, a size of 0). A
 * handler built against a newer struct is taken when the fields this
 * version does not know are all zero, and refused otherwise.
 *
 * State: a handler may ask the core to own its per-entry state
 * (.state_size = sizeof(struct my_state)). The core then allocates it
 * zeroed before check, hands it out with swi_target_state() until the
 * install is over, and frees it: the handler allocates and frees nothing
 * of its own for it, and two entries of the same handler never share it.
 * Whatever the state points to (descriptors, buffers) is still the
 * handler's to release in close, commit or abort.
 *
 * Three kinds of handlers, told by their callbacks and flags:
 *  - push (write): the core hands the entry's decoded bytes to write, in
 *    order, on a worker thread;
 *  - pull (extract): the core calls extract once, on the worker thread,
 *    after open; it pulls the decoded bytes with swi_target_read() until
 *    that reports the end (for libraries that want a read callback, such as
 *    libarchive). close follows once the hash verified;
 *  - data-less (SWI_HANDLER_NO_DATA): entries without a member (partition
 *    tools); open then close, in the first phase of the run.
 * A script handler (phases non-zero) receives its member like any other
 * (open, write, close) and is then run in each phase it names: run(t,
 * SWI_PHASE_BEFORE) before the first byte goes to any target, run(t,
 * SWI_PHASE_AFTER) once every artifact is written and verified, before the
 * commit, run(t, SWI_PHASE_FAILURE) when the install failed.
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

/* The phases of an install in which a script handler runs (bits of
 * struct swi_handler's phases). */
enum swi_phase {
	SWI_PHASE_BEFORE = 1,   /* SWUpdate's "preinst" */
	SWI_PHASE_AFTER = 2,    /* "postinst" */
	SWI_PHASE_FAILURE = 4,  /* "postfailure" */
};

/* struct swi_handler's flags. */
enum swi_handler_flag {
	SWI_HANDLER_NO_DATA = 1,  /* its entries carry no member (partitioning) */
};

/* One entry being installed; opaque. */
struct swi_target;

/* The type of an entry attribute, as a handler declares it. The core
 * checks an entry's value against it at planning and converts it once:
 *   SWI_TYPE_STRING  any single value (a number or boolean as its text)
 *   SWI_TYPE_SIZE    a number of bytes: 4096, "4096", "0x4F000", "8K",
 *                    "16M", "1G" (powers of 1024)
 *   SWI_TYPE_BOOL    true or false (also the strings "true", "false")
 *   SWI_TYPE_LIST    a list or array of values: [ "a", "b" ] */
enum swi_attr_type {
	SWI_TYPE_STRING = 1,
	SWI_TYPE_SIZE,
	SWI_TYPE_BOOL,
	SWI_TYPE_LIST,
};

/* One attribute a handler honours. */
struct swi_handler_attr {
	const char *name;              /* as in sw-description, e.g. "offset" */
	enum swi_attr_type type;
	int required;                  /* non-zero: an entry without it (or with an
					* empty string) is refused at planning */
};

struct swi_handler {
	/* sizeof(struct swi_handler) as the handler was built: set it with
	 * SWI_HANDLER_SIZE. Fields past it count as absent (see the top). */
	size_t size;
	const char *name;              /* the entry's "type" */
	unsigned kinds;                /* SWI_HANDLER_* it accepts */
	/* The attributes this handler honours, ended by an element whose name
	 * is NULL; NULL for none. At planning the core refuses an entry that
	 * lacks a required one or whose value has the wrong type, and one that
	 * sets an attribute SWUpdate gives an effect (device, offset, path,
	 * filesystem, ...) that the handler does not declare. Keys nobody
	 * declares are ignored. A handler declaring an attribute the core
	 * knows must give it the core's type (checked at registration). */
	const struct swi_handler_attr *attributes;
	int (*check)(struct swi_target *t);   /* optional; must not change anything */
	int (*open)(struct swi_target *t);
	int (*write)(struct swi_target *t, const void *buf, size_t len);
	int (*close)(struct swi_target *t);   /* after the hash verified: flush, sync */
	void (*abort)(struct swi_target *t);  /* undo what can be undone; no error to report */
	int (*commit)(struct swi_target *t);  /* optional: publish what close staged */
	/* Non-zero: the core owns the handler's state, this many bytes,
	 * zeroed, per entry; swi_target_state() returns it from check (or open)
	 * on, and the core frees it once the install is over. Zero: the
	 * handler keeps its own with swi_target_set_state(). */
	size_t state_size;
	/* SWI_HANDLER_* flags (enum swi_handler_flag). */
	unsigned flags;
	/* Script handlers: the SWI_PHASE_* bits run is called in; 0 for others. */
	unsigned phases;
	int (*run)(struct swi_target *t, enum swi_phase phase);
	/* Pull handlers: called once on the worker thread after open, instead of
	 * write (which may then be NULL); reads with swi_target_read(). */
	int (*extract)(struct swi_target *t);
	/* New fields go here, at the end, and are optional: a handler built
	 * before they existed has a smaller size and goes without them. */
};

/* What a handler sets .size to: the struct as its own build knows it. */
#define SWI_HANDLER_SIZE sizeof(struct swi_handler)

/* Adds a handler to ctx; it shadows a built-in of the same name. Refused
 * (SWI_EINVAL) with a size smaller than the first struct swi_handler's (up
 * to abort) or larger than any struct swi_handler can be, with fields this
 * version does not know set, without a name and open, write, close and
 * abort, or with an attribute declaration that has no valid type or
 * contradicts the core's. handler must stay valid as long as ctx. */
int swi_register_handler(swi_ctx_t *ctx, const struct swi_handler *handler);

/* The handlers an install on ctx can use, one by one: index 0, 1, ... until
 * NULL. Handlers registered on ctx come first (the newest first), then the
 * built-ins they do not shadow. */
const struct swi_handler *swi_handler_at(const swi_ctx_t *ctx, size_t index);

/* An attribute of the entry as written in sw-description (booleans "true" or
 * "false", numbers in decimal, a list's elements joined with ",",
 * properties as "properties.NAME"), or NULL when the entry does not set it.
 * The value of a declared SWI_TYPE_STRING attribute. */
const char *swi_target_attr(const struct swi_target *t, const char *name);

/*
 * The typed value of a declared attribute, checked and converted at
 * planning. When the entry does not set it, *out is left as it is, so the
 * caller puts the default there first:
 *     uint64_t offset = 0;
 *     swi_target_attr_size(t, "offset", &offset);
 * SWI_OK, or SWI_EINVAL (with a message) when the handler did not declare
 * name with that type: a mistake of the handler's, not of the image.
 * Lists: *items holds *n elements (valid as long as the target), absent: 0.
 */
int swi_target_attr_size(const struct swi_target *t, const char *name, uint64_t *out);
int swi_target_attr_bool(const struct swi_target *t, const char *name, int *out);
int swi_target_attr_list(const struct swi_target *t, const char *name,
			 const char *const **items, size_t *n);
/* The archive member feeding this entry (its "filename"). */
const char *swi_target_member(const struct swi_target *t);
/* The member's size in the archive (before decompression). */
uint64_t swi_target_stored_size(const struct swi_target *t);
/* True when the entry's bytes are compressed, so the decoded size is unknown. */
int swi_target_is_compressed(const struct swi_target *t);

/* The handler's state: the one the core owns (state_size), or the one the
 * handler set last. A handler that owns its own frees it itself. */
void swi_target_set_state(struct swi_target *t, void *state);
void *swi_target_state(const struct swi_target *t);

/* Records the error as "<member>: <message>" and returns code. */
int swi_target_error(struct swi_target *t, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a target that does not exist on this machine (a device, a
 * directory): returns SWI_EIO. A dry run, which may vet an image on a
 * build host, then only warns about it; an install fails. */
int swi_target_missing(struct swi_target *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Logs "<member>: <message>" at level (enum swi_log_level) through the
 * context's log callback. */
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

/*
 * For extract: the next block of the entry's decoded bytes at *buf, *len
 * bytes, valid until the next call; *len is 0 at the end of the entry's
 * data. An error (a codec failed, the install was cancelled) is returned
 * with its message recorded; extract should then return it.
 */
int swi_target_read(struct swi_target *t, const void **buf, size_t *len);

/*
 * The directory entry's "path" names, made absolute: when the entry mounts
 * a filesystem (attributes "device" and "filesystem"), path is taken
 * relative to the mount point ("/" is its root) and may not leave it: a
 * ".." component is refused (SWI_EFORMAT), and so is a symbolic link at
 * any component that exists in the filesystem (SWI_EIO), wherever it
 * points; otherwise path as written, which must be absolute. A "device"
 * without a "filesystem" is refused too. The core mounts right before
 * open: in check nothing is mounted yet, so for an entry that mounts,
 * path and the device are only checked and *out is NULL. *out is valid
 * until the entry is done with. SWI_EFORMAT (with a message) when the
 * entry has no path or it escapes.
 */
int swi_target_path(struct swi_target *t, const char **out);

/* A private directory (mode 0700) for this install under the configured
 * tmpdir (option tmpdir; $TMPDIR, else /tmp), made on first use; it and
 * everything in it are removed when the install ends, however it ends. */
int swi_target_tmpdir(struct swi_target *t, const char **dir);

/*
 * Runs the program argv[0] with the arguments argv (NULL-terminated),
 * without a shell in between; env (NULL-terminated "NAME=VALUE", or NULL)
 * is added to the installer's environment. Its standard output and error
 * go to the log, line by line; it is killed after the configured timeout
 * (option script-timeout). SWI_OK when it exited with status 0; otherwise
 * SWI_EHANDLER with a message naming what (e.g. "preinstall script
 * setup.sh") and the exit status, signal or timeout.
 */
int swi_target_run(struct swi_target *t, const char *what, const char *const argv[],
		   const char *const env[]);

/* Refuses (SWI_EIO, with a message naming where) writing more bytes to the
 * file system of fd when that would leave it less free space than the
 * configured reserve (option min-free-space). */
int swi_target_check_free_space(struct swi_target *t, int fd, const char *where, uint64_t more);

#ifdef __cplusplus
}
#endif
#endif
