/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swinstall-agent: a small update agent on libswinstall. Each sub-command is
 * one step of the content handler an update service drives (Azure Device
 * Update's names on the left), and one call of the library:
 *
 *   Download     download FILE   swi_verify_file(): the whole image is read
 *                (or verify)     and checked as an install would check it
 *                                (signature, hardware, versions, hashes);
 *                                nothing on the device is written.
 *   Install      install FILE    swi_stage_file(): the standby slot is
 *                                written, but the bootloader still boots the
 *                                running slot; the commit waits for apply.
 *   Apply        apply           swi_apply(): the kept commit, in one write
 *                                of the boot environment; reboot next.
 *   Cancel       SIGTERM, SIGINT swi_cancel(), from the main thread while a
 *                (--cancel-at)   worker thread runs the step: an install or
 *                                verify undoes what it started, a wait for
 *                                the lock stops (exit 7). After apply,
 *                                cancelling is a rollback.
 *   IsInstalled  is-installed    swi_is_installed(): exit 0 when the running
 *                VERSION         slot holds VERSION (Device Update's
 *                (--image FILE)  "installed"), 10-14 when it does not (yet).
 *   (the reboot's health check)  mark-good: swi_mark_good()
 *   (Restore, or giving up)      rollback:  swi_rollback()
 *                                status:    swi_get_state()
 *
 * There is no configuration file: every setting is an API call, from the
 * command line or the environment (see usage()). examples/adu/ shows how
 * Device Update's SWUpdate handler (microsoft/swupdate:2) runs these steps.
 */
#include <ctype.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <swinstall.h>

enum agent_exit {
	EXIT_DONE = 0,           /* done; is-installed: the running slot holds it */
	EXIT_FAILED = 1,         /* target I/O, a handler */
	EXIT_USAGE = 2,          /* usage or settings */
	EXIT_UNTRUSTED = 3,      /* signature, hash, malformed image */
	EXIT_INCOMPATIBLE = 4,   /* not for this device */
	EXIT_BUSY = 5,           /* another install or life-cycle change runs */
	EXIT_STATE = 6,          /* nothing staged to apply, nothing to roll back to, ... */
	EXIT_CANCELED = 7,       /* stopped by a signal or --cancel-at; nothing switched */
	/* is-installed, as `swinstall is-installed` answers */
	EXIT_NOT_INSTALLED = 10, /* no slot is known to hold it */
	EXIT_PENDING = 12,       /* applied: a reboot runs it */
	EXIT_STAGED = 13,        /* staged: apply, then a reboot runs it */
	EXIT_IDLE = 14,          /* a slot holds it, but nothing will boot it */
};

/* Library options taken as --NAME VALUE, or from the environment as
 * SWINSTALL_NAME (upper case, '_' for '-'); the command line wins. */
static const char *const library_options[] = {
	"public-key", "bootloader", "uboot-env-config", "grubenv", "cmdline-file",
	"mountinfo-file", "hwrevision-file", "sw-versions-file", "lock-file", "lock-wait",
	"state-dir", "tmpdir", "key-aes", "script-timeout", "preupdatecmd", "postupdatecmd",
	"no-downgrading",
};
#define NLIBRARY (sizeof(library_options) / sizeof(library_options[0]))
#define MAX_SETTINGS 64
#define MAX_SLOT_VARS 8

enum { OPT_SLOT = 256, OPT_EXTRA_TARGET, OPT_MARK_GOOD_ENV, OPT_ROLLBACK_ENV, OPT_CANCEL_AT,
       OPT_IMAGE, OPT_LOG_LEVEL, OPT_LIBRARY };

struct agent {
	const char *command;
	const char *argument;            /* FILE or VERSION */
	const char *image;               /* is-installed --image FILE */
	const char *settings[MAX_SETTINGS][2]; /* name, value in command-line order */
	size_t nsettings;
	const char *slots[MAX_SETTINGS]; /* --slot NAME:DEVICE:SET,MODE[:VAR=VALUE...] */
	size_t nslots;
	int cancel_at;                   /* percent; -1: only on a signal */
	int log_level;
};

static void usage(FILE *out)
{
	fputs("Usage: swinstall-agent [OPTIONS] COMMAND\n"
	      "  download FILE | verify FILE   check FILE as an install would; write nothing\n"
	      "  install FILE                  write the standby slot; keep booting this one\n"
	      "  apply                         boot the installed slot from the next boot on\n"
	      "  is-installed VERSION | is-installed --image FILE\n"
	      "                                exit 0 running, 10 not installed, 12 applied (reboot),\n"
	      "                                13 staged (apply), 14 idle (nothing boots it)\n"
	      "  mark-good | rollback | status\n"
	      "Options (each also as SWINSTALL_NAME in the environment, e.g. SWINSTALL_BOOTLOADER):\n"
	      "  --slot NAME:DEVICE:SET,MODE[:VAR=VALUE...]   a slot and the variables that boot it\n"
	      "                (repeated; SWINSTALL_SLOTS holds them separated by blanks)\n"
	      "  --public-key FILE (or --key)   --bootloader uboot|grub|none\n"
	      "  --uboot-env-config FILE  --grubenv FILE  --cmdline-file FILE  --mountinfo-file FILE\n"
	      "  --hwrevision-file FILE  --sw-versions-file FILE  --lock-file FILE  --lock-wait SECONDS\n"
	      "  --state-dir DIR  --tmpdir DIR  --key-aes FILE  --script-timeout SECONDS\n"
	      "  --preupdatecmd CMD  --postupdatecmd CMD  --no-downgrading VERSION\n"
	      "  --extra-target DEVICE   --mark-good-env NAME=VALUE   --rollback-env NAME=VALUE\n"
	      "                (repeated; a group given replaces its defaults)\n"
	      "  --cancel-at PERCENT   cancel install/verify once progress reaches PERCENT\n"
	      "  --log-level error|warn|info|debug   (default info)\n"
	      "Exit: 0 done, 1 failed, 2 usage, 3 untrusted image, 4 not for this device,\n"
	      "5 busy, 6 refused by the update state, 7 cancelled; is-installed: 10 to 14.\n",
	      out);
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "swinstall-agent: %s%s\nTry 'swinstall-agent --help'.\n", what, arg);
	return EXIT_USAGE;
}

/* ------------------------------------------------------------- arguments */

static int parse_log_level(const char *name)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(name, names[i]) == 0)
			return i;
	return -1;
}

