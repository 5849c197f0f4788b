/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * swinstall: the command-line face of libswinstall. Argument parsing, output
 * and exit codes only; every decision about the image is the library's.
 */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <swinstall.h>
#include "info.h"
#include "adu_manifest.h"
#include "jsonstream.h"
#include "progress.h"
#include "status.h"
#include "usb.h"

#define DEFAULT_CONFIG "/etc/swinstall.conf"

enum exit_code {
	EXIT_INSTALLED = 0,
	EXIT_FAILED = 1,        /* target I/O, handler */
	EXIT_USAGE = 2,         /* usage or configuration */
	EXIT_UNTRUSTED = 3,     /* signature, hash, checksum, malformed, truncated */
	EXIT_INCOMPATIBLE = 4,  /* not for this device, or nothing in it for this device */
	EXIT_BUSY = 5,          /* another swinstall holds the lock */
	EXIT_STATE = 6,         /* the update state refuses (mark-good, rollback, apply) */
};

/* is-installed: 0 when the running slot holds the version, else one of
 * these (10 + enum swi_installed_state). */
enum installed_exit {
	EXIT_NOT_INSTALLED = 10,
	EXIT_PENDING = 12,
	EXIT_STAGED = 13,
	EXIT_IDLE = 14,
};

static const char usage_text[] =
	"Usage: swinstall [OPTIONS] FILE|URL\n"
	"       swinstall [OPTIONS] -i FILE|URL\n"
	"       swinstall [OPTIONS] install [--stage] FILE|URL\n"
	"       swinstall [OPTIONS] install [--force] --from DIR\n"
	"       swinstall [OPTIONS] verify FILE|URL\n"
	"       swinstall [OPTIONS] apply\n"
	"       swinstall [OPTIONS] is-installed [--json] FILE | --version VERSION\n"
	"       swinstall [OPTIONS] info [--json] FILE|URL\n"
	"       swinstall [OPTIONS] scan [--json] DIR\n"
	"       swinstall [OPTIONS] flash IMAGE DEVICE [--sha256 HEX]\n"
	"       swinstall [OPTIONS] status [--json]\n"
	"       swinstall [OPTIONS] mark-good\n"
	"       swinstall [OPTIONS] [--force] rollback\n"
	"       swinstall manifest FILE --provider P --name N [--version V] --compat K=V,...\n"
	"       swinstall --version | -v\n"
	"Install a SWUpdate .swu image (FILE '-' reads standard input; an http:// or\n"
	"https:// URL is streamed from the server, resumed when the connection\n"
	"drops) into the standby slot; show what is in an image without installing\n"
	"it (info needs no configuration; -k verifies its signature); show the slots\n"
	"and the update state; confirm the slot that booted after an update; or make\n"
	"the bootloader boot the other slot again; or print an Azure Device Update\n"
	"import manifest for an image (swinstall manifest --help says more).\n"
	"verify reads and checks the whole image as an install on this device would\n"
	"and writes nothing. install --stage writes the standby slot but keeps the\n"
	"running slot booting; apply then switches to it. is-installed tells whether\n"
	"the version of an image (or VERSION) is in a slot.\n"
	"scan lists the images of DIR (a USB stick) that verify and fit this device,\n"
	"newest first; install --from DIR installs the newest of them when it is newer\n"
	"than the installed version (as recorded for the running slot or the one\n"
	"booting next, else -N VER).\n"
	"flash writes a whole-disk image (raw, .xz, .gz, .zst) onto a block device or\n"
	"a file, checking the decoded bytes against --sha256 or IMAGE.sha256; it\n"
	"refuses a mounted device and the disk the running system is on.\n"
	"\n"
	"  -f, --config FILE          configuration file (default " DEFAULT_CONFIG ", may be absent)\n"
	"  -k, --key FILE             CMS trust anchor (PEM certificate/CA) or RSA public key (PEM)\n"
	"      --cert-purpose P       signer purpose: emailProtection (default) or codeSigning\n"
	"      --forced-signer-name CN  accept only this signer common name\n"
	"      --signature-scheme S   accept only this kind of signature: cms, rsa (PKCS#1\n"
	"                             v1.5) or rsa-pss (default: chosen by the key file)\n"
	"      --insecure             allow images that are not verified when no key is configured\n"
	"  -e, --select SET,MODE      software selection, e.g. stable,copy2\n"
	"  -H, --hwrevision BOARD:REV hardware revision (default: the hwrevision file)\n"
	"  -K, --key-aes FILE         AES key file of encrypted images: the key in hex (32, 48\n"
	"                             or 64 digits), a space, the IV in hex (32 digits)\n"
	"      --encrypted-sw-description  sw-description itself is encrypted with that key\n"
	"  -N, --no-downgrading VER   refuse an image whose version is lower than VER\n"
	"  -R, --no-reinstalling VER  refuse an image whose version is exactly VER\n"
	"      --max-version VER      refuse an image whose version is higher than VER\n"
	"  -P, --preupdate CMD        run CMD before the image is written; its failure\n"
	"                             refuses the install (CMD is split at blanks, no shell)\n"
	"  -p, --postupdate CMD       run CMD after the install was committed\n"
	"      --tmpdir DIR           where scripts are written before they run (default:\n"
	"                             $TMPDIR, else /tmp)\n"
	"      --script-timeout SECONDS  a script or command still running then is killed\n"
	"                             and fails the install (default 900)\n"
	"  -n, --dry-run              read, verify, decode and hash everything; write nothing\n"
	"                             (a target missing on this machine is only a warning)\n"
	"  -o, --save-to FILE         keep a copy of the image as it is read: FILE.part,\n"
	"                             renamed FILE when the install succeeded\n"
	"      --url-ca-file FILE     certificate authorities (PEM) an https:// server must\n"
	"                             chain to (default: the system's)\n"
	"      --url-client-cert FILE client certificate (PEM) for the server\n"
	"      --url-client-key FILE  its private key (PEM; default: in the certificate file)\n"
	"      --url-retries N        attempts in a row that bring no byte before a download\n"
	"                             gives up (default 5)\n"
	"      --url-timeout SECONDS  a server that takes longer to connect, or sends less\n"
	"                             than a byte a second that long, is dropped (default 60)\n"
	"  -c, --check                verify sw-description (signature, compatibility,\n"
	"                             version guards, selection, handlers) and exit;\n"
	"                             open no target\n"
	"  -v, --verbose              more messages (-vv: debugging messages too)\n"
	"  -q, --quiet                errors only, no progress bar\n"
	"      --json                 status or info as JSON; an install (also -c, -n) as\n"
	"                             JSON lines on stdout: progress, log, result\n"
	"      --wait[=SECONDS]       wait for another swinstall to finish (default: as\n"
	"                             long as it takes) instead of refusing at once\n"
	"      --force                rollback even when the other slot holds no complete\n"
	"                             install; install --from an image not newer than the\n"
	"                             installed version\n"
	"      --stage, --no-switch   install, but leave the switch to the new slot for\n"
	"                             'swinstall apply' (the post-update command waits too)\n"
	"      --from DIR             install the newest image of DIR that fits (see scan)\n"
	"      --sha256 HEX           flash: the sha256 of the decoded image\n"
	"  -h, --help                 this text\n"
	"      --version              the version and the handlers of this build (the\n"
	"                             collections each takes); so does -v alone\n"
	"\n"
	"Exit status: 0 done (installed, verified with -c/-n, or nothing left to do),\n"
	"1 failed while installing (or interrupted by a signal), 2 usage or\n"
	"configuration error (also: an encrypted image and no -K), 3 image not\n"
	"trustworthy or malformed (also: a wrong AES key; info: a signature that -k\n"
	"does not verify), 4 image not for this device (or nothing in it for this\n"
	"device), 5 another swinstall is running, 6 refused by the update state\n"
	"(mark-good before the reboot, rollback with nothing to roll back to, apply\n"
	"with nothing staged or after the running slot changed).\n"
	"is-installed: 0 the running slot holds the version, 12 the slot booting next\n"
	"does (a reboot runs it), 13 a staged slot does (apply, then reboot), 14 another\n"
	"slot does that nothing will boot, 10 no slot holds it; else the codes above.\n"
	"scan and install --from exit 4 when no image of DIR is to be installed;\n"
	"flash exits 3 on a sha256 mismatch (the device then holds an image that must\n"
	"not be used) and 4 when it refuses the device.\n";

