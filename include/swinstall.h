/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libswinstall — install SWUpdate-format .swu images on A/B devices.
 *
 * Everything lives in a context (swi_ctx_t): options, callbacks, handlers
 * and the message of the last error. The library never prints, never exits
 * and keeps no global state, so two contexts in one process never meet.
 *
 * Every function that can fail returns SWI_OK (0) or a negative SWI_E* code;
 * swi_errmsg() then explains the failure in one sentence.
 */
#ifndef SWINSTALL_H
#define SWINSTALL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of the headers, which is the library's version at build
 * time; swi_version() gives the one of the library loaded at run time. */
#define SWI_VERSION_MAJOR 0
#define SWI_VERSION_MINOR 2
#define SWI_VERSION_PATCH 0
#define SWI_VERSION_STRING "0.2.0"

enum swi_status {
	SWI_OK = 0,
	SWI_EINVAL = -1,   /* bad argument or option value (a caller's mistake) */
	SWI_ECONFIG = -2,  /* configuration file unreadable or wrong */
	SWI_ENOMEM = -3,   /* out of memory */
	SWI_EIO = -4,      /* reading the source or writing a target failed */
	SWI_EFORMAT = -5,  /* image malformed: archive, sw-description, truncated */
	SWI_ESIG = -6,     /* signature missing, wrong or untrusted */
	SWI_EHASH = -7,    /* sha256 or cpio checksum mismatch */
	SWI_ECOMPAT = -8,  /* image not for this device: hardware, selection, version */
	SWI_EHANDLER = -9, /* a handler failed or cannot honour an entry */
	SWI_EUNSUPPORTED = -10, /* the image needs a feature this build lacks */
	SWI_EBUSY = -11,   /* another install or life-cycle change holds the lock */
	SWI_ESTATE = -12,  /* the device's update state does not allow it now
			    * (mark-good before the reboot, nothing to roll back to) */
	SWI_ECANCELED = -13, /* stopped by swi_cancel(); nothing was switched */
};

enum swi_log_level {
	SWI_LOG_ERROR = 0,
	SWI_LOG_WARN = 1,
	SWI_LOG_INFO = 2,
	SWI_LOG_DEBUG = 3,
};

typedef struct swi_ctx swi_ctx_t;

/*
 * Structures the library fills (results, states, and the arrays in them)
 * end with reserved room: a later version of the library adds fields there
 * without changing their size, so programs built against this header keep
 * working. Callers never read or write it. struct swi_progress is only
 * ever handed out by the library, and grows at its end.
 */

/* The part of an install a progress report is about, in this order. */
enum swi_progress_phase {
	SWI_PROGRESS_VERIFYING = 0,  /* sw-description, its signature, the plan */
	SWI_PROGRESS_INSTALLING = 1, /* artifacts streamed into their targets */
	SWI_PROGRESS_COMMITTING = 2, /* "after" scripts, staged files, the switch */
};

/*
 * Progress of an install. Reported when a phase starts and as each
 * artifact is consumed (in bytes as stored in the archive); the last
 * report of a successful install is COMMITTING at 100 percent.
 */
struct swi_progress {
	const char *member;  /* artifact being installed; NULL outside INSTALLING */
	uint64_t done;       /* bytes of it consumed so far */
	uint64_t total;      /* its size in the archive */
	unsigned index;      /* 1-based number of this artifact (0 before the first) */
	unsigned count;      /* artifacts to install in all (0 while VERIFYING) */
	int phase;           /* enum swi_progress_phase */
	unsigned percent;    /* 0..100 of the whole install: by bytes of the image
			      * when its size is known (a file), else by artifacts;
			      * never goes down */
};

typedef void (*swi_log_fn)(void *user, int level, const char *message);
typedef void (*swi_progress_fn)(void *user, const struct swi_progress *p);

/*
 * Source of image bytes for swi_install_read(). Returns the number of bytes
 * put into buf (0 at end of stream) or -1 on error (errno set).
 */