static int parse_option(struct agent *a, int c, const char *arg)
{
	if (c == '?' || c == ':')
		return EXIT_USAGE;
	if (c == 'h') {
		usage(stdout);
		return EXIT_DONE;
	}
	if (c == OPT_SLOT) {
		if (a->nslots == MAX_SETTINGS)
			return usage_error("too many slots at ", arg);
		a->slots[a->nslots++] = arg;
	} else if (c == OPT_IMAGE) {
		a->image = arg;
	} else if (c == OPT_CANCEL_AT) {
		char *end;
		long pct = strtol(arg, &end, 10);
		if (*end || end == arg || pct < 0 || pct > 100)
			return usage_error("--cancel-at takes a percent from 0 to 100, not ", arg);
		a->cancel_at = (int)pct;
	} else if (c == OPT_LOG_LEVEL) {
		if ((a->log_level = parse_log_level(arg)) < 0)
			return usage_error("--log-level is error, warn, info or debug, not ", arg);
	} else if (a->nsettings == MAX_SETTINGS) {
		return usage_error("too many options at ", arg);
	} else {
		/* a library option, or a list entry: applied in order later */
		static const char *const lists[] = { "extra-target", "mark-good-env", "rollback-env" };
		const char *name = c == 'k' ? "public-key" : c >= OPT_LIBRARY
			? library_options[c - OPT_LIBRARY] : lists[c - OPT_EXTRA_TARGET];
		a->settings[a->nsettings][0] = name;
		a->settings[a->nsettings++][1] = arg;
	}
	return -1;
}