enum long_only {
	OPT_CERT_PURPOSE = 256, OPT_FORCED_SIGNER, OPT_INSECURE, OPT_VERSION, OPT_JSON, OPT_WAIT,
	OPT_FORCE, OPT_SIGNATURE_SCHEME, OPT_MAX_VERSION, OPT_ENCRYPTED_DESCRIPTION, OPT_TMPDIR,
	OPT_SCRIPT_TIMEOUT, OPT_STAGE, OPT_FROM, OPT_SHA256, OPT_URL_CA_FILE,
	OPT_URL_CLIENT_CERT, OPT_URL_CLIENT_KEY, OPT_URL_RETRIES, OPT_URL_TIMEOUT,
};

static const struct option long_options[] = {
	{ "install", required_argument, NULL, 'i' },
	{ "config", required_argument, NULL, 'f' },
	{ "key", required_argument, NULL, 'k' },
	{ "cert-purpose", required_argument, NULL, OPT_CERT_PURPOSE },
	{ "forced-signer-name", required_argument, NULL, OPT_FORCED_SIGNER },
	{ "signature-scheme", required_argument, NULL, OPT_SIGNATURE_SCHEME },
	{ "insecure", no_argument, NULL, OPT_INSECURE },
	{ "select", required_argument, NULL, 'e' },
	{ "hwrevision", required_argument, NULL, 'H' },
	{ "key-aes", required_argument, NULL, 'K' },
	{ "no-downgrading", required_argument, NULL, 'N' },
	{ "no-reinstalling", required_argument, NULL, 'R' },
	{ "max-version", required_argument, NULL, OPT_MAX_VERSION },
	{ "encrypted-sw-description", no_argument, NULL, OPT_ENCRYPTED_DESCRIPTION },
	{ "preupdate", required_argument, NULL, 'P' },
	{ "postupdate", required_argument, NULL, 'p' },
	{ "tmpdir", required_argument, NULL, OPT_TMPDIR },
	{ "script-timeout", required_argument, NULL, OPT_SCRIPT_TIMEOUT },
	{ "save-to", required_argument, NULL, 'o' },
	{ "url-ca-file", required_argument, NULL, OPT_URL_CA_FILE },
	{ "url-client-cert", required_argument, NULL, OPT_URL_CLIENT_CERT },
	{ "url-client-key", required_argument, NULL, OPT_URL_CLIENT_KEY },
	{ "url-retries", required_argument, NULL, OPT_URL_RETRIES },
	{ "url-timeout", required_argument, NULL, OPT_URL_TIMEOUT },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "check", no_argument, NULL, 'c' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "wait", optional_argument, NULL, OPT_WAIT },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "stage", no_argument, NULL, OPT_STAGE },
	{ "no-switch", no_argument, NULL, OPT_STAGE },
	{ "from", required_argument, NULL, OPT_FROM },
	{ "sha256", required_argument, NULL, OPT_SHA256 },
	{ NULL, 0, NULL, 0 },
};