typedef ssize_t (*swi_read_fn)(void *user, void *buf, size_t len);

/* Makes a context with every option at its default, no callbacks and no
 * handlers but the built-in ones: SWI_OK or SWI_ENOMEM. */
int swi_ctx_new(swi_ctx_t **ctx);
/* Frees ctx and all it owns (NULL is accepted). Not while an install,
 * an info or a life-cycle call runs on it. */
void swi_ctx_free(swi_ctx_t *ctx);

/* The last error, one sentence naming the member or file and the reason. */
const char *swi_errmsg(const swi_ctx_t *ctx);
/* A short fixed description of a status code. */
const char *swi_strerror(int status);
/* The version of the library loaded, "MAJOR.MINOR.PATCH". */
const char *swi_version(void);
/* The handlers an install on ctx can use, with the sw-description
 * collections each takes, for people: "raw (images, files), rawfile
 * (images, files), bootloader (images, bootenv)". The device's Lua
 * handlers (swupdate_handlers, option lua-handlers) are loaded into ctx
 * first, once. SWI_OK, SWI_EINVAL when buf is too small (it then holds
 * what fits), or the error of Lua handlers that failed to load (the
 * others are listed). */
int swi_handler_names(const swi_ctx_t *ctx, char *buf, size_t size);

/*
 * Options, by the names of the configuration file's keys:
 *   public-key          CMS trust anchor (PEM certificate/CA) or RSA public key (PEM)
 *   cert-purpose        emailProtection (default) | codeSigning
 *   forced-signer-name  required common name of the CMS signer
 *   signature-scheme    "cms" | "rsa" (PKCS#1 v1.5) | "rsa-pss": accept only this
 *                       kind of signature; unset, the key file decides (certificates:
 *                       CMS; a public key: RSA PKCS#1 v1.5 or RSA-PSS)
 *   insecure            "1": accept unsigned images when no key is configured
 *   key-aes             AES key file of encrypted images: the key in hex (32, 48 or
 *                       64 digits: AES-128, -192 or -256), a space, the IV (32 digits)
 *   encrypted-sw-description  "1": sw-description itself is encrypted with that key
 *   select              selection "SET,MODE"
 *   hwrevision          "BOARD:REVISION", overrides hwrevision-file
 *   hwrevision-file     default /etc/hwrevision
 *   sw-versions-file    default /etc/sw-versions
 *   bootloader          "uboot" | "grub" | "none" (default "none")
 *   uboot-env-config    fw_env.config of the U-Boot environment (default /etc/fw_env.config)
 *   grubenv             GRUB environment block (default /boot/grub/grubenv)
 *   cmdline-file        kernel command line (default /proc/cmdline)
 *   mountinfo-file      mount table (default /proc/self/mountinfo)
 *   lock-file           the lock every writing command holds (default /run/swinstall.lock)
 *   lock-wait           seconds to wait for the lock: "0" refuses at once (default),
 *                       "forever" waits as long as it takes
 *   state-dir           where an install journals the files it stages, so that the
 *                       next run removes what a power cut left (default /var/lib/swinstall)
 *   min-free-space      free space a file system written by rawfile keeps: a size
 *                       ("16M") or a share of the file system ("5%"); default "1%"
 *   tmpdir              where an install makes its private directory, for scripts
 *                       and spooled artifacts (default $TMPDIR, else /tmp)
 *   script-timeout      seconds a script or command may run before it is killed
 *                       (default "900")
 *   preupdatecmd        a command run before anything is written (split at blanks,
 *                       no shell); its failure refuses the install
 *   postupdatecmd       a command run after the commit
 *   lua-handlers        a file of Lua handlers besides swupdate_handlers
 *   no-downgrading      VERSION: refuse an image whose version is lower (SWI_ECOMPAT)
 *   max-version         VERSION: refuse an image whose version is higher
 *   no-reinstalling     VERSION: refuse an image whose version is exactly this string
 *   force               "1": roll back even when the other slot holds no complete install;
 *                       swi_scan_dir(): take the newest image that fits even when it is
 *                       not newer than the installed version
 *   dry-run             "1": read, verify, decode and hash everything; write nothing
 *   check               "1": verify sw-description only; write nothing
 *   save-to             FILE: an install (also a check or dry run) copies the image it
 *                       reads into FILE.part, reads it to its end and renames it FILE
 *                       when it succeeded; a failed one removes FILE.part
 *   url-ca-file         swi_install_url(): the certificate authorities (PEM) a server's
 *                       certificate must chain to (default: the system's)
 *   url-client-cert     client certificate (PEM) shown to the server, with
 *   url-client-key      its private key (PEM; default: in url-client-cert)
 *   url-retries         attempts in a row that may bring no byte before a download
 *                       gives up (default "5"); a dropped connection is resumed from
 *                       the byte it reached, after a pause of 0.25 s, doubled each time
 *   url-timeout         seconds a server may take to connect or stall (less than a
 *                       byte a second) before the attempt is dropped (default "60")
 * A NULL value resets an option to its default. Lists (slots, extra-targets)
 * and groups (mark-good-env, rollback-env) come from swi_load_config() or
 * the calls below.
 */
