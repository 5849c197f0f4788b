/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The context: every option and piece of state of one installer. Private. */
#ifndef SWI_CONTEXT_H
#define SWI_CONTEXT_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "attrs.h"
#include "slots.h"
#include "swinstall.h"
#include "swinstall/handler.h"

struct swi_lua_handlers;

/* What the install running on a context is asked to do (per call, not an
 * option): install, verify (read everything, write nothing, take no lock),
 * or stage (install, but keep the commit for swi_apply()). */
enum swi_install_mode {
	SWI_MODE_INSTALL = 0,
	SWI_MODE_VERIFY,
	SWI_MODE_STAGE,
};

struct swi_options {
	char *public_key;
	char *cert_purpose;       /* NULL: emailProtection */
	char *forced_signer_name;
	char *signature_scheme;   /* NULL: chosen by the key; "cms", "rsa" or "rsa-pss" */
	char *select;             /* "SET,MODE" */
	char *hwrevision;         /* "BOARD:REV" */
	char *hwrevision_file;    /* NULL: /etc/hwrevision */
	char *sw_versions_file;   /* NULL: /etc/sw-versions */
	char *bootloader;         /* NULL: "none" */
	char *uboot_env_config;   /* NULL: /etc/fw_env.config */
	char *grubenv;            /* NULL: /boot/grub/grubenv */
	char *cmdline_file;       /* NULL: /proc/cmdline */
	char *mountinfo_file;     /* NULL: /proc/self/mountinfo */
	char *lock_file;          /* NULL: /run/swinstall.lock */
	char *lock_wait;          /* NULL: "0"; seconds or "forever" */
	char *state_dir;          /* NULL: /var/lib/swinstall */
	char *min_free_space;     /* NULL: "1%" */
	/* Version guards against the image's version; NULL: no guard. */
	char *no_downgrading;     /* refuse an image lower than this */
	char *no_reinstalling;    /* refuse an image of exactly this version */
	char *max_version;        /* refuse an image higher than this */
	char *key_aes;            /* AES key file of encrypted images, or NULL */
	char *tmpdir;             /* NULL: $TMPDIR, else /tmp */
	char *script_timeout;     /* NULL: "900"; seconds a script may run */
	char *preupdate_cmd;      /* run before anything is written, or NULL */
	char *postupdate_cmd;     /* run after the commit, or NULL */
	char *lua_handlers;       /* a file of Lua handlers besides swupdate_handlers, or NULL */
	/* Downloads (lib/source_url.c); NULL: the default. */
	char *url_ca_file;        /* NULL: the system's certificate authorities */
	char *url_client_cert;
	char *url_client_key;
	char *url_retries;        /* NULL: "5" */
	char *url_timeout;        /* NULL: "60" seconds */
	char *save_to;            /* a copy of the image read, or NULL (lib/source.c) */
	bool encrypted_sw_description; /* sw-description itself is encrypted */
	bool insecure;
	bool dry_run;
	bool check_only;
	bool force;
	/* Devices besides the slots that an install may write (extra-targets). */
	char **extra_targets;
	size_t nextra_targets;
	/* The device's A/B layout and the variables of its life cycle. */
	struct swi_slots slots;
	struct swi_attrs mark_good_env;  /* empty: SWUpdate-compatible defaults */
	struct swi_attrs rollback_env;
};

struct swi_ctx {
	/* The worker thread of a streaming install may fail or log while the
	 * caller's thread does: the message and the log callback are taken
	 * under this lock, so the callback is never called twice at once. */
	pthread_mutex_t lock;
	struct swi_options opt;
	int last_status;
	char errmsg[512];
	swi_log_fn log_fn;
	void *log_user;
	swi_progress_fn progress_fn;
	void *progress_user;
	const struct swi_handler **handlers; /* registered at run time */
	size_t nhandlers;
	struct swi_attrs state_text;     /* strings swi_get_state() hands out */
	const char **state_versions;
	/* Set by swi_cancel(), possibly from a signal handler. */
	atomic_int cancel;
	struct swi_result result;        /* of the last install */
	char *result_slot;
	char *result_version;
	enum swi_install_mode install_mode; /* of the install running, if any */
	struct swi_slot_state *state_slots; /* handed out by swi_get_state() */
	char *installed_version;         /* strings swi_is_installed() hands out */
	char *installed_slot;
	struct swi_lua_handlers *lua_handlers; /* loaded on first use (lib/lua_handlers.c) */
};

/* Records a formatted error message in ctx and returns status. */
int swi_fail(swi_ctx_t *ctx, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int swi_vfail(swi_ctx_t *ctx, int status, const char *fmt, va_list ap);
void swi_log(swi_ctx_t *ctx, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void swi_vlog(swi_ctx_t *ctx, int level, const char *fmt, va_list ap);

/* Defaults applied where an option is unset. */
const char *swi_opt_hwrevision_file(const swi_ctx_t *ctx);
const char *swi_opt_sw_versions_file(const swi_ctx_t *ctx);
const char *swi_opt_bootloader(const swi_ctx_t *ctx);
const char *swi_opt_uboot_env_config(const swi_ctx_t *ctx);
const char *swi_opt_cert_purpose(const swi_ctx_t *ctx);
const char *swi_opt_grubenv(const swi_ctx_t *ctx);
const char *swi_opt_cmdline_file(const swi_ctx_t *ctx);
const char *swi_opt_mountinfo_file(const swi_ctx_t *ctx);
const char *swi_opt_lock_file(const swi_ctx_t *ctx);
const char *swi_opt_state_dir(const swi_ctx_t *ctx);
const char *swi_opt_tmpdir(const swi_ctx_t *ctx);
/* script-timeout in seconds (default 900). */
long swi_opt_script_timeout(const swi_ctx_t *ctx);

/* "SECONDS" or "forever" (-1); NULL is 0. */
int swi_parse_wait(const char *text, long *seconds);
/* A size ("16M": *bytes) or a share of the file system ("5%": *percent);
 * NULL is the default, 1%. */
int swi_parse_reserve(const char *text, uint64_t *bytes, unsigned *percent);

/* True once swi_cancel() was called. */
bool swi_cancelled(swi_ctx_t *ctx);
/* Records SWI_ECANCELED with the standard message. */
int swi_fail_cancelled(swi_ctx_t *ctx);

/* Starts a thread of the library with every signal blocked, so signals
 * go to the application's threads (a blocked read there is interrupted). */
int swi_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