/* Options are gathered first and applied after the configuration file,
 * which they override. */
struct cli_args {
	char **argv;
	char short_option[3];
	const char *command;     /* install, verify, info, status, mark-good, rollback, apply,
				  * is-installed, version */
	bool json;
	bool force;
	bool saves;              /* -o */
	bool stage;
	bool version_option;     /* --version: this build's, or is-installed's VERSION */
	const char *image;
	const char *version;     /* is-installed --version VERSION */
	const char *from;        /* install --from DIR; scan DIR */
	const char *device;      /* flash IMAGE DEVICE */
	const char *sha256;      /* flash --sha256 */
	const char *config;
	const char *set[32][2];  /* option name, value */
	size_t nset;
	int verbosity;           /* -1 quiet, 0 normal, 1+ verbose */
};

/* Kept until the arguments are read: with --json (which may come after
 * the mistake) it goes into the result line instead of onto stderr. */
static char usage_message[512];

static int usage_error(const char *fmt, const char *arg)
{
	snprintf(usage_message, sizeof(usage_message), fmt, arg);
	return EXIT_USAGE;
}

/* A repeated option replaces its earlier value (the last one wins), so the
 * table holds each option once and never fills up. */
static void add_setting(struct cli_args *a, const char *name, const char *value)
{
	for (size_t i = 0; i < a->nset; i++) {
		if (strcmp(a->set[i][0], name) == 0) {
			a->set[i][1] = value;
			return;
		}
	}
	if (a->nset < sizeof(a->set) / sizeof(a->set[0])) {
		a->set[a->nset][0] = name;
		a->set[a->nset][1] = value;
		a->nset++;
	}
}