int swi_set_option(swi_ctx_t *ctx, const char *name, const char *value);
/* The current value of an option, or NULL when unset. */
const char *swi_get_option(const swi_ctx_t *ctx, const char *name);
/* Reads a configuration file (libconfig syntax) and sets every key it has. */
int swi_load_config(swi_ctx_t *ctx, const char *path);

/*
 * The lists and groups of the configuration file, through the API, so that
 * an agent needs no file. Each call adds to what swi_load_config() read or
 * earlier calls added (a configuration file read later replaces the list).
 *
 * swi_add_slot(): a slot of the A/B layout, as one element of "slots":
 * name, device, select ("SET,MODE") and bootenv, the variables that make
 * the bootloader boot it, as NULL-terminated NAME, VALUE pairs (NULL: none).
 * SWI_EINVAL for a missing field, a name or device another slot has, or an
 * odd bootenv list.
 * swi_add_extra_target(): a device besides the slots an install may write.
 * swi_set_env_var(): sets NAME=VALUE in the group "mark-good-env" or
 * "rollback-env" (a NULL value removes NAME from the group).
 * swi_clear_list(): empties "slots", "extra-targets", "mark-good-env" or
 * "rollback-env".
 */
int swi_add_slot(swi_ctx_t *ctx, const char *name, const char *device, const char *select,
		 const char *const *bootenv);
int swi_add_extra_target(swi_ctx_t *ctx, const char *device);
int swi_set_env_var(swi_ctx_t *ctx, const char *group, const char *name, const char *value);
int swi_clear_list(swi_ctx_t *ctx, const char *list);

/* Where messages go (level: enum swi_log_level); NULL fn: nowhere. */
void swi_set_log(swi_ctx_t *ctx, swi_log_fn fn, void *user);
/* Called as each artifact is consumed; NULL fn: not at all. */
void swi_set_progress(swi_ctx_t *ctx, swi_progress_fn fn, void *user);

/*
 * Install (or verify, with dry-run/check) an image, in one pass over it.
 * A file or block device is read ahead on a thread of the library; a pipe
 * or socket given to swi_install_fd(), and fn of swi_install_read(), are
 * read on the caller's thread only, and not after a failure was found.
 * Progress is reported on the caller's thread; the log callback may also be
 * called from the library's threads, never two calls at once.
 * swi_install_file() reads path, swi_install_fd() reads fd from where it
 * stands (and leaves it open), swi_install_read() calls fn until it
 * returns 0. SWI_OK once every entry is installed and, for an install, the
 * bootloader switched; otherwise the device is left as it was.
 */