/* How many arguments COMMAND takes, or -1 for no such command. */
static int command_arguments(const char *command, bool has_image_option)
{
	static const char *const with_file[] = { "download", "verify", "install" };
	static const char *const bare[] = { "apply", "mark-good", "rollback", "status" };
	for (size_t i = 0; i < sizeof(with_file) / sizeof(with_file[0]); i++)
		if (strcmp(command, with_file[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(bare) / sizeof(bare[0]); i++)
		if (strcmp(command, bare[i]) == 0)
			return 0;
	if (strcmp(command, "is-installed") == 0)
		return has_image_option ? 0 : 1;
	return -1;
}

static int parse_args(struct agent *a, int argc, char **argv)
{
	static const struct option own[] = {
		{ "slot", required_argument, NULL, OPT_SLOT },
		{ "extra-target", required_argument, NULL, OPT_EXTRA_TARGET },
		{ "mark-good-env", required_argument, NULL, OPT_MARK_GOOD_ENV },
		{ "rollback-env", required_argument, NULL, OPT_ROLLBACK_ENV },
		{ "cancel-at", required_argument, NULL, OPT_CANCEL_AT },
		{ "image", required_argument, NULL, OPT_IMAGE },
		{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
		{ "key", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
	};
	const size_t nown = sizeof(own) / sizeof(own[0]);
	struct option opts[sizeof(own) / sizeof(own[0]) + NLIBRARY + 1];
	memcpy(opts, own, sizeof(own));
	for (size_t i = 0; i < NLIBRARY; i++)
		opts[nown + i] = (struct option){ library_options[i], required_argument, NULL,
						  OPT_LIBRARY + (int)i };
	opts[nown + NLIBRARY] = (struct option){ 0 };
	int c;
	while ((c = getopt_long(argc, argv, "hk:", opts, NULL)) != -1) {
		int rc = parse_option(a, c, optarg);
		if (rc >= 0)
			return rc;
	}
	if (optind == argc)
		return usage_error("a command is needed", "");
	a->command = argv[optind++];
	int takes = command_arguments(a->command, a->image != NULL);
	if (takes < 0)
		return usage_error("unknown command ", a->command);
	if (argc - optind != takes)
		return usage_error(takes ? "one argument is needed by " : "no argument goes with ",
				   a->command);
	a->argument = takes ? argv[optind] : NULL;
	return -1;
}

/* ------------------------------------------------------------ settings */

/* NAME:DEVICE:SET,MODE[:VAR=VALUE...] -> swi_add_slot(). */
static int add_slot(swi_ctx_t *ctx, const char *spec)
{
	char copy[1024];
	const char *bootenv[2 * MAX_SLOT_VARS + 1] = { NULL };
	if (snprintf(copy, sizeof(copy), "%s", spec) >= (int)sizeof(copy))
		return usage_error("--slot is too long: ", spec);
	char *rest = copy;
	const char *name = strsep(&rest, ":");
	const char *device = strsep(&rest, ":");
	const char *select = strsep(&rest, ":");
	size_t n = 0;
	for (char *var; (var = strsep(&rest, ":")) != NULL; n += 2) {
		char *eq = strchr(var, '=');
		if (!eq || n == 2 * MAX_SLOT_VARS)
			return usage_error("--slot takes NAME:DEVICE:SET,MODE[:VAR=VALUE...] (at "
					   "most 8 variables), not ", spec);
		*eq = '\0';
		bootenv[n] = var;
		bootenv[n + 1] = eq + 1;
	}
	if (!select)
		return usage_error("--slot takes NAME:DEVICE:SET,MODE[:VAR=VALUE...], not ", spec);
	int rc = swi_add_slot(ctx, name, device, select, bootenv);
	if (rc)
		fprintf(stderr, "swinstall-agent: --slot %s: %s\n", spec, swi_errmsg(ctx));
	return rc ? EXIT_USAGE : EXIT_DONE;
}

/* A list entry (NAME=VALUE for the groups) or a library option; where
 * names it for a message: "--NAME" or the environment variable. */
static int apply_setting(swi_ctx_t *ctx, const char *name, const char *value, const char *where)
{
	int rc;
	if (strcmp(name, "extra-target") == 0) {
		rc = swi_add_extra_target(ctx, value);
	} else if (strcmp(name, "mark-good-env") == 0 || strcmp(name, "rollback-env") == 0) {
		char var[256];
		const char *eq = strchr(value, '=');
		if (!eq || eq - value >= (long)sizeof(var))
			return usage_error("a variable is NAME=VALUE, not ", value);
		snprintf(var, sizeof(var), "%.*s", (int)(eq - value), value);
		rc = swi_set_env_var(ctx, name, var, eq + 1);
	} else {
		rc = swi_set_option(ctx, name, value);
	}
	if (rc)
		fprintf(stderr, "swinstall-agent: %s %s: %s\n", where, value, swi_errmsg(ctx));
	return rc ? EXIT_USAGE : EXIT_DONE;
}

/* SWINSTALL_SLOTS: slots separated by blanks. */
static int add_slots_from_environment(swi_ctx_t *ctx, const char *list)
{
	char slots[4096];
	if (snprintf(slots, sizeof(slots), "%s", list) >= (int)sizeof(slots))
		return usage_error("SWINSTALL_SLOTS is too long", "");
	int rc = EXIT_DONE;
	char *rest = slots;
	for (char *spec; rc == EXIT_DONE && (spec = strsep(&rest, " \t\n")) != NULL;)
		if (*spec)
			rc = add_slot(ctx, spec);
	return rc;
}

/* The environment first, then the command line over it. */
static int configure(swi_ctx_t *ctx, const struct agent *a)
{
	int rc = EXIT_DONE;
	for (size_t i = 0; rc == EXIT_DONE && i < NLIBRARY; i++) {
		char var[64] = "SWINSTALL_";
		for (const char *p = library_options[i]; *p; p++)
			var[strlen(var)] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
		const char *value = getenv(var);
		if (value)
			rc = apply_setting(ctx, library_options[i], value, var);
	}
	for (size_t i = 0; rc == EXIT_DONE && i < a->nsettings; i++) {
		char option[64];
		snprintf(option, sizeof(option), "--%s", a->settings[i][0]);
		rc = apply_setting(ctx, a->settings[i][0], a->settings[i][1], option);
	}
	for (size_t i = 0; rc == EXIT_DONE && i < a->nslots; i++)
		rc = add_slot(ctx, a->slots[i]);
	const char *slots = getenv("SWINSTALL_SLOTS");
	if (rc == EXIT_DONE && a->nslots == 0 && slots)
		rc = add_slots_from_environment(ctx, slots);
	return rc;
}

/* ---------------------------------------------------------- the commands */

/* The swinstall program's classes of failure, and 7 for a cancel (its own
 * table: this example builds on the public header alone). */
static int exit_code_for(int status)
{
	switch (status) {
	case SWI_OK: return EXIT_DONE;
	case SWI_EINVAL:
	case SWI_ECONFIG: return EXIT_USAGE;
	case SWI_EFORMAT:
	case SWI_ESIG:
	case SWI_EHASH: return EXIT_UNTRUSTED;
	case SWI_ECOMPAT:
	case SWI_EUNSUPPORTED: return EXIT_INCOMPATIBLE;
	case SWI_EBUSY: return EXIT_BUSY;
	case SWI_ESTATE: return EXIT_STATE;
	case SWI_ECANCELED: return EXIT_CANCELED;
	default: return EXIT_FAILED;
	}
}

static const char *or_dash(const char *s)
{
	return s ? s : "-";
}

/* Sets *answer to the exit code that says where the version is. */
static int is_installed(swi_ctx_t *ctx, const struct agent *a, int *answer)
{
	static const struct { const char *says; int exit; } states[] = {
		[SWI_NOT_INSTALLED] = { "not installed", EXIT_NOT_INSTALLED },
		[SWI_INSTALLED_RUNNING] = { "installed and running", EXIT_DONE },
		[SWI_INSTALLED_PENDING] = { "applied, runs after a reboot", EXIT_PENDING },
		[SWI_INSTALLED_STAGED] = { "staged, runs after apply and a reboot", EXIT_STAGED },
		[SWI_INSTALLED_IDLE] = { "idle, a slot holds it but nothing boots it", EXIT_IDLE },
	};
	struct swi_installed in;
	int rc = a->image ? swi_is_installed_file(ctx, a->image, &in)
			  : swi_is_installed(ctx, a->argument, &in);
	if (rc)
		return rc;
	printf("%s: %s%s%s\n", in.version, states[in.state].says, in.slot ? "; slot " : "",
	       in.slot ? in.slot : "");
	*answer = states[in.state].exit;
	return SWI_OK;
}

static void print_state(const struct swi_state *s)
{
	printf("running: %s (found by %s)\nnext boot: %s\nstaged: %s\nustate: %s (%s)\n",
	       or_dash(s->running), or_dash(s->running_found_by), or_dash(s->next),
	       or_dash(s->staged), or_dash(s->ustate), or_dash(s->ustate_meaning));
	for (size_t i = 0; i < s->nslots; i++) {
		const struct swi_slot_state *slot = &s->slots[i];
		printf("slot %s: %s, version %s%s%s%s%s\n", slot->name, slot->device,
		       or_dash(slot->version), slot->running ? ", running" : "",
		       slot->booting_next ? ", boots next" : "", slot->staged ? ", staged" : "",
		       slot->complete ? ", complete" : "");
	}
}

/* What a command that succeeded did, in one line. */
static void say_done(swi_ctx_t *ctx, const char *command)
{
	struct swi_result result = { 0 };
	struct swi_state state = { 0 };
	swi_get_result(ctx, &result);
	if (!strcmp(command, "install"))
		printf("staged %s in slot %s: apply, then reboot\n", or_dash(result.version),
		       or_dash(result.slot));
	else if (!strcmp(command, "download") || !strcmp(command, "verify"))
		printf("verified %s: it installs on this device\n", or_dash(result.version));
	else if (swi_get_state(ctx, &state) == SWI_OK)
		printf("%s done: slot %s boots next\n", command, or_dash(state.next));
}

/* The step, on the worker thread: the library's status; is-installed sets
 * *answer. */
static int run_command(swi_ctx_t *ctx, const struct agent *a, int *answer)
{
	const char *c = a->command;
	if (!strcmp(c, "download") || !strcmp(c, "verify"))
		return swi_verify_file(ctx, a->argument);
	if (!strcmp(c, "install"))
		return swi_stage_file(ctx, a->argument);
	if (!strcmp(c, "apply"))
		return swi_apply(ctx);
	if (!strcmp(c, "is-installed"))
		return is_installed(ctx, a, answer);
	if (!strcmp(c, "mark-good"))
		return swi_mark_good(ctx);
	if (!strcmp(c, "rollback"))
		return swi_rollback(ctx);
	struct swi_state state; /* status */
	int rc = swi_get_state(ctx, &state);
	if (rc == SWI_OK)
		print_state(&state);
	return rc;
}

/* ------------------------------------------------- the step on a worker */

/* The worker thread runs the step; the main thread waits in sigwait() for a
 * stop signal, or for SIGUSR1, which the worker sends when it is done or
 * when progress reaches --cancel-at, and calls swi_cancel(). An install or
 * verify then undoes itself; a step waiting for the lock stops waiting. */
struct job {
	swi_ctx_t *ctx;
	const struct agent *agent;
	pthread_t main_thread;
	pthread_mutex_t lock;
	pthread_cond_t cancelled;
	bool at_cancel_point;       /* progress reached --cancel-at */
	bool cancel_sent;
	bool done;
	int status;                 /* the step's, from the library */
	int answer;                 /* is-installed's exit code */
	int phase;                  /* of the last progress line */
	int percent;
};

static void on_progress(void *user, const struct swi_progress *p)
{
	static const char *const phases[] = { "verifying", "installing", "committing" };
	struct job *job = user;
	/* A line as each phase starts and every 10 percent. */
	if (p->phase != job->phase || (int)p->percent / 10 != job->percent / 10) {
		job->phase = p->phase;
		job->percent = (int)p->percent;
		printf("progress: %3u%% %s", p->percent, phases[p->phase]);
		if (p->member)
			printf(" %s (%u of %u)", p->member, p->index, p->count);
		putchar('\n');
		fflush(stdout);
	}
	/* Wait here until the main thread has cancelled: the cancel then lands
	 * at this point exactly, whatever the speed of the machine. */
	int cancel_at = job->agent->cancel_at;
	pthread_mutex_lock(&job->lock);
	if (cancel_at >= 0 && (int)p->percent >= cancel_at && !job->at_cancel_point) {
		job->at_cancel_point = true;
		pthread_kill(job->main_thread, SIGUSR1);
		while (!job->cancel_sent)
			pthread_cond_wait(&job->cancelled, &job->lock);
	}
	pthread_mutex_unlock(&job->lock);
}

static void *run_step(void *arg)
{
	struct job *job = arg;
	int answer = EXIT_DONE;
	int status = run_command(job->ctx, job->agent, &answer);
	pthread_mutex_lock(&job->lock);
	job->status = status;
	job->answer = answer;
	job->done = true;
	pthread_mutex_unlock(&job->lock);
	pthread_kill(job->main_thread, SIGUSR1);
	return NULL;
}

/* Returns the library's status; sets *answer for is-installed. */
static int run_on_worker(swi_ctx_t *ctx, const struct agent *a, const sigset_t *wake,
			 int *answer)
{
	struct job job = { .ctx = ctx, .agent = a, .main_thread = pthread_self(),
			   .phase = -1, .percent = -1, .lock = PTHREAD_MUTEX_INITIALIZER,
			   .cancelled = PTHREAD_COND_INITIALIZER };
	pthread_t worker;
	swi_set_progress(ctx, on_progress, &job);
	if (pthread_create(&worker, NULL, run_step, &job) != 0) {
		fputs("swinstall-agent: cannot start the worker thread\n", stderr);
		return SWI_ENOMEM;
	}
	for (bool done = false; !done;) {
		int sig;
		sigwait(wake, &sig);
		pthread_mutex_lock(&job.lock);
		if (sig != SIGUSR1 || (job.at_cancel_point && !job.cancel_sent)) {
			if (sig != SIGUSR1)
				fprintf(stderr, "swinstall-agent: %s: cancelling\n", strsignal(sig));
			swi_cancel(ctx);
			job.cancel_sent = true;
			pthread_cond_broadcast(&job.cancelled);
		}
		done = job.done;
		pthread_mutex_unlock(&job.lock);
	}
	pthread_join(worker, NULL);
	*answer = job.answer;
	return job.status;
}

static void print_log(void *user, int level, const char *message)
{
	static const char *const tags[] = { "error: ", "warning: ", "", "debug: " };
	if (level <= *(const int *)user)
		fprintf(stderr, "swinstall-agent: %s%s\n", tags[level], message);
}

int main(int argc, char **argv)
{
	struct agent a = { .cancel_at = -1, .log_level = SWI_LOG_INFO };
	const char *level = getenv("SWINSTALL_LOG_LEVEL");
	if (level && (a.log_level = parse_log_level(level)) < 0)
		return usage_error("SWINSTALL_LOG_LEVEL is error, warn, info or debug, not ", level);
	int rc = parse_args(&a, argc, argv);
	if (rc >= 0)
		return rc;

	/* Stop signals wait for sigwait() on the main thread; the threads
	 * started from here on inherit the mask, so none of them is hit. */
	sigset_t wake;
	sigemptyset(&wake);
	sigaddset(&wake, SIGINT);
	sigaddset(&wake, SIGTERM);
	sigaddset(&wake, SIGHUP);
	sigaddset(&wake, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &wake, NULL);

	swi_ctx_t *ctx;
	if (swi_ctx_new(&ctx) != SWI_OK) {
		fputs("swinstall-agent: out of memory\n", stderr);
		return EXIT_FAILED;
	}
	swi_set_log(ctx, print_log, &a.log_level);
	rc = configure(ctx, &a);
	if (rc == EXIT_DONE) {
		int answer = EXIT_DONE;
		int status = run_on_worker(ctx, &a, &wake, &answer);
		if (status != SWI_OK)
			fprintf(stderr, "swinstall-agent: %s\n", swi_errmsg(ctx));
		else if (strcmp(a.command, "status") != 0 && strcmp(a.command, "is-installed") != 0)
			say_done(ctx, a.command);
		rc = status == SWI_OK ? answer : exit_code_for(status);
	}
	swi_ctx_free(ctx);
	return rc;
}