/* The option getopt just refused, as the user wrote it. */
static const char *option_name(struct cli_args *a)
{
	if (optopt) {
		a->short_option[0] = '-';
		a->short_option[1] = (char)optopt;
		return a->short_option;
	}
	return a->argv[optind - 1];
}

/* Returns -1 to go on, or the exit code to stop with. */
static int parse_option(struct cli_args *a, int c)
{
	switch (c) {
	case 'i': a->image = optarg; break;
	case 'f': a->config = optarg; break;
	case 'k': add_setting(a, "public-key", optarg); break;
	case OPT_CERT_PURPOSE: add_setting(a, "cert-purpose", optarg); break;
	case OPT_FORCED_SIGNER: add_setting(a, "forced-signer-name", optarg); break;
	case OPT_SIGNATURE_SCHEME: add_setting(a, "signature-scheme", optarg); break;
	case OPT_INSECURE: add_setting(a, "insecure", "1"); break;
	case 'e': add_setting(a, "select", optarg); break;
	case 'H': add_setting(a, "hwrevision", optarg); break;
	case 'K': add_setting(a, "key-aes", optarg); break;
	case OPT_ENCRYPTED_DESCRIPTION: add_setting(a, "encrypted-sw-description", "1"); break;
	case 'N': add_setting(a, "no-downgrading", optarg); break;
	case 'R': add_setting(a, "no-reinstalling", optarg); break;
	case OPT_MAX_VERSION: add_setting(a, "max-version", optarg); break;
	case 'P': add_setting(a, "preupdatecmd", optarg); break;
	case 'p': add_setting(a, "postupdatecmd", optarg); break;
	case OPT_TMPDIR: add_setting(a, "tmpdir", optarg); break;
	case OPT_SCRIPT_TIMEOUT: add_setting(a, "script-timeout", optarg); break;
	case 'o': add_setting(a, "save-to", optarg); a->saves = true; break;
	case OPT_URL_CA_FILE: add_setting(a, "url-ca-file", optarg); break;
	case OPT_URL_CLIENT_CERT: add_setting(a, "url-client-cert", optarg); break;
	case OPT_URL_CLIENT_KEY: add_setting(a, "url-client-key", optarg); break;
	case OPT_URL_RETRIES: add_setting(a, "url-retries", optarg); break;
	case OPT_URL_TIMEOUT: add_setting(a, "url-timeout", optarg); break;
	case 'n': add_setting(a, "dry-run", "1"); break;
	case 'c': add_setting(a, "check", "1"); break;
	case 'v': a->verbosity++; break;
	case 'q': a->verbosity = -1; break;
	case 'h': fputs(usage_text, stdout); return EXIT_INSTALLED;
	case OPT_VERSION: a->version_option = true; break;
	case OPT_JSON: a->json = true; break;
	case OPT_WAIT: add_setting(a, "lock-wait", optarg ? optarg : "forever"); break;
	case OPT_FORCE: add_setting(a, "force", "1"); a->force = true; break;
	case OPT_STAGE: a->stage = true; break;
	case OPT_FROM: a->from = optarg; break;
	case OPT_SHA256: a->sha256 = optarg; break;
	case ':': return usage_error("option %s needs a value", option_name(a));
	default: return usage_error("unknown option %s", option_name(a));
	}
	return -1;
}