int swi_install_file(swi_ctx_t *ctx, const char *path);
int swi_install_fd(swi_ctx_t *ctx, int fd);
int swi_install_read(swi_ctx_t *ctx, swi_read_fn fn, void *user);
/*
 * Installs from an http:// or https:// URL, streamed as it arrives (the
 * image is never stored whole), on the caller's thread. TLS is verified
 * (url-ca-file, url-client-cert, url-client-key); a broken connection is
 * resumed with a Range request (url-retries, url-timeout), unseen by the
 * install. SWI_EIO naming the URL and the reason when the download
 * fails: the server refuses (404, ...), the certificate is not trusted,
 * the retries ran out, or the answer to a resume is not the rest of the
 * same file (another ETag or Last-Modified, a 200 instead of a 206).
 * libcurl is loaded by the first download: SWI_EUNSUPPORTED without it.
 */
int swi_install_url(swi_ctx_t *ctx, const char *url);
/* swi_stage_*() and swi_verify_*() below, from a URL as swi_install_url(). */
int swi_stage_url(swi_ctx_t *ctx, const char *url);
int swi_verify_url(swi_ctx_t *ctx, const char *url);

/*
 * The steps of an update agent, each one call.
 *
 * swi_verify_*(): reads the whole image as an install would (signature,
 * hardware, versions, selection, every artifact decrypted, decompressed and
 * hashed) and writes nothing: no lock, no target, no environment. SWI_OK
 * when an install of it on this device would pass every check.
 *
 * swi_stage_*(): installs into the standby slot like swi_install_*(), but
 * stops short of the switch: the environment is left booting the running
 * slot, with the written slot's new version recorded, and the commit is
 * kept (in state-dir) for swi_apply(). The post-update command waits for
 * swi_apply() too. A later install, or a rollback, discards what was staged.
 */
int swi_verify_file(swi_ctx_t *ctx, const char *path);
int swi_verify_fd(swi_ctx_t *ctx, int fd);
int swi_verify_read(swi_ctx_t *ctx, swi_read_fn fn, void *user);
int swi_stage_file(swi_ctx_t *ctx, const char *path);
int swi_stage_fd(swi_ctx_t *ctx, int fd);
int swi_stage_read(swi_ctx_t *ctx, swi_read_fn fn, void *user);

/*
 * Writes the commit the last swi_stage_*() kept, in one environment write,
 * under the lock: from the next boot on, the staged slot runs. Then the
 * post-update command. SWI_ESTATE when nothing is staged, or when the
 * device no longer runs the slot it ran when the commit was staged.
 */
int swi_apply(swi_ctx_t *ctx);

/* Whether a version of the software is on the device (see swi_is_installed). */
enum swi_installed_state {
	SWI_NOT_INSTALLED = 0,     /* no slot is known to hold that version */
	SWI_INSTALLED_RUNNING = 1, /* the running slot holds it */
	SWI_INSTALLED_PENDING = 2, /* the slot that boots next holds it: a reboot runs it */
	SWI_INSTALLED_STAGED = 3,  /* a slot holds it, staged: swi_apply() then a reboot */
	SWI_INSTALLED_IDLE = 4,    /* another slot holds it, and nothing will boot it
				    * (rolled back from, or its switch was discarded) */
};

struct swi_installed {
	int state;             /* enum swi_installed_state */
	const char *version;   /* the version asked about (the image's) */
	const char *slot;      /* the slot that holds it, the running one first; NULL */
	void *reserved[4];        /* room for fields of later versions */
};

/*
 * Compares a version with what each slot holds: the version the install
 * that completed into a slot recorded in the bootloader environment (see
 * swi_get_state()). Without slots, the device is one slot, and its record
 * is the last install's. swi_is_installed_file() takes the version of an
 * image (its software version, as an install here would read it; the
 * signature is verified when a key is set), reading only sw-description.
 * The strings of *out stay valid until the next call with ctx.
 */