static bool is_command(const char *word)
{
	return !strcmp(word, "install") || !strcmp(word, "info") || !strcmp(word, "status") ||
	       !strcmp(word, "mark-good") || !strcmp(word, "rollback") || !strcmp(word, "apply") ||
	       !strcmp(word, "verify") || !strcmp(word, "is-installed") ||
	       !strcmp(word, "scan") || !strcmp(word, "flash");
}

/* "swinstall FILE" installs FILE, as "swinstall install FILE" does: a
 * word that is no command but an existing file, a URL, or "-" (standard
 * input). */
static bool is_image_argument(const char *word)
{
	return !strcmp(word, "-") || cli_is_url(word) || access(word, F_OK) == 0;
}

static int parse_command(struct cli_args *a, int rest, char **words)
{
	a->command = rest > 0 ? words[0] : "install";
	if (rest > 0 && !is_command(words[0])) {
		if (!is_image_argument(words[0]))
			return usage_error("'%s' is neither a command nor an image file", words[0]);
		if (rest > 1 || a->image)
			return usage_error("%s", "install needs exactly one image");
		a->command = "install";
		a->image = words[0];
	} else if (strcmp(a->command, "install") == 0 && a->from) {
		if (rest > 1 || a->image)
			return usage_error("%s", "install --from DIR takes no image");
	} else if (strcmp(a->command, "install") == 0) {
		if (rest > 2 || (rest == 2) == (a->image != NULL))
			return usage_error("%s", "install needs exactly one image (FILE, -i FILE or install FILE)");
		if (rest == 2)
			a->image = words[1];
	} else if (strcmp(a->command, "info") == 0) {
		if (rest != 2 || a->image)
			return usage_error("%s", "info needs exactly one image (info FILE, or info - "
					   "for standard input)");
		a->image = words[1];
	} else if (strcmp(a->command, "verify") == 0) {
		if (rest != 2 || a->image)
			return usage_error("%s", "verify needs exactly one image (verify FILE, or "
					   "verify - for standard input)");
		a->image = words[1];
	} else if (strcmp(a->command, "is-installed") == 0) {
		if (rest != 2 || a->image)
			return usage_error("%s", "is-installed needs an image file or --version VERSION");
		if (a->version_option)
			a->version = words[1];
		else
			a->image = words[1];
	} else if (strcmp(a->command, "scan") == 0) {
		if (rest != 2 || a->image)
			return usage_error("%s", "scan needs exactly one directory (scan DIR)");
		a->from = words[1];
	} else if (strcmp(a->command, "flash") == 0) {
		if (rest != 3 || a->image)
			return usage_error("%s", "flash needs an image and a device (flash IMAGE DEVICE)");
		a->image = words[1];
		a->device = words[2];
	} else if (rest > 1 || a->image) {
		return usage_error("%s takes no image", a->command);
	}
	if (a->json && strcmp(a->command, "status") != 0 && strcmp(a->command, "info") != 0 &&
	    strcmp(a->command, "install") != 0 && strcmp(a->command, "verify") != 0 &&
	    strcmp(a->command, "is-installed") != 0 && strcmp(a->command, "scan") != 0)
		return usage_error("%s", "--json goes with install, verify, status, info, "
				   "is-installed or scan");
	if (a->force && strcmp(a->command, "rollback") != 0 && !a->from)
		return usage_error("%s", "--force goes with rollback or install --from");
	if (a->from && strcmp(a->command, "install") != 0 && strcmp(a->command, "scan") != 0)
		return usage_error("%s", "--from goes with install");
	if (a->sha256 && strcmp(a->command, "flash") != 0)
		return usage_error("%s", "--sha256 goes with flash");
	if (a->stage && (strcmp(a->command, "install") != 0 || a->from))
		return usage_error("%s", "--stage goes with install FILE");
	if (a->version_option && strcmp(a->command, "is-installed") != 0)
		return usage_error("%s", "--version takes a VERSION only with is-installed");
	if (a->saves && strcmp(a->command, "install") != 0)
		return usage_error("%s", "--save-to goes with install");
	return -1;
}

static int parse_args(struct cli_args *a, int argc, char **argv)
{
	int c;
	a->argv = argv;
	/* Our own messages: getopt's would name the program by its full path. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:f:k:e:H:K:N:R:P:p:o:ncvqh", long_options, NULL)) != -1) {
		int rc = parse_option(a, c);
		if (rc >= 0)
			return rc;
	}
	/* is-installed --version VERSION asks about VERSION. */
	bool asks_version = optind < argc && strcmp(argv[optind], "is-installed") == 0;
	/* --version, or -v with nothing to do: what this build is. */
	if ((a->version_option && !asks_version) ||
	    (optind == argc && !a->image && a->verbosity > 0)) {
		a->command = "version";
		return -1;
	}
	return parse_command(a, argc - optind, argv + optind);
}

static int exit_code_for(int status)
{
	switch (status) {
	case SWI_OK: return EXIT_INSTALLED;
	case SWI_EINVAL:
	case SWI_ECONFIG: return EXIT_USAGE;
	case SWI_EFORMAT:
	case SWI_ESIG:
	case SWI_EHASH: return EXIT_UNTRUSTED;
	case SWI_ECOMPAT:
	case SWI_EUNSUPPORTED: return EXIT_INCOMPATIBLE;
	case SWI_EBUSY: return EXIT_BUSY;
	case SWI_ESTATE: return EXIT_STATE;
	default: return EXIT_FAILED;
	}
}

static int configure(swi_ctx_t *ctx, const struct cli_args *a)
{
	int rc = SWI_OK;
	if (a->config)
		rc = swi_load_config(ctx, a->config);
	else if (access(DEFAULT_CONFIG, F_OK) == 0)
		rc = swi_load_config(ctx, DEFAULT_CONFIG);
	for (size_t i = 0; rc == SWI_OK && i < a->nset; i++)
		rc = swi_set_option(ctx, a->set[i][0], a->set[i][1]);
	return rc;
}

static int install(swi_ctx_t *ctx, const char *image, bool stage)
{
	if (strcmp(image, "-") == 0)
		return stage ? swi_stage_fd(ctx, STDIN_FILENO) : swi_install_fd(ctx, STDIN_FILENO);
	if (cli_is_url(image))
		return stage ? swi_stage_url(ctx, image) : swi_install_url(ctx, image);
	return stage ? swi_stage_file(ctx, image) : swi_install_file(ctx, image);
}

static int verify(swi_ctx_t *ctx, const char *image)
{
	if (strcmp(image, "-") == 0)
		return swi_verify_fd(ctx, STDIN_FILENO);
	if (cli_is_url(image))
		return swi_verify_url(ctx, image);
	return swi_verify_file(ctx, image);
}

/* The version and the handlers, with the collections each takes. */
static int show_version(swi_ctx_t *ctx)
{
	char names[2048];
	printf("swinstall %s\n", swi_version());
	int rc = swi_handler_names(ctx, names, sizeof(names));
	printf("handlers: %s\n", names);
	return rc;
}