int swi_is_installed(swi_ctx_t *ctx, const char *version, struct swi_installed *out);
int swi_is_installed_file(swi_ctx_t *ctx, const char *path, struct swi_installed *out);

/*
 * Asks the install running on ctx (or waiting for the lock) to stop: it
 * aborts what it started, removes what it staged, records the failure and
 * returns SWI_ECANCELED. Safe to call from a signal handler or any thread;
 * cleared when the install returns.
 */
int swi_cancel(swi_ctx_t *ctx);

/* What the last install, check or dry run did. */
struct swi_result {
	unsigned planned;     /* entries with data to install */
	unsigned installed;   /* of those, streamed and verified */
	unsigned skipped;     /* entries left out by install-if-different/-higher */
	int committed;        /* the environment now boots the new software */
	int nothing_to_do;    /* every entry is installed already; nothing was written */
	const char *slot;     /* the slot written, NULL when none */
	int staged;           /* swi_stage_*(): the commit waits for swi_apply() */
	const char *version;  /* the image's software version, NULL when it has none */
	void *reserved[4];        /* room for fields of later versions */
};
/* Fills result for the last swi_install_*() call on ctx; its strings stay
 * valid until the next install. */
int swi_get_result(const swi_ctx_t *ctx, struct swi_result *result);

/*
 * What is in an image, without installing it (`swinstall info`). The image
 * is read once, as an install reads it (a file, a descriptor or fn), but
 * nothing on the device is needed or touched: no configuration, no slots,
 * no bootloader, no lock, nothing written. The signature is verified when
 * the "public-key" option is set (with "cert-purpose" and
 * "forced-signer-name"); otherwise it is only described.
 *
 * A place is one way the image can be installed: with no board and no
 * selection, with a selection ("-e SET,MODE"), with a board (the
 * hardware's board name), or with both. For each place the image offers,
 * the entries are those an install there would get, the most specific
 * place winning. Places that would install nothing are left out.
 */
enum swi_sig_state {
	SWI_SIG_UNSIGNED = 0,   /* no sw-description.sig, and no key given */
	SWI_SIG_UNVERIFIED = 1, /* signed; no key given to verify it with */
	SWI_SIG_VERIFIED = 2,   /* verified with the key in "public-key" */
	SWI_SIG_FAILED = 3,     /* a key was given, and the image is unsigned or
				 * its signature does not verify */
};

struct swi_info_entry {
	const char *collection;   /* "images", "files", "scripts", "partitions", "bootenv" */
	unsigned index;           /* its place in that collection, from 0 */
	const char *filename;     /* archive member; NULL for partitions */
	const char *type;         /* handler name, SWUpdate's defaults applied */
	int handler_available;    /* this build, or a handler registered on ctx, has it */
	int member_present;       /* the archive holds filename */
	uint64_t size;            /* the member's size in the archive (0 when absent) */
	const char *compressed;   /* NULL, "zlib", "zstd" or "xz" */
	int encrypted;
	const char *sha256;       /* 64 hex digits, NULL when the entry has none */
	/* The target as sw-description writes it; NULL where absent. */
	const char *device;
	const char *offset;
	const char *path;
	const char *filesystem;
	const char *volume;
	const char *mtdname;
	const char *name;         /* for install-if-different/-higher, or NULL */
	const char *version;
	void *reserved[4];        /* room for fields of later versions */
};

struct swi_info_place {
	const char *board;            /* NULL: any board */
	const char *selection;        /* "SET,MODE"; NULL: no selection */
	const char *version;          /* software version read there, or NULL */
	const char *const *hardware;  /* hardware-compatibility there, NULL-terminated */
	const struct swi_info_entry *entries;
	size_t nentries;
	const char *const *bootenv;   /* "NAME=VALUE" (an empty VALUE removes NAME), NULL-terminated */
	void *reserved[4];        /* room for fields of later versions */
};

/* A member of the archive after sw-description (and its signature). */
struct swi_info_member {
	const char *name;
	uint64_t size;            /* from its cpio header */
	int used;                 /* an entry of some place names it */
	void *reserved[4];        /* room for fields of later versions */
};

struct swi_info {
	const char *version;          /* of the image as a whole (no board, no selection) */
	const char *description;
	size_t description_size;      /* bytes of sw-description */
	const char *const *hardware;  /* hardware-compatibility, NULL-terminated */
	const char *const *boards;    /* boards the image has groups for, NULL-terminated */
	const char *const *selections; /* "SET,MODE" offered anywhere, NULL-terminated */
	int signature;                /* enum swi_sig_state */
	const char *signature_kind;   /* "CMS" or "RSA"; NULL when unsigned */
	const char *signer;           /* CMS signer's common name; NULL when not carried */
	const char *key;              /* the key file it was verified with, or NULL */
	const char *signature_error;  /* SWI_SIG_FAILED: why */
	const struct swi_info_place *places;
	size_t nplaces;
	const struct swi_info_member *members;
	size_t nmembers;
	struct swi_info_store *store; /* what the strings live in */
	void *reserved[4];        /* room for fields of later versions */
};

/*
 * Fills info; its strings stay valid until swi_info_free(info). SWI_OK, or
 * SWI_ESIG when a key was given and the signature did not verify: info is
 * filled then too (info->signature is SWI_SIG_FAILED). On any other error
 * (SWI_EFORMAT for a malformed or truncated image, ...) info is empty; it
 * is safe to free in every case.
 */
int swi_info_file(swi_ctx_t *ctx, const char *path, struct swi_info *info);
int swi_info_fd(swi_ctx_t *ctx, int fd, struct swi_info *info);
int swi_info_read(swi_ctx_t *ctx, swi_read_fn fn, void *user, struct swi_info *info);
/* From an http:// or https:// URL, downloaded as swi_install_url() does. */
int swi_info_url(swi_ctx_t *ctx, const char *url, struct swi_info *info);
void swi_info_free(struct swi_info *info);

/*
 * Offline updates from a directory (a USB stick): swi_scan_dir() looks at
 * every regular file DIR/NAME.swu (".swu" in any case; hidden files and
 * subdirectories left out) as a check-only install would (the "check"
 * option: signature, hardware, version guards, selection, handlers), which
 * reads sw-description only and writes nothing. An image fits when it
 * passes. The installed version is the highest that the last installs
 * into the running slot and into the slot that boots next recorded (see
 * swi_get_state()), else the "no-downgrading" option's; the image to
 * install is the newest that fits, when it is newer than that (with the
 * "force" option, the newest that fits in any case).
 * SWI_OK when there is an image to install (best); SWI_ECOMPAT when there
 * is none, swi_errmsg() saying why (scan is filled then too); else an
 * error: DIR cannot be read (SWI_EIO), SWI_ENOMEM, SWI_ECANCELED.
 */
struct swi_scan_image {
	const char *path;      /* DIR/NAME */
	const char *version;   /* the image's software version; NULL when none or unread */
	int status;            /* SWI_OK: it fits; else the SWI_E* status of its check */
	const char *reason;    /* why it does not fit, in one sentence; NULL when it fits */
	int newer;             /* it fits and is newer than the installed version
				* (or that version is unknown) */
	void *reserved[4];        /* room for fields of later versions */
};

struct swi_scan {
	const char *installed;  /* the installed version compared with; NULL: unknown */
	const struct swi_scan_image *images; /* those that fit first, newest first; then
					      * the others, by path */
	size_t nimages;
	size_t nfitting;        /* how many of images fit (they come first) */
	const char *best;       /* path of the image to install, or NULL */
	void *reserved[4];        /* room for fields of later versions */
};

/* Fills scan; its strings stay valid until swi_scan_free(scan), which is
 * safe to call in every case. */