/* is-installed's state, for its exit code. */
static int installed_state = SWI_INSTALLED_RUNNING;

static int run_command(swi_ctx_t *ctx, const struct cli_args *a)
{
	if (strcmp(a->command, "version") == 0)
		return show_version(ctx);
	if (strcmp(a->command, "info") == 0)
		return cli_info(ctx, a->image, a->json);
	if (strcmp(a->command, "status") == 0)
		return cli_status(ctx, a->json);
	if (strcmp(a->command, "mark-good") == 0)
		return swi_mark_good(ctx);
	if (strcmp(a->command, "rollback") == 0)
		return swi_rollback(ctx);
	if (strcmp(a->command, "apply") == 0)
		return swi_apply(ctx);
	if (strcmp(a->command, "is-installed") == 0)
		return cli_is_installed(ctx, a->image, a->version, a->json, &installed_state);
	if (strcmp(a->command, "verify") == 0)
		return verify(ctx, a->image);
	if (strcmp(a->command, "scan") == 0)
		return cli_scan(ctx, a->from, a->json, a->verbosity < 0);
	if (strcmp(a->command, "flash") == 0)
		return swi_flash(ctx, a->image, a->device, a->sha256);
	if (a->from)
		return cli_install_from(ctx, a->from, a->verbosity < 0 || a->json);
	return install(ctx, a->image, a->stage);
}

/* What exit code 0 of an install means, in a word. */
static const char *success_class(swi_ctx_t *ctx, const struct swi_result *result)
{
	if (result->nothing_to_do)
		return "nothing-to-do";
	if (result->staged)
		return "staged";
	if (swi_get_option(ctx, "check"))
		return "verified";
	if (swi_get_option(ctx, "dry-run"))
		return "dry-run";
	/* verify commits nothing */
	return result->committed ? "installed" : "verified";
}

static const char *failure_class(int exit_code)
{
	switch (exit_code) {
	case EXIT_USAGE: return "usage";
	case EXIT_UNTRUSTED: return "untrusted";
	case EXIT_INCOMPATIBLE: return "incompatible";
	case EXIT_BUSY: return "busy";
	case EXIT_STATE: return "state";
	default: return "failed";
	}
}

/* The last line of --json: the outcome, also of a failed configuration. */
static void json_result(FILE *out, swi_ctx_t *ctx, int status)
{
	struct swi_result result = { 0 };
	swi_get_result(ctx, &result);
	int code = exit_code_for(status);
	cli_json_result(out, code, code ? failure_class(code) : success_class(ctx, &result),
			status == SWI_OK ? NULL : swi_errmsg(ctx), &result);
}

/* --json spelled out anywhere before "--": getopt may have stopped at a
 * mistake before it. */
static bool asks_for_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

static void report_usage_error(bool json)
{
	if (json)
		cli_json_result(stdout, EXIT_USAGE, "usage", usage_message, NULL);
	else
		fprintf(stderr, "swinstall: %s\nTry 'swinstall --help'.\n", usage_message);
}

/* The outcome of an install, on standard output. */
static void say_result(const struct cli_args *a, swi_ctx_t *ctx)
{
	struct swi_result result;
	if (a->verbosity < 0 || (strcmp(a->command, "install") && strcmp(a->command, "verify")) ||
	    swi_get_result(ctx, &result) != SWI_OK)
		return;
	if (strcmp(a->command, "verify") == 0)
		puts("swinstall: image verified: an install on this device would pass every "
		     "check; nothing written");
	else if (result.nothing_to_do)
		printf("swinstall: nothing to do: every entry of the image is installed already "
		       "(%u skipped); nothing written\n", result.skipped);
	else if (swi_get_option(ctx, "check"))
		puts("swinstall: sw-description verified; nothing written (--check)");
	else if (swi_get_option(ctx, "dry-run"))
		puts("swinstall: image verified and decoded; nothing written (--dry-run)");
	else if (result.staged)
		printf("swinstall: update staged%s%s; 'swinstall apply' switches to it\n",
		       result.slot ? " in slot " : "", result.slot ? result.slot : "");
	else
		puts("swinstall: update installed; it is used from the next boot");
}

/* SIGINT, SIGTERM and SIGHUP cancel: the library undoes what it started
 * and records the failure, and the program exits with a failure code. */
static swi_ctx_t *signal_ctx;
static volatile sig_atomic_t caught_signal;

static void on_signal(int sig)
{
	caught_signal = sig;
	swi_cancel(signal_ctx);
}

static void catch_signals(swi_ctx_t *ctx)
{
	static const int signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct sigaction sa = { .sa_handler = on_signal };
	/* No SA_RESTART: a read waiting on a pipe returns, and sees the cancel. */
	sigemptyset(&sa.sa_mask);
	signal_ctx = ctx;
	for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
		sigaction(signals[i], &sa, NULL);
}

int main(int argc, char **argv)
{
	/* manifest has options of its own and needs no device configuration. */
	if (argc > 1 && strcmp(argv[1], "manifest") == 0)
		return cli_adu_manifest(argc - 1, argv + 1);
	struct cli_args args = { 0 };
	int rc = parse_args(&args, argc, argv);
	if (rc == EXIT_USAGE)
		report_usage_error(args.json || asks_for_json(argc, argv));
	if (rc >= 0)
		return rc;

	swi_ctx_t *ctx;
	if (swi_ctx_new(&ctx)) {
		fputs("swinstall: out of memory\n", stderr);
		return EXIT_FAILED;
	}
	struct cli_output out;
	/* An install and info report on stdout and say more with -v; the
	 * life-cycle commands are short, so they say what they did. */
	static const int levels[] = { SWI_LOG_ERROR, SWI_LOG_WARN, SWI_LOG_INFO, SWI_LOG_DEBUG };
	bool reports = !strcmp(args.command, "install") || !strcmp(args.command, "info") ||
		       !strcmp(args.command, "verify") || !strcmp(args.command, "is-installed") ||
		       !strcmp(args.command, "scan");
	int verbosity = args.verbosity + (!reports && args.verbosity >= 0);
	int level = levels[verbosity < 0 ? 0 : verbosity > 2 ? 3 : verbosity + 1];
	cli_output_init(&out, stderr, level, args.verbosity >= 0 && isatty(STDERR_FILENO));
	/* Only the JSON lines on stdout, and nothing on stderr. */
	bool json_stream = args.json && (strcmp(args.command, "install") == 0 ||
					 strcmp(args.command, "verify") == 0);
	if (json_stream)
		cli_output_json(&out);
	swi_set_log(ctx, cli_log, &out);
	swi_set_progress(ctx, cli_progress, &out);

	catch_signals(ctx);
	/* The version needs no configuration: it says what this build is. */
	int status = strcmp(args.command, "version") ? configure(ctx, &args) : SWI_OK;
	if (status == SWI_OK)
		status = run_command(ctx, &args);
	cli_output_finish(&out);
	if (json_stream)
		json_result(out.out, ctx, status);
	else if (status == SWI_OK)
		say_result(&args, ctx);
	else if (caught_signal)
		fprintf(stderr, "swinstall: interrupted by %s: %s\n",
			caught_signal == SIGINT ? "SIGINT" : caught_signal == SIGTERM ? "SIGTERM"
			: "SIGHUP", swi_errmsg(ctx));
	else
		fprintf(stderr, "swinstall: %s\n", swi_errmsg(ctx));
	swi_ctx_free(ctx);
	if (status == SWI_OK && installed_state != SWI_INSTALLED_RUNNING)
		return 10 + installed_state;
	return exit_code_for(status);
}