int swi_scan_dir(swi_ctx_t *ctx, const char *dir, struct swi_scan *scan);
void swi_scan_free(struct swi_scan *scan);

/*
 * Writes a whole-disk (factory) image onto device, a block device or a
 * file (cut to the image's size), decoded on the fly as installs decode
 * artifacts: the name of the image picks the decoder (".xz", ".gz",
 * ".zst"; anything else is written as it is). The decoded bytes are checked against sha256 (64
 * hex digits), or, when it is NULL, against IMAGE.sha256 beside the image
 * (sha256sum format); with neither, they are not checked (a warning says
 * so). Refused (SWI_ECOMPAT) before anything is written: a device that is
 * mounted (option mountinfo-file), that holds the running system (root= of
 * option cmdline-file, or the running slot), or that shares its disk with
 * a mounted partition; a block device is opened exclusively. Progress is
 * reported by bytes of the image read (one member, the image). At the end,
 * fsync. A mismatch (SWI_EHASH) is known only once all is written, and a
 * failure while writing leaves part written: the device then holds an
 * image that must not be used, and the message says so.
 */
int swi_flash(swi_ctx_t *ctx, const char *image, const char *device, const char *sha256);

/*
 * The A/B life cycle. These need "slots" in the configuration (and a
 * bootloader): install -> reboot -> swi_mark_good(), or swi_rollback().
 * Installs (not checks or dry runs), swi_mark_good() and swi_rollback()
 * hold the lock named by "lock-file" while they run; another one meanwhile
 * fails with SWI_EBUSY (or waits, with "lock-wait").
 */
/*
 * One slot of the A/B layout, as swi_get_state() sees it. The version of
 * each slot lives in the bootloader environment, in swinstall_version_NAME
 * (swinstall_version without slots): an install into a slot removes it in
 * its first write and records the image's software version at the commit
 * (or when it is staged).
 */
struct swi_slot_state {
	const char *name;
	const char *device;
	const char *version;    /* recorded by the last install into it; NULL: unknown */
	int complete;           /* holds a complete install (a rollback may boot it) */
	int running;            /* the slot that runs now */
	int booting_next;       /* the bootloader boots it next */
	int staged;             /* it holds an install staged for swi_apply() */
	void *reserved[4];        /* room for fields of later versions */
};

struct swi_state {
	const char *running;          /* running slot's name, NULL when unknown */
	const char *running_found_by; /* what told it: "kernel command line", ... */
	const char *standby;          /* slot an install goes to, NULL when unknown */
	const char *next;             /* slot the bootloader boots next, NULL when none matches */
	const char *ustate;           /* value of ustate, NULL when unset */
	const char *ustate_meaning;   /* "installed, reboot pending", ... */
	const char *recovery_status;  /* NULL when unset */
	const char *recovery_meaning;
	const char *const *versions;  /* "NAME VERSION" of sw-versions, NULL-terminated */
	const char *rollback;         /* slot a rollback would boot, NULL when it is refused */
	const char *rollback_meaning; /* why it is possible or not */
	const struct swi_slot_state *slots; /* every configured slot, in order */
	size_t nslots;
	const char *staged;           /* slot of an install staged for swi_apply(), or NULL */
	void *reserved[4];        /* room for fields of later versions */
};

/* Fills state; its strings stay valid until the next call with ctx. */
int swi_get_state(swi_ctx_t *ctx, struct swi_state *state);
/* Confirms the slot that booted after an install (ustate 1 or 2 -> 0, boot
 * counters reset), in one environment write. Refused while the new slot has
 * not booted yet. */
int swi_mark_good(swi_ctx_t *ctx);
/* Makes the bootloader boot the other slot again, in one environment write.
 * Refused (SWI_ESTATE) when there is nothing to roll back to: no update is
 * pending or unconfirmed and the other slot holds no complete install,
 * unless the "force" option is set. */
int swi_rollback(swi_ctx_t *ctx);

#ifdef __cplusplus
}
#endif
#endif
